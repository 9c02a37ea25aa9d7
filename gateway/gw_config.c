/* SPDX-License-Identifier: MIT */
/*
 * gw_config.c - table-driven configuration parsing.
 *
 * One row per key: name, environment variable (ThingsBoard's name where ThingsBoard has one,
 * NBGATE_* otherwise), type, field offset, default and range. Sources apply in order: defaults,
 * the config file, its conf.d/ *.conf fragments, the environment, the command line. A file line is
 * "key value" (value to the end of the line, trimmed; '#' starts a comment at line start or after
 * whitespace). An unknown key or a bad value fails with "file:line: key: reason".
 */
#include "gateway/gw_config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "efento/efento.h"
#include "gateway/gw_log.h"

enum key_type { KT_STR, KT_INT, KT_BOOL, KT_LEVEL, KT_DURABILITY };

struct key_def {
    const char *name;
    const char *env;
    enum key_type type;
    size_t offset;
    const char *def;
    int64_t min, max;
};

#define F(field) offsetof(struct gw_config, field)

static const struct key_def keys[] = {
    { "data_dir", "NBGATE_DATA_DIR", KT_STR, F(data_dir), "nbgate-data", 0, 0 },
    { "log_level", "NBGATE_LOG_LEVEL", KT_LEVEL, F(log_level), "info", 0, 0 },
    { "durability", "NBGATE_DURABILITY", KT_DURABILITY, F(durability), "full", 0, 0 },
    { "coap_bind_address", "COAP_BIND_ADDRESS", KT_STR, F(coap_bind_address), "0.0.0.0", 0, 0 },
    { "coap_bind_port", "COAP_BIND_PORT", KT_INT, F(coap_bind_port), "5683", 1, 65535 },
    { "coap_dtls_enabled", "COAP_DTLS_ENABLED", KT_BOOL, F(coap_dtls_enabled), "false", 0, 0 },
    { "coap_dtls_bind_address", "COAP_DTLS_BIND_ADDRESS", KT_STR, F(coap_dtls_bind_address),
      "0.0.0.0", 0, 0 },
    { "coap_dtls_bind_port", "COAP_DTLS_BIND_PORT", KT_INT, F(coap_dtls_bind_port), "5684", 1,
      65535 },
    { "coap_dtls_credentials_type", "COAP_DTLS_CREDENTIALS_TYPE", KT_STR,
      F(coap_dtls_credentials_type), "PEM", 0, 0 },
    { "coap_dtls_pem_cert", "COAP_DTLS_PEM_CERT", KT_STR, F(coap_dtls_pem_cert), "", 0, 0 },
    { "coap_dtls_pem_key", "COAP_DTLS_PEM_KEY", KT_STR, F(coap_dtls_pem_key), "", 0, 0 },
    { "coap_dtls_pem_key_password", "COAP_DTLS_PEM_KEY_PASSWORD", KT_STR,
      F(coap_dtls_pem_key_password), "", 0, 0 },
    { "coap_dtls_session_inactivity_timeout_ms", "TB_COAP_X509_DTLS_SESSION_INACTIVITY_TIMEOUT",
      KT_INT, F(coap_dtls_session_inactivity_timeout_ms), "86400000", 100, 31536000000 },
    { "coap_dtls_session_report_timeout_ms", "TB_COAP_X509_DTLS_SESSION_REPORT_TIMEOUT", KT_INT,
      F(coap_dtls_session_report_timeout_ms), "1800000", 100, 86400000 },
    { "coap_dtls_skip_validity_check", "TB_COAP_X509_DTLS_SKIP_VALIDITY_CHECK_FOR_CLIENT_CERT",
      KT_BOOL, F(coap_dtls_skip_validity_check), "false", 0, 0 },
    { "coap_dtls_max_sessions", "NBGATE_COAP_DTLS_MAX_SESSIONS", KT_INT, F(coap_dtls_max_sessions),
      "10000", 1, 1000000 },
    { "coap_dtls_max_handshakes", "NBGATE_COAP_DTLS_MAX_HANDSHAKES", KT_INT,
      F(coap_dtls_max_handshakes), "100", 1, 100000 },
    { "admin_port", "NBGATE_ADMIN_PORT", KT_INT, F(admin_port), "8443", 0, 65535 },
    { "admin_bind_address", "NBGATE_ADMIN_BIND_ADDRESS", KT_STR, F(admin_bind_address), "", 0, 0 },
    { "admin_tls", "NBGATE_ADMIN_TLS", KT_BOOL, F(admin_tls), "true", 0, 0 },
    { "admin_tls_cert", "NBGATE_ADMIN_TLS_CERT", KT_STR, F(admin_tls_cert), "", 0, 0 },
    { "admin_tls_key", "NBGATE_ADMIN_TLS_KEY", KT_STR, F(admin_tls_key), "", 0, 0 },
    { "admin_max_body_bytes", "NBGATE_ADMIN_MAX_BODY_BYTES", KT_INT, F(admin_max_body_bytes),
      "1048576", 1024, 16777216 },
    { "admin_connection_timeout_s", "NBGATE_ADMIN_CONNECTION_TIMEOUT_S", KT_INT,
      F(admin_connection_timeout_s), "30", 1, 3600 },
    { "admin_max_connections", "NBGATE_ADMIN_MAX_CONNECTIONS", KT_INT, F(admin_max_connections),
      "64", 1, 10000 },
    { "admin_login_failures_per_minute", "NBGATE_ADMIN_LOGIN_FAILURES_PER_MINUTE", KT_INT,
      F(admin_login_failures_per_minute), "5", 1, 1000 },
    { "jwt_token_expiration_time_s", "JWT_TOKEN_EXPIRATION_TIME", KT_INT,
      F(jwt_token_expiration_time_s), "9000", 1, 31536000 },
    { "jwt_refresh_token_expiration_time_s", "JWT_REFRESH_TOKEN_EXPIRATION_TIME", KT_INT,
      F(jwt_refresh_token_expiration_time_s), "604800", 1, 315360000 },
    { "coap_session_idle_timeout_ms", "NBGATE_COAP_SESSION_IDLE_TIMEOUT_MS", KT_INT,
      F(coap_session_idle_timeout_ms), "30000", 1000, 3600000 },
    { "coap_max_idle_sessions", "NBGATE_COAP_MAX_IDLE_SESSIONS", KT_INT, F(coap_max_idle_sessions),
      "1000", 0, 1000000 },
    { "coap_rcvbuf_bytes", "NBGATE_COAP_RCVBUF_BYTES", KT_INT, F(coap_rcvbuf_bytes), "4194304", 0,
      268435456 },
    { "dedup_cache_entries", "NBGATE_DEDUP_CACHE_ENTRIES", KT_INT, F(dedup_cache_entries), "16384",
      16, 4000000 },
    { "max_pending_devices", "NBGATE_MAX_PENDING_DEVICES", KT_INT, F(max_pending_devices), "1000",
      1, 1000000 },
    { "max_payload_size", "NBGATE_MAX_PAYLOAD_SIZE", KT_INT, F(max_payload_size), "65536", 64,
      16777216 },
    { "max_keys_per_message", "NBGATE_MAX_KEYS_PER_MESSAGE", KT_INT, F(max_keys_per_message),
      "1000", 1, 1000000 },
    { "json_max_string_value_length", "JSON_MAX_STRING_VALUE_LENGTH", KT_INT,
      F(json_max_string_value_length), "0", 0, 16777216 },
    { "default_inactivity_timeout_s", "DEFAULT_INACTIVITY_TIMEOUT", KT_INT,
      F(default_inactivity_timeout_s), "600", 1, 31536000 },
    { "max_observations", "NBGATE_MAX_OBSERVATIONS", KT_INT, F(max_observations), "10000", 0,
      10000000 },
    { "max_queued_downlinks", "NBGATE_MAX_QUEUED_DOWNLINKS", KT_INT, F(max_queued_downlinks), "100",
      1, 1000000 },
    { "events_per_device", "NBGATE_EVENTS_PER_DEVICE", KT_INT, F(events_per_device), "1000", 10,
      1000000 },
    { "json_type_cast_enabled", "JSON_TYPE_CAST_ENABLED", KT_BOOL, F(json_type_cast_enabled),
      "true", 0, 0 },
    { "wal_autocheckpoint_pages", "NBGATE_WAL_AUTOCHECKPOINT", KT_INT, F(wal_autocheckpoint_pages),
      "1000", 0, 1000000 },
    { "journal_size_limit_bytes", "NBGATE_JOURNAL_SIZE_LIMIT_BYTES", KT_INT,
      F(journal_size_limit_bytes), "67108864", 0, INT64_MAX },
    { "efento_max_payload_bytes", "NBGATE_EFENTO_MAX_PAYLOAD_BYTES", KT_INT,
      F(efento_max_payload_bytes), "4096", 64, EFENTO_PAYLOAD_MAX },
    { "efento_max_channels", "NBGATE_EFENTO_MAX_CHANNELS", KT_INT, F(efento_max_channels), "16", 1,
      EFENTO_CHANNELS_MAX },
    { "efento_max_samples", "NBGATE_EFENTO_MAX_SAMPLES", KT_INT, F(efento_max_samples), "4096", 1,
      EFENTO_SAMPLES_MAX },
    { "efento_max_list_items", "NBGATE_EFENTO_MAX_LIST_ITEMS", KT_INT, F(efento_max_list_items),
      "64", 1, EFENTO_LIST_MAX },
    { "efento_max_string_bytes", "NBGATE_EFENTO_MAX_STRING_BYTES", KT_INT,
      F(efento_max_string_bytes), "255", 1, EFENTO_STRING_MAX },
    { "efento_max_bytes_field", "NBGATE_EFENTO_MAX_BYTES_FIELD", KT_INT, F(efento_max_bytes_field),
      "64", 6, EFENTO_BYTES_MAX },
    { "efento_auto_accept_per_hour", "NBGATE_EFENTO_AUTO_ACCEPT_PER_HOUR", KT_INT,
      F(efento_auto_accept_per_hour), "100", 0, 1000000 },
    { "efento_split_max_parts", "NBGATE_EFENTO_SPLIT_MAX_PARTS", KT_INT, F(efento_split_max_parts),
      "16", 1, EFENTO_SPLIT_PARTS_MAX },
    { "efento_split_max_bytes", "NBGATE_EFENTO_SPLIT_MAX_BYTES", KT_INT, F(efento_split_max_bytes),
      "16384", 64, EFENTO_SPLIT_BYTES_MAX },
    { "efento_split_ttl_s", "NBGATE_EFENTO_SPLIT_TTL_S", KT_INT, F(efento_split_ttl_s), "3600", 1,
      86400 },
    { "efento_max_downlink_bytes", "NBGATE_EFENTO_MAX_DOWNLINK_BYTES", KT_INT,
      F(efento_max_downlink_bytes), "1024", 64, EFENTO_DOWNLINK_MAX },
    { "efento_malformed_log_per_minute", "NBGATE_EFENTO_MALFORMED_LOG_PER_MINUTE", KT_INT,
      F(efento_malformed_log_per_minute), "10", 0, 10000 },
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

static const struct key_def *key_find(const char *name)
{
    size_t i;

    for (i = 0; i < N_KEYS; i++) {
        if (strcmp(keys[i].name, name) == 0) {
            return &keys[i];
        }
    }
    return NULL;
}

static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out, char *err,
                     size_t err_len)
{
    char *end = NULL;
    long long v;

    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0') {
        (void)snprintf(err, err_len, "not an integer: \"%s\"", s);
        return -EINVAL;
    }
    if (v < min || v > max) {
        (void)snprintf(err, err_len, "%lld out of range %lld..%lld", v, (long long)min,
                       (long long)max);
        return -EINVAL;
    }
    *out = (int64_t)v;
    return 0;
}

static int apply(struct gw_config *cfg, const struct key_def *k, const char *value, char *err,
                 size_t err_len)
{
    char *field = (char *)cfg + k->offset;
    int v;

    switch (k->type) {
    case KT_STR:
        if (strlen(value) >= GW_CONFIG_STR_MAX) {
            (void)snprintf(err, err_len, "longer than %d characters", GW_CONFIG_STR_MAX - 1);
            return -EINVAL;
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case KT_INT:
        return parse_int(value, k->min, k->max, (int64_t *)(void *)field, err, err_len);
    case KT_BOOL:
        if (strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0 ||
            strcasecmp(value, "yes") == 0) {
            *(bool *)field = true;
        } else if (strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0 ||
                   strcasecmp(value, "no") == 0) {
            *(bool *)field = false;
        } else {
            (void)snprintf(err, err_len, "expected true or false, got \"%s\"", value);
            return -EINVAL;
        }
        return 0;
    case KT_LEVEL:
        v = gw_log_level_from_name(value);
        if (v < 0) {
            (void)snprintf(err, err_len, "expected err, warning, notice, info or debug");
            return -EINVAL;
        }
        *(int *)(void *)field = v;
        return 0;
    case KT_DURABILITY:
        if (strcmp(value, "full") == 0) {
            *(int *)(void *)field = GW_DURABILITY_FULL;
        } else if (strcmp(value, "process") == 0) {
            *(int *)(void *)field = GW_DURABILITY_PROCESS;
        } else {
            (void)snprintf(err, err_len, "expected full or process");
            return -EINVAL;
        }
        return 0;
    }
    return -EINVAL;
}

void gw_config_defaults(struct gw_config *cfg)
{
    char err[128];
    size_t i;

    memset(cfg, 0, sizeof(*cfg));
    for (i = 0; i < N_KEYS; i++) {
        int rc = apply(cfg, &keys[i], keys[i].def, err, sizeof(err));
        assert(rc == 0);
        (void)rc;
    }
}

int gw_config_set(struct gw_config *cfg, const char *key, const char *value, char *err,
                  size_t err_len)
{
    const struct key_def *k = key_find(key);

    if (k == NULL) {
        (void)snprintf(err, err_len, "unknown key");
        return -ENOENT;
    }
    return apply(cfg, k, value, err, err_len);
}

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s)) {
        s++;
    }
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

/* Splits one line into key and value in place; returns false for blank and comment lines. */
static bool split_line(char *line, char **key, char **value)
{
    char *p = trim(line);
    char *hash;

    if (*p == '\0' || *p == '#') {
        return false;
    }
    *key = p;
    while (*p != '\0' && !isspace((unsigned char)*p)) {
        p++;
    }
    if (*p != '\0') {
        *p++ = '\0';
    }
    /* A '#' after whitespace starts a trailing comment. */
    for (hash = p; (hash = strchr(hash, '#')) != NULL; hash++) {
        if (hash == p || isspace((unsigned char)hash[-1])) {
            *hash = '\0';
            break;
        }
    }
    *value = trim(p);
    return true;
}

static int load_stream(struct gw_config *cfg, FILE *f, const char *path, char *err, size_t err_len)
{
    char line[1024];
    char why[200];
    unsigned lineno = 0;
    int rc = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        char *key, *value;
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            (void)snprintf(err, err_len, "%s:%u: line longer than %zu bytes", path, lineno,
                           sizeof(line) - 2);
            return -EINVAL;
        }
        if (!split_line(line, &key, &value)) {
            continue;
        }
        rc = gw_config_set(cfg, key, value, why, sizeof(why));
        if (rc != 0) {
            (void)snprintf(err, err_len, "%s:%u: %s: %s", path, lineno, key, why);
            return -EINVAL;
        }
    }
    return rc;
}

static int load_one(struct gw_config *cfg, const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    int rc;

    if (f == NULL) {
        (void)snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -ENOENT;
    }
    rc = load_stream(cfg, f, path, err, err_len);
    (void)fclose(f);
    return rc;
}

int gw_config_load_buffer(struct gw_config *cfg, const char *name, const char *text, size_t len,
                          char *err, size_t err_len)
{
    FILE *f;
    int rc;

    if (len == 0) {
        return 0;
    }
    f = fmemopen((void *)(uintptr_t)text, len, "r");
    if (f == NULL) {
        (void)snprintf(err, err_len, "%s: out of memory", name);
        return -ENOMEM;
    }
    rc = load_stream(cfg, f, name, err, err_len);
    (void)fclose(f);
    return rc;
}

int gw_config_load_file(struct gw_config *cfg, const char *path, char *err, size_t err_len)
{
    char pattern[4096];
    const char *slash = strrchr(path, '/');
    glob_t g;
    size_t i;
    int rc;

    rc = load_one(cfg, path, err, err_len);
    if (rc != 0) {
        return rc;
    }
    if (slash == NULL) {
        (void)snprintf(pattern, sizeof(pattern), "conf.d/*.conf");
    } else {
        (void)snprintf(pattern, sizeof(pattern), "%.*s/conf.d/*.conf", (int)(slash - path), path);
    }
    memset(&g, 0, sizeof(g));
    if (glob(pattern, 0, NULL, &g) != 0) {
        return 0; /* no fragments */
    }
    for (i = 0; i < g.gl_pathc && rc == 0; i++) {
        rc = load_one(cfg, g.gl_pathv[i], err, err_len);
        if (rc == -ENOENT) {
            rc = -EINVAL;
        }
    }
    globfree(&g);
    return rc;
}

int gw_config_load_env(struct gw_config *cfg, char *err, size_t err_len)
{
    char why[200];
    size_t i;

    for (i = 0; i < N_KEYS; i++) {
        const char *v = getenv(keys[i].env);
        if (v == NULL) {
            continue;
        }
        if (apply(cfg, &keys[i], v, why, sizeof(why)) != 0) {
            (void)snprintf(err, err_len, "environment %s: %s", keys[i].env, why);
            return -EINVAL;
        }
    }
    return 0;
}

int gw_config_validate(const struct gw_config *cfg, char *err, size_t err_len)
{
    if (cfg->data_dir[0] == '\0') {
        (void)snprintf(err, err_len, "data_dir: must not be empty");
        return -EINVAL;
    }
    if (strcmp(cfg->coap_dtls_credentials_type, "PEM") != 0) {
        (void)snprintf(err, err_len,
                       "coap_dtls_credentials_type: only PEM is supported (set "
                       "COAP_DTLS_PEM_CERT and COAP_DTLS_PEM_KEY), got \"%s\"",
                       cfg->coap_dtls_credentials_type);
        return -EINVAL;
    }
    if ((cfg->admin_tls_cert[0] == '\0') != (cfg->admin_tls_key[0] == '\0')) {
        (void)snprintf(err, err_len, "admin_tls_cert and admin_tls_key: set both or neither");
        return -EINVAL;
    }
    if (cfg->coap_dtls_enabled && cfg->coap_dtls_pem_cert[0] == '\0' &&
        cfg->coap_dtls_pem_key[0] != '\0') {
        (void)snprintf(err, err_len,
                       "coap_dtls_pem_key: set coap_dtls_pem_cert too (or neither "
                       "for the appliance certificate)");
        return -EINVAL;
    }
    if (cfg->coap_dtls_enabled && cfg->coap_dtls_bind_port == cfg->coap_bind_port) {
        (void)snprintf(err, err_len, "coap_dtls_bind_port: %lld is also coap_bind_port",
                       (long long)cfg->coap_dtls_bind_port);
        return -EINVAL;
    }
    return 0;
}

size_t gw_config_dump(const struct gw_config *cfg, char *buf, size_t buf_len)
{
    size_t n = 0;
    size_t i;

    for (i = 0; i < N_KEYS; i++) {
        const char *field = (const char *)cfg + keys[i].offset;
        char val[GW_CONFIG_STR_MAX + 32];
        int rc;

        switch (keys[i].type) {
        case KT_STR:
            (void)snprintf(val, sizeof(val), "%s",
                           strstr(keys[i].name, "password") != NULL && field[0] != '\0' ? "(set)"
                                                                                        : field);
            break;
        case KT_INT:
            (void)snprintf(val, sizeof(val), "%lld",
                           (long long)*(const int64_t *)(const void *)field);
            break;
        case KT_BOOL:
            (void)snprintf(val, sizeof(val), "%s", *(const bool *)field ? "true" : "false");
            break;
        case KT_LEVEL:
            (void)snprintf(val, sizeof(val), "%d", *(const int *)(const void *)field);
            break;
        case KT_DURABILITY:
            (void)snprintf(val, sizeof(val), "%s",
                           *(const int *)(const void *)field == GW_DURABILITY_FULL ? "full"
                                                                                   : "process");
            break;
        }
        rc = snprintf(buf + (n < buf_len ? n : buf_len), n < buf_len ? buf_len - n : 0, "%s %s\n",
                      keys[i].name, val);
        n += rc > 0 ? (size_t)rc : 0;
    }
    return n;
}
