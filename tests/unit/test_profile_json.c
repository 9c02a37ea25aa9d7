/* SPDX-License-Identifier: MIT */
/*
 * test_profile_json.c - unit tests of the Default-JSON adaptor and the record batch
 * (profiles/profile_json.c, profiles/profile_batch.c) against specs/coap-device-api.md sections
 * 5.1, 6.1, 13 and 18.
 *
 * Every group is a table. Decoded records are rendered as one line, "<ts> <key>=<T>:<json>" per
 * record joined by ", " (T is B, L, D, S or J), so a row states its whole expected result. The
 * rendering uses profile_value_to_json(), which has its own table.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "profiles/profile.h"

#define NOW_MS 1000

static const struct profile_limits lim_default = { 1000, 0, true };
static const struct profile_limits lim_no_cast = { 1000, 0, false };

/* ---- helpers --------------------------------------------------------------------------------- */

/* Renders a batch as "<ts> <key>=<T>:<json>, ...". */
static void render(const struct profile_batch *b, char *out, size_t out_len)
{
    static const char letters[] = "?BLDSJ";
    size_t i, used = 0;
    char val[8192];

    out[0] = '\0';
    for (i = 0; i < b->n; i++) {
        const struct profile_kv *kv = &b->kv[i];
        (void)profile_value_to_json(&kv->v, val, sizeof(val));
        used += (size_t)snprintf(out + used, out_len - used, "%s%lld %s=%c:%s", i > 0 ? ", " : "",
                                 (long long)kv->ts_ms, kv->key, letters[kv->v.type], val);
        if (used >= out_len) {
            break;
        }
    }
}

/* Decodes text (telemetry or attributes) and checks the result line or the diagnostic. */
static void check_decode(const char *what, const char *text, size_t len, bool is_telemetry,
                         const struct profile_limits *lim, size_t cap, const char *want_err,
                         const char *want_records)
{
    struct profile_batch b;
    char err[256], got[16384];
    int rc;

    assert_int_equal(profile_batch_init(&b, cap), 0);
    memset(err, 'X', sizeof(err));
    rc = is_telemetry
             ? profile_json_telemetry((const uint8_t *)text, len, NOW_MS, lim, &b, err, sizeof(err))
             : profile_json_attributes((const uint8_t *)text, len, lim, &b, err, sizeof(err));
    render(&b, got, sizeof(got));
    if (want_err != NULL) {
        if (rc != -EBADMSG || strcmp(err, want_err) != 0 || b.n != 0) {
            fail_msg("%s %s: want error \"%s\", got rc %d err \"%s\" records \"%s\"", what, text,
                     want_err, rc, rc == -EBADMSG ? err : "", got);
        }
        if (strlen(err) > 200 || strchr(err, '\n') != NULL) {
            fail_msg("%s %s: diagnostic longer than 200 bytes or not one line", what, text);
        }
    } else if (rc != 0 || strcmp(got, want_records) != 0) {
        fail_msg("%s %s: want \"%s\", got rc %d records \"%s\" err \"%s\"", what, text,
                 want_records, rc, got, rc == -EBADMSG ? err : "");
    }
    profile_batch_fini(&b);
}

/*
 * Expands "<N>" in a table text into N '0' characters (so a row can say 1<400> for 1e400 written
 * out). Ownership: caller frees the result.
 */
static char *expand(const char *t)
{
    size_t n = 0, i, len = strlen(t), zeros;
    char *out, *end;

    out = malloc(len + 8192);
    assert_non_null(out);
    for (i = 0; i < len; i++) {
        if (t[i] == '<' && t[i + 1] >= '0' && t[i + 1] <= '9') {
            zeros = (size_t)strtoul(t + i + 1, &end, 10);
            assert_true(*end == '>' && zeros < 8000);
            memset(out + n, '0', zeros);
            n += zeros;
            i = (size_t)(end - t);
        } else {
            out[n++] = t[i];
        }
    }
    out[n] = '\0';
    return out;
}

/* ---- value typing (section 13.2) ------------------------------------------------------------- */

struct typing_case {
    const char *json; /* the member value, decoded as {"v":<json>}; "<N>" is N zeros */
    bool type_cast;
    int type;      /* expected type, 0 = member skipped, -1 = error */
    int64_t l;     /* LONG, BOOLEAN */
    double d;      /* DOUBLE */
    const char *s; /* STRING or JSON text ("<N>" is N zeros), or the diagnostic */
};

#define T_L(j, v)                                                                                  \
    {                                                                                              \
        j, true, PROFILE_VT_LONG, v, 0, NULL                                                       \
    }
#define T_D(j, v)                                                                                  \
    {                                                                                              \
        j, true, PROFILE_VT_DOUBLE, 0, v, NULL                                                     \
    }
#define T_S(j, v)                                                                                  \
    {                                                                                              \
        j, true, PROFILE_VT_STRING, 0, 0, v                                                        \
    }
#define T_J(j, v)                                                                                  \
    {                                                                                              \
        j, true, PROFILE_VT_JSON, 0, 0, v                                                          \
    }
#define T_ERR(j, cast, msg)                                                                        \
    {                                                                                              \
        j, cast, -1, 0, 0, msg                                                                     \
    }

static const struct typing_case typing_cases[] = {
    /* the spec's example table */
    T_L("42", 42),
    T_D("42.0", 42.0),
    T_L("1E+1", 10),
    T_L("1e3", 1000),
    T_L("1.0E2", 100),
    T_D("101E-1", 10.1),
    T_S("9.9701010061400066E19", "99701010061400066000"),
    T_S("99701010061400066001", "99701010061400066001"),
    T_S("\"1e3\"", "1e3"),
    T_S("\"+5\"", "+5"),
    T_S("\"5.\"", "5."),
    T_S("\"0x10\"", "0x10"),
    T_S("1e400", "1<400>"),
    T_L("\"42\"", 42),
    T_D("\"4.50\"", 4.5),
    T_D("\".5\"", 0.5),
    /* the rules around them */
    T_L("-42", -42),
    T_L("9223372036854775807", INT64_MAX),
    T_L("-9223372036854775808", INT64_MIN),
    T_L("9.223372036854775807E18", INT64_MAX),
    T_S("9223372036854775808", "9223372036854775808"),
    T_S("-9223372036854775809", "-9223372036854775809"),
    T_S("-99701010061400066001", "-99701010061400066001"),
    T_S("1.5e400", "15<399>"),
    T_S("1e4095", "1<4095>"),
    T_S("1.7976931348623157e308", "17976931348623157<292>"),
    T_L("12.5e1", 125),
    T_D("1.25e1", 12.5),
    T_L("0e999999999999999999999", 0),
    T_L("0e-999999999999999999999", 0),
    T_L("-0", 0),
    T_D("0.0", 0.0),
    T_D("-0.0", 0.0),
    T_D("0.1234567890123456", 0.1234567890123456),
    T_D("1234567890123456789.5", 1234567890123456789.5),
    T_S("0.12345678901234567", "0.12345678901234567"),
    T_S("1.10000000000000000", "1.10000000000000000"),
    T_S("1.10000000000000000e0", "1.10000000000000000"),
    T_S("0.<17>", "0.<17>"),
    T_S("1e-20", "0.<19>1"),
    T_S("-1.5e-17", "-0.<16>15"),
    T_S("100000000000000000000.0e0", "100000000000000000000.0"),
    T_ERR("1e4096", true, "value of \"v\" is a number out of range"),
    T_ERR("1e-5000", true, "value of \"v\" is a number out of range"),
    T_ERR("1e99999999999999999999", true, "value of \"v\" is a number out of range"),
    T_ERR("1<309>.5", true, "value of \"v\" is a number out of range"),
    /* strings: parsable ones are cast, the rest stay strings */
    T_D("\"-.5\"", -0.5),
    T_L("\"007\"", 7),
    T_L("\"-0\"", 0),
    T_D("\"00.10\"", 0.1),
    T_S("\"99701010061400066001\"", "99701010061400066001"),
    T_S("\"0.<19>1\"", "0.<19>1"),
    T_S("\"-00.<17>1000\"", "-0.<17>1000"),
    T_S("\"1<309>.5\"", "1<309>.5"),
    T_S("\"\"", ""),
    T_S("\"-\"", "-"),
    T_S("\".\"", "."),
    T_S("\"1.2.3\"", "1.2.3"),
    T_S("\" 42\"", " 42"),
    T_S("\"42 \"", "42 "),
    T_S("\"\\u0664\\u0662\"", "\xd9\xa4\xd9\xa2"),
    T_S("\"NaN\"", "NaN"),
    T_S("\"Infinity\"", "Infinity"),
    T_S("\"h\\u00e9llo\\n\"", "h\xc3\xa9llo\n"),
    T_S("\"\\\\u0000\"", "\\u0000"),
    /* other JSON values */
    { "true", true, PROFILE_VT_BOOLEAN, 1, 0, NULL },
    { "false", true, PROFILE_VT_BOOLEAN, 0, 0, NULL },
    { "null", true, 0, 0, 0, NULL },
    T_J("{ \"a\" : [1, 2.50, {\"b\":null}] , \"c\":true}",
        "{\"a\":[1,2.50,{\"b\":null}],\"c\":true}"),
    T_J("[ 1e400 , -0.0e-0, \"x\\n\\u00e9\\u2028/\\\"\" ]",
        "[1e400,-0.0e-0,\"x\\n\xc3\xa9\\u2028/\\\"\"]"),
    T_J("[0,1,2,3,4,5,6,7,8,9,10,11,12.50]", "[0,1,2,3,4,5,6,7,8,9,10,11,12.50]"),
    T_J("[]", "[]"),
    T_J("{}", "{}"),
    T_J("{\"b\":1,\"a\":2,\"b\":3}", "{\"b\":3,\"a\":2}"),
    T_J("[[[[]]],{\"\":{}},\"\\u0001\\t\"]", "[[[[]]],{\"\":{}},\"\\u0001\\t\"]"),
    /* type casting disabled */
    { "\"42\"", false, PROFILE_VT_STRING, 0, 0, "42" },
    { "\"4.5\"", false, PROFILE_VT_STRING, 0, 0, "4.5" },
    { "42", false, PROFILE_VT_LONG, 42, 0, NULL },
    { "4.5", false, PROFILE_VT_DOUBLE, 0, 4.5, NULL },
    { "1e3", false, PROFILE_VT_LONG, 1000, 0, NULL },
    T_ERR("99701010061400066001", false, "value of \"v\" is an integer outside 64 bits"),
    T_ERR("1e400", false, "value of \"v\" is an integer outside 64 bits"),
    T_ERR("1e-20", false, "value of \"v\" has more than 16 decimal places"),
    T_ERR("0.12345678901234567", false, "value of \"v\" has more than 16 decimal places"),
    T_ERR("1<309>.5", false, "value of \"v\" is a number out of range"),
};

static void check_typing(const struct typing_case *c, const struct profile_batch *b, int rc,
                         const char *err)
{
    const struct profile_value *v = b->n > 0 ? &b->kv[0].v : NULL;
    char *want;

    if (c->type == -1) {
        if (rc != -EBADMSG || strcmp(err, c->s) != 0 || b->n != 0) {
            fail_msg("%s: want error \"%s\", got rc %d \"%s\"", c->json, c->s, rc, err);
        }
        return;
    }
    if (rc != 0 || b->n != (c->type == 0 ? 0u : 1u)) {
        fail_msg("%s: rc %d, %zu records, err \"%s\"", c->json, rc, b->n, err);
    }
    if (v == NULL) {
        return;
    }
    if ((int)v->type != c->type || strcmp(b->kv[0].key, "v") != 0) {
        fail_msg("%s: want type %d, got %d", c->json, c->type, (int)v->type);
    }
    if (v->type == PROFILE_VT_LONG || v->type == PROFILE_VT_BOOLEAN) {
        if ((v->type == PROFILE_VT_LONG ? v->l : (int64_t)v->b) != c->l) {
            fail_msg("%s: want %lld, got %lld", c->json, (long long)c->l, (long long)v->l);
        }
    } else if (v->type == PROFILE_VT_DOUBLE) {
        if (v->d != c->d || (c->d == 0.0 && signbit(v->d))) {
            fail_msg("%s: want %.17g, got %.17g", c->json, c->d, v->d);
        }
    } else {
        want = expand(c->s);
        if (strcmp(v->s, want) != 0 || v->s_len != strlen(want)) {
            fail_msg("%s: want \"%.80s\", got \"%.80s\" (%zu bytes)", c->json, want, v->s,
                     v->s_len);
        }
        free(want);
    }
}

static void test_typing(void **state)
{
    size_t i, len;

    (void)state;
    for (i = 0; i < sizeof(typing_cases) / sizeof(typing_cases[0]); i++) {
        const struct typing_case *c = &typing_cases[i];
        struct profile_limits lim = { 1000, 0, c->type_cast };
        struct profile_batch b;
        char err[256] = "";
        char *value = expand(c->json);
        char *text = malloc(strlen(value) + 8);
        int rc;

        assert_non_null(text);
        len = (size_t)snprintf(text, strlen(value) + 8, "{\"v\":%s}", value);
        assert_int_equal(profile_batch_init(&b, 10), 0);
        rc = profile_json_attributes((const uint8_t *)text, len, &lim, &b, err, sizeof(err));
        check_typing(c, &b, rc, err);
        /* telemetry types the same way */
        profile_batch_clear(&b);
        rc = profile_json_telemetry((const uint8_t *)text, len, NOW_MS, &lim, &b, err, sizeof(err));
        check_typing(c, &b, rc, err);
        profile_batch_fini(&b);
        free(text);
        free(value);
    }
}

/* ---- payload shapes (sections 5.1 and 6.1) --------------------------------------------------- */

struct shape_case {
    bool is_telemetry;
    const char *text;
    const char *err;     /* expected diagnostic, or NULL */
    const char *records; /* expected records when err is NULL */
};

#define TEL(t, r)                                                                                  \
    {                                                                                              \
        true, t, NULL, r                                                                           \
    }
#define TEL_ERR(t, e)                                                                              \
    {                                                                                              \
        true, t, e, NULL                                                                           \
    }
#define ATTR(t, r)                                                                                 \
    {                                                                                              \
        false, t, NULL, r                                                                          \
    }
#define ATTR_ERR(t, e)                                                                             \
    {                                                                                              \
        false, t, e, NULL                                                                          \
    }

static const struct shape_case shape_cases[] = {
    TEL("{\"a\":1}", "1000 a=L:1"),
    TEL("{\"ts\":1700000000000,\"values\":{\"a\":1,\"b\":\"x\"}}",
        "1700000000000 a=L:1, 1700000000000 b=S:\"x\""),
    TEL("{\"values\":{\"a\":1},\"ts\":5}", "5 a=L:1"),
    TEL("{\"ts\":\"1700000000000\",\"values\":{\"a\":true}}", "1700000000000 a=B:true"),
    TEL("{\"ts\":\"+17\",\"values\":{\"a\":1}}", "17 a=L:1"),
    TEL("{\"ts\":\"-5\",\"values\":{\"a\":1}}", "-5 a=L:1"),
    TEL("{\"ts\":\"007\",\"values\":{\"a\":1}}", "7 a=L:1"),
    TEL("{\"ts\":1.7e12,\"values\":{\"a\":1}}", "1700000000000 a=L:1"),
    TEL("{\"ts\":1700000000000.9,\"values\":{\"a\":1}}", "1700000000000 a=L:1"),
    TEL("{\"ts\":-1.9,\"values\":{\"a\":1}}", "-1 a=L:1"),
    TEL("{\"ts\":0.5,\"values\":{\"a\":1}}", "0 a=L:1"),
    TEL("{\"ts\":1e-999999999999,\"values\":{\"a\":1}}", "0 a=L:1"),
    TEL("{\"ts\":9223372036854775807,\"values\":{\"a\":1}}", "9223372036854775807 a=L:1"),
    TEL("{\"ts\":-9223372036854775808,\"values\":{\"a\":1}}", "-9223372036854775808 a=L:1"),
    TEL("{\"ts\":\"-9223372036854775808\",\"values\":{\"a\":1}}", "-9223372036854775808 a=L:1"),
    TEL_ERR("{\"ts\":9223372036854775808,\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":\"9223372036854775808\",\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":1e19,\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":1e999999999,\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":\"abc\",\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":true,\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":null,\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":{},\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":[1],\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":\"\",\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":\"+\",\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":\"1.5\",\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":\"1e3\",\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":\" 1\",\"values\":{\"a\":1}}", "ts must be an integer"),
    TEL_ERR("{\"ts\":\"x\",\"values\":5}", "ts must be an integer"),
    TEL_ERR("{\"ts\":1,\"values\":5}", "values must be a JSON object"),
    TEL_ERR("{\"ts\":1,\"values\":[]}", "values must be a JSON object"),
    TEL_ERR("{\"ts\":1,\"values\":null}", "values must be a JSON object"),
    TEL_ERR("{\"ts\":1,\"values\":\"{}\"}", "values must be a JSON object"),
    TEL("{\"ts\":1}", "1000 ts=L:1"),
    TEL("{\"values\":{\"a\":1}}", "1000 values=J:{\"a\":1}"),
    TEL("{\"ts\":1,\"values\":{},\"extra\":1}", ""),
    TEL("{\"ts\":1,\"values\":{\"a\":2},\"extra\":{\"b\":3}}", "1 a=L:2"),
    TEL("[{\"a\":1},{\"ts\":5,\"values\":{\"b\":2}}]", "1000 a=L:1, 5 b=L:2"),
    TEL("[{\"ts\":5,\"values\":{\"b\":2}},{\"ts\":6,\"values\":{\"b\":3}}]", "5 b=L:2, 6 b=L:3"),
    TEL("[{}]", ""),
    TEL("[{},{\"a\":null}]", ""),
    TEL("{}", ""),
    TEL(" \r\n\t{ } \n", ""),
    TEL("{\"b\":1,\"a\":2,\"b\":3}", "1000 b=L:3, 1000 a=L:2"),
    TEL("{\"\":1}", "1000 =L:1"),
    TEL("{\"a\":null,\"b\":null}", ""),
    TEL("{\"k\\u00e9y \\\"q\\\"\":\"v\"}", "1000 k\xc3\xa9y \"q\"=S:\"v\""),
    TEL_ERR("[]", "telemetry array is empty"),
    TEL_ERR(" [ ] ", "telemetry array is empty"),
    TEL_ERR("[{\"a\":1},2]", "telemetry array element at index 1 is not a JSON object"),
    TEL_ERR("[[]]", "telemetry array element at index 0 is not a JSON object"),
    TEL_ERR("[{\"a\":1},null]", "telemetry array element at index 1 is not a JSON object"),
    TEL_ERR("[{\"ts\":1,\"values\":{}},{\"ts\":\"x\",\"values\":{}}]", "ts must be an integer"),
    TEL_ERR("42", "payload must be a JSON object or array"),
    TEL_ERR("\"x\"", "payload must be a JSON object or array"),
    TEL_ERR("null", "payload must be a JSON object or array"),
    TEL_ERR("true", "payload must be a JSON object or array"),
    TEL_ERR("1e400", "payload must be a JSON object or array"),
    TEL_ERR("", "empty payload"),
    ATTR("{\"ts\":1,\"values\":{}}", "0 ts=L:1, 0 values=J:{}"),
    ATTR("{\"a\":null,\"b\":2.5,\"c\":\"2.5\"}", "0 b=D:2.5, 0 c=D:2.5"),
    ATTR("{}", ""),
    ATTR("{\"fw\":{\"v\":[1,{\"x\":null}]},\"on\":false}",
         "0 fw=J:{\"v\":[1,{\"x\":null}]}, 0 on=B:false"),
    ATTR_ERR("[{\"a\":1}]", "payload must be a JSON object"),
    ATTR_ERR("[]", "payload must be a JSON object"),
    ATTR_ERR("42", "payload must be a JSON object"),
    ATTR_ERR("\"a\"", "payload must be a JSON object"),
    ATTR_ERR("null", "payload must be a JSON object"),
    ATTR_ERR("", "empty payload"),
};

static void test_shapes(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(shape_cases) / sizeof(shape_cases[0]); i++) {
        const struct shape_case *c = &shape_cases[i];
        check_decode(c->is_telemetry ? "telemetry" : "attributes", c->text, strlen(c->text),
                     c->is_telemetry, &lim_default, 1000, c->err, c->records);
    }
}

/* ---- syntax errors, NUL and other refusals (section 13.1) ------------------------------------ */

struct syntax_case {
    const char *text; /* "<N>" is N zeros */
    size_t len;       /* bytes of text when it holds a NUL byte, else 0 */
    const char *err;
};

static const struct syntax_case syntax_cases[] = {
    /* ThingsBoard's lenient forms */
    { "{temperature:25}", 0,
      "invalid JSON at line 1, column 12: string or '}' expected near 'temperature'" },
    { "{'a':1}", 0, "invalid JSON at line 1, column 2: string or '}' expected near '''" },
    { "{\"a\":'x'}", 0, "invalid JSON at line 1, column 6: invalid token near '''" },
    { "{\"a\":1 /* c */}", 0, "invalid JSON at line 1, column 8: '}' expected near '/'" },
    { "{\"a\":1 // c\n}", 0, "invalid JSON at line 1, column 8: '}' expected near '/'" },
    { "# c\n{\"a\":1}", 0, "invalid JSON at line 1, column 1: invalid token near '#'" },
    { "{\"a\":NaN}", 0, "invalid JSON at line 1, column 8: invalid token near 'NaN'" },
    { "{\"a\":Infinity}", 0, "invalid JSON at line 1, column 13: invalid token near 'Infinity'" },
    { "{\"a\":-Infinity}", 0, "invalid JSON at line 1, column 6: invalid token near '-'" },
    { "{\"a\"=1}", 0, "invalid JSON at line 1, column 5: ':' expected near '='" },
    { "{\"a\"=>1}", 0, "invalid JSON at line 1, column 5: ':' expected near '='" },
    { "{\"a\":1;\"b\":2}", 0, "invalid JSON at line 1, column 7: '}' expected near ';'" },
    { "{\"a\":1,}", 0, "invalid JSON at line 1, column 8: string or '}' expected near '}'" },
    { "{\"a\":1} x", 0, "invalid JSON at line 1, column 9: end of file expected near 'x'" },
    { "{\"a\":01}", 0, "invalid JSON at line 1, column 6: invalid token near '0'" },
    { "{\"a\":1.}", 0, "invalid JSON at line 1, column 7: invalid token near '1.'" },
    { "{\"a\":.5}", 0, "invalid JSON at line 1, column 6: invalid token near '.'" },
    { "{\"a\":+1}", 0, "invalid JSON at line 1, column 6: invalid token near '+'" },
    { "{\"a\":0x10}", 0, "invalid JSON at line 1, column 7: '}' expected near 'x'" },
    { "{\"a\":1e}", 0, "invalid JSON at line 1, column 7: invalid token near '1e'" },
    { "{1:2}", 0, "invalid JSON at line 1, column 2: string or '}' expected near '1'" },
    { "{\"a\":{12:2}}", 0, "invalid JSON at line 1, column 8: string or '}' expected near '12'" },
    { "\n\n  {\"x\": y}", 0, "invalid JSON at line 3, column 9: invalid token near 'y'" },
    { "{\"a\":\"\xc3\xa9\xc3\xa9\" x}", 0,
      "invalid JSON at line 1, column 11: '}' expected near 'x'" },
    { "{\"a\":\"\xff\"}", 0,
      "invalid JSON at line 1, column 6: unable to decode byte 0xff near '\"'" },
    { "{\"a\":\"\x01\"}", 0, "invalid JSON at line 1, column 6: control character 0x1 near '\"'" },
    { "\xef\xbb\xbf{}", 0, "invalid JSON at line 1, column 1: invalid token near '\xef\xbb\xbf'" },
    { " ", 0, "invalid JSON at line 1, column 1: unexpected token near end of file" },
    { "{\"a\":1", 0, "invalid JSON at line 1, column 6: '}' expected near end of file" },
    { "{\"a\":\"x", 0, "invalid JSON at line 1, column 7: premature end of input near '\"x'" },
    { "{\"a\":\"\\x\"}", 0, "invalid JSON at line 1, column 8: invalid escape near '\"\\x'" },
    { "{\"a\":\"\\ud800\"}", 0,
      "invalid JSON at line 1, column 13: invalid Unicode '\\uD800' near '\"\\ud800\"'" },
    { "{\"a\":1}\0", 8, "NUL characters are not supported" },
    { "[true\0]", 7, "NUL characters are not supported" },
    { "[1\0,2]", 6, "NUL characters are not supported" },
    { "{\"a\":\"\0\"}", 9, "invalid JSON at line 1, column 6: control character 0x0 near '\"'" },
    { "2\0", 2, "NUL characters are not supported" },
    { "{x\0}", 4, "invalid JSON at line 1, column 2: string or '}' expected near 'x'" },
    /* errors after numbers jansson alone would refuse keep their own position */
    { "{\"a\":1e400, x}", 0, "invalid JSON at line 1, column 13: string or '}' expected near 'x'" },
    { "{\"a\":99701010061400066001,\n\"b\": x}", 0,
      "invalid JSON at line 2, column 6: invalid token near 'x'" },
    { "{\"a\" 1e400}", 0, "invalid JSON at line 1, column 10: ':' expected near '1e400'" },
    { "[1<400>,]", 0, "invalid JSON at line 1, column 404: unexpected token near ']'" },
    { "{\"b\"7-9283372036854775808}", 0,
      "invalid JSON at line 1, column 5: ':' expected near '7'" },
    { "[1e400e5]", 0, "invalid JSON at line 1, column 7: ']' expected near 'e'" },
    { "[-1e400.5]", 0, "invalid JSON at line 1, column 8: ']' expected near '.'" },
    /* NUL: the first problem in the text wins */
    { "{\"a\":\"x\\u0000y\"}", 0, "NUL characters are not supported" },
    { "{\"a\\u0000\":1}", 0, "NUL characters are not supported" },
    { "{\"\\u0000\":1}", 0, "NUL characters are not supported" },
    { "{\"\\u00001\":1}", 0, "NUL characters are not supported" },
    { "{\"a\":{\"b\":[\"\\u0000\"]}}", 0, "NUL characters are not supported" },
    { "{\"ts\":1,\"values\":{},\"x\":\"\\u0000\"}", 0, "NUL characters are not supported" },
    { "{\"a\":\"\\u0000\", x}", 0, "NUL characters are not supported" },
    { "{x, \"a\":\"\\u0000\"}", 0,
      "invalid JSON at line 1, column 2: string or '}' expected near 'x'" },
    { "{\"a\":\"\\u0000\"", 0, "NUL characters are not supported" },
    /* limits of the parser itself */
    { "payload larger than 1048576 bytes", 0, "payload larger than 1048576 bytes" },
    { "deep", 0, "invalid JSON at line 1, column 2049: maximum parsing depth reached near '['" },
};

static void test_syntax(void **state)
{
    size_t i, len;
    char *text;

    (void)state;
    for (i = 0; i < sizeof(syntax_cases) / sizeof(syntax_cases[0]); i++) {
        const struct syntax_case *c = &syntax_cases[i];
        if (strcmp(c->text, "deep") == 0 || strncmp(c->text, "payload larger", 14) == 0) {
            len = c->text[0] == 'd' ? 3000 : 1048577;
            text = malloc(len + 1);
            assert_non_null(text);
            memset(text, '[', len);
            text[len] = '\0';
        } else if (c->len > 0) {
            text = malloc(c->len);
            assert_non_null(text);
            memcpy(text, c->text, c->len);
            len = c->len;
        } else {
            text = expand(c->text);
            len = strlen(text);
        }
        check_decode("telemetry", text, len, true, &lim_default, 1000, c->err, NULL);
        check_decode("attributes", text, len, false, &lim_default, 1000, c->err, NULL);
        free(text);
    }
}

/* ---- limits (section 18) --------------------------------------------------------------------- */

struct limit_case {
    bool is_telemetry;
    size_t max_keys, max_string_len, cap;
    const char *text;
    const char *err;     /* expected diagnostic, or NULL */
    const char *records; /* expected records when err is NULL */
};

static const struct limit_case limit_cases[] = {
    { true, 2, 0, 10, "{\"a\":1,\"b\":2}", NULL, "1000 a=L:1, 1000 b=L:2" },
    { true, 2, 0, 10, "{\"a\":1,\"b\":2,\"c\":3}", "too many keys (limit 2)", NULL },
    { false, 2, 0, 10, "{\"a\":1,\"b\":2,\"c\":3}", "too many keys (limit 2)", NULL },
    { true, 2, 0, 10, "[{\"a\":1},{\"b\":2},{\"c\":3}]", "too many keys (limit 2)", NULL },
    { true, 2, 0, 10, "[{\"ts\":1,\"values\":{\"a\":1,\"b\":2}},{\"c\":3}]",
      "too many keys (limit 2)", NULL },
    { true, 2, 0, 10, "{\"a\":1,\"b\":null,\"c\":2}", NULL, "1000 a=L:1, 1000 c=L:2" },
    { true, 1000, 0, 2, "{\"a\":1,\"b\":2,\"c\":3}", "too many keys (limit 2)", NULL },
    { true, 0, 0, 3, "{\"a\":1,\"b\":2,\"c\":3}", NULL, "1000 a=L:1, 1000 b=L:2, 1000 c=L:3" },
    { true, 1000, 0, 0, "{}", NULL, "" },
    { true, 1000, 0, 0, "{\"a\":1}", "too many keys (limit 0)", NULL },
    { true, 10, 3, 10, "{\"k\":\"abc\"}", NULL, "1000 k=S:\"abc\"" },
    { true, 10, 3, 10, "{\"k\":\"abcd\"}", "value of \"k\" longer than 3 characters", NULL },
    { false, 10, 3, 10, "{\"k\":\"abcd\"}", "value of \"k\" longer than 3 characters", NULL },
    { true, 10, 3, 10, "{\"k\":\"\xc3\xa9\xc3\xa9\xe2\x82\xac\"}", NULL,
      "1000 k=S:\"\xc3\xa9\xc3\xa9\xe2\x82\xac\"" },
    { true, 10, 3, 10, "{\"k\":\"\\u00e9\\u00e9\\ud83d\\ude00\"}", NULL,
      "1000 k=S:\"\xc3\xa9\xc3\xa9\xf0\x9f\x98\x80\"" },
    { true, 10, 3, 10, "{\"k\":12345}", NULL, "1000 k=L:12345" },
    { true, 10, 3, 10, "{\"k\":1e400}", NULL, "1000 k=S:\"1<400>\"" },
    { true, 10, 3, 10, "{\"k\":\"12345\"}", "value of \"k\" longer than 3 characters", NULL },
    { true, 10, 3, 10, "{\"k\":[\"abcdef\"]}", NULL, "1000 k=J:[\"abcdef\"]" },
    { true, 10, 3, 10, "{\"ts\":\"123456\",\"values\":{\"k\":\"x\"}}", NULL, "123456 k=S:\"x\"" },
    { true, 10, 3, 10, "{\"a\\nb\":\"toolong\"}", "value of \"a?b\" longer than 3 characters",
      NULL },
    { true, 10, 1, 10, "{\"<70>\":\"toolong\"}",
      "value of \"0000000000000000000000000000000000000000000000000000000000000000...\" longer "
      "than 1 characters",
      NULL },
};

static void test_limits(void **state)
{
    size_t i;
    char *text, *want;

    (void)state;
    for (i = 0; i < sizeof(limit_cases) / sizeof(limit_cases[0]); i++) {
        const struct limit_case *c = &limit_cases[i];
        struct profile_limits lim = { c->max_keys, c->max_string_len, true };
        text = expand(c->text);
        want = c->records != NULL ? expand(c->records) : NULL;
        check_decode(c->is_telemetry ? "telemetry" : "attributes", text, strlen(text),
                     c->is_telemetry, &lim, c->cap, c->err, want);
        free(want);
        free(text);
    }
}

/* ---- rendering values (profile_value_to_json) ------------------------------------------------ */

struct render_case {
    struct profile_value v;
    size_t buf_len;   /* bytes offered; the full text must need strlen(text) */
    const char *text; /* the full text */
};

#define R_V(t, bb, ll, dd, ss)                                                                     \
    {                                                                                              \
        t, bb, ll, dd, (char *)(ss), sizeof(ss) - 1                                                \
    }
#define R_NUM(t, bb, ll, dd)                                                                       \
    {                                                                                              \
        t, bb, ll, dd, NULL, 0                                                                     \
    }

static const struct render_case render_cases[] = {
    { R_NUM(PROFILE_VT_BOOLEAN, true, 0, 0), 64, "true" },
    { R_NUM(PROFILE_VT_BOOLEAN, false, 0, 0), 64, "false" },
    { R_NUM(PROFILE_VT_LONG, false, 0, 0), 64, "0" },
    { R_NUM(PROFILE_VT_LONG, false, INT64_MIN, 0), 64, "-9223372036854775808" },
    { R_NUM(PROFILE_VT_LONG, false, INT64_MAX, 0), 64, "9223372036854775807" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 42.0), 64, "42.0" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 0.0), 64, "0.0" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, -0.0), 64, "-0.0" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 0.1), 64, "0.1" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, -3.25), 64, "-3.25" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 0.30000000000000004), 64, "0.30000000000000004" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 1e15), 64, "1e+15" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 123456789012345.0), 64, "123456789012345.0" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 1e300), 64, "1e+300" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 1e-7), 64, "1e-07" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 1.7976931348623157e308), 64, "1.7976931348623157e+308" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 5e-324), 64, "4.94065645841247e-324" },
    { R_V(PROFILE_VT_STRING, false, 0, 0, ""), 64, "\"\"" },
    { R_V(PROFILE_VT_STRING, false, 0, 0,
          "a\"b\\c/\n\r\t\b\f\x01\x1f\x7f\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9"),
      64, "\"a\\\"b\\\\c/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\xc3\xa9\\u2028\\u2029\"" },
    { R_V(PROFILE_VT_JSON, false, 0, 0, "{\"a\":[1,2.50]}"), 64, "{\"a\":[1,2.50]}" },
    /* truncation: like snprintf, the full length is returned */
    { R_NUM(PROFILE_VT_LONG, false, 12345, 0), 4, "12345" },
    { R_NUM(PROFILE_VT_DOUBLE, false, 0, 42.0), 3, "42.0" },
    { R_V(PROFILE_VT_STRING, false, 0, 0, "abc"), 3, "\"abc\"" },
    { R_V(PROFILE_VT_STRING, false, 0, 0, "a\nb"), 4, "\"a\\nb\"" },
    { R_NUM(PROFILE_VT_LONG, false, 12345, 0), 1, "12345" },
    { R_NUM(PROFILE_VT_LONG, false, 12345, 0), 0, "12345" },
};

static void test_render(void **state)
{
    size_t i, n, want_len;
    char buf[64];

    (void)state;
    for (i = 0; i < sizeof(render_cases) / sizeof(render_cases[0]); i++) {
        const struct render_case *c = &render_cases[i];
        memset(buf, 'X', sizeof(buf));
        n = profile_value_to_json(&c->v, c->buf_len > 0 ? buf : NULL, c->buf_len);
        want_len = strlen(c->text);
        if (n != want_len) {
            fail_msg("case %zu: want length %zu, got %zu", i, want_len, n);
        }
        if (c->buf_len == 0) {
            assert_int_equal(buf[0], 'X');
            continue;
        }
        if (strncmp(buf, c->text, c->buf_len - 1) != 0 ||
            strlen(buf) != (want_len < c->buf_len ? want_len : c->buf_len - 1)) {
            fail_msg("case %zu: want \"%s\", got \"%s\"", i, c->text, buf);
        }
    }
}

/* A DOUBLE rendered and decoded again stays the same DOUBLE (what devices read back). */
static void test_render_round_trip(void **state)
{
    static const double values[] = {
        42.0, 0.1, -3.25, 1234567.875, 1e-5, 2.5e-15, 123456789012345.0, -0.0
    };
    struct profile_value v = { PROFILE_VT_DOUBLE, false, 0, 0, NULL, 0 };
    struct profile_batch b;
    char text[128], err[256];
    size_t i, n;

    (void)state;
    assert_int_equal(profile_batch_init(&b, 1), 0);
    for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        v.d = values[i];
        n = (size_t)snprintf(text, sizeof(text), "{\"v\":");
        n += profile_value_to_json(&v, text + n, sizeof(text) - n);
        n += (size_t)snprintf(text + n, sizeof(text) - n, "}");
        assert_int_equal(
            profile_json_attributes((const uint8_t *)text, n, &lim_default, &b, err, sizeof(err)),
            0);
        assert_int_equal(b.n, 1);
        if (b.kv[0].v.type != PROFILE_VT_DOUBLE || b.kv[0].v.d != values[i]) {
            fail_msg("%s: read back as type %d %.17g", text, (int)b.kv[0].v.type, b.kv[0].v.d);
        }
        profile_batch_clear(&b);
    }
    profile_batch_fini(&b);
}

/* JSON values are valid compact JSON that jansson reads back to the same tree. */
static void test_json_values_reparse(void **state)
{
    static const char *const texts[] = {
        "{\"v\":{\"a\":[1,2.5,-3e2,true,false,null,\"s\\\"\\\\\\n\\u0001\"],\"b\":{}}}",
        "{\"v\":[{\"\\u00e9\":\"\\u2028\"},[[],[[]]],\"\\ud83d\\ude00\"]}",
    };
    struct profile_batch b;
    json_t *got, *want, *v;
    char err[256];
    size_t i;

    (void)state;
    assert_int_equal(profile_batch_init(&b, 1), 0);
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        assert_int_equal(profile_json_attributes((const uint8_t *)texts[i], strlen(texts[i]),
                                                 &lim_default, &b, err, sizeof(err)),
                         0);
        assert_int_equal(b.kv[0].v.type, PROFILE_VT_JSON);
        assert_int_equal(strlen(b.kv[0].v.s), b.kv[0].v.s_len);
        got = json_loads(b.kv[0].v.s, JSON_DECODE_ANY, NULL);
        want = json_loads(texts[i], 0, NULL);
        assert_non_null(got);
        assert_non_null(want);
        v = json_object_get(want, "v");
        assert_true(json_equal(got, v));
        json_decref(got);
        json_decref(want);
        profile_batch_clear(&b);
    }
    profile_batch_fini(&b);
}

/* ---- the batch and the error contract -------------------------------------------------------- */

static void test_batch_contract(void **state)
{
    static const char ok[] = "{\"a\":1,\"s\":\"x\",\"j\":[1]}";
    static const char bad[] = "{\"a\":1,\"b\":\"x\",\"c\":oops}";
    struct profile_batch b;
    char err[256];

    (void)state;
    assert_int_equal(profile_batch_init(&b, 8), 0);
    assert_int_equal(b.cap, 8);
    /* success appends */
    assert_int_equal(profile_json_attributes((const uint8_t *)ok, strlen(ok), &lim_default, &b, err,
                                             sizeof(err)),
                     0);
    assert_int_equal(profile_json_telemetry((const uint8_t *)ok, strlen(ok), 7, &lim_default, &b,
                                            err, sizeof(err)),
                     0);
    assert_int_equal(b.n, 6);
    assert_int_equal(b.kv[0].ts_ms, 0);
    assert_int_equal(b.kv[3].ts_ms, 7);
    assert_string_equal(b.kv[4].key, "s");
    assert_int_equal(b.kv[4].v.s_len, 1);
    /* any error leaves the batch empty */
    assert_int_equal(profile_json_telemetry((const uint8_t *)bad, strlen(bad), 7, &lim_default, &b,
                                            err, sizeof(err)),
                     -EBADMSG);
    assert_int_equal(b.n, 0);
    assert_int_equal(b.cap, 8);
    assert_string_equal(err, "invalid JSON at line 1, column 23: invalid token near 'oops'");
    /* the diagnostic is cut to the caller's buffer; no buffer at all is fine */
    assert_int_equal(profile_json_telemetry((const uint8_t *)"", 0, 7, &lim_default, &b, err, 10),
                     -EBADMSG);
    assert_string_equal(err, "empty pay");
    assert_int_equal(profile_json_telemetry(NULL, 0, 7, &lim_default, &b, NULL, 0), -EBADMSG);
    assert_int_equal(
        profile_json_telemetry((const uint8_t *)bad, strlen(bad), 7, &lim_default, &b, err, 1),
        -EBADMSG);
    assert_string_equal(err, "");
    /* success clears a stale diagnostic */
    assert_int_equal(profile_json_attributes((const uint8_t *)ok, strlen(ok), &lim_default, &b, err,
                                             sizeof(err)),
                     0);
    assert_string_equal(err, "");
    profile_batch_clear(&b);
    assert_int_equal(b.n, 0);
    profile_batch_fini(&b);
    assert_null(b.kv);
    assert_int_equal(b.cap, 0);
    /* a zero-capacity batch still takes payloads without records */
    assert_int_equal(profile_batch_init(&b, 0), 0);
    assert_int_equal(
        profile_json_telemetry((const uint8_t *)"{}", 2, 7, &lim_no_cast, &b, err, sizeof(err)), 0);
    profile_batch_fini(&b);
}

/* A long diagnostic is cut at 200 bytes between UTF-8 characters. */
static void test_diag_cut(void **state)
{
    struct profile_limits lim = { 10, 1, true };
    struct profile_batch b;
    char text[400], err[512];
    size_t i, n = 0;

    (void)state;
    n += (size_t)snprintf(text, sizeof(text), "{\"");
    for (i = 0; i < 40; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "\xe2\x82\xac"); /* 3-byte euro sign */
    }
    n += (size_t)snprintf(text + n, sizeof(text) - n, "\":\"long\"} x");
    assert_int_equal(profile_batch_init(&b, 10), 0);
    assert_int_equal(profile_json_attributes((const uint8_t *)text, n, &lim, &b, err, sizeof(err)),
                     -EBADMSG);
    assert_true(strlen(err) <= 200);
    assert_non_null(strstr(err, "end of file expected"));
    text[n - 2] = '\0'; /* now valid: the string limit speaks, with the key cut to 63 bytes */
    assert_int_equal(
        profile_json_attributes((const uint8_t *)text, n - 2, &lim, &b, err, sizeof(err)),
        -EBADMSG);
    assert_int_equal(strncmp(err, "value of \"", 10), 0);
    assert_int_equal(strlen(err), strlen("value of \"...\" longer than 1 characters") + 63);
    profile_batch_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_typing),
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_render),
        cmocka_unit_test(test_render_round_trip),
        cmocka_unit_test(test_json_values_reparse),
        cmocka_unit_test(test_batch_contract),
        cmocka_unit_test(test_diag_cut),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
