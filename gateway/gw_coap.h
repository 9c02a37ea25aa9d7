/* SPDX-License-Identifier: MIT */
/*
 * gw_coap.h - nbgate's CoAP side: the libcoap context, the UDP endpoint and the device API
 * handlers. Every libcoap call of nbgate is in gw_coap.c.
 * Thread: loop thread only.
 */
#ifndef GW_COAP_H
#define GW_COAP_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_config.h"
#include "gateway/gw_store.h"

struct gw_coap;

/* Counters for the log and the metrics. */
struct gw_coap_stats {
    uint64_t requests;
    uint64_t duplicates;    /* answered from the retransmission cache */
    uint64_t stored;        /* 2.01 after a commit */
    uint64_t client_errors; /* 4.xx */
    uint64_t server_errors; /* 5.xx */
};

/*
 * Creates the libcoap context and the plain-CoAP endpoint on cfg->coap_bind_address:port.
 * Returns: 0, -EADDRINUSE / -EINVAL / -EIO (err says why), -ENOMEM.
 * Ownership: cfg and store are borrowed and must outlive the object; caller owns *out, free
 * with gw_coap_free().
 */
int gw_coap_new(const struct gw_config *cfg, struct gw_store *store, struct gw_coap **out,
                char *err, size_t err_len);

/* Closes every session and the endpoint. NULL is a no-op. */
void gw_coap_free(struct gw_coap *c);

/* Returns: the descriptor to wait on for readability (libcoap's epoll set). */
int gw_coap_fd(const struct gw_coap *c);

/* Services everything libcoap has ready (datagrams, retransmissions, timers); never blocks. */
void gw_coap_process(struct gw_coap *c);

/*
 * Periodic work of the loop (every GW_COAP_TICK_MS and after a wake-up): new downlinks queued by
 * the admin side or the command line, expiries, and devices whose reachability window opens.
 */
void gw_coap_tick(struct gw_coap *c);

#define GW_COAP_TICK_MS 200

/*
 * Writes the CoAP answers so far as Prometheus lines (nbgate_coap_answers_total{code="2.01"} N)
 * into buf. Returns: the bytes needed, like snprintf.
 * Thread: any thread (the counters are atomic); c must outlive the call.
 */
size_t gw_coap_metrics(void *c, char *buf, size_t len);

/* Returns: the counters so far (borrowed). */
const struct gw_coap_stats *gw_coap_stats(const struct gw_coap *c);

/* Initialises libcoap once per process (and routes its log through gw_log). */
void gw_coap_startup(void);

/* Releases libcoap's process-wide state. */
void gw_coap_cleanup(void);

#endif /* GW_COAP_H */
