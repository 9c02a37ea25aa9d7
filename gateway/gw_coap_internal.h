/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_internal.h - shared by the CoAP files (gw_coap.c: context, endpoint, dispatch;
 * gw_coap_api.c: the /api/v1 features; gw_coap_obs.c: observations and downlinks; gw_coap_ota.c:
 * firmware and software). These are the only files that call libcoap.
 */
#ifndef GW_COAP_INTERNAL_H
#define GW_COAP_INTERNAL_H

#include <coap3/coap.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "gateway/gw_coap.h"
#include "gateway/gw_dedup.h"
#include "gateway/gw_path.h"
#include "gateway/gw_sched.h"
#include "profiles/profile.h"

#define GW_COAP_DIAG_MAX 200 /* bytes of a diagnostic payload (R3) */
#define GW_CF_TEXT       0
#define GW_CF_JSON       50
#define GW_CF_OCTETS     42

struct gw_coap {
    const struct gw_config *cfg;
    struct gw_store *store;
    coap_context_t *ctx;
    int sock_fd; /* the UDP endpoint's socket, for SO_RCVBUF and ACK peeking */
    struct gw_dedup *dedup;
    struct gw_sched *sched;
    struct profile_batch batch;
    struct profile_limits limits;
    struct gw_coap_stats stats;
    _Atomic uint64_t answers[256]; /* answers by CoAP code (0 = a NON left unanswered), for the
                                      admin threads' /metrics: hence atomic */
    size_t n_observations;
    int64_t last_dl_id;    /* newest downlink row seen, to find new work */
    int64_t next_sweep_ms; /* monotonic time of the next expiry sweep */
    int64_t *in_flight;    /* device ids with a notification awaiting its ACK */
    size_t n_in_flight, cap_in_flight;
    int64_t *marked; /* device ids to pump after the current datagram */
    size_t n_marked, cap_marked;
    struct gw_coap_dtls *dtls; /* the DTLS endpoint (gw_coap_dtls.c), NULL when disabled */
};

/* One observation of a device (spec 12.2): endpoint (session) and token. */
struct gw_obs {
    coap_session_t *session; /* referenced while the observation lives */
    uint8_t token[8];
    size_t token_len;
    uint32_t seq; /* next Observe value */
    int content_format;
    int64_t device_id;
    enum gw_obs_kind kind;
};

/* What a request gets back. */
struct gw_answer {
    coap_pdu_code_t code;
    int content_format; /* -1: none */
    int64_t observe;    /* -1: no Observe option */
    uint32_t size1;     /* 0: no Size1 */
    bool has_block1;    /* echo Block1 (a 2.31 Continue or the final answer of an upload) */
    uint32_t block1;    /* Block1 option value: num << 4 | more << 3 | szx */
    bool has_block2;
    uint32_t block2; /* Block2 option value */
    int64_t size2;   /* -1: no Size2 */
    char diag[GW_COAP_DIAG_MAX + 1];
    char *body; /* heap payload (takes precedence over diag), owned by the answer */
    size_t body_len;
    bool is_cacheable; /* may be replayed to a retransmission */
};

/* One request on its way through the API. */
struct gw_req {
    struct gw_coap *c;
    coap_session_t *session;
    const coap_pdu_t *pdu;
    const coap_string_t *query;
    struct gw_path path;
    coap_pdu_code_t method;
    int64_t observe; /* -1: no Observe option */
    int request_cf;  /* -1: no Content-Format option */
    const uint8_t *data;
    size_t len;
    struct gw_device_ref dev;
    bool has_dev;
    bool is_activity_due; /* the upload also writes the device's lastActivity */
    bool is_quiet;        /* a blocked credential: answered, not logged (rest-api 9.3) */
    int64_t now_ms;       /* CLOCK_REALTIME: data timestamps */
    int64_t mono_ms;      /* CLOCK_MONOTONIC: scheduling, caches */
};

int64_t gw_coap_realtime_ms(void);

/*
 * libcoap has no call for an endpoint's socket: finds our UDP socket bound to address bound.
 * Returns: the descriptor, or -1.
 */
int gw_coap_find_socket(const coap_address_t *bound);

/* host (IPv4 or IPv6 literal) and port as a libcoap address. Returns: 0, -EINVAL. */
int gw_coap_parse_address(const char *host, int64_t port, coap_address_t *addr);

/*
 * libcoap binds with SO_REUSEADDR, so a second gateway could share a port and steal datagrams:
 * a probe bind without the option fails while another socket holds the port.
 * Returns: 0 (free), -EADDRINUSE, another negative errno.
 */
int gw_coap_probe_port_free(const coap_address_t *addr);
int64_t gw_coap_monotonic_ms(void);

/* Sets code and an optional printf-style one-line diagnostic (Content-Format 0). */
void gw_coap_answer(struct gw_answer *a, coap_pdu_code_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Takes ownership of body (heap) as the answer's payload with the given Content-Format. */
void gw_coap_answer_body(struct gw_answer *a, coap_pdu_code_t code, int content_format, char *body,
                         size_t len);

/*
 * A request whose credentials no device has (gw_coap_pending.c, specs/rest-api.md 9.3): records
 * the unknown access token of its path (COAP_TOKEN) and the unknown client certificate of its
 * DTLS session (X509) in the pending list. Tokens too long for an access token, empty, or not
 * valid UTF-8 are not recorded. Sets r->is_quiet when a credential is blocked. The answer stays
 * the caller's (4.01). Called only on the failure path: known devices never reach it.
 */
void gw_coap_pending_note(struct gw_req *r);

/* Maps a negative errno from an adaptor or the store to a response code. */
coap_pdu_code_t gw_coap_code_for_error(int rc);

/* The /api/v1 features (gw_coap_api.c). The device is authenticated unless noted. */
void gw_coap_api_telemetry(struct gw_req *r, struct gw_answer *a);
void gw_coap_api_attributes_post(struct gw_req *r, struct gw_answer *a);
void gw_coap_api_attributes_get(struct gw_req *r, struct gw_answer *a);
void gw_coap_api_rpc_post(struct gw_req *r, struct gw_answer *a);
void gw_coap_api_claim(struct gw_req *r, struct gw_answer *a);
void gw_coap_api_provision(struct gw_req *r, struct gw_answer *a); /* no authentication */

/* Renders the device's shared attributes (all, or the keys given) as {k:v,..}; NULL on ENOMEM. */
char *gw_coap_shared_json(struct gw_coap *c, int64_t device_id, size_t *len);

/* Records activity and an uplink for power saving (spec 16.4, 17). */
void gw_coap_uplink(struct gw_coap *c, int64_t device_id, int64_t profile_id, int64_t mono_ms,
                    int64_t now_ms);

/*
 * An upload stores lastActivity in its own transaction, at most every 3 s per device.
 * Returns: true when this upload should write it (and records that it did).
 */
bool gw_coap_activity_in_tx(struct gw_coap *c, int64_t device_id, int64_t mono_ms);

struct profile_config;

/*
 * The parsed profile (gw_coap_profile.c), cached and revalidated at most once a second.
 * Returns: borrowed pointer valid until the next call, or NULL (unusable profile, logged).
 */
const struct profile_config *gw_coap_profile(struct gw_coap *c, int64_t profile_id,
                                             int64_t mono_ms);

/* Frees the profile cache. */
void gw_coap_profiles_free(void);

/* Resolves the device's power mode and timers from its profile and its own override. */
void gw_coap_power_refresh(struct gw_coap *c, struct gw_sched_dev *d, int64_t profile_id,
                           int64_t mono_ms);

/* Observations and downlinks (gw_coap_obs.c). */
void gw_coap_obs_register(struct gw_req *r, struct gw_answer *a, enum gw_obs_kind kind);
void gw_coap_obs_deregister(struct gw_req *r, enum gw_obs_kind kind);
void gw_coap_obs_end_all(struct gw_coap *c);
void gw_coap_pump(struct gw_coap *c, int64_t device_id);
/* Asks for a pump of the device once the current datagram's answer has gone out. */
void gw_coap_mark(struct gw_coap *c, int64_t device_id);
/* Pumps every marked device. */
void gw_coap_pump_marked(struct gw_coap *c);
void gw_coap_peek_ack(struct gw_coap *c);
void gw_coap_nack(coap_session_t *session, const coap_pdu_t *sent, coap_nack_reason_t reason,
                  coap_mid_t mid);

/*
 * Efento sensors (gw_coap_efento.c): POST efento/{m,i,c} and the bare factory paths, GET/POST t.
 * r->path.efento_res names the resource. Authentication is by the token inside the payload.
 */
void gw_coap_efento(struct gw_req *r, struct gw_answer *a);

/*
 * Reloads the Efento profiles and registers their critical option numbers with libcoap (R2.3),
 * at most every few seconds; called by every Efento request and meant for gw_coap_tick too.
 */
void gw_coap_efento_refresh(struct gw_coap *c, int64_t mono_ms);

/* Protobuf devices (gw_coap_proto.c). */
int gw_coap_collect_attrs(struct gw_coap *c, int64_t device_id, enum gw_attr_scope scope,
                          const char *const *keys, size_t n_keys, struct profile_batch *out);
int gw_coap_proto_attr_update(struct gw_coap *c, int64_t device_id, const char *const *updated,
                              size_t n_updated, bool is_all, const char *const *deleted,
                              size_t n_deleted, uint8_t **out, size_t *out_len);
int gw_coap_proto_rpc(const struct profile_config *p, const char *json, size_t len, uint8_t **out,
                      size_t *out_len, char *err, size_t err_len);

/* True when the device's profile carries Protobuf payloads. */
bool gw_coap_is_proto(struct gw_coap *c, int64_t profile_id, int64_t mono_ms);

/* The answer to an attribute registration or deregistration: the whole shared state. */
void gw_coap_shared_state_answer(struct gw_req *r, struct gw_answer *a, int content_format);

/* OTA (gw_coap_ota.c): GET /fw/{token}, /sw/{token} and the /api/v1 aliases. */
void gw_coap_ota(struct gw_req *r, struct gw_answer *a, bool is_software);

/*
 * The DTLS endpoint (gw_coap_dtls.c, specs/dtls.md): X.509 and token devices on one port.
 * gw_coap_dtls_new() loads the server identity and opens the endpoint on c->ctx (0, or -EINVAL /
 * -EIO / -EADDRINUSE / -ENOMEM with err set); gw_coap_dtls_free() runs before coap_free_context.
 * gw_coap_dtls_device() is step 4.1 of spec 4.1: 0 with *out when the request's DTLS session is
 * bound to a device by its certificate, -ENOENT when not (fall back to the token), -EIO.
 * gw_coap_dtls_before_io() / _after_io() bracket coap_io_do_epoll(): a ClientHello from the
 * address of an established session closes that session (the device restarted), and the ACK of a
 * notification sent over DTLS still marks it DELIVERED.
 */
int gw_coap_dtls_new(struct gw_coap *c, char *err, size_t err_len);
void gw_coap_dtls_free(struct gw_coap *c);
int gw_coap_dtls_device(struct gw_coap *c, coap_session_t *session, struct gw_device_ref *out);
/*
 * The client certificate of a DTLS session that no device has (call after gw_coap_dtls_device
 * answered -ENOENT): its SHA-256 fingerprint and the certificate as PEM.
 * Returns: 0, -ENOENT (not DTLS, or no certificate presented), -ENOMEM.
 * Ownership: caller frees *pem_out.
 */
int gw_coap_dtls_unknown_cert(struct gw_coap *c, coap_session_t *session,
                              char fingerprint[GW_STORE_X509_FP_LEN], char **pem_out);
void gw_coap_dtls_before_io(struct gw_coap *c);
void gw_coap_dtls_after_io(struct gw_coap *c);
/* Records activity on a DTLS session (an acknowledged notification). */
void gw_coap_dtls_touch(struct gw_coap *c, coap_session_t *session);

#define GW_COAP_DTLS_CHAIN_MAX 8 /* certificates sent after the server's own */

/* The DTLS server's identity (gw_coap_dtls_id.c); every buffer is heap, the key is a secret. */
struct gw_coap_dtls_id {
    char *cert_pem;                             /* the server certificate alone, PEM */
    char *key_pem;                              /* its key, unencrypted PEM: memory only */
    uint8_t *chain_der[GW_COAP_DTLS_CHAIN_MAX]; /* the rest of the configured chain, DER */
    size_t chain_len[GW_COAP_DTLS_CHAIN_MAX];
    size_t n_chain;
};

/*
 * Loads coap_dtls_pem_cert / _key / _key_password (decrypting the key with mbedTLS), or the
 * appliance pair when no certificate is configured, and checks that key and certificate match.
 * Returns: 0, -ENOENT / -EINVAL / -EIO / -ENOMEM with err naming the file and the reason.
 * Ownership: release id with gw_coap_dtls_id_fini() (also after a failure); it wipes the key.
 */
int gw_coap_dtls_id_load(const struct gw_config *cfg, struct gw_coap_dtls_id *id, char *err,
                         size_t err_len);
void gw_coap_dtls_id_fini(struct gw_coap_dtls_id *id);
/* gw_coap_dtls_ack.c: DELIVERED over DTLS (the tap on libcoap's log, its fallback in tick). */
void gw_coap_dtls_ack_start(void);
void gw_coap_dtls_ack_stop(void);
void gw_coap_dtls_ack_before_io(struct gw_coap *c);
void gw_coap_dtls_ack_after_io(struct gw_coap *c);
void gw_coap_dtls_ack_tick(struct gw_coap *c, int64_t now_ms);

/* ---- gw_coap_events.c: UPLINK entries of the device event log (specs/rest-api.md 9.6) ---- */

/*
 * The JSON body of an UPLINK event for request r answered with code (0: no answer) and resp_len
 * payload bytes; summary and error may be NULL. The token in the path is masked.
 * Returns: heap text, or NULL (out of memory). Ownership: caller frees with free().
 */
char *gw_coap_event_uplink(const struct gw_req *r, coap_pdu_code_t code, size_t resp_len,
                           const char *summary, const char *error);

/*
 * Whether this successful upload gets an UPLINK entry (at most one per device and second);
 * *unlisted: the uploads since the last entry that got none.
 */
bool gw_coap_event_due(struct gw_req *r, uint32_t *unlisted);

/* "3 records (temperature, humidity, pressure)": what a decoded upload held, into out. */
void gw_coap_event_summary(const struct profile_batch *b, const char *noun, char *out, size_t cap);

/* Writes an error answer to an identified device to its event log (rate-limited per device). */
void gw_coap_event_error(struct gw_req *r, const struct gw_answer *a);

#endif /* GW_COAP_INTERNAL_H */
