/* SPDX-License-Identifier: MIT */
/*
 * clockshift.c - LD_PRELOAD shim that sets a process's wall clock back by CLOCKSHIFT_S seconds
 * (environment), as on a gateway that booted without a valid time. Used by
 * tests/integration/18-efento-ident.sh, never by nbgate itself. Only CLOCK_REALTIME (and its
 * coarse variant), gettimeofday and time are shifted; monotonic clocks are left alone so timers
 * and libcoap's retransmissions run as usual. The real clock is read with the system call.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static time_t shift_s(void)
{
    const char *s = getenv("CLOCKSHIFT_S");

    return s != NULL ? (time_t)strtoll(s, NULL, 10) : 0;
}

int clock_gettime(clockid_t id, struct timespec *ts)
{
    int rc = (int)syscall(SYS_clock_gettime, id, ts); /* no dlsym: safe before libc is set up */

    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec -= shift_s();
    }
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz)
{
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);

    (void)tz;
    if (rc == 0) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = (suseconds_t)(ts.tv_nsec / 1000);
    }
    return rc;
}

time_t time(time_t *out)
{
    struct timespec ts;
    time_t t = clock_gettime(CLOCK_REALTIME, &ts) == 0 ? ts.tv_sec : (time_t)-1;

    if (out != NULL) {
        *out = t;
    }
    return t;
}
