/* SPDX-License-Identifier: MIT */
/*
 * gw_efento.c - Efento logic of the gateway without I/O (gw_efento.h): admin settings in JSON
 * turned into ProtoConfig downlink fields through the codec's builder, the confirmation rules of
 * the queue (specs/efento.md 8.5), the comparison of queued settings with a reported
 * configuration, the clock-sync rule (8.3) and the record views handed to the store.
 *
 * The settings object is validated twice with the same code: by `nbgate efento set` before it
 * is queued (nothing invalid is ever queued) and when the answer carrying it is built (an entry
 * that no longer applies fails instead of being sent half).
 */
#include "gateway/gw_efento.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULE_PARAMS_MAX 8

/* Requests and commands (direction S): they change nothing the configuration reports. */
static const char *const REQUESTS[] = {
    "deviceInfoRequest",
    "updateSoftwareRequest",
    "currentTime",
    "disableModemRequest",
    "configurationRequest",
    "acceptWithoutTestingRequest",
    "resetMemoryRequest",
    "clearRuntimeErrorsRequest",
    "updateModemRequest",
    "setOutputControlStateRequest",
    "restartMemoryStatsRequest",
    "dataTransferStartTimestampRequest",
    "nvmStatus",
};

/* Settings the sensor does not report back as they were set (6.6: keys as a hash). */
static const char *const NOT_REPORTED[] = { "networkKey", "encryptionKey", "apnPassword" };

static bool in_list(const char *key, const char *const *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(key, list[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_request(const char *key)
{
    return in_list(key, REQUESTS, sizeof(REQUESTS) / sizeof(REQUESTS[0]));
}

/* A JSON integer in [0, max]. */
static int json_u32(const json_t *v, const char *what, uint32_t max, uint32_t *out, char *err,
                    size_t err_len)
{
    json_int_t i;

    if (!json_is_integer(v)) {
        (void)snprintf(err, err_len, "%s: needs a number", what);
        return -EINVAL;
    }
    i = json_integer_value(v);
    if (i < 0 || (uint64_t)i > max) {
        (void)snprintf(err, err_len, "%s: %" PRId64 " outside 0..%" PRIu32, what, (int64_t)i, max);
        return -ERANGE;
    }
    *out = (uint32_t)i;
    return 0;
}

/* An optional unsigned member of an object (absent = 0, as proto3 reads it). */
static int member_u32(const json_t *obj, const char *name, uint32_t *out, char *err, size_t err_len)
{
    const json_t *v = json_object_get(obj, name);

    *out = 0;
    return v == NULL ? 0 : json_u32(v, name, UINT32_MAX, out, err, err_len);
}

/* An enum member given by value name (or number); absent = 0. */
static int member_enum(const json_t *obj, const char *name, const char *enum_name, int32_t *out,
                       char *err, size_t err_len)
{
    const json_t *v = json_object_get(obj, name);
    uint32_t u = 0;
    int rc = 0;

    *out = 0;
    if (v == NULL) {
        return 0;
    }
    if (json_is_string(v)) {
        rc = efento_enum_value(enum_name, json_string_value(v), out);
        if (rc != 0) {
            (void)snprintf(err, err_len, "%s: \"%s\" is not a %s value", name, json_string_value(v),
                           enum_name);
        }
        return rc;
    }
    rc = json_u32(v, name, INT32_MAX, &u, err, err_len);
    *out = (int32_t)u;
    return rc;
}

/* A list of signed 32-bit integers (rule and calendar parameters). */
static int member_i32s(const json_t *obj, const char *name, int32_t *out, size_t cap, size_t *n,
                       char *err, size_t err_len)
{
    const json_t *arr = json_object_get(obj, name);
    const json_t *v;
    size_t i;

    *n = 0;
    if (arr == NULL) {
        return 0;
    }
    if (!json_is_array(arr) || json_array_size(arr) > cap) {
        (void)snprintf(err, err_len, "%s: needs an array of at most %zu numbers", name, cap);
        return -ERANGE;
    }
    json_array_foreach(arr, i, v)
    {
        json_int_t x = json_integer_value(v);
        if (!json_is_integer(v) || x < INT32_MIN || x > INT32_MAX) {
            (void)snprintf(err, err_len, "%s[%zu]: needs a 32-bit integer", name, i);
            return -ERANGE;
        }
        out[(*n)++] = (int32_t)x;
    }
    return 0;
}

/* A list of unsigned 32-bit integers. */
static int member_u32s(const json_t *arr, const char *name, uint32_t *out, size_t cap, size_t *n,
                       char *err, size_t err_len)
{
    const json_t *v;
    size_t i;
    int rc;

    *n = 0;
    if (arr == NULL) {
        return 0;
    }
    if (!json_is_array(arr) || json_array_size(arr) > cap) {
        (void)snprintf(err, err_len, "%s: needs an array of at most %zu numbers", name, cap);
        return -ERANGE;
    }
    json_array_foreach(arr, i, v)
    {
        rc = json_u32(v, name, UINT32_MAX, &out[*n], err, err_len);
        if (rc != 0) {
            return rc;
        }
        (*n)++;
    }
    return 0;
}

static int apply_rules(struct efento_downlink *dl, const json_t *arr, char *err, size_t err_len)
{
    struct efento_rule rules[16];
    const json_t *o;
    size_t i;
    int rc = 0;

    if (json_array_size(arr) > sizeof(rules) / sizeof(rules[0])) {
        (void)snprintf(err, err_len, "rules: at most 16");
        return -ERANGE;
    }
    memset(rules, 0, sizeof(rules));
    json_array_foreach(arr, i, o)
    {
        if (!json_is_object(o)) {
            (void)snprintf(err, err_len, "rules[%zu]: needs an object", i);
            return -EINVAL;
        }
        rc = member_u32(o, "channelMask", &rules[i].channel_mask, err, err_len);
        rc = rc != 0 ? rc
                     : member_enum(o, "condition", "Condition", &rules[i].condition, err, err_len);
        rc = rc != 0 ? rc : member_enum(o, "action", "Action", &rules[i].action, err, err_len);
        rc = rc != 0 ? rc
                     : member_i32s(o, "parameters", rules[i].parameters, RULE_PARAMS_MAX,
                                   &rules[i].n_parameters, err, err_len);
        if (rc != 0) {
            return rc;
        }
    }
    return efento_downlink_set_rules(dl, rules, json_array_size(arr), err, err_len);
}

static int apply_calendars(struct efento_downlink *dl, const json_t *arr, char *err, size_t err_len)
{
    struct efento_calendar cals[6];
    const json_t *o;
    size_t i;
    int rc = 0;

    if (json_array_size(arr) > sizeof(cals) / sizeof(cals[0])) {
        (void)snprintf(err, err_len, "calendars: at most 6");
        return -ERANGE;
    }
    memset(cals, 0, sizeof(cals));
    json_array_foreach(arr, i, o)
    {
        if (!json_is_object(o)) {
            (void)snprintf(err, err_len, "calendars[%zu]: needs an object", i);
            return -EINVAL;
        }
        rc = member_u32(o, "ruleMask", &cals[i].rule_mask, err, err_len);
        rc = rc != 0 ? rc : member_enum(o, "type", "CalendarType", &cals[i].type, err, err_len);
        rc = rc != 0 ? rc
                     : member_i32s(o, "parameters", cals[i].parameters, RULE_PARAMS_MAX,
                                   &cals[i].n_parameters, err, err_len);
        if (rc != 0) {
            return rc;
        }
    }
    return efento_downlink_set_calendars(dl, cals, json_array_size(arr), err, err_len);
}

static int apply_output_control(struct efento_downlink *dl, const json_t *arr, char *err,
                                size_t err_len)
{
    uint32_t index[3], state[3];
    const json_t *o;
    size_t i;
    int rc = 0;

    if (json_array_size(arr) > 3) {
        (void)snprintf(err, err_len, "setOutputControlStateRequest: at most 3");
        return -ERANGE;
    }
    json_array_foreach(arr, i, o)
    {
        rc = json_is_object(o) ? member_u32(o, "channelIndex", &index[i], err, err_len) : -EINVAL;
        rc = rc != 0 ? rc : member_u32(o, "channelState", &state[i], err, err_len);
        if (rc != 0) {
            if (rc == -EINVAL) {
                (void)snprintf(err, err_len, "setOutputControlStateRequest[%zu]: needs an object",
                               i);
            }
            return rc;
        }
    }
    return efento_downlink_set_output_control(dl, index, state, json_array_size(arr), err, err_len);
}

static int apply_network_search(struct efento_downlink *dl, const json_t *o, char *err,
                                size_t err_len)
{
    struct efento_network_search ns;
    int rc;

    memset(&ns, 0, sizeof(ns));
    rc = member_u32s(json_object_get(o, "timeSchemaLastRegistrationOk"),
                     "timeSchemaLastRegistrationOk", ns.ok_min, 6, &ns.n_ok, err, err_len);
    rc = rc != 0 ? rc
                 : member_u32s(json_object_get(o, "timeSchemaLastRegistrationNotOk"),
                               "timeSchemaLastRegistrationNotOk", ns.not_ok_min, 6, &ns.n_not_ok,
                               err, err_len);
    rc = rc != 0 ? rc
                 : member_u32(o, "disablePeriodBase", &ns.disable_period_base_min, err, err_len);
    rc = rc != 0 ? rc : member_u32(o, "counterMax", &ns.counter_max, err, err_len);
    return rc != 0 ? rc : efento_downlink_set_network_search(dl, &ns, err, err_len);
}

static int apply_ble_period(struct efento_downlink *dl, const json_t *o, char *err, size_t err_len)
{
    uint32_t normal = 0, fast = 0;
    int32_t mode = 0;
    int rc;

    rc = member_enum(o, "mode", "BleAdvertisingPeriodMode", &mode, err, err_len);
    rc = rc != 0 ? rc : member_u32(o, "normal", &normal, err, err_len);
    rc = rc != 0 ? rc : member_u32(o, "fast", &fast, err, err_len);
    return rc != 0 ? rc
                   : efento_downlink_set_ble_advertising_period(dl, (uint32_t)mode, normal, fast,
                                                                err, err_len);
}

static int apply_array(struct efento_downlink *dl, const char *key, const json_t *v, char *err,
                       size_t err_len)
{
    uint32_t items[EFENTO_LIST_MAX];
    size_t n = 0;
    int rc;

    if (strcmp(key, "rules") == 0) {
        return apply_rules(dl, v, err, err_len);
    }
    if (strcmp(key, "calendars") == 0) {
        return apply_calendars(dl, v, err, err_len);
    }
    if (strcmp(key, "setOutputControlStateRequest") == 0) {
        return apply_output_control(dl, v, err, err_len);
    }
    rc = member_u32s(v, key, items, EFENTO_LIST_MAX, &n, err, err_len);
    return rc != 0 ? rc : efento_downlink_set_uints(dl, key, items, n, err, err_len);
}

static int apply_member(struct efento_downlink *dl, const char *key, const json_t *v, char *err,
                        size_t err_len)
{
    json_int_t i;

    switch (json_typeof(v)) {
    case JSON_TRUE:
    case JSON_FALSE:
        return efento_downlink_set_uint(dl, key, json_is_true(v) ? 1 : 0, err, err_len);
    case JSON_INTEGER:
        i = json_integer_value(v);
        if (i < 0) {
            (void)snprintf(err, err_len, "%s: negative", key);
            return -ERANGE;
        }
        return efento_downlink_set_uint(dl, key, (uint64_t)i, err, err_len);
    case JSON_STRING:
        if (strlen(json_string_value(v)) != json_string_length(v)) {
            (void)snprintf(err, err_len, "%s: contains NUL", key);
            return -ERANGE;
        }
        return efento_downlink_set_string(dl, key, json_string_value(v), err, err_len);
    case JSON_ARRAY:
        return apply_array(dl, key, v, err, err_len);
    case JSON_OBJECT:
        if (strcmp(key, "networkSearch") == 0) {
            return apply_network_search(dl, v, err, err_len);
        }
        if (strcmp(key, "bleAdvertisingPeriod") == 0) {
            return apply_ble_period(dl, v, err, err_len);
        }
        break;
    default:
        break;
    }
    (void)snprintf(err, err_len, "%s: wrong kind of JSON value", key);
    return -EINVAL;
}

int gw_efento_settings_apply(struct efento_downlink *dl, const char *json, size_t len, char *err,
                             size_t err_len)
{
    json_t *root = NULL;
    const char *key;
    json_t *v;
    int rc = 0;

    if (len > GW_EFENTO_SETTINGS_MAX) {
        (void)snprintf(err, err_len, "settings longer than %d bytes", GW_EFENTO_SETTINGS_MAX);
        return -ERANGE;
    }
    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root) || json_object_size(root) == 0) {
        (void)snprintf(err, err_len, "settings must be a non-empty JSON object");
        rc = -EINVAL;
        goto out;
    }
    json_object_foreach(root, key, v)
    {
        rc = apply_member(dl, key, v, err, err_len);
        if (rc != 0) {
            goto out;
        }
    }
out:
    json_decref(root);
    return rc;
}

enum gw_efento_confirm gw_efento_settings_confirm(const char *json)
{
    enum gw_efento_confirm c = GW_EFENTO_CONFIRM_NONE;
    json_t *root = json_loads(json, 0, NULL);
    const char *key;
    json_t *v;

    json_object_foreach(root, key, v)
    {
        if (!is_request(key) || (strcmp(key, "configurationRequest") == 0 && json_is_true(v))) {
            c = GW_EFENTO_CONFIRM_CONFIG;
        } else if (strcmp(key, "deviceInfoRequest") == 0 && json_is_true(v) &&
                   c == GW_EFENTO_CONFIRM_NONE) {
            c = GW_EFENTO_CONFIRM_DEVICE_INFO;
        }
    }
    json_decref(root);
    return c;
}

static json_t *attr_json(const struct efento_attr *a)
{
    switch (a->type) {
    case EFENTO_BOOLEAN:
        return json_boolean(a->v.b);
    case EFENTO_LONG:
        return json_integer((json_int_t)a->v.l);
    case EFENTO_DOUBLE:
        return json_real(a->v.d);
    case EFENTO_STRING:
        return json_string(a->s != NULL ? a->s : "");
    case EFENTO_JSON:
        return json_loads(a->s != NULL ? a->s : "null", JSON_DECODE_ANY, NULL);
    }
    return NULL;
}

/* Queued value q against reported value r: objects by q's members, 7.11 type-cast tolerated. */
static bool value_match(const json_t *q, const json_t *r)
{
    char num[32];
    const char *key;
    json_t *v;
    size_t i;

    if (json_is_object(q)) {
        json_object_foreach((json_t *)(uintptr_t)q, key, v)
        {
            if (!json_is_object(r) || !value_match(v, json_object_get(r, key))) {
                return false;
            }
        }
        return true;
    }
    if (json_is_array(q)) {
        if (!json_is_array(r) || json_array_size(q) != json_array_size(r)) {
            return false;
        }
        for (i = 0; i < json_array_size(q); i++) {
            if (!value_match(json_array_get(q, i), json_array_get(r, i))) {
                return false;
            }
        }
        return true;
    }
    if (json_is_string(q) && json_is_integer(r)) {
        (void)snprintf(num, sizeof(num), "%" PRId64, (int64_t)json_integer_value(r));
        return strcmp(num, json_string_value(q)) == 0;
    }
    if (json_is_number(q) && json_is_number(r)) {
        return json_number_value(q) == json_number_value(r);
    }
    return r != NULL && json_equal((json_t *)(uintptr_t)q, (json_t *)(uintptr_t)r);
}

static void describe(const char *key, const json_t *q, const json_t *r, char *why, size_t why_len)
{
    char *qs = json_dumps(q, JSON_ENCODE_ANY | JSON_COMPACT);
    char *rs = r != NULL ? json_dumps(r, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

    (void)snprintf(why, why_len, "%s: queued %.60s, sensor has %.60s", key, qs != NULL ? qs : "?",
                   rs != NULL ? rs : "nothing");
    free(qs);
    free(rs);
}

bool gw_efento_settings_match(const char *json, const struct efento_attr *attrs, size_t n,
                              char *why, size_t why_len)
{
    json_t *root = json_loads(json, 0, NULL);
    bool is_match = root != NULL;
    const char *key;
    json_t *v;
    size_t i;

    (void)snprintf(why, why_len, "%s", is_match ? "" : "queued settings unreadable");
    json_object_foreach(root, key, v)
    {
        json_t *r = NULL;
        if (is_request(key) ||
            in_list(key, NOT_REPORTED, sizeof(NOT_REPORTED) / sizeof(NOT_REPORTED[0]))) {
            continue;
        }
        for (i = 0; i < n && strcmp(attrs[i].key, key) != 0; i++) {
        }
        r = i < n ? attr_json(&attrs[i]) : NULL;
        if (!value_match(v, r)) {
            describe(key, v, r, why, why_len);
            is_match = false;
        }
        json_decref(r);
        if (!is_match) {
            break;
        }
    }
    json_decref(root);
    return is_match;
}

bool gw_efento_clock_sync(const struct efento_meas_info *m, int64_t now_s, int64_t threshold_s,
                          int64_t *drift_s)
{
    int64_t drift = m->has_newest ? m->newest_s - now_s : 0;

    if (drift_s != NULL) {
        *drift_s = drift;
    }
    if (threshold_s < 0) {
        return false;
    }
    if (threshold_s == 0) {
        return true;
    }
    if (!m->has_newest) {
        return false;
    }
    if (drift > threshold_s) {
        return true; /* ahead */
    }
    return -drift > threshold_s + m->newest_period_s &&
           EFENTO_RETRY_COUNT(m->transfer_reason) == 0; /* behind, and not a retried frame */
}

void gw_efento_hex(const uint8_t *p, size_t len, size_t max_bytes, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    size_t i, at = 0;

    if (cap == 0) {
        return;
    }
    for (i = 0; i < len && i < max_bytes && at + 2 < cap; i++) {
        out[at++] = digits[p[i] >> 4];
        out[at++] = digits[p[i] & 0xf];
    }
    out[at] = '\0';
}

static enum profile_value_type value_type(enum efento_type t)
{
    switch (t) {
    case EFENTO_BOOLEAN:
        return PROFILE_VT_BOOLEAN;
    case EFENTO_LONG:
        return PROFILE_VT_LONG;
    case EFENTO_DOUBLE:
        return PROFILE_VT_DOUBLE;
    case EFENTO_STRING:
        return PROFILE_VT_STRING;
    case EFENTO_JSON:
        break;
    }
    return PROFILE_VT_JSON;
}

void gw_efento_reading_kv(const struct efento_reading *r, struct profile_kv *kv)
{
    memset(kv, 0, sizeof(*kv));
    kv->ts_ms = r->ts_ms;
    kv->key = (char *)(uintptr_t)r->key;
    kv->v.type = value_type(r->type);
    switch (r->type) {
    case EFENTO_BOOLEAN:
        kv->v.b = r->v.b;
        break;
    case EFENTO_LONG:
        kv->v.l = r->v.l;
        break;
    case EFENTO_DOUBLE:
        kv->v.d = r->v.d;
        break;
    case EFENTO_STRING:
    case EFENTO_JSON:
        kv->v.s = (char *)(uintptr_t)r->v.s;
        kv->v.s_len = strlen(r->v.s);
        break;
    }
}

void gw_efento_attr_kv(const struct efento_attr *a, struct profile_kv *kv)
{
    memset(kv, 0, sizeof(*kv));
    kv->key = (char *)(uintptr_t)a->key;
    kv->v.type = value_type(a->type);
    switch (a->type) {
    case EFENTO_BOOLEAN:
        kv->v.b = a->v.b;
        break;
    case EFENTO_LONG:
        kv->v.l = a->v.l;
        break;
    case EFENTO_DOUBLE:
        kv->v.d = a->v.d;
        break;
    case EFENTO_STRING:
    case EFENTO_JSON:
        kv->v.s = (char *)(uintptr_t)(a->s != NULL ? a->s : "");
        kv->v.s_len = strlen(kv->v.s);
        break;
    }
}
