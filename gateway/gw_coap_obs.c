/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_obs.c - observations and the downlinks they carry (spec 6.3, 7.1-7.2, 12.2-12.3,
 * 16.7-16.8).
 *
 * nbgate runs Observe itself instead of libcoap's subscription machinery: ThingsBoard's paths
 * carry the token, so there is no fixed resource to observe, and nbgate's rules differ from
 * libcoap's (one observation of each kind per device, replacement with a final 2.02, every
 * notification CON, one in flight per device, nothing ever replaced or dropped). An observation
 * is (session, token); its session is referenced so idle reaping leaves it alone.
 *
 * The ACK of a notification has no callback in libcoap 4.3.1 (an empty ACK is consumed silently),
 * so before libcoap reads a datagram, nbgate peeks at it: an empty ACK whose message id and peer
 * match a notification in flight moves that downlink to DELIVERED. Timeouts and RSTs arrive
 * through libcoap's NACK handler.
 *
 *   entry: QUEUED --send--> SENT --ACK--> DELIVERED [--response--> SUCCESSFUL]
 *                             \--timeout/RST--> TIMEOUT (try counted) --next window--> SENT
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"
#include "profiles/profile_model.h"

#define SWEEP_PERIOD_MS 1000

static int push_id(int64_t **arr, size_t *n, size_t *cap, int64_t id)
{
    if (*n == *cap) {
        size_t nc = *cap == 0 ? 16 : *cap * 2;
        int64_t *p = realloc(*arr, nc * sizeof(*p));
        if (p == NULL) {
            return -ENOMEM;
        }
        *arr = p;
        *cap = nc;
    }
    (*arr)[(*n)++] = id;
    return 0;
}

static void drop_id(int64_t *arr, size_t *n, int64_t id)
{
    size_t i;

    for (i = 0; i < *n; i++) {
        if (arr[i] == id) {
            arr[i] = arr[--*n];
            return;
        }
    }
}

void gw_coap_mark(struct gw_coap *c, int64_t device_id)
{
    (void)push_id(&c->marked, &c->n_marked, &c->cap_marked, device_id);
}

void gw_coap_pump_marked(struct gw_coap *c)
{
    size_t i;

    /* Pumping can mark again (a send that fails at once); those wait for the next round. */
    for (i = 0; i < c->n_marked; i++) {
        int64_t id = c->marked[i];
        c->marked[i] = 0;
        if (id != 0) {
            gw_coap_pump(c, id);
        }
    }
    c->n_marked = 0;
}

/* The in-flight notification of d ended without an ACK: a try is counted. */
static void in_flight_failed(struct gw_coap *c, struct gw_sched_dev *d)
{
    if (!d->is_in_flight) {
        return;
    }
    (void)gw_store_dl_set_state(c->store, d->device_id, d->in_flight_ids, d->n_in_flight,
                                GW_DL_TIMEOUT, NULL, gw_coap_realtime_ms());
    d->is_in_flight = false;
    drop_id(c->in_flight, &c->n_in_flight, d->device_id);
}

/* Sends a CON message on an observation's token. Returns: the message id, or -1. */
static int send_on(struct gw_obs *o, coap_pdu_code_t code, bool with_observe, const char *payload,
                   size_t len)
{
    coap_pdu_t *pdu;
    uint8_t buf[4];
    coap_mid_t mid;

    pdu = coap_pdu_init(COAP_MESSAGE_CON, code, coap_new_message_id(o->session),
                        coap_session_max_pdu_size(o->session));
    if (pdu == NULL || !coap_add_token(pdu, o->token_len, o->token)) {
        coap_delete_pdu(pdu);
        return -1;
    }
    if (with_observe) {
        (void)coap_add_option(pdu, COAP_OPTION_OBSERVE,
                              coap_encode_var_safe(buf, sizeof(buf), o->seq & 0xffffff), buf);
        o->seq = (o->seq + 1) & 0xffffff;
    }
    if (payload != NULL) {
        (void)coap_add_option(pdu, COAP_OPTION_CONTENT_FORMAT,
                              coap_encode_var_safe(buf, sizeof(buf), (uint32_t)o->content_format),
                              buf);
        if (!coap_add_data(pdu, len, (const uint8_t *)payload)) {
            coap_delete_pdu(pdu);
            return -1;
        }
    }
    mid = coap_send(o->session, pdu);
    return mid == COAP_INVALID_MID ? -1 : (int)mid;
}

/* Ends an observation; with is_final a 2.02 Deleted without Observe tells the device (12.3). */
static void end_obs(struct gw_coap *c, struct gw_sched_dev *d, enum gw_obs_kind kind, bool is_final)
{
    struct gw_obs *o = d->obs[kind];

    if (o == NULL) {
        return;
    }
    if (d->is_in_flight &&
        d->in_flight_kind == (kind == GW_OBS_RPC ? GW_DL_RPC : GW_DL_ATTRIBUTES)) {
        in_flight_failed(c, d);
    }
    if (is_final) {
        (void)send_on(o, COAP_RESPONSE_CODE_DELETED, false, NULL, 0);
    }
    coap_session_release(o->session);
    free(o);
    d->obs[kind] = NULL;
    c->n_observations--;
    gw_log_info("observation ended dev=%lld kind=%s", (long long)d->device_id,
                kind == GW_OBS_RPC ? "rpc" : "attributes");
    if (d->obs[GW_OBS_ATTR] == NULL && d->obs[GW_OBS_RPC] == NULL) {
        (void)gw_store_event_add(c->store, d->device_id, gw_coap_realtime_ms(), "DISCONNECT", NULL);
    }
}

/* Sends the final 2.02 of a replaced observation, after the new one has been answered. */
static void finish_retired(struct gw_sched_dev *d, enum gw_obs_kind kind)
{
    struct gw_obs *o = d->retired[kind];

    if (o == NULL) {
        return;
    }
    (void)send_on(o, COAP_RESPONSE_CODE_DELETED, false, NULL, 0);
    coap_session_release(o->session);
    free(o);
    d->retired[kind] = NULL;
}

/* Takes a replaced observation out of service; its final 2.02 goes out at the next pump. */
static void retire_obs(struct gw_coap *c, struct gw_sched_dev *d, enum gw_obs_kind kind)
{
    if (d->is_in_flight &&
        d->in_flight_kind == (kind == GW_OBS_RPC ? GW_DL_RPC : GW_DL_ATTRIBUTES)) {
        in_flight_failed(c, d);
    }
    finish_retired(d, kind);
    d->retired[kind] = d->obs[kind];
    d->obs[kind] = NULL;
    c->n_observations--;
}

static void end_all_cb(void *arg, struct gw_sched_dev *d)
{
    struct gw_obs *o;
    int k;

    for (k = 0; k < 2; k++) {
        o = d->retired[k];
        if (o != NULL) {
            coap_session_release(o->session);
            free(o);
            d->retired[k] = NULL;
        }
    }
    end_obs(arg, d, GW_OBS_ATTR, false);
    end_obs(arg, d, GW_OBS_RPC, false);
}

void gw_coap_obs_end_all(struct gw_coap *c)
{
    gw_sched_foreach(c->sched, end_all_cb, c);
}

static bool same_key(const struct gw_obs *o, const struct gw_req *r)
{
    coap_bin_const_t tok = coap_pdu_get_token(r->pdu);

    return o->session == r->session && o->token_len == tok.length &&
           (tok.length == 0 || memcmp(o->token, tok.s, tok.length) == 0);
}

/*
 * A new attribute registration answers with the whole shared state: waiting attribute updates
 * are complete with it, except their deletions, which follow as a deletion-only update (12.3).
 */
static void supersede_attr_updates(struct gw_coap *c, int64_t device_id, int64_t now_ms)
{
    struct gw_dl_next n;
    json_t *p, *del;
    const char *keys[GW_DL_GROUP_MAX];
    size_t i, n_keys = 0;

    if (gw_store_dl_next(c->store, device_id, false, true, now_ms, &n) != 0) {
        return;
    }
    (void)gw_store_dl_set_state(c->store, device_id, n.ids, n.n_ids, GW_DL_DELIVERED, NULL, now_ms);
    p = json_loadb(n.payload, n.payload_len, 0, NULL);
    del = json_object_get(p, "deleted");
    for (i = 0; i < json_array_size(del) && n_keys < GW_DL_GROUP_MAX; i++) {
        keys[n_keys++] = json_string_value(json_array_get(del, i));
    }
    if (n_keys > 0) {
        (void)gw_store_shared_update(c->store, device_id, NULL, keys, n_keys, now_ms,
                                     now_ms + 86400000, INT64_MAX);
    }
    json_decref(p);
    gw_dl_next_fini(&n);
}

static struct gw_obs *obs_new(const struct gw_req *r, enum gw_obs_kind kind)
{
    struct gw_obs *o = calloc(1, sizeof(*o));
    coap_bin_const_t tok = coap_pdu_get_token(r->pdu);

    if (o == NULL) {
        return NULL;
    }
    o->session = coap_session_reference(r->session);
    o->token_len = tok.length <= sizeof(o->token) ? tok.length : sizeof(o->token);
    if (o->token_len > 0) {
        memcpy(o->token, tok.s, o->token_len);
    }
    o->content_format = gw_coap_is_proto(r->c, r->dev.profile_id, r->mono_ms) ? GW_CF_OCTETS
                        : r->request_cf >= 0                                  ? r->request_cf
                                                                              : GW_CF_JSON;
    o->device_id = r->dev.id;
    o->kind = kind;
    return o;
}

void gw_coap_obs_register(struct gw_req *r, struct gw_answer *a, enum gw_obs_kind kind)
{
    struct gw_coap *c = r->c;
    struct gw_sched_dev *d = gw_sched_get(c->sched, r->dev.id, true);
    struct gw_obs *o;
    bool is_refresh;

    if (d == NULL) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
        return;
    }
    o = d->obs[kind];
    is_refresh = o != NULL && same_key(o, r);
    if (!is_refresh) {
        if (o == NULL && c->n_observations >= (size_t)c->cfg->max_observations) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "observation limit reached");
            return;
        }
        o = obs_new(r, kind);
        if (o == NULL) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
            return;
        }
        if (d->obs[kind] != NULL) {
            retire_obs(c, d, kind); /* replaced: the newest registration wins */
        } else if (d->obs[1 - kind] == NULL) {
            (void)gw_store_event_add(c->store, d->device_id, r->now_ms, "CONNECT", NULL);
        }
        d->obs[kind] = o;
        c->n_observations++;
        gw_coap_power_refresh(c, d, r->dev.profile_id, r->mono_ms);
        gw_log_info("observation registered dev=%lld kind=%s", (long long)r->dev.id,
                    kind == GW_OBS_RPC ? "rpc" : "attributes");
    }
    if (kind == GW_OBS_RPC) {
        (void)gw_store_rpc_requeue_delivered(c->store, r->dev.id, r->now_ms);
        gw_coap_answer(a, COAP_RESPONSE_CODE_VALID, NULL);
    } else {
        supersede_attr_updates(c, r->dev.id, r->now_ms);
        gw_coap_shared_state_answer(r, a, o->content_format);
    }
    a->observe = o->seq;
    o->seq = (o->seq + 1) & 0xffffff;
}

void gw_coap_obs_deregister(struct gw_req *r, enum gw_obs_kind kind)
{
    struct gw_sched_dev *d = gw_sched_get(r->c->sched, r->dev.id, false);

    if (d != NULL && d->obs[kind] != NULL && same_key(d->obs[kind], r)) {
        end_obs(r->c, d, kind, false);
    }
}

/*
 * Re-encodes a downlink for a Protobuf device in place (payload becomes bytes). An RPC whose
 * params do not fit the profile's schema fails for good (spec 7.2); the observation stays.
 */
static int to_proto(struct gw_coap *c, struct gw_sched_dev *d, struct gw_dl_next *n)
{
    const struct profile_config *p = gw_coap_profile(c, d->profile_id, gw_coap_monotonic_ms());
    char err[200] = "";
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc;

    if (p == NULL) {
        rc = -ENOEXEC;
    } else if (n->kind == GW_DL_RPC) {
        rc = gw_coap_proto_rpc(p, n->payload, n->payload_len, &bytes, &len, err, sizeof(err));
    } else {
        rc = gw_coap_proto_attr_update(c, d->device_id, (const char *const *)n->updated,
                                       n->n_updated, false, (const char *const *)n->deleted,
                                       n->n_deleted, &bytes, &len);
    }
    if (rc != 0) {
        char why[300];
        json_t *j =
            json_pack("{s:s}", "error", err[0] != '\0' ? err : "cannot encode for the profile");
        char *text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        (void)snprintf(why, sizeof(why), "%s", text != NULL ? text : "{}");
        gw_log_warn("downlink cannot be encoded dev=%lld err=\"%s\"", (long long)d->device_id, err);
        (void)gw_store_dl_set_state(c->store, d->device_id, n->ids, n->n_ids, GW_DL_FAILED, why,
                                    gw_coap_realtime_ms());
        free(text);
        json_decref(j);
        return rc;
    }
    free(n->payload);
    n->payload = (char *)bytes;
    n->payload_len = len;
    return 0;
}

/* Keeps the operator's view of the device's reachability current (at most once a second). */
static void show_reachability(struct gw_coap *c, struct gw_sched_dev *d, int64_t mono, int64_t now)
{
    char text[96];

    /* An always-on device without observations has nothing to tell: spare the store a write. */
    if ((d->power.mode == GW_PM_NONE || d->power.mode == GW_PM_DRX) && d->obs[0] == NULL &&
        d->obs[1] == NULL && d->reach_hash == 0) {
        return;
    }
    uint64_t h = 1469598103934665603ULL;
    size_t i, n = gw_sched_describe(d, mono, now, text, sizeof(text));

    for (i = 0; i < n; i++) {
        h = (h ^ (uint8_t)text[i]) * 1099511628211ULL;
    }
    if (h == d->reach_hash || mono - d->reach_written_ms < 1000) {
        return;
    }
    if (gw_store_device_reachability(c->store, d->device_id, text) == 0) {
        d->reach_hash = h;
        d->reach_written_ms = mono;
    }
}

static int64_t window_ms(const struct gw_sched_dev *d)
{
    return d->power.mode == GW_PM_PSM ? d->power.psm_activity_ms : d->power.ptw_ms;
}

void gw_coap_pump(struct gw_coap *c, int64_t device_id)
{
    struct gw_sched_dev *d = gw_sched_get(c->sched, device_id, false);
    int64_t mono = gw_coap_monotonic_ms();
    int64_t now = gw_coap_realtime_ms();
    struct gw_dl_next n;
    struct gw_obs *o;
    int64_t next = -1;
    int mid, rc;
    bool has_rpc, has_attr;

    if (d == NULL) {
        return;
    }
    finish_retired(d, GW_OBS_ATTR);
    finish_retired(d, GW_OBS_RPC);
    show_reachability(c, d, mono, now);
    has_rpc = d->obs[GW_OBS_RPC] != NULL;
    has_attr = d->obs[GW_OBS_ATTR] != NULL;
    if (d->is_in_flight || (!has_rpc && !has_attr)) {
        return;
    }
    if (!gw_sched_reachable(d, mono, &next)) {
        gw_sched_set_due(c->sched, d, next);
        return;
    }
    if (gw_store_dl_next(c->store, device_id, has_rpc, has_attr, now, &n) != 0) {
        return;
    }
    o = d->obs[n.kind == GW_DL_RPC ? GW_OBS_RPC : GW_OBS_ATTR];
    if (o->content_format == GW_CF_OCTETS && to_proto(c, d, &n) != 0) {
        gw_dl_next_fini(&n);
        gw_coap_mark(c, device_id);
        return;
    }
    /* Claimed before it leaves: an entry cancelled meanwhile (admin API) makes the payload stale.
     */
    rc = gw_store_dl_claim(c->store, device_id, n.ids, n.n_ids, now);
    if (rc != 0) {
        gw_dl_next_fini(&n);
        if (rc == -EAGAIN) {
            gw_coap_mark(c, device_id);
        }
        return;
    }
    mid = n.payload_len + 64 > coap_session_max_pdu_size(o->session)
              ? -1
              : send_on(o, COAP_RESPONSE_CODE_CONTENT, true, n.payload, n.payload_len);
    if (mid < 0) {
        gw_log_warn("downlink cannot be sent dev=%lld bytes=%zu", (long long)device_id,
                    n.payload_len);
        (void)gw_store_dl_set_state(c->store, device_id, n.ids, n.n_ids, GW_DL_FAILED,
                                    "{\"error\":\"notification cannot be sent\"}", now);
        gw_dl_next_fini(&n);
        gw_coap_mark(c, device_id);
        return;
    }
    d->is_in_flight = true;
    d->in_flight_mid = (uint16_t)mid;
    d->in_flight_kind = (int)n.kind;
    d->n_in_flight = n.n_ids;
    memcpy(d->in_flight_ids, n.ids, n.n_ids * sizeof(n.ids[0]));
    (void)push_id(&c->in_flight, &c->n_in_flight, &c->cap_in_flight, device_id);
    if (d->power.mode == GW_PM_EDRX && mono - d->last_uplink_ms > window_ms(d)) {
        d->has_allowance = false; /* the one downlink outside the window (unknown cycle) */
    }
    gw_log_info("downlink sent dev=%lld kind=%s mid=%d entries=%zu", (long long)device_id,
                n.kind == GW_DL_RPC ? "rpc" : "attributes", mid, n.n_ids);
    gw_dl_next_fini(&n);
}

static bool same_peer(const coap_session_t *s, const struct sockaddr_storage *from)
{
    const coap_address_t *a = coap_session_get_addr_remote(s);

    if (a->addr.sa.sa_family != from->ss_family) {
        return false;
    }
    return memcmp(&a->addr.sa, from, a->size) == 0;
}

static void acked(struct gw_coap *c, struct gw_sched_dev *d)
{
    int64_t now = gw_coap_realtime_ms();

    (void)gw_store_dl_set_state(c->store, d->device_id, d->in_flight_ids, d->n_in_flight,
                                GW_DL_DELIVERED, NULL, now);
    d->is_in_flight = false;
    drop_id(c->in_flight, &c->n_in_flight, d->device_id);
    gw_coap_uplink(c, d->device_id, d->profile_id, gw_coap_monotonic_ms(), now); /* an uplink */
    gw_coap_mark(c, d->device_id);
}

void gw_coap_peek_ack(struct gw_coap *c)
{
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    uint8_t b[4];
    size_t i;
    ssize_t n;

    if (c->n_in_flight == 0 || c->sock_fd < 0) {
        return;
    }
    n = recvfrom(c->sock_fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&from,
                 &flen);
    /* An empty ACK: version 1, type ACK, no token, code 0.00. */
    if (n < 4 || (b[0] & 0xf0) != 0x60 || b[1] != 0) {
        return;
    }
    for (i = 0; i < c->n_in_flight; i++) {
        struct gw_sched_dev *d = gw_sched_get(c->sched, c->in_flight[i], false);
        struct gw_obs *o;
        if (d == NULL || !d->is_in_flight || d->in_flight_mid != (uint16_t)(b[2] << 8 | b[3])) {
            continue;
        }
        o = d->obs[d->in_flight_kind == GW_DL_RPC ? GW_OBS_RPC : GW_OBS_ATTR];
        if (o != NULL && same_peer(o->session, &from)) {
            acked(c, d);
            return;
        }
    }
}

void gw_coap_nack(coap_session_t *session, const coap_pdu_t *sent, coap_nack_reason_t reason,
                  coap_mid_t mid)
{
    struct gw_coap *c = coap_get_app_data(coap_session_get_context(session));
    size_t i;

    (void)sent;
    for (i = 0; i < c->n_in_flight; i++) {
        struct gw_sched_dev *d = gw_sched_get(c->sched, c->in_flight[i], false);
        enum gw_obs_kind kind;
        if (d == NULL || !d->is_in_flight || d->in_flight_mid != (uint16_t)mid) {
            continue;
        }
        kind = d->in_flight_kind == GW_DL_RPC ? GW_OBS_RPC : GW_OBS_ATTR;
        if (d->obs[kind] == NULL || ((struct gw_obs *)d->obs[kind])->session != session) {
            continue;
        }
        gw_log_notice("notification not acknowledged dev=%lld reason=%s", (long long)d->device_id,
                      reason == COAP_NACK_RST ? "rst" : "timeout");
        in_flight_failed(c, d);
        end_obs(c, d, kind, false); /* only this observation ends (12.2) */
        if (d->power.mode == GW_PM_PSM || d->power.mode == GW_PM_EDRX) {
            d->last_uplink_ms = 1; /* asleep until its next uplink */
        }
        gw_coap_mark(c, d->device_id);
        return;
    }
}

static void mark_cb(void *arg, int64_t device_id)
{
    gw_coap_mark(arg, device_id);
}

void gw_coap_tick(struct gw_coap *c)
{
    int64_t mono = gw_coap_monotonic_ms();
    struct gw_sched_dev *d;

    (void)gw_store_dl_new_devices(c->store, &c->last_dl_id, mark_cb, c);
    gw_coap_efento_refresh(c, mono); /* token options of new or edited Efento profiles */
    if (mono >= c->next_sweep_ms) {
        (void)gw_store_dl_expire(c->store, gw_coap_realtime_ms());
        c->next_sweep_ms = mono + SWEEP_PERIOD_MS;
    }
    while ((d = gw_sched_pop_due(c->sched, mono)) != NULL) {
        gw_coap_mark(c, d->device_id);
    }
    gw_coap_pump_marked(c);
}
