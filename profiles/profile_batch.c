/* SPDX-License-Identifier: MIT */
/*
 * profile_batch.c - records and values, shared by every adaptor: the record batch, ThingsBoard's
 * typing of number text, the rendering of one typed value as JSON for answers to devices, and the
 * small output buffer and string escaper behind them.
 *
 * A batch allocates its cap records once (profile_batch_init), so adding never reallocates and
 * the cap is the hard keys-per-message limit. Each record owns its key and string in the heap.
 *
 * Numbers (specs/coap-device-api.md section 13.2) are typed from their text the way Java's
 * BigDecimal sees it: unscaled digits and a scale (value = digits * 10^-scale). Integral and not a
 * "simple decimal" -> LONG (or the plain digits as STRING beyond 64 bits); else scale <= 16 ->
 * DOUBLE; else the plain decimal as STRING. Plain forms longer than PROFILE_MAX_PLAIN_DIGITS and
 * doubles that overflow are refused.
 *
 * Rendering (specs/coap-device-api.md section 13.2, "Reading values back"): a DOUBLE always shows
 * a decimal point or an exponent, in the shortest form that reads back as the same double; JSON
 * values are already compact text; strings are escaped as ThingsBoard's Gson writer does (control
 * characters, '"', '\', U+2028 and U+2029), everything else verbatim UTF-8.
 */
#include "profiles/profile.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/profile_internal.h"

#define PROFILE_EXP_CAP   1000000000 /* exponents saturate here, far past any plain-form cap */
#define PROFILE_MAX_SCALE 16 /* ThingsBoard: more decimal places than this is not a DOUBLE */

int profile_batch_init(struct profile_batch *batch, size_t cap)
{
    int rc = 0;

    batch->kv = NULL;
    batch->n = 0;
    batch->cap = 0;
    if (cap > 0) {
        batch->kv = calloc(cap, sizeof(*batch->kv));
        if (batch->kv == NULL) {
            rc = -ENOMEM;
            goto out;
        }
    }
    batch->cap = cap;
out:
    return rc;
}

void profile_batch_clear(struct profile_batch *batch)
{
    size_t i;

    for (i = 0; i < batch->n; i++) {
        free(batch->kv[i].key);
        free(batch->kv[i].v.s);
    }
    batch->n = 0;
}

void profile_batch_fini(struct profile_batch *batch)
{
    profile_batch_clear(batch);
    free(batch->kv);
    batch->kv = NULL;
    batch->cap = 0;
}

int profile_batch_add(struct profile_batch *batch, int64_t ts_ms, const char *key, size_t key_len,
                      struct profile_value *v)
{
    struct profile_kv *kv;
    char *k = NULL;
    int rc = 0;

    if (batch->n >= batch->cap) {
        rc = -ERANGE;
        goto out;
    }
    k = malloc(key_len + 1);
    if (k == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(k, key, key_len);
    k[key_len] = '\0';
    kv = &batch->kv[batch->n++];
    kv->ts_ms = ts_ms;
    kv->key = k;
    kv->v = *v;
    v->s = NULL; /* now owned by the batch */
out:
    if (rc != 0) {
        free(v->s);
        v->s = NULL;
    }
    return rc;
}

/* ---- numbers (section 13.2) ------------------------------------------------------------------ */

/* A number as Java's BigDecimal holds it: value = sign * d * 10^-scale. */
struct profile_num {
    bool is_neg;
    bool has_point; /* the text has a '.' */
    bool has_exp;   /* the text has an exponent */
    char *d;        /* unscaled digits without leading zeros ("" for zero), heap */
    size_t d_len;
    int64_t scale;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* ThingsBoard's (commons-lang NumberUtils) "parsable": [-]digits with at most one '.', no '.' last.
 */
static bool is_parsable(const char *s, size_t n)
{
    size_t i = n > 0 && s[0] == '-' ? 1 : 0, n_points = 0;
    bool is_ok = i < n && s[n - 1] != '.';

    for (; is_ok && i < n; i++) {
        if (s[i] == '.') {
            is_ok = ++n_points <= 1;
        } else {
            is_ok = is_digit(s[i]);
        }
    }
    return is_ok;
}

/* Splits valid number text (a JSON lexeme or a parsable string) into digits and scale. */
static int num_parse(const char *t, size_t n, struct profile_num *x)
{
    size_t i = 0, frac = 0;
    int64_t exp = 0;
    bool is_exp_neg = false;
    int rc = 0;

    memset(x, 0, sizeof(*x));
    x->d = malloc(n + 1);
    if (x->d == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    x->is_neg = n > 0 && t[0] == '-';
    for (i = x->is_neg ? 1 : 0; i < n && t[i] != 'e' && t[i] != 'E'; i++) {
        if (t[i] == '.') {
            x->has_point = true;
            continue;
        }
        frac += x->has_point ? 1 : 0;
        if (x->d_len > 0 || t[i] != '0') {
            x->d[x->d_len++] = t[i];
        }
    }
    x->has_exp = i < n;
    for (i++; i < n; i++) {
        if (t[i] == '-' || t[i] == '+') {
            is_exp_neg = t[i] == '-';
        } else if (exp < PROFILE_EXP_CAP) {
            exp = exp * 10 + (t[i] - '0');
        }
    }
    x->d[x->d_len] = '\0';
    x->scale = (int64_t)frac - (is_exp_neg ? -exp : exp);
out:
    return rc;
}

/* True when the value has no fractional part (BigDecimal: stripTrailingZeros().scale() <= 0). */
static bool num_is_integral(const struct profile_num *x)
{
    size_t tz = 0;

    while (tz < x->d_len && x->d[x->d_len - 1 - tz] == '0') {
        tz++;
    }
    return x->d_len == 0 || x->scale - (int64_t)tz <= 0;
}

/* The value truncated towards zero, if that fits in 64 bits. */
static bool num_trunc(const struct profile_num *x, int64_t *out)
{
    uint64_t lim = x->is_neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    uint64_t acc = 0, dg;
    int64_t n_int = x->d_len == 0 ? 0 : (int64_t)x->d_len - x->scale, i;
    bool fits = n_int <= 19;

    for (i = 0; fits && i < n_int; i++) {
        dg = (size_t)i < x->d_len ? (uint64_t)(x->d[i] - '0') : 0;
        fits = acc <= (lim - dg) / 10;
        acc = acc * 10 + dg;
    }
    if (fits) {
        *out = !x->is_neg ? (int64_t)acc : acc > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)acc;
    }
    return fits;
}

/* The nearest double (correctly rounded by strtod; the text has no locale-dependent '.'). */
static int num_to_double(const struct profile_num *x, double *out)
{
    struct profile_buf b;
    char exp[24];
    int n, rc = 0;

    profile_buf_init_heap(&b);
    *out = 0.0; /* also for "-0.0": BigDecimal has no negative zero */
    if (x->d_len == 0) {
        goto out;
    }
    n = snprintf(exp, sizeof(exp), "e%" PRId64, -x->scale);
    profile_buf_put(&b, "-", x->is_neg ? 1 : 0);
    profile_buf_put(&b, x->d, x->d_len);
    profile_buf_put(&b, exp, n > 0 ? (size_t)n : 0);
    if (b.has_failed) {
        rc = -ENOMEM;
        goto out;
    }
    *out = strtod(b.p, NULL);
out:
    profile_buf_fini(&b);
    return rc;
}

/* BigDecimal.toPlainString() as a STRING value; -EINVAL past PROFILE_MAX_PLAIN_DIGITS. */
static int num_to_plain(const struct profile_num *x, struct profile_value *v)
{
    bool is_neg = x->is_neg && x->d_len > 0;
    int64_t d_len = (int64_t)x->d_len, s = x->scale, i;
    int64_t len = (is_neg ? 1 : 0) +
                  (s <= 0 ? (d_len == 0 ? 1 : d_len - s) : (d_len > s ? d_len + 1 : s + 2));
    struct profile_buf b;
    int rc = 0;

    if (len > PROFILE_MAX_PLAIN_DIGITS) {
        rc = -EINVAL;
        goto out;
    }
    profile_buf_init_heap(&b);
    profile_buf_put(&b, "-", is_neg ? 1 : 0);
    if (s <= 0) {
        profile_buf_put(&b, d_len == 0 ? "0" : x->d, d_len == 0 ? 1 : x->d_len);
        for (i = 0; d_len > 0 && i < -s; i++) {
            profile_buf_putc(&b, '0');
        }
    } else if (d_len > s) {
        profile_buf_put(&b, x->d, (size_t)(d_len - s));
        profile_buf_putc(&b, '.');
        profile_buf_put(&b, x->d + (d_len - s), (size_t)s);
    } else {
        profile_buf_put(&b, "0.", 2);
        for (i = 0; i < s - d_len; i++) {
            profile_buf_putc(&b, '0');
        }
        profile_buf_put(&b, x->d, x->d_len);
    }
    v->type = PROFILE_VT_STRING;
    v->s_len = b.len;
    v->s = profile_buf_take(&b);
    rc = v->s == NULL ? -ENOMEM : 0;
out:
    return rc;
}

int profile_number_type(const char *text, size_t len, bool is_string, bool type_cast,
                        struct profile_value *v, enum profile_number_err *why)
{
    struct profile_num x = { 0 };
    bool is_simple;
    double d;
    int rc;

    *why = PROFILE_NUMBER_OK;
    if (is_string && !is_parsable(text, len)) {
        *why = PROFILE_NUMBER_NOT_NUMERIC;
        rc = -EINVAL;
        goto out;
    }
    rc = num_parse(text, len, &x);
    if (rc != 0) {
        goto out;
    }
    is_simple = x.has_point && !x.has_exp;
    if (num_is_integral(&x) && !is_simple) {
        if (num_trunc(&x, &v->l)) {
            v->type = PROFILE_VT_LONG;
        } else if (!type_cast) {
            *why = PROFILE_NUMBER_BIG_INTEGER;
            rc = -EINVAL;
        } else {
            rc = num_to_plain(&x, v);
        }
    } else if (x.scale <= PROFILE_MAX_SCALE) {
        rc = num_to_double(&x, &d);
        if (rc == 0 && !isfinite(d)) {
            rc = -EINVAL;
        } else if (rc == 0) {
            v->type = PROFILE_VT_DOUBLE;
            v->d = d;
        }
    } else if (!type_cast) {
        *why = PROFILE_NUMBER_BIG_SCALE;
        rc = -EINVAL;
    } else {
        rc = num_to_plain(&x, v);
    }
    if (rc == -EINVAL && *why == PROFILE_NUMBER_OK) {
        *why = PROFILE_NUMBER_OUT_OF_RANGE;
    }
out:
    free(x.d);
    return rc;
}

int profile_number_trunc(const char *text, size_t len, int64_t *out)
{
    struct profile_num x = { 0 };
    int rc = num_parse(text, len, &x);

    if (rc == 0 && !num_trunc(&x, out)) {
        rc = -ERANGE;
    }
    free(x.d);
    return rc;
}

int profile_number_to_double(const char *text, size_t len, double *out)
{
    struct profile_num x = { 0 };
    int rc = num_parse(text, len, &x);

    if (rc == 0) {
        rc = num_to_double(&x, out);
    }
    free(x.d);
    return rc;
}

/* ---- output buffer --------------------------------------------------------------------------- */

void profile_buf_init_heap(struct profile_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void profile_buf_init_fixed(struct profile_buf *b, char *p, size_t cap)
{
    memset(b, 0, sizeof(*b));
    b->p = p;
    b->cap = cap;
    b->is_fixed = true;
    if (cap > 0) {
        p[0] = '\0';
    }
}

void profile_buf_fini(struct profile_buf *b)
{
    if (!b->is_fixed) {
        free(b->p);
    }
    memset(b, 0, sizeof(*b));
}

/* Makes room for n more bytes plus the NUL in a heap buffer; false when memory runs out. */
static bool buf_reserve(struct profile_buf *b, size_t n)
{
    size_t want = b->len + n + 1;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    bool is_ok = true;
    char *p;

    if (want <= b->len) {
        is_ok = false; /* size_t overflow */
    } else if (want > b->cap) {
        while (cap < want) {
            cap = cap > SIZE_MAX / 2 ? want : cap * 2;
        }
        p = realloc(b->p, cap);
        if (p == NULL) {
            is_ok = false;
        } else {
            b->p = p;
            b->cap = cap;
        }
    }
    return is_ok;
}

/* Fixed buffer: stores what fits (keeping room for the NUL) and counts the rest. */
static void buf_put_fixed(struct profile_buf *b, const char *s, size_t n)
{
    size_t room = b->len + 1 < b->cap ? b->cap - 1 - b->len : 0;
    size_t k = n < room ? n : room;

    if (k > 0) {
        memcpy(b->p + b->len, s, k);
        b->p[b->len + k] = '\0';
    }
    b->len += n;
}

void profile_buf_put(struct profile_buf *b, const char *s, size_t n)
{
    if (b->has_failed || n == 0) {
        /* nothing to do */
    } else if (b->is_fixed) {
        buf_put_fixed(b, s, n);
    } else if (!buf_reserve(b, n)) {
        b->has_failed = true;
    } else {
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
    }
}

void profile_buf_putc(struct profile_buf *b, char c)
{
    profile_buf_put(b, &c, 1);
}

char *profile_buf_take(struct profile_buf *b)
{
    char *p = NULL;

    assert(!b->is_fixed);
    if (!b->has_failed) {
        if (b->p == NULL) {
            p = calloc(1, 1);
        } else {
            p = b->p;
            b->p = NULL;
        }
    }
    profile_buf_fini(b);
    return p;
}

/*
 * The escape for the character at s (n bytes left), or 0 when it is written verbatim. *used is
 * the number of input bytes the escape stands for.
 */
static size_t json_escape_at(const unsigned char *s, size_t n, char esc[6], size_t *used)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char c = s[0];
    size_t len = 2;

    *used = 1;
    esc[0] = '\\';
    switch (c) {
    case '"':
    case '\\':
        esc[1] = (char)c;
        break;
    case '\b':
        esc[1] = 'b';
        break;
    case '\f':
        esc[1] = 'f';
        break;
    case '\n':
        esc[1] = 'n';
        break;
    case '\r':
        esc[1] = 'r';
        break;
    case '\t':
        esc[1] = 't';
        break;
    default:
        len = 0;
        if (c < 0x20) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 0xf];
            len = 6;
        } else if (c == 0xe2 && n >= 3 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) {
            /* U+2028 and U+2029 end lines in JavaScript; ThingsBoard's writer escapes them too */
            memcpy(esc, s[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            *used = 3;
            len = 6;
        }
        break;
    }
    return len;
}

void profile_buf_put_json_string(struct profile_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0, used, esc_len;
    char esc[6];

    profile_buf_putc(b, '"');
    while (i < n) {
        esc_len = json_escape_at(u + i, n - i, esc, &used);
        if (esc_len == 0) {
            run++;
            i++;
            continue;
        }
        profile_buf_put(b, s + i - run, run);
        profile_buf_put(b, esc, esc_len);
        run = 0;
        i += used;
    }
    profile_buf_put(b, s + n - run, run);
    profile_buf_putc(b, '"');
}

/* ---- rendering ------------------------------------------------------------------------------- */

/*
 * The shortest of %.15g, %.16g and %.17g that reads back as d, with ".0" added when it shows
 * neither a decimal point nor an exponent. A locale's decimal separator is turned into '.'.
 * %.17g always reads back, and it fits tmp ("-1.2345678901234567e-308" is 24 bytes).
 */
static void put_double(struct profile_buf *b, double d)
{
    char tmp[48];
    int prec, n = 0;
    size_t i;
    bool has_point = false;

    if (!isfinite(d)) {
        d = 0.0; /* cannot happen (DOUBLE is finite); keep the output valid JSON anyway */
    }
    for (prec = 15; prec <= 17; prec++) {
        n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (n > 0 && (size_t)n < sizeof(tmp) && strtod(tmp, NULL) == d) {
            break;
        }
    }
    if (n <= 0 || (size_t)n >= sizeof(tmp)) {
        n = 0;
    }
    for (i = 0; i < (size_t)n; i++) {
        char c = tmp[i];
        if (c == 'e') {
            has_point = true;
        } else if (!(c >= '0' && c <= '9') && c != '-' && c != '+') {
            tmp[i] = '.';
            has_point = true;
        }
    }
    profile_buf_put(b, tmp, (size_t)n);
    if (!has_point) {
        profile_buf_put(b, ".0", 2);
    }
}

size_t profile_value_to_json(const struct profile_value *v, char *buf, size_t buf_len)
{
    struct profile_buf b;
    char num[24];
    int n;

    profile_buf_init_fixed(&b, buf, buf_len);
    switch (v->type) {
    case PROFILE_VT_BOOLEAN:
        profile_buf_put(&b, v->b ? "true" : "false", v->b ? 4 : 5);
        break;
    case PROFILE_VT_LONG:
        n = snprintf(num, sizeof(num), "%" PRId64, v->l);
        profile_buf_put(&b, num, n > 0 ? (size_t)n : 0);
        break;
    case PROFILE_VT_DOUBLE:
        put_double(&b, v->d);
        break;
    case PROFILE_VT_STRING:
        profile_buf_put_json_string(&b, v->s != NULL ? v->s : "", v->s != NULL ? v->s_len : 0);
        break;
    case PROFILE_VT_JSON:
        profile_buf_put(&b, v->s != NULL ? v->s : "null", v->s != NULL ? v->s_len : 4);
        break;
    default:
        profile_buf_put(&b, "null", 4);
        break;
    }
    return b.len;
}
