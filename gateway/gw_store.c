/* SPDX-License-Identifier: MIT */
/*
 * gw_store.c - every SQL statement of nbgate (STYLE G2: all SQL lives here).
 *
 * Opening a store: WAL mode, synchronous FULL or NORMAL (the durability setting), foreign keys,
 * a busy timeout so that the daemon and `nbgate device ...` can share the file, then forward
 * migrations from PRAGMA user_version to GW_STORE_SCHEMA_VERSION, each in its own transaction.
 * The hot statements are prepared once at open and finalised at close; every write runs inside
 * BEGIN IMMEDIATE ... COMMIT, and a function returns 0 only after COMMIT succeeded. Untrusted
 * text (keys, values, tokens, names) only ever reaches SQLite as bound parameters.
 */
#include "gateway/gw_store.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"
#include "gateway/gw_store_schema.h"

#define EVENTS_TRIM_EVERY 32 /* event inserts per trim of the device's log */

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_DEV_BY_TOKEN] = "SELECT d.id, d.profile_id, d.name FROM credentials c JOIN device d"
                       " ON d.id = c.device_id WHERE c.type = 'ACCESS_TOKEN'"
                       " AND c.credentials_id = ?1",
    [S_DEV_BY_NAME] = "SELECT id, profile_id, name FROM device WHERE name = ?1",
    [S_TS_INSERT] = "INSERT INTO ts_kv (device_id, key, ts_ms, type, v_long, v_double, v_str)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (device_id, key, ts_ms)"
                    " DO UPDATE SET type = excluded.type, v_long = excluded.v_long,"
                    " v_double = excluded.v_double, v_str = excluded.v_str",
    [S_TS_LATEST] = "INSERT INTO ts_kv_latest (device_id, key, ts_ms, type, v_long, v_double,"
                    " v_str) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (device_id, key)"
                    " DO UPDATE SET ts_ms = excluded.ts_ms, type = excluded.type,"
                    " v_long = excluded.v_long, v_double = excluded.v_double,"
                    " v_str = excluded.v_str WHERE excluded.ts_ms >= ts_kv_latest.ts_ms",
    [S_ATTR_SAVE] = "INSERT INTO attribute_kv (device_id, scope, key, last_update_ms, type,"
                    " v_long, v_double, v_str) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
                    " ON CONFLICT (device_id, scope, key) DO UPDATE SET"
                    " last_update_ms = excluded.last_update_ms, type = excluded.type,"
                    " v_long = excluded.v_long, v_double = excluded.v_double,"
                    " v_str = excluded.v_str",
    [S_TOUCH] = "UPDATE device SET last_activity_ms = ?2 WHERE id = ?1"
                " AND last_activity_ms < ?2",
    [S_EVENT_ADD] = "INSERT INTO event (device_id, ts_ms, type, body) VALUES (?1, ?2, ?3, ?4)",
    [S_EVENT_TRIM] = "DELETE FROM event WHERE device_id = ?1 AND id <= (SELECT id FROM event"
                     " WHERE device_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
    [S_PENDING_PROBE] = "SELECT last_seen_ms, blocked FROM pending_device WHERE kind = ?1"
                        " AND identifier = ?2",
};

static pthread_once_t sqlite_log_once = PTHREAD_ONCE_INIT;

static void sqlite_log(void *arg, int code, const char *msg)
{
    (void)arg;
    /* Schema changes, constraint refusals (reported to the caller) and notices are routine. */
    if ((code & 0xff) == SQLITE_NOTICE || (code & 0xff) == SQLITE_SCHEMA ||
        (code & 0xff) == SQLITE_CONSTRAINT) {
        gw_log_debug("sqlite notice rc=%d err=\"%s\"", code, msg);
    } else {
        gw_log_warn("sqlite rc=%d err=\"%s\"", code, msg);
    }
}

static void sqlite_log_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_LOG, sqlite_log, NULL);
}

static int exec_sql(sqlite3 *db, const char *sql, char *err, size_t err_len)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        (void)snprintf(err, err_len, "%s", msg != NULL ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        return -EIO;
    }
    return 0;
}

static int user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *s = NULL;
    int rc = -EIO;

    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *out = sqlite3_column_int(s, 0);
        rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

static void random_bytes(uint8_t *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n > 0) {
            got += (size_t)n;
        }
    }
}

/* A random RFC 4122 version-4 UUID in its 36-character text form. */
void gw_store_uuid_v4(char out[37])
{
    uint8_t b[16];

    random_bytes(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    (void)snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                   b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                   b[13], b[14], b[15]);
}

/* A random access token of len letters and digits (no modulo bias). */
void gw_store_random_token(char *out, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t i = 0;

    while (i < len) {
        uint8_t b;
        random_bytes(&b, 1);
        if (b < 248) { /* 248 = 4 * 62 */
            out[i++] = alphabet[b % 62];
        }
    }
    out[len] = '\0';
}

int64_t gw_store_now_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int insert_default_profile(sqlite3 *db, char *err, size_t err_len)
{
    sqlite3_stmt *s = NULL;
    char uuid[37];
    int rc = -EIO;

    if (sqlite3_prepare_v2(db,
                           "INSERT INTO device_profile (uuid, name, is_default, profile_json,"
                           " created_ms, updated_ms) VALUES (?1, 'default', 1, ?2, ?3, ?3)",
                           -1, &s, NULL) == SQLITE_OK) {
        gw_store_uuid_v4(uuid);
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
        (void)sqlite3_bind_text(s, 2, GW_STORE_DEFAULT_PROFILE_JSON, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 3, gw_store_now_ms());
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    if (rc != 0) {
        (void)snprintf(err, err_len, "default profile: %s", sqlite3_errmsg(db));
    }
    sqlite3_finalize(s);
    return rc;
}

/* Brings the schema from version to version + 1 in one transaction. */
static int migrate_one(sqlite3 *db, int version, char *err, size_t err_len)
{
    char sql[64];
    size_t i;
    int rc;

    rc = exec_sql(db, "BEGIN IMMEDIATE", err, err_len);
    for (i = 0; rc == 0 && i < GW_STORE_N_MIGRATION_STEPS; i++) {
        if (gw_store_migrations[i].version == version + 1) {
            rc = exec_sql(db, gw_store_migrations[i].sql, err, err_len);
        }
    }
    if (rc == 0 && version == 0) {
        rc = insert_default_profile(db, err, err_len);
    }
    if (rc == 0) {
        (void)snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version + 1);
        rc = exec_sql(db, sql, err, err_len);
    }
    if (rc == 0) {
        rc = exec_sql(db, "COMMIT", err, err_len);
    }
    if (rc != 0) {
        (void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static int migrate(sqlite3 *db, char *err, size_t err_len)
{
    int version = 0;
    int rc;

    rc = user_version(db, &version);
    if (rc != 0) {
        (void)snprintf(err, err_len, "cannot read schema version: %s", sqlite3_errmsg(db));
        return rc;
    }
    if (version > GW_STORE_LATEST_VERSION) {
        (void)snprintf(err, err_len,
                       "database schema version %d is newer than this nbgate (%d); "
                       "refusing to touch it",
                       version, GW_STORE_LATEST_VERSION);
        return -EIO;
    }
    for (; version < GW_STORE_LATEST_VERSION; version++) {
        rc = migrate_one(db, version, err, err_len);
        if (rc != 0) {
            return rc;
        }
        gw_log_notice("store migrated schema=%d", version + 1);
    }
    return 0;
}

int gw_store_open(const char *path, const struct gw_store_opts *opts, struct gw_store **out,
                  char *err, size_t err_len)
{
    struct gw_store *st = NULL;
    char pragmas[512];
    int rc = -EIO;
    int i;

    *out = NULL;
    (void)pthread_once(&sqlite_log_once, sqlite_log_setup);
    st = calloc(1, sizeof(*st));
    if (st == NULL) {
        return -ENOMEM;
    }
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        (void)snprintf(err, err_len, "%s: %s", path,
                       st->db != NULL ? sqlite3_errmsg(st->db) : "out of memory");
        goto out;
    }
    (void)sqlite3_busy_timeout(st->db, (int)opts->busy_timeout_ms);
    st->events_kept = opts->events_per_device > 0 ? opts->events_per_device : 1000;
    (void)snprintf(pragmas, sizeof(pragmas),
                   "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;"
                   " PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = %lld;"
                   " PRAGMA journal_size_limit = %lld;",
                   opts->is_durable_full ? "FULL" : "NORMAL",
                   (long long)opts->wal_autocheckpoint_pages,
                   (long long)opts->journal_size_limit_bytes);
    rc = exec_sql(st->db, pragmas, err, err_len);
    if (rc == 0) {
        rc = migrate(st->db, err, err_len);
    }
    for (i = 0; rc == 0 && i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->stmt[i],
                               NULL) != SQLITE_OK) {
            (void)snprintf(err, err_len, "prepare: %s", sqlite3_errmsg(st->db));
            rc = -EIO;
        }
    }
out:
    if (rc != 0) {
        gw_store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void gw_store_close(struct gw_store *st)
{
    int i;

    if (st == NULL) {
        return;
    }
    for (i = 0; i < S_COUNT; i++) {
        sqlite3_finalize(st->stmt[i]);
    }
    (void)sqlite3_close(st->db);
    free(st);
}

/* Runs a statement that returns no rows, then resets it. */
int gw_store_step_done(struct gw_store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);

    (void)sqlite3_reset(s);
    (void)sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) {
        gw_log_err("store step failed rc=%d err=\"%s\"", rc, sqlite3_errmsg(st->db));
        return -EIO;
    }
    return 0;
}

int gw_store_tx_begin(struct gw_store *st)
{
    char sql[48];
    int rc;

    if (st->tx_depth == 0) {
        rc = gw_store_step_done(st, st->stmt[S_BEGIN]);
    } else {
        (void)snprintf(sql, sizeof(sql), "SAVEPOINT tx%d", st->tx_depth);
        rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
    }
    if (rc == 0) {
        st->tx_depth++;
    }
    return rc;
}

int gw_store_tx_end(struct gw_store *st, int rc)
{
    char sql[80];

    if (st->tx_depth > 1) { /* a savepoint inside a batch */
        st->tx_depth--;
        if (rc == 0) {
            (void)snprintf(sql, sizeof(sql), "RELEASE tx%d", st->tx_depth);
        } else {
            (void)snprintf(sql, sizeof(sql), "ROLLBACK TO tx%d; RELEASE tx%d", st->tx_depth,
                           st->tx_depth);
        }
        if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK && rc == 0) {
            rc = -EIO;
        }
        return rc;
    }
    st->tx_depth = 0;
    if (rc == 0) {
        rc = gw_store_step_done(st, st->stmt[S_COMMIT]);
    }
    if (rc != 0 && !sqlite3_get_autocommit(st->db)) {
        (void)gw_store_step_done(st, st->stmt[S_ROLLBACK]);
    }
    return rc;
}

int gw_store_batch_begin(struct gw_store *st)
{
    assert(st->tx_depth == 0);
    return gw_store_tx_begin(st);
}

int gw_store_batch_end(struct gw_store *st, int rc)
{
    assert(st->tx_depth == 1);
    return gw_store_tx_end(st, rc);
}

static int device_ref_row(sqlite3_stmt *s, struct gw_device_ref *out)
{
    int rc = sqlite3_step(s);

    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        out->profile_id = sqlite3_column_int64(s, 1);
        (void)snprintf(out->name, sizeof(out->name), "%s", (const char *)sqlite3_column_text(s, 2));
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    (void)sqlite3_reset(s);
    (void)sqlite3_clear_bindings(s);
    return rc;
}

int gw_store_device_by_token(struct gw_store *st, const char *token, size_t token_len,
                             struct gw_device_ref *out)
{
    sqlite3_stmt *s = st->stmt[S_DEV_BY_TOKEN];

    (void)sqlite3_bind_text(s, 1, token, (int)token_len, SQLITE_STATIC);
    return device_ref_row(s, out);
}

int gw_store_device_by_name(struct gw_store *st, const char *name, struct gw_device_ref *out)
{
    sqlite3_stmt *s = st->stmt[S_DEV_BY_NAME];

    (void)sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    return device_ref_row(s, out);
}

/* Binds a typed value to four consecutive parameters starting at first (type, long, dbl, str). */
void gw_store_bind_value(sqlite3_stmt *s, int first, const struct profile_value *v)
{
    (void)sqlite3_bind_int(s, first, (int)v->type);
    switch (v->type) {
    case PROFILE_VT_BOOLEAN:
        (void)sqlite3_bind_int64(s, first + 1, v->b ? 1 : 0);
        break;
    case PROFILE_VT_LONG:
        (void)sqlite3_bind_int64(s, first + 1, v->l);
        break;
    case PROFILE_VT_DOUBLE:
        (void)sqlite3_bind_double(s, first + 2, v->d);
        break;
    case PROFILE_VT_STRING:
    case PROFILE_VT_JSON:
        (void)sqlite3_bind_text(s, first + 3, v->s, (int)v->s_len, SQLITE_STATIC);
        break;
    }
}

int gw_store_insert_telemetry(struct gw_store *st, int64_t device_id,
                              const struct profile_batch *batch, int64_t now_ms)
{
    size_t i;
    int rc;

    rc = gw_store_tx_begin(st);
    for (i = 0; rc == 0 && i < batch->n; i++) {
        const struct profile_kv *kv = &batch->kv[i];
        int k;
        for (k = S_TS_INSERT; rc == 0 && k <= S_TS_LATEST; k++) {
            sqlite3_stmt *s = st->stmt[k];
            (void)sqlite3_bind_int64(s, 1, device_id);
            (void)sqlite3_bind_text(s, 2, kv->key, -1, SQLITE_STATIC);
            (void)sqlite3_bind_int64(s, 3, kv->ts_ms);
            gw_store_bind_value(s, 4, &kv->v);
            rc = gw_store_step_done(st, s);
        }
    }
    if (rc == 0 && now_ms > 0) {
        rc = gw_store_touch_activity(st, device_id, now_ms);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_save_attributes(struct gw_store *st, int64_t device_id, enum gw_attr_scope scope,
                             const struct profile_batch *batch, int64_t now_ms, bool is_activity)
{
    sqlite3_stmt *s = st->stmt[S_ATTR_SAVE];
    size_t i;
    int rc;

    rc = gw_store_tx_begin(st);
    for (i = 0; rc == 0 && i < batch->n; i++) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_int(s, 2, (int)scope);
        (void)sqlite3_bind_text(s, 3, batch->kv[i].key, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 4, now_ms);
        gw_store_bind_value(s, 5, &batch->kv[i].v);
        rc = gw_store_step_done(st, s);
    }
    if (rc == 0 && is_activity) {
        rc = gw_store_touch_activity(st, device_id, now_ms);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_touch_activity(struct gw_store *st, int64_t device_id, int64_t now_ms)
{
    sqlite3_stmt *s = st->stmt[S_TOUCH];

    (void)sqlite3_bind_int64(s, 1, device_id);
    (void)sqlite3_bind_int64(s, 2, now_ms);
    return gw_store_step_done(st, s);
}

int gw_store_event_add(struct gw_store *st, int64_t device_id, int64_t ts_ms, const char *type,
                       const char *body)
{
    sqlite3_stmt *s = st->stmt[S_EVENT_ADD];
    int rc;

    (void)sqlite3_bind_int64(s, 1, device_id);
    (void)sqlite3_bind_int64(s, 2, ts_ms);
    (void)sqlite3_bind_text(s, 3, type, -1, SQLITE_STATIC);
    if (body != NULL) {
        (void)sqlite3_bind_text(s, 4, body, -1, SQLITE_STATIC);
    }
    rc = gw_store_step_done(st, s);
    /* Trimming costs a scan of the device's log: done on one insert in EVENTS_TRIM_EVERY, so a
     * busy device's log stays within events_kept plus that many entries. */
    if (rc == 0 && sqlite3_last_insert_rowid(st->db) % EVENTS_TRIM_EVERY == 0) {
        s = st->stmt[S_EVENT_TRIM];
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_int64(s, 2, st->events_kept);
        rc = gw_store_step_done(st, s);
    }
    return rc;
}

static int insert_device(struct gw_store *st, const char *name, const char *token,
                         int64_t profile_id, int64_t now_ms, char *err, size_t err_len)
{
    sqlite3_stmt *s = NULL;
    char uuid[37];
    int64_t device_id;
    int rc = -EIO;

    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO device (uuid, name, profile_id, created_ms)"
                           " VALUES (?1, ?2, ?3, ?4)",
                           -1, &s, NULL) != SQLITE_OK) {
        goto out;
    }
    gw_store_uuid_v4(uuid);
    (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
    (void)sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 3, profile_id);
    (void)sqlite3_bind_int64(s, 4, now_ms);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST : -EIO;
        (void)snprintf(err, err_len, "device \"%s\": %s", name,
                       rc == -EEXIST ? "name already taken" : sqlite3_errmsg(st->db));
        goto out;
    }
    device_id = sqlite3_last_insert_rowid(st->db);
    sqlite3_finalize(s);
    s = NULL;
    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO credentials (uuid, device_id, type, credentials_id,"
                           " created_ms) VALUES (?1, ?2, 'ACCESS_TOKEN', ?3, ?4)",
                           -1, &s, NULL) != SQLITE_OK) {
        goto out;
    }
    gw_store_uuid_v4(uuid);
    (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
    (void)sqlite3_bind_int64(s, 2, device_id);
    (void)sqlite3_bind_text(s, 3, token, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 4, now_ms);
    if (sqlite3_step(s) != SQLITE_DONE) {
        rc = sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST : -EIO;
        (void)snprintf(err, err_len, "token of \"%s\": %s", name,
                       rc == -EEXIST ? "already used by another device" : sqlite3_errmsg(st->db));
        goto out;
    }
    rc = 0;
out:
    if (rc == -EIO && err[0] == '\0') {
        (void)snprintf(err, err_len, "%s", sqlite3_errmsg(st->db));
    }
    sqlite3_finalize(s);
    return rc;
}

static int profile_id_by_name(struct gw_store *st, const char *profile, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = -EIO;

    if (sqlite3_prepare_v2(st->db,
                           profile == NULL ? "SELECT id FROM device_profile WHERE is_default = 1"
                                           : "SELECT id FROM device_profile WHERE name = ?1",
                           -1, &s, NULL) != SQLITE_OK) {
        goto out;
    }
    if (profile != NULL) {
        (void)sqlite3_bind_text(s, 1, profile, -1, SQLITE_STATIC);
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
out:
    sqlite3_finalize(s);
    return rc;
}

static bool token_ok(const char *token)
{
    size_t n = strlen(token);
    size_t i;

    if (n == 0 || n >= GW_STORE_TOKEN_MAX) {
        return false;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c <= ' ' || c == '/' || c == 0x7f) {
            return false;
        }
    }
    return true;
}

int gw_store_device_add(struct gw_store *st, const char *name, const char *token,
                        const char *profile, unsigned count, int64_t now_ms, char *token_out,
                        size_t token_out_len, char *err, size_t err_len)
{
    char one_token[GW_STORE_TOKEN_MAX];
    char one_name[GW_STORE_NAME_MAX];
    int64_t profile_id = 0;
    unsigned i;
    int rc;

    err[0] = '\0';
    if (name == NULL || name[0] == '\0' || strlen(name) + 12 >= GW_STORE_NAME_MAX) {
        (void)snprintf(err, err_len, "device name must be 1..%d bytes", GW_STORE_NAME_MAX - 13);
        return -EINVAL;
    }
    if (count > 0 && (token == NULL || token[0] == '\0')) {
        (void)snprintf(err, err_len, "--count needs --token (the token prefix)");
        return -EINVAL;
    }
    if (token != NULL && token[0] != '\0' &&
        (strlen(token) + 12 >= GW_STORE_TOKEN_MAX || !token_ok(token))) {
        (void)snprintf(err, err_len, "token must be 1..%d printable characters without '/'",
                       GW_STORE_TOKEN_MAX - 13);
        return -EINVAL;
    }
    rc = profile_id_by_name(st, profile, &profile_id);
    if (rc != 0) {
        (void)snprintf(err, err_len, "no device profile \"%s\"",
                       profile != NULL ? profile : "(default)");
        return rc;
    }
    rc = gw_store_tx_begin(st);
    for (i = 0; rc == 0 && i < (count == 0 ? 1 : count); i++) {
        if (count == 0) {
            (void)snprintf(one_name, sizeof(one_name), "%s", name);
            if (token == NULL || token[0] == '\0') {
                gw_store_random_token(one_token, 20);
            } else {
                (void)snprintf(one_token, sizeof(one_token), "%s", token);
            }
        } else {
            (void)snprintf(one_name, sizeof(one_name), "%s-%u", name, i);
            (void)snprintf(one_token, sizeof(one_token), "%s-%u", token, i);
        }
        rc = insert_device(st, one_name, one_token, profile_id, now_ms, err, err_len);
        if (rc == 0 && i == 0) {
            (void)snprintf(token_out, token_out_len, "%s", one_token);
        }
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_device_list(struct gw_store *st, int64_t now_ms, int64_t default_timeout_ms,
                         gw_store_device_fn fn, void *arg)
{
    sqlite3_stmt *s = NULL;
    struct gw_device_info d;
    int rc = -EIO;

    if (sqlite3_prepare_v2(
            st->db,
            "SELECT d.id, d.name, p.name, COALESCE(c.credentials_id, ''), d.created_ms,"
            " d.last_activity_ms, " GW_STORE_SQL_TIMEOUT(
                GW_STORE_SQL_TIMEOUT_DEVICE, GW_STORE_SQL_TIMEOUT_PROFILE,
                "?2") ","
                      " COALESCE(d.reachability, '')"
                      " FROM device d JOIN device_profile p ON p.id = d.profile_id LEFT JOIN "
                      "credentials c"
                      " ON c.device_id = d.id AND c.type = 'ACCESS_TOKEN' ORDER BY d.name",
            -1, &s, NULL) != SQLITE_OK) {
        goto out;
    }
    (void)sqlite3_bind_int64(s, 2, default_timeout_ms);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&d, 0, sizeof(d));
        d.id = sqlite3_column_int64(s, 0);
        (void)snprintf(d.name, sizeof(d.name), "%s", (const char *)sqlite3_column_text(s, 1));
        (void)snprintf(d.profile, sizeof(d.profile), "%s", (const char *)sqlite3_column_text(s, 2));
        (void)snprintf(d.token, sizeof(d.token), "%s", (const char *)sqlite3_column_text(s, 3));
        d.created_ms = sqlite3_column_int64(s, 4);
        d.last_activity_ms = sqlite3_column_int64(s, 5);
        d.inactivity_timeout_ms = sqlite3_column_int64(s, 6);
        d.is_active =
            d.last_activity_ms > 0 && now_ms < d.last_activity_ms + d.inactivity_timeout_ms;
        (void)snprintf(d.reachability, sizeof(d.reachability), "%s",
                       (const char *)sqlite3_column_text(s, 7));
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

/* Reads the (type, v_long, v_double, v_str) columns starting at col into v (borrowed text). */
void gw_store_column_value(sqlite3_stmt *s, int col, struct profile_value *v)
{
    memset(v, 0, sizeof(*v));
    v->type = (enum profile_value_type)sqlite3_column_int(s, col);
    switch (v->type) {
    case PROFILE_VT_BOOLEAN:
        v->b = sqlite3_column_int64(s, col + 1) != 0;
        break;
    case PROFILE_VT_LONG:
        v->l = sqlite3_column_int64(s, col + 1);
        break;
    case PROFILE_VT_DOUBLE:
        v->d = sqlite3_column_double(s, col + 2);
        break;
    case PROFILE_VT_STRING:
    case PROFILE_VT_JSON:
        v->s = (char *)(uintptr_t)sqlite3_column_text(s, col + 3);
        v->s_len = (size_t)sqlite3_column_bytes(s, col + 3);
        if (v->s == NULL) {
            v->s = (char *)(uintptr_t) "";
        }
        break;
    }
}

int gw_store_walk_kv(sqlite3_stmt *s, int scope_col, gw_store_kv_fn fn, void *arg)
{
    struct profile_value v;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        gw_store_column_value(s, 2, &v);
        rc = fn(arg, (const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), &v,
                scope_col >= 0 ? sqlite3_column_int(s, scope_col) : 0);
        if (rc != 0) {
            return rc;
        }
    }
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int gw_store_telemetry_walk(struct gw_store *st, int64_t device_id, const char *const *keys,
                            size_t n_keys, bool history, int64_t limit, gw_store_kv_fn fn,
                            void *arg)
{
    sqlite3_stmt *s = NULL;
    size_t i;
    int rc = -EIO;

    if (sqlite3_prepare_v2(st->db,
                           history ? "SELECT key, ts_ms, type, v_long, v_double, v_str FROM ts_kv"
                                     " WHERE device_id = ?1 AND (?2 IS NULL OR key = ?2)"
                                     " ORDER BY ts_ms DESC, key LIMIT ?3"
                                   : "SELECT key, ts_ms, type, v_long, v_double, v_str FROM"
                                     " ts_kv_latest WHERE device_id = ?1 AND (?2 IS NULL OR"
                                     " key = ?2) ORDER BY key LIMIT ?3",
                           -1, &s, NULL) != SQLITE_OK) {
        goto out;
    }
    for (i = 0; i < (n_keys == 0 ? 1 : n_keys); i++) {
        (void)sqlite3_reset(s);
        (void)sqlite3_bind_int64(s, 1, device_id);
        if (n_keys > 0) {
            (void)sqlite3_bind_text(s, 2, keys[i], -1, SQLITE_STATIC);
        }
        (void)sqlite3_bind_int64(s, 3, limit > 0 ? limit : INT64_MAX);
        rc = gw_store_walk_kv(s, -1, fn, arg);
        if (rc != 0) {
            goto out;
        }
    }
out:
    sqlite3_finalize(s);
    return rc;
}

int gw_store_attributes_walk(struct gw_store *st, int64_t device_id, int scope, gw_store_kv_fn fn,
                             void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc = -EIO;

    if (sqlite3_prepare_v2(st->db,
                           "SELECT key, last_update_ms, type, v_long, v_double, v_str, scope"
                           " FROM attribute_kv WHERE device_id = ?1 AND (?2 = 0 OR scope = ?2)"
                           " ORDER BY scope, key",
                           -1, &s, NULL) != SQLITE_OK) {
        goto out;
    }
    (void)sqlite3_bind_int64(s, 1, device_id);
    (void)sqlite3_bind_int(s, 2, scope);
    rc = gw_store_walk_kv(s, 6, fn, arg);
out:
    sqlite3_finalize(s);
    return rc;
}

int gw_store_device_reachability(struct gw_store *st, int64_t device_id, const char *text)
{
    sqlite3_stmt *s = NULL;
    int rc = -EIO;

    if (sqlite3_prepare_v2(st->db, "UPDATE device SET reachability = ?2 WHERE id = ?1", -1, &s,
                           NULL) == SQLITE_OK) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_claim_register(struct gw_store *st, int64_t device_id, const char *secret,
                            int64_t expiration_ms)
{
    sqlite3_stmt *s = NULL;
    int rc = -EIO;

    if (sqlite3_prepare_v2(st->db,
                           "INSERT INTO claim (device_id, secret_key, expiration_ms) VALUES"
                           " (?1, ?2, ?3) ON CONFLICT (device_id) DO UPDATE SET secret_key ="
                           " excluded.secret_key, expiration_ms = excluded.expiration_ms",
                           -1, &s, NULL) == SQLITE_OK) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, secret, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 3, expiration_ms);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_claim_device(struct gw_store *st, const char *name, const char *secret, int64_t now_ms,
                          enum gw_claim_result *result)
{
    sqlite3_stmt *s = NULL;
    struct gw_device_ref dev;
    int rc = gw_store_device_by_name(st, name, &dev);

    if (rc != 0) {
        return rc;
    }
    rc = gw_store_tx_begin(st);
    if (rc == 0 && sqlite3_prepare_v2(st->db,
                                      "SELECT secret_key, expiration_ms, claimed_ms FROM claim"
                                      " WHERE device_id = ?1",
                                      -1, &s, NULL) != SQLITE_OK) {
        rc = -EIO;
    }
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, dev.id);
        if (sqlite3_step(s) != SQLITE_ROW) {
            *result = GW_CLAIM_FAILURE;
        } else if (sqlite3_column_type(s, 2) != SQLITE_NULL) {
            *result = GW_CLAIM_CLAIMED;
        } else if (strcmp((const char *)sqlite3_column_text(s, 0), secret) != 0 ||
                   sqlite3_column_int64(s, 1) < now_ms) {
            *result = GW_CLAIM_FAILURE;
        } else {
            *result = GW_CLAIM_SUCCESS;
        }
        sqlite3_finalize(s);
        s = NULL;
    }
    if (rc == 0 && *result == GW_CLAIM_SUCCESS) {
        if (sqlite3_prepare_v2(st->db, "UPDATE claim SET claimed_ms = ?2 WHERE device_id = ?1", -1,
                               &s, NULL) != SQLITE_OK) {
            rc = -EIO;
        } else {
            (void)sqlite3_bind_int64(s, 1, dev.id);
            (void)sqlite3_bind_int64(s, 2, now_ms);
            rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        }
    }
    sqlite3_finalize(s);
    return gw_store_tx_end(st, rc);
}

int gw_store_prepare(struct gw_store *st, const char *sql, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK) {
        gw_log_err("store prepare failed err=\"%s\"", sqlite3_errmsg(st->db));
        return -EIO;
    }
    return 0;
}

void gw_store_bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
    if (v != NULL) {
        (void)sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    } else {
        (void)sqlite3_bind_null(s, i);
    }
}

const char *gw_store_col_text(sqlite3_stmt *s, int i)
{
    return (const char *)sqlite3_column_text(s, i);
}
