/* SPDX-License-Identifier: MIT */
/*
 * fuzz_efento_device_info.c - libFuzzer entry: arbitrary bytes as a ProtoDeviceInfo body
 * (POST i) through efento_device_info_decode. Invariants: only 0, -EBADMSG or (above the cap)
 * -ERANGE; EFENTO_DEVINFO_READINGS_MAX records always suffice; every record has the receive
 * time. Seeds: tests/fuzz/corpus/efento_device_info/ (tests/data/efento/devinfo_*.txtpb).
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "efento/efento.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct efento_reading g_out[EFENTO_DEVINFO_READINGS_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct efento_ident id;
    size_t n = 0, i;
    int rc = efento_device_info_decode(data, size, NULL, 1700000000000LL, &id, g_out,
                                       EFENTO_DEVINFO_READINGS_MAX, &n, NULL, 0);

    assert(rc == 0 || rc == -EBADMSG || (rc == -ERANGE && size > EFENTO_PAYLOAD_MAX));
    for (i = 0; i < n; i++) {
        assert(g_out[i].ts_ms == 1700000000000LL);
    }
    return 0;
}
