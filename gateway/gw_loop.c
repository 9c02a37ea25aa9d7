/* SPDX-License-Identifier: MIT */
/*
 * gw_loop.c - epoll over a handful of descriptors, each with its callback. The loop blocks
 * without a timeout: libcoap keeps its own timerfd inside its epoll set, so its descriptor turns
 * readable when a retransmission or session timeout is due.
 */
#include "gateway/gw_loop.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_WATCHES 8

struct watch {
    int fd;
    gw_loop_fn fn;
    void *arg;
};

struct gw_loop {
    int epfd;
    int wakefd;
    struct watch watches[MAX_WATCHES];
    int n_watches;
};

struct gw_loop *gw_loop_new(void)
{
    struct gw_loop *loop = calloc(1, sizeof(*loop));
    struct epoll_event ev = { .events = EPOLLIN };

    if (loop == NULL) {
        return NULL;
    }
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ev.data.u32 = UINT32_MAX;
    if (loop->epfd < 0 || loop->wakefd < 0 ||
        epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev) != 0) {
        gw_loop_free(loop);
        return NULL;
    }
    return loop;
}

void gw_loop_free(struct gw_loop *loop)
{
    if (loop == NULL) {
        return;
    }
    if (loop->epfd >= 0) {
        (void)close(loop->epfd);
    }
    if (loop->wakefd >= 0) {
        (void)close(loop->wakefd);
    }
    free(loop);
}

int gw_loop_add(struct gw_loop *loop, int fd, gw_loop_fn fn, void *arg)
{
    struct epoll_event ev = { .events = EPOLLIN };

    if (loop->n_watches == MAX_WATCHES) {
        return -ERANGE;
    }
    ev.data.u32 = (uint32_t)loop->n_watches;
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return -errno;
    }
    loop->watches[loop->n_watches++] = (struct watch){ fd, fn, arg };
    return 0;
}

int gw_loop_wakeup_fd(const struct gw_loop *loop)
{
    return loop->wakefd;
}

int gw_loop_run(struct gw_loop *loop, volatile sig_atomic_t *stop, gw_loop_fn on_wake, void *arg)
{
    struct epoll_event ev[MAX_WATCHES + 1];
    uint64_t count;
    int n, i;

    while (!*stop) {
        n = epoll_wait(loop->epfd, ev, MAX_WATCHES + 1, -1);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -errno;
        }
        for (i = 0; i < n; i++) {
            uint32_t w = ev[i].data.u32;
            if (w == UINT32_MAX) {
                (void)!read(loop->wakefd, &count, sizeof(count));
                if (on_wake != NULL) {
                    on_wake(arg);
                }
            } else {
                loop->watches[w].fn(loop->watches[w].arg);
            }
        }
    }
    return 0;
}
