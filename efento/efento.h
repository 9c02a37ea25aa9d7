/* SPDX-License-Identifier: MIT */
/*
 * efento.h - the Efento NB-IoT codec, nbgate's single contract for Efento frames
 * (specs/efento.md). Three decoders turn the Protobuf bodies of POST m, i and c into nbgate's own
 * types, and one encoder builds the ProtoConfig a 2.01 answer may carry (section 8):
 *
 *   efento_measurements_decode  ProtoMeasurements -> telemetry records + frame facts (7.2-7.8)
 *   efento_device_info_decode   ProtoDeviceInfo   -> one record set at the receive time (7.9)
 *   efento_config_parse         ProtoConfig       -> identification, split info, hash, errors
 *   efento_config_attrs         ProtoConfig parts -> client attributes as ThingsBoard prints
 *                                                    them (7.10), after reassembly (R4(g))
 *   efento_split_*              the split-configuration bookkeeping (3.5, 7.10)
 *   efento_downlink_*           ProtoConfig downlink builder with table 6.6's ranges (8.4)
 *
 * The module is pure: no I/O, no logging, no clock (times are parameters). Generated protobuf-c
 * types never appear here. Every network-facing input is bounded by section 9's caps before any
 * record is built; strings are checked for UTF-8 and NUL on the wire, before unpacking.
 *
 * Errors: 0; -EBADMSG malformed (err filled: reason and wire offset where known; answer 4.00);
 * -ERANGE payload above the cap (answer 4.13) or an output array too small for the result
 * (cannot happen with the *_MAX sizes below); -ENOMEM; -EINVAL bad argument.
 * Thread: every function is reentrant; objects are not shared between threads.
 */
#ifndef EFENTO_EFENTO_H
#define EFENTO_EFENTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Section 9 bounds: the defaults, and the hard maxima (struct efento_opts may only lower them). */
#define EFENTO_PAYLOAD_MAX     4096  /* request body, bytes */
#define EFENTO_CHANNELS_MAX    16    /* channels in one measurement frame */
#define EFENTO_SAMPLES_MAX     4096  /* sample offsets in one frame, all channels */
#define EFENTO_LIST_MAX        64    /* items of any other repeated field, nested ones too */
#define EFENTO_STRING_MAX      255   /* string field, bytes (valid UTF-8, no NUL) */
#define EFENTO_BYTES_MAX       64    /* bytes field, bytes */
#define EFENTO_SPLIT_PARTS_MAX 16    /* parts of one split configuration */
#define EFENTO_SPLIT_BYTES_MAX 16384 /* bytes of one split configuration, all parts */
#define EFENTO_SPLIT_TTL_S     3600  /* an incomplete split set is discarded after this */
#define EFENTO_DOWNLINK_MAX    1024  /* downlink payload, bytes */

/* Output sizes that always suffice under the maxima above. */
#define EFENTO_KEY_MAX              64                         /* key + NUL */
#define EFENTO_STR_MAX              (EFENTO_STRING_MAX + 1)    /* string value + NUL */
#define EFENTO_SERIAL_HEX_MAX       (2 * EFENTO_BYTES_MAX + 1) /* hex serial + NUL */
#define EFENTO_MEAS_READINGS_MAX    (2 * EFENTO_SAMPLES_MAX + EFENTO_CHANNELS_MAX + 8)
#define EFENTO_DEVINFO_READINGS_MAX 80
#define EFENTO_CONFIG_ATTRS_MAX     64
#define EFENTO_CONFIG_TEXT_MAX      (256 * 1024) /* text of one configuration's attributes */
#define EFENTO_ERROR_EVENTS_MAX     32           /* distinct (channel, code) pairs listed */

/* Retry counter of a measurement frame: bits 3-7 of transfer_reason (6.4). */
#define EFENTO_RETRY_COUNT(transfer_reason) (((transfer_reason) >> 3) & 0x1fu)

/* Value types of records and attributes (DESIGN.md "records", spec 7.11). */
enum efento_type {
    EFENTO_BOOLEAN,
    EFENTO_LONG,
    EFENTO_DOUBLE,
    EFENTO_STRING,
    EFENTO_JSON,
};

/* One telemetry value: a key of a ThingsBoard record at ts_ms. */
struct efento_reading {
    int64_t ts_ms;            /* sample time, ms since the epoch */
    char key[EFENTO_KEY_MAX]; /* ThingsBoard's key, e.g. "temperature_1" */
    enum efento_type type;    /* which member of v is valid */
    union {
        bool b;                 /* EFENTO_BOOLEAN */
        int64_t l;              /* EFENTO_LONG */
        double d;               /* EFENTO_DOUBLE */
        char s[EFENTO_STR_MAX]; /* EFENTO_STRING (NUL-terminated UTF-8) */
    } v;
};

/* One client attribute of a configuration (7.10); it has no time of its own. */
struct efento_attr {
    char key[EFENTO_KEY_MAX]; /* lowerCamelCase field name, e.g. "measurementPeriodBase" */
    enum efento_type type;    /* BOOLEAN, LONG, STRING or JSON */
    union {
        bool b;
        int64_t l;
        double d;
    } v;
    const char *s; /* STRING, JSON: NUL-terminated text inside the caller's `text` buffer */
};

/* Bounds and conversion switches; efento_opts_init() gives section 9's defaults. */
struct efento_opts {
    size_t payload_bytes; /* body cap (<= EFENTO_PAYLOAD_MAX) */
    size_t channels;      /* <= EFENTO_CHANNELS_MAX */
    size_t samples;       /* <= EFENTO_SAMPLES_MAX */
    size_t list_items;    /* <= EFENTO_LIST_MAX */
    size_t string_bytes;  /* <= EFENTO_STRING_MAX */
    size_t bytes_bytes;   /* <= EFENTO_BYTES_MAX */
    size_t split_parts;   /* parts of one split configuration, <= EFENTO_SPLIT_PARTS_MAX */
    size_t split_bytes;   /* bytes of one split configuration, <= EFENTO_SPLIT_BYTES_MAX */
    bool is_type_cast;    /* 7.11 type-cast of digit-only strings (ThingsBoard's default: on) */
};

/* Who sent a frame (R2): serial_number as upper-case hex and the payload's cloud token. */
struct efento_ident {
    char serial[EFENTO_SERIAL_HEX_MAX]; /* "" when absent */
    char cloud_token[EFENTO_STR_MAX];   /* "" when absent */
};

/* Sensor error samples of one (channel, code) pair in one frame (7.8). */
struct efento_sensor_error {
    uint32_t channel; /* 1-based channel number */
    int32_t type;     /* MeasurementType number of the channel */
    uint32_t code;    /* the offset, 8355840 ... 8388607 */
    uint32_t samples; /* samples of this frame that carried the code */
    int64_t first_s;  /* continuous: timestamp + i * period; binary: the channel's timestamp */
    int64_t last_s;
};

/* Frame facts the gateway needs besides the records (R2, R4(h), R5, 8.3). */
struct efento_meas_info {
    struct efento_ident id;
    uint32_t configuration_hash; /* 0 = not sent */
    uint32_t transfer_reason;    /* raw bit mask (6.4) */
    bool has_newest;             /* false: no channel with samples */
    int64_t newest_s;            /* latest sample time of the frame (8.3), epoch s */
    int64_t newest_period_s;     /* period of the channel that gave newest_s, s */
    uint32_t error_samples;      /* error samples in the frame, all channels */
    uint32_t channel_error_samples[EFENTO_CHANNELS_MAX]; /* per channel, index = number - 1 */
    struct efento_sensor_error errors[EFENTO_ERROR_EVENTS_MAX];
    size_t n_errors;                            /* valid entries of errors[] */
    uint32_t error_samples_unlisted;            /* error samples whose pair did not fit errors[] */
    int32_t unknown_types[EFENTO_CHANNELS_MAX]; /* distinct type numbers nbgate does not know */
    size_t n_unknown_types;
};

/* Facts of a configuration (one frame or merged parts). */
struct efento_config_info {
    struct efento_ident id;      /* serial_number #25, cloud_token #24 */
    int32_t payload_split_info;  /* #44: 0 whole, -i part i (more follow), +n last of n */
    uint32_t configuration_hash; /* #21 */
    uint32_t configuration_errors[EFENTO_LIST_MAX]; /* #20 */
    size_t n_configuration_errors;
};

/* One part of a configuration: borrowed bytes. */
struct efento_part {
    const uint8_t *data;
    size_t len;
};

/*
 * Fill `o` with section 9's defaults (the hard maxima above) and type-cast on.
 * Ownership: caller owns `o`.
 */
void efento_opts_init(struct efento_opts *o);

/*
 * Decode a ProtoMeasurements body into telemetry records (7.2-7.7, R4(a)-(c), (f), (h)).
 * Records come sorted by ts_ms; a (ts, key) appears at most once. Error samples produce no
 * record but are counted in `info`; NO_SENSOR and SHARED_MODEM channels produce nothing.
 * opts: NULL = defaults. out/cap/n_out: caller's array (EFENTO_MEAS_READINGS_MAX always fits).
 * Returns: 0; -EBADMSG (unparseable, bound exceeded, bad UTF-8 or NUL, no channels, sample
 * time beyond the 64-bit range); -ERANGE (len above opts->payload_bytes, or cap too small);
 * -ENOMEM. On error `info` and `out` are unspecified and *n_out is 0.
 * Ownership: buf borrowed; info, out, err are the caller's.
 */
int efento_measurements_decode(const uint8_t *buf, size_t len, const struct efento_opts *opts,
                               struct efento_meas_info *info, struct efento_reading *out,
                               size_t cap, size_t *n_out, char *err, size_t err_len);

/*
 * Decode a ProtoDeviceInfo body (7.9, R4(d), (e)): one record set at rx_ms, TB's keys and order,
 * lists decoded as far as present, dates in UTC ("14 Nov 2023 22:13:20 +0000", "Undefined").
 * opts: NULL = defaults. cap: EFENTO_DEVINFO_READINGS_MAX always fits.
 * Returns: as efento_measurements_decode (no "no channels" case).
 * Ownership: buf borrowed; id, out, err are the caller's.
 */
int efento_device_info_decode(const uint8_t *buf, size_t len, const struct efento_opts *opts,
                              int64_t rx_ms, struct efento_ident *id, struct efento_reading *out,
                              size_t cap, size_t *n_out, char *err, size_t err_len);

/*
 * Validate a configuration and report its facts. parts: one frame (n_parts = 1), or the held
 * parts of a split configuration in index order, merged as protobuf merges a concatenation.
 * Each part must be <= opts->payload_bytes, all together <= EFENTO_SPLIT_BYTES_MAX.
 * Returns: 0; -EBADMSG; -ERANGE (a part or the set too large); -ENOMEM; -EINVAL (n_parts 0).
 * Ownership: parts borrowed; info and err are the caller's.
 */
int efento_config_parse(const struct efento_part *parts, size_t n_parts,
                        const struct efento_opts *opts, struct efento_config_info *info, char *err,
                        size_t err_len);

/*
 * Print a complete configuration (one frame, or the parts 1..n of a split set in index order)
 * as client attributes, the way ThingsBoard prints it (7.10): every field of ProtoConfig except
 * payload_split_info, defaults included, repeated fields as JSON arrays ("[]" when empty),
 * singular sub-messages only when present, enums by name, bytes as base64, uint32 unsigned.
 * text/text_cap: caller's buffer for STRING and JSON values (EFENTO_CONFIG_TEXT_MAX suffices).
 * Returns: as efento_config_parse; -ERANGE also when cap or text_cap is too small.
 * Ownership: out[i].s points into `text`, valid while the caller keeps `text`.
 */
int efento_config_attrs(const struct efento_part *parts, size_t n_parts,
                        const struct efento_opts *opts, struct efento_attr *out, size_t cap,
                        size_t *n_out, char *text, size_t text_cap, char *err, size_t err_len);

/*
 * Split-configuration bookkeeping of one device (3.5, 7.10 R4(g), section 9). The gateway keeps
 * the parts durably and one struct efento_split per device; the struct is plain data and can be
 * rebuilt by replaying the held parts through efento_split_add in their arrival order.
 */
struct efento_split {
    uint32_t held_mask; /* bit i - 1 set: part i is held */
    uint32_t n_parts;   /* total announced by the last part, 0 = not seen yet */
    int64_t started_s;  /* receive time of the first held part, epoch s */
    uint32_t part_bytes[EFENTO_SPLIT_PARTS_MAX]; /* size of each held part */
    /* limits (efento_split_init: the maxima; efento_split_limit lowers them) */
    uint32_t max_parts;
    size_t max_bytes;
    int64_t ttl_s;
};

/* Why the held parts must be dropped (each is a device event). */
enum efento_split_discard {
    EFENTO_SPLIT_KEPT = 0,     /* nothing to drop */
    EFENTO_SPLIT_EXPIRED,      /* incomplete for EFENTO_SPLIT_TTL_S */
    EFENTO_SPLIT_RESTARTED,    /* a new part 1 while a part 1 is held */
    EFENTO_SPLIT_TOO_BIG,      /* part index or total bytes above the caps */
    EFENTO_SPLIT_INCONSISTENT, /* parts beyond the announced count */
};

/* What the gateway does with one received part, in this order. */
struct efento_split_step {
    enum efento_split_discard discard; /* != KEPT: drop every held part first */
    bool is_whole;    /* payload_split_info 0: a complete configuration on its own */
    bool is_store;    /* hold this part as part `index`, replacing a held part of that index */
    uint32_t index;   /* 1-based part index */
    bool is_complete; /* parts 1..n are now held: efento_config_attrs over them, then drop all */
};

/* Start with no held parts and the built-in limits. Ownership: caller owns s. */
void efento_split_init(struct efento_split *s);

/*
 * Lower the limits: at most parts parts and bytes bytes per set (from opts, clamped to the
 * maxima), an incomplete set expiring after ttl_s seconds (> 0). Held parts are kept.
 */
void efento_split_limit(struct efento_split *s, const struct efento_opts *opts, int64_t ttl_s);

/*
 * Account for a received part with payload_split_info `split_info`, `part_len` bytes, at now_s,
 * and say what to do (step). After a discard or a completion the struct is reset accordingly.
 * Returns: 0, or -EINVAL for NULL arguments.
 */
int efento_split_add(struct efento_split *s, int32_t split_info, size_t part_len, int64_t now_s,
                     struct efento_split_step *step);

/* True when parts are held and the set is older than its ttl_s at now_s. */
bool efento_split_is_expired(const struct efento_split *s, int64_t now_s);

/*
 * Downlink builder: a ProtoConfig holding only the fields to change (3.4, 8.2, 8.4). Fields are
 * named by their attribute names (table 6.6) and validated against its ranges; only fields with
 * direction S or B are settable (not the extended configuration, not the deprecated
 * calibrationParametersRequest). A field set twice keeps the newest value; lists are replaced.
 */
struct efento_downlink;

/* One rule (ProtoRule, 6.7); condition and action are enum numbers (efento_enum_value). */
struct efento_rule {
    uint32_t channel_mask; /* bit i = channel i + 1 */
    int32_t condition;     /* Condition, 1..8 */
    int32_t action;        /* Action, 0..4 */
    size_t n_parameters;
    int32_t parameters[8];
};

/* One calendar (ProtoCalendar, 6.7). */
struct efento_calendar {
    uint32_t rule_mask; /* bit i = rule i + 1 */
    int32_t type;       /* CalendarType, 1..2 */
    size_t n_parameters;
    int32_t parameters[8];
};

/* Network search schema (ProtoNetworkSearch, 6.6). */
struct efento_network_search {
    size_t n_ok;
    uint32_t ok_min[6]; /* time_schema_last_registration_ok, minutes 1..255 */
    size_t n_not_ok;
    uint32_t not_ok_min[6]; /* time_schema_last_registration_not_ok, minutes 1..255 */
    uint32_t disable_period_base_min;
    uint32_t counter_max;
};

/*
 * Create an empty downlink. Returns: 0 or -ENOMEM.
 * Ownership: caller owns *out, free with efento_downlink_free.
 */
int efento_downlink_new(struct efento_downlink **out);

/* Free a downlink; NULL is a no-op. */
void efento_downlink_free(struct efento_downlink *dl);

/*
 * Set a uint32, bool (0/1, 0 clears) or enum (by number) field, e.g. "currentTime",
 * "configurationRequest", "measurementPeriodBase", "nvmStatus" (only 127).
 * Returns: 0; -ENOENT unknown or not settable attribute; -ERANGE value outside table 6.6;
 * -EINVAL wrong kind of field. err names the attribute.
 */
int efento_downlink_set_uint(struct efento_downlink *dl, const char *attr, uint64_t value,
                             char *err, size_t err_len);

/*
 * Set a string field (length per 6.6), an enum field by value name, or a bytes field given in
 * standard base64 (as attributes print it). Returns: as efento_downlink_set_uint; -ENOMEM.
 * Ownership: value borrowed (copied).
 */
int efento_downlink_set_string(struct efento_downlink *dl, const char *attr, const char *value,
                               char *err, size_t err_len);

/*
 * Replace a repeated uint32 field: "dnsServerIp" (4 octets), "ledConfig" (9 items),
 * "cellularConfigParams" (<= 16). Returns: as efento_downlink_set_string.
 */
int efento_downlink_set_uints(struct efento_downlink *dl, const char *attr, const uint32_t *v,
                              size_t n, char *err, size_t err_len);

/* Replace "rules" (<= 16; n = 0 clears). Returns: 0, -ERANGE, -ENOMEM. */
int efento_downlink_set_rules(struct efento_downlink *dl, const struct efento_rule *rules, size_t n,
                              char *err, size_t err_len);

/* Replace "calendars" (<= 6; n = 0 clears). Returns: 0, -ERANGE, -ENOMEM. */
int efento_downlink_set_calendars(struct efento_downlink *dl, const struct efento_calendar *cals,
                                  size_t n, char *err, size_t err_len);

/* Replace "setOutputControlStateRequest" (<= 3, n = 0 clears; index 0..5, state 1 OFF / 2 ON). */
int efento_downlink_set_output_control(struct efento_downlink *dl, const uint32_t *channel_index,
                                       const uint32_t *channel_state, size_t n, char *err,
                                       size_t err_len);

/* Set "networkSearch". Returns: 0, -ERANGE, -ENOMEM. */
int efento_downlink_set_network_search(struct efento_downlink *dl,
                                       const struct efento_network_search *ns, char *err,
                                       size_t err_len);

/* Set "bleAdvertisingPeriod": mode 1..3, normal and fast 32..16384 (0.625 ms steps). */
int efento_downlink_set_ble_advertising_period(struct efento_downlink *dl, uint32_t mode,
                                               uint32_t normal, uint32_t fast, char *err,
                                               size_t err_len);

/* True when nothing is set (the answer then carries no payload). */
bool efento_downlink_is_empty(const struct efento_downlink *dl);

/* Serialized size in bytes. */
size_t efento_downlink_size(const struct efento_downlink *dl);

/*
 * Serialize the downlink. Returns: 0; -ERANGE when cap < efento_downlink_size(dl).
 * Ownership: dl borrowed; buf is the caller's.
 */
int efento_downlink_encode(const struct efento_downlink *dl, uint8_t *buf, size_t cap,
                           size_t *len_out);

/*
 * Number of an Efento enum value by name, e.g. ("Condition", "CONDITION_HIGH_THRESHOLD").
 * Enums: MeasurementType, ModemType, ModemFirmwareVersion, Condition, LogicOperator, Action,
 * CalendarType, BleAdvertisingPeriodMode, AdvertisementManufacturerDataFormat.
 * Returns: 0, or -ENOENT for an unknown enum or value name.
 */
int efento_enum_value(const char *enum_name, const char *value_name, int32_t *out);

#endif /* EFENTO_EFENTO_H */
