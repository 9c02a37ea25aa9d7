/* SPDX-License-Identifier: MIT */
/*
 * web_efento.c - the admin API's Efento settings queue (specs/rest-api.md 9.4):
 *
 *   POST   /api/nbgate/device/{deviceId}/efentoConfig            queue settings, 200: the entry
 *   GET    /api/nbgate/device/{deviceId}/efentoConfig            PageData of entries
 *   DELETE /api/nbgate/device/{deviceId}/efentoConfig/{entryId}  cancel a QUEUED entry
 *
 * Settings are checked with the code that builds the downlink (gw_efento_settings_apply, table
 * 6.6 of specs/efento.md) before anything is queued, as `nbgate efento set` does; a refusal is a
 * 400 naming the field. Only devices whose profile has the CoAP device type EFENTO have a queue
 * (400 otherwise). The loop is woken after a queue so that it sees the entry at once.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efento/efento.h"
#include "gateway/gw_efento.h"
#include "gateway/gw_log.h"
#include "web/web_internal.h"

/* Answers 400 when the device is not an Efento device. Returns: 0 when it is. */
static int efento_device(struct web_req *rq, struct web_resp *rs, int64_t *id)
{
    int rc = web_param_device(rq, rs, 0, id);

    if (rc != 0) {
        return rc;
    }
    rc = gw_store_api_efento_check(rq->st, *id);
    if (rc == -EINVAL) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Device [%s] is not an Efento device (its profile's CoAP device type is not"
                  " EFENTO)",
                  rq->params[0]);
    } else if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device with id [%s] is not found", rq->params[0]);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc;
}

/* Copies member name of the response JSON, or null. */
static json_t *response_member(const char *response, const char *name)
{
    json_t *r = response != NULL ? json_loads(response, 0, NULL) : NULL;
    json_t *v = json_incref(json_object_get(r, name));

    json_decref(r);
    return v != NULL ? v : json_null();
}

static json_t *ms_or_null(int64_t ms)
{
    return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

static int entry_append(void *arg, const struct gw_api_efento_entry *e)
{
    json_t *settings = e->settings != NULL ? json_loads(e->settings, 0, NULL) : NULL;
    json_t *o = json_pack(
        "{s:s?, s:o, s:I, s:I, s:s, s:o, s:I, s:o, s:o, s:o, s:o}", "id", e->uuid, "deviceId",
        web_json_id("DEVICE", e->device_uuid != NULL ? e->device_uuid : ""), "createdTime",
        (json_int_t)e->created_ms, "expirationTime", (json_int_t)e->expiration_ms, "state",
        web_dl_state_name(e->state), "settings", settings != NULL ? settings : json_object(),
        "sendCount", (json_int_t)e->send_count, "sentTs", ms_or_null(e->sent_ms), "doneTs",
        ms_or_null(e->done_ms), "configurationErrors",
        response_member(e->response, "configurationErrors"), "error",
        response_member(e->response, "error"));

    return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : -ENOMEM;
}

/* Checks settings against table 6.6 and the downlink's room. Returns: 0, or != 0 with err. */
static int settings_check(const char *json, char *err, size_t err_len)
{
    struct efento_downlink *dl = NULL;
    size_t size;
    int rc = efento_downlink_new(&dl);

    if (rc == 0) {
        rc = gw_efento_settings_apply(dl, json, strlen(json), err, err_len);
    }
    size = rc == 0 ? efento_downlink_size(dl) : 0;
    if (rc == 0 && size + GW_EFENTO_AUTO_BYTES > GW_EFENTO_DOWNLINK_MAX) {
        (void)snprintf(err, err_len,
                       "settings need %zu bytes, a downlink has room for %d: queue them in parts",
                       size, GW_EFENTO_DOWNLINK_MAX - GW_EFENTO_AUTO_BYTES);
        rc = -ERANGE;
    }
    if (rc != 0 && err[0] == '\0') {
        (void)snprintf(err, err_len, "Out of memory");
    }
    efento_downlink_free(dl);
    return rc;
}

/* Reads {"settings": {...}, "expirationTime": null|ms}; answers 400. Ownership: *json heap. */
static int body_parse(struct web_req *rq, struct web_resp *rs, char **json, int64_t *exp_ms)
{
    json_t *root = json_loadb(rq->body != NULL ? rq->body : "", rq->body_len, 0, NULL);
    json_t *set = json_object_get(root, "settings");
    json_t *exp = json_object_get(root, "expirationTime");
    char err[256] = "";
    int rc = -EINVAL;

    *json = NULL;
    *exp_ms = 0;
    if (!json_is_object(root)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid request body");
    } else if (!json_is_object(set) || json_object_size(set) == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "settings must be a non-empty object");
    } else if (exp != NULL && !json_is_null(exp) &&
               (!json_is_integer(exp) || json_integer_value(exp) <= rq->now_ms)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "expirationTime must be null or a future time (ms)");
    } else if ((*json = json_dumps(set, JSON_COMPACT)) == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
    } else if (settings_check(*json, err, sizeof(err)) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
    } else {
        *exp_ms = json_is_integer(exp) ? (int64_t)json_integer_value(exp) : 0;
        rc = 0;
    }
    json_decref(root);
    return rc;
}

void web_hnd_efento_queue(struct web_req *rq, struct web_resp *rs)
{
    json_t *out = json_array();
    char *json = NULL, why[256] = "";
    int64_t device_id = 0, id = 0, exp_ms = 0;
    int rc;

    if (out == NULL || efento_device(rq, rs, &device_id) != 0 ||
        body_parse(rq, rs, &json, &exp_ms) != 0) {
        goto out;
    }
    rc = gw_store_efento_queue(rq->st, device_id, json, rq->now_ms, rq->srv->o.max_queued_downlinks,
                               &id, why, sizeof(why));
    if (rc == 0 && exp_ms > 0) {
        rc = gw_store_api_efento_expiry(rq->st, id, exp_ms);
    }
    rc = rc != 0 ? rc : gw_store_api_efento_get(rq->st, id, entry_append, out);
    if (rc == -EACCES) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", why);
    } else if (rc == -ENOSPC) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device has %lld unfinished downlinks already",
                  (long long)rq->srv->o.max_queued_downlinks);
    } else if (rc != 0 || json_array_size(out) != 1) {
        web_reply_db_error(rs);
    } else {
        web_wake_loop(rq->srv);
        gw_log_info("admin efento settings queued device=%s id=%lld user=\"%s\"", rq->params[0],
                    (long long)id, rq->jwt.sub);
        web_reply_json(rs, json_incref(json_array_get(out, 0)));
    }
out:
    if (out == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
    }
    json_decref(out);
    free(json);
}

void web_hnd_efento_page(struct web_req *rq, struct web_resp *rs)
{
    static const char *const sorts[] = { "createdTime" };
    const char *state = web_query(rq, "state");
    json_t *data = json_array();
    struct gw_api_efento_query q;
    struct web_page pg;
    int64_t total = 0;

    memset(&q, 0, sizeof(q));
    if (data == NULL || efento_device(rq, rs, &q.device_id) != 0 ||
        web_page_of(rq, rs, sorts, 1, &pg) != 0) {
        goto fail;
    }
    if (state != NULL && state[0] != '\0') {
        q.state = (enum gw_dl_state)web_dl_state_parse(state);
        if (q.state == 0) {
            web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid state: %s", state);
            goto fail;
        }
    }
    q.page_size = pg.page_size;
    q.page = pg.page;
    q.is_desc = pg.sort < 0 || pg.is_desc;
    if (gw_store_api_efento_page(rq->st, &q, &total, entry_append, data) != 0) {
        web_reply_db_error(rs);
        goto fail;
    }
    web_reply_page(rs, data, total, &pg);
    return;
fail:
    json_decref(data);
    if (rs->status == 0) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
    }
}

void web_hnd_efento_cancel(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid;
    int64_t device_id = 0;
    int rc;

    if (efento_device(rq, rs, &device_id) != 0) {
        return;
    }
    uuid = web_param_uuid(rq, rs, 1);
    if (uuid == NULL) {
        return;
    }
    rc = gw_store_api_efento_cancel(rq->st, device_id, uuid, rq->now_ms);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Efento settings entry with id [%s] is not found",
                  uuid);
    } else if (rc == -EBUSY) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Only a QUEUED entry can be cancelled");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin efento settings cancelled device=%s entry=%s user=\"%s\"", rq->params[0],
                    uuid, rq->jwt.sub);
        rs->status = 200;
    }
}
