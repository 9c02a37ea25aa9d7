/* SPDX-License-Identifier: MIT */
/*
 * web_telemetry.c - telemetry and attributes of a device over the admin API
 * (specs/rest-api.md section 6, prefix /api/plugins/telemetry/{entityType}/{entityId}).
 *
 * Reads: keys, latest values, history over [startTs, endTs) with limit and order or aggregated
 * in buckets (MIN, MAX, AVG, SUM, COUNT: ThingsBoard's rules, each bucket at its midpoint),
 * attributes of one scope or of all three (client, server, shared), plus the computed server
 * attributes
 * `active` and `lastActivityTime` (6.7). Answers with typed values are written by hand (web_buf)
 * so that doubles keep their shortest form; with useStrictDataTypes=false every telemetry value
 * is a string, as ThingsBoard answers. Writes: SERVER_SCOPE attributes are stored; SHARED_SCOPE
 * attributes are stored and queued as one downlink, and the loop is woken to deliver it. Bodies
 * are typed by the Default-JSON adaptor (profile_json_attributes), ThingsBoard's rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

#define DEFAULT_LIMIT      100
#define SHARED_EXPIRY_MS   86400000LL /* as `nbgate attributes set` */
#define DEFAULT_MAX_QUEUED 100
#define MAX_INTERVALS      700 /* DATABASE_TS_MAX_INTERVALS */

static int key_index(const struct web_keys *k, const char *key)
{
    size_t i;

    for (i = 0; i < k->n; i++) {
        if (strcmp(k->keys[i], key) == 0) {
            return (int)i;
        }
    }
    return -1;
}

static void add_key(void *arg, const char *value)
{
    struct web_keys *k = arg;
    size_t len = strlen(value) + 1;

    if (value[0] == '\0' || key_index(k, value) >= 0) {
        return;
    }
    if (k->n == WEB_MAX_KEYS || k->used + len > sizeof(k->buf)) {
        k->is_overflow = true;
        return;
    }
    memcpy(k->buf + k->used, value, len);
    k->keys[k->n++] = k->buf + k->used;
    k->used += len;
}

int web_keys_of(struct web_req *rq, struct web_resp *rs, struct web_keys *k)
{
    const char *csv = web_query(rq, "keys");
    const char *parts[WEB_MAX_KEYS];
    char tmp[WEB_KEYS_MAX];
    size_t n = 0, i;

    memset(k, 0, sizeof(*k));
    web_query_each(rq, "key", add_key, k);
    if (k->n == 0 && !k->is_overflow && csv != NULL) {
        if (web_keys_parse(csv, tmp, sizeof(tmp), parts, WEB_MAX_KEYS, &n) != 0) {
            k->is_overflow = true;
        }
        for (i = 0; i < n; i++) {
            add_key(k, parts[i]);
        }
    }
    if (k->is_overflow) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "At most %d keys (%d bytes) per request", WEB_MAX_KEYS,
                  WEB_KEYS_MAX);
        return -EINVAL;
    }
    return 0;
}

int web_entity_device(struct web_req *rq, struct web_resp *rs, const char *type, const char *uuid,
                      int64_t *id)
{
    int rc;

    if (strcmp(type, "DEVICE") != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Entity type %.40s is not supported", type);
        return -EINVAL;
    }
    if (!web_uuid_ok(uuid)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s", uuid);
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

int web_scope_of(const char *s)
{
    if (strcmp(s, "CLIENT_SCOPE") == 0) {
        return GW_SCOPE_CLIENT;
    }
    if (strcmp(s, "SHARED_SCOPE") == 0) {
        return GW_SCOPE_SHARED;
    }
    if (strcmp(s, "SERVER_SCOPE") == 0) {
        return GW_SCOPE_SERVER;
    }
    return 0;
}

static bool is_strict(struct web_req *rq)
{
    const char *v = web_query(rq, "useStrictDataTypes");

    return v != NULL && strcasecmp(v, "true") == 0;
}

/* ---- keys -------------------------------------------------------------------------------- */

static int key_to_array(void *arg, const char *key, int64_t ts_ms, const struct profile_value *v,
                        int scope)
{
    json_t *a = arg;

    (void)ts_ms;
    (void)v;
    (void)scope;
    return json_array_append_new(a, json_string(key)) == 0 ? 0 : -ENOMEM;
}

void web_hnd_ts_keys(struct web_req *rq, struct web_resp *rs)
{
    json_t *a = json_array();
    int64_t id = 0;

    if (a == NULL || web_entity_device(rq, rs, rq->params[0], rq->params[1], &id) != 0) {
        json_decref(a);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    if (gw_store_telemetry_walk(rq->st, id, NULL, 0, false, 0, key_to_array, a) != 0) {
        json_decref(a);
        web_reply_db_error(rs);
        return;
    }
    web_reply_json(rs, a);
}

/* Activity of the device, for the computed server attributes. */
struct activity {
    int64_t last_ms;
    bool is_active;
};

static int activity_row(void *arg, const struct gw_api_device *d)
{
    struct activity *a = arg;

    a->last_ms = d->last_activity_ms;
    a->is_active = d->is_active;
    return 0;
}

static int activity_of(struct web_req *rq, struct activity *a)
{
    memset(a, 0, sizeof(*a));
    return gw_store_api_device_get(rq->st, rq->params[1], NULL, rq->now_ms,
                                   rq->srv->o.default_inactivity_timeout_s * 1000, activity_row, a);
}

/* The scopes to walk: one, or client, server, shared (ThingsBoard's merged order). */
static int scopes_of(struct web_req *rq, struct web_resp *rs, size_t param, int *scopes, size_t *n)
{
    int scope;

    if (rq->n_params <= param) {
        scopes[0] = GW_SCOPE_CLIENT;
        scopes[1] = GW_SCOPE_SERVER;
        scopes[2] = GW_SCOPE_SHARED;
        *n = 3;
        return 0;
    }
    scope = web_scope_of(rq->params[param]);
    if (scope == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid scope: %.40s", rq->params[param]);
        return -EINVAL;
    }
    scopes[0] = scope;
    *n = 1;
    return 0;
}

void web_hnd_attr_keys(struct web_req *rq, struct web_resp *rs)
{
    json_t *a = NULL;
    struct activity act;
    int scopes[3];
    size_t n = 0, i;
    int64_t id = 0;
    int rc;

    if (web_entity_device(rq, rs, rq->params[0], rq->params[1], &id) != 0 ||
        scopes_of(rq, rs, 2, scopes, &n) != 0) {
        return;
    }
    a = json_array();
    rc = a != NULL ? activity_of(rq, &act) : -ENOMEM;
    for (i = 0; rc == 0 && i < n; i++) {
        rc = gw_store_attributes_walk(rq->st, id, scopes[i], key_to_array, a);
        if (rc == 0 && scopes[i] == GW_SCOPE_SERVER && act.last_ms > 0) {
            rc = json_array_append_new(a, json_string("active")) == 0 &&
                         json_array_append_new(a, json_string("lastActivityTime")) == 0
                     ? 0
                     : -ENOMEM;
        }
    }
    if (rc != 0) {
        json_decref(a);
        web_reply_db_error(rs);
        return;
    }
    web_reply_json(rs, a);
}

/* ---- time series values ------------------------------------------------------------------ */

enum agg_kind { AGG_NONE = 0, AGG_MIN, AGG_MAX, AGG_AVG, AGG_SUM, AGG_COUNT };

/* How a history read is made (specs/rest-api.md 6.3). */
struct history_opts {
    int64_t limit; /* raw reads: values per key */
    bool is_asc;   /* raw reads: orderBy ASC */
    enum agg_kind agg;
    int64_t interval_ms;
};

struct ts_out {
    struct web_buf b;
    struct web_keys *k;
    bool is_strict;
    bool is_first_key; /* no member written yet */
    bool is_first_row; /* no row written yet for the current key */
    enum agg_kind agg; /* aggregated reads: the function and the key */
    const char *key;
};

static void member_start(struct ts_out *o, const char *key)
{
    web_buf_add(&o->b, o->is_first_key ? "" : ",", o->is_first_key ? 0 : 1);
    o->is_first_key = false;
    web_buf_str(&o->b, key, strlen(key));
    web_buf_add(&o->b, ":[", 2);
}

static void ts_point(struct ts_out *o, int64_t ts_ms, const struct profile_value *v)
{
    web_buf_addf(&o->b, "%s{\"ts\":%lld,\"value\":", o->is_first_row ? "" : ",", (long long)ts_ms);
    o->is_first_row = false;
    if (v != NULL) {
        web_buf_value(&o->b, v, o->is_strict);
    } else {
        web_buf_add(&o->b, "null", 4);
    }
    web_buf_add(&o->b, "}", 1);
}

static int latest_row(void *arg, const char *key, int64_t ts_ms, const struct profile_value *v,
                      int scope)
{
    struct ts_out *o = arg;
    int i = key_index(o->k, key);

    (void)scope;
    if (i >= 0) {
        o->k->is_found[i] = true;
    }
    member_start(o, key);
    o->is_first_row = true;
    ts_point(o, ts_ms, v);
    web_buf_add(&o->b, "]", 1);
    return o->b.is_oom ? -ENOMEM : 0;
}

static void reply_latest(struct web_req *rq, struct web_resp *rs, int64_t id, struct web_keys *k)
{
    struct ts_out o = { { 0 }, k, is_strict(rq), true, true, AGG_NONE, NULL };
    size_t i;

    web_buf_add(&o.b, "{", 1);
    if (gw_store_telemetry_walk(rq->st, id, k->n > 0 ? k->keys : NULL, k->n, false, 0, latest_row,
                                &o) != 0) {
        web_buf_fini(&o.b);
        web_reply_db_error(rs);
        return;
    }
    for (i = 0; i < k->n; i++) {
        if (!k->is_found[i]) {
            member_start(&o, k->keys[i]);
            o.is_first_row = true;
            ts_point(&o, rq->now_ms, NULL);
            web_buf_add(&o.b, "]", 1);
        }
    }
    web_buf_add(&o.b, "}", 1);
    web_reply_buf(rs, &o.b);
}

static int history_row(void *arg, const char *key, int64_t ts_ms, const struct profile_value *v,
                       int scope)
{
    struct ts_out *o = arg;

    (void)scope;
    if (o->is_first_row) {
        member_start(o, key);
    }
    ts_point(o, ts_ms, v);
    return o->b.is_oom ? -ENOMEM : 0;
}

int web_query_int(struct web_req *rq, struct web_resp *rs, const char *name, int64_t *out,
                  bool *is_present)
{
    const char *s = web_query(rq, name);
    char *end = NULL;
    long long v;

    *is_present = s != NULL && s[0] != '\0';
    if (!*is_present) {
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0') {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Failed to convert value of type 'java.lang.String' to required type 'long';"
                  " For input string: \"%.32s\"",
                  s);
        return -EINVAL;
    }
    *out = (int64_t)v;
    return 0;
}

/* The aggregation: agg, interval, intervalType and the bucket count rule of 6.3. */
static int agg_opts(struct web_req *rq, struct web_resp *rs, int64_t start, int64_t end,
                    struct history_opts *h)
{
    static const char *const aggs[] = { "NONE", "MIN", "MAX", "AVG", "SUM", "COUNT" };
    const char *agg = web_query(rq, "agg");
    const char *itype = web_query(rq, "intervalType");
    bool has = false;
    int64_t n;

    h->agg = AGG_NONE;
    for (n = 0; agg != NULL && agg[0] != '\0' && n < 6 && strcmp(agg, aggs[n]) != 0; n++) {
    }
    if (n == 6) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Unsupported aggregation '%.16s'", agg);
        return -EINVAL;
    }
    h->agg = agg != NULL && agg[0] != '\0' ? (enum agg_kind)n : AGG_NONE;
    if (itype != NULL && itype[0] != '\0' && strcmp(itype, "MILLISECONDS") != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Interval type %.16s is not supported", itype);
        return -EINVAL;
    }
    h->interval_ms = 0;
    if (web_query_int(rq, rs, "interval", &h->interval_ms, &has) != 0) {
        return -EINVAL;
    }
    if (h->agg != AGG_NONE && h->interval_ms < 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter 'interval' must not be negative");
        return -EINVAL;
    }
    if (h->agg == AGG_NONE || h->interval_ms == 0) {
        h->agg = AGG_NONE;
        return 0;
    }
    n = (end - start) / (h->interval_ms < 1000 ? 1000 : h->interval_ms);
    if (n > MAX_INTERVALS) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Incorrect TsKvQuery. Number of intervals is to high - %lld. Please increase "
                  "'interval' parameter for your query or reduce the time range of the query.",
                  (long long)n);
        return -EINVAL;
    }
    return 0;
}

/* The read options: limit, orderBy, and the aggregation. */
static int history_opts(struct web_req *rq, struct web_resp *rs, int64_t start, int64_t end,
                        struct history_opts *h)
{
    const char *order = web_query(rq, "orderBy");
    int64_t *limit = &h->limit;
    bool *is_asc = &h->is_asc;
    bool has = false;

    *limit = DEFAULT_LIMIT;
    if (web_query_int(rq, rs, "limit", limit, &has) != 0) {
        return -EINVAL;
    }
    if (*limit < 1) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter 'limit' must be at least 1");
        return -EINVAL;
    }
    if (agg_opts(rq, rs, start, end, h) != 0) {
        return -EINVAL;
    }
    *is_asc = order != NULL && strcasecmp(order, "ASC") == 0;
    if (order != NULL && !*is_asc && strcasecmp(order, "DESC") != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Unsupported sort order '%.16s'! Only 'ASC' or "
                  "'DESC' types are allowed.",
                  order);
        return -EINVAL;
    }
    return 0;
}

/* One aggregated bucket as a point at its midpoint (ThingsBoard's rules, 6.3). */
static int agg_row(void *arg, const struct gw_api_ts_bucket *b)
{
    struct ts_out *o = arg;
    struct profile_value v;
    bool is_min = o->agg == AGG_MIN;

    memset(&v, 0, sizeof(v));
    if (o->agg == AGG_COUNT) {
        v.type = PROFILE_VT_LONG;
        v.l = b->count;
    } else if (b->n_numeric > 0 && o->agg == AGG_AVG) {
        v.type = PROFILE_VT_DOUBLE;
        v.d = b->sum_d / (double)b->n_numeric;
    } else if (b->n_numeric > 0 && b->is_all_long) {
        v.type = PROFILE_VT_LONG;
        v.l = o->agg == AGG_SUM ? b->sum_l : is_min ? b->min_l : b->max_l;
    } else if (b->n_numeric > 0) {
        v.type = PROFILE_VT_DOUBLE;
        v.d = o->agg == AGG_SUM ? b->sum_d : is_min ? b->min_d : b->max_d;
    } else if ((o->agg == AGG_MIN || o->agg == AGG_MAX) && b->min_s != NULL) {
        v.type = PROFILE_VT_STRING;
        v.s = (char *)(uintptr_t)(is_min ? b->min_s : b->max_s);
        v.s_len = strlen(v.s);
    } else {
        return 0; /* nothing to aggregate in this bucket */
    }
    if (o->is_first_row) {
        member_start(o, o->key);
    }
    ts_point(o, b->start_ms + (b->end_ms - b->start_ms) / 2, &v);
    return o->b.is_oom ? -ENOMEM : 0;
}

static int history_key(struct web_req *rq, int64_t id, const char *key, int64_t start, int64_t end,
                       const struct history_opts *h, struct ts_out *o)
{
    struct gw_api_ts_agg_query q = { id, key, start, end, h->interval_ms };

    if (h->agg == AGG_NONE) {
        return gw_store_api_ts_history(rq->st, id, key, start, end, h->limit, h->is_asc,
                                       history_row, o);
    }
    o->agg = h->agg;
    o->key = key;
    return gw_store_api_ts_agg(rq->st, &q, agg_row, o);
}

static void reply_history(struct web_req *rq, struct web_resp *rs, int64_t id,
                          const struct web_keys *k, int64_t start, int64_t end)
{
    struct ts_out o = { { 0 }, NULL, is_strict(rq), true, true, AGG_NONE, NULL };
    struct history_opts h;
    size_t i;
    int rc = 0;

    if (history_opts(rq, rs, start, end, &h) != 0) {
        return;
    }
    web_buf_add(&o.b, "{", 1);
    for (i = 0; rc == 0 && i < k->n; i++) {
        o.is_first_row = true;
        rc = history_key(rq, id, k->keys[i], start, end, &h, &o);
        if (!o.is_first_row) {
            web_buf_add(&o.b, "]", 1);
        }
    }
    web_buf_add(&o.b, "}", 1);
    if (rc != 0) {
        web_buf_fini(&o.b);
        web_reply_db_error(rs);
        return;
    }
    web_reply_buf(rs, &o.b);
}

static void ts_values(struct web_req *rq, struct web_resp *rs, bool is_history_path)
{
    struct web_keys *k = malloc(sizeof(*k));
    int64_t id = 0, start = 0, end = 0;
    bool has_start = false, has_end = false;

    if (k == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        return;
    }
    if (web_entity_device(rq, rs, rq->params[0], rq->params[1], &id) != 0 ||
        web_keys_of(rq, rs, k) != 0 || web_query_int(rq, rs, "startTs", &start, &has_start) != 0 ||
        web_query_int(rq, rs, "endTs", &end, &has_end) != 0) {
        free(k);
        return;
    }
    if (is_history_path && (!has_start || !has_end)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Required request parameter '%s' for method parameter type Long is not present",
                  has_start ? "endTs" : "startTs");
    } else if (has_start && has_end) {
        reply_history(rq, rs, id, k, start, end);
    } else {
        reply_latest(rq, rs, id, k);
    }
    free(k);
}

void web_hnd_ts_values(struct web_req *rq, struct web_resp *rs)
{
    ts_values(rq, rs, false);
}

void web_hnd_ts_history(struct web_req *rq, struct web_resp *rs)
{
    ts_values(rq, rs, true);
}

/* ---- attribute values -------------------------------------------------------------------- */

struct attr_out {
    struct web_buf b;
    const struct web_keys *k;
    bool is_first;
};

static void attr_item(struct attr_out *o, const char *key, const struct profile_value *v,
                      int64_t ts_ms)
{
    web_buf_add(&o->b, o->is_first ? "{\"key\":" : ",{\"key\":", o->is_first ? 7 : 8);
    o->is_first = false;
    web_buf_str(&o->b, key, strlen(key));
    web_buf_add(&o->b, ",\"value\":", 9);
    web_buf_value(&o->b, v, true);
    web_buf_addf(&o->b, ",\"lastUpdateTs\":%lld}", (long long)ts_ms);
}

static int attr_row(void *arg, const char *key, int64_t ts_ms, const struct profile_value *v,
                    int scope)
{
    struct attr_out *o = arg;

    (void)scope;
    if (o->k->n == 0 || key_index(o->k, key) >= 0) {
        attr_item(o, key, v, ts_ms);
    }
    return o->b.is_oom ? -ENOMEM : 0;
}

/* The computed server attributes active and lastActivityTime (never stored). */
static void attr_activity(struct attr_out *o, const struct activity *a, int64_t now_ms)
{
    struct profile_value v;

    if (a->last_ms <= 0) {
        return;
    }
    memset(&v, 0, sizeof(v));
    if (o->k->n == 0 || key_index(o->k, "active") >= 0) {
        v.type = PROFILE_VT_BOOLEAN;
        v.b = a->is_active;
        attr_item(o, "active", &v, now_ms);
    }
    if (o->k->n == 0 || key_index(o->k, "lastActivityTime") >= 0) {
        v.type = PROFILE_VT_LONG;
        v.l = a->last_ms;
        attr_item(o, "lastActivityTime", &v, a->last_ms);
    }
}

void web_hnd_attr_values(struct web_req *rq, struct web_resp *rs)
{
    struct web_keys *k = malloc(sizeof(*k));
    struct attr_out o = { { 0 }, k, true };
    struct activity act;
    int scopes[3];
    size_t n = 0, i;
    int64_t id = 0;
    int rc;

    if (k == NULL || web_entity_device(rq, rs, rq->params[0], rq->params[1], &id) != 0 ||
        scopes_of(rq, rs, 2, scopes, &n) != 0 || web_keys_of(rq, rs, k) != 0) {
        free(k);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    web_buf_add(&o.b, "[", 1);
    rc = activity_of(rq, &act);
    for (i = 0; rc == 0 && i < n; i++) {
        rc = gw_store_attributes_walk(rq->st, id, scopes[i], attr_row, &o);
        if (rc == 0 && scopes[i] == GW_SCOPE_SERVER) {
            attr_activity(&o, &act, rq->now_ms);
        }
    }
    web_buf_add(&o.b, "]", 1);
    free(k);
    if (rc != 0) {
        web_buf_fini(&o.b);
        web_reply_db_error(rs);
        return;
    }
    web_reply_buf(rs, &o.b);
}

/* ---- attribute writes -------------------------------------------------------------------- */

/* Checks the body object; drops the computed keys of SERVER_SCOPE. Returns: compact text. */
static char *attr_body(struct web_req *rq, struct web_resp *rs, int scope, bool *is_empty)
{
    json_t *o = json_loadb(rq->body != NULL ? rq->body : "", rq->body_len, 0, NULL);
    const char *key;
    json_t *v;
    char *text = NULL;

    *is_empty = false;
    if (o == NULL) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid JSON");
    } else if (!json_is_object(o)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Request is not a JSON object");
    } else if (json_object_size(o) == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "No attributes data found in request body!");
    } else {
        json_object_foreach(o, key, v)
        {
            if (key[strspn(key, " \t\r\n")] == '\0') {
                web_error(rs, 400, WEB_E_BAD_PARAMS, "Key cannot be blank");
                goto out;
            }
            if (json_is_null(v)) {
                web_error(rs, 400, WEB_E_BAD_PARAMS, "Value of attribute '%.64s' can't be null",
                          key);
                goto out;
            }
            if (scope == GW_SCOPE_SHARED && strcmp(key, "deleted") == 0) {
                web_error(rs, 400, WEB_E_BAD_PARAMS,
                          "Attribute key 'deleted' is reserved in SHARED_SCOPE");
                goto out;
            }
        }
        if (scope == GW_SCOPE_SERVER) {
            (void)json_object_del(o, "active");
            (void)json_object_del(o, "lastActivityTime");
        }
        *is_empty = json_object_size(o) == 0;
        text = json_dumps(o, JSON_COMPACT);
        if (text == NULL) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
    }
out:
    json_decref(o);
    return text;
}

static int attr_store(struct web_req *rq, int64_t id, int scope, const struct profile_batch *b)
{
    const struct web_server_opts *opt = &rq->srv->o;
    int64_t expiry = opt->shared_attr_expiry_ms > 0 ? opt->shared_attr_expiry_ms : SHARED_EXPIRY_MS;
    int64_t max_queued =
        opt->max_queued_downlinks > 0 ? opt->max_queued_downlinks : DEFAULT_MAX_QUEUED;
    int rc;

    if (scope == GW_SCOPE_SERVER) {
        return gw_store_save_attributes(rq->st, id, GW_SCOPE_SERVER, b, rq->now_ms, false);
    }
    rc =
        gw_store_shared_update(rq->st, id, b, NULL, 0, rq->now_ms, rq->now_ms + expiry, max_queued);
    if (rc == 0) {
        web_wake_loop(rq->srv);
    }
    return rc;
}

static void attr_save(struct web_req *rq, struct web_resp *rs, const char *type, const char *uuid,
                      const char *scope_name)
{
    const struct web_server_opts *opt = &rq->srv->o;
    struct profile_limits lim = { (size_t)opt->max_keys_per_message,
                                  (size_t)opt->json_max_string_value_length,
                                  opt->json_type_cast_enabled };
    struct profile_batch b = { 0 };
    int scope = web_scope_of(scope_name);
    bool is_empty = false;
    char *text = NULL;
    char err[256];
    int64_t id = 0;
    int rc;

    if (web_entity_device(rq, rs, type, uuid, &id) != 0) {
        return;
    }
    if (scope != GW_SCOPE_SERVER && scope != GW_SCOPE_SHARED) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid scope: %.40s", scope_name);
        return;
    }
    text = attr_body(rq, rs, scope, &is_empty);
    if (text == NULL || is_empty) {
        rs->status = rs->status == 0 ? 200 : rs->status;
        free(text);
        return;
    }
    rc = profile_batch_init(&b, lim.max_keys);
    if (rc == 0) {
        rc = profile_json_attributes((const uint8_t *)text, strlen(text), &lim, &b, err,
                                     sizeof(err));
    }
    if (rc == -EBADMSG) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
    } else if (rc == 0 && b.n == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "No attributes data found in request body!");
    } else if (rc == 0 && (rc = attr_store(rq, id, scope, &b)) == -ENOSPC) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Too many downlinks are waiting for this device");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        rs->status = 200;
    }
    profile_batch_fini(&b);
    free(text);
}

void web_hnd_attr_save(struct web_req *rq, struct web_resp *rs)
{
    attr_save(rq, rs, rq->params[0], rq->params[1], rq->params[2]);
}

void web_hnd_attr_save_old(struct web_req *rq, struct web_resp *rs)
{
    attr_save(rq, rs, "DEVICE", rq->params[0], rq->params[1]);
}
