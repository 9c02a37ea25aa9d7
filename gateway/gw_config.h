/* SPDX-License-Identifier: MIT */
/*
 * gw_config.h - nbgate's configuration: one immutable struct built from defaults, then the
 * config file (and its conf.d/ *.conf fragments), then environment variables with ThingsBoard's
 * names, then the command line. Every key is listed in package/nbgate.conf with its default.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_CONFIG_STR_MAX 256

enum gw_durability {
    GW_DURABILITY_FULL = 0,    /* survives power loss: synchronous=FULL */
    GW_DURABILITY_PROCESS = 1, /* survives a crash of the process only: synchronous=NORMAL */
};

struct gw_config {
    char data_dir[GW_CONFIG_STR_MAX]; /* database and generated files */
    int log_level;                    /* LOG_ERR .. LOG_DEBUG */
    int durability;                   /* enum gw_durability */
    char coap_bind_address[GW_CONFIG_STR_MAX];
    int64_t coap_bind_port;
    bool coap_dtls_enabled;
    char coap_dtls_bind_address[GW_CONFIG_STR_MAX];
    int64_t coap_dtls_bind_port;
    char coap_dtls_credentials_type[GW_CONFIG_STR_MAX];
    char coap_dtls_pem_cert[GW_CONFIG_STR_MAX];
    char coap_dtls_pem_key[GW_CONFIG_STR_MAX];
    char coap_dtls_pem_key_password[GW_CONFIG_STR_MAX];
    int64_t coap_dtls_session_inactivity_timeout_ms; /* idle DTLS sessions are dropped after this */
    int64_t coap_dtls_session_report_timeout_ms;     /* period of the idle-session sweep */
    bool coap_dtls_skip_validity_check;         /* accept client certificates outside their dates */
    int64_t coap_dtls_max_sessions;             /* established DTLS sessions kept at once */
    int64_t coap_dtls_max_handshakes;           /* DTLS handshakes in progress at once */
    int64_t admin_port;                         /* HTTPS admin API; 0 = off */
    char admin_bind_address[GW_CONFIG_STR_MAX]; /* "" = 0.0.0.0 with TLS, 127.0.0.1 without */
    bool admin_tls;
    char admin_tls_cert[GW_CONFIG_STR_MAX]; /* "" = the generated appliance certificate */
    char admin_tls_key[GW_CONFIG_STR_MAX];
    int64_t admin_max_body_bytes;
    int64_t admin_connection_timeout_s;
    int64_t admin_max_connections;
    int64_t admin_login_failures_per_minute;
    int64_t jwt_token_expiration_time_s;
    int64_t jwt_refresh_token_expiration_time_s;
    int64_t coap_session_idle_timeout_ms; /* idle plain-CoAP sessions are dropped after this */
    int64_t coap_max_idle_sessions;       /* 0 = libcoap's unlimited */
    int64_t coap_rcvbuf_bytes;            /* SO_RCVBUF asked for the UDP socket; 0 = kernel's */
    int64_t dedup_cache_entries;          /* remembered answers for retransmitted requests */
    int64_t max_pending_devices;          /* pending-device entries kept, every kind together */
    int64_t max_payload_size;             /* bytes of one request body */
    int64_t max_keys_per_message;
    int64_t json_max_string_value_length; /* characters; 0 = bounded by the payload size */
    bool json_type_cast_enabled;
    int64_t default_inactivity_timeout_s; /* a device is active this long after its last message */
    int64_t max_observations;             /* live observations, all devices together */
    int64_t max_queued_downlinks;         /* unfinished downlinks per device */
    int64_t events_per_device;            /* device event log entries kept */
    int64_t wal_autocheckpoint_pages;     /* SQLite wal_autocheckpoint; 0 disables */
    int64_t journal_size_limit_bytes;
    /* Efento bounds (specs/efento.md section 9); decoder bounds may only lower the built-in
     * maxima of efento/efento.h */
    int64_t efento_max_payload_bytes;        /* request body after Block1 reassembly */
    int64_t efento_max_channels;             /* channels in one measurement frame */
    int64_t efento_max_samples;              /* sample offsets in one frame, all channels */
    int64_t efento_max_list_items;           /* items of any other repeated field */
    int64_t efento_max_string_bytes;         /* one string field */
    int64_t efento_max_bytes_field;          /* one bytes field */
    int64_t efento_auto_accept_per_hour;     /* devices created by auto-accept per hour */
    int64_t efento_split_max_parts;          /* parts of one split configuration */
    int64_t efento_split_max_bytes;          /* bytes of one split configuration */
    int64_t efento_split_ttl_s;              /* an incomplete split set is discarded after */
    int64_t efento_max_downlink_bytes;       /* ProtoConfig payload of one answer */
    int64_t efento_malformed_log_per_minute; /* log lines per peer and minute */
};

/* Fills cfg with every key's default. */
void gw_config_defaults(struct gw_config *cfg);

/*
 * Reads a config file of "key value" lines ('#' starts a comment) over cfg, then every
 * DIR/conf.d/ *.conf next to it in name order.
 * Returns: 0, -ENOENT (file missing), -EINVAL (bad key or value: err is "file:line: key: why").
 */
int gw_config_load_file(struct gw_config *cfg, const char *path, char *err, size_t err_len);

/*
 * Reads config lines from memory (len bytes of text, not NUL-terminated) over cfg; name is used in
 * diagnostics. Returns: 0, -EINVAL (err is "name:line: key: why"), -ENOMEM.
 */
int gw_config_load_buffer(struct gw_config *cfg, const char *name, const char *text, size_t len,
                          char *err, size_t err_len);

/*
 * Applies environment overrides (COAP_BIND_PORT, NBGATE_DURABILITY, ...).
 * Returns: 0, -EINVAL (err is "environment NAME: why").
 */
int gw_config_load_env(struct gw_config *cfg, char *err, size_t err_len);

/*
 * Sets one key from text, as a config line would.
 * Returns: 0, -ENOENT (unknown key), -EINVAL (bad value; err says why).
 */
int gw_config_set(struct gw_config *cfg, const char *key, const char *value, char *err,
                  size_t err_len);

/* Checks cross-key rules (e.g. DTLS settings). Returns: 0 or -EINVAL with err set. */
int gw_config_validate(const struct gw_config *cfg, char *err, size_t err_len);

/* Writes every key with its current value as "key value" lines to buf; returns bytes needed. */
size_t gw_config_dump(const struct gw_config *cfg, char *buf, size_t buf_len);

#endif /* GW_CONFIG_H */
