/* SPDX-License-Identifier: MIT */
/*
 * gw_store_x509.c - the SQL of X.509 device credentials: find a device by the SHA-256
 * fingerprint of its certificate (the DTLS endpoint, per handshake and per request), set and read
 * a device's certificate (command line, admin API).
 *
 * A credentials row of type X509_CERTIFICATE holds the fingerprint as credentials_id (UNIQUE,
 * hence indexed: the lookup is one index probe) and the certificate as ThingsBoard stores it, the
 * base64 body on one line, as value. Parsing and fingerprinting are the caller's (gw_x509), so the
 * store stays free of crypto; this file only checks the shape of what it is given.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

static bool is_fingerprint(const char *s)
{
    size_t i;

    for (i = 0; i < GW_STORE_X509_FP_LEN - 1; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return s[i] == '\0';
}

/* Copies column col (text or NULL) to a heap string in *out. Returns: 0, -ENOMEM. */
static int dup_column(sqlite3_stmt *s, int col, char **out)
{
    const char *v = (const char *)sqlite3_column_text(s, col);

    *out = NULL;
    if (v == NULL) {
        return 0;
    }
    *out = strdup(v);
    return *out == NULL ? -ENOMEM : 0;
}

int gw_store_x509_find(struct gw_store *st, const char *fingerprint, struct gw_device_ref *out,
                       char **value_out)
{
    sqlite3_stmt *s = NULL;
    int rc;

    if (value_out != NULL) {
        *value_out = NULL;
    }
    rc = gw_store_prepare(st,
                          "SELECT d.id, d.profile_id, d.name, c.value FROM credentials c"
                          " JOIN device d ON d.id = c.device_id"
                          " JOIN device_profile p ON p.id = d.profile_id"
                          " WHERE c.type = 'X509_CERTIFICATE' AND c.credentials_id = ?1",
                          &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, fingerprint, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        out->profile_id = sqlite3_column_int64(s, 1);
        (void)snprintf(out->name, sizeof(out->name), "%s", (const char *)sqlite3_column_text(s, 2));
        rc = value_out != NULL ? dup_column(s, 3, value_out) : 0;
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

static int device_exists(struct gw_store *st, int64_t device_id)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "SELECT 1 FROM device WHERE id = ?1", &s);

    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, device_id);
    rc = sqlite3_step(s);
    rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
    sqlite3_finalize(s);
    return rc;
}

static int upsert(struct gw_store *st, int64_t device_id, const char *fingerprint, const char *body,
                  int64_t now_ms)
{
    char uuid[37];
    sqlite3_stmt *s = NULL;
    int rc;

    rc = gw_store_prepare(st,
                          "INSERT INTO credentials (uuid, device_id, type, credentials_id, value,"
                          " created_ms) VALUES (?1, ?2, 'X509_CERTIFICATE', ?3, ?4, ?5)"
                          " ON CONFLICT (device_id) DO UPDATE SET type = excluded.type,"
                          " credentials_id = excluded.credentials_id, value = excluded.value",
                          &s);
    if (rc != 0) {
        return rc;
    }
    gw_store_uuid_v4(uuid);
    (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 2, device_id);
    (void)sqlite3_bind_text(s, 3, fingerprint, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 4, body, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 5, now_ms);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        rc = 0;
    } else if (sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE) {
        rc = -EEXIST;
    } else {
        gw_log_err("store write failed rc=%d err=\"%s\"", rc, sqlite3_errmsg(st->db));
        rc = -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_x509_set(struct gw_store *st, int64_t device_id, const char *fingerprint,
                      const char *body, int64_t now_ms)
{
    int rc;

    if (!is_fingerprint(fingerprint) || body == NULL || body[0] == '\0') {
        return -EINVAL;
    }
    rc = gw_store_tx_begin(st);
    if (rc != 0) {
        return rc;
    }
    rc = device_exists(st, device_id);
    if (rc == 0) {
        rc = upsert(st, device_id, fingerprint, body, now_ms);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_x509_get(struct gw_store *st, int64_t device_id,
                      char fingerprint[GW_STORE_X509_FP_LEN], char **body_out)
{
    sqlite3_stmt *s = NULL;
    int rc;

    *body_out = NULL;
    rc = gw_store_prepare(st,
                          "SELECT credentials_id, value FROM credentials"
                          " WHERE device_id = ?1 AND type = 'X509_CERTIFICATE'",
                          &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, device_id);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        (void)snprintf(fingerprint, GW_STORE_X509_FP_LEN, "%s",
                       (const char *)sqlite3_column_text(s, 0));
        rc = dup_column(s, 1, body_out);
    } else {
        rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_x509_data_version(struct gw_store *st, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "PRAGMA data_version", &s);

    if (rc != 0) {
        return rc;
    }
    rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
    *out = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return rc;
}
