/* SPDX-License-Identifier: MIT */
/*
 * gw_store_ota.c - firmware and software packages in the database (spec 10, 10.4). The image is a
 * BLOB read slice by slice (substr on a BLOB counts bytes), so a download never loads the whole
 * image for one block. Assigning a package sets the fw_* (sw_*) shared attributes through the
 * normal shared-update path, so observing devices are told like any other attribute change.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_store_internal.h"

#define ATTR_EXPIRY_MS 86400000

int gw_store_ota_add(struct gw_store *st, bool is_software, const char *title, const char *version,
                     const uint8_t *data, size_t len, const char *checksum_algorithm,
                     const char *checksum, int64_t now_ms, int64_t *id_out)
{
    sqlite3_stmt *s = NULL;
    char uuid[37];
    int rc = gw_store_prepare(
        st,
        "INSERT INTO ota_package (uuid, type, title, version, checksum_algorithm,"
        " checksum, size_bytes, data, content_type, created_ms) VALUES (?1, ?2, ?3, ?4,"
        " ?5, ?6, ?7, ?8, 'application/octet-stream', ?9)",
        &s);

    if (rc == 0) {
        gw_store_uuid_v4(uuid);
        (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
        (void)sqlite3_bind_text(s, 2, is_software ? "SOFTWARE" : "FIRMWARE", -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 3, title, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 4, version, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 5, checksum_algorithm, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 6, checksum, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 7, (int64_t)len);
        (void)sqlite3_bind_blob64(s, 8, data, len, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 9, now_ms);
        rc = sqlite3_step(s);
        if (rc == SQLITE_DONE) {
            *id_out = sqlite3_last_insert_rowid(st->db);
            rc = 0;
        } else {
            rc = sqlite3_extended_errcode(st->db) == SQLITE_CONSTRAINT_UNIQUE ? -EEXIST : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

static void row_info(sqlite3_stmt *s, struct gw_ota_info *out)
{
    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(s, 0);
    out->is_software = strcmp((const char *)sqlite3_column_text(s, 1), "SOFTWARE") == 0;
    (void)snprintf(out->title, sizeof(out->title), "%s", (const char *)sqlite3_column_text(s, 2));
    (void)snprintf(out->version, sizeof(out->version), "%s",
                   (const char *)sqlite3_column_text(s, 3));
    (void)snprintf(out->checksum_algorithm, sizeof(out->checksum_algorithm), "%s",
                   sqlite3_column_text(s, 4) != NULL ? (const char *)sqlite3_column_text(s, 4)
                                                     : "");
    (void)snprintf(out->checksum, sizeof(out->checksum), "%s",
                   sqlite3_column_text(s, 5) != NULL ? (const char *)sqlite3_column_text(s, 5)
                                                     : "");
    out->size_bytes = sqlite3_column_int64(s, 6);
}

#define OTA_COLUMNS "SELECT id, type, title, version, checksum_algorithm, checksum, size_bytes "

int gw_store_ota_get(struct gw_store *st, int64_t package_id, struct gw_ota_info *out)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, OTA_COLUMNS "FROM ota_package WHERE id = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, package_id);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            row_info(s, out);
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_ota_for_device(struct gw_store *st, int64_t device_id, bool is_software,
                            struct gw_ota_info *out)
{
    sqlite3_stmt *s = NULL;
    int64_t id = 0;
    int rc = gw_store_prepare(
        st,
        is_software ? "SELECT COALESCE(d.sw_package_id, p.sw_package_id) FROM device d JOIN"
                      " device_profile p ON p.id = d.profile_id WHERE d.id = ?1"
                    : "SELECT COALESCE(d.fw_package_id, p.fw_package_id) FROM device d JOIN"
                      " device_profile p ON p.id = d.profile_id WHERE d.id = ?1",
        &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -ENOENT;
        id = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (rc != 0 || id == 0) {
        return rc != 0 ? rc : -ENOENT;
    }
    return gw_store_ota_get(st, id, out);
}

int gw_store_ota_read(struct gw_store *st, int64_t package_id, int64_t offset, size_t len,
                      uint8_t *buf)
{
    sqlite3_blob *blob = NULL;
    int rc;

    /* Incremental BLOB I/O reads only the pages of this slice, not the whole image. */
    if (sqlite3_blob_open(st->db, "main", "ota_package", "data", package_id, 0, &blob) !=
        SQLITE_OK) {
        sqlite3_blob_close(blob);
        return -EIO;
    }
    rc = offset < 0 || offset + (int64_t)len > sqlite3_blob_bytes(blob) ||
                 sqlite3_blob_read(blob, buf, (int)len, (int)offset) != SQLITE_OK
             ? -EIO
             : 0;
    (void)sqlite3_blob_close(blob);
    return rc;
}

int gw_store_ota_list(struct gw_store *st, int (*fn)(void *arg, const struct gw_ota_info *p),
                      void *arg)
{
    sqlite3_stmt *s = NULL;
    struct gw_ota_info info;
    int rc = gw_store_prepare(st, OTA_COLUMNS "FROM ota_package ORDER BY id", &s);

    while (rc == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        row_info(s, &info);
        rc = fn(arg, &info);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : rc;
}

static void set_str(struct profile_kv *kv, const char *key, const char *val)
{
    kv->key = (char *)(uintptr_t)key;
    kv->v.type = PROFILE_VT_STRING;
    kv->v.s = (char *)(uintptr_t)val;
    kv->v.s_len = strlen(val);
}

int gw_store_ota_assign_device(struct gw_store *st, int64_t device_id, bool is_software,
                               int64_t package_id, int64_t now_ms)
{
    static const char *const fw_keys[] = { "fw_title", "fw_version", "fw_size",
                                           "fw_checksum_algorithm", "fw_checksum" };
    static const char *const sw_keys[] = { "sw_title", "sw_version", "sw_size",
                                           "sw_checksum_algorithm", "sw_checksum" };
    const char *const *keys = is_software ? sw_keys : fw_keys;
    struct profile_kv kv[5];
    struct profile_batch batch = { kv, 5, 5 };
    struct gw_ota_info info;
    sqlite3_stmt *s = NULL;
    int rc = 0;

    memset(kv, 0, sizeof(kv));
    if (package_id != 0) {
        rc = gw_store_ota_get(st, package_id, &info);
        if (rc == 0 && info.is_software != is_software) {
            rc = -ENOENT;
        }
    }
    if (rc == 0) {
        rc = gw_store_prepare(st,
                              is_software
                                  ? "UPDATE device SET sw_package_id = NULLIF(?2, 0) WHERE id = ?1"
                                  : "UPDATE device SET fw_package_id = NULLIF(?2, 0) WHERE id = ?1",
                              &s);
    }
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_int64(s, 2, package_id);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    if (rc != 0) {
        return rc;
    }
    if (package_id == 0) {
        return gw_store_shared_update(st, device_id, NULL, keys, 5, now_ms, now_ms + ATTR_EXPIRY_MS,
                                      INT64_MAX);
    }
    set_str(&kv[0], keys[0], info.title);
    set_str(&kv[1], keys[1], info.version);
    kv[2].key = (char *)(uintptr_t)keys[2];
    kv[2].v.type = PROFILE_VT_LONG;
    kv[2].v.l = info.size_bytes;
    set_str(&kv[3], keys[3], info.checksum_algorithm);
    set_str(&kv[4], keys[4], info.checksum);
    return gw_store_shared_update(st, device_id, &batch, NULL, 0, now_ms, now_ms + ATTR_EXPIRY_MS,
                                  INT64_MAX);
}
