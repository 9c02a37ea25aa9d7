/* SPDX-License-Identifier: MIT */
/*
 * web_downlinks.c - a device's whole downlink queue in the admin API (docs/API.md, nbgate's own):
 *
 *   GET    /api/nbgate/device/{deviceId}/downlinks             PageData of entries, every kind
 *   DELETE /api/nbgate/device/{deviceId}/downlinks/{entryId}   cancel a QUEUED entry
 *
 * The page is newest first (sortOrder=ASC, with or without sortProperty=createdTime, gives
 * oldest first) and filters on kind (RPC, ATTRIBUTES, EFENTO_CONFIG) and state. An entry:
 *   {id, deviceId, kind, state, createdTime, expirationTime, sentTime, deliveredTime,
 *    completedTime, retries, maxRetries, body, response, summary}
 * body is parsed JSON: an RPC's request {"id","method","params","oneway"}, an attribute update's
 * key lists {"updated":[..],"deleted":[..]} (values are read when it is sent), or the Efento
 * settings. summary is one line of text for a table cell, cut at SUMMARY_MAX bytes.
 * Cancelling is gw_store_dlq_cancel(): only a never-sent entry goes, any kind.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

#define SUMMARY_MAX 160 /* bytes of an entry's summary, "..." included */

/* Returns: the kind named s (exact, upper case), or 0. */
static int kind_parse(const char *s)
{
    int i;

    for (i = GW_DL_RPC; i <= GW_DL_EFENTO_CONFIG; i++) {
        if (strcmp(s, gw_dl_kind_name((enum gw_dl_kind)i)) == 0) {
            return i;
        }
    }
    return 0;
}

/* A bounded line of text; adding past the cap ends it with "..." on a UTF-8 boundary. */
struct line {
    char s[SUMMARY_MAX + 1];
    size_t len;
    bool is_full;
};

static void line_add(struct line *l, const char *t)
{
    size_t n = strlen(t), room = SUMMARY_MAX - l->len;

    if (l->is_full) {
        return;
    }
    if (n <= room) {
        memcpy(l->s + l->len, t, n);
        l->len += n;
        l->s[l->len] = '\0';
        return;
    }
    n = room >= 3 ? room - 3 : 0;
    while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80) {
        n--; /* never cut a character in two */
    }
    memcpy(l->s + l->len, t, n);
    memcpy(l->s + l->len + n, "...", 3);
    l->len += n + 3;
    l->s[l->len] = '\0';
    l->is_full = true;
}

static void line_add_json(struct line *l, const json_t *v)
{
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

    line_add(l, t != NULL ? t : "?");
    free(t);
}

/* "set a, b; delete c" from {"updated":[..],"deleted":[..]}. */
static void summary_attributes(struct line *l, const json_t *body)
{
    static const char *const parts[] = { "updated", "deleted" };
    static const char *const words[] = { "set ", "delete " };
    const json_t *k;
    size_t p, i;

    for (p = 0; p < 2; p++) {
        const json_t *a = json_object_get(body, parts[p]);
        if (json_array_size(a) == 0) {
            continue;
        }
        line_add(l, l->len > 0 ? "; " : "");
        line_add(l, words[p]);
        json_array_foreach(a, i, k)
        {
            line_add(l, i > 0 ? ", " : "");
            line_add(l, json_is_string(k) ? json_string_value(k) : "?");
        }
    }
}

static void summary_of(const struct gw_dlq_entry *e, const json_t *body, struct line *l)
{
    const char *key;
    json_t *v;
    bool is_first = true;

    if (e->kind == GW_DL_RPC) {
        line_add(l, e->method != NULL ? e->method : "");
        line_add(l, "(");
        line_add_json(l, json_object_get(body, "params"));
        line_add(l, e->is_oneway ? "), one-way" : "), two-way");
    } else if (e->kind == GW_DL_ATTRIBUTES) {
        summary_attributes(l, body);
    } else {
        json_object_foreach((json_t *)body, key, v)
        {
            line_add(l, is_first ? "" : ", ");
            line_add(l, key);
            line_add(l, "=");
            line_add_json(l, v);
            is_first = false;
        }
    }
}

/* Parsed JSON text, the text itself when it is not JSON, or null. */
static json_t *json_of(const char *text)
{
    json_t *v;

    if (text == NULL) {
        return json_null();
    }
    v = json_loads(text, JSON_DECODE_ANY, NULL);
    return v != NULL ? v : json_string(text);
}

static json_t *ms_or_null(int64_t ms)
{
    return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

struct page_ctx {
    json_t *data;
    const char *device_uuid;
};

static int entry_append(void *arg, const struct gw_dlq_entry *e)
{
    struct page_ctx *ctx = arg;
    struct line l = { "", 0, false };
    json_t *body, *o;

    if (e->kind == GW_DL_RPC) {
        body = json_pack("{s:i, s:s, s:o, s:b}", "id", (int)e->rpc_id, "method",
                         e->method != NULL ? e->method : "", "params", json_of(e->body), "oneway",
                         e->is_oneway);
    } else {
        body = json_of(e->body);
    }
    if (body == NULL) {
        return -ENOMEM;
    }
    summary_of(e, body, &l);
    o = json_pack("{s:s?, s:o, s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:s}", "id",
                  e->uuid, "deviceId", web_json_id("DEVICE", ctx->device_uuid), "kind",
                  gw_dl_kind_name(e->kind), "state", web_dl_state_name(e->state), "createdTime",
                  (json_int_t)e->created_ms, "expirationTime", (json_int_t)e->expiration_ms,
                  "sentTime", ms_or_null(e->sent_ms), "deliveredTime", ms_or_null(e->delivered_ms),
                  "completedTime", ms_or_null(e->completed_ms), "retries", (json_int_t)e->retries,
                  "maxRetries", (json_int_t)e->max_retries, "body", body, "response",
                  json_of(e->response), "summary", l.s);
    return o != NULL && json_array_append_new(ctx->data, o) == 0 ? 0 : -ENOMEM;
}

/* Reads kind and state filters and the order; answers 400 naming a bad one. Returns: 0. */
static int query_of(struct web_req *rq, struct web_resp *rs, struct gw_dlq_query *q)
{
    const char *kind = web_query(rq, "kind");
    const char *state = web_query(rq, "state");
    const char *order = web_query(rq, "sortOrder");

    if (kind != NULL && kind[0] != '\0') {
        q->kind = (enum gw_dl_kind)kind_parse(kind);
        if (q->kind == 0) {
            web_error(rs, 400, WEB_E_BAD_PARAMS,
                      "Invalid kind: %.64s (RPC, ATTRIBUTES or EFENTO_CONFIG)", kind);
            return -EINVAL;
        }
    }
    if (state != NULL && state[0] != '\0') {
        q->state = (enum gw_dl_state)web_dl_state_parse(state);
        if (q->state == 0) {
            web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid state: %.64s", state);
            return -EINVAL;
        }
    }
    /* web_page_of() checked the text; unlike the generic rule it counts without sortProperty. */
    q->is_desc = order == NULL || order[0] == '\0' || strcasecmp(order, "DESC") == 0;
    return 0;
}

void web_hnd_downlinks_page(struct web_req *rq, struct web_resp *rs)
{
    static const char *const sorts[] = { "createdTime" };
    struct page_ctx ctx = { json_array(), rq->params[0] };
    struct gw_dlq_query q;
    struct web_page pg;
    int64_t total = 0;

    memset(&q, 0, sizeof(q));
    if (ctx.data == NULL || web_param_device(rq, rs, 0, &q.device_id) != 0 ||
        web_page_of(rq, rs, sorts, 1, &pg) != 0 || query_of(rq, rs, &q) != 0) {
        goto fail;
    }
    q.page_size = pg.page_size;
    q.page = pg.page;
    if (gw_store_dlq_page(rq->st, &q, &total, entry_append, &ctx) != 0) {
        web_reply_db_error(rs);
        goto fail;
    }
    web_reply_page(rs, ctx.data, total, &pg);
    return;
fail:
    json_decref(ctx.data);
    if (rs->status == 0) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
    }
}

void web_hnd_downlinks_cancel(struct web_req *rq, struct web_resp *rs)
{
    enum gw_dl_kind kind = GW_DL_RPC;
    const char *uuid;
    int64_t device_id = 0;
    int rc;

    if (web_param_device(rq, rs, 0, &device_id) != 0) {
        return;
    }
    uuid = web_param_uuid(rq, rs, 1);
    if (uuid == NULL) {
        return;
    }
    rc = gw_store_dlq_cancel(rq->st, device_id, uuid, rq->now_ms, &kind);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Downlink with id [%s] is not found", uuid);
    } else if (rc == -EBUSY) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Only a QUEUED entry can be cancelled");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin downlink cancelled device=%s entry=%s kind=%s user=\"%s\"",
                    rq->params[0], uuid, gw_dl_kind_name(kind), rq->jwt.sub);
        rs->status = 200;
    }
}
