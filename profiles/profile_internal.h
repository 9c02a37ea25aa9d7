/* SPDX-License-Identifier: MIT */
/*
 * profile_internal.h - helpers shared by the files of profiles/ and used nowhere else.
 *
 * - struct profile_buf: an output buffer that either grows on the heap or fills a caller's fixed
 *   array the way snprintf does (the full length is still counted). The text is always
 *   NUL-terminated once anything has been written.
 * - The JSON string escaper, shared by JSON re-serialisation and profile_value_to_json().
 * - Record appending and ThingsBoard number typing (specs/coap-device-api.md section 13.2), for the
 *   JSON adaptor and any adaptor that produces number text (Protobuf prints to JSON first).
 */
#ifndef PROFILE_INTERNAL_H
#define PROFILE_INTERNAL_H

#include "profiles/profile.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Numbers whose plain decimal form would be longer than this are refused (1e999999 is valid JSON).
 */
#define PROFILE_MAX_PLAIN_DIGITS 4096

/* Largest JSON payload the adaptor looks at; the gateway's own payload limit is far lower. */
#define PROFILE_JSON_MAX_BYTES (1024u * 1024u)

/* An output buffer: heap-grown, or a fixed caller array (snprintf-like truncation). */
struct profile_buf {
    char *p;         /* the text so far, NUL-terminated when cap > 0 */
    size_t len;      /* bytes the full text needs (more than cap - 1 after truncation) */
    size_t cap;      /* bytes available at p */
    bool is_fixed;   /* p is the caller's array: never grown nor freed */
    bool has_failed; /* a heap allocation failed; later writes are dropped */
};

/* Starts an empty heap buffer (no allocation yet). Release with profile_buf_fini(). */
void profile_buf_init_heap(struct profile_buf *b);

/*
 * Starts a buffer over the caller's array p of cap bytes; writes past cap - 1 bytes are counted in
 * len but not stored. Ownership: p is borrowed for the buffer's life.
 */
void profile_buf_init_fixed(struct profile_buf *b, char *p, size_t cap);

/* Frees a heap buffer's memory (a fixed buffer is left alone) and empties it. */
void profile_buf_fini(struct profile_buf *b);

/* Appends n bytes of s. */
void profile_buf_put(struct profile_buf *b, const char *s, size_t n);

/* Appends one byte. */
void profile_buf_putc(struct profile_buf *b, char c);

/*
 * Appends s (n bytes of UTF-8) as a quoted JSON string: '"' and '\' escaped, control characters as
 * \b \f \n \r \t or \u00xx, and U+2028/U+2029 as \u2028/\u2029; everything else verbatim.
 */
void profile_buf_put_json_string(struct profile_buf *b, const char *s, size_t n);

/*
 * Takes the heap text out of b (b is left empty). Returns NULL when an allocation failed.
 * Ownership: caller owns the result, free with free().
 */
char *profile_buf_take(struct profile_buf *b);

/*
 * Appends one record to batch, copying key (key_len bytes, no NUL inside) and taking ownership of
 * v->s (heap, NUL-terminated) whatever the result.
 * Returns: 0, -ERANGE when the batch already holds cap records, -ENOMEM.
 */
int profile_batch_add(struct profile_batch *batch, int64_t ts_ms, const char *key, size_t key_len,
                      struct profile_value *v);

/* Why a number could not be typed (profile_number_type()). */
enum profile_number_err {
    PROFILE_NUMBER_OK = 0,
    PROFILE_NUMBER_NOT_NUMERIC,  /* a string that is not "parsable" */
    PROFILE_NUMBER_BIG_INTEGER,  /* integral outside 64 bits, type casting disabled */
    PROFILE_NUMBER_BIG_SCALE,    /* more than 16 decimal places, type casting disabled */
    PROFILE_NUMBER_OUT_OF_RANGE, /* a DOUBLE that is not finite, or a plain form too long */
};

/*
 * Types number text by ThingsBoard's rules (section 13.2). text is either a JSON number lexeme
 * (is_string false; it must be valid RFC 8259 number syntax) or the content of a JSON string
 * (is_string true; it must be "parsable": optional '-', digits with at most one '.', not ending
 * in '.'). type_cast is JSON_TYPE_CAST_ENABLED.
 * Returns: 0 (v filled: LONG, DOUBLE or STRING), -EINVAL (*why says why, v untouched), -ENOMEM.
 * Ownership: for a STRING, v->s is heap memory the caller owns (free()).
 */
int profile_number_type(const char *text, size_t len, bool is_string, bool type_cast,
                        struct profile_value *v, enum profile_number_err *why);

/*
 * Truncates number text (as for profile_number_type()) towards zero to a 64-bit integer
 * (1.7e12 -> 1700000000000, -1.9 -> -1).
 * Returns: 0, -ERANGE when it does not fit, -ENOMEM.
 */
int profile_number_trunc(const char *text, size_t len, int64_t *out);

/*
 * The double nearest to number text (as for profile_number_type()), whatever the locale; +-inf
 * beyond the double range, and +0.0 for any zero.
 * Returns: 0, -ENOMEM.
 */
int profile_number_to_double(const char *text, size_t len, double *out);

#endif /* PROFILE_INTERNAL_H */
