/* SPDX-License-Identifier: MIT */
/*
 * web_tswrite.c - telemetry saves and the deletes of telemetry and attributes over the admin
 * API (specs/rest-api.md 6.6 and 6.8). Attribute saves are in web_telemetry.c.
 *
 * A telemetry save is typed by the Default-JSON adaptor (ThingsBoard's rules, profile.h) after
 * web_json_ts_check() has refused what ThingsBoard refuses (null values, blank keys, no data);
 * it is stored without counting as device activity. Deleting SHARED_SCOPE attributes goes
 * through gw_store_shared_update(), which queues a notification listing the deleted keys, and
 * wakes the loop; the other scopes are deleted directly. Every answer is 200 with an empty body.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

#define SHARED_EXPIRY_MS   86400000LL /* as the attribute saves */
#define DEFAULT_MAX_QUEUED 100

/* A boolean query parameter ("true"/"false", any case); absent gives def. */
static int query_bool(struct web_req *rq, struct web_resp *rs, const char *name, bool def,
                      bool *out)
{
    const char *v = web_query(rq, name);

    *out = def;
    if (v == NULL || v[0] == '\0') {
        return 0;
    }
    if (strcasecmp(v, "true") != 0 && strcasecmp(v, "false") != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Failed to convert value of type 'java.lang.String' to required type "
                  "'boolean'; Invalid boolean value [%.16s]",
                  v);
        return -EINVAL;
    }
    *out = strcasecmp(v, "true") == 0;
    return 0;
}

void web_hnd_ts_save(struct web_req *rq, struct web_resp *rs)
{
    const struct web_server_opts *opt = &rq->srv->o;
    struct profile_limits lim = { (size_t)opt->max_keys_per_message,
                                  (size_t)opt->json_max_string_value_length,
                                  opt->json_type_cast_enabled };
    struct profile_batch b = { 0 };
    const char *body = rq->body != NULL ? rq->body : "";
    char err[300];
    int64_t id = 0;
    int rc;

    if (web_entity_device(rq, rs, rq->params[0], rq->params[1], &id) != 0) {
        return;
    }
    if (web_json_ts_check(body, rq->body_len, err, sizeof(err)) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
        return;
    }
    rc = profile_batch_init(&b, lim.max_keys);
    if (rc == 0) {
        rc = profile_json_telemetry((const uint8_t *)body, rq->body_len, rq->now_ms, &lim, &b, err,
                                    sizeof(err));
    }
    if (rc == -EBADMSG) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Unable to parse time series payload. Invalid JSON body: %s", err);
    } else if (rc == 0 && b.n == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "No time series data found in request body!");
    } else if (rc == 0 && gw_store_api_ts_save(rq->st, id, &b) != 0) {
        web_reply_db_error(rs);
    } else if (rc != 0) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
    } else {
        rs->status = 200;
    }
    profile_batch_fini(&b);
}

/* The keys of a delete; none answers ThingsBoard's 400 "Empty keys: []". */
static struct web_keys *delete_keys(struct web_req *rq, struct web_resp *rs)
{
    struct web_keys *k = malloc(sizeof(*k));

    if (k == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        return NULL;
    }
    if (web_keys_of(rq, rs, k) != 0) {
        free(k);
        return NULL;
    }
    if (k->n == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Empty keys: []");
        free(k);
        return NULL;
    }
    return k;
}

static void attr_delete(struct web_req *rq, struct web_resp *rs, const char *type, const char *uuid,
                        const char *scope_name)
{
    const struct web_server_opts *opt = &rq->srv->o;
    int64_t max = opt->max_queued_downlinks > 0 ? opt->max_queued_downlinks : DEFAULT_MAX_QUEUED;
    int64_t expiry = opt->shared_attr_expiry_ms > 0 ? opt->shared_attr_expiry_ms : SHARED_EXPIRY_MS;
    int scope = web_scope_of(scope_name);
    struct web_keys *k = NULL;
    int64_t id = 0;
    int rc;

    if (web_entity_device(rq, rs, type, uuid, &id) != 0) {
        return;
    }
    if (scope == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid scope: %.40s", scope_name);
        return;
    }
    k = delete_keys(rq, rs);
    if (k == NULL) {
        return;
    }
    if (scope == GW_SCOPE_SHARED) {
        rc = gw_store_shared_update(rq->st, id, NULL, k->keys, k->n, rq->now_ms,
                                    rq->now_ms + expiry, max);
    } else {
        rc = gw_store_api_attr_delete(rq->st, id, (enum gw_attr_scope)scope, k->keys, k->n);
    }
    if (rc == -ENOSPC) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Too many downlinks are waiting for this device");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        if (scope == GW_SCOPE_SHARED) {
            web_wake_loop(rq->srv);
        }
        rs->status = 200;
    }
    free(k);
}

void web_hnd_attr_delete(struct web_req *rq, struct web_resp *rs)
{
    attr_delete(rq, rs, rq->params[0], rq->params[1], rq->params[2]);
}

void web_hnd_attr_delete_old(struct web_req *rq, struct web_resp *rs)
{
    attr_delete(rq, rs, "DEVICE", rq->params[0], rq->params[1]);
}

/* The range and flags of a time-series delete. */
static int ts_delete_opts(struct web_req *rq, struct web_resp *rs, struct gw_api_ts_delete *d)
{
    bool is_all = false, has_start = false, has_end = false;

    memset(d, 0, sizeof(*d));
    if (query_bool(rq, rs, "deleteAllDataForKeys", false, &is_all) != 0 ||
        query_bool(rq, rs, "deleteLatest", true, &d->is_delete_latest) != 0 ||
        query_bool(rq, rs, "rewriteLatestIfDeleted", false, &d->is_rewrite_latest) != 0 ||
        web_query_int(rq, rs, "startTs", &d->start_ms, &has_start) != 0 ||
        web_query_int(rq, rs, "endTs", &d->end_ms, &has_end) != 0) {
        return -EINVAL;
    }
    if (is_all) {
        d->start_ms = 0;
        d->end_ms = rq->now_ms;
    } else if (!has_start || !has_end) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "When deleteAllDataForKeys is false, start and end timestamp values shouldn't "
                  "be empty");
        return -EINVAL;
    }
    return 0;
}

void web_hnd_ts_delete(struct web_req *rq, struct web_resp *rs)
{
    struct gw_api_ts_delete d;
    struct web_keys *k = NULL;
    int64_t id = 0;

    if (web_entity_device(rq, rs, rq->params[0], rq->params[1], &id) != 0) {
        return;
    }
    k = delete_keys(rq, rs);
    if (k == NULL) {
        return;
    }
    if (ts_delete_opts(rq, rs, &d) != 0) {
        free(k);
        return;
    }
    if (gw_store_api_ts_delete(rq->st, id, k->keys, k->n, &d) != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin telemetry deleted dev=%lld keys=%zu user=\"%s\"", (long long)id, k->n,
                    rq->jwt.sub);
        rs->status = 200;
    }
    free(k);
}
