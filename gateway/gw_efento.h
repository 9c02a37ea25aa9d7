/* SPDX-License-Identifier: MIT */
/*
 * gw_efento.h - the gateway's Efento logic that needs neither libcoap nor SQL (specs/efento.md
 * sections 8.2-8.5): admin settings as JSON applied to a ProtoConfig downlink, which reply a
 * queued entry waits for, whether a configuration shows the queued values, the clock-sync rule,
 * and the conversions of the codec's readings and attributes into the store's records.
 *
 * Settings JSON (8.4): an object whose members are attribute names of table 6.6 (direction S or
 * B), e.g. {"measurementPeriodBase":120,"rules":[{"channelMask":1,"condition":
 * "CONDITION_HIGH_THRESHOLD","parameters":[300,10,1,1,1],"action":"ACTION_TRIGGER_TRANSMISSION"}]}.
 * Numbers and booleans for scalar fields, strings for strings, enum value names and base64
 * bytes, arrays of numbers for repeated numbers, objects for sub-messages; enums inside rules,
 * calendars and bleAdvertisingPeriod by value name (as the sensor's configuration prints them).
 * Used by gw_coap_efento.c (downlinks) and gw_cli_efento.c (validation before queuing).
 * Thread: every function is reentrant.
 */
#ifndef GW_EFENTO_H
#define GW_EFENTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "efento/efento.h"
#include "gateway/gw_dedup.h"
#include "profiles/profile.h"

/*
 * Bytes of a downlink payload: section 9's cap, or less so that the retransmission cache can
 * keep the exact answer (R3.4). Queued settings must leave GW_EFENTO_AUTO_BYTES for the
 * automatic fields (current_time and the two requests).
 */
#define GW_EFENTO_DOWNLINK_MAX                                                                     \
    (EFENTO_DOWNLINK_MAX < GW_DEDUP_PAYLOAD_MAX ? EFENTO_DOWNLINK_MAX : GW_DEDUP_PAYLOAD_MAX)
#define GW_EFENTO_AUTO_BYTES   16
#define GW_EFENTO_SETTINGS_MAX 8192 /* bytes of one queued settings object (JSON text) */
#define GW_EFENTO_MAX_SENDS    3    /* an entry sent this often without delivery fails (8.5) */

/* What a queued entry waits for once it is delivered (8.5). */
enum gw_efento_confirm {
    GW_EFENTO_CONFIRM_NONE = 0,    /* commands without a reply: final at DELIVERED */
    GW_EFENTO_CONFIRM_DEVICE_INFO, /* deviceInfoRequest only: the next device info frame */
    GW_EFENTO_CONFIRM_CONFIG,      /* settings or configurationRequest: the next configuration */
};

/*
 * Applies a settings object to a downlink builder (a member set twice: the later one wins).
 * Returns: 0; -EINVAL (not a JSON object, or a member of the wrong JSON type); -ENOENT (not a
 * settable attribute); -ERANGE (outside table 6.6); -ENOMEM. err names the member and why.
 * Ownership: json borrowed; dl is the caller's.
 */
int gw_efento_settings_apply(struct efento_downlink *dl, const char *json, size_t len, char *err,
                             size_t err_len);

/* Returns: the confirmation a settings object waits for (NONE for unparseable text). */
enum gw_efento_confirm gw_efento_settings_confirm(const char *json);

/*
 * Compares the settings (B fields) of a queued object with a complete configuration printed as
 * attributes (efento_config_attrs). Requests and values the sensor cannot report back (keys, the
 * APN password, nvmStatus) are not compared; objects compare by the members queued.
 * Returns: true when every compared member shows the queued value; false with why naming the
 * first difference ("measurementPeriodBase: queued 120, sensor has 60").
 */
bool gw_efento_settings_match(const char *json, const struct efento_attr *attrs, size_t n,
                              char *why, size_t why_len);

/*
 * The clock-sync rule of 8.3 for a CON measurement frame received at now_s: true when the
 * frame's newest sample is ahead by more than threshold_s, or behind by more than threshold_s
 * plus its channel's period in a frame that is not a retry; threshold 0 = always, negative =
 * never. *drift_s (may be NULL) = newest - now_s (0 when the frame has no samples).
 */
bool gw_efento_clock_sync(const struct efento_meas_info *m, int64_t now_s, int64_t threshold_s,
                          int64_t *drift_s);

/* Writes the first max_bytes of p (at most len) as lower-case hex, NUL-terminated, into out. */
void gw_efento_hex(const uint8_t *p, size_t len, size_t max_bytes, char *out, size_t cap);

/*
 * A record that borrows a reading's key and text (no copy): valid while r is.
 * Ownership: kv's pointers point into r; never free them or pass kv to profile_batch_clear().
 */
void gw_efento_reading_kv(const struct efento_reading *r, struct profile_kv *kv);

/* As gw_efento_reading_kv for a configuration attribute (ts_ms 0). */
void gw_efento_attr_kv(const struct efento_attr *a, struct profile_kv *kv);

#endif /* GW_EFENTO_H */
