/* SPDX-License-Identifier: MIT */
/*
 * gw_store_internal.h - what the store's own files (gw_store.c, gw_store_*.c) share: the
 * connection, the statements prepared at open, and small helpers. Nothing outside the store
 * includes this header; all SQL of nbgate lives in gateway/gw_store*.c.
 */
#ifndef GW_STORE_INTERNAL_H
#define GW_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

#include "gateway/gw_store.h"

enum gw_store_stmt_id {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_DEV_BY_TOKEN,
    S_DEV_BY_NAME,
    S_TS_INSERT,
    S_TS_LATEST,
    S_ATTR_SAVE,
    S_TOUCH,
    S_EVENT_ADD,
    S_EVENT_TRIM,
    S_PENDING_PROBE,
    S_COUNT
};

struct gw_store {
    sqlite3 *db;
    sqlite3_stmt *stmt[S_COUNT];
    int tx_depth;        /* open transactions: 1 = BEGIN IMMEDIATE, each deeper one a SAVEPOINT */
    int64_t events_kept; /* device event log entries kept per device */
};

/*
 * ThingsBoard's activity rule (specs/rest-api.md 4.1) as SQL fragments over a device row `d`
 * joined with its profile `p`, shared by every query that reports activity so that listings,
 * counts, metrics and the fleet view agree. The inactivity timeout (ms) is the device's server
 * attribute inactivityTimeout, else the profile's profileData.configuration.inactivityTimeout,
 * else the gateway default; a device is active while now < last activity + timeout and never
 * before its first message. GW_STORE_SQL_TIMEOUT(device, profile, fallback) and
 * GW_STORE_SQL_IS_ACTIVE(last, now, timeout) take SQL expressions (columns or parameters).
 */
#define GW_STORE_SQL_TIMEOUT_DEVICE                                                                \
    "(SELECT a.v_long FROM attribute_kv a WHERE a.device_id = d.id AND a.scope = 3"                \
    " AND a.key = 'inactivityTimeout' AND a.type = 2)"
#define GW_STORE_SQL_TIMEOUT_PROFILE                                                               \
    "json_extract(p.profile_json, '$.profileData.configuration.inactivityTimeout')"
#define GW_STORE_SQL_TIMEOUT(device, profile, fallback)                                            \
    "COALESCE(" device ", " profile ", " fallback ")"
#define GW_STORE_SQL_IS_ACTIVE(last, now, timeout)                                                 \
    "(" last " > 0 AND " now " < " last " + " timeout ")"

/*
 * The downlinks that are not finished (the queue limit and the fleet view count these): waiting,
 * sent, timed out and to be retried, or a two-way RPC delivered but not answered yet. Columns of
 * the downlink table, unqualified.
 */
#define GW_STORE_SQL_DL_UNFINISHED                                                                 \
    "(state IN ('QUEUED','SENT','TIMEOUT') OR (state = 'DELIVERED' AND kind = 'RPC' AND"           \
    " is_oneway = 0))"

/* Steps a statement that returns no rows, then resets it. Returns: 0, -EIO (logged). */
int gw_store_step_done(struct gw_store *st, sqlite3_stmt *s);

/*
 * BEGIN IMMEDIATE, or inside an open transaction (gw_store_batch_begin) a SAVEPOINT, so a
 * store function keeps its all-or-nothing contract when a caller groups several of them.
 * Returns: 0, -EIO.
 */
int gw_store_tx_begin(struct gw_store *st);

/*
 * COMMIT when rc is 0, else ROLLBACK; nested: RELEASE, or ROLLBACK TO the savepoint (the outer
 * transaction goes on). Returns: rc, or -EIO if the commit failed.
 */
int gw_store_tx_end(struct gw_store *st, int rc);

/* A random version-4 UUID, 36 characters and a NUL. */
void gw_store_uuid_v4(char out[37]);

/* A random token of len letters and digits, NUL-terminated (out holds len + 1 bytes). */
void gw_store_random_token(char *out, size_t len);

/* Binds a typed value to parameters first..first+3 (type, v_long, v_double, v_str). */
void gw_store_bind_value(sqlite3_stmt *s, int first, const struct profile_value *v);

/* Reads (type, v_long, v_double, v_str) from column col on; text is borrowed from the row. */
void gw_store_column_value(sqlite3_stmt *s, int col, struct profile_value *v);

/* Walks rows of (key, ts, type, v_long, v_double, v_str[, scope at scope_col]) into fn. */
int gw_store_walk_kv(sqlite3_stmt *s, int scope_col, gw_store_kv_fn fn, void *arg);

/* Prepares a statement, logging SQLite's message on failure. Returns: 0, -EIO. */
int gw_store_prepare(struct gw_store *st, const char *sql, sqlite3_stmt **s);

/* Binds text, or NULL when v is NULL, to parameter i. */
void gw_store_bind_text_or_null(sqlite3_stmt *s, int i, const char *v);

/* Returns: the text of column i (borrowed until the next step), or NULL. */
const char *gw_store_col_text(sqlite3_stmt *s, int i);

/* Unfinished downlinks of a device (the queue limit counts these). Returns: 0, -EIO. */
int gw_store_dl_count_unfinished(struct gw_store *st, int64_t device_id, int64_t *out);

/*
 * The device's next RPC id not used by an unfinished RPC; advances device.next_rpc_id. Runs
 * inside the caller's transaction. Returns: 0, -ENOENT, -EIO.
 */
int gw_store_rpc_next_id(struct gw_store *st, int64_t device_id, int32_t *out);

/* Wall-clock time in ms since the Unix epoch. */
int64_t gw_store_now_ms(void);

#endif /* GW_STORE_INTERNAL_H */
