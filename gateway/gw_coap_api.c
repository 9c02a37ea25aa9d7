/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_api.c - the /api/v1 features of an authenticated device (spec sections 5-8): telemetry
 * and client attributes (stored, then 2.01), attribute requests, server-side RPC responses,
 * client-side RPC (a small set of built-in methods; nbgate has no rule engine), and claiming.
 * Provisioning (no authentication) is in gw_coap_provision.c.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_api_parse.h"
#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"
#include "profiles/profile_model.h"

#define DEFAULT_CLAIM_DURATION_MS 86400000 /* SECURITY_CLAIM_DURATION */
#define QUERY_KEYS_MAX            256

struct sbuf {
    char *p;
    size_t len, cap;
    bool is_failed;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->is_failed) {
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->is_failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_json_string(struct sbuf *b, const char *s)
{
    json_t *j = json_string(s);
    char *q = j != NULL ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

    if (q == NULL) {
        b->is_failed = true;
    } else {
        sb_str(b, q);
    }
    free(q);
    json_decref(j);
}

static void sb_value(struct sbuf *b, const struct profile_value *v)
{
    char small[128];
    size_t need = profile_value_to_json(v, small, sizeof(small));

    if (need < sizeof(small)) {
        sb_add(b, small, need);
        return;
    }
    if (b->len + need + 1 > b->cap) {
        sb_add(b, "", 0);
        if (b->is_failed) {
            return;
        }
    }
    {
        char *big = malloc(need + 1);
        if (big == NULL) {
            b->is_failed = true;
            return;
        }
        (void)profile_value_to_json(v, big, need + 1);
        sb_add(b, big, need);
        free(big);
    }
}

bool gw_coap_activity_in_tx(struct gw_coap *c, int64_t device_id, int64_t mono_ms)
{
    struct gw_sched_dev *d = gw_sched_get(c->sched, device_id, true);

    if (d == NULL) {
        return true;
    }
    if (d->last_activity_written_ms != 0 && mono_ms - d->last_activity_written_ms < 3000) {
        return false; /* written less than TB_TRANSPORT_SESSIONS_REPORT_TIMEOUT ago */
    }
    d->last_activity_written_ms = mono_ms;
    return true;
}

void gw_coap_uplink(struct gw_coap *c, int64_t device_id, int64_t profile_id, int64_t mono_ms,
                    int64_t now_ms)
{
    struct gw_sched_dev *d = gw_sched_get(c->sched, device_id, true);

    if (d == NULL) {
        return;
    }
    gw_sched_uplink(d, mono_ms);
    /* Settings are evaluated on use (spec 16.2); re-read at most once a second per device. */
    if (d->power_checked_ms == 0 || mono_ms - d->power_checked_ms >= 1000 ||
        d->profile_id != profile_id) {
        gw_coap_power_refresh(c, d, profile_id, mono_ms);
        d->power_checked_ms = mono_ms;
    }
    /*
     * lastActivity goes to the store at most every TB_TRANSPORT_SESSIONS_REPORT_TIMEOUT; uploads
     * write it inside their own transaction (gw_coap_activity_in_tx), at no extra sync.
     */
    if (d->last_activity_written_ms == 0 || mono_ms - d->last_activity_written_ms >= 3000) {
        if (gw_store_touch_activity(c->store, device_id, now_ms) == 0) {
            d->last_activity_written_ms = mono_ms;
        }
    }
}

/* Server time for records without "ts": unique per device, so no reading replaces another. */
static int64_t data_stamp(struct gw_coap *c, int64_t device_id, int64_t now_ms)
{
    struct gw_sched_dev *d = gw_sched_get(c->sched, device_id, true);

    if (d == NULL) {
        return now_ms;
    }
    if (now_ms <= d->last_data_ts_ms) {
        now_ms = d->last_data_ts_ms + 1;
    }
    d->last_data_ts_ms = now_ms;
    return now_ms;
}

/* The upload's entry in the device's event log, inside the batch that stores the upload. */
static int uplink_event(struct gw_req *r, const char *noun, uint32_t unlisted)
{
    char summary[200], *body;
    size_t len;
    int rc;

    gw_coap_event_summary(&r->c->batch, noun, summary, sizeof(summary));
    len = strlen(summary);
    if (unlisted > 0) {
        (void)snprintf(summary + len, sizeof(summary) - len, "; %u earlier uploads not listed",
                       (unsigned)unlisted);
    }
    body = gw_coap_event_uplink(r, COAP_RESPONSE_CODE_CREATED, 0, summary, NULL);
    rc = body != NULL ? gw_store_event_add(r->c->store, r->dev.id, r->now_ms, "UPLINK", body)
                      : -ENOMEM;
    free(body);
    return rc;
}

/*
 * Stores a decoded upload (telemetry, or client attributes) from r->c->batch, and when one is due
 * its UPLINK entry in the same transaction. Returns: 0, -EIO, -ENOMEM.
 */
static int store_upload(struct gw_req *r, bool is_telemetry)
{
    struct gw_coap *c = r->c;
    uint32_t unlisted = 0;
    bool is_logged = gw_coap_event_due(r, &unlisted);
    int rc = is_logged ? gw_store_batch_begin(c->store) : 0;

    if (rc != 0) {
        return rc;
    }
    rc = is_telemetry ? gw_store_insert_telemetry(c->store, r->dev.id, &c->batch,
                                                  r->is_activity_due ? r->now_ms : 0)
                      : gw_store_save_attributes(c->store, r->dev.id, GW_SCOPE_CLIENT, &c->batch,
                                                 r->now_ms, r->is_activity_due);
    if (is_logged) {
        rc = rc != 0 ? rc : uplink_event(r, is_telemetry ? "records" : "attributes", unlisted);
        rc = gw_store_batch_end(c->store, rc);
    }
    return rc;
}

static void decode_error(struct gw_answer *a, int rc, const char *diag)
{
    if (rc == -ENOMEM) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
    } else {
        gw_coap_answer(a, gw_coap_code_for_error(rc), "%s", diag);
    }
}

void gw_coap_api_telemetry(struct gw_req *r, struct gw_answer *a)
{
    struct gw_coap *c = r->c;
    char diag[GW_COAP_DIAG_MAX + 1] = "";
    int rc;

    const struct profile_config *p = gw_coap_profile(c, r->dev.profile_id, r->mono_ms);

    a->is_cacheable = true;
    if (p == NULL) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "device profile unusable");
        return;
    }
    profile_batch_clear(&c->batch);
    rc = profile_decode_telemetry(p, r->data, r->len, data_stamp(c, r->dev.id, r->now_ms),
                                  &c->limits, &c->batch, diag, sizeof(diag));
    if (rc != 0) {
        decode_error(a, rc, diag);
        return;
    }
    rc = store_upload(r, true);
    if (rc != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "storage error");
        return;
    }
    c->stats.stored++;
    gw_coap_answer(a, COAP_RESPONSE_CODE_CREATED, NULL);
}

void gw_coap_api_attributes_post(struct gw_req *r, struct gw_answer *a)
{
    struct gw_coap *c = r->c;
    char diag[GW_COAP_DIAG_MAX + 1] = "";
    int rc;

    const struct profile_config *p = gw_coap_profile(c, r->dev.profile_id, r->mono_ms);

    a->is_cacheable = true;
    if (p == NULL) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "device profile unusable");
        return;
    }
    profile_batch_clear(&c->batch);
    rc = profile_decode_attributes(p, r->data, r->len, &c->limits, &c->batch, diag, sizeof(diag));
    if (rc != 0) {
        decode_error(a, rc, diag);
        return;
    }
    rc = store_upload(r, false);
    if (rc != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "storage error");
        return;
    }
    c->stats.stored++;
    gw_coap_answer(a, COAP_RESPONSE_CODE_CREATED, NULL);
}

/* The keys asked for by one query parameter, split on ',' verbatim (empty items kept). */
struct key_list {
    bool is_given;
    char *text; /* owned copy the keys point into */
    const char *keys[QUERY_KEYS_MAX];
    size_t n;
};

static int key_list_set(struct key_list *l, const uint8_t *v, size_t len)
{
    char *p;

    free(l->text);
    memset(l, 0, sizeof(*l));
    l->text = malloc(len + 1);
    if (l->text == NULL) {
        return -ENOMEM;
    }
    memcpy(l->text, v, len);
    l->text[len] = '\0';
    l->is_given = true;
    for (p = l->text;;) {
        char *comma = strchr(p, ',');
        if (l->n == QUERY_KEYS_MAX) {
            return -ERANGE;
        }
        l->keys[l->n++] = p;
        if (comma == NULL) {
            return 0;
        }
        *comma = '\0';
        p = comma + 1;
    }
}

/* Reads clientKeys and sharedKeys from the Uri-Query options (spec 6.2: last one wins). */
static int parse_attr_query(const coap_pdu_t *pdu, struct key_list *client, struct key_list *shared)
{
    coap_opt_iterator_t it;
    coap_opt_filter_t filter;
    coap_opt_t *opt;
    int rc = 0;

    coap_option_filter_clear(&filter);
    (void)coap_option_filter_set(&filter, COAP_OPTION_URI_QUERY);
    (void)coap_option_iterator_init(pdu, &it, &filter);
    while (rc == 0 && (opt = coap_option_next(&it)) != NULL) {
        const uint8_t *v = coap_opt_value(opt);
        size_t len = coap_opt_length(opt);
        const uint8_t *eq = memchr(v, '=', len);
        size_t name_len;
        if (eq == NULL || memchr(eq + 1, '=', len - (size_t)(eq + 1 - v)) != NULL ||
            eq + 1 == v + len) {
            continue; /* only name=value with a non-empty value counts */
        }
        name_len = (size_t)(eq - v);
        if (name_len == 10 && memcmp(v, "clientKeys", 10) == 0) {
            rc = key_list_set(client, eq + 1, len - name_len - 1);
        } else if (name_len == 10 && memcmp(v, "sharedKeys", 10) == 0) {
            rc = key_list_set(shared, eq + 1, len - name_len - 1);
        }
    }
    return rc;
}

struct attr_render {
    struct sbuf *b;
    const struct key_list *want; /* NULL: every key */
    size_t n;
};

static int render_attr(void *arg, const char *key, int64_t ts_ms, const struct profile_value *v,
                       int scope)
{
    struct attr_render *ar = arg;
    size_t i;

    (void)ts_ms;
    (void)scope;
    if (ar->want != NULL) {
        for (i = 0; i < ar->want->n && strcmp(ar->want->keys[i], key) != 0; i++) {
        }
        if (i == ar->want->n) {
            return 0;
        }
    }
    sb_str(ar->b, ar->n == 0 ? "" : ",");
    sb_json_string(ar->b, key);
    sb_str(ar->b, ":");
    sb_value(ar->b, v);
    ar->n++;
    return 0;
}

/* Appends {"k":v,..} of one scope; returns the number of members written. */
static size_t render_scope(struct gw_coap *c, int64_t device_id, enum gw_attr_scope scope,
                           const struct key_list *want, struct sbuf *b)
{
    struct attr_render ar = { b, want, 0 };

    sb_str(b, "{");
    if (gw_store_attributes_walk(c->store, device_id, (int)scope, render_attr, &ar) != 0) {
        b->is_failed = true;
    }
    sb_str(b, "}");
    return ar.n;
}

char *gw_coap_shared_json(struct gw_coap *c, int64_t device_id, size_t *len)
{
    struct sbuf b = { NULL, 0, 0, false };

    (void)render_scope(c, device_id, GW_SCOPE_SHARED, NULL, &b);
    if (b.is_failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

/* Protobuf devices: transport.GetAttributeResponseMsg (spec 6.2, 14.4). */
static void attributes_get_proto(struct gw_req *r, struct gw_answer *a, bool is_all,
                                 const struct key_list *client, const struct key_list *shared)
{
    struct profile_batch cb = { 0 }, sb = { 0 };
    struct profile_attr_response resp;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = 0;

    if (is_all || client->is_given) {
        rc = gw_coap_collect_attrs(r->c, r->dev.id, GW_SCOPE_CLIENT, is_all ? NULL : client->keys,
                                   is_all ? 0 : client->n, &cb);
    }
    if (rc == 0 && (is_all || shared->is_given)) {
        rc = gw_coap_collect_attrs(r->c, r->dev.id, GW_SCOPE_SHARED, is_all ? NULL : shared->keys,
                                   is_all ? 0 : shared->n, &sb);
    }
    memset(&resp, 0, sizeof(resp));
    resp.client = cb.kv;
    resp.n_client = cb.n;
    resp.shared = sb.kv;
    resp.n_shared = sb.n;
    resp.is_multiple = (client->is_given ? client->n : 0) + (shared->is_given ? shared->n : 0) > 1;
    if (rc == 0 && cb.n + sb.n == 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_NOT_FOUND, NULL);
    } else if (rc != 0 || profile_proto_encode_attr_response(&resp, &bytes, &len) != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "cannot encode the attributes");
    } else {
        gw_coap_answer_body(a, COAP_RESPONSE_CODE_CONTENT, GW_CF_OCTETS, (char *)bytes, len);
    }
    profile_batch_fini(&cb);
    profile_batch_fini(&sb);
}

void gw_coap_api_attributes_get(struct gw_req *r, struct gw_answer *a)
{
    struct key_list client = { 0 }, shared = { 0 };
    struct sbuf b = { NULL, 0, 0, false };
    struct sbuf part = { NULL, 0, 0, false };
    bool is_all = false;
    size_t n_sections = 0;
    int rc = parse_attr_query(r->pdu, &client, &shared);

    if (rc != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "too many keys in the query (limit %d)",
                       QUERY_KEYS_MAX);
        goto out;
    }
    is_all = !client.is_given && !shared.is_given;
    if (gw_coap_is_proto(r->c, r->dev.profile_id, r->mono_ms)) {
        attributes_get_proto(r, a, is_all, &client, &shared);
        goto out;
    }
    sb_str(&b, "{");
    if (is_all || client.is_given) {
        if (render_scope(r->c, r->dev.id, GW_SCOPE_CLIENT, is_all ? NULL : &client, &part) > 0) {
            sb_str(&b, "\"client\":");
            sb_add(&b, part.p, part.len);
            n_sections++;
        }
        part.len = 0;
    }
    if (is_all || shared.is_given) {
        if (render_scope(r->c, r->dev.id, GW_SCOPE_SHARED, is_all ? NULL : &shared, &part) > 0) {
            sb_str(&b, n_sections > 0 ? ",\"shared\":" : "\"shared\":");
            sb_add(&b, part.p, part.len);
            n_sections++;
        }
    }
    sb_str(&b, "}");
    if (b.is_failed || part.is_failed) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
    } else if (n_sections == 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_NOT_FOUND, NULL);
    } else {
        gw_coap_answer_body(a, COAP_RESPONSE_CODE_CONTENT,
                            r->request_cf >= 0 ? r->request_cf : GW_CF_JSON, b.p, b.len);
        b.p = NULL;
    }
out:
    free(b.p);
    free(part.p);
    free(client.text);
    free(shared.text);
}

static void rpc_response(struct gw_req *r, struct gw_answer *a)
{
    const struct profile_config *p = gw_coap_profile(r->c, r->dev.profile_id, r->mono_ms);
    char diag[GW_COAP_DIAG_MAX + 1];
    char *text = NULL;
    size_t text_len = 0;
    int rc = p == NULL ? -ENOEXEC
                       : profile_decode_rpc_response(p, r->data, r->len, &text, &text_len, diag,
                                                     sizeof(diag));

    if (rc != 0) {
        if (rc == -ENOEXEC && p == NULL) {
            (void)snprintf(diag, sizeof(diag), "device profile unusable");
        }
        gw_coap_answer(a, gw_coap_code_for_error(rc), "%s", rc == -ENOMEM ? "out of memory" : diag);
        return;
    }
    rc = gw_store_rpc_response(r->c->store, r->dev.id, r->path.rpc_id, text, r->now_ms);
    if (rc == -ENOENT) {
        gw_log_notice("rpc response for no waiting request dev=%lld rpc_id=%d",
                      (long long)r->dev.id, (int)r->path.rpc_id);
    } else if (rc != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "storage error");
        free(text);
        return;
    }
    gw_coap_answer(a, COAP_RESPONSE_CODE_CREATED, NULL);
    free(text);
}

/* Client-side RPC: nbgate's built-in methods (docs/DEVICE-API.md). */
static void rpc_request(struct gw_req *r, struct gw_answer *a)
{
    bool is_proto = gw_coap_is_proto(r->c, r->dev.profile_id, r->mono_ms);
    char diag[GW_COAP_DIAG_MAX + 1];
    char method[128];
    json_t *reply = NULL;
    char *text;
    int rc;

    if (is_proto) {
        char *m = NULL, *params = NULL;
        rc = profile_proto_decode_client_rpc(r->data, r->len, &m, &params, diag, sizeof(diag));
        if (rc == 0) {
            (void)snprintf(method, sizeof(method), "%s", m);
        }
        free(m);
        free(params);
    } else {
        rc = gw_api_parse_rpc_request(r->data, r->len, method, sizeof(method), diag, sizeof(diag));
    }

    if (rc != 0) {
        gw_coap_answer(a, gw_coap_code_for_error(rc), "%s", rc == -ENOMEM ? "out of memory" : diag);
        return;
    }
    if (strcmp(method, "getCurrentTime") == 0) {
        reply = json_pack("{s:I}", "currentTime", (json_int_t)r->now_ms);
    } else if (strcmp(method, "getSessionLimits") == 0) {
        reply = json_pack("{s:I, s:I, s:i}", "maxPayloadSize",
                          (json_int_t)r->c->cfg->max_payload_size, "maxKeysPerMessage",
                          (json_int_t)r->c->cfg->max_keys_per_message, "maxInflightMessages", 1);
    } else {
        char msg[200];
        (void)snprintf(msg, sizeof(msg), "method %.100s is not handled by nbgate", method);
        reply = json_pack("{s:s}", "error", msg);
    }
    text = reply != NULL ? json_dumps(reply, JSON_COMPACT) : NULL;
    if (text == NULL) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
    } else if (is_proto) {
        /* ToServerRpcResponseMsg: the reply's JSON as payload, or its error text. */
        const char *error = json_string_value(json_object_get(reply, "error"));
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (profile_proto_encode_rpc_reply(0, error == NULL ? text : NULL, error, &bytes, &len) !=
            0) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
        } else {
            gw_coap_answer_body(a, COAP_RESPONSE_CODE_CONTENT, GW_CF_OCTETS, (char *)bytes, len);
        }
        free(text);
    } else {
        gw_coap_answer_body(a, COAP_RESPONSE_CODE_CONTENT,
                            r->request_cf >= 0 ? r->request_cf : GW_CF_JSON, text, strlen(text));
    }
    json_decref(reply);
}

void gw_coap_api_rpc_post(struct gw_req *r, struct gw_answer *a)
{
    a->is_cacheable = true;
    if (r->path.has_rpc_id) {
        rpc_response(r, a);
    } else {
        rpc_request(r, a);
    }
}

void gw_coap_api_claim(struct gw_req *r, struct gw_answer *a)
{
    char diag[GW_COAP_DIAG_MAX + 1];
    char secret[GW_API_FIELD_MAX];
    int64_t ms = 0;
    int rc;

    a->is_cacheable = true;
    rc = gw_api_parse_claim(r->data, r->len, secret, sizeof(secret), &ms, diag, sizeof(diag));
    if (rc != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "%s", diag);
        return;
    }
    if (ms <= 0) {
        ms = DEFAULT_CLAIM_DURATION_MS;
    }
    if (gw_store_claim_register(r->c->store, r->dev.id, secret, r->now_ms + ms) != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "storage error");
    } else {
        gw_coap_answer(a, COAP_RESPONSE_CODE_CREATED, NULL);
    }
}
