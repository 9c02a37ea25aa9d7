/* SPDX-License-Identifier: MIT */
/*
 * gw_store_dlq.c - a device's whole downlink queue as the admin API shows it (GET and DELETE
 * /api/nbgate/device/{id}/downlinks, docs/API.md): one page of its downlink rows of every kind
 * (RPC, ATTRIBUTES, EFENTO_CONFIG) with kind and state filters, and cancelling an entry that has
 * not been sent. Called by web/web_downlinks.c from the admin threads, each with its own
 * connection; the loop thread moves the rows (gw_store_downlink.c, gw_store_efento.c).
 *
 * Cancelling deletes the row, as the RPC and Efento cancels do, and leaves a DOWNLINK event with
 * state CANCELLED in the device's log. Only a QUEUED row can go, checked in the DELETE itself.
 * The loop reads waiting RPC and attribute rows from the table at each send (gw_store_dl_next,
 * also when an attribute observer registers and waiting updates are superseded) and claims them
 * as SENT in one transaction before the notification leaves (gw_store_dl_claim), so a cancelled
 * row is never merged into a later notification nor sent in a race with the cancel. An
 * attribute update keeps only key lists; its values stay in attribute_kv, so cancelling
 * withdraws the notification, not the value.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_store_internal.h"

#define DLQ_COLUMNS                                                                                \
    "SELECT id, uuid, kind, state, created_ms, expiration_ms, sent_ms, delivered_ms,"              \
    " completed_ms, retries, max_retries, rpc_id, is_oneway, method, body, response"               \
    " FROM downlink "

#define DLQ_WHERE                                                                                  \
    "WHERE device_id = ?1 AND (?2 IS NULL OR kind = ?2) AND (?3 IS NULL OR state = ?3)"

static const char *const kind_names[] = {
    [GW_DL_RPC] = "RPC", [GW_DL_ATTRIBUTES] = "ATTRIBUTES", [GW_DL_EFENTO_CONFIG] = "EFENTO_CONFIG"
};

const char *gw_dl_kind_name(enum gw_dl_kind k)
{
    return k >= GW_DL_RPC && k <= GW_DL_EFENTO_CONFIG ? kind_names[k] : "?";
}

static enum gw_dl_kind kind_of(const char *t)
{
    enum gw_dl_kind k;

    for (k = GW_DL_RPC; t != NULL && k <= GW_DL_EFENTO_CONFIG; k++) {
        if (strcmp(t, kind_names[k]) == 0) {
            return k;
        }
    }
    return GW_DL_RPC;
}

static enum gw_dl_state state_of(const char *t)
{
    enum gw_dl_state s;

    for (s = GW_DL_QUEUED; t != NULL && s <= GW_DL_FAILED; s++) {
        if (strcmp(t, gw_dl_state_name(s)) == 0) {
            return s;
        }
    }
    return GW_DL_FAILED;
}

/* Calls fn for each row of s (DLQ_COLUMNS). Returns: 0, -EIO, fn's value. */
static int walk(sqlite3_stmt *s, int (*fn)(void *arg, const struct gw_dlq_entry *e), void *arg)
{
    struct gw_dlq_entry e;
    int rc = 0, step = SQLITE_DONE;

    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&e, 0, sizeof(e));
        e.id = sqlite3_column_int64(s, 0);
        e.uuid = gw_store_col_text(s, 1);
        e.kind = kind_of(gw_store_col_text(s, 2));
        e.state = state_of(gw_store_col_text(s, 3));
        e.created_ms = sqlite3_column_int64(s, 4);
        e.expiration_ms = sqlite3_column_int64(s, 5);
        e.sent_ms = sqlite3_column_int64(s, 6);
        e.delivered_ms = sqlite3_column_int64(s, 7);
        e.completed_ms = sqlite3_column_int64(s, 8);
        e.retries = sqlite3_column_int64(s, 9);
        e.max_retries = sqlite3_column_int64(s, 10);
        e.rpc_id = (int32_t)sqlite3_column_int64(s, 11);
        e.is_oneway = sqlite3_column_int(s, 12) != 0;
        e.method = gw_store_col_text(s, 13);
        e.body = gw_store_col_text(s, 14);
        e.response = gw_store_col_text(s, 15);
        rc = fn(arg, &e);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        rc = -EIO;
    }
    return rc;
}

static void bind_filters(sqlite3_stmt *s, const struct gw_dlq_query *q)
{
    (void)sqlite3_bind_int64(s, 1, q->device_id);
    gw_store_bind_text_or_null(s, 2, q->kind != 0 ? gw_dl_kind_name(q->kind) : NULL);
    gw_store_bind_text_or_null(s, 3, q->state != 0 ? gw_dl_state_name(q->state) : NULL);
}

int gw_store_dlq_page(struct gw_store *st, const struct gw_dlq_query *q, int64_t *total,
                      int (*fn)(void *arg, const struct gw_dlq_entry *e), void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc;

    *total = 0;
    rc = gw_store_prepare(st, "SELECT count(*) FROM downlink " DLQ_WHERE, &s);
    if (rc == 0) {
        bind_filters(s, q);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *total = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != 0 || *total <= q->page * q->page_size) {
        goto out;
    }
    /* Two fixed texts, not a formatted one: the order is the only thing that varies. */
    rc = gw_store_prepare(
        st,
        q->is_desc ? DLQ_COLUMNS DLQ_WHERE " ORDER BY created_ms DESC, id DESC LIMIT ?4 OFFSET ?5"
                   : DLQ_COLUMNS DLQ_WHERE " ORDER BY created_ms ASC, id ASC LIMIT ?4 OFFSET ?5",
        &s);
    if (rc == 0) {
        bind_filters(s, q);
        (void)sqlite3_bind_int64(s, 4, q->page_size);
        (void)sqlite3_bind_int64(s, 5, q->page * q->page_size);
        rc = walk(s, fn, arg);
    }
    sqlite3_finalize(s);
out:
    return rc;
}

/* Reads the device's entry uuid: row id, kind and state. Returns: 0, -ENOENT, -EIO. */
static int entry_of(struct gw_store *st, int64_t device_id, const char *uuid, int64_t *id,
                    enum gw_dl_kind *kind, enum gw_dl_state *state)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st, "SELECT id, kind, state FROM downlink WHERE device_id = ?1 AND uuid = ?2", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, uuid, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(s, 0);
            *kind = kind_of(gw_store_col_text(s, 1));
            *state = state_of(gw_store_col_text(s, 2));
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_dlq_cancel(struct gw_store *st, int64_t device_id, const char *uuid, int64_t now_ms,
                        enum gw_dl_kind *kind_out)
{
    enum gw_dl_state state = GW_DL_FAILED;
    enum gw_dl_kind kind = GW_DL_RPC;
    sqlite3_stmt *s = NULL;
    char body[96];
    int64_t id = 0;
    int rc = gw_store_tx_begin(st);

    rc = rc != 0 ? rc : entry_of(st, device_id, uuid, &id, &kind, &state);
    if (rc == 0 && state != GW_DL_QUEUED) {
        rc = -EBUSY;
    }
    /* The state is checked again in the DELETE: the loop's own connection may have moved it. */
    rc = rc != 0
             ? rc
             : gw_store_prepare(st, "DELETE FROM downlink WHERE id = ?1 AND state = 'QUEUED'", &s);
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        rc = rc == 0 && sqlite3_changes(st->db) != 1 ? -EBUSY : rc;
    }
    if (rc == 0) {
        (void)snprintf(body, sizeof(body), "{\"id\":%lld,\"kind\":\"%s\",\"state\":\"CANCELLED\"}",
                       (long long)id, gw_dl_kind_name(kind));
        rc = gw_store_event_add(st, device_id, now_ms, "DOWNLINK", body);
    }
    sqlite3_finalize(s);
    if (kind_out != NULL) {
        *kind_out = kind;
    }
    return gw_store_tx_end(st, rc);
}
