/* SPDX-License-Identifier: MIT */
/*
 * gw_store_pending.c - the pending (unknown) devices of every kind (specs/rest-api.md 9.3): the
 * one list that Efento sensors with an unknown cloud token (gw_store_efento_pending.c), unknown
 * CoAP access tokens and unknown DTLS client certificates share, with its cap, blocking, the
 * admin API's pages, and the approval of COAP_TOKEN and X509 entries.
 *
 * Cost of a misconfigured device: an attempt first reads its entry with a statement prepared at
 * open (one index probe on UNIQUE (kind, identifier)). A blocked entry, or one written less than
 * GW_STORE_PENDING_GAP_MS ago, ends there: no transaction, no write. Otherwise one transaction
 * upserts the entry and trims the list to the cap (the least recently seen entries that are not
 * blocked go; blocked ones are the operator's and stay until deleted).
 * Every value from a device or a request is a bound parameter; only sort columns and directions
 * chosen from constants are spliced into SQL.
 * Thread: any, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

/* ---- recording an attempt ----------------------------------------------------------------- */

/* Whether the attempt needs a write: 1 blocked, 0 nothing to write, 2 write, -EIO. */
static int probe(struct gw_store *st, const struct gw_store_pending_in *in, int64_t now_ms)
{
    sqlite3_stmt *s = st->stmt[S_PENDING_PROBE];
    int rc;

    (void)sqlite3_bind_text(s, 1, in->kind, -1, SQLITE_STATIC);
    (void)sqlite3_bind_text(s, 2, in->identifier, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        int64_t last_ms = sqlite3_column_int64(s, 0);
        rc = sqlite3_column_int64(s, 1) != 0               ? 1
             : now_ms >= last_ms + GW_STORE_PENDING_GAP_MS ? 2
                                                           : 0;
    } else {
        rc = rc == SQLITE_DONE ? 2 : -EIO;
    }
    (void)sqlite3_reset(s);
    (void)sqlite3_clear_bindings(s);
    return rc;
}

int gw_store_pending_note(struct gw_store *st, const struct gw_store_pending_in *in, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    int rc = probe(st, in, now_ms);

    if (rc != 2) {
        return rc;
    }
    rc = gw_store_tx_begin(st);
    if (rc != 0) {
        return rc;
    }
    rc = gw_store_prepare(
        st,
        "INSERT INTO pending_device (kind, identifier, first_seen_ms, last_seen_ms,"
        " seen_count, peer, last_payload) VALUES (?1, ?2, ?3, ?3, 1, ?4, ?5)"
        " ON CONFLICT (kind, identifier) DO UPDATE SET last_seen_ms ="
        " excluded.last_seen_ms, seen_count = seen_count + 1, peer ="
        " excluded.peer, last_payload = excluded.last_payload WHERE"
        " pending_device.blocked = 0 AND"
        " excluded.last_seen_ms >= pending_device.last_seen_ms + ?6",
        &s);
    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, in->kind, -1, SQLITE_STATIC);
        (void)sqlite3_bind_text(s, 2, in->identifier, -1, SQLITE_STATIC);
        (void)sqlite3_bind_int64(s, 3, now_ms);
        gw_store_bind_text_or_null(s, 4, in->peer);
        gw_store_bind_text_or_null(s, 5, in->summary);
        (void)sqlite3_bind_int64(s, 6, GW_STORE_PENDING_GAP_MS);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    s = NULL;
    rc = rc != 0 ? rc
                 : gw_store_prepare(st,
                                    "DELETE FROM pending_device WHERE blocked = 0 AND (SELECT"
                                    " count(*) FROM pending_device WHERE blocked = 0) > ?1 AND"
                                    " id NOT IN (SELECT id FROM pending_device WHERE blocked = 0"
                                    " ORDER BY last_seen_ms DESC, id DESC LIMIT ?1)",
                                    &s);
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1,
                                 in->max_entries > 0 ? in->max_entries : GW_STORE_PENDING_MAX);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return gw_store_tx_end(st, rc);
}

/* ---- reading ------------------------------------------------------------------------------ */

#define PENDING_SELECT                                                                             \
    "SELECT id, kind, identifier, first_seen_ms, last_seen_ms, seen_count, peer,"                  \
    " CASE WHEN json_valid(last_payload) THEN last_payload END, blocked FROM pending_device "
#define PENDING_WHERE                                                                              \
    "WHERE blocked = ?4 AND (?1 IS NULL OR instr(lower(identifier), lower(?1)) > 0 OR"             \
    " instr(lower(COALESCE(json_extract(CASE WHEN json_valid(last_payload) THEN last_payload END," \
    " '$.serial'), '')), lower(?1)) > 0) "

static int walk_pending(sqlite3_stmt *s, int (*fn)(void *arg, const struct gw_api_pending *p),
                        void *arg, bool *is_found)
{
    struct gw_api_pending p;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&p, 0, sizeof(p));
        p.id = sqlite3_column_int64(s, 0);
        p.kind = gw_store_col_text(s, 1);
        p.identifier = gw_store_col_text(s, 2);
        p.first_seen_ms = sqlite3_column_int64(s, 3);
        p.last_seen_ms = sqlite3_column_int64(s, 4);
        p.attempts = sqlite3_column_int64(s, 5);
        p.peer = gw_store_col_text(s, 6);
        p.summary = gw_store_col_text(s, 7);
        p.is_blocked = sqlite3_column_int64(s, 8) != 0;
        *is_found = true;
        rc = fn(arg, &p);
        if (rc != 0) {
            return rc;
        }
    }
    return rc == SQLITE_DONE ? 0 : -EIO;
}

int gw_store_pending_list(struct gw_store *st, int (*fn)(void *arg, const struct gw_api_pending *p),
                          void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    int rc = gw_store_prepare(st, PENDING_SELECT "ORDER BY last_seen_ms DESC, id DESC", &s);

    if (rc == 0) {
        rc = walk_pending(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_pending_page(struct gw_store *st, const struct gw_api_pending_query *q,
                              int64_t *total, int (*fn)(void *arg, const struct gw_api_pending *p),
                              void *arg)
{
    static const char *const cols[] = { "last_seen_ms", "first_seen_ms", "seen_count" };
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    char sql[1024];
    int rc = gw_store_prepare(st, "SELECT count(*) FROM pending_device " PENDING_WHERE, &s);

    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, q->text_search);
        (void)sqlite3_bind_int(s, 4, q->is_blocked ? 1 : 0);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *total = rc == 0 ? sqlite3_column_int64(s, 0) : 0;
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != 0 || *total <= q->page * q->page_size) {
        return rc;
    }
    (void)snprintf(sql, sizeof(sql),
                   PENDING_SELECT PENDING_WHERE "ORDER BY %s %s, id LIMIT ?2 OFFSET ?3",
                   cols[q->sort >= 0 && q->sort < 3 ? q->sort : 0], q->is_desc ? "DESC" : "ASC");
    rc = gw_store_prepare(st, sql, &s);
    if (rc == 0) {
        gw_store_bind_text_or_null(s, 1, q->text_search);
        (void)sqlite3_bind_int64(s, 2, q->page_size);
        (void)sqlite3_bind_int64(s, 3, q->page * q->page_size);
        (void)sqlite3_bind_int(s, 4, q->is_blocked ? 1 : 0);
        rc = walk_pending(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_pending_get(struct gw_store *st, int64_t id,
                             int (*fn)(void *arg, const struct gw_api_pending *p), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool is_found = false;
    int rc = gw_store_prepare(st, PENDING_SELECT "WHERE id = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = walk_pending(s, fn, arg, &is_found);
    }
    sqlite3_finalize(s);
    return rc == 0 && !is_found ? -ENOENT : rc;
}

/* ---- changing ----------------------------------------------------------------------------- */

/* Runs one statement on the entry id. Returns: 0, -ENOENT (no such entry), -EIO. */
static int on_entry(struct gw_store *st, const char *sql, int64_t id)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, sql, &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        rc = rc == 0 && sqlite3_changes(st->db) == 0 ? -ENOENT : rc;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_api_pending_delete(struct gw_store *st, int64_t id)
{
    return on_entry(st, "DELETE FROM pending_device WHERE id = ?1", id);
}

int gw_store_api_pending_block(struct gw_store *st, int64_t id)
{
    return on_entry(st, "UPDATE pending_device SET blocked = 1 WHERE id = ?1", id);
}

/* ---- approving a COAP_TOKEN or X509 entry --------------------------------------------------- */

/* The entry's kind and credential. Returns: 0, -ENOENT, -EIO. */
static int entry_of(struct gw_store *st, int64_t id, char *kind, size_t kind_len, char *cred,
                    size_t cred_len)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, "SELECT kind, identifier FROM pending_device WHERE id = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            (void)snprintf(kind, kind_len, "%s", gw_store_col_text(s, 0));
            (void)snprintf(cred, cred_len, "%s", gw_store_col_text(s, 1));
            rc = 0;
        } else {
            rc = rc == SQLITE_DONE ? -ENOENT : -EIO;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

/*
 * The profile to approve into: the given one, which must be of CoAP device type DEFAULT, or the
 * only such profile. uuid_out receives its id. Returns: 0, -ENOENT, -EINVAL, -EIO (err set).
 */
static int fitting_profile(struct gw_store *st, const char *uuid, char uuid_out[GW_STORE_UUID_LEN],
                           char *err, size_t err_len)
{
    sqlite3_stmt *s = NULL;
    int n = 0, n_other = 0;
    char name[GW_STORE_NAME_MAX] = "";
    int rc = gw_store_prepare(st,
                              "SELECT uuid, name, coap_device_type FROM device_profile WHERE ?1"
                              " IS NULL OR uuid = ?1",
                              &s);

    if (rc != 0) {
        return rc;
    }
    gw_store_bind_text_or_null(s, 1, uuid);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (strcmp(gw_store_col_text(s, 2), "DEFAULT") == 0) {
            (void)snprintf(uuid_out, GW_STORE_UUID_LEN, "%s", gw_store_col_text(s, 0));
            n++;
        } else {
            (void)snprintf(name, sizeof(name), "%s", gw_store_col_text(s, 1));
            n_other++;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
    sqlite3_finalize(s);
    if (rc == 0 && uuid != NULL && n == 0 && n_other == 0) {
        (void)snprintf(err, err_len, "Device profile with id [%s] is not found", uuid);
        rc = -ENOENT;
    } else if (rc == 0 && uuid != NULL && n == 0) {
        (void)snprintf(err, err_len,
                       "Device profile \"%s\" is not of CoAP device type DEFAULT: only such a"
                       " profile serves a device with an access token or a certificate",
                       name);
        rc = -EINVAL;
    } else if (rc == 0 && n != 1) {
        (void)snprintf(err, err_len, "deviceProfileId should be specified: %d profiles fit", n);
        rc = -EINVAL;
    }
    return rc;
}

int gw_store_pending_approve(struct gw_store *st, const struct gw_store_pending_approve_in *in,
                             int64_t now_ms, char uuid_out[GW_STORE_UUID_LEN], char *err,
                             size_t err_len)
{
    char kind[32], cred[GW_STORE_TOKEN_MAX > 65 ? GW_STORE_TOKEN_MAX : 65];
    char profile[GW_STORE_UUID_LEN];
    struct gw_api_device_in dev;
    enum gw_api_fail fail = GW_API_OK;
    bool is_x509;
    int rc;

    err[0] = '\0';
    rc = gw_store_tx_begin(st);
    if (rc != 0) {
        return rc;
    }
    rc = entry_of(st, in->id, kind, sizeof(kind), cred, sizeof(cred));
    is_x509 = rc == 0 && strcmp(kind, "X509") == 0;
    if (rc == -ENOENT) {
        (void)snprintf(err, err_len, "Requested item wasn't found!");
    } else if (rc == 0 && !is_x509 && strcmp(kind, "COAP_TOKEN") != 0) {
        (void)snprintf(err, err_len, "an Efento entry is approved with the Efento rules");
        rc = -EINVAL;
    } else if (rc == 0 && (in->name == NULL || in->name[0] == '\0')) {
        (void)snprintf(err, err_len, "Device name should be specified!");
        rc = -EINVAL;
    } else if (rc == 0 && is_x509 && (in->x509_body == NULL || in->x509_body[0] == '\0')) {
        (void)snprintf(err, err_len, "the entry carries no certificate");
        rc = -EINVAL;
    }
    if (rc == 0) {
        rc = fitting_profile(st, in->profile_uuid, profile, err, err_len);
    }
    if (rc == 0) {
        memset(&dev, 0, sizeof(dev));
        dev.name = in->name;
        dev.label = in->label;
        dev.profile_uuid = profile;
        dev.access_token = is_x509 ? NULL : cred; /* X509: a random token, replaced below */
        rc = gw_store_api_device_save(st, &dev, now_ms, uuid_out, &fail);
    }
    if (rc == 0 && is_x509) {
        rc = gw_store_api_credentials_set(st, uuid_out, "X509_CERTIFICATE", cred, in->x509_body,
                                          now_ms, &fail);
    }
    if (rc == -EEXIST && err[0] == '\0') {
        (void)snprintf(err, err_len, "%s",
                       fail == GW_API_NAME_TAKEN
                           ? "Device with such name already exists!"
                           : "Device credentials are already assigned to another device!");
    }
    if (rc == 0) {
        rc = on_entry(st, "DELETE FROM pending_device WHERE id = ?1", in->id);
    }
    return gw_store_tx_end(st, rc);
}
