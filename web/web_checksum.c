/* SPDX-License-Identifier: MIT */
/*
 * web_checksum.c - the checksums of OTA packages, computed incrementally and written as the text
 * ThingsBoard stores (Guava's HashCode.toString(), specs/rest-api.md 6a.3), because devices
 * compare fw_checksum with their own computation:
 *
 *   MD5, SHA256, SHA384, SHA512   lower-case hex of the digest bytes (mbedTLS)
 *   CRC32                         zlib's CRC-32; the 4 bytes of the value little-endian
 *   MURMUR3_32                    MurmurHash3 x86 32-bit, seed 0; 4 bytes little-endian
 *   MURMUR3_128                   MurmurHash3 x64 128-bit, seed 0; h1 then h2, each little-endian
 *
 * The Murmur3 states keep the bytes of an unfinished block, so data may come in chunks of any
 * size. Pure: no I/O, no log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "web/web_internal.h"

static const char *const alg_names[] = {
    [WEB_CK_MD5] = "MD5",
    [WEB_CK_SHA256] = "SHA256",
    [WEB_CK_SHA384] = "SHA384",
    [WEB_CK_SHA512] = "SHA512",
    [WEB_CK_CRC32] = "CRC32",
    [WEB_CK_MURMUR3_32] = "MURMUR3_32",
    [WEB_CK_MURMUR3_128] = "MURMUR3_128",
};

static uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

static uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* ---- CRC-32 (reflected, polynomial 0xEDB88320) -------------------------------------------- */

static void crc32_update(struct web_checksum *c, const uint8_t *p, size_t len)
{
    uint32_t crc = ~c->crc;
    size_t i;
    int k;

    for (i = 0; i < len; i++) {
        crc ^= p[i];
        for (k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
        }
    }
    c->crc = ~crc;
}

/* ---- MurmurHash3 --------------------------------------------------------------------------- */

static void m32_block(struct web_checksum *c, const uint8_t *p)
{
    uint32_t k = le32(p) * 0xcc9e2d51u;

    k = rotl32(k, 15) * 0x1b873593u;
    c->h1 = (uint64_t)(rotl32((uint32_t)c->h1 ^ k, 13) * 5u + 0xe6546b64u);
}

static void m128_block(struct web_checksum *c, const uint8_t *p)
{
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t k1 = le64(p), k2 = le64(p + 8);

    k1 = rotl64(k1 * c1, 31) * c2;
    c->h1 ^= k1;
    c->h1 = (rotl64(c->h1, 27) + c->h2) * 5 + 0x52dce729;
    k2 = rotl64(k2 * c2, 33) * c1;
    c->h2 ^= k2;
    c->h2 = (rotl64(c->h2, 31) + c->h1) * 5 + 0x38495ab5;
}

/* Feeds whole blocks of bsize bytes, keeping an unfinished block in c->tail. */
static void murmur_update(struct web_checksum *c, const uint8_t *p, size_t len, size_t bsize)
{
    size_t take;

    c->total += len;
    while (len > 0) {
        take = bsize - c->n_tail < len ? bsize - c->n_tail : len;
        memcpy(c->tail + c->n_tail, p, take);
        c->n_tail += take;
        p += take;
        len -= take;
        if (c->n_tail == bsize) {
            if (bsize == 4) {
                m32_block(c, c->tail);
            } else {
                m128_block(c, c->tail);
            }
            c->n_tail = 0;
        }
    }
}

static uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    return k ^ (k >> 33);
}

static uint32_t m32_final(struct web_checksum *c)
{
    uint32_t h = (uint32_t)c->h1, k = 0;
    size_t i;

    for (i = c->n_tail; i > 0; i--) {
        k = (k << 8) | c->tail[i - 1];
    }
    if (c->n_tail > 0) {
        h ^= rotl32(k * 0xcc9e2d51u, 15) * 0x1b873593u;
    }
    h ^= (uint32_t)c->total;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    return h ^ (h >> 16);
}

static void m128_final(struct web_checksum *c, uint64_t *o1, uint64_t *o2)
{
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    uint64_t k1 = 0, k2 = 0, h1 = c->h1, h2 = c->h2;
    size_t i;

    for (i = c->n_tail; i > 8; i--) {
        k2 = (k2 << 8) | c->tail[i - 1];
    }
    for (i = c->n_tail < 8 ? c->n_tail : 8; i > 0; i--) {
        k1 = (k1 << 8) | c->tail[i - 1];
    }
    if (c->n_tail > 8) {
        h2 ^= rotl64(k2 * c2, 33) * c1;
    }
    if (c->n_tail > 0) {
        h1 ^= rotl64(k1 * c1, 31) * c2;
    }
    h1 ^= c->total;
    h2 ^= c->total;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    *o1 = h1;
    *o2 = h2;
}

/* ---- the interface ------------------------------------------------------------------------ */

const char *web_checksum_name(enum web_checksum_alg alg)
{
    return alg >= WEB_CK_MD5 && alg <= WEB_CK_MURMUR3_128 ? alg_names[alg] : "?";
}

int web_checksum_init(struct web_checksum *c, const char *name)
{
    static const mbedtls_md_type_t md_types[] = { [WEB_CK_MD5] = MBEDTLS_MD_MD5,
                                                  [WEB_CK_SHA256] = MBEDTLS_MD_SHA256,
                                                  [WEB_CK_SHA384] = MBEDTLS_MD_SHA384,
                                                  [WEB_CK_SHA512] = MBEDTLS_MD_SHA512 };
    int i;

    memset(c, 0, sizeof(*c));
    mbedtls_md_init(&c->md);
    for (i = WEB_CK_MD5; i <= WEB_CK_MURMUR3_128; i++) {
        if (strcasecmp(name, alg_names[i]) == 0) {
            c->alg = (enum web_checksum_alg)i;
        }
    }
    if (c->alg == 0) {
        return -EINVAL;
    }
    if (c->alg <= WEB_CK_SHA512) {
        if (mbedtls_md_setup(&c->md, mbedtls_md_info_from_type(md_types[c->alg]), 0) != 0 ||
            mbedtls_md_starts(&c->md) != 0) {
            return -ENOMEM;
        }
    }
    return 0;
}

void web_checksum_update(struct web_checksum *c, const void *data, size_t len)
{
    const uint8_t *p = data;

    if (c->alg <= WEB_CK_SHA512) {
        (void)mbedtls_md_update(&c->md, p, len);
    } else if (c->alg == WEB_CK_CRC32) {
        crc32_update(c, p, len);
    } else {
        murmur_update(c, p, len, c->alg == WEB_CK_MURMUR3_32 ? 4 : 16);
    }
}

static void hex(const uint8_t *b, size_t n, char *out, size_t out_len)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n && 2 * i + 2 < out_len; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * i] = '\0';
}

static void put_le(uint8_t *b, uint64_t v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        b[i] = (uint8_t)(v >> (8 * i));
    }
}

void web_checksum_final(struct web_checksum *c, char *out, size_t out_len)
{
    uint8_t b[64];
    uint64_t h1 = 0, h2 = 0;
    size_t n = 4;

    if (c->alg <= WEB_CK_SHA512) {
        n = mbedtls_md_get_size(c->md.md_info);
        (void)mbedtls_md_finish(&c->md, b);
    } else if (c->alg == WEB_CK_CRC32) {
        put_le(b, c->crc, 4);
    } else if (c->alg == WEB_CK_MURMUR3_32) {
        put_le(b, m32_final(c), 4);
    } else {
        m128_final(c, &h1, &h2);
        put_le(b, h1, 8);
        put_le(b + 8, h2, 8);
        n = 16;
    }
    hex(b, n, out, out_len);
}

void web_checksum_fini(struct web_checksum *c)
{
    mbedtls_md_free(&c->md);
}
