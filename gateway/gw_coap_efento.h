/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_efento.h - shared by the two files of the Efento resources: gw_coap_efento.c (the
 * resources, decoding, identification, retransmissions) and gw_coap_efento_frame.c (what a
 * frame commits: records, attributes, events, queue states and the downlink). Loop thread only.
 */
#ifndef GW_COAP_EFENTO_H
#define GW_COAP_EFENTO_H

#include <stdbool.h>
#include <stdint.h>

#include "efento/efento.h"
#include "gateway/gw_coap_internal.h"
#include "gateway/gw_store.h"

#ifndef NBGATE_BUILD_EPOCH
#define NBGATE_BUILD_EPOCH 1767225600 /* 2026-01-01, when the build does not say */
#endif
/* A gateway clock earlier than a day before nbgate was built is implausible (R1): it booted
 * without a valid time, and its time must not reach the sensors. */
#define GW_EFENTO_CLOCK_FLOOR_S ((int64_t)NBGATE_BUILD_EPOCH - 86400)

/* One authenticated Efento frame on its way through (gw_coap_efento.c fills it). */
struct gw_efento_frame {
    struct gw_req *r;
    char res; /* 'm', 'i', 'c' */
    bool is_con;
    uint16_t mid;
    struct efento_ident id;
    struct efento_meas_info meas;       /* res 'm' */
    struct efento_config_info cfg;      /* res 'c' */
    size_t n_readings;                  /* decoded readings in readings[] ('m', 'i') */
    struct gw_efento_device dev;        /* the device, its profile settings and Efento state */
    char new_token[GW_EFENTO_TEXT_MAX]; /* found by an in-flight new token (3.2), else "" */
    bool is_batch;                      /* an auto-accepted device: one transaction (R2.6) */
    char peer[64];
    /* the loop thread's buffers (borrowed) */
    struct efento_reading *readings; /* EFENTO_MEAS_READINGS_MAX */
    struct profile_kv *kv;           /* as many: views of readings or attributes */
    struct efento_attr *attrs;       /* EFENTO_CONFIG_ATTRS_MAX */
    char *text;                      /* EFENTO_CONFIG_TEXT_MAX */
};

/* The decoder bounds of section 9 from the configuration (efento_* keys, max_payload_size). */
void gw_coap_efento_opts(const struct gw_config *cfg, struct efento_opts *o);

/*
 * Handle an identified, new (not retransmitted) measurement, device info or configuration
 * frame: commit everything it produced, then set the answer (CON 2.01, possibly with a
 * downlink for 'm'; NON none; 5.00 when storing failed).
 */
void gw_coap_efento_meas(struct gw_efento_frame *f, struct gw_answer *a);
void gw_coap_efento_devinfo(struct gw_efento_frame *f, struct gw_answer *a);
void gw_coap_efento_config(struct gw_efento_frame *f, struct gw_answer *a);

#endif /* GW_COAP_EFENTO_H */
