/* SPDX-License-Identifier: MIT */
/*
 * test_path.c - ThingsBoard's segment positions (spec 3.2) as a table: feature, token and RPC id
 * for each path shape, the packed single Uri-Path option, and the first-level resources.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/gw_path.h"

struct path_case {
    const char *path; /* segments joined by '/', split as separate options */
    enum gw_path_root root;
    enum gw_path_feature feature;
    const char *token; /* NULL = none */
    int has_rpc_id;
    int32_t rpc_id;
};

static const struct path_case cases[] = {
    { "api/v1/T/telemetry", GW_ROOT_API_V1, GW_FEATURE_TELEMETRY, "T", 0, 0 },
    { "api/v1/T/TELEMETRY", GW_ROOT_API_V1, GW_FEATURE_TELEMETRY, "T", 0, 0 },
    { "api/v1/T/telemetry/x/y", GW_ROOT_API_V1, GW_FEATURE_TELEMETRY, "T", 0, 0 },
    { "api/v1/T/attributes/updates", GW_ROOT_API_V1, GW_FEATURE_ATTRIBUTES, "T", 0, 0 },
    { "api/v1/T/rpc", GW_ROOT_API_V1, GW_FEATURE_RPC, "T", 0, 0 },
    { "api/v1/T/rpc/17", GW_ROOT_API_V1, GW_FEATURE_RPC, "T", 1, 17 },
    { "api/v1/T/rpc/-5", GW_ROOT_API_V1, GW_FEATURE_RPC, "T", 1, -5 },
    { "api/v1/T/rpc/+5", GW_ROOT_API_V1, GW_FEATURE_RPC, "T", 1, 5 },
    { "api/v1/T/rpc/99999999999", GW_ROOT_API_V1, GW_FEATURE_RPC, "T", 0, 0 },
    { "api/v1/T/rpc/2147483648", GW_ROOT_API_V1, GW_FEATURE_RPC, "T", 0, 0 },
    { "api/v1/T/rpc/-2147483648", GW_ROOT_API_V1, GW_FEATURE_RPC, "T", 1, INT32_MIN },
    { "api/v1/rpc/42", GW_ROOT_API_V1, GW_FEATURE_RPC, "rpc", 1, 42 },
    { "api/v1/telemetry", GW_ROOT_API_V1, GW_FEATURE_TELEMETRY, NULL, 0, 0 },
    { "api/v1/rpc", GW_ROOT_API_V1, GW_FEATURE_RPC, NULL, 0, 0 },
    { "api/v1/provision", GW_ROOT_API_V1, GW_FEATURE_PROVISION, NULL, 0, 0 },
    { "api/v1/T/provision", GW_ROOT_API_V1, GW_FEATURE_PROVISION, "T", 0, 0 },
    { "api/v1/T/claim", GW_ROOT_API_V1, GW_FEATURE_CLAIM, "T", 0, 0 },
    { "api/v1/T/firmware", GW_ROOT_API_V1, GW_FEATURE_FIRMWARE, "T", 0, 0 },
    { "api/v1/T/software", GW_ROOT_API_V1, GW_FEATURE_SOFTWARE, "T", 0, 0 },
    { "api/v1/T", GW_ROOT_API_V1, GW_FEATURE_NONE, NULL, 0, 0 },
    { "api/v1/T/bogus", GW_ROOT_API_V1, GW_FEATURE_NONE, "T", 0, 0 },
    { "api/v1", GW_ROOT_API_V1, GW_FEATURE_NONE, NULL, 0, 0 },
    { "api/v1//telemetry", GW_ROOT_API_V1, GW_FEATURE_TELEMETRY, "", 0, 0 },
    { "api", GW_ROOT_API, GW_FEATURE_NONE, NULL, 0, 0 },
    { "api/v2/T/telemetry", GW_ROOT_UNKNOWN, GW_FEATURE_NONE, NULL, 0, 0 },
    { "fw/T", GW_ROOT_FW, GW_FEATURE_NONE, NULL, 0, 0 },
    { "sw/T", GW_ROOT_SW, GW_FEATURE_NONE, NULL, 0, 0 },
    { "efento/m", GW_ROOT_EFENTO, GW_FEATURE_NONE, NULL, 0, 0 },
    { "efento/x", GW_ROOT_EFENTO, GW_FEATURE_NONE, NULL, 0, 0 },
    { "t", GW_ROOT_EFENTO, GW_FEATURE_NONE, NULL, 0, 0 },
    { "m", GW_ROOT_EFENTO, GW_FEATURE_NONE, NULL, 0, 0 },
    { "x", GW_ROOT_UNKNOWN, GW_FEATURE_NONE, NULL, 0, 0 },
    { "m/x", GW_ROOT_EFENTO, GW_FEATURE_NONE, NULL, 0, 0 },
    { "foo", GW_ROOT_UNKNOWN, GW_FEATURE_NONE, NULL, 0, 0 },
    { "", GW_ROOT_EMPTY, GW_FEATURE_NONE, NULL, 0, 0 },
};

static size_t split(const char *path, struct gw_path_seg *segs)
{
    size_t n = 0;
    const char *p = path;

    if (*path == '\0') {
        return 0;
    }
    for (;;) {
        const char *slash = strchr(p, '/');
        segs[n].p = p;
        segs[n].len = slash != NULL ? (size_t)(slash - p) : strlen(p);
        n++;
        if (slash == NULL) {
            return n;
        }
        p = slash + 1;
    }
}

static void check(const struct path_case *c, const struct gw_path *got)
{
    if (got->root != c->root || got->feature != c->feature ||
        got->has_token != (c->token != NULL) || got->has_rpc_id != c->has_rpc_id ||
        (c->has_rpc_id && got->rpc_id != c->rpc_id)) {
        fail_msg("%s: root %d feature %s token %d rpc %d/%d", c->path, got->root,
                 gw_path_feature_name(got->feature), got->has_token, got->has_rpc_id,
                 (int)got->rpc_id);
    }
    if (c->token != NULL &&
        (got->token.len != strlen(c->token) || memcmp(got->token.p, c->token, got->token.len))) {
        fail_msg("%s: wrong token", c->path);
    }
}

static void test_table(void **state)
{
    struct gw_path_seg segs[GW_PATH_MAX_SEGMENTS];
    struct gw_path got;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gw_path_parse(segs, split(cases[i].path, segs), &got);
        check(&cases[i], &got);
    }
}

static void test_packed_option(void **state)
{
    struct gw_path_seg segs[GW_PATH_MAX_SEGMENTS];
    struct gw_path got;
    int n;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char packed[128];
        if (strchr(cases[i].path, '/') == NULL) {
            continue;
        }
        (void)snprintf(packed, sizeof(packed), "%s%s", i % 2 ? "/" : "", cases[i].path);
        n = gw_path_split_packed(packed, strlen(packed), segs, GW_PATH_MAX_SEGMENTS);
        assert_true(n > 0);
        gw_path_parse(segs, (size_t)n, &got);
        check(&cases[i], &got);
    }
    assert_int_equal(gw_path_split_packed("a/b/c", 5, segs, 2), -ERANGE);
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_packed_option),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
