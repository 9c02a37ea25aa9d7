/* SPDX-License-Identifier: MIT */
/*
 * gw_cli_efento.c - admin commands for Efento sensors (specs/efento.md R2.4-R2.5, 8.4):
 *
 *   efento set DEVICE... KEY=VALUE...   queue configuration settings for the sensors' next CON
 *                                       measurement frame; KEY is an attribute name of table
 *                                       6.6, VALUE a JSON value (a bare word is a string), e.g.
 *                                       measurementPeriodBase=120 dataServerIp=gw.example.net
 *                                       'rules=[{"channelMask":1,...}]'
 *   pending list [--json]               every pending entry (source EFENTO, COAP_TOKEN or X509;
 *                                       blocked ones marked), most recently seen first
 *   pending approve CREDENTIAL [NAME] [--profile P]   create the device and drop the entry:
 *                                       an Efento token (default name "Efento <serial>", an
 *                                       Efento profile), an unknown access token (NAME required,
 *                                       a Default profile); certificates are approved in the
 *                                       admin page or API, which show the PEM
 *   pending block|delete CREDENTIAL     keep a credential out (still 4.01, no longer recorded) /
 *                                       forget the entry
 *
 * Settings are validated against table 6.6 with the same code that builds the downlink
 * (gw_efento_settings_apply) before anything is queued; a refusal names the field. Progress
 * of a queued entry: `nbgate downlinks DEVICE`.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "efento/efento.h"
#include "gateway/gw_cli_internal.h"
#include "gateway/gw_efento.h"
#include "gateway/gw_store.h"

#define DEVICES_MAX 4096 /* device names on one `efento set` line */

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

    (void)gmtime_r(&s, &tm);
    (void)strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Builds the settings object from KEY=VALUE words (VALUE: JSON, or else a string). */
static int settings_json(char **argv, int argc, char **out)
{
    json_t *root = json_object();
    int i, rc = root != NULL ? 0 : -ENOMEM;

    *out = NULL;
    for (i = 0; rc == 0 && i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        json_t *v;
        if (eq == NULL) {
            continue;
        }
        *eq = '\0';
        v = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
        if (v == NULL) {
            v = json_string(eq + 1);
        }
        if (v == NULL || argv[i][0] == '\0' || json_object_get(root, argv[i]) != NULL ||
            json_object_set_new(root, argv[i], v) != 0) {
            fprintf(stderr, "nbgate: efento set: bad or repeated setting \"%s\"\n", argv[i]);
            rc = -EINVAL;
        }
        *eq = '=';
    }
    if (rc == 0) {
        *out = json_dumps(root, JSON_COMPACT);
        rc = *out != NULL ? 0 : -ENOMEM;
    }
    json_decref(root);
    return rc;
}

/* Refuses settings the downlink builder would refuse (table 6.6 ranges, names, kinds). */
static int settings_check(const char *json)
{
    struct efento_downlink *dl = NULL;
    char err[256] = "";
    size_t size;
    int rc = efento_downlink_new(&dl);

    if (rc == 0) {
        rc = gw_efento_settings_apply(dl, json, strlen(json), err, sizeof(err));
    }
    size = rc == 0 ? efento_downlink_size(dl) : 0;
    if (rc == 0 && size + GW_EFENTO_AUTO_BYTES > GW_EFENTO_DOWNLINK_MAX) {
        (void)snprintf(err, sizeof(err),
                       "settings need %zu bytes, a downlink has room for %d: queue them in parts",
                       size, GW_EFENTO_DOWNLINK_MAX - GW_EFENTO_AUTO_BYTES);
        rc = -ERANGE;
    }
    if (rc != 0) {
        fprintf(stderr, "nbgate: efento set: %s\n", err[0] != '\0' ? err : "out of memory");
    }
    efento_downlink_free(dl);
    return rc;
}

static int efento_set(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv)
{
    struct gw_device_ref dev;
    char *json = NULL;
    int i, n_dev = 0, n_set = 0, rc;

    for (i = 1; i < argc; i++) {
        if (strchr(argv[i], '=') != NULL) {
            n_set++;
        } else {
            n_dev++;
        }
    }
    if (n_dev == 0 || n_set == 0 || n_dev > DEVICES_MAX) {
        fprintf(stderr, "usage: nbgate efento set DEVICE... KEY=VALUE...\n"
                        "  e.g. nbgate efento set sensor-1 measurementPeriodBase=120"
                        " transmissionInterval=900\n");
        return 2;
    }
    rc = settings_json(argv + 1, argc - 1, &json);
    rc = rc != 0 ? rc : settings_check(json);
    for (i = 1; rc == 0 && i < argc; i++) {
        int64_t id = 0;
        char err[256] = "";
        if (strchr(argv[i], '=') != NULL) {
            continue;
        }
        rc = gw_cli_find_device(st, argv[i], &dev);
        rc = rc != 0 ? rc
                     : gw_store_efento_queue(st, dev.id, json, now_ms(), o->max_queued, &id, err,
                                             sizeof(err));
        if (rc == 0) {
            printf("queued %lld %s %s\n", (long long)id, argv[i], json);
        } else if (rc == -EACCES) {
            fprintf(stderr, "nbgate: %s: %s\n", argv[i], err);
        } else if (rc == -EINVAL) {
            fprintf(stderr,
                    "nbgate: %s is not an Efento device (its profile's CoAP device"
                    " type is not EFENTO)\n",
                    argv[i]);
        } else if (rc == -ENOSPC) {
            fprintf(stderr, "nbgate: %s has %lld unfinished downlinks already\n", argv[i],
                    (long long)o->max_queued);
        } else if (rc != -ENOENT) {
            fprintf(stderr, "nbgate: %s: store error\n", argv[i]);
        }
    }
    free(json);
    return rc == 0 ? 0 : 1;
}

struct pending_print {
    bool is_json;
    json_t *arr;
    size_t n;
};

/* The source column of an entry (specs/rest-api.md 9.3) and, for Efento, where the token was. */
static const char *pending_source(const char *kind, char *place, size_t cap)
{
    place[0] = '\0';
    if (strncmp(kind, "EFENTO", 6) == 0) {
        if (strcmp(kind, "EFENTO") == 0) {
            (void)snprintf(place, cap, "payload");
        } else {
            (void)snprintf(place, cap, "option %s", kind + 10);
        }
        return "EFENTO";
    }
    return strcmp(kind, "X509") == 0 ? "X509" : "COAP_TOKEN";
}

static int print_pending(void *arg, const struct gw_api_pending *p)
{
    struct pending_print *pp = arg;
    json_t *sum = p->summary != NULL ? json_loads(p->summary, 0, NULL) : NULL;
    const char *serial = json_string_value(json_object_get(sum, "serial"));
    const char *msg = json_string_value(json_object_get(sum, "type"));
    char first[32], last[32], place[24];
    const char *source = pending_source(p->kind, place, sizeof(place));
    int rc = 0;

    serial = serial != NULL ? serial : "";
    msg = msg != NULL ? msg : "?";
    pp->n++;
    if (pp->is_json) {
        json_t *row =
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:b}", "source", source,
                      "token", p->identifier, "tokenSource", place, "serial", serial, "messageType",
                      msg, "peer", p->peer != NULL ? p->peer : "", "firstSeen",
                      (json_int_t)p->first_seen_ms, "lastSeen", (json_int_t)p->last_seen_ms,
                      "attempts", (json_int_t)p->attempts, "blocked", p->is_blocked);
        rc = row != NULL ? json_array_append_new(pp->arr, row) : -ENOMEM;
    } else {
        format_time(p->first_seen_ms, first, sizeof(first));
        format_time(p->last_seen_ms, last, sizeof(last));
        printf("%-10s %-36s %-10s %-14s %s %-22s first %s last %s attempts %lld%s\n", source,
               p->identifier[0] != '\0' ? p->identifier : "(no token)",
               place[0] != '\0' ? place : "-", serial[0] != '\0' ? serial : "-", msg,
               p->peer != NULL ? p->peer : "-", first, last, (long long)p->attempts,
               p->is_blocked ? " blocked" : "");
    }
    json_decref(sum);
    return rc;
}

/* The pending entry whose credential is `credential` (id and kind copied out). */
struct pending_find {
    const char *credential;
    int64_t id;
    char kind[32];
};

static int find_pending(void *arg, const struct gw_api_pending *p)
{
    struct pending_find *pf = arg;

    if (pf->id == 0 && strcmp(p->identifier, pf->credential) == 0) {
        pf->id = p->id;
        (void)snprintf(pf->kind, sizeof(pf->kind), "%s", p->kind);
    }
    return 0;
}

/* approve for a COAP_TOKEN entry: NAME required, --profile a Default profile (or the only one). */
static int approve_token(struct gw_store *st, const struct gw_cli_opts *o, int64_t id,
                         const char *name)
{
    struct gw_store_pending_approve_in in = { 0 };
    struct gw_profile_info info;
    char uuid[GW_STORE_UUID_LEN], err[512] = "";
    int rc = 0;

    in.id = id;
    in.name = name;
    if (o->profile != NULL) {
        rc = gw_store_profile_get(st, o->profile, &info, NULL);
        in.profile_uuid = info.uuid;
        if (rc != 0) {
            (void)snprintf(err, sizeof(err), "no profile named %s", o->profile);
        }
    }
    if (rc == 0 && name == NULL) {
        (void)snprintf(err, sizeof(err), "a device NAME is needed (an access token has no serial)");
        rc = -EINVAL;
    }
    rc = rc != 0 ? rc : gw_store_pending_approve(st, &in, now_ms(), uuid, err, sizeof(err));
    if (rc == 0) {
        printf("created %s\n", name);
    } else {
        fprintf(stderr, "nbgate: pending approve: %s\n", err[0] != '\0' ? err : "store error");
    }
    return rc == 0 ? 0 : 1;
}

static int pending(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv)
{
    struct pending_print pp = { o->is_json, NULL, 0 };
    struct pending_find pf = { NULL, 0, "" };
    char name[GW_STORE_NAME_MAX], err[512];
    char *text;
    int rc;

    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        pp.arr = o->is_json ? json_array() : NULL;
        rc = gw_store_pending_list(st, print_pending, &pp);
        if (rc == 0 && o->is_json) {
            text = json_dumps(pp.arr, JSON_COMPACT);
            printf("%s\n", text != NULL ? text : "[]");
            free(text);
        }
        json_decref(pp.arr);
        return rc == 0 ? 0 : 1;
    }
    if (argc >= 2) {
        pf.credential = argv[1];
        rc = gw_store_pending_list(st, find_pending, &pf);
        if (rc == 0 && pf.id == 0) {
            fprintf(stderr, "nbgate: no pending entry for %s\n", argv[1]);
            return 1;
        }
    }
    if ((argc == 2 || argc == 3) && strcmp(argv[0], "approve") == 0 &&
        strcmp(pf.kind, "COAP_TOKEN") == 0) {
        return approve_token(st, o, pf.id, argc == 3 ? argv[2] : NULL);
    }
    if ((argc == 2 || argc == 3) && strcmp(argv[0], "approve") == 0 &&
        strncmp(pf.kind, "EFENTO", 6) == 0) {
        rc = gw_store_efento_pending_approve(st, argv[1], argc == 3 ? argv[2] : NULL, o->profile,
                                             now_ms(), name, sizeof(name), err, sizeof(err));
        if (rc == 0) {
            printf("created %s\n", name);
        } else {
            fprintf(stderr, "nbgate: pending approve: %s\n", err[0] != '\0' ? err : "store error");
        }
        return rc == 0 ? 0 : 1;
    }
    if (argc == 2 && strcmp(argv[0], "approve") == 0) {
        fprintf(stderr, "nbgate: pending approve: a certificate is approved in the admin page or"
                        " API (POST /api/nbgate/pendingDevices/{id}/approve)\n");
        return 1;
    }
    if (argc == 2 && (strcmp(argv[0], "block") == 0 || strcmp(argv[0], "delete") == 0)) {
        rc = strcmp(argv[0], "block") == 0 ? gw_store_api_pending_block(st, pf.id)
                                           : gw_store_api_pending_delete(st, pf.id);
        if (rc == 0) {
            printf("%s %s\n", strcmp(argv[0], "block") == 0 ? "blocked" : "deleted", argv[1]);
        } else {
            fprintf(stderr, "nbgate: pending %s: store error\n", argv[0]);
        }
        return rc == 0 ? 0 : 1;
    }
    fprintf(stderr, "usage: nbgate pending list [--json]\n"
                    "       nbgate pending approve CREDENTIAL [NAME] [--profile PROFILE]\n"
                    "       nbgate pending block|delete CREDENTIAL\n");
    return 2;
}

int gw_cli_efento(struct gw_store *st, const struct gw_cli_opts *o, const char *cmd, int argc,
                  char **argv)
{
    if (strcmp(cmd, "pending") == 0) {
        return pending(st, o, argc, argv);
    }
    if (argc >= 1 && strcmp(argv[0], "set") == 0) {
        return efento_set(st, o, argc, argv);
    }
    fprintf(stderr, "usage: nbgate efento set DEVICE... KEY=VALUE...\n");
    return 2;
}
