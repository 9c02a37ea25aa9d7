/* SPDX-License-Identifier: MIT */
/*
 * gw_store_admin.c - the store's side of the admin JSON API (web/): devices and credentials in
 * the shapes the API answers with, and one line of a bulk import (device, credential and values
 * in one transaction). Accounts are in gw_store_accounts.c; the other API resources have their
 * own gw_store_api_*.c and gw_store_rpc.c files.
 *
 * The admin API is low-rate, so these statements are prepared per call, not at open. Every value
 * from a request reaches SQLite as a bound parameter; the only text spliced into SQL is chosen
 * from constant fragments (the sort column and direction). A device listing is one query over a
 * sub-select that computes each device's activity (ThingsBoard's rule, the GW_STORE_SQL_TIMEOUT
 * and GW_STORE_SQL_IS_ACTIVE fragments that gw_store_device_list() and the fleet view share), so
 * the `active` filter, the page and the total agree.
 * Thread: the admin threads and the command line, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
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
    " d.last_activity_ms AS last_ms, " GW_STORE_SQL_IS_ACTIVE(                                     \
        "d.last_activity_ms", "?1",                                                                \
        GW_STORE_SQL_TIMEOUT(                                                                      \
            GW_STORE_SQL_TIMEOUT_DEVICE, GW_STORE_SQL_TIMEOUT_PROFILE,                             \
            "?2")) " AS active,"                                                                   \
                   " (SELECT o.uuid FROM ota_package o WHERE o.id = d.fw_package_id) AS fw_uuid,"  \
                   " (SELECT o.uuid FROM ota_package o WHERE o.id = d.sw_package_id) AS sw_uuid,"  \
                   " d.reachability AS reachability FROM device d JOIN device_profile p ON p.id "  \
                   "= d.profile_id"

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

/* ---- devices ----------------------------------------------------------------------------- */

static void device_row(sqlite3_stmt *s, struct gw_api_device *d)
{
    memset(d, 0, sizeof(*d));
    d->id = sqlite3_column_int64(s, 0);
    d->uuid = gw_store_col_text(s, 1);
    d->name = gw_store_col_text(s, 2);
    d->label = gw_store_col_text(s, 3);
    d->profile_name = gw_store_col_text(s, 4);
    d->profile_uuid = gw_store_col_text(s, 5);
    d->profile_transport = gw_store_col_text(s, 6);
    d->additional_info = gw_store_col_text(s, 7);
    d->transport_json = gw_store_col_text(s, 8);
    d->created_ms = sqlite3_column_int64(s, 9);
    d->last_activity_ms = sqlite3_column_int64(s, 10);
    d->is_active = sqlite3_column_int(s, 11) != 0;
    d->fw_uuid = gw_store_col_text(s, 12);
    d->sw_uuid = gw_store_col_text(s, 13);
    d->reachability = gw_store_col_text(s, 14);
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
    gw_store_bind_text_or_null(s, 3, q->text_search);
    gw_store_bind_text_or_null(s, 4, q->type);
    gw_store_bind_text_or_null(s, 5, q->profile_uuid);
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
    rc = gw_store_prepare(st, sql, &s);
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
    rc = gw_store_prepare(st, sql, &s);
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

    rc = gw_store_prepare(st, DEVICE_SELECT " WHERE d.uuid = ?3 OR d.name = ?4", &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, now_ms);
    (void)sqlite3_bind_int64(s, 2, default_inactivity_ms);
    gw_store_bind_text_or_null(s, 3, uuid);
    gw_store_bind_text_or_null(s, 4, uuid == NULL ? name : NULL);
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
    int rc = gw_store_prepare(st, sql, &s);

    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, key);
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
    rc = gw_store_prepare(
        st,
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
    gw_store_bind_text_or_null(s, 3, in->label);
    gw_store_bind_text_or_null(s, 4, in->additional_info);
    gw_store_bind_text_or_null(s, 5, in->transport_json);
    (void)sqlite3_bind_int64(s, 6, profile_id);
}

/* Gives a new device its ACCESS_TOKEN credential. */
static int credentials_insert(struct gw_store *st, int64_t device_id, const char *token,
                              int64_t now_ms)
{
    char uuid[GW_STORE_UUID_LEN];
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
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

    rc = gw_store_prepare(
        st,
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

    rc = gw_store_prepare(
        st,
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
        rc = gw_store_prepare(st, "DELETE FROM device WHERE uuid = ?1", &s);
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

    rc = gw_store_prepare(
        st,
        "SELECT c.uuid, d.uuid, c.type, c.credentials_id, c.value, c.created_ms"
        " FROM credentials c JOIN device d ON d.id = c.device_id WHERE d.uuid = ?1",
        &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, device_uuid, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        c.uuid = gw_store_col_text(s, 0);
        c.device_uuid = gw_store_col_text(s, 1);
        c.type = gw_store_col_text(s, 2);
        c.credentials_id = gw_store_col_text(s, 3);
        c.value = gw_store_col_text(s, 4);
        c.created_ms = sqlite3_column_int64(s, 5);
        rc = fn(arg, &c);
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Replaces (or adds) a device's credential inside the caller's transaction. */
static int credentials_upsert(struct gw_store *st, int64_t device_id, const char *type,
                              const char *credentials_id, const char *value, int64_t now_ms,
                              enum gw_api_fail *fail)
{
    char uuid[GW_STORE_UUID_LEN];
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
        "INSERT INTO credentials (uuid, device_id, type, credentials_id, value,"
        " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (device_id) DO"
        " UPDATE SET type = excluded.type, credentials_id = excluded.credentials_id,"
        " value = excluded.value",
        &s);

    if (rc == 0) {
        gw_store_uuid_v4(uuid);
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, device_id);
        (void)sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 4, credentials_id, -1, SQLITE_STATIC);
        gw_store_bind_text_or_null(s, 5, value);
        (void)sqlite3_bind_int64(s, 6, now_ms);
        rc = step_write(st, s);
        *fail = rc == -EEXIST ? GW_API_TOKEN_TAKEN : GW_API_OK;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_credentials_set(struct gw_store *st, const char *device_uuid, const char *type,
                                 const char *credentials_id, const char *value, int64_t now_ms,
                                 enum gw_api_fail *fail)
{
    int64_t id = 0;
    int rc;

    *fail = GW_API_OK;
    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = gw_store_api_device_id(st, device_uuid, &id);
        *fail = rc == -ENOENT ? GW_API_NO_DEVICE : GW_API_OK;
    }
    if (rc == 0) {
        rc = credentials_upsert(st, id, type, credentials_id, value, now_ms, fail);
    }
    return gw_store_tx_end(st, rc);
}

/* ---- bulk import ------------------------------------------------------------------------- */

/* additionalInfo with the line's description and gateway flag merged in; NULL = unchanged. */
static char *merged_info(const char *old, const struct gw_api_import_line *l, int *rc)
{
    json_t *o = old != NULL ? json_loads(old, 0, NULL) : NULL;
    char *text = NULL;

    *rc = 0;
    if (l->description == NULL && l->is_gateway < 0) {
        json_decref(o);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    if (o != NULL && l->description != NULL) {
        (void)json_object_set_new(o, "description", json_string(l->description));
    }
    if (o != NULL && l->is_gateway >= 0) {
        (void)json_object_set_new(o, "gateway", json_boolean(l->is_gateway > 0));
    }
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    *rc = text != NULL ? 0 : -ENOMEM;
    json_decref(o);
    return text;
}

/* The device named l->name: its row id (0 when there is none) and additionalInfo copy. */
static int import_find(struct gw_store *st, const char *name, int64_t *id, char **info)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "SELECT id, additional_info FROM device WHERE name = ?1", &s);

    *id = 0;
    *info = NULL;
    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(s, 0);
            *info = gw_store_col_text(s, 1) != NULL ? strdup(gw_store_col_text(s, 1)) : NULL;
            rc = gw_store_col_text(s, 1) != NULL && *info == NULL ? -ENOMEM : 0;
        } else {
            rc = rc == SQLITE_DONE ? 0 : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

/* Updates the filled cells of an existing device. */
static int import_update(struct gw_store *st, const struct gw_api_import_line *l, int64_t id,
                         const char *info, int64_t now_ms, enum gw_api_fail *fail)
{
    struct gw_api_device_in in = { NULL, l->name, NULL, NULL, l->type, NULL, NULL, NULL };
    sqlite3_stmt *s = NULL;
    int64_t profile_id = 0;
    int rc = 0;

    if (l->type != NULL) {
        rc = resolve_profile(st, &in, now_ms, &profile_id, fail);
    }
    rc = rc == 0
             ? gw_store_prepare(st,
                                "UPDATE device SET profile_id = COALESCE(?2, profile_id), type ="
                                " COALESCE((SELECT name FROM device_profile WHERE id = ?2), type),"
                                " label = COALESCE(?3, label), additional_info = COALESCE(?4,"
                                " additional_info) WHERE id = ?1",
                                &s)
             : rc;
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        if (l->type != NULL) {
            (void)sqlite3_bind_int64(s, 2, profile_id);
        }
        gw_store_bind_text_or_null(s, 3, l->label);
        gw_store_bind_text_or_null(s, 4, info);
        rc = step_write(st, s);
    }
    sqlite3_finalize(s);
    if (rc == 0 && l->cred_type != NULL) {
        rc = credentials_upsert(st, id, l->cred_type, l->cred_id, l->cred_value, now_ms, fail);
    }
    return rc;
}

/* Creates the device of a line (credential: the cell's, else a generated token). */
static int import_create(struct gw_store *st, const struct gw_api_import_line *l, const char *info,
                         int64_t now_ms, int64_t *id, enum gw_api_fail *fail)
{
    struct gw_api_device_in in = { NULL, l->name, l->label, NULL, l->type, info, NULL, NULL };
    char uuid[GW_STORE_UUID_LEN];
    int64_t profile_id = 0;
    bool is_token = l->cred_type != NULL && strcmp(l->cred_type, "ACCESS_TOKEN") == 0;
    int rc;

    in.access_token = is_token ? l->cred_id : NULL;
    rc = resolve_profile(st, &in, now_ms, &profile_id, fail);
    rc = rc == 0 ? device_insert(st, &in, profile_id, now_ms, uuid, fail) : rc;
    rc = rc == 0 ? gw_store_api_device_id(st, uuid, id) : rc;
    if (rc == 0 && l->cred_type != NULL && !is_token) {
        rc = credentials_upsert(st, *id, l->cred_type, l->cred_id, l->cred_value, now_ms, fail);
    }
    return rc;
}

/* Writes the line's server attributes and time series (records of both batches). */
static int import_values(struct gw_store *st, int64_t id, const struct gw_api_import_line *l,
                         int64_t now_ms)
{
    size_t i;
    int k, rc = 0;

    for (i = 0; rc == 0 && l->server != NULL && i < l->server->n; i++) {
        sqlite3_stmt *s = st->stmt[S_ATTR_SAVE];
        (void)sqlite3_bind_int64(s, 1, id);
        (void)sqlite3_bind_int(s, 2, GW_SCOPE_SERVER);
        (void)sqlite3_bind_text(s, 3, l->server->kv[i].key, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 4, now_ms);
        gw_store_bind_value(s, 5, &l->server->kv[i].v);
        rc = gw_store_step_done(st, s);
    }
    for (i = 0; rc == 0 && l->telemetry != NULL && i < l->telemetry->n; i++) {
        for (k = S_TS_INSERT; rc == 0 && k <= S_TS_LATEST; k++) {
            sqlite3_stmt *s = st->stmt[k];
            (void)sqlite3_bind_int64(s, 1, id);
            (void)sqlite3_bind_text(s, 2, l->telemetry->kv[i].key, -1, SQLITE_STATIC);
            (void)sqlite3_bind_int64(s, 3, now_ms);
            gw_store_bind_value(s, 4, &l->telemetry->kv[i].v);
            rc = gw_store_step_done(st, s);
        }
    }
    return rc;
}

int gw_store_api_import_line(struct gw_store *st, const struct gw_api_import_line *l,
                             int64_t now_ms, int64_t *device_id, bool *is_created,
                             enum gw_api_fail *fail)
{
    char *old_info = NULL, *info = NULL;
    int rc;

    *fail = GW_API_OK;
    *is_created = false;
    rc = gw_store_tx_begin(st);
    rc = rc == 0 ? import_find(st, l->name, device_id, &old_info) : rc;
    if (rc == 0) {
        info = merged_info(old_info, l, &rc);
    }
    if (rc == 0 && *device_id == 0) {
        rc = import_create(st, l, info, now_ms, device_id, fail);
        *is_created = rc == 0;
    } else if (rc == 0) {
        rc = import_update(st, l, *device_id, info, now_ms, fail);
    }
    if (rc == 0 && (*is_created || l->is_update_values)) {
        rc = import_values(st, *device_id, l, now_ms);
    }
    free(old_info);
    free(info);
    return gw_store_tx_end(st, rc);
}
