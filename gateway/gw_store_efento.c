/* SPDX-License-Identifier: MIT */
/*
 * gw_store_efento.c - the SQL of nbgate's Efento support (gw_store.h, section "Efento sensors";
 * specs/efento.md R2-R5, 8.5, 9): the device lookup with its profile's Efento settings and its
 * Efento state, the EFENTO_CONFIG downlink entries, held parts of split configurations, and the
 * one-transaction commit of everything a frame produced. Unknown sensors (the pending list) are
 * in gw_store_efento_pending.c.
 *
 * Where things live (schema v1, no table of its own):
 *   profile settings  device_profile.profile_json, object coapDeviceTypeConfiguration
 *   Efento state      server attributes efentoSerial, efentoDeviceInfoRequestTs,
 *                     efentoConfigurationRequestTs, efentoSensorErrors[_N], efentoConfigParts
 *                     ({"parts":[{"s":split_info,"t":rx_s,"hex":bytes}]} in arrival order)
 *   settings          downlink rows, kind EFENTO_CONFIG, body = settings JSON, max_retries 2
 *                     (the third send without delivery fails), additional_info {"mid":N} once
 *                     SENT, plus {"newToken":T} for settings that move the sensor to cloud token
 *                     T and {"placeMove":1} for a cloudTokenCoapOption change (3.2)
 *
 * Queue states of an EFENTO_CONFIG entry (8.5; the carrier is the answer to a CON measurement
 * frame; gw_coap_efento_frame.c decides, this file records, each change with a DOWNLINK event):
 *
 *   QUEUED --answer--> SENT --next frame, new MID--> DELIVERED --configuration--> SUCCESSFUL
 *     ^  ^               |  \--next frame is a retry (transfer_reason)--> QUEUED (try counted)
 *     |  |               |                                 \--3rd try--> FAILED
 *     |  +--TIMEOUT <----+-- DELIVERED, not confirmed in confirmTimeoutS (try counted)
 *   TIMEOUT entries are sent again (as for the other kinds, and as gw_store_dl_recover leaves
 *   entries SENT at a stop); expiry makes QUEUED and TIMEOUT entries EXPIRED. Commands without a
 *   reply end at DELIVERED; a configuration with configuration_errors or other values: FAILED.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

#define KEY_SERIAL    "efentoSerial"
#define KEY_PARTS     "efentoConfigParts"
#define KEY_ERRORS    "efentoSensorErrors"
#define SETTINGS_PATH "$.profileData.transportConfiguration.coapDeviceTypeConfiguration"

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    (void)snprintf(dst, cap, "%s", src != NULL ? (const char *)src : "");
}

static int64_t member_int(const json_t *o, const char *name, int64_t def)
{
    const json_t *v = json_object_get(o, name);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : def;
}

/* The Efento settings of a profile from its coapDeviceTypeConfiguration JSON, defaults filled. */
static void parse_settings(const unsigned char *text, struct gw_efento_profile *p)
{
    json_t *o = text != NULL ? json_loads((const char *)text, 0, NULL) : NULL;
    int64_t opt = member_int(o, "cloudTokenCoapOption", GW_EFENTO_TOKEN_PAYLOAD);
    int64_t sig = member_int(o, "payloadSignatureCoapOption", GW_EFENTO_TOKEN_PAYLOAD);
    int64_t mid = member_int(o, "modemIdentificationCoapOption", GW_EFENTO_TOKEN_PAYLOAD);

    p->token_option = opt >= 1 && opt <= 64999 ? (int32_t)opt : GW_EFENTO_TOKEN_PAYLOAD;
    p->signature_option = sig >= 1 && sig <= 64999 ? (int32_t)sig : GW_EFENTO_TOKEN_PAYLOAD;
    p->modem_id_option = mid >= 1 && mid <= 64999 ? (int32_t)mid : GW_EFENTO_TOKEN_PAYLOAD;
    p->is_auto_accept = json_is_true(json_object_get(o, "autoAccept"));
    p->clock_sync_threshold_s = member_int(o, "clockSyncThresholdS", 60);
    p->request_retry_s = member_int(o, "requestRetryS", 3600);
    p->downlink_expiry_s = member_int(o, "downlinkExpiryS", 2678400);
    p->confirm_timeout_s = member_int(o, "confirmTimeoutS", 3600);
    if (p->request_retry_s < 0) {
        p->request_retry_s = 3600;
    }
    if (p->downlink_expiry_s <= 0) {
        p->downlink_expiry_s = 2678400;
    }
    if (p->confirm_timeout_s <= 0) {
        p->confirm_timeout_s = 3600;
    }
    json_decref(o);
}

/* The columns read_device() reads, for a device row d and its profile p. */
#define DEVICE_COLUMNS                                                                             \
    "SELECT d.id, d.name, p.id, p.name, p.coap_device_type = 'EFENTO',"                            \
    " json_extract(p.profile_json, '" SETTINGS_PATH "'),"                                          \
    " (SELECT v_long FROM attribute_kv WHERE device_id = d.id AND scope = 1"                       \
    "  AND key = 'configurationHash' AND type = 2),"                                               \
    " EXISTS (SELECT 1 FROM ts_kv_latest WHERE device_id = d.id AND key = 'sw_version'),"          \
    " (SELECT v_str FROM attribute_kv WHERE device_id = d.id AND scope = 3"                        \
    "  AND key = '" KEY_SERIAL "'),"                                                               \
    " (SELECT v_long FROM attribute_kv WHERE device_id = d.id AND scope = 3"                       \
    "  AND key = 'efentoDeviceInfoRequestTs'),"                                                    \
    " (SELECT v_long FROM attribute_kv WHERE device_id = d.id AND scope = 3"                       \
    "  AND key = 'efentoConfigurationRequestTs'),"                                                 \
    " (SELECT count(*) FROM downlink WHERE device_id = d.id AND kind = 'EFENTO_CONFIG'"            \
    "  AND completed_ms IS NULL AND state IN ('QUEUED','TIMEOUT','SENT','DELIVERED')),"            \
    " EXISTS (SELECT 1 FROM downlink WHERE device_id = d.id AND kind = 'EFENTO_CONFIG'"            \
    "  AND completed_ms IS NULL AND state IN ('QUEUED','TIMEOUT','SENT','DELIVERED')"              \
    "  AND json_extract(additional_info, '$.placeMove') = 1)"                                      \
    " FROM credentials c JOIN device d ON d.id = c.device_id JOIN device_profile p"                \
    " ON p.id = d.profile_id WHERE c.type = 'ACCESS_TOKEN' AND "

/* Steps s (DEVICE_COLUMNS, ?1 bound) into out. Returns: 0, -ENOENT, -EIO. */
static int read_device(sqlite3_stmt *s, struct gw_efento_device *out)
{
    int rc = sqlite3_step(s);

    memset(out, 0, sizeof(*out));
    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    out->id = sqlite3_column_int64(s, 0);
    copy_text(out->name, sizeof(out->name), sqlite3_column_text(s, 1));
    out->profile.id = sqlite3_column_int64(s, 2);
    copy_text(out->profile.name, sizeof(out->profile.name), sqlite3_column_text(s, 3));
    out->is_efento = sqlite3_column_int(s, 4) != 0;
    parse_settings(sqlite3_column_text(s, 5), &out->profile);
    out->has_config_hash = sqlite3_column_type(s, 6) != SQLITE_NULL;
    out->config_hash = (uint32_t)sqlite3_column_int64(s, 6);
    out->has_device_info = sqlite3_column_int(s, 7) != 0;
    copy_text(out->serial, sizeof(out->serial), sqlite3_column_text(s, 8));
    out->devinfo_request_ms = sqlite3_column_int64(s, 9);
    out->config_request_ms = sqlite3_column_int64(s, 10);
    out->n_open_dl = sqlite3_column_int64(s, 11);
    out->is_place_moving = sqlite3_column_int(s, 12) != 0;
    return 0;
}

int gw_store_efento_device(struct gw_store *st, const char *token, size_t token_len,
                           struct gw_efento_device *out)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, DEVICE_COLUMNS "c.credentials_id = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, token, (int)token_len, SQLITE_STATIC);
        rc = read_device(s, out);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_efento_device_moving(struct gw_store *st, const char *token, size_t token_len,
                                  struct gw_efento_device *out)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              DEVICE_COLUMNS
                              "d.id = (SELECT device_id FROM downlink WHERE kind = 'EFENTO_CONFIG'"
                              " AND state IN ('SENT','DELIVERED') AND completed_ms IS NULL AND"
                              " json_extract(additional_info, '$.newToken') = ?1 ORDER BY id DESC"
                              " LIMIT 1)",
                              &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, token, (int)token_len, SQLITE_STATIC);
        rc = read_device(s, out);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_efento_profiles(struct gw_store *st,
                             int (*fn)(void *arg, const struct gw_efento_profile *p), void *arg)
{
    struct gw_efento_profile p;
    sqlite3_stmt *s = NULL;
    int rc =
        gw_store_prepare(st,
                         "SELECT id, name, json_extract(profile_json, '" SETTINGS_PATH "') FROM"
                         " device_profile WHERE coap_device_type = 'EFENTO' ORDER BY name",
                         &s);

    if (rc != 0) {
        return rc;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&p, 0, sizeof(p));
        p.id = sqlite3_column_int64(s, 0);
        copy_text(p.name, sizeof(p.name), sqlite3_column_text(s, 1));
        parse_settings(sqlite3_column_text(s, 2), &p);
        rc = fn(arg, &p);
        if (rc != 0) {
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(s);
    return rc;
}

static enum gw_dl_state state_of(const unsigned char *t)
{
    static const char *const names[] = { "QUEUED",  "SENT",    "DELIVERED", "SUCCESSFUL",
                                         "TIMEOUT", "EXPIRED", "FAILED" };
    size_t i;

    for (i = 0; t != NULL && i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp((const char *)t, names[i]) == 0) {
            return (enum gw_dl_state)(GW_DL_QUEUED + (int)i);
        }
    }
    return GW_DL_FAILED;
}

int gw_store_efento_dl_open(struct gw_store *st, int64_t device_id, int64_t now_ms,
                            struct gw_efento_dl *out, size_t cap, size_t *n_out)
{
    sqlite3_stmt *s = NULL;
    int rc =
        gw_store_prepare(st,
                         "SELECT id, state, retries, COALESCE(sent_ms, 0),"
                         " COALESCE(json_extract(additional_info, '$.mid'), -1), body FROM downlink"
                         " WHERE device_id = ?1 AND kind = 'EFENTO_CONFIG' AND completed_ms IS NULL"
                         " AND (state IN ('SENT','DELIVERED') OR (state IN ('QUEUED','TIMEOUT')"
                         " AND expiration_ms > ?2)) ORDER BY id LIMIT ?3",
                         &s);

    *n_out = 0;
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, device_id);
    (void)sqlite3_bind_int64(s, 2, now_ms);
    (void)sqlite3_bind_int64(s, 3, (int64_t)cap);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct gw_efento_dl *d = &out[*n_out];
        const unsigned char *body = sqlite3_column_text(s, 5);
        memset(d, 0, sizeof(*d));
        d->id = sqlite3_column_int64(s, 0);
        d->state = state_of(sqlite3_column_text(s, 1));
        d->retries = sqlite3_column_int64(s, 2);
        d->sent_ms = sqlite3_column_int64(s, 3);
        d->sent_mid = (int32_t)sqlite3_column_int64(s, 4);
        d->body = strdup(body != NULL ? (const char *)body : "{}");
        if (d->body == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        (*n_out)++;
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(s);
    if (rc != 0) {
        gw_store_efento_dl_fini(out, *n_out);
        *n_out = 0;
    }
    return rc;
}

void gw_store_efento_dl_fini(struct gw_efento_dl *dl, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(dl[i].body);
        dl[i].body = NULL;
    }
}

static int event_write(struct gw_store *st, int64_t device_id, int64_t ts_ms, const char *type,
                       const char *body)
{
    return gw_store_event_add(st, device_id, ts_ms, type, body);
}

/* A text value of the device: a client attribute (scope 1) or latest telemetry (scope 0). */
static int device_text(struct gw_store *st, int64_t device_id, int scope, const char *key,
                       char *out, size_t cap)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
        scope == 0 ? "SELECT COALESCE(v_str, CAST(v_long AS TEXT)) FROM ts_kv_latest WHERE"
                     " device_id = ?1 AND key = ?2"
                   : "SELECT COALESCE(v_str, CAST(v_long AS TEXT)) FROM attribute_kv WHERE"
                     " device_id = ?1 AND scope = 1 AND key = ?2",
        &s);

    out[0] = '\0';
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            copy_text(out, cap, sqlite3_column_text(s, 0));
        }
        rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* The device's access token, and whether another device has `token` as its access token. */
static int token_facts(struct gw_store *st, int64_t device_id, const char *token, char *own,
                       size_t cap, bool *is_taken)
{
    sqlite3_stmt *s = NULL;
    int rc =
        gw_store_prepare(st,
                         "SELECT (SELECT credentials_id FROM credentials WHERE device_id = ?1),"
                         " EXISTS (SELECT 1 FROM credentials WHERE credentials_id = ?2 AND"
                         " device_id <> ?1)",
                         &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, token, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
    }
    if (rc == 0) {
        copy_text(own, cap, sqlite3_column_text(s, 0));
        *is_taken = sqlite3_column_int(s, 1) != 0;
    }
    sqlite3_finalize(s);
    return rc;
}

/*
 * Settings that change how the sensor identifies itself (3.2): refuses those that would cut it
 * off, and describes the move in *info (heap JSON, NULL when the identity does not change):
 * newToken = the token the sensor will send, placeMove = the token's place changes to the
 * profile's. Returns: 0, -EACCES (err set), -EIO, -ENOMEM.
 */
static int identity_move(struct gw_store *st, int64_t device_id,
                         const struct gw_efento_profile *prof, const char *settings, char **info,
                         char *err, size_t err_len)
{
    json_t *o = json_loads(settings, 0, NULL), *tok = json_object_get(o, "cloudToken");
    json_t *cfg = json_object_get(o, "cloudTokenConfig");
    json_t *opt = json_object_get(o, "cloudTokenCoapOption"), *out = NULL;
    char now_cfg[16], fresh[GW_STORE_TOKEN_MAX] = "", own[GW_STORE_TOKEN_MAX];
    bool is_taken = false;
    int64_t mode;
    int rc = 0;

    *info = NULL;
    if (!json_is_string(tok) && !json_is_integer(cfg) && !json_is_integer(opt)) {
        goto out;
    }
    rc = device_text(st, device_id, 1, "cloudTokenConfig", now_cfg, sizeof(now_cfg));
    mode = json_is_integer(cfg) ? (int64_t)json_integer_value(cfg)
           : now_cfg[0] != '\0' ? strtoll(now_cfg, NULL, 10)
                                : 1;
    if (rc == 0 && mode == 255) {
        (void)snprintf(err, err_len,
                       "cloudTokenConfig: 255 sends no token, and nbgate identifies Efento"
                       " sensors by their cloud token");
        rc = -EACCES;
    } else if (rc == 0 && mode == 2 && json_is_integer(cfg)) {
        rc = device_text(st, device_id, 0, "modem_identification", fresh, sizeof(fresh));
        if (rc == 0 && fresh[0] == '\0') {
            (void)snprintf(err, err_len,
                           "cloudTokenConfig: 2 makes the modem's IMEI the token, and this sensor"
                           " has not reported it yet (device info modem_identification)");
            rc = -EACCES;
        }
    } else if (rc == 0 && mode == 1 && json_is_string(tok)) {
        copy_text(fresh, sizeof(fresh), (const unsigned char *)json_string_value(tok));
    } else if (rc == 0 && mode == 1 && json_is_integer(cfg)) {
        rc = device_text(st, device_id, 1, "cloudToken", fresh, sizeof(fresh));
        if (rc == 0 && fresh[0] == '\0') {
            (void)snprintf(err, err_len,
                           "cloudTokenConfig: 1 needs cloudToken as well (the token stored on the"
                           " sensor is not known)");
            rc = -EACCES;
        }
    }
    rc = rc != 0 ? rc : token_facts(st, device_id, fresh, own, sizeof(own), &is_taken);
    if (rc == 0 && is_taken) {
        (void)snprintf(err, err_len, "cloudToken: already the access token of another device");
        rc = -EACCES;
    }
    if (rc == 0 && json_is_integer(opt) && json_integer_value(opt) != prof->token_option) {
        (void)snprintf(err, err_len,
                       "cloudTokenCoapOption: %lld differs from the device profile's %d; change"
                       " the profile first (nbgate accepts the sensor's current place until it"
                       " confirms the new one)",
                       (long long)json_integer_value(opt), (int)prof->token_option);
        rc = -EACCES;
    }
    if (rc != 0) {
        goto out;
    }
    out = json_object();
    if (fresh[0] != '\0' && strcmp(fresh, own) != 0) {
        (void)json_object_set_new(out, "newToken", json_string(fresh));
    }
    if (json_is_integer(opt)) {
        (void)json_object_set_new(out, "placeMove", json_integer(1));
    }
    if (json_object_size(out) > 0) {
        *info = json_dumps(out, JSON_COMPACT);
        rc = *info != NULL ? 0 : -ENOMEM;
    }
out:
    json_decref(out);
    json_decref(o);
    return rc;
}

int gw_store_efento_queue(struct gw_store *st, int64_t device_id, const char *settings_json,
                          int64_t now_ms, int64_t max_queued, int64_t *id_out, char *err,
                          size_t err_len)
{
    struct gw_efento_profile prof;
    sqlite3_stmt *s = NULL;
    char uuid[37], body[96], *info = NULL;
    int64_t id = 0, unfinished = 0;
    int rc = gw_store_tx_begin(st);

    if (rc == 0) {
        rc = gw_store_prepare(
            st,
            "SELECT p.coap_device_type = 'EFENTO', json_extract(p.profile_json, '" SETTINGS_PATH
            "'), (SELECT count(*) FROM downlink WHERE device_id = d.id AND completed_ms"
            " IS NULL AND state IN ('QUEUED','SENT','DELIVERED','TIMEOUT')) FROM device d"
            " JOIN device_profile p ON p.id = d.profile_id WHERE d.id = ?1",
            &s);
    }
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -ENOENT;
    }
    if (rc == 0 && sqlite3_column_int(s, 0) == 0) {
        rc = -EINVAL;
    }
    if (rc == 0) {
        parse_settings(sqlite3_column_text(s, 1), &prof);
        unfinished = sqlite3_column_int64(s, 2);
        rc = unfinished >= max_queued ? -ENOSPC : 0;
    }
    sqlite3_finalize(s);
    s = NULL;
    rc = rc != 0 ? rc : identity_move(st, device_id, &prof, settings_json, &info, err, err_len);
    rc = rc != 0 ? rc
                 : gw_store_prepare(
                       st,
                       "INSERT INTO downlink (uuid, device_id, kind, is_oneway, body, max_retries,"
                       " created_ms, expiration_ms, additional_info) VALUES (?1, ?2,"
                       " 'EFENTO_CONFIG', 1, ?3, ?4, ?5, ?6, ?7)",
                       &s);
    if (rc == 0) {
        gw_store_uuid_v4(uuid);
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, device_id);
        (void)sqlite3_bind_text(s, 3, settings_json, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int(s, 4, 2); /* the third send without delivery fails (8.5) */
        (void)sqlite3_bind_int64(s, 5, now_ms);
        (void)sqlite3_bind_int64(s, 6, now_ms + prof.downlink_expiry_s * 1000);
        gw_store_bind_text_or_null(s, 7, info);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        id = sqlite3_last_insert_rowid(st->db);
    }
    if (rc == 0) {
        (void)snprintf(body, sizeof(body),
                       "{\"id\":%lld,\"kind\":\"EFENTO_CONFIG\",\"state\":"
                       "\"QUEUED\"}",
                       (long long)id);
        rc = event_write(st, device_id, now_ms, "DOWNLINK", body);
    }
    sqlite3_finalize(s);
    free(info);
    rc = gw_store_tx_end(st, rc);
    if (rc == 0 && id_out != NULL) {
        *id_out = id;
    }
    return rc;
}

/* ---- held parts of split configurations (server attribute efentoConfigParts) ---------------- */

static int unhex(const char *hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(hex) / 2, i;
    uint8_t *p = malloc(n > 0 ? n : 1);

    if (p == NULL) {
        return -ENOMEM;
    }
    for (i = 0; i < n; i++) {
        unsigned hi = (unsigned)(hex[2 * i] <= '9' ? hex[2 * i] - '0' : hex[2 * i] - 'a' + 10);
        unsigned lo =
            (unsigned)(hex[2 * i + 1] <= '9' ? hex[2 * i + 1] - '0' : hex[2 * i + 1] - 'a' + 10);
        p[i] = (uint8_t)((hi << 4) | (lo & 0xf));
    }
    *out = p;
    *len = n;
    return 0;
}

static char *tohex(const uint8_t *p, size_t len, size_t max)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = len < max ? len : max, i;
    char *s = malloc(2 * n + 1);

    for (i = 0; s != NULL && i < n; i++) {
        s[2 * i] = digits[p[i] >> 4];
        s[2 * i + 1] = digits[p[i] & 0xf];
    }
    if (s != NULL) {
        s[2 * n] = '\0';
    }
    return s;
}

/* The efentoConfigParts object of a device, or a new empty one (NULL: out of memory, I/O). */
static json_t *parts_load(struct gw_store *st, int64_t device_id)
{
    sqlite3_stmt *s = NULL;
    json_t *root = NULL;

    if (gw_store_prepare(
            st,
            "SELECT v_str FROM attribute_kv WHERE device_id = ?1 AND scope = 3 AND key = "
            "'" KEY_PARTS "'",
            &s) != 0) {
        return NULL;
    }
    (void)sqlite3_bind_int64(s, 1, device_id);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0) != NULL) {
        root = json_loads((const char *)sqlite3_column_text(s, 0), 0, NULL);
    }
    sqlite3_finalize(s);
    if (!json_is_array(json_object_get(root, "parts"))) {
        json_decref(root);
        root = json_pack("{s:[]}", "parts");
    }
    return root;
}

int gw_store_efento_parts(struct gw_store *st, int64_t device_id,
                          struct gw_efento_part out[GW_EFENTO_PARTS_MAX], size_t *n_out)
{
    json_t *root = parts_load(st, device_id);
    json_t *p;
    size_t i;
    int rc = root != NULL ? 0 : -EIO;

    *n_out = 0;
    json_array_foreach(json_object_get(root, "parts"), i, p)
    {
        const char *hex = json_string_value(json_object_get(p, "hex"));
        if (rc != 0 || *n_out == GW_EFENTO_PARTS_MAX || hex == NULL) {
            break;
        }
        memset(&out[*n_out], 0, sizeof(out[0]));
        out[*n_out].split_info = (int32_t)member_int(p, "s", 0);
        out[*n_out].rx_s = member_int(p, "t", 0);
        rc = unhex(hex, &out[*n_out].data, &out[*n_out].len);
        if (rc == 0) {
            (*n_out)++;
        }
    }
    json_decref(root);
    if (rc != 0) {
        gw_store_efento_parts_fini(out, *n_out);
        *n_out = 0;
    }
    return rc;
}

void gw_store_efento_parts_fini(struct gw_efento_part *parts, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(parts[i].data);
        parts[i].data = NULL;
    }
}

static int attr_delete(struct gw_store *st, int64_t device_id, int scope, const char *key)
{
    return gw_store_attribute_delete(st, device_id, (enum gw_attr_scope)scope, key);
}

static int attr_put(struct gw_store *st, int64_t device_id, int scope, const struct profile_kv *kv,
                    int64_t now_ms)
{
    sqlite3_stmt *s = st->stmt[S_ATTR_SAVE];

    (void)sqlite3_bind_int64(s, 1, device_id);
    (void)sqlite3_bind_int(s, 2, scope);
    (void)sqlite3_bind_text(s, 3, kv->key, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 4, now_ms);
    gw_store_bind_value(s, 5, &kv->v);
    return gw_store_step_done(st, s);
}

/* Holds a part: replaces a held part of the same index, keeps arrival order otherwise. */
static int parts_add(struct gw_store *st, int64_t device_id, const struct gw_efento_part *part,
                     int64_t now_ms)
{
    json_t *root = parts_load(st, device_id);
    json_t *arr = json_object_get(root, "parts");
    char *hex = tohex(part->data, part->len, part->len);
    struct profile_kv kv;
    char *text = NULL;
    json_t *p;
    size_t i;
    int rc = root != NULL && hex != NULL ? 0 : -ENOMEM;

    for (i = 0; rc == 0 && i < json_array_size(arr); i++) {
        p = json_array_get(arr, i);
        if (llabs(member_int(p, "s", 0)) == llabs((long long)part->split_info)) {
            (void)json_array_remove(arr, i);
            break;
        }
    }
    if (rc == 0 &&
        json_array_append_new(arr, json_pack("{s:i, s:I, s:s}", "s", part->split_info, "t",
                                             (json_int_t)part->rx_s, "hex", hex)) != 0) {
        rc = -ENOMEM;
    }
    text = rc == 0 ? json_dumps(root, JSON_COMPACT) : NULL;
    if (rc == 0 && text == NULL) {
        rc = -ENOMEM;
    }
    if (rc == 0) {
        memset(&kv, 0, sizeof(kv));
        kv.key = (char *)(uintptr_t)KEY_PARTS;
        kv.v.type = PROFILE_VT_JSON;
        kv.v.s = text;
        kv.v.s_len = strlen(text);
        rc = attr_put(st, device_id, GW_SCOPE_SERVER, &kv, now_ms);
    }
    free(text);
    free(hex);
    json_decref(root);
    return rc;
}

/* ---- the commit of one frame ----------------------------------------------------------------- */

static int put_telemetry(struct gw_store *st, int64_t device_id, const struct profile_kv *kv,
                         size_t n)
{
    size_t i;
    int k, rc = 0;

    for (i = 0; rc == 0 && i < n; i++) {
        for (k = S_TS_INSERT; rc == 0 && k <= S_TS_LATEST; k++) {
            sqlite3_stmt *s = st->stmt[k];
            (void)sqlite3_bind_int64(s, 1, device_id);
            (void)sqlite3_bind_text(s, 2, kv[i].key, -1, SQLITE_STATIC);
            (void)sqlite3_bind_int64(s, 3, kv[i].ts_ms);
            gw_store_bind_value(s, 4, &kv[i].v);
            rc = gw_store_step_done(st, s);
        }
    }
    return rc;
}

/* Adds n to the LONG server attribute key (created at 0). */
static int counter_add(struct gw_store *st, int64_t device_id, const char *key, uint32_t n,
                       int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
        "INSERT INTO attribute_kv (device_id, scope, key, last_update_ms, type, v_long)"
        " VALUES (?1, 3, ?2, ?3, 2, ?4) ON CONFLICT (device_id, scope, key) DO UPDATE"
        " SET v_long = COALESCE(attribute_kv.v_long, 0) + excluded.v_long,"
        " last_update_ms = excluded.last_update_ms, type = 2",
        &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 3, now_ms);
        (void)sqlite3_bind_int64(s, 4, n);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

static int count_errors(struct gw_store *st, const struct gw_efento_commit *c)
{
    char key[48];
    uint32_t total = 0;
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < GW_EFENTO_CHANNELS; i++) {
        if (c->error_samples[i] == 0) {
            continue;
        }
        total += c->error_samples[i];
        (void)snprintf(key, sizeof(key), KEY_ERRORS "_%zu", i + 1);
        rc = counter_add(st, c->device_id, key, c->error_samples[i], c->now_ms);
    }
    if (rc == 0 && total > 0) {
        rc = counter_add(st, c->device_id, KEY_ERRORS, total, c->now_ms);
    }
    return rc;
}

/* Writes the events (an is_once event only when the same one is not logged yet). */
static int add_events(struct gw_store *st, const struct gw_efento_commit *c)
{
    sqlite3_stmt *s = NULL;
    size_t i, added = 0;
    int rc = 0;

    for (i = 0; rc == 0 && i < c->n_events; i++) {
        const struct gw_efento_event *e = &c->events[i];
        if (e->is_once) {
            rc = gw_store_prepare(
                st, "SELECT 1 FROM event WHERE device_id = ?1 AND type = ?2 AND body = ?3", &s);
            if (rc == 0) {
                (void)sqlite3_bind_int64(s, 1, c->device_id);
                (void)sqlite3_bind_text(s, 2, e->type, -1, SQLITE_STATIC);
                (void)sqlite3_bind_text(s, 3, e->body, -1, SQLITE_STATIC);
                rc = sqlite3_step(s) == SQLITE_ROW ? 1 : 0;
            }
            sqlite3_finalize(s);
            s = NULL;
            if (rc == 1) {
                rc = 0;
                continue;
            }
        }
        rc = rc != 0 ? rc : event_write(st, c->device_id, c->now_ms, e->type, e->body);
        added++;
    }
    return rc;
}

static const char *change_sql(enum gw_dl_state state)
{
    switch (state) {
    case GW_DL_SENT:
        return "UPDATE downlink SET state = 'SENT', sent_ms = ?2, additional_info ="
               " json_set(COALESCE(additional_info, '{}'), '$.mid', ?3) WHERE id = ?1 AND state IN "
               "('QUEUED','TIMEOUT')"
               " RETURNING state";
    case GW_DL_DELIVERED:
        return "UPDATE downlink SET state = 'DELIVERED', delivered_ms = ?2, completed_ms ="
               " CASE WHEN ?3 THEN ?2 END WHERE id = ?1 AND state = 'SENT' RETURNING state";
    case GW_DL_QUEUED:
    case GW_DL_TIMEOUT:
        /* A send that was not delivered (QUEUED) or not confirmed (TIMEOUT) is a try. */
        return "UPDATE downlink SET retries = retries + 1, state = CASE WHEN retries + 1 >"
               " max_retries THEN 'FAILED' WHEN ?3 THEN 'QUEUED' ELSE 'TIMEOUT' END,"
               " completed_ms = CASE WHEN retries + 1 > max_retries THEN ?2 END, response ="
               " CASE WHEN retries + 1 > max_retries THEN COALESCE(?4, response) ELSE response"
               " END WHERE id = ?1 AND state IN ('SENT','DELIVERED') RETURNING state";
    default:
        return "UPDATE downlink SET state = CASE WHEN ?3 THEN 'SUCCESSFUL' ELSE 'FAILED' END,"
               " completed_ms = ?2, response = COALESCE(?4, response) WHERE id = ?1 AND state"
               " IN ('QUEUED','SENT','DELIVERED','TIMEOUT') RETURNING state";
    }
}

static int apply_change(struct gw_store *st, const struct gw_efento_commit *c,
                        const struct gw_efento_dl_change *ch)
{
    sqlite3_stmt *s = NULL;
    char body[96];
    int rc = gw_store_prepare(st, change_sql(ch->state), &s);

    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, ch->id);
    (void)sqlite3_bind_int64(s, 2, c->now_ms);
    switch (ch->state) {
    case GW_DL_SENT:
        (void)sqlite3_bind_int(s, 3, ch->mid);
        break;
    case GW_DL_DELIVERED:
        (void)sqlite3_bind_int(s, 3, ch->is_final ? 1 : 0);
        break;
    default:
        (void)sqlite3_bind_int(s, 3, ch->state == GW_DL_QUEUED || ch->state == GW_DL_SUCCESSFUL);
        if (ch->response != NULL) {
            (void)sqlite3_bind_text(s, 4, ch->response, -1, SQLITE_STATIC);
        }
        break;
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        (void)snprintf(body, sizeof(body), "{\"id\":%lld,\"state\":\"%s\"}", (long long)ch->id,
                       gw_dl_state_name(state_of(sqlite3_column_text(s, 0))));
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? 1 : -EIO; /* 1: already in a state this change may not leave */
    }
    sqlite3_finalize(s);
    if (rc == 0) {
        rc = event_write(st, c->device_id, c->now_ms, "DOWNLINK", body);
    }
    /* 1: the entry is no longer in a state it may leave this way. An entry about to go out in this
     * answer but cancelled meanwhile (the admin deleted it) must not be sent: -EAGAIN rolls the
     * frame back so it is handled again without it. */
    return rc == 1 ? (ch->state == GW_DL_SENT ? -EAGAIN : 0) : rc;
}

/* The sensor now sends the in-flight new token: it becomes the access token (3.2). */
static int token_switch(struct gw_store *st, const struct gw_efento_commit *c)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              "UPDATE credentials SET credentials_id = ?2 WHERE device_id = ?1 AND"
                              " type = 'ACCESS_TOKEN' AND NOT EXISTS (SELECT 1 FROM credentials"
                              " WHERE credentials_id = ?2)",
                              &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, c->device_id);
        (void)sqlite3_bind_text(s, 2, c->new_token, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    if (rc == 0) {
        rc = event_write(st, c->device_id, c->now_ms, "TOKEN_CHANGED",
                         "{\"reason\":\"the sensor sends the cloud token its queued settings"
                         " gave it; the old token is no longer accepted\"}");
    }
    return rc;
}

int gw_store_efento_commit(struct gw_store *st, const struct gw_efento_commit *c)
{
    size_t i;
    int rc = gw_store_tx_begin(st);

    if (rc == 0) {
        rc = put_telemetry(st, c->device_id, c->telemetry, c->n_telemetry);
    }
    for (i = 0; rc == 0 && i < c->n_client; i++) {
        rc = attr_put(st, c->device_id, GW_SCOPE_CLIENT, &c->client[i], c->now_ms);
    }
    for (i = 0; rc == 0 && i < c->n_client_deleted; i++) {
        rc = attr_delete(st, c->device_id, GW_SCOPE_CLIENT, c->client_deleted[i]);
    }
    for (i = 0; rc == 0 && i < c->n_server; i++) {
        rc = attr_put(st, c->device_id, GW_SCOPE_SERVER, &c->server[i], c->now_ms);
    }
    rc = rc != 0 ? rc : count_errors(st, c);
    rc = rc != 0 ? rc : add_events(st, c);
    for (i = 0; rc == 0 && i < c->n_changes; i++) {
        rc = apply_change(st, c, &c->changes[i]);
    }
    if (rc == 0 && c->is_parts_dropped) {
        rc = attr_delete(st, c->device_id, GW_SCOPE_SERVER, KEY_PARTS);
    }
    if (rc == 0 && c->part_add != NULL) {
        rc = parts_add(st, c->device_id, c->part_add, c->now_ms);
    }
    if (rc == 0 && c->new_token != NULL) {
        rc = token_switch(st, c);
    }
    if (rc == 0) {
        rc = gw_store_touch_activity(st, c->device_id, c->now_ms);
    }
    return gw_store_tx_end(st, rc);
}
