/* SPDX-License-Identifier: MIT */
/* fuzz_config.c - config lines from untrusted bytes: never crash, always a verdict. */
#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_config cfg;
    char err[256];

    if (size > 65536) {
        return 0;
    }
    gw_config_defaults(&cfg);
    if (gw_config_load_buffer(&cfg, "fuzz", (const char *)data, size, err, sizeof(err)) == 0) {
        (void)gw_config_validate(&cfg, err, sizeof(err));
    }
    return 0;
}
