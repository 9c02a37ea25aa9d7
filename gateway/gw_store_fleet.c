/* SPDX-License-Identifier: MIT */
/*
 * gw_store_fleet.c - the store's side of the fleet view (GET /api/nbgate/fleet, web/web_fleet.c):
 * one page of devices with everything the operator looks at, and the totals of the filtered
 * fleet, in two queries whatever the page size (no query per device).
 *
 * Both queries start from the same common table FLEET: per device its activity (ThingsBoard's
 * rule, the GW_STORE_SQL_* fragments of gw_store_internal.h that the device listings use), the
 * source of its inactivity timeout, its expected uplink interval and the count of its unfinished
 * downlinks (GW_STORE_SQL_DL_UNFINISHED, the queue limit's rule). The summary aggregates FLEET
 * over the text and profile filters; the state filter only narrows the page (so the counts at
 * the top of the view stay the choices of its state filter). The page query then joins only the
 * page's rows with their latest battery and signal values (the first key present, in the order
 * the lists below give).
 *
 * Parameters: ?1 now (ms), ?2 default inactivity timeout (ms), ?3 state or NULL, ?4 text or NULL,
 * ?5 profile uuid or NULL, ?6 LIMIT, ?7 OFFSET, ?8 device uuid or NULL. Every value from a request
 * is bound; the only text spliced into SQL is chosen from constant fragments (the sort column and
 * direction). Thread: the admin threads, each with its own struct gw_store.
 */
#include "gateway/gw_store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_store_internal.h"

/* The expected uplink interval: the profile's (ms), else an Efento sensor's reported one (s). */
#define EXPECTED_PROFILE                                                                           \
    "json_extract(p.profile_json, '$.profileData.configuration.expectedUplinkInterval')"
#define EXPECTED_DEVICE                                                                            \
    "CASE WHEN p.coap_device_type = 'EFENTO' THEN (SELECT a.v_long * 1000 FROM attribute_kv a"     \
    " WHERE a.device_id = d.id AND a.scope = 1 AND a.key = 'transmissionInterval' AND a.type = 2"  \
    " AND a.v_long > 0) END"

/* The battery and signal keys, first present wins (the admin page used these lists). */
#define BATTERY_KEY                                                                                \
    "(SELECT l.key FROM ts_kv_latest l WHERE l.device_id = f.id AND l.key IN ('battery',"          \
    " 'battery_level', 'battery_voltage', 'batteryLevel') ORDER BY CASE l.key WHEN 'battery'"      \
    " THEN 0 WHEN 'battery_level' THEN 1 WHEN 'battery_voltage' THEN 2 ELSE 3 END LIMIT 1)"
#define SIGNAL_KEY                                                                                 \
    "(SELECT l.key FROM ts_kv_latest l WHERE l.device_id = f.id AND l.key IN ('signal',"           \
    " 'signal_strength', 'rssi', 'rsrp', 'RSRP', 'RSSI') ORDER BY CASE l.key WHEN 'signal' THEN 0" \
    " WHEN 'signal_strength' THEN 1 WHEN 'rssi' THEN 2 WHEN 'rsrp' THEN 3 WHEN 'RSRP' THEN 4"      \
    " ELSE 5 END LIMIT 1)"

/* Per device: the raw parts (inner), then the effective values and the state (outer). */
#define FLEET                                                                                      \
    "WITH fleet AS MATERIALIZED (SELECT *, CASE WHEN last_ms <= 0 THEN 2 "                         \
    "WHEN " GW_STORE_SQL_IS_ACTIVE(                                                                \
        "last_ms", "?1",                                                                           \
        "tmo") " THEN 0 ELSE 1 END AS state,"                                                      \
               " CASE WHEN last_ms > 0 AND exp_ms > 0 THEN last_ms + exp_ms END AS next_ms FROM "  \
               "(SELECT *, " GW_STORE_SQL_TIMEOUT(                                                 \
                   "tmo_dev", "tmo_prof",                                                          \
                   "?2") " AS tmo, CASE WHEN tmo_dev IS NOT NULL"                                  \
                         " THEN 1 WHEN tmo_prof IS NOT NULL THEN 2 ELSE 3 END AS tmo_src,"         \
                         " COALESCE(exp_prof, exp_dev) AS exp_ms, CASE WHEN exp_prof IS NOT NULL " \
                         "THEN 2 WHEN exp_dev IS"                                                  \
                         " NOT NULL THEN 1 ELSE 0 END AS exp_src FROM (SELECT d.id AS id, d.uuid " \
                         "AS uuid, d.name AS"                                                      \
                         " name, d.label AS label, p.name AS profile_name, p.uuid AS "             \
                         "profile_uuid,"                                                           \
                         " d.last_activity_ms AS last_ms, " GW_STORE_SQL_TIMEOUT_DEVICE            \
                         " AS tmo_dev, " GW_STORE_SQL_TIMEOUT_PROFILE                              \
                         " AS tmo_prof, " EXPECTED_PROFILE " AS exp_prof, " EXPECTED_DEVICE        \
                         " AS exp_dev, (SELECT count(*) FROM downlink x WHERE x.device_id = d.id " \
                         "AND " GW_STORE_SQL_DL_UNFINISHED                                         \
                         ") AS pending FROM device d JOIN device_profile p"                        \
                         " ON p.id = d.profile_id)))"

#define WHERE_TEXT_PROFILE                                                                         \
    "(?4 IS NULL OR instr(lower(name), lower(?4)) > 0 OR instr(lower(COALESCE(label, '')),"        \
    " lower(?4)) > 0 OR instr(lower(profile_name), lower(?4)) > 0) AND (?5 IS NULL OR"             \
    " profile_uuid = ?5) AND (?8 IS NULL OR uuid = ?8)"
#define WHERE_STATE "(?3 IS NULL OR state = ?3)"

/* Column numbers of the page query. */
enum {
    C_UUID,
    C_NAME,
    C_LABEL,
    C_PROFILE_NAME,
    C_PROFILE_UUID,
    C_LAST,
    C_TMO,
    C_TMO_SRC,
    C_EXP,
    C_EXP_SRC,
    C_STATE,
    C_NEXT,
    C_PENDING,
    C_BAT_KEY, /* then ts, type, v_long, v_double, v_str */
    C_SIG_KEY = C_BAT_KEY + 6,
};

static void bind_query(sqlite3_stmt *s, const struct gw_fleet_query *q)
{
    (void)sqlite3_bind_int64(s, 1, q->now_ms);
    (void)sqlite3_bind_int64(s, 2, q->default_inactivity_ms);
    if (q->state >= 0) {
        (void)sqlite3_bind_int(s, 3, q->state);
    }
    gw_store_bind_text_or_null(s, 4, q->text_search);
    gw_store_bind_text_or_null(s, 5, q->profile_uuid);
    gw_store_bind_text_or_null(s, 8, q->device_uuid);
}

static int summary(struct gw_store *st, const struct gw_fleet_query *q,
                   struct gw_fleet_summary *sum)
{
    sqlite3_stmt *s = NULL;
    int rc = gw_store_prepare(
        st,
        FLEET " SELECT count(*), COALESCE(sum(state = 0), 0), COALESCE(sum(state = 1), 0),"
              " COALESCE(sum(state = 2), 0), COALESCE(sum(pending > 0), 0), COALESCE(sum(pending),"
              " 0), COALESCE(sum(" WHERE_STATE "), 0) FROM fleet WHERE " WHERE_TEXT_PROFILE,
        &s);

    memset(sum, 0, sizeof(*sum));
    if (rc != 0) {
        return rc;
    }
    bind_query(s, q);
    if (sqlite3_step(s) == SQLITE_ROW) {
        sum->total = sqlite3_column_int64(s, 0);
        sum->active = sqlite3_column_int64(s, 1);
        sum->inactive = sqlite3_column_int64(s, 2);
        sum->never_seen = sqlite3_column_int64(s, 3);
        sum->devices_with_pending = sqlite3_column_int64(s, 4);
        sum->pending_downlinks = sqlite3_column_int64(s, 5);
        sum->matches = sqlite3_column_int64(s, 6);
    } else {
        rc = -EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

static const char *order_by(const struct gw_fleet_query *q)
{
    static const char *const orders[3][2] = {
        { "name ASC, id", "name DESC, id" },
        { "last_ms ASC, name, id", "last_ms DESC, name, id" },
        { "state ASC, name, id", "state DESC, name, id" },
    };
    unsigned i = (unsigned)q->sort < 3 ? (unsigned)q->sort : 0;

    return orders[i][q->is_desc ? 1 : 0];
}

static void reading(sqlite3_stmt *s, int col, struct gw_fleet_reading *r)
{
    memset(r, 0, sizeof(*r));
    if (sqlite3_column_type(s, col + 2) == SQLITE_NULL) {
        return; /* none of the keys has a value */
    }
    r->key = gw_store_col_text(s, col);
    r->ts_ms = sqlite3_column_int64(s, col + 1);
    gw_store_column_value(s, col + 2, &r->value);
}

static void device_row(sqlite3_stmt *s, struct gw_fleet_device *d)
{
    memset(d, 0, sizeof(*d));
    d->uuid = gw_store_col_text(s, C_UUID);
    d->name = gw_store_col_text(s, C_NAME);
    d->label = gw_store_col_text(s, C_LABEL);
    d->profile_name = gw_store_col_text(s, C_PROFILE_NAME);
    d->profile_uuid = gw_store_col_text(s, C_PROFILE_UUID);
    d->last_activity_ms = sqlite3_column_int64(s, C_LAST);
    d->inactivity_timeout_ms = sqlite3_column_int64(s, C_TMO);
    switch (sqlite3_column_int(s, C_TMO_SRC)) {
    case 1:
        d->inactivity_source = GW_FLEET_SRC_DEVICE;
        break;
    case 2:
        d->inactivity_source = GW_FLEET_SRC_PROFILE;
        break;
    default:
        d->inactivity_source = GW_FLEET_SRC_GATEWAY;
        break;
    }
    d->expected_interval_ms = sqlite3_column_int64(s, C_EXP);
    d->expected_source = sqlite3_column_int(s, C_EXP_SRC) == 2   ? GW_FLEET_SRC_PROFILE
                         : sqlite3_column_int(s, C_EXP_SRC) == 1 ? GW_FLEET_SRC_DEVICE
                                                                 : GW_FLEET_SRC_NONE;
    d->state = (enum gw_fleet_state)sqlite3_column_int(s, C_STATE);
    d->next_uplink_ms = sqlite3_column_int64(s, C_NEXT);
    d->pending_downlinks = sqlite3_column_int64(s, C_PENDING);
    reading(s, C_BAT_KEY, &d->battery);
    reading(s, C_SIG_KEY, &d->signal);
}

int gw_store_fleet_page(struct gw_store *st, const struct gw_fleet_query *q,
                        struct gw_fleet_summary *sum, gw_store_fleet_fn fn, void *arg)
{
    static const char page_sql[] =
        FLEET " SELECT f.uuid, f.name, f.label, f.profile_name, f.profile_uuid, f.last_ms, f.tmo,"
              " f.tmo_src, f.exp_ms, f.exp_src, f.state, f.next_ms, f.pending, b.key, b.ts_ms,"
              " b.type, b.v_long, b.v_double, b.v_str, g.key, g.ts_ms, g.type, g.v_long,"
              " g.v_double, g.v_str FROM (SELECT * FROM fleet WHERE " WHERE_TEXT_PROFILE
              " AND " WHERE_STATE " ORDER BY %s LIMIT ?6 OFFSET ?7) f LEFT JOIN ts_kv_latest b"
              " ON b.device_id = f.id AND b.key = " BATTERY_KEY " LEFT JOIN ts_kv_latest g"
              " ON g.device_id = f.id AND g.key = " SIGNAL_KEY " ORDER BY %s";
    struct gw_fleet_device d;
    sqlite3_stmt *s = NULL;
    char sql[sizeof(page_sql) + 64];
    int rc;

    rc = summary(st, q, sum);
    if (rc != 0 || sum->matches <= q->page * q->page_size) {
        return rc;
    }
    (void)snprintf(sql, sizeof(sql), page_sql, order_by(q), order_by(q));
    rc = gw_store_prepare(st, sql, &s);
    if (rc != 0) {
        return rc;
    }
    bind_query(s, q);
    (void)sqlite3_bind_int64(s, 6, q->page_size);
    (void)sqlite3_bind_int64(s, 7, q->page * q->page_size);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        device_row(s, &d);
        rc = fn(arg, &d);
        if (rc != 0) {
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : -EIO;
out:
    sqlite3_finalize(s);
    return rc;
}
