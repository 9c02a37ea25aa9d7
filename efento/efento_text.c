/* SPDX-License-Identifier: MIT */
/*
 * efento_text.c - text helpers of the Efento codec: error messages, UTF-8 validation, hex
 * serials, the two date formats ThingsBoard uses (7.2 "YYYY-MM-DD hh:mm:ss UTC" and 7.9
 * SimpleDateFormat "dd MMM yyyy HH:mm:ss Z", always UTC and English here, R4), base64, the
 * protobuf JSON name rule, JSON string escaping, and 7.11's conversion rules (type-cast of
 * digit-only strings, integral doubles >= 1e7 stored as LONG).
 * Dates are computed with a proleptic Gregorian day count, not libc, so no time zone or locale
 * can leak in.
 */
#include "efento/efento_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char MONTHS[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void efento_errf(char *err, size_t err_len, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err_len == 0) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
}

/* Length of the UTF-8 sequence at p (n bytes left), or 0 when it is invalid. */
static size_t utf8_seq(const uint8_t *p, size_t n)
{
    uint32_t c;
    size_t len, i;

    if (p[0] < 0x80u) {
        return 1;
    }
    if (p[0] >= 0xc2u && p[0] <= 0xdfu) {
        len = 2;
        c = p[0] & 0x1fu;
    } else if (p[0] >= 0xe0u && p[0] <= 0xefu) {
        len = 3;
        c = p[0] & 0x0fu;
    } else if (p[0] >= 0xf0u && p[0] <= 0xf4u) {
        len = 4;
        c = p[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0u) != 0x80u) {
            return 0;
        }
        c = (c << 6) | (p[i] & 0x3fu);
    }
    if ((len == 3 && c < 0x800u) || (len == 4 && (c < 0x10000u || c > 0x10ffffu)) ||
        (c >= 0xd800u && c <= 0xdfffu)) {
        return 0;
    }
    return len;
}

bool efento_utf8_is_valid(const uint8_t *p, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        k = utf8_seq(p + i, n - i);
        if (k == 0) {
            return false;
        }
        i += k;
    }
    return true;
}

void efento_hex_upper(const uint8_t *p, size_t n, char *out, size_t out_len)
{
    static const char HEX[] = "0123456789ABCDEF";
    size_t i, o = 0;

    if (out_len == 0) {
        return;
    }
    for (i = 0; i < n && o + 2 < out_len; i++) {
        out[o++] = HEX[p[i] >> 4];
        out[o++] = HEX[p[i] & 0x0fu];
    }
    out[o] = '\0';
}

struct civil {
    int64_t year;
    unsigned month; /* 1..12 */
    unsigned day;   /* 1..31 */
    unsigned hour, min, sec;
};

/* Split epoch seconds into a UTC civil date (days-to-civil, Gregorian, era based). */
static void civil_from_epoch(int64_t s, struct civil *c)
{
    int64_t days = s / 86400, rem = s % 86400, era, y;
    unsigned doe, yoe, doy, mp;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    days += 719468;
    era = (days >= 0 ? days : days - 146096) / 146097;
    doe = (unsigned)(days - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = (int64_t)yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    c->day = doy - (153 * mp + 2) / 5 + 1;
    c->month = mp < 10 ? mp + 3 : mp - 9;
    c->year = y + (c->month <= 2 ? 1 : 0);
    c->hour = (unsigned)(rem / 3600);
    c->min = (unsigned)(rem % 3600 / 60);
    c->sec = (unsigned)(rem % 60);
}

void efento_fmt_utc(int64_t epoch_s, char *out, size_t out_len)
{
    struct civil c;

    civil_from_epoch(epoch_s, &c);
    (void)snprintf(out, out_len, "%04lld-%02u-%02u %02u:%02u:%02u UTC", (long long)c.year, c.month,
                   c.day, c.hour, c.min, c.sec);
}

void efento_fmt_date(uint32_t epoch_s, char *out, size_t out_len)
{
    struct civil c;

    if (epoch_s == UINT32_MAX) {
        (void)snprintf(out, out_len, "Undefined");
        return;
    }
    civil_from_epoch((int64_t)epoch_s, &c);
    (void)snprintf(out, out_len, "%02u %s %04lld %02u:%02u:%02u +0000", c.day, MONTHS[c.month - 1],
                   (long long)c.year, c.hour, c.min, c.sec);
}

size_t efento_base64_encode(const uint8_t *p, size_t n, char *out, size_t out_len)
{
    size_t i, o = 0;
    uint32_t v;

    if (out_len < (n + 2) / 3 * 4 + 1) {
        return 0;
    }
    for (i = 0; i + 2 < n; i += 3) {
        v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63u];
        out[o++] = B64[(v >> 6) & 63u];
        out[o++] = B64[v & 63u];
    }
    if (i < n) {
        v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0u);
        out[o++] = B64[v >> 18];
        out[o++] = B64[(v >> 12) & 63u];
        out[o++] = i + 1 < n ? B64[(v >> 6) & 63u] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

static int b64_val(char c)
{
    const char *q = c != '\0' ? strchr(B64, c) : NULL;

    return q != NULL ? (int)(q - B64) : -1;
}

int efento_base64_decode(const char *s, uint8_t *out, size_t cap, size_t *n_out)
{
    size_t len = strlen(s), i, o = 0, pad = 0;
    int v[4], k;

    *n_out = 0;
    if (len % 4 != 0) {
        return -EINVAL;
    }
    if (len > 0 && s[len - 1] == '=') {
        pad = (len > 1 && s[len - 2] == '=') ? 2 : 1;
    }
    if (len / 4 * 3 - pad > cap) {
        return -ERANGE;
    }
    for (i = 0; i < len; i += 4) {
        for (k = 0; k < 4; k++) {
            bool is_pad = i + 4 == len && (size_t)k >= 4 - pad;
            v[k] = is_pad ? 0 : b64_val(s[i + (size_t)k]);
            if (v[k] < 0) {
                return -EINVAL;
            }
        }
        out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
        if (i + 4 < len || pad < 2) {
            out[o++] = (uint8_t)((v[1] & 15) << 4 | v[2] >> 2);
        }
        if (i + 4 < len || pad < 1) {
            out[o++] = (uint8_t)((v[2] & 3) << 6 | v[3]);
        }
    }
    *n_out = o;
    return 0;
}

/* Apache Commons NumberUtils.isParsable, ASCII digits: [-]digits with at most one '.'. */
static bool is_parsable(const char *s, bool *has_dot)
{
    size_t len = strlen(s), i = s[0] == '-' ? 1u : 0u;

    *has_dot = false;
    if (len == 0 || s[len - 1] == '.' || (i == 1 && len == 1)) {
        return false;
    }
    for (; i < len; i++) {
        if (s[i] == '.') {
            if (*has_dot) {
                return false;
            }
            *has_dot = true;
        } else if (s[i] < '0' || s[i] > '9') {
            return false;
        }
    }
    return true;
}

enum efento_type efento_cast_string(const char *s, int64_t *l, double *d)
{
    bool has_dot;
    long long v;
    char *end = NULL;

    if (!is_parsable(s, &has_dot)) {
        return EFENTO_STRING;
    }
    errno = 0;
    if (has_dot) {
        *d = strtod(s, &end);
        return EFENTO_DOUBLE;
    }
    v = strtoll(s, &end, 10);
    if (errno == ERANGE || end == s || *end != '\0') {
        return EFENTO_STRING; /* beyond 64 bits: stays a string (7.11) */
    }
    *l = (int64_t)v;
    return EFENTO_LONG;
}

void efento_camel(const char *snake, char *out, size_t out_len)
{
    size_t o = 0;
    bool is_up = false;

    for (; *snake != '\0' && o + 1 < out_len; snake++) {
        if (*snake == '_') {
            is_up = true;
            continue;
        }
        out[o++] = is_up && *snake >= 'a' && *snake <= 'z' ? (char)(*snake - 'a' + 'A') : *snake;
        is_up = false;
    }
    if (out_len > 0) {
        out[o] = '\0';
    }
}

const char *efento_enum_name(const ProtobufCEnumDescriptor *ed, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(ed, v);

    return ev != NULL ? ev->name : NULL;
}

void efento_sb_init(struct efento_sb *sb, char *buf, size_t cap)
{
    sb->buf = buf;
    sb->cap = cap;
    sb->len = 0;
    sb->is_overflow = buf == NULL || cap == 0;
}

void efento_sb_putc(struct efento_sb *sb, char c)
{
    if (sb->is_overflow || sb->len + 1 >= sb->cap) {
        sb->is_overflow = true;
        return;
    }
    sb->buf[sb->len++] = c;
}

void efento_sb_puts(struct efento_sb *sb, const char *s)
{
    for (; *s != '\0'; s++) {
        efento_sb_putc(sb, *s);
    }
}

void efento_sb_printf(struct efento_sb *sb, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        sb->is_overflow = true;
        return;
    }
    efento_sb_puts(sb, tmp);
}

void efento_sb_json_string(struct efento_sb *sb, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i;

    efento_sb_putc(sb, '"');
    for (i = 0; i < n; i++) {
        switch (p[i]) {
        case '"':
            efento_sb_puts(sb, "\\\"");
            break;
        case '\\':
            efento_sb_puts(sb, "\\\\");
            break;
        case '\n':
            efento_sb_puts(sb, "\\n");
            break;
        case '\r':
            efento_sb_puts(sb, "\\r");
            break;
        case '\t':
            efento_sb_puts(sb, "\\t");
            break;
        case '\b':
            efento_sb_puts(sb, "\\b");
            break;
        case '\f':
            efento_sb_puts(sb, "\\f");
            break;
        default:
            if (p[i] < 0x20u) {
                efento_sb_printf(sb, "\\u%04x", p[i]);
            } else if (i + 2 < n && p[i] == 0xe2u && p[i + 1] == 0x80u &&
                       (p[i + 2] == 0xa8u || p[i + 2] == 0xa9u)) {
                efento_sb_printf(sb, "\\u%04x", 0x2000u + (p[i + 2] - 0x80u));
                i += 2;
            } else {
                efento_sb_putc(sb, (char)p[i]);
            }
        }
    }
    efento_sb_putc(sb, '"');
}

const char *efento_sb_finish(struct efento_sb *sb, size_t start)
{
    if (sb->is_overflow || sb->len >= sb->cap) {
        sb->is_overflow = true;
        return NULL;
    }
    sb->buf[sb->len++] = '\0';
    return sb->buf + start;
}

void efento_reading_set_str(struct efento_reading *r, const char *s, bool is_cast)
{
    int64_t l = 0;
    double d = 0;
    enum efento_type t = is_cast ? efento_cast_string(s, &l, &d) : EFENTO_STRING;

    r->type = t;
    if (t == EFENTO_LONG) {
        r->v.l = l;
    } else if (t == EFENTO_DOUBLE) {
        r->v.d = d; /* a string with a '.' stays DOUBLE, unlike printed numbers (7.11) */
    } else {
        (void)snprintf(r->v.s, sizeof(r->v.s), "%s", s);
    }
}

void efento_reading_set_double(struct efento_reading *r, double d)
{
    bool is_big = (d >= 1e7 && d < 9.2e18) || (d <= -1e7 && d > -9.2e18);

    if (is_big && d == (double)(int64_t)d) {
        r->type = EFENTO_LONG;
        r->v.l = (int64_t)d;
        return;
    }
    r->type = EFENTO_DOUBLE;
    r->v.d = d;
}
