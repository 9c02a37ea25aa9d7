/* SPDX-License-Identifier: MIT */
/*
 * gw_log.c - the daemon's logger: stderr, one write(2) per line so lines from several threads
 * never interleave, "<N>" priority prefix for journald when stderr is not a TTY.
 * The level is a process-wide setting written at start (and on SIGHUP) and read by every thread;
 * an atomic int keeps that race-free.
 */
#include "gateway/gw_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = LOG_INFO;
static atomic_int log_tty = -1; /* -1 unknown, 0 journald/pipe, 1 terminal */

static const char *const level_names[] = {
    [LOG_ERR] = "err",   [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
    [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

void gw_log_set_level(int prio)
{
    atomic_store(&log_level, prio);
}

bool gw_log_enabled(int prio)
{
    return prio <= atomic_load(&log_level);
}

int gw_log_level_from_name(const char *name)
{
    int i;

    for (i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++) {
        if (level_names[i] != NULL && strcmp(level_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

void gw_log_write(int prio, const char *fmt, ...)
{
    char line[2048];
    size_t n = 0;
    int rc;
    va_list ap;

    if (atomic_load(&log_tty) < 0) {
        atomic_store(&log_tty, isatty(STDERR_FILENO) ? 1 : 0);
    }
    if (atomic_load(&log_tty) == 1) {
        struct timespec ts;
        struct tm tm;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        (void)localtime_r(&ts.tv_sec, &tm);
        n = strftime(line, sizeof(line), "%H:%M:%S ", &tm);
    } else {
        rc = snprintf(line, sizeof(line), "<%d>", prio);
        n = rc > 0 ? (size_t)rc : 0;
    }
    rc = snprintf(line + n, sizeof(line) - n, "nbgate: ");
    n += rc > 0 ? (size_t)rc : 0;
    va_start(ap, fmt);
    rc = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (rc > 0) {
        n += (size_t)rc;
    }
    if (n > sizeof(line) - 2) {
        n = sizeof(line) - 2;
    }
    /* One event is one line: a newline inside a message would forge a second entry. */
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\n' || line[i] == '\r') {
            line[i] = ' ';
        }
    }
    line[n++] = '\n';
    (void)!write(STDERR_FILENO, line, n);
}
