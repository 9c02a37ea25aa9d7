/* SPDX-License-Identifier: MIT */
/*
 * gw_store_api_profile.c - device profiles as the admin API addresses them: by uuid, in pages
 * with a name search and ThingsBoard's sort properties, renamed (the devices' "type" follows,
 * as in ThingsBoard), and the OTA packages a profile assigns (specs/rest-api.md 5.3, 6a.6).
 * Saving, deleting and the default flag are gw_store_profile.c's (by name); the API resolves a
 * uuid to the name first.
 *
 * Sorting splices a column name chosen from a constant table into the SQL; every value from a
 * request is a bound parameter.
 * Thread: the admin threads, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

#define PROFILE_SELECT                                                                             \
    "SELECT p.id, p.uuid, p.name, p.is_default, p.created_ms, p.profile_json,"                     \
    " (SELECT o.uuid FROM ota_package o WHERE o.id = p.fw_package_id),"                            \
    " (SELECT o.uuid FROM ota_package o WHERE o.id = p.sw_package_id),"                            \
    " COALESCE(json_extract(p.profile_json, '$.transportType'), 'DEFAULT') AS transport,"          \
    " json_extract(p.profile_json, '$.description') AS description,"                               \
    " (SELECT count(*) FROM device d WHERE d.profile_id = p.id), p.coap_device_type"               \
    " FROM device_profile p "

static int walk_profiles(sqlite3_stmt *s, int (*fn)(void *arg, const struct gw_api_profile *p),
                         void *arg, bool *is_found)
{
    struct gw_api_profile p;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&p, 0, sizeof(p));
        p.id = sqlite3_column_int64(s, 0);
        p.uuid = gw_store_col_text(s, 1);
        p.name = gw_store_col_text(s, 2);
        p.is_default = sqlite3_column_int(s, 3) != 0;
        p.created_ms = sqlite3_column_int64(s, 4);
        p.json = gw_store_col_text(s, 5);
        p.fw_uuid = gw_store_col_text(s, 6);
        p.sw_uuid = gw_store_col_text(s, 7);
        p.transport = gw_store_col_text(s, 8);
        p.n_devices = sqlite3_column_int64(s, 10);
        p.is_efento =
            gw_store_col_text(s, 11) != NULL && strcmp(gw_store_col_text(s, 11), "EFENTO") == 0;
        *is_found = true;
        rc = fn(arg, &p);
        if (rc != 0) {
            return rc;
        }
    }
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int gw_store_api_profile_get(struct gw_store *st, const char *uuid, const char *name,
                             int (*fn)(void *arg, const struct gw_api_profile *p), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    int rc = gw_store_prepare(st,
                              PROFILE_SELECT
                              "WHERE (?1 IS NOT NULL AND p.uuid = ?1) OR (?2 IS NOT NULL AND"
                              " p.name = ?2) OR (?1 IS NULL AND ?2 IS NULL AND"
                              " p.is_default = 1)",
                              &s);

    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, uuid);
        gw_store_bind_text_or_null(s, 2, uuid == NULL ? name : NULL);
        rc = walk_profiles(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc == 0 && !is_found ? -ENOENT : rc;
}

static const char *sort_column(enum gw_api_profile_sort sort)
{
    switch (sort) {
    case GW_API_PSORT_NAME:
        return "p.name";
    case GW_API_PSORT_TRANSPORT:
        return "transport";
    case GW_API_PSORT_DESCRIPTION:
        return "description";
    case GW_API_PSORT_DEFAULT:
        return "p.is_default";
    case GW_API_PSORT_CREATED:
        break;
    }
    return "p.created_ms";
}

static int profile_count(struct gw_store *st, const struct gw_api_profile_query *q, int64_t *total)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
        "SELECT count(*) FROM device_profile p WHERE (?1 IS NULL OR"
        " instr(lower(p.name), lower(?1)) > 0) AND (?2 IS NULL OR"
        " COALESCE(json_extract(p.profile_json, '$.transportType'), 'DEFAULT') = ?2)",
        &s);

    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, q->text_search);
        gw_store_bind_text_or_null(s, 2, q->transport);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *total = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_profile_page(struct gw_store *st, const struct gw_api_profile_query *q,
                              int64_t *total, int (*fn)(void *arg, const struct gw_api_profile *p),
                              void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    char sql[2048];
    int rc = profile_count(st, q, total);

    if (rc != 0 || *total <= q->page * q->page_size) {
        return rc;
    }
    (void)snprintf(sql, sizeof(sql),
                   PROFILE_SELECT "WHERE (?1 IS NULL OR instr(lower(p.name), lower(?1)) > 0) AND"
                                  " (?2 IS NULL OR transport = ?2) ORDER BY %s %s, p.created_ms,"
                                  " p.id LIMIT ?3 OFFSET ?4",
                   sort_column(q->sort), q->is_desc ? "DESC" : "ASC");
    rc = gw_store_prepare(st, sql, &s);
    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, q->text_search);
        gw_store_bind_text_or_null(s, 2, q->transport);
        (void)sqlite3_bind_int64(s, 3, q->page_size);
        (void)sqlite3_bind_int64(s, 4, q->page * q->page_size);
        rc = walk_profiles(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Runs one write with ?1 text and ?2 text. Returns: changes, -EEXIST, -EIO. */
static int exec2(struct gw_store *st, const char *sql, const char *a, const char *b)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, sql, &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 2, b, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) {
            rc = sqlite3_changes(st->db);
        } else {
            rc = sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_profile_rename(struct gw_store *st, const char *uuid, const char *name,
                                int64_t now_ms)
{
    char now[24];
    int rc;

    (void)snprintf(now, sizeof(now), "%lld", (long long)now_ms);
    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = exec2(st,
                   "UPDATE device_profile SET name = ?2, profile_json = json_set(profile_json,"
                   " '$.name', ?2) WHERE uuid = ?1",
                   uuid, name);
        rc = rc == 0 ? -ENOENT : rc < 0 ? rc : 0;
    }
    if (rc == 0) {
        rc = exec2(st,
                   "UPDATE device SET type = ?2 WHERE profile_id = (SELECT id FROM device_profile"
                   " WHERE uuid = ?1)",
                   uuid, name);
        rc = rc < 0 ? rc : 0;
    }
    if (rc == 0) {
        rc = exec2(st, "UPDATE device_profile SET updated_ms = CAST(?2 AS INTEGER) WHERE uuid = ?1",
                   uuid, now);
        rc = rc < 0 ? rc : 0;
    }
    return gw_store_tx_end(st, rc);
}
