/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_profile.c - device profiles on the loop thread: a small cache of parsed profiles
 * (revalidated against the store's change time at most once a second, so an edit takes effect for
 * every device of the profile without a restart), and the power-saving settings of a device
 * resolved from its profile and its own override (spec 16.2) for the scheduler.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"
#include "profiles/profile_model.h"

#define PROFILE_SLOTS        32
#define REVALIDATE_PERIOD_MS 1000
#define DEFAULT_PSM_TIMER_MS 10000 /* COAP_PSM_ACTIVITY_TIMER */
#define DEFAULT_PTW_MS       10000 /* COAP_PAGING_TRANSMISSION_WINDOW */

struct profile_slot {
    int64_t id;         /* 0: empty */
    int64_t updated_ms; /* the store's version of what is loaded */
    int64_t checked_ms; /* monotonic time of the last revalidation */
    struct profile_config cfg;
};

static struct profile_slot slots[PROFILE_SLOTS];

static struct profile_slot *slot_for(int64_t profile_id)
{
    struct profile_slot *oldest = &slots[0];
    size_t i;

    for (i = 0; i < PROFILE_SLOTS; i++) {
        if (slots[i].id == profile_id) {
            return &slots[i];
        }
        if (slots[i].id == 0 || slots[i].checked_ms < oldest->checked_ms) {
            oldest = &slots[i];
        }
    }
    if (oldest->id != 0) {
        profile_config_fini(&oldest->cfg);
    }
    memset(oldest, 0, sizeof(*oldest));
    return oldest;
}

const struct profile_config *gw_coap_profile(struct gw_coap *c, int64_t profile_id, int64_t mono_ms)
{
    struct profile_slot *s = slot_for(profile_id);
    char err[256];
    int64_t updated = 0;
    int rc;

    if (s->id == profile_id && mono_ms - s->checked_ms < REVALIDATE_PERIOD_MS) {
        return &s->cfg;
    }
    if (s->id == profile_id && gw_store_profile_updated(c->store, profile_id, &updated) == 0 &&
        updated == s->updated_ms) {
        s->checked_ms = mono_ms;
        return &s->cfg;
    }
    if (s->id != 0) {
        profile_config_fini(&s->cfg);
    }
    memset(s, 0, sizeof(*s));
    rc = gw_store_profile_load(c->store, profile_id, &s->cfg, &s->updated_ms, err, sizeof(err));
    if (rc != 0) {
        gw_log_err("device profile unusable profile=%lld rc=%d err=\"%s\"", (long long)profile_id,
                   rc, err);
        memset(s, 0, sizeof(*s));
        return NULL;
    }
    s->id = profile_id;
    s->checked_ms = mono_ms;
    return &s->cfg;
}

void gw_coap_profiles_free(void)
{
    size_t i;

    for (i = 0; i < PROFILE_SLOTS; i++) {
        if (slots[i].id != 0) {
            profile_config_fini(&slots[i].cfg);
        }
        memset(&slots[i], 0, sizeof(slots[i]));
    }
}

void gw_coap_power_refresh(struct gw_coap *c, struct gw_sched_dev *d, int64_t profile_id,
                           int64_t mono_ms)
{
    const struct profile_config *p = gw_coap_profile(c, profile_id, mono_ms);
    struct profile_power dev_power;
    struct profile_power_eff eff;

    memset(&dev_power, 0, sizeof(dev_power));
    if (gw_store_device_power(c->store, d->device_id, &dev_power) != 0) {
        dev_power.mode = PROFILE_POWER_UNSET;
    }
    profile_power_resolve(p != NULL && p->has_power ? &p->power : NULL, &dev_power,
                          DEFAULT_PSM_TIMER_MS, DEFAULT_PTW_MS, &eff);
    switch (eff.mode) {
    case PROFILE_POWER_PSM:
        d->power.mode = GW_PM_PSM;
        break;
    case PROFILE_POWER_E_DRX:
        d->power.mode = GW_PM_EDRX;
        break;
    case PROFILE_POWER_DRX:
        d->power.mode = GW_PM_DRX;
        break;
    default:
        d->power.mode = GW_PM_NONE;
        break;
    }
    d->power.psm_activity_ms = eff.psm_activity_timer_ms;
    d->power.ptw_ms = eff.paging_window_ms;
    d->power.edrx_cycle_ms = eff.edrx_cycle_ms;
    d->profile_id = profile_id;
}
