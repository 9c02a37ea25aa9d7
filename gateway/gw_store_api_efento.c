/* SPDX-License-Identifier: MIT */
/*
 * gw_store_api_efento.c - the SQL of the admin API's Efento settings queue (gw_store.h, section
 * "admin API: Efento settings"; specs/rest-api.md 9.4): the Efento check of a device, one page of
 * a device's EFENTO_CONFIG entries, one entry, an entry's expiry, and cancelling a QUEUED entry.
 * Entries are queued with gw_store_efento_queue() (gw_store_efento.c), as `nbgate efento set`
 * does. Called by web/web_efento.c from the admin server's threads, each with its own connection.
 *
 * An entry is a downlink row of kind EFENTO_CONFIG: body = the settings JSON, sent_ms = last send,
 * completed_ms = when it ended, response = what the sensor's confirmation said (JSON or NULL).
 * A cancelled entry is deleted, with a DOWNLINK event in the device's log.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

#define ENTRY_COLUMNS                                                                              \
    "SELECT r.id, r.uuid, d.uuid, r.state, r.created_ms, r.expiration_ms, r.retries + (r.state IN" \
    " ('SENT','DELIVERED','SUCCESSFUL')), r.sent_ms, r.completed_ms, r.body, r.response"           \
    " FROM downlink r JOIN device d ON d.id = r.device_id "

static enum gw_dl_state state_of(const char *t)
{
    enum gw_dl_state st;

    for (st = GW_DL_QUEUED; st <= GW_DL_FAILED; st++) {
        if (t != NULL && strcmp(t, gw_dl_state_name(st)) == 0) {
            return st;
        }
    }
    return GW_DL_FAILED;
}

/* Calls fn for each row of s (ENTRY_COLUMNS). Returns: 0, -EIO, fn's value. */
static int walk(sqlite3_stmt *s, int (*fn)(void *arg, const struct gw_api_efento_entry *e),
                void *arg, bool *is_found)
{
    struct gw_api_efento_entry e;
    int rc = 0, step;

    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&e, 0, sizeof(e));
        e.id = sqlite3_column_int64(s, 0);
        e.uuid = gw_store_col_text(s, 1);
        e.device_uuid = gw_store_col_text(s, 2);
        e.state = state_of(gw_store_col_text(s, 3));
        e.created_ms = sqlite3_column_int64(s, 4);
        e.expiration_ms = sqlite3_column_int64(s, 5);
        e.send_count = sqlite3_column_int64(s, 6);
        e.sent_ms = sqlite3_column_int64(s, 7);
        e.done_ms = sqlite3_column_int64(s, 8);
        e.settings = gw_store_col_text(s, 9);
        e.response = gw_store_col_text(s, 10);
        *is_found = true;
        rc = fn(arg, &e);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = -EIO;
    }
    return rc;
}

int gw_store_api_efento_check(struct gw_store *st, int64_t device_id)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
        "SELECT p.coap_device_type = 'EFENTO' FROM device d LEFT JOIN device_profile p"
        " ON p.id = d.profile_id WHERE d.id = ?1",
        &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            rc = sqlite3_column_int(s, 0) == 1 ? 0 : -EINVAL;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_efento_page(struct gw_store *st, const struct gw_api_efento_query *q,
                             int64_t *total,
                             int (*fn)(void *arg, const struct gw_api_efento_entry *e), void *arg)
{
    static const char where[] =
        "WHERE r.kind = 'EFENTO_CONFIG' AND r.device_id = ?1 AND (?2 IS NULL OR r.state = ?2)";
    const char *state = q->state != 0 ? gw_dl_state_name(q->state) : NULL;
    sqlite3_stmt *s = NULL;
    char sql[1024];
    bool is_found = false;
    int rc;

    (void)snprintf(sql, sizeof(sql), "SELECT count(*) FROM downlink r %s", where);
    rc = gw_store_prepare(st, sql, &s);
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, q->device_id);
        (void)sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *total = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != 0 || *total <= q->page * q->page_size) {
        goto out;
    }
    (void)snprintf(sql, sizeof(sql),
                   ENTRY_COLUMNS "%s ORDER BY r.created_ms %s, r.id %s"
                                 " LIMIT ?3 OFFSET ?4",
                   where, q->is_desc ? "DESC" : "ASC", q->is_desc ? "DESC" : "ASC");
    rc = gw_store_prepare(st, sql, &s);
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, q->device_id);
        (void)sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 3, q->page_size);
        (void)sqlite3_bind_int64(s, 4, q->page * q->page_size);
        rc = walk(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
out:
    return rc;
}

int gw_store_api_efento_get(struct gw_store *st, int64_t id,
                            int (*fn)(void *arg, const struct gw_api_efento_entry *e), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    int rc = gw_store_prepare(st, ENTRY_COLUMNS "WHERE r.kind = 'EFENTO_CONFIG' AND r.id = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = walk(s, fn, arg, &is_found);
        rc = rc == 0 && !is_found ? -ENOENT : rc;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_efento_expiry(struct gw_store *st, int64_t id, int64_t expiration_ms)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              "UPDATE downlink SET expiration_ms = ?2 WHERE kind = 'EFENTO_CONFIG'"
                              " AND id = ?1 AND state = 'QUEUED'",
                              &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        (void)sqlite3_bind_int64(s, 2, expiration_ms);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        rc = rc == 0 && sqlite3_changes(st->db) == 0 ? -ENOENT : rc;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Reads the entry's row id and state. Returns: 0, -ENOENT, -EIO. */
static int entry_state(struct gw_store *st, int64_t device_id, const char *uuid, int64_t *id,
                       enum gw_dl_state *state)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              "SELECT id, state FROM downlink WHERE kind = 'EFENTO_CONFIG'"
                              " AND device_id = ?1 AND uuid = ?2",
                              &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, uuid, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(s, 0);
            *state = state_of(gw_store_col_text(s, 1));
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_efento_cancel(struct gw_store *st, int64_t device_id, const char *uuid,
                               int64_t now_ms)
{
    enum gw_dl_state state = GW_DL_FAILED;
    sqlite3_stmt *s = NULL;
    char body[96];
    int64_t id = 0;
    int rc = gw_store_tx_begin(st);

    rc = rc != 0 ? rc : entry_state(st, device_id, uuid, &id, &state);
    if (rc == 0 && state != GW_DL_QUEUED) {
        rc = -EBUSY;
    }
    rc = rc != 0 ? rc : gw_store_prepare(st, "DELETE FROM downlink WHERE id = ?1", &s);
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    if (rc == 0) {
        (void)snprintf(body, sizeof(body),
                       "{\"id\":%lld,\"kind\":\"EFENTO_CONFIG\",\"state\":\"CANCELLED\"}",
                       (long long)id);
        rc = gw_store_event_add(st, device_id, now_ms, "DOWNLINK", body);
    }
    sqlite3_finalize(s);
    return gw_store_tx_end(st, rc);
}
