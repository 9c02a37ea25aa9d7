/* SPDX-License-Identifier: MIT */
/*
 * fuzz_profile_model.c - libFuzzer entry for the device-profile JSON validator
 * (profiles/profile_model.c). Each input is parsed as a device profile and as a device's
 * power-saving override, and the two are resolved together. It aborts on a broken contract: an
 * accepted profile whose stored (normalised) JSON does not parse again to the same text, a
 * Protobuf profile without its four schemas, an error without a message, or a resolved timer
 * that is not positive. Inputs above 64 KiB are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/profile_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_profile(const struct profile_config *p)
{
    int i;

    for (i = 0; i < PROFILE_SCHEMA_COUNT; i++) {
        if ((p->payload_type == PROFILE_PAYLOAD_PROTOBUF) != (p->schema[i] != NULL) ||
            (p->schema[i] != NULL && p->schema[i][0] == '\0')) {
            abort();
        }
    }
    if (p->name == NULL || p->name[0] == '\0' ||
        (p->provision != PROFILE_PROVISION_DISABLED &&
         (p->provision_key == NULL || p->provision_secret == NULL))) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct profile_config p, again;
    struct profile_power device;
    struct profile_power_eff eff;
    char err[512], *norm = NULL, *norm2 = NULL;
    int rc, rc2;

    if (size > 65536) {
        return 0;
    }
    err[0] = '\0';
    rc = profile_config_parse((const char *)data, size, NULL, &p, &norm, err, sizeof(err));
    if (rc != 0 && (err[0] == '\0' || norm != NULL)) {
        abort();
    }
    if (rc == 0) {
        check_profile(&p);
        if (profile_config_parse(norm, strlen(norm), NULL, &again, &norm2, err, sizeof(err)) != 0 ||
            strcmp(norm, norm2) != 0) {
            abort();
        }
        profile_config_fini(&again);
    }
    rc2 = profile_power_parse((const char *)data, size, &device, err, sizeof(err));
    profile_power_resolve(rc == 0 && p.has_power ? &p.power : NULL, rc2 == 0 ? &device : NULL,
                          10000, 10000, &eff);
    if (eff.psm_activity_timer_ms <= 0 || eff.paging_window_ms <= 0 || eff.edrx_cycle_ms < 0) {
        abort();
    }
    free(norm);
    free(norm2);
    if (rc == 0) {
        profile_config_fini(&p);
    }
    return 0;
}
