/* SPDX-License-Identifier: MIT */
/*
 * gw_store_api_ota.c - OTA packages as the admin API manages them (specs/rest-api.md 6a): the
 * package info (created without data), pages with a title search, the upload of the data into
 * the package's BLOB, deletion with ThingsBoard's reference checks, and the assignment to devices
 * and profiles with the fw_* / sw_* shared attributes and target_* telemetry a device then sees.
 *
 * Upload: the caller hands the data as a pointer into a file it mapped (the upload's temporary
 * file), bound without a copy; SQLite writes it through its bounded page cache, spilling to the
 * WAL, in one transaction that also sets size, checksum and file name. Incremental BLOB writes
 * are not possible here: SQLite refuses them on a table with an expression index (the unique
 * version index of ota_package). The CoAP side reads the BLOB slice by slice
 * (gw_store_ota_read).
 *
 * Assignment: a device's effective package is its own id, else its profile's (as
 * gw_store_ota_for_device). gw_store_api_ota_notify() writes what a change of the effective
 * package means for one device; it runs after the save that changed it, in transactions of its
 * own (the shared-attribute update queues its downlink through gw_store_shared_update()).
 * Thread: the admin threads, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

/* One int64 from a query with ?1 int64 and ?2 text; -ENOENT without a row. */
static int one_int(struct gw_store *st, const char *sql, int64_t a, const char *b, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, sql, &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, a);
        gw_store_bind_text_or_null(s, 2, b);
        rc = sqlite3_step(s);
        *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
        rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

/* ---- reading ----------------------------------------------------------------------------- */

#define OTA_SELECT                                                                                 \
    "SELECT o.id, o.uuid, p.uuid, COALESCE(o.profile_id, 0), o.type = 'SOFTWARE', o.title,"        \
    " o.version, o.tag, o.checksum_algorithm, o.checksum, o.content_type, o.file_name,"            \
    " COALESCE(o.size_bytes, -1), o.data IS NOT NULL, o.created_ms"                                \
    " FROM ota_package o LEFT JOIN device_profile p ON p.id = o.profile_id "

static int walk_ota(sqlite3_stmt *s, int (*fn)(void *arg, const struct gw_api_ota *o), void *arg,
                    bool *is_found)
{
    struct gw_api_ota o;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&o, 0, sizeof(o));
        o.id = sqlite3_column_int64(s, 0);
        o.uuid = gw_store_col_text(s, 1);
        o.profile_uuid = gw_store_col_text(s, 2);
        o.profile_id = sqlite3_column_int64(s, 3);
        o.is_software = sqlite3_column_int(s, 4) != 0;
        o.title = gw_store_col_text(s, 5);
        o.version = gw_store_col_text(s, 6);
        o.tag = gw_store_col_text(s, 7);
        o.checksum_algorithm = gw_store_col_text(s, 8);
        o.checksum = gw_store_col_text(s, 9);
        o.content_type = gw_store_col_text(s, 10);
        o.file_name = gw_store_col_text(s, 11);
        o.size_bytes = sqlite3_column_int64(s, 12);
        o.has_data = sqlite3_column_int(s, 13) != 0;
        o.created_ms = sqlite3_column_int64(s, 14);
        *is_found = true;
        rc = fn(arg, &o);
        if (rc != 0) {
            return rc;
        }
    }
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int gw_store_api_ota_get(struct gw_store *st, const char *uuid, int64_t id,
                         int (*fn)(void *arg, const struct gw_api_ota *o), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    int rc = gw_store_prepare(st, OTA_SELECT "WHERE o.uuid = ?1 OR (?1 IS NULL AND o.id = ?2)", &s);

    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, uuid);
        (void)sqlite3_bind_int64(s, 2, id);
        rc = walk_ota(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc == 0 && !is_found ? -ENOENT : rc;
}

static const char *const sort_cols[] = {
    [GW_API_OSORT_CREATED] = "o.created_ms",
    [GW_API_OSORT_TYPE] = "o.type",
    [GW_API_OSORT_TITLE] = "o.title",
    [GW_API_OSORT_VERSION] = "o.version",
    [GW_API_OSORT_TAG] = "o.tag",
    [GW_API_OSORT_FILE_NAME] = "o.file_name",
    [GW_API_OSORT_SIZE] = "o.size_bytes",
    [GW_API_OSORT_CHECKSUM] = "o.checksum",
};

#define OTA_WHERE                                                                                  \
    "WHERE (?1 IS NULL OR instr(lower(o.title), lower(?1)) > 0) AND (?2 IS NULL OR p.uuid = ?2)"   \
    " AND (?3 = 0 OR (o.type = 'SOFTWARE') = (?3 = 2)) AND (?4 = 0 OR o.data IS NOT NULL) "

static void bind_ota_query(sqlite3_stmt *s, const struct gw_api_ota_query *q)
{
    gw_store_bind_text_or_null(s, 1, q->text_search);
    gw_store_bind_text_or_null(s, 2, q->profile_uuid);
    (void)sqlite3_bind_int(s, 3, q->type);
    (void)sqlite3_bind_int(s, 4, q->is_with_data ? 1 : 0);
}

int gw_store_api_ota_page(struct gw_store *st, const struct gw_api_ota_query *q, int64_t *total,
                          int (*fn)(void *arg, const struct gw_api_ota *o), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    char sql[1536];
    int rc =
        gw_store_prepare(st,
                         "SELECT count(*) FROM ota_package o LEFT JOIN device_profile p ON p.id ="
                         " o.profile_id " OTA_WHERE,
                         &s);

    if (rc == 0) {
        bind_ota_query(s, q);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *total = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != 0 || *total <= q->page * q->page_size) {
        return rc;
    }
    (void)snprintf(sql, sizeof(sql),
                   OTA_SELECT OTA_WHERE "ORDER BY %s %s, o.created_ms, o.id"
                                        " LIMIT ?5 OFFSET ?6",
                   sort_cols[q->sort], q->is_desc ? "DESC" : "ASC");
    rc = gw_store_prepare(st, sql, &s);
    if (rc == 0) {
        bind_ota_query(s, q);
        (void)sqlite3_bind_int64(s, 5, q->page_size);
        (void)sqlite3_bind_int64(s, 6, q->page * q->page_size);
        rc = walk_ota(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc;
}

/* ---- create, delete ---------------------------------------------------------------------- */

int gw_store_api_ota_create(struct gw_store *st, const struct gw_api_ota_in *in, int64_t now_ms,
                            char uuid_out[GW_STORE_UUID_LEN])
{
    sqlite3_stmt *s = NULL;
    int64_t profile_id = 0;
    int rc = gw_store_tx_begin(st);

    if (rc == 0 && in->profile_uuid != NULL) {
        rc = one_int(st, "SELECT id FROM device_profile WHERE uuid = ?2 AND ?1 = 0", 0,
                     in->profile_uuid, &profile_id);
    }
    rc = rc == 0 ? gw_store_prepare(
                       st,
                       "INSERT INTO ota_package (uuid, profile_id, type, title, version, tag,"
                       " created_ms) SELECT ?1, NULLIF(?2, 0), ?3, ?4, ?5, ?6, ?7 WHERE NOT"
                       " EXISTS (SELECT 1 FROM ota_package WHERE title = ?4 AND version = ?5)",
                       &s)
                 : rc;
    if (rc == 0) {
        gw_store_uuid_v4(uuid_out);
        (void)sqlite3_bind_text(s, 1, uuid_out, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 2, profile_id);
        (void)sqlite3_bind_text(s, 3, in->is_software ? "SOFTWARE" : "FIRMWARE", -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 4, in->title, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 5, in->version, -1, SQLITE_STATIC);
        gw_store_bind_text_or_null(s, 6, in->tag);
        (void)sqlite3_bind_int64(s, 7, now_ms);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        rc = rc == 0 && sqlite3_changes(st->db) == 0 ? -EEXIST : rc;
    }
    sqlite3_finalize(s);
    return gw_store_tx_end(st, rc);
}

int gw_store_api_ota_delete(struct gw_store *st, const char *uuid, int *why)
{
    int64_t id = 0, n_dev = 0, n_prof = 0;
    int rc = gw_store_tx_begin(st);

    *why = 0;
    rc = rc == 0
             ? one_int(st, "SELECT id FROM ota_package WHERE uuid = ?2 AND ?1 = 0", 0, uuid, &id)
             : rc;
    rc = rc == 0 ? one_int(st,
                           "SELECT count(*) FROM device WHERE (fw_package_id = ?1 OR sw_package_id"
                           " = ?1) AND ?2 IS NULL",
                           id, NULL, &n_dev)
                 : rc;
    rc = rc == 0 ? one_int(st,
                           "SELECT count(*) FROM device_profile WHERE (fw_package_id = ?1 OR"
                           " sw_package_id = ?1) AND ?2 IS NULL",
                           id, NULL, &n_prof)
                 : rc;
    if (rc == 0 && (n_dev > 0 || n_prof > 0)) {
        *why = n_dev > 0 ? 1 : 2;
        rc = -EBUSY;
    }
    if (rc == 0) {
        rc = one_int(st, "DELETE FROM ota_package WHERE id = ?1 AND ?2 IS NULL RETURNING id", id,
                     NULL, &n_dev);
    }
    return gw_store_tx_end(st, rc);
}

/* ---- upload ------------------------------------------------------------------------------ */

/* The checks before an upload: the package exists, has no data, and the total stays in limits. */
static int upload_checks(struct gw_store *st, const char *uuid, const struct gw_api_ota_data *d,
                         int64_t *id)
{
    int64_t has = 0, total = 0;
    int rc = one_int(st, "SELECT id FROM ota_package WHERE uuid = ?2 AND ?1 = 0", 0, uuid, id);

    rc = rc == 0 ? one_int(st,
                           "SELECT data IS NOT NULL FROM ota_package WHERE id = ?1 AND ?2 IS"
                           " NULL",
                           *id, NULL, &has)
                 : rc;
    if (rc == 0 && has) {
        return -EEXIST;
    }
    rc = rc == 0 ? one_int(st,
                           "SELECT CAST(total(size_bytes) AS INTEGER) FROM ota_package WHERE"
                           " ?1 = 0 AND ?2 IS NULL",
                           0, NULL, &total)
                 : rc;
    if (rc == 0 && d->max_total_bytes > 0 && total + (int64_t)d->len > d->max_total_bytes) {
        rc = -ENOSPC;
    }
    return rc;
}

static int write_data(struct gw_store *st, int64_t id, const struct gw_api_ota_data *d)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
        "UPDATE ota_package SET data = ?2, size_bytes = ?3, checksum_algorithm = ?4,"
        " checksum = ?5, file_name = ?6, content_type = ?7 WHERE id = ?1",
        &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        (void)sqlite3_bind_blob64(s, 2, d->data, d->len, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 3, (int64_t)d->len);
        (void)sqlite3_bind_text(s, 4, d->checksum_algorithm, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 5, d->checksum, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 6, d->file_name, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 7, d->content_type, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        if (rc != 0) {
            gw_log_err("store ota data failed err=\"%s\"", sqlite3_errmsg(st->db));
        }
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_ota_data_set(struct gw_store *st, const char *uuid,
                              const struct gw_api_ota_data *d)
{
    int64_t id = 0;
    int rc = gw_store_tx_begin(st);

    rc = rc == 0 ? upload_checks(st, uuid, d, &id) : rc;
    rc = rc == 0 ? write_data(st, id, d) : rc;
    return gw_store_tx_end(st, rc);
}

/* ---- assignment -------------------------------------------------------------------------- */

int gw_store_api_ota_effective(struct gw_store *st, int64_t device_id, bool is_software,
                               int64_t *package_id)
{
    int rc = one_int(
        st,
        is_software ? "SELECT COALESCE(d.sw_package_id, p.sw_package_id, 0) FROM device d JOIN"
                      " device_profile p ON p.id = d.profile_id WHERE d.id = ?1 AND ?2 IS NULL"
                    : "SELECT COALESCE(d.fw_package_id, p.fw_package_id, 0) FROM device d JOIN"
                      " device_profile p ON p.id = d.profile_id WHERE d.id = ?1 AND ?2 IS NULL",
        device_id, NULL, package_id);

    return rc;
}

int gw_store_api_ota_id(struct gw_store *st, const char *uuid, int64_t *id)
{
    return one_int(st, "SELECT id FROM ota_package WHERE uuid = ?2 AND ?1 = 0", 0, uuid, id);
}

int gw_store_api_device_ota_set(struct gw_store *st, int64_t device_id, int64_t fw_id,
                                int64_t sw_id)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              "UPDATE device SET fw_package_id = NULLIF(?2, 0), sw_package_id ="
                              " NULLIF(?3, 0) WHERE id = ?1",
                              &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_int64(s, 2, fw_id);
        (void)sqlite3_bind_int64(s, 3, sw_id);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_profile_ota_set(struct gw_store *st, int64_t profile_id, bool is_software,
                                 int64_t package_id, int64_t *old_id)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_tx_begin(st);

    rc = rc == 0 ? one_int(st,
                           is_software ? "SELECT COALESCE(sw_package_id, 0) FROM device_profile"
                                         " WHERE id = ?1 AND ?2 IS NULL"
                                       : "SELECT COALESCE(fw_package_id, 0) FROM device_profile"
                                         " WHERE id = ?1 AND ?2 IS NULL",
                           profile_id, NULL, old_id)
                 : rc;
    rc = rc == 0 ? gw_store_prepare(st,
                                    is_software
                                        ? "UPDATE device_profile SET sw_package_id = NULLIF(?2, 0)"
                                          " WHERE id = ?1"
                                        : "UPDATE device_profile SET fw_package_id = NULLIF(?2, 0)"
                                          " WHERE id = ?1",
                                    &s)
                 : rc;
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, profile_id);
        (void)sqlite3_bind_int64(s, 2, package_id);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return gw_store_tx_end(st, rc);
}

int gw_store_api_profile_followers(struct gw_store *st, int64_t profile_id, bool is_software,
                                   int (*fn)(void *arg, int64_t device_id), void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              is_software
                                  ? "SELECT id FROM device WHERE profile_id = ?1 AND sw_package_id"
                                    " IS NULL ORDER BY id"
                                  : "SELECT id FROM device WHERE profile_id = ?1 AND fw_package_id"
                                    " IS NULL ORDER BY id",
                              &s);

    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, profile_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        rc = fn(arg, sqlite3_column_int64(s, 0));
        if (rc != 0) {
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(s);
    return rc;
}

/* The attributes of package id: values to set (kv, *n) and keys to delete (del, *n_del). */
struct notify_set {
    struct profile_kv kv[6];
    size_t n;
    const char *del[9];
    size_t n_del;
    char keys[15][32];
    char text[6][GW_STORE_NAME_MAX];
};

static void set_str(struct notify_set *ns, const char *pfx, const char *name, const char *v)
{
    struct profile_kv *kv = &ns->kv[ns->n];
    size_t i = ns->n + ns->n_del;

    (void)snprintf(ns->keys[i], sizeof(ns->keys[i]), "%s_%s", pfx, name);
    (void)snprintf(ns->text[ns->n], sizeof(ns->text[ns->n]), "%s", v);
    kv->key = ns->keys[i];
    kv->v.type = PROFILE_VT_STRING;
    kv->v.s = ns->text[ns->n];
    kv->v.s_len = strlen(ns->text[ns->n]);
    ns->n++;
}

static void del_key(struct notify_set *ns, const char *pfx, const char *name)
{
    size_t i = ns->n + ns->n_del;

    (void)snprintf(ns->keys[i], sizeof(ns->keys[i]), "%s_%s", pfx, name);
    ns->del[ns->n_del++] = ns->keys[i];
}

static int package_attrs(void *arg, const struct gw_api_ota *o)
{
    struct notify_set *ns = arg;
    const char *pfx = o->is_software ? "sw" : "fw";

    set_str(ns, pfx, "title", o->title);
    set_str(ns, pfx, "version", o->version);
    if (o->tag != NULL) {
        set_str(ns, pfx, "tag", o->tag);
    } else {
        del_key(ns, pfx, "tag");
    }
    if (o->size_bytes >= 0) {
        (void)snprintf(ns->keys[ns->n + ns->n_del], 32, "%s_size", pfx);
        ns->kv[ns->n].key = ns->keys[ns->n + ns->n_del];
        ns->kv[ns->n].v.type = PROFILE_VT_LONG;
        ns->kv[ns->n].v.l = o->size_bytes;
        ns->n++;
    }
    if (o->checksum != NULL && o->checksum_algorithm != NULL) {
        set_str(ns, pfx, "checksum_algorithm", o->checksum_algorithm);
        set_str(ns, pfx, "checksum", o->checksum);
    }
    del_key(ns, pfx, "url");
    return 0;
}

/* The telemetry of an assignment: target_*_title, _version, _tag, _ts and *_state INITIATED. */
static int notify_telemetry(struct gw_store *st, int64_t device_id, bool is_software,
                            const struct notify_set *ns, int64_t now_ms)
{
    const char *pfx = is_software ? "sw" : "fw";
    struct profile_kv kv[5];
    struct profile_batch b = { kv, 0, 5 };
    char keys[5][32];
    size_t i;

    memset(kv, 0, sizeof(kv));
    for (i = 0; i < ns->n && b.n < 3; i++) {
        if (ns->kv[i].v.type == PROFILE_VT_STRING && strstr(ns->kv[i].key, "_checksum") == NULL) {
            (void)snprintf(keys[b.n], sizeof(keys[b.n]), "target_%s", ns->kv[i].key);
            kv[b.n] = ns->kv[i];
            kv[b.n].key = keys[b.n];
            b.n++;
        }
    }
    (void)snprintf(keys[b.n], sizeof(keys[b.n]), "target_%s_ts", pfx);
    kv[b.n].key = keys[b.n];
    kv[b.n].v.type = PROFILE_VT_LONG;
    kv[b.n].v.l = now_ms;
    b.n++;
    (void)snprintf(keys[b.n], sizeof(keys[b.n]), "%s_state", pfx);
    kv[b.n].key = keys[b.n];
    kv[b.n].v.type = PROFILE_VT_STRING;
    kv[b.n].v.s = (char *)(uintptr_t) "INITIATED";
    kv[b.n].v.s_len = 9;
    b.n++;
    for (i = 0; i < b.n; i++) {
        kv[i].ts_ms = now_ms;
    }
    return gw_store_api_ts_save(st, device_id, &b);
}

int gw_store_api_ota_notify(struct gw_store *st, int64_t device_id, bool is_software,
                            int64_t package_id, int64_t now_ms, int64_t expiration_ms)
{
    static const char *const all[] = {
        "title", "version", "ts", "state", "size", "checksum", "checksum_algorithm", "url", "tag"
    };
    struct notify_set ns;
    struct profile_batch b;
    size_t i;
    int rc = 0;

    memset(&ns, 0, sizeof(ns));
    if (package_id == 0) {
        for (i = 0; i < 9; i++) {
            del_key(&ns, is_software ? "sw" : "fw", all[i]);
        }
    } else {
        rc = gw_store_api_ota_get(st, NULL, package_id, package_attrs, &ns);
    }
    b = (struct profile_batch){ ns.kv, ns.n, 6 };
    rc = rc == 0 ? gw_store_shared_update(st, device_id, &b, ns.del, ns.n_del, now_ms,
                                          expiration_ms, INT64_MAX)
                 : rc;
    if (rc == 0 && package_id != 0) {
        rc = notify_telemetry(st, device_id, is_software, &ns, now_ms);
    }
    return rc;
}

int gw_store_api_ota_followers_count(struct gw_store *st, const char *profile_uuid,
                                     bool is_software, int64_t *n)
{
    return one_int(st,
                   is_software ? "SELECT count(*) FROM device d JOIN device_profile p ON p.id ="
                                 " d.profile_id WHERE p.uuid = ?2 AND d.sw_package_id IS NULL AND"
                                 " ?1 = 0"
                               : "SELECT count(*) FROM device d JOIN device_profile p ON p.id ="
                                 " d.profile_id WHERE p.uuid = ?2 AND d.fw_package_id IS NULL AND"
                                 " ?1 = 0",
                   0, profile_uuid, n);
}
