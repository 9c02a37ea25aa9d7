/* SPDX-License-Identifier: MIT */
/*
 * gw_store_api_misc.c - the store's side of nbgate's own admin routes (specs/rest-api.md 9):
 * pending (unknown) devices in pages, one by id, deleted; a device's event log in pages with a
 * time range and a type filter; and the counts GET /metrics reports (downlinks by kind and
 * state, pending devices, stored records, event types).
 *
 * Pending entries are written by the CoAP side (gw_store_efento.c for Efento tokens); this file
 * only reads and deletes them, for every kind. Every value from a request is a bound parameter;
 * only sort columns and directions chosen from constants are spliced into SQL.
 * Thread: the admin threads, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

static int count_of(struct gw_store *st, sqlite3_stmt *s, int64_t *out)
{
    int rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;

    (void)st;
    *out = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    return rc;
}

/* ---- pending devices --------------------------------------------------------------------- */

#define PENDING_SELECT                                                                             \
    "SELECT id, kind, identifier, first_seen_ms, last_seen_ms, seen_count, peer,"                  \
    " CASE WHEN json_valid(last_payload) THEN last_payload END FROM pending_device "
#define PENDING_WHERE                                                                              \
    "WHERE (?1 IS NULL OR instr(lower(identifier), lower(?1)) > 0 OR"                              \
    " instr(lower(COALESCE(json_extract(CASE WHEN json_valid(last_payload) THEN last_payload END," \
    " '$.serial'), '')), lower(?1)) > 0) "

static int walk_pending(sqlite3_stmt *s, int (*fn)(void *arg, const struct gw_api_pending *p),
                        void *arg, bool *is_found)
{
    struct gw_api_pending p;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&p, 0, sizeof(p));
        p.id = sqlite3_column_int64(s, 0);
        p.kind = gw_store_col_text(s, 1);
        p.identifier = gw_store_col_text(s, 2);
        p.first_seen_ms = sqlite3_column_int64(s, 3);
        p.last_seen_ms = sqlite3_column_int64(s, 4);
        p.attempts = sqlite3_column_int64(s, 5);
        p.peer = gw_store_col_text(s, 6);
        p.summary = gw_store_col_text(s, 7);
        *is_found = true;
        rc = fn(arg, &p);
        if (rc != 0) {
            return rc;
        }
    }
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int gw_store_api_pending_page(struct gw_store *st, const struct gw_api_pending_query *q,
                              int64_t *total, int (*fn)(void *arg, const struct gw_api_pending *p),
                              void *arg)
{
    static const char *const cols[] = { "last_seen_ms", "first_seen_ms", "seen_count" };
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    char sql[1024];
    int rc = gw_store_prepare(st, "SELECT count(*) FROM pending_device " PENDING_WHERE, &s);

    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, q->text_search);
        rc = count_of(st, s, total);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != 0 || *total <= q->page * q->page_size) {
        return rc;
    }
    (void)snprintf(sql, sizeof(sql),
                   PENDING_SELECT PENDING_WHERE "ORDER BY %s %s, id LIMIT ?2"
                                                " OFFSET ?3",
                   cols[q->sort >= 0 && q->sort < 3 ? q->sort : 0], q->is_desc ? "DESC" : "ASC");
    rc = gw_store_prepare(st, sql, &s);
    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, q->text_search);
        (void)sqlite3_bind_int64(s, 2, q->page_size);
        (void)sqlite3_bind_int64(s, 3, q->page * q->page_size);
        rc = walk_pending(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_pending_get(struct gw_store *st, int64_t id,
                             int (*fn)(void *arg, const struct gw_api_pending *p), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    int rc = gw_store_prepare(st, PENDING_SELECT "WHERE id = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = walk_pending(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc == 0 && !is_found ? -ENOENT : rc;
}

int gw_store_api_pending_delete(struct gw_store *st, int64_t id)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "DELETE FROM pending_device WHERE id = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        rc = rc == 0 && sqlite3_changes(st->db) == 0 ? -ENOENT : rc;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_device_label(struct gw_store *st, const char *name, const char *label)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "UPDATE device SET label = ?2 WHERE name = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        gw_store_bind_text_or_null(s, 2, label);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        rc = rc == 0 && sqlite3_changes(st->db) == 0 ? -ENOENT : rc;
    }
    sqlite3_finalize(s);
    return rc;
}

/* ---- events ------------------------------------------------------------------------------ */

#define EVENT_WHERE                                                                                \
    "WHERE device_id = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 AND (?4 IS NULL OR type = ?4) "

int gw_store_api_event_page(struct gw_store *st, const struct gw_api_event_query *q, int64_t *total,
                            int (*fn)(void *arg, const struct gw_api_event *e), void *arg)
{
    struct gw_api_event e;
    sqlite3_stmt *s = NULL;
    char sql[512];
    int rc = gw_store_prepare(st, "SELECT count(*) FROM event " EVENT_WHERE, &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, q->device_id);
        (void)sqlite3_bind_int64(s, 2, q->start_ms);
        (void)sqlite3_bind_int64(s, 3, q->end_ms);
        gw_store_bind_text_or_null(s, 4, q->type);
        rc = count_of(st, s, total);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != 0 || *total <= q->page * q->page_size) {
        return rc;
    }
    (void)snprintf(sql, sizeof(sql),
                   "SELECT id, ts_ms, type, body FROM event " EVENT_WHERE
                   "ORDER BY ts_ms %s, id %s LIMIT ?5 OFFSET ?6",
                   q->is_asc ? "ASC" : "DESC", q->is_asc ? "ASC" : "DESC");
    rc = gw_store_prepare(st, sql, &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, q->device_id);
    (void)sqlite3_bind_int64(s, 2, q->start_ms);
    (void)sqlite3_bind_int64(s, 3, q->end_ms);
    gw_store_bind_text_or_null(s, 4, q->type);
    (void)sqlite3_bind_int64(s, 5, q->page_size);
    (void)sqlite3_bind_int64(s, 6, q->page * q->page_size);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        e.id = sqlite3_column_int64(s, 0);
        e.ts_ms = sqlite3_column_int64(s, 1);
        e.type = gw_store_col_text(s, 2);
        e.body = gw_store_col_text(s, 3);
        rc = fn(arg, &e);
        if (rc != 0) {
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(s);
    return rc;
}

/* ---- metrics ----------------------------------------------------------------------------- */

/* Calls fn once per row of a (label, label, count) query. */
static int walk_groups(struct gw_store *st, const char *sql, const char *family,
                       int (*fn)(void *arg, const char *family, const char *a, const char *b,
                                 int64_t value),
                       void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, sql, &s);

    while (rc == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        rc = fn(arg, family, gw_store_col_text(s, 0), gw_store_col_text(s, 1),
                sqlite3_column_int64(s, 2));
    }
    rc = rc == SQLITE_DONE ? 0 : rc;
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_metrics(struct gw_store *st,
                         int (*fn)(void *arg, const char *family, const char *a, const char *b,
                                   int64_t value),
                         void *arg)
{
    int rc;

    rc = walk_groups(st,
                     "SELECT lower(kind), state, count(*) FROM downlink GROUP BY kind, state"
                     " ORDER BY kind, state",
                     "downlinks", fn, arg);
    rc = rc == 0 ? walk_groups(st, "SELECT NULL, NULL, count(*) FROM pending_device",
                               "pending_devices", fn, arg)
                 : rc;
    rc = rc == 0 ? walk_groups(st, "SELECT NULL, NULL, count(*) FROM ts_kv", "ts_records", fn, arg)
                 : rc;
    rc = rc == 0 ? walk_groups(st,
                               "SELECT type, NULL, count(*) FROM event GROUP BY type ORDER BY"
                               " type",
                               "device_events", fn, arg)
                 : rc;
    return rc;
}
