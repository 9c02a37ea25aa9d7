/* SPDX-License-Identifier: MIT */
/*
 * gw_path.h - maps a request's Uri-Path segments to nbgate's resources and, inside /api/v1, to
 * the ThingsBoard feature, access token and RPC id (specs/coap-device-api.md sections 3.1, 3.2).
 * Pure: no I/O, no libcoap. Segments are borrowed byte strings (not NUL-terminated).
 */
#ifndef GW_PATH_H
#define GW_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PATH_MAX_SEGMENTS 16

/* The first-level resource. */
enum gw_path_root {
    GW_ROOT_UNKNOWN = 0, /* 4.04 */
    GW_ROOT_EMPTY,       /* "/" */
    GW_ROOT_API,         /* exactly /api: a container, every method 4.05 */
    GW_ROOT_API_V1,      /* /api/v1 and everything below */
    GW_ROOT_FW,          /* /fw/... */
    GW_ROOT_SW,          /* /sw/... */
    GW_ROOT_EFENTO,      /* /efento/{m,i,c,t} and the factory paths /m, /i, /c, /t */
};

/* The ThingsBoard feature named by an /api/v1 path. */
enum gw_path_feature {
    GW_FEATURE_NONE = 0,
    GW_FEATURE_ATTRIBUTES,
    GW_FEATURE_TELEMETRY,
    GW_FEATURE_RPC,
    GW_FEATURE_CLAIM,
    GW_FEATURE_PROVISION,
    GW_FEATURE_FIRMWARE,
    GW_FEATURE_SOFTWARE,
};

struct gw_path_seg {
    const char *p;
    size_t len;
};

struct gw_path {
    enum gw_path_root root;
    enum gw_path_feature feature;
    bool has_token;
    struct gw_path_seg token; /* borrowed from the segments */
    bool has_rpc_id;
    int32_t rpc_id;
    char efento_res; /* GW_ROOT_EFENTO: 'm', 'i', 'c', 't', or 0 for another sub-path */
};

/*
 * Splits a single packed Uri-Path option ("api/v1/T/telemetry", with or without a leading '/')
 * into segments, as ThingsBoard does when a request carries exactly one Uri-Path option
 * containing '/'. Returns: the number of segments (at most max), or -ERANGE if there are more.
 */
int gw_path_split_packed(const char *p, size_t len, struct gw_path_seg *segs, size_t max);

/* Classifies the segments (P[0] = "api" ...). Never fails: unknown paths give GW_ROOT_UNKNOWN. */
void gw_path_parse(const struct gw_path_seg *segs, size_t n, struct gw_path *out);

/* Returns: the feature's name in capitals ("TELEMETRY"), "NONE" for none. */
const char *gw_path_feature_name(enum gw_path_feature f);

#endif /* GW_PATH_H */
