/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_dtls_ack.c - DELIVERED for notifications sent over DTLS.
 *
 * Over plain UDP, gw_coap_peek_ack() reads an empty ACK off the socket before libcoap does. Over
 * DTLS the ACK arrives encrypted, and libcoap 4.3.1 consumes a decrypted empty ACK without any
 * callback (net.c, coap_dispatch: "an empty ACK needs no further handling"). What libcoap does do
 * is log, at LOG_DEBUG, the removal of the acknowledged message from its retransmission queue:
 *
 *   "** <session>: mid=0x<mid>: removed <n>"
 *
 * so while at least one notification is in flight on a DTLS session (and only then), libcoap's log
 * level is raised to LOG_DEBUG around coap_io_do_epoll() and this file's log handler notes each
 * (session, message id) removal; lines the operator did not ask for are dropped. After the
 * datagrams are processed, a removal that matches a notification still in flight is its ACK: an
 * RST also removes the message, but libcoap then reports it through the NACK handler within the
 * same call, which has already ended the in-flight state.
 *
 * Fallback: libcoap reports every CON that is not acknowledged through the NACK handler (RST,
 * retries exhausted, session closed). A notification still in flight without a NACK three
 * retransmission windows (MAX_TRANSMIT_WAIT, one for each CON that NSTART 1 may queue ahead of
 * it) after it was first seen was therefore acknowledged; it is marked DELIVERED then. This keeps
 * the downlink queue moving even if the log line were ever missed.
 *
 * libcoap's log handler takes no argument, so the noted removals live in this file (one CoAP
 * context per process). Thread: loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"

#define RING_MAX          128 /* removals noted per coap_io_do_epoll() (it handles <= 64 events) */
#define DEADLINE_WINDOWS  3
#define DEADLINE_SLACK_MS 1000

struct removal {
    uint64_t session_hash; /* FNV-1a of libcoap's text of the session */
    uint16_t mid;
};

struct pending {
    int64_t device_id;
    uint16_t mid;
    int64_t since_ms; /* monotonic time it was first seen in flight */
};

static struct removal ring[RING_MAX];
static size_t ring_n;
static bool is_tapped;
static bool is_tracing;
static coap_log_t base_level;
static struct pending *pend;
static size_t n_pend, cap_pend;

static uint64_t fnv1a(const char *p, size_t len)
{
    uint64_t h = 1469598103934665603ULL;
    size_t i;

    for (i = 0; i < len; i++) {
        h = (h ^ (uint8_t)p[i]) * 1099511628211ULL;
    }
    return h;
}

/* Notes "** SESSION: mid=0xMID: removed N". */
static void note_removal(const char *msg)
{
    const char *mid = strstr(msg, ": mid=0x");
    char *end = NULL;
    unsigned long v;

    if (strncmp(msg, "** ", 3) != 0 || mid == NULL || ring_n == RING_MAX) {
        return;
    }
    v = strtoul(mid + 8, &end, 16);
    if (end == NULL || strncmp(end, ": removed ", 10) != 0 || v > 0xffff) {
        return;
    }
    ring[ring_n].session_hash = fnv1a(msg + 3, (size_t)(mid - (msg + 3)));
    ring[ring_n].mid = (uint16_t)v;
    ring_n++;
}

/* Routes libcoap's log through gw_log, as gw_coap.c's handler does, and taps the removals. */
static void tap(coap_log_t level, const char *message)
{
    int prio = level < LOG_ERR ? LOG_ERR : level > LOG_DEBUG ? LOG_DEBUG : (int)level;
    size_t len;

    if (level == LOG_DEBUG && is_tracing) {
        note_removal(message);
    }
    if (level > base_level) {
        return; /* raised for the tap only */
    }
    len = strlen(message);
    while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == '\r')) {
        len--;
    }
    GW_LOG_AT(prio, "coap %.*s", (int)len, message);
}

void gw_coap_dtls_ack_start(void)
{
    base_level = coap_get_log_level();
    coap_set_log_handler(tap);
    coap_set_show_pdu_output(0); /* PDU dumps at LOG_DEBUG go to the handler, not to stdout */
    is_tapped = true;
}

void gw_coap_dtls_ack_stop(void)
{
    if (is_tracing) {
        coap_set_log_level(base_level);
    }
    is_tracing = false;
    is_tapped = false;
    ring_n = 0;
    free(pend);
    pend = NULL;
    n_pend = cap_pend = 0;
}

/* Returns: the DTLS session of d's notification in flight, or NULL. */
static coap_session_t *dtls_in_flight(struct gw_coap *c, int64_t device_id)
{
    struct gw_sched_dev *d = gw_sched_get(c->sched, device_id, false);
    struct gw_obs *o;

    if (d == NULL || !d->is_in_flight) {
        return NULL;
    }
    o = d->obs[d->in_flight_kind == GW_DL_RPC ? GW_OBS_RPC : GW_OBS_ATTR];
    if (o == NULL || coap_session_get_proto(o->session) != COAP_PROTO_DTLS) {
        return NULL;
    }
    return o->session;
}

/* The device acknowledged its notification (as gw_coap_obs.c does for a plain-UDP ACK). */
static void delivered(struct gw_coap *c, int64_t device_id, coap_session_t *session,
                      const char *evidence)
{
    struct gw_sched_dev *d = gw_sched_get(c->sched, device_id, false);
    int64_t now = gw_coap_realtime_ms();
    size_t i;

    gw_log_debug("notification acknowledged over dtls dev=%lld mid=%u evidence=%s",
                 (long long)device_id, (unsigned)d->in_flight_mid, evidence);
    (void)gw_store_dl_set_state(c->store, device_id, d->in_flight_ids, d->n_in_flight,
                                GW_DL_DELIVERED, NULL, now);
    d->is_in_flight = false;
    for (i = 0; i < c->n_in_flight; i++) {
        if (c->in_flight[i] == device_id) {
            c->in_flight[i] = c->in_flight[--c->n_in_flight];
            break;
        }
    }
    gw_coap_dtls_touch(c, session);
    gw_coap_uplink(c, device_id, d->profile_id, gw_coap_monotonic_ms(), now); /* an uplink */
    gw_coap_mark(c, device_id);
}

void gw_coap_dtls_ack_before_io(struct gw_coap *c)
{
    bool want = false;
    size_t i;

    if (!is_tapped) {
        return;
    }
    for (i = 0; i < c->n_in_flight && !want; i++) {
        want = dtls_in_flight(c, c->in_flight[i]) != NULL;
    }
    if (want != is_tracing) {
        coap_set_log_level(want ? LOG_DEBUG : base_level);
        is_tracing = want;
    }
    ring_n = 0;
}

static bool removed(uint64_t session_hash, uint16_t mid)
{
    size_t i;

    for (i = 0; i < ring_n; i++) {
        if (ring[i].session_hash == session_hash && ring[i].mid == mid) {
            return true;
        }
    }
    return false;
}

void gw_coap_dtls_ack_after_io(struct gw_coap *c)
{
    size_t i = 0;

    while (is_tracing && ring_n > 0 && i < c->n_in_flight) {
        int64_t id = c->in_flight[i];
        coap_session_t *s = dtls_in_flight(c, id);
        const char *text = s != NULL ? coap_session_str(s) : NULL;
        if (text != NULL &&
            removed(fnv1a(text, strlen(text)), gw_sched_get(c->sched, id, false)->in_flight_mid)) {
            delivered(c, id, s, "ack"); /* c->in_flight[i] now holds another device */
        } else {
            i++;
        }
    }
    ring_n = 0;
}

/* MAX_TRANSMIT_WAIT of the session in ms: ACK_TIMEOUT * (2^(MAX_RETRANSMIT+1) - 1) * factor. */
static int64_t transmit_wait_ms(coap_session_t *s)
{
    coap_fixed_point_t t = coap_session_get_ack_timeout(s);
    coap_fixed_point_t f = coap_session_get_ack_random_factor(s);
    int64_t ack_ms = (int64_t)t.integer_part * 1000 + t.fractional_part;
    int64_t windows = ((int64_t)1 << (coap_session_get_max_retransmit(s) + 1)) - 1;

    return ack_ms * windows * ((int64_t)f.integer_part * 1000 + f.fractional_part) / 1000;
}

static void pend_forget_stale(struct gw_coap *c)
{
    size_t i = 0;

    while (i < n_pend) {
        struct gw_sched_dev *d = gw_sched_get(c->sched, pend[i].device_id, false);
        if (dtls_in_flight(c, pend[i].device_id) == NULL || d->in_flight_mid != pend[i].mid) {
            pend[i] = pend[--n_pend];
        } else {
            i++;
        }
    }
}

static void pend_add(int64_t device_id, uint16_t mid, int64_t now_ms)
{
    size_t i;

    for (i = 0; i < n_pend; i++) {
        if (pend[i].device_id == device_id) {
            return;
        }
    }
    if (n_pend == cap_pend) {
        size_t nc = cap_pend == 0 ? 16 : cap_pend * 2;
        struct pending *p = realloc(pend, nc * sizeof(*p));
        if (p == NULL) {
            return; /* retried at the next tick */
        }
        pend = p;
        cap_pend = nc;
    }
    pend[n_pend].device_id = device_id;
    pend[n_pend].mid = mid;
    pend[n_pend].since_ms = now_ms;
    n_pend++;
}

void gw_coap_dtls_ack_tick(struct gw_coap *c, int64_t now_ms)
{
    size_t i;

    if (!is_tapped) {
        return;
    }
    pend_forget_stale(c);
    for (i = 0; i < c->n_in_flight; i++) {
        if (dtls_in_flight(c, c->in_flight[i]) != NULL) {
            pend_add(c->in_flight[i], gw_sched_get(c->sched, c->in_flight[i], false)->in_flight_mid,
                     now_ms);
        }
    }
    i = 0;
    while (i < n_pend) {
        coap_session_t *s = dtls_in_flight(c, pend[i].device_id);
        if (now_ms - pend[i].since_ms >
            DEADLINE_WINDOWS * transmit_wait_ms(s) + DEADLINE_SLACK_MS) {
            gw_log_notice("notification presumed delivered: no NACK within the retransmission "
                          "window dev=%lld mid=%u",
                          (long long)pend[i].device_id, (unsigned)pend[i].mid);
            delivered(c, pend[i].device_id, s, "no-nack");
            pend[i] = pend[--n_pend];
        } else {
            i++;
        }
    }
}
