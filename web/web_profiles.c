/* SPDX-License-Identifier: MIT */
/*
 * web_profiles.c - device profiles over the admin API (specs/rest-api.md section 5): save
 * (create or update), get, delete, pages of profiles and of profile infos, the default profile.
 *
 * A save is checked in ThingsBoard's order (name, transport type, existence and version, name
 * uniqueness), then parsed and normalised by profile_config_parse() (profiles/profile_model.h),
 * which refuses what nbgate cannot serve and names the JSON path. A Protobuf profile's four
 * schemas are compiled with protoc (gateway/gw_protoc.h) before anything is stored, so a broken
 * schema answers 400 with protoc's file:line:column message. The stored JSON keeps the profile's
 * optimistic-locking "version" (2.7); read-only members (id, createdTime, tenantId) are dropped
 * and answers rebuild them. A rename is applied after the content is saved under the old name
 * (gw_store_api_profile_rename also rewrites the devices' "type").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "gateway/gw_protoc.h"
#include "profiles/profile_model.h"
#include "web/web_internal.h"

/* The members answered as null when the stored JSON has none (ThingsBoard serialises them). */
static const char *const null_members[] = {
    "description",
    "image",
    "provisionDeviceKey",
    "defaultRuleChainId",
    "defaultDashboardId",
    "defaultQueueName",
    "defaultEdgeRuleChainId",
    "externalId",
};

static json_t *ota_id(const char *uuid)
{
    return uuid != NULL ? web_json_id("OTA_PACKAGE", uuid) : json_null();
}

/* The stored version (1 when the JSON has none). */
static int64_t stored_version(json_t *o)
{
    json_t *v = json_object_get(o, "version");

    return json_is_integer(v) && json_integer_value(v) > 0 ? (int64_t)json_integer_value(v) : 1;
}

json_t *web_profile_out(const struct gw_api_profile *p, const char *tenant_id)
{
    json_t *o = json_loads(p->json != NULL ? p->json : "{}", 0, NULL);
    json_t *pd;
    size_t i;

    if (!json_is_object(o)) {
        json_decref(o);
        o = json_object();
    }
    if (o == NULL) {
        return NULL;
    }
    (void)json_object_set_new(o, "id", web_json_id("DEVICE_PROFILE", p->uuid));
    (void)json_object_set_new(o, "createdTime", json_integer((json_int_t)p->created_ms));
    (void)json_object_set_new(o, "tenantId", web_json_id("TENANT", tenant_id));
    (void)json_object_set_new(o, "name", json_string(p->name));
    (void)json_object_set_new(o, "default", json_boolean(p->is_default));
    (void)json_object_set_new(o, "type", json_string("DEFAULT"));
    (void)json_object_set_new(o, "transportType", json_string(p->transport));
    (void)json_object_set_new(o, "firmwareId", ota_id(p->fw_uuid));
    (void)json_object_set_new(o, "softwareId", ota_id(p->sw_uuid));
    (void)json_object_set_new(o, "version", json_integer((json_int_t)stored_version(o)));
    for (i = 0; i < sizeof(null_members) / sizeof(null_members[0]); i++) {
        if (json_object_get(o, null_members[i]) == NULL) {
            (void)json_object_set_new(o, null_members[i], json_null());
        }
    }
    if (json_object_get(o, "provisionType") == NULL) {
        (void)json_object_set_new(o, "provisionType", json_string("DISABLED"));
    }
    pd = json_object_get(o, "profileData");
    if (json_is_object(pd)) {
        (void)json_object_set_new(pd, "alarms", json_null());
    }
    return o;
}

static json_t *info_out(const struct gw_api_profile *p, const char *tenant_id)
{
    json_t *stored = json_loads(p->json != NULL ? p->json : "{}", 0, NULL);
    json_t *image = json_object_get(stored, "image");
    json_t *o = json_pack("{s:o, s:o, s:s, s:O, s:n, s:s, s:s}", "id",
                          web_json_id("DEVICE_PROFILE", p->uuid), "tenantId",
                          web_json_id("TENANT", tenant_id), "name", p->name, "image",
                          json_is_string(image) ? image : json_null(), "defaultDashboardId", "type",
                          "DEFAULT", "transportType", p->transport);

    json_decref(stored);
    return o;
}

/* ---- reads ------------------------------------------------------------------------------- */

struct prof_json {
    const char *tenant_id;
    bool is_info;
    json_t *out; /* one object, or the array of a page */
};

static int prof_one(void *arg, const struct gw_api_profile *p)
{
    struct prof_json *j = arg;

    j->out = j->is_info ? info_out(p, j->tenant_id) : web_profile_out(p, j->tenant_id);
    return j->out != NULL ? 0 : -ENOMEM;
}

static int prof_append(void *arg, const struct gw_api_profile *p)
{
    struct prof_json *j = arg;
    json_t *o = j->is_info ? info_out(p, j->tenant_id) : web_profile_out(p, j->tenant_id);

    return o != NULL && json_array_append_new(j->out, o) == 0 ? 0 : -ENOMEM;
}

/* Answers the profile with uuid (NULL: the default one). */
static void reply_profile(struct web_req *rq, struct web_resp *rs, const char *uuid, bool is_info)
{
    struct prof_json j = { rq->srv->tenant_id, is_info, NULL };
    int rc = gw_store_api_profile_get(rq->st, uuid, NULL, prof_one, &j);

    if (rc == -ENOENT && uuid != NULL) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device profile with id [%s] is not found", uuid);
    } else if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
    } else if (rc != 0) {
        json_decref(j.out);
        web_reply_db_error(rs);
    } else {
        web_reply_json(rs, j.out);
    }
}

void web_hnd_profile_reply(struct web_req *rq, struct web_resp *rs, const char *uuid)
{
    reply_profile(rq, rs, uuid, false);
}

void web_hnd_profile_get(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);

    if (uuid != NULL) {
        reply_profile(rq, rs, uuid, false);
    }
}

void web_hnd_profile_info(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);

    if (uuid != NULL) {
        reply_profile(rq, rs, uuid, true);
    }
}

void web_hnd_profile_info_default(struct web_req *rq, struct web_resp *rs)
{
    reply_profile(rq, rs, NULL, true);
}

static void profile_page(struct web_req *rq, struct web_resp *rs, bool is_info)
{
    static const char *const sorts[] = { "createdTime",   "name",        "type",
                                         "transportType", "description", "isDefault" };
    static const enum gw_api_profile_sort sort_of[] = {
        GW_API_PSORT_CREATED,   GW_API_PSORT_NAME,        GW_API_PSORT_CREATED,
        GW_API_PSORT_TRANSPORT, GW_API_PSORT_DESCRIPTION, GW_API_PSORT_DEFAULT
    };
    struct prof_json j = { rq->srv->tenant_id, is_info, json_array() };
    struct gw_api_profile_query q;
    struct web_page pg;
    int64_t total = 0;

    if (j.out == NULL || web_page_of(rq, rs, sorts, 6, &pg) != 0) {
        json_decref(j.out);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    memset(&q, 0, sizeof(q));
    q.page_size = pg.page_size;
    q.page = pg.page;
    q.sort = pg.sort >= 0 ? sort_of[pg.sort] : GW_API_PSORT_CREATED;
    q.is_desc = pg.is_desc;
    q.text_search = web_query(rq, "textSearch");
    q.text_search = q.text_search != NULL && q.text_search[0] != '\0' ? q.text_search : NULL;
    q.transport = is_info ? web_query(rq, "transportType") : NULL;
    q.transport = q.transport != NULL && q.transport[0] != '\0' ? q.transport : NULL;
    if (gw_store_api_profile_page(rq->st, &q, &total, prof_append, &j) != 0) {
        json_decref(j.out);
        web_reply_db_error(rs);
        return;
    }
    web_reply_page(rs, j.out, total, &pg);
}

void web_hnd_profiles(struct web_req *rq, struct web_resp *rs)
{
    profile_page(rq, rs, false);
}

void web_hnd_profile_infos(struct web_req *rq, struct web_resp *rs)
{
    profile_page(rq, rs, true);
}

/* ---- default, delete --------------------------------------------------------------------- */

/* The name of the profile with the {} uuid parameter; answers 400 / 404 / 500 otherwise. */
struct prof_name {
    char name[GW_STORE_NAME_MAX];
};

static int copy_name(void *arg, const struct gw_api_profile *p)
{
    struct prof_name *n = arg;

    (void)snprintf(n->name, sizeof(n->name), "%s", p->name);
    return 0;
}

int web_profile_name(struct web_req *rq, const char *uuid, char *name, size_t len)
{
    struct prof_name n;
    int rc = gw_store_api_profile_get(rq->st, uuid, NULL, copy_name, &n);

    if (rc == 0) {
        (void)snprintf(name, len, "%s", n.name);
    }
    return rc;
}

static const char *param_profile(struct web_req *rq, struct web_resp *rs, struct prof_name *n)
{
    const char *uuid = web_param_uuid(rq, rs, 0);
    int rc;

    if (uuid == NULL) {
        return NULL;
    }
    rc = gw_store_api_profile_get(rq->st, uuid, NULL, copy_name, n);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device profile with id [%s] is not found", uuid);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc == 0 ? uuid : NULL;
}

void web_hnd_profile_default(struct web_req *rq, struct web_resp *rs)
{
    struct prof_name n;
    const char *uuid = param_profile(rq, rs, &n);

    if (uuid == NULL) {
        return;
    }
    if (gw_store_profile_set_default(rq->st, n.name, rq->now_ms) != 0) {
        web_reply_db_error(rs);
        return;
    }
    gw_log_info("admin profile default name=\"%s\" user=\"%s\"", n.name, rq->jwt.sub);
    reply_profile(rq, rs, uuid, false);
}

void web_hnd_profile_delete(struct web_req *rq, struct web_resp *rs)
{
    struct prof_name n;
    char err[256];
    int rc;

    if (param_profile(rq, rs, &n) == NULL) {
        return;
    }
    rc = gw_store_profile_delete(rq->st, n.name, err, sizeof(err));
    if (rc == -EPERM || rc == -EBUSY) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin profile deleted name=\"%s\" user=\"%s\"", n.name, rq->jwt.sub);
        rs->status = 200;
    }
}
