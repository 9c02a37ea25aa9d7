/* SPDX-License-Identifier: MIT */
/*
 * gw_sched.h - per-device reachability and the min-heap of next-due times behind the downlink
 * scheduler (spec 16.3-16.7, DESIGN "Downlink: the scheduler").
 *
 * Pure and clock-free: every call takes "now" in ms from the caller (CLOCK_MONOTONIC in the
 * daemon, any counter in tests), so unit tests run PSM and eDRX windows in milliseconds. The
 * heap holds only devices that wait for a time (a window start); idle devices cost nothing per
 * tick, and the next wake-up is O(1) to read and O(log n) to update.
 * Thread: loop thread only.
 */
#ifndef GW_SCHED_H
#define GW_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gw_power_mode {
    GW_PM_NONE = 0, /* no power saving configured: always reachable */
    GW_PM_DRX,
    GW_PM_PSM,
    GW_PM_EDRX,
};

/* The effective power-saving settings of a device (resolved from profile and device, ms). */
struct gw_power {
    enum gw_power_mode mode;
    int64_t psm_activity_ms; /* T_psm */
    int64_t ptw_ms;          /* T_ptw, paging transmission window */
    int64_t edrx_cycle_ms;   /* C; 0 = unknown */
};

enum gw_obs_kind { GW_OBS_ATTR = 0, GW_OBS_RPC = 1 };

/* One device's scheduling state. */
struct gw_sched_dev {
    int64_t device_id;
    int64_t profile_id;       /* the profile the power settings came from */
    int64_t power_checked_ms; /* when the power settings were last resolved */
    uint64_t reach_hash;      /* hash of the reachability text last written to the store */
    int64_t reach_written_ms;
    int64_t last_uplink_ms;           /* L, monotonic ms; 0 = no uplink since start */
    int64_t last_activity_written_ms; /* when lastActivity last went to the store */
    int64_t last_data_ts_ms;          /* newest server-stamped data time, keeps stamps unique */
    int64_t last_error_event_ms;      /* monotonic ms of the last error entry in the event log */
    int64_t last_uplink_event_ms;     /* monotonic ms of the last UPLINK entry of an upload */
    uint32_t uplinks_unlisted;        /* uploads since then that got no entry of their own */
    struct gw_power power;
    void *obs[2];       /* the device's observations (owned by gw_coap), or NULL */
    void *retired[2];   /* replaced observations awaiting their final 2.02 */
    bool is_in_flight;  /* a notification awaits its ACK */
    bool has_allowance; /* eDRX with an unknown cycle: one downlink outside the window */
    uint16_t in_flight_mid;
    int64_t in_flight_ids[64]; /* downlink entries the in-flight notification completes */
    size_t n_in_flight;
    int in_flight_kind; /* enum gw_dl_kind of the in-flight entry */
    int64_t due_ms;     /* heap key; -1 when not in the heap */
    size_t heap_idx;
};

struct gw_sched;

/* Returns: a new empty scheduler, or NULL. Ownership: free with gw_sched_free(). */
struct gw_sched *gw_sched_new(void);

/* Frees the scheduler and every device state. NULL is a no-op. */
void gw_sched_free(struct gw_sched *s);

/*
 * Finds a device's state, creating it (DRX, no uplink) when create is true.
 * Returns: borrowed pointer valid until gw_sched_free, or NULL (unknown, or out of memory).
 */
struct gw_sched_dev *gw_sched_get(struct gw_sched *s, int64_t device_id, bool create);

/* Records an uplink at now: L = max(L, now), and the eDRX allowance is re-armed. */
void gw_sched_uplink(struct gw_sched_dev *d, int64_t now_ms);

/*
 * Decides whether a downlink may go to the device now (spec 16.5).
 * Returns: true if reachable; otherwise false with *next_ms the start of the next window, or -1
 * when only an uplink can open one (PSM, or eDRX with an unknown cycle).
 */
bool gw_sched_reachable(const struct gw_sched_dev *d, int64_t now_ms, int64_t *next_ms);

/* Puts the device in the heap at due_ms (or moves it); due_ms < 0 removes it. */
void gw_sched_set_due(struct gw_sched *s, struct gw_sched_dev *d, int64_t due_ms);

/* Returns: the earliest due time in the heap, or -1 when it is empty. */
int64_t gw_sched_next_due(const struct gw_sched *s);

/* Removes and returns a device whose due time is <= now, or NULL. */
struct gw_sched_dev *gw_sched_pop_due(struct gw_sched *s, int64_t now_ms);

/*
 * Describes when the device can be reached, for the operator ("PSM: awake until 10:42:13",
 * "eDRX: next paging window at 10:45:02", "DRX: reachable while it observes"). Times are shown
 * in UTC from now_real_ms (wall clock) and now_ms (the monotonic clock of the state).
 * Returns: the length written (at most len - 1).
 */
size_t gw_sched_describe(const struct gw_sched_dev *d, int64_t now_ms, int64_t now_real_ms,
                         char *buf, size_t len);

/* Returns: the number of devices with a state. */
size_t gw_sched_count(const struct gw_sched *s);

/* Visits every device state (for shutdown and for status listings). */
void gw_sched_foreach(struct gw_sched *s, void (*fn)(void *arg, struct gw_sched_dev *d), void *arg);

#endif /* GW_SCHED_H */
