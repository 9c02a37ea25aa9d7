/* SPDX-License-Identifier: MIT */
/*
 * test_pki.c - gateway/gw_pki.c: the appliance certificate (generated once, reused, SANs, key
 * mode, fingerprint of the DER bytes, configured pairs and their failures), PBKDF2 password hashes
 * (a known PBKDF2-HMAC-SHA256 vector, round trips, malformed hashes), secret files, and HS256 JWTs
 * (round trip, a token signed by an independent implementation, expiry, tampering, alg=none and
 * other malformed tokens).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/base64.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include "gateway/gw_pki.h"

/* Signed with key bytes 0..63 by Python's hmac module (not by nbgate), exp in 2100. */
#define PY_TOKEN                                                                                   \
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsInVzZXJJZCI6IjExMTExMTExLTIyMjIt"    \
    "NDMzMy04NDQ0LTU1NTU1NTU1NTU1NSIsInNjb3BlcyI6WyJURU5BTlRfQURNSU4iXSwic2Vzc2lvbklkIjoiYWFh"     \
    "YWFhYWEtYmJiYi00Y2NjLThkZGQtZWVlZWVlZWVlZWVlIiwiaXNzIjoibmJnYXRlIiwiaWF0IjoxNzAwMDAwMDAw"     \
    "LCJleHAiOjQxMDI0NDQ4MDAsImlzUHVibGljIjpmYWxzZSwiZW5hYmxlZCI6dHJ1ZSwidGVuYW50SWQiOiJ0Iiwi"     \
    "Y3VzdG9tZXJJZCI6ImMifQ.C4HnYB67RVkj7Ps5lplj6QQpoRAnLdGwKqwKETeArYo"
#define PY_PAYLOAD                                                                                 \
    "eyJzdWIiOiJhbGljZSIsInVzZXJJZCI6IjExMTExMTExLTIyMjItNDMzMy04NDQ0LTU1NTU1NTU1NTU1NSIsInNj"     \
    "b3BlcyI6WyJURU5BTlRfQURNSU4iXSwic2Vzc2lvbklkIjoiYWFhYWFhYWEtYmJiYi00Y2NjLThkZGQtZWVlZWVl"     \
    "ZWVlZWVlIiwiaXNzIjoibmJnYXRlIiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjQxMDI0NDQ4MDAsImlzUHVibGlj"     \
    "IjpmYWxzZSwiZW5hYmxlZCI6dHJ1ZSwidGVuYW50SWQiOiJ0IiwiY3VzdG9tZXJJZCI6ImMifQ"

static char dir[] = "/tmp/nbgate-test-pki.XXXXXX";

static void key_0_63(uint8_t *key)
{
    int i;

    for (i = 0; i < 64; i++) {
        key[i] = (uint8_t)i;
    }
}

static void sub_dir(const char *name, char *out, size_t len)
{
    (void)snprintf(out, len, "%s/%s", dir, name);
    (void)mkdir(out, 0700);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* ---- certificate ------------------------------------------------------------------------- */

static void test_cert_generated_once(void **state)
{
    const char *addrs[] = { "192.0.2.7", "0.0.0.0", "" };
    struct gw_pki_cert_opts o = { NULL, NULL, NULL, addrs, 3 };
    struct gw_pki_cert a, b;
    char d[256], path[512], err[256];
    struct stat sb;

    (void)state;
    sub_dir("gen", d, sizeof(d));
    o.data_dir = d;
    assert_int_equal(gw_pki_cert_load_or_create(&o, &a, err, sizeof(err)), 0);
    assert_true(a.is_generated);
    assert_int_equal(strlen(a.fingerprint), 64);
    assert_int_equal(strncmp(a.subject, "CN=", 3), 0);
    (void)snprintf(path, sizeof(path), "%s/appliance-key.pem", d);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_non_null(strstr(a.key_pem, "PRIVATE KEY"));
    /* A second start reuses the pair. */
    assert_int_equal(gw_pki_cert_load_or_create(&o, &b, err, sizeof(err)), 0);
    assert_string_equal(a.fingerprint, b.fingerprint);
    assert_string_equal(a.cert_pem, b.cert_pem);
    gw_pki_cert_fini(&a);
    gw_pki_cert_fini(&b);
    assert_null(a.cert_pem);
}

/* Finds the iPAddress GeneralName [7] with the 4 address bytes in the DER. */
static bool der_has_ip4(const unsigned char *der, size_t len, const unsigned char ip[4])
{
    size_t i;

    for (i = 0; i + 6 <= len; i++) {
        if (der[i] == 0x87 && der[i + 1] == 4 && memcmp(der + i + 2, ip, 4) == 0) {
            return true;
        }
    }
    return false;
}

static void test_cert_names_and_fingerprint(void **state)
{
    static const unsigned char lo[4] = { 127, 0, 0, 1 }, doc[4] = { 192, 0, 2, 7 },
                               any[4] = { 0, 0, 0, 0 };
    const char *addrs[] = { "192.0.2.7", "0.0.0.0" };
    struct gw_pki_cert_opts o = { NULL, NULL, NULL, addrs, 2 };
    const mbedtls_x509_sequence *san;
    struct gw_pki_cert c;
    mbedtls_x509_crt crt;
    unsigned char sum[32];
    char d[256], err[256], hex[65];
    bool has_localhost = false;
    int i;

    (void)state;
    sub_dir("names", d, sizeof(d));
    o.data_dir = d;
    assert_int_equal(gw_pki_cert_load_or_create(&o, &c, err, sizeof(err)), 0);
    mbedtls_x509_crt_init(&crt);
    assert_int_equal(
        mbedtls_x509_crt_parse(&crt, (const unsigned char *)c.cert_pem, strlen(c.cert_pem) + 1), 0);
    for (san = &crt.subject_alt_names; san != NULL; san = san->next) {
        if (san->buf.len == 9 && memcmp(san->buf.p, "localhost", 9) == 0) {
            has_localhost = true;
        }
    }
    assert_true(has_localhost);
    assert_true(der_has_ip4(crt.raw.p, crt.raw.len, lo));
    assert_true(der_has_ip4(crt.raw.p, crt.raw.len, doc));
    assert_false(der_has_ip4(crt.raw.p, crt.raw.len, any));
    assert_int_equal(mbedtls_pk_get_type(&crt.pk), MBEDTLS_PK_ECKEY);
    /* The fingerprint is SHA-256 over the DER bytes, not the PEM text. */
    assert_int_equal(mbedtls_sha256_ret(crt.raw.p, crt.raw.len, sum, 0), 0);
    for (i = 0; i < 32; i++) {
        (void)snprintf(hex + 2 * i, 3, "%02x", sum[i]);
    }
    assert_string_equal(hex, c.fingerprint);
    mbedtls_x509_crt_free(&crt);
    gw_pki_cert_fini(&c);
}

static void test_cert_configured(void **state)
{
    struct gw_pki_cert_opts o = { NULL, NULL, NULL, NULL, 0 };
    struct gw_pki_cert a, b, c;
    char d1[256], d2[256], cert1[512], key1[512], key2[512], junk[512], err[256];

    (void)state;
    sub_dir("conf1", d1, sizeof(d1));
    sub_dir("conf2", d2, sizeof(d2));
    o.data_dir = d1;
    assert_int_equal(gw_pki_cert_load_or_create(&o, &a, err, sizeof(err)), 0);
    o.data_dir = d2;
    assert_int_equal(gw_pki_cert_load_or_create(&o, &b, err, sizeof(err)), 0);
    assert_string_not_equal(a.fingerprint, b.fingerprint);
    (void)snprintf(cert1, sizeof(cert1), "%s/appliance-cert.pem", d1);
    (void)snprintf(key1, sizeof(key1), "%s/appliance-key.pem", d1);
    (void)snprintf(key2, sizeof(key2), "%s/appliance-key.pem", d2);
    (void)snprintf(junk, sizeof(junk), "%s/junk.pem", d2);
    write_text(junk, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    /* A configured pair is used as it is (not regenerated), from any directory. */
    o.cert_path = cert1;
    o.key_path = key1;
    assert_int_equal(gw_pki_cert_load_or_create(&o, &c, err, sizeof(err)), 0);
    assert_false(c.is_generated);
    assert_string_equal(c.fingerprint, a.fingerprint);
    gw_pki_cert_fini(&c);
    o.key_path = key2;
    assert_int_equal(gw_pki_cert_load_or_create(&o, &c, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "does not match"));
    o.cert_path = junk;
    assert_int_equal(gw_pki_cert_load_or_create(&o, &c, err, sizeof(err)), -EINVAL);
    o.cert_path = "/nonexistent/cert.pem";
    assert_int_equal(gw_pki_cert_load_or_create(&o, &c, err, sizeof(err)), -ENOENT);
    assert_null(c.cert_pem);
    gw_pki_cert_fini(&a);
    gw_pki_cert_fini(&b);
}

/* ---- passwords --------------------------------------------------------------------------- */

static void test_password_known_vector(void **state)
{
    (void)state;
    /* PBKDF2-HMAC-SHA256("password", "salt", 1, 32), RFC 7914 section 11's first vector. */
    assert_true(gw_pki_password_verify(
        "password", "pbkdf2-sha256$1$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs"));
    assert_false(gw_pki_password_verify(
        "Password", "pbkdf2-sha256$1$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs"));
    /* Computed with Python's hashlib.pbkdf2_hmac. */
    assert_true(gw_pki_password_verify("correct horse",
                                       "pbkdf2-sha256$4096$MDEyMzQ1Njc4OWFiY2RlZg$"
                                       "L47unUuuz53ZGjvyxdG9n7fm071wLR1awArcH/V68jg"));
    assert_false(gw_pki_password_verify("correct horse",
                                        "pbkdf2-sha256$4095$MDEyMzQ1Njc4OWFiY2RlZg$"
                                        "L47unUuuz53ZGjvyxdG9n7fm071wLR1awArcH/V68jg"));
}

static void test_password_round_trip(void **state)
{
    char a[GW_PKI_HASH_MAX], b[GW_PKI_HASH_MAX], small[20];

    (void)state;
    assert_int_equal(gw_pki_password_hash("s3cret-pw", 1000, a, sizeof(a)), 0);
    assert_int_equal(gw_pki_password_hash("s3cret-pw", 1000, b, sizeof(b)), 0);
    assert_int_equal(strncmp(a, "pbkdf2-sha256$1000$", 19), 0);
    assert_string_not_equal(a, b); /* random salt */
    assert_true(gw_pki_password_verify("s3cret-pw", a));
    assert_true(gw_pki_password_verify("s3cret-pw", b));
    assert_false(gw_pki_password_verify("s3cret-pW", a));
    assert_false(gw_pki_password_verify("", a));
    assert_int_equal(gw_pki_password_hash("", 1000, a, sizeof(a)), -EINVAL);
    assert_int_equal(gw_pki_password_hash("x", 1000, small, sizeof(small)), -EINVAL);
    /* The default cost is the documented one. */
    assert_int_equal(gw_pki_password_hash("default-cost", 0, a, sizeof(a)), 0);
    (void)snprintf(small, sizeof(small), "$%d$", GW_PKI_PBKDF2_ITER);
    assert_non_null(strstr(a, small));
    assert_true(gw_pki_password_verify("default-cost", a));
}

static void test_password_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "pbkdf2-sha256$",
        "pbkdf2-sha256$1$c2FsdA",
        "pbkdf2-sha256$0$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs",
        "pbkdf2-sha256$-1$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs",
        "pbkdf2-sha256$999999999999$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs",
        "pbkdf2-sha256$1x$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs",
        "pbkdf2-sha256$1$$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs",
        "pbkdf2-sha256$1$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4",
        "pbkdf2-sha256$1$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs=",
        "pbkdf2-sha256$1$c2Fs!A$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs",
        "pbkdf2-sha512$1$c2FsdA$Eg+2z/z4syxD5yJSVsT4N6hlSMkszDVICAWYfLcL4Xs",
        "$2y$10$abcdefghijklmnopqrstuv",
        "password",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (gw_pki_password_verify("password", bad[i])) {
            fail_msg("accepted malformed hash %zu: %s", i, bad[i]);
        }
    }
    assert_false(gw_pki_password_verify(NULL, bad[2]));
    assert_false(gw_pki_password_verify("password", NULL));
}

/* ---- secrets ----------------------------------------------------------------------------- */

static void test_secret_file(void **state)
{
    uint8_t a[64], b[64], c[32];
    char d[256], path[512], err[256];
    struct stat sb;

    (void)state;
    sub_dir("secret", d, sizeof(d));
    (void)snprintf(path, sizeof(path), "%s/jwt.key", d);
    assert_int_equal(gw_pki_secret_load_or_create(path, a, sizeof(a), err, sizeof(err)), 0);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sb.st_size, 64);
    assert_int_equal(gw_pki_secret_load_or_create(path, b, sizeof(b), err, sizeof(err)), 0);
    assert_memory_equal(a, b, sizeof(a));
    assert_int_equal(gw_pki_secret_load_or_create(path, c, sizeof(c), err, sizeof(err)), -EINVAL);
}

/* ---- JWT --------------------------------------------------------------------------------- */

static void claims(struct gw_pki_jwt *c, bool is_refresh, int64_t exp_s)
{
    memset(c, 0, sizeof(*c));
    (void)snprintf(c->sub, sizeof(c->sub), "admin@example.com");
    (void)snprintf(c->user_id, sizeof(c->user_id), "0b7f0000-0000-4000-8000-000000000001");
    (void)snprintf(c->session_id, sizeof(c->session_id), "5e55a000-0000-4000-8000-000000000002");
    (void)snprintf(c->tenant_id, sizeof(c->tenant_id), "7e7a0000-0000-4000-8000-000000000003");
    (void)snprintf(c->customer_id, sizeof(c->customer_id), "13814000-1dd2-11b2-8080-808080808080");
    if (is_refresh) {
        (void)snprintf(c->jti, sizeof(c->jti), "01234567-89ab-4def-8123-456789abcdef");
    }
    c->is_refresh = is_refresh;
    c->iat_s = 1700000000;
    c->exp_s = exp_s;
}

static void test_jwt_round_trip(void **state)
{
    struct gw_pki_jwt in, out;
    char tok[GW_PKI_JWT_MAX];
    uint8_t key[64];
    int r;

    (void)state;
    key_0_63(key);
    for (r = 0; r < 2; r++) {
        claims(&in, r == 1, 1700009000);
        assert_int_equal(gw_pki_jwt_sign(key, sizeof(key), &in, tok, sizeof(tok)), 0);
        assert_int_equal(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37), 0);
        assert_null(strchr(tok, '='));
        assert_int_equal(gw_pki_jwt_verify(key, sizeof(key), tok, 1700000001, &out), 0);
        assert_string_equal(out.sub, in.sub);
        assert_string_equal(out.user_id, in.user_id);
        assert_string_equal(out.session_id, in.session_id);
        assert_string_equal(out.jti, in.jti);
        assert_int_equal(out.is_refresh, in.is_refresh);
        assert_int_equal(out.iat_s, in.iat_s);
        assert_int_equal(out.exp_s, in.exp_s);
        if (!in.is_refresh) {
            assert_string_equal(out.tenant_id, in.tenant_id);
            assert_string_equal(out.customer_id, in.customer_id);
        }
        /* exp is exclusive: at exp the token has expired. */
        assert_int_equal(gw_pki_jwt_verify(key, sizeof(key), tok, 1700009000, &out), -EKEYEXPIRED);
    }
    assert_int_equal(gw_pki_jwt_sign(key, sizeof(key), &in, tok, 40), -ERANGE);
}

static void test_jwt_independent_signer(void **state)
{
    struct gw_pki_jwt out;
    uint8_t key[64];

    (void)state;
    key_0_63(key);
    assert_int_equal(gw_pki_jwt_verify(key, sizeof(key), PY_TOKEN, 1700000000, &out), 0);
    assert_string_equal(out.sub, "alice");
    assert_string_equal(out.session_id, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    assert_false(out.is_refresh);
    assert_int_equal(out.exp_s, 4102444800LL);
    key[63] ^= 1;
    assert_int_equal(gw_pki_jwt_verify(key, sizeof(key), PY_TOKEN, 1700000000, &out),
                     -EKEYREJECTED);
}

static void test_jwt_tampered(void **state)
{
    struct gw_pki_jwt in, out;
    char tok[GW_PKI_JWT_MAX];
    uint8_t key[64];
    char *dot;

    (void)state;
    key_0_63(key);
    claims(&in, false, 1700009000);
    assert_int_equal(gw_pki_jwt_sign(key, sizeof(key), &in, tok, sizeof(tok)), 0);
    dot = strchr(tok, '.');
    dot[5] = dot[5] == 'A' ? 'B' : 'A'; /* a payload byte */
    assert_int_equal(gw_pki_jwt_verify(key, sizeof(key), tok, 1700000001, &out), -EKEYREJECTED);
    assert_int_equal(gw_pki_jwt_sign(key, sizeof(key), &in, tok, sizeof(tok)), 0);
    tok[strlen(tok) - 2] = tok[strlen(tok) - 2] == 'A' ? 'B' : 'A'; /* a signature byte */
    assert_int_equal(gw_pki_jwt_verify(key, sizeof(key), tok, 1700000001, &out), -EKEYREJECTED);
}

static void test_jwt_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "..",
        /* alg none, the payload of PY_TOKEN, no signature */
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." PY_PAYLOAD ".",
        /* HS512 header: only the header nbgate writes is accepted */
        "eyJhbGciOiJIUzUxMiIsInR5cCI6IkpXVCJ9." PY_PAYLOAD
        ".C4HnYB67RVkj7Ps5lplj6QQpoRAnLdGwKqwKETeArYo",
        /* padding, standard base64 characters, a short signature */
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." PY_PAYLOAD
        ".C4HnYB67RVkj7Ps5lplj6QQpoRAnLdGwKqwKETeArYo=",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." PY_PAYLOAD
        ".C4HnYB67RVkj7Ps5lplj6QQpoRAnLdGwKqwKETeAr+o",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." PY_PAYLOAD ".C4HnYB67RVkj7Ps5",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..C4HnYB67RVkj7Ps5lplj6QQpoRAnLdGwKqwKETeArYo",
    };
    struct gw_pki_jwt out;
    char *huge;
    uint8_t key[64];
    size_t i;

    (void)state;
    key_0_63(key);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = gw_pki_jwt_verify(key, sizeof(key), bad[i], 1700000000, &out);
        if (rc != -EBADMSG) {
            fail_msg("token %zu: rc %d, want -EBADMSG", i, rc);
        }
    }
    huge = malloc(3 * GW_PKI_JWT_MAX);
    assert_non_null(huge);
    memset(huge, 'A', 3 * GW_PKI_JWT_MAX - 1);
    huge[3 * GW_PKI_JWT_MAX - 1] = '\0';
    huge[10] = '.';
    huge[20] = '.';
    assert_int_equal(gw_pki_jwt_verify(key, sizeof(key), huge, 1700000000, &out), -EBADMSG);
    free(huge);
}

/* A signed token whose claims are not nbgate's (no sessionId, unknown scope) is refused. */
static void test_jwt_claims_required(void **state)
{
    static const char *const payloads[] = {
        "{\"sub\":\"a\",\"userId\":\"u\",\"scopes\":[\"TENANT_ADMIN\"],\"iat\":1,\"exp\":9}",
        "{\"sub\":\"a\",\"userId\":\"u\",\"sessionId\":\"s\",\"scopes\":[\"SYS_ADMIN\"],"
        "\"iat\":1,\"exp\":9}",
        "{\"sub\":\"a\",\"userId\":\"u\",\"sessionId\":\"s\",\"scopes\":[\"TENANT_ADMIN\"],"
        "\"iat\":1,\"exp\":\"9\"}",
        "[1,2]",
    };
    static const char header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    unsigned char sig[32];
    struct gw_pki_jwt out;
    char tok[1024], b64[512];
    uint8_t key[64];
    size_t i, n;

    (void)state;
    key_0_63(key);
    for (i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
        size_t k;
        assert_int_equal(mbedtls_base64_encode((unsigned char *)b64, sizeof(b64), &n,
                                               (const unsigned char *)payloads[i],
                                               strlen(payloads[i])),
                         0);
        for (k = 0; k < n; k++) {
            b64[k] = b64[k] == '+' ? '-' : b64[k] == '/' ? '_' : b64[k];
        }
        while (n > 0 && b64[n - 1] == '=') {
            n--;
        }
        b64[n] = '\0';
        (void)snprintf(tok, sizeof(tok), "%s.%s", header, b64);
        assert_int_equal(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, 64,
                                         (const unsigned char *)tok, strlen(tok), sig),
                         0);
        assert_int_equal(mbedtls_base64_encode((unsigned char *)b64, sizeof(b64), &n, sig, 32), 0);
        for (k = 0; k < n; k++) {
            b64[k] = b64[k] == '+' ? '-' : b64[k] == '/' ? '_' : b64[k];
        }
        b64[n - 1] = '\0'; /* one '=' of padding */
        (void)snprintf(tok + strlen(tok), sizeof(tok) - strlen(tok), ".%s", b64);
        if (gw_pki_jwt_verify(key, sizeof(key), tok, 1, &out) != -EBADMSG) {
            fail_msg("payload %zu accepted", i);
        }
    }
}

/* Removes the files the tests made (known names), then the directories. */
static int cleanup(void **state)
{
    static const char *const subs[] = { "gen", "names", "conf1", "conf2", "secret" };
    static const char *const files[] = { "appliance-cert.pem", "appliance-key.pem", "junk.pem",
                                         "jwt.key" };
    char path[512];
    size_t i, k;

    (void)state;
    for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        for (k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
            (void)snprintf(path, sizeof(path), "%s/%s/%s", dir, subs[i], files[k]);
            (void)unlink(path);
        }
        (void)snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
        (void)rmdir(path);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_generated_once),
        cmocka_unit_test(test_cert_names_and_fingerprint),
        cmocka_unit_test(test_cert_configured),
        cmocka_unit_test(test_password_known_vector),
        cmocka_unit_test(test_password_round_trip),
        cmocka_unit_test(test_password_malformed),
        cmocka_unit_test(test_secret_file),
        cmocka_unit_test(test_jwt_round_trip),
        cmocka_unit_test(test_jwt_independent_signer),
        cmocka_unit_test(test_jwt_tampered),
        cmocka_unit_test(test_jwt_malformed),
        cmocka_unit_test(test_jwt_claims_required),
    };

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    return cmocka_run_group_tests(tests, NULL, cleanup);
}
