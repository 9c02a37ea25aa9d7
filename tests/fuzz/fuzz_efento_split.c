/* SPDX-License-Identifier: MIT */
/*
 * fuzz_efento_split.c - libFuzzer entry: the split-configuration bookkeeping (specs/efento.md
 * 3.5, 7.10, section 9) driven by arbitrary part sequences. Input: byte 0 and 1 lower the limits
 * (parts, bytes / 64), then records of 5 bytes: payload_split_info (int8), part length
 * (uint16, big-endian), seconds since the previous part (uint16, big-endian).
 * Invariants after every part: only parts 1..max_parts are held, the held bytes stay within
 * max_bytes, a stored index is in range, a completed set leaves nothing held.
 * Seeds: tests/fuzz/corpus/efento_split/.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "efento/efento.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct efento_split s;
    struct efento_split_step step;
    struct efento_opts o;
    int64_t now_s = 1700000000;
    size_t i, bytes;
    uint32_t k;

    if (size < 2) {
        return 0;
    }
    efento_opts_init(&o);
    o.split_parts = 1 + data[0] % EFENTO_SPLIT_PARTS_MAX;
    o.split_bytes = 64 + (size_t)data[1] * 64;
    efento_split_init(&s);
    efento_split_limit(&s, &o, 1 + data[0] * 60);
    for (i = 2; i + 5 <= size; i += 5) {
        int32_t info = (int8_t)data[i];
        size_t len = (size_t)data[i + 1] << 8 | data[i + 2];
        now_s += (int64_t)((uint32_t)data[i + 3] << 8 | data[i + 4]);
        assert(efento_split_add(&s, info, len, now_s, &step) == 0);
        if (step.is_store) {
            assert(step.index >= 1 && step.index <= s.max_parts);
        }
        if (step.is_complete) {
            assert(s.held_mask == 0);
        }
        assert((s.held_mask >> s.max_parts) == 0);
        for (k = 0, bytes = 0; k < EFENTO_SPLIT_PARTS_MAX; k++) {
            bytes += (s.held_mask >> k & 1u) != 0 ? s.part_bytes[k] : 0;
        }
        assert(bytes <= s.max_bytes);
    }
    return 0;
}
