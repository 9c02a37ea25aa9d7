/* SPDX-License-Identifier: MIT */
/*
 * test_profile_model.c - unit tests of the device-profile model (profiles/profile_model.c):
 * ThingsBoard's device-profile JSON parsed and validated with path-naming errors
 * (specs/rest-api.md 5.1-5.6, specs/coap-device-api.md 14.1, 9.3), the normalised JSON that gets
 * stored, the power-saving resolution of spec 16.2, and the adaptor dispatch.
 * The Protobuf side of the dispatch, with compiled schemas, is in test_profile_proto.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "profiles/profile_model.h"

/* The profile a new nbgate database starts with (gateway/gw_store_schema.h). */
static const char default_profile[] =
    "{\"name\":\"default\",\"type\":\"DEFAULT\",\"transportType\":\"COAP\",\"default\":true,"
    "\"description\":\"Default device profile\",\"provisionType\":\"DISABLED\","
    "\"provisionDeviceKey\":null,\"profileData\":{\"configuration\":{\"type\":\"DEFAULT\"},"
    "\"transportConfiguration\":{\"type\":\"COAP\",\"coapDeviceTypeConfiguration\":{"
    "\"coapDeviceType\":\"DEFAULT\",\"transportPayloadTypeConfiguration\":{"
    "\"transportPayloadType\":\"JSON\"}},\"clientSettings\":{\"powerMode\":\"DRX\","
    "\"edrxCycle\":null,\"psmActivityTimer\":null,\"pagingTransmissionWindow\":null}},"
    "\"provisionConfiguration\":{\"type\":\"DISABLED\",\"provisionDeviceSecret\":null},"
    "\"alarms\":null}}";

/* ---- helpers ----------------------------------------------------------------------------------
 */

/*
 * Builds a profile JSON: "{\"name\":\"p\",\"transportType\":\"COAP\",\"profileData\":{
 * \"transportConfiguration\":{<tc>}<pd>}<top>}" with tc, pd and top as given.
 */
static char *profile(const char *tc, const char *pd, const char *top)
{
    static char buf[8192];

    (void)snprintf(buf, sizeof(buf),
                   "{\"name\":\"p\",\"transportType\":\"COAP\",\"profileData\":{"
                   "\"transportConfiguration\":{%s}%s}%s}",
                   tc, pd, top);
    return buf;
}

#define PB_PAYLOAD(members)                                                                        \
    "\"coapDeviceTypeConfiguration\":{\"transportPayloadTypeConfiguration\":{"                     \
    "\"transportPayloadType\":\"PROTOBUF\"" members "}}"

/* ---- errors: every one names its JSON path ----------------------------------------------------
 */

struct err_case {
    const char *json; /* NULL: built with profile(tc, pd, top) */
    const char *tc, *pd, *top;
    const char *err;
};

#define P_TC  "profileData.transportConfiguration."
#define P_PTC P_TC "coapDeviceTypeConfiguration.transportPayloadTypeConfiguration."

static const struct err_case err_cases[] = {
    { "[]", NULL, NULL, NULL, "a device profile must be a JSON object" },
    { "{\"a\":", NULL, NULL, NULL,
      "invalid JSON at line 1, column 5: unexpected token near end "
      "of file" },
    { "{\"transportType\":\"COAP\"}", NULL, NULL, NULL, "name: required, 1..255 bytes" },
    { "{\"name\":\"\",\"transportType\":\"COAP\"}", NULL, NULL, NULL,
      "name: required, 1..255 bytes" },
    { "{\"name\":7,\"transportType\":\"COAP\"}", NULL, NULL, NULL, "name: expected a string" },
    { "{\"name\":\"a\\nb\",\"transportType\":\"COAP\"}", NULL, NULL, NULL,
      "name: must not contain control characters" },
    { "{\"name\":\"p\"}", NULL, NULL, NULL, "transportType: required (COAP or DEFAULT)" },
    { "{\"name\":\"p\",\"transportType\":\"MQTT\"}", NULL, NULL, NULL,
      "transportType: Transport type MQTT is not supported (COAP or DEFAULT)" },
    { "{\"name\":\"p\",\"transportType\":\"LWM2M\"}", NULL, NULL, NULL,
      "transportType: Transport type LWM2M is not supported (COAP or DEFAULT)" },
    { "{\"name\":\"p\",\"transportType\":1}", NULL, NULL, NULL,
      "transportType: expected a string" },
    { "{\"name\":\"p\",\"transportType\":\"COAP\",\"default\":1}", NULL, NULL, NULL,
      "default: expected true or false" },
    { "{\"name\":\"p\",\"transportType\":\"COAP\",\"type\":\"X\"}", NULL, NULL, NULL,
      "type: expected DEFAULT" },
    { "{\"name\":\"p\",\"transportType\":\"COAP\",\"profileData\":[]}", NULL, NULL, NULL,
      "profileData: expected an object" },
    { "{\"name\":\"p\",\"transportType\":\"DEFAULT\",\"profileData\":{\"transportConfiguration\":"
      "{\"type\":\"COAP\"}}}",
      NULL, NULL, NULL, P_TC "type: must equal transportType (DEFAULT)" },
    { NULL, "\"type\":\"DEFAULT\"", "", "", P_TC "type: must equal transportType (COAP)" },
    { NULL, "\"coapDeviceTypeConfiguration\":5", "", "",
      P_TC "coapDeviceTypeConfiguration: expected an object" },
    { NULL, "\"coapDeviceTypeConfiguration\":{\"coapDeviceType\":\"LWM2M\"}", "", "",
      P_TC "coapDeviceTypeConfiguration.coapDeviceType: expected DEFAULT or EFENTO" },
    { NULL,
      "\"coapDeviceTypeConfiguration\":{\"transportPayloadTypeConfiguration\":{"
      "\"transportPayloadType\":\"XML\"}}",
      "", "", P_PTC "transportPayloadType: expected JSON or PROTOBUF" },
    { NULL, "\"clientSettings\":{\"powerMode\":\"SLEEP\"}", "", "",
      P_TC "clientSettings.powerMode: expected PSM, DRX or E_DRX" },
    { NULL, "\"clientSettings\":{\"powerMode\":1}", "", "",
      P_TC "clientSettings.powerMode: expected PSM, DRX or E_DRX" },
    { NULL, "\"clientSettings\":[]", "", "", P_TC "clientSettings: expected an object" },
    { NULL, "\"clientSettings\":{\"powerMode\":\"PSM\",\"psmActivityTimer\":\"10s\"}", "", "",
      P_TC "clientSettings.psmActivityTimer: expected an integer number of milliseconds or null" },
    { NULL, "\"clientSettings\":{\"powerMode\":\"PSM\",\"psmActivityTimer\":10000.5}", "", "",
      P_TC "clientSettings.psmActivityTimer: expected an integer number of milliseconds or null" },
    { NULL, "\"clientSettings\":{\"powerMode\":\"PSM\",\"psmActivityTimer\":1000}", "", "",
      P_TC "clientSettings.psmActivityTimer: must be at least 1280 ms (or 0 or null for the "
           "default)" },
    { NULL, "\"clientSettings\":{\"powerMode\":\"DRX\",\"edrxCycle\":-1}", "", "",
      P_TC "clientSettings.edrxCycle: must be 0..31536000000 ms" },
    { NULL, "\"clientSettings\":{\"powerMode\":\"E_DRX\",\"pagingTransmissionWindow\":2000}", "",
      "", P_TC "clientSettings.edrxCycle: required for E_DRX" },
    { NULL, "\"clientSettings\":{\"powerMode\":\"E_DRX\",\"edrxCycle\":5000}", "", "",
      P_TC "clientSettings.edrxCycle: must be at least 5120 ms (or 0 or null for the default)" },
    { NULL,
      "\"clientSettings\":{\"powerMode\":\"E_DRX\",\"edrxCycle\":81920,"
      "\"pagingTransmissionWindow\":100}",
      "", "",
      P_TC "clientSettings.pagingTransmissionWindow: must be at least 1280 ms (or 0 or null for "
           "the default)" },
    { NULL, PB_PAYLOAD(",\"deviceTelemetryProtoSchema\":5"), "", "",
      P_PTC "deviceTelemetryProtoSchema: expected a string" },
    { NULL, PB_PAYLOAD(",\"deviceTelemetryProtoSchema\":\"\""), "", "",
      P_PTC "deviceTelemetryProtoSchema: must not be empty" },
    { NULL, PB_PAYLOAD(",\"deviceAttributesProtoSchema\":\"\""), "", "",
      P_PTC "deviceAttributesProtoSchema: must not be empty" },
    { NULL, PB_PAYLOAD(",\"deviceRpcRequestProtoSchema\":\"a\\u0000b\""), "", "",
      P_PTC "deviceRpcRequestProtoSchema: must not contain NUL characters" },
    { NULL, PB_PAYLOAD(",\"enableCompatibilityWithJsonPayloadFormat\":\"yes\""), "", "",
      P_PTC "enableCompatibilityWithJsonPayloadFormat: expected true or false" },
    { NULL, PB_PAYLOAD(",\"useJsonPayloadFormatForDefaultDownlinkTopics\":0"), "", "",
      P_PTC "useJsonPayloadFormatForDefaultDownlinkTopics: expected true or false" },
    { NULL, "", "", ",\"provisionType\":\"X509_CERTIFICATE_CHAIN\"",
      "provisionType: X509_CERTIFICATE_CHAIN is not supported" },
    { NULL, "", "", ",\"provisionType\":\"SOMETIMES\"",
      "provisionType: expected DISABLED, ALLOW_CREATE_NEW_DEVICES or "
      "CHECK_PRE_PROVISIONED_DEVICES" },
    { NULL, "", "", ",\"provisionType\":\"ALLOW_CREATE_NEW_DEVICES\"",
      "provisionDeviceKey: required unless provisionType is DISABLED" },
    { NULL, "", ",\"provisionConfiguration\":{\"type\":\"CHECK_PRE_PROVISIONED_DEVICES\"}",
      ",\"provisionDeviceKey\":\"k\"",
      "profileData.provisionConfiguration.provisionDeviceSecret: required unless provisionType "
      "is DISABLED" },
    { NULL, "",
      ",\"provisionConfiguration\":{\"type\":\"DISABLED\",\"provisionDeviceSecret\":\"s\"}",
      ",\"provisionType\":\"ALLOW_CREATE_NEW_DEVICES\",\"provisionDeviceKey\":\"k\"",
      "profileData.provisionConfiguration.type: must equal provisionType "
      "(ALLOW_CREATE_NEW_DEVICES)" },
    { NULL, "", ",\"provisionConfiguration\":{\"provisionDeviceKey\":\"k2\"}",
      ",\"provisionDeviceKey\":\"k1\"",
      "profileData.provisionConfiguration.provisionDeviceKey: differs from provisionDeviceKey" },
    { NULL, "", ",\"provisionConfiguration\":{\"allowX509Credentials\":\"true\"}", "",
      "profileData.provisionConfiguration.allowX509Credentials: expected true or false" },
    { NULL, "", ",\"configuration\":{\"type\":\"ALARM\"}", "",
      "profileData.configuration.type: expected DEFAULT" },
    { NULL, "", ",\"configuration\":{\"inactivityTimeout\":0}", "",
      "profileData.configuration.inactivityTimeout: must be positive, or null for the default" },
    { NULL, "", ",\"configuration\":{\"inactivityTimeout\":\"1h\"}", "",
      "profileData.configuration.inactivityTimeout: expected an integer number of milliseconds "
      "or null" },
};

static void test_errors(void **state)
{
    struct profile_config p;
    char err[512], *norm;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
        const struct err_case *c = &err_cases[i];
        const char *json = c->json != NULL ? c->json : profile(c->tc, c->pd, c->top);
        norm = (char *)"untouched";
        rc = profile_config_parse(json, strlen(json), NULL, &p, &norm, err, sizeof(err));
        if (rc != -EINVAL || strcmp(err, c->err) != 0) {
            fail_msg("%s\n want \"%s\"\n got rc %d \"%s\"", json, c->err, rc, rc != 0 ? err : "");
        }
        assert_null(norm);
        assert_null(p.name); /* left empty on error */
    }
}

/* ---- accepted profiles ------------------------------------------------------------------------
 */

static void test_default_profile(void **state)
{
    struct profile_config p;
    char err[256], *norm = NULL;

    (void)state;
    assert_int_equal(profile_config_parse(default_profile, strlen(default_profile), NULL, &p, &norm,
                                          err, sizeof(err)),
                     0);
    assert_string_equal(p.name, "default");
    assert_true(p.is_default);
    assert_int_equal(p.transport, PROFILE_TRANSPORT_COAP);
    assert_int_equal(p.device_type, PROFILE_DEVICE_DEFAULT);
    assert_int_equal(p.payload_type, PROFILE_PAYLOAD_JSON);
    assert_true(p.has_power);
    assert_int_equal(p.power.mode, PROFILE_POWER_DRX);
    assert_int_equal(p.power.psm_activity_timer_ms, PROFILE_MS_UNSET);
    assert_int_equal(p.provision, PROFILE_PROVISION_DISABLED);
    assert_null(p.provision_key);
    assert_null(p.schema[0]);
    assert_int_equal(p.inactivity_timeout_ms, 0);
    /* members nbgate does not read are kept */
    assert_non_null(strstr(norm, "\"description\":\"Default device profile\""));
    free(norm);
    profile_config_fini(&p);
    assert_null(p.name);
}

/* A Protobuf profile without schemas gets ThingsBoard's defaults, in the stored JSON too. */
static void test_protobuf_defaults(void **state)
{
    const char *json = profile(PB_PAYLOAD(",\"deviceRpcRequestProtoSchema\":\"\","
                                          "\"deviceRpcResponseProtoSchema\":null,"
                                          "\"enableCompatibilityWithJsonPayloadFormat\":true"),
                               "", "");
    struct profile_config p, again;
    char err[256], *norm = NULL, *norm2 = NULL;
    json_t *root, *ptc;
    int i;

    (void)state;
    assert_int_equal(
        profile_config_parse(json, strlen(json), "renamed", &p, &norm, err, sizeof(err)), 0);
    assert_string_equal(p.name, "renamed");
    assert_int_equal(p.payload_type, PROFILE_PAYLOAD_PROTOBUF);
    assert_true(p.is_json_compat);
    assert_false(p.is_json_default_downlink);
    for (i = 0; i < PROFILE_SCHEMA_COUNT; i++) {
        assert_string_equal(p.schema[i], profile_default_schema((enum profile_schema_role)i));
    }
    assert_non_null(strstr(p.schema[PROFILE_SCHEMA_TELEMETRY], "message SensorDataReading {"));
    assert_non_null(strstr(p.schema[PROFILE_SCHEMA_ATTRIBUTES], "message SensorConfiguration {"));
    assert_non_null(strstr(p.schema[PROFILE_SCHEMA_RPC_REQUEST], "message RpcRequestMsg {"));
    assert_non_null(strstr(p.schema[PROFILE_SCHEMA_RPC_RESPONSE], "message RpcResponseMsg {"));
    root = json_loads(norm, 0, NULL);
    assert_non_null(root);
    assert_string_equal(json_string_value(json_object_get(root, "name")), "renamed");
    ptc = json_object_get(root, "profileData");
    ptc = json_object_get(ptc, "transportConfiguration");
    ptc = json_object_get(ptc, "coapDeviceTypeConfiguration");
    ptc = json_object_get(ptc, "transportPayloadTypeConfiguration");
    for (i = 0; i < PROFILE_SCHEMA_COUNT; i++) {
        assert_string_equal(json_string_value(json_object_get(
                                ptc, profile_schema_member((enum profile_schema_role)i))),
                            profile_default_schema((enum profile_schema_role)i));
    }
    json_decref(root);
    /* the stored JSON parses to the same profile and normalises to itself */
    assert_int_equal(
        profile_config_parse(norm, strlen(norm), NULL, &again, &norm2, err, sizeof(err)), 0);
    assert_string_equal(norm, norm2);
    assert_string_equal(again.schema[2], p.schema[2]);
    free(norm);
    free(norm2);
    profile_config_fini(&p);
    profile_config_fini(&again);
}

struct ok_case {
    const char *json; /* NULL: profile(tc, pd, top) */
    const char *tc, *pd, *top;
    /* expected fields */
    enum profile_transport transport;
    enum profile_device_type device_type;
    enum profile_payload_type payload_type;
    bool has_power;
    enum profile_power_mode mode;
    int64_t psm, edrx, ptw;
    enum profile_provision provision;
    const char *key, *secret;
    bool is_x509;
    int64_t inactivity_ms;
    const char *in_norm; /* a substring of the normalised JSON, or NULL */
};

#define U PROFILE_MS_UNSET

static const struct ok_case ok_cases[] = {
    /* transport DEFAULT: JSON, no power saving; transportConfiguration filled */
    { "{\"name\":\"d\",\"transportType\":\"DEFAULT\"}", NULL, NULL, NULL, PROFILE_TRANSPORT_DEFAULT,
      PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, false, PROFILE_POWER_UNSET, U, U, U,
      PROFILE_PROVISION_DISABLED, NULL, NULL, false, 0,
      "\"transportConfiguration\":{\"type\":\"DEFAULT\"}" },
    /* COAP without clientSettings: DRX, filled in */
    { NULL, "", "", "", PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true,
      PROFILE_POWER_DRX, U, U, U, PROFILE_PROVISION_DISABLED, NULL, NULL, false, 0,
      "\"clientSettings\":{\"powerMode\":\"DRX\",\"psmActivityTimer\":null,\"edrxCycle\":null,"
      "\"pagingTransmissionWindow\":null}" },
    { NULL, "\"clientSettings\":null", "", "", PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT,
      PROFILE_PAYLOAD_JSON, true, PROFILE_POWER_DRX, U, U, U, PROFILE_PROVISION_DISABLED, NULL,
      NULL, false, 0, NULL },
    { NULL, "\"clientSettings\":{\"powerMode\":null}", "", "", PROFILE_TRANSPORT_COAP,
      PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true, PROFILE_POWER_UNSET, U, U, U,
      PROFILE_PROVISION_DISABLED, NULL, NULL, false, 0, NULL },
    { NULL, "\"clientSettings\":{\"powerMode\":\"PSM\",\"psmActivityTimer\":20000,\"edrxCycle\":7}",
      "", "", PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true,
      PROFILE_POWER_PSM, 20000, 7, U, PROFILE_PROVISION_DISABLED, NULL, NULL, false, 0, NULL },
    { NULL, "\"clientSettings\":{\"powerMode\":\"PSM\",\"psmActivityTimer\":0}", "", "",
      PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true, PROFILE_POWER_PSM,
      0, U, U, PROFILE_PROVISION_DISABLED, NULL, NULL, false, 0, NULL },
    { NULL,
      "\"clientSettings\":{\"powerMode\":\"E_DRX\",\"edrxCycle\":81920,"
      "\"pagingTransmissionWindow\":null}",
      "", "", PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true,
      PROFILE_POWER_E_DRX, U, 81920, U, PROFILE_PROVISION_DISABLED, NULL, NULL, false, 0, NULL },
    /* Efento: its own settings are left to the Efento module; no payload type */
    { NULL,
      "\"coapDeviceTypeConfiguration\":{\"coapDeviceType\":\"EFENTO\",\"autoAccept\":true,"
      "\"transportPayloadTypeConfiguration\":{\"transportPayloadType\":\"PROTOBUF\"}}",
      "", "", PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_EFENTO, PROFILE_PAYLOAD_JSON, true,
      PROFILE_POWER_DRX, U, U, U, PROFILE_PROVISION_DISABLED, NULL, NULL, false, 0,
      "\"autoAccept\":true" },
    /* provisioning: the key moves to the top level, the secret stays inside */
    { NULL, "",
      ",\"provisionConfiguration\":{\"type\":\"ALLOW_CREATE_NEW_DEVICES\",\"provisionDeviceKey\":"
      "\"key-1\",\"provisionDeviceSecret\":\"sec\",\"allowX509Credentials\":true}",
      "", PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true,
      PROFILE_POWER_DRX, U, U, U, PROFILE_PROVISION_ALLOW_CREATE_NEW_DEVICES, "key-1", "sec", true,
      0,
      "\"provisionConfiguration\":{\"type\":\"ALLOW_CREATE_NEW_DEVICES\",\"provisionDeviceSecret\":"
      "\"sec\",\"allowX509Credentials\":true}" },
    { NULL, "", ",\"provisionConfiguration\":{\"provisionDeviceSecret\":\"s\"}",
      ",\"provisionType\":\"CHECK_PRE_PROVISIONED_DEVICES\",\"provisionDeviceKey\":\"k\"",
      PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true, PROFILE_POWER_DRX,
      U, U, U, PROFILE_PROVISION_CHECK_PRE_PROVISIONED_DEVICES, "k", "s", false, 0,
      "\"provisionType\":\"CHECK_PRE_PROVISIONED_DEVICES\",\"provisionDeviceKey\":\"k\"" },
    /* the inactivity timeout (nbgate extension) */
    { NULL, "", ",\"configuration\":{\"type\":\"DEFAULT\",\"inactivityTimeout\":900000}", "",
      PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true, PROFILE_POWER_DRX,
      U, U, U, PROFILE_PROVISION_DISABLED, NULL, NULL, false, 900000, NULL },
    /* MQTT-only flags of a JSON profile are ignored, like the rest of what nbgate does not read */
    { NULL,
      "\"coapDeviceTypeConfiguration\":{\"transportPayloadTypeConfiguration\":{"
      "\"transportPayloadType\":\"JSON\",\"whatever\":[1]}}",
      "", "", PROFILE_TRANSPORT_COAP, PROFILE_DEVICE_DEFAULT, PROFILE_PAYLOAD_JSON, true,
      PROFILE_POWER_DRX, U, U, U, PROFILE_PROVISION_DISABLED, NULL, NULL, false, 0,
      "\"whatever\":[1]" },
};

static void check_str(const char *what, const char *got, const char *want)
{
    if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0)) {
        fail_msg("%s: want %s, got %s", what, want != NULL ? want : "NULL",
                 got != NULL ? got : "NULL");
    }
}

static void test_accepted(void **state)
{
    struct profile_config p;
    char err[256], *norm;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok_cases) / sizeof(ok_cases[0]); i++) {
        const struct ok_case *c = &ok_cases[i];
        const char *json = c->json != NULL ? c->json : profile(c->tc, c->pd, c->top);
        norm = NULL;
        if (profile_config_parse(json, strlen(json), NULL, &p, &norm, err, sizeof(err)) != 0) {
            fail_msg("%s: %s", json, err);
        }
        print_message("case %zu\n", i);
        assert_int_equal(p.transport, c->transport);
        assert_int_equal(p.device_type, c->device_type);
        assert_int_equal(p.payload_type, c->payload_type);
        assert_int_equal(p.has_power, c->has_power);
        assert_int_equal(p.power.mode, c->mode);
        assert_int_equal(p.power.psm_activity_timer_ms, c->psm);
        assert_int_equal(p.power.edrx_cycle_ms, c->edrx);
        assert_int_equal(p.power.paging_window_ms, c->ptw);
        assert_int_equal(p.provision, c->provision);
        check_str("provision key", p.provision_key, c->key);
        check_str("provision secret", p.provision_secret, c->secret);
        assert_int_equal(p.is_x509_provision_allowed, c->is_x509);
        assert_int_equal(p.inactivity_timeout_ms, c->inactivity_ms);
        if (c->in_norm != NULL && strstr(norm, c->in_norm) == NULL) {
            fail_msg("normalised JSON lacks %s:\n%s", c->in_norm, norm);
        }
        /* the key is stored at the top level only */
        assert_null(strstr(norm, "\"provisionConfiguration\":{\"provisionDeviceKey\""));
        free(norm);
        profile_config_fini(&p);
    }
}

/* ---- the expected uplink interval (nbgate extension): 1 ms .. 31 days, or null ------------ */

struct expected_case {
    const char *member; /* "expectedUplinkInterval": value, or "" for an absent member */
    int64_t want_ms;    /* parsed value (0 = unknown) when err is NULL */
    const char *err;    /* NULL: accepted */
};

#define P_EXP "profileData.configuration.expectedUplinkInterval: "

static const struct expected_case expected_cases[] = {
    { "", 0, NULL },
    { ",\"expectedUplinkInterval\":null", 0, NULL },
    { ",\"expectedUplinkInterval\":1", 1, NULL },
    { ",\"expectedUplinkInterval\":3600000", 3600000, NULL },
    { ",\"expectedUplinkInterval\":2678400000", 2678400000LL, NULL },
    { ",\"expectedUplinkInterval\":0", 0,
      P_EXP "must be 1..2678400000 ms (31 days), or null when unknown" },
    { ",\"expectedUplinkInterval\":2678400001", 0,
      P_EXP "must be 1..2678400000 ms (31 days), or null when unknown" },
    { ",\"expectedUplinkInterval\":-1", 0, P_EXP "must be 0..31536000000 ms" },
    { ",\"expectedUplinkInterval\":\"1h\"", 0,
      P_EXP "expected an integer number of milliseconds or null" },
    { ",\"expectedUplinkInterval\":1.5", 0,
      P_EXP "expected an integer number of milliseconds or null" },
};

static void test_expected_uplink(void **state)
{
    struct profile_config p;
    char pd[256], err[512], *norm;
    const char *json;
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(expected_cases) / sizeof(expected_cases[0]); i++) {
        const struct expected_case *c = &expected_cases[i];
        (void)snprintf(pd, sizeof(pd), ",\"configuration\":{\"type\":\"DEFAULT\"%s}", c->member);
        json = profile("", pd, "");
        norm = NULL;
        err[0] = '\0';
        rc = profile_config_parse(json, strlen(json), NULL, &p, &norm, err, sizeof(err));
        if (c->err == NULL) {
            if (rc != 0) {
                fail_msg("%s: %s", json, err);
            }
            assert_int_equal(p.expected_uplink_interval_ms, c->want_ms);
            /* kept in the stored JSON, so the profile editor reads it back */
            if (c->want_ms > 0 && strstr(norm, "\"expectedUplinkInterval\"") == NULL) {
                fail_msg("normalised JSON lost the interval:\n%s", norm);
            }
            free(norm);
            profile_config_fini(&p);
        } else if (rc != -EINVAL || strcmp(err, c->err) != 0) {
            fail_msg("%s\n want \"%s\"\n got rc %d \"%s\"", json, c->err, rc, err);
        } else {
            assert_null(norm);
        }
    }
}

/* ---- power saving: device override and resolution (16.1, 16.2) --------------------------------
 */

struct power_parse_case {
    const char *json;
    int rc;
    const char *err;
    enum profile_power_mode mode;
    int64_t psm, edrx, ptw;
};

static const struct power_parse_case power_parse_cases[] = {
    { "{\"type\":\"COAP\",\"powerMode\":\"PSM\",\"psmActivityTimer\":30000,\"extra\":{}}", 0, NULL,
      PROFILE_POWER_PSM, 30000, U, U },
    { "{\"type\":\"COAP\",\"powerMode\":null,\"psmActivityTimer\":30000}", 0, NULL,
      PROFILE_POWER_UNSET, U, U, U },
    { "{\"type\":\"DEFAULT\",\"powerMode\":\"PSM\"}", 0, NULL, PROFILE_POWER_UNSET, U, U, U },
    { "{\"powerMode\":\"E_DRX\",\"edrxCycle\":20480,\"pagingTransmissionWindow\":2560}", 0, NULL,
      PROFILE_POWER_E_DRX, U, 20480, 2560 },
    { "{\"type\":\"COAP\",\"powerMode\":\"DRX\"}", 0, NULL, PROFILE_POWER_DRX, U, U, U },
    { "{\"type\":\"COAP\",\"powerMode\":\"psm\"}", -EINVAL,
      "deviceData.transportConfiguration.powerMode: expected PSM, DRX or E_DRX",
      PROFILE_POWER_UNSET, U, U, U },
    { "{\"type\":\"COAP\",\"powerMode\":\"E_DRX\"}", -EINVAL,
      "deviceData.transportConfiguration.edrxCycle: required for E_DRX", PROFILE_POWER_UNSET, U, U,
      U },
    { "[1]", -EINVAL, "deviceData.transportConfiguration: expected an object", PROFILE_POWER_UNSET,
      U, U, U },
    { "{", -EINVAL,
      "deviceData.transportConfiguration: invalid JSON at line 1, column 1: string or '}' "
      "expected near end of file",
      PROFILE_POWER_UNSET, U, U, U },
};

static void test_power_parse(void **state)
{
    struct profile_power pw;
    char err[256];
    size_t i;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(power_parse_cases) / sizeof(power_parse_cases[0]); i++) {
        const struct power_parse_case *c = &power_parse_cases[i];
        err[0] = '\0';
        rc = profile_power_parse(c->json, strlen(c->json), &pw, err, sizeof(err));
        if (rc != c->rc || (c->err != NULL && strcmp(err, c->err) != 0)) {
            fail_msg("%s: want %d \"%s\", got %d \"%s\"", c->json, c->rc,
                     c->err != NULL ? c->err : "", rc, err);
        }
        if (rc == 0) {
            assert_int_equal(pw.mode, c->mode);
            assert_int_equal(pw.psm_activity_timer_ms, c->psm);
            assert_int_equal(pw.edrx_cycle_ms, c->edrx);
            assert_int_equal(pw.paging_window_ms, c->ptw);
        }
    }
}

struct resolve_case {
    const char *what;
    bool has_profile;
    struct profile_power pr;
    bool has_device;
    struct profile_power d;
    struct profile_power_eff want;
};

#define PW(m, psm, edrx, ptw)                                                                      \
    {                                                                                              \
        PROFILE_POWER_##m, psm, edrx, ptw                                                          \
    }
#define EFF(m, psm, ptw, c)                                                                        \
    {                                                                                              \
        PROFILE_POWER_##m, psm, ptw, c                                                             \
    }

/* Gateway defaults COAP_PSM_ACTIVITY_TIMER = 10000, COAP_PAGING_TRANSMISSION_WINDOW = 10000. */
static const struct resolve_case resolve_cases[] = {
    { "no profile settings, no device", false, PW(UNSET, U, U, U), false, PW(UNSET, U, U, U),
      EFF(UNSET, 10000, 10000, 0) },
    { "profile PSM with its timer", true, PW(PSM, 20000, U, U), false, PW(UNSET, U, U, U),
      EFF(PSM, 20000, 10000, 0) },
    { "profile PSM, timer null", true, PW(PSM, U, U, U), false, PW(UNSET, U, U, U),
      EFF(PSM, 10000, 10000, 0) },
    { "profile PSM, timer 0", true, PW(PSM, 0, U, U), false, PW(UNSET, U, U, U),
      EFF(PSM, 10000, 10000, 0) },
    { "profile E_DRX", true, PW(E_DRX, U, 81920, 2560), false, PW(UNSET, U, U, U),
      EFF(E_DRX, 10000, 2560, 81920) },
    { "profile DRX keeps its other timers", true, PW(DRX, 30000, 81920, 5000), false,
      PW(UNSET, U, U, U), EFF(DRX, 30000, 5000, 81920) },
    { "device override without a mode is no override", true, PW(PSM, 20000, U, U), true,
      PW(UNSET, 40000, U, U), EFF(PSM, 20000, 10000, 0) },
    { "device PSM without timer: transport default, not the profile's", true, PW(PSM, 20000, U, U),
      true, PW(PSM, U, U, U), EFF(PSM, 10000, 10000, 0) },
    { "device PSM with timer", true, PW(PSM, 20000, U, U), true, PW(PSM, 30000, 81920, 3000),
      EFF(PSM, 30000, 10000, 0) },
    { "device DRX over profile E_DRX: no timers passed", true, PW(E_DRX, 20000, 81920, 2560), true,
      PW(DRX, 30000, 40960, 3000), EFF(DRX, 10000, 10000, 0) },
    { "device E_DRX passes cycle and window only", true, PW(PSM, 20000, U, U), true,
      PW(E_DRX, 30000, 40960, 3000), EFF(E_DRX, 10000, 3000, 40960) },
    { "device E_DRX without window", true, PW(E_DRX, U, 81920, 2560), true, PW(E_DRX, U, 40960, U),
      EFF(E_DRX, 10000, 10000, 40960) },
    { "device override on a profile without settings", false, PW(UNSET, U, U, U), true,
      PW(PSM, 15000, U, U), EFF(PSM, 15000, 10000, 0) },
};

static void test_power_resolve(void **state)
{
    struct profile_power_eff got;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(resolve_cases) / sizeof(resolve_cases[0]); i++) {
        const struct resolve_case *c = &resolve_cases[i];
        profile_power_resolve(c->has_profile ? &c->pr : NULL, c->has_device ? &c->d : NULL, 10000,
                              10000, &got);
        if (got.mode != c->want.mode ||
            got.psm_activity_timer_ms != c->want.psm_activity_timer_ms ||
            got.paging_window_ms != c->want.paging_window_ms ||
            got.edrx_cycle_ms != c->want.edrx_cycle_ms) {
            fail_msg("%s: want mode %d psm %lld ptw %lld cycle %lld, got %d %lld %lld %lld",
                     c->what, c->want.mode, (long long)c->want.psm_activity_timer_ms,
                     (long long)c->want.paging_window_ms, (long long)c->want.edrx_cycle_ms,
                     got.mode, (long long)got.psm_activity_timer_ms,
                     (long long)got.paging_window_ms, (long long)got.edrx_cycle_ms);
        }
    }
}

/* ---- dispatch (device type x payload type) ----------------------------------------------------
 */

static void test_dispatch(void **state)
{
    static const struct profile_limits lim = { 100, 0, true };
    const char *efento =
        profile("\"coapDeviceTypeConfiguration\":{\"coapDeviceType\":\"EFENTO\"}", "", "");
    struct profile_config json_p, efento_p, pb_p;
    struct profile_batch b;
    char err[256], *rsp = NULL;
    size_t rsp_len = 0;
    int rc;

    (void)state;
    assert_int_equal(profile_config_parse(default_profile, strlen(default_profile), NULL, &json_p,
                                          NULL, err, sizeof(err)),
                     0);
    assert_int_equal(
        profile_config_parse(efento, strlen(efento), NULL, &efento_p, NULL, err, sizeof(err)), 0);
    efento = profile(PB_PAYLOAD(""), "", "");
    assert_int_equal(
        profile_config_parse(efento, strlen(efento), NULL, &pb_p, NULL, err, sizeof(err)), 0);
    assert_int_equal(profile_batch_init(&b, 10), 0);

    /* Default x JSON: the JSON adaptor */
    rc = profile_decode_telemetry(&json_p, (const uint8_t *)"{\"a\":1}", 7, 5, &lim, &b, err,
                                  sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 1);
    assert_int_equal(b.kv[0].ts_ms, 5);
    profile_batch_clear(&b);
    rc = profile_decode_attributes(&json_p, (const uint8_t *)"[1]", 3, &lim, &b, err, sizeof(err));
    assert_int_equal(rc, -EBADMSG);
    assert_string_equal(err, "payload must be a JSON object");
    assert_int_equal(profile_decode_rpc_response(&json_p, (const uint8_t *)"{\"r\": [1, 2]}", 13,
                                                 &rsp, &rsp_len, err, sizeof(err)),
                     0);
    assert_string_equal(rsp, "{\"r\":[1,2]}");
    assert_int_equal(rsp_len, 11);
    free(rsp);
    assert_int_equal(profile_decode_rpc_response(&json_p, (const uint8_t *)"[]", 2, &rsp, &rsp_len,
                                                 err, sizeof(err)),
                     -EBADMSG);
    assert_string_equal(err, "rpc response must be a JSON object");

    /* Efento on /api/v1: a distinct error */
    rc = profile_decode_telemetry(&efento_p, (const uint8_t *)"{\"a\":1}", 7, 5, &lim, &b, err,
                                  sizeof(err));
    assert_int_equal(rc, -EPROTOTYPE);
    assert_string_equal(err, "device profile \"p\" is an Efento profile: /api/v1 is not available");
    assert_int_equal(
        profile_decode_attributes(&efento_p, (const uint8_t *)"{}", 2, &lim, &b, err, sizeof(err)),
        -EPROTOTYPE);
    assert_int_equal(b.n, 0);

    /* Protobuf without its compiled schemas: nbgate's own failure */
    rc = profile_decode_telemetry(&pb_p, (const uint8_t *)"", 0, 5, &lim, &b, err, sizeof(err));
    assert_int_equal(rc, -ENOEXEC);
    assert_string_equal(err, "profile schema unusable");
    assert_int_equal(
        profile_config_attach_schemas(&pb_p, (const uint8_t *)"\x0a\x05", 2, err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "stored descriptor sets are malformed");
    /* a JSON profile ignores any container */
    assert_int_equal(
        profile_config_attach_schemas(&json_p, (const uint8_t *)"\xff", 1, err, sizeof(err)), 0);

    profile_batch_fini(&b);
    profile_config_fini(&json_p);
    profile_config_fini(&efento_p);
    profile_config_fini(&pb_p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_default_profile),
        cmocka_unit_test(test_protobuf_defaults),
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_expected_uplink),
        cmocka_unit_test(test_power_parse),
        cmocka_unit_test(test_power_resolve),
        cmocka_unit_test(test_dispatch),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
