/* SPDX-License-Identifier: MIT */
/*
 * web_fleet.c - GET /api/nbgate/fleet: the fleet view of the admin page in one answer (issue 9).
 * A page of devices, each with its state and why (last uplink, effective inactivity timeout and
 * expected uplink interval with their sources, the next uplink expected), its latest battery and
 * signal values and its unfinished downlinks, plus the totals of the filtered fleet and the
 * gateway's default inactivity timeout. The store answers it in two queries
 * (gw_store_fleet_page()); this file parses the query and writes the JSON.
 *
 * Query: pageSize (1..1000, default 20), page (default 0), textSearch (name, label or profile
 * name, case-insensitive), deviceProfileId, deviceId (one device), state (ACTIVE, INACTIVE,
 * NEVER_SEEN), sortProperty (name, lastActivityTime, state; default name) and sortOrder (ASC,
 * DESC). A bad parameter is 400/31 with a message that names it. The summary ignores the state
 * filter (docs/API.md).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

#define FLEET_PAGE_MAX     1000
#define FLEET_PAGE_DEFAULT 20
#define FLEET_SEARCH_MAX   255 /* bytes of textSearch */

static const char *const STATE_NAMES[] = { "ACTIVE", "INACTIVE", "NEVER_SEEN" };
static const char *const SORT_NAMES[] = { "name", "lastActivityTime", "state" };

/* An optional integer parameter in min..max; answers 400 naming it. */
static int int_param(struct web_req *rq, struct web_resp *rs, const char *name, int64_t min,
                     int64_t max, int64_t *out)
{
    const char *s = web_query(rq, name);
    char *end = NULL;
    long long v;

    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter '%s' must be an integer %lld..%lld", name,
                  (long long)min, (long long)max);
        return -EINVAL;
    }
    *out = (int64_t)v;
    return 0;
}

/* An optional parameter from a list of names; *out is its index (unchanged when absent). */
static int enum_param(struct web_req *rq, struct web_resp *rs, const char *name,
                      const char *const *names, size_t n, const char *choices, int *out)
{
    const char *s = web_query(rq, name);
    size_t i;

    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return 0;
        }
    }
    web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter '%s' must be %s", name, choices);
    return -EINVAL;
}

/* Fills q from the request; answers 400 and returns -EINVAL for a bad parameter. */
static int fleet_query(struct web_req *rq, struct web_resp *rs, struct gw_fleet_query *q)
{
    static const char *const orders[] = { "ASC", "DESC" };
    int sort = 0, order = 0, state = -1;
    const char *text = web_query(rq, "textSearch");
    const char *profile = web_query(rq, "deviceProfileId");
    const char *device = web_query(rq, "deviceId");

    memset(q, 0, sizeof(*q));
    q->page_size = FLEET_PAGE_DEFAULT;
    if (int_param(rq, rs, "pageSize", 1, FLEET_PAGE_MAX, &q->page_size) != 0 ||
        int_param(rq, rs, "page", 0, INT32_MAX, &q->page) != 0 ||
        enum_param(rq, rs, "state", STATE_NAMES, 3, "ACTIVE, INACTIVE or NEVER_SEEN", &state) !=
            0 ||
        enum_param(rq, rs, "sortProperty", SORT_NAMES, 3, "name, lastActivityTime or state",
                   &sort) != 0 ||
        enum_param(rq, rs, "sortOrder", orders, 2, "ASC or DESC", &order) != 0) {
        return -EINVAL;
    }
    if (text != NULL && strlen(text) > FLEET_SEARCH_MAX) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter 'textSearch' must be at most %d bytes",
                  FLEET_SEARCH_MAX);
        return -EINVAL;
    }
    if (profile != NULL && profile[0] != '\0' && !web_uuid_ok(profile)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter 'deviceProfileId' is not a UUID: %.64s",
                  profile);
        return -EINVAL;
    }
    if (device != NULL && device[0] != '\0' && !web_uuid_ok(device)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Parameter 'deviceId' is not a UUID: %.64s", device);
        return -EINVAL;
    }
    q->device_uuid = device != NULL && device[0] != '\0' ? device : NULL;
    q->text_search = text != NULL && text[0] != '\0' ? text : NULL;
    q->profile_uuid = profile != NULL && profile[0] != '\0' ? profile : NULL;
    q->state = state;
    q->sort = (enum gw_fleet_sort)sort;
    q->is_desc = order == 1;
    q->now_ms = rq->now_ms;
    q->default_inactivity_ms = rq->srv->o.default_inactivity_timeout_s * 1000;
    return 0;
}

/* A typed value as JSON (strict types, as useStrictDataTypes answers them). */
static json_t *value_out(const struct profile_value *v)
{
    json_t *j;

    switch (v->type) {
    case PROFILE_VT_BOOLEAN:
        return json_boolean(v->b);
    case PROFILE_VT_LONG:
        return json_integer((json_int_t)v->l);
    case PROFILE_VT_DOUBLE:
        return json_real(v->d);
    case PROFILE_VT_JSON:
        j = json_loadb(v->s, v->s_len, JSON_DECODE_ANY, NULL);
        return j != NULL ? j : json_stringn(v->s, v->s_len);
    case PROFILE_VT_STRING:
        break;
    }
    return json_stringn(v->s != NULL ? v->s : "", v->s_len);
}

static json_t *reading_out(const struct gw_fleet_reading *r)
{
    if (r->key == NULL) {
        return json_null();
    }
    return json_pack("{s:s, s:o, s:I}", "key", r->key, "value", value_out(&r->value), "ts",
                     (json_int_t)r->ts_ms);
}

static json_t *source_out(enum gw_fleet_source src)
{
    switch (src) {
    case GW_FLEET_SRC_DEVICE:
        return json_string("DEVICE");
    case GW_FLEET_SRC_PROFILE:
        return json_string("PROFILE");
    case GW_FLEET_SRC_GATEWAY:
        return json_string("GATEWAY");
    case GW_FLEET_SRC_NONE:
        break;
    }
    return json_null();
}

static json_t *ms_or_null(int64_t ms)
{
    return ms > 0 ? json_integer((json_int_t)ms) : json_null();
}

static json_t *device_out(const struct gw_fleet_device *d)
{
    json_t *o = json_pack(
        "{s:{s:s, s:s}, s:s, s:o, s:{s:s, s:s}, s:s, s:s, s:b, s:o, s:I, s:o, s:o, s:o, s:o, s:o,"
        " s:o, s:I}",
        "id", "entityType", "DEVICE", "id", d->uuid, "name", d->name, "label",
        d->label != NULL ? json_string(d->label) : json_null(), "deviceProfileId", "entityType",
        "DEVICE_PROFILE", "id", d->profile_uuid, "deviceProfileName", d->profile_name, "state",
        STATE_NAMES[(unsigned)d->state < 3 ? d->state : GW_FLEET_NEVER_SEEN], "active",
        d->state == GW_FLEET_ACTIVE, "lastActivityTime", ms_or_null(d->last_activity_ms),
        "inactivityTimeout", (json_int_t)d->inactivity_timeout_ms, "inactivityTimeoutSource",
        source_out(d->inactivity_source), "expectedUplinkInterval",
        ms_or_null(d->expected_interval_ms), "expectedUplinkIntervalSource",
        source_out(d->expected_source), "nextUplinkExpectedTime", ms_or_null(d->next_uplink_ms),
        "battery", reading_out(&d->battery), "signal", reading_out(&d->signal), "pendingDownlinks",
        (json_int_t)d->pending_downlinks);

    return o;
}

static int append_device(void *arg, const struct gw_fleet_device *d)
{
    json_t *o = device_out(d);

    return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : -ENOMEM;
}

void web_hnd_fleet(struct web_req *rq, struct web_resp *rs)
{
    struct gw_fleet_query q;
    struct gw_fleet_summary sum;
    json_t *data = NULL;
    int64_t pages;
    int rc;

    if (fleet_query(rq, rs, &q) != 0) {
        return;
    }
    data = json_array();
    if (data == NULL) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        return;
    }
    rc = gw_store_fleet_page(rq->st, &q, &sum, append_device, data);
    if (rc == -ENOMEM) {
        json_decref(data);
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        return;
    }
    if (rc != 0) {
        json_decref(data);
        web_reply_db_error(rs);
        return;
    }
    pages = (sum.matches + q.page_size - 1) / q.page_size;
    web_reply_json(rs, json_pack("{s:o, s:I, s:I, s:b, s:{s:I, s:I, s:I, s:I, s:I, s:I}, s:I}",
                                 "data", data, "totalPages", (json_int_t)pages, "totalElements",
                                 (json_int_t)sum.matches, "hasNext", q.page < pages - 1, "summary",
                                 "total", (json_int_t)sum.total, "active", (json_int_t)sum.active,
                                 "inactive", (json_int_t)sum.inactive, "neverSeen",
                                 (json_int_t)sum.never_seen, "devicesWithPendingDownlinks",
                                 (json_int_t)sum.devices_with_pending, "pendingDownlinks",
                                 (json_int_t)sum.pending_downlinks, "defaultInactivityTimeout",
                                 (json_int_t)q.default_inactivity_ms));
}
