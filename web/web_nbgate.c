/* SPDX-License-Identifier: MIT */
/*
 * web_nbgate.c - nbgate's own admin routes (specs/rest-api.md 9): pending (unknown) devices with
 * approve, reject and delete, a device's event log, and GET /metrics in Prometheus' text format.
 *
 * A pending entry's id is its store row in a UUID's shape ("00000000-0000-4000-8000-" and 12 hex
 * digits of the row id), so that the routes keep ThingsBoard's id conventions. Approving an
 * Efento entry goes through gw_store_efento_pending_approve() (the Efento rules: token place,
 * Efento profile); a COAP_TOKEN or X509 entry becomes an ordinary device (a profile of CoAP
 * device type DEFAULT) with that token or certificate, in one transaction
 * (gw_store_pending_approve). Blocking keeps the entry with blocked = 1.
 *
 * /metrics reports what the store can tell (devices by activity, downlinks by kind and state,
 * pending devices, stored values, events by type, a store round-trip time) and the admin API's
 * own request counts. Counters that only the CoAP loop sees (requests by resource and code, DTLS
 * sessions and handshakes, commit latency) are not reported: see docs/API.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gw_log.h"
#include "gateway/gw_x509.h"
#include "web/web_internal.h"

#define PENDING_ID_PREFIX "00000000-0000-4000-8000-"

/* ---- pending devices --------------------------------------------------------------------- */

static void pending_uuid(int64_t id, char out[GW_STORE_UUID_LEN])
{
    (void)snprintf(out, GW_STORE_UUID_LEN, PENDING_ID_PREFIX "%012llx",
                   (unsigned long long)id & 0xffffffffffffULL);
}

/* The row id of a pending id; answers 400 for something that is not one. */
static int pending_param(struct web_req *rq, struct web_resp *rs, int64_t *id)
{
    const char *s = web_param_uuid(rq, rs, 0);
    char *end = NULL;

    if (s == NULL) {
        return -EINVAL;
    }
    if (strncmp(s, PENDING_ID_PREFIX, strlen(PENDING_ID_PREFIX)) != 0) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
        return -ENOENT;
    }
    *id = (int64_t)strtoll(s + strlen(PENDING_ID_PREFIX), &end, 16);
    return 0;
}

static json_t *pending_out(const struct gw_api_pending *p)
{
    json_t *sum = p->summary != NULL ? json_loads(p->summary, 0, NULL) : NULL;
    const char *serial = json_string_value(json_object_get(sum, "serial"));
    const char *msg = json_string_value(json_object_get(sum, "type"));
    const char *pem = json_string_value(json_object_get(sum, "certificate"));
    bool is_efento = strncmp(p->kind, "EFENTO", 6) == 0;
    bool is_x509 = strcmp(p->kind, "X509") == 0;
    char uuid[GW_STORE_UUID_LEN];
    json_t *o;

    pending_uuid(p->id, uuid);
    o = json_pack(
        "{s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:b}", "id", uuid, "source",
        is_efento ? "EFENTO"
        : is_x509 ? "X509"
                  : "COAP_TOKEN",
        "credentialsType", is_x509 ? "X509_CERTIFICATE" : "ACCESS_TOKEN", "credentialsId",
        p->identifier, "tokenSource",
        !is_efento                       ? json_null()
        : strcmp(p->kind, "EFENTO") == 0 ? json_string("payload")
                                         : json_string(p->kind + 10),
        "certificate", is_x509 && pem != NULL ? json_string(pem) : json_null(), "serialNumber",
        serial != NULL && serial[0] != '\0' ? json_string(serial) : json_null(), "lastMessage",
        msg != NULL ? json_string(msg) : json_null(), "lastRemoteAddress",
        p->peer != NULL ? json_string(p->peer) : json_null(), "firstSeenTs",
        (json_int_t)p->first_seen_ms, "lastSeenTs", (json_int_t)p->last_seen_ms, "attempts",
        (json_int_t)p->attempts, "blocked", p->is_blocked);
    json_decref(sum);
    return o;
}

static int pending_append(void *arg, const struct gw_api_pending *p)
{
    json_t *o = pending_out(p);

    return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : -ENOMEM;
}

void web_hnd_pending_page(struct web_req *rq, struct web_resp *rs)
{
    static const char *const sorts[] = { "lastSeenTs", "firstSeenTs", "attempts" };
    const char *blocked = web_query(rq, "blocked");
    json_t *data = json_array();
    struct gw_api_pending_query q;
    struct web_page pg;
    int64_t total = 0;

    if (data == NULL || web_page_of(rq, rs, sorts, 3, &pg) != 0) {
        json_decref(data);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    memset(&q, 0, sizeof(q));
    q.page_size = pg.page_size;
    q.page = pg.page;
    q.sort = pg.sort >= 0 ? pg.sort : 0;
    q.is_desc = pg.sort >= 0 ? pg.is_desc : true;
    q.text_search = web_query(rq, "textSearch");
    q.text_search = q.text_search != NULL && q.text_search[0] != '\0' ? q.text_search : NULL;
    if (blocked != NULL && blocked[0] != '\0' && strcmp(blocked, "true") != 0 &&
        strcmp(blocked, "false") != 0) {
        json_decref(data);
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter 'blocked' must be true or false");
        return;
    }
    q.is_blocked = blocked != NULL && strcmp(blocked, "true") == 0;
    if (gw_store_api_pending_page(rq->st, &q, &total, pending_append, data) != 0) {
        json_decref(data);
        web_reply_db_error(rs);
        return;
    }
    web_reply_page(rs, data, total, &pg);
}

static int pending_copy(void *arg, const struct gw_api_pending *p)
{
    struct gw_api_pending *out = arg;
    char *id = strdup(p->identifier), *kind = strdup(p->kind);
    char *sum = p->summary != NULL ? strdup(p->summary) : NULL;

    if (id == NULL || kind == NULL || (p->summary != NULL && sum == NULL)) {
        free(id);
        free(kind);
        free(sum);
        return -ENOMEM;
    }
    *out = *p;
    out->identifier = id;
    out->kind = kind;
    out->summary = sum;
    out->peer = NULL;
    return 0;
}

static void pending_fini(struct gw_api_pending *p)
{
    free((char *)(uintptr_t)p->identifier);
    free((char *)(uintptr_t)p->kind);
    free((char *)(uintptr_t)p->summary);
}

/*
 * GET /api/nbgate/pendingDevices/{id}/events: an entry keeps only its last attempt, shown as one
 * AUTH_FAILED event (specs/rest-api.md 9.6) with the address, the resource and the count.
 */
static int pending_event(void *arg, const struct gw_api_pending *p)
{
    json_t *sum = p->summary != NULL ? json_loads(p->summary, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(sum, "type"));
    bool is_efento = strncmp(p->kind, "EFENTO", 6) == 0;
    char resource[80], summary[96];
    json_t *o;

    (void)snprintf(resource, sizeof(resource), "%s%s", is_efento ? "efento/" : "api/v1/***/",
                   msg != NULL ? msg : "");
    (void)snprintf(summary, sizeof(summary), "%lld attempts, the last one refused",
                   (long long)p->attempts);
    o = json_pack("{s:I, s:I, s:s, s:s, s:n, s:n, s:o, s:n, s:n, s:s, s:n, s:s, s:n, s:o}", "id",
                  (json_int_t)p->id, "ts", (json_int_t)p->last_seen_ms, "type", "AUTH_FAILED",
                  "resource", resource, "coapType", "messageId", "remoteAddress",
                  p->peer != NULL ? json_string(p->peer) : json_null(), "secure", "payloadSize",
                  "responseCode", "4.01", "responsePayloadSize", "summary", summary, "error",
                  "details", sum != NULL ? sum : json_null());
    return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : -ENOMEM;
}

void web_hnd_pending_events(struct web_req *rq, struct web_resp *rs)
{
    static const char *const sorts[] = { "ts" };
    json_t *data = json_array();
    struct web_page pg;
    int64_t id = 0;
    int rc;

    if (data == NULL || web_page_of(rq, rs, sorts, 1, &pg) != 0 ||
        pending_param(rq, rs, &id) != 0) {
        json_decref(data);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    rc = pg.page == 0 ? gw_store_api_pending_get(rq->st, id, pending_event, data) : 0;
    if (rc == -ENOENT) {
        json_decref(data);
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
    } else if (rc != 0) {
        json_decref(data);
        web_reply_db_error(rs);
    } else {
        web_reply_page(rs, data, 1, &pg);
    }
}

void web_hnd_pending_delete(struct web_req *rq, struct web_resp *rs)
{
    int64_t id = 0;
    int rc;

    if (pending_param(rq, rs, &id) != 0) {
        return;
    }
    rc = gw_store_api_pending_delete(rq->st, id);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        rs->status = 200;
    }
}

/* Keeps the entry with blocked = 1: the CoAP side answers its attempts without recording them. */
static void pending_block(struct web_req *rq, struct web_resp *rs)
{
    int64_t id = 0;
    int rc;

    if (pending_param(rq, rs, &id) != 0) {
        return;
    }
    rc = gw_store_api_pending_block(rq->st, id);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin pending blocked id=%lld user=\"%s\"", (long long)id, rq->jwt.sub);
        rs->status = 200;
    }
}

void web_hnd_pending_reject(struct web_req *rq, struct web_resp *rs)
{
    json_t *b = rq->body_len > 0 ? json_loadb(rq->body, rq->body_len, 0, NULL) : NULL;
    json_t *block = json_object_get(b, "block");

    if (rq->body_len > 0 && !json_is_object(b)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid request body");
    } else if (block != NULL && !json_is_boolean(block)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "block must be true or false");
    } else if (json_is_true(block)) {
        pending_block(rq, rs);
    } else {
        web_hnd_pending_delete(rq, rs);
    }
    json_decref(b);
}

/* The approve body's profile: by id, as a name for the store (NULL: the store chooses). */
static int approve_profile(struct web_req *rq, struct web_resp *rs, json_t *b, char *name,
                           size_t len)
{
    json_t *pid = json_object_get(b, "deviceProfileId");
    const char *uuid = json_string_value(json_object_get(pid, "id"));

    name[0] = '\0';
    if (pid == NULL || json_is_null(pid)) {
        return 0;
    }
    if (uuid == NULL || !web_uuid_ok(uuid)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s", uuid ? uuid : "");
        return -EINVAL;
    }
    if (web_profile_name(rq, uuid, name, len) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device profile with id [%s] is not found", uuid);
        return -ENOENT;
    }
    return 0;
}

/* Approves an Efento entry with the Efento rules; name_out gets the device's name. */
static int approve_efento(struct web_req *rq, struct web_resp *rs, const struct gw_api_pending *p,
                          const char *name, const char *profile, char *name_out, size_t len)
{
    char err[300];
    int rc = gw_store_efento_pending_approve(rq->st, p->identifier, name,
                                             profile[0] != '\0' ? profile : NULL, rq->now_ms,
                                             name_out, len, err, sizeof(err));

    if (rc == -EEXIST) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s",
                  err[0] != '\0' ? err : "Device with such name already exists!");
    } else if (rc == -EINVAL || rc == -ENOENT) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc;
}

/*
 * Approves a COAP_TOKEN or X509 entry: an ordinary device (a profile of CoAP device type DEFAULT)
 * with the entry's credential, created and the entry removed in one transaction.
 */
static int approve_credential(struct web_req *rq, struct web_resp *rs,
                              const struct gw_api_pending *p, const char *name,
                              const char *profile_uuid, const char *label,
                              char dev_name[GW_STORE_NAME_MAX])
{
    struct gw_store_pending_approve_in in = { p->id, name, label, profile_uuid, NULL };
    char uuid[GW_STORE_UUID_LEN], err[300];
    json_t *sum = p->summary != NULL ? json_loads(p->summary, 0, NULL) : NULL;
    const char *pem = json_string_value(json_object_get(sum, "certificate"));
    struct gw_x509_cert cert;
    char *body = NULL;
    int rc = 0;

    memset(&cert, 0, sizeof(cert));
    if (strcmp(p->kind, "X509") == 0) {
        rc = pem != NULL ? gw_x509_parse(pem, strlen(pem), &cert, err, sizeof(err)) : -EINVAL;
        body = rc == 0 ? gw_x509_body_base64(&cert) : NULL;
        if (rc == 0 && (body == NULL || strcmp(cert.fingerprint, p->identifier) != 0)) {
            rc = body == NULL ? -ENOMEM : -EINVAL;
        }
        if (rc != 0) {
            web_error(rs, 400, WEB_E_BAD_PARAMS,
                      "The pending certificate is missing or unusable: register the device"
                      " with POST /api/device-with-credentials");
        }
        in.x509_body = body;
    }
    if (rc == 0) {
        rc = gw_store_pending_approve(rq->st, &in, rq->now_ms, uuid, err, sizeof(err));
        if (rc == -EINVAL || rc == -ENOENT || rc == -EEXIST) {
            web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
        } else if (rc != 0) {
            web_reply_db_error(rs);
        }
    }
    (void)snprintf(dev_name, GW_STORE_NAME_MAX, "%s", name != NULL ? name : "");
    free(body);
    gw_x509_fini(&cert);
    json_decref(sum);
    return rc;
}

static void approve(struct web_req *rq, struct web_resp *rs, const struct gw_api_pending *p,
                    json_t *b)
{
    const char *name = json_string_value(json_object_get(b, "name"));
    const char *label = json_string_value(json_object_get(b, "label"));
    const char *profile_uuid =
        json_string_value(json_object_get(json_object_get(b, "deviceProfileId"), "id"));
    char profile[GW_STORE_NAME_MAX], dev_name[GW_STORE_NAME_MAX];
    int rc;

    if (approve_profile(rq, rs, b, profile, sizeof(profile)) != 0) {
        return;
    }
    profile_uuid = profile[0] != '\0' ? profile_uuid : NULL;
    if (strncmp(p->kind, "EFENTO", 6) == 0) {
        rc = approve_efento(rq, rs, p, name, profile, dev_name, sizeof(dev_name));
        if (rc == 0 && label != NULL) {
            rc = gw_store_api_device_label(rq->st, dev_name, label);
        }
    } else {
        rc = approve_credential(rq, rs, p, name, profile_uuid, label, dev_name);
    }
    if (rc != 0) {
        if (rs->status == 0) {
            web_reply_db_error(rs);
        }
        return;
    }
    gw_log_info("admin pending approved dev=\"%s\" user=\"%s\"", dev_name, rq->jwt.sub);
    web_reply_device(rq, rs, NULL, dev_name);
}

void web_hnd_pending_approve(struct web_req *rq, struct web_resp *rs)
{
    struct gw_api_pending p;
    json_t *b = json_loadb(rq->body != NULL ? rq->body : "{}", rq->body_len > 0 ? rq->body_len : 2,
                           0, NULL);
    int64_t id = 0;
    int rc;

    memset(&p, 0, sizeof(p));
    if (!json_is_object(b)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid request body");
    } else if (pending_param(rq, rs, &id) == 0) {
        rc = gw_store_api_pending_get(rq->st, id, pending_copy, &p);
        if (rc == -ENOENT) {
            web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
        } else if (rc != 0) {
            web_reply_db_error(rs);
        } else {
            approve(rq, rs, &p, b);
        }
    }
    pending_fini(&p);
    json_decref(b);
}

/* ---- events ------------------------------------------------------------------------------ */

/* "state=SENT, id=12": a compact line for an event whose body has no summary of its own. */
static json_t *summary_of(const json_t *details)
{
    char line[160] = "";
    const char *key;
    json_t *v;
    size_t len;

    if (!json_is_object(details)) {
        return json_null();
    }
    json_object_foreach((json_t *)details, key, v)
    {
        char *text = json_is_string(v) ? NULL : json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        len = strlen(line);
        (void)snprintf(line + len, sizeof(line) - len, "%s%s=%s", len > 0 ? ", " : "", key,
                       json_is_string(v) ? json_string_value(v)
                       : text != NULL    ? text
                                         : "");
        free(text);
    }
    return json_string(line);
}

/*
 * One event as specs/rest-api.md 9.6 shows it: the members an UPLINK body carries (resource,
 * codes, sizes, summary, error) at the top; other events keep their body in details, with a
 * one-line summary made from it.
 */
static int event_append(void *arg, const struct gw_api_event *e)
{
    static const char *const top[] = {
        "resource",    "coapType",     "messageId",           "remoteAddress", "secure",
        "payloadSize", "responseCode", "responsePayloadSize", "summary",       "error"
    };
    json_t *details = e->body != NULL ? json_loads(e->body, JSON_DECODE_ANY, NULL) : NULL;
    bool is_uplink = strcmp(e->type, "UPLINK") == 0;
    json_t *o = json_pack("{s:I, s:I, s:s}", "id", (json_int_t)e->id, "ts", (json_int_t)e->ts_ms,
                          "type", e->type);
    size_t i;
    int rc = o != NULL ? 0 : -ENOMEM;

    for (i = 0; rc == 0 && i < sizeof(top) / sizeof(top[0]); i++) {
        json_t *v = json_is_object(details) ? json_object_get(details, top[i]) : NULL;
        if (v == NULL && !is_uplink && strcmp(top[i], "summary") == 0) {
            rc = json_object_set_new(o, top[i], summary_of(details));
        } else {
            rc = json_object_set(o, top[i], v != NULL ? v : json_null());
        }
    }
    if (rc == 0) {
        rc = json_object_set_new(o, "details",
                                 !is_uplink && details != NULL ? details : json_null());
        details = is_uplink ? details : NULL;
    }
    json_decref(details);
    if (rc != 0) {
        json_decref(o);
        return -ENOMEM;
    }
    return json_array_append_new(arg, o) == 0 ? 0 : -ENOMEM;
}

void web_hnd_device_events(struct web_req *rq, struct web_resp *rs)
{
    static const char *const sorts[] = { "ts", "createdTime" };
    json_t *data = json_array();
    struct gw_api_event_query q;
    struct web_page pg;
    bool has = false;
    int64_t total = 0;

    memset(&q, 0, sizeof(q));
    q.end_ms = INT64_MAX;
    if (data == NULL || web_param_device(rq, rs, 0, &q.device_id) != 0 ||
        web_page_of(rq, rs, sorts, 2, &pg) != 0 ||
        web_query_int(rq, rs, "startTime", &q.start_ms, &has) != 0 ||
        web_query_int(rq, rs, "endTime", &q.end_ms, &has) != 0) {
        json_decref(data);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    q.page_size = pg.page_size;
    q.page = pg.page;
    q.is_asc = pg.sort >= 0 && !pg.is_desc;
    q.type = web_query(rq, "type");
    q.type = q.type != NULL && q.type[0] != '\0' ? q.type : NULL;
    if (gw_store_api_event_page(rq->st, &q, &total, event_append, data) != 0) {
        json_decref(data);
        web_reply_db_error(rs);
        return;
    }
    web_reply_page(rs, data, total, &pg);
}
