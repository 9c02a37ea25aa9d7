/* SPDX-License-Identifier: MIT */
/*
 * web_profile_save.c - POST /api/deviceProfile (specs/rest-api.md 5.1-5.6): creates a profile,
 * or updates the one named by "id". Checks, in ThingsBoard's order:
 *
 *   body is a JSON object -> name given -> transportType given and COAP or DEFAULT
 *   -> (update) the profile exists, "version" is absent, null or the stored one (else 409)
 *   -> the name is free -> profile_config_parse() -> protoc on the Protobuf schemas -> store
 *
 * Nothing is stored unless every check passed. The OTA members (firmwareId, softwareId) are
 * checked with the others (web_ota_check()) and applied after the save by
 * web_ota_profile_apply() (web_ota_assign.c), which also writes the fw_* / sw_* attributes of
 * the devices that follow the profile.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_protoc.h"
#include "profiles/profile_model.h"
#include "web/web_internal.h"

/* What the checks learn about the saved profile. */
struct save_ctx {
    json_t *root;
    const char *uuid; /* the body's id (in id_buf), or NULL (create) */
    char id_buf[GW_STORE_UUID_LEN];
    const char *name;                   /* the body's name */
    char old_name[GW_STORE_NAME_MAX];   /* update: the stored name */
    char taken_uuid[GW_STORE_UUID_LEN]; /* the profile already called name, or "" */
    int64_t old_version;                /* update: the stored version */
    bool is_found;
};

static int old_row(void *arg, const struct gw_api_profile *p)
{
    struct save_ctx *c = arg;
    json_t *o = json_loads(p->json != NULL ? p->json : "{}", 0, NULL);
    json_t *v = json_object_get(o, "version");

    (void)snprintf(c->old_name, sizeof(c->old_name), "%s", p->name);
    c->old_version = json_is_integer(v) ? (int64_t)json_integer_value(v) : 1;
    json_decref(o);
    return 0;
}

static int taken_row(void *arg, const struct gw_api_profile *p)
{
    struct save_ctx *c = arg;

    (void)snprintf(c->taken_uuid, sizeof(c->taken_uuid), "%s", p->uuid);
    return 0;
}

/* The body's id member (uuid of a DEVICE_PROFILE); answers 400 when it is malformed. */
static int body_id(struct web_resp *rs, json_t *root, const char *member, const char *type,
                   const char **out)
{
    json_t *v = json_object_get(root, member);
    const char *et;

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    *out = json_string_value(json_object_get(v, "id"));
    et = json_string_value(json_object_get(v, "entityType"));
    if (*out == NULL || !web_uuid_ok(*out)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s",
                  *out != NULL ? *out : "(none)");
        return -EINVAL;
    }
    if (json_object_get(v, "entityType") != NULL && (et == NULL || strcmp(et, type) != 0)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Field '%s' should have entityType %s", member, type);
        return -EINVAL;
    }
    return 0;
}

/* The members checked before the profile model is parsed. */
static int first_checks(struct web_resp *rs, struct save_ctx *c)
{
    const char *transport = json_string_value(json_object_get(c->root, "transportType"));

    if (body_id(rs, c->root, "id", "DEVICE_PROFILE", &c->uuid) != 0) {
        return -EINVAL;
    }
    if (c->uuid != NULL) { /* clean_body() drops the id member */
        (void)snprintf(c->id_buf, sizeof(c->id_buf), "%s", c->uuid);
        c->uuid = c->id_buf;
    }
    c->name = json_string_value(json_object_get(c->root, "name"));
    if (c->name == NULL || c->name[0] == '\0') {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device profile name should be specified!");
        return -EINVAL;
    }
    if (transport == NULL) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device profile transport type should be specified!");
        return -EINVAL;
    }
    if (strcmp(transport, "COAP") != 0 && strcmp(transport, "DEFAULT") != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Transport type %.32s is not supported", transport);
        return -EINVAL;
    }
    return 0;
}

/* Existence, version and name uniqueness against the store. */
static int store_checks(struct web_req *rq, struct web_resp *rs, struct save_ctx *c)
{
    json_t *version = json_object_get(c->root, "version");
    int rc = 0;

    if (c->uuid != NULL) {
        rc = gw_store_api_profile_get(rq->st, c->uuid, NULL, old_row, c);
        c->is_found = rc == 0;
        if (rc == -ENOENT) {
            web_error(rs, 404, WEB_E_NOT_FOUND, "Device profile with id [%s] is not found",
                      c->uuid);
            return rc;
        }
    }
    if (rc == 0 && c->is_found && version != NULL && !json_is_null(version) &&
        (!json_is_integer(version) || json_integer_value(version) != c->old_version)) {
        web_error(rs, 409, WEB_E_CONFLICT, "Device profile was already changed by someone else");
        return -EBUSY;
    }
    rc = rc == 0 ? gw_store_api_profile_get(rq->st, NULL, c->name, taken_row, c) : rc;
    if (rc == -ENOENT) {
        rc = 0;
    } else if (rc == 0 && (c->uuid == NULL || strcmp(c->taken_uuid, c->uuid) != 0)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device profile with such name already exists!");
        return -EEXIST;
    }
    if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc;
}

/* Drops what answers rebuild and stamps the new version. Returns: the JSON text to parse. */
static char *clean_body(struct save_ctx *c)
{
    static const char *const drop[] = { "id",         "createdTime", "tenantId",
                                        "firmwareId", "softwareId",  "externalId" };
    size_t i;

    for (i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
        (void)json_object_del(c->root, drop[i]);
    }
    (void)json_object_set_new(c->root, "version",
                              json_integer((json_int_t)(c->is_found ? c->old_version + 1 : 1)));
    return json_dumps(c->root, JSON_COMPACT);
}

/* The store's refusals in ThingsBoard's words. */
static void save_failed(struct web_resp *rs, int rc, const char *err)
{
    if (rc == -EEXIST && strncmp(err, "Another default", 15) == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Another default device profile is present in scope of current tenant!");
    } else if (rc == -EEXIST || rc == -EBUSY) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
    } else {
        web_reply_db_error(rs);
    }
}

/* Parses, compiles and stores the profile (under its old name when it is renamed). */
static int store_profile(struct web_req *rq, struct web_resp *rs, struct save_ctx *c,
                         const char *text)
{
    const char *save_name = c->is_found ? c->old_name : NULL;
    struct profile_config cfg;
    char *normalized = NULL;
    uint8_t *blob = NULL;
    size_t blob_len = 0;
    char err[1024];
    int rc;

    rc = profile_config_parse(text, strlen(text), save_name, &cfg, &normalized, err, sizeof(err));
    if (rc != 0) {
        web_error(rs, rc == -ENOMEM ? 500 : 400, rc == -ENOMEM ? WEB_E_GENERAL : WEB_E_BAD_PARAMS,
                  "%s", err);
        return rc;
    }
    rc = gw_protoc_profile(NULL, &cfg, &blob, &blob_len, err, sizeof(err));
    if (rc == -EINVAL) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
    } else if (rc != 0) {
        gw_log_err("admin profile: protoc failed rc=%d err=\"%s\"", rc, err);
        web_error(rs, 500, WEB_E_GENERAL, "Cannot compile the profile's schemas: %s", err);
    } else {
        rc = gw_store_profile_save(rq->st, &cfg, normalized, blob, blob_len, rq->now_ms, NULL, err,
                                   sizeof(err));
        if (rc != 0) {
            save_failed(rs, rc, err);
        }
    }
    free(blob);
    free(normalized);
    profile_config_fini(&cfg);
    return rc;
}

/* Applies a rename after the content was saved. */
static int rename_profile(struct web_req *rq, struct web_resp *rs, const struct save_ctx *c)
{
    int rc;

    if (!c->is_found || strcmp(c->old_name, c->name) == 0) {
        return 0;
    }
    rc = gw_store_api_profile_rename(rq->st, c->uuid, c->name, rq->now_ms);
    if (rc == -EEXIST) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Device profile with such name already exists!");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc;
}

static int saved_row(void *arg, const struct gw_api_profile *p)
{
    struct save_ctx *c = arg;

    (void)snprintf(c->taken_uuid, sizeof(c->taken_uuid), "%s", p->uuid);
    return 0;
}

void web_hnd_profile_save(struct web_req *rq, struct web_resp *rs)
{
    struct save_ctx c;
    json_error_t je;
    struct web_ota_pick pick;
    char *text = NULL;

    memset(&c, 0, sizeof(c));
    c.root = json_loadb(rq->body != NULL ? rq->body : "", rq->body_len, 0, &je);
    if (!json_is_object(c.root)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid JSON: %s",
                  c.root == NULL ? je.text : "not an object");
        goto out;
    }
    if (first_checks(rs, &c) != 0 || store_checks(rq, rs, &c) != 0 ||
        web_ota_check(rq, rs, c.root, c.uuid, 0, &pick) != 0) {
        goto out;
    }
    text = clean_body(&c);
    if (text == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
    } else if (store_profile(rq, rs, &c, text) == 0 && rename_profile(rq, rs, &c) == 0 &&
               gw_store_api_profile_get(rq->st, c.uuid, c.name, saved_row, &c) == 0 &&
               web_ota_profile_apply(rq, rs, c.taken_uuid, &pick) == 0) {
        gw_log_info("admin profile saved name=\"%s\" user=\"%s\"", c.name, rq->jwt.sub);
        web_hnd_profile_reply(rq, rs, c.taken_uuid);
    } else if (rs->status == 0) {
        web_reply_db_error(rs);
    }
out:
    free(text);
    json_decref(c.root);
}
