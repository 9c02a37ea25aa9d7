/* SPDX-License-Identifier: MIT */
/*
 * profile_proto_wire.c - the Protobuf wire format for the dynamic adaptor: a bounded reader (every
 * read is checked against the end of its buffer; varints at most 10 bytes; groups skipped with a
 * depth bound), a growable writer for the downlink encoders, UTF-8 validation as protobuf-java
 * does it for proto3 strings, and Java's Double.toString / Float.toString for decoded numbers.
 *
 * Java number text (spec 14.3 and 21): JsonFormat prints a double with Double.toString. nbgate
 * follows the JDK 19+ specification of that method: the shortest decimal that reads back as the
 * same value (when one digit would do, the closer of the one- and two-digit forms, so the
 * smallest subnormal prints as 4.9E-324), plain notation for 1e-3 <= |d| < 1e7, otherwise
 * computerized scientific notation. Older JDKs print one digit more in rare cases (JDK-4511638).
 */
#include "profiles/profile_proto_internal.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIAG_MAX 200

/* ---- reading ----------------------------------------------------------------------------------
 */

int profile_pb_read_varint(struct profile_pb_reader *r, uint64_t *v)
{
    uint64_t acc = 0;
    unsigned shift = 0;
    uint8_t b;

    while (shift < 70) {
        if (r->p >= r->end) {
            return -EBADMSG;
        }
        b = *r->p++;
        if (shift < 64) {
            acc |= (uint64_t)(b & 0x7f) << shift;
        }
        if ((b & 0x80) == 0) {
            *v = acc;
            return 0;
        }
        shift += 7;
    }
    return -EBADMSG; /* an 11th byte would be needed */
}

int profile_pb_read_tag(struct profile_pb_reader *r, uint32_t *field, uint32_t *wt)
{
    uint64_t tag;
    uint32_t t32;

    if (profile_pb_read_varint(r, &tag) != 0) {
        return -EBADMSG;
    }
    t32 = (uint32_t)tag; /* protobuf-java reads tags as 32-bit varints */
    *field = t32 >> 3;
    *wt = t32 & 7u;
    return *field == 0 || *wt > PROFILE_PB_WT_I32 ? -EBADMSG : 0;
}

static int read_fixed(struct profile_pb_reader *r, size_t n, uint64_t *v)
{
    uint64_t acc = 0;
    size_t i;

    if ((size_t)(r->end - r->p) < n) {
        return -EBADMSG;
    }
    for (i = 0; i < n; i++) {
        acc |= (uint64_t)r->p[i] << (8 * i);
    }
    r->p += n;
    *v = acc;
    return 0;
}

int profile_pb_read_value(struct profile_pb_reader *r, uint32_t wt, uint64_t *v, const uint8_t **p,
                          size_t *len)
{
    uint64_t n;
    int rc = -EBADMSG;

    *v = 0;
    *p = NULL;
    *len = 0;
    switch (wt) {
    case PROFILE_PB_WT_VARINT:
        rc = profile_pb_read_varint(r, v);
        break;
    case PROFILE_PB_WT_I64:
        rc = read_fixed(r, 8, v);
        break;
    case PROFILE_PB_WT_I32:
        rc = read_fixed(r, 4, v);
        break;
    case PROFILE_PB_WT_LEN:
        rc = profile_pb_read_varint(r, &n);
        if (rc == 0 && n > (uint64_t)(r->end - r->p)) {
            rc = -EBADMSG;
        } else if (rc == 0) {
            *p = r->p;
            *len = (size_t)n;
            r->p += n;
        }
        break;
    default:
        break;
    }
    return rc;
}

int profile_pb_skip(struct profile_pb_reader *r, uint32_t field, uint32_t wt)
{
    uint32_t open[PROFILE_PROTO_MAX_DEPTH] = { 0 };
    size_t depth = 0;
    uint32_t f = field, w = wt;
    const uint8_t *p;
    uint64_t v;
    size_t len;
    int rc = 0;

    for (;;) {
        if (w == PROFILE_PB_WT_SGROUP) {
            if (depth == PROFILE_PROTO_MAX_DEPTH) {
                rc = -EBADMSG;
                break;
            }
            open[depth++] = f;
        } else if (w == PROFILE_PB_WT_EGROUP) {
            if (depth == 0 || open[depth - 1] != f) {
                rc = -EBADMSG; /* an end tag that closes nothing, or the wrong group */
                break;
            }
            depth--;
        } else {
            rc = profile_pb_read_value(r, w, &v, &p, &len);
        }
        if (rc != 0 || depth == 0) {
            break;
        }
        rc = profile_pb_read_tag(r, &f, &w);
        if (rc != 0) {
            break;
        }
    }
    return rc;
}

uint32_t profile_pb_wire_of(uint8_t t)
{
    switch (t) {
    case PROFILE_PB_T_DOUBLE:
    case PROFILE_PB_T_FIXED64:
    case PROFILE_PB_T_SFIXED64:
        return PROFILE_PB_WT_I64;
    case PROFILE_PB_T_FLOAT:
    case PROFILE_PB_T_FIXED32:
    case PROFILE_PB_T_SFIXED32:
        return PROFILE_PB_WT_I32;
    case PROFILE_PB_T_STRING:
    case PROFILE_PB_T_BYTES:
    case PROFILE_PB_T_MESSAGE:
        return PROFILE_PB_WT_LEN;
    case PROFILE_PB_T_GROUP:
        return PROFILE_PB_WT_SGROUP;
    default:
        return PROFILE_PB_WT_VARINT;
    }
}

bool profile_pb_is_packable(uint8_t t)
{
    return t != PROFILE_PB_T_STRING && t != PROFILE_PB_T_BYTES && t != PROFILE_PB_T_MESSAGE &&
           t != PROFILE_PB_T_GROUP;
}

const struct profile_pb_field *profile_pb_field_by_number(const struct profile_pb_msg *m,
                                                          int32_t number)
{
    size_t lo = 0, hi = m->n_fields, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (m->fields[mid].number == number) {
            return &m->fields[mid];
        }
        if (m->fields[mid].number < number) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

bool profile_pb_utf8_ok(const uint8_t *s, size_t n)
{
    size_t i = 0, k, len;
    uint32_t cp;

    while (i < n) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        len = s[i] >= 0xf0 ? 4 : s[i] >= 0xe0 ? 3 : 2;
        if (s[i] < 0xc2 || s[i] > 0xf4 || n - i < len) {
            return false;
        }
        cp = s[i] & (0x3fu >> (len - 1));
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = cp << 6 | (s[i + k] & 0x3fu);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff)) {
            return false;
        }
        i += len;
    }
    return true;
}

/* ---- Java number text -------------------------------------------------------------------------
 */

static bool reads_back(const char *t, double d, bool is_float)
{
    return is_float ? strtof(t, NULL) == (float)d : strtod(t, NULL) == d;
}

/* The digits (no point) and decimal exponent of "%.*e" text; returns the digit count. */
static size_t split_e(const char *t, char digits[24], int *exp10)
{
    size_t n = 0;
    const char *e = strchr(t, 'e');

    for (; *t != '\0' && t != e; t++) {
        if (*t >= '0' && *t <= '9' && n < 23) {
            digits[n++] = *t;
        }
    }
    while (n > 1 && digits[n - 1] == '0') {
        n--;
    }
    digits[n] = '\0';
    *exp10 = e != NULL ? (int)strtol(e + 1, NULL, 10) : 0;
    return n;
}

/* The shortest (then closest) digits that read back as d. */
static size_t shortest_digits(double d, bool is_float, char digits[24], int *exp10)
{
    char t[48];
    int prec, max_prec = is_float ? 9 : 17;

    for (prec = 1; prec < max_prec; prec++) {
        (void)snprintf(t, sizeof(t), "%.*e", prec - 1, d);
        if (reads_back(t, d, is_float)) {
            break;
        }
    }
    if (prec == 1) {
        /* one digit reads back: the two-digit form is at least as close (4.9E-324, not 5.0) */
        char t2[48];
        (void)snprintf(t2, sizeof(t2), "%.1e", d);
        if (reads_back(t2, d, is_float)) {
            memcpy(t, t2, sizeof(t));
        }
    } else if (prec == max_prec) {
        (void)snprintf(t, sizeof(t), "%.*e", prec - 1, d);
    }
    return split_e(t, digits, exp10);
}

size_t profile_pb_java_double(double d, bool is_float, char out[32])
{
    char digits[24];
    size_t n, o = 0, i;
    int e;

    if (d == 0.0) {
        (void)snprintf(out, 32, "%s", signbit(d) ? "-0.0" : "0.0");
        return strlen(out);
    }
    n = shortest_digits(fabs(d), is_float, digits, &e);
    if (d < 0) {
        out[o++] = '-';
    }
    if (e >= 0 && e < 7) {
        for (i = 0; i <= (size_t)e; i++) {
            out[o++] = i < n ? digits[i] : '0';
        }
        out[o++] = '.';
        if (n <= (size_t)e + 1) {
            out[o++] = '0';
        }
        for (i = (size_t)e + 1; i < n; i++) {
            out[o++] = digits[i];
        }
    } else if (e < 0 && e >= -3) {
        out[o++] = '0';
        out[o++] = '.';
        for (i = 0; i < (size_t)(-e - 1); i++) {
            out[o++] = '0';
        }
        memcpy(out + o, digits, n);
        o += n;
    } else {
        out[o++] = digits[0];
        out[o++] = '.';
        memcpy(out + o, n > 1 ? digits + 1 : "0", n > 1 ? n - 1 : 1);
        o += n > 1 ? n - 1 : 1;
        o += (size_t)snprintf(out + o, 32 - o, "E%d", e);
    }
    out[o] = '\0';
    return o;
}

/* ---- writing ----------------------------------------------------------------------------------
 */

void profile_pb_wbuf_put(struct profile_pb_wbuf *w, const void *s, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (w->has_failed || n == 0) {
        return;
    }
    if (n > SIZE_MAX / 2 - w->len) {
        w->has_failed = true;
        return;
    }
    if (w->len + n > w->cap) {
        cap = w->cap < 64 ? 64 : w->cap;
        while (cap < w->len + n) {
            cap *= 2;
        }
        p = realloc(w->p, cap);
        if (p == NULL) {
            w->has_failed = true;
            return;
        }
        w->p = p;
        w->cap = cap;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

void profile_pb_wbuf_varint(struct profile_pb_wbuf *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;

    do {
        b[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        b[n] |= v != 0 ? 0x80 : 0;
        n++;
    } while (v != 0);
    profile_pb_wbuf_put(w, b, n);
}

void profile_pb_wbuf_tag(struct profile_pb_wbuf *w, uint32_t field, uint32_t wt)
{
    profile_pb_wbuf_varint(w, (uint64_t)field << 3 | wt);
}

void profile_pb_wbuf_bytes(struct profile_pb_wbuf *w, uint32_t field, const void *s, size_t n)
{
    profile_pb_wbuf_tag(w, field, PROFILE_PB_WT_LEN);
    profile_pb_wbuf_varint(w, n);
    profile_pb_wbuf_put(w, s, n);
}

void profile_pb_wbuf_fixed64(struct profile_pb_wbuf *w, uint64_t v)
{
    uint8_t b[8];
    size_t i;

    for (i = 0; i < 8; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    profile_pb_wbuf_put(w, b, 8);
}

void profile_pb_wbuf_fixed32(struct profile_pb_wbuf *w, uint32_t v)
{
    uint8_t b[4];
    size_t i;

    for (i = 0; i < 4; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
    profile_pb_wbuf_put(w, b, 4);
}

int profile_pb_wbuf_take(struct profile_pb_wbuf *w, uint8_t **out, size_t *out_len)
{
    int rc = 0;

    *out = NULL;
    *out_len = 0;
    if (w->has_failed) {
        rc = -ENOMEM;
    } else if (w->p == NULL) {
        *out = malloc(1);
        rc = *out == NULL ? -ENOMEM : 0;
    } else {
        *out = w->p;
        *out_len = w->len;
        w->p = NULL;
    }
    free(w->p);
    memset(w, 0, sizeof(*w));
    return rc;
}

/* ---- diagnostics ------------------------------------------------------------------------------
 */

int profile_pb_fail(char *err, size_t err_len, const char *fmt, ...)
{
    char msg[512];
    size_t i, n, limit;
    va_list ap;

    if (err == NULL || err_len == 0) {
        return -EBADMSG;
    }
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    limit = err_len - 1 < DIAG_MAX ? err_len - 1 : DIAG_MAX;
    n = strlen(msg);
    if (n > limit) {
        n = limit;
        while (n > 0 && ((unsigned char)msg[n] & 0xc0) == 0x80) {
            n--; /* do not cut a character in two */
        }
    }
    for (i = 0; i < n; i++) {
        err[i] = (unsigned char)msg[i] < 0x20 || msg[i] == 0x7f ? '?' : msg[i];
    }
    err[n] = '\0';
    return -EBADMSG;
}
