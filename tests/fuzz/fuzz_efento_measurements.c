/* SPDX-License-Identifier: MIT */
/*
 * fuzz_efento_measurements.c - libFuzzer entry: arbitrary bytes as a ProtoMeasurements body
 * (POST m) through efento_measurements_decode. Invariants: only 0, -EBADMSG or (for bodies
 * above the cap) -ERANGE; the EFENTO_MEAS_READINGS_MAX array always suffices; records are
 * sorted by time. Seeds: tests/fuzz/corpus/efento_measurements/ (protoc --encode of
 * tests/data/efento/meas_*.txtpb, the worked examples of specs/efento.md 14).
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "efento/efento.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct efento_reading g_out[EFENTO_MEAS_READINGS_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct efento_meas_info info;
    char err[256];
    size_t n = 0, i;
    int rc = efento_measurements_decode(data, size, NULL, &info, g_out, EFENTO_MEAS_READINGS_MAX,
                                        &n, err, sizeof(err));

    assert(rc == 0 || rc == -EBADMSG || (rc == -ERANGE && size > EFENTO_PAYLOAD_MAX));
    assert(rc == 0 || n == 0);
    for (i = 1; i < n; i++) {
        assert(g_out[i - 1].ts_ms <= g_out[i].ts_ms);
    }
    return 0;
}
