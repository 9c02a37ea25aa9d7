/* SPDX-License-Identifier: MIT */
/*
 * fuzz_efento_config.c - libFuzzer entry: arbitrary bytes as a ProtoConfig (POST c) through
 * efento_config_parse, the split bookkeeping, and efento_config_attrs over the body alone and
 * over the body sent twice as two parts (protobuf merge of a split configuration).
 * Invariant: the EFENTO_CONFIG_ATTRS_MAX / EFENTO_CONFIG_TEXT_MAX buffers always suffice, so
 * -ERANGE only for bodies above the cap. Seeds: tests/fuzz/corpus/efento_config/.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "efento/efento.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct efento_attr g_attrs[EFENTO_CONFIG_ATTRS_MAX];
static char g_text[EFENTO_CONFIG_TEXT_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct efento_part parts[2] = { { data, size }, { data, size } };
    struct efento_config_info info;
    struct efento_split split;
    struct efento_split_step step;
    size_t n = 0, k;
    int rc = efento_config_parse(parts, 1, NULL, &info, NULL, 0);

    assert(rc == 0 || rc == -EBADMSG || (rc == -ERANGE && size > EFENTO_PAYLOAD_MAX));
    efento_split_init(&split);
    if (rc == 0) {
        assert(efento_split_add(&split, info.payload_split_info, size, 1000, &step) == 0);
    }
    for (k = 1; k <= 2; k++) {
        rc = efento_config_attrs(parts, k, NULL, g_attrs, EFENTO_CONFIG_ATTRS_MAX, &n, g_text,
                                 EFENTO_CONFIG_TEXT_MAX, NULL, 0);
        assert(rc == 0 || rc == -EBADMSG || (rc == -ERANGE && size > EFENTO_PAYLOAD_MAX));
    }
    return 0;
}
