/* SPDX-License-Identifier: MIT */
/*
 * gw_sched.c - device states in an open-addressing hash table (by device id, linear probing,
 * grown at 50 % load) and a binary min-heap of the states that wait for a time.
 *
 * Reachability with d = now - L (spec 16.5):
 *   none, DRX                      always
 *   PSM                            d <= T_psm
 *   eDRX, C known and C > T_ptw    (d mod C) <= T_ptw; next window at L + (floor(d / C) + 1) * C
 *   eDRX, C known and C <= T_ptw   always
 *   eDRX, C unknown                d <= T_ptw, plus one downlink per uplink outside that window
 */
#include "gateway/gw_sched.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gw_sched {
    struct gw_sched_dev **slot; /* hash table of device states */
    size_t n_slots;             /* power of two */
    size_t n_devs;
    struct gw_sched_dev **heap;
    size_t heap_len, heap_cap;
};

struct gw_sched *gw_sched_new(void)
{
    struct gw_sched *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    s->n_slots = 1024;
    s->slot = calloc(s->n_slots, sizeof(*s->slot));
    if (s->slot == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

void gw_sched_free(struct gw_sched *s)
{
    size_t i;

    if (s == NULL) {
        return;
    }
    for (i = 0; i < s->n_slots; i++) {
        free(s->slot[i]);
    }
    free(s->slot);
    free(s->heap);
    free(s);
}

static size_t hash_id(int64_t id, size_t n_slots)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ULL;

    return (size_t)(h >> 32) & (n_slots - 1);
}

static int grow(struct gw_sched *s)
{
    size_t n = s->n_slots * 2;
    struct gw_sched_dev **slot = calloc(n, sizeof(*slot));
    size_t i, j;

    if (slot == NULL) {
        return -1;
    }
    for (i = 0; i < s->n_slots; i++) {
        if (s->slot[i] == NULL) {
            continue;
        }
        for (j = hash_id(s->slot[i]->device_id, n); slot[j] != NULL; j = (j + 1) & (n - 1)) {
        }
        slot[j] = s->slot[i];
    }
    free(s->slot);
    s->slot = slot;
    s->n_slots = n;
    return 0;
}

struct gw_sched_dev *gw_sched_get(struct gw_sched *s, int64_t device_id, bool create)
{
    size_t i;

    for (i = hash_id(device_id, s->n_slots); s->slot[i] != NULL; i = (i + 1) & (s->n_slots - 1)) {
        if (s->slot[i]->device_id == device_id) {
            return s->slot[i];
        }
    }
    if (!create) {
        return NULL;
    }
    if ((s->n_devs + 1) * 2 > s->n_slots) {
        if (grow(s) != 0) {
            return NULL;
        }
        for (i = hash_id(device_id, s->n_slots); s->slot[i] != NULL;
             i = (i + 1) & (s->n_slots - 1)) {
        }
    }
    s->slot[i] = calloc(1, sizeof(**s->slot));
    if (s->slot[i] == NULL) {
        return NULL;
    }
    s->slot[i]->device_id = device_id;
    s->slot[i]->due_ms = -1;
    s->slot[i]->power.mode = GW_PM_DRX;
    s->n_devs++;
    return s->slot[i];
}

void gw_sched_uplink(struct gw_sched_dev *d, int64_t now_ms)
{
    if (now_ms > d->last_uplink_ms) {
        d->last_uplink_ms = now_ms;
        d->has_allowance = true;
    }
}

bool gw_sched_reachable(const struct gw_sched_dev *d, int64_t now_ms, int64_t *next_ms)
{
    const struct gw_power *p = &d->power;
    int64_t delta = now_ms - d->last_uplink_ms;

    *next_ms = -1;
    switch (p->mode) {
    case GW_PM_NONE:
    case GW_PM_DRX:
        return true;
    case GW_PM_PSM:
        return d->last_uplink_ms > 0 && delta <= p->psm_activity_ms;
    case GW_PM_EDRX:
        if (d->last_uplink_ms == 0) {
            return false;
        }
        if (p->edrx_cycle_ms <= 0) {
            return delta <= p->ptw_ms || d->has_allowance;
        }
        if (p->edrx_cycle_ms <= p->ptw_ms) {
            return true;
        }
        if (delta % p->edrx_cycle_ms <= p->ptw_ms) {
            return true;
        }
        *next_ms = d->last_uplink_ms + (delta / p->edrx_cycle_ms + 1) * p->edrx_cycle_ms;
        return false;
    }
    return false;
}

static void heap_swap(struct gw_sched *s, size_t a, size_t b)
{
    struct gw_sched_dev *t = s->heap[a];

    s->heap[a] = s->heap[b];
    s->heap[b] = t;
    s->heap[a]->heap_idx = a;
    s->heap[b]->heap_idx = b;
}

static void sift_up(struct gw_sched *s, size_t i)
{
    while (i > 0 && s->heap[(i - 1) / 2]->due_ms > s->heap[i]->due_ms) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void sift_down(struct gw_sched *s, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->heap_len && s->heap[l]->due_ms < s->heap[m]->due_ms) {
            m = l;
        }
        if (r < s->heap_len && s->heap[r]->due_ms < s->heap[m]->due_ms) {
            m = r;
        }
        if (m == i) {
            return;
        }
        heap_swap(s, i, m);
        i = m;
    }
}

static void heap_remove(struct gw_sched *s, struct gw_sched_dev *d)
{
    size_t i = d->heap_idx;

    assert(d->due_ms >= 0 && s->heap[i] == d);
    s->heap_len--;
    if (i != s->heap_len) {
        s->heap[i] = s->heap[s->heap_len];
        s->heap[i]->heap_idx = i;
        sift_down(s, i);
        sift_up(s, i);
    }
    d->due_ms = -1;
}

void gw_sched_set_due(struct gw_sched *s, struct gw_sched_dev *d, int64_t due_ms)
{
    if (d->due_ms >= 0) {
        heap_remove(s, d);
    }
    if (due_ms < 0) {
        return;
    }
    if (s->heap_len == s->heap_cap) {
        size_t cap = s->heap_cap == 0 ? 64 : s->heap_cap * 2;
        struct gw_sched_dev **h = realloc(s->heap, cap * sizeof(*h));
        if (h == NULL) {
            return; /* the next uplink reschedules it */
        }
        s->heap = h;
        s->heap_cap = cap;
    }
    d->due_ms = due_ms;
    d->heap_idx = s->heap_len;
    s->heap[s->heap_len++] = d;
    sift_up(s, d->heap_idx);
}

int64_t gw_sched_next_due(const struct gw_sched *s)
{
    return s->heap_len > 0 ? s->heap[0]->due_ms : -1;
}

struct gw_sched_dev *gw_sched_pop_due(struct gw_sched *s, int64_t now_ms)
{
    struct gw_sched_dev *d;

    if (s->heap_len == 0 || s->heap[0]->due_ms > now_ms) {
        return NULL;
    }
    d = s->heap[0];
    heap_remove(s, d);
    return d;
}

size_t gw_sched_count(const struct gw_sched *s)
{
    return s->n_devs;
}

void gw_sched_foreach(struct gw_sched *s, void (*fn)(void *arg, struct gw_sched_dev *d), void *arg)
{
    size_t i;

    for (i = 0; i < s->n_slots; i++) {
        if (s->slot[i] != NULL) {
            fn(arg, s->slot[i]);
        }
    }
}

static void clock_text(int64_t real_ms, char *buf, size_t len)
{
    time_t t = (time_t)(real_ms / 1000);
    struct tm tm;

    (void)gmtime_r(&t, &tm);
    (void)strftime(buf, len, "%H:%M:%S UTC", &tm);
}

size_t gw_sched_describe(const struct gw_sched_dev *d, int64_t now_ms, int64_t now_real_ms,
                         char *buf, size_t len)
{
    const struct gw_power *p = &d->power;
    int64_t next = -1;
    bool is_reachable = gw_sched_reachable(d, now_ms, &next);
    char at[32];
    int n;

    switch (p->mode) {
    case GW_PM_PSM:
        if (is_reachable) {
            clock_text(now_real_ms + (d->last_uplink_ms + p->psm_activity_ms - now_ms), at,
                       sizeof(at));
            n = snprintf(buf, len, "PSM: awake until %s", at);
        } else {
            n = snprintf(buf, len, "PSM: asleep until its next uplink");
        }
        break;
    case GW_PM_EDRX:
        if (is_reachable && p->edrx_cycle_ms > p->ptw_ms) {
            int64_t end = d->last_uplink_ms +
                          ((now_ms - d->last_uplink_ms) / p->edrx_cycle_ms) * p->edrx_cycle_ms +
                          p->ptw_ms;
            clock_text(now_real_ms + (end - now_ms), at, sizeof(at));
            n = snprintf(buf, len, "eDRX: in a paging window until %s", at);
        } else if (is_reachable) {
            n = snprintf(buf, len, "eDRX: reachable");
        } else if (next > 0) {
            clock_text(now_real_ms + (next - now_ms), at, sizeof(at));
            n = snprintf(buf, len, "eDRX: next paging window at %s", at);
        } else {
            n = snprintf(buf, len, "eDRX: asleep until its next uplink");
        }
        break;
    default:
        n = snprintf(buf, len, "%s: reachable while it observes",
                     p->mode == GW_PM_DRX ? "DRX" : "always on");
        break;
    }
    return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}
