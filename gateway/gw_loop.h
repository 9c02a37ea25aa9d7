/* SPDX-License-Identifier: MIT */
/*
 * gw_loop.h - the loop thread's event set: one epoll set of nbgate's own holding libcoap's
 * descriptor, a wake-up eventfd that other threads (and signal handlers) write, and whatever else
 * the loop owns later (the scheduler's timer).
 */
#ifndef GW_LOOP_H
#define GW_LOOP_H

#include <signal.h>

struct gw_loop;

/* Called when fd is readable. */
typedef void (*gw_loop_fn)(void *arg);

/*
 * Creates the epoll set and the wake-up eventfd.
 * Returns: the loop, or NULL (errno set). Ownership: caller owns it, free with gw_loop_free().
 */
struct gw_loop *gw_loop_new(void);

/* Closes the descriptors the loop created. NULL is a no-op. */
void gw_loop_free(struct gw_loop *loop);

/* Watches fd for readability. Returns: 0, -errno. */
int gw_loop_add(struct gw_loop *loop, int fd, gw_loop_fn fn, void *arg);

/*
 * Returns: the wake-up eventfd; writing an 8-byte counter to it wakes the loop.
 * Thread: any thread, and async-signal-safe to write.
 */
int gw_loop_wakeup_fd(const struct gw_loop *loop);

/*
 * Runs until *stop becomes non-zero (checked after every wake-up). on_wake, if not NULL, runs
 * after each wake-up through the eventfd.
 * Returns: 0, or -errno if epoll fails.
 */
int gw_loop_run(struct gw_loop *loop, volatile sig_atomic_t *stop, gw_loop_fn on_wake, void *arg);

#endif /* GW_LOOP_H */
