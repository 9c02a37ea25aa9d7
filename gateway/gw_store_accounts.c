/* SPDX-License-Identifier: MIT */
/*
 * gw_store_accounts.c - the admin API's accounts in the store: admin users (password hashes from
 * gw_pki), login sessions (one admin_token row per session, kind REFRESH, living until its
 * newest refresh token expires; logout and a password change revoke), and the write-lock probe
 * of the health check. Statements are prepared per call (the admin API is low-rate) and every
 * value is a bound parameter.
 * Thread: the admin threads and the command line, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

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

/* ---- admin users ------------------------------------------------------------------------- */

int gw_store_admin_count(struct gw_store *st, int64_t *n)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "SELECT count(*) FROM admin_user", &s);

    if (rc == 0) {
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *n = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_create(struct gw_store *st, const char *username, const char *password_hash,
                          bool is_first, int64_t now_ms, int64_t *id_out)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc =
        gw_store_prepare(st,
                         "INSERT INTO admin_user (username, password_hash, created_ms)"
                         " SELECT ?1, ?2, ?3 WHERE ?4 = 0 OR NOT EXISTS (SELECT 1 FROM admin_user)",
                         &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 2, password_hash, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 3, now_ms);
    (void)sqlite3_bind_int(s, 4, is_first ? 1 : 0);
    rc = step_write(st, s);
    if (rc == 0 && sqlite3_changes(st->db) != 1) {
        rc = -EEXIST;
    }
    if (rc == 0 && id_out != NULL) {
        *id_out = sqlite3_last_insert_rowid(st->db);
    }
    sqlite3_finalize(s);
    return rc;
}

static int admin_row(sqlite3_stmt *s, struct gw_admin_user *out)
{
    int rc = sqlite3_step(s);

    if (rc != SQLITE_ROW) {
        return rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(s, 0);
    (void)snprintf(out->username, sizeof(out->username), "%s", gw_store_col_text(s, 1));
    (void)snprintf(out->password_hash, sizeof(out->password_hash), "%s", gw_store_col_text(s, 2));
    (void)snprintf(out->authority, sizeof(out->authority), "%s", gw_store_col_text(s, 3));
    out->created_ms = sqlite3_column_int64(s, 4);
    return 0;
}

int gw_store_admin_by_name(struct gw_store *st, const char *username, struct gw_admin_user *out)
{
    sqlite3_stmt *s = NULL;
    int rc =
        gw_store_prepare(st,
                         "SELECT id, username, password_hash, authority, created_ms FROM admin_user"
                         " WHERE username = ?1",
                         &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, username, -1, SQLITE_STATIC);
        rc = admin_row(s, out);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_by_id(struct gw_store *st, int64_t id, struct gw_admin_user *out)
{
    sqlite3_stmt *s = NULL;
    int rc =
        gw_store_prepare(st,
                         "SELECT id, username, password_hash, authority, created_ms FROM admin_user"
                         " WHERE id = ?1",
                         &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = admin_row(s, out);
    }
    sqlite3_finalize(s);
    return rc;
}

/* Runs one write statement with an int64 and an optional text parameter. */
static int exec_write(struct gw_store *st, const char *sql, int64_t a, const char *b, int *changes)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, sql, &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, a);
        gw_store_bind_text_or_null(s, 2, b);
        rc = step_write(st, s);
    }
    if (changes != NULL) {
        *changes = rc == 0 ? sqlite3_changes(st->db) : 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_set_password(struct gw_store *st, int64_t user_id, const char *password_hash)
{
    int changes = 0;
    int rc;

    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = exec_write(st, "UPDATE admin_user SET password_hash = ?2 WHERE id = ?1", user_id,
                        password_hash, &changes);
    }
    if (rc == 0 && changes == 0) {
        rc = -ENOENT;
    }
    if (rc == 0) {
        rc = exec_write(st, "UPDATE admin_token SET is_revoked = 1 WHERE user_id = ?1", user_id,
                        NULL, NULL);
    }
    return gw_store_tx_end(st, rc);
}

/* ---- sessions ---------------------------------------------------------------------------- */

int gw_store_admin_session_add(struct gw_store *st, const char *session_id, int64_t user_id,
                               int64_t expiration_ms, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    int rc;

    rc = exec_write(st, "DELETE FROM admin_token WHERE expiration_ms < ?1", now_ms, NULL, NULL);
    if (rc == 0) {
        rc = gw_store_prepare(st,
                              "INSERT INTO admin_token (jti, user_id, kind, expiration_ms)"
                              " VALUES (?1, ?2, 'REFRESH', ?3)",
                              &s);
    }
    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, session_id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, user_id);
        (void)sqlite3_bind_int64(s, 3, expiration_ms);
        rc = step_write(st, s);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_session_check(struct gw_store *st, const char *session_id, int64_t now_ms,
                                 int64_t *user_id)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              "SELECT user_id FROM admin_token WHERE jti = ?1 AND is_revoked = 0"
                              " AND expiration_ms > ?2",
                              &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, session_id, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, now_ms);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *user_id = sqlite3_column_int64(s, 0);
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_admin_session_extend(struct gw_store *st, const char *session_id,
                                  int64_t expiration_ms)
{
    return exec_write(st,
                      "UPDATE admin_token SET expiration_ms = max(expiration_ms, ?1)"
                      " WHERE jti = ?2",
                      expiration_ms, session_id, NULL);
}

int gw_store_admin_session_end(struct gw_store *st, const char *session_id)
{
    return exec_write(st, "UPDATE admin_token SET is_revoked = 1 WHERE jti = ?2", 0, session_id,
                      NULL);
}

int gw_store_admin_ping(struct gw_store *st)
{
    int rc = gw_store_tx_begin(st);

    return gw_store_tx_end(st, rc != 0 ? rc : -EAGAIN) == -EAGAIN ? 0 : -EIO;
}
