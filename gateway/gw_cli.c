/* SPDX-License-Identifier: MIT */
/*
 * gw_cli.c - admin commands on the store, for people (aligned text) and scripts (--json):
 *
 *   device add NAME [--token T] [--profile P] [--count N]   prints the (first) token
 *   device list
 *   telemetry NAME [--keys k1,k2] [--history] [--limit N]   latest values, or the history
 *   attributes NAME [--scope client|shared|server]
 *   profile add NAME --json FILE | list [--json] | show NAME | set-default NAME | delete NAME
 *   device set-profile DEVICE PROFILE | set-power DEVICE JSON|default
 *   device set-cert DEVICE FILE | device cert DEVICE          X.509 credential (gw_cli_x509.c)
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
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "gateway/gw_cli_internal.h"
#include "gateway/gw_log.h"
#include "gateway/gw_pki.h"
#include "gateway/gw_protoc.h"
#include "gateway/gw_store.h"
#include "profiles/profile_model.h"

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
        .events_per_device = cfg->events_per_device,
    };
    char path[GW_CONFIG_STR_MAX + 16];
    char err[512];

    (void)snprintf(path, sizeof(path), "%s/nbgate.db", cfg->data_dir);
    /* Devices may be onboarded before the daemon's first start: create the directory too. */
    if (mkdir(cfg->data_dir, 0750) != 0 && errno != EEXIST) {
        fprintf(stderr, "nbgate: cannot create %s: %s\n", cfg->data_dir, strerror(errno));
        return -EIO;
    }
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
        json_t *row = json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "id", (json_int_t)d->id,
                                "name", d->name, "profile", d->profile, "token", d->token,
                                "createdTime", (json_int_t)d->created_ms, "lastActivityTime",
                                (json_int_t)d->last_activity_ms, "inactivityTimeout",
                                (json_int_t)d->inactivity_timeout_ms, "active", d->is_active);
        if (row != NULL && d->reachability[0] != '\0') {
            (void)json_object_set_new(row, "reachability", json_string(d->reachability));
        }
        return row != NULL ? json_array_append_new(o->array, row) : -ENOMEM;
    }
    format_time(d->last_activity_ms, when, sizeof(when));
    printf("%-24s %-16s %-24s %-8s last seen %s, inactive after %llds%s%s\n", d->name, d->profile,
           d->token,
           d->last_activity_ms == 0 ? "never"
           : d->is_active           ? "active"
                                    : "inactive",
           when, (long long)(d->inactivity_timeout_ms / 1000),
           d->reachability[0] != '\0' ? "; " : "", d->reachability);
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
        rc = gw_store_device_list(st, now_ms(), o->default_inactivity_ms, print_device, &out);
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

/* ---- admin accounts of the JSON API: admin create|password USER ---- */

#define ADMIN_PASSWORD_MIN 6 /* characters, ThingsBoard's default policy */
#define ADMIN_PASSWORD_MAX 72

/* Reads one line without echo on a terminal (prompt on stderr), or from stdin as it is. */
static int read_line(const char *prompt, char *buf, size_t len)
{
    struct termios old, quiet;
    bool is_tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    size_t n;
    char *ok;

    if (is_tty) {
        fprintf(stderr, "%s", prompt);
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    ok = fgets(buf, (int)len, stdin);
    if (is_tty) {
        (void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    n = ok != NULL ? strlen(buf) : 0;
    if (ok == NULL || (n == len - 1 && buf[n - 1] != '\n' && !feof(stdin))) {
        return -EINVAL;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r')) {
        buf[--n] = '\0';
    }
    return is_tty ? 1 : 0;
}

/* Counts UTF-8 characters; -1 for invalid UTF-8 (bad lead byte, missing continuation). */
static long utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;

    while (*p != 0) {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xe0) == 0xc0 ? 2
                     : (*p & 0xf0) == 0xe0 ? 3
                     : (*p & 0xf8) == 0xf0 ? 4
                                           : 0;
        size_t i;
        for (i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return -1;
            }
        }
        if (len == 0) {
            return -1;
        }
        p += len;
        n++;
    }
    return n;
}

/* Asks for a password (twice on a terminal) and hashes it. */
static int ask_password(char *hash, size_t hash_len)
{
    char pw[256], again[256];
    long n;
    int rc = read_line("Password: ", pw, sizeof(pw));

    if (rc == 1 &&
        (read_line("Repeat password: ", again, sizeof(again)) < 0 || strcmp(pw, again) != 0)) {
        fprintf(stderr, "nbgate: the passwords differ\n");
        rc = -EINVAL;
    }
    n = rc >= 0 ? utf8_chars(pw) : -1;
    if (rc >= 0 && (n < ADMIN_PASSWORD_MIN || n > ADMIN_PASSWORD_MAX)) {
        fprintf(stderr, "nbgate: the password must be %d to %d characters\n", ADMIN_PASSWORD_MIN,
                ADMIN_PASSWORD_MAX);
        rc = -EINVAL;
    } else if (rc < 0 && rc != -EINVAL) {
        fprintf(stderr, "nbgate: no password given\n");
    }
    if (rc >= 0) {
        rc = gw_pki_password_hash(pw, 0, hash, hash_len);
    }
    explicit_bzero(pw, sizeof(pw));
    explicit_bzero(again, sizeof(again));
    return rc < 0 ? rc : 0;
}

static int cmd_admin(struct gw_store *st, int argc, char **argv)
{
    struct gw_admin_user u;
    char hash[GW_PKI_HASH_MAX];
    const char *user = argc == 2 ? argv[1] : "";
    bool is_create = argc == 2 && strcmp(argv[0], "create") == 0;
    int rc;
    size_t i;

    if (argc != 2 || (!is_create && strcmp(argv[0], "password") != 0)) {
        fprintf(stderr, "usage: nbgate admin create USER     (password from stdin or a prompt)\n"
                        "       nbgate admin password USER   (sets a new password)\n");
        return 2;
    }
    for (i = 0; user[i] != '\0'; i++) {
        if ((unsigned char)user[i] < 0x20 || user[i] == 0x7f) {
            break;
        }
    }
    if (user[0] == '\0' || user[i] != '\0' || strlen(user) > 255 || utf8_chars(user) < 0) {
        fprintf(stderr,
                "nbgate: the user name must be 1 to 255 bytes without control characters\n");
        return 2;
    }
    if (ask_password(hash, sizeof(hash)) != 0) {
        return 1;
    }
    if (is_create) {
        rc = gw_store_admin_create(st, user, hash, false, now_ms(), NULL);
    } else {
        rc = gw_store_admin_by_name(st, user, &u);
        rc = rc == 0 ? gw_store_admin_set_password(st, u.id, hash) : rc;
        explicit_bzero(&u, sizeof(u));
    }
    if (rc == -EEXIST || rc == -ENOENT) {
        fprintf(stderr, "nbgate: admin user \"%s\" %s\n", user,
                rc == -EEXIST ? "already exists" : "does not exist");
    } else if (rc != 0) {
        fprintf(stderr, "nbgate: store error\n");
    } else {
        printf("admin user \"%s\" %s\n", user, is_create ? "created" : "has a new password");
    }
    return rc == 0 ? 0 : 1;
}

/* ---- profile: device profiles (gw_store_profile.c, gw_protoc.c) ----------------------------- */

#define PROFILE_FILE_MAX (4 * 1024 * 1024) /* bytes of a profile JSON file */

/* Reads a whole file ("-" = standard input) of at most PROFILE_FILE_MAX bytes. */
static int read_text_file(const char *path, char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int rc = 0;

    *out = NULL;
    if (f == NULL) {
        fprintf(stderr, "nbgate: cannot open %s: %s\n", path, strerror(errno));
        return -EIO;
    }
    buf = malloc(PROFILE_FILE_MAX + 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    n = fread(buf, 1, PROFILE_FILE_MAX + 1, f);
    if (ferror(f) || n > PROFILE_FILE_MAX) {
        fprintf(stderr, "nbgate: cannot read %s (at most %d bytes)\n", path, PROFILE_FILE_MAX);
        rc = -EIO;
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    if (f != stdin) {
        (void)fclose(f);
    }
    return rc;
}

/* profile add NAME FILE: parse, compile the schemas, store (create or replace). */
static int profile_add(struct gw_store *st, const char *name, const char *file)
{
    struct profile_config cfg;
    char *text = NULL, *json = NULL;
    uint8_t *blob = NULL;
    size_t len = 0, blob_len = 0;
    bool is_created = false;
    char err[2048];
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    rc = read_text_file(file, &text, &len);
    if (rc == 0) {
        rc = profile_config_parse(text, len, name, &cfg, &json, err, sizeof(err));
    }
    if (rc == 0) {
        rc = gw_protoc_profile(NULL, &cfg, &blob, &blob_len, err, sizeof(err));
    }
    if (rc == 0) {
        rc = gw_store_profile_save(st, &cfg, json, blob, blob_len, now_ms(), &is_created, err,
                                   sizeof(err));
    }
    if (rc == 0) {
        printf("%s %s\n", is_created ? "created" : "updated", cfg.name);
    } else if (text != NULL) {
        fprintf(stderr, "nbgate: profile %s: %s\n", name, err);
    }
    free(blob);
    free(json);
    free(text);
    profile_config_fini(&cfg);
    return rc == 0 ? 0 : 1;
}

static int print_profile(void *arg, const struct gw_profile_info *p)
{
    struct out_ctx *o = arg;
    char when[40];

    if (o->is_json) {
        json_t *row = json_pack("{s:s, s:s, s:b, s:s, s:s, s:s, s:I, s:I}", "id", p->uuid, "name",
                                p->name, "default", p->is_default, "transportType",
                                p->transport_type, "coapDeviceType", p->device_type,
                                "transportPayloadType", p->payload_type, "devices",
                                (json_int_t)p->n_devices, "createdTime", (json_int_t)p->created_ms);
        return row != NULL ? json_array_append_new(o->array, row) : -ENOMEM;
    }
    format_time(p->updated_ms, when, sizeof(when));
    printf("%-24s %-7s %-7s %-6s %-8s %6lld devices  updated %s\n", p->name,
           p->is_default ? "default" : "-", p->transport_type, p->device_type, p->payload_type,
           (long long)p->n_devices, when);
    return 0;
}

/* profile show NAME: the stored ThingsBoard JSON, indented. */
static int profile_show(struct gw_store *st, const char *name)
{
    struct gw_profile_info info;
    char *json = NULL, *pretty = NULL;
    json_t *root = NULL;
    int rc;

    rc = gw_store_profile_get(st, name, &info, &json);
    if (rc == 0) {
        root = json_loads(json, 0, NULL);
        pretty = root != NULL ? json_dumps(root, JSON_INDENT(2)) : NULL;
        printf("%s\n", pretty != NULL ? pretty : json);
    } else {
        fprintf(stderr, "nbgate: %s\n", rc == -ENOENT ? "no such device profile" : "store error");
    }
    free(pretty);
    json_decref(root);
    free(json);
    return rc == 0 ? 0 : 1;
}

static int cmd_profile(struct gw_store *st, int argc, char **argv, const struct gw_cli_opts *o)
{
    struct out_ctx out = { o->is_json, NULL };
    char err[512];
    int rc;

    if (argc == 3 && strcmp(argv[0], "add") == 0) {
        return profile_add(st, argv[1], argv[2]); /* `add NAME --json FILE` or `add NAME FILE` */
    }
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        out.array = o->is_json ? json_array() : NULL;
        rc = gw_store_profile_list(st, print_profile, &out);
        return finish_json(&out, rc) == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[0], "show") == 0) {
        return profile_show(st, argv[1]);
    }
    if (argc == 2 && strcmp(argv[0], "set-default") == 0) {
        rc = gw_store_profile_set_default(st, argv[1], now_ms());
        if (rc != 0) {
            fprintf(stderr, "nbgate: %s\n",
                    rc == -ENOENT ? "no such device profile" : "store error");
        }
        return rc == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[0], "delete") == 0) {
        rc = gw_store_profile_delete(st, argv[1], err, sizeof(err));
        if (rc != 0) {
            fprintf(stderr, "nbgate: profile delete: %s\n", err[0] != '\0' ? err : "store error");
        }
        return rc == 0 ? 0 : 1;
    }
    fprintf(stderr, "usage: nbgate profile add NAME --json FILE   (FILE: ThingsBoard device-profile"
                    " JSON, - for stdin)\n"
                    "       nbgate profile list [--json]\n"
                    "       nbgate profile show NAME\n"
                    "       nbgate profile set-default NAME\n"
                    "       nbgate profile delete NAME\n");
    return 2;
}

/* device set-profile DEVICE PROFILE, device set-power DEVICE JSON|default */
static int cmd_device_profile(struct gw_store *st, int argc, char **argv)
{
    bool is_profile = argc > 0 && strcmp(argv[0], "set-profile") == 0;
    char err[512];
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: nbgate device set-profile DEVICE PROFILE\n"
                        "       nbgate device set-power DEVICE '{\"type\":\"COAP\",\"powerMode\":"
                        "\"PSM\",\"psmActivityTimer\":10000}'|default\n");
        return 2;
    }
    rc = is_profile ? gw_store_device_set_profile(st, argv[1], argv[2], now_ms(), err, sizeof(err))
                    : gw_store_device_set_power(st, argv[1],
                                                strcmp(argv[2], "default") == 0 ? NULL : argv[2],
                                                err, sizeof(err));
    if (rc != 0) {
        fprintf(stderr, "nbgate: device %s: %s\n", argv[0], err[0] != '\0' ? err : "store error");
    }
    return rc == 0 ? 0 : 1;
}

bool gw_cli_is_command(const char *name)
{
    static const char *const commands[] = { "device",    "telemetry", "attributes", "rpc",
                                            "downlinks", "ota",       "claim",      "admin",
                                            "profile",   "efento",    "pending" };
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
        { "token", required_argument, NULL, 't' },   { "profile", required_argument, NULL, 'p' },
        { "count", required_argument, NULL, 'n' },   { "keys", required_argument, NULL, 'k' },
        { "limit", required_argument, NULL, 'l' },   { "scope", required_argument, NULL, 's' },
        { "history", no_argument, NULL, 'H' },       { "json", no_argument, NULL, 'j' },
        { "oneway", no_argument, NULL, 'o' },        { "wait", no_argument, NULL, 'w' },
        { "timeout", required_argument, NULL, 'T' }, { NULL, 0, NULL, 0 },
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
    o.default_inactivity_ms = cfg->default_inactivity_timeout_s * 1000;
    if (strcmp(cmd, "device") == 0 && argc > 0 &&
        (strcmp(argv[0], "set-profile") == 0 || strcmp(argv[0], "set-power") == 0)) {
        rc = cmd_device_profile(st, argc, argv);
    } else if (strcmp(cmd, "device") == 0 && argc > 0 &&
               (strcmp(argv[0], "set-cert") == 0 || strcmp(argv[0], "cert") == 0)) {
        rc = gw_cli_x509(st, argc, argv);
    } else if (strcmp(cmd, "profile") == 0) {
        rc = cmd_profile(st, argc, argv, &o);
    } else if (strcmp(cmd, "device") == 0) {
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
    } else if (strcmp(cmd, "efento") == 0 || strcmp(cmd, "pending") == 0) {
        rc = gw_cli_efento(st, &o, cmd, argc, argv);
    } else if (strcmp(cmd, "admin") == 0) {
        rc = cmd_admin(st, argc, argv);
    } else {
        rc = gw_cli_claim(st, &o, argc, argv);
    }
    gw_store_close(st);
    return rc;
}
