/* SPDX-License-Identifier: MIT */
/*
 * gw_dedup.c - the retransmission cache: a ring of entries in arrival order (the oldest is the
 * next to be overwritten) plus a hash table of chains through the ring, so both the lookup and the
 * eviction are O(1) on average. Expired entries are skipped at lookup and reused in ring order.
 */
#include "gateway/gw_dedup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define NO_ENTRY UINT32_MAX

struct entry {
    int64_t device_id;
    int64_t expires_ms;
    uint32_t next; /* next entry in the same hash chain */
    uint16_t mid;
    uint8_t token_len;
    bool is_used;
    uint8_t token[8];
    struct gw_dedup_answer answer;
};

struct gw_dedup {
    struct entry *ring;
    uint32_t *bucket; /* heads of the hash chains */
    size_t cap;
    size_t n_buckets; /* power of two */
    size_t head;      /* next ring slot to (over)write */
    size_t used;
    int64_t lifetime_ms;
};

static size_t hash_key(const struct gw_dedup *d, int64_t device_id, uint16_t mid,
                       const uint8_t *token, size_t token_len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    uint8_t buf[8 + 2];
    size_t i;

    memcpy(buf, &device_id, 8);
    memcpy(buf + 8, &mid, 2);
    for (i = 0; i < sizeof(buf); i++) {
        h = (h ^ buf[i]) * 1099511628211ULL;
    }
    for (i = 0; i < token_len; i++) {
        h = (h ^ token[i]) * 1099511628211ULL;
    }
    return (size_t)(h & (d->n_buckets - 1));
}

struct gw_dedup *gw_dedup_new(size_t cap, int64_t lifetime_ms)
{
    struct gw_dedup *d;
    size_t i;

    if (cap == 0 || cap >= NO_ENTRY) {
        return NULL;
    }
    d = calloc(1, sizeof(*d));
    if (d == NULL) {
        return NULL;
    }
    d->cap = cap;
    d->lifetime_ms = lifetime_ms;
    d->n_buckets = 16;
    while (d->n_buckets < cap * 2) {
        d->n_buckets *= 2;
    }
    d->ring = calloc(cap, sizeof(*d->ring));
    d->bucket = malloc(d->n_buckets * sizeof(*d->bucket));
    if (d->ring == NULL || d->bucket == NULL) {
        gw_dedup_free(d);
        return NULL;
    }
    for (i = 0; i < d->n_buckets; i++) {
        d->bucket[i] = NO_ENTRY;
    }
    return d;
}

void gw_dedup_free(struct gw_dedup *d)
{
    if (d == NULL) {
        return;
    }
    free(d->ring);
    free(d->bucket);
    free(d);
}

static bool same_key(const struct entry *e, int64_t device_id, uint16_t mid, const uint8_t *token,
                     size_t token_len)
{
    return e->device_id == device_id && e->mid == mid && e->token_len == token_len &&
           (token_len == 0 || memcmp(e->token, token, token_len) == 0);
}

/* Unlinks ring slot idx from its hash chain. */
static void unlink_slot(struct gw_dedup *d, uint32_t idx)
{
    struct entry *e = &d->ring[idx];
    size_t b = hash_key(d, e->device_id, e->mid, e->token, e->token_len);
    uint32_t *link = &d->bucket[b];

    while (*link != NO_ENTRY) {
        if (*link == idx) {
            *link = e->next;
            break;
        }
        link = &d->ring[*link].next;
    }
    e->is_used = false;
    d->used--;
}

static struct entry *lookup(struct gw_dedup *d, int64_t device_id, uint16_t mid,
                            const uint8_t *token, size_t token_len)
{
    uint32_t i = d->bucket[hash_key(d, device_id, mid, token, token_len)];

    while (i != NO_ENTRY) {
        if (same_key(&d->ring[i], device_id, mid, token, token_len)) {
            return &d->ring[i];
        }
        i = d->ring[i].next;
    }
    return NULL;
}

const struct gw_dedup_answer *gw_dedup_find(struct gw_dedup *d, int64_t device_id, uint16_t mid,
                                            const uint8_t *token, size_t token_len, int64_t now_ms)
{
    struct entry *e;

    if (token_len > 8) {
        return NULL;
    }
    e = lookup(d, device_id, mid, token, token_len);
    if (e == NULL || e->expires_ms <= now_ms) {
        return NULL;
    }
    return &e->answer;
}

int gw_dedup_put(struct gw_dedup *d, int64_t device_id, uint16_t mid, const uint8_t *token,
                 size_t token_len, int64_t now_ms, const struct gw_dedup_answer *answer)
{
    struct entry *e;
    uint32_t idx;
    size_t b;

    if (token_len > 8 || answer->payload_len > GW_DEDUP_PAYLOAD_MAX) {
        return -ERANGE;
    }
    e = lookup(d, device_id, mid, token, token_len);
    if (e != NULL) {
        unlink_slot(d, (uint32_t)(e - d->ring));
    }
    idx = (uint32_t)d->head;
    d->head = (d->head + 1) % d->cap;
    if (d->ring[idx].is_used) {
        unlink_slot(d, idx);
    }
    e = &d->ring[idx];
    e->device_id = device_id;
    e->mid = mid;
    e->token_len = (uint8_t)token_len;
    if (token_len > 0) {
        memcpy(e->token, token, token_len);
    }
    e->expires_ms = now_ms + d->lifetime_ms;
    e->answer = *answer;
    e->is_used = true;
    b = hash_key(d, device_id, mid, token, token_len);
    e->next = d->bucket[b];
    d->bucket[b] = idx;
    d->used++;
    return 0;
}

size_t gw_dedup_count(const struct gw_dedup *d)
{
    return d->used;
}
