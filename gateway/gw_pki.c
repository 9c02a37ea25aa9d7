/* SPDX-License-Identifier: MIT */
/*
 * gw_pki.c - the appliance certificate, password hashes, secrets and admin JWTs with mbedTLS 2.28.
 *
 * Certificate: an EC P-256 key and a self-signed X.509 v3 certificate (SHA-256 ECDSA), subject
 * CN = the host name (reduced to letters, digits, '-' and '.'), SubjectAltName with the host
 * name, localhost, 127.0.0.1, ::1 and the configured bind addresses. mbedTLS 2.28 has no SAN
 * writer, so the extension is encoded here (RFC 5280 4.2.1.6: SEQUENCE OF GeneralName,
 * dNSName [2] IA5String, iPAddress [7] OCTET STRING), written backwards as mbedTLS's asn1write
 * does.
 *
 * Password hash text: "pbkdf2-sha256$ITERATIONS$SALT$KEY" (base64 without padding), so the cost
 * can grow later and old hashes still verify. JWT: RFC 7519 compact form with HS256 (RFC 7518
 * 3.2); the parser accepts only the header this module writes, caps the token at GW_PKI_JWT_MAX
 * and compares the signature in constant time before it parses the claims.
 * Called by main.c (certificate), web/ (passwords, tokens) and gw_cli.c (admin create).
 */
#include "gateway/gw_pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/md.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PEM_MAX       (64 * 1024) /* bytes of a PEM file this module reads */
#define SAN_MAX       16          /* names and addresses in the SubjectAltName */
#define SALT_LEN      16
#define DK_LEN        32
#define CERT_DAYS     3650
#define JWT_HEADER    "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define HASH_PREFIX   "pbkdf2-sha256$"
#define GEN_CERT_FILE "appliance-cert.pem"
#define GEN_KEY_FILE  "appliance-key.pem"

void gw_pki_random(void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(p + got, len - got, 0);
        if (n > 0) {
            got += (size_t)n;
        }
    }
}

/* mbedTLS's f_rng signature over the kernel's random source. */
static int rng(void *arg, unsigned char *out, size_t len)
{
    (void)arg;
    gw_pki_random(out, len);
    return 0;
}

/* Reads a whole file of at most PEM_MAX bytes into a NUL-terminated heap buffer. */
static int read_file(const char *path, char **out, size_t *len_out, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n;
    int rc = -EIO;

    *out = NULL;
    if (f == NULL) {
        rc = errno == ENOENT ? -ENOENT : -EIO;
        (void)snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return rc;
    }
    buf = malloc(PEM_MAX + 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    n = fread(buf, 1, PEM_MAX + 1, f);
    if (ferror(f) || n > PEM_MAX) {
        (void)snprintf(err, err_len, "%s: %s", path, n > PEM_MAX ? "too large" : "read error");
        rc = n > PEM_MAX ? -EINVAL : -EIO;
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len_out = n;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    (void)fclose(f);
    return rc;
}

/* Writes data to path through path.tmp (O_EXCL, mode), fsync and rename. */
static int write_file(const char *path, const void *data, size_t len, mode_t mode, char *err,
                      size_t err_len)
{
    char tmp[4096];
    size_t off = 0;
    int fd = -1;
    int rc = -EIO;

    (void)snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        goto out;
    }
    while (off < len) {
        ssize_t n = write(fd, (const char *)data + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        goto out;
    }
    rc = 0;
out:
    if (rc != 0) {
        (void)snprintf(err, err_len, "%s: %s", path, strerror(errno));
        if (fd >= 0) {
            (void)close(fd);
        }
        (void)unlink(tmp);
    }
    return rc;
}

static void hex(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * len] = '\0';
}

/* The host name reduced to [A-Za-z0-9.-], or "nbgate" when nothing is left. */
static void host_name(char *out, size_t len)
{
    char raw[256] = "";
    size_t i, n = 0;

    if (gethostname(raw, sizeof(raw) - 1) != 0) {
        raw[0] = '\0';
    }
    raw[sizeof(raw) - 1] = '\0';
    for (i = 0; raw[i] != '\0' && n + 1 < len && n < 63; i++) {
        char c = raw[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.') {
            out[n++] = c;
        }
    }
    out[n] = '\0';
    if (n == 0) {
        (void)snprintf(out, len, "nbgate");
    }
}

/* Prepends one GeneralName (dNSName, or iPAddress when name parses as an address). */
static int san_add(unsigned char **p, unsigned char *start, const char *name, size_t *total)
{
    unsigned char addr[16];
    const unsigned char *val = (const unsigned char *)name;
    size_t n = strlen(name);
    unsigned char tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2;
    int a, b, c;

    if (inet_pton(AF_INET, name, addr) == 1) {
        val = addr;
        n = 4;
        tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
    } else if (inet_pton(AF_INET6, name, addr) == 1) {
        val = addr;
        n = 16;
        tag = MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7;
    }
    a = mbedtls_asn1_write_raw_buffer(p, start, val, n);
    b = a < 0 ? a : mbedtls_asn1_write_len(p, start, n);
    c = b < 0 ? b : mbedtls_asn1_write_tag(p, start, tag);
    if (c < 0) {
        return -ERANGE;
    }
    *total += (size_t)a + (size_t)b + (size_t)c;
    return 0;
}

static bool name_listed(const char *const *names, size_t n, const char *name)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

/* Adds the SubjectAltName extension for host and the configured addresses. */
static int set_san(mbedtls_x509write_cert *crt, const char *host, const struct gw_pki_cert_opts *o)
{
    const char *names[SAN_MAX];
    unsigned char buf[2048];
    unsigned char *p = buf + sizeof(buf);
    size_t n = 0, total = 0, i;
    int a, b, rc = 0;

    names[n++] = host;
    names[n++] = "localhost";
    names[n++] = "127.0.0.1";
    names[n++] = "::1";
    for (i = 0; i < o->n_addresses && n < SAN_MAX; i++) {
        const char *addr = o->addresses[i];
        if (addr != NULL && addr[0] != '\0' && strcmp(addr, "0.0.0.0") != 0 &&
            strcmp(addr, "::") != 0 && strlen(addr) < 254 && !name_listed(names, n, addr)) {
            names[n++] = addr;
        }
    }
    for (i = n; rc == 0 && i > 0; i--) {
        rc = san_add(&p, buf, names[i - 1], &total);
    }
    if (rc != 0) {
        return rc;
    }
    a = mbedtls_asn1_write_len(&p, buf, total);
    b = a < 0 ? a
              : mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
    if (b < 0) {
        return -ERANGE;
    }
    total += (size_t)a + (size_t)b;
    return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, p,
                                               total) == 0
               ? 0
               : -EIO;
}

/* Formats a validity time (YYYYMMDDhhmmss, UTC) offset by days from now. */
static void validity(char out[16], int days)
{
    time_t t = time(NULL) + (time_t)days * 86400;
    struct tm tm;

    (void)gmtime_r(&t, &tm);
    (void)strftime(out, 16, "%Y%m%d%H%M%S", &tm);
}

/* Fills crt's fields: names, serial, validity, extensions. */
static int cert_fields(mbedtls_x509write_cert *crt, mbedtls_pk_context *key, const char *subject,
                       const char *host, const struct gw_pki_cert_opts *o)
{
    unsigned char serial_bytes[16];
    char not_before[16], not_after[16];
    mbedtls_mpi serial;
    int rc = -EIO;

    mbedtls_mpi_init(&serial);
    gw_pki_random(serial_bytes, sizeof(serial_bytes));
    serial_bytes[0] = (unsigned char)((serial_bytes[0] & 0x7f) | 0x40); /* positive, 16 bytes */
    validity(not_before, -1);
    validity(not_after, CERT_DAYS);
    mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(crt, key);
    mbedtls_x509write_crt_set_issuer_key(crt, key);
    if (mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof(serial_bytes)) != 0 ||
        mbedtls_x509write_crt_set_serial(crt, &serial) != 0 ||
        mbedtls_x509write_crt_set_subject_name(crt, subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(crt, subject) != 0 ||
        mbedtls_x509write_crt_set_validity(crt, not_before, not_after) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(crt, 0, -1) != 0 ||
        mbedtls_x509write_crt_set_subject_key_identifier(crt) != 0 ||
        mbedtls_x509write_crt_set_key_usage(crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE |
                                                     MBEDTLS_X509_KU_KEY_AGREEMENT) != 0) {
        goto out;
    }
    rc = set_san(crt, host, o);
out:
    mbedtls_mpi_free(&serial);
    return rc;
}

/* Generates a key and a self-signed certificate into PEM heap strings. */
static int generate(const struct gw_pki_cert_opts *o, char **cert_pem, char **key_pem, char *err,
                    size_t err_len)
{
    mbedtls_x509write_cert crt;
    mbedtls_pk_context key;
    char host[64], subject[80];
    int rc = -EIO;

    mbedtls_x509write_crt_init(&crt);
    mbedtls_pk_init(&key);
    *cert_pem = calloc(1, 4096);
    *key_pem = calloc(1, 1024);
    if (*cert_pem == NULL || *key_pem == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    host_name(host, sizeof(host));
    (void)snprintf(subject, sizeof(subject), "CN=%s", host);
    if (mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key), rng, NULL) != 0 ||
        mbedtls_pk_write_key_pem(&key, (unsigned char *)*key_pem, 1024) != 0) {
        (void)snprintf(err, err_len, "cannot generate the EC P-256 key");
        goto out;
    }
    if (cert_fields(&crt, &key, subject, host, o) != 0 ||
        mbedtls_x509write_crt_pem(&crt, (unsigned char *)*cert_pem, 4096, rng, NULL) != 0) {
        (void)snprintf(err, err_len, "cannot write the self-signed certificate");
        goto out;
    }
    rc = 0;
out:
    mbedtls_x509write_crt_free(&crt);
    mbedtls_pk_free(&key);
    return rc;
}

/* Parses the pair, checks that they match, and fills fingerprint and subject. */
static int check_pair(struct gw_pki_cert *c, const char *what, char *err, size_t err_len)
{
    mbedtls_x509_crt crt;
    mbedtls_pk_context key;
    unsigned char sum[32];
    int rc = -EINVAL;

    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    if (mbedtls_x509_crt_parse(&crt, (const unsigned char *)c->cert_pem, strlen(c->cert_pem) + 1) !=
        0) {
        (void)snprintf(err, err_len, "%s: the certificate does not parse", what);
        goto out;
    }
    if (mbedtls_pk_parse_key(&key, (const unsigned char *)c->key_pem, strlen(c->key_pem) + 1, NULL,
                             0) != 0) {
        (void)snprintf(err, err_len, "%s: the private key does not parse (encrypted?)", what);
        goto out;
    }
    if (mbedtls_pk_check_pair(&crt.pk, &key) != 0) {
        (void)snprintf(err, err_len, "%s: the private key does not match the certificate", what);
        goto out;
    }
    if (mbedtls_sha256_ret(crt.raw.p, crt.raw.len, sum, 0) != 0) {
        rc = -EIO;
        goto out;
    }
    hex(sum, sizeof(sum), c->fingerprint);
    if (mbedtls_x509_dn_gets(c->subject, sizeof(c->subject), &crt.subject) < 0) {
        c->subject[0] = '\0';
    }
    rc = 0;
out:
    mbedtls_x509_crt_free(&crt);
    mbedtls_pk_free(&key);
    return rc;
}

static int load_pair(struct gw_pki_cert *c, const char *cert_path, const char *key_path, char *err,
                     size_t err_len)
{
    size_t len;
    int rc;

    rc = read_file(cert_path, &c->cert_pem, &len, err, err_len);
    if (rc == 0) {
        rc = read_file(key_path, &c->key_pem, &len, err, err_len);
    }
    if (rc == 0) {
        rc = check_pair(c, cert_path, err, err_len);
    }
    return rc;
}

int gw_pki_cert_load_or_create(const struct gw_pki_cert_opts *o, struct gw_pki_cert *out, char *err,
                               size_t err_len)
{
    char cert_path[4096], key_path[4096];
    int rc;

    memset(out, 0, sizeof(*out));
    if (o->cert_path != NULL && o->cert_path[0] != '\0') {
        rc = load_pair(out, o->cert_path, o->key_path != NULL ? o->key_path : "", err, err_len);
        goto out;
    }
    (void)snprintf(cert_path, sizeof(cert_path), "%s/%s", o->data_dir, GEN_CERT_FILE);
    (void)snprintf(key_path, sizeof(key_path), "%s/%s", o->data_dir, GEN_KEY_FILE);
    out->is_generated = true;
    if (access(cert_path, F_OK) == 0 || access(key_path, F_OK) == 0) {
        rc = load_pair(out, cert_path, key_path, err, err_len);
        goto out;
    }
    rc = generate(o, &out->cert_pem, &out->key_pem, err, err_len);
    out->is_new = true;
    /* The key first: a certificate without its key would be reused and fail on every start. */
    if (rc == 0) {
        rc = write_file(key_path, out->key_pem, strlen(out->key_pem), 0600, err, err_len);
    }
    if (rc == 0) {
        rc = write_file(cert_path, out->cert_pem, strlen(out->cert_pem), 0644, err, err_len);
    }
    if (rc == 0) {
        rc = check_pair(out, cert_path, err, err_len);
    }
out:
    if (rc != 0) {
        gw_pki_cert_fini(out);
    }
    return rc;
}

void gw_pki_cert_fini(struct gw_pki_cert *c)
{
    if (c->key_pem != NULL) {
        mbedtls_platform_zeroize(c->key_pem, strlen(c->key_pem));
    }
    free(c->key_pem);
    free(c->cert_pem);
    c->key_pem = NULL;
    c->cert_pem = NULL;
}

/* ---- passwords --------------------------------------------------------------------------- */

static int b64(const uint8_t *in, size_t len, char *out, size_t out_len, bool is_url)
{
    size_t n = 0, i;

    if (mbedtls_base64_encode((unsigned char *)out, out_len, &n, in, len) != 0) {
        return -ERANGE;
    }
    while (n > 0 && out[n - 1] == '=') {
        n--;
    }
    out[n] = '\0';
    for (i = 0; is_url && i < n; i++) {
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    }
    return 0;
}

/* Decodes base64 (or base64url) without padding; returns -EBADMSG on any bad input. */
static int unb64(const char *in, size_t in_len, uint8_t *out, size_t cap, size_t *out_len,
                 bool is_url)
{
    char tmp[GW_PKI_JWT_MAX + 4];
    size_t i;

    if (in_len % 4 == 1 || in_len + 4 > sizeof(tmp)) {
        return -EBADMSG;
    }
    for (i = 0; i < in_len; i++) {
        char c = in[i];
        if (c == '=' || (is_url && (c == '+' || c == '/')) || (!is_url && (c == '-' || c == '_'))) {
            return -EBADMSG;
        }
        tmp[i] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (i % 4 != 0) {
        tmp[i++] = '=';
    }
    if (mbedtls_base64_decode(out, cap, out_len, (const unsigned char *)tmp, i) != 0) {
        return -EBADMSG;
    }
    return 0;
}

static int derive(const char *password, const uint8_t *salt, size_t salt_len, uint32_t iterations,
                  uint8_t dk[DK_LEN])
{
    mbedtls_md_context_t md;
    int rc = -EIO;

    mbedtls_md_init(&md);
    if (mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1) == 0 &&
        mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, strlen(password), salt,
                                  salt_len, iterations, DK_LEN, dk) == 0) {
        rc = 0;
    }
    mbedtls_md_free(&md);
    return rc;
}

int gw_pki_password_hash(const char *password, uint32_t iterations, char *out, size_t out_len)
{
    uint8_t salt[SALT_LEN], dk[DK_LEN];
    char salt_b64[32], dk_b64[64];
    int n, rc;

    if (password == NULL || password[0] == '\0') {
        return -EINVAL;
    }
    if (iterations == 0) {
        iterations = GW_PKI_PBKDF2_ITER;
    }
    gw_pki_random(salt, sizeof(salt));
    rc = derive(password, salt, sizeof(salt), iterations, dk);
    if (rc == 0) {
        rc = b64(salt, sizeof(salt), salt_b64, sizeof(salt_b64), false);
    }
    if (rc == 0) {
        rc = b64(dk, sizeof(dk), dk_b64, sizeof(dk_b64), false);
    }
    if (rc == 0) {
        n = snprintf(out, out_len, HASH_PREFIX "%u$%s$%s", (unsigned)iterations, salt_b64, dk_b64);
        rc = n > 0 && (size_t)n < out_len ? 0 : -EINVAL;
    }
    mbedtls_platform_zeroize(dk, sizeof(dk));
    return rc;
}

/* Compares two equal-length buffers without an early exit. */
static bool same_bytes(const uint8_t *a, const uint8_t *b, size_t len)
{
    volatile uint8_t diff = 0;
    size_t i;

    for (i = 0; i < len; i++) {
        diff = (uint8_t)(diff | (a[i] ^ b[i]));
    }
    return diff == 0;
}

bool gw_pki_password_verify(const char *password, const char *encoded)
{
    uint8_t salt[64], want[64], got[DK_LEN];
    size_t salt_len = 0, want_len = 0;
    const char *p, *d1, *d2;
    unsigned long iter;
    char *end = NULL;
    bool ok = false;

    if (password == NULL || encoded == NULL ||
        strncmp(encoded, HASH_PREFIX, strlen(HASH_PREFIX)) != 0) {
        return false;
    }
    p = encoded + strlen(HASH_PREFIX);
    errno = 0;
    iter = strtoul(p, &end, 10);
    if (errno != 0 || end == p || *end != '$' || iter == 0 || iter > 100000000UL) {
        return false;
    }
    d1 = end + 1;
    d2 = strchr(d1, '$');
    if (d2 == NULL || unb64(d1, (size_t)(d2 - d1), salt, sizeof(salt), &salt_len, false) != 0 ||
        unb64(d2 + 1, strlen(d2 + 1), want, sizeof(want), &want_len, false) != 0 ||
        want_len != DK_LEN || salt_len == 0) {
        return false;
    }
    if (derive(password, salt, salt_len, (uint32_t)iter, got) == 0) {
        ok = same_bytes(got, want, DK_LEN);
    }
    mbedtls_platform_zeroize(got, sizeof(got));
    return ok;
}

int gw_pki_secret_load_or_create(const char *path, uint8_t *secret, size_t len, char *err,
                                 size_t err_len)
{
    struct stat sb;
    ssize_t n;
    int fd;
    int rc;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        gw_pki_random(secret, len);
        return write_file(path, secret, len, 0600, err, err_len);
    }
    if (fd < 0) {
        (void)snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return -EIO;
    }
    rc = 0;
    if (fstat(fd, &sb) != 0 || sb.st_size != (off_t)len) {
        (void)snprintf(err, err_len, "%s: expected %zu bytes", path, len);
        rc = -EINVAL;
    } else {
        n = read(fd, secret, len);
        if (n != (ssize_t)len) {
            (void)snprintf(err, err_len, "%s: short read", path);
            rc = -EIO;
        }
    }
    (void)close(fd);
    return rc;
}

/* ---- JSON Web Tokens ---------------------------------------------------------------------- */

static int hmac(const uint8_t *key, size_t key_len, const char *data, size_t len, uint8_t out[32])
{
    return mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), key, key_len,
                           (const unsigned char *)data, len, out) == 0
               ? 0
               : -EIO;
}

static json_t *claims_json(const struct gw_pki_jwt *c)
{
    json_t *o = json_pack("{s:s, s:s, s:[s], s:s, s:s, s:I, s:I, s:b}", "sub", c->sub, "userId",
                          c->user_id, "scopes", c->is_refresh ? "REFRESH_TOKEN" : "TENANT_ADMIN",
                          "sessionId", c->session_id, "iss", "nbgate", "iat", (json_int_t)c->iat_s,
                          "exp", (json_int_t)c->exp_s, "isPublic", 0);

    if (o == NULL) {
        return NULL;
    }
    if (c->is_refresh) {
        (void)json_object_set_new(o, "jti", json_string(c->jti));
    } else {
        (void)json_object_set_new(o, "enabled", json_true());
        (void)json_object_set_new(o, "tenantId", json_string(c->tenant_id));
        (void)json_object_set_new(o, "customerId", json_string(c->customer_id));
    }
    return o;
}

int gw_pki_jwt_sign(const uint8_t *key, size_t key_len, const struct gw_pki_jwt *claims, char *out,
                    size_t out_len)
{
    uint8_t sig[32];
    json_t *o = claims_json(claims);
    char *payload = NULL;
    size_t n;
    int rc = -ENOMEM;

    if (o == NULL || (payload = json_dumps(o, JSON_COMPACT)) == NULL) {
        goto out;
    }
    rc = -ERANGE;
    if (b64((const uint8_t *)JWT_HEADER, strlen(JWT_HEADER), out, out_len, true) != 0) {
        goto out;
    }
    n = strlen(out);
    if (n + 2 > out_len ||
        b64((const uint8_t *)payload, strlen(payload), out + n + 1, out_len - n - 1, true) != 0) {
        goto out;
    }
    out[n] = '.';
    n = strlen(out);
    rc = hmac(key, key_len, out, n, sig);
    if (rc == 0 &&
        (n + 2 > out_len || b64(sig, sizeof(sig), out + n + 1, out_len - n - 1, true) != 0)) {
        rc = -ERANGE;
    }
    if (rc == 0) {
        out[n] = '.';
    }
out:
    free(payload);
    json_decref(o);
    return rc;
}

/* Copies a string claim of at most cap - 1 bytes; -EBADMSG when missing or too long. */
static int claim_str(json_t *o, const char *name, char *out, size_t cap, bool is_required)
{
    json_t *v = json_object_get(o, name);

    if (v == NULL && !is_required) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) >= cap) {
        return -EBADMSG;
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int parse_claims(const char *json, size_t len, struct gw_pki_jwt *out)
{
    json_t *o = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
    json_t *scopes = json_object_get(o, "scopes");
    const char *scope;
    int rc = -EBADMSG;

    memset(out, 0, sizeof(*out));
    if (!json_is_object(o) || !json_is_array(scopes) || json_array_size(scopes) != 1 ||
        !json_is_integer(json_object_get(o, "iat")) ||
        !json_is_integer(json_object_get(o, "exp"))) {
        goto out;
    }
    scope = json_string_value(json_array_get(scopes, 0));
    if (scope == NULL ||
        (strcmp(scope, "REFRESH_TOKEN") != 0 && strcmp(scope, "TENANT_ADMIN") != 0)) {
        goto out;
    }
    out->is_refresh = strcmp(scope, "REFRESH_TOKEN") == 0;
    out->iat_s = (int64_t)json_integer_value(json_object_get(o, "iat"));
    out->exp_s = (int64_t)json_integer_value(json_object_get(o, "exp"));
    if (claim_str(o, "sub", out->sub, sizeof(out->sub), true) == 0 &&
        claim_str(o, "userId", out->user_id, sizeof(out->user_id), true) == 0 &&
        claim_str(o, "sessionId", out->session_id, sizeof(out->session_id), true) == 0 &&
        claim_str(o, "tenantId", out->tenant_id, sizeof(out->tenant_id), false) == 0 &&
        claim_str(o, "customerId", out->customer_id, sizeof(out->customer_id), false) == 0 &&
        claim_str(o, "jti", out->jti, sizeof(out->jti), out->is_refresh) == 0) {
        rc = 0;
    }
out:
    json_decref(o);
    return rc;
}

int gw_pki_jwt_verify(const uint8_t *key, size_t key_len, const char *token, int64_t now_s,
                      struct gw_pki_jwt *out)
{
    uint8_t payload[GW_PKI_JWT_MAX], sig[64], want[32];
    char header_b64[64];
    const char *d1, *d2;
    size_t len = strnlen(token, GW_PKI_JWT_MAX), payload_len = 0, sig_len = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    d1 = memchr(token, '.', len);
    d2 = d1 != NULL ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (len >= GW_PKI_JWT_MAX || d2 == NULL || d2 == d1 + 1 ||
        memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL) {
        return -EBADMSG;
    }
    if (b64((const uint8_t *)JWT_HEADER, strlen(JWT_HEADER), header_b64, sizeof(header_b64),
            true) != 0 ||
        (size_t)(d1 - token) != strlen(header_b64) ||
        memcmp(token, header_b64, strlen(header_b64)) != 0) {
        return -EBADMSG;
    }
    if (unb64(d1 + 1, (size_t)(d2 - d1 - 1), payload, sizeof(payload), &payload_len, true) != 0 ||
        unb64(d2 + 1, len - (size_t)(d2 + 1 - token), sig, sizeof(sig), &sig_len, true) != 0 ||
        sig_len != sizeof(want)) {
        return -EBADMSG;
    }
    rc = hmac(key, key_len, token, (size_t)(d2 - token), want);
    if (rc != 0) {
        return rc;
    }
    if (!same_bytes(sig, want, sizeof(want))) {
        return -EKEYREJECTED;
    }
    rc = parse_claims((const char *)payload, payload_len, out);
    if (rc == 0 && out->exp_s <= now_s) {
        rc = -EKEYEXPIRED;
    }
    return rc;
}
