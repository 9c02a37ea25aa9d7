/* SPDX-License-Identifier: MIT */
/*
 * web_ota_assign.c - assigning OTA packages to devices and device profiles (specs/rest-api.md
 * 6a.6, 6a.7) through the ordinary saves: POST /api/device (firmwareId, softwareId) and
 * POST /api/deviceProfile.
 *
 * Before the save, web_ota_check() applies ThingsBoard's rules to each non-null id (the package
 * exists, has the right type, has data, belongs to the profile the entity will have) and notes
 * the device's effective packages. After the save, the apply functions store the ids and, for
 * every device whose effective package (its own, else its profile's) changed, write the fw_* /
 * sw_* shared attributes (queued as one notification) and the target_* telemetry
 * (gw_store_api_ota_notify), then wake the loop. A save that leaves the effective package as it
 * was writes nothing. The writes after the save are transactions of their own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

#define ATTR_EXPIRY_MS 86400000LL /* an assignment notification waits a day for its device */

struct pkg_view {
    int64_t id;
    bool is_software, has_data;
    char profile_uuid[GW_STORE_UUID_LEN];
};

static int pkg_row(void *arg, const struct gw_api_ota *o)
{
    struct pkg_view *v = arg;

    v->id = o->id;
    v->is_software = o->is_software;
    v->has_data = o->has_data;
    (void)snprintf(v->profile_uuid, sizeof(v->profile_uuid), "%s",
                   o->profile_uuid != NULL ? o->profile_uuid : "");
    return 0;
}

/* One member (t = 0 firmware, 1 software). Returns: 0, or != 0 with 400 / 500 answered. */
static int check_one(struct web_req *rq, struct web_resp *rs, json_t *body, int t,
                     const char *profile_uuid, int64_t *id)
{
    static const char *const members[] = { "firmwareId", "softwareId" };
    static const char *const words[] = { "firmware", "software" };
    json_t *v = json_object_get(body, members[t]);
    const char *uuid = json_string_value(json_object_get(v, "id"));
    const char *et = json_string_value(json_object_get(v, "entityType"));
    struct pkg_view p;
    int rc;

    *id = 0;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!web_uuid_ok(uuid) || (json_object_get(v, "entityType") != NULL &&
                               (et == NULL || strcmp(et, "OTA_PACKAGE") != 0))) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Field '%s' should be an OTA_PACKAGE id", members[t]);
        return -EINVAL;
    }
    memset(&p, 0, sizeof(p));
    rc = gw_store_api_ota_get(rq->st, uuid, 0, pkg_row, &p);
    if (rc == -ENOENT) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Can't assign non-existent %s!", words[t]);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else if (p.is_software != (t == 1)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Can't assign %s with type: %s", words[t],
                  p.is_software ? "SOFTWARE" : "FIRMWARE");
        rc = -EINVAL;
    } else if (!p.has_data) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Can't assign %s with empty data!", words[t]);
        rc = -EINVAL;
    } else if (profile_uuid == NULL || strcasecmp(p.profile_uuid, profile_uuid) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Can't assign %s with different deviceProfile!",
                  words[t]);
        rc = -EINVAL;
    }
    *id = rc == 0 ? p.id : 0;
    return rc;
}

int web_ota_check(struct web_req *rq, struct web_resp *rs, json_t *body, const char *profile_uuid,
                  int64_t device_id, struct web_ota_pick *pick)
{
    int t, rc = 0;

    memset(pick, 0, sizeof(*pick));
    for (t = 0; rc == 0 && t < 2; t++) {
        rc = check_one(rq, rs, body, t, profile_uuid, &pick->ids[t]);
        if (rc == 0 && device_id != 0 &&
            gw_store_api_ota_effective(rq->st, device_id, t == 1, &pick->old_eff[t]) != 0) {
            web_reply_db_error(rs);
            rc = -EIO;
        }
    }
    return rc;
}

/* ---- devices ----------------------------------------------------------------------------- */

struct uuid_copy {
    char uuid[GW_STORE_UUID_LEN];
    int64_t id;
};

static int copy_profile(void *arg, const struct gw_api_profile *p)
{
    struct uuid_copy *c = arg;

    (void)snprintf(c->uuid, sizeof(c->uuid), "%s", p->uuid);
    c->id = p->id;
    return 0;
}

int web_ota_device_check(struct web_req *rq, struct web_resp *rs, json_t *body,
                         const struct gw_api_device_in *in, struct web_ota_pick *pick)
{
    struct uuid_copy prof = { "", 0 };
    const char *target = in->profile_uuid;
    int64_t device_id = 0;
    int rc = 0;

    if (target == NULL) { /* the profile named type, else the default one, as the save picks */
        rc = gw_store_api_profile_get(rq->st, NULL, in->type, copy_profile, &prof);
        target = rc == 0 ? prof.uuid : NULL;
        rc = rc == -ENOENT && in->type != NULL ? 0 : rc;
    }
    if (rc == 0 && in->uuid != NULL) {
        rc = gw_store_api_device_id(rq->st, in->uuid, &device_id);
        rc = rc == -ENOENT ? 0 : rc; /* the save answers 404 */
    }
    if (rc != 0) {
        web_reply_db_error(rs);
        return rc;
    }
    return web_ota_check(rq, rs, body, target, device_id, pick);
}

int web_ota_device_apply(struct web_req *rq, struct web_resp *rs, const char *device_uuid,
                         const struct web_ota_pick *pick)
{
    int64_t id = 0, eff = 0;
    bool is_changed = false;
    int t, rc;

    rc = gw_store_api_device_id(rq->st, device_uuid, &id);
    rc = rc == 0 ? gw_store_api_device_ota_set(rq->st, id, pick->ids[0], pick->ids[1]) : rc;
    for (t = 0; rc == 0 && t < 2; t++) {
        rc = gw_store_api_ota_effective(rq->st, id, t == 1, &eff);
        if (rc == 0 && eff != pick->old_eff[t]) {
            rc = gw_store_api_ota_notify(rq->st, id, t == 1, eff, rq->now_ms,
                                         rq->now_ms + ATTR_EXPIRY_MS);
            is_changed = true;
        }
    }
    if (is_changed) {
        web_wake_loop(rq->srv);
    }
    if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc;
}

/* ---- profiles ---------------------------------------------------------------------------- */

struct follower_ctx {
    struct web_req *rq;
    bool is_software;
    int64_t package_id;
};

static int notify_follower(void *arg, int64_t device_id)
{
    struct follower_ctx *f = arg;

    return gw_store_api_ota_notify(f->rq->st, device_id, f->is_software, f->package_id,
                                   f->rq->now_ms, f->rq->now_ms + ATTR_EXPIRY_MS);
}

int web_ota_profile_apply(struct web_req *rq, struct web_resp *rs, const char *profile_uuid,
                          const struct web_ota_pick *pick)
{
    struct uuid_copy prof = { "", 0 };
    struct follower_ctx f = { rq, false, 0 };
    int64_t old = 0;
    bool is_changed = false;
    int t, rc = gw_store_api_profile_get(rq->st, profile_uuid, NULL, copy_profile, &prof);

    for (t = 0; rc == 0 && t < 2; t++) {
        rc = gw_store_api_profile_ota_set(rq->st, prof.id, t == 1, pick->ids[t], &old);
        if (rc == 0 && old != pick->ids[t]) {
            f.is_software = t == 1;
            f.package_id = pick->ids[t];
            rc = gw_store_api_profile_followers(rq->st, prof.id, t == 1, notify_follower, &f);
            is_changed = true;
        }
    }
    if (is_changed) {
        web_wake_loop(rq->srv);
    }
    if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc;
}
