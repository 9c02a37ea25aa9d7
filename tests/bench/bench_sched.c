/* SPDX-License-Identifier: MIT */
/*
 * bench_sched.c - the scheduler's cost per tick against the number of devices. A tick asks for
 * the next due time and pops the due devices; idle devices (no window to wait for) are not in
 * the heap, so the cost must not grow with them. Prints ns per tick for 1,000 and 100,000
 * devices, 100 of them waiting for a window in both runs, and the ratio; CALLGRIND=1 runs fewer
 * iterations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gateway/gw_sched.h"

static double now_ns(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Runs ticks (1 ms apart) over n devices; due devices are popped and given their next window. */
static double ns_per_tick(int64_t n, long ticks)
{
    struct gw_sched *s = gw_sched_new();
    struct gw_sched_dev *d;
    volatile int64_t sink = 0;
    double t0, t1;
    int64_t i;
    long k;

    for (i = 1; i <= n; i++) {
        d = gw_sched_get(s, i, true);
        if (i % (n / 100) == 0) {
            gw_sched_set_due(s, d, 1000 + (i * 7919) % 60000);
        }
    }
    t0 = now_ns();
    for (k = 0; k < ticks; k++) {
        int64_t now = 1000 + k;
        sink += gw_sched_next_due(s);
        while ((d = gw_sched_pop_due(s, now)) != NULL) {
            gw_sched_set_due(s, d, now + 60000); /* the next window */
        }
    }
    t1 = now_ns();
    gw_sched_free(s);
    (void)sink;
    return (t1 - t0) / (double)ticks;
}

int main(void)
{
    long ticks = getenv("CALLGRIND") != NULL ? 20000 : 2000000;
    double small = ns_per_tick(1000, ticks);
    double big = ns_per_tick(100000, ticks);

    printf("bench_sched: devices=1000 ns_per_tick=%.1f\n", small);
    printf("bench_sched: devices=100000 ns_per_tick=%.1f\n", big);
    printf("bench_sched: ratio 100000/1000 = %.2f (1.0 means the tick does not grow with idle "
           "devices; the heap is log n in the waiting ones)\n",
           big / small);
    return 0;
}
