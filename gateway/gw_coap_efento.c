/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_efento.c - the Efento NB-IoT resources (specs/efento.md R1-R6, sections 3, 8, 9):
 * POST efento/{m,i,c} (and the factory paths m, i, c), GET or POST efento/t and t.
 *
 * A frame goes through, in this order (3.3): method and path (4.05, 4.00), size cap (4.13 with
 * Size1), decode with section 9's bounds (4.00 and a rate-limited log line with the peer and a
 * hex prefix), identification (R2: the values of the token options configured in Efento
 * profiles, then the payload token; a candidate counts only when its device's profile expects the
 * token at that place; unknown -> auto-accept or 4.01 and a pending entry; a non-Efento profile
 * -> 4.00), the retransmission cache (the same answer byte for byte; a NON success has no answer
 * and a repeated one none either), then one storage transaction with everything the frame
 * produced (gw_store_efento_commit), and only then the answer: CON 2.01, NON nothing (code 0.00,
 * which libcoap 4.3.1 drops for a NON request). Efento answers never carry a diagnostic payload
 * (a sensor may read any payload as a configuration); reasons go to the log.
 *
 * Downlink (section 8) rides only in the 2.01 of a CON measurement frame: current_time (8.3),
 * device_info_request on first contact, configuration_request on a changed configuration_hash,
 * and the admin's queued EFENTO_CONFIG entries, merged oldest first into one ProtoConfig of at
 * most DOWNLINK_CAP bytes (so the retransmission cache can always keep the exact answer).
 * Queue states move with the frames that prove them (gw_store_efento.c has the diagram): an entry
 * is SENT when the answer carrying it goes out (its Message ID recorded); the ACK of a
 * piggybacked answer is not observable, so the sensor's next frame with a new Message ID is the
 * proof of delivery (DELIVERED), unless that frame is a retried measurement frame (the answer was
 * lost: QUEUED again, a try counted); the configuration that follows confirms settings
 * (SUCCESSFUL, or FAILED with its configuration_errors or the first value that differs), a
 * device info frame confirms a deviceInfoRequest. Efento frames are activity (lastActivity) but
 * not power-saving uplinks: an Efento sensor's reachability window is the CON exchange itself.
 *
 * Loop-thread state (struct efento_rt below, one per process like libcoap's context): decode
 * buffers, the Efento profiles (refreshed every PROFILE_REFRESH_MS) and the option numbers
 * registered with libcoap, the per-peer log limiter and the auto-accept budget.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efento/efento.h"
#include "gateway/gw_coap_internal.h"
#include "gateway/gw_efento.h"
#include "gateway/gw_log.h"

#define CLOCK_FLOOR_S        1767225600 /* 2026-01-01: an earlier gateway clock is not plausible */
#define PROFILE_REFRESH_MS   5000
#define PROFILES_MAX         32
#define OPTIONS_MAX          8 /* libcoap 4.3.1's option filter holds about this many numbers */
#define LOG_PEERS            64
#define LOG_PER_MINUTE       10
#define AUTO_ACCEPT_PER_HOUR 100
#define HEX_PREFIX_BYTES     32
#define OPEN_DL_MAX          32
#define EVENTS_MAX           (EFENTO_ERROR_EVENTS_MAX + EFENTO_CHANNELS_MAX + 8)
#define CHANGES_MAX          (3 * OPEN_DL_MAX)
#define EVENT_BODY_MAX       256
#define DOWNLINK_CAP                                                                               \
    (EFENTO_DOWNLINK_MAX < GW_DEDUP_PAYLOAD_MAX ? EFENTO_DOWNLINK_MAX : GW_DEDUP_PAYLOAD_MAX)

struct peer_log {
    char peer[64];
    int64_t window_ms; /* monotonic start of the current minute */
    uint32_t n;        /* malformed frames in it */
};

static struct efento_rt {
    struct efento_reading *readings; /* EFENTO_MEAS_READINGS_MAX */
    struct profile_kv *kv;           /* views of readings or attributes */
    struct efento_attr *attrs;       /* EFENTO_CONFIG_ATTRS_MAX */
    char *text;                      /* EFENTO_CONFIG_TEXT_MAX */
    struct gw_efento_profile profiles[PROFILES_MAX];
    size_t n_profiles;
    int64_t profiles_ms; /* monotonic time of the last refresh; 0 = never */
    uint16_t registered[OPTIONS_MAX];
    size_t n_registered;
    struct peer_log peers[LOG_PEERS];
    int64_t accept_window_ms;
    uint32_t accepted;
} rt;

/* One frame on its way through. */
struct frame {
    struct gw_req *r;
    char res; /* 'm', 'i', 'c' */
    bool is_con;
    uint16_t mid;
    struct efento_ident id;
    struct efento_meas_info meas;  /* res 'm' */
    struct efento_config_info cfg; /* res 'c' */
    size_t n_readings;
    struct gw_efento_device dev;
    char peer[64];
};

/* What the frame will commit, built up as the frame is handled. */
struct work {
    struct gw_efento_commit c;
    struct gw_efento_event events[EVENTS_MAX];
    char bodies[EVENTS_MAX][EVENT_BODY_MAX];
    struct gw_efento_dl_change changes[CHANGES_MAX];
    char responses[CHANGES_MAX][EVENT_BODY_MAX];
    struct profile_kv server[4];
    char serial[GW_EFENTO_SERIAL_MAX];
    const char *client_deleted[4];
    struct gw_efento_part part;
};

static const uint8_t empty_payload[1];

/* Makes a message safe inside a JSON string: quotes, backslashes and controls become '. */
static void json_escape_err(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) {
            *s = '\'';
        }
    }
}

static bool rt_ready(void)
{
    if (rt.readings == NULL) {
        rt.readings = calloc(EFENTO_MEAS_READINGS_MAX, sizeof(*rt.readings));
        rt.kv = calloc(EFENTO_MEAS_READINGS_MAX, sizeof(*rt.kv));
        rt.attrs = calloc(EFENTO_CONFIG_ATTRS_MAX, sizeof(*rt.attrs));
        rt.text = malloc(EFENTO_CONFIG_TEXT_MAX);
    }
    return rt.readings != NULL && rt.kv != NULL && rt.attrs != NULL && rt.text != NULL;
}

static void peer_of(const struct gw_req *r, char *buf, size_t len)
{
    size_t n = coap_print_addr(coap_session_get_addr_remote(r->session), (unsigned char *)buf, len);

    buf[n < len ? n : len - 1] = '\0';
}

/* ---- profiles and option registration (R2.2, R2.3) ------------------------------------------ */

static void register_option(int32_t num)
{
    size_t i;

    /* Even numbers are elective and need no registration; odd ones would get 4.02 otherwise. */
    if (num < 1 || num > 64999 || (num & 1) == 0) {
        return;
    }
    for (i = 0; i < rt.n_registered; i++) {
        if (rt.registered[i] == (uint16_t)num) {
            return;
        }
    }
    if (rt.n_registered == OPTIONS_MAX) {
        gw_log_warn("efento option not registered option=%d hint=\"at most %d critical options\"",
                    (int)num, OPTIONS_MAX);
        return;
    }
    rt.registered[rt.n_registered++] = (uint16_t)num;
    gw_log_info("efento option registered option=%d", (int)num);
}

static int collect_profile(void *arg, const struct gw_efento_profile *p)
{
    (void)arg;
    if (rt.n_profiles < PROFILES_MAX) {
        rt.profiles[rt.n_profiles++] = *p;
    }
    return 0;
}

void gw_coap_efento_refresh(struct gw_coap *c, int64_t mono_ms)
{
    size_t i, before = rt.n_registered;

    if (rt.profiles_ms != 0 && mono_ms - rt.profiles_ms < PROFILE_REFRESH_MS) {
        return;
    }
    rt.profiles_ms = mono_ms;
    rt.n_profiles = 0;
    if (gw_store_efento_profiles(c->store, collect_profile, NULL) != 0) {
        return;
    }
    for (i = 0; i < rt.n_profiles; i++) {
        register_option(rt.profiles[i].token_option);
        register_option(rt.profiles[i].signature_option);
        register_option(rt.profiles[i].modem_id_option);
    }
    for (i = before; i < rt.n_registered; i++) {
        coap_register_option(c->ctx, rt.registered[i]);
    }
}

/* ---- malformed frames: 4.00 / 4.13 and a bounded log (R6, section 9) ------------------------ */

static void malformed(struct frame *f, struct gw_answer *a, coap_pdu_code_t code, const char *why)
{
    struct peer_log *slot = &rt.peers[0];
    char hex[2 * HEX_PREFIX_BYTES + 1];
    int64_t now = f->r->mono_ms;
    size_t i;

    gw_coap_answer(a, code, NULL);
    for (i = 0; i < LOG_PEERS; i++) {
        if (strcmp(rt.peers[i].peer, f->peer) == 0) {
            slot = &rt.peers[i];
            break;
        }
        if (rt.peers[i].window_ms < slot->window_ms) {
            slot = &rt.peers[i];
        }
    }
    if (strcmp(slot->peer, f->peer) != 0 || now - slot->window_ms >= 60000) {
        if (strcmp(slot->peer, f->peer) == 0 && slot->n > LOG_PER_MINUTE) {
            gw_log_notice("efento malformed frames not logged peer=%s count=%u", slot->peer,
                          (unsigned)(slot->n - LOG_PER_MINUTE));
        }
        (void)snprintf(slot->peer, sizeof(slot->peer), "%s", f->peer);
        slot->window_ms = now;
        slot->n = 0;
    }
    if (++slot->n > LOG_PER_MINUTE) {
        return;
    }
    gw_efento_hex(f->r->data, f->r->len, HEX_PREFIX_BYTES, hex, sizeof(hex));
    gw_log_notice("efento malformed frame peer=%s path=%c code=%u.%02u len=%zu err=\"%s\" hex=%s",
                  f->peer, f->res, (unsigned)code >> 5, (unsigned)code & 0x1f, f->r->len, why, hex);
}

/* ---- decode ---------------------------------------------------------------------------------- */

static bool frame_decode(struct frame *f, struct gw_answer *a)
{
    struct gw_req *r = f->r;
    size_t cap = (size_t)r->c->cfg->max_payload_size;
    coap_opt_iterator_t it;
    struct efento_opts o;
    struct efento_part part;
    char err[160] = "";
    int rc;

    efento_opts_init(&o);
    cap = cap < EFENTO_PAYLOAD_MAX ? cap : EFENTO_PAYLOAD_MAX;
    o.payload_bytes = cap;
    o.is_type_cast = r->c->cfg->json_type_cast_enabled;
    if (r->len > cap) {
        (void)snprintf(err, sizeof(err), "payload larger than %zu bytes", cap);
        malformed(f, a, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE, err);
        a->size1 = (uint32_t)cap;
        return false;
    }
    if (coap_check_option(r->pdu, COAP_OPTION_BLOCK1, &it) != NULL) {
        malformed(f, a, COAP_RESPONSE_CODE_BAD_REQUEST, "block-wise upload on an Efento resource");
        return false;
    }
    if (r->data == NULL) {
        r->data = empty_payload;
    }
    if (f->res == 'm') {
        rc = efento_measurements_decode(r->data, r->len, &o, &f->meas, rt.readings,
                                        EFENTO_MEAS_READINGS_MAX, &f->n_readings, err, sizeof(err));
        f->id = f->meas.id;
    } else if (f->res == 'i') {
        rc = efento_device_info_decode(r->data, r->len, &o, r->now_ms, &f->id, rt.readings,
                                       EFENTO_DEVINFO_READINGS_MAX, &f->n_readings, err,
                                       sizeof(err));
    } else {
        part.data = r->data;
        part.len = r->len;
        rc = efento_config_parse(&part, 1, &o, &f->cfg, err, sizeof(err));
        f->id = f->cfg.id;
    }
    if (rc == -ENOMEM) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        gw_log_err("efento decode out of memory peer=%s", f->peer);
    } else if (rc != 0) {
        malformed(f, a,
                  rc == -ERANGE ? COAP_RESPONSE_CODE_REQUEST_TOO_LARGE
                                : COAP_RESPONSE_CODE_BAD_REQUEST,
                  err);
        if (rc == -ERANGE) {
            a->size1 = (uint32_t)cap;
        }
    }
    return rc == 0;
}

/* ---- identification (R2) --------------------------------------------------------------------- */

static bool utf8_ok(const uint8_t *p, size_t n)
{
    size_t i = 0, k, len;

    while (i < n) {
        uint8_t b = p[i];
        len = b < 0x80             ? 1
              : (b & 0xe0) == 0xc0 ? 2
              : (b & 0xf0) == 0xe0 ? 3
              : (b & 0xf8) == 0xf0 ? 4
                                   : 0;
        if (b == 0 || len == 0 || i + len > n || (len == 2 && b < 0xc2)) {
            return false;
        }
        for (k = 1; k < len; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
        }
        i += len;
    }
    return true;
}

/* 1: the token identifies an Efento device whose profile expects it at `place`; 0: not; <0. */
static int try_token(struct frame *f, const char *tok, size_t len, int32_t place, bool *is_wrong)
{
    int rc = gw_store_efento_device(f->r->c->store, tok, len, &f->dev);

    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc;
    }
    if (!f->dev.is_efento) {
        *is_wrong = true;
        return 0;
    }
    return f->dev.profile.token_option == place ? 1 : 0;
}

/* Creates the device when a profile auto-accepts tokens at this place (R2.6). */
static bool auto_accept(struct frame *f, const char *tok, int32_t place)
{
    const struct gw_efento_profile *p = NULL;
    size_t i;

    for (i = 0; i < rt.n_profiles && p == NULL; i++) {
        if (rt.profiles[i].is_auto_accept && rt.profiles[i].token_option == place) {
            p = &rt.profiles[i];
        }
    }
    if (p == NULL || tok[0] == '\0' || strlen(tok) >= GW_STORE_TOKEN_MAX) {
        return false;
    }
    if (f->r->mono_ms - rt.accept_window_ms >= 3600000 || rt.accept_window_ms == 0) {
        rt.accept_window_ms = f->r->mono_ms;
        rt.accepted = 0;
    }
    if (rt.accepted >= AUTO_ACCEPT_PER_HOUR) {
        gw_log_warn("efento auto-accept limit reached peer=%s limit=%d/h", f->peer,
                    AUTO_ACCEPT_PER_HOUR);
        return false;
    }
    if (gw_store_efento_auto_accept(f->r->c->store, tok, f->id.serial, p->name, f->r->now_ms) !=
        0) {
        return false;
    }
    rt.accepted++;
    return true;
}

static void note_pending(struct frame *f, const char *tok, int32_t place)
{
    struct gw_efento_pending p;

    memset(&p, 0, sizeof(p));
    p.token_option = place;
    (void)snprintf(p.token, sizeof(p.token), "%s", tok);
    (void)snprintf(p.serial, sizeof(p.serial), "%s", f->id.serial);
    p.msg_type = f->res;
    (void)snprintf(p.peer, sizeof(p.peer), "%s", f->peer);
    if (gw_store_efento_pending_note(f->r->c->store, &p, f->r->data, f->r->len, f->r->now_ms) !=
        0) {
        gw_log_warn("efento pending entry not stored peer=%s", f->peer);
    }
    gw_log_info("efento unknown token peer=%s path=%c serial=%s place=%s", f->peer, f->res,
                f->id.serial[0] != '\0' ? f->id.serial : "-",
                place == GW_EFENTO_TOKEN_PAYLOAD ? "payload" : "option");
}

static bool frame_identify(struct frame *f, struct gw_answer *a)
{
    char tok[GW_EFENTO_TEXT_MAX] = "";
    int32_t place = GW_EFENTO_TOKEN_PAYLOAD;
    bool is_wrong = false, has_option = false;
    coap_opt_iterator_t it;
    size_t i, k;
    int rc = 0;

    for (i = 0; rc == 0 && i < rt.n_profiles; i++) {
        int32_t num = rt.profiles[i].token_option;
        coap_opt_t *opt;
        for (k = 0; k < i && rt.profiles[k].token_option != num; k++) {
        }
        if (num == GW_EFENTO_TOKEN_PAYLOAD || k < i ||
            (opt = coap_check_option(f->r->pdu, (coap_option_num_t)num, &it)) == NULL) {
            continue;
        }
        if (coap_opt_length(opt) == 0 || coap_opt_length(opt) >= sizeof(tok) ||
            !utf8_ok(coap_opt_value(opt), coap_opt_length(opt))) {
            continue;
        }
        if (!has_option) { /* the first token option present names the pending entry */
            memcpy(tok, coap_opt_value(opt), coap_opt_length(opt));
            tok[coap_opt_length(opt)] = '\0';
            place = num;
            has_option = true;
        }
        rc = try_token(f, (const char *)coap_opt_value(opt), coap_opt_length(opt), num, &is_wrong);
    }
    if (rc == 0 && f->id.cloud_token[0] != '\0') {
        rc = try_token(f, f->id.cloud_token, strlen(f->id.cloud_token), GW_EFENTO_TOKEN_PAYLOAD,
                       &is_wrong);
    }
    if (rc == 0 && !has_option) {
        (void)snprintf(tok, sizeof(tok), "%s", f->id.cloud_token);
    }
    if (rc == 0 && !is_wrong && auto_accept(f, tok, place)) {
        rc = try_token(f, tok, strlen(tok), place, &is_wrong);
    }
    if (rc == 1) {
        return true;
    }
    if (rc < 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
    } else if (is_wrong) {
        gw_log_info("efento token of a device whose profile is not Efento NB-IoT peer=%s dev=%lld",
                    f->peer, (long long)f->dev.id);
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, NULL);
    } else {
        note_pending(f, tok, place);
        gw_coap_answer(a, COAP_RESPONSE_CODE_UNAUTHORIZED, NULL);
    }
    return false;
}

/* ---- retransmissions (R3.4) ------------------------------------------------------------------ */

static bool replay(struct frame *f, struct gw_answer *a)
{
    coap_bin_const_t tok = coap_pdu_get_token(f->r->pdu);
    const struct gw_dedup_answer *seen =
        gw_dedup_find(f->r->c->dedup, f->dev.id, f->mid, tok.s, tok.length, f->r->mono_ms);
    char *body;

    if (seen == NULL) {
        return false;
    }
    f->r->c->stats.duplicates++;
    gw_coap_answer(a, seen->code, NULL); /* code 0: a NON success, dropped again */
    if (seen->payload_len > 0 && (body = malloc(seen->payload_len)) != NULL) {
        memcpy(body, seen->payload, seen->payload_len);
        gw_coap_answer_body(a, seen->code, seen->content_format, body, seen->payload_len);
    }
    gw_log_debug("efento retransmission answered again peer=%s dev=%lld mid=%u", f->peer,
                 (long long)f->dev.id, (unsigned)f->mid);
    return true;
}

static void remember(struct frame *f, const struct gw_answer *a)
{
    coap_bin_const_t tok = coap_pdu_get_token(f->r->pdu);
    struct gw_dedup_answer ans;

    if (a->body_len > GW_DEDUP_PAYLOAD_MAX || (a->code >> 5) == 5) {
        return;
    }
    memset(&ans, 0, sizeof(ans));
    ans.code = (uint8_t)a->code;
    ans.content_format = a->content_format;
    ans.payload_len = a->body_len;
    if (a->body_len > 0) {
        memcpy(ans.payload, a->body, a->body_len);
    }
    (void)gw_dedup_put(f->r->c->dedup, f->dev.id, f->mid, tok.s, tok.length, f->r->mono_ms, &ans);
}

/* ---- what a frame commits -------------------------------------------------------------------- */

static void work_init(struct work *w, const struct frame *f)
{
    memset(&w->c, 0, sizeof(w->c));
    w->c.device_id = f->dev.id;
    w->c.now_ms = f->r->now_ms;
    w->c.events = w->events;
    w->c.changes = w->changes;
    w->c.server = w->server;
    w->c.client_deleted = w->client_deleted;
}

static void add_event(struct work *w, const char *type, bool is_once, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_event(struct work *w, const char *type, bool is_once, const char *fmt, ...)
{
    va_list ap;
    size_t i = w->c.n_events;

    if (i == EVENTS_MAX) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(w->bodies[i], EVENT_BODY_MAX, fmt, ap);
    va_end(ap);
    w->events[i].type = type;
    w->events[i].body = w->bodies[i];
    w->events[i].is_once = is_once;
    w->c.n_events++;
}

static void add_change(struct work *w, int64_t id, enum gw_dl_state state, bool is_final,
                       int32_t mid, const char *response)
{
    size_t i = w->c.n_changes;

    if (i == CHANGES_MAX) {
        return;
    }
    w->changes[i].id = id;
    w->changes[i].state = state;
    w->changes[i].is_final = is_final;
    w->changes[i].mid = mid;
    w->changes[i].response = NULL;
    if (response != NULL) {
        (void)snprintf(w->responses[i], EVENT_BODY_MAX, "%s", response);
        w->changes[i].response = w->responses[i];
    }
    w->c.n_changes++;
}

static void add_server_long(struct work *w, const char *key, int64_t v)
{
    struct profile_kv *kv = &w->server[w->c.n_server++];

    memset(kv, 0, sizeof(*kv));
    kv->key = (char *)(uintptr_t)key;
    kv->v.type = PROFILE_VT_LONG;
    kv->v.l = v;
}

/* R2.8: the last serial seen, and an event when it changes under the same token. */
static void note_serial(struct work *w, const struct frame *f)
{
    struct profile_kv *kv;

    if (f->id.serial[0] == '\0' || strcmp(f->id.serial, f->dev.serial) == 0) {
        return;
    }
    if (f->dev.serial[0] != '\0') {
        add_event(w, "EFENTO_SERIAL_CHANGE", false, "{\"from\":\"%s\",\"to\":\"%s\"}",
                  f->dev.serial, f->id.serial);
    }
    (void)snprintf(w->serial, sizeof(w->serial), "%s", f->id.serial);
    kv = &w->server[w->c.n_server++];
    memset(kv, 0, sizeof(*kv));
    kv->key = (char *)(uintptr_t) "efentoSerial";
    kv->v.type = PROFILE_VT_STRING;
    kv->v.s = w->serial;
    kv->v.s_len = strlen(w->serial);
}

/* R4(h), 7.8: sensor error samples are counted and logged; unknown types logged once. */
static void note_errors(struct work *w, const struct frame *f)
{
    const struct efento_meas_info *m = &f->meas;
    size_t i;

    for (i = 0; i < EFENTO_CHANNELS_MAX && i < GW_EFENTO_CHANNELS; i++) {
        w->c.error_samples[i] = m->channel_error_samples[i];
    }
    for (i = 0; i < m->n_errors; i++) {
        const struct efento_sensor_error *e = &m->errors[i];
        add_event(w, "EFENTO_SENSOR_ERROR", false,
                  "{\"channel\":%u,\"type\":%d,\"code\":%u,\"hex\":\"0x%06X\",%s\"samples\":%u,"
                  "\"firstS\":%lld,\"lastS\":%lld}",
                  (unsigned)e->channel, (int)e->type, (unsigned)e->code, (unsigned)e->code,
                  e->code == 8388557 ? "\"name\":\"SHT4x failure\"," : "", (unsigned)e->samples,
                  (long long)e->first_s, (long long)e->last_s);
    }
    for (i = 0; i < m->n_unknown_types; i++) {
        add_event(w, "EFENTO_UNSUPPORTED_TYPE", true, "{\"type\":%d}", (int)m->unknown_types[i]);
    }
}

/*
 * The frame proves that the exchanges before it completed (8.5): SENT entries become DELIVERED
 * (final for commands without a reply), or QUEUED again when this is a retried measurement frame;
 * DELIVERED entries not confirmed within confirmTimeoutS time out. dls[].state follows.
 */
static void progress(struct work *w, const struct frame *f, struct gw_efento_dl *dls, size_t n)
{
    bool is_retry = f->res == 'm' && EFENTO_RETRY_COUNT(f->meas.transfer_reason) != 0;
    int64_t timeout_ms = f->dev.profile.confirm_timeout_s * 1000;
    size_t i;

    for (i = 0; i < n; i++) {
        struct gw_efento_dl *d = &dls[i];
        if (d->state == GW_DL_DELIVERED && f->r->now_ms - d->sent_ms > timeout_ms) {
            add_change(w, d->id, GW_DL_TIMEOUT, false, 0,
                       "{\"error\":\"not confirmed by the sensor\"}");
            d->state = ++d->retries > GW_EFENTO_MAX_SENDS - 1 ? GW_DL_FAILED : GW_DL_TIMEOUT;
        } else if (d->state == GW_DL_SENT && d->sent_mid != (int32_t)f->mid) {
            if (is_retry) {
                add_change(w, d->id, GW_DL_QUEUED, false, 0,
                           "{\"error\":\"sent without being delivered\"}");
                d->state = ++d->retries > GW_EFENTO_MAX_SENDS - 1 ? GW_DL_FAILED : GW_DL_QUEUED;
            } else {
                bool is_final = gw_efento_settings_confirm(d->body) == GW_EFENTO_CONFIRM_NONE;
                add_change(w, d->id, GW_DL_DELIVERED, is_final, 0, NULL);
                d->state = is_final ? GW_DL_SUCCESSFUL : GW_DL_DELIVERED; /* SUCCESSFUL: done */
            }
        }
    }
}

static int commit_and_answer(struct frame *f, struct gw_answer *a, struct work *w, uint8_t *payload,
                             size_t payload_len)
{
    int rc = gw_store_efento_commit(f->r->c->store, &w->c);
    char *body;

    if (rc != 0) {
        gw_log_err("efento frame not stored peer=%s dev=%lld rc=%d", f->peer, (long long)f->dev.id,
                   rc);
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        return rc;
    }
    f->r->c->stats.stored++;
    if (!f->is_con) {
        gw_coap_answer(a, (coap_pdu_code_t)0, NULL); /* R3.2: no answer to a NON success */
        return 0;
    }
    gw_coap_answer(a, COAP_RESPONSE_CODE_CREATED, NULL);
    if (payload_len > 0 && (body = malloc(payload_len)) != NULL) {
        memcpy(body, payload, payload_len);
        gw_coap_answer_body(a, COAP_RESPONSE_CODE_CREATED, -1, body, payload_len);
    }
    return 0;
}

/* ---- the downlink of a CON measurement frame (section 8) ------------------------------------ */

/* The automatic part of a downlink (8.2 items 1-3). */
struct auto_dl {
    uint32_t current_time; /* 0 = none */
    bool is_devinfo_request;
    bool is_config_request;
};

/* Builds auto + the bodies of dls[idx[0..n)] (+ extra) into a fresh downlink. */
static int build(const struct auto_dl *ad, const struct gw_efento_dl *dls, const size_t *idx,
                 size_t n, const struct gw_efento_dl *extra, struct efento_downlink **out,
                 char *err, size_t err_len)
{
    struct efento_downlink *dl = NULL;
    bool is_config = ad->is_config_request;
    size_t i;
    int rc = efento_downlink_new(&dl);

    for (i = 0; rc == 0 && i <= n; i++) {
        const struct gw_efento_dl *d = i < n ? &dls[idx[i]] : extra;
        if (d == NULL) {
            break;
        }
        rc = gw_efento_settings_apply(dl, d->body, strlen(d->body), err, err_len);
        is_config = is_config || gw_efento_settings_confirm(d->body) == GW_EFENTO_CONFIRM_CONFIG;
    }
    if (rc == 0 && ad->current_time != 0) {
        rc = efento_downlink_set_uint(dl, "currentTime", ad->current_time, err, err_len);
    }
    if (rc == 0 && ad->is_devinfo_request) {
        rc = efento_downlink_set_uint(dl, "deviceInfoRequest", 1, err, err_len);
    }
    if (rc == 0 && is_config) {
        rc = efento_downlink_set_uint(dl, "configurationRequest", 1, err, err_len);
    }
    if (rc != 0) {
        efento_downlink_free(dl);
        dl = NULL;
    }
    *out = dl;
    return rc;
}

static void auto_requests(struct work *w, const struct frame *f, struct auto_dl *ad)
{
    const struct gw_efento_device *dev = &f->dev;
    int64_t now_s = f->r->now_ms / 1000, drift = 0;
    int64_t gap_ms = dev->profile.request_retry_s * 1000;
    uint32_t hash = f->meas.configuration_hash;

    memset(ad, 0, sizeof(*ad));
    if (now_s >= CLOCK_FLOOR_S &&
        gw_efento_clock_sync(&f->meas, now_s, dev->profile.clock_sync_threshold_s, &drift)) {
        ad->current_time = (uint32_t)now_s;
        if (dev->profile.clock_sync_threshold_s != 0) {
            add_event(w, "EFENTO_CLOCK_SYNC", false, "{\"driftS\":%lld,\"currentTime\":%lld}",
                      (long long)drift, (long long)now_s);
        }
    }
    if (!dev->has_device_info && f->r->now_ms - dev->devinfo_request_ms >= gap_ms) {
        ad->is_devinfo_request = true;
        add_server_long(w, "efentoDeviceInfoRequestTs", f->r->now_ms);
    }
    if (hash != 0 && (!dev->has_config_hash || dev->config_hash != hash) &&
        f->r->now_ms - dev->config_request_ms >= gap_ms) {
        ad->is_config_request = true;
        add_server_long(w, "efentoConfigurationRequestTs", f->r->now_ms);
    }
    if (ad->is_devinfo_request || ad->is_config_request) {
        add_event(w, "EFENTO_REQUEST", false,
                  "{\"deviceInfoRequest\":%s,\"configurationRequest\":%s,\"configurationHash\":%u}",
                  ad->is_devinfo_request ? "true" : "false",
                  ad->is_config_request ? "true" : "false", (unsigned)hash);
    }
}

/* Merges what is due into payload (at most DOWNLINK_CAP bytes); entries carried become SENT. */
static size_t build_downlink(struct work *w, const struct frame *f, struct gw_efento_dl *dls,
                             size_t n, uint8_t *payload)
{
    struct efento_downlink *dl = NULL;
    struct auto_dl ad;
    size_t idx[OPEN_DL_MAX], n_idx = 0, len = 0, i;
    char err[160], resp[EVENT_BODY_MAX];

    auto_requests(w, f, &ad);
    for (i = 0; i < n; i++) {
        if (dls[i].state != GW_DL_QUEUED && dls[i].state != GW_DL_TIMEOUT) {
            continue;
        }
        if (build(&ad, dls, idx, n_idx, &dls[i], &dl, err, sizeof(err)) != 0) {
            json_escape_err(err);
            (void)snprintf(resp, sizeof(resp), "{\"error\":\"%s\"}", err);
            add_change(w, dls[i].id, GW_DL_FAILED, false, 0, resp);
            continue;
        }
        if (efento_downlink_size(dl) <= DOWNLINK_CAP) {
            idx[n_idx++] = i;
        } else if (n_idx == 0) {
            (void)snprintf(resp, sizeof(resp),
                           "{\"error\":\"larger than a downlink (%zu > %d"
                           " bytes)\"}",
                           efento_downlink_size(dl), (int)DOWNLINK_CAP);
            add_change(w, dls[i].id, GW_DL_FAILED, false, 0, resp);
        }
        efento_downlink_free(dl);
        dl = NULL;
    }
    if (build(&ad, dls, idx, n_idx, NULL, &dl, err, sizeof(err)) == 0 &&
        !efento_downlink_is_empty(dl) &&
        efento_downlink_encode(dl, payload, DOWNLINK_CAP, &len) != 0) {
        len = 0;
    }
    efento_downlink_free(dl);
    for (i = 0; i < n_idx && len > 0; i++) {
        add_change(w, dls[idx[i]].id, GW_DL_SENT, false, (int32_t)f->mid, NULL);
    }
    return len;
}

/* ---- the three frame kinds ------------------------------------------------------------------- */

static void frame_meas(struct frame *f, struct gw_answer *a)
{
    struct gw_efento_dl dls[OPEN_DL_MAX];
    uint8_t payload[DOWNLINK_CAP];
    struct work *w = malloc(sizeof(*w));
    size_t n_dl = 0, len = 0, i;

    if (w == NULL || gw_store_efento_dl_open(f->r->c->store, f->dev.id, f->r->now_ms, dls,
                                             OPEN_DL_MAX, &n_dl) != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        free(w);
        return;
    }
    work_init(w, f);
    for (i = 0; i < f->n_readings; i++) {
        gw_efento_reading_kv(&rt.readings[i], &rt.kv[i]);
    }
    w->c.telemetry = rt.kv;
    w->c.n_telemetry = f->n_readings;
    note_serial(w, f);
    note_errors(w, f);
    progress(w, f, dls, n_dl);
    if (f->is_con) {
        len = build_downlink(w, f, dls, n_dl, payload);
    }
    (void)commit_and_answer(f, a, w, payload, len);
    gw_store_efento_dl_fini(dls, n_dl);
    free(w);
}

/* Server time for device-info records, unique per device (R3.5: a re-sent frame adds a record). */
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

static void frame_devinfo(struct frame *f, struct gw_answer *a)
{
    struct gw_efento_dl dls[OPEN_DL_MAX];
    struct work *w = malloc(sizeof(*w));
    int64_t stamp = data_stamp(f->r->c, f->dev.id, f->r->now_ms);
    size_t n_dl = 0, i;

    if (w == NULL || gw_store_efento_dl_open(f->r->c->store, f->dev.id, f->r->now_ms, dls,
                                             OPEN_DL_MAX, &n_dl) != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        free(w);
        return;
    }
    work_init(w, f);
    for (i = 0; i < f->n_readings; i++) {
        rt.readings[i].ts_ms = stamp;
        gw_efento_reading_kv(&rt.readings[i], &rt.kv[i]);
    }
    w->c.telemetry = rt.kv;
    w->c.n_telemetry = f->n_readings;
    note_serial(w, f);
    progress(w, f, dls, n_dl);
    for (i = 0; i < n_dl; i++) {
        if ((dls[i].state == GW_DL_SENT || dls[i].state == GW_DL_DELIVERED) &&
            gw_efento_settings_confirm(dls[i].body) == GW_EFENTO_CONFIRM_DEVICE_INFO) {
            add_change(w, dls[i].id, GW_DL_SUCCESSFUL, false, 0, NULL);
        }
    }
    (void)commit_and_answer(f, a, w, NULL, 0);
    gw_store_efento_dl_fini(dls, n_dl);
    free(w);
}

static const char *split_reason(enum efento_split_discard d)
{
    switch (d) {
    case EFENTO_SPLIT_EXPIRED:
        return "expired";
    case EFENTO_SPLIT_RESTARTED:
        return "restarted";
    case EFENTO_SPLIT_TOO_BIG:
        return "too big";
    case EFENTO_SPLIT_INCONSISTENT:
        return "inconsistent";
    case EFENTO_SPLIT_KEPT:
        break;
    }
    return "kept";
}

/*
 * Split reassembly (7.10): replays the held parts, accounts for this one, and fills parts[] with
 * the complete configuration in index order (*n_parts 0 when it is not complete yet).
 */
static int reassemble(struct work *w, struct frame *f, struct gw_efento_part *held, size_t n_held,
                      struct efento_part *parts, size_t *n_parts)
{
    struct efento_split sp;
    struct efento_split_step step;
    int64_t now_s = f->r->now_ms / 1000;
    size_t i, k;

    *n_parts = 0;
    efento_split_init(&sp);
    for (i = 0; i < n_held; i++) {
        (void)efento_split_add(&sp, held[i].split_info, held[i].len, held[i].rx_s, &step);
    }
    (void)efento_split_add(&sp, f->cfg.payload_split_info, f->r->len, now_s, &step);
    if (step.discard != EFENTO_SPLIT_KEPT) {
        w->c.is_parts_dropped = true;
        add_event(w, "EFENTO_CONFIG_DISCARDED", false, "{\"reason\":\"%s\",\"parts\":%zu}",
                  split_reason(step.discard), n_held);
        n_held = 0;
    }
    if (step.is_whole) {
        parts[0].data = f->r->data;
        parts[0].len = f->r->len;
        *n_parts = 1;
    } else if (step.is_store && !step.is_complete) {
        w->part.split_info = f->cfg.payload_split_info;
        w->part.rx_s = now_s;
        w->part.data = (uint8_t *)(uintptr_t)f->r->data;
        w->part.len = f->r->len;
        w->c.part_add = &w->part;
    } else if (step.is_complete) {
        for (k = 1; k <= step.index; k++) {
            parts[k - 1].data = NULL;
            for (i = 0; i < n_held; i++) {
                if ((uint32_t)abs(held[i].split_info) == k) {
                    parts[k - 1].data = held[i].data;
                    parts[k - 1].len = held[i].len;
                }
            }
            if (k == step.index) {
                parts[k - 1].data = f->r->data;
                parts[k - 1].len = f->r->len;
            }
            if (parts[k - 1].data == NULL) {
                return -EBADMSG;
            }
        }
        *n_parts = step.index;
        w->c.is_parts_dropped = true;
    }
    return 0;
}

/* Confirms the entries waiting for a configuration (8.5): SUCCESSFUL or FAILED. */
static void confirm_config(struct work *w, const struct efento_config_info *ci,
                           const struct gw_efento_dl *dls, size_t n, size_t n_attrs)
{
    char why[200], resp[EVENT_BODY_MAX];
    size_t i, k, at;

    for (i = 0; i < n; i++) {
        if ((dls[i].state != GW_DL_SENT && dls[i].state != GW_DL_DELIVERED) ||
            gw_efento_settings_confirm(dls[i].body) != GW_EFENTO_CONFIRM_CONFIG) {
            continue;
        }
        if (ci->n_configuration_errors > 0) {
            at = (size_t)snprintf(resp, sizeof(resp), "{\"configurationErrors\":[");
            for (k = 0; k < ci->n_configuration_errors && at < sizeof(resp) - 16; k++) {
                at += (size_t)snprintf(resp + at, sizeof(resp) - at, "%s%u", k > 0 ? "," : "",
                                       (unsigned)ci->configuration_errors[k]);
            }
            (void)snprintf(resp + at, sizeof(resp) - at, "]}");
            add_change(w, dls[i].id, GW_DL_FAILED, false, 0, resp);
        } else if (gw_efento_settings_match(dls[i].body, rt.attrs, n_attrs, why, sizeof(why))) {
            add_change(w, dls[i].id, GW_DL_SUCCESSFUL, false, 0, NULL);
        } else {
            json_escape_err(why);
            (void)snprintf(resp, sizeof(resp), "{\"error\":\"%s\"}", why);
            add_change(w, dls[i].id, GW_DL_FAILED, false, 0, resp);
        }
    }
}

/* Publishes a complete configuration as client attributes (R4(g)). Returns: 0, -EBADMSG, ... */
static int publish_config(struct work *w, struct frame *f, const struct efento_part *parts,
                          size_t n_parts, const struct gw_efento_dl *dls, size_t n_dl)
{
    static const char *const optional[] = { "bleAdvertisingPeriod", "networkSearch",
                                            "calibrationParametersRequest" };
    struct efento_config_info ci;
    struct efento_opts o;
    char err[160];
    size_t n_attrs = 0, i, k;
    int rc;

    efento_opts_init(&o);
    o.is_type_cast = f->r->c->cfg->json_type_cast_enabled;
    rc = efento_config_attrs(parts, n_parts, &o, rt.attrs, EFENTO_CONFIG_ATTRS_MAX, &n_attrs,
                             rt.text, EFENTO_CONFIG_TEXT_MAX, err, sizeof(err));
    rc = rc != 0 ? rc : efento_config_parse(parts, n_parts, &o, &ci, err, sizeof(err));
    if (rc != 0) {
        gw_log_notice("efento configuration not published peer=%s dev=%lld parts=%zu err=\"%s\"",
                      f->peer, (long long)f->dev.id, n_parts, err);
        return rc;
    }
    for (i = 0; i < n_attrs; i++) {
        gw_efento_attr_kv(&rt.attrs[i], &rt.kv[i]);
    }
    w->c.client = rt.kv;
    w->c.n_client = n_attrs;
    for (k = 0; k < sizeof(optional) / sizeof(optional[0]); k++) {
        for (i = 0; i < n_attrs && strcmp(rt.attrs[i].key, optional[k]) != 0; i++) {
        }
        if (i == n_attrs) {
            w->client_deleted[w->c.n_client_deleted++] = optional[k];
        }
    }
    confirm_config(w, &ci, dls, n_dl, n_attrs);
    return 0;
}

static void frame_config(struct frame *f, struct gw_answer *a)
{
    struct gw_efento_dl dls[OPEN_DL_MAX];
    struct gw_efento_part held[GW_EFENTO_PARTS_MAX];
    struct efento_part parts[EFENTO_SPLIT_PARTS_MAX];
    struct work *w = malloc(sizeof(*w));
    size_t n_dl = 0, n_held = 0, n_parts = 0;
    int rc = w != NULL ? 0 : -ENOMEM;

    rc = rc != 0 ? rc
                 : gw_store_efento_dl_open(f->r->c->store, f->dev.id, f->r->now_ms, dls,
                                           OPEN_DL_MAX, &n_dl);
    rc = rc != 0 ? rc : gw_store_efento_parts(f->r->c->store, f->dev.id, held, &n_held);
    if (rc != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        goto out;
    }
    work_init(w, f);
    note_serial(w, f);
    progress(w, f, dls, n_dl);
    rc = reassemble(w, f, held, n_held, parts, &n_parts);
    if (rc == 0 && n_parts > 0) {
        rc = publish_config(w, f, parts, n_parts, dls, n_dl);
    }
    if (rc != 0) {
        /* The held set cannot make a configuration: drop it, and refuse the part. */
        w->c.is_parts_dropped = true;
        w->c.part_add = NULL;
        w->c.n_client = 0;
        w->c.n_client_deleted = 0;
        add_event(w, "EFENTO_CONFIG_DISCARDED", false, "{\"reason\":\"unusable\",\"parts\":%zu}",
                  n_parts);
        if (gw_store_efento_commit(f->r->c->store, &w->c) != 0) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        } else {
            gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, NULL);
        }
        goto out;
    }
    (void)commit_and_answer(f, a, w, NULL, 0);
out:
    gw_store_efento_parts_fini(held, n_held);
    gw_store_efento_dl_fini(dls, n_dl);
    free(w);
}

/* ---- resources ----------------------------------------------------------------------------- */

/* GET or POST t: 2.05 with the gateway clock, 4 bytes big-endian (R1); 5.03 when implausible. */
static void time_answer(struct gw_req *r, struct gw_answer *a)
{
    int64_t s = r->now_ms / 1000;
    char *body;

    if (s < CLOCK_FLOOR_S) {
        gw_log_warn("efento time not served: gateway clock not plausible now_s=%lld", (long long)s);
        gw_coap_answer(a, COAP_RESPONSE_CODE_SERVICE_UNAVAILABLE, NULL);
        return;
    }
    body = malloc(4);
    if (body == NULL) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        return;
    }
    body[0] = (char)((uint32_t)s >> 24);
    body[1] = (char)(((uint32_t)s >> 16) & 0xff);
    body[2] = (char)(((uint32_t)s >> 8) & 0xff);
    body[3] = (char)((uint32_t)s & 0xff);
    gw_coap_answer_body(a, COAP_RESPONSE_CODE_CONTENT, -1, body, 4);
}

static void frame_handle(struct gw_req *r, struct gw_answer *a, char res)
{
    struct frame *f = calloc(1, sizeof(*f));

    if (f == NULL || !rt_ready()) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        free(f);
        return;
    }
    f->r = r;
    f->res = res;
    f->is_con = coap_pdu_get_type(r->pdu) == COAP_MESSAGE_CON;
    f->mid = (uint16_t)coap_pdu_get_mid(r->pdu);
    peer_of(r, f->peer, sizeof(f->peer));
    if (!frame_decode(f, a) || !frame_identify(f, a)) {
        goto out;
    }
    r->dev.id = f->dev.id;
    r->has_dev = true;
    if (replay(f, a)) {
        goto out;
    }
    if (res == 'm') {
        frame_meas(f, a);
    } else if (res == 'i') {
        frame_devinfo(f, a);
    } else {
        frame_config(f, a);
    }
    remember(f, a);
    gw_log_debug("efento frame peer=%s dev=%lld path=%c type=%s records=%zu code=%u.%02u", f->peer,
                 (long long)f->dev.id, res, f->is_con ? "CON" : "NON", f->n_readings,
                 (unsigned)a->code >> 5, (unsigned)a->code & 0x1f);
out:
    free(f);
}

void gw_coap_efento(struct gw_req *r, struct gw_answer *a)
{
    char res = r->path.efento_res;

    gw_coap_efento_refresh(r->c, r->mono_ms);
    if (r->method != COAP_REQUEST_CODE_GET && r->method != COAP_REQUEST_CODE_POST) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
    } else if (res == 't') {
        time_answer(r, a);
    } else if (res == 0 || r->method == COAP_REQUEST_CODE_GET) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, NULL); /* as ThingsBoard (R1) */
    } else {
        frame_handle(r, a, res);
    }
}
