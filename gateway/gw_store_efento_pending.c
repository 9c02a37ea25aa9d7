/* SPDX-License-Identifier: MIT */
/*
 * gw_store_efento_pending.c - unknown Efento sensors (specs/efento.md R2.4-R2.6, section 9): their
 * entries in the shared pending list (gw_store_pending.c), their approval with the Efento rules,
 * and auto-accept. One pending_device row per token and token place: kind EFENTO (token in the
 * payload) or EFENTO_OPT<N> (token in CoAP option N), identifier = the token, peer = address and
 * port, last_payload = a JSON summary of the last frame
 * ({"type":"m","serial":"282C02424EED","len":80,"hex":<first 64 bytes>}). The write gap, the cap
 * and blocking are those of every pending entry; a blocked token is never auto-accepted.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_efento.h"
#include "gateway/gw_log.h"
#include "gateway/gw_store_internal.h"

#define PENDING_HEX_MAX 64 /* bytes of a frame kept in a pending entry */

static void copy_text(char *dst, size_t cap, const unsigned char *src)
{
    (void)snprintf(dst, cap, "%s", src != NULL ? (const char *)src : "");
}

static void pending_kind(int32_t option, char *kind, size_t cap)
{
    if (option == GW_EFENTO_TOKEN_PAYLOAD) {
        (void)snprintf(kind, cap, "EFENTO");
    } else {
        (void)snprintf(kind, cap, "EFENTO_OPT%d", (int)option);
    }
}

static int32_t pending_option(const unsigned char *kind)
{
    const char *k = kind != NULL ? (const char *)kind : "";
    long v;

    if (strncmp(k, "EFENTO_OPT", 10) != 0) {
        return GW_EFENTO_TOKEN_PAYLOAD;
    }
    v = strtol(k + 10, NULL, 10);
    return v >= 1 && v <= 64999 ? (int32_t)v : GW_EFENTO_TOKEN_PAYLOAD;
}

/* The JSON summary of a frame kept in last_payload. Ownership: caller frees (NULL: no memory). */
static char *summary_text(const struct gw_efento_pending *p, const uint8_t *payload, size_t len)
{
    char type[2] = { p->msg_type, '\0' };
    char hex[2 * PENDING_HEX_MAX + 1];
    json_t *sum;
    char *text;

    gw_efento_hex(payload, len, PENDING_HEX_MAX, hex, sizeof(hex));
    sum = json_pack("{s:s, s:s, s:I, s:s}", "type", type, "serial", p->serial, "len",
                    (json_int_t)len, "hex", hex);
    text = sum != NULL ? json_dumps(sum, JSON_COMPACT) : NULL;
    json_decref(sum);
    return text;
}

int gw_store_efento_pending_note(struct gw_store *st, const struct gw_efento_pending *p,
                                 const uint8_t *payload, size_t len, int64_t now_ms)
{
    char *text = summary_text(p, payload, len);
    struct gw_store_pending_in in;
    char kind[32];
    int rc;

    if (text == NULL) {
        return -ENOMEM;
    }
    pending_kind(p->token_option, kind, sizeof(kind));
    memset(&in, 0, sizeof(in));
    in.kind = kind;
    in.identifier = p->token;
    in.peer = p->peer;
    in.summary = text;
    in.max_entries = p->max_entries;
    rc = gw_store_pending_note(st, &in, now_ms);
    free(text);
    return rc;
}

static void pending_row(sqlite3_stmt *s, struct gw_efento_pending *p)
{
    json_t *sum = NULL;
    const char *type;

    memset(p, 0, sizeof(*p));
    p->token_option = pending_option(sqlite3_column_text(s, 0));
    copy_text(p->token, sizeof(p->token), sqlite3_column_text(s, 1));
    p->first_seen_ms = sqlite3_column_int64(s, 2);
    p->last_seen_ms = sqlite3_column_int64(s, 3);
    p->seen_count = sqlite3_column_int64(s, 4);
    copy_text(p->peer, sizeof(p->peer), sqlite3_column_text(s, 5));
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
        sum = json_loadb((const char *)sqlite3_column_blob(s, 6),
                         (size_t)sqlite3_column_bytes(s, 6), 0, NULL);
    }
    type = json_string_value(json_object_get(sum, "type"));
    p->msg_type = type != NULL && type[0] != '\0' ? type[0] : '?';
    copy_text(p->serial, sizeof(p->serial),
              (const unsigned char *)json_string_value(json_object_get(sum, "serial")));
    json_decref(sum);
}

#define PENDING_COLUMNS                                                                            \
    "SELECT kind, identifier, first_seen_ms, last_seen_ms, seen_count, peer, last_payload"         \
    " FROM pending_device "

struct pick {
    const char *name; /* NULL: the only Efento profile */
    struct gw_efento_profile *out;
    int n; /* matches */
};

static int pick_profile(void *arg, const struct gw_efento_profile *p)
{
    struct pick *k = arg;

    if (k->name == NULL || strcmp(k->name, p->name) == 0) {
        *k->out = *p;
        k->n++;
    }
    return 0;
}

/* Finds the Efento profile to approve with: by name, or the only one. */
static int approve_profile(struct gw_store *st, const char *name, struct gw_efento_profile *out,
                           char *err, size_t err_len)
{
    struct pick k = { name, out, 0 };
    struct gw_profile_info info;
    int rc = gw_store_efento_profiles(st, pick_profile, &k);

    if (rc != 0) {
        return rc;
    }
    if (k.n == 0 && name != NULL) {
        rc = gw_store_profile_get(st, name, &info, NULL);
        (void)snprintf(err, err_len,
                       rc == 0 ? "profile \"%s\" is not an Efento NB-IoT profile"
                               : "no device profile \"%s\"",
                       name);
        return rc == 0 ? -EINVAL : -ENOENT;
    }
    if (k.n == 0) {
        (void)snprintf(err, err_len, "no Efento profile (create one with coapDeviceType EFENTO)");
        return -ENOENT;
    }
    if (k.n > 1) {
        (void)snprintf(err, err_len, "several Efento profiles: choose one with --profile");
        return -EINVAL;
    }
    return 0;
}

int gw_store_efento_pending_approve(struct gw_store *st, const char *token, const char *name,
                                    const char *profile, int64_t now_ms, char *name_out,
                                    size_t name_out_len, char *err, size_t err_len)
{
    struct gw_efento_profile prof;
    struct gw_efento_pending p;
    sqlite3_stmt *s = NULL;
    char tok[GW_STORE_TOKEN_MAX], kind[32];
    int rc =
        gw_store_prepare(st,
                         PENDING_COLUMNS "WHERE kind LIKE 'EFENTO%' AND identifier = ?1 ORDER BY"
                                         " last_seen_ms DESC LIMIT 1",
                         &s);

    err[0] = '\0';
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, token, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        pending_row(s, &p);
    }
    sqlite3_finalize(s);
    s = NULL;
    if (rc != SQLITE_ROW) {
        (void)snprintf(err, err_len, "no pending Efento sensor with token \"%s\"", token);
        return rc == SQLITE_DONE ? -ENOENT : -EIO;
    }
    if (p.token[0] == '\0') {
        (void)snprintf(err, err_len,
                       "the sensor sends no cloud token: set one on the sensor"
                       " (cloud_token_config 1 with a cloud_token, or 2 for the IMEI)");
        return -EINVAL;
    }
    rc = approve_profile(st, profile, &prof, err, err_len);
    if (rc == 0 && prof.token_option != p.token_option) {
        (void)snprintf(
            err, err_len, "profile \"%s\" expects the token %s%d, the sensor sends it %s",
            prof.name,
            prof.token_option == GW_EFENTO_TOKEN_PAYLOAD ? "in the payload (" : "in CoAP option ",
            (int)prof.token_option,
            p.token_option == GW_EFENTO_TOKEN_PAYLOAD ? "in the payload" : "in an option");
        rc = -EINVAL;
    }
    if (rc != 0) {
        return rc;
    }
    if (name == NULL || name[0] == '\0') {
        (void)snprintf(name_out, name_out_len, "Efento %s",
                       p.serial[0] != '\0' ? p.serial : p.token);
    } else {
        (void)snprintf(name_out, name_out_len, "%s", name);
    }
    rc = gw_store_device_add(st, name_out, p.token, prof.name, 0, now_ms, tok, sizeof(tok), err,
                             err_len);
    if (rc == 0) {
        pending_kind(p.token_option, kind, sizeof(kind));
        rc = gw_store_prepare(st, "DELETE FROM pending_device WHERE kind = ?1 AND identifier = ?2",
                              &s);
        if (rc == 0) {
            (void)sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
            (void)sqlite3_bind_text(s, 2, p.token, -1, SQLITE_STATIC);
            rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        }
        sqlite3_finalize(s);
    }
    return rc;
}

/* Whether an Efento entry of token is blocked. Returns: 0 no, -EACCES yes, -EIO. */
static int is_blocked(struct gw_store *st, const char *token)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(st,
                              "SELECT 1 FROM pending_device WHERE kind LIKE 'EFENTO%' AND"
                              " identifier = ?1 AND blocked = 1",
                              &s);

    if (rc == 0) {
        (void)sqlite3_bind_text(s, 1, token, -1, SQLITE_STATIC);
        rc = sqlite3_step(s);
        rc = rc == SQLITE_ROW ? -EACCES : rc == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int gw_store_efento_auto_accept(struct gw_store *st, const char *token, const char *serial,
                                const char *profile, int64_t now_ms)
{
    struct gw_device_ref ref;
    sqlite3_stmt *s = NULL;
    char name[GW_STORE_NAME_MAX], tok[GW_STORE_TOKEN_MAX], err[256];
    int i, rc = gw_store_device_by_token(st, token, strlen(token), &ref);

    if (rc == 0) {
        return -EEXIST;
    }
    rc = is_blocked(st, token);
    if (rc != 0) {
        return rc;
    }
    for (i = 1, rc = -EEXIST; rc == -EEXIST && i <= 9; i++) {
        if (i == 1) {
            (void)snprintf(name, sizeof(name), "Efento %s", serial[0] != '\0' ? serial : token);
        } else {
            (void)snprintf(name, sizeof(name), "Efento %s %d", serial[0] != '\0' ? serial : token,
                           i);
        }
        rc = gw_store_device_add(st, name, token, profile, 0, now_ms, tok, sizeof(tok), err,
                                 sizeof(err));
    }
    if (rc != 0) {
        gw_log_warn("efento auto-accept failed token_len=%zu rc=%d err=\"%s\"", strlen(token), rc,
                    err);
        return rc;
    }
    gw_log_notice("efento sensor auto-accepted dev=\"%s\" profile=\"%s\"", name, profile);
    if (gw_store_prepare(st,
                         "DELETE FROM pending_device WHERE kind LIKE 'EFENTO%' AND identifier = ?1",
                         &s) == 0) {
        (void)sqlite3_bind_text(s, 1, token, -1, SQLITE_STATIC);
        (void)sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return 0;
}
