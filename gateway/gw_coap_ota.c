/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_ota.c - firmware and software downloads (spec 10): GET /fw/{token}, /sw/{token} and
 * the /api/v1/{token}/firmware|software aliases.
 *
 * Query: title and version must match the package when given; size (bytes per chunk) and chunk
 * (0-based) select the slice [chunk * size, min(len, chunk * size + size)); no size: the whole
 * image. The slice is then served block-wise (RFC 7959 Block2): blocks of at most 1024 bytes, or
 * the client's smaller SZX, random access allowed, Size2 on the first block. Later blocks of one
 * transfer keep the package version they started with (per endpoint and path, for 300 s), even if
 * the operator assigns another package meanwhile. OTA requests are activity, not uplinks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"

#define MAX_BLOCK_SZX   6 /* 1024 bytes */
#define TRANSFERS_MAX   32
#define TRANSFER_TTL_MS 300000

struct transfer {
    coap_session_t *session; /* identity only */
    int64_t device_id;
    bool is_software;
    int64_t package_id;
    int64_t last_ms;
};

static struct transfer transfers[TRANSFERS_MAX];

struct ota_query {
    const uint8_t *title, *version;
    size_t title_len, version_len;
    int64_t size, chunk; /* -1: absent */
};

/* Parses a non-negative decimal; returns -1 on anything else (sign, letters, overflow, empty). */
static int64_t parse_count(const uint8_t *v, size_t len)
{
    int64_t n = 0;
    size_t i;

    if (len == 0 || len > 12) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return -1;
        }
        n = n * 10 + (v[i] - '0');
    }
    return n;
}

static bool parse_query(const coap_pdu_t *pdu, struct ota_query *q, struct gw_answer *a)
{
    coap_opt_iterator_t it;
    coap_opt_filter_t filter;
    coap_opt_t *opt;

    memset(q, 0, sizeof(*q));
    q->size = q->chunk = -1;
    coap_option_filter_clear(&filter);
    (void)coap_option_filter_set(&filter, COAP_OPTION_URI_QUERY);
    (void)coap_option_iterator_init(pdu, &it, &filter);
    while ((opt = coap_option_next(&it)) != NULL) {
        const uint8_t *v = coap_opt_value(opt);
        size_t len = coap_opt_length(opt);
        const uint8_t *eq = memchr(v, '=', len);
        size_t nl, vl;
        if (eq == NULL) {
            continue;
        }
        nl = (size_t)(eq - v);
        vl = len - nl - 1;
        if (nl == 5 && memcmp(v, "title", 5) == 0) {
            q->title = eq + 1;
            q->title_len = vl;
        } else if (nl == 7 && memcmp(v, "version", 7) == 0) {
            q->version = eq + 1;
            q->version_len = vl;
        } else if ((nl == 4 && memcmp(v, "size", 4) == 0) ||
                   (nl == 5 && memcmp(v, "chunk", 5) == 0)) {
            int64_t n = parse_count(eq + 1, vl);
            if (n < 0) {
                gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST,
                               "%.*s must be a non-negative integer", (int)nl, (const char *)v);
                return false;
            }
            *(nl == 4 ? &q->size : &q->chunk) = n;
        }
    }
    return true;
}

static struct transfer *transfer_find(coap_session_t *session, int64_t device_id, bool is_sw,
                                      int64_t now, bool create)
{
    struct transfer *oldest = &transfers[0];
    size_t i;

    for (i = 0; i < TRANSFERS_MAX; i++) {
        struct transfer *t = &transfers[i];
        if (t->session != NULL && now - t->last_ms > TRANSFER_TTL_MS) {
            memset(t, 0, sizeof(*t));
        }
        if (t->session == session && t->device_id == device_id && t->is_software == is_sw) {
            return t;
        }
        if (t->session == NULL || t->last_ms < oldest->last_ms) {
            oldest = t;
        }
    }
    if (!create) {
        return NULL;
    }
    memset(oldest, 0, sizeof(*oldest));
    oldest->session = session;
    oldest->device_id = device_id;
    oldest->is_software = is_sw;
    return oldest;
}

/* Finds the package: the one this transfer started with (block > 0), else the assigned one. */
static int resolve(struct gw_req *r, bool is_sw, uint32_t block_num, struct gw_ota_info *pkg)
{
    struct transfer *t = transfer_find(r->session, r->dev.id, is_sw, r->mono_ms, false);
    int rc;

    if (block_num > 0 && t != NULL && gw_store_ota_get(r->c->store, t->package_id, pkg) == 0) {
        t->last_ms = r->mono_ms;
        return 0;
    }
    rc = gw_store_ota_for_device(r->c->store, r->dev.id, is_sw, pkg);
    if (rc == 0) {
        t = transfer_find(r->session, r->dev.id, is_sw, r->mono_ms, true);
        t->package_id = pkg->id;
        t->last_ms = r->mono_ms;
    }
    return rc;
}

static bool matches(const uint8_t *want, size_t len, const char *have)
{
    return want == NULL || (strlen(have) == len && memcmp(have, want, len) == 0);
}

void gw_coap_ota(struct gw_req *r, struct gw_answer *a, bool is_sw)
{
    coap_opt_iterator_t it;
    coap_opt_t *b2 = coap_check_option(r->pdu, COAP_OPTION_BLOCK2, &it);
    uint32_t b2v = b2 != NULL ? coap_decode_var_bytes(coap_opt_value(b2), coap_opt_length(b2)) : 0;
    uint32_t num = b2v >> 4, szx = b2 != NULL ? (b2v & 7) : MAX_BLOCK_SZX;
    struct gw_ota_info pkg;
    struct ota_query q;
    int64_t start, end, bstart, bend, bsize;
    uint8_t *data;
    int rc;

    if (!parse_query(r->pdu, &q, a)) {
        return;
    }
    /* The /api/v1 aliases serve an X.509 device bound to its DTLS session; /fw and /sw stay
     * access-token only, as in ThingsBoard. */
    rc = r->path.root == GW_ROOT_API_V1 ? gw_coap_dtls_device(r->c, r->session, &r->dev) : -ENOENT;
    if (rc == -ENOENT) {
        rc =
            r->path.has_token && r->path.token.len > 0
                ? gw_store_device_by_token(r->c->store, r->path.token.p, r->path.token.len, &r->dev)
                : -ENOENT;
    }
    if (rc != 0) {
        if (rc == -ENOENT) {
            gw_coap_pending_note(r);
        }
        gw_coap_answer(a, gw_coap_code_for_error(rc), NULL);
        return;
    }
    r->has_dev = true;
    (void)gw_store_touch_activity(r->c->store, r->dev.id, r->now_ms);
    if (szx > MAX_BLOCK_SZX) {
        szx = MAX_BLOCK_SZX;
    }
    rc = resolve(r, is_sw, num, &pkg);
    if (rc != 0) {
        gw_coap_answer(
            a, rc == -ENOENT ? COAP_RESPONSE_CODE_NOT_FOUND : COAP_RESPONSE_CODE_INTERNAL_ERROR,
            rc == -ENOENT ? "no %s package assigned" : "storage error",
            is_sw ? "software" : "firmware");
        return;
    }
    if (!matches(q.title, q.title_len, pkg.title) ||
        !matches(q.version, q.version_len, pkg.version)) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST,
                       "title or version does not match the assigned package");
        return;
    }
    start = 0;
    end = pkg.size_bytes;
    if (q.size > 0) {
        int64_t chunk = q.chunk > 0 ? q.chunk : 0;
        start = chunk * q.size;
        end = start + q.size < pkg.size_bytes ? start + q.size : pkg.size_bytes;
        if (start >= pkg.size_bytes) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST,
                           "chunk %lld beyond end of package (%lld bytes)", (long long)chunk,
                           (long long)pkg.size_bytes);
            return;
        }
    }
    bsize = (int64_t)1 << (szx + 4);
    bstart = start + (int64_t)num * bsize;
    if (bstart > end || (bstart == end && num > 0)) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "block %u beyond end of package",
                       (unsigned)num);
        return;
    }
    bend = bstart + bsize < end ? bstart + bsize : end;
    data = malloc((size_t)(bend - bstart) + 1);
    if (data == NULL ||
        gw_store_ota_read(r->c->store, pkg.id, bstart, (size_t)(bend - bstart), data) != 0) {
        free(data);
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "storage error");
        return;
    }
    gw_coap_answer_body(a, COAP_RESPONSE_CODE_CONTENT, -1, (char *)data, (size_t)(bend - bstart));
    if (b2 != NULL || end - start > bsize) {
        a->has_block2 = true;
        a->block2 = (num << 4) | (bend < end ? 0x8u : 0) | szx;
        if (num == 0 || coap_check_option(r->pdu, COAP_OPTION_SIZE2, &it) != NULL) {
            a->size2 = end - start;
        }
    }
}
