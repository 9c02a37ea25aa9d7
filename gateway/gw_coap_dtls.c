/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_dtls.c - CoAP over DTLS 1.2 on one endpoint for both kinds of device (specs/dtls.md,
 * specs/coap-device-api.md R7, 4.1, 15): token devices with server-only authentication and X.509
 * devices with mutual authentication. Every libcoap DTLS call of nbgate is here.
 *
 * Server identity (gw_coap_dtls_id.c): the configured certificate, its chain and key (decrypted
 * with mbedTLS when it has a password), or the appliance pair; given to libcoap in memory
 * (COAP_PKI_KEY_PEM_BUF). libcoap reads those buffers at every handshake, so they live as long as
 * the endpoint; the chain is added to each session here. The key is never written to a file.
 *
 * Client certificates: libcoap's verify_peer_cert makes a certificate mandatory, so the TLS setup
 * callback clears SSL_VERIFY_FAIL_IF_NO_PEER_CERT on each session: a certificate is asked for but
 * optional. There are no trust anchors (spec 15.3): errors about an unknown issuer are cleared
 * before libcoap's verify callback sees them, so a CA-issued certificate counts like a
 * self-signed one. Dates are checked unless
 * TB_COAP_X509_DTLS_SKIP_VALIDITY_CHECK_FOR_CLIENT_CERT (an out-of-date certificate fails the
 * handshake). The CN callback sees the leaf's DER bytes at depth 0 and keeps them with their
 * SHA-256 on the session; nothing is decided in the handshake.
 *
 * Binding (spec 4.1 step 4.1, 15.3): per request, the session's fingerprint is looked up in the
 * store (one index probe) and, when the device changes, the stored certificate's DER bytes are
 * compared with the presented ones. So removing or replacing a certificate, or deleting the device,
 * takes effect at the next request; a commit by another connection (admin API, command line) also
 * makes the periodic work re-check every bound session and end the observations of a dropped one.
 *
 * Session lifetime: libcoap reaps idle sessions after the short plain-CoAP session timeout, so
 * every established DTLS session holds a reference until nbgate lets it go: idle longer than
 * TB_COAP_X509_DTLS_SESSION_INACTIVITY_TIMEOUT (swept every ..._REPORT_TIMEOUT), evicted as the
 * least recently active when coap_dtls_max_sessions are established, or closed by the peer. Closing
 * ends the session's observations first (nothing may be sent on a closed DTLS server session:
 * libcoap would start a client handshake on it). Handshakes in progress are capped by libcoap
 * (coap_dtls_max_handshakes); established sessions are found before that cap applies, so a flood
 * of ClientHellos does not touch them.
 *
 *   ClientHello --handshake--> [CN callback: DER, fingerprint] --DTLS_CONNECTED--> established
 *   established --idle / evicted--> disconnected by nbgate --DTLS_CLOSED--> released
 *   established --close_notify / error--> DTLS_CLOSED --> released
 *   established --ClientHello from the same address (peer restarted)--> closed by nbgate
 */
#include <arpa/inet.h>
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/gw_coap_dtls.h"
#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"
#include "gateway/gw_x509.h"

#define RECHECK_MS 1000 /* how often a commit by another connection is looked for */
#define OBS_BATCH  16

/* nbgate's state of one DTLS session (the session's app data). */
struct dtls_sess {
    coap_session_t *session; /* referenced while is_established */
    size_t idx;              /* slot in the table while is_established */
    bool is_established;
    bool has_cert;     /* a client certificate was presented */
    int64_t device_id; /* device the certificate last resolved to and was verified for; 0 none */
    int64_t last_ms;   /* monotonic time of the handshake or the last request or ACK */
    char fingerprint[GW_X509_FINGERPRINT_LEN];
    uint8_t *der; /* the presented leaf certificate */
    size_t der_len;
};

struct gw_coap_dtls {
    struct gw_coap *c;
    coap_dtls_pki_t pki;       /* libcoap keeps a copy that points into id's buffers */
    struct gw_coap_dtls_id id; /* certificate, chain and key (gw_coap_dtls_id.c) */
    SSL_verify_cb coap_verify; /* libcoap's certificate verify callback, wrapped by verify_peer */
    struct dtls_sess **tab;    /* established sessions */
    size_t n, cap;
    int64_t next_sweep_ms;
    int64_t next_recheck_ms;
    int64_t data_version; /* the store's, to notice commits by other connections */
    int sock_fd;          /* the endpoint's socket, to peek at ClientHellos; -1 unknown */
    uint64_t handshakes, handshake_failures, reported_failures, expired, evicted;
};

static void peer_text(const coap_session_t *session, char *buf, size_t len)
{
    size_t n = coap_print_addr(coap_session_get_addr_remote(session), (unsigned char *)buf, len);

    buf[n < len ? n : len - 1] = '\0';
}

/* ---- the session table -------------------------------------------------------------------- */

static void sess_free(struct dtls_sess *s)
{
    if (s != NULL) {
        free(s->der);
        free(s);
    }
}

/* Returns: the session's state, created when create is true (NULL when out of memory). */
static struct dtls_sess *sess_get(coap_session_t *session, bool create)
{
    struct dtls_sess *s = coap_session_get_app_data(session);

    if (s == NULL && create) {
        s = calloc(1, sizeof(*s));
        if (s != NULL) {
            s->session = session;
            coap_session_set_app_data(session, s);
        }
    }
    return s;
}

static int table_add(struct gw_coap_dtls *d, struct dtls_sess *s)
{
    if (d->n == d->cap) {
        size_t nc = d->cap == 0 ? 64 : d->cap * 2;
        struct dtls_sess **p = realloc(d->tab, nc * sizeof(*p));
        if (p == NULL) {
            return -ENOMEM;
        }
        d->tab = p;
        d->cap = nc;
    }
    s->idx = d->n;
    d->tab[d->n++] = s;
    return 0;
}

static void table_remove(struct gw_coap_dtls *d, struct dtls_sess *s)
{
    assert(s->idx < d->n && d->tab[s->idx] == s);
    d->tab[s->idx] = d->tab[--d->n];
    d->tab[s->idx]->idx = s->idx;
}

/* ---- observations on a session ------------------------------------------------------------ */

struct obs_hit {
    int64_t device_id;
    int kind;
    uint8_t token[8];
    size_t token_len;
};

struct obs_find {
    const coap_session_t *session;
    int64_t device_id; /* 0: any device */
    struct obs_hit hits[OBS_BATCH];
    size_t n;
};

static void find_obs_cb(void *arg, struct gw_sched_dev *dev)
{
    struct obs_find *f = arg;
    int k;

    if (f->device_id != 0 && dev->device_id != f->device_id) {
        return;
    }
    for (k = 0; k < 2; k++) {
        struct gw_obs *o = dev->obs[k];
        struct gw_obs *r = dev->retired[k];
        if (r != NULL && r->session == f->session) {
            /* Its final 2.02 can no longer be sent: drop it as shutdown does. */
            coap_session_release(r->session);
            free(r);
            dev->retired[k] = NULL;
        }
        if (o != NULL && o->session == f->session && f->n < OBS_BATCH) {
            f->hits[f->n].device_id = dev->device_id;
            f->hits[f->n].kind = k;
            f->hits[f->n].token_len = o->token_len;
            memcpy(f->hits[f->n].token, o->token, o->token_len);
            f->n++;
        }
    }
}

/*
 * Ends the observations held on session (of device_id, or of every device for 0) through
 * gw_coap_obs_deregister(), exactly as a deregistration from the device would.
 */
static void end_observations(struct gw_coap *c, coap_session_t *session, int64_t device_id)
{
    struct obs_find f;
    size_t i;

    do {
        memset(&f, 0, sizeof(f));
        f.session = session;
        f.device_id = device_id;
        gw_sched_foreach(c->sched, find_obs_cb, &f);
        for (i = 0; i < f.n; i++) {
            coap_pdu_t *pdu = coap_pdu_init(COAP_MESSAGE_CON, COAP_REQUEST_CODE_GET, 0, 64);
            struct gw_req r;
            if (pdu == NULL || !coap_add_token(pdu, f.hits[i].token_len, f.hits[i].token)) {
                coap_delete_pdu(pdu);
                return;
            }
            memset(&r, 0, sizeof(r));
            r.c = c;
            r.session = session;
            r.pdu = pdu;
            r.dev.id = f.hits[i].device_id;
            gw_coap_obs_deregister(&r, (enum gw_obs_kind)f.hits[i].kind);
            coap_delete_pdu(pdu);
        }
    } while (f.n == OBS_BATCH);
}

/* ---- handshake callbacks and session events ----------------------------------------------- */

/* libcoap calls this per certificate of the client's chain; depth 0 is the client's own. */
static int on_client_cert(const char *cn, const uint8_t *der, size_t der_len,
                          coap_session_t *session, unsigned depth, int validated, void *arg)
{
    struct dtls_sess *s;

    (void)cn;
    (void)validated;
    (void)arg;
    if (depth != 0 || der == NULL || der_len == 0 || der_len > GW_X509_TEXT_MAX) {
        return 1; /* accepted: what a certificate may do is decided per request */
    }
    s = sess_get(session, true);
    if (s == NULL) {
        return 1;
    }
    free(s->der);
    s->der = malloc(der_len);
    s->has_cert = s->der != NULL && gw_x509_fingerprint(der, der_len, s->fingerprint) == 0;
    if (s->has_cert) {
        memcpy(s->der, der, der_len);
        s->der_len = der_len;
    }
    return 1;
}

/*
 * No trust anchors (spec 15.3): a client certificate issued by a CA nbgate does not know is
 * judged like a self-signed one, so the errors about the chain are cleared before libcoap's own
 * callback sees them. Dates stay libcoap's (allow_expired_certs), the rest as libcoap decides.
 */
static int verify_peer(int ok, X509_STORE_CTX *x)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
    coap_session_t *session = SSL_get_app_data(ssl);
    struct gw_coap *c = coap_get_app_data(coap_session_get_context(session));

    switch (ok ? X509_V_OK : X509_STORE_CTX_get_error(x)) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_INVALID_CA:
    case X509_V_ERR_PATH_LENGTH_EXCEEDED:
    case X509_V_ERR_INVALID_PURPOSE:
        X509_STORE_CTX_set_error(x, X509_V_OK);
        ok = 1;
        break;
    default:
        break;
    }
    return c->dtls->coap_verify(ok, x);
}

/* Called by libcoap on each new session's SSL after it has set the verify mode. */
static int on_tls_setup(void *tls, coap_dtls_pki_t *pki)
{
    struct gw_coap_dtls *d = pki->cn_call_back_arg;
    SSL *ssl = tls;
    size_t i;

    if (SSL_get_verify_callback(ssl) != verify_peer) {
        d->coap_verify = SSL_get_verify_callback(ssl);
    }
    if (d->coap_verify == NULL) {
        return 0;
    }
    /* Ask for a client certificate, but do not require one (token devices send none). */
    SSL_set_verify(ssl, SSL_get_verify_mode(ssl) & ~SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_peer);
    for (i = 0; i < d->id.n_chain; i++) {
        const unsigned char *p = d->id.chain_der[i];
        X509 *x = d2i_X509(NULL, &p, (long)d->id.chain_len[i]);
        if (x == NULL || SSL_add0_chain_cert(ssl, x) != 1) {
            X509_free(x);
            return 0;
        }
    }
    return 1;
}

static void established(struct gw_coap_dtls *d, coap_session_t *session)
{
    struct dtls_sess *s = sess_get(session, true);
    struct gw_device_ref ref;
    char peer[64];
    bool has_dev = false;

    if (s != NULL && s->is_established) {
        return; /* already counted (a renegotiation) */
    }
    if (s == NULL || table_add(d, s) != 0) {
        gw_log_warn("dtls session not tracked: out of memory");
        return;
    }
    s->is_established = true;
    s->last_ms = gw_coap_monotonic_ms();
    (void)coap_session_reference(session);
    d->handshakes++;
    if (!gw_log_enabled(LOG_INFO)) {
        return;
    }
    peer_text(session, peer, sizeof(peer));
    if (s->has_cert) {
        has_dev = gw_store_x509_find(d->c->store, s->fingerprint, &ref, NULL) == 0;
    }
    gw_log_info("dtls session established peer=%s cert=%s dev=%s sessions=%zu", peer,
                s->has_cert ? s->fingerprint : "none", has_dev ? ref.name : "-", d->n);
}

/* The session's DTLS state is gone (closed by either side, failed, or freed by libcoap). */
static void gone(struct gw_coap_dtls *d, coap_session_t *session, coap_event_t ev)
{
    struct dtls_sess *s = coap_session_get_app_data(session);
    char peer[64];

    if (ev == COAP_EVENT_DTLS_ERROR && (s == NULL || !s->is_established)) {
        d->handshake_failures++;
    }
    if (s == NULL) {
        return;
    }
    coap_session_set_app_data(session, NULL);
    if (s->is_established) {
        table_remove(d, s);
        end_observations(d->c, session, 0);
        if (gw_log_enabled(LOG_INFO)) {
            peer_text(session, peer, sizeof(peer));
            gw_log_info("dtls session closed peer=%s dev=%lld reason=%s", peer,
                        (long long)s->device_id, ev == COAP_EVENT_DTLS_ERROR ? "error" : "closed");
        }
        coap_session_release(session);
    }
    sess_free(s);
}

static int on_event(coap_session_t *session, const coap_event_t ev)
{
    struct gw_coap *c = coap_get_app_data(coap_session_get_context(session));

    if (c == NULL || c->dtls == NULL || coap_session_get_proto(session) != COAP_PROTO_DTLS) {
        return 0;
    }
    switch (ev) {
    case COAP_EVENT_DTLS_CONNECTED:
        established(c->dtls, session);
        break;
    case COAP_EVENT_DTLS_CLOSED:
    case COAP_EVENT_DTLS_ERROR:
    case COAP_EVENT_SERVER_SESSION_DEL:
        gone(c->dtls, session, ev);
        break;
    default:
        break;
    }
    return 0;
}

/* Closes an established session (sends close_notify); gone() releases it. */
static void close_session(struct gw_coap_dtls *d, struct dtls_sess *s, const char *why)
{
    coap_session_t *session = s->session;
    char peer[64];

    peer_text(session, peer, sizeof(peer));
    gw_log_info("dtls session dropped peer=%s dev=%lld reason=%s idle_ms=%lld", peer,
                (long long)s->device_id, why, (long long)(gw_coap_monotonic_ms() - s->last_ms));
    end_observations(d->c, session, 0);
    coap_session_disconnected(session, COAP_NACK_TLS_FAILED);
    if (coap_session_get_app_data(session) == s) {
        gone(d, session, COAP_EVENT_DTLS_CLOSED); /* no DTLS state was left to report it */
    }
}

/* ---- a peer that starts over -------------------------------------------------------------- */

/*
 * A device that restarts (reboot, new DTLS stack) from the same address and port sends a new
 * ClientHello (record type 22, epoch 0, handshake type 1) to a session libcoap still holds as
 * established; OpenSSL drops it there, and the device would be locked out until the session ends
 * (up to the inactivity timeout). Peeking at the datagram libcoap is about to read, such a session
 * is closed now; the device's next ClientHello (its DTLS retransmission) starts a fresh one.
 */
static void peek_restart(struct gw_coap_dtls *d)
{
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    coap_address_t peer;
    uint8_t b[14];
    ssize_t n;
    size_t i;

    if (d->sock_fd < 0 || d->n == 0) {
        return;
    }
    n = recvfrom(d->sock_fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT, (struct sockaddr *)&from,
                 &flen);
    if (n < (ssize_t)sizeof(b) || b[0] != 22 || b[3] != 0 || b[4] != 0 || b[13] != 1 ||
        flen > sizeof(peer.addr)) {
        return;
    }
    coap_address_init(&peer);
    memcpy(&peer.addr, &from, flen);
    peer.size = flen;
    for (i = 0; i < d->n; i++) {
        if (coap_address_equals(coap_session_get_addr_remote(d->tab[i]->session), &peer)) {
            close_session(d, d->tab[i], "new handshake from the same address");
            return;
        }
    }
}

void gw_coap_dtls_before_io(struct gw_coap *c)
{
    if (c->dtls != NULL) {
        peek_restart(c->dtls);
        gw_coap_dtls_ack_before_io(c);
    }
}

void gw_coap_dtls_after_io(struct gw_coap *c)
{
    if (c->dtls != NULL) {
        gw_coap_dtls_ack_after_io(c);
    }
}

/* ---- the endpoint --------------------------------------------------------------------------- */

static int open_endpoint(struct gw_coap_dtls *d, const struct gw_config *cfg, char *err,
                         size_t err_len)
{
    coap_address_t addr;
    int rc = gw_coap_parse_address(cfg->coap_dtls_bind_address, cfg->coap_dtls_bind_port, &addr);

    if (rc != 0) {
        (void)snprintf(err, err_len, "coap_dtls_bind_address: not an IPv4 or IPv6 address: \"%s\"",
                       cfg->coap_dtls_bind_address);
        return rc;
    }
    rc = gw_coap_probe_port_free(&addr);
    if (rc == 0 && coap_new_endpoint(d->c->ctx, &addr, COAP_PROTO_DTLS) == NULL) {
        rc = errno == EADDRINUSE ? -EADDRINUSE : -EIO;
    }
    d->sock_fd = rc == 0 ? gw_coap_find_socket(&addr) : -1;
    if (rc == 0 && d->sock_fd < 0) {
        gw_log_warn("cannot find the DTLS socket: a device restarting from the same address "
                    "waits until its old session ends");
    }
    if (rc != 0) {
        (void)snprintf(err, err_len, "cannot listen on dtls %s:%lld: %s",
                       cfg->coap_dtls_bind_address, (long long)cfg->coap_dtls_bind_port,
                       strerror(-rc));
    }
    return rc;
}

int gw_coap_dtls_new(struct gw_coap *c, char *err, size_t err_len)
{
    const struct gw_config *cfg = c->cfg;
    struct gw_coap_dtls *d;
    int rc;

    if (!coap_dtls_is_supported()) {
        (void)snprintf(err, err_len, "this libcoap has no DTLS support");
        return -EIO;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return -ENOMEM;
    }
    d->c = c;
    d->sock_fd = -1;
    c->dtls = d;
    rc = gw_coap_dtls_id_load(cfg, &d->id, err, err_len);
    if (rc != 0) {
        return rc;
    }
    d->pki.version = COAP_DTLS_PKI_SETUP_VERSION;
    d->pki.verify_peer_cert = 1; /* ask for a certificate; on_tls_setup makes it optional */
    d->pki.check_common_ca = 0;  /* no trust anchors (spec 15.3) */
    d->pki.allow_self_signed = 1;
    d->pki.allow_expired_certs = cfg->coap_dtls_skip_validity_check ? 1 : 0;
    d->pki.validate_cn_call_back = on_client_cert;
    d->pki.cn_call_back_arg = d;
    d->pki.additional_tls_setup_call_back = on_tls_setup;
    d->pki.pki_key.key_type = COAP_PKI_KEY_PEM_BUF;
    d->pki.pki_key.key.pem_buf.public_cert = (const uint8_t *)d->id.cert_pem;
    d->pki.pki_key.key.pem_buf.public_cert_len = strlen(d->id.cert_pem) + 1;
    d->pki.pki_key.key.pem_buf.private_key = (const uint8_t *)d->id.key_pem;
    d->pki.pki_key.key.pem_buf.private_key_len = strlen(d->id.key_pem) + 1;
    if (coap_context_set_pki(c->ctx, &d->pki) != 1) {
        (void)snprintf(err, err_len, "libcoap refused the DTLS server certificate or key");
        return -EIO;
    }
    coap_context_set_max_handshake_sessions(c->ctx, (unsigned)cfg->coap_dtls_max_handshakes);
    coap_register_event_handler(c->ctx, on_event);
    rc = open_endpoint(d, cfg, err, err_len);
    if (rc != 0) {
        return rc;
    }
    gw_coap_dtls_ack_start();
    d->next_sweep_ms = gw_coap_monotonic_ms() + cfg->coap_dtls_session_report_timeout_ms;
    (void)gw_store_x509_data_version(c->store, &d->data_version);
    gw_log_notice("dtls listening on %s:%lld max_sessions=%lld max_handshakes=%lld "
                  "inactivity_ms=%lld client_cert_dates=%s",
                  cfg->coap_dtls_bind_address, (long long)cfg->coap_dtls_bind_port,
                  (long long)cfg->coap_dtls_max_sessions, (long long)cfg->coap_dtls_max_handshakes,
                  (long long)cfg->coap_dtls_session_inactivity_timeout_ms,
                  cfg->coap_dtls_skip_validity_check ? "ignored" : "checked");
    return 0;
}

void gw_coap_dtls_free(struct gw_coap *c)
{
    struct gw_coap_dtls *d = c->dtls;

    if (d == NULL) {
        return;
    }
    gw_coap_dtls_ack_stop();
    /* libcoap frees only sessions nobody references: let go of every session first. */
    while (d->n > 0) {
        struct dtls_sess *s = d->tab[--d->n];
        coap_session_set_app_data(s->session, NULL);
        coap_session_release(s->session);
        sess_free(s);
    }
    free(d->tab);
    gw_coap_dtls_id_fini(&d->id); /* wipes the key */
    free(d);
    c->dtls = NULL;
}

/* ---- requests: the device bound to a session ---------------------------------------------- */

/* Compares the stored certificate text with the DER bytes the peer presented. */
static bool same_certificate(const char *stored, const struct dtls_sess *s)
{
    struct gw_x509_cert cert;
    char err[160];
    bool is_same;

    if (stored == NULL || gw_x509_parse(stored, strlen(stored), &cert, err, sizeof(err)) != 0) {
        return false;
    }
    is_same = cert.der_len == s->der_len && memcmp(cert.der, s->der, s->der_len) == 0;
    gw_x509_fini(&cert);
    return is_same;
}

/* Forgets the session's device: its observations on this session end (spec 15.3). */
static void unbind(struct gw_coap_dtls *d, struct dtls_sess *s, const char *why)
{
    char peer[64];

    peer_text(s->session, peer, sizeof(peer));
    gw_log_notice("dtls binding dropped peer=%s dev=%lld sha256=%s reason=%s", peer,
                  (long long)s->device_id, s->fingerprint, why);
    end_observations(d->c, s->session, s->device_id);
    s->device_id = 0;
}

/* Looks the session's certificate up. Returns: 0 (*out set), -ENOENT, -EIO. */
static int resolve(struct gw_coap_dtls *d, struct dtls_sess *s, struct gw_device_ref *out)
{
    char *stored = NULL;
    int rc = gw_store_x509_find(d->c->store, s->fingerprint, out, &stored);

    if (rc == 0 && out->id != s->device_id) {
        if (!same_certificate(stored, s)) {
            gw_log_warn("dtls certificate fingerprint matches but the stored certificate differs "
                        "dev=%lld sha256=%s",
                        (long long)out->id, s->fingerprint);
            rc = -ENOENT;
        } else {
            if (s->device_id != 0) {
                unbind(d, s, "certificate moved to another device");
            }
            s->device_id = out->id;
            gw_log_info("dtls session bound dev=%lld name=\"%s\" sha256=%s", (long long)out->id,
                        out->name, s->fingerprint);
        }
    }
    free(stored);
    if (rc == -ENOENT && s->device_id != 0) {
        unbind(d, s, "certificate no longer registered");
    }
    return rc;
}

int gw_coap_dtls_device(struct gw_coap *c, coap_session_t *session, struct gw_device_ref *out)
{
    struct dtls_sess *s;

    if (c->dtls == NULL || coap_session_get_proto(session) != COAP_PROTO_DTLS) {
        return -ENOENT;
    }
    s = coap_session_get_app_data(session);
    if (s == NULL) {
        return -ENOENT;
    }
    s->last_ms = gw_coap_monotonic_ms();
    if (!s->has_cert) {
        return -ENOENT;
    }
    return resolve(c->dtls, s, out);
}

/* The PEM text of DER bytes (64 base64 characters a line). Ownership: caller frees; NULL: ENOMEM.
 */
static char *pem_of(const uint8_t *der, size_t der_len)
{
    static const char head[] = "-----BEGIN CERTIFICATE-----\n";
    static const char tail[] = "-----END CERTIFICATE-----\n";
    struct gw_x509_cert cert;
    char *b64, *pem = NULL;
    size_t n, i, o = 0;

    memset(&cert, 0, sizeof(cert));
    cert.der = (uint8_t *)(uintptr_t)der;
    cert.der_len = der_len;
    b64 = gw_x509_body_base64(&cert);
    if (b64 == NULL) {
        return NULL;
    }
    n = strlen(b64);
    pem = malloc(sizeof(head) + n + n / 64 + 1 + sizeof(tail));
    if (pem != NULL) {
        memcpy(pem, head, sizeof(head) - 1);
        o = sizeof(head) - 1;
        for (i = 0; i < n; i += 64) {
            size_t k = n - i < 64 ? n - i : 64;
            memcpy(pem + o, b64 + i, k);
            o += k;
            pem[o++] = '\n';
        }
        memcpy(pem + o, tail, sizeof(tail));
    }
    free(b64);
    return pem;
}

int gw_coap_dtls_unknown_cert(struct gw_coap *c, coap_session_t *session,
                              char fingerprint[GW_STORE_X509_FP_LEN], char **pem_out)
{
    struct dtls_sess *s;

    *pem_out = NULL;
    if (c->dtls == NULL || coap_session_get_proto(session) != COAP_PROTO_DTLS) {
        return -ENOENT;
    }
    s = coap_session_get_app_data(session);
    if (s == NULL || !s->has_cert || s->der == NULL) {
        return -ENOENT;
    }
    (void)snprintf(fingerprint, GW_STORE_X509_FP_LEN, "%s", s->fingerprint);
    *pem_out = pem_of(s->der, s->der_len);
    return *pem_out != NULL ? 0 : -ENOMEM;
}

void gw_coap_dtls_touch(struct gw_coap *c, coap_session_t *session)
{
    struct dtls_sess *s;

    if (c->dtls != NULL && coap_session_get_proto(session) == COAP_PROTO_DTLS) {
        s = coap_session_get_app_data(session);
        if (s != NULL) {
            s->last_ms = gw_coap_monotonic_ms();
        }
    }
}

/* ---- periodic work ------------------------------------------------------------------------ */

/* After a commit by another connection, every bound session is looked up again. */
static void recheck_bindings(struct gw_coap_dtls *d)
{
    struct gw_device_ref ref;
    int64_t v = 0;
    size_t i;

    if (gw_store_x509_data_version(d->c->store, &v) != 0 || v == d->data_version) {
        return;
    }
    d->data_version = v;
    for (i = 0; i < d->n; i++) {
        struct dtls_sess *s = d->tab[i];
        if (s->has_cert && s->device_id != 0) {
            (void)resolve(d, s, &ref);
        }
    }
}

/* Drops sessions idle longer than the inactivity timeout, then the least recently active ones
 * while more than coap_dtls_max_sessions are established. */
static void sweep(struct gw_coap_dtls *d, int64_t now_ms, bool is_full_sweep)
{
    const struct gw_config *cfg = d->c->cfg;
    size_t i = 0;

    while (is_full_sweep && i < d->n) {
        struct dtls_sess *s = d->tab[i];
        if (now_ms - s->last_ms > cfg->coap_dtls_session_inactivity_timeout_ms) {
            d->expired++;
            close_session(d, s, "idle"); /* removes it from the table */
        } else {
            i++;
        }
    }
    while (d->n > (size_t)cfg->coap_dtls_max_sessions) {
        struct dtls_sess *oldest = d->tab[0];
        for (i = 1; i < d->n; i++) {
            if (d->tab[i]->last_ms < oldest->last_ms) {
                oldest = d->tab[i];
            }
        }
        d->evicted++;
        close_session(d, oldest, "max_sessions");
    }
}

void gw_coap_dtls_tick(struct gw_coap *c)
{
    struct gw_coap_dtls *d = c->dtls;
    int64_t now = gw_coap_monotonic_ms();
    bool is_full_sweep;

    if (d == NULL) {
        return;
    }
    gw_coap_dtls_ack_tick(c, now);
    if (now >= d->next_recheck_ms) {
        recheck_bindings(d);
        d->next_recheck_ms = now + RECHECK_MS;
    }
    is_full_sweep = now >= d->next_sweep_ms;
    sweep(d, now, is_full_sweep);
    if (is_full_sweep) {
        d->next_sweep_ms = now + c->cfg->coap_dtls_session_report_timeout_ms;
        if (d->handshake_failures != d->reported_failures) {
            gw_log_notice("dtls handshakes failed count=%llu total=%llu",
                          (unsigned long long)(d->handshake_failures - d->reported_failures),
                          (unsigned long long)d->handshake_failures);
            d->reported_failures = d->handshake_failures;
        }
        gw_log_info("dtls sessions established=%zu handshakes=%llu expired=%llu evicted=%llu", d->n,
                    (unsigned long long)d->handshakes, (unsigned long long)d->expired,
                    (unsigned long long)d->evicted);
    }
}
