/* SPDX-License-Identifier: MIT */
/*
 * gw_path.c - path parsing of the device API, segment positions as ThingsBoard has them:
 *
 *   n >= 4: feature = P[3], except n == 4 with an all-digit P[3] (/api/v1/rpc/{id}): P[2]
 *   n == 3: "provision" anywhere -> PROVISION, else feature = P[2]      (X.509 form)
 *   n <= 2: no feature
 *   token  = P[2] when n > 3
 *   rpc id = P[4] if n >= 5 else P[3], a Java int (optional sign, 32-bit), POST rpc only
 *
 * Feature names compare case-insensitively; extra trailing segments are ignored.
 */
#include "gateway/gw_path.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

static const char *const feature_names[] = {
    [GW_FEATURE_NONE] = "NONE",           [GW_FEATURE_ATTRIBUTES] = "ATTRIBUTES",
    [GW_FEATURE_TELEMETRY] = "TELEMETRY", [GW_FEATURE_RPC] = "RPC",
    [GW_FEATURE_CLAIM] = "CLAIM",         [GW_FEATURE_PROVISION] = "PROVISION",
    [GW_FEATURE_FIRMWARE] = "FIRMWARE",   [GW_FEATURE_SOFTWARE] = "SOFTWARE",
};

const char *gw_path_feature_name(enum gw_path_feature f)
{
    return feature_names[f];
}

static bool seg_is(const struct gw_path_seg *s, const char *lit)
{
    return s->len == strlen(lit) && memcmp(s->p, lit, s->len) == 0;
}

static bool seg_is_nocase(const struct gw_path_seg *s, const char *lit)
{
    return s->len == strlen(lit) && strncasecmp(s->p, lit, s->len) == 0;
}

static bool seg_all_digits(const struct gw_path_seg *s)
{
    size_t i;

    if (s->len == 0) {
        return false;
    }
    for (i = 0; i < s->len; i++) {
        if (s->p[i] < '0' || s->p[i] > '9') {
            return false;
        }
    }
    return true;
}

/* Parses a Java int: optional sign, decimal digits, within 32 bits. */
static bool seg_java_int(const struct gw_path_seg *s, int32_t *out)
{
    int64_t v = 0;
    size_t i = 0;
    bool is_neg = false;

    if (s->len > 0 && (s->p[0] == '+' || s->p[0] == '-')) {
        is_neg = s->p[0] == '-';
        i = 1;
    }
    if (i == s->len || s->len > 12) {
        return false;
    }
    for (; i < s->len; i++) {
        if (s->p[i] < '0' || s->p[i] > '9') {
            return false;
        }
        v = v * 10 + (s->p[i] - '0');
    }
    v = is_neg ? -v : v;
    if (v < INT32_MIN || v > INT32_MAX) {
        return false;
    }
    *out = (int32_t)v;
    return true;
}

static enum gw_path_feature feature_of(const struct gw_path_seg *s)
{
    int f;

    for (f = GW_FEATURE_ATTRIBUTES; f <= GW_FEATURE_SOFTWARE; f++) {
        if (seg_is_nocase(s, feature_names[f])) {
            return (enum gw_path_feature)f;
        }
    }
    return GW_FEATURE_NONE;
}

int gw_path_split_packed(const char *p, size_t len, struct gw_path_seg *segs, size_t max)
{
    size_t n = 0;
    size_t start;
    size_t i;

    if (len > 0 && p[0] == '/') {
        p++;
        len--;
    }
    start = 0;
    for (i = 0; i <= len; i++) {
        if (i == len || p[i] == '/') {
            if (n == max) {
                return -ERANGE;
            }
            segs[n].p = p + start;
            segs[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    return (int)n;
}

static void parse_api_v1(const struct gw_path_seg *segs, size_t n, struct gw_path *out)
{
    size_t i;

    if (n >= 4) {
        out->feature = feature_of(n == 4 && seg_all_digits(&segs[3]) ? &segs[2] : &segs[3]);
    } else if (n == 3) {
        for (i = 0; i < n; i++) {
            if (seg_is(&segs[i], "provision")) {
                out->feature = GW_FEATURE_PROVISION;
            }
        }
        if (out->feature == GW_FEATURE_NONE) {
            out->feature = feature_of(&segs[2]);
        }
    }
    if (n > 3) {
        out->has_token = true;
        out->token = segs[2];
    }
    if (out->feature == GW_FEATURE_RPC && n >= 4) {
        out->has_rpc_id = seg_java_int(n >= 5 ? &segs[4] : &segs[3], &out->rpc_id);
    }
}

void gw_path_parse(const struct gw_path_seg *segs, size_t n, struct gw_path *out)
{
    memset(out, 0, sizeof(*out));
    if (n == 0 || (n == 1 && segs[0].len == 0)) {
        out->root = GW_ROOT_EMPTY;
    } else if (seg_is(&segs[0], "api")) {
        if (n == 1) {
            out->root = GW_ROOT_API;
        } else if (seg_is(&segs[1], "v1")) {
            out->root = GW_ROOT_API_V1;
            parse_api_v1(segs, n, out);
        }
    } else if (seg_is(&segs[0], "fw")) {
        out->root = GW_ROOT_FW;
    } else if (seg_is(&segs[0], "sw")) {
        out->root = GW_ROOT_SW;
    } else if (seg_is(&segs[0], "efento")) {
        out->root = GW_ROOT_EFENTO;
        if (n == 2 && segs[1].len == 1 && segs[1].p[0] != '\0' &&
            strchr("mict", segs[1].p[0]) != NULL) {
            out->efento_res = segs[1].p[0];
        }
    } else if (segs[0].len == 1 && segs[0].p[0] != '\0' && strchr("mict", segs[0].p[0]) != NULL) {
        /* Efento's factory settings post to /m, /i, /c, /t; deeper paths are Efento's too (4.00) */
        out->root = GW_ROOT_EFENTO;
        out->efento_res = n == 1 ? segs[0].p[0] : 0;
    }
}
