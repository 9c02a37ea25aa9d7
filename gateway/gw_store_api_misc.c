/* SPDX-License-Identifier: MIT */
/*
 * gw_store_api_misc.c - the store's side of nbgate's own admin routes (specs/rest-api.md 9):
 * a device's label; a device's event log in pages with a
 * time range and a type filter; and the counts GET /metrics reports (downlinks by kind and
 * state, pending devices, stored records, event types).
 *
 * Pending devices live in gw_store_pending.c. Every value from a request is a bound parameter;
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
    rc = rc == 0
             ? walk_groups(st, "SELECT NULL, NULL, count(*) FROM pending_device WHERE blocked = 0",
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
