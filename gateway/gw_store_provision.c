/* SPDX-License-Identifier: MIT */
/*
 * gw_store_provision.c - device provisioning decisions (spec 9.3) in one transaction. The profile
 * is found by its provision key (unique among nbgate's profiles); its strategy and secret come
 * from the stored ThingsBoard profile JSON (profileData.provisionConfiguration). The server
 * attribute provisionState records a provisioned device, as in ThingsBoard.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_store_internal.h"

static int set_provisioned(struct gw_store *st, int64_t device_id, int64_t now_ms)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
        "INSERT INTO attribute_kv (device_id, scope, key, last_update_ms, type, v_str)"
        " VALUES (?1, 3, 'provisionState', ?2, 4, 'provisioned')",
        &s);

    if (rc == 0) {
        (void)sqlite3_bind_int64(s, 1, device_id);
        (void)sqlite3_bind_int64(s, 2, now_ms);
        rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
    }
    sqlite3_finalize(s);
    if (rc == 0) {
        rc = gw_store_prepare(st, "UPDATE device SET provision_state = 'provisioned' WHERE id = ?1",
                              &s);
        if (rc == 0) {
            (void)sqlite3_bind_int64(s, 1, device_id);
            rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
        }
        sqlite3_finalize(s);
    }
    return rc;
}

/* Pre-provisioned strategy: the device must exist in the profile and not be provisioned yet. */
static int check_pre_provisioned(struct gw_store *st, int64_t profile_id, const char *name,
                                 int64_t now_ms, enum gw_provision_status *status, char *token,
                                 size_t token_len)
{
    sqlite3_stmt *s = NULL;
    int64_t device_id;
    int rc = gw_store_prepare(
        st,
        "SELECT d.id, c.credentials_id, (SELECT count(*) FROM attribute_kv a WHERE"
        " a.device_id = d.id AND a.scope = 3 AND a.key = 'provisionState') FROM device d"
        " LEFT JOIN credentials c ON c.device_id = d.id AND c.type = 'ACCESS_TOKEN'"
        " WHERE d.name = ?1 AND d.profile_id = ?2",
        &s);

    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    (void)sqlite3_bind_int64(s, 2, profile_id);
    if (sqlite3_step(s) != SQLITE_ROW || sqlite3_column_int64(s, 2) > 0 ||
        sqlite3_column_text(s, 1) == NULL) {
        *status = GW_PROVISION_FAILURE;
        sqlite3_finalize(s);
        return 0;
    }
    device_id = sqlite3_column_int64(s, 0);
    (void)snprintf(token, token_len, "%s", (const char *)sqlite3_column_text(s, 1));
    sqlite3_finalize(s);
    rc = set_provisioned(st, device_id, now_ms);
    *status = rc == 0 ? GW_PROVISION_SUCCESS : GW_PROVISION_FAILURE;
    return rc;
}

static void trim_copy(const char *in, char *out, size_t len)
{
    size_t n;

    while (*in != '\0' && isspace((unsigned char)*in)) {
        in++;
    }
    (void)snprintf(out, len, "%s", in);
    n = strlen(out);
    while (n > 0 && isspace((unsigned char)out[n - 1])) {
        out[--n] = '\0';
    }
}

static int create_new(struct gw_store *st, const char *profile, const struct gw_provision_req *req,
                      int64_t now_ms, enum gw_provision_status *status, char *token,
                      size_t token_len, char *why, size_t why_len)
{
    char name[GW_STORE_NAME_MAX];
    struct gw_device_ref dev;
    int rc;

    if (req->device_name == NULL || req->device_name[0] == '\0') {
        gw_store_random_token(name, 20);
    } else {
        trim_copy(req->device_name, name, sizeof(name));
        if (name[0] == '\0') {
            *status = GW_PROVISION_FAILURE;
            (void)snprintf(why, why_len, "blank device name");
            return 0;
        }
    }
    if (gw_store_device_by_name(st, name, &dev) == 0) {
        *status = GW_PROVISION_FAILURE;
        (void)snprintf(why, why_len, "device %s exists", name);
        return 0;
    }
    /* device_add runs its own transaction: provisioning is then two short ones. */
    rc = gw_store_device_add(st, name, req->token, profile, 0, now_ms, token, token_len, why,
                             why_len);
    if (rc == -EEXIST || rc == -EINVAL) {
        *status = GW_PROVISION_FAILURE;
        return 0;
    }
    if (rc == 0) {
        rc = gw_store_device_by_name(st, name, &dev);
    }
    if (rc == 0) {
        rc = gw_store_tx_begin(st);
        if (rc == 0) {
            rc = set_provisioned(st, dev.id, now_ms);
        }
        if (rc == 0 && req->is_gateway) {
            sqlite3_stmt *s = NULL;
            rc = gw_store_prepare(st, "UPDATE device SET is_gateway = 1 WHERE id = ?1", &s);
            if (rc == 0) {
                (void)sqlite3_bind_int64(s, 1, dev.id);
                rc = sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
            }
            sqlite3_finalize(s);
        }
        rc = gw_store_tx_end(st, rc);
    }
    *status = rc == 0 ? GW_PROVISION_SUCCESS : GW_PROVISION_FAILURE;
    return rc;
}

int gw_store_provision(struct gw_store *st, const struct gw_provision_req *req, int64_t now_ms,
                       enum gw_provision_status *status, char *token_out, size_t token_out_len,
                       char *why, size_t why_len)
{
    sqlite3_stmt *s = NULL;
    char strategy[64] = "", secret[256] = "", profile[GW_STORE_NAME_MAX] = "";
    int64_t profile_id = 0;
    int rc;

    *status = GW_PROVISION_NOT_FOUND;
    why[0] = '\0';
    if (req->key == NULL || req->key[0] == '\0' || req->secret == NULL || req->secret[0] == '\0') {
        return 0;
    }
    rc = gw_store_prepare(
        st,
        "SELECT id, name, json_extract(profile_json, '$.profileData.provisionConfiguration."
        "type'), json_extract(profile_json, '$.profileData.provisionConfiguration."
        "provisionDeviceSecret') FROM device_profile WHERE provision_key = ?1",
        &s);
    if (rc != 0) {
        return rc;
    }
    (void)sqlite3_bind_text(s, 1, req->key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 3) != NULL) {
        profile_id = sqlite3_column_int64(s, 0);
        (void)snprintf(profile, sizeof(profile), "%s", (const char *)sqlite3_column_text(s, 1));
        (void)snprintf(strategy, sizeof(strategy), "%s",
                       sqlite3_column_text(s, 2) != NULL ? (const char *)sqlite3_column_text(s, 2)
                                                         : "");
        (void)snprintf(secret, sizeof(secret), "%s", (const char *)sqlite3_column_text(s, 3));
    }
    sqlite3_finalize(s);
    if (profile_id == 0 || secret[0] == '\0' || strcmp(secret, req->secret) != 0) {
        return 0;
    }
    if (req->credentials_type != NULL && strcmp(req->credentials_type, "ACCESS_TOKEN") != 0) {
        /* TODO(#8): X.509 provisioning with DTLS. MQTT and LwM2M credentials never apply. */
        *status = GW_PROVISION_FAILURE;
        (void)snprintf(why, why_len, "credentials type %s not available", req->credentials_type);
        return 0;
    }
    if (strcmp(strategy, "ALLOW_CREATE_NEW_DEVICES") == 0) {
        return create_new(st, profile, req, now_ms, status, token_out, token_out_len, why, why_len);
    }
    if (strcmp(strategy, "CHECK_PRE_PROVISIONED_DEVICES") == 0) {
        char name[GW_STORE_NAME_MAX];
        trim_copy(req->device_name != NULL ? req->device_name : "", name, sizeof(name));
        rc = gw_store_tx_begin(st);
        if (rc == 0) {
            rc = check_pre_provisioned(st, profile_id, name, now_ms, status, token_out,
                                       token_out_len);
        }
        return gw_store_tx_end(st, rc);
    }
    return 0; /* DISABLED or unknown: NOT_FOUND */
}
