/* SPDX-License-Identifier: MIT */
/*
 * test_dedup.c - the retransmission cache: a hit returns the remembered answer, the key is
 * (device, message id, token), entries expire after their lifetime, the oldest is evicted when
 * the cache is full, and over-long answers are refused rather than truncated.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/gw_dedup.h"

static const uint8_t tok_a[] = { 1, 2, 3, 4 };
static const uint8_t tok_b[] = { 1, 2, 3, 5 };

static struct gw_dedup_answer answer(uint8_t code, const char *text)
{
    struct gw_dedup_answer a;

    memset(&a, 0, sizeof(a));
    a.code = code;
    a.content_format = text[0] != '\0' ? 0 : -1;
    a.payload_len = strlen(text);
    memcpy(a.payload, text, a.payload_len);
    return a;
}

static void test_hit_and_key(void **state)
{
    struct gw_dedup *d = gw_dedup_new(8, 247000);
    struct gw_dedup_answer a = answer(0x80, "ts must be an integer");
    const struct gw_dedup_answer *got;

    (void)state;
    assert_non_null(d);
    assert_null(gw_dedup_find(d, 1, 100, tok_a, 4, 0));
    assert_int_equal(gw_dedup_put(d, 1, 100, tok_a, 4, 0, &a), 0);
    got = gw_dedup_find(d, 1, 100, tok_a, 4, 1000);
    assert_non_null(got);
    assert_int_equal(got->code, 0x80);
    assert_int_equal(got->payload_len, a.payload_len);
    assert_memory_equal(got->payload, a.payload, a.payload_len);
    /* Any part of the key differing is a different request. */
    assert_null(gw_dedup_find(d, 2, 100, tok_a, 4, 1000));
    assert_null(gw_dedup_find(d, 1, 101, tok_a, 4, 1000));
    assert_null(gw_dedup_find(d, 1, 100, tok_b, 4, 1000));
    assert_null(gw_dedup_find(d, 1, 100, tok_a, 3, 1000));
    assert_null(gw_dedup_find(d, 1, 100, NULL, 0, 1000));
    gw_dedup_free(d);
}

static void test_expiry(void **state)
{
    struct gw_dedup *d = gw_dedup_new(8, 247000);
    struct gw_dedup_answer a = answer(0x41, "");

    (void)state;
    assert_int_equal(gw_dedup_put(d, 7, 9, NULL, 0, 5000, &a), 0);
    assert_non_null(gw_dedup_find(d, 7, 9, NULL, 0, 5000 + 246999));
    assert_null(gw_dedup_find(d, 7, 9, NULL, 0, 5000 + 247000));
    gw_dedup_free(d);
}

static void test_eviction_and_replace(void **state)
{
    struct gw_dedup *d = gw_dedup_new(4, 247000);
    struct gw_dedup_answer a = answer(0x41, "");
    struct gw_dedup_answer b = answer(0x80, "bad");
    uint16_t mid;

    (void)state;
    for (mid = 0; mid < 4; mid++) {
        assert_int_equal(gw_dedup_put(d, 1, mid, tok_a, 4, 0, &a), 0);
    }
    assert_int_equal(gw_dedup_count(d), 4);
    assert_int_equal(gw_dedup_put(d, 1, 4, tok_a, 4, 0, &a), 0); /* evicts mid 0 */
    assert_null(gw_dedup_find(d, 1, 0, tok_a, 4, 1));
    for (mid = 1; mid <= 4; mid++) {
        assert_non_null(gw_dedup_find(d, 1, mid, tok_a, 4, 1));
    }
    /* Same key again replaces the answer, the cache does not grow. */
    assert_int_equal(gw_dedup_put(d, 1, 4, tok_a, 4, 0, &b), 0);
    assert_int_equal(gw_dedup_find(d, 1, 4, tok_a, 4, 1)->code, 0x80);
    assert_true(gw_dedup_count(d) <= 4);
    /* Many more inserts than the capacity keep every chain consistent. */
    for (mid = 100; mid < 1100; mid++) {
        assert_int_equal(gw_dedup_put(d, mid % 3, mid, tok_b, 4, 0, &a), 0);
        assert_non_null(gw_dedup_find(d, mid % 3, mid, tok_b, 4, 1));
    }
    assert_int_equal(gw_dedup_count(d), 4);
    gw_dedup_free(d);
}

static void test_limits(void **state)
{
    struct gw_dedup *d = gw_dedup_new(4, 1000);
    struct gw_dedup_answer a = answer(0x41, "");
    uint8_t long_tok[9] = { 0 };

    (void)state;
    assert_null(gw_dedup_new(0, 1000));
    a.payload_len = GW_DEDUP_PAYLOAD_MAX + 1;
    assert_int_equal(gw_dedup_put(d, 1, 1, tok_a, 4, 0, &a), -ERANGE);
    a.payload_len = 0;
    assert_int_equal(gw_dedup_put(d, 1, 1, long_tok, 9, 0, &a), -ERANGE);
    assert_null(gw_dedup_find(d, 1, 1, long_tok, 9, 0));
    gw_dedup_free(d);
    gw_dedup_free(NULL);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_key),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_eviction_and_replace),
        cmocka_unit_test(test_limits),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
