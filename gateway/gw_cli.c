/* SPDX-License-Identifier: MIT */
/*
 * gw_cli.c - admin commands on the store, for people (aligned text) and scripts (--json):
 *
 *   device add NAME [--token T] [--profile P] [--count N]   prints the (first) token
 *   device list
 *   telemetry NAME [--keys k1,k2] [--history] [--limit N]   latest values, or the history
 *   attributes NAME [--scope client|shared|server]
 *
 * Each command opens its own connection; the busy timeout lets it wait for the daemon's
 * transaction to finish, so it is safe while the daemon runs.
 */
#include "gateway/gw_cli.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/gw_cli_internal.h"
#include "gateway/gw_log.h"
#include "gateway/gw_store.h"

#define MAX_KEYS 64

struct out_ctx {
    bool is_json;
    json_t *array;
};

static const char *const type_names[] = { "?", "BOOLEAN", "LONG", "DOUBLE", "STRING", "JSON" };
static const char *const scope_names[] = { "", "CLIENT", "SHARED", "SERVER" };

static const char *scope_name(int scope)
{
    return scope >= 1 && scope <= 3 ? scope_names[scope] : "";
}

static int64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void format_time(int64_t ms, char *buf, size_t len)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0) {
        (void)snprintf(buf, len, "never");
        return;
    }
    (void)gmtime_r(&s, &tm);
    (void)strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    (void)snprintf(buf + strlen(buf), len - strlen(buf), ".%03dZ", (int)(ms % 1000));
}

static int open_store(const struct gw_config *cfg, struct gw_store **st)
{
    struct gw_store_opts opts = {
        .is_durable_full = cfg->durability == GW_DURABILITY_FULL,
        .wal_autocheckpoint_pages = cfg->wal_autocheckpoint_pages,
        .journal_size_limit_bytes = cfg->journal_size_limit_bytes,
        .busy_timeout_ms = 10000,
    };
    char path[GW_CONFIG_STR_MAX + 16];
    char err[512];

    (void)snprintf(path, sizeof(path), "%s/nbgate.db", cfg->data_dir);
    if (gw_store_open(path, &opts, st, err, sizeof(err)) != 0) {
        fprintf(stderr, "nbgate: cannot open %s: %s\n", path, err);
        return -EIO;
    }
    return 0;
}

static json_t *value_json(const struct profile_value *v)
{
    switch (v->type) {
    case PROFILE_VT_BOOLEAN:
        return json_boolean(v->b);
    case PROFILE_VT_LONG:
        return json_integer((json_int_t)v->l);
    case PROFILE_VT_DOUBLE:
        return json_real(v->d);
    case PROFILE_VT_STRING:
        return json_stringn(v->s, v->s_len);
    case PROFILE_VT_JSON: {
        json_t *j = json_loadb(v->s, v->s_len, JSON_DECODE_ANY, NULL);
        return j != NULL ? j : json_stringn(v->s, v->s_len);
    }
    }
    return json_null();
}

static int print_kv(void *arg, const char *key, int64_t ts_ms, const struct profile_value *v,
                    int scope)
{
    struct out_ctx *o = arg;
    char when[40];
    char text[512];
    size_t need;

    if (o->is_json) {
        json_t *row = json_pack("{s:s, s:I, s:s, s:o}", "key", key, "ts", (json_int_t)ts_ms, "type",
                                type_names[v->type], "value", value_json(v));
        if (row != NULL && scope > 0) {
            (void)json_object_set_new(row, "scope", json_string(scope_name(scope)));
        }
        return row != NULL ? json_array_append_new(o->array, row) : -ENOMEM;
    }
    format_time(ts_ms, when, sizeof(when));
    need = profile_value_to_json(v, text, sizeof(text));
    printf("%s%s%s = %s%s  %s  %s\n", scope_name(scope), scope > 0 ? " " : "", key, text,
           need >= sizeof(text) ? "..." : "", type_names[v->type], when);
    return 0;
}

static int print_device(void *arg, const struct gw_device_info *d)
{
    struct out_ctx *o = arg;
    char when[40];

    if (o->is_json) {
        json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I}", "id", (json_int_t)d->id, "name",
                                d->name, "profile", d->profile, "token", d->token, "createdTime",
                                (json_int_t)d->created_ms, "lastActivityTime",
                                (json_int_t)d->last_activity_ms);
        return row != NULL ? json_array_append_new(o->array, row) : -ENOMEM;
    }
    format_time(d->last_activity_ms, when, sizeof(when));
    printf("%-24s %-16s %-24s last seen %s\n", d->name, d->profile, d->token, when);
    return 0;
}

static int finish_json(struct out_ctx *o, int rc)
{
    if (o->is_json && o->array != NULL) {
        if (rc == 0) {
            char *s = json_dumps(o->array, JSON_COMPACT);
            if (s == NULL) {
                rc = -ENOMEM;
            } else {
                printf("%s\n", s);
                free(s);
            }
        }
        json_decref(o->array);
    }
    return rc;
}

static int cmd_device(struct gw_store *st, int argc, char **argv, const struct gw_cli_opts *o)
{
    struct out_ctx out = { o->is_json, NULL };
    char token[GW_STORE_TOKEN_MAX];
    char err[512];
    int rc;

    if (argc >= 1 && strcmp(argv[0], "list") == 0 && argc == 1) {
        out.array = o->is_json ? json_array() : NULL;
        rc = gw_store_device_list(st, print_device, &out);
        return finish_json(&out, rc) == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[0], "add") == 0) {
        if (o->count < 0 || o->count > 1000000) {
            fprintf(stderr, "nbgate: --count must be 0..1000000\n");
            return 2;
        }
        rc = gw_store_device_add(st, argv[1], o->token, o->profile, (unsigned)o->count, now_ms(),
                                 token, sizeof(token), err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "nbgate: device add: %s\n", err);
            return 1;
        }
        if (o->is_json) {
            out.array = json_pack("{s:s, s:s}", "name", argv[1], "token", token);
            rc = out.array != NULL ? finish_json(&out, 0) : -ENOMEM;
            return rc == 0 ? 0 : 1;
        } else {
            printf("%s\n", token);
        }
        return 0;
    }
    fprintf(stderr, "usage: nbgate device add NAME [--token T] [--profile P] [--count N]\n"
                    "       nbgate device list [--json]\n");
    return 2;
}

int gw_cli_find_device(struct gw_store *st, const char *name, struct gw_device_ref *dev)
{
    int rc = gw_store_device_by_name(st, name, dev);

    if (rc == -ENOENT) {
        fprintf(stderr, "nbgate: no device named \"%s\"\n", name);
    } else if (rc != 0) {
        fprintf(stderr, "nbgate: store error\n");
    }
    return rc;
}

static int cmd_telemetry(struct gw_store *st, int argc, char **argv, const struct gw_cli_opts *o)
{
    struct out_ctx out = { o->is_json, o->is_json ? json_array() : NULL };
    const char *keys[MAX_KEYS];
    char buf[4096];
    struct gw_device_ref dev;
    size_t n_keys = 0;
    int rc = 1;

    if (argc != 1) {
        fprintf(stderr, "usage: nbgate telemetry NAME [--keys k1,k2] [--history] [--limit N]\n");
        rc = 2;
        goto out;
    }
    if (o->keys != NULL) {
        char *p = buf, *comma;
        (void)snprintf(buf, sizeof(buf), "%s", o->keys);
        while (n_keys < MAX_KEYS) {
            keys[n_keys++] = p;
            comma = strchr(p, ',');
            if (comma == NULL) {
                break;
            }
            *comma = '\0';
            p = comma + 1;
        }
    }
    if (gw_cli_find_device(st, argv[0], &dev) != 0) {
        goto out;
    }
    rc = gw_store_telemetry_walk(st, dev.id, keys, n_keys, o->is_history, o->limit, print_kv,
                                 &out) == 0
             ? 0
             : 1;
out:
    return finish_json(&out, rc) == 0 ? rc : 1;
}

static int cmd_attributes(struct gw_store *st, int argc, char **argv, const struct gw_cli_opts *o)
{
    struct out_ctx out = { o->is_json, o->is_json ? json_array() : NULL };
    struct gw_device_ref dev;
    int scope = 0;
    int rc = 1;

    if (o->scope != NULL) {
        for (scope = 3; scope > 0 && strcasecmp(o->scope, scope_name(scope)) != 0; scope--) {
        }
        if (scope == 0) {
            fprintf(stderr, "nbgate: --scope must be client, shared or server\n");
            rc = 2;
            goto out;
        }
    }
    if (argc != 1) {
        fprintf(stderr, "usage: nbgate attributes NAME [--scope client|shared|server]\n");
        rc = 2;
        goto out;
    }
    if (gw_cli_find_device(st, argv[0], &dev) != 0) {
        goto out;
    }
    rc = gw_store_attributes_walk(st, dev.id, scope, print_kv, &out) == 0 ? 0 : 1;
out:
    return finish_json(&out, rc) == 0 ? rc : 1;
}

bool gw_cli_is_command(const char *name)
{
    static const char *const commands[] = { "device",    "telemetry", "attributes", "rpc",
                                            "downlinks", "ota",       "claim" };
    size_t i;

    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(name, commands[i]) == 0) {
            return true;
        }
    }
    return false;
}

static int parse_opts(int argc, char **argv, struct gw_cli_opts *o)
{
    static const struct option long_opts[] = {
        { "token", required_argument, NULL, 't' },
        { "profile", required_argument, NULL, 'p' },
        { "count", required_argument, NULL, 'n' },
        { "keys", required_argument, NULL, 'k' },
        { "limit", required_argument, NULL, 'l' },
        { "scope", required_argument, NULL, 's' },
        { "history", no_argument, NULL, 'H' },
        { "json", no_argument, NULL, 'j' },
        { NULL, 0, NULL, 0 },
    };
    char *end;
    int opt;

    memset(o, 0, sizeof(*o));
    optind = 0; /* 0, not 1: glibc then re-initialises its permutation state */
    while ((opt = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
        switch (opt) {
        case 't':
            o->token = optarg;
            break;
        case 'p':
            o->profile = optarg;
            break;
        case 'k':
            o->keys = optarg;
            break;
        case 's':
            o->scope = optarg;
            break;
        case 'H':
            o->is_history = true;
            break;
        case 'j':
            o->is_json = true;
            break;
        case 'o':
            o->is_oneway = true;
            break;
        case 'w':
            o->is_wait = true;
            break;
        case 'n':
        case 'l':
        case 'T':
            errno = 0;
            *(opt == 'n'   ? &o->count
              : opt == 'l' ? &o->limit
                           : &o->timeout_ms) = strtol(optarg, &end, 10);
            if (errno != 0 || *end != '\0' || end == optarg) {
                fprintf(stderr, "nbgate: not a number: %s\n", optarg);
                return -EINVAL;
            }
            break;
        default:
            return -EINVAL;
        }
    }
    return 0;
}

int gw_cli_main(const struct gw_config *cfg, int argc, char **argv)
{
    struct gw_store *st = NULL;
    struct gw_cli_opts o;
    const char *cmd = argv[0];
    int rc;

    if (parse_opts(argc, argv, &o) != 0) {
        return 2;
    }
    if (open_store(cfg, &st) != 0) {
        return 1;
    }
    argc -= optind;
    argv += optind;
    o.max_queued = cfg->max_queued_downlinks;
    if (strcmp(cmd, "device") == 0) {
        rc = cmd_device(st, argc, argv, &o);
    } else if (strcmp(cmd, "telemetry") == 0) {
        rc = cmd_telemetry(st, argc, argv, &o);
    } else if (strcmp(cmd, "attributes") == 0 && argc > 0 && strcmp(argv[0], "set") == 0) {
        rc = gw_cli_attr_set(st, &o, argc, argv);
    } else if (strcmp(cmd, "attributes") == 0 && argc > 0 && strcmp(argv[0], "delete") == 0) {
        rc = gw_cli_attr_delete(st, &o, argc, argv);
    } else if (strcmp(cmd, "attributes") == 0) {
        rc = cmd_attributes(st, argc, argv, &o);
    } else if (strcmp(cmd, "rpc") == 0) {
        rc = gw_cli_rpc(st, &o, argc, argv);
    } else if (strcmp(cmd, "downlinks") == 0) {
        rc = gw_cli_downlinks(st, &o, argc, argv);
    } else if (strcmp(cmd, "ota") == 0) {
        rc = gw_cli_ota(st, &o, argc, argv);
    } else {
        rc = gw_cli_claim(st, &o, argc, argv);
    }
    gw_store_close(st);
    return rc;
}
