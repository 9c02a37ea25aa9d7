/* SPDX-License-Identifier: MIT */
/*
 * gw_dedup.h - remembers the answer to each recent confirmable request so that a retransmission
 * (same device, message id and CoAP token) gets the same answer and is not processed again
 * (RFC 7252 section 4.5). libcoap 4.3.1 runs the handler again for a retransmitted CON whose
 * piggybacked ACK was lost, so nbgate keeps this cache itself. The key is taken after
 * authentication, so a retransmission from a new NAT port is still recognised.
 *
 * Bounded: at most `cap` entries, the oldest evicted first; an entry lives lifetime_ms
 * (EXCHANGE_LIFETIME, 247 s). Lookups and inserts are O(1). Times are CLOCK_MONOTONIC ms.
 */
#ifndef GW_DEDUP_H
#define GW_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define GW_DEDUP_PAYLOAD_MAX 256 /* answers with a longer payload are not cached */

struct gw_dedup;

/* A remembered answer. */
struct gw_dedup_answer {
    uint8_t code;       /* CoAP response code, e.g. 0x41 for 2.01 */
    int content_format; /* -1 = no Content-Format option */
    size_t payload_len;
    uint8_t payload[GW_DEDUP_PAYLOAD_MAX];
};

/*
 * Creates a cache of cap entries whose entries expire after lifetime_ms.
 * Returns: the cache, or NULL (out of memory, cap 0).
 * Ownership: caller owns it, free with gw_dedup_free().
 */
struct gw_dedup *gw_dedup_new(size_t cap, int64_t lifetime_ms);

/* Frees the cache. NULL is a no-op. */
void gw_dedup_free(struct gw_dedup *d);

/*
 * Looks up a request.
 * Returns: the remembered answer (borrowed, valid until the next gw_dedup_put), or NULL.
 */
const struct gw_dedup_answer *gw_dedup_find(struct gw_dedup *d, int64_t device_id, uint16_t mid,
                                            const uint8_t *token, size_t token_len, int64_t now_ms);

/*
 * Remembers the answer to a request (replacing an older entry with the same key).
 * Returns: 0, -ERANGE (payload longer than GW_DEDUP_PAYLOAD_MAX or token longer than 8 bytes:
 * not cached).
 */
int gw_dedup_put(struct gw_dedup *d, int64_t device_id, uint16_t mid, const uint8_t *token,
                 size_t token_len, int64_t now_ms, const struct gw_dedup_answer *answer);

/* Returns: the number of live entries (expired ones not yet evicted included). */
size_t gw_dedup_count(const struct gw_dedup *d);

#endif /* GW_DEDUP_H */
