/* SPDX-License-Identifier: MIT */
/*
 * profile_model.c - the device-profile model: ThingsBoard's device-profile JSON (specs/rest-api.md
 * 5.1-5.6, specs/coap-device-api.md 14.1, 16.1, 9.3) parsed into struct profile_config with
 * precise, path-naming errors; ThingsBoard's default schemas; the power-saving resolution of
 * spec 16.2; the descriptor container; and the adaptor dispatch by (device type, payload type).
 * Called by the gateway when a profile is saved (CLI, admin API) and when the CoAP handler loads
 * a device's profile.
 *
 * Parsing is strict about what nbgate reads and lenient about the rest (as ThingsBoard, unknown
 * members are kept): a member nbgate reads must have the right JSON type, or be null / absent
 * where the model has a default. The tree is normalised in place (defaults filled, the provision
 * key moved to the top level) and returned for storage, so that what is stored is what is used.
 *
 * Dispatch table (device type x payload type -> adaptor):
 *   DEFAULT x JSON     profile_json_*()      (also every transportType DEFAULT profile)
 *   DEFAULT x PROTOBUF profile_proto_*() with the profile's compiled schema
 *   EFENTO  x any      -EPROTOTYPE: Efento devices use /efento/..., not /api/v1 (4.00)
 */
#include "profiles/profile_model.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "profiles/profile_proto_internal.h"

#define P_TRANSPORT "profileData.transportConfiguration"
#define P_COAP_TYPE P_TRANSPORT ".coapDeviceTypeConfiguration"
#define P_PAYLOAD   P_COAP_TYPE ".transportPayloadTypeConfiguration"
#define P_CLIENT    P_TRANSPORT ".clientSettings"
#define P_PROVISION "profileData.provisionConfiguration"
#define P_CONFIG    "profileData.configuration"

/* UI minimums ThingsBoard applies (specs/rest-api.md 5.4), ms. */
#define MIN_PSM_MS  1280
#define MIN_EDRX_MS 5120
#define MIN_PTW_MS  1280

static const char *const schema_members[PROFILE_SCHEMA_COUNT] = {
    "deviceTelemetryProtoSchema",
    "deviceAttributesProtoSchema",
    "deviceRpcRequestProtoSchema",
    "deviceRpcResponseProtoSchema",
};

/* ThingsBoard's defaults (spec 14.2): the UI's pre-filled telemetry and attribute schemas and
 * the backend's RPC schemas. */
static const char *const default_schemas[PROFILE_SCHEMA_COUNT] = {
    "syntax = \"proto3\";\n"
    "package telemetry;\n"
    "\n"
    "message SensorDataReading {\n"
    "\n"
    "  optional double temperature = 1;\n"
    "  optional double humidity = 2;\n"
    "  InnerObject innerObject = 3;\n"
    "\n"
    "  message InnerObject {\n"
    "    optional string key1 = 1;\n"
    "    optional bool key2 = 2;\n"
    "    optional double key3 = 3;\n"
    "    optional int32 key4 = 4;\n"
    "    optional string key5 = 5;\n"
    "  }\n"
    "}\n",
    "syntax = \"proto3\";\n"
    "package attributes;\n"
    "\n"
    "message SensorConfiguration {\n"
    "  optional string firmwareVersion = 1;\n"
    "  optional string serialNumber = 2;\n"
    "}\n",
    "syntax = \"proto3\";\n"
    "package rpc;\n"
    "\n"
    "message RpcRequestMsg {\n"
    "  optional string method = 1;\n"
    "  optional int32 requestId = 2;\n"
    "  optional string params = 3;\n"
    "}\n",
    "syntax = \"proto3\";\n"
    "package rpc;\n"
    "\n"
    "message RpcResponseMsg {\n"
    "  optional string payload = 1;\n"
    "}\n",
};

const char *profile_default_schema(enum profile_schema_role role)
{
    return default_schemas[role];
}

const char *profile_schema_member(enum profile_schema_role role)
{
    return schema_members[role];
}

/* ---- JSON helpers: every error names "path.member" ---------------------------------------- */

struct mctx {
    char *err;
    size_t err_len;
};

__attribute__((format(printf, 4, 5))) static int bad(struct mctx *c, const char *path,
                                                     const char *member, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->err != NULL && c->err_len > 0) {
        (void)snprintf(c->err, c->err_len, "%s%s%s: %s", path, path[0] != '\0' ? "." : "", member,
                       msg);
    }
    return -EINVAL;
}

/* obj.member as an object: *out NULL when absent or null. */
static int get_object(struct mctx *c, json_t *obj, const char *path, const char *member,
                      json_t **out)
{
    json_t *j = obj != NULL ? json_object_get(obj, member) : NULL;

    *out = NULL;
    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_object(j)) {
        return bad(c, path, member, "expected an object");
    }
    *out = j;
    return 0;
}

/* obj.member, creating it as {} when absent or null. */
static int need_object(struct mctx *c, json_t *obj, const char *path, const char *member,
                       json_t **out)
{
    int rc = get_object(c, obj, path, member, out);

    if (rc == 0 && *out == NULL) {
        *out = json_object();
        if (*out == NULL || json_object_set_new(obj, member, *out) != 0) {
            rc = -ENOMEM;
        }
    }
    return rc;
}

/* obj.member as a string without NUL of at most max bytes: *out NULL when absent or null. */
static int get_string(struct mctx *c, json_t *obj, const char *path, const char *member, size_t max,
                      const char **out)
{
    json_t *j = obj != NULL ? json_object_get(obj, member) : NULL;

    *out = NULL;
    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_string(j)) {
        return bad(c, path, member, "expected a string");
    }
    if (json_string_length(j) != strlen(json_string_value(j))) {
        return bad(c, path, member, "must not contain NUL characters");
    }
    if (json_string_length(j) > max) {
        return bad(c, path, member, "longer than %zu bytes", max);
    }
    *out = json_string_value(j);
    return 0;
}

static int get_bool(struct mctx *c, json_t *obj, const char *path, const char *member, bool *out)
{
    json_t *j = obj != NULL ? json_object_get(obj, member) : NULL;

    *out = false;
    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_boolean(j)) {
        return bad(c, path, member, "expected true or false");
    }
    *out = json_is_true(j);
    return 0;
}

/*
 * obj.member as one of names[0..n) (a string); absent or null gives dflt. expected is the list
 * for the message, e.g. "PSM, DRX or E_DRX".
 */
static int get_enum(struct mctx *c, json_t *obj, const char *path, const char *member,
                    const char *const *names, int n, int dflt, const char *expected, int *out)
{
    json_t *j = obj != NULL ? json_object_get(obj, member) : NULL;
    int i;

    *out = dflt;
    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    for (i = 0; json_is_string(j) && i < n; i++) {
        if (strcmp(json_string_value(j), names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    return bad(c, path, member, "expected %s", expected);
}

/* obj.member as milliseconds: an integer 0..PROFILE_TIMER_MAX_MS or null (PROFILE_MS_UNSET). */
static int get_ms(struct mctx *c, json_t *obj, const char *path, const char *member, int64_t *out)
{
    json_t *j = obj != NULL ? json_object_get(obj, member) : NULL;

    *out = PROFILE_MS_UNSET;
    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_integer(j)) {
        return bad(c, path, member, "expected an integer number of milliseconds or null");
    }
    if (json_integer_value(j) < 0 || json_integer_value(j) > PROFILE_TIMER_MAX_MS) {
        return bad(c, path, member, "must be 0..%lld ms", (long long)PROFILE_TIMER_MAX_MS);
    }
    *out = (int64_t)json_integer_value(j);
    return 0;
}

static int set_string(json_t *obj, const char *member, const char *value)
{
    json_t *j = value != NULL ? json_string(value) : json_null();

    return j != NULL && json_object_set_new(obj, member, j) == 0 ? 0 : -ENOMEM;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n + 1);
    }
    return d;
}

/* ---- power saving -----------------------------------------------------------------------------
 */

/* Minimum for a timer the mode uses; 0 and null fall back to the gateway default. */
static int check_min(struct mctx *c, const char *path, const char *member, int64_t v, int64_t min)
{
    if (v > 0 && v < min) {
        return bad(c, path, member, "must be at least %lld ms (or 0 or null for the default)",
                   (long long)min);
    }
    return 0;
}

/* PowerSavingConfiguration members of obj (clientSettings or a device override). */
static int parse_power(struct mctx *c, json_t *obj, const char *path, struct profile_power *pw)
{
    static const char *const modes[] = { "", "PSM", "DRX", "E_DRX" };
    int mode = 0, rc;

    rc = get_enum(c, obj, path, "powerMode", modes + 1, 3, -1, "PSM, DRX or E_DRX", &mode);
    if (rc == 0) {
        pw->mode = (enum profile_power_mode)(mode + 1);
        rc = get_ms(c, obj, path, "psmActivityTimer", &pw->psm_activity_timer_ms);
    }
    if (rc == 0) {
        rc = get_ms(c, obj, path, "edrxCycle", &pw->edrx_cycle_ms);
    }
    if (rc == 0) {
        rc = get_ms(c, obj, path, "pagingTransmissionWindow", &pw->paging_window_ms);
    }
    if (rc == 0 && pw->mode == PROFILE_POWER_PSM) {
        rc = check_min(c, path, "psmActivityTimer", pw->psm_activity_timer_ms, MIN_PSM_MS);
    }
    if (rc == 0 && pw->mode == PROFILE_POWER_E_DRX) {
        rc = pw->edrx_cycle_ms <= 0
                 ? bad(c, path, "edrxCycle", "required for E_DRX")
                 : check_min(c, path, "edrxCycle", pw->edrx_cycle_ms, MIN_EDRX_MS);
        rc = rc == 0
                 ? check_min(c, path, "pagingTransmissionWindow", pw->paging_window_ms, MIN_PTW_MS)
                 : rc;
    }
    return rc;
}

/* clientSettings; null or absent means DRX and is filled in. */
static int parse_client_settings(struct mctx *c, json_t *tc, struct profile_config *p)
{
    json_t *cs = NULL;
    int rc;

    rc = get_object(c, tc, P_TRANSPORT, "clientSettings", &cs);
    if (rc == 0 && cs == NULL) {
        cs = json_pack("{s:s, s:n, s:n, s:n}", "powerMode", "DRX", "psmActivityTimer", "edrxCycle",
                       "pagingTransmissionWindow");
        rc = cs == NULL || json_object_set_new(tc, "clientSettings", cs) != 0 ? -ENOMEM : 0;
    }
    p->has_power = true;
    return rc == 0 ? parse_power(c, cs, P_CLIENT, &p->power) : rc;
}

int profile_power_parse(const char *json, size_t len, struct profile_power *out, char *err,
                        size_t err_len)
{
    static const char path[] = "deviceData.transportConfiguration";
    struct mctx c = { err, err_len };
    json_error_t jerr;
    json_t *root;
    const char *type = NULL;
    int rc;

    out->mode = PROFILE_POWER_UNSET;
    out->psm_activity_timer_ms = out->edrx_cycle_ms = out->paging_window_ms = PROFILE_MS_UNSET;
    root = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        (void)snprintf(err, err_len, "%s: invalid JSON at line %d, column %d: %s", path, jerr.line,
                       jerr.column, jerr.text);
        return -EINVAL;
    }
    rc = json_is_object(root)
             ? get_string(&c, root, path, "type", 16, &type)
             : bad(&c, "deviceData", "transportConfiguration", "expected an object");
    if (rc == 0 && (type == NULL || strcmp(type, "COAP") == 0)) {
        rc = parse_power(&c, root, path, out);
    }
    if (rc == 0 && out->mode == PROFILE_POWER_UNSET) {
        out->psm_activity_timer_ms = out->edrx_cycle_ms = out->paging_window_ms = PROFILE_MS_UNSET;
    }
    json_decref(root);
    return rc;
}

/* One timer of spec 16.2: the device's if its mode is set, else the profile's; 0/null: dflt. */
static int64_t resolve_timer(const struct profile_power *pr, const struct profile_power *d,
                             int64_t dv, int64_t pv, int64_t dflt)
{
    int64_t v = PROFILE_MS_UNSET;

    if (d != NULL) {
        v = dv == PROFILE_MS_UNSET ? 0 : dv; /* the core passes unset numbers as 0 */
    } else if (pr != NULL) {
        v = pv;
    }
    return v <= 0 ? dflt : v;
}

void profile_power_resolve(const struct profile_power *profile, const struct profile_power *device,
                           int64_t default_psm_ms, int64_t default_ptw_ms,
                           struct profile_power_eff *out)
{
    const struct profile_power *d =
        device != NULL && device->mode != PROFILE_POWER_UNSET ? device : NULL;
    bool d_psm = d != NULL && d->mode == PROFILE_POWER_PSM;
    bool d_edrx = d != NULL && d->mode == PROFILE_POWER_E_DRX;

    out->mode = d != NULL ? d->mode : profile != NULL ? profile->mode : PROFILE_POWER_UNSET;
    /* A device-level mode passes only the timers it uses: PSM the activity timer, E_DRX the
     * cycle and the window, DRX none. */
    out->psm_activity_timer_ms =
        resolve_timer(profile, d, d_psm ? d->psm_activity_timer_ms : 0,
                      profile != NULL ? profile->psm_activity_timer_ms : 0, default_psm_ms);
    out->paging_window_ms =
        resolve_timer(profile, d, d_edrx ? d->paging_window_ms : 0,
                      profile != NULL ? profile->paging_window_ms : 0, default_ptw_ms);
    out->edrx_cycle_ms = resolve_timer(profile, d, d_edrx ? d->edrx_cycle_ms : 0,
                                       profile != NULL ? profile->edrx_cycle_ms : 0, 0);
}

/* ---- transport configuration ------------------------------------------------------------------
 */

/* One schema member: absent or null -> the default; "" -> default (RPC) or refused. */
static int parse_schema(struct mctx *c, json_t *pc, enum profile_schema_role role, char **out)
{
    const char *member = schema_members[role];
    const char *s = NULL;
    int rc;

    rc = get_string(c, pc, P_PAYLOAD, member, PROFILE_SCHEMA_MAX, &s);
    if (rc != 0) {
        return rc;
    }
    if (s != NULL && s[0] == '\0' &&
        (role == PROFILE_SCHEMA_TELEMETRY || role == PROFILE_SCHEMA_ATTRIBUTES)) {
        return bad(c, P_PAYLOAD, member, "must not be empty");
    }
    if (s == NULL || s[0] == '\0') {
        s = default_schemas[role];
        if (set_string(pc, member, s) != 0) {
            return -ENOMEM;
        }
    }
    *out = dup_str(s);
    return *out == NULL ? -ENOMEM : 0;
}

static int parse_payload_type(struct mctx *c, json_t *dc, struct profile_config *p)
{
    static const char *const types[] = { "JSON", "PROTOBUF" };
    json_t *pc = NULL;
    int type = 0, i, rc;

    rc = need_object(c, dc, P_COAP_TYPE, "transportPayloadTypeConfiguration", &pc);
    if (rc == 0) {
        rc = get_enum(c, pc, P_PAYLOAD, "transportPayloadType", types, 2, 0, "JSON or PROTOBUF",
                      &type);
    }
    if (rc == 0) {
        p->payload_type = (enum profile_payload_type)type;
        rc = set_string(pc, "transportPayloadType", types[type]);
    }
    if (rc != 0 || p->payload_type != PROFILE_PAYLOAD_PROTOBUF) {
        return rc;
    }
    for (i = 0; rc == 0 && i < PROFILE_SCHEMA_COUNT; i++) {
        rc = parse_schema(c, pc, (enum profile_schema_role)i, &p->schema[i]);
    }
    if (rc == 0) {
        rc = get_bool(c, pc, P_PAYLOAD, "enableCompatibilityWithJsonPayloadFormat",
                      &p->is_json_compat);
    }
    if (rc == 0) {
        rc = get_bool(c, pc, P_PAYLOAD, "useJsonPayloadFormatForDefaultDownlinkTopics",
                      &p->is_json_default_downlink);
    }
    return rc;
}

/* obj.member as an integer in min..max; absent or null leaves *out unchanged. */
static int get_int_in(struct mctx *c, json_t *obj, const char *path, const char *member,
                      int64_t min, int64_t max, int64_t *out)
{
    json_t *j = json_object_get(obj, member);

    if (j == NULL || json_is_null(j)) {
        return 0;
    }
    if (!json_is_integer(j) || json_integer_value(j) < min || json_integer_value(j) > max) {
        return bad(c, path, member, "expected an integer %lld..%lld", (long long)min,
                   (long long)max);
    }
    *out = (int64_t)json_integer_value(j);
    return 0;
}

/*
 * A CoAP option number for an Efento sensor's token, signature or modem id (specs/efento.md R2,
 * 3.2): 1..64999, or 65000 = not in an option; never one that CoAP itself defines.
 */
static int get_efento_option(struct mctx *c, json_t *dc, const char *member, int64_t *out)
{
    static const int64_t taken[] = { 1,  3,  4,  5,  6,  7,  8,  9,  11, 12, 14,  15,  16, 17,
                                     19, 20, 21, 23, 27, 28, 31, 35, 39, 60, 252, 258, 292 };
    size_t i;
    int rc;

    *out = PROFILE_EFENTO_NO_OPTION;
    rc = get_int_in(c, dc, P_COAP_TYPE, member, 1, PROFILE_EFENTO_NO_OPTION, out);
    for (i = 0; rc == 0 && i < sizeof(taken) / sizeof(taken[0]); i++) {
        if (*out == taken[i]) {
            rc = bad(c, P_COAP_TYPE, member,
                     "%lld is a CoAP option that CoAP itself defines (e.g. 11 Uri-Path, 12"
                     " Content-Format, 60 Size1); choose another number, or 65000 for none",
                     (long long)*out);
        }
    }
    return rc;
}

/* The Efento NB-IoT settings of coapDeviceTypeConfiguration (specs/efento.md section 1). */
static int parse_efento(struct mctx *c, json_t *dc)
{
    int64_t token = 0, sig = 0, modem = 0, v = 0;
    bool is_auto = false;
    int rc = get_efento_option(c, dc, "cloudTokenCoapOption", &token);

    rc = rc != 0 ? rc : get_efento_option(c, dc, "payloadSignatureCoapOption", &sig);
    rc = rc != 0 ? rc : get_efento_option(c, dc, "modemIdentificationCoapOption", &modem);
    if (rc == 0 && token != PROFILE_EFENTO_NO_OPTION && (token == sig || token == modem)) {
        rc = bad(c, P_COAP_TYPE, "cloudTokenCoapOption",
                 "%lld is also the signature or modem identification option", (long long)token);
    }
    if (rc == 0 && sig != PROFILE_EFENTO_NO_OPTION && sig == modem) {
        rc = bad(c, P_COAP_TYPE, "payloadSignatureCoapOption",
                 "%lld is also the modem identification option", (long long)sig);
    }
    rc = rc != 0 ? rc : get_bool(c, dc, P_COAP_TYPE, "autoAccept", &is_auto);
    rc = rc != 0 ? rc
                 : get_int_in(c, dc, P_COAP_TYPE, "clockSyncThresholdS", -PROFILE_EFENTO_MAX_S,
                              PROFILE_EFENTO_MAX_S, &v);
    rc =
        rc != 0 ? rc : get_int_in(c, dc, P_COAP_TYPE, "requestRetryS", 0, PROFILE_EFENTO_MAX_S, &v);
    rc = rc != 0 ? rc
                 : get_int_in(c, dc, P_COAP_TYPE, "downlinkExpiryS", 1, PROFILE_EFENTO_MAX_S, &v);
    rc = rc != 0 ? rc
                 : get_int_in(c, dc, P_COAP_TYPE, "confirmTimeoutS", 1, PROFILE_EFENTO_MAX_S, &v);
    return rc;
}

/* transportConfiguration of a COAP profile. */
static int parse_coap(struct mctx *c, json_t *tc, struct profile_config *p)
{
    static const char *const types[] = { "DEFAULT", "EFENTO" };
    json_t *dc = NULL;
    int type = 0, rc;

    rc = need_object(c, tc, P_TRANSPORT, "coapDeviceTypeConfiguration", &dc);
    if (rc == 0) {
        rc =
            get_enum(c, dc, P_COAP_TYPE, "coapDeviceType", types, 2, 0, "DEFAULT or EFENTO", &type);
    }
    if (rc == 0) {
        p->device_type = (enum profile_device_type)type;
        rc = set_string(dc, "coapDeviceType", types[type]);
    }
    if (rc == 0 && p->device_type == PROFILE_DEVICE_DEFAULT) {
        rc = parse_payload_type(c, dc, p);
    } else if (rc == 0) {
        rc = parse_efento(c, dc);
    }
    return rc == 0 ? parse_client_settings(c, tc, p) : rc;
}

static int parse_transport(struct mctx *c, json_t *root, json_t *pd, struct profile_config *p)
{
    static const char *const types[] = { "DEFAULT", "COAP" };
    const char *tc_type = NULL;
    json_t *tc = NULL;
    int type, rc;

    rc = get_string(c, root, "", "transportType", 64, &tc_type);
    if (rc == 0 && tc_type == NULL) {
        return bad(c, "", "transportType", "required (COAP or DEFAULT)");
    }
    if (rc == 0 && strcmp(tc_type, "DEFAULT") != 0 && strcmp(tc_type, "COAP") != 0) {
        return bad(c, "", "transportType", "Transport type %s is not supported (COAP or DEFAULT)",
                   tc_type);
    }
    type = rc == 0 && strcmp(tc_type, "COAP") == 0 ? 1 : 0;
    rc = rc == 0 ? need_object(c, pd, "profileData", "transportConfiguration", &tc) : rc;
    rc = rc == 0 ? get_string(c, tc, P_TRANSPORT, "type", 16, &tc_type) : rc;
    if (rc == 0 && tc_type != NULL && strcmp(tc_type, types[type]) != 0) {
        rc = bad(c, P_TRANSPORT, "type", "must equal transportType (%s)", types[type]);
    }
    rc = rc == 0 ? set_string(tc, "type", types[type]) : rc;
    if (rc != 0) {
        return rc;
    }
    p->transport = (enum profile_transport)type;
    return p->transport == PROFILE_TRANSPORT_COAP ? parse_coap(c, tc, p) : 0;
}

/* ---- provisioning, configuration, top level ---------------------------------------------------
 */

static int parse_provision(struct mctx *c, json_t *root, json_t *pd, struct profile_config *p)
{
    static const char *const types[] = { "DISABLED", "ALLOW_CREATE_NEW_DEVICES",
                                         "CHECK_PRE_PROVISIONED_DEVICES" };
    static const char expected[] =
        "DISABLED, ALLOW_CREATE_NEW_DEVICES or CHECK_PRE_PROVISIONED_DEVICES";
    const char *key = NULL, *inner_key = NULL, *secret = NULL, *s = NULL;
    json_t *pc = NULL;
    int top = -1, inner = -1, rc;

    rc = get_string(c, root, "", "provisionType", 64, &s);
    if (rc == 0 && s != NULL && strcmp(s, "X509_CERTIFICATE_CHAIN") == 0) {
        return bad(c, "", "provisionType", "X509_CERTIFICATE_CHAIN is not supported");
    }
    rc = rc == 0 ? get_enum(c, root, "", "provisionType", types, 3, -1, expected, &top) : rc;
    rc = rc == 0 ? need_object(c, pd, "profileData", "provisionConfiguration", &pc) : rc;
    rc = rc == 0 ? get_enum(c, pc, P_PROVISION, "type", types, 3, -1, expected, &inner) : rc;
    if (rc == 0 && top >= 0 && inner >= 0 && top != inner) {
        rc = bad(c, P_PROVISION, "type", "must equal provisionType (%s)", types[top]);
    }
    rc = rc == 0 ? get_string(c, root, "", "provisionDeviceKey", PROFILE_NAME_MAX, &key) : rc;
    rc = rc == 0
             ? get_string(c, pc, P_PROVISION, "provisionDeviceKey", PROFILE_NAME_MAX, &inner_key)
             : rc;
    rc = rc == 0
             ? get_string(c, pc, P_PROVISION, "provisionDeviceSecret", PROFILE_NAME_MAX, &secret)
             : rc;
    rc = rc == 0
             ? get_bool(c, pc, P_PROVISION, "allowX509Credentials", &p->is_x509_provision_allowed)
             : rc;
    if (rc != 0) {
        return rc;
    }
    if (key != NULL && inner_key != NULL && strcmp(key, inner_key) != 0) {
        return bad(c, P_PROVISION, "provisionDeviceKey", "differs from provisionDeviceKey");
    }
    key = key != NULL ? key : inner_key;
    p->provision = (enum profile_provision)(top >= 0 ? top : inner >= 0 ? inner : 0);
    if (p->provision != PROFILE_PROVISION_DISABLED && (key == NULL || key[0] == '\0')) {
        return bad(c, "", "provisionDeviceKey", "required unless provisionType is DISABLED");
    }
    if (p->provision != PROFILE_PROVISION_DISABLED && (secret == NULL || secret[0] == '\0')) {
        return bad(c, P_PROVISION, "provisionDeviceSecret",
                   "required unless provisionType is DISABLED");
    }
    p->provision_key = key != NULL && key[0] != '\0' ? dup_str(key) : NULL;
    p->provision_secret = secret != NULL && secret[0] != '\0' ? dup_str(secret) : NULL;
    if ((key != NULL && key[0] != '\0' && p->provision_key == NULL) ||
        (secret != NULL && secret[0] != '\0' && p->provision_secret == NULL)) {
        return -ENOMEM;
    }
    /* stored as ThingsBoard returns it: the key at the top level only */
    rc = set_string(root, "provisionType", types[p->provision]);
    rc = rc == 0 ? set_string(root, "provisionDeviceKey", p->provision_key) : rc;
    rc = rc == 0 ? set_string(pc, "type", types[p->provision]) : rc;
    rc = rc == 0 ? set_string(pc, "provisionDeviceSecret", p->provision_secret) : rc;
    if (rc == 0 && json_object_get(pc, "provisionDeviceKey") != NULL) {
        rc = json_object_del(pc, "provisionDeviceKey") == 0 ? 0 : -ENOMEM;
    }
    return rc;
}

static int parse_configuration(struct mctx *c, json_t *pd, struct profile_config *p)
{
    const char *type = NULL;
    json_t *cfg = NULL;
    int64_t ms = PROFILE_MS_UNSET;
    int rc;

    rc = need_object(c, pd, "profileData", "configuration", &cfg);
    rc = rc == 0 ? get_string(c, cfg, P_CONFIG, "type", 16, &type) : rc;
    if (rc == 0 && type != NULL && strcmp(type, "DEFAULT") != 0) {
        rc = bad(c, P_CONFIG, "type", "expected DEFAULT");
    }
    rc = rc == 0 ? set_string(cfg, "type", "DEFAULT") : rc;
    rc = rc == 0 ? get_ms(c, cfg, P_CONFIG, "inactivityTimeout", &ms) : rc;
    if (rc == 0 && ms == 0) {
        rc = bad(c, P_CONFIG, "inactivityTimeout", "must be positive, or null for the default");
    }
    p->inactivity_timeout_ms = ms > 0 ? ms : 0;
    rc = rc == 0 ? get_ms(c, cfg, P_CONFIG, "expectedUplinkInterval", &ms) : rc;
    if (rc == 0 && (ms == 0 || ms > PROFILE_EXPECTED_UPLINK_MAX_MS)) {
        rc = bad(c, P_CONFIG, "expectedUplinkInterval",
                 "must be 1..%lld ms (31 days), or null when unknown",
                 (long long)PROFILE_EXPECTED_UPLINK_MAX_MS);
    }
    p->expected_uplink_interval_ms = rc == 0 && ms > 0 ? ms : 0;
    return rc;
}

/* The name: name_arg, else the JSON's "name"; 1..PROFILE_NAME_MAX bytes, no control characters. */
static int parse_name(struct mctx *c, json_t *root, const char *name_arg, struct profile_config *p)
{
    const char *name = name_arg;
    size_t i;
    int rc = 0;

    if (name == NULL) {
        rc = get_string(c, root, "", "name", PROFILE_NAME_MAX, &name);
    }
    if (rc == 0 && (name == NULL || name[0] == '\0' || strlen(name) > PROFILE_NAME_MAX)) {
        return bad(c, "", "name", "required, 1..%d bytes", PROFILE_NAME_MAX);
    }
    for (i = 0; rc == 0 && name[i] != '\0'; i++) {
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
            return bad(c, "", "name", "must not contain control characters");
        }
    }
    if (rc == 0) {
        p->name = dup_str(name);
        rc = p->name == NULL ? -ENOMEM : set_string(root, "name", name);
    }
    return rc;
}

static int parse_root(struct mctx *c, json_t *root, const char *name, struct profile_config *p)
{
    const char *type = NULL;
    json_t *pd = NULL;
    int rc;

    rc = parse_name(c, root, name, p);
    rc = rc == 0 ? get_bool(c, root, "", "default", &p->is_default) : rc;
    rc = rc == 0 ? get_string(c, root, "", "type", 16, &type) : rc;
    if (rc == 0 && type != NULL && strcmp(type, "DEFAULT") != 0) {
        rc = bad(c, "", "type", "expected DEFAULT");
    }
    rc = rc == 0 ? set_string(root, "type", "DEFAULT") : rc;
    rc = rc == 0 ? need_object(c, root, "", "profileData", &pd) : rc;
    rc = rc == 0 ? parse_transport(c, root, pd, p) : rc;
    rc = rc == 0 ? parse_provision(c, root, pd, p) : rc;
    rc = rc == 0 ? parse_configuration(c, pd, p) : rc;
    return rc;
}

int profile_config_parse(const char *json, size_t len, const char *name, struct profile_config *out,
                         char **normalized, char *err, size_t err_len)
{
    struct mctx c = { err, err_len };
    json_error_t jerr;
    json_t *root = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (normalized != NULL) {
        *normalized = NULL;
    }
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    out->power.psm_activity_timer_ms = PROFILE_MS_UNSET;
    out->power.edrx_cycle_ms = out->power.paging_window_ms = PROFILE_MS_UNSET;
    root = json_loadb(json, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (root == NULL) {
        (void)snprintf(err, err_len, "invalid JSON at line %d, column %d: %s", jerr.line,
                       jerr.column, jerr.text);
        rc = -EINVAL;
        goto out;
    }
    if (!json_is_object(root)) {
        (void)snprintf(err, err_len, "a device profile must be a JSON object");
        rc = -EINVAL;
        goto out;
    }
    rc = parse_root(&c, root, name, out);
    if (rc == 0 && normalized != NULL) {
        (void)json_object_set_new(root, "default", json_boolean(out->is_default));
        *normalized = json_dumps(root, JSON_COMPACT);
        rc = *normalized == NULL ? -ENOMEM : 0;
    }
out:
    if (rc == -ENOMEM) {
        (void)snprintf(err, err_len, "out of memory");
    }
    if (rc != 0) {
        profile_config_fini(out);
    }
    json_decref(root);
    return rc;
}

void profile_config_fini(struct profile_config *p)
{
    int i;

    free(p->name);
    free(p->provision_key);
    free(p->provision_secret);
    for (i = 0; i < PROFILE_SCHEMA_COUNT; i++) {
        free(p->schema[i]);
        profile_proto_schema_free(p->proto[i]);
    }
    memset(p, 0, sizeof(*p));
}

/* ---- descriptor container ---------------------------------------------------------------------
 */

int profile_schemas_pack(const uint8_t *const sets[PROFILE_SCHEMA_COUNT],
                         const size_t lens[PROFILE_SCHEMA_COUNT], uint8_t **out, size_t *out_len)
{
    struct profile_pb_wbuf w = { 0 };
    int i;

    for (i = 0; i < PROFILE_SCHEMA_COUNT; i++) {
        if (sets[i] != NULL) {
            profile_pb_wbuf_bytes(&w, (uint32_t)i + 1, sets[i], lens[i]);
        }
    }
    return profile_pb_wbuf_take(&w, out, out_len);
}

int profile_config_attach_schemas(struct profile_config *p, const uint8_t *blob, size_t len,
                                  char *err, size_t err_len)
{
    struct profile_pb_reader r =
        profile_pb_reader_of(blob != NULL ? blob : (const uint8_t *)"", blob != NULL ? len : 0);
    const uint8_t *sets[PROFILE_SCHEMA_COUNT] = { NULL };
    size_t lens[PROFILE_SCHEMA_COUNT] = { 0 };
    char why[200];
    const uint8_t *q;
    uint32_t f, wt;
    uint64_t v;
    size_t n;
    int i, rc = 0;

    if (p->payload_type != PROFILE_PAYLOAD_PROTOBUF || p->device_type != PROFILE_DEVICE_DEFAULT) {
        return 0;
    }
    while (r.p < r.end) {
        if (profile_pb_read_tag(&r, &f, &wt) != 0 ||
            profile_pb_read_value(&r, wt, &v, &q, &n) != 0) {
            (void)snprintf(err, err_len, "stored descriptor sets are malformed");
            return -EINVAL;
        }
        if (wt == PROFILE_PB_WT_LEN && f >= 1 && f <= PROFILE_SCHEMA_COUNT) {
            sets[f - 1] = q;
            lens[f - 1] = n;
        }
    }
    for (i = 0; rc == 0 && i < PROFILE_SCHEMA_COUNT; i++) {
        profile_proto_schema_free(p->proto[i]);
        p->proto[i] = NULL;
        rc = sets[i] == NULL
                 ? -EINVAL
                 : profile_proto_schema_load(sets[i], lens[i], (enum profile_schema_role)i,
                                             &p->proto[i], why, sizeof(why));
        if (rc != 0) {
            (void)snprintf(err, err_len, "%s: %s", schema_members[i],
                           sets[i] == NULL ? "no compiled schema stored" : why);
        }
    }
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------------------------
 */

/* The Protobuf schema of role, or an error for an Efento profile or an unusable schema. */
static int pick(const struct profile_config *p, enum profile_schema_role role,
                const struct profile_proto_schema **s, char *err, size_t err_len)
{
    *s = NULL;
    if (p->device_type == PROFILE_DEVICE_EFENTO) {
        (void)profile_pb_fail(err, err_len,
                              "device profile \"%s\" is an Efento profile: /api/v1 is not "
                              "available",
                              p->name != NULL ? p->name : "");
        return -EPROTOTYPE;
    }
    if (p->payload_type == PROFILE_PAYLOAD_PROTOBUF) {
        *s = p->proto[role];
        if (*s == NULL) {
            (void)profile_pb_fail(err, err_len, "profile schema unusable");
            return -ENOEXEC;
        }
    }
    return 0;
}

int profile_decode_telemetry(const struct profile_config *p, const uint8_t *data, size_t len,
                             int64_t now_ms, const struct profile_limits *lim,
                             struct profile_batch *out, char *err, size_t err_len)
{
    const struct profile_proto_schema *s;
    int rc = pick(p, PROFILE_SCHEMA_TELEMETRY, &s, err, err_len);

    if (rc != 0) {
        profile_batch_clear(out);
        return rc;
    }
    return s != NULL ? profile_proto_telemetry(s, data, len, now_ms, lim, out, err, err_len)
                     : profile_json_telemetry(data, len, now_ms, lim, out, err, err_len);
}

int profile_decode_attributes(const struct profile_config *p, const uint8_t *data, size_t len,
                              const struct profile_limits *lim, struct profile_batch *out,
                              char *err, size_t err_len)
{
    const struct profile_proto_schema *s;
    int rc = pick(p, PROFILE_SCHEMA_ATTRIBUTES, &s, err, err_len);

    if (rc != 0) {
        profile_batch_clear(out);
        return rc;
    }
    return s != NULL ? profile_proto_attributes(s, data, len, lim, out, err, err_len)
                     : profile_json_attributes(data, len, lim, out, err, err_len);
}

/* A JSON RPC response: an object, re-serialised compactly. */
static int json_rpc_response(const uint8_t *data, size_t len, char **json, size_t *json_len,
                             char *err, size_t err_len)
{
    json_error_t jerr;
    json_t *root = NULL;
    int rc = 0;

    if (len == 0 || len > PROFILE_JSON_MAX_BYTES) {
        return profile_pb_fail(err, err_len, "%s",
                               len == 0 ? "empty payload" : "payload too large");
    }
    root = json_loadb((const char *)data, len, JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        rc = profile_pb_fail(err, err_len, "invalid JSON at line %d, column %d: %s", jerr.line,
                             jerr.column, jerr.text);
    } else if (!json_is_object(root)) {
        rc = profile_pb_fail(err, err_len, "rpc response must be a JSON object");
    } else {
        *json = json_dumps(root, JSON_COMPACT);
        rc = *json == NULL ? -ENOMEM : 0;
        *json_len = *json != NULL ? strlen(*json) : 0;
    }
    json_decref(root);
    return rc;
}

int profile_decode_rpc_response(const struct profile_config *p, const uint8_t *data, size_t len,
                                char **json, size_t *json_len, char *err, size_t err_len)
{
    const struct profile_proto_schema *s;
    int rc;

    *json = NULL;
    *json_len = 0;
    rc = pick(p, PROFILE_SCHEMA_RPC_RESPONSE, &s, err, err_len);
    if (rc != 0) {
        return rc;
    }
    return s != NULL ? profile_proto_to_json(s, data, len, json, json_len, err, err_len)
                     : json_rpc_response(data, len, json, json_len, err, err_len);
}
