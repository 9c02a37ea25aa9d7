/* SPDX-License-Identifier: MIT */
/*
 * gw_store_rpc.c - server-side RPC as the admin API sees it (specs/rest-api.md section 7): queue
 * an RPC with the API's options (request UUID, persistent or lightweight, retries, additional
 * info) in one transaction, read one by its UUID, page a device's persistent RPCs with a state
 * filter, and withdraw one. The rows are the downlink queue of gw_store_downlink.c; the loop
 * sends them and moves their states, the admin thread only reads them back.
 *
 * The per-device RPC id (what the device sees as "id") follows the same rule as
 * gw_store_rpc_queue(): the device's next_rpc_id, skipping ids of unfinished RPCs. It is picked
 * here again because the API needs the extra columns written in the same transaction.
 * Thread: the admin threads, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

static int insert_rpc(struct gw_store *st, const struct gw_api_rpc_in *in, int32_t rpc_id,
                      const char *uuid, int64_t now_ms, int64_t *id_out)
{
    sqlite3_stmt *s = NULL;
    int rc =
        gw_store_prepare(st,
                         "INSERT INTO downlink (uuid, device_id, kind, rpc_id, is_oneway,"
                         " is_persistent, method, body, max_retries, created_ms, expiration_ms,"
                         " additional_info) VALUES (?1, ?2, 'RPC', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10,"
                         " ?11)",
                         &s);

    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 2, in->device_id);
    (void)sqlite3_bind_int64(s, 3, rpc_id);
    (void)sqlite3_bind_int(s, 4, in->is_oneway ? 1 : 0);
    (void)sqlite3_bind_int(s, 5, in->is_persistent ? 1 : 0);
    (void)sqlite3_bind_text(s, 6, in->method, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 7, in->params_json != NULL ? in->params_json : "null", -1,
                            SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 8, in->max_retries);
    (void)sqlite3_bind_int64(s, 9, now_ms);
    (void)sqlite3_bind_int64(s, 10, in->expiration_ms);
    gw_store_bind_text_or_null(s, 11, in->additional_info);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        *id_out = sqlite3_last_insert_rowid(st->db);
        rc = 0;
    } else {
        rc = sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_rpc_queue(struct gw_store *st, const struct gw_api_rpc_in *in, int64_t now_ms,
                           int64_t max_queued, int64_t *id_out, char uuid_out[GW_STORE_UUID_LEN])
{
    char body[96];
    int64_t n = 0;
    int32_t rpc_id = 0;
    int rc;

    if (in->uuid != NULL) {
        (void)snprintf(uuid_out, GW_STORE_UUID_LEN, "%s", in->uuid);
    } else {
        gw_store_uuid_v4(uuid_out);
    }
    rc = gw_store_tx_begin(st);
    rc = rc == 0 ? gw_store_dl_count_unfinished(st, in->device_id, &n) : rc;
    if (rc == 0 && n >= max_queued) {
        rc = -ENOSPC;
    }
    rc = rc == 0 ? gw_store_rpc_next_id(st, in->device_id, &rpc_id) : rc;
    rc = rc == 0 ? insert_rpc(st, in, rpc_id, uuid_out, now_ms, id_out) : rc;
    if (rc == 0) {
        (void)snprintf(body, sizeof(body), "{\"id\":%lld,\"rpcId\":%d,\"state\":\"QUEUED\"}",
                       (long long)*id_out, (int)rpc_id);
        rc = gw_store_event_add(st, in->device_id, now_ms, "DOWNLINK", body);
    }
    return gw_store_tx_end(st, rc);
}

/* ---- reading ----------------------------------------------------------------------------- */

#define RPC_COLUMNS                                                                                \
    "SELECT r.id, r.uuid, d.uuid, r.state, r.is_oneway, r.is_persistent, r.max_retries,"           \
    " r.created_ms, r.expiration_ms, r.method, r.body, r.response, r.additional_info, r.rpc_id"    \
    " FROM downlink r JOIN device d ON d.id = r.device_id "

static enum gw_dl_state state_of(const char *t)
{
    int i;

    for (i = GW_DL_QUEUED; t != NULL && i <= GW_DL_FAILED; i++) {
        if (strcmp(t, gw_dl_state_name((enum gw_dl_state)i)) == 0) {
            return (enum gw_dl_state)i;
        }
    }
    return GW_DL_FAILED;
}

static int walk_rpc(sqlite3_stmt *s, int (*fn)(void *arg, const struct gw_api_rpc *r), void *arg,
                    bool *is_found)
{
    struct gw_api_rpc r;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&r, 0, sizeof(r));
        r.id = sqlite3_column_int64(s, 0);
        r.uuid = gw_store_col_text(s, 1);
        r.device_uuid = gw_store_col_text(s, 2);
        r.state = state_of(gw_store_col_text(s, 3));
        r.is_oneway = sqlite3_column_int(s, 4) != 0;
        r.is_persistent = sqlite3_column_int(s, 5) != 0;
        r.max_retries = sqlite3_column_int64(s, 6);
        r.created_ms = sqlite3_column_int64(s, 7);
        r.expiration_ms = sqlite3_column_int64(s, 8);
        r.method = gw_store_col_text(s, 9);
        r.params = gw_store_col_text(s, 10);
        r.response = gw_store_col_text(s, 11);
        r.additional_info = gw_store_col_text(s, 12);
        r.rpc_id = (int32_t)sqlite3_column_int64(s, 13);
        *is_found = true;
        rc = fn(arg, &r);
        if (rc != 0) {
            return rc;
        }
    }
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int gw_store_api_rpc_get(struct gw_store *st, const char *uuid, int64_t id,
                         int (*fn)(void *arg, const struct gw_api_rpc *r), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    int rc = gw_store_prepare(st,
                              RPC_COLUMNS "WHERE r.kind = 'RPC' AND (r.uuid = ?1 OR (?1 IS NULL AND"
                                          " r.id = ?2))",
                              &s);

    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, uuid);
        (void)sqlite3_bind_int64(s, 2, id);
        rc = walk_rpc(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc == 0 && !is_found ? -ENOENT : rc;
}

int gw_store_api_rpc_page(struct gw_store *st, const struct gw_api_rpc_query *q, int64_t *total,
                          int (*fn)(void *arg, const struct gw_api_rpc *r), void *arg)
{
    static const char where[] = "WHERE r.kind = 'RPC' AND r.is_persistent = 1 AND r.device_id = ?1"
                                " AND (?2 IS NULL OR r.state = ?2)";
    sqlite3_stmt *s = NULL;
    char sql[1024];
    bool is_found = false;
    int rc;

    rc = gw_store_prepare(
        st,
        "SELECT count(*) FROM downlink r WHERE r.kind = 'RPC' AND r.is_persistent = 1"
        " AND r.device_id = ?1 AND (?2 IS NULL OR r.state = ?2)",
        &s);
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, q->device_id);
        gw_store_bind_text_or_null(s, 2, q->state != 0 ? gw_dl_state_name(q->state) : NULL);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *total = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != 0 || *total <= q->page * q->page_size) {
        return rc;
    }
    (void)snprintf(sql, sizeof(sql), RPC_COLUMNS "%s ORDER BY r.%s %s, r.id %s LIMIT ?3 OFFSET ?4",
                   where, q->is_by_expiration ? "expiration_ms" : "created_ms",
                   q->is_desc ? "DESC" : "ASC", q->is_desc ? "DESC" : "ASC");
    rc = gw_store_prepare(st, sql, &s);
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, q->device_id);
        gw_store_bind_text_or_null(s, 2, q->state != 0 ? gw_dl_state_name(q->state) : NULL);
        (void)sqlite3_bind_int64(s, 3, q->page_size);
        (void)sqlite3_bind_int64(s, 4, q->page * q->page_size);
        rc = walk_rpc(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_rpc_delete(struct gw_store *st, const char *uuid)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "DELETE FROM downlink WHERE kind = 'RPC' AND uuid = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        rc = rc == 0 && sqlite3_changes(st->db) == 0 ? -ENOENT : rc;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_device_ref(struct gw_store *st, const char *uuid, struct gw_device_ref *out)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "SELECT id, profile_id, name FROM device WHERE uuid = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            memset(out, 0, sizeof(*out));
            out->id = sqlite3_column_int64(s, 0);
            out->profile_id = sqlite3_column_int64(s, 1);
            (void)snprintf(out->name, sizeof(out->name), "%s", gw_store_col_text(s, 2));
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}
