/* SPDX-License-Identifier: MIT */
/*
 * gw_cli_ops.c - admin commands that act on devices through the downlink queue and the device
 * API's side tables, for operators and tests while the daemon runs:
 *
 *   attributes set NAME JSON [--scope shared|server]      shared changes reach observers
 *   attributes delete NAME KEY... [--scope shared|server]
 *   rpc NAME METHOD [PARAMS] [--oneway] [--timeout MS] [--wait]
 *   downlinks NAME [--json]
 *   ota add firmware|software TITLE VERSION FILE
 *   ota assign NAME firmware|software PACKAGE_ID|none
 *   ota list
 *   claim NAME SECRET
 *
 * The daemon notices new downlink rows within one scheduler tick (it polls the queue), so these
 * work from another process.
 */
#include <errno.h>
#include <jansson.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "gateway/gw_cli_internal.h"
#include "gateway/gw_log.h"

#define ATTR_EXPIRY_MS         86400000
#define DEFAULT_RPC_TIMEOUT_MS 10000
#define MIN_RPC_TIMEOUT_MS     5000
#define OTA_MAX_BYTES          (64 * 1024 * 1024)

static int64_t now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int scope_of(const char *s, enum gw_attr_scope *out)
{
    if (s == NULL || strcasecmp(s, "shared") == 0) {
        *out = GW_SCOPE_SHARED;
    } else if (strcasecmp(s, "server") == 0) {
        *out = GW_SCOPE_SERVER;
    } else {
        fprintf(stderr, "nbgate: --scope must be shared or server\n");
        return -EINVAL;
    }
    return 0;
}

int gw_cli_attr_set(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv)
{
    const struct profile_limits lim = { 1000, 0, true };
    struct profile_batch b = { 0 };
    struct gw_device_ref dev;
    enum gw_attr_scope scope;
    char err[256];
    size_t i;
    int rc = 2;

    if (argc != 3 || scope_of(o->scope, &scope) != 0) {
        fprintf(stderr, "usage: nbgate attributes set NAME JSON [--scope shared|server]\n");
        return 2;
    }
    if (gw_cli_find_device(st, argv[1], &dev) != 0 || profile_batch_init(&b, 1000) != 0) {
        return 1;
    }
    if (profile_json_attributes((const uint8_t *)argv[2], strlen(argv[2]), &lim, &b, err,
                                sizeof(err)) != 0) {
        fprintf(stderr, "nbgate: %s\n", err);
        goto out;
    }
    for (i = 0; scope == GW_SCOPE_SHARED && i < b.n; i++) {
        if (strcmp(b.kv[i].key, "deleted") == 0) {
            fprintf(stderr, "nbgate: \"deleted\" is a reserved name for shared attributes\n");
            goto out;
        }
    }
    rc = scope == GW_SCOPE_SHARED
             ? gw_store_shared_update(st, dev.id, &b, NULL, 0, now_ms(), now_ms() + ATTR_EXPIRY_MS,
                                      o->max_queued)
             : gw_store_save_attributes(st, dev.id, scope, &b, now_ms(), false);
    if (rc == -ENOSPC) {
        fprintf(stderr, "nbgate: the device's downlink queue is full\n");
    }
    rc = rc == 0 ? 0 : 1;
out:
    profile_batch_fini(&b);
    return rc;
}

int gw_cli_attr_delete(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv)
{
    struct gw_device_ref dev;
    enum gw_attr_scope scope;
    int i, rc = 0;

    if (argc < 3 || scope_of(o->scope, &scope) != 0) {
        fprintf(stderr, "usage: nbgate attributes delete NAME KEY... [--scope shared|server]\n");
        return 2;
    }
    if (gw_cli_find_device(st, argv[1], &dev) != 0) {
        return 1;
    }
    if (scope == GW_SCOPE_SHARED) {
        rc = gw_store_shared_update(st, dev.id, NULL, (const char *const *)argv + 2,
                                    (size_t)(argc - 2), now_ms(), now_ms() + ATTR_EXPIRY_MS,
                                    o->max_queued);
    }
    for (i = 2; scope != GW_SCOPE_SHARED && rc == 0 && i < argc; i++) {
        rc = gw_store_attribute_delete(st, dev.id, scope, argv[i]);
    }
    return rc == 0 ? 0 : 1;
}

struct dl_print {
    bool is_json;
    json_t *arr;
    int64_t id; /* for rpc --wait: the entry */
    enum gw_dl_state state;
    char response[1024];
};

static int print_dl(void *arg, const struct gw_dl_info *d)
{
    static const char *const kinds[] = { "?", "RPC", "ATTRIBUTES", "EFENTO_CONFIG" };
    struct dl_print *p = arg;

    p->state = d->state;
    (void)snprintf(p->response, sizeof(p->response), "%s", d->response != NULL ? d->response : "");
    if (p->is_json) {
        json_t *row =
            json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:s?, s:s?, s:s?}", "id", (json_int_t)d->id,
                      "kind", kinds[d->kind], "state", gw_dl_state_name(d->state), "retries",
                      (json_int_t)d->retries, "createdTime", (json_int_t)d->created_ms,
                      "expirationTime", (json_int_t)d->expiration_ms, "method", d->method, "body",
                      d->body, "response", d->response);
        return row != NULL ? json_array_append_new(p->arr, row) : -ENOMEM;
    }
    printf("%-6lld %-10s %-10s tries=%lld %s%s%s%s\n", (long long)d->id, kinds[d->kind],
           gw_dl_state_name(d->state), (long long)d->retries, d->method != NULL ? d->method : "",
           d->body != NULL ? " " : "", d->body != NULL ? d->body : "",
           d->response != NULL ? " -> " : "");
    if (d->response != NULL) {
        printf("       response %s\n", d->response);
    }
    return 0;
}

int gw_cli_downlinks(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv)
{
    struct dl_print p = { o->is_json, NULL, 0, GW_DL_QUEUED, "" };
    struct gw_device_ref dev;
    char *text;
    int rc;

    if (argc != 1) {
        fprintf(stderr, "usage: nbgate downlinks NAME [--json]\n");
        return 2;
    }
    if (gw_cli_find_device(st, argv[0], &dev) != 0) {
        return 1;
    }
    p.arr = o->is_json ? json_array() : NULL;
    rc = gw_store_dl_list(st, dev.id, o->limit, print_dl, &p);
    if (rc == 0 && o->is_json) {
        text = json_dumps(p.arr, JSON_COMPACT);
        printf("%s\n", text != NULL ? text : "[]");
        free(text);
    }
    json_decref(p.arr);
    return rc == 0 ? 0 : 1;
}

static bool is_final(enum gw_dl_state s, bool is_oneway)
{
    return s == GW_DL_SUCCESSFUL || s == GW_DL_EXPIRED || s == GW_DL_FAILED ||
           (s == GW_DL_DELIVERED && is_oneway);
}

int gw_cli_rpc(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv)
{
    struct dl_print p = { false, NULL, 0, GW_DL_QUEUED, "" };
    struct gw_device_ref dev;
    const char *params = argc > 2 ? argv[2] : NULL;
    long timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_RPC_TIMEOUT_MS;
    int64_t id = 0, expiry;
    int32_t rpc_id = 0;
    json_t *check;
    int rc;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: nbgate rpc NAME METHOD [PARAMS_JSON] [--oneway] [--timeout MS]"
                        " [--wait]\n");
        return 2;
    }
    if (params != NULL && (check = json_loads(params, JSON_DECODE_ANY, NULL)) == NULL) {
        fprintf(stderr, "nbgate: PARAMS must be JSON text\n");
        return 2;
    }
    if (params != NULL) {
        json_decref(check);
    }
    if (gw_cli_find_device(st, argv[0], &dev) != 0) {
        return 1;
    }
    expiry = now_ms() + (timeout > MIN_RPC_TIMEOUT_MS ? timeout : MIN_RPC_TIMEOUT_MS);
    rc = gw_store_rpc_queue(st, dev.id, argv[1], params, o->is_oneway, expiry, now_ms(),
                            o->max_queued, &id, &rpc_id);
    if (rc != 0) {
        fprintf(stderr, "nbgate: cannot queue the RPC: %s\n",
                rc == -ENOSPC ? "the device's downlink queue is full" : "store error");
        return 1;
    }
    printf("queued id=%lld rpc_id=%d\n", (long long)id, (int)rpc_id);
    if (!o->is_wait) {
        return 0;
    }
    for (;;) {
        if (gw_store_dl_get(st, id, print_dl, &p) != 0) {
            return 1;
        }
        if (is_final(p.state, o->is_oneway) || now_ms() > expiry + 2000) {
            break;
        }
        (void)usleep(50000);
    }
    printf("state=%s%s%s\n", gw_dl_state_name(p.state), p.response[0] ? " response=" : "",
           p.response);
    return p.state == GW_DL_SUCCESSFUL || p.state == GW_DL_DELIVERED ? 0 : 1;
}

static int print_ota(void *arg, const struct gw_ota_info *p)
{
    (void)arg;
    printf("%-4lld %-8s %-24s %-12s %lld bytes %s %s\n", (long long)p->id,
           p->is_software ? "software" : "firmware", p->title, p->version, (long long)p->size_bytes,
           p->checksum_algorithm, p->checksum);
    return 0;
}

static int ota_add(struct gw_store *st, char **argv)
{
    unsigned char digest[32];
    char hex[65];
    uint8_t *data = NULL;
    FILE *f = fopen(argv[4], "rb");
    long len = -1;
    int64_t id = 0;
    int i, rc = 1;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || len > OTA_MAX_BYTES ||
        fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "nbgate: cannot read %s (at most %d bytes)\n", argv[4], OTA_MAX_BYTES);
        goto out;
    }
    data = malloc((size_t)len + 1);
    if (data == NULL || fread(data, 1, (size_t)len, f) != (size_t)len) {
        fprintf(stderr, "nbgate: cannot read %s\n", argv[4]);
        goto out;
    }
    if (mbedtls_sha256_ret(data, (size_t)len, digest, 0) != 0) {
        goto out;
    }
    for (i = 0; i < 32; i++) {
        (void)snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    }
    rc = gw_store_ota_add(st, strcmp(argv[1], "software") == 0, argv[2], argv[3], data, (size_t)len,
                          "SHA256", hex, now_ms(), &id);
    if (rc != 0) {
        fprintf(stderr, "nbgate: %s\n",
                rc == -EEXIST ? "a package with that title and version exists" : "store error");
        rc = 1;
        goto out;
    }
    printf("%lld\n", (long long)id);
out:
    free(data);
    if (f != NULL) {
        (void)fclose(f);
    }
    return rc;
}

int gw_cli_ota(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv)
{
    struct gw_device_ref dev;
    int64_t pkg;
    int rc;

    (void)o;
    if (argc == 1 && strcmp(argv[0], "list") == 0) {
        return gw_store_ota_list(st, print_ota, NULL) == 0 ? 0 : 1;
    }
    if (argc == 5 && strcmp(argv[0], "add") == 0 &&
        (strcmp(argv[1], "firmware") == 0 || strcmp(argv[1], "software") == 0)) {
        return ota_add(st, argv);
    }
    if (argc == 4 && strcmp(argv[0], "assign") == 0 &&
        (strcmp(argv[2], "firmware") == 0 || strcmp(argv[2], "software") == 0)) {
        if (gw_cli_find_device(st, argv[1], &dev) != 0) {
            return 1;
        }
        pkg = strcmp(argv[3], "none") == 0 ? 0 : strtoll(argv[3], NULL, 10);
        rc =
            gw_store_ota_assign_device(st, dev.id, strcmp(argv[2], "software") == 0, pkg, now_ms());
        if (rc != 0) {
            fprintf(stderr, "nbgate: %s\n", rc == -ENOENT ? "no such package" : "store error");
        }
        return rc == 0 ? 0 : 1;
    }
    fprintf(stderr, "usage: nbgate ota add firmware|software TITLE VERSION FILE\n"
                    "       nbgate ota assign NAME firmware|software PACKAGE_ID|none\n"
                    "       nbgate ota list\n");
    return 2;
}

int gw_cli_claim(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv)
{
    static const char *const names[] = { "SUCCESS", "CLAIMED", "FAILURE" };
    enum gw_claim_result res;
    int rc;

    (void)o;
    if (argc != 2) {
        fprintf(stderr, "usage: nbgate claim NAME SECRET\n");
        return 2;
    }
    rc = gw_store_claim_device(st, argv[0], argv[1], now_ms(), &res);
    if (rc != 0) {
        fprintf(stderr, "nbgate: %s\n", rc == -ENOENT ? "no such device" : "store error");
        return 1;
    }
    printf("%s\n", names[res]);
    return res == GW_CLAIM_SUCCESS ? 0 : 1;
}
