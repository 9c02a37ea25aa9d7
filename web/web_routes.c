/* SPDX-License-Identifier: MIT */
/*
 * web_routes.c - the admin API's route table and its device, credentials and health handlers
 * (specs/rest-api.md sections 4 and 9.1). Telemetry and attributes are in web_telemetry.c,
 * accounts in web_auth.c.
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
#include "web/web_internal.h"

#define MAX_SEGS       24
#define UNIQUIFY_TRIES 100
#define TOKEN_LEN_MAX  (GW_STORE_TOKEN_MAX - 1)

static const struct web_route routes[] = {
    { "GET", "/api/nbgate/health", true, web_hnd_health },
    { "POST", "/api/nbgate/setup", true, web_hnd_setup },
    { "POST", "/api/auth/login", true, web_hnd_login },
    { "POST", "/api/auth/token", true, web_hnd_token },
    { "POST", "/api/auth/logout", false, web_hnd_logout },
    { "GET", "/api/auth/user", false, web_hnd_user },
    { "POST", "/api/auth/changePassword", false, web_hnd_change_password },
    { "POST", "/api/device/credentials", false, web_hnd_credentials_save },
    { "POST", "/api/device", false, web_hnd_device_save },
    { "GET", "/api/device/info/{}", false, web_hnd_device_info },
    { "GET", "/api/device/{}/credentials", false, web_hnd_credentials_get },
    { "GET", "/api/device/{}", false, web_hnd_device_get },
    { "DELETE", "/api/device/{}", false, web_hnd_device_delete },
    { "GET", "/api/tenant/devices", false, web_hnd_devices },
    { "GET", "/api/tenant/device", false, web_hnd_device_by_name },
    { "GET", "/api/tenant/deviceInfos", false, web_hnd_device_infos },
    { "GET", "/api/plugins/telemetry/{}/{}/keys/timeseries", false, web_hnd_ts_keys },
    { "GET", "/api/plugins/telemetry/{}/{}/keys/attributes", false, web_hnd_attr_keys },
    { "GET", "/api/plugins/telemetry/{}/{}/keys/attributes/{}", false, web_hnd_attr_keys },
    { "GET", "/api/plugins/telemetry/{}/{}/values/timeseries", false, web_hnd_ts_values },
    { "GET", "/api/plugins/telemetry/{}/{}/values/timeseries/history", false, web_hnd_ts_history },
    { "GET", "/api/plugins/telemetry/{}/{}/values/attributes", false, web_hnd_attr_values },
    { "GET", "/api/plugins/telemetry/{}/{}/values/attributes/{}", false, web_hnd_attr_values },
    { "POST", "/api/plugins/telemetry/{}/{}/attributes/{}", false, web_hnd_attr_save },
    { "POST", "/api/plugins/telemetry/{}/{}/{}", false, web_hnd_attr_save },
    { "POST", "/api/plugins/telemetry/{}/{}", false, web_hnd_attr_save_old },
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

/* Checks the {} parameter i as a UUID; answers 400 when it is not one. */
static const char *param_uuid(struct web_req *rq, struct web_resp *rs, size_t i)
{
    const char *s = rq->params[i];

    if (!web_uuid_ok(s)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s", s);
        return NULL;
    }
    return s;
}

void web_hnd_device_get(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = param_uuid(rq, rs, 0);

    if (uuid != NULL) {
        reply_device(rq, rs, uuid, NULL, false);
    }
}

void web_hnd_device_info(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = param_uuid(rq, rs, 0);

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
    const char *uuid = param_uuid(rq, rs, 0);
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

/* Checks a credentials id (access token): ThingsBoard's rules plus nbgate's length cap. */
static bool token_ok(struct web_resp *rs, const char *t)
{
    size_t i;

    if (t == NULL || t[0] == '\0') {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device credentials id should be specified!");
        return false;
    }
    if (strlen(t) > TOKEN_LEN_MAX) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device credentials id must be at most %d bytes",
                  TOKEN_LEN_MAX);
        return false;
    }
    for (i = 0; t[i] != '\0'; i++) {
        if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) {
            web_error(rs, 400, WEB_E_BAD_PARAMS,
                      "Device credentials id should not contain "
                      "control characters!");
            return false;
        }
    }
    return true;
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

void web_hnd_device_save(struct web_req *rq, struct web_resp *rs)
{
    struct web_device_body b;
    enum gw_api_fail fail = GW_API_OK;
    char uuid[GW_STORE_UUID_LEN], err[256], name[WEB_NAME_MAX + 1];
    int rc;

    rc = web_json_device(rq->body != NULL ? rq->body : "", rq->body_len, &b, err, sizeof(err));
    if (rc != 0) {
        web_error(rs, rc == -ENOMEM ? 500 : 400, rc == -ENOMEM ? WEB_E_GENERAL : WEB_E_BAD_PARAMS,
                  "%s", err);
        return;
    }
    /* TODO(#4): optimistic locking with "version" once the device table stores a version. */
    b.dev.access_token = b.dev.uuid == NULL ? web_query(rq, "accessToken") : NULL;
    if (b.dev.access_token != NULL && !token_ok(rs, b.dev.access_token)) {
        web_device_body_fini(&b);
        return;
    }
    rc = save_device(rq, &b, uuid, name, &fail);
    if (rc != 0) {
        save_failed(rs, fail, b.dev.uuid);
    } else {
        gw_log_info("admin device saved uuid=%s name=\"%s\" user=\"%s\"", uuid, b.dev.name,
                    rq->jwt.sub);
        reply_device(rq, rs, uuid, NULL, false);
    }
    web_device_body_fini(&b);
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
    const char *uuid = param_uuid(rq, rs, 0);

    if (uuid != NULL) {
        reply_credentials(rq, rs, uuid);
    }
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
    if (strcmp(b.type, "ACCESS_TOKEN") != 0) {
        /* TODO(#4): X509_CERTIFICATE (fingerprint of the PEM, specs/rest-api.md 4.6). */
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
