/* SPDX-License-Identifier: MIT */
/*
 * web_server.c - libmicrohttpd for the admin API: TLS, limits, one request's life, dispatch.
 *
 * libmicrohttpd runs its own pool of WEB_THREADS polling threads; each request borrows one of
 * WEB_THREADS store connections for the time of its handler (a pool, not thread-locals, so that
 * web_server_stop() closes them all). Request life:
 *
 *   first call        allocate struct web_req; Content-Length above the cap -> 413 at once
 *   upload calls      append to the body up to max_body_bytes; beyond it, discard and remember
 *   last call         route (404 / 405), authenticate (401 / 403), run the handler, queue the
 *                     answer; every error body is ThingsBoard's {status, message, errorCode}
 *   completed         free struct web_req
 *
 * libmicrohttpd hands over the URL percent-decoded and unnormalised (specs/platform.md), so the
 * router compares whole segments only and handlers validate every {} segment (UUIDs, scopes).
 * Headers are bounded by the connection memory limit, idle or slow clients by the connection
 * timeout, and the number of connections per address and in total by libmicrohttpd's limits.
 */
#include "web/web.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

#define CONN_MEMORY_BYTES  (64 * 1024) /* per connection: request line, headers, buffers */
#define PER_IP_CONNECTIONS 32
#define TLS_PRIORITIES     "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define JWT_KEY_FILE       "admin-jwt.key"
#define TENANT_FILE        "tenant.id"

static int64_t wall_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- answers ----------------------------------------------------------------------------- */

void web_error(struct web_resp *rs, unsigned status, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    free(rs->body);
    rs->status = status;
    rs->body = web_json_error(status, code, msg, wall_ms());
    rs->len = rs->body != NULL ? strlen(rs->body) : 0;
    rs->content_type = NULL;
}

void web_reply_json(struct web_resp *rs, json_t *o)
{
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;

    json_decref(o);
    if (text == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        return;
    }
    free(rs->body);
    rs->status = 200;
    rs->body = text;
    rs->len = strlen(text);
}

void web_reply_buf(struct web_resp *rs, struct web_buf *b)
{
    if (b->is_oom || b->p == NULL) {
        web_buf_fini(b);
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        return;
    }
    free(rs->body);
    rs->status = 200;
    rs->body = b->p;
    rs->len = b->len;
    memset(b, 0, sizeof(*b));
}

void web_reply_db_error(struct web_resp *rs)
{
    web_error(rs, 500, WEB_E_DATABASE, "Database error");
}

const char *web_query(struct web_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_each {
    const char *name;
    void (*fn)(void *arg, const char *value);
    void *arg;
};

static enum MHD_Result query_each_cb(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct query_each *q = cls;

    (void)kind;
    if (key != NULL && value != NULL && strcmp(key, q->name) == 0) {
        q->fn(q->arg, value);
    }
    return MHD_YES;
}

void web_query_each(struct web_req *rq, const char *name, void (*fn)(void *arg, const char *value),
                    void *arg)
{
    struct query_each q = { name, fn, arg };

    (void)MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_each_cb, &q);
}

const char *web_header(struct web_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

void web_wake_loop(struct web_server *srv)
{
    uint64_t one = 1;

    if (srv->o.wakeup_fd >= 0) {
        (void)!write(srv->o.wakeup_fd, &one, sizeof(one));
    }
}

void web_server_loop_alive(struct web_server *w)
{
    if (w != NULL) {
        atomic_fetch_add(&w->loop_alive, 1);
    }
}

/* ---- the store pool ---------------------------------------------------------------------- */

static struct gw_store *pool_get(struct web_server *srv)
{
    struct gw_store *st = NULL;
    size_t i;

    (void)pthread_mutex_lock(&srv->pool_mu);
    while (st == NULL) {
        for (i = 0; i < WEB_THREADS && st == NULL; i++) {
            if (!srv->is_store_busy[i]) {
                srv->is_store_busy[i] = true;
                st = srv->stores[i];
            }
        }
        if (st == NULL) {
            (void)pthread_cond_wait(&srv->pool_cv, &srv->pool_mu);
        }
    }
    (void)pthread_mutex_unlock(&srv->pool_mu);
    return st;
}

static void pool_put(struct web_server *srv, struct gw_store *st)
{
    size_t i;

    (void)pthread_mutex_lock(&srv->pool_mu);
    for (i = 0; i < WEB_THREADS; i++) {
        if (srv->stores[i] == st) {
            srv->is_store_busy[i] = false;
        }
    }
    (void)pthread_cond_signal(&srv->pool_cv);
    (void)pthread_mutex_unlock(&srv->pool_mu);
}

/* ---- one request ------------------------------------------------------------------------- */

static void peer_of(struct web_req *rq)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci != NULL ? ci->client_addr : NULL;

    (void)snprintf(rq->peer, sizeof(rq->peer), "?");
    if (sa != NULL && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        rq->peer_addr[10] = 0xff;
        rq->peer_addr[11] = 0xff;
        memcpy(rq->peer_addr + 12, &in->sin_addr, 4);
        (void)inet_ntop(AF_INET, &in->sin_addr, rq->peer, sizeof(rq->peer));
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(rq->peer_addr, &in6->sin6_addr, 16);
        (void)inet_ntop(AF_INET6, &in6->sin6_addr, rq->peer, sizeof(rq->peer));
    }
}

static enum MHD_Result queue(struct web_req *rq, struct web_resp *rs)
{
    struct MHD_Response *r;
    enum MHD_Result ok;

    if (rs->body_fd > 0) {
        r = MHD_create_response_from_fd64(rs->body_fd_len, rs->body_fd);
        if (r == NULL) {
            (void)close(rs->body_fd);
        }
        rs->len = (size_t)rs->body_fd_len;
    } else if (rs->body != NULL) {
        r = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
    } else {
        r = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL) {
        free(rs->body);
        rs->body = NULL;
        return MHD_NO;
    }
    rs->body = NULL; /* libmicrohttpd frees it with the response */
    if (rs->len > 0) {
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                      rs->content_type != NULL ? rs->content_type
                                                               : "application/json");
    }
    for (size_t i = 0; i < 2 && rs->hdr_name[i] != NULL; i++) {
        (void)MHD_add_response_header(r, rs->hdr_name[i], rs->hdr_value[i]);
    }
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    (void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    ok = MHD_queue_response(rq->conn, rs->status, r);
    MHD_destroy_response(r);
    rq->is_answered = true;
    return ok;
}

static bool is_api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

/* Routes, authenticates and runs the handler. */
static void dispatch(struct web_req *rq, struct web_resp *rs)
{
    const struct web_route *route;
    bool is_known = false;

    route = web_route_find(rq, &is_known);
    rq->st = pool_get(rq->srv);
    rq->now_ms = wall_ms();
    if (rq->is_too_large) {
        web_error(rs, 413, WEB_E_BAD_PARAMS, "Payload size exceeds the limit of %lld bytes",
                  (long long)rq->max_body_bytes);
    } else if (route == NULL && is_api_path(rq->path) && !web_auth_check(rq, rs)) {
        /* ThingsBoard authenticates every /api/ path before it routes */
    } else if (route == NULL && is_known) {
        web_error(rs, 405, WEB_E_BAD_PARAMS, "Request method '%s' is not supported", rq->method);
    } else if (route == NULL) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
    } else if (route->is_public || web_auth_check(rq, rs)) {
        route->fn(rq, rs);
    }
    pool_put(rq->srv, rq->st);
    rq->st = NULL;
    if (rs->status == 0) {
        web_error(rs, 500, WEB_E_GENERAL, "No answer");
    }
}

static struct web_req *req_new(struct web_server *srv, struct MHD_Connection *conn, const char *url,
                               const char *method)
{
    struct web_req *rq = calloc(1, sizeof(*rq));
    size_t len = strlen(url);

    if (rq == NULL) {
        return NULL;
    }
    rq->srv = srv;
    rq->conn = conn;
    rq->method = method;
    if (len >= sizeof(rq->path)) {
        len = 0; /* routes nowhere: 404 */
    }
    memcpy(rq->path, url, len);
    rq->path[len] = '\0';
    peer_of(rq);
    return rq;
}

static bool content_length_too_large(struct web_req *rq)
{
    const char *cl = web_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end = NULL;
    unsigned long long n;

    if (cl == NULL) {
        return false;
    }
    errno = 0;
    n = strtoull(cl, &end, 10);
    return errno != 0 || n > (unsigned long long)rq->max_body_bytes;
}

static void body_append(struct web_req *rq, const char *data, size_t len)
{
    size_t max = (size_t)rq->max_body_bytes;
    char *p;

    if (rq->is_too_large) {
        return;
    }
    if (rq->body_len + len > max) {
        rq->is_too_large = true;
        free(rq->body);
        rq->body = NULL;
        rq->body_len = 0;
        return;
    }
    if (rq->body_len + len + 1 > rq->body_cap) {
        size_t cap = rq->body_cap < 4096 ? 4096 : rq->body_cap;
        while (cap < rq->body_len + len + 1) {
            cap *= 2;
        }
        p = realloc(rq->body, cap);
        if (p == NULL) {
            rq->is_too_large = true; /* answered 413; the client may retry smaller */
            return;
        }
        rq->body = p;
        rq->body_cap = cap;
    }
    memcpy(rq->body + rq->body_len, data, len);
    rq->body_len += len;
    rq->body[rq->body_len] = '\0';
}

/*
 * First call: the route's body cap, and for a streamed route the token before any byte is read.
 * Returns: true to read the body, false to answer at once (dispatch() says why).
 */
static bool body_wanted(struct web_req *rq)
{
    struct web_resp rs = { 0 };
    const struct web_route *route;
    bool is_known = false, is_ok;

    route = web_route_find(rq, &is_known);
    rq->max_body_bytes = route != NULL && route->max_body_bytes > 0 ? route->max_body_bytes
                                                                    : rq->srv->o.max_body_bytes;
    if (content_length_too_large(rq)) {
        rq->is_too_large = true;
        return false;
    }
    if (route == NULL || route->stream == NULL || route->is_public) {
        return true;
    }
    rq->st = pool_get(rq->srv);
    rq->now_ms = wall_ms();
    is_ok = web_auth_check(rq, &rs); /* refused: dispatch() checks again and answers */
    pool_put(rq->srv, rq->st);
    rq->st = NULL;
    free(rs.body);
    return is_ok;
}

/* A chunk of the body: to the streamed route's callback, else into the buffer. */
static void body_chunk(struct web_req *rq, const char *data, size_t len)
{
    bool is_known = false;
    const struct web_route *route = web_route_find(rq, &is_known);

    if (route == NULL || route->stream == NULL) {
        body_append(rq, data, len);
    } else if (!rq->is_stream_failed && route->stream(rq, data, len) != 0) {
        rq->is_stream_failed = true;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct web_req *rq = *con_cls;
    struct web_resp rs = { 0 };

    (void)version;
    if (rq == NULL) {
        rq = req_new(cls, conn, url, method);
        if (rq == NULL) {
            return MHD_NO;
        }
        *con_cls = rq;
        if (body_wanted(rq)) {
            return MHD_YES;
        }
    } else if (*upload_data_size > 0) {
        body_chunk(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->is_answered) {
        return MHD_YES;
    }
    /* The admin page: GET or HEAD outside /api/ that no route claims (web_static.c). */
    if (web_static_is_page_request(rq)) {
        return web_static_serve(rq) == 0 ? MHD_YES : MHD_NO;
    }
    dispatch(rq, &rs);
    atomic_fetch_add(&rq->srv->http_answers[rs.status / 100 % 6], 1);
    if (rs.status >= 500) {
        gw_log_warn("admin api error method=%s path=%s status=%u peer=%s", method, url, rs.status,
                    rq->peer);
    } else {
        gw_log_debug("admin api method=%s path=%s status=%u peer=%s", method, url, rs.status,
                     rq->peer);
    }
    return queue(rq, &rs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct web_req *rq = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (rq != NULL) {
        if (rq->stream_free != NULL) {
            rq->stream_free(rq->stream_ctx);
        }
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    (void)cls;
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r')) {
        msg[--n] = '\0';
    }
    gw_log_info("admin http err=\"%s\"", msg);
}

/* ---- start and stop ---------------------------------------------------------------------- */

/* Fills ss with the bind address; the default depends on TLS. */
static int bind_addr(struct web_server *srv, struct sockaddr_storage *ss, socklen_t *len, char *err,
                     size_t err_len)
{
    struct sockaddr_in *in = (struct sockaddr_in *)(void *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)(void *)ss;
    const char *a = srv->o.bind_address;

    if (a == NULL || a[0] == '\0') {
        a = srv->o.is_tls ? "0.0.0.0" : "127.0.0.1";
    }
    (void)snprintf(srv->bind_address, sizeof(srv->bind_address), "%s", a);
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, a, &in->sin_addr) == 1) {
        in->sin_family = AF_INET;
        in->sin_port = htons(srv->o.port);
        *len = sizeof(*in);
    } else if (inet_pton(AF_INET6, a, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons(srv->o.port);
        *len = sizeof(*in6);
    } else {
        (void)snprintf(err, err_len, "admin bind address \"%s\" is not a numeric address", a);
        return -EINVAL;
    }
    return 0;
}

/* Binds the address once without libmicrohttpd to tell "in use" from other failures. */
static int probe_port(const struct sockaddr_storage *ss, socklen_t len, char *err, size_t err_len)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    int rc = 0;

    if (fd < 0) {
        (void)snprintf(err, err_len, "socket: %s", strerror(errno));
        return -EIO;
    }
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)ss, len) != 0) {
        rc = errno == EADDRINUSE ? -EADDRINUSE : -EIO;
        (void)snprintf(err, err_len, "admin port: %s", strerror(errno));
    }
    (void)close(fd);
    return rc;
}

static int start_mhd(struct web_server *srv, char *err, size_t err_len)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    int rc;

    rc = bind_addr(srv, &ss, &len, err, err_len);
    if (rc == 0) {
        rc = probe_port(&ss, len, err, err_len);
    }
    if (rc != 0) {
        return rc;
    }
    flags |= ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0;
    flags |= srv->o.is_tls ? MHD_USE_TLS : 0;
    srv->mhd = MHD_start_daemon(
        flags, srv->o.port, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        srv, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)WEB_THREADS, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)srv->o.connection_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)srv->o.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)PER_IP_CONNECTIONS, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CONN_MEMORY_BYTES, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_STRICT_FOR_CLIENT, 1, srv->o.is_tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END,
        srv->o.tls_key_pem, MHD_OPTION_HTTPS_MEM_CERT, srv->o.tls_cert_pem,
        MHD_OPTION_HTTPS_PRIORITIES, TLS_PRIORITIES, MHD_OPTION_END);
    if (srv->mhd == NULL) {
        (void)snprintf(err, err_len, "cannot start the admin server on %s:%u%s", srv->bind_address,
                       (unsigned)srv->o.port,
                       srv->o.is_tls ? " (TLS: check the certificate and key)" : "");
        return -EIO;
    }
    return 0;
}

/* The JWT secret and the tenant id, kept in the data directory. */
static int load_secrets(struct web_server *srv, char *err, size_t err_len)
{
    char path[4096];
    uint8_t *b = srv->tenant_seed;
    int rc;

    (void)snprintf(path, sizeof(path), "%s/%s", srv->o.data_dir, JWT_KEY_FILE);
    rc = gw_pki_secret_load_or_create(path, srv->jwt_key, sizeof(srv->jwt_key), err, err_len);
    if (rc == 0) {
        /* TODO(#4): keep the tenant id in the database once the schema has a place for it. */
        (void)snprintf(path, sizeof(path), "%s/%s", srv->o.data_dir, TENANT_FILE);
        rc = gw_pki_secret_load_or_create(path, b, sizeof(srv->tenant_seed), err, err_len);
    }
    if (rc == 0) {
        (void)snprintf(srv->tenant_id, sizeof(srv->tenant_id),
                       "%02x%02x%02x%02x-%02x%02x-4%x%02x-%x%x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                       b[1], b[2], b[3], b[4], b[5], b[6] & 0x0f, b[7], 8 | (b[8] & 0x3), b[8] >> 4,
                       b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    }
    return rc;
}

static int open_stores(struct web_server *srv, char *err, size_t err_len)
{
    char path[4096];
    size_t i;
    int rc = 0;

    (void)snprintf(path, sizeof(path), "%s/nbgate.db", srv->o.data_dir);
    for (i = 0; rc == 0 && i < WEB_THREADS; i++) {
        rc = gw_store_open(path, srv->o.store_opts, &srv->stores[i], err, err_len);
    }
    return rc;
}

/* Replaces unset (zero or negative) limits with the documented defaults. */
static void fill_defaults(struct web_server_opts *o)
{
    static const struct {
        size_t offset;
        int64_t def;
    } defs[] = {
        { offsetof(struct web_server_opts, max_body_bytes), 1048576 },
        { offsetof(struct web_server_opts, connection_timeout_s), 30 },
        { offsetof(struct web_server_opts, max_connections), 64 },
        { offsetof(struct web_server_opts, login_failures_per_minute), 5 },
        { offsetof(struct web_server_opts, jwt_ttl_s), 9000 },
        { offsetof(struct web_server_opts, jwt_refresh_ttl_s), 604800 },
        { offsetof(struct web_server_opts, default_inactivity_timeout_s), 600 },
        { offsetof(struct web_server_opts, max_keys_per_message), 1000 },
    };
    size_t i;

    for (i = 0; i < sizeof(defs) / sizeof(defs[0]); i++) {
        int64_t *v = (int64_t *)(void *)((char *)o + defs[i].offset);
        if (*v <= 0) {
            *v = defs[i].def;
        }
    }
}

int web_server_start(const struct web_server_opts *o, struct web_server **out, char *err,
                     size_t err_len)
{
    struct web_server *srv = calloc(1, sizeof(*srv));
    int rc;

    *out = NULL;
    if (srv == NULL) {
        return -ENOMEM;
    }
    srv->o = *o;
    fill_defaults(&srv->o);
    srv->start_ms = wall_ms();
    atomic_init(&srv->loop_alive, 0);
    for (size_t i = 0; i < 6; i++) {
        atomic_init(&srv->http_answers[i], 0);
    }
    (void)pthread_mutex_init(&srv->pool_mu, NULL);
    (void)pthread_cond_init(&srv->pool_cv, NULL);
    (void)pthread_mutex_init(&srv->setup_mu, NULL);
    (void)pthread_mutex_init(&srv->limiter.mu, NULL);
    if (o->is_tls && (o->tls_cert_pem == NULL || o->tls_key_pem == NULL)) {
        (void)snprintf(err, err_len, "admin TLS needs a certificate and a key");
        rc = -EINVAL;
        goto out;
    }
    rc = open_stores(srv, err, err_len);
    if (rc == 0) {
        rc = load_secrets(srv, err, err_len);
    }
    if (rc == 0) {
        rc = web_auth_setup_init(srv, srv->stores[0]);
    }
    if (rc == 0) {
        rc = start_mhd(srv, err, err_len);
    }
out:
    if (rc != 0) {
        web_server_stop(srv);
        return rc;
    }
    gw_log_notice("admin api listening addr=%s port=%u tls=%s", srv->bind_address,
                  (unsigned)o->port, o->is_tls ? "on" : "off");
    *out = srv;
    return 0;
}

void web_server_stop(struct web_server *w)
{
    size_t i;

    if (w == NULL) {
        return;
    }
    if (w->mhd != NULL) {
        MHD_stop_daemon(w->mhd);
    }
    for (i = 0; i < WEB_THREADS; i++) {
        gw_store_close(w->stores[i]);
    }
    (void)pthread_mutex_destroy(&w->pool_mu);
    (void)pthread_cond_destroy(&w->pool_cv);
    (void)pthread_mutex_destroy(&w->setup_mu);
    (void)pthread_mutex_destroy(&w->limiter.mu);
    explicit_bzero(w->jwt_key, sizeof(w->jwt_key));
    explicit_bzero(w->setup_token, sizeof(w->setup_token));
    free(w);
}
