/* SPDX-License-Identifier: MIT */
/*
 * gw_store_api_ts.c - time series and attribute writes of the admin API (specs/rest-api.md 6.3,
 * 6.6, 6.8): saving telemetry (which, unlike a device's upload, is not device activity),
 * deleting series over a range with ThingsBoard's latest-value rules, deleting server or client
 * attributes, raw history reads, and aggregated reads (one row per non-empty bucket, computed
 * by SQLite).
 * Shared attributes are not written here: they go through gw_store_shared_update() so that the
 * device is notified.
 * Thread: the admin threads, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

int gw_store_api_ts_save(struct gw_store *st, int64_t device_id, const struct profile_batch *batch)
{
    size_t i;
    int k, rc;

    rc = gw_store_tx_begin(st);
    for (i = 0; rc == 0 && i < batch->n; i++) {
        const struct profile_kv *kv = &batch->kv[i];
        for (k = S_TS_INSERT; rc == 0 && k <= S_TS_LATEST; k++) {
            sqlite3_stmt *s = st->stmt[k];
            (void)sqlite3_bind_int64(s, 1, device_id);
            (void)sqlite3_bind_text(s, 2, kv->key, -1, SQLITE_STATIC);
            (void)sqlite3_bind_int64(s, 3, kv->ts_ms);
            gw_store_bind_value(s, 4, &kv->v);
            rc = gw_store_step_done(st, s);
        }
    }
    return gw_store_tx_end(st, rc);
}

/* Runs sql once with ?1 device, ?2 key, ?3 start, ?4 end. Returns: changes, or -EIO. */
static int exec_range(struct gw_store *st, const char *sql, int64_t device_id, const char *key,
                      int64_t start_ms, int64_t end_ms)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, sql, &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 3, start_ms);
        (void)sqlite3_bind_int64(s, 4, end_ms);
        rc = sqlite3_step(s) == SQLITE_DONE ? sqlite3_changes(st->db) : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Deletes one key's values in [start, end) and applies the latest-value rules. */
static int ts_delete_key(struct gw_store *st, int64_t device_id, const char *key,
                         const struct gw_api_ts_delete *d)
{
    int rc, n_latest = 0;

    rc = exec_range(st,
                    "DELETE FROM ts_kv WHERE device_id = ?1 AND key = ?2 AND ts_ms >= ?3 AND"
                    " ts_ms < ?4",
                    device_id, key, d->start_ms, d->end_ms);
    if (rc >= 0 && d->is_delete_latest) {
        n_latest = exec_range(st,
                              "DELETE FROM ts_kv_latest WHERE device_id = ?1 AND key = ?2 AND"
                              " ts_ms >= ?3 AND ts_ms < ?4",
                              device_id, key, d->start_ms, d->end_ms);
        rc = n_latest;
    }
    if (rc >= 0 && n_latest > 0 && d->is_rewrite_latest) {
        rc = exec_range(st,
                        "INSERT INTO ts_kv_latest (device_id, key, ts_ms, type, v_long, v_double,"
                        " v_str) SELECT device_id, key, ts_ms, type, v_long, v_double, v_str"
                        " FROM ts_kv WHERE device_id = ?1 AND key = ?2 AND ts_ms < ?3 AND ?4 = ?4"
                        " ORDER BY ts_ms DESC LIMIT 1",
                        device_id, key, d->start_ms, d->end_ms);
    }
    return rc < 0 ? rc : 0;
}

int gw_store_api_ts_delete(struct gw_store *st, int64_t device_id, const char *const *keys,
                           size_t n_keys, const struct gw_api_ts_delete *d)
{
    size_t i;
    int rc = gw_store_tx_begin(st);

    for (i = 0; rc == 0 && i < n_keys; i++) {
        rc = ts_delete_key(st, device_id, keys[i], d);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_api_attr_delete(struct gw_store *st, int64_t device_id, enum gw_attr_scope scope,
                             const char *const *keys, size_t n_keys)
{
    size_t i;
    int rc = gw_store_tx_begin(st);

    for (i = 0; rc == 0 && i < n_keys; i++) {
        rc = gw_store_attribute_delete(st, device_id, scope, keys[i]);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_api_ts_history(struct gw_store *st, int64_t device_id, const char *key,
                            int64_t start_ms, int64_t end_ms, int64_t limit, bool is_asc,
                            gw_store_kv_fn fn, void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = gw_store_prepare(st,
                          is_asc
                              ? "SELECT key, ts_ms, type, v_long, v_double, v_str FROM ts_kv"
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

/* ---- aggregation ------------------------------------------------------------------------- */

#define NUM "CASE type WHEN 2 THEN v_long WHEN 3 THEN v_double END"

static void bucket_row(sqlite3_stmt *s, const struct gw_api_ts_agg_query *q,
                       struct gw_api_ts_bucket *b)
{
    int64_t k = sqlite3_column_int64(s, 0);

    memset(b, 0, sizeof(*b));
    b->start_ms = q->start_ms + k * q->interval_ms;
    b->end_ms = q->end_ms - b->start_ms < q->interval_ms ? q->end_ms : b->start_ms + q->interval_ms;
    b->count = sqlite3_column_int64(s, 1);
    b->n_long = sqlite3_column_int64(s, 2);
    b->n_numeric = b->n_long + sqlite3_column_int64(s, 3);
    b->is_all_long = b->n_numeric > 0 && b->n_long == b->n_numeric;
    if (b->is_all_long) {
        b->min_l = sqlite3_column_int64(s, 4);
        b->max_l = sqlite3_column_int64(s, 5);
        b->sum_l = sqlite3_column_int64(s, 7);
    }
    b->min_d = sqlite3_column_double(s, 4);
    b->max_d = sqlite3_column_double(s, 5);
    b->sum_d = sqlite3_column_double(s, 6);
    b->min_s = (const char *)sqlite3_column_text(s, 8);
    b->max_s = (const char *)sqlite3_column_text(s, 9);
}

int gw_store_api_ts_agg(struct gw_store *st, const struct gw_api_ts_agg_query *q,
                        int (*fn)(void *arg, const struct gw_api_ts_bucket *b), void *arg)
{
    struct gw_api_ts_bucket b;
    sqlite3_stmt *s = NULL;
    int rc;

    if (q->interval_ms <= 0 || q->end_ms <= q->start_ms) {
        return q->interval_ms <= 0 ? -EINVAL : 0;
    }
    rc = gw_store_prepare(
        st,
        "SELECT (ts_ms - ?3) / ?5 AS b, count(*), sum(type = 2), sum(type = 3),"
        " min(" NUM "), max(" NUM "), total(" NUM "), sum(CASE type WHEN 2 THEN v_long"
        " END), min(CASE type WHEN 4 THEN v_str END), max(CASE type WHEN 4 THEN v_str"
        " END) FROM ts_kv WHERE device_id = ?1 AND key = ?2 AND ts_ms >= ?3 AND"
        " ts_ms < ?4 GROUP BY b ORDER BY b",
        &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, q->device_id);
    (void)sqlite3_bind_text(s, 2, q->key, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 3, q->start_ms);
    (void)sqlite3_bind_int64(s, 4, q->end_ms);
    (void)sqlite3_bind_int64(s, 5, q->interval_ms);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        bucket_row(s, q, &b);
        rc = fn(arg, &b);
        if (rc != 0) {
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(s);
    return rc;
}
