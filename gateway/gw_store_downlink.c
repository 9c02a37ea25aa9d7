/* SPDX-License-Identifier: MIT */
/*
 * gw_store_downlink.c - the persistent downlink queue (spec 16.7, 16.8) and shared attributes.
 *
 * An RPC row keeps its method, its params as JSON text (body) and its per-device 32-bit id. An
 * attribute-update row keeps only key lists, {"updated":[..],"deleted":[..]}; the values are read
 * from attribute_kv when the update is sent. Merging waiting updates is then set arithmetic on
 * keys, and "the latest value per key" is simply the stored value: nothing is re-serialised, so
 * numbers keep their text and a deletion can never be lost by a merge.
 *
 *   QUEUED -> SENT -> DELIVERED (final: one-way RPC, attributes) -> SUCCESSFUL (two-way answered)
 *   SENT -> TIMEOUT -> SENT ...;  unfinished -> EXPIRED | FAILED
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

static const char *const state_names[] = {
    [GW_DL_QUEUED] = "QUEUED",         [GW_DL_SENT] = "SENT",       [GW_DL_DELIVERED] = "DELIVERED",
    [GW_DL_SUCCESSFUL] = "SUCCESSFUL", [GW_DL_TIMEOUT] = "TIMEOUT", [GW_DL_EXPIRED] = "EXPIRED",
    [GW_DL_FAILED] = "FAILED",
};
static const char *const kind_names[] = {
    [GW_DL_RPC] = "RPC", [GW_DL_ATTRIBUTES] = "ATTRIBUTES", [GW_DL_EFENTO_CONFIG] = "EFENTO_CONFIG"
};

const char *gw_dl_state_name(enum gw_dl_state s)
{
    return s >= GW_DL_QUEUED && s <= GW_DL_FAILED ? state_names[s] : "?";
}

static enum gw_dl_state state_from_text(const unsigned char *t)
{
    int i;

    for (i = GW_DL_QUEUED; t != NULL && i <= GW_DL_FAILED; i++) {
        if (strcmp((const char *)t, state_names[i]) == 0) {
            return (enum gw_dl_state)i;
        }
    }
    return GW_DL_FAILED;
}

static enum gw_dl_kind kind_from_text(const unsigned char *t)
{
    int i;

    for (i = GW_DL_RPC; t != NULL && i <= GW_DL_EFENTO_CONFIG; i++) {
        if (strcmp((const char *)t, kind_names[i]) == 0) {
            return (enum gw_dl_kind)i;
        }
    }
    return GW_DL_RPC;
}

int gw_store_dl_count_unfinished(struct gw_store *st, int64_t device_id, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st, "SELECT count(*) FROM downlink WHERE device_id = ?1 AND " GW_STORE_SQL_DL_UNFINISHED,
        &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -EIO;
        *out = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return rc;
}

static int event_add(struct gw_store *st, int64_t device_id, int64_t ts_ms, const char *type,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int event_add(struct gw_store *st, int64_t device_id, int64_t ts_ms, const char *type,
                     const char *fmt, ...)
{
    char body[512];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(body, sizeof(body), fmt, ap);
    va_end(ap);
    return gw_store_event_add(st, device_id, ts_ms, type, body);
}

/* Picks the device's next RPC id: not used by any of its unfinished RPCs. */
int gw_store_rpc_next_id(struct gw_store *st, int64_t device_id, int32_t *out)
{
    sqlite3_stmt *get = NULL, *used = NULL, *set = NULL;
    int64_t id;
    int rc, tries;

    rc = gw_store_prepare(st, "SELECT next_rpc_id FROM device WHERE id = ?1", &get);
    if (rc == 0) {
        rc = gw_store_prepare(
            st,
            "SELECT 1 FROM downlink WHERE device_id = ?1 AND kind = 'RPC' AND rpc_id = ?2"
            " AND state IN ('QUEUED','SENT','DELIVERED','TIMEOUT')",
            &used);
    }
    if (rc == 0) {
        rc = gw_store_prepare(st, "UPDATE device SET next_rpc_id = ?2 WHERE id = ?1", &set);
    }
    if (rc != 0) {
        goto out;
    }
    (void)sqlite3_bind_int64(get, 1, device_id);
    if (sqlite3_step(get) != SQLITE_ROW) {
        rc = -ENOENT;
        goto out;
    }
    id = sqlite3_column_int64(get, 0);
    for (tries = 0; tries < 100000; tries++, id = id >= INT32_MAX ? 0 : id + 1) {
        (void)sqlite3_reset(used);
        (void)sqlite3_bind_int64(used, 1, device_id);
        (void)sqlite3_bind_int64(used, 2, id);
        if (sqlite3_step(used) != SQLITE_ROW) {
            break;
        }
    }
    *out = (int32_t)id;
    (void)sqlite3_bind_int64(set, 1, device_id);
    (void)sqlite3_bind_int64(set, 2, id >= INT32_MAX ? 0 : id + 1);
    rc = sqlite3_step(set) == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(get);
    sqlite3_finalize(used);
    sqlite3_finalize(set);
    return rc;
}

static int insert_downlink(struct gw_store *st, int64_t device_id, enum gw_dl_kind kind,
                           int32_t rpc_id, bool is_oneway, const char *method, const char *body,
                           int64_t now_ms, int64_t expiration_ms, int64_t *id_out)
{
    sqlite3_stmt *s = NULL;
    char uuid[37];
    int rc = gw_store_prepare(
        st,
        "INSERT INTO downlink (uuid, device_id, kind, rpc_id, is_oneway, method, body,"
        " created_ms, expiration_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        &s);

    if (rc != 0) {
        return rc;
    }
    gw_store_uuid_v4(uuid);
    (void)sqlite3_bind_text(s, 1, uuid, -1, SQLITE_TRANSIENT);
    (void)sqlite3_bind_int64(s, 2, device_id);
    (void)sqlite3_bind_text(s, 3, kind_names[kind], -1, SQLITE_STATIC);
    if (kind == GW_DL_RPC) {
        (void)sqlite3_bind_int64(s, 4, rpc_id);
    }
    (void)sqlite3_bind_int(s, 5, is_oneway ? 1 : 0);
    if (method != NULL) {
        (void)sqlite3_bind_text(s, 6, method, -1, SQLITE_STATIC);
    }
    (void)sqlite3_bind_text(s, 7, body, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 8, now_ms);
    (void)sqlite3_bind_int64(s, 9, expiration_ms);
    rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    if (rc == 0 && id_out != NULL) {
        *id_out = sqlite3_last_insert_rowid(st->db);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_rpc_queue(struct gw_store *st, int64_t device_id, const char *method,
                       const char *params_json, bool is_oneway, int64_t expiration_ms,
                       int64_t now_ms, int64_t max_queued, int64_t *id_out, int32_t *rpc_id_out)
{
    int64_t n = 0;
    int rc;

    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = gw_store_dl_count_unfinished(st, device_id, &n);
    }
    if (rc == 0 && n >= max_queued) {
        rc = -ENOSPC;
    }
    if (rc == 0) {
        rc = gw_store_rpc_next_id(st, device_id, rpc_id_out);
    }
    if (rc == 0) {
        rc = insert_downlink(st, device_id, GW_DL_RPC, *rpc_id_out, is_oneway, method,
                             params_json != NULL ? params_json : "null", now_ms, expiration_ms,
                             id_out);
    }
    if (rc == 0) {
        rc = event_add(st, device_id, now_ms, "DOWNLINK",
                       "{\"id\":%lld,\"rpcId\":%d,\"state\":\"QUEUED\"}", (long long)*id_out,
                       (int)*rpc_id_out);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_shared_update(struct gw_store *st, int64_t device_id,
                           const struct profile_batch *batch, const char *const *deleted,
                           size_t n_deleted, int64_t now_ms, int64_t expiration_ms,
                           int64_t max_queued)
{
    json_t *body = json_pack("{s:[], s:[]}", "updated", "deleted");
    char *text = NULL;
    int64_t n = 0, id = 0;
    size_t i;
    int rc = body != NULL ? 0 : -ENOMEM;

    for (i = 0; rc == 0 && batch != NULL && i < batch->n; i++) {
        rc = json_array_append_new(json_object_get(body, "updated"),
                                   json_string(batch->kv[i].key)) == 0
                 ? 0
                 : -ENOMEM;
    }
    for (i = 0; rc == 0 && i < n_deleted; i++) {
        rc = json_array_append_new(json_object_get(body, "deleted"), json_string(deleted[i])) == 0
                 ? 0
                 : -ENOMEM;
    }
    text = rc == 0 ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (text == NULL) {
        return -ENOMEM;
    }
    rc = gw_store_tx_begin(st);
    if (rc == 0) {
        rc = gw_store_dl_count_unfinished(st, device_id, &n);
    }
    if (rc == 0 && n >= max_queued) {
        rc = -ENOSPC;
    }
    if (rc == 0 && batch != NULL && batch->n > 0) {
        /* Nested transactions are not needed: save_attributes runs its own BEGIN, so write here. */
        sqlite3_stmt *s = st->stmt[S_ATTR_SAVE];
        for (i = 0; rc == 0 && i < batch->n; i++) {
            (void)sqlite3_bind_int64(s, 1, device_id);
            (void)sqlite3_bind_int(s, 2, GW_SCOPE_SHARED);
            (void)sqlite3_bind_text(s, 3, batch->kv[i].key, -1, SQLITE_STATIC);
            (void)sqlite3_bind_int64(s, 4, now_ms);
            gw_store_bind_value(s, 5, &batch->kv[i].v);
            rc = gw_store_step_done(st, s);
        }
    }
    for (i = 0; rc == 0 && i < n_deleted; i++) {
        rc = gw_store_attribute_delete(st, device_id, GW_SCOPE_SHARED, deleted[i]);
    }
    if (rc == 0) {
        rc = insert_downlink(st, device_id, GW_DL_ATTRIBUTES, 0, true, NULL, text, now_ms,
                             expiration_ms, &id);
    }
    if (rc == 0) {
        rc = event_add(st, device_id, now_ms, "DOWNLINK",
                       "{\"id\":%lld,\"kind\":\"ATTRIBUTES\",\"state\":\"QUEUED\"}", (long long)id);
    }
    free(text);
    return gw_store_tx_end(st, rc);
}

int gw_store_attribute_delete(struct gw_store *st, int64_t device_id, enum gw_attr_scope scope,
                              const char *key)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st, "DELETE FROM attribute_kv WHERE device_id = ?1 AND scope = ?2 AND key = ?3", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_int(s, 2, (int)scope);
        (void)sqlite3_bind_text(s, 3, key, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

void gw_dl_next_fini(struct gw_dl_next *n)
{
    size_t i;

    free(n->payload);
    n->payload = NULL;
    for (i = 0; i < n->n_updated; i++) {
        free(n->updated[i]);
    }
    for (i = 0; i < n->n_deleted; i++) {
        free(n->deleted[i]);
    }
    free(n->updated);
    free(n->deleted);
    n->updated = n->deleted = NULL;
    n->n_updated = n->n_deleted = 0;
}

/* Copies the keys of a JSON object into a NULL-free array. Returns: 0, -ENOMEM. */
static int key_array(json_t *set, char ***out, size_t *n)
{
    const char *key;
    json_t *v;

    *n = 0;
    *out = calloc(json_object_size(set) + 1, sizeof(**out));
    if (*out == NULL) {
        return -ENOMEM;
    }
    json_object_foreach(set, key, v)
    {
        (void)v;
        (*out)[*n] = strdup(key);
        if ((*out)[*n] == NULL) {
            return -ENOMEM;
        }
        (*n)++;
    }
    return 0;
}

/* Applies one attribute entry's key lists to the running merge (later entries win). */
static void merge_keys(json_t *updated, json_t *deleted, const char *body)
{
    json_t *b = json_loads(body, 0, NULL);
    json_t *u = json_object_get(b, "updated");
    json_t *d = json_object_get(b, "deleted");
    json_t *k;
    size_t i;

    json_array_foreach(u, i, k)
    {
        if (json_is_string(k)) {
            (void)json_object_set(updated, json_string_value(k), json_true());
            (void)json_object_del(deleted, json_string_value(k));
        }
    }
    json_array_foreach(d, i, k)
    {
        if (json_is_string(k)) {
            (void)json_object_set(deleted, json_string_value(k), json_true());
            (void)json_object_del(updated, json_string_value(k));
        }
    }
    json_decref(b);
}

struct buf {
    char *p;
    size_t len, cap;
};

static int buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->cap + n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            return -ENOMEM;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int buf_add_json_string(struct buf *b, const char *s)
{
    json_t *j = json_string(s);
    char *q = j != NULL ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    int rc = q != NULL ? buf_add(b, q, strlen(q)) : -ENOMEM;

    free(q);
    json_decref(j);
    return rc;
}

/* Renders {k:v,...,"deleted":[..]} from the merged key sets and the stored shared values. */
static int render_attributes(struct gw_store *st, int64_t device_id, json_t *updated,
                             json_t *deleted, struct gw_dl_next *out)
{
    struct buf b = { NULL, 0, 0 };
    sqlite3_stmt *s = NULL;
    struct profile_value v;
    const char *key;
    json_t *val;
    bool is_first = true;
    int rc = gw_store_prepare(
        st,
        "SELECT type, v_long, v_double, v_str FROM attribute_kv WHERE device_id = ?1"
        " AND scope = 2 AND key = ?2",
        &s);

    rc = rc == 0 ? buf_add(&b, "{", 1) : rc;
    json_object_foreach(updated, key, val)
    {
        char small[256];
        size_t need;
        (void)val;
        if (rc != 0) {
            break;
        }
        (void)sqlite3_reset(s);
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_ROW) {
            continue; /* deleted since, through another path */
        }
        gw_store_column_value(s, 0, &v);
        rc = is_first ? 0 : buf_add(&b, ",", 1);
        rc = rc == 0 ? buf_add_json_string(&b, key) : rc;
        rc = rc == 0 ? buf_add(&b, ":", 1) : rc;
        need = profile_value_to_json(&v, small, sizeof(small));
        if (rc == 0 && need < sizeof(small)) {
            rc = buf_add(&b, small, need);
        } else if (rc == 0) {
            char *big = malloc(need + 1);
            rc = big != NULL ? 0 : -ENOMEM;
            if (rc == 0) {
                (void)profile_value_to_json(&v, big, need + 1);
                rc = buf_add(&b, big, need);
            }
            free(big);
        }
        is_first = false;
        if (rc == 0) {
            char *k = strdup(key);
            char **grown = realloc(out->updated, (out->n_updated + 1) * sizeof(*grown));
            rc = k != NULL && grown != NULL ? 0 : -ENOMEM;
            if (grown != NULL) {
                out->updated = grown;
            }
            if (rc == 0) {
                out->updated[out->n_updated++] = k;
            } else {
                free(k);
            }
        }
    }
    if (rc == 0) {
        rc = key_array(deleted, &out->deleted, &out->n_deleted);
    }
    if (rc == 0 && json_object_size(deleted) > 0) {
        rc = buf_add(&b, is_first ? "\"deleted\":[" : ",\"deleted\":[", is_first ? 11 : 12);
        is_first = true;
        json_object_foreach(deleted, key, val)
        {
            rc = rc == 0 && !is_first ? buf_add(&b, ",", 1) : rc;
            rc = rc == 0 ? buf_add_json_string(&b, key) : rc;
            is_first = false;
        }
        rc = rc == 0 ? buf_add(&b, "]", 1) : rc;
    }
    rc = rc == 0 ? buf_add(&b, "}", 1) : rc;
    sqlite3_finalize(s);
    if (rc != 0) {
        free(b.p);
        return rc;
    }
    out->payload = b.p;
    out->payload_len = b.len;
    return 0;
}

static int render_rpc(sqlite3_stmt *row, struct gw_dl_next *out)
{
    struct buf b = { NULL, 0, 0 };
    char head[48];
    const char *method = (const char *)sqlite3_column_text(row, 4);
    const char *params = (const char *)sqlite3_column_text(row, 5);
    int rc;

    (void)snprintf(head, sizeof(head), "{\"id\":%d,\"method\":", (int)out->rpc_id);
    rc = buf_add(&b, head, strlen(head));
    rc = rc == 0 ? buf_add_json_string(&b, method != NULL ? method : "") : rc;
    rc = rc == 0 ? buf_add(&b, ",\"params\":", 10) : rc;
    rc = rc == 0 ? buf_add(&b, params != NULL ? params : "null",
                           strlen(params != NULL ? params : "null"))
                 : rc;
    rc = rc == 0 ? buf_add(&b, "}", 1) : rc;
    if (rc != 0) {
        free(b.p);
        return rc;
    }
    out->payload = b.p;
    out->payload_len = b.len;
    return 0;
}

int gw_store_dl_next(struct gw_store *st, int64_t device_id, bool has_rpc_obs, bool has_attr_obs,
                     int64_t now_ms, struct gw_dl_next *out)
{
    sqlite3_stmt *s = NULL;
    json_t *updated = json_object(), *deleted = json_object();
    bool is_rpc_found = false;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = gw_store_dl_expire(st, now_ms) >= 0 ? 0 : -EIO;
    if (rc == 0) {
        rc = gw_store_prepare(st,
                              "SELECT id, kind, rpc_id, is_oneway, method, body FROM downlink WHERE"
                              " device_id = ?1 AND state IN ('QUEUED','TIMEOUT') AND kind IN"
                              " ('RPC','ATTRIBUTES') ORDER BY id",
                              &s);
    }
    if (rc != 0 || updated == NULL || deleted == NULL) {
        rc = rc != 0 ? rc : -ENOMEM;
        goto out;
    }
    (void)sqlite3_bind_int64(s, 1, device_id);
    while (sqlite3_step(s) == SQLITE_ROW) {
        enum gw_dl_kind kind = kind_from_text(sqlite3_column_text(s, 1));
        if (kind == GW_DL_RPC && has_rpc_obs && out->n_ids == 0) {
            out->kind = GW_DL_RPC;
            out->ids[out->n_ids++] = sqlite3_column_int64(s, 0);
            out->rpc_id = (int32_t)sqlite3_column_int64(s, 2);
            out->is_oneway = sqlite3_column_int(s, 3) != 0;
            rc = render_rpc(s, out);
            is_rpc_found = true;
            break;
        }
        if (kind == GW_DL_ATTRIBUTES && has_attr_obs && out->n_ids < GW_DL_GROUP_MAX) {
            out->kind = GW_DL_ATTRIBUTES;
            out->ids[out->n_ids++] = sqlite3_column_int64(s, 0);
            merge_keys(updated, deleted, (const char *)sqlite3_column_text(s, 5));
        }
    }
    if (out->n_ids == 0) {
        rc = -ENOENT;
    } else if (!is_rpc_found) {
        out->is_oneway = true;
        rc = render_attributes(st, device_id, updated, deleted, out);
    }
out:
    if (rc != 0) {
        gw_dl_next_fini(out);
    }
    sqlite3_finalize(s);
    json_decref(updated);
    json_decref(deleted);
    return rc;
}

/*
 * Which states each target may be reached from (a late ACK after EXPIRED still counts; a final
 * state is never left). ?3 is the target state.
 */
#define ALLOWED_FROM                                                                               \
    "SELECT value FROM json_each(CASE ?3"                                                          \
    " WHEN 'SENT' THEN '[\"QUEUED\",\"TIMEOUT\"]'"                                                 \
    " WHEN 'DELIVERED' THEN '[\"QUEUED\",\"SENT\",\"TIMEOUT\",\"EXPIRED\"]'"                       \
    " WHEN 'SUCCESSFUL' THEN '[\"SENT\",\"DELIVERED\",\"TIMEOUT\",\"EXPIRED\"]'"                   \
    " ELSE '[\"QUEUED\",\"SENT\",\"DELIVERED\",\"TIMEOUT\"]' END)"

static int set_one(struct gw_store *st, int64_t device_id, int64_t id, enum gw_dl_state state,
                   const char *response_json, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    enum gw_dl_state final = state;
    int rc;

    if (state == GW_DL_TIMEOUT) {
        /* A timed-out send is a try; past the retries the entry fails for good. */
        rc = gw_store_prepare(
            st,
            "UPDATE downlink SET retries = retries + 1, state = CASE WHEN retries + 1 >"
            " max_retries THEN 'FAILED' ELSE 'TIMEOUT' END, completed_ms = CASE WHEN"
            " retries + 1 > max_retries THEN ?2 ELSE completed_ms END WHERE id = ?1"
            " AND state = 'SENT' RETURNING state",
            &s);
    } else {
        rc = gw_store_prepare(
            st,
            "UPDATE downlink SET state = ?3, response = COALESCE(?4, response),"
            " sent_ms = CASE WHEN ?3 = 'SENT' THEN ?2 ELSE sent_ms END,"
            " delivered_ms = CASE WHEN ?3 = 'DELIVERED' THEN ?2 ELSE delivered_ms END,"
            " completed_ms = CASE WHEN ?3 IN ('SUCCESSFUL','EXPIRED','FAILED') OR"
            " (?3 = 'DELIVERED' AND (is_oneway = 1 OR kind <> 'RPC')) THEN ?2 ELSE"
            " completed_ms END WHERE id = ?1 AND state IN (" ALLOWED_FROM ")"
            " RETURNING state",
            &s);
    }
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, id);
    (void)sqlite3_bind_int64(s, 2, now_ms);
    if (state != GW_DL_TIMEOUT) {
        (void)sqlite3_bind_text(s, 3, state_names[state], -1, SQLITE_STATIC);
        if (response_json != NULL) {
            (void)sqlite3_bind_text(s, 4, response_json, -1, SQLITE_STATIC);
        }
    }
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        final = state_from_text(sqlite3_column_text(s, 0));
        rc = 0;
    } else {
        /* SQLITE_DONE: the entry was already in a state this change may not leave. */
        rc = rc == SQLITE_DONE ? 1 : -EIO;
    }
    sqlite3_finalize(s);
    if (rc == 1) {
        return 0;
    }
    if (rc == 0) {
        rc = event_add(st, device_id, now_ms, "DOWNLINK", "{\"id\":%lld,\"state\":\"%s\"}",
                       (long long)id, state_names[final]);
    }
    return rc;
}

int gw_store_dl_set_state(struct gw_store *st, int64_t device_id, const int64_t *ids, size_t n,
                          enum gw_dl_state state, const char *response_json, int64_t now_ms)
{
    size_t i;
    int rc = gw_store_tx_begin(st);

    for (i = 0; rc == 0 && i < n; i++) {
        rc = set_one(st, device_id, ids[i], state, response_json, now_ms);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_dl_claim(struct gw_store *st, int64_t device_id, const int64_t *ids, size_t n,
                      int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    size_t i;
    int rc = gw_store_tx_begin(st);

    rc = rc != 0 ? rc
                 : gw_store_prepare(st,
                                    "SELECT 1 FROM downlink WHERE id = ?1 AND device_id = ?2 AND"
                                    " state IN ('QUEUED','TIMEOUT')",
                                    &s);
    for (i = 0; rc == 0 && i < n; i++) {
        int step;
        (void)sqlite3_reset(s);
        (void)sqlite3_bind_int64(s, 1, ids[i]);
        (void)sqlite3_bind_int64(s, 2, device_id);
        step = sqlite3_step(s);
        rc = step == SQLITE_ROW ? 0 : step == SQLITE_DONE ? -EAGAIN : -EIO;
    }
    sqlite3_finalize(s);
    for (i = 0; rc == 0 && i < n; i++) {
        rc = set_one(st, device_id, ids[i], GW_DL_SENT, NULL, now_ms);
    }
    return gw_store_tx_end(st, rc);
}

int gw_store_rpc_response(struct gw_store *st, int64_t device_id, int32_t rpc_id,
                          const char *response_json, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    int64_t id = 0;
    int rc = gw_store_tx_begin(st);

    if (rc == 0) {
        rc = gw_store_prepare(
            st,
            "SELECT id FROM downlink WHERE device_id = ?1 AND kind = 'RPC' AND rpc_id = ?2"
            " AND is_oneway = 0 AND state IN ('SENT','DELIVERED','TIMEOUT') ORDER BY id"
            " DESC LIMIT 1",
            &s);
    }
    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_int64(s, 2, rpc_id);
        rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -ENOENT;
        id = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    if (rc == 0) {
        rc = set_one(st, device_id, id, GW_DL_SUCCESSFUL, response_json, now_ms);
    }
    return gw_store_tx_end(st, rc);
}

static int exec_bound(struct gw_store *st, const char *sql, int64_t a, int64_t b)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st, sql, &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, a);
        (void)sqlite3_bind_int64(s, 2, b);
        rc = sqlite3_step(s) == SQLITE_DONE ? sqlite3_changes(st->db) : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_rpc_requeue_delivered(struct gw_store *st, int64_t device_id, int64_t now_ms)
{
    (void)now_ms;
    return exec_bound(st,
                      "UPDATE downlink SET state = 'QUEUED' WHERE device_id = ?1 AND kind = 'RPC'"
                      " AND is_oneway = 0 AND state = 'DELIVERED' AND ?2 >= 0",
                      device_id, 0) < 0
               ? -EIO
               : 0;
}

int gw_store_dl_expire(struct gw_store *st, int64_t now_ms)
{
    return exec_bound(st,
                      "UPDATE downlink SET state = 'EXPIRED', completed_ms = ?1 WHERE"
                      " expiration_ms <= ?1 AND (state IN ('QUEUED','TIMEOUT') OR (state ="
                      " 'DELIVERED' AND kind = 'RPC' AND is_oneway = 0)) AND ?2 = 0",
                      now_ms, 0);
}

int gw_store_dl_new_devices(struct gw_store *st, int64_t *last_id,
                            void (*fn)(void *arg, int64_t device_id), void *arg)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              "SELECT device_id, max(id) FROM downlink WHERE id > ?1 AND state IN"
                              " ('QUEUED','TIMEOUT') GROUP BY device_id",
                              &s);

    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_int64(s, 1, *last_id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t max_id = sqlite3_column_int64(s, 1);
        fn(arg, sqlite3_column_int64(s, 0));
        if (max_id > *last_id) {
            *last_id = max_id;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
    sqlite3_finalize(s);
    return rc;
}

static int walk_dl(sqlite3_stmt *s, int (*fn)(void *arg, const struct gw_dl_info *d), void *arg,
                   bool *found)
{
    struct gw_dl_info d;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&d, 0, sizeof(d));
        d.id = sqlite3_column_int64(s, 0);
        d.kind = kind_from_text(sqlite3_column_text(s, 1));
        d.state = state_from_text(sqlite3_column_text(s, 2));
        d.rpc_id = (int32_t)sqlite3_column_int64(s, 3);
        d.is_oneway = sqlite3_column_int(s, 4) != 0;
        d.retries = sqlite3_column_int64(s, 5);
        d.created_ms = sqlite3_column_int64(s, 6);
        d.expiration_ms = sqlite3_column_int64(s, 7);
        d.method = (const char *)sqlite3_column_text(s, 8);
        d.body = (const char *)sqlite3_column_text(s, 9);
        d.response = (const char *)sqlite3_column_text(s, 10);
        *found = true;
        rc = fn(arg, &d);
        if (rc != 0) {
            return rc;
        }
    }
    return rc == SQLITE_DONE ? 0 : -EIO;
}

#define DL_COLUMNS                                                                                 \
    "SELECT id, kind, state, rpc_id, is_oneway, retries, created_ms, expiration_ms, method, body," \
    " response FROM downlink "

int gw_store_dl_list(struct gw_store *st, int64_t device_id, int64_t limit,
                     int (*fn)(void *arg, const struct gw_dl_info *d), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool found = false;
    int rc = gw_store_prepare(st, DL_COLUMNS "WHERE device_id = ?1 ORDER BY id LIMIT ?2", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_int64(s, 2, limit > 0 ? limit : INT64_MAX);
        rc = walk_dl(s, fn, arg, &found);
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_dl_get(struct gw_store *st, int64_t id,
                    int (*fn)(void *arg, const struct gw_dl_info *d), void *arg)
{
    sqlite3_stmt *s = NULL;
    bool found = false;
    int rc = gw_store_prepare(st, DL_COLUMNS "WHERE id = ?1", &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, id);
        rc = walk_dl(s, fn, arg, &found);
    }
    sqlite3_finalize(s);
    return rc == 0 && !found ? -ENOENT : rc;
}

int gw_store_dl_recover(struct gw_store *st, int64_t now_ms)
{
    return exec_bound(st,
                      "UPDATE downlink SET retries = retries + 1, state = CASE WHEN retries + 1 >"
                      " max_retries THEN 'FAILED' ELSE 'TIMEOUT' END, completed_ms = CASE WHEN"
                      " retries + 1 > max_retries THEN ?1 ELSE completed_ms END WHERE state ="
                      " 'SENT' AND ?2 = 0",
                      now_ms, 0);
}
