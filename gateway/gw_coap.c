/* SPDX-License-Identifier: MIT */
/*
 * gw_coap.c - the CoAP context, the UDP endpoint and the request dispatch of nbgate's device API
 * (specs/coap-device-api.md). With gw_coap_api.c, gw_coap_obs.c and gw_coap_ota.c these are the
 * only files that call libcoap.
 *
 * One "unknown resource" handler receives every request, whatever its path, because ThingsBoard's
 * /api/v1 serves every deeper path. A request goes through the checks of spec section 4.1 in
 * order: resource and method (4.04, 4.05), feature and Observe from the path alone (4.00), size
 * (4.13; Block1 uploads are reassembled here up to max_payload_size), authentication (4.01), the
 * retransmission cache, then the feature handler; every answer is piggybacked on the ACK.
 *
 * libcoap hazards handled here (specs/platform.md): few live sessions (a short session timeout
 * and a cap on idle sessions, because libcoap walks every session per datagram), a raised
 * SO_RCVBUF on the endpoint's socket, our own duplicate detection (gw_dedup), and a probe that
 * refuses to share the port with another process (libcoap binds with SO_REUSEADDR).
 */
#include "gateway/gw_coap.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway/gw_coap_efento.h"
#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"

#define EXCHANGE_LIFETIME_MS 247000
#define UPLOADS_MAX          64     /* Block1 uploads in progress */
#define UPLOAD_LIFETIME_MS   300000 /* block-wise transfer state lives 300 s (spec 2.2) */

/* A Block1 upload in progress, per endpoint and path. */
struct upload {
    coap_session_t *session; /* identity only, never dereferenced */
    uint64_t path_hash;
    int64_t last_ms;
    uint8_t *buf;
    size_t len;
};

static struct upload uploads[UPLOADS_MAX];

int64_t gw_coap_realtime_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gw_coap_monotonic_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void gw_coap_answer(struct gw_answer *a, coap_pdu_code_t code, const char *fmt, ...)
{
    va_list ap;

    a->code = code;
    a->diag[0] = '\0';
    free(a->body);
    a->body = NULL;
    a->body_len = 0;
    a->content_format = -1;
    if (fmt != NULL) {
        va_start(ap, fmt);
        (void)vsnprintf(a->diag, sizeof(a->diag), fmt, ap);
        va_end(ap);
        a->content_format = GW_CF_TEXT;
    }
}

void gw_coap_answer_body(struct gw_answer *a, coap_pdu_code_t code, int content_format, char *body,
                         size_t len)
{
    gw_coap_answer(a, code, NULL);
    a->body = body;
    a->body_len = len;
    a->content_format = content_format;
}

coap_pdu_code_t gw_coap_code_for_error(int rc)
{
    switch (rc) {
    case -EBADMSG:
    case -EINVAL:
    case -ERANGE:
    case -EPROTOTYPE: /* the device's profile does not serve this resource */
        return COAP_RESPONSE_CODE_BAD_REQUEST;
    case -ENOENT:
        return COAP_RESPONSE_CODE_UNAUTHORIZED;
    default:
        return COAP_RESPONSE_CODE_INTERNAL_ERROR;
    }
}

static void peer_text(const coap_session_t *session, char *buf, size_t len)
{
    size_t n = coap_print_addr(coap_session_get_addr_remote(session), (unsigned char *)buf, len);

    buf[n < len ? n : len - 1] = '\0';
}

/* Collects the Uri-Path segments, unpacking a single option that contains '/' (spec 3.1). */
static int path_segments(const coap_pdu_t *req, struct gw_path_seg *segs, size_t max)
{
    coap_opt_iterator_t it;
    coap_opt_filter_t filter;
    coap_opt_t *opt;
    size_t n = 0;

    coap_option_filter_clear(&filter);
    (void)coap_option_filter_set(&filter, COAP_OPTION_URI_PATH);
    (void)coap_option_iterator_init(req, &it, &filter);
    while ((opt = coap_option_next(&it)) != NULL) {
        if (n == max) {
            return -ERANGE;
        }
        segs[n].p = (const char *)coap_opt_value(opt);
        segs[n].len = coap_opt_length(opt);
        n++;
    }
    if (n == 1 && memchr(segs[0].p, '/', segs[0].len) != NULL) {
        return gw_path_split_packed(segs[0].p, segs[0].len, segs, max);
    }
    return (int)n;
}

/* Returns the value of an unsigned option, or -1 when the request has none. */
static int64_t uint_option(const coap_pdu_t *req, coap_option_num_t num)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(req, num, &it);

    if (opt == NULL) {
        return -1;
    }
    return coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
}

/* Method x feature checks that need only the path (spec 3.3, 4.1 step 2). */
static bool check_method_feature(const struct gw_req *r, struct gw_answer *a)
{
    enum gw_path_feature f = r->path.feature;

    if (r->method != COAP_REQUEST_CODE_GET && r->method != COAP_REQUEST_CODE_POST) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
        return false;
    }
    if (f == GW_FEATURE_NONE) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "unknown feature in path");
        return false;
    }
    if (r->method == COAP_REQUEST_CODE_POST) {
        if (f == GW_FEATURE_FIRMWARE || f == GW_FEATURE_SOFTWARE) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
            return false;
        }
        return true;
    }
    if (f == GW_FEATURE_FIRMWARE || f == GW_FEATURE_SOFTWARE) {
        return true; /* an Observe option is ignored on the OTA aliases */
    }
    if (f == GW_FEATURE_TELEMETRY) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "telemetry cannot be read with GET");
        return false;
    }
    if (r->observe > 1) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "Observe must be 0 or 1");
        return false;
    }
    if (r->observe < 0 && f != GW_FEATURE_ATTRIBUTES) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "GET on %s needs Observe",
                       gw_path_feature_name(f));
        return false;
    }
    return true;
}

static uint64_t path_hash(const struct gw_path_seg *segs, int n)
{
    uint64_t h = 1469598103934665603ULL;
    int i;
    size_t k;

    for (i = 0; i < n; i++) {
        for (k = 0; k < segs[i].len; k++) {
            h = (h ^ (uint8_t)segs[i].p[k]) * 1099511628211ULL;
        }
        h = (h ^ '/') * 1099511628211ULL;
    }
    return h;
}

static void upload_drop(struct upload *u)
{
    free(u->buf);
    memset(u, 0, sizeof(*u));
}

static struct upload *upload_slot(coap_session_t *session, uint64_t hash, bool create,
                                  int64_t now_ms)
{
    struct upload *oldest = &uploads[0];
    size_t i;

    for (i = 0; i < UPLOADS_MAX; i++) {
        struct upload *u = &uploads[i];
        if (u->session != NULL && now_ms - u->last_ms > UPLOAD_LIFETIME_MS) {
            upload_drop(u);
        }
        if (u->session == session && u->path_hash == hash) {
            return u;
        }
        if (u->session == NULL || u->last_ms < oldest->last_ms) {
            oldest = u;
        }
    }
    if (!create) {
        return NULL;
    }
    upload_drop(oldest);
    oldest->session = session;
    oldest->path_hash = hash;
    oldest->last_ms = now_ms;
    return oldest;
}

/*
 * Reassembles a Block1 upload (RFC 7959 section 2.5). Returns true when r->data holds the whole
 * body; false when the answer is already decided (2.31 Continue, 4.08, 4.13, 4.00).
 */
static bool collect_body(struct gw_req *r, struct gw_answer *a, uint64_t hash, int64_t max,
                         struct upload **done)
{
    int64_t b1 = uint_option(r->pdu, COAP_OPTION_BLOCK1);
    int64_t size1 = uint_option(r->pdu, COAP_OPTION_SIZE1);
    struct upload *u;
    uint32_t num, szx, bsize;
    bool is_more;

    if (size1 > max || (b1 < 0 && (int64_t)r->len > max)) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE, "payload larger than %lld bytes",
                       (long long)max);
        a->size1 = (uint32_t)max;
        return false;
    }
    if (b1 < 0) {
        return true;
    }
    num = (uint32_t)b1 >> 4;
    is_more = ((uint32_t)b1 & 0x8) != 0;
    szx = (uint32_t)b1 & 0x7;
    bsize = 1u << (szx + 4);
    if (szx == 7 || (is_more && r->len != bsize)) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "bad Block1 option");
        return false;
    }
    u = upload_slot(r->session, hash, num == 0, r->mono_ms);
    if (u != NULL && num == 0) {
        free(u->buf);
        u->buf = NULL;
        u->len = 0;
    }
    if (u == NULL || ((size_t)num * bsize != u->len && (size_t)num * bsize + r->len != u->len)) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INCOMPLETE, "broken Block1 sequence");
        return false;
    }
    if ((size_t)num * bsize == u->len) { /* not a retransmission of the last block */
        uint8_t *p;
        if ((int64_t)(u->len + r->len) > max) {
            upload_drop(u);
            gw_coap_answer(a, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE,
                           "payload larger than %lld bytes", (long long)max);
            a->size1 = (uint32_t)max;
            return false;
        }
        p = realloc(u->buf, u->len + r->len + 1);
        if (p == NULL) {
            upload_drop(u);
            gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
            return false;
        }
        u->buf = p;
        if (r->len > 0) {
            memcpy(u->buf + u->len, r->data, r->len);
        }
        u->len += r->len;
    }
    u->last_ms = r->mono_ms;
    a->has_block1 = true;
    a->block1 = (num << 4) | (is_more ? 0x8u : 0) | szx;
    if (is_more) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_CONTINUE, NULL);
        return false;
    }
    r->data = u->buf;
    r->len = u->len;
    *done = u;
    return true;
}

static bool authenticate(struct gw_req *r, struct gw_answer *a)
{
    const struct gw_path *p = &r->path;
    int rc;

    rc = gw_coap_dtls_device(r->c, r->session, &r->dev); /* 4.1 step 4.1: a bound certificate */
    if (rc != -ENOENT) {
        r->has_dev = rc == 0;
        if (rc != 0) {
            gw_coap_answer(a, gw_coap_code_for_error(rc), NULL);
        }
        return rc == 0;
    }
    if (!p->has_token || p->token.len == 0) {
        gw_coap_pending_note(r); /* an unknown client certificate */
        gw_coap_answer(a, COAP_RESPONSE_CODE_UNAUTHORIZED, NULL);
        return false;
    }
    rc = gw_store_device_by_token(r->c->store, p->token.p, p->token.len, &r->dev);
    if (rc != 0) {
        if (rc == -ENOENT) {
            gw_coap_pending_note(r);
        }
        gw_coap_answer(a, gw_coap_code_for_error(rc), NULL);
        return false;
    }
    r->has_dev = true;
    return true;
}

/* Answers a retransmitted request from the cache. Returns true if it was one. */
static bool replay(struct gw_req *r, struct gw_answer *a)
{
    coap_bin_const_t tok = coap_pdu_get_token(r->pdu);
    const struct gw_dedup_answer *seen = gw_dedup_find(
        r->c->dedup, r->dev.id, (uint16_t)coap_pdu_get_mid(r->pdu), tok.s, tok.length, r->mono_ms);

    if (seen == NULL) {
        return false;
    }
    gw_coap_answer(a, seen->code, NULL);
    if (seen->payload_len > 0) {
        char *body = malloc(seen->payload_len + 1);
        if (body != NULL) {
            memcpy(body, seen->payload, seen->payload_len);
            body[seen->payload_len] = '\0';
            gw_coap_answer_body(a, seen->code, seen->content_format, body, seen->payload_len);
        }
    }
    r->c->stats.duplicates++;
    return true;
}

static void remember(struct gw_req *r, const struct gw_answer *a)
{
    struct gw_dedup_answer ans;
    coap_bin_const_t tok = coap_pdu_get_token(r->pdu);
    const char *p = a->body != NULL ? a->body : a->diag;
    size_t len = a->body != NULL ? a->body_len : strlen(a->diag);

    if (len > GW_DEDUP_PAYLOAD_MAX) {
        return;
    }
    memset(&ans, 0, sizeof(ans));
    ans.code = (uint8_t)a->code;
    ans.content_format = a->content_format;
    ans.payload_len = len;
    memcpy(ans.payload, p, len);
    (void)gw_dedup_put(r->c->dedup, r->dev.id, (uint16_t)coap_pdu_get_mid(r->pdu), tok.s,
                       tok.length, r->mono_ms, &ans);
}

static void dispatch_feature(struct gw_req *r, struct gw_answer *a)
{
    enum gw_path_feature f = r->path.feature;

    if (r->method == COAP_REQUEST_CODE_POST) {
        switch (f) {
        case GW_FEATURE_TELEMETRY:
            gw_coap_api_telemetry(r, a);
            break;
        case GW_FEATURE_ATTRIBUTES:
            gw_coap_api_attributes_post(r, a);
            break;
        case GW_FEATURE_RPC:
            gw_coap_api_rpc_post(r, a);
            break;
        default: /* CLAIM: POST provision never reaches here */
            gw_coap_api_claim(r, a);
            break;
        }
        return;
    }
    if (f == GW_FEATURE_ATTRIBUTES && r->observe < 0) {
        gw_coap_api_attributes_get(r, a);
    } else if (r->observe == 0) {
        gw_coap_obs_register(r, a, f == GW_FEATURE_RPC ? GW_OBS_RPC : GW_OBS_ATTR);
    } else {
        enum gw_obs_kind kind = f == GW_FEATURE_RPC ? GW_OBS_RPC : GW_OBS_ATTR;
        gw_coap_obs_deregister(r, kind);
        if (kind == GW_OBS_RPC) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_VALID, NULL);
        } else {
            gw_coap_shared_state_answer(r, a, r->request_cf >= 0 ? r->request_cf : GW_CF_JSON);
        }
    }
}

/* /api/v1/... : the device API. */
static void handle_api_v1(struct gw_req *r, struct gw_answer *a, uint64_t hash)
{
    struct upload *done = NULL;
    enum gw_path_feature f = r->path.feature;

    if (!check_method_feature(r, a) ||
        !collect_body(r, a, hash, r->c->cfg->max_payload_size, &done)) {
        return;
    }
    if (r->method == COAP_REQUEST_CODE_POST && f == GW_FEATURE_PROVISION) {
        gw_coap_api_provision(r, a);
    } else if (f == GW_FEATURE_FIRMWARE || f == GW_FEATURE_SOFTWARE) {
        gw_coap_ota(r, a, f == GW_FEATURE_SOFTWARE);
    } else if (authenticate(r, a) && !replay(r, a)) {
        if (r->method == COAP_REQUEST_CODE_POST &&
            (f == GW_FEATURE_TELEMETRY || f == GW_FEATURE_ATTRIBUTES)) {
            r->is_activity_due = gw_coap_activity_in_tx(r->c, r->dev.id, r->mono_ms);
        }
        gw_coap_uplink(r->c, r->dev.id, r->dev.profile_id, r->mono_ms, r->now_ms);
        dispatch_feature(r, a);
        gw_coap_event_error(r, a);
        if (a->is_cacheable && (a->code >> 5) != 5) {
            remember(r, a);
        }
        gw_coap_mark(r->c, r->dev.id);
    }
    if (done != NULL) {
        upload_drop(done);
    }
}

/*
 * The Efento resources. A frame sent block-wise (a POST to m, i or c with Block1) is reassembled
 * first, up to the Efento body cap; the other checks of the order in specs/efento.md 3.3 follow
 * on the whole body. Efento error answers carry no diagnostic payload (a sensor may read any
 * payload as a configuration).
 */
static void handle_efento(struct gw_req *r, struct gw_answer *a, uint64_t hash)
{
    struct upload *done = NULL;
    struct efento_opts o;
    char res = r->path.efento_res;

    gw_coap_efento_opts(r->c->cfg, &o);
    if (r->method == COAP_REQUEST_CODE_POST && (res == 'm' || res == 'i' || res == 'c') &&
        uint_option(r->pdu, COAP_OPTION_BLOCK1) >= 0 &&
        !collect_body(r, a, hash, (int64_t)o.payload_bytes, &done)) {
        if ((a->code >> 5) == 4) {
            char peer[64] = "";
            size_t n = coap_print_addr(coap_session_get_addr_remote(r->session),
                                       (unsigned char *)peer, sizeof(peer) - 1);
            peer[n < sizeof(peer) ? n : sizeof(peer) - 1] = '\0';
            gw_log_notice("efento block-wise frame refused peer=%s path=%c code=%u.%02u"
                          " reason=\"%s\"",
                          peer, res, (unsigned)a->code >> 5, (unsigned)a->code & 0x1f, a->diag);
        }
        a->diag[0] = '\0';
        a->content_format = -1;
        return;
    }
    gw_coap_efento(r, a);
    if (done != NULL) {
        upload_drop(done);
    }
}

static void put_answer(coap_pdu_t *resp, const struct gw_answer *a)
{
    uint8_t buf[8];
    const char *data = a->body != NULL ? a->body : a->diag;
    size_t len = a->body != NULL ? a->body_len : strlen(a->diag);

    coap_pdu_set_code(resp, a->code);
    if (a->observe >= 0) {
        (void)coap_add_option(resp, COAP_OPTION_OBSERVE,
                              coap_encode_var_safe(buf, sizeof(buf), (uint32_t)a->observe), buf);
    }
    if (a->content_format >= 0 && (len > 0 || a->body != NULL)) {
        (void)coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT,
                              coap_encode_var_safe(buf, sizeof(buf), (uint32_t)a->content_format),
                              buf);
    }
    if (a->has_block2) {
        (void)coap_add_option(resp, COAP_OPTION_BLOCK2,
                              coap_encode_var_safe(buf, sizeof(buf), a->block2), buf);
    }
    if (a->has_block1) {
        (void)coap_add_option(resp, COAP_OPTION_BLOCK1,
                              coap_encode_var_safe(buf, sizeof(buf), a->block1), buf);
    }
    if (a->size2 >= 0) {
        (void)coap_add_option(resp, COAP_OPTION_SIZE2,
                              coap_encode_var_safe(buf, sizeof(buf), (uint32_t)a->size2), buf);
    }
    if (a->size1 > 0) {
        (void)coap_add_option(resp, COAP_OPTION_SIZE1,
                              coap_encode_var_safe(buf, sizeof(buf), a->size1), buf);
    }
    if (len > 0) {
        (void)coap_add_data(resp, len, (const uint8_t *)data);
    }
}

static void log_answer(const struct gw_req *r, const struct gw_answer *a)
{
    char peer[64];
    unsigned cls = (unsigned)a->code >> 5;
    /* 0.00: a NON request answered by silence (an Efento success), routine like a 2.xx. */
    int prio = cls == 2 || a->code == 0 ? LOG_DEBUG : cls == 4 ? LOG_INFO : LOG_WARNING;

    if (!gw_log_enabled(prio)) {
        return;
    }
    peer_text(r->session, peer, sizeof(peer));
    gw_log_write(prio, "request peer=%s mid=%d dev=%lld feature=%s code=%u.%02u%s%s%s", peer,
                 (int)coap_pdu_get_mid(r->pdu), (long long)(r->has_dev ? r->dev.id : 0),
                 gw_path_feature_name(r->path.feature), cls, (unsigned)a->code & 0x1f,
                 a->diag[0] != '\0' ? " err=\"" : "", a->diag, a->diag[0] != '\0' ? "\"" : "");
}

/* The single request handler (every method, every path). */
static void gw_coap_hnd_any(coap_resource_t *resource, coap_session_t *session,
                            const coap_pdu_t *req, const coap_string_t *query, coap_pdu_t *resp)
{
    struct gw_coap *c = coap_get_app_data(coap_session_get_context(session));
    struct gw_path_seg segs[GW_PATH_MAX_SEGMENTS];
    struct gw_answer a;
    struct gw_req r;
    int n;

    (void)resource;
    memset(&a, 0, sizeof(a));
    a.observe = -1;
    a.size2 = -1;
    a.content_format = -1;
    memset(&r, 0, sizeof(r));
    r.c = c;
    r.session = session;
    r.pdu = req;
    r.query = query;
    r.method = coap_pdu_get_code(req);
    r.observe = uint_option(req, COAP_OPTION_OBSERVE);
    r.request_cf = (int)uint_option(req, COAP_OPTION_CONTENT_FORMAT);
    r.now_ms = gw_coap_realtime_ms();
    r.mono_ms = gw_coap_monotonic_ms();
    (void)coap_get_data(req, &r.len, &r.data);
    c->stats.requests++;
    n = path_segments(req, segs, GW_PATH_MAX_SEGMENTS);
    if (n < 0) {
        gw_coap_answer(&a, COAP_RESPONSE_CODE_NOT_FOUND, "path has too many segments");
        goto out;
    }
    gw_path_parse(segs, (size_t)n, &r.path);
    switch (r.path.root) {
    case GW_ROOT_API_V1:
        handle_api_v1(&r, &a, path_hash(segs, n));
        break;
    case GW_ROOT_FW:
    case GW_ROOT_SW:
        if (r.method != COAP_REQUEST_CODE_GET) {
            gw_coap_answer(&a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
        } else if (n != 2) {
            gw_coap_answer(&a, COAP_RESPONSE_CODE_UNAUTHORIZED, NULL);
        } else {
            r.path.has_token = true;
            r.path.token = segs[1];
            gw_coap_ota(&r, &a, r.path.root == GW_ROOT_SW);
        }
        break;
    case GW_ROOT_API:
        gw_coap_answer(&a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
        break;
    case GW_ROOT_EMPTY:
        if (r.method == COAP_REQUEST_CODE_GET) {
            gw_coap_answer(&a, COAP_RESPONSE_CODE_CONTENT, "nbgate %s", NBGATE_VERSION);
        } else {
            gw_coap_answer(&a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
        }
        break;
    case GW_ROOT_EFENTO:
        handle_efento(&r, &a, path_hash(segs, n));
        break;
    default:
        gw_coap_answer(&a, COAP_RESPONSE_CODE_NOT_FOUND, NULL);
        break;
    }
out:
    if ((a.code >> 5) == 4) {
        c->stats.client_errors++;
    } else if ((a.code >> 5) == 5) {
        c->stats.server_errors++;
    }
    atomic_fetch_add(&c->answers[(uint8_t)a.code], 1);
    if (!r.is_quiet) {
        log_answer(&r, &a);
    }
    put_answer(resp, &a);
    free(a.body);
}

static void coap_log_to_gw(coap_log_t level, const char *message)
{
    int prio = level < LOG_ERR ? LOG_ERR : level > LOG_DEBUG ? LOG_DEBUG : (int)level;
    size_t len = strlen(message);

    while (len > 0 && (message[len - 1] == '\n' || message[len - 1] == '\r')) {
        len--;
    }
    GW_LOG_AT(prio, "coap %.*s", (int)len, message);
}

void gw_coap_startup(void)
{
    coap_startup();
    coap_set_log_handler(coap_log_to_gw);
    coap_set_log_level(gw_log_enabled(LOG_DEBUG) ? LOG_INFO : LOG_WARNING);
}

void gw_coap_cleanup(void)
{
    coap_cleanup();
}

int gw_coap_parse_address(const char *host, int64_t port, coap_address_t *addr)
{
    coap_address_init(addr);
    if (inet_pton(AF_INET, host, &addr->addr.sin.sin_addr) == 1) {
        addr->addr.sin.sin_family = AF_INET;
        addr->addr.sin.sin_port = htons((uint16_t)port);
        addr->size = sizeof(addr->addr.sin);
        return 0;
    }
    if (inet_pton(AF_INET6, host, &addr->addr.sin6.sin6_addr) == 1) {
        addr->addr.sin6.sin6_family = AF_INET6;
        addr->addr.sin6.sin6_port = htons((uint16_t)port);
        addr->size = sizeof(addr->addr.sin6);
        return 0;
    }
    return -EINVAL;
}

/*
 * libcoap has no call for the socket buffer, so find the endpoint's UDP socket among our
 * descriptors by its bound address and raise SO_RCVBUF there (SO_RCVBUFFORCE first: it passes
 * net.core.rmem_max when we have CAP_NET_ADMIN).
 */
int gw_coap_find_socket(const coap_address_t *bound)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = -1;

    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        socklen_t il = sizeof(int);
        int type = 0;
        int fd = (int)strtol(e->d_name, NULL, 10);

        if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) != 0 || type != SOCK_DGRAM ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 || sl != bound->size ||
            memcmp(&ss, &bound->addr, sl) != 0) {
            continue;
        }
        found = fd;
    }
    (void)closedir(d);
    return found;
}

static void raise_rcvbuf(int fd, int64_t bytes)
{
    int val = (int)bytes;
    int got = 0;
    socklen_t il = sizeof(got);

    if (bytes <= 0 || fd < 0) {
        return;
    }
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val)) != 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val));
    }
    (void)getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &il);
    if (got < val) {
        gw_log_warn("udp receive buffer smaller than asked bytes=%d asked=%d "
                    "hint=\"raise net.core.rmem_max\"",
                    got, val);
    } else {
        gw_log_info("udp receive buffer bytes=%d", got);
    }
}

/*
 * libcoap binds with SO_REUSEADDR, and two UDP sockets that both set it may share a port on
 * Linux: a second nbgate would start and steal datagrams. A probe bind without the option fails
 * with EADDRINUSE while another socket holds the port.
 */
int gw_coap_probe_port_free(const coap_address_t *addr)
{
    int fd = socket(addr->addr.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int rc = 0;

    if (fd < 0) {
        return -errno;
    }
    if (bind(fd, &addr->addr.sa, addr->size) != 0) {
        rc = -errno;
    }
    (void)close(fd);
    return rc;
}

int gw_coap_new(const struct gw_config *cfg, struct gw_store *store, struct gw_coap **out,
                char *err, size_t err_len)
{
    static const coap_request_t methods[] = {
        COAP_REQUEST_GET,   COAP_REQUEST_POST,  COAP_REQUEST_PUT,    COAP_REQUEST_DELETE,
        COAP_REQUEST_FETCH, COAP_REQUEST_PATCH, COAP_REQUEST_IPATCH,
    };
    struct gw_coap *c;
    coap_resource_t *r;
    coap_address_t addr;
    size_t i;
    int rc = -ENOMEM;

    *out = NULL;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        return -ENOMEM;
    }
    c->cfg = cfg;
    c->store = store;
    c->limits.max_keys = (size_t)cfg->max_keys_per_message;
    c->limits.max_string_len = (size_t)cfg->json_max_string_value_length;
    c->limits.type_cast = cfg->json_type_cast_enabled;
    c->sock_fd = -1;
    c->dedup = gw_dedup_new((size_t)cfg->dedup_cache_entries, EXCHANGE_LIFETIME_MS);
    c->sched = gw_sched_new();
    if (c->dedup == NULL || c->sched == NULL ||
        profile_batch_init(&c->batch, (size_t)cfg->max_keys_per_message) != 0) {
        (void)snprintf(err, err_len, "out of memory");
        goto out;
    }
    rc = gw_coap_parse_address(cfg->coap_bind_address, cfg->coap_bind_port, &addr);
    if (rc != 0) {
        (void)snprintf(err, err_len, "coap_bind_address: not an IPv4 or IPv6 address: \"%s\"",
                       cfg->coap_bind_address);
        goto out;
    }
    rc = gw_coap_probe_port_free(&addr);
    if (rc != 0) {
        (void)snprintf(err, err_len, "cannot listen on udp %s:%lld: %s", cfg->coap_bind_address,
                       (long long)cfg->coap_bind_port, strerror(-rc));
        goto out;
    }
    rc = -EIO;
    c->ctx = coap_new_context(NULL);
    if (c->ctx == NULL) {
        (void)snprintf(err, err_len, "cannot create the CoAP context");
        goto out;
    }
    coap_set_app_data(c->ctx, c);
    coap_context_set_session_timeout(c->ctx,
                                     (unsigned)((cfg->coap_session_idle_timeout_ms + 999) / 1000));
    coap_context_set_max_idle_sessions(c->ctx, (unsigned)cfg->coap_max_idle_sessions);
    if (coap_new_endpoint(c->ctx, &addr, COAP_PROTO_UDP) == NULL) {
        rc = errno == EADDRINUSE ? -EADDRINUSE : -EIO;
        (void)snprintf(err, err_len, "cannot listen on udp %s:%lld: %s", cfg->coap_bind_address,
                       (long long)cfg->coap_bind_port,
                       errno != 0 ? strerror(errno) : "bind failed");
        goto out;
    }
    rc = gw_store_dl_recover(store, gw_coap_realtime_ms());
    if (rc > 0) {
        gw_log_notice("downlinks in flight at the last stop will be sent again count=%d", rc);
    }
    rc = -EIO;
    c->sock_fd = gw_coap_find_socket(&addr);
    if (c->sock_fd < 0) {
        gw_log_warn("cannot find the CoAP socket: receive buffer and ACK tracking unavailable");
    }
    raise_rcvbuf(c->sock_fd, cfg->coap_rcvbuf_bytes);
    coap_register_nack_handler(c->ctx, gw_coap_nack);
    r = coap_resource_unknown_init2(gw_coap_hnd_any, 0);
    if (r == NULL) {
        goto out;
    }
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        coap_register_request_handler(r, methods[i], gw_coap_hnd_any);
    }
    coap_add_resource(c->ctx, r);
    rc = c->cfg->coap_dtls_enabled ? gw_coap_dtls_new(c, err, err_len) : 0; /* gw_coap_dtls.c */
out:
    if (rc != 0) {
        gw_coap_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void gw_coap_free(struct gw_coap *c)
{
    if (c == NULL) {
        return;
    }
    if (c->ctx != NULL) {
        gw_coap_obs_end_all(c);
        gw_coap_dtls_free(c); /* releases its sessions before libcoap frees them */
        coap_free_context(c->ctx);
    }
    for (size_t i = 0; i < UPLOADS_MAX; i++) {
        upload_drop(&uploads[i]);
    }
    gw_sched_free(c->sched);
    gw_coap_profiles_free();
    free(c->in_flight);
    free(c->marked);
    gw_dedup_free(c->dedup);
    profile_batch_fini(&c->batch);
    free(c);
}

int gw_coap_fd(const struct gw_coap *c)
{
    return coap_context_get_coap_fd(c->ctx);
}

void gw_coap_process(struct gw_coap *c)
{
    struct epoll_event ev[64];
    coap_tick_t now;
    int n;

    n = epoll_wait(coap_context_get_coap_fd(c->ctx), ev, (int)(sizeof(ev) / sizeof(ev[0])), 0);
    if (n > 0) {
        gw_coap_peek_ack(c);
        gw_coap_dtls_before_io(c); /* DTLS: restarted peers, ACKs (gw_coap_dtls*.c) */
        coap_io_do_epoll(c->ctx, ev, (size_t)n);
        gw_coap_dtls_after_io(c);
        gw_coap_pump_marked(c);
    } else {
        /* Only libcoap's timers are due: retransmissions, session reaping, NACKs. */
        coap_ticks(&now);
        (void)coap_io_prepare_epoll(c->ctx, now);
        gw_coap_pump_marked(c);
    }
}

const struct gw_coap_stats *gw_coap_stats(const struct gw_coap *c)
{
    return &c->stats;
}

size_t gw_coap_metrics(void *arg, char *buf, size_t len)
{
    const struct gw_coap *c = arg;
    size_t n = 0;
    int code, rc;

    rc = snprintf(buf, len,
                  "# HELP nbgate_coap_answers_total Device API answers by CoAP code (0.00: a NON "
                  "request answered by silence).\n# TYPE nbgate_coap_answers_total counter\n");
    n += rc > 0 ? (size_t)rc : 0;
    for (code = 0; code < 256; code++) {
        uint64_t v = atomic_load(&c->answers[code]);
        if (v == 0) {
            continue;
        }
        rc = snprintf(buf + (n < len ? n : len), n < len ? len - n : 0,
                      "nbgate_coap_answers_total{code=\"%d.%02d\"} %llu\n", code >> 5, code & 31,
                      (unsigned long long)v);
        n += rc > 0 ? (size_t)rc : 0;
    }
    return n;
}
