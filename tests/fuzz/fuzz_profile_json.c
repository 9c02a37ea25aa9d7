/* SPDX-License-Identifier: MIT */
/*
 * fuzz_profile_json.c - libFuzzer entry for the Default-JSON adaptor (profiles/profile_json.c).
 * Each input is decoded as telemetry (type casting on) and as attributes (casting off, short
 * strings, few keys), and every record is rendered. Besides the sanitizers, it aborts on a broken
 * contract: a diagnostic over 200 bytes or on two lines, records left after an error, or a JSON
 * value the adaptor itself reads back as invalid JSON. Inputs above 64 KiB are skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct profile_limits lims[2] = { { 1000, 0, true }, { 8, 16, false } };
    struct profile_batch b, again;
    char err[256], out[64];
    size_t i, k;
    int rc;

    if (size > 65536) {
        return 0;
    }
    if (profile_batch_init(&b, 1000) != 0 || profile_batch_init(&again, 1) != 0) {
        abort();
    }
    for (k = 0; k < 2; k++) {
        rc = k == 0 ? profile_json_telemetry(data, size, 1, &lims[0], &b, err, sizeof(err))
                    : profile_json_attributes(data, size, &lims[1], &b, err, sizeof(err));
        if ((rc != 0 && b.n != 0) ||
            (rc == -EBADMSG && (strlen(err) > 200 || strchr(err, '\n') != NULL))) {
            abort();
        }
        for (i = 0; i < b.n; i++) {
            (void)profile_value_to_json(&b.kv[i].v, out, sizeof(out));
            if (b.kv[i].v.type == PROFILE_VT_JSON &&
                profile_json_attributes((const uint8_t *)b.kv[i].v.s, b.kv[i].v.s_len, &lims[0],
                                        &again, err, sizeof(err)) == -EBADMSG &&
                strncmp(err, "invalid JSON", 12) == 0) {
                abort();
            }
            profile_batch_clear(&again);
        }
        profile_batch_clear(&b);
    }
    profile_batch_fini(&again);
    profile_batch_fini(&b);
    return 0;
}
