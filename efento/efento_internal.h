/* SPDX-License-Identifier: MIT */
/*
 * efento_internal.h - helpers shared by the efento/ sources only: the bounded protobuf-c
 * allocator, the wire pre-check (section 9 bounds, UTF-8 and NUL before unpacking), text
 * formatting (hex, base64, dates, JSON escaping, 7.11 type-cast) and a bounded string builder.
 * The generated protobuf-c headers are included here and nowhere outside efento/.
 */
#ifndef EFENTO_EFENTO_INTERNAL_H
#define EFENTO_EFENTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Only for static analysers that skip system headers (cppcheck): the generated headers
 * #error when the protobuf-c version is unknown. Compilers always get it from protobuf-c.h. */
#ifndef PROTOBUF_C_VERSION_NUMBER
#define PROTOBUF_C_VERSION_NUMBER 1004001
#endif

#include "efento/efento.h"
#include "proto/efento/proto_config.pb-c.h"
#include "proto/efento/proto_config_rule.pb-c.h"
#include "proto/efento/proto_config_types.pb-c.h"
#include "proto/efento/proto_device_info.pb-c.h"
#include "proto/efento/proto_extended_configuration.pb-c.h" /* built, not used yet (6.8) */
#include "proto/efento/proto_measurement_types.pb-c.h"
#include "proto/efento/proto_measurements.pb-c.h"

/* Sensor error codes travel as sample offsets in this range (6.2, 7.8). */
#define EFENTO_ERR_CODE_MIN 8355840
#define EFENTO_ERR_CODE_MAX 8388607

/* Unpack memory budget: fixed part plus a multiple of the input (platform.md, protobuf-c). */
#define EFENTO_ALLOC_BASE_BYTES (256u * 1024u)
#define EFENTO_ALLOC_PER_BYTE   64u

#if defined(__GNUC__)
#define EFENTO_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define EFENTO_PRINTF(f, a)
#endif

/* A ProtobufCAllocator with a byte budget; the first member is what protobuf-c sees. */
struct efento_alloc {
    ProtobufCAllocator base;
    size_t budget_bytes;
    size_t used_bytes;
    bool is_exhausted; /* a request went over the budget: the input is hostile, -EBADMSG */
    bool is_oom;       /* malloc failed: -ENOMEM */
};

/* A bounded text buffer; once full, further output is dropped and is_overflow set. */
struct efento_sb {
    char *buf;
    size_t cap;
    size_t len;
    bool is_overflow;
};

/* Effective options: NULL -> defaults; each bound clamped to its hard maximum. */
void efento_opts_resolve(const struct efento_opts *in, struct efento_opts *out);

/* Prepare `a` with a budget proportional to len_bytes. */
void efento_alloc_init(struct efento_alloc *a, size_t len_bytes);

/* The errno for an unpack that returned NULL with allocator `a`; fills err. */
int efento_alloc_unpack_error(const struct efento_alloc *a, const char *what, char *err,
                              size_t err_len);

/*
 * Walk the wire bytes of a message of type `d` before unpacking: wire syntax, string fields
 * (length, UTF-8, no NUL), bytes fields, repeated counts (channels, total samples, other lists),
 * nesting depth. Returns: 0 or -EBADMSG with err set.
 */
int efento_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                      const struct efento_opts *o, char *err, size_t err_len);

/*
 * Rewrite checked wire bytes so that every singular sub-message occurs once, with the contents
 * of all its occurrences concatenated (recursively): protobuf's merge rule, which protobuf-c
 * 1.4.1 gets wrong for proto3 scalars (a later occurrence resets earlier fields to 0).
 * Returns: 0 and a malloc'd *out (never longer than len), -EBADMSG or -ENOMEM.
 */
int efento_wire_merge(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                      uint8_t **out, size_t *out_len);

/*
 * Re-check repeated counts on an unpacked message (merged sub-messages may add up).
 * Returns: 0 or -EBADMSG with err set.
 */
int efento_count_check(const ProtobufCMessage *m, const struct efento_opts *o, char *err,
                       size_t err_len);

/* snprintf into err when err_len > 0. */
void efento_errf(char *err, size_t err_len, const char *fmt, ...) EFENTO_PRINTF(3, 4);

/* Strict UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool efento_utf8_is_valid(const uint8_t *p, size_t n);

/* Upper-case hex of p[0..n) into out (truncated to out_len - 1 characters). */
void efento_hex_upper(const uint8_t *p, size_t n, char *out, size_t out_len);

/* "YYYY-MM-DD hh:mm:ss UTC" (7.2). */
void efento_fmt_utc(int64_t epoch_s, char *out, size_t out_len);

/* "dd MMM yyyy HH:mm:ss +0000", or "Undefined" for 4294967295 (7.9). */
void efento_fmt_date(uint32_t epoch_s, char *out, size_t out_len);

/* Standard base64 with padding; returns the text length, or 0 if out_len is too small. */
size_t efento_base64_encode(const uint8_t *p, size_t n, char *out, size_t out_len);

/* Strict standard base64 decode. Returns: 0, -EINVAL bad text, -ERANGE above cap. */
int efento_base64_decode(const char *s, uint8_t *out, size_t cap, size_t *n_out);

/*
 * 7.11 type-cast of a string: EFENTO_LONG (*l set) for a parsable integer that fits 64 bits,
 * EFENTO_DOUBLE (*d set) for a parsable decimal with a '.', otherwise EFENTO_STRING.
 */
enum efento_type efento_cast_string(const char *s, int64_t *l, double *d);

/* lowerCamelCase of a snake_case field name, as protobuf's JSON names. */
void efento_camel(const char *snake, char *out, size_t out_len);

/* Name of enum value v, or NULL when the enum does not define it. */
const char *efento_enum_name(const ProtobufCEnumDescriptor *ed, int v);

void efento_sb_init(struct efento_sb *sb, char *buf, size_t cap);
void efento_sb_putc(struct efento_sb *sb, char c);
void efento_sb_puts(struct efento_sb *sb, const char *s);
void efento_sb_printf(struct efento_sb *sb, const char *fmt, ...) EFENTO_PRINTF(2, 3);
/* A JSON string literal with quotes and escapes. */
void efento_sb_json_string(struct efento_sb *sb, const char *s, size_t n);
/* Terminate the current text and start a new one; returns the finished text or NULL. */
const char *efento_sb_finish(struct efento_sb *sb, size_t start);

/* Set a reading's string value, then apply the type-cast when is_cast. */
void efento_reading_set_str(struct efento_reading *r, const char *s, bool is_cast);

/* Set a DOUBLE reading; an integral value with |v| >= 1e7 becomes LONG (7.11). */
void efento_reading_set_double(struct efento_reading *r, double d);

#endif /* EFENTO_EFENTO_INTERNAL_H */
