/* SPDX-License-Identifier: MIT */
/*
 * gw_store_profile.c - device profiles in the store: ThingsBoard's device-profile JSON kept
 * verbatim (as normalised by profile_config_parse) in device_profile.profile_json, the columns
 * the daemon filters on (is_default, coap_device_type, payload_type, provision_key) kept in sync
 * with it in the same statement, and the compiled descriptor container in descriptor_set. Also
 * a device's profile and its power-saving override (device.power_json). Called by the CLI, the
 * admin API and the CoAP handler (gw_store_profile_load).
 *
 * Invariants: exactly one profile has is_default = 1 (a partial unique index guards it), and the
 * JSON member "default" always equals that column (json_set on every write). Every write is one
 * BEGIN IMMEDIATE ... COMMIT; updated_ms changes with every write, so a cache of loaded profiles
 * can revalidate with one indexed read and a changed profile applies without a restart.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"
#include "profiles/profile_model.h"

static const char *const device_types[] = { "DEFAULT", "EFENTO" };
static const char *const payload_types[] = { "JSON", "PROTOBUF" };

/* Prepares sql, reporting failure like a step failure. */
/* Steps a statement without rows; a UNIQUE violation is -EEXIST. Finalises it. */
static int step_done(struct gw_store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);

    if (rc != SQLITE_DONE) {
        rc = sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST : -EIO;
        if (rc == -EIO) {
            gw_log_err("store step failed err=\"%s\"", sqlite3_errmsg(st->db));
        }
    } else {
        rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

static void copy_text(char *dst, size_t len, sqlite3_stmt *s, int col)
{
    const unsigned char *t = sqlite3_column_text(s, col);

    (void)snprintf(dst, len, "%s", t != NULL ? (const char *)t : "");
}

#define INFO_COLUMNS                                                                               \
    "SELECT p.id, p.uuid, p.name, p.is_default, COALESCE(json_extract(p.profile_json,"             \
    " '$.transportType'), ''), p.coap_device_type, p.payload_type, (SELECT count(*) FROM device d" \
    " WHERE d.profile_id = p.id), p.created_ms, p.updated_ms, p.profile_json FROM device_profile " \
    "p"

static void info_row(sqlite3_stmt *s, struct gw_profile_info *p)
{
    memset(p, 0, sizeof(*p));
    p->id = sqlite3_column_int64(s, 0);
    copy_text(p->uuid, sizeof(p->uuid), s, 1);
    copy_text(p->name, sizeof(p->name), s, 2);
    p->is_default = sqlite3_column_int(s, 3) != 0;
    copy_text(p->transport_type, sizeof(p->transport_type), s, 4);
    copy_text(p->device_type, sizeof(p->device_type), s, 5);
    copy_text(p->payload_type, sizeof(p->payload_type), s, 6);
    p->n_devices = sqlite3_column_int64(s, 7);
    p->created_ms = sqlite3_column_int64(s, 8);
    p->updated_ms = sqlite3_column_int64(s, 9);
}

/* The row of profile name: info, and a copy of its JSON when json is not NULL. */
static int find_profile(struct gw_store *st, const char *name, struct gw_profile_info *info,
                        char **json)
{
    sqlite3_stmt *s = NULL;
    const unsigned char *t;
    int rc;

    rc = gw_store_prepare(st, INFO_COLUMNS " WHERE p.name = ?1", &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        info_row(s, info);
        rc = 0;
        t = sqlite3_column_text(s, 10);
        if (json != NULL) {
            *json = t != NULL ? strdup((const char *)t) : NULL;
            rc = *json == NULL ? -ENOMEM : 0;
        }
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* ---- save -------------------------------------------------------------------------------------
 */

/* Whether some profile is the default. */
static int has_default(struct gw_store *st, bool *out)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "SELECT count(*) FROM device_profile WHERE is_default = 1", &s);

    if (rc == 0) {
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *out = rc == 0 && sqlite3_column_int64(s, 0) > 0;
        sqlite3_finalize(s);
    }
    return rc;
}

/* Binds the values shared by INSERT and UPDATE: ?2..?8. */
static void bind_profile(sqlite3_stmt *s, const struct profile_config *p, const char *json,
                         bool is_default, const uint8_t *blob, size_t blob_len, int64_t now_ms)
{
    (void)sqlite3_bind_text(s, 2, device_types[p->device_type], -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 3, payload_types[p->payload_type], -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 4, json, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 5, is_default ? "true" : "false", -1, SQLITE_STATIC);
    if (blob != NULL) {
        (void)sqlite3_bind_blob(s, 6, blob, (int)blob_len, SQLITE_STATIC);
    }
    if (p->provision_key != NULL) {
        (void)sqlite3_bind_text(s, 7, p->provision_key, -1, SQLITE_STATIC);
    }
    (void)sqlite3_bind_int64(s, 8, now_ms);
}

static int insert_profile(struct gw_store *st, const struct profile_config *p, const char *json,
                          const uint8_t *blob, size_t blob_len, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    char uuid[37];
    int rc;

    rc = gw_store_prepare(
        st,
        "INSERT INTO device_profile (uuid, name, is_default, coap_device_type,"
        " payload_type, profile_json, descriptor_set, provision_key, created_ms,"
        " updated_ms) VALUES (?1, ?9, ?5 = 'true', ?2, ?3, json_set(?4, '$.default',"
        " json(?5)), ?6, ?7, ?8, ?8)",
        &s);
    if (rc != 0) {
        return rc;
    }
    gw_store_uuid_v4(uuid);
    bind_profile(s, p, json, p->is_default, blob, blob_len, now_ms);
    (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
    (void)sqlite3_bind_text(s, 9, p->name, -1, SQLITE_STATIC);
    return step_done(st, s);
}

static int update_profile(struct gw_store *st, const struct gw_profile_info *old,
                          const struct profile_config *p, const char *json, const uint8_t *blob,
                          size_t blob_len, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc =
        gw_store_prepare(st,
                         "UPDATE device_profile SET coap_device_type = ?2, payload_type = ?3,"
                         " profile_json = json_set(?4, '$.default', json(?5)), descriptor_set = ?6,"
                         " provision_key = ?7, updated_ms = ?8 WHERE id = ?1",
                         &s);
    if (rc != 0) {
        return rc;
    }
    bind_profile(s, p, json, old->is_default, blob, blob_len, now_ms);
    (void)sqlite3_bind_int64(s, 1, old->id);
    return step_done(st, s);
}

/* Efento R2.6: at most one Efento profile per token place auto-accepts unknown tokens. */
static int check_auto_accept(struct gw_store *st, const struct profile_config *p, const char *json,
                             char *err, size_t err_len)
{
#define EFENTO_SETTINGS "'$.profileData.transportConfiguration.coapDeviceTypeConfiguration"
    sqlite3_stmt *s = NULL;
    int rc;

    if (p->device_type != PROFILE_DEVICE_EFENTO) {
        return 0;
    }
    rc = gw_store_prepare(
        st,
        "SELECT name, COALESCE(json_extract(?2, " EFENTO_SETTINGS ".cloudTokenCoapOption'), 65000)"
        " FROM device_profile WHERE coap_device_type = 'EFENTO' AND name <> ?1 AND"
        " json_extract(?2, " EFENTO_SETTINGS
        ".autoAccept') = 1 AND json_extract(profile_json, " EFENTO_SETTINGS
        ".autoAccept') = 1 AND COALESCE(json_extract(profile_json, " EFENTO_SETTINGS
        ".cloudTokenCoapOption'), 65000) = COALESCE(json_extract(?2, " EFENTO_SETTINGS
        ".cloudTokenCoapOption'), 65000) LIMIT 1",
        &s);
#undef EFENTO_SETTINGS
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, p->name, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 2, json, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        (void)snprintf(err, err_len,
                       "profileData.transportConfiguration.coapDeviceTypeConfiguration.autoAccept:"
                       " Efento profile '%s' already auto-accepts tokens at the same place"
                       " (cloudTokenCoapOption %lld); at most one profile may",
                       (const char *)sqlite3_column_text(s, 0),
                       (long long)sqlite3_column_int64(s, 1));
        rc = -EEXIST;
    } else {
        rc = rc == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* The checks of specs/rest-api.md 5.1/5.3 before a save; err says what is refused. */
static int check_save(struct gw_store *st, const struct profile_config *p, const char *json,
                      const struct gw_profile_info *old, bool exists, char *err, size_t err_len)
{
    const char *transport = p->transport == PROFILE_TRANSPORT_COAP ? "COAP" : "DEFAULT";
    bool is_taken = false;
    int rc = 0;

    if (p->is_default && !(exists && old->is_default)) {
        rc = has_default(st, &is_taken);
        if (rc == 0 && is_taken) {
            (void)snprintf(err, err_len,
                           "Another default device profile is present (use "
                           "`nbgate profile set-default`)");
            rc = -EEXIST;
        }
    }
    if (rc == 0 && exists && old->n_devices > 0 && strcmp(old->transport_type, transport) != 0) {
        (void)snprintf(err, err_len,
                       "Can't change device profile transport type because "
                       "devices referenced it!");
        rc = -EBUSY;
    }
    return rc == 0 ? check_auto_accept(st, p, json, err, err_len) : rc;
}

int gw_store_profile_save(struct gw_store *st, const struct profile_config *p, const char *json,
                          const uint8_t *blob, size_t blob_len, int64_t now_ms, bool *is_created,
                          char *err, size_t err_len)
{
    struct gw_profile_info old;
    bool exists;
    int rc;

    err[0] = '\0';
    rc = gw_store_tx_begin(st);
    if (rc != 0) {
        goto out;
    }
    rc = find_profile(st, p->name, &old, NULL);
    exists = rc == 0;
    rc = rc == -ENOENT ? 0 : rc;
    rc = rc == 0 ? check_save(st, p, json, &old, exists, err, err_len) : rc;
    if (rc == 0) {
        rc = exists ? update_profile(st, &old, p, json, blob, blob_len, now_ms)
                    : insert_profile(st, p, json, blob, blob_len, now_ms);
        if (rc == -EEXIST) {
            (void)snprintf(err, err_len,
                           "Device profile with such provision device key already "
                           "exists!");
        }
    }
    if (rc == 0 && is_created != NULL) {
        *is_created = !exists;
    }
    rc = gw_store_tx_end(st, rc);
out:
    if (rc == -EIO && err[0] == '\0') {
        (void)snprintf(err, err_len, "store error: %s", sqlite3_errmsg(st->db));
    }
    return rc;
}

/* ---- read -------------------------------------------------------------------------------------
 */

int gw_store_profile_load(struct gw_store *st, int64_t profile_id, struct profile_config *out,
                          int64_t *updated_ms, char *err, size_t err_len)
{
    sqlite3_stmt *s = NULL;
    const char *json;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = gw_store_prepare(
        st, "SELECT profile_json, descriptor_set, updated_ms FROM device_profile WHERE id = ?1",
        &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, profile_id);
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        goto out;
    }
    json = (const char *)sqlite3_column_text(s, 0);
    rc = profile_config_parse(json != NULL ? json : "", (size_t)sqlite3_column_bytes(s, 0), NULL,
                              out, NULL, err, err_len);
    if (rc == 0) {
        rc = profile_config_attach_schemas(out, sqlite3_column_blob(s, 1),
                                           (size_t)sqlite3_column_bytes(s, 1), err, err_len);
    }
    if (rc == 0 && updated_ms != NULL) {
        *updated_ms = sqlite3_column_int64(s, 2);
    }
    if (rc != 0) {
        profile_config_fini(out);
        rc = rc == -ENOMEM ? rc : -EINVAL;
    }
out:
    sqlite3_finalize(s);
    return rc;
}

int gw_store_profile_updated(struct gw_store *st, int64_t profile_id, int64_t *updated_ms)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "SELECT updated_ms FROM device_profile WHERE id = ?1", &s);

    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, profile_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *updated_ms = sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_profile_get(struct gw_store *st, const char *name, struct gw_profile_info *info,
                         char **json)
{
    if (json != NULL) {
        *json = NULL;
    }
    return find_profile(st, name, info, json);
}

int gw_store_profile_list(struct gw_store *st, gw_store_profile_fn fn, void *arg)
{
    struct gw_profile_info info;
    sqlite3_stmt *s = NULL;
    int rc;

    rc = gw_store_prepare(st, INFO_COLUMNS " ORDER BY p.name", &s);
    if (rc != 0) {
        return rc;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        info_row(s, &info);
        rc = fn(arg, &info);
        if (rc != 0) {
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(s);
    return rc;
}

/* ---- default, delete --------------------------------------------------------------------------
 */

/* Sets is_default and the JSON's "default" of the rows chosen by where (?1 = id, ?2 = now). */
static int set_flag(struct gw_store *st, int64_t id, int64_t now_ms, bool is_default)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = gw_store_prepare(
        st,
        is_default ? "UPDATE device_profile SET is_default = 1, profile_json ="
                     " json_set(profile_json, '$.default', json('true')), updated_ms = ?2"
                     " WHERE id = ?1"
                   : "UPDATE device_profile SET is_default = 0, profile_json ="
                     " json_set(profile_json, '$.default', json('false')), updated_ms = ?2"
                     " WHERE is_default = 1 AND id <> ?1",
        &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, id);
    (void)sqlite3_bind_int64(s, 2, now_ms);
    return step_done(st, s);
}

int gw_store_profile_set_default(struct gw_store *st, const char *name, int64_t now_ms)
{
    struct gw_profile_info info;
    int rc;

    rc = gw_store_tx_begin(st);
    if (rc != 0) {
        return rc;
    }
    rc = find_profile(st, name, &info, NULL);
    if (rc == 0 && !info.is_default) {
        rc = set_flag(st, info.id, now_ms, false);
        rc = rc == 0 ? set_flag(st, info.id, now_ms, true) : rc;
    }
    return gw_store_tx_end(st, rc);
}

static int exec_id(struct gw_store *st, const char *sql, int64_t id)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, sql, &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = step_done(st, s);
    }
    return rc;
}

int gw_store_profile_delete(struct gw_store *st, const char *name, char *err, size_t err_len)
{
    struct gw_profile_info info;
    int rc;

    err[0] = '\0';
    rc = gw_store_tx_begin(st);
    if (rc != 0) {
        return rc;
    }
    rc = find_profile(st, name, &info, NULL);
    if (rc == -ENOENT) {
        (void)snprintf(err, err_len, "no device profile \"%s\"", name);
    } else if (rc == 0 && info.is_default) {
        (void)snprintf(err, err_len, "Deletion of Default Device Profile is prohibited!");
        rc = -EPERM;
    } else if (rc == 0 && info.n_devices > 0) {
        (void)snprintf(err, err_len,
                       "The device profile referenced by the devices cannot be "
                       "deleted!");
        rc = -EBUSY;
    }
    if (rc == 0) {
        rc = exec_id(st, "DELETE FROM ota_package WHERE profile_id = ?1", info.id);
    }
    if (rc == 0) {
        rc = exec_id(st, "DELETE FROM device_profile WHERE id = ?1", info.id);
    }
    return gw_store_tx_end(st, rc);
}

/* ---- devices ----------------------------------------------------------------------------------
 */

int gw_store_device_set_profile(struct gw_store *st, const char *device, const char *profile,
                                int64_t now_ms, char *err, size_t err_len)
{
    struct gw_profile_info info;
    sqlite3_stmt *s = NULL;
    int rc;

    (void)now_ms;
    err[0] = '\0';
    rc = gw_store_tx_begin(st);
    if (rc != 0) {
        return rc;
    }
    rc = find_profile(st, profile, &info, NULL);
    if (rc == -ENOENT) {
        (void)snprintf(err, err_len, "no device profile \"%s\"", profile);
    }
    rc = rc == 0 ? gw_store_prepare(
                       st,
                       "UPDATE device SET profile_id = ?1, type = ?2, power_json = CASE WHEN"
                       " ?3 = 'DEFAULT' THEN '{\"type\":\"DEFAULT\"}' ELSE power_json END"
                       " WHERE name = ?4",
                       &s)
                 : rc;
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, info.id);
        (void)sqlite3_bind_text(s, 2, info.name, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 3, info.transport_type, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 4, device, -1, SQLITE_STATIC);
        rc = step_done(st, s);
    }
    if (rc == 0 && sqlite3_changes(st->db) == 0) {
        (void)snprintf(err, err_len, "no device named \"%s\"", device);
        rc = -ENOENT;
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_device_set_power(struct gw_store *st, const char *device, const char *power_json,
                              char *err, size_t err_len)
{
    struct profile_power pw;
    sqlite3_stmt *s = NULL;
    int rc = 0;

    err[0] = '\0';
    if (power_json != NULL) {
        rc = profile_power_parse(power_json, strlen(power_json), &pw, err, err_len);
    }
    rc = rc == 0 ? gw_store_prepare(st, "UPDATE device SET power_json = ?1 WHERE name = ?2", &s)
                 : rc;
    if (rc == 0) {
        if (power_json != NULL) {
            (void)sqlite3_bind_text(s, 1, power_json, -1, SQLITE_STATIC);
        }
        (void)sqlite3_bind_text(s, 2, device, -1, SQLITE_STATIC);
        rc = step_done(st, s);
    }
    if (rc == 0 && sqlite3_changes(st->db) == 0) {
        (void)snprintf(err, err_len, "no device named \"%s\"", device);
        rc = -ENOENT;
    }
    return rc;
}

int gw_store_device_power(struct gw_store *st, int64_t device_id, struct profile_power *out)
{
    sqlite3_stmt *s = NULL;
    const char *json;
    char err[256];
    int rc;

    out->mode = PROFILE_POWER_UNSET;
    out->psm_activity_timer_ms = out->edrx_cycle_ms = out->paging_window_ms = PROFILE_MS_UNSET;
    rc = gw_store_prepare(st, "SELECT power_json FROM device WHERE id = ?1", &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, device_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        json = (const char *)sqlite3_column_text(s, 0);
        rc = json == NULL ? 0
                          : profile_power_parse(json, (size_t)sqlite3_column_bytes(s, 0), out, err,
                                                sizeof(err));
        if (rc == -EINVAL) {
            out->mode = PROFILE_POWER_UNSET;
        }
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}
