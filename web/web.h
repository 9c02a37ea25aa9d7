/* SPDX-License-Identifier: MIT */
/*
 * web.h - nbgate's admin HTTP(S) server: the ThingsBoard-compatible JSON API of
 * specs/rest-api.md (and later the static admin UI), served by libmicrohttpd.
 *
 * The server runs in libmicrohttpd's own threads (a pool of WEB_THREADS) with one store
 * connection per thread; it never touches libcoap or the loop's objects. It reaches the loop only
 * through the store and the loop's wake-up eventfd (written after it queues a downlink, and by
 * the health check, which the loop answers with web_server_loop_alive()).
 */
#ifndef WEB_H
#define WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_store.h"

#define WEB_THREADS 2 /* libmicrohttpd worker threads, each with its own store connection */

struct web_server;

/*
 * Everything the server needs, filled by main.c from the configuration. A limit left at 0 takes
 * the default in brackets.
 */
struct web_server_opts {
    const char *data_dir;                   /* the store (nbgate.db) and the API's secrets */
    const struct gw_store_opts *store_opts; /* how each thread opens its store connection */
    const char *bind_address;               /* NULL / "": 0.0.0.0 with TLS, 127.0.0.1 without */
    uint16_t port;                          /* TCP port, e.g. 8443 */
    bool is_tls;                            /* HTTPS with tls_cert_pem / tls_key_pem */
    const char *tls_cert_pem;               /* borrowed PEM text; must outlive the server */
    const char *tls_key_pem;                /* borrowed PEM text; must outlive the server */
    int wakeup_fd;                          /* the loop's eventfd, or -1 */
    /* Appends the loop's own counters (Prometheus text) to /metrics; NULL for none. Thread:
     * called from admin threads; returns the bytes needed, like snprintf. */
    size_t (*loop_metrics)(void *arg, char *buf, size_t len);
    void *loop_metrics_arg;
    bool is_dtls_enabled;                 /* reported by the health check */
    int64_t max_body_bytes;               /* request bodies above this get 413 [1 MiB] */
    int64_t connection_timeout_s;         /* idle connections are closed after this [30] */
    int64_t max_connections;              /* open connections, all clients together [64] */
    int64_t login_failures_per_minute;    /* per client address; more get 429 [5] */
    int64_t jwt_ttl_s;                    /* access token lifetime [9000] */
    int64_t jwt_refresh_ttl_s;            /* refresh token lifetime [604800] */
    int64_t default_inactivity_timeout_s; /* DEFAULT_INACTIVITY_TIMEOUT [600] */
    int64_t max_keys_per_message;         /* attribute saves: most keys per request [1000] */
    int64_t json_max_string_value_length; /* 0 = bounded by max_body_bytes */
    bool json_type_cast_enabled;          /* JSON_TYPE_CAST_ENABLED */
    int64_t shared_attr_expiry_ms;        /* how long a shared-attribute downlink waits [1 day] */
    int64_t max_queued_downlinks;         /* unfinished downlinks per device [100] */
    const char *coap_bind_address; /* COAP_BIND_ADDRESS, shown by GET /api/nbgate/connectivity */
    int64_t coap_bind_port;        /* COAP_BIND_PORT */
    const char *dtls_bind_address; /* COAP_DTLS_BIND_ADDRESS, shown by GET /api/nbgate/dtls */
    int64_t dtls_bind_port;        /* COAP_DTLS_BIND_PORT */
    const char *dtls_credentials_type; /* COAP_DTLS_CREDENTIALS_TYPE (NULL: "PEM") */
    const char *dtls_cert_path;        /* COAP_DTLS_PEM_CERT; NULL / "": the appliance one */
    int64_t dtls_session_inactivity_timeout_ms; /* TB_COAP_X509_DTLS_SESSION_INACTIVITY_TIMEOUT */
    int64_t dtls_session_report_timeout_ms;     /* TB_COAP_X509_DTLS_SESSION_REPORT_TIMEOUT */
};

/*
 * Opens one store connection per worker, loads (or creates) the JWT secret and the gateway's
 * tenant id in data_dir, binds the port and starts the worker threads. When no admin user exists
 * it logs a one-time setup token for POST /api/nbgate/setup.
 * Returns: 0, -EADDRINUSE / -EINVAL / -EIO (err says why), -ENOMEM.
 * Ownership: o and the strings it points to are borrowed and must outlive the server; caller
 * owns *out, stop it with web_server_stop().
 * Thread: the main thread, before the loop runs.
 */
int web_server_start(const struct web_server_opts *o, struct web_server **out, char *err,
                     size_t err_len);

/* Stops the worker threads (waiting for running requests), closes the stores. NULL is a no-op. */
void web_server_stop(struct web_server *w);

/*
 * Tells the server that the loop thread is alive; the loop calls it after each wake-up through
 * its eventfd. The health check writes the eventfd and waits for this call.
 * Thread: the loop thread (async with the workers; it only bumps an atomic counter).
 */
void web_server_loop_alive(struct web_server *w);

#endif /* WEB_H */
