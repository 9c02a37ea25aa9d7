/* SPDX-License-Identifier: MIT */
/*
 * profile.h - the device-profile engine's public contract: typed key/value records and the
 * Default adaptors that turn a device's bytes into them.
 *
 * Adaptors are pure: bytes in, a batch of records (or a precise error) out. They never do I/O,
 * never log and never read a clock: the caller passes "now" for records without a timestamp.
 * Value typing follows ThingsBoard (specs/coap-device-api.md section 13.2): BOOLEAN, LONG,
 * DOUBLE, STRING, JSON; JSON nulls are skipped.
 *
 * Errors: 0 on success, -EBADMSG for a payload the device must fix (CoAP 4.00; err holds a one-line
 * diagnostic of at most 200 bytes), -ENOMEM when memory runs out (CoAP 5.00).
 */
#ifndef PROFILE_H
#define PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Value types, numbered as they are stored (do not renumber: the store keeps these numbers). */
enum profile_value_type {
    PROFILE_VT_BOOLEAN = 1,
    PROFILE_VT_LONG = 2,
    PROFILE_VT_DOUBLE = 3,
    PROFILE_VT_STRING = 4,
    PROFILE_VT_JSON = 5,
};

/* One typed value. Exactly one of b, l, d, s is meaningful, chosen by type. */
struct profile_value {
    enum profile_value_type type;
    bool b;       /* BOOLEAN */
    int64_t l;    /* LONG */
    double d;     /* DOUBLE, always finite */
    char *s;      /* STRING or JSON (compact text): NUL-terminated, owned by the batch */
    size_t s_len; /* bytes in s, without the NUL */
};

/* One record: a key and its value at a time. */
struct profile_kv {
    int64_t ts_ms; /* telemetry: record time, ms since the Unix epoch; attributes: 0 */
    char *key;     /* NUL-terminated UTF-8, may be empty; owned by the batch */
    struct profile_value v;
};

/* A growable list of records with a hard cap (the keys-per-message limit). */
struct profile_batch {
    struct profile_kv *kv; /* n used entries */
    size_t n;
    size_t cap; /* most records this batch may hold */
};

/* Limits applied while decoding (specs/coap-device-api.md section 18). */
struct profile_limits {
    size_t max_keys;       /* most key/value pairs per message, all groups together */
    size_t max_string_len; /* longest string value in characters; 0 = bounded by the payload */
    bool type_cast;        /* JSON_TYPE_CAST_ENABLED: "42" becomes LONG 42 */
};

/*
 * Prepares an empty batch that accepts up to cap records.
 * Returns: 0, -ENOMEM.
 * Ownership: caller owns the batch storage; release with profile_batch_fini().
 */
int profile_batch_init(struct profile_batch *batch, size_t cap);

/* Releases every record and the array; the batch is left empty and may be re-initialised. */
void profile_batch_fini(struct profile_batch *batch);

/* Drops every record but keeps the capacity. */
void profile_batch_clear(struct profile_batch *batch);

/*
 * Decodes a ThingsBoard JSON telemetry payload: {k:v}, {"ts":..,"values":{..}}, or an array of
 * either. Records of a group without "ts" get now_ms. Nothing is added to out unless the whole
 * payload is valid (out is cleared on error).
 * Returns: 0, -EBADMSG (err set), -ENOMEM.
 */
int profile_json_telemetry(const uint8_t *data, size_t len, int64_t now_ms,
                           const struct profile_limits *lim, struct profile_batch *out, char *err,
                           size_t err_len);

/*
 * Decodes a ThingsBoard JSON client-attributes payload: a JSON object; each member is one
 * attribute (ts_ms = 0). Same error rules as profile_json_telemetry().
 * Returns: 0, -EBADMSG (err set), -ENOMEM.
 */
int profile_json_attributes(const uint8_t *data, size_t len, const struct profile_limits *lim,
                            struct profile_batch *out, char *err, size_t err_len);

/*
 * Renders one value as JSON text the way nbgate answers devices: numbers typed, a DOUBLE always
 * with a decimal point or exponent (42.0 stays 42.0), JSON values verbatim, strings escaped.
 * Returns: the number of bytes the full text needs (without NUL), like snprintf; buf always
 * NUL-terminated when buf_len > 0.
 */
size_t profile_value_to_json(const struct profile_value *v, char *buf, size_t buf_len);

#endif /* PROFILE_H */
