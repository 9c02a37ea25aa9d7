/* SPDX-License-Identifier: MIT */
/*
 * web_routes.c - the admin API's route table and its device, credentials (access token and
 * X.509) and health handlers (specs/rest-api.md sections 4 and 9.1), and the helpers every
 * handler shares (path UUIDs, page links, PageData answers). The other resources have their own
 * files: accounts web_auth.c, telemetry and attributes web_telemetry.c / web_tswrite.c, device
 * profiles web_profiles.c / web_profile_save.c, bulk import web_import.c, RPC web_rpc.c, OTA
 * web_ota*.c, nbgate's own routes web_nbgate.c, web_fleet.c, web_metrics.c, web_efento.c,
 * web_downlinks.c and web_dtls.c. A route may raise its body cap (bulk import) or be streamed
 * (OTA upload: web_server.c checks the token, then hands each chunk of the body to the route's
 * stream function).
 *
 * A route pattern is a '/'-separated list of literal segments and {} parameters; a request path
 * matches when it has the same number of segments and every literal is equal (no prefix match,
 * no normalisation: "..", "%2f" and empty segments simply match nothing). The first matching
 * route wins, so more specific patterns come first.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/gw_log.h"
#include "gateway/gw_x509.h"
#include "web/web_internal.h"

#define MAX_SEGS        24
#define UNIQUIFY_TRIES  100
#define TOKEN_LEN_MAX   (GW_STORE_TOKEN_MAX - 1)
#define IMPORT_MAX_BODY (16 * 1024 * 1024) /* POST /api/device/bulk_import (specs 2.1) */

static const struct web_route routes[] = {
    { "GET", "/api/nbgate/health", true, web_hnd_health, NULL, 0 },
    { "POST", "/api/nbgate/setup", true, web_hnd_setup, NULL, 0 },
    { "POST", "/api/auth/login", true, web_hnd_login, NULL, 0 },
    { "POST", "/api/auth/token", true, web_hnd_token, NULL, 0 },
    { "POST", "/api/auth/logout", false, web_hnd_logout, NULL, 0 },
    { "GET", "/api/auth/user", false, web_hnd_user, NULL, 0 },
    { "POST", "/api/auth/changePassword", false, web_hnd_change_password, NULL, 0 },
    { "POST", "/api/device/credentials", false, web_hnd_credentials_save, NULL, 0 },
    { "POST", "/api/device/bulk_import", false, web_hnd_bulk_import, NULL, IMPORT_MAX_BODY },
    { "POST", "/api/device", false, web_hnd_device_save, NULL, 0 },
    { "POST", "/api/device-with-credentials", false, web_hnd_device_with_credentials, NULL, 0 },
    { "GET", "/api/device/info/{}", false, web_hnd_device_info, NULL, 0 },
    { "GET", "/api/device/{}/credentials", false, web_hnd_credentials_get, NULL, 0 },
    { "GET", "/api/device/{}", false, web_hnd_device_get, NULL, 0 },
    { "DELETE", "/api/device/{}", false, web_hnd_device_delete, NULL, 0 },
    { "GET", "/api/tenant/devices", false, web_hnd_devices, NULL, 0 },
    { "GET", "/api/tenant/device", false, web_hnd_device_by_name, NULL, 0 },
    { "GET", "/api/tenant/deviceInfos", false, web_hnd_device_infos, NULL, 0 },
    { "GET", "/api/plugins/telemetry/{}/{}/keys/timeseries", false, web_hnd_ts_keys, NULL, 0 },
    { "GET", "/api/plugins/telemetry/{}/{}/keys/attributes", false, web_hnd_attr_keys, NULL, 0 },
    { "GET", "/api/plugins/telemetry/{}/{}/keys/attributes/{}", false, web_hnd_attr_keys, NULL, 0 },
    { "GET", "/api/plugins/telemetry/{}/{}/values/timeseries", false, web_hnd_ts_values, NULL, 0 },
    { "GET", "/api/plugins/telemetry/{}/{}/values/timeseries/history", false, web_hnd_ts_history,
      NULL, 0 },
    { "GET", "/api/plugins/telemetry/{}/{}/values/attributes", false, web_hnd_attr_values, NULL,
      0 },
    { "GET", "/api/plugins/telemetry/{}/{}/values/attributes/{}", false, web_hnd_attr_values, NULL,
      0 },
    { "POST", "/api/plugins/telemetry/{}/{}/timeseries/{}", false, web_hnd_ts_save, NULL, 0 },
    { "POST", "/api/plugins/telemetry/{}/{}/timeseries/{}/{}", false, web_hnd_ts_save, NULL, 0 },
    { "DELETE", "/api/plugins/telemetry/{}/{}/timeseries/delete", false, web_hnd_ts_delete, NULL,
      0 },
    { "DELETE", "/api/plugins/telemetry/{}/{}/{}", false, web_hnd_attr_delete, NULL, 0 },
    { "DELETE", "/api/plugins/telemetry/{}/{}", false, web_hnd_attr_delete_old, NULL, 0 },
    { "POST", "/api/plugins/telemetry/{}/{}/attributes/{}", false, web_hnd_attr_save, NULL, 0 },
    { "POST", "/api/plugins/telemetry/{}/{}/{}", false, web_hnd_attr_save, NULL, 0 },
    { "POST", "/api/plugins/telemetry/{}/{}", false, web_hnd_attr_save_old, NULL, 0 },
    { "POST", "/api/deviceProfile", false, web_hnd_profile_save, NULL, 0 },
    { "GET", "/api/deviceProfile/{}", false, web_hnd_profile_get, NULL, 0 },
    { "DELETE", "/api/deviceProfile/{}", false, web_hnd_profile_delete, NULL, 0 },
    { "POST", "/api/deviceProfile/{}/default", false, web_hnd_profile_default, NULL, 0 },
    { "GET", "/api/deviceProfiles", false, web_hnd_profiles, NULL, 0 },
    { "GET", "/api/deviceProfileInfos", false, web_hnd_profile_infos, NULL, 0 },
    { "GET", "/api/deviceProfileInfo/default", false, web_hnd_profile_info_default, NULL, 0 },
    { "GET", "/api/deviceProfileInfo/{}", false, web_hnd_profile_info, NULL, 0 },
    { "POST", "/api/rpc/oneway/{}", false, web_hnd_rpc_oneway, NULL, 0 },
    { "POST", "/api/rpc/twoway/{}", false, web_hnd_rpc_twoway, NULL, 0 },
    { "POST", "/api/plugins/rpc/oneway/{}", false, web_hnd_rpc_old_oneway, NULL, 0 },
    { "POST", "/api/plugins/rpc/twoway/{}", false, web_hnd_rpc_old_twoway, NULL, 0 },
    { "GET", "/api/rpc/persistent/device/{}", false, web_hnd_rpc_page, NULL, 0 },
    { "GET", "/api/rpc/persistent/{}", false, web_hnd_rpc_get, NULL, 0 },
    { "DELETE", "/api/rpc/persistent/{}", false, web_hnd_rpc_delete, NULL, 0 },
    { "GET", "/api/nbgate/fleet", false, web_hnd_fleet, NULL, 0 },
    { "GET", "/api/nbgate/pendingDevices", false, web_hnd_pending_page, NULL, 0 },
    { "POST", "/api/nbgate/pendingDevices/{}/approve", false, web_hnd_pending_approve, NULL, 0 },
    { "POST", "/api/nbgate/pendingDevices/{}/reject", false, web_hnd_pending_reject, NULL, 0 },
    { "DELETE", "/api/nbgate/pendingDevices/{}", false, web_hnd_pending_delete, NULL, 0 },
    { "GET", "/api/nbgate/pendingDevices/{}/events", false, web_hnd_pending_events, NULL, 0 },
    { "GET", "/api/nbgate/device/{}/events", false, web_hnd_device_events, NULL, 0 },
    { "POST", "/api/nbgate/device/{}/efentoConfig", false, web_hnd_efento_queue, NULL, 0 },
    { "GET", "/api/nbgate/device/{}/efentoConfig", false, web_hnd_efento_page, NULL, 0 },
    { "DELETE", "/api/nbgate/device/{}/efentoConfig/{}", false, web_hnd_efento_cancel, NULL, 0 },
    { "GET", "/api/nbgate/device/{}/downlinks", false, web_hnd_downlinks_page, NULL, 0 },
    { "DELETE", "/api/nbgate/device/{}/downlinks/{}", false, web_hnd_downlinks_cancel, NULL, 0 },
    { "GET", "/api/nbgate/dtls", false, web_hnd_dtls, NULL, 0 },
    { "GET", "/api/nbgate/connectivity", false, web_hnd_connectivity, NULL, 0 },
    { "GET", "/api/device-connectivity/{}/certificate/download", true, web_hnd_coaps_cert_download,
      NULL, 0 },
    { "GET", "/metrics", true, web_hnd_metrics, NULL, 0 },
    { "POST", "/api/otaPackage", false, web_hnd_ota_save, NULL, 0 },
    { "GET", "/api/otaPackage/info/{}", false, web_hnd_ota_info, NULL, 0 },
    { "POST", "/api/otaPackage/{}", false, web_hnd_ota_upload, web_ota_stream,
      WEB_OTA_MAX_PACKAGE },
    { "GET", "/api/otaPackage/{}", false, web_hnd_ota_get, NULL, 0 },
    { "DELETE", "/api/otaPackage/{}", false, web_hnd_ota_delete, NULL, 0 },
    { "GET", "/api/otaPackage/{}/download", false, web_hnd_ota_download, NULL, 0 },
    { "GET", "/api/otaPackages", false, web_hnd_ota_page, NULL, 0 },
    { "GET", "/api/otaPackages/{}/{}", false, web_hnd_ota_page_profile, NULL, 0 },
    { "GET", "/api/devices/count/{}/{}", false, web_hnd_ota_count, NULL, 0 },
};

/* Splits s (a path starting with '/') into segments in place. Returns: the count, or 0. */
static size_t split(char *s, char **segs)
{
    size_t n = 0;

    if (s[0] != '/') {
        return 0;
    }
    while (s != NULL) {
        *s++ = '\0';
        if (n == MAX_SEGS) {
            return 0;
        }
        segs[n++] = s;
        s = strchr(s, '/');
    }
    return n;
}

/* Matches pattern against the segments; fills params on success. */
static bool match(const char *pattern, char *const *segs, size_t n, const char **params,
                  size_t *n_params)
{
    const char *p = pattern + 1;
    size_t i;

    *n_params = 0;
    for (i = 0; i < n; i++) {
        const char *end = strchr(p, '/');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len == 2 && p[0] == '{' && p[1] == '}') {
            if (segs[i][0] == '\0' || *n_params == WEB_MAX_PARAMS) {
                return false;
            }
            params[(*n_params)++] = segs[i];
        } else if (strlen(segs[i]) != len || memcmp(segs[i], p, len) != 0) {
            return false;
        }
        if (end == NULL) {
            return i + 1 == n;
        }
        p = end + 1;
    }
    return false;
}

const struct web_route *web_route_find(struct web_req *rq, bool *is_path_known)
{
    char *segs[MAX_SEGS];
    const char *params[WEB_MAX_PARAMS];
    size_t n, n_params, i;

    *is_path_known = false;
    memcpy(rq->segs, rq->path, sizeof(rq->segs));
    n = split(rq->segs, segs);
    for (i = 0; n > 0 && i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (!match(routes[i].pattern, segs, n, params, &n_params)) {
            continue;
        }
        if (strcmp(routes[i].method, rq->method) == 0) {
            memcpy(rq->params, params, sizeof(params));
            rq->n_params = n_params;
            return &routes[i];
        }
        *is_path_known = true;
    }
    return NULL;
}

/* ---- health ------------------------------------------------------------------------------ */

/* Wakes the loop and waits up to 2 s for it to answer through web_server_loop_alive(). */
static bool loop_answers(struct web_server *srv)
{
    const struct timespec step = { 0, 10 * 1000 * 1000 };
    uint_fast64_t before = atomic_load(&srv->loop_alive);
    int i;

    web_wake_loop(srv);
    for (i = 0; i < 200; i++) {
        if (atomic_load(&srv->loop_alive) != before) {
            return true;
        }
        (void)nanosleep(&step, NULL);
    }
    return false;
}

void web_hnd_health(struct web_req *rq, struct web_resp *rs)
{
    struct web_server *srv = rq->srv;
    bool is_store_up = gw_store_admin_ping(rq->st) == 0;
    bool is_loop_up = srv->o.wakeup_fd < 0 || loop_answers(srv);
    bool is_up = is_store_up && is_loop_up;

    web_reply_json(rs, json_pack("{s:s, s:s, s:I, s:I, s:{s:s, s:s, s:s}}", "status",
                                 is_up ? "UP" : "DOWN", "version", NBGATE_VERSION, "startTs",
                                 (json_int_t)srv->start_ms, "uptimeMs",
                                 (json_int_t)(rq->now_ms - srv->start_ms), "checks", "store",
                                 is_store_up ? "UP" : "DOWN", "coap", is_loop_up ? "UP" : "DOWN",
                                 "dtls", srv->o.is_dtls_enabled ? "UP" : "DISABLED"));
    if (!is_up) {
        rs->status = 503;
        gw_log_warn("admin health DOWN store=%d loop=%d", is_store_up, is_loop_up);
    }
}

/* ---- devices ----------------------------------------------------------------------------- */

struct one_json {
    struct web_server *srv;
    bool is_info;
    json_t *out;
};

static int device_to_json(void *arg, const struct gw_api_device *d)
{
    struct one_json *o = arg;

    o->out = web_json_device_out(d, o->srv->tenant_id, o->is_info);
    return o->out != NULL ? 0 : -ENOMEM;
}

/* Answers the device (or DeviceInfo) with uuid, or name when uuid is NULL. */
static void reply_device(struct web_req *rq, struct web_resp *rs, const char *uuid,
                         const char *name, bool is_info)
{
    struct one_json o = { rq->srv, is_info, NULL };
    int rc =
        gw_store_api_device_get(rq->st, uuid, name, rq->now_ms,
                                rq->srv->o.default_inactivity_timeout_s * 1000, device_to_json, &o);

    if (rc == -ENOENT && uuid != NULL) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device with id [%s] is not found", uuid);
    } else if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
    } else if (rc != 0) {
        json_decref(o.out);
        web_reply_db_error(rs);
    } else {
        web_reply_json(rs, o.out);
    }
}

const char *web_param_uuid(struct web_req *rq, struct web_resp *rs, size_t i)
{
    const char *s = rq->params[i];

    if (!web_uuid_ok(s)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s", s);
        return NULL;
    }
    return s;
}

int web_param_device(struct web_req *rq, struct web_resp *rs, size_t i, int64_t *id)
{
    const char *uuid = web_param_uuid(rq, rs, i);
    int rc;

    if (uuid == NULL) {
        return -EINVAL;
    }
    rc = gw_store_api_device_id(rq->st, uuid, id);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device with requested id wasn't found!");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc;
}

int web_page_of(struct web_req *rq, struct web_resp *rs, const char *const *sorts, size_t n_sorts,
                struct web_page *pg)
{
    char err[256];

    if (web_page_parse(web_query(rq, "pageSize"), web_query(rq, "page"),
                       web_query(rq, "sortProperty"), web_query(rq, "sortOrder"), sorts, n_sorts,
                       pg, err, sizeof(err)) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
        return -EINVAL;
    }
    return 0;
}

void web_reply_page(struct web_resp *rs, json_t *data, int64_t total, const struct web_page *pg)
{
    int64_t pages = (total + pg->page_size - 1) / pg->page_size;

    web_reply_json(rs,
                   json_pack("{s:o, s:I, s:I, s:b}", "data", data, "totalPages", (json_int_t)pages,
                             "totalElements", (json_int_t)total, "hasNext", pg->page < pages - 1));
}

void web_reply_device(struct web_req *rq, struct web_resp *rs, const char *uuid, const char *name)
{
    reply_device(rq, rs, uuid, name, false);
}

void web_hnd_device_get(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);

    if (uuid != NULL) {
        reply_device(rq, rs, uuid, NULL, false);
    }
}

void web_hnd_device_info(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);

    if (uuid != NULL) {
        reply_device(rq, rs, uuid, NULL, true);
    }
}

void web_hnd_device_by_name(struct web_req *rq, struct web_resp *rs)
{
    const char *name = web_query(rq, "deviceName");

    if (name == NULL || name[0] == '\0') {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter 'deviceName' can't be empty!");
        return;
    }
    reply_device(rq, rs, NULL, name, false);
}

void web_hnd_device_delete(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);
    int rc;

    if (uuid == NULL) {
        return;
    }
    rc = gw_store_api_device_delete(rq->st, uuid);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device with id [%s] is not found", uuid);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin device deleted uuid=%s user=\"%s\"", uuid, rq->jwt.sub);
        rs->status = 200;
    }
}

const char *web_token_problem(const char *t)
{
    size_t i;

    if (t == NULL || t[0] == '\0') {
        return "Device credentials id should be specified!";
    }
    if (strlen(t) > TOKEN_LEN_MAX) {
        return "Device credentials id must be at most 127 bytes";
    }
    for (i = 0; t[i] != '\0'; i++) {
        if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) {
            return "Device credentials id should not contain control characters!";
        }
    }
    return NULL;
}

/* Checks a credentials id (access token); answers 400 when it breaks a rule. */
static bool token_ok(struct web_resp *rs, const char *t)
{
    const char *why = web_token_problem(t);

    if (why != NULL) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", why);
    }
    return why == NULL;
}

static void save_failed(struct web_resp *rs, enum gw_api_fail fail, const char *uuid)
{
    switch (fail) {
    case GW_API_NO_DEVICE:
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device with id [%s] is not found", uuid);
        return;
    case GW_API_NO_PROFILE:
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device is referencing non existing device profile!");
        return;
    case GW_API_NAME_TAKEN:
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device with such name already exists!");
        return;
    case GW_API_TOKEN_TAKEN:
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Device credentials are already assigned to another device!");
        return;
    case GW_API_OK:
        break;
    }
    web_reply_db_error(rs);
}

/* The k-th candidate name for UNIQUIFY: separator + k (INCREMENTAL) or 6 random characters. */
static void uniquified(const char *name, const char *sep, bool is_random, int k, char *out,
                       size_t len)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char suffix[16];
    uint8_t r[6];
    int i;

    if (is_random) {
        gw_pki_random(r, sizeof(r));
        for (i = 0; i < 6; i++) {
            suffix[i] = alnum[r[i] % 36];
        }
        suffix[6] = '\0';
    } else {
        (void)snprintf(suffix, sizeof(suffix), "%d", k);
    }
    (void)snprintf(out, len, "%.*s%s%s", WEB_NAME_MAX - 24, name, sep, suffix);
}

/* Saves the device, retrying with new names (in name) under nameConflictPolicy=UNIQUIFY. */
static int save_device(struct web_req *rq, struct web_device_body *b, char *uuid,
                       char name[WEB_NAME_MAX + 1], enum gw_api_fail *fail)
{
    const char *policy = web_query(rq, "nameConflictPolicy");
    const char *sep = web_query(rq, "uniquifySeparator");
    const char *strategy = web_query(rq, "uniquifyStrategy");
    bool is_uniquify = policy != NULL && strcmp(policy, "UNIQUIFY") == 0;
    bool is_random = strategy == NULL || strcmp(strategy, "INCREMENTAL") != 0;
    const char *base = b->dev.name;
    int rc, k;

    rc = gw_store_api_device_save(rq->st, &b->dev, rq->now_ms, uuid, fail);
    for (k = 1; rc == -EEXIST && *fail == GW_API_NAME_TAKEN && is_uniquify && k < UNIQUIFY_TRIES;
         k++) {
        uniquified(base, sep != NULL && strlen(sep) < 8 ? sep : "_", is_random, k, name,
                   WEB_NAME_MAX + 1);
        b->dev.name = name;
        rc = gw_store_api_device_save(rq->st, &b->dev, rq->now_ms, uuid, fail);
    }
    return rc;
}

/* The credential of POST /api/device-with-credentials (NULL members: not given). */
struct dev_cred {
    const char *type; /* "ACCESS_TOKEN" or "X509_CERTIFICATE" */
    const char *id;   /* the token, or the certificate's fingerprint */
    char *value;      /* the certificate's one-line body (heap), or NULL */
    struct gw_x509_cert cert;
};

/* After the device is saved: a credential that the create did not set already. */
static int cred_after(struct web_req *rq, struct web_resp *rs, const struct dev_cred *c,
                      const char *uuid, bool is_created)
{
    enum gw_api_fail fail = GW_API_OK;
    int rc;

    if (c == NULL || (is_created && strcmp(c->type, "ACCESS_TOKEN") == 0)) {
        return 0;
    }
    rc = gw_store_api_credentials_set(rq->st, uuid, c->type, c->id, c->value, rq->now_ms, &fail);
    if (rc != 0) {
        save_failed(rs, fail, uuid);
    }
    return rc;
}

/* Saves the Device in text (and the credential c, when not NULL); answers the saved Device. */
static void device_save(struct web_req *rq, struct web_resp *rs, const char *text, size_t len,
                        const struct dev_cred *c)
{
    struct web_ota_pick pick;
    struct web_device_body b;
    enum gw_api_fail fail = GW_API_OK;
    char uuid[GW_STORE_UUID_LEN], err[256], name[WEB_NAME_MAX + 1];
    int rc;

    rc = web_json_device(text, len, &b, err, sizeof(err));
    if (rc != 0) {
        web_error(rs, rc == -ENOMEM ? 500 : 400, rc == -ENOMEM ? WEB_E_GENERAL : WEB_E_BAD_PARAMS,
                  "%s", err);
        return;
    }
    /* TODO(#4): optimistic locking with "version" once the device table stores a version. */
    b.dev.access_token = b.dev.uuid == NULL ? web_query(rq, "accessToken") : NULL;
    if (c != NULL) {
        b.dev.access_token = strcmp(c->type, "ACCESS_TOKEN") == 0 ? c->id : NULL;
    }
    if ((b.dev.access_token != NULL && !token_ok(rs, b.dev.access_token)) ||
        web_ota_device_check(rq, rs, b.root, &b.dev, &pick) != 0) {
        web_device_body_fini(&b);
        return;
    }
    rc = save_device(rq, &b, uuid, name, &fail);
    if (rc != 0) {
        save_failed(rs, fail, b.dev.uuid);
    } else if (cred_after(rq, rs, c, uuid, b.dev.uuid == NULL) == 0 &&
               web_ota_device_apply(rq, rs, uuid, &pick) == 0) {
        gw_log_info("admin device saved uuid=%s name=\"%s\" user=\"%s\"", uuid, b.dev.name,
                    rq->jwt.sub);
        reply_device(rq, rs, uuid, NULL, false);
    }
    web_device_body_fini(&b);
}

void web_hnd_device_save(struct web_req *rq, struct web_resp *rs)
{
    device_save(rq, rs, rq->body != NULL ? rq->body : "", rq->body_len, NULL);
}

/* Reads and checks the credentials member; answers 400 and returns != 0 when it is wrong. */
static int dev_cred_parse(struct web_resp *rs, json_t *o, struct dev_cred *c)
{
    const char *value = json_string_value(json_object_get(o, "credentialsValue"));
    char why[256];

    c->type = json_string_value(json_object_get(o, "credentialsType"));
    c->id = json_string_value(json_object_get(o, "credentialsId"));
    if (c->type == NULL) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device credentials type should be specified!");
    } else if (strcmp(c->type, "ACCESS_TOKEN") == 0) {
        return token_ok(rs, c->id) ? 0 : -EINVAL;
    } else if (strcmp(c->type, "X509_CERTIFICATE") != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Credentials type %.40s is not supported", c->type);
    } else if (value == NULL || value[0] == '\0') {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device credentials value should be specified!");
    } else if (gw_x509_parse(value, strlen(value), &c->cert, why, sizeof(why)) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid device credentials: %s", why);
    } else if ((c->value = gw_x509_body_base64(&c->cert)) == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
    } else {
        c->id = c->cert.fingerprint;
        return 0;
    }
    return -EINVAL;
}

/* A certificate of another device refuses the whole request before the device is saved. */
static int x509_free(struct web_req *rq, struct web_resp *rs, const struct dev_cred *c,
                     const char *device_uuid)
{
    struct gw_device_ref ref, self;
    char *value = NULL;
    int rc;

    if (strcmp(c->type, "X509_CERTIFICATE") != 0) {
        return 0;
    }
    rc = gw_store_x509_find(rq->st, c->id, &ref, &value);
    free(value);
    if (rc == -ENOENT ||
        (rc == 0 && device_uuid != NULL &&
         gw_store_api_device_ref(rq->st, device_uuid, &self) == 0 && self.id == ref.id)) {
        return 0;
    }
    if (rc == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Device credentials are already assigned to another device!");
    } else {
        web_reply_db_error(rs);
    }
    return -EEXIST;
}

void web_hnd_device_with_credentials(struct web_req *rq, struct web_resp *rs)
{
    json_t *root = json_loadb(rq->body != NULL ? rq->body : "", rq->body_len, 0, NULL);
    json_t *dev = json_object_get(root, "device");
    json_t *id = json_object_get(dev, "id");
    char *text = NULL;
    struct dev_cred c;

    memset(&c, 0, sizeof(c));
    if (!json_is_object(root)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid JSON");
    } else if (!json_is_object(dev) || !json_is_object(json_object_get(root, "credentials"))) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device and credentials should be specified!");
    } else if (dev_cred_parse(rs, json_object_get(root, "credentials"), &c) == 0 &&
               x509_free(rq, rs, &c, json_string_value(json_object_get(id, "id"))) == 0) {
        text = json_dumps(dev, JSON_COMPACT);
        if (text == NULL) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        } else {
            device_save(rq, rs, text, strlen(text), &c);
        }
    }
    free(text);
    free(c.value);
    gw_x509_fini(&c.cert);
    json_decref(root);
}

/* ---- device lists ------------------------------------------------------------------------ */

struct page_ctx {
    struct web_server *srv;
    bool is_info;
    json_t *data;
};

static int page_row(void *arg, const struct gw_api_device *d)
{
    struct page_ctx *p = arg;
    json_t *o = web_json_device_out(d, p->srv->tenant_id, p->is_info);

    return o != NULL && json_array_append_new(p->data, o) == 0 ? 0 : -ENOMEM;
}

/* Fills the page link and filters of a device listing; answers 400 and returns -EINVAL. */
static int device_query(struct web_req *rq, struct web_resp *rs, bool is_info,
                        struct gw_api_device_query *q)
{
    static const char *const sorts[] = { "createdTime",       "name",         "label", "type",
                                         "deviceProfileName", "customerTitle" };
    static const enum gw_api_sort sort_of[] = { GW_API_SORT_CREATED, GW_API_SORT_NAME,
                                                GW_API_SORT_LABEL,   GW_API_SORT_TYPE,
                                                GW_API_SORT_TYPE,    GW_API_SORT_CREATED };
    const char *active = web_query(rq, "active");
    struct web_page pg;
    char err[256];

    if (web_page_parse(web_query(rq, "pageSize"), web_query(rq, "page"),
                       web_query(rq, "sortProperty"), web_query(rq, "sortOrder"), sorts, 6, &pg,
                       err, sizeof(err)) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
        return -EINVAL;
    }
    memset(q, 0, sizeof(*q));
    q->page_size = pg.page_size;
    q->page = pg.page;
    q->sort = pg.sort >= 0 ? sort_of[pg.sort] : GW_API_SORT_CREATED;
    q->is_desc = pg.is_desc && pg.sort >= 0 && pg.sort != 5;
    q->text_search = web_query(rq, "textSearch");
    q->text_search = q->text_search != NULL && q->text_search[0] != '\0' ? q->text_search : NULL;
    q->is_search_type = is_info;
    q->type = web_query(rq, "type");
    q->type = q->type != NULL && q->type[0] != '\0' ? q->type : NULL;
    q->profile_uuid = is_info && q->type == NULL ? web_query(rq, "deviceProfileId") : NULL;
    q->active = -1;
    if (q->profile_uuid != NULL && !web_uuid_ok(q->profile_uuid)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s", q->profile_uuid);
        return -EINVAL;
    }
    if (is_info && active != NULL && active[0] != '\0') {
        if (strcasecmp(active, "true") != 0 && strcasecmp(active, "false") != 0) {
            web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter 'active' must be true or false");
            return -EINVAL;
        }
        q->active = strcasecmp(active, "true") == 0 ? 1 : 0;
    }
    q->now_ms = rq->now_ms;
    q->default_inactivity_ms = rq->srv->o.default_inactivity_timeout_s * 1000;
    return 0;
}

static void device_page(struct web_req *rq, struct web_resp *rs, bool is_info)
{
    struct page_ctx p = { rq->srv, is_info, json_array() };
    struct gw_api_device_query q;
    int64_t total = 0, pages;
    int rc;

    if (p.data == NULL || device_query(rq, rs, is_info, &q) != 0) {
        json_decref(p.data);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    rc = gw_store_api_device_page(rq->st, &q, &total, page_row, &p);
    if (rc != 0) {
        json_decref(p.data);
        web_reply_db_error(rs);
        return;
    }
    pages = (total + q.page_size - 1) / q.page_size;
    web_reply_json(rs, json_pack("{s:o, s:I, s:I, s:b}", "data", p.data, "totalPages",
                                 (json_int_t)pages, "totalElements", (json_int_t)total, "hasNext",
                                 q.page < pages - 1));
}

void web_hnd_devices(struct web_req *rq, struct web_resp *rs)
{
    const char *name = web_query(rq, "deviceName");

    if (name != NULL) {
        web_hnd_device_by_name(rq, rs);
    } else {
        device_page(rq, rs, false);
    }
}

void web_hnd_device_infos(struct web_req *rq, struct web_resp *rs)
{
    device_page(rq, rs, true);
}

/* ---- credentials ------------------------------------------------------------------------- */

static int cred_to_json(void *arg, const struct gw_api_credentials *c)
{
    json_t **out = arg;

    *out = web_json_credentials_out(c);
    return *out != NULL ? 0 : -ENOMEM;
}

static void reply_credentials(struct web_req *rq, struct web_resp *rs, const char *uuid)
{
    json_t *o = NULL;
    int rc = gw_store_api_credentials_get(rq->st, uuid, cred_to_json, &o);

    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device with id [%s] is not found", uuid);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        web_reply_json(rs, o);
    }
}

void web_hnd_credentials_get(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);

    if (uuid != NULL) {
        reply_credentials(rq, rs, uuid);
    }
}

/* An X509_CERTIFICATE credential: the id is the certificate's SHA-256, the value its body. */
static void x509_save(struct web_req *rq, struct web_resp *rs, const struct web_cred_body *b)
{
    struct gw_x509_cert cert;
    enum gw_api_fail fail = GW_API_OK;
    char why[256];
    char *body = NULL;
    int rc;

    memset(&cert, 0, sizeof(cert));
    if (b->value == NULL || b->value[0] == '\0') {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device credentials value should be specified!");
        goto out;
    }
    if (gw_x509_parse(b->value, strlen(b->value), &cert, why, sizeof(why)) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid device credentials: %s", why);
        goto out;
    }
    body = gw_x509_body_base64(&cert);
    if (body == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        goto out;
    }
    rc = gw_store_api_credentials_set(rq->st, b->device_uuid, "X509_CERTIFICATE", cert.fingerprint,
                                      body, rq->now_ms, &fail);
    if (rc != 0) {
        save_failed(rs, fail, b->device_uuid);
    } else {
        gw_log_info("admin credentials saved device=%s type=X509 sha256=%s user=\"%s\"",
                    b->device_uuid, cert.fingerprint, rq->jwt.sub);
        reply_credentials(rq, rs, b->device_uuid);
    }
out:
    free(body);
    gw_x509_fini(&cert);
}

void web_hnd_credentials_save(struct web_req *rq, struct web_resp *rs)
{
    struct web_cred_body b;
    enum gw_api_fail fail = GW_API_OK;
    char err[256];
    int rc;

    if (web_json_credentials(rq->body != NULL ? rq->body : "", rq->body_len, &b, err,
                             sizeof(err)) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
        return;
    }
    if (strcmp(b.type, "X509_CERTIFICATE") == 0) {
        x509_save(rq, rs, &b);
    } else if (strcmp(b.type, "ACCESS_TOKEN") != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Credentials type %.40s is not supported", b.type);
    } else if (token_ok(rs, b.credentials_id)) {
        rc = gw_store_api_credentials_set(rq->st, b.device_uuid, b.type, b.credentials_id, NULL,
                                          rq->now_ms, &fail);
        if (rc != 0) {
            save_failed(rs, fail, b.device_uuid);
        } else {
            gw_log_info("admin credentials saved device=%s user=\"%s\"", b.device_uuid,
                        rq->jwt.sub);
            reply_credentials(rq, rs, b.device_uuid);
        }
    }
    json_decref(b.root);
}
