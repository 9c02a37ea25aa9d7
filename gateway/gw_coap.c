/* SPDX-License-Identifier: MIT */
/*
 * gw_coap.c - the CoAP endpoint and the device API (specs/coap-device-api.md), the only file of
 * nbgate that calls libcoap.
 *
 * One "unknown resource" handler receives every request, whatever its path, because ThingsBoard's
 * /api/v1 serves every deeper path. A request goes through the checks of spec section 4.1 in
 * order: resource and method (4.04, 4.05), feature and Observe from the path alone (4.00), size
 * (4.13), authentication (4.01), the retransmission cache, the payload (4.00 with a diagnostic),
 * then the store; the 2.01 is returned only after the commit, and libcoap piggybacks it on the ACK.
 *
 * libcoap hazards handled here (specs/platform.md): few live sessions (a short session timeout
 * and a cap on idle sessions, because libcoap walks every session per datagram), a raised
 * SO_RCVBUF on the endpoint's socket, and our own duplicate detection (gw_dedup).
 */
#include "gateway/gw_coap.h"

#include <arpa/inet.h>
#include <coap3/coap.h>
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

#include "gateway/gw_dedup.h"
#include "gateway/gw_log.h"
#include "gateway/gw_path.h"
#include "profiles/profile.h"

#define EXCHANGE_LIFETIME_MS 247000
#define DIAG_MAX             200 /* bytes of a diagnostic payload (R3) */
#define CF_TEXT_PLAIN        0

struct gw_coap {
    const struct gw_config *cfg;
    struct gw_store *store;
    coap_context_t *ctx;
    struct gw_dedup *dedup;
    struct profile_batch batch;
    struct profile_limits limits;
    struct gw_coap_stats stats;
};

/* What one request gets back: code, optional text diagnostic, optional Size1. */
struct answer {
    coap_pdu_code_t code;
    char diag[DIAG_MAX + 1];
    uint32_t size1; /* 0 = no Size1 option */
};

static int64_t realtime_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_answer(struct answer *a, coap_pdu_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_answer(struct answer *a, coap_pdu_code_t code, const char *fmt, ...)
{
    va_list ap;

    a->code = code;
    a->diag[0] = '\0';
    if (fmt != NULL) {
        va_start(ap, fmt);
        (void)vsnprintf(a->diag, sizeof(a->diag), fmt, ap);
        va_end(ap);
    }
}

/* Maps an adaptor or store error to the device's answer (STYLE G5: one table of codes). */
static coap_pdu_code_t code_for_error(int rc)
{
    switch (rc) {
    case -EBADMSG:
    case -EINVAL:
    case -ERANGE:
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

/* Returns the Observe option's value, or -1 when the request has none. */
static int64_t observe_value(const coap_pdu_t *req)
{
    coap_opt_iterator_t it;
    coap_opt_t *opt = coap_check_option(req, COAP_OPTION_OBSERVE, &it);

    if (opt == NULL) {
        return -1;
    }
    return coap_decode_var_bytes(coap_opt_value(opt), coap_opt_length(opt));
}

/* Method x feature checks that need only the path (spec 3.3, 4.1 step 2). Returns true if ok. */
static bool check_method_feature(coap_pdu_code_t method, const struct gw_path *path,
                                 int64_t observe, struct answer *a)
{
    if (method != COAP_REQUEST_CODE_GET && method != COAP_REQUEST_CODE_POST) {
        set_answer(a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
        return false;
    }
    if (path->feature == GW_FEATURE_NONE) {
        set_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "unknown feature in path");
        return false;
    }
    if (method == COAP_REQUEST_CODE_POST) {
        if (path->feature == GW_FEATURE_FIRMWARE || path->feature == GW_FEATURE_SOFTWARE) {
            set_answer(a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
            return false;
        }
        return true;
    }
    if (path->feature == GW_FEATURE_TELEMETRY) {
        set_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "telemetry cannot be read with GET");
        return false;
    }
    if (observe > 1) {
        set_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "Observe must be 0 or 1");
        return false;
    }
    return true;
}

static int decode_and_store(struct gw_coap *c, const struct gw_device_ref *dev,
                            enum gw_path_feature feature, const uint8_t *data, size_t len,
                            struct answer *a)
{
    int64_t now = realtime_ms();
    int rc;

    profile_batch_clear(&c->batch);
    if (feature == GW_FEATURE_TELEMETRY) {
        rc =
            profile_json_telemetry(data, len, now, &c->limits, &c->batch, a->diag, sizeof(a->diag));
    } else {
        rc = profile_json_attributes(data, len, &c->limits, &c->batch, a->diag, sizeof(a->diag));
    }
    if (rc != 0) {
        a->code = code_for_error(rc);
        if (rc == -ENOMEM) {
            (void)snprintf(a->diag, sizeof(a->diag), "out of memory");
        }
        return rc;
    }
    if (feature == GW_FEATURE_TELEMETRY) {
        rc = gw_store_insert_telemetry(c->store, dev->id, &c->batch, now);
    } else {
        rc = gw_store_save_attributes(c->store, dev->id, GW_SCOPE_CLIENT, &c->batch, now);
    }
    if (rc != 0) {
        set_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "storage error");
        return rc;
    }
    set_answer(a, COAP_RESPONSE_CODE_CREATED, NULL);
    c->stats.stored++;
    return 0;
}

/* Writes the answer into libcoap's response PDU. */
static void put_answer(coap_pdu_t *resp, const struct answer *a)
{
    uint8_t buf[4];
    size_t len = strlen(a->diag);

    coap_pdu_set_code(resp, a->code);
    if (len > 0) {
        (void)coap_add_option(resp, COAP_OPTION_CONTENT_FORMAT,
                              coap_encode_var_safe(buf, sizeof(buf), CF_TEXT_PLAIN), buf);
    }
    if (a->size1 > 0) {
        (void)coap_add_option(resp, COAP_OPTION_SIZE1,
                              coap_encode_var_safe(buf, sizeof(buf), a->size1), buf);
    }
    if (len > 0) {
        (void)coap_add_data(resp, len, (const uint8_t *)a->diag);
    }
}

/* Authenticates the request's token (spec 4.1 step 4). Returns true with *dev filled. */
static bool authenticate(struct gw_coap *c, const struct gw_path *path, struct gw_device_ref *dev,
                         struct answer *a)
{
    int rc;

    if (!path->has_token || path->token.len == 0) {
        set_answer(a, COAP_RESPONSE_CODE_UNAUTHORIZED, NULL);
        return false;
    }
    rc = gw_store_device_by_token(c->store, path->token.p, path->token.len, dev);
    if (rc != 0) {
        set_answer(a, code_for_error(rc), NULL);
        return false;
    }
    return true;
}

/* /api/v1/... : the device API. Fills a; returns the authenticated device id or 0. */
static int64_t handle_api_v1(struct gw_coap *c, coap_session_t *session, const coap_pdu_t *req,
                             const struct gw_path *path, struct answer *a, bool *is_replay)
{
    coap_pdu_code_t method = coap_pdu_get_code(req);
    const struct gw_dedup_answer *seen;
    struct gw_device_ref dev;
    coap_bin_const_t tok = coap_pdu_get_token(req);
    uint16_t mid = (uint16_t)coap_pdu_get_mid(req);
    const uint8_t *data = NULL;
    size_t len = 0;

    (void)session;
    if (!check_method_feature(method, path, observe_value(req), a)) {
        return 0;
    }
    (void)coap_get_data(req, &len, &data);
    if (coap_check_option(req, COAP_OPTION_BLOCK1, &(coap_opt_iterator_t){ 0 }) != NULL ||
        len > (size_t)c->cfg->max_payload_size) {
        /* TODO(#3): reassemble Block1 bodies up to max_payload_size. */
        set_answer(a, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE, "payload larger than %lld bytes",
                   (long long)c->cfg->max_payload_size);
        a->size1 = (uint32_t)c->cfg->max_payload_size;
        return 0;
    }
    if (path->feature == GW_FEATURE_PROVISION) {
        set_answer(a, COAP_RESPONSE_CODE_NOT_IMPLEMENTED, "provisioning is not available yet");
        return 0;
    }
    if (!authenticate(c, path, &dev, a)) {
        return 0;
    }
    seen = gw_dedup_find(c->dedup, dev.id, mid, tok.s, tok.length, monotonic_ms());
    if (seen != NULL) {
        a->code = seen->code;
        memcpy(a->diag, seen->payload, seen->payload_len);
        a->diag[seen->payload_len] = '\0';
        *is_replay = true;
        c->stats.duplicates++;
        return dev.id;
    }
    if (method == COAP_REQUEST_CODE_POST &&
        (path->feature == GW_FEATURE_TELEMETRY || path->feature == GW_FEATURE_ATTRIBUTES)) {
        (void)decode_and_store(c, &dev, path->feature, data, len, a);
    } else {
        /* TODO(#3): attribute requests, Observe, RPC, claiming and OTA. */
        set_answer(a, COAP_RESPONSE_CODE_NOT_IMPLEMENTED, "%s is not available yet",
                   gw_path_feature_name(path->feature));
    }
    return dev.id;
}

static void remember(struct gw_coap *c, int64_t device_id, const coap_pdu_t *req,
                     const struct answer *a)
{
    struct gw_dedup_answer ans;
    coap_bin_const_t tok = coap_pdu_get_token(req);

    memset(&ans, 0, sizeof(ans));
    ans.code = (uint8_t)a->code;
    ans.content_format = a->diag[0] != '\0' ? CF_TEXT_PLAIN : -1;
    ans.payload_len = strlen(a->diag);
    memcpy(ans.payload, a->diag, ans.payload_len);
    (void)gw_dedup_put(c->dedup, device_id, (uint16_t)coap_pdu_get_mid(req), tok.s, tok.length,
                       monotonic_ms(), &ans);
}

static void log_answer(const coap_session_t *session, const coap_pdu_t *req, int64_t device_id,
                       const struct answer *a, bool is_replay)
{
    char peer[64];
    unsigned cls = (unsigned)a->code >> 5;
    int prio = cls == 2 ? LOG_DEBUG : cls == 4 ? LOG_INFO : LOG_WARNING;

    if (!gw_log_enabled(prio)) {
        return;
    }
    peer_text(session, peer, sizeof(peer));
    gw_log_write(prio, "request peer=%s mid=%d dev=%lld code=%u.%02u%s%s%s%s", peer,
                 (int)coap_pdu_get_mid(req), (long long)device_id, cls, (unsigned)a->code & 0x1f,
                 is_replay ? " duplicate=1" : "", a->diag[0] != '\0' ? " err=\"" : "", a->diag,
                 a->diag[0] != '\0' ? "\"" : "");
}

/* The single request handler (every method, every path). */
static void gw_coap_hnd_any(coap_resource_t *resource, coap_session_t *session,
                            const coap_pdu_t *req, const coap_string_t *query, coap_pdu_t *resp)
{
    struct gw_coap *c = coap_get_app_data(coap_session_get_context(session));
    struct gw_path_seg segs[GW_PATH_MAX_SEGMENTS];
    struct gw_path path;
    struct answer a;
    int64_t device_id = 0;
    bool is_replay = false;
    int n;

    (void)resource;
    (void)query;
    memset(&a, 0, sizeof(a));
    c->stats.requests++;
    n = path_segments(req, segs, GW_PATH_MAX_SEGMENTS);
    if (n < 0) {
        set_answer(&a, COAP_RESPONSE_CODE_NOT_FOUND, "path has too many segments");
        goto out;
    }
    gw_path_parse(segs, (size_t)n, &path);
    switch (path.root) {
    case GW_ROOT_API_V1:
        device_id = handle_api_v1(c, session, req, &path, &a, &is_replay);
        break;
    case GW_ROOT_API:
        set_answer(&a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
        break;
    case GW_ROOT_EMPTY:
        if (coap_pdu_get_code(req) == COAP_REQUEST_CODE_GET) {
            set_answer(&a, COAP_RESPONSE_CODE_CONTENT, "nbgate %s", NBGATE_VERSION);
        } else {
            set_answer(&a, COAP_RESPONSE_CODE_NOT_ALLOWED, NULL);
        }
        break;
    default:
        /* TODO(#3, #6): /fw, /sw and /efento. */
        set_answer(&a, COAP_RESPONSE_CODE_NOT_FOUND, NULL);
        break;
    }
out:
    if ((a.code >> 5) == 4) {
        c->stats.client_errors++;
    } else if ((a.code >> 5) == 5) {
        c->stats.server_errors++;
    }
    if (device_id != 0 && !is_replay && (a.code >> 5) != 5) {
        remember(c, device_id, req, &a);
    }
    log_answer(session, req, device_id, &a, is_replay);
    put_answer(resp, &a);
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

static int parse_address(const char *host, int64_t port, coap_address_t *addr)
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
static void raise_rcvbuf(const coap_address_t *bound, int64_t bytes)
{
    DIR *d;
    struct dirent *e;
    int val = (int)bytes;

    if (bytes <= 0) {
        return;
    }
    d = opendir("/proc/self/fd");
    if (d == NULL) {
        gw_log_warn("cannot raise SO_RCVBUF: /proc/self/fd unreadable");
        return;
    }
    while ((e = readdir(d)) != NULL) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        socklen_t il = sizeof(int);
        int type = 0;
        int got = 0;
        int fd = (int)strtol(e->d_name, NULL, 10);

        if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) != 0 || type != SOCK_DGRAM ||
            getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 || sl != bound->size ||
            memcmp(&ss, &bound->addr, sl) != 0) {
            continue;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &val, sizeof(val)) != 0) {
            (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, sizeof(val));
        }
        il = sizeof(got);
        (void)getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &il);
        if (got < val) {
            gw_log_warn("udp receive buffer smaller than asked bytes=%d asked=%d "
                        "hint=\"raise net.core.rmem_max\"",
                        got, val);
        } else {
            gw_log_info("udp receive buffer bytes=%d", got);
        }
    }
    (void)closedir(d);
}

/*
 * libcoap binds with SO_REUSEADDR, and two UDP sockets that both set it may share a port on
 * Linux: a second nbgate would start and steal datagrams. A probe bind without the option fails
 * with EADDRINUSE while another socket holds the port.
 */
static int probe_port_free(const coap_address_t *addr)
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
    c->dedup = gw_dedup_new((size_t)cfg->dedup_cache_entries, EXCHANGE_LIFETIME_MS);
    if (c->dedup == NULL || profile_batch_init(&c->batch, (size_t)cfg->max_keys_per_message) != 0) {
        (void)snprintf(err, err_len, "out of memory");
        goto out;
    }
    rc = parse_address(cfg->coap_bind_address, cfg->coap_bind_port, &addr);
    if (rc != 0) {
        (void)snprintf(err, err_len, "coap_bind_address: not an IPv4 or IPv6 address: \"%s\"",
                       cfg->coap_bind_address);
        goto out;
    }
    rc = probe_port_free(&addr);
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
    raise_rcvbuf(&addr, cfg->coap_rcvbuf_bytes);
    r = coap_resource_unknown_init2(gw_coap_hnd_any, 0);
    if (r == NULL) {
        goto out;
    }
    for (i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        coap_register_request_handler(r, methods[i], gw_coap_hnd_any);
    }
    coap_add_resource(c->ctx, r);
    rc = 0;
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
        coap_free_context(c->ctx);
    }
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
        coap_io_do_epoll(c->ctx, ev, (size_t)n);
    } else {
        /* Only libcoap's timers are due: retransmissions, session reaping. */
        coap_ticks(&now);
        (void)coap_io_prepare_epoll(c->ctx, now);
    }
}

const struct gw_coap_stats *gw_coap_stats(const struct gw_coap *c)
{
    return &c->stats;
}
