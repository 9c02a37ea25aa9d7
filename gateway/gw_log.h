/* SPDX-License-Identifier: MIT */
/*
 * gw_log.h - one line per event on stderr, with syslog priorities.
 *
 * When stderr is not a terminal every line starts with "<N>" (sd-daemon prefix) so that journald
 * keeps the priority; on a terminal it starts with the local time instead. A line is a message
 * followed by key=value pairs (dev= peer= rc= err=). The level is checked before formatting.
 * Thread: every function is safe to call from any thread (one write(2) per line).
 */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Sets the most verbose priority that is written (LOG_ERR .. LOG_DEBUG). */
void gw_log_set_level(int prio);

/* Returns: true when a message of priority prio would be written. */
bool gw_log_enabled(int prio);

/* Formats and writes one line; use the gw_log_* macros instead, they check the level first. */
void gw_log_write(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parses a level name: err, warning, notice, info, debug.
 * Returns: the LOG_* priority, or -1 for an unknown name.
 */
int gw_log_level_from_name(const char *name);

#define GW_LOG_AT(prio, ...)                                                                       \
    do {                                                                                           \
        if (gw_log_enabled(prio)) {                                                                \
            gw_log_write(prio, __VA_ARGS__);                                                       \
        }                                                                                          \
    } while (0)
#define gw_log_err(...)    GW_LOG_AT(LOG_ERR, __VA_ARGS__)
#define gw_log_warn(...)   GW_LOG_AT(LOG_WARNING, __VA_ARGS__)
#define gw_log_notice(...) GW_LOG_AT(LOG_NOTICE, __VA_ARGS__)
#define gw_log_info(...)   GW_LOG_AT(LOG_INFO, __VA_ARGS__)
#define gw_log_debug(...)  GW_LOG_AT(LOG_DEBUG, __VA_ARGS__)

#endif /* GW_LOG_H */
