/* SPDX-License-Identifier: MIT */
/*
 * gw_store_admin.c - the store's side of the admin JSON API (web/): admin users and login
 * sessions, and devices, credentials and time series in the shapes the API answers with.
 *
 * The admin API is low-rate, so these statements are prepared per call, not at open. Every value
 * from a request reaches SQLite as a bound parameter; the only text spliced into SQL is chosen
 * from constant fragments (the sort column and direction). A device listing is one query over a
 * sub-select that computes each device's activity (ThingsBoard's rule: active while now < last
 * activity + the server attribute inactivityTimeout, else the profile's, else the default
 * timeout, as gw_store_device_list() computes it), so the `active` filter, the page and the
 * total agree.
 * Thread: the admin threads and the command line, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

/* A profile made for an unknown device "type", as ThingsBoard makes one (transport DEFAULT). */
#define TYPE_PROFILE_JSON                                                                          \
    "{\"name\":\"\",\"type\":\"DEFAULT\",\"transportType\":\"DEFAULT\",\"default\":false,"         \
    "\"description\":null,\"provisionType\":\"DISABLED\",\"provisionDeviceKey\":null,"             \
    "\"profileData\":{\"configuration\":{\"type\":\"DEFAULT\"},\"transportConfiguration\":{"       \
    "\"type\":\"DEFAULT\"},\"provisionConfiguration\":{\"type\":\"DISABLED\","                     \
    "\"provisionDeviceSecret\":null},\"alarms\":null}}"

/* Device columns and activity; ?1 = now, ?2 = default inactivity timeout (ms). */
#define DEVICE_SELECT                                                                              \
    "SELECT d.id AS id, d.uuid AS uuid, d.name AS name, d.label AS label, p.name AS profile_name," \
    " p.uuid AS profile_uuid, json_extract(p.profile_json, '$.transportType') AS transport,"       \
    " d.additional_info AS info, d.power_json AS power, d.created_ms AS created_ms,"               \
    " d.last_activity_ms AS last_ms, (d.last_activity_ms > 0 AND ?1 < d.last_activity_ms +"        \
    " COALESCE((SELECT a.v_long FROM attribute_kv a WHERE a.device_id = d.id AND a.scope = 3"      \
    " AND a.key = 'inactivityTimeout' AND a.type = 2),"                                            \
    " json_extract(p.profile_json, '$.profileData.configuration.inactivityTimeout'), ?2)) AS "     \
    "active"                                                                                       \
    " FROM device d JOIN device_profile p ON p.id = d.profile_id"

static int prepare(struct gw_store *st, const char *sql, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK) {
        gw_log_err("store prepare failed err=\"%s\"", sqlite3_errmsg(st->db));
        return -EIO;
    }
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
    if (v != NULL) {
        (void)sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    } else {
        (void)sqlite3_bind_null(s, i);
    }
}

/* Steps a write; maps a UNIQUE violation to -EEXIST. */
static int step_write(struct gw_store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_DONE) {
        return 0;
    }
    if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE) {
        return -EEXIST;
    }
    gw_log_err("store write failed rc=%d err=\"%s\"", rc, sqlite3_errmsg(st->db));
    return -EIO;
}

static const char *col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}

/* ---- admin users ------------------------------------------------------------------------- */

int gw_store_admin_count(struct gw_store *st, int64_t *n)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(st, "SELECT count(*) FROM admin_user", &s);

    if (rc == 0) {
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *n = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_create(struct gw_store *st, const char *username, const char *password_hash,
                          bool is_first, int64_t now_ms, int64_t *id_out)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = prepare(st,
                 "INSERT INTO admin_user (username, password_hash, created_ms)"
                 " SELECT ?1, ?2, ?3 WHERE ?4 = 0 OR NOT EXISTS (SELECT 1 FROM admin_user)",
                 &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 2, password_hash, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 3, now_ms);
    (void)sqlite3_bind_int(s, 4, is_first ? 1 : 0);
    rc = step_write(st, s);
    if (rc == 0 && sqlite3_changes(st->db) != 1) {
        rc = -EEXIST;
    }
    if (rc == 0 && id_out != NULL) {
        *id_out = sqlite3_last_insert_rowid(st->db);
    }
    sqlite3_finalize(s);
    return rc;
}

static int admin_row(sqlite3_stmt *s, struct gw_admin_user *out)
{
    int rc = sqlite3_step(s);

    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(s, 0);
    (void)snprintf(out->username, sizeof(out->username), "%s", col_text(s, 1));
    (void)snprintf(out->password_hash, sizeof(out->password_hash), "%s", col_text(s, 2));
    (void)snprintf(out->authority, sizeof(out->authority), "%s", col_text(s, 3));
    out->created_ms = sqlite3_column_int64(s, 4);
    return 0;
}

int gw_store_admin_by_name(struct gw_store *st, const char *username, struct gw_admin_user *out)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(st,
                     "SELECT id, username, password_hash, authority, created_ms FROM admin_user"
                     " WHERE username = ?1",
                     &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
        rc = admin_row(s, out);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_by_id(struct gw_store *st, int64_t id, struct gw_admin_user *out)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(st,
                     "SELECT id, username, password_hash, authority, created_ms FROM admin_user"
                     " WHERE id = ?1",
                     &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = admin_row(s, out);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Runs one write statement with an int64 and an optional text parameter. */
static int exec_write(struct gw_store *st, const char *sql, int64_t a, const char *b, int *changes)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(st, sql, &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, a);
        bind_text_or_null(s, 2, b);
        rc = step_write(st, s);
    }
    if (changes != NULL) {
        *changes = rc == 0 ? sqlite3_changes(st->db) : 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_set_password(struct gw_store *st, int64_t user_id, const char *password_hash)
{
    int changes = 0;
    int rc;

    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = exec_write(st, "UPDATE admin_user SET password_hash = ?2 WHERE id = ?1", user_id,
                        password_hash, &changes);
    }
    if (rc == 0 && changes == 0) {
        rc = -ENOENT;
    }
    if (rc == 0) {
        rc = exec_write(st, "UPDATE admin_token SET is_revoked = 1 WHERE user_id = ?1", user_id,
                        NULL, NULL);
    }
    return gw_store_tx_end(st, rc);
}

/* ---- sessions ---------------------------------------------------------------------------- */

int gw_store_admin_session_add(struct gw_store *st, const char *session_id, int64_t user_id,
                               int64_t expiration_ms, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = exec_write(st, "DELETE FROM admin_token WHERE expiration_ms < ?1", now_ms, NULL, NULL);
    if (rc == 0) {
        rc = prepare(st,
                     "INSERT INTO admin_token (jti, user_id, kind, expiration_ms)"
                     " VALUES (?1, ?2, 'REFRESH', ?3)",
                     &s);
    }
    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, session_id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, user_id);
        (void)sqlite3_bind_int64(s, 3, expiration_ms);
        rc = step_write(st, s);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_session_check(struct gw_store *st, const char *session_id, int64_t now_ms,
                                 int64_t *user_id)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(st,
                     "SELECT user_id FROM admin_token WHERE jti = ?1 AND is_revoked = 0"
                     " AND expiration_ms > ?2",
                     &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, session_id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, now_ms);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *user_id = sqlite3_column_int64(s, 0);
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_session_extend(struct gw_store *st, const char *session_id,
                                  int64_t expiration_ms)
{
    return exec_write(st,
                      "UPDATE admin_token SET expiration_ms = max(expiration_ms, ?1)"
                      " WHERE jti = ?2",
                      expiration_ms, session_id, NULL);
}

int gw_store_admin_session_end(struct gw_store *st, const char *session_id)
{
    return exec_write(st, "UPDATE admin_token SET is_revoked = 1 WHERE jti = ?2", 0, session_id,
                      NULL);
}

int gw_store_admin_ping(struct gw_store *st)
{
    int rc = gw_store_tx_begin(st);

    return gw_store_tx_end(st, rc != 0 ? rc : -EAGAIN) == -EAGAIN ? 0 : -EIO;
}

/* ---- devices ----------------------------------------------------------------------------- */

static void device_row(sqlite3_stmt *s, struct gw_api_device *d)
{
    memset(d, 0, sizeof(*d));
    d->id = sqlite3_column_int64(s, 0);
    d->uuid = col_text(s, 1);
    d->name = col_text(s, 2);
    d->label = col_text(s, 3);
    d->profile_name = col_text(s, 4);
    d->profile_uuid = col_text(s, 5);
    d->profile_transport = col_text(s, 6);
    d->additional_info = col_text(s, 7);
    d->transport_json = col_text(s, 8);
    d->created_ms = sqlite3_column_int64(s, 9);
    d->last_activity_ms = sqlite3_column_int64(s, 10);
    d->is_active = sqlite3_column_int(s, 11) != 0;
}

static const char *sort_column(enum gw_api_sort sort)
{
    switch (sort) {
    case GW_API_SORT_NAME:
        return "name";
    case GW_API_SORT_LABEL:
        return "label";
    case GW_API_SORT_TYPE:
        return "profile_name";
    case GW_API_SORT_CREATED:
        break;
    }
    return "created_ms";
}

/* Binds the query's filter parameters (?1 .. ?6); ?7 and ?8 are LIMIT and OFFSET. */
static void bind_query(sqlite3_stmt *s, const struct gw_api_device_query *q)
{
    (void)sqlite3_bind_int64(s, 1, q->now_ms);
    (void)sqlite3_bind_int64(s, 2, q->default_inactivity_ms);
    bind_text_or_null(s, 3, q->text_search);
    bind_text_or_null(s, 4, q->type);
    bind_text_or_null(s, 5, q->profile_uuid);
    if (q->active >= 0) {
        (void)sqlite3_bind_int(s, 6, q->active);
    }
}

static int device_count(struct gw_store *st, const char *where, const struct gw_api_device_query *q,
                        int64_t *total)
{
    sqlite3_stmt *s = NULL;
    char sql[2048];
    int rc;

    (void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM (" DEVICE_SELECT ") WHERE %s", where);
    rc = prepare(st, sql, &s);
    if (rc == 0) {
        bind_query(s, q);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *total = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_device_page(struct gw_store *st, const struct gw_api_device_query *q,
                             int64_t *total, gw_store_api_device_fn fn, void *arg)
{
    static const char where_name[] =
        "(?3 IS NULL OR instr(lower(name), lower(?3)) > 0 OR"
        " instr(lower(COALESCE(label, '')), lower(?3)) > 0%s) AND (?4 IS NULL OR profile_name = ?4)"
        " AND (?5 IS NULL OR profile_uuid = ?5) AND (?6 IS NULL OR active = ?6)";
    struct gw_api_device d;
    sqlite3_stmt *s = NULL;
    char where[512], sql[3072];
    int rc;

    (void)snprintf(where, sizeof(where), where_name,
                   q->is_search_type ? " OR instr(lower(profile_name), lower(?3)) > 0" : "");
    rc = device_count(st, where, q, total);
    if (rc != 0 || *total <= q->page * q->page_size) {
        return rc;
    }
    (void)snprintf(sql, sizeof(sql),
                   "SELECT * FROM (" DEVICE_SELECT ") WHERE %s ORDER BY %s %s, created_ms, id"
                   " LIMIT ?7 OFFSET ?8",
                   where, sort_column(q->sort), q->is_desc ? "DESC" : "ASC");
    rc = prepare(st, sql, &s);
    if (rc != 0) {
        return rc;
    }
    bind_query(s, q);
    (void)sqlite3_bind_int64(s, 7, q->page_size);
    (void)sqlite3_bind_int64(s, 8, q->page * q->page_size);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        device_row(s, &d);
        rc = fn(arg, &d);
        if (rc != 0) {
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_device_get(struct gw_store *st, const char *uuid, const char *name, int64_t now_ms,
                            int64_t default_inactivity_ms, gw_store_api_device_fn fn, void *arg)
{
    struct gw_api_device d;
    sqlite3_stmt *s = NULL;
    int rc;

    rc = prepare(st, DEVICE_SELECT " WHERE d.uuid = ?3 OR d.name = ?4", &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, now_ms);
    (void)sqlite3_bind_int64(s, 2, default_inactivity_ms);
    bind_text_or_null(s, 3, uuid);
    bind_text_or_null(s, 4, uuid == NULL ? name : NULL);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        device_row(s, &d);
        rc = fn(arg, &d);
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Looks up one int64 by a text key (?1, may be NULL); -ENOENT when there is no row. */
static int lookup_id(struct gw_store *st, const char *sql, const char *key, int64_t *id)
{
    sqlite3_stmt *s = NULL;
    int rc = prepare(st, sql, &s);

    if (rc == 0) {
        bind_text_or_null(s, 1, key);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(s, 0);
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_device_id(struct gw_store *st, const char *uuid, int64_t *id)
{
    return lookup_id(st, "SELECT id FROM device WHERE uuid = ?1", uuid, id);
}

/* The profile of a saved device: by uuid, by name (created when missing), or the default. */
static int resolve_profile(struct gw_store *st, const struct gw_api_device_in *in, int64_t now_ms,
                           int64_t *profile_id, enum gw_api_fail *fail)
{
    char uuid[GW_STORE_UUID_LEN];
    sqlite3_stmt *s = NULL;
    int rc;

    if (in->profile_uuid != NULL) {
        rc = lookup_id(st, "SELECT id FROM device_profile WHERE uuid = ?1", in->profile_uuid,
                       profile_id);
        *fail = rc == -ENOENT ? GW_API_NO_PROFILE : GW_API_OK;
        return rc;
    }
    if (in->type == NULL) {
        return lookup_id(st, "SELECT id FROM device_profile WHERE is_default = 1", NULL,
                         profile_id);
    }
    rc = lookup_id(st, "SELECT id FROM device_profile WHERE name = ?1", in->type, profile_id);
    if (rc != -ENOENT) {
        return rc;
    }
    rc = prepare(st,
                 "INSERT INTO device_profile (uuid, name, profile_json, created_ms, updated_ms)"
                 " VALUES (?1, ?2, json_set(?3, '$.name', ?2), ?4, ?4)",
                 &s);
    if (rc == 0) {
        gw_store_uuid_v4(uuid);
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 2, in->type, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 3, TYPE_PROFILE_JSON, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 4, now_ms);
        rc = step_write(st, s);
        *profile_id = sqlite3_last_insert_rowid(st->db);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Binds the device columns shared by INSERT and UPDATE: ?2 name .. ?6 power, ?7 profile id. */
static void bind_device(sqlite3_stmt *s, const struct gw_api_device_in *in, int64_t profile_id)
{
    (void)sqlite3_bind_text(s, 2, in->name, -1, SQLITE_STATIC);
    bind_text_or_null(s, 3, in->label);
    bind_text_or_null(s, 4, in->additional_info);
    bind_text_or_null(s, 5, in->transport_json);
    (void)sqlite3_bind_int64(s, 6, profile_id);
}

/* Gives a new device its ACCESS_TOKEN credential. */
static int credentials_insert(struct gw_store *st, int64_t device_id, const char *token,
                              int64_t now_ms)
{
    char uuid[GW_STORE_UUID_LEN];
    sqlite3_stmt *s = NULL;
    int rc = prepare(st,
                     "INSERT INTO credentials (uuid, device_id, type, credentials_id, created_ms)"
                     " VALUES (?1, ?2, 'ACCESS_TOKEN', ?3, ?4)",
                     &s);

    if (rc == 0) {
        gw_store_uuid_v4(uuid);
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, device_id);
        (void)sqlite3_bind_text(s, 3, token, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 4, now_ms);
        rc = step_write(st, s);
    }
    sqlite3_finalize(s);
    return rc;
}

static int device_insert(struct gw_store *st, const struct gw_api_device_in *in, int64_t profile_id,
                         int64_t now_ms, char *uuid, enum gw_api_fail *fail)
{
    char token[GW_STORE_TOKEN_MAX];
    sqlite3_stmt *s = NULL;
    int64_t id;
    int rc;

    rc = prepare(st,
                 "INSERT INTO device (uuid, name, label, additional_info, power_json, profile_id,"
                 " type, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                 " (SELECT name FROM device_profile WHERE id = ?6), ?7)",
                 &s);
    if (rc != 0) {
        return rc;
    }
    gw_store_uuid_v4(uuid);
    (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
    bind_device(s, in, profile_id);
    (void)sqlite3_bind_int64(s, 7, now_ms);
    rc = step_write(st, s);
    sqlite3_finalize(s);
    if (rc != 0) {
        *fail = rc == -EEXIST ? GW_API_NAME_TAKEN : GW_API_OK;
        return rc;
    }
    id = sqlite3_last_insert_rowid(st->db);
    if (in->access_token == NULL) {
        gw_store_random_token(token, 20);
    } else {
        (void)snprintf(token, sizeof(token), "%s", in->access_token);
    }
    rc = credentials_insert(st, id, token, now_ms);
    *fail = rc == -EEXIST ? GW_API_TOKEN_TAKEN : GW_API_OK;
    return rc;
}

static int device_update(struct gw_store *st, const struct gw_api_device_in *in, int64_t profile_id,
                         enum gw_api_fail *fail)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = prepare(st,
                 "UPDATE device SET name = ?2, label = ?3, additional_info = ?4, power_json = ?5,"
                 " profile_id = ?6, type = (SELECT name FROM device_profile WHERE id = ?6)"
                 " WHERE uuid = ?1",
                 &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, in->uuid, -1, SQLITE_STATIC);
    bind_device(s, in, profile_id);
    rc = step_write(st, s);
    if (rc == 0 && sqlite3_changes(st->db) == 0) {
        rc = -ENOENT;
    }
    *fail = rc == -EEXIST ? GW_API_NAME_TAKEN : rc == -ENOENT ? GW_API_NO_DEVICE : GW_API_OK;
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_device_save(struct gw_store *st, const struct gw_api_device_in *in, int64_t now_ms,
                             char uuid_out[GW_STORE_UUID_LEN], enum gw_api_fail *fail)
{
    int64_t profile_id = 0;
    int rc;

    *fail = GW_API_OK;
    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = resolve_profile(st, in, now_ms, &profile_id, fail);
    }
    if (rc == 0 && in->uuid == NULL) {
        rc = device_insert(st, in, profile_id, now_ms, uuid_out, fail);
    } else if (rc == 0) {
        rc = device_update(st, in, profile_id, fail);
        (void)snprintf(uuid_out, GW_STORE_UUID_LEN, "%s", in->uuid);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_api_device_delete(struct gw_store *st, const char *uuid)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = prepare(st, "DELETE FROM device WHERE uuid = ?1", &s);
    }
    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
        rc = step_write(st, s);
    }
    if (rc == 0 && sqlite3_changes(st->db) == 0) {
        rc = -ENOENT;
    }
    sqlite3_finalize(s);
    return gw_store_tx_end(st, rc);
}

/* ---- credentials ------------------------------------------------------------------------- */

int gw_store_api_credentials_get(struct gw_store *st, const char *device_uuid,
                                 int (*fn)(void *arg, const struct gw_api_credentials *c),
                                 void *arg)
{
    struct gw_api_credentials c;
    sqlite3_stmt *s = NULL;
    int rc;

    rc = prepare(st,
                 "SELECT c.uuid, d.uuid, c.type, c.credentials_id, c.value, c.created_ms"
                 " FROM credentials c JOIN device d ON d.id = c.device_id WHERE d.uuid = ?1",
                 &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, device_uuid, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        c.uuid = col_text(s, 0);
        c.device_uuid = col_text(s, 1);
        c.type = col_text(s, 2);
        c.credentials_id = col_text(s, 3);
        c.value = col_text(s, 4);
        c.created_ms = sqlite3_column_int64(s, 5);
        rc = fn(arg, &c);
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_credentials_set(struct gw_store *st, const char *device_uuid, const char *type,
                                 const char *credentials_id, const char *value, int64_t now_ms,
                                 enum gw_api_fail *fail)
{
    char uuid[GW_STORE_UUID_LEN];
    sqlite3_stmt *s = NULL;
    int64_t id = 0;
    int rc;

    *fail = GW_API_OK;
    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = gw_store_api_device_id(st, device_uuid, &id);
        *fail = rc == -ENOENT ? GW_API_NO_DEVICE : GW_API_OK;
    }
    if (rc == 0) {
        rc = prepare(st,
                     "INSERT INTO credentials (uuid, device_id, type, credentials_id, value,"
                     " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (device_id) DO"
                     " UPDATE SET type = excluded.type, credentials_id = excluded.credentials_id,"
                     " value = excluded.value",
                     &s);
    }
    if (rc == 0) {
        gw_store_uuid_v4(uuid);
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, id);
        (void)sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 4, credentials_id, -1, SQLITE_STATIC);
        bind_text_or_null(s, 5, value);
        (void)sqlite3_bind_int64(s, 6, now_ms);
        rc = step_write(st, s);
        *fail = rc == -EEXIST ? GW_API_TOKEN_TAKEN : GW_API_OK;
    }
    sqlite3_finalize(s);
    return gw_store_tx_end(st, rc);
}

/* ---- time series ------------------------------------------------------------------------- */

int gw_store_api_ts_history(struct gw_store *st, int64_t device_id, const char *key,
                            int64_t start_ms, int64_t end_ms, int64_t limit, bool is_asc,
                            gw_store_kv_fn fn, void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = prepare(st,
                 is_asc ? "SELECT key, ts_ms, type, v_long, v_double, v_str FROM ts_kv"
                          " WHERE device_id = ?1 AND key = ?2 AND ts_ms >= ?3 AND ts_ms < ?4"
                          " ORDER BY ts_ms ASC LIMIT ?5"
                        : "SELECT key, ts_ms, type, v_long, v_double, v_str FROM ts_kv"
                          " WHERE device_id = ?1 AND key = ?2 AND ts_ms >= ?3 AND ts_ms < ?4"
                          " ORDER BY ts_ms DESC LIMIT ?5",
                 &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, device_id);
    (void)sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 3, start_ms);
    (void)sqlite3_bind_int64(s, 4, end_ms);
    (void)sqlite3_bind_int64(s, 5, limit);
    rc = gw_store_walk_kv(s, -1, fn, arg);
    sqlite3_finalize(s);
    return rc;
}
