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
 * Frames that pass are handled by gw_coap_efento_frame.c (what they commit, the downlink, the
 * queue states). Efento frames are activity (lastActivity) but not power-saving uplinks: an
 * Efento sensor's reachability window is the CON exchange itself (8.1).
 *
 * Loop-thread state (struct efento_rt below, one per process like libcoap's context): decode
 * buffers, the Efento profiles (refreshed every PROFILE_REFRESH_MS) and the option numbers
 * registered with libcoap, the per-peer log limiter and the auto-accept budget.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efento/efento.h"
#include "gateway/gw_coap_efento.h"
#include "gateway/gw_efento.h"
#include "gateway/gw_log.h"

#define PROFILE_REFRESH_MS 5000
#define PROFILES_MAX       32
#define OPTIONS_MAX        8 /* libcoap 4.3.1's option filter holds about this many numbers */
#define LOG_PEERS          64
#define HEX_PREFIX_BYTES   32

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
    int32_t token_opts[OPTIONS_MAX]; /* token option numbers of Efento profiles since start */
    size_t n_token_opts;
    struct peer_log peers[LOG_PEERS];
    int64_t accept_window_ms;
    uint32_t accepted;
} rt;

static const uint8_t empty_payload[1];

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

/* Token options stay candidates after a profile moves away from them: sensors still on the old
 * place are accepted while a settings entry moves them (3.2). */
static void note_token_option(int32_t num)
{
    size_t i;

    if (num == GW_EFENTO_TOKEN_PAYLOAD) {
        return;
    }
    for (i = 0; i < rt.n_token_opts; i++) {
        if (rt.token_opts[i] == num) {
            return;
        }
    }
    if (rt.n_token_opts < OPTIONS_MAX) {
        rt.token_opts[rt.n_token_opts++] = num;
    }
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
        note_token_option(rt.profiles[i].token_option);
        register_option(rt.profiles[i].token_option);
        register_option(rt.profiles[i].signature_option);
        register_option(rt.profiles[i].modem_id_option);
    }
    for (i = before; i < rt.n_registered; i++) {
        coap_register_option(c->ctx, rt.registered[i]);
    }
}

/* ---- malformed frames: 4.00 / 4.13 and a bounded log (R6, section 9) ------------------------ */

static void malformed(struct gw_efento_frame *f, struct gw_answer *a, coap_pdu_code_t code,
                      const char *why)
{
    struct peer_log *slot = &rt.peers[0];
    char hex[2 * HEX_PREFIX_BYTES + 1];
    int64_t now = f->r->mono_ms;
    uint32_t per_minute = (uint32_t)f->r->c->cfg->efento_malformed_log_per_minute;
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
        if (strcmp(slot->peer, f->peer) == 0 && slot->n > per_minute) {
            gw_log_notice("efento malformed frames not logged peer=%s count=%u", slot->peer,
                          (unsigned)(slot->n - per_minute));
        }
        (void)snprintf(slot->peer, sizeof(slot->peer), "%s", f->peer);
        slot->window_ms = now;
        slot->n = 0;
    }
    if (++slot->n > per_minute) {
        return;
    }
    gw_efento_hex(f->r->data, f->r->len, HEX_PREFIX_BYTES, hex, sizeof(hex));
    gw_log_notice("efento malformed frame peer=%s path=%c code=%u.%02u len=%zu err=\"%s\" hex=%s",
                  f->peer, f->res, (unsigned)code >> 5, (unsigned)code & 0x1f, f->r->len, why, hex);
}

/* ---- decode ---------------------------------------------------------------------------------- */

void gw_coap_efento_opts(const struct gw_config *cfg, struct efento_opts *o)
{
    efento_opts_init(o);
    o->payload_bytes = (size_t)(cfg->efento_max_payload_bytes < cfg->max_payload_size
                                    ? cfg->efento_max_payload_bytes
                                    : cfg->max_payload_size);
    o->channels = (size_t)cfg->efento_max_channels;
    o->samples = (size_t)cfg->efento_max_samples;
    o->list_items = (size_t)cfg->efento_max_list_items;
    o->string_bytes = (size_t)cfg->efento_max_string_bytes;
    o->bytes_bytes = (size_t)cfg->efento_max_bytes_field;
    o->split_parts = (size_t)cfg->efento_split_max_parts;
    o->split_bytes = (size_t)cfg->efento_split_max_bytes;
    o->is_type_cast = cfg->json_type_cast_enabled;
}

static bool frame_decode(struct gw_efento_frame *f, struct gw_answer *a)
{
    struct gw_req *r = f->r;
    size_t cap;
    struct efento_opts o;
    struct efento_part part;
    char err[160] = "";
    int rc;

    gw_coap_efento_opts(r->c->cfg, &o);
    cap = o.payload_bytes;
    if (r->len > cap) { /* a Block1 upload arrives here whole (gw_coap.c reassembles it) */
        (void)snprintf(err, sizeof(err), "payload larger than %zu bytes", cap);
        malformed(f, a, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE, err);
        a->size1 = (uint32_t)cap;
        return false;
    }
    if (r->data == NULL) {
        r->data = empty_payload;
    }
    if (f->res == 'm') {
        rc = efento_measurements_decode(r->data, r->len, &o, &f->meas, f->readings,
                                        EFENTO_MEAS_READINGS_MAX, &f->n_readings, err, sizeof(err));
        f->id = f->meas.id;
    } else if (f->res == 'i') {
        rc = efento_device_info_decode(r->data, r->len, &o, r->now_ms, &f->id, f->readings,
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

/* The value of token option num when present and usable (1..255 bytes of UTF-8), else NULL. */
static const uint8_t *option_token(const coap_pdu_t *pdu, int32_t num, size_t *len)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt;

    if (num == GW_EFENTO_TOKEN_PAYLOAD) {
        return NULL;
    }
    opt = coap_check_option(pdu, (coap_option_num_t)num, &it);
    if (opt == NULL || coap_opt_length(opt) == 0 || coap_opt_length(opt) > 255 ||
        !utf8_ok(coap_opt_value(opt), coap_opt_length(opt))) {
        return NULL;
    }
    *len = coap_opt_length(opt);
    return coap_opt_value(opt);
}

/*
 * 1: the token identifies an Efento device whose profile expects it at `place` (or whose token
 * place is being moved by a settings entry, 3.2); 0: not; <0: storage error.
 */
static int try_token(struct gw_efento_frame *f, const char *tok, size_t len, int32_t place,
                     bool *is_wrong)
{
    int rc = gw_store_efento_device(f->r->c->store, tok, len, &f->dev);

    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc;
    }
    if (!f->dev.is_efento) {
        *is_wrong = true;
        return 0;
    }
    return f->dev.profile.token_option == place || f->dev.is_place_moving ? 1 : 0;
}

/* 1: the token is the new token a sent settings entry gives an Efento device (3.2); 0; <0. */
static int try_moving_token(struct gw_efento_frame *f, const char *tok, size_t len, int32_t place)
{
    int rc = gw_store_efento_device_moving(f->r->c->store, tok, len, &f->dev);

    if (rc != 0) {
        return rc == -ENOENT ? 0 : rc;
    }
    if (!f->dev.is_efento || len >= sizeof(f->new_token) ||
        (f->dev.profile.token_option != place && !f->dev.is_place_moving)) {
        return 0;
    }
    memcpy(f->new_token, tok, len);
    f->new_token[len] = '\0';
    gw_log_notice("efento sensor uses its new cloud token peer=%s dev=%lld", f->peer,
                  (long long)f->dev.id);
    return 1;
}

/*
 * Creates the device when a profile auto-accepts tokens at this place (R2.6), inside a store
 * batch that frame_handle ends once the frame is handled: the device and its first frame are
 * committed together.
 */
static bool auto_accept(struct gw_efento_frame *f, const char *tok, int32_t place)
{
    const struct gw_efento_profile *p = NULL;
    struct gw_store *st = f->r->c->store;
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
    if (rt.accepted >= (uint32_t)f->r->c->cfg->efento_auto_accept_per_hour) {
        gw_log_warn("efento auto-accept limit reached peer=%s limit=%lld/h", f->peer,
                    (long long)f->r->c->cfg->efento_auto_accept_per_hour);
        return false;
    }
    if (gw_store_batch_begin(st) != 0) {
        return false;
    }
    if (gw_store_efento_auto_accept(st, tok, f->id.serial, p->name, f->r->now_ms) != 0) {
        (void)gw_store_batch_end(st, -ECANCELED);
        return false;
    }
    f->is_batch = true;
    return true;
}

/* Ends the auto-accept batch: committed with a successful answer, else rolled back (5.00). */
static void finish_batch(struct gw_efento_frame *f, struct gw_answer *a)
{
    bool is_ok = f->dev.id != 0 && (a->code == 0 || (a->code >> 5) == 2);
    int rc = gw_store_batch_end(f->r->c->store, is_ok ? 0 : -ECANCELED);

    f->is_batch = false;
    if (is_ok && rc != 0) {
        gw_log_err("efento auto-accepted device not stored peer=%s rc=%d", f->peer, rc);
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
    } else if (is_ok) {
        rt.accepted++; /* the budget counts devices that exist */
    }
}

static void note_pending(struct gw_efento_frame *f, const char *tok, int32_t place)
{
    struct gw_efento_pending p;
    int rc;

    memset(&p, 0, sizeof(p));
    p.token_option = place;
    (void)snprintf(p.token, sizeof(p.token), "%s", tok);
    (void)snprintf(p.serial, sizeof(p.serial), "%s", f->id.serial);
    p.msg_type = f->res;
    p.max_entries = f->r->c->cfg->max_pending_devices;
    (void)snprintf(p.peer, sizeof(p.peer), "%s", f->peer);
    rc = gw_store_efento_pending_note(f->r->c->store, &p, f->r->data, f->r->len, f->r->now_ms);
    if (rc == 1) { /* blocked (specs/rest-api.md 9.3): answered, neither counted nor logged */
        f->r->is_quiet = true;
        return;
    }
    if (rc != 0) {
        gw_log_warn("efento pending entry not stored peer=%s", f->peer);
    }
    gw_log_info("efento unknown token peer=%s path=%c serial=%s place=%s", f->peer, f->res,
                f->id.serial[0] != '\0' ? f->id.serial : "-",
                place == GW_EFENTO_TOKEN_PAYLOAD ? "payload" : "option");
}

/* A token found in a request: an option's value or the payload's cloud_token. */
struct candidate {
    const char *tok;
    size_t len;
    int32_t place;
};

static size_t candidates(const struct gw_efento_frame *f, struct candidate *out)
{
    size_t i, n = 0;

    for (i = 0; i < rt.n_token_opts; i++) {
        size_t len = 0;
        const uint8_t *val = option_token(f->r->pdu, rt.token_opts[i], &len);
        if (val != NULL && len < GW_EFENTO_TEXT_MAX) {
            out[n].tok = (const char *)val;
            out[n].len = len;
            out[n++].place = rt.token_opts[i];
        }
    }
    if (f->id.cloud_token[0] != '\0') {
        out[n].tok = f->id.cloud_token;
        out[n].len = strlen(f->id.cloud_token);
        out[n++].place = GW_EFENTO_TOKEN_PAYLOAD;
    }
    return n;
}

static bool frame_identify(struct gw_efento_frame *f, struct gw_answer *a)
{
    struct candidate cand[OPTIONS_MAX + 1];
    size_t i, n = candidates(f, cand);
    char tok[GW_EFENTO_TEXT_MAX] = "";
    int32_t place = n > 0 ? cand[0].place : GW_EFENTO_TOKEN_PAYLOAD;
    bool is_wrong = false;
    int rc = 0;

    if (n > 0) { /* the first candidate names the pending entry */
        memcpy(tok, cand[0].tok, cand[0].len);
        tok[cand[0].len] = '\0';
    }
    for (i = 0; rc == 0 && i < n; i++) {
        rc = try_token(f, cand[i].tok, cand[i].len, cand[i].place, &is_wrong);
    }
    for (i = 0; rc == 0 && !is_wrong && i < n; i++) {
        rc = try_moving_token(f, cand[i].tok, cand[i].len, cand[i].place);
    }
    if (rc == 0 && !is_wrong && auto_accept(f, tok, place)) {
        rc = try_token(f, tok, strlen(tok), place, &is_wrong);
    }
    if (rc == 1) {
        return true;
    }
    f->dev.id = is_wrong ? f->dev.id : 0;
    if (rc < 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
    } else if (is_wrong) {
        gw_log_info("efento token of a device whose profile is not Efento NB-IoT peer=%s dev=%lld",
                    f->peer, (long long)f->dev.id);
        (void)gw_store_event_add(f->r->c->store, f->dev.id, f->r->now_ms, "EFENTO_REJECTED",
                                 "{\"code\":\"4.00\",\"reason\":\"the device profile is not of"
                                 " CoAP device type EFENTO\"}");
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, NULL);
    } else {
        note_pending(f, tok, place);
        gw_coap_answer(a, COAP_RESPONSE_CODE_UNAUTHORIZED, NULL);
    }
    return false;
}

/* ---- retransmissions (R3.4) ------------------------------------------------------------------ */

static bool replay(struct gw_efento_frame *f, struct gw_answer *a)
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
    body = seen->payload_len > 0 ? malloc(seen->payload_len) : NULL;
    if (body != NULL) {
        memcpy(body, seen->payload, seen->payload_len);
        gw_coap_answer_body(a, seen->code, seen->content_format, body, seen->payload_len);
    }
    gw_log_debug("efento retransmission answered again peer=%s dev=%lld mid=%u", f->peer,
                 (long long)f->dev.id, (unsigned)f->mid);
    return true;
}

static void remember(struct gw_efento_frame *f, const struct gw_answer *a)
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

/* ---- resources ----------------------------------------------------------------------------- */

/* GET or POST t: 2.05 with the gateway clock, 4 bytes big-endian (R1); 5.03 when implausible. */
static void time_answer(struct gw_req *r, struct gw_answer *a)
{
    int64_t s = r->now_ms / 1000;
    char *body;

    if (s < GW_EFENTO_CLOCK_FLOOR_S) {
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
    struct gw_efento_frame *f = calloc(1, sizeof(*f));

    if (f == NULL || !rt_ready()) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        free(f);
        return;
    }
    f->r = r;
    f->readings = rt.readings;
    f->kv = rt.kv;
    f->attrs = rt.attrs;
    f->text = rt.text;
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
        gw_coap_efento_meas(f, a);
    } else if (res == 'i') {
        gw_coap_efento_devinfo(f, a);
    } else {
        gw_coap_efento_config(f, a);
    }
    if (f->is_batch) {
        finish_batch(f, a); /* before the answer is remembered: it may become 5.00 */
    }
    remember(f, a);
    gw_log_debug("efento frame peer=%s dev=%lld path=%c type=%s records=%zu code=%u.%02u", f->peer,
                 (long long)f->dev.id, res, f->is_con ? "CON" : "NON", f->n_readings,
                 (unsigned)a->code >> 5, (unsigned)a->code & 0x1f);
out:
    if (f->is_batch) {
        finish_batch(f, a);
    }
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
