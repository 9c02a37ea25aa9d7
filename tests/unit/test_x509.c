/* SPDX-License-Identifier: MIT */
/*
 * test_x509.c - gateway/gw_x509.c with certificates and keys made by the openssl command at test
 * time (fork/exec): the fingerprint against openssl's own SHA-256 of the DER, the same certificate
 * as PEM, DER, base64 body and CRLF text, subject/issuer/serial/key type/self-signed, exact dates
 * from `openssl ca -startdate/-enddate`, refusals of everything that is not exactly one
 * certificate, and server keys: unencrypted, legacy PEM encryption, PKCS#8 with AES and 3DES,
 * wrong and missing passwords, each re-exported key checked against its certificate.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "gateway/gw_x509.h"

static char dir[] = "/tmp/nbgate-test-x509.XXXXXX";

/* Runs argv (openssl ...) with stdout to out_path (or /dev/null); returns its exit status. */
static int run(const char *out_path, const char *const argv[])
{
    pid_t pid = fork();
    int status = -1;

    assert_true(pid >= 0);
    if (pid == 0) {
        int fd =
            open(out_path != NULL ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int null = open("/dev/null", O_WRONLY);
        if (fd < 0 || null < 0 || dup2(fd, 1) < 0 || dup2(null, 2) < 0 || chdir(dir) != 0) {
            _exit(127);
        }
        execvp(argv[0], (char *const *)(uintptr_t)argv); /* execvp does not write them */
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define OPENSSL(...)                                                                               \
    do {                                                                                           \
        const char *const av_[] = { "openssl", __VA_ARGS__, NULL };                                \
        assert_int_equal(run(NULL, av_), 0);                                                       \
    } while (0)

static char *path_of(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];

    (void)snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
    return p;
}

/* Reads a whole file made by a test (at most 64 KiB); *len excludes the added NUL. */
static char *slurp(const char *name, size_t *len)
{
    FILE *f = fopen(path_of(name), "rb");
    char *buf = malloc(65537);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, 65536, f);
    assert_int_equal(fclose(f), 0);
    buf[n] = '\0';
    if (len != NULL) {
        *len = n;
    }
    return buf;
}

static void spill(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(path_of(name), "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* openssl's own SHA-256 of the DER: "sha256 Fingerprint=AB:CD:..." to lower-case hex. */
static void openssl_fingerprint(const char *pem, char out[GW_X509_FINGERPRINT_LEN])
{
    const char *const av[] = { "openssl", "x509",         "-in",     pem,
                               "-noout",  "-fingerprint", "-sha256", NULL };
    char *text;
    const char *p;
    size_t n = 0;

    assert_int_equal(run(path_of("fp.txt"), av), 0);
    text = slurp("fp.txt", NULL);
    p = strchr(text, '=');
    assert_non_null(p);
    for (p++; *p != '\0' && *p != '\n' && n < GW_X509_FINGERPRINT_LEN - 1; p++) {
        if (*p != ':') {
            out[n++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
        }
    }
    out[n] = '\0';
    free(text);
    assert_int_equal(n, 64);
}

static void parse_file_ok(const char *name, struct gw_x509_cert *c)
{
    char err[256] = "";
    size_t len;
    char *text = slurp(name, &len);
    int rc = gw_x509_parse(text, len, c, err, sizeof(err));

    free(text);
    if (rc != 0) {
        fail_msg("%s: %s", name, err);
    }
}

static int setup(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    /* A self-signed EC P-256 device certificate with a two-part subject. */
    OPENSSL("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/O=Acme/CN=sensor-1", "-days", "30", "-keyout", "dev.key", "-out", "dev.pem");
    OPENSSL("x509", "-in", "dev.pem", "-outform", "DER", "-out", "dev.der");
    /* A CA and a certificate it issued (RSA 2048, EC P-384). */
    OPENSSL("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=test-ca", "-days", "30",
            "-keyout", "ca.key", "-out", "ca.pem");
    OPENSSL("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes",
            "-subj", "/CN=issued", "-keyout", "issued.key", "-out", "issued.csr");
    OPENSSL("x509", "-req", "-in", "issued.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "30", "-out", "issued.pem");
    return 0;
}

static int teardown(void **state)
{
    const char *const av[] = { "rm", "-rf", dir, NULL };

    (void)state;
    return run(NULL, av);
}

/* ---- certificates ------------------------------------------------------------------------- */

static void test_fingerprint_is_openssl_sha256_of_der(void **state)
{
    struct gw_x509_cert c;
    char want[GW_X509_FINGERPRINT_LEN];
    char again[GW_X509_FINGERPRINT_LEN];
    size_t der_len;
    char *der = slurp("dev.der", &der_len);

    (void)state;
    openssl_fingerprint("dev.pem", want);
    parse_file_ok("dev.pem", &c);
    assert_string_equal(c.fingerprint, want);
    assert_true(gw_x509_is_fingerprint(c.fingerprint));
    assert_int_equal(c.der_len, der_len);
    assert_memory_equal(c.der, der, der_len);
    assert_int_equal(gw_x509_fingerprint((const uint8_t *)der, der_len, again), 0);
    assert_string_equal(again, want);
    assert_int_equal(gw_x509_fingerprint(NULL, 0, again), -EINVAL);
    gw_x509_fini(&c);
    free(der);
}

static void test_fields(void **state)
{
    struct gw_x509_cert c;

    (void)state;
    parse_file_ok("dev.pem", &c);
    assert_string_equal(c.subject, "O=Acme, CN=sensor-1");
    assert_string_equal(c.issuer, "O=Acme, CN=sensor-1");
    assert_string_equal(c.key_type, "EC P-256");
    assert_true(c.is_self_signed);
    assert_true(strlen(c.serial) > 0);
    assert_true(c.not_after_s - c.not_before_s == 30 * 86400);
    assert_true(gw_x509_is_valid_at(&c, c.not_before_s + 1));
    assert_false(gw_x509_is_valid_at(&c, c.not_after_s + 1));
    gw_x509_fini(&c);
    parse_file_ok("issued.pem", &c);
    assert_string_equal(c.subject, "CN=issued");
    assert_string_equal(c.issuer, "CN=test-ca");
    assert_string_equal(c.key_type, "EC P-384");
    assert_false(c.is_self_signed);
    gw_x509_fini(&c);
    parse_file_ok("ca.pem", &c);
    assert_string_equal(c.key_type, "RSA 2048");
    assert_true(c.is_self_signed);
    gw_x509_fini(&c);
}

/* Exact dates: a certificate that was valid in 2020 only. */
static void test_dates_from_openssl_ca(void **state)
{
    static const char cnf[] =
        "[ca]\ndefault_ca=d\n[d]\ndatabase=index\nnew_certs_dir=.\n"
        "serial=serial\ndefault_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n";
    struct gw_x509_cert c;

    (void)state;
    spill("ca.cnf", cnf, sizeof(cnf) - 1);
    spill("index", "", 0);
    spill("serial", "01\n", 3);
    OPENSSL("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=old", "-keyout", "old.key", "-out", "old.csr");
    OPENSSL("ca", "-batch", "-config", "ca.cnf", "-selfsign", "-keyfile", "old.key", "-in",
            "old.csr", "-startdate", "20200101000000Z", "-enddate", "20210101000000Z", "-out",
            "old.pem");
    parse_file_ok("old.pem", &c);
    assert_int_equal(c.not_before_s, 1577836800); /* 2020-01-01T00:00:00Z */
    assert_int_equal(c.not_after_s, 1609459200);  /* 2021-01-01T00:00:00Z */
    assert_false(gw_x509_is_valid_at(&c, 1700000000));
    assert_true(gw_x509_is_valid_at(&c, 1600000000));
    gw_x509_fini(&c);
}

/* The same certificate as PEM, DER, the bare base64 body (one line, or wrapped with CRLF) and
 * PEM with text around it gives the same DER and fingerprint. */
static void test_input_forms(void **state)
{
    struct gw_x509_cert ref, c;
    char err[256];
    char *pem = slurp("dev.pem", NULL);
    char *body, *p;
    char crlf[8192];
    size_t i, n = 0, der_len;
    char *der = slurp("dev.der", &der_len);

    (void)state;
    parse_file_ok("dev.pem", &ref);
    /* DER bytes. */
    assert_int_equal(gw_x509_parse(der, der_len, &c, err, sizeof(err)), 0);
    assert_string_equal(c.fingerprint, ref.fingerprint);
    gw_x509_fini(&c);
    /* The one-line body as nbgate stores it, and back. */
    body = gw_x509_body_base64(&ref);
    assert_non_null(body);
    assert_null(strchr(body, '\n'));
    assert_int_equal(gw_x509_parse(body, strlen(body), &c, err, sizeof(err)), 0);
    assert_string_equal(c.fingerprint, ref.fingerprint);
    gw_x509_fini(&c);
    /* The PEM's own body lines with CRLF, as pasted from a Windows editor. */
    p = strstr(pem, "-----\n") + 6;
    for (i = 0; p[i] != '\0' && p[i] != '-' && n + 2 < sizeof(crlf); i++) {
        if (p[i] == '\n') {
            crlf[n++] = '\r';
        }
        crlf[n++] = p[i];
    }
    assert_int_equal(gw_x509_parse(crlf, n, &c, err, sizeof(err)), 0);
    assert_string_equal(c.fingerprint, ref.fingerprint);
    gw_x509_fini(&c);
    /* Text before and after the block. */
    (void)snprintf(crlf, sizeof(crlf), "Device cert:\n%s\nthanks\n", pem);
    assert_int_equal(gw_x509_parse(crlf, strlen(crlf), &c, err, sizeof(err)), 0);
    assert_string_equal(c.fingerprint, ref.fingerprint);
    gw_x509_fini(&c);
    gw_x509_fini(&ref);
    free(body);
    free(pem);
    free(der);
}

struct refuse_case {
    const char *what;
    const char *want_err; /* a part of the message */
};

static void expect_refused(const void *data, size_t len, const char *want_err)
{
    struct gw_x509_cert c;
    char err[256] = "";

    assert_int_equal(gw_x509_parse(data, len, &c, err, sizeof(err)), -EINVAL);
    assert_null(c.der);
    if (strstr(err, want_err) == NULL) {
        fail_msg("message \"%s\" lacks \"%s\"", err, want_err);
    }
}

static void test_refusals(void **state)
{
    static const struct refuse_case texts[] = {
        { "", "empty certificate" },
        { "hello world", "not a certificate" },
        { "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
          "no \"-----BEGIN CERTIFICATE-----\" block" },
        { "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "does not parse" },
        { "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA", "not an X.509 certificate" },
    };
    char *pem = slurp("dev.pem", NULL);
    char *issued = slurp("issued.pem", NULL);
    char *big = calloc(1, GW_X509_TEXT_MAX + 2);
    char two[16384];
    char *cut;
    size_t i, der_len;
    char *der = slurp("dev.der", &der_len);
    uint8_t *der2 = malloc(der_len + 1);

    (void)state;
    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        expect_refused(texts[i].what, strlen(texts[i].what), texts[i].want_err);
    }
    /* Two certificates (a chain) are not one device certificate. */
    (void)snprintf(two, sizeof(two), "%s%s", pem, issued);
    expect_refused(two, strlen(two), "more than one certificate");
    /* A PEM with a line cut out of its middle. */
    cut = strchr(strchr(pem, '\n') + 1, '\n') + 1;
    memmove(strchr(pem, '\n') + 1, cut, strlen(cut) + 1);
    expect_refused(pem, strlen(pem), "does not parse");
    /* DER with a byte after it; DER cut short; binary that is not DER. */
    memcpy(der2, der, der_len);
    der2[der_len] = 0;
    expect_refused(der2, der_len + 1, "1 bytes follow the certificate");
    expect_refused(der2, der_len - 10, "not an X.509 certificate");
    expect_refused("\x01\x00\x02", 3, "binary data that is not DER");
    /* Over the size cap. */
    assert_non_null(big);
    memset(big, 'A', GW_X509_TEXT_MAX + 1);
    expect_refused(big, GW_X509_TEXT_MAX + 1, "longer than");
    free(big);
    free(der);
    free(der2);
    free(pem);
    free(issued);
}

static void test_is_fingerprint(void **state)
{
    static const struct {
        const char *s;
        bool want;
    } cases[] = {
        { "34ce6b66e852b52eda96d84d5838178314a3ae7b0595cdaead09bcd66abf22a7", true },
        { "34CE6B66E852B52EDA96D84D5838178314A3AE7B0595CDAEAD09BCD66ABF22A7", false },
        { "34ce6b66e852b52eda96d84d5838178314a3ae7b0595cdaead09bcd66abf22a", false },
        { "34ce6b66e852b52eda96d84d5838178314a3ae7b0595cdaead09bcd66abf22a77", false },
        { "34ce6b66e852b52eda96d84d5838178314a3ae7b0595cdaead09bcd66abf22ag", false },
        { "", false },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(gw_x509_is_fingerprint(cases[i].s), cases[i].want);
    }
}

/* ---- server keys -------------------------------------------------------------------------- */

/* The re-exported key is unencrypted PEM and belongs to the certificate. */
static void check_key_matches(const char *key_pem, const char *cert_name)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    char *cert = slurp(cert_name, NULL);

    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    assert_null(strstr(key_pem, "ENCRYPTED"));
    assert_non_null(strstr(key_pem, "PRIVATE KEY-----"));
    assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)cert, strlen(cert) + 1),
                     0);
    assert_int_equal(
        mbedtls_pk_parse_key(&pk, (const unsigned char *)key_pem, strlen(key_pem) + 1, NULL, 0), 0);
    assert_int_equal(mbedtls_pk_check_pair(&crt.pk, &pk), 0);
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
    free(cert);
}

struct key_case {
    const char *file;
    const char *password;
    int want;
};

static void test_keys(void **state)
{
    static const struct key_case cases[] = {
        { "dev.key", NULL, 0 },          /* unencrypted PKCS#8 */
        { "dev.key", "ignored", 0 },     /* a password for a plain key is not needed */
        { "legacy.key", "s3cret", 0 },   /* Proc-Type: 4,ENCRYPTED, AES-256-CBC */
        { "p8aes.key", "s3cret", 0 },    /* PKCS#8 PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC */
        { "p8aes128.key", "s3cret", 0 }, /* PKCS#8 PBES2, AES-128-CBC, RSA key */
        { "p8des3.key", "s3cret", 0 },   /* PKCS#8 PBES2, DES-EDE3-CBC */
        { "legacy.key", "wrong", -EKEYREJECTED },
        { "p8aes.key", "wrong", -EKEYREJECTED },
        { "p8des3.key", "wrong", -EKEYREJECTED },
        { "legacy.key", NULL, -ENOKEY },
        { "p8aes.key", "", -ENOKEY },
        { "dev.pem", "s3cret", -EINVAL }, /* a certificate is not a key */
    };
    static char out[GW_X509_KEY_PEM_MAX];
    char err[256];
    size_t i, len;

    (void)state;
    OPENSSL("ec", "-in", "dev.key", "-aes256", "-passout", "pass:s3cret", "-out", "legacy.key");
    OPENSSL("pkcs8", "-topk8", "-in", "dev.key", "-v2", "aes-256-cbc", "-passout", "pass:s3cret",
            "-out", "p8aes.key");
    OPENSSL("pkcs8", "-topk8", "-in", "ca.key", "-v2", "aes-128-cbc", "-passout", "pass:s3cret",
            "-out", "p8aes128.key");
    OPENSSL("pkcs8", "-topk8", "-in", "dev.key", "-v2", "des3", "-passout", "pass:s3cret", "-out",
            "p8des3.key");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = slurp(cases[i].file, &len);
        int rc;
        memset(out, 0, sizeof(out));
        err[0] = '\0';
        rc = gw_x509_key_to_pem(text, len, cases[i].password, out, sizeof(out), err, sizeof(err));
        if (rc != cases[i].want) {
            fail_msg("%s/%s: rc %d, want %d (%s)", cases[i].file,
                     cases[i].password != NULL ? cases[i].password : "-", rc, cases[i].want, err);
        }
        if (rc == 0) {
            check_key_matches(out,
                              strcmp(cases[i].file, "p8aes128.key") == 0 ? "ca.pem" : "dev.pem");
        } else {
            assert_true(err[0] != '\0');
        }
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fingerprint_is_openssl_sha256_of_der),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_dates_from_openssl_ca),
        cmocka_unit_test(test_input_forms),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_is_fingerprint),
        cmocka_unit_test(test_keys),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
