/* SPDX-License-Identifier: MIT */
/* fuzz_path.c - a packed Uri-Path from untrusted bytes through the device API's path parser. */
#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_path_seg segs[GW_PATH_MAX_SEGMENTS];
    struct gw_path path;
    int n;

    if (size > 1034) { /* a CoAP option is at most 1034 bytes long */
        return 0;
    }
    n = gw_path_split_packed((const char *)data, size, segs, GW_PATH_MAX_SEGMENTS);
    if (n >= 0) {
        gw_path_parse(segs, (size_t)n, &path);
    }
    return 0;
}
