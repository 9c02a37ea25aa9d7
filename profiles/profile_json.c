/* SPDX-License-Identifier: MIT */
/*
 * profile_json.c - the Default-JSON adaptor: ThingsBoard telemetry and client-attribute payloads to
 * typed records (specs/coap-device-api.md sections 5.1, 6.1, 13 and 18). Called by the gateway's
 * CoAP handlers for profiles with the JSON payload type.
 *
 * Wire format: one RFC 8259 JSON text, parsed strictly by jansson. Telemetry is {k:v,..},
 * {"ts":T,"values":{k:v,..}} or an array mixing both; attributes are {k:v,..}.
 *
 * ThingsBoard types a number by its text (digits, scale, exponent), which jansson does not keep,
 * and jansson even refuses integers beyond 64 bits and reals beyond a double. So:
 *   1. A pre-scan, a lexer that follows jansson's, records every number token (its lexeme) in
 *      document order and writes a copy of the payload where each number is the JSON string
 *      "\u0000<index>". It also notes the payload's own first NUL, escaped or raw.
 *   2. The copy is parsed with JSON_ALLOW_NUL. If that succeeds and the payload has no NUL of
 *      its own, the payload is valid JSON: a number is a value wherever a string is, except as a
 *      key, and a placeholder key has a NUL, which jansson refuses.
 *   3. Otherwise the payload itself is parsed for the diagnostic, with each number that jansson
 *      would call an overflow replaced by a zero of the same length, so line, column and text
 *      are jansson's own. A NUL before the syntax error wins ("NUL characters are not
 *      supported").
 *
 * The tree is then walked; members are typed as in section 13.2 (numbers from their lexemes by
 * profile_number_type() in profile_batch.c). Records go straight into the caller's batch, which
 * is cleared again on any error.
 */
#include "profiles/profile.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "profiles/profile_internal.h"

#define PJ_NONE      SIZE_MAX
#define PJ_DIAG_MAX  200 /* R3: a diagnostic is one line of at most 200 bytes */
#define PJ_KEY_SHOWN 64  /* bytes of a key quoted in a diagnostic */

/* A number token of the payload: data[off, off + len). */
struct pj_lexeme {
    size_t off;
    size_t len;
};

/* One decoding call. */
struct pj_ctx {
    const char *data;        /* the payload, borrowed */
    size_t len;              /* its bytes */
    struct pj_lexeme *lex;   /* number tokens in document order */
    size_t n_lex;            /* used entries of lex */
    size_t cap_lex;          /* allocated entries of lex */
    size_t nul_pos;          /* offset of the payload's first NUL (escaped or raw), or PJ_NONE */
    struct profile_buf text; /* the payload with numbers replaced by placeholders */
    const struct profile_limits *lim;
    struct profile_batch *out;
    size_t n_added; /* records this call added to out */
    char *err;      /* diagnostic for -EBADMSG, borrowed */
    size_t err_len; /* bytes at err */
};

/* ---- diagnostics ----------------------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Length of the well-formed UTF-8 sequence at s, 0 when it is not one. */
static size_t utf8_seq_len(const unsigned char *s)
{
    size_t n = 0, i;

    if (s[0] < 0x80) {
        n = 1;
    } else if (s[0] >= 0xc2 && s[0] <= 0xf4) {
        n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
        for (i = 1; i < n; i++) {
            if ((s[i] & 0xc0) != 0x80) {
                n = 0;
                break;
            }
        }
    }
    return n;
}

/*
 * Copies src to the caller's err as one line of valid UTF-8 of at most PJ_DIAG_MAX bytes: control
 * characters and broken sequences become '?', and a character that does not fit ends the text.
 */
static void diag_copy(char *dst, size_t dst_len, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t limit = dst_len > 0 && dst_len - 1 < PJ_DIAG_MAX ? dst_len - 1 : PJ_DIAG_MAX;
    size_t i = 0, o = 0, n;

    if (dst == NULL || dst_len == 0) {
        limit = 0;
    }
    while (limit > 0 && s[i] != '\0' && o < limit) {
        n = utf8_seq_len(s + i);
        if (n <= 1) {
            dst[o++] = (s[i] < 0x20 || s[i] == 0x7f || n == 0) ? '?' : (char)s[i];
            i++;
        } else if (o + n > limit) {
            break;
        } else {
            memcpy(dst + o, s + i, n);
            o += n;
            i += n;
        }
    }
    if (dst != NULL && dst_len > 0) {
        dst[o] = '\0';
    }
}

/* Sets the diagnostic and returns -EBADMSG. */
__attribute__((format(printf, 2, 3))) static int pj_fail(struct pj_ctx *ctx, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    diag_copy(ctx->err, ctx->err_len, msg);
    return -EBADMSG;
}

/* A key shortened for a diagnostic: at most PJ_KEY_SHOWN bytes, cut between characters. */
static void key_for_diag(const char *key, size_t key_len, char out[PJ_KEY_SHOWN + 4])
{
    size_t n = key_len;

    if (n > PJ_KEY_SHOWN) {
        n = PJ_KEY_SHOWN;
        while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    memcpy(out, key, n);
    memcpy(out + n, n < key_len ? "..." : "", n < key_len ? 4 : 1);
}

/* The diagnostic for a member value that cannot be typed. */
static int fail_value(struct pj_ctx *ctx, const char *key, size_t key_len,
                      enum profile_number_err why)
{
    static const char *const what[] = {
        [PROFILE_NUMBER_BIG_INTEGER] = "is an integer outside 64 bits",
        [PROFILE_NUMBER_BIG_SCALE] = "has more than 16 decimal places",
        [PROFILE_NUMBER_OUT_OF_RANGE] = "is a number out of range",
    };
    char shown[PJ_KEY_SHOWN + 4];

    assert(why >= PROFILE_NUMBER_BIG_INTEGER && why <= PROFILE_NUMBER_OUT_OF_RANGE);
    key_for_diag(key, key_len, shown);
    return pj_fail(ctx, "value of \"%s\" %s", shown, what[why]);
}

/* ---- ts -------------------------------------------------------------------------------------- */

/* A string of decimal digits with an optional sign that fits in 64 bits (a string "ts"). */
static int parse_i64_text(const char *s, size_t n, int64_t *out)
{
    size_t i = n > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0;
    bool is_neg = n > 0 && s[0] == '-';
    uint64_t lim = is_neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX, acc = 0, dg;
    bool is_ok = i < n;

    for (; is_ok && i < n; i++) {
        dg = (uint64_t)(s[i] - '0');
        is_ok = is_digit(s[i]) && acc <= (lim - dg) / 10;
        acc = acc * 10 + dg;
    }
    if (is_ok) {
        *out = !is_neg ? (int64_t)acc : acc > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)acc;
    }
    return is_ok ? 0 : -ERANGE;
}

/* ---- pre-scan -------------------------------------------------------------------------------- */

/* Length of the number token at p as jansson lexes it, 0 when jansson calls it invalid. */
static size_t number_len(const char *p, size_t n)
{
    size_t i = n > 0 && p[0] == '-' ? 1 : 0;
    bool is_ok = i < n && is_digit(p[i]);

    if (is_ok && p[i] == '0') {
        i++;
        is_ok = !(i < n && is_digit(p[i])); /* no leading zeros */
    }
    while (is_ok && i < n && is_digit(p[i])) {
        i++;
    }
    if (is_ok && i < n && p[i] == '.') {
        i++;
        is_ok = i < n && is_digit(p[i]);
        while (is_ok && i < n && is_digit(p[i])) {
            i++;
        }
    }
    if (is_ok && i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        i += i < n && (p[i] == '+' || p[i] == '-') ? 1 : 0;
        is_ok = i < n && is_digit(p[i]);
        while (is_ok && i < n && is_digit(p[i])) {
            i++;
        }
    }
    return is_ok ? i : 0;
}

/* Skips the string starting at the quote at i; returns the offset after its closing quote. */
static size_t scan_string(struct pj_ctx *ctx, size_t i)
{
    const char *p = ctx->data;
    size_t j = i + 1;
    bool is_closed = false;

    while (!is_closed && j < ctx->len) {
        if (p[j] == '"') {
            is_closed = true;
        } else if (p[j] == '\\') {
            if (j < ctx->nul_pos && ctx->len - j >= 6 && memcmp(p + j + 1, "u0000", 5) == 0) {
                ctx->nul_pos = j;
            }
            j++; /* the escaped character cannot close the string */
        }
        j++;
    }
    return j < ctx->len ? j : ctx->len;
}

/* Records the number token at off and writes its placeholder. */
static int scan_number(struct pj_ctx *ctx, size_t off, size_t len)
{
    struct pj_lexeme *lex;
    size_t cap;
    char ph[32];
    int n, rc = 0;

    if (ctx->n_lex == ctx->cap_lex) {
        cap = ctx->cap_lex == 0 ? 32 : ctx->cap_lex * 2;
        lex = realloc(ctx->lex, cap * sizeof(*lex));
        if (lex == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        ctx->lex = lex;
        ctx->cap_lex = cap;
    }
    ctx->lex[ctx->n_lex].off = off;
    ctx->lex[ctx->n_lex].len = len;
    n = snprintf(ph, sizeof(ph), "\"\\u0000%zu\"", ctx->n_lex);
    assert(n > 0 && (size_t)n < sizeof(ph));
    profile_buf_put(&ctx->text, ph, (size_t)n);
    ctx->n_lex++;
out:
    return rc;
}

/*
 * Step 1: records the lexemes and the first NUL (a \u0000 escape or a raw NUL byte, which jansson
 * skips after a number or a literal), and writes the placeholder text.
 */
static int pj_scan(struct pj_ctx *ctx)
{
    const char *p = ctx->data;
    const char *raw_nul = memchr(p, '\0', ctx->len);
    size_t i = 0, j, n;
    int rc = 0;

    ctx->nul_pos = raw_nul != NULL ? (size_t)(raw_nul - p) : PJ_NONE;
    while (rc == 0 && i < ctx->len) {
        n = p[i] == '-' || is_digit(p[i]) ? number_len(p + i, ctx->len - i) : 0;
        if (n > 0) {
            rc = scan_number(ctx, i, n);
            i += n;
            continue;
        }
        if (p[i] == '"') {
            j = scan_string(ctx, i);
        } else if (p[i] == '-' || is_digit(p[i])) {
            j = ctx->len; /* jansson stops at this bad number: copy the rest as it is */
        } else {
            j = i + 1;
            while (j < ctx->len && p[j] != '"' && p[j] != '-' && !is_digit(p[j])) {
                j++;
            }
        }
        profile_buf_put(&ctx->text, p + i, j - i);
        i = j;
    }
    if (rc == 0 && ctx->text.has_failed) {
        rc = -ENOMEM;
    }
    return rc;
}

/* The index in a placeholder string "\0<digits>". */
static size_t placeholder_index(const char *s, size_t n)
{
    size_t i, idx = 0;

    for (i = 1; i < n; i++) {
        idx = idx * 10 + (size_t)(s[i] - '0');
    }
    return idx;
}

/* ---- diagnosing a payload that is not valid JSON --------------------------------------------- */

/* True when jansson refuses the lexeme as too big (an int64 or double overflow). */
static int lexeme_overflows(const char *t, size_t n, bool *overflows)
{
    bool is_integer =
        memchr(t, '.', n) == NULL && memchr(t, 'e', n) == NULL && memchr(t, 'E', n) == NULL;
    int64_t l;
    double d = 0.0;
    int rc;

    if (is_integer) {
        rc = profile_number_trunc(t, n, &l);
        *overflows = rc == -ERANGE;
        rc = rc == -ERANGE ? 0 : rc;
    } else {
        rc = profile_number_to_double(t, n, &d);
        *overflows = isinf(d);
    }
    return rc;
}

/*
 * Overwrites a number token with a zero of the same length and the same edges, so that jansson
 * splits the text into the same tokens: the sign stays, and an exponent stays an exponent (in
 * "1e400e" the second 'e' ends the number; in "0.000e" it would start an exponent).
 */
static void patch_number(char *t, size_t len)
{
    bool has_exp = memchr(t, 'e', len) != NULL || memchr(t, 'E', len) != NULL;
    size_t i = t[0] == '-' ? 1 : 0;

    assert(len >= i + 3); /* the shortest overflow is 2e308 */
    memset(t + i, '0', len - i);
    t[i + 1] = has_exp ? 'e' : '.';
}

/* A copy of the payload (or NULL if not needed) with overflowing numbers made zero. */
static int patch_overflows(const struct pj_ctx *ctx, char **patched)
{
    const struct pj_lexeme *lx;
    bool overflows = false;
    size_t i;
    int rc = 0;

    *patched = NULL;
    for (i = 0; rc == 0 && i < ctx->n_lex; i++) {
        lx = &ctx->lex[i];
        rc = lexeme_overflows(ctx->data + lx->off, lx->len, &overflows);
        if (rc != 0 || !overflows) {
            continue;
        }
        if (*patched == NULL) {
            *patched = malloc(ctx->len);
            if (*patched == NULL) {
                rc = -ENOMEM;
                break;
            }
            memcpy(*patched, ctx->data, ctx->len);
        }
        patch_number(*patched + lx->off, lx->len);
    }
    return rc;
}

/* When jansson quotes a patched number ("near '0.000'"), puts the payload's text back. */
static void restore_near(const struct pj_ctx *ctx, const char *patched, const json_error_t *jerr,
                         char *msg, size_t msg_len)
{
    const struct pj_lexeme *lx;
    size_t i, text_len = strlen(jerr->text);

    (void)snprintf(msg, msg_len, "%s", jerr->text);
    for (i = 0; patched != NULL && i < ctx->n_lex; i++) {
        lx = &ctx->lex[i];
        if (lx->off + lx->len != (size_t)jerr->position || text_len < lx->len + 1 ||
            msg[text_len - 1] != '\'' ||
            memcmp(patched + lx->off, ctx->data + lx->off, lx->len) == 0 ||
            memcmp(msg + text_len - lx->len - 1, patched + lx->off, lx->len) != 0) {
            continue;
        }
        memcpy(msg + text_len - lx->len - 1, ctx->data + lx->off, lx->len);
    }
}

/* Step 3: the diagnostic for a payload whose placeholder text did not parse, or has NUL. */
static int diagnose(struct pj_ctx *ctx)
{
    char msg[JSON_ERROR_TEXT_LENGTH];
    json_error_t jerr;
    json_t *root = NULL;
    char *patched = NULL;
    int rc = patch_overflows(ctx, &patched);

    if (rc != 0) {
        goto out;
    }
    root = json_loadb(patched != NULL ? patched : ctx->data, ctx->len,
                      JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (root == NULL && json_error_code(&jerr) == json_error_out_of_memory) {
        rc = -ENOMEM;
    } else if (ctx->nul_pos != PJ_NONE &&
               (root != NULL || jerr.position < 0 || ctx->nul_pos < (size_t)jerr.position)) {
        rc = pj_fail(ctx, "NUL characters are not supported");
    } else if (root != NULL) {
        rc = pj_fail(ctx, "invalid JSON"); /* not expected: the placeholder text failed */
    } else {
        restore_near(ctx, patched, &jerr, msg, sizeof(msg));
        rc = pj_fail(ctx, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, msg);
    }
out:
    json_decref(root);
    free(patched);
    return rc;
}

/* ---- from the tree to records ---------------------------------------------------------------- */

static bool is_placeholder(const json_t *j)
{
    return json_is_string(j) && json_string_length(j) > 1 && json_string_value(j)[0] == '\0';
}

static const struct pj_lexeme *lexeme_of(const struct pj_ctx *ctx, const json_t *j)
{
    size_t idx = placeholder_index(json_string_value(j), json_string_length(j));

    assert(idx < ctx->n_lex);
    return &ctx->lex[idx];
}

/* Compact JSON: member order as received, numbers with their original text. */
static void put_json(const struct pj_ctx *ctx, struct profile_buf *b, json_t *j)
{
    const struct pj_lexeme *lx;
    const char *key;
    size_t key_len, i;
    bool is_first = true;
    json_t *val;

    if (json_is_object(j)) {
        profile_buf_putc(b, '{');
        json_object_keylen_foreach(j, key, key_len, val)
        {
            profile_buf_put(b, ",", is_first ? 0 : 1);
            is_first = false;
            profile_buf_put_json_string(b, key, key_len);
            profile_buf_putc(b, ':');
            put_json(ctx, b, val);
        }
        profile_buf_putc(b, '}');
    } else if (json_is_array(j)) {
        profile_buf_putc(b, '[');
        json_array_foreach(j, i, val)
        {
            profile_buf_put(b, ",", i == 0 ? 0 : 1);
            put_json(ctx, b, val);
        }
        profile_buf_putc(b, ']');
    } else if (is_placeholder(j)) {
        lx = lexeme_of(ctx, j);
        profile_buf_put(b, ctx->data + lx->off, lx->len);
    } else if (json_is_string(j)) {
        profile_buf_put_json_string(b, json_string_value(j), json_string_length(j));
    } else {
        assert(json_is_boolean(j) || json_is_null(j)); /* numbers are placeholders */
        profile_buf_put(b,
                        json_is_true(j)    ? "true"
                        : json_is_false(j) ? "false"
                                           : "null",
                        json_is_false(j) ? 5 : 4);
    }
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t i, chars = 0;

    for (i = 0; i < n; i++) {
        chars += ((unsigned char)s[i] & 0xc0) != 0x80 ? 1 : 0;
    }
    return chars;
}

/* A string member: a number placeholder, or a real string (length limit, then type casting). */
static int type_string(struct pj_ctx *ctx, const char *key, size_t key_len, const json_t *j,
                       struct profile_value *v)
{
    const char *s = json_string_value(j);
    size_t n = json_string_length(j);
    const struct pj_lexeme *lx;
    enum profile_number_err why;
    char shown[PJ_KEY_SHOWN + 4];
    int rc = -EINVAL;

    if (is_placeholder(j)) {
        lx = lexeme_of(ctx, j);
        rc = profile_number_type(ctx->data + lx->off, lx->len, false, ctx->lim->type_cast, v, &why);
        rc = rc == -EINVAL ? fail_value(ctx, key, key_len, why) : rc;
        goto out;
    }
    if (ctx->lim->max_string_len > 0 && utf8_chars(s, n) > ctx->lim->max_string_len) {
        key_for_diag(key, key_len, shown);
        rc = pj_fail(ctx, "value of \"%s\" longer than %zu characters", shown,
                     ctx->lim->max_string_len);
        goto out;
    }
    if (ctx->lim->type_cast) {
        /* a string that does not make a finite number stays a string */
        rc = profile_number_type(s, n, true, true, v, &why);
    }
    if (rc == -EINVAL) {
        v->type = PROFILE_VT_STRING;
        v->s = malloc(n + 1);
        rc = v->s == NULL ? -ENOMEM : 0;
        if (v->s != NULL) {
            memcpy(v->s, s, n);
            v->s[n] = '\0';
            v->s_len = n;
        }
    }
out:
    return rc;
}

/* One member of a group: typed and appended, or skipped when null. */
static int add_member(struct pj_ctx *ctx, int64_t ts_ms, const char *key, size_t key_len, json_t *j)
{
    struct profile_value v;
    struct profile_buf b;
    size_t max_keys = ctx->lim->max_keys;
    int rc = 0;

    memset(&v, 0, sizeof(v));
    if (json_is_null(j)) {
        goto out;
    }
    if (max_keys > 0 && ctx->n_added >= max_keys) {
        rc = pj_fail(ctx, "too many keys (limit %zu)", max_keys);
        goto out;
    }
    if (json_is_boolean(j)) {
        v.type = PROFILE_VT_BOOLEAN;
        v.b = json_is_true(j);
    } else if (json_is_object(j) || json_is_array(j)) {
        profile_buf_init_heap(&b);
        put_json(ctx, &b, j);
        v.type = PROFILE_VT_JSON;
        v.s_len = b.len;
        v.s = profile_buf_take(&b);
        rc = v.s == NULL ? -ENOMEM : 0;
    } else {
        rc = type_string(ctx, key, key_len, j, &v);
    }
    if (rc == 0) {
        rc = profile_batch_add(ctx->out, ts_ms, key, key_len, &v);
        ctx->n_added += rc == 0 ? 1 : 0;
    }
    if (rc == -ERANGE) {
        rc = pj_fail(ctx, "too many keys (limit %zu)", ctx->out->cap);
    }
out:
    return rc;
}

static int add_members(struct pj_ctx *ctx, int64_t ts_ms, json_t *obj)
{
    const char *key;
    size_t key_len;
    json_t *val;
    int rc = 0;

    json_object_keylen_foreach(obj, key, key_len, val)
    {
        rc = add_member(ctx, ts_ms, key, key_len, val);
        if (rc != 0) {
            break;
        }
    }
    return rc;
}

/* "ts": a number truncated to 64 bits, or a decimal string with an optional sign. */
static int parse_ts(struct pj_ctx *ctx, const json_t *j, int64_t *ts_ms)
{
    const struct pj_lexeme *lx;
    int rc = -ERANGE;

    if (is_placeholder(j)) {
        lx = lexeme_of(ctx, j);
        rc = profile_number_trunc(ctx->data + lx->off, lx->len, ts_ms);
    } else if (json_is_string(j)) {
        rc = parse_i64_text(json_string_value(j), json_string_length(j), ts_ms);
    }
    return rc == -ERANGE ? pj_fail(ctx, "ts must be an integer") : rc;
}

/* One telemetry object: the {"ts":..,"values":{..}} form, or members stamped now_ms. */
static int add_group(struct pj_ctx *ctx, json_t *obj, int64_t now_ms)
{
    json_t *ts = json_object_get(obj, "ts");
    json_t *values = json_object_get(obj, "values");
    int64_t ts_ms = now_ms;
    int rc;

    if (ts == NULL || values == NULL) {
        rc = add_members(ctx, now_ms, obj);
        goto out;
    }
    rc = parse_ts(ctx, ts, &ts_ms);
    if (rc != 0) {
        goto out;
    }
    rc = json_is_object(values) ? add_members(ctx, ts_ms, values)
                                : pj_fail(ctx, "values must be a JSON object");
out:
    return rc;
}

static int walk_telemetry(struct pj_ctx *ctx, json_t *root, int64_t now_ms)
{
    json_t *el;
    size_t i;
    int rc = 0;

    if (json_is_object(root)) {
        rc = add_group(ctx, root, now_ms);
    } else if (!json_is_array(root)) {
        rc = pj_fail(ctx, "payload must be a JSON object or array");
    } else if (json_array_size(root) == 0) {
        rc = pj_fail(ctx, "telemetry array is empty");
    } else {
        json_array_foreach(root, i, el)
        {
            rc = json_is_object(el)
                     ? add_group(ctx, el, now_ms)
                     : pj_fail(ctx, "telemetry array element at index %zu is not a JSON object", i);
            if (rc != 0) {
                break;
            }
        }
    }
    return rc;
}

/* Parses the payload into out; walk is walk_telemetry (is_telemetry) or the attributes rule. */
static int pj_decode(struct pj_ctx *ctx, bool is_telemetry, int64_t now_ms)
{
    json_error_t jerr;
    json_t *root = NULL;
    int rc;

    if (ctx->len == 0) {
        rc = pj_fail(ctx, "empty payload");
        goto out;
    }
    if (ctx->len > PROFILE_JSON_MAX_BYTES) {
        rc = pj_fail(ctx, "payload larger than %u bytes", PROFILE_JSON_MAX_BYTES);
        goto out;
    }
    rc = pj_scan(ctx);
    if (rc != 0) {
        goto out;
    }
    root = json_loadb(ctx->text.p, ctx->text.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (root == NULL && json_error_code(&jerr) == json_error_out_of_memory) {
        rc = -ENOMEM;
    } else if (root == NULL || ctx->nul_pos != PJ_NONE) {
        rc = diagnose(ctx);
    } else if (is_telemetry) {
        rc = walk_telemetry(ctx, root, now_ms);
    } else {
        rc = json_is_object(root) ? add_members(ctx, 0, root)
                                  : pj_fail(ctx, "payload must be a JSON object");
    }
out:
    json_decref(root);
    return rc;
}

static int pj_run(const uint8_t *data, size_t len, bool is_telemetry, int64_t now_ms,
                  const struct profile_limits *lim, struct profile_batch *out, char *err,
                  size_t err_len)
{
    struct pj_ctx ctx;
    int rc;

    memset(&ctx, 0, sizeof(ctx));
    ctx.data = (const char *)data;
    ctx.len = data != NULL ? len : 0;
    ctx.nul_pos = PJ_NONE;
    ctx.lim = lim;
    ctx.out = out;
    ctx.err = err;
    ctx.err_len = err_len;
    profile_buf_init_heap(&ctx.text);
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    rc = pj_decode(&ctx, is_telemetry, now_ms);
    if (rc != 0) {
        profile_batch_clear(out);
    }
    profile_buf_fini(&ctx.text);
    free(ctx.lex);
    return rc;
}

int profile_json_telemetry(const uint8_t *data, size_t len, int64_t now_ms,
                           const struct profile_limits *lim, struct profile_batch *out, char *err,
                           size_t err_len)
{
    return pj_run(data, len, true, now_ms, lim, out, err, err_len);
}

int profile_json_attributes(const uint8_t *data, size_t len, const struct profile_limits *lim,
                            struct profile_batch *out, char *err, size_t err_len)
{
    return pj_run(data, len, false, 0, lim, out, err, err_len);
}
