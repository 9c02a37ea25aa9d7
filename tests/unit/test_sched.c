/* SPDX-License-Identifier: MIT */
/*
 * test_sched.c - reachability windows per power mode with an injected clock (ms counters), the
 * eDRX allowance with an unknown cycle, and the min-heap of due times (order, moves, removal,
 * many devices).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "gateway/gw_sched.h"

static struct gw_sched_dev *dev(struct gw_sched *s, int64_t id, enum gw_power_mode mode,
                                int64_t psm, int64_t ptw, int64_t cycle)
{
    struct gw_sched_dev *d = gw_sched_get(s, id, true);

    assert_non_null(d);
    d->power.mode = mode;
    d->power.psm_activity_ms = psm;
    d->power.ptw_ms = ptw;
    d->power.edrx_cycle_ms = cycle;
    return d;
}

struct window_case {
    enum gw_power_mode mode;
    int64_t psm, ptw, cycle;
    int64_t uplink; /* 0: none */
    int64_t now;
    bool want;
    int64_t want_next; /* when not reachable */
};

static void test_windows(void **state)
{
    static const struct window_case cases[] = {
        { GW_PM_DRX, 0, 0, 0, 0, 5000, true, 0 },
        { GW_PM_NONE, 0, 0, 0, 0, 5000, true, 0 },
        { GW_PM_PSM, 1500, 0, 0, 0, 5000, false, -1 },         /* never uplinked: asleep */
        { GW_PM_PSM, 1500, 0, 0, 1000, 2500, true, 0 },        /* d = 1500 <= T_psm */
        { GW_PM_PSM, 1500, 0, 0, 1000, 2501, false, -1 },      /* asleep until the next uplink */
        { GW_PM_EDRX, 0, 10000, 60000, 1000, 11000, true, 0 }, /* first window [L, L+ptw] */
        { GW_PM_EDRX, 0, 10000, 60000, 1000, 11001, false, 61000 },
        { GW_PM_EDRX, 0, 10000, 60000, 1000, 60999, false, 61000 },
        { GW_PM_EDRX, 0, 10000, 60000, 1000, 61000, true, 0 }, /* k = 1 */
        { GW_PM_EDRX, 0, 10000, 60000, 1000, 71000, true, 0 },
        { GW_PM_EDRX, 0, 10000, 60000, 1000, 71001, false, 121000 },
        { GW_PM_EDRX, 0, 10000, 5000, 1000, 99999, true, 0 }, /* C <= T_ptw: always */
        { GW_PM_EDRX, 0, 10000, 0, 0, 5000, false, -1 },      /* unknown C, no uplink */
    };
    struct gw_sched *s = gw_sched_new();
    int64_t next;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct window_case *c = &cases[i];
        struct gw_sched_dev *d = dev(s, (int64_t)i + 1, c->mode, c->psm, c->ptw, c->cycle);
        bool got;
        if (c->uplink > 0) {
            gw_sched_uplink(d, c->uplink);
        }
        got = gw_sched_reachable(d, c->now, &next);
        if (got != c->want || (!got && next != c->want_next)) {
            fail_msg("case %zu: reachable %d next %lld", i, got, (long long)next);
        }
    }
    gw_sched_free(s);
}

static void test_edrx_unknown_cycle_allowance(void **state)
{
    struct gw_sched *s = gw_sched_new();
    struct gw_sched_dev *d = dev(s, 1, GW_PM_EDRX, 0, 1000, 0);
    int64_t next;

    (void)state;
    gw_sched_uplink(d, 10000);
    assert_true(gw_sched_reachable(d, 10500, &next));
    /* Outside the window: one downlink per uplink (the caller consumes the allowance). */
    assert_true(gw_sched_reachable(d, 20000, &next));
    d->has_allowance = false;
    assert_false(gw_sched_reachable(d, 20001, &next));
    assert_int_equal(next, -1);
    gw_sched_uplink(d, 30000); /* a new uplink re-arms it */
    assert_true(gw_sched_reachable(d, 40000, &next));
    /* L only moves forward. */
    gw_sched_uplink(d, 25000);
    assert_int_equal(d->last_uplink_ms, 30000);
    gw_sched_free(s);
}

static void test_heap(void **state)
{
    struct gw_sched *s = gw_sched_new();
    struct gw_sched_dev *d;
    int64_t i;

    (void)state;
    assert_int_equal(gw_sched_next_due(s), -1);
    assert_null(gw_sched_pop_due(s, 1000000));
    /* 100,000 devices in the table, 5,000 of them waiting for a time. */
    for (i = 1; i <= 100000; i++) {
        d = gw_sched_get(s, i, true);
        assert_non_null(d);
        if (i % 20 == 0) {
            gw_sched_set_due(s, d, (i * 7919) % 100003);
        }
    }
    assert_int_equal(gw_sched_count(s), 100000);
    assert_ptr_equal(gw_sched_get(s, 777, false), gw_sched_get(s, 777, true));
    assert_null(gw_sched_get(s, 100001, false));
    /* Moving and removing keep the heap ordered. */
    gw_sched_set_due(s, gw_sched_get(s, 40, false), 5);
    gw_sched_set_due(s, gw_sched_get(s, 60, false), -1);
    assert_int_equal(gw_sched_next_due(s), 5);
    assert_null(gw_sched_pop_due(s, 4));
    for (i = 0; (d = gw_sched_pop_due(s, INT64_MAX)) != NULL; i++) {
        assert_true(d->due_ms == -1);
        assert_true(d->device_id != 60);
    }
    assert_int_equal(i, 4999);
    assert_int_equal(gw_sched_next_due(s), -1);
    gw_sched_free(s);
}

static void test_pop_order(void **state)
{
    static const int64_t due[] = { 50, 10, 40, 10, 30, 20, 60 };
    struct gw_sched *s = gw_sched_new();
    struct gw_sched_dev *d;
    int64_t prev = 0;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(due) / sizeof(due[0]); i++) {
        gw_sched_set_due(s, gw_sched_get(s, (int64_t)i + 1, true), due[i]);
    }
    for (i = 0; (d = gw_sched_pop_due(s, 100)) != NULL; i++) {
        int64_t t = due[d->device_id - 1];
        assert_true(t >= prev);
        prev = t;
    }
    assert_int_equal(i, 7);
    gw_sched_free(s);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_edrx_unknown_cycle_allowance),
        cmocka_unit_test(test_heap),
        cmocka_unit_test(test_pop_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
