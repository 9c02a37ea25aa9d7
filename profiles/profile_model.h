/* SPDX-License-Identifier: MIT */
/*
 * profile_model.h - device profiles: ThingsBoard's device-profile JSON parsed and validated into a
 * struct profile_config, the power-saving resolution (specs/coap-device-api.md 16.2), the adaptor
 * dispatch by (CoAP device type, payload type), and the dynamic Protobuf adaptor with the fixed
 * transport messages nbgate sends to Protobuf devices (spec section 14).
 *
 * Everything here is pure like profile.h: no I/O, no log, no clock. Compiling the .proto texts
 * with protoc is the gateway's job (gateway/gw_protoc.h); this module only reads the resulting
 * descriptor sets (google.protobuf.FileDescriptorSet bytes).
 *
 * Descriptor container: a profile stores its four compiled schemas in one BLOB, itself Protobuf
 * wire format: field 1 telemetry, 2 attributes, 3 RPC request, 4 RPC response, each a
 * length-delimited FileDescriptorSet (profile_schemas_pack()). JSON profiles store no BLOB.
 *
 * Errors: as profile.h (-EBADMSG payload or profile the sender must fix, err set; -ENOMEM), plus
 * -EINVAL for a bad argument or an invalid profile / schema (err set), -EPROTOTYPE for an
 * Efento profile on the Default device API (CoAP 4.00), -ENOEXEC for a stored Protobuf schema
 * that cannot be used at run time (nbgate's own failure: CoAP 5.00 "profile schema unusable").
 */
#ifndef PROFILE_MODEL_H
#define PROFILE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiles/profile.h"

#define PROFILE_SCHEMA_COUNT     4     /* telemetry, attributes, RPC request, RPC response */
#define PROFILE_MS_UNSET         (-1)  /* a timer that is null in the JSON */
#define PROFILE_NAME_MAX         255   /* bytes of a profile name or provision key, without NUL */
#define PROFILE_SCHEMA_MAX       65536 /* bytes of one .proto text */
#define PROFILE_TIMER_MAX_MS     31536000000LL /* 365 days: largest timer or inactivity timeout */
#define PROFILE_EFENTO_NO_OPTION 65000         /* an Efento option setting: not in a CoAP option */
#define PROFILE_EFENTO_MAX_S     31536000      /* largest Efento profile time setting, seconds */

/* 31 days: the largest expected uplink interval of a profile. */
#define PROFILE_EXPECTED_UPLINK_MAX_MS 2678400000LL

/* The four schemas of a Protobuf profile, numbered as in the descriptor container. */
enum profile_schema_role {
    PROFILE_SCHEMA_TELEMETRY = 0,
    PROFILE_SCHEMA_ATTRIBUTES = 1,
    PROFILE_SCHEMA_RPC_REQUEST = 2,
    PROFILE_SCHEMA_RPC_RESPONSE = 3,
};

enum profile_transport {
    PROFILE_TRANSPORT_DEFAULT = 0, /* transportType DEFAULT: JSON, no power saving */
    PROFILE_TRANSPORT_COAP = 1,
};

enum profile_device_type {
    PROFILE_DEVICE_DEFAULT = 0,
    PROFILE_DEVICE_EFENTO = 1,
};

enum profile_payload_type {
    PROFILE_PAYLOAD_JSON = 0,
    PROFILE_PAYLOAD_PROTOBUF = 1,
};

enum profile_power_mode {
    PROFILE_POWER_UNSET = 0, /* null: no mode (an always-reachable device) */
    PROFILE_POWER_PSM = 1,
    PROFILE_POWER_DRX = 2,
    PROFILE_POWER_E_DRX = 3,
};

enum profile_provision {
    PROFILE_PROVISION_DISABLED = 0,
    PROFILE_PROVISION_ALLOW_CREATE_NEW_DEVICES = 1,
    PROFILE_PROVISION_CHECK_PRE_PROVISIONED_DEVICES = 2,
};

/* Power-saving settings as configured (profile clientSettings or a device's override). */
struct profile_power {
    enum profile_power_mode mode;
    int64_t psm_activity_timer_ms; /* psmActivityTimer, ms, or PROFILE_MS_UNSET */
    int64_t edrx_cycle_ms;         /* edrxCycle, ms, or PROFILE_MS_UNSET */
    int64_t paging_window_ms;      /* pagingTransmissionWindow, ms, or PROFILE_MS_UNSET */
};

/* The effective settings of one device (spec 16.2: M, T_psm, T_ptw and C). */
struct profile_power_eff {
    enum profile_power_mode mode;  /* M; UNSET when neither device nor profile sets one */
    int64_t psm_activity_timer_ms; /* T_psm, ms, always > 0 */
    int64_t paging_window_ms;      /* T_ptw, ms, always > 0 */
    int64_t edrx_cycle_ms;         /* C, ms; 0 = cycle unknown */
};

struct profile_proto_schema; /* one compiled schema (opaque) */

/* One device profile, as parsed from ThingsBoard's device-profile JSON. */
struct profile_config {
    char *name; /* NUL-terminated, 1..PROFILE_NAME_MAX bytes */
    bool is_default;
    enum profile_transport transport;
    enum profile_device_type device_type;
    enum profile_payload_type payload_type; /* JSON for EFENTO and DEFAULT transport */
    char *schema[PROFILE_SCHEMA_COUNT];     /* .proto texts; NULL unless PROTOBUF */
    bool is_json_compat;                    /* enableCompatibilityWith...: MQTT only */
    bool is_json_default_downlink;          /* useJsonPayloadFormatFor...: MQTT only */
    bool has_power;                         /* COAP transport: power is the profile's Pr */
    struct profile_power power;             /* clientSettings (DRX when absent) */
    enum profile_provision provision;       /* provisionType */
    char *provision_key;                    /* provisionDeviceKey or NULL */
    char *provision_secret;                 /* provisionDeviceSecret or NULL */
    bool is_x509_provision_allowed;         /* provisionConfiguration.allowX509Credentials */
    int64_t inactivity_timeout_ms;          /* 0 = the gateway's default */
    int64_t expected_uplink_interval_ms;    /* between two uplinks; 0 = unknown */
    struct profile_proto_schema *proto[PROFILE_SCHEMA_COUNT]; /* compiled, or NULL */
};

/*
 * Parses and validates a device profile given as ThingsBoard's device-profile JSON (a DeviceProfile
 * object, specs/rest-api.md 5.1-5.6). name, when not NULL, replaces the JSON's "name". A Protobuf
 * profile whose schema members are absent or null gets ThingsBoard's default schemas; an empty
 * RPC schema gets the default too, an empty telemetry or attributes schema is refused.
 * nbgate extensions: profileData.configuration.inactivityTimeout (ms or null),
 * profileData.configuration.expectedUplinkInterval (ms, 1..31 days, or null when unknown) and
 * profileData.provisionConfiguration.allowX509Credentials (boolean).
 * normalized (may be NULL) receives the JSON to store: the input with defaults filled in, the
 * provision key at the top level only, "name" and "default" as parsed.
 * Returns: 0, -EINVAL (err names the JSON path, e.g. "profileData.transportConfiguration.
 * clientSettings.powerMode: expected PSM, DRX or E_DRX"), -ENOMEM.
 * Ownership: caller owns *out (profile_config_fini()) and *normalized (free()); on error both are
 * left empty.
 */
int profile_config_parse(const char *json, size_t len, const char *name, struct profile_config *out,
                         char **normalized, char *err, size_t err_len);

/* Releases everything a profile_config holds (schemas included); the struct is zeroed. */
void profile_config_fini(struct profile_config *p);

/*
 * Parses a device's power-saving override: deviceData.transportConfiguration, i.e.
 * {"type":"COAP","powerMode":..,"psmActivityTimer":..,"edrxCycle":..,"pagingTransmissionWindow":..}
 * with extra members ignored. A "type" other than COAP, or a null powerMode, is "no override"
 * (out->mode UNSET, timers unset). Same value rules as clientSettings.
 * Returns: 0, -EINVAL (err names the member), -ENOMEM.
 */
int profile_power_parse(const char *json, size_t len, struct profile_power *out, char *err,
                        size_t err_len);

/*
 * Resolves the effective power mode and timers (spec 16.2, evaluated on every use): profile is
 * the profile's clientSettings (NULL for a non-COAP profile), device the device's override (NULL
 * or mode UNSET for none); default_psm_ms / default_ptw_ms are COAP_PSM_ACTIVITY_TIMER and
 * COAP_PAGING_TRANSMISSION_WINDOW. A device-level mode takes the device's timers only.
 */
void profile_power_resolve(const struct profile_power *profile, const struct profile_power *device,
                           int64_t default_psm_ms, int64_t default_ptw_ms,
                           struct profile_power_eff *out);

/* Returns: ThingsBoard's default schema text of role (spec 14.2); static storage. */
const char *profile_default_schema(enum profile_schema_role role);

/* Returns: the profile JSON member name of role's schema, e.g. "deviceTelemetryProtoSchema". */
const char *profile_schema_member(enum profile_schema_role role);

/*
 * Builds the descriptor container from the four descriptor sets (sets[i] of lens[i] bytes).
 * Returns: 0, -ENOMEM. Ownership: caller owns *out (free()).
 */
int profile_schemas_pack(const uint8_t *const sets[PROFILE_SCHEMA_COUNT],
                         const size_t lens[PROFILE_SCHEMA_COUNT], uint8_t **out, size_t *out_len);

/*
 * Loads the four schemas of a Protobuf profile from its descriptor container into p->proto[],
 * checking ThingsBoard's schema rules (spec 14.2). For a JSON profile blob is ignored.
 * Returns: 0, -EINVAL (err says which schema and why), -ENOMEM.
 */
int profile_config_attach_schemas(struct profile_config *p, const uint8_t *blob, size_t len,
                                  char *err, size_t err_len);

/*
 * The adaptor dispatch (device type x payload type): decodes a telemetry upload of a device with
 * profile p into out, with the JSON adaptor (profile.h) or the Protobuf adaptor.
 * Returns: 0, -EBADMSG (err set: 4.00), -ENOMEM, -EPROTOTYPE (an Efento profile: 4.00, err set),
 * -ENOEXEC (Protobuf schema missing or unusable: 5.00, err set).
 */
int profile_decode_telemetry(const struct profile_config *p, const uint8_t *data, size_t len,
                             int64_t now_ms, const struct profile_limits *lim,
                             struct profile_batch *out, char *err, size_t err_len);

/* As profile_decode_telemetry(), for a client-attributes upload (ts_ms 0). */
int profile_decode_attributes(const struct profile_config *p, const uint8_t *data, size_t len,
                              const struct profile_limits *lim, struct profile_batch *out,
                              char *err, size_t err_len);

/*
 * A server-side RPC response (spec 7.4) as the JSON text handed to the RPC's caller: a JSON
 * profile's body must be a JSON object (re-serialised compactly); a Protobuf profile's body is
 * decoded with the RPC-response schema and printed as ThingsBoard prints it.
 * Returns: as profile_decode_telemetry(). Ownership: caller owns *json (free()).
 */
int profile_decode_rpc_response(const struct profile_config *p, const uint8_t *data, size_t len,
                                char **json, size_t *json_len, char *err, size_t err_len);

/* ---- dynamic Protobuf (profile_proto*.c) ------------------------------------------------------
 */

#define PROFILE_PROTO_MAX_DEPTH      100             /* message nesting (protobuf-java's limit) */
#define PROFILE_PROTO_MAX_DESC_BYTES (1024u * 1024u) /* one descriptor set */
#define PROFILE_PROTO_MAX_BYTES      (1024u * 1024u) /* one payload */
#define PROFILE_PROTO_MAX_TEXT_BYTES (8u * 1024u * 1024u) /* JSON text a payload may expand to */

/*
 * Loads a FileDescriptorSet (protoc --descriptor_set_out --include_imports) of one schema and
 * checks ThingsBoard's rules for role (spec 14.2): proto3 only; no options, imports or extend;
 * at least one message; no required labels, defaults, groups, message options, extension ranges
 * or reserved; enums without options; the last top-level message of the schema file is the one
 * used; the telemetry ts/values rule; the RPC-request method/requestId/params rule.
 * Returns: 0, -EINVAL (err says why), -ENOMEM.
 * Ownership: caller owns *out, free with profile_proto_schema_free().
 */
int profile_proto_schema_load(const uint8_t *fds, size_t len, enum profile_schema_role role,
                              struct profile_proto_schema **out, char *err, size_t err_len);

/* Frees a schema; NULL is a no-op. */
void profile_proto_schema_free(struct profile_proto_schema *s);

/* Returns: the fully qualified name of the message a schema decodes (".pkg.Msg"). */
const char *profile_proto_schema_message(const struct profile_proto_schema *s);

/*
 * Decodes a telemetry payload against schema s into records (spec 14.3): the records
 * ThingsBoard's print-to-JSON-then-convert route gives, including the {ts, values} form.
 * Payloads over PROFILE_PROTO_MAX_BYTES, nesting over PROFILE_PROTO_MAX_DEPTH and expansions over
 * PROFILE_PROTO_MAX_TEXT_BYTES are refused. Nothing is added unless all is valid (out cleared).
 * Returns: 0, -EBADMSG (err set), -ENOMEM.
 */
int profile_proto_telemetry(const struct profile_proto_schema *s, const uint8_t *data, size_t len,
                            int64_t now_ms, const struct profile_limits *lim,
                            struct profile_batch *out, char *err, size_t err_len);

/* As profile_proto_telemetry() for client attributes (no ts form, ts_ms 0). */
int profile_proto_attributes(const struct profile_proto_schema *s, const uint8_t *data, size_t len,
                             const struct profile_limits *lim, struct profile_batch *out, char *err,
                             size_t err_len);

/*
 * Decodes a payload against s and prints it as compact JSON the way ThingsBoard's
 * JsonFormat.printer().includingDefaultValueFields() does (names, defaults, number forms).
 * Returns: 0, -EBADMSG (err set), -ENOMEM. Ownership: caller owns *json (free()).
 */
int profile_proto_to_json(const struct profile_proto_schema *s, const uint8_t *data, size_t len,
                          char **json, size_t *json_len, char *err, size_t err_len);

/*
 * Encodes a server-side RPC for a Protobuf device (spec 7.2): {"method", "requestId",
 * "params": params_json} merged into the profile's RPC-request message as ThingsBoard's
 * JsonFormat parser does (unknown members ignored). params_json NULL means null.
 * Returns: 0, -EBADMSG (params do not fit the schema; err set), -ENOMEM.
 * Ownership: caller owns *out (free()); *out is never NULL on success, even when *out_len is 0.
 */
int profile_proto_encode_rpc_request(const struct profile_proto_schema *s, const char *method,
                                     int32_t request_id, const char *params_json, size_t params_len,
                                     uint8_t **out, size_t *out_len, char *err, size_t err_len);

/*
 * transport.AttributeUpdateNotificationMsg (spec 6.4, 14.4): sharedUpdated from updated[] (each
 * record's ts_ms is the attribute's last-update time), sharedDeleted from deleted[].
 * Returns: 0, -ENOMEM. Ownership: as profile_proto_encode_rpc_request().
 */
int profile_proto_encode_attr_update(const struct profile_kv *updated, size_t n_updated,
                                     const char *const *deleted, size_t n_deleted, uint8_t **out,
                                     size_t *out_len);

/* The members of a transport.GetAttributeResponseMsg (spec 6.2, 14.4). */
struct profile_attr_response {
    int32_t request_id;              /* 0 for CoAP */
    const struct profile_kv *client; /* clientAttributeList, ts_ms = last update */
    size_t n_client;
    const struct profile_kv *shared; /* sharedAttributeList */
    size_t n_shared;
    bool is_multiple;     /* isMultipleAttributesRequest: more than one key requested */
    const char *error;    /* NULL or "" for none */
    bool is_shared_state; /* sharedStateMsg */
};

/* Encodes a GetAttributeResponseMsg. Returns: 0, -ENOMEM. Ownership: as above. */
int profile_proto_encode_attr_response(const struct profile_attr_response *r, uint8_t **out,
                                       size_t *out_len);

/*
 * transport.ToServerRpcResponseMsg, the reply to a client-side RPC (spec 7.5): payload and error
 * may be NULL. Returns: 0, -ENOMEM. Ownership: as above.
 */
int profile_proto_encode_rpc_reply(int32_t request_id, const char *payload, const char *error,
                                   uint8_t **out, size_t *out_len);

/*
 * Decodes a client-side RPC request of a Protobuf device: the fixed transportapi.RpcRequest
 * (method = 1, params = 2, both strings). Missing fields give "".
 * Returns: 0, -EBADMSG (err set), -ENOMEM. Ownership: caller owns *method and *params (free()).
 */
int profile_proto_decode_client_rpc(const uint8_t *data, size_t len, char **method, char **params,
                                    char *err, size_t err_len);

#endif /* PROFILE_MODEL_H */
