/* SPDX-License-Identifier: MIT */
/*
 * gw_x509.c - one device certificate in, its DER bytes, SHA-256 fingerprint and printable fields
 * out, with mbedTLS 2.28; and a server key in, its unencrypted PEM out (memory only).
 *
 * Accepted input (at most GW_X509_TEXT_MAX bytes, checked before anything is copied):
 *   DER       first byte 0x30 (SEQUENCE); nothing may follow the certificate
 *   PEM       text with exactly one "-----BEGIN CERTIFICATE-----" block (other text around it is
 *             ignored, as OpenSSL does)
 *   base64    the PEM body alone, as ThingsBoard stores X.509 credentials; whitespace is dropped
 * Anything else, a second certificate, or a block that does not parse is refused with a one-line
 * reason. The fingerprint is over the DER bytes exactly as received (R7), never re-encoded.
 *
 * Keys: mbedTLS 2.28 reads legacy encrypted PEM and PKCS#8 PBES2 with DES, but not PBES2 with
 * AES-CBC, which is what OpenSSL 3 writes by default ("openssl pkcs8 -topk8", "genpkey -aes256").
 * That one is decrypted here from mbedTLS's parts (RFC 8018 6.2 and A.4):
 *   EncryptedPrivateKeyInfo ::= SEQUENCE { AlgorithmIdentifier {PBES2, PBES2-params},
 *                                          encryptedData OCTET STRING }
 *   PBES2-params ::= SEQUENCE { {PBKDF2, {salt OCTET STRING, iterationCount INTEGER,
 *                               keyLength INTEGER OPTIONAL, prf AlgorithmIdentifier DEFAULT
 *                               hmacWithSHA1}}, {aes*-CBC | des-ede3-cbc, iv OCTET STRING} }
 */
#include "gateway/gw_x509.h"

#include <errno.h>
#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/cipher.h>
#include <mbedtls/ecp.h>
#include <mbedtls/error.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEM_BEGIN       "-----BEGIN CERTIFICATE-----"
#define P8_BEGIN        "-----BEGIN ENCRYPTED PRIVATE KEY-----"
#define P8_END          "-----END ENCRYPTED PRIVATE KEY-----"
#define KEY_TEXT_MAX    (64 * 1024) /* bytes of key text accepted */
#define PBKDF2_ITER_MAX 10000000    /* refuse absurd iteration counts (a hang, not a key) */
#define OID_AES128_CBC  MBEDTLS_OID_AES "\x02"
#define OID_AES192_CBC  MBEDTLS_OID_AES "\x16"
#define OID_AES256_CBC  MBEDTLS_OID_AES "\x2a"

static void hex_lower(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * len] = '\0';
}

int gw_x509_fingerprint(const uint8_t *der, size_t len, char out[GW_X509_FINGERPRINT_LEN])
{
    uint8_t sum[32];

    if (der == NULL || len == 0) {
        return -EINVAL;
    }
    if (mbedtls_sha256_ret(der, len, sum, 0) != 0) {
        return -EIO;
    }
    hex_lower(sum, sizeof(sum), out);
    return 0;
}

bool gw_x509_is_fingerprint(const char *s)
{
    size_t i;

    for (i = 0; i < GW_X509_FINGERPRINT_LEN - 1; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return s[i] == '\0';
}

static int64_t epoch_of(const mbedtls_x509_time *t)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = t->year - 1900;
    tm.tm_mon = t->mon - 1;
    tm.tm_mday = t->day;
    tm.tm_hour = t->hour;
    tm.tm_min = t->min;
    tm.tm_sec = t->sec;
    return (int64_t)timegm(&tm);
}

static void key_type_of(const mbedtls_x509_crt *crt, char *out, size_t len)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(&crt->pk);
    const char *curve = "?";

    if (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECKEY_DH || t == MBEDTLS_PK_ECDSA) {
        const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(crt->pk);
        const mbedtls_ecp_curve_info *info =
            ec != NULL ? mbedtls_ecp_curve_info_from_grp_id(ec->grp.id) : NULL;

        if (info != NULL) {
            curve = info->grp_id == MBEDTLS_ECP_DP_SECP256R1   ? "P-256"
                    : info->grp_id == MBEDTLS_ECP_DP_SECP384R1 ? "P-384"
                    : info->grp_id == MBEDTLS_ECP_DP_SECP521R1 ? "P-521"
                                                               : info->name;
        }
        (void)snprintf(out, len, "EC %s", curve);
    } else {
        (void)snprintf(out, len, "%s %zu", mbedtls_pk_get_name(&crt->pk),
                       mbedtls_pk_get_bitlen(&crt->pk));
    }
}

/* Self-signed: the issuer is the subject and the certificate's own key verifies its signature. */
static bool self_signed(const mbedtls_x509_crt *crt)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(crt->sig_md);
    uint8_t hash[MBEDTLS_MD_MAX_SIZE];

    if (md == NULL || crt->issuer_raw.len != crt->subject_raw.len ||
        memcmp(crt->issuer_raw.p, crt->subject_raw.p, crt->issuer_raw.len) != 0 ||
        mbedtls_md(md, crt->tbs.p, crt->tbs.len, hash) != 0) {
        return false;
    }
    return mbedtls_pk_verify_ext(crt->sig_pk, crt->sig_opts, (mbedtls_pk_context *)&crt->pk,
                                 crt->sig_md, hash, mbedtls_md_get_size(md), crt->sig.p,
                                 crt->sig.len) == 0;
}

static int fill(const mbedtls_x509_crt *crt, struct gw_x509_cert *out)
{
    out->der = malloc(crt->raw.len);
    if (out->der == NULL) {
        return -ENOMEM;
    }
    memcpy(out->der, crt->raw.p, crt->raw.len);
    out->der_len = crt->raw.len;
    if (gw_x509_fingerprint(out->der, out->der_len, out->fingerprint) != 0) {
        return -EIO;
    }
    if (mbedtls_x509_dn_gets(out->subject, sizeof(out->subject), &crt->subject) < 0) {
        out->subject[0] = '\0';
    }
    if (mbedtls_x509_dn_gets(out->issuer, sizeof(out->issuer), &crt->issuer) < 0) {
        out->issuer[0] = '\0';
    }
    if (mbedtls_x509_serial_gets(out->serial, sizeof(out->serial), &crt->serial) < 0) {
        out->serial[0] = '\0';
    }
    key_type_of(crt, out->key_type, sizeof(out->key_type));
    out->not_before_s = epoch_of(&crt->valid_from);
    out->not_after_s = epoch_of(&crt->valid_to);
    out->is_self_signed = self_signed(crt);
    return 0;
}

static void why(char *err, size_t err_len, const char *what, int mbed_rc)
{
    char text[160];

    mbedtls_strerror(mbed_rc, text, sizeof(text));
    (void)snprintf(err, err_len, "%s: %s", what, text);
}

/* DER bytes: exactly one certificate, nothing after it. */
static int parse_der(const uint8_t *der, size_t len, struct gw_x509_cert *out, char *err,
                     size_t err_len)
{
    mbedtls_x509_crt crt;
    int rc;

    mbedtls_x509_crt_init(&crt);
    rc = mbedtls_x509_crt_parse_der(&crt, der, len);
    if (rc != 0) {
        why(err, err_len, "not an X.509 certificate", rc);
        rc = -EINVAL;
        goto out;
    }
    if (crt.raw.len != len) {
        (void)snprintf(err, err_len, "%zu bytes follow the certificate", len - crt.raw.len);
        rc = -EINVAL;
        goto out;
    }
    rc = fill(&crt, out);
out:
    mbedtls_x509_crt_free(&crt);
    return rc;
}

/* PEM text (NUL-terminated, len includes the NUL): exactly one certificate block. */
static int parse_pem(const char *text, size_t len, struct gw_x509_cert *out, char *err,
                     size_t err_len)
{
    const char *first = strstr(text, PEM_BEGIN);
    mbedtls_x509_crt crt;
    int rc;

    if (first == NULL) {
        (void)snprintf(err, err_len, "no \"" PEM_BEGIN "\" block (is this a certificate?)");
        return -EINVAL;
    }
    if (strstr(first + 1, PEM_BEGIN) != NULL) {
        (void)snprintf(err, err_len, "more than one certificate: give the device's own only");
        return -EINVAL;
    }
    mbedtls_x509_crt_init(&crt);
    rc = mbedtls_x509_crt_parse(&crt, (const unsigned char *)text, len);
    if (rc != 0) {
        if (rc > 0) {
            (void)snprintf(err, err_len, "the certificate block does not parse");
        } else {
            why(err, err_len, "the certificate block does not parse", rc);
        }
        rc = -EINVAL;
        goto out;
    }
    rc = fill(&crt, out);
out:
    mbedtls_x509_crt_free(&crt);
    return rc;
}

/* The base64 body alone: whitespace dropped, then decoded and parsed as DER. */
static int parse_base64(char *text, struct gw_x509_cert *out, char *err, size_t err_len)
{
    uint8_t *der = NULL;
    size_t n = 0, der_len = 0;
    size_t i;
    int rc;

    for (i = 0; text[i] != '\0'; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r' && text[i] != '\n') {
            text[n++] = text[i];
        }
    }
    text[n] = '\0';
    der = malloc(n + 1);
    if (der == NULL) {
        return -ENOMEM;
    }
    if (n == 0 ||
        mbedtls_base64_decode(der, n + 1, &der_len, (const unsigned char *)text, n) != 0 ||
        der_len == 0 || der[0] != 0x30) {
        (void)snprintf(err, err_len,
                       "not a certificate: neither PEM (\"" PEM_BEGIN "\") nor a base64 body");
        rc = -EINVAL;
        goto out;
    }
    rc = parse_der(der, der_len, out, err, err_len);
out:
    free(der);
    return rc;
}

int gw_x509_parse(const void *data, size_t len, struct gw_x509_cert *out, char *err, size_t err_len)
{
    const uint8_t *p = data;
    char *text = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (len == 0) {
        (void)snprintf(err, err_len, "empty certificate");
        return -EINVAL;
    }
    if (len > GW_X509_TEXT_MAX) {
        (void)snprintf(err, err_len, "certificate longer than %d bytes", GW_X509_TEXT_MAX);
        return -EINVAL;
    }
    if (p[0] == 0x30) {
        rc = parse_der(p, len, out, err, err_len);
        goto out;
    }
    if (memchr(p, '\0', len) != NULL) {
        (void)snprintf(err, err_len, "not a certificate: binary data that is not DER");
        rc = -EINVAL;
        goto out;
    }
    text = malloc(len + 1);
    if (text == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(text, p, len);
    text[len] = '\0';
    if (strstr(text, "-----BEGIN") != NULL) {
        rc = parse_pem(text, len + 1, out, err, err_len);
    } else {
        rc = parse_base64(text, out, err, err_len);
    }
out:
    free(text);
    if (rc != 0) {
        gw_x509_fini(out);
    }
    return rc;
}

void gw_x509_fini(struct gw_x509_cert *c)
{
    free(c->der);
    c->der = NULL;
    c->der_len = 0;
}

char *gw_x509_body_base64(const struct gw_x509_cert *c)
{
    size_t need = 0;
    char *out;

    (void)mbedtls_base64_encode(NULL, 0, &need, c->der, c->der_len);
    out = malloc(need + 1);
    if (out == NULL) {
        return NULL;
    }
    if (mbedtls_base64_encode((unsigned char *)out, need + 1, &need, c->der, c->der_len) != 0) {
        free(out);
        return NULL;
    }
    out[need] = '\0';
    return out;
}

bool gw_x509_is_valid_at(const struct gw_x509_cert *c, int64_t now_s)
{
    return now_s >= c->not_before_s && now_s <= c->not_after_s;
}

/* ---- private keys ------------------------------------------------------------------------- */

struct pbes2 {
    const uint8_t *salt;
    size_t salt_len;
    int iterations;
    mbedtls_md_type_t prf;
    mbedtls_cipher_type_t cipher;
    const uint8_t *iv;
    size_t iv_len;
    const uint8_t *data; /* the encrypted PrivateKeyInfo */
    size_t data_len;
};

static bool oid_is(const mbedtls_asn1_buf *oid, const char *want, size_t want_len)
{
    return oid->len == want_len && memcmp(oid->p, want, want_len) == 0;
}

static int parse_pbkdf2(unsigned char *p, const unsigned char *end, struct pbes2 *o)
{
    mbedtls_asn1_buf prf_oid, prf_params;
    int key_len = 0;
    size_t n;

    o->prf = MBEDTLS_MD_SHA1;
    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0) {
        return -EINVAL;
    }
    o->salt = p;
    o->salt_len = n;
    p += n;
    if (mbedtls_asn1_get_int(&p, end, &o->iterations) != 0 || o->iterations < 1 ||
        o->iterations > PBKDF2_ITER_MAX) {
        return -EINVAL;
    }
    if (p < end && *p == MBEDTLS_ASN1_INTEGER && mbedtls_asn1_get_int(&p, end, &key_len) != 0) {
        return -EINVAL;
    }
    if (p < end && (mbedtls_asn1_get_alg(&p, end, &prf_oid, &prf_params) != 0 ||
                    mbedtls_oid_get_md_hmac(&prf_oid, &o->prf) != 0)) {
        return -EINVAL;
    }
    return 0;
}

static int parse_scheme(const mbedtls_asn1_buf *oid, const mbedtls_asn1_buf *params,
                        struct pbes2 *o)
{
    if (oid_is(oid, OID_AES128_CBC, sizeof(OID_AES128_CBC) - 1)) {
        o->cipher = MBEDTLS_CIPHER_AES_128_CBC;
    } else if (oid_is(oid, OID_AES192_CBC, sizeof(OID_AES192_CBC) - 1)) {
        o->cipher = MBEDTLS_CIPHER_AES_192_CBC;
    } else if (oid_is(oid, OID_AES256_CBC, sizeof(OID_AES256_CBC) - 1)) {
        o->cipher = MBEDTLS_CIPHER_AES_256_CBC;
    } else if (mbedtls_oid_get_cipher_alg(oid, &o->cipher) != 0) {
        return -EINVAL;
    }
    if (params->tag != MBEDTLS_ASN1_OCTET_STRING) {
        return -EINVAL;
    }
    o->iv = params->p;
    o->iv_len = params->len;
    return 0;
}

static int parse_pbes2(unsigned char *p, const unsigned char *end, struct pbes2 *o)
{
    mbedtls_asn1_buf alg, params, kdf, kdf_params, enc, enc_params;
    unsigned char *q;
    size_t n;

    if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) {
        return -EINVAL;
    }
    end = p + n;
    if (mbedtls_asn1_get_alg(&p, end, &alg, &params) != 0 ||
        !oid_is(&alg, MBEDTLS_OID_PKCS5_PBES2, sizeof(MBEDTLS_OID_PKCS5_PBES2) - 1) ||
        params.tag != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) ||
        mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_OCTET_STRING) != 0) {
        return -EINVAL;
    }
    o->data = p;
    o->data_len = n;
    q = params.p;
    if (mbedtls_asn1_get_alg(&q, params.p + params.len, &kdf, &kdf_params) != 0 ||
        mbedtls_asn1_get_alg(&q, params.p + params.len, &enc, &enc_params) != 0 ||
        !oid_is(&kdf, MBEDTLS_OID_PKCS5_PBKDF2, sizeof(MBEDTLS_OID_PKCS5_PBKDF2) - 1) ||
        kdf_params.tag != (MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE)) {
        return -EINVAL;
    }
    if (parse_pbkdf2(kdf_params.p, kdf_params.p + kdf_params.len, o) != 0) {
        return -EINVAL;
    }
    return parse_scheme(&enc, &enc_params, o);
}

/* Decrypts o->data into plain (at least o->data_len bytes). Returns: 0, -EKEYREJECTED, -EINVAL. */
static int pbes2_decrypt(const struct pbes2 *o, const char *password, uint8_t *plain,
                         size_t *plain_len)
{
    const mbedtls_cipher_info_t *ci = mbedtls_cipher_info_from_type(o->cipher);
    mbedtls_cipher_context_t cipher;
    mbedtls_md_context_t md;
    uint8_t key[32];
    size_t n = 0;
    int rc = -EINVAL;

    mbedtls_md_init(&md);
    mbedtls_cipher_init(&cipher);
    if (ci == NULL || ci->key_bitlen / 8 > sizeof(key) || o->iv_len != ci->iv_size ||
        mbedtls_md_setup(&md, mbedtls_md_info_from_type(o->prf), 1) != 0 ||
        mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password), o->salt,
                                  o->salt_len, (unsigned)o->iterations, ci->key_bitlen / 8,
                                  key) != 0 ||
        mbedtls_cipher_setup(&cipher, ci) != 0 ||
        mbedtls_cipher_setkey(&cipher, key, (int)ci->key_bitlen, MBEDTLS_DECRYPT) != 0 ||
        mbedtls_cipher_set_padding_mode(&cipher, MBEDTLS_PADDING_PKCS7) != 0) {
        goto out;
    }
    rc = -EKEYREJECTED; /* from here, a failure means the password is wrong */
    if (mbedtls_cipher_crypt(&cipher, o->iv, o->iv_len, o->data, o->data_len, plain, &n) != 0) {
        goto out;
    }
    *plain_len = n;
    rc = 0;
out:
    mbedtls_platform_zeroize(key, sizeof(key));
    mbedtls_cipher_free(&cipher);
    mbedtls_md_free(&md);
    return rc;
}

/* An "ENCRYPTED PRIVATE KEY" PEM block: PKCS#8 with PBES2, parsed into pk. */
static int parse_pkcs8_encrypted(const char *text, const char *password, mbedtls_pk_context *pk,
                                 char *err, size_t err_len)
{
    mbedtls_pem_context pem;
    struct pbes2 o;
    uint8_t *plain = NULL;
    size_t used = 0, plain_len = 0;
    int rc = -EINVAL;

    mbedtls_pem_init(&pem);
    memset(&o, 0, sizeof(o));
    if (mbedtls_pem_read_buffer(&pem, P8_BEGIN, P8_END, (const unsigned char *)text, NULL, 0,
                                &used) != 0 ||
        parse_pbes2(pem.buf, pem.buf + pem.buflen, &o) != 0) {
        (void)snprintf(err, err_len,
                       "encrypted PKCS#8 key with an unsupported encryption "
                       "(PBES2 with PBKDF2 and AES-CBC or 3DES are understood)");
        goto out;
    }
    plain = malloc(o.data_len + 32);
    if (plain == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    rc = pbes2_decrypt(&o, password, plain, &plain_len);
    if (rc == 0 && mbedtls_pk_parse_key(pk, plain, plain_len, NULL, 0) != 0) {
        rc = -EKEYREJECTED; /* the padding happened to fit, the content did not */
    }
    if (rc == -EINVAL) {
        (void)snprintf(err, err_len, "encrypted PKCS#8 key: unsupported parameters");
    }
out:
    if (plain != NULL) {
        mbedtls_platform_zeroize(plain, o.data_len + 32);
        free(plain);
    }
    mbedtls_pem_free(&pem);
    return rc;
}

static int parse_key(const char *text, size_t len, const char *password, mbedtls_pk_context *pk,
                     char *err, size_t err_len)
{
    bool has_password = password != NULL && password[0] != '\0';
    char why[128];
    int rc;

    if (strstr(text, P8_BEGIN) != NULL) {
        return has_password ? parse_pkcs8_encrypted(text, password, pk, err, err_len) : -ENOKEY;
    }
    rc = mbedtls_pk_parse_key(pk, (const unsigned char *)text, len + 1,
                              (const unsigned char *)(has_password ? password : NULL),
                              has_password ? strlen(password) : 0);
    if (rc == MBEDTLS_ERR_PK_PASSWORD_REQUIRED) {
        return -ENOKEY;
    }
    if (rc == MBEDTLS_ERR_PK_PASSWORD_MISMATCH) {
        return -EKEYREJECTED;
    }
    if (rc != 0) {
        mbedtls_strerror(rc, why, sizeof(why));
        (void)snprintf(err, err_len, "not a private key: %s", why);
        return -EINVAL;
    }
    return 0;
}

int gw_x509_key_to_pem(const void *data, size_t len, const char *password, char *out, size_t cap,
                       char *err, size_t err_len)
{
    mbedtls_pk_context pk;
    char *text = NULL;
    int rc = -EINVAL;

    mbedtls_pk_init(&pk);
    if (len == 0 || len > KEY_TEXT_MAX) {
        (void)snprintf(err, err_len, "key empty or longer than %d bytes", KEY_TEXT_MAX);
        goto out;
    }
    text = malloc(len + 1);
    if (text == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(text, data, len);
    text[len] = '\0';
    if (((const uint8_t *)data)[0] == 0x30) {
        rc = mbedtls_pk_parse_key(&pk, data, len, NULL, 0) == 0 ? 0 : -EINVAL;
        if (rc != 0) {
            (void)snprintf(err, err_len, "not an unencrypted DER private key");
        }
    } else {
        rc = parse_key(text, len, password, &pk, err, err_len);
    }
    if (rc == -ENOKEY) {
        (void)snprintf(err, err_len, "the key is encrypted and no password was given");
    } else if (rc == -EKEYREJECTED) {
        (void)snprintf(err, err_len, "the password does not decrypt the key");
    }
    if (rc == 0 && mbedtls_pk_write_key_pem(&pk, (unsigned char *)out, cap) != 0) {
        (void)snprintf(err, err_len, "the key does not fit in %zu bytes", cap);
        rc = -ENOMEM;
    }
out:
    if (text != NULL) {
        mbedtls_platform_zeroize(text, len);
        free(text);
    }
    mbedtls_pk_free(&pk);
    return rc;
}
