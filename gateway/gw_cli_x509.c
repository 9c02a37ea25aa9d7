/* SPDX-License-Identifier: MIT */
/*
 * gw_cli_x509.c - X.509 device credentials on the command line:
 *
 *   nbgate device set-cert NAME FILE   the certificate in FILE (PEM, base64 body or DER; "-" reads
 *                                      standard input) becomes the device's credential, replacing
 *                                      its access token; prints what was parsed
 *   nbgate device cert NAME            prints the device's certificate as stored
 *
 * The certificate is parsed with gw_x509 (mbedTLS) before anything is stored; text that is not
 * exactly one certificate is refused with the reason. The credentials id is the SHA-256 of the
 * DER bytes (spec R7), which is what the DTLS endpoint matches at the handshake.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gw_cli_internal.h"
#include "gateway/gw_x509.h"

/* Reads at most GW_X509_TEXT_MAX + 1 bytes, so that a larger file is refused by the parser. */
static int read_input(const char *path, char *buf, size_t cap, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    int rc = 0;

    if (f == NULL) {
        fprintf(stderr, "nbgate: %s: %s\n", path, strerror(errno));
        return -ENOENT;
    }
    *len = fread(buf, 1, cap, f);
    if (ferror(f)) {
        fprintf(stderr, "nbgate: %s: read error\n", path);
        rc = -EIO;
    }
    if (f != stdin) {
        (void)fclose(f);
    }
    return rc;
}

static void print_time(const char *label, int64_t t_s)
{
    time_t t = (time_t)t_s;
    struct tm tm;
    char buf[32];

    if (gmtime_r(&t, &tm) == NULL || strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        (void)snprintf(buf, sizeof(buf), "%lld", (long long)t_s);
    }
    printf("  %-12s%s\n", label, buf);
}

static void print_cert(const struct gw_x509_cert *c)
{
    printf("  %-12s%s\n", "subject", c->subject);
    printf("  %-12s%s%s\n", "issuer", c->issuer, c->is_self_signed ? " (self-signed)" : "");
    printf("  %-12s%s\n", "serial", c->serial);
    printf("  %-12s%s\n", "key", c->key_type);
    print_time("not before", c->not_before_s);
    print_time("not after", c->not_after_s);
    printf("  %-12s%s\n", "sha256", c->fingerprint);
    if (!gw_x509_is_valid_at(c, (int64_t)time(NULL))) {
        printf("warning: the certificate is outside its validity dates now: its handshakes fail "
               "unless TB_COAP_X509_DTLS_SKIP_VALIDITY_CHECK_FOR_CLIENT_CERT is true\n");
    }
}

static int set_cert(struct gw_store *st, const char *name, const char *path)
{
    struct gw_x509_cert cert;
    struct gw_device_ref dev;
    char *buf = malloc(GW_X509_TEXT_MAX + 1);
    char *body = NULL;
    char err[256];
    size_t len = 0;
    int rc = 1;

    memset(&cert, 0, sizeof(cert));
    if (buf == NULL || gw_cli_find_device(st, name, &dev) != 0 ||
        read_input(path, buf, GW_X509_TEXT_MAX + 1, &len) != 0) {
        goto out;
    }
    if (gw_x509_parse(buf, len, &cert, err, sizeof(err)) != 0) {
        fprintf(stderr, "nbgate: %s: %s\n", path, err);
        goto out;
    }
    body = gw_x509_body_base64(&cert);
    switch (body == NULL ? -ENOMEM
                         : gw_store_x509_set(st, dev.id, cert.fingerprint, body,
                                             (int64_t)time(NULL) * 1000)) {
    case 0:
        printf("device %s: X.509 certificate set (credentials X509_CERTIFICATE, replaces its "
               "access token)\n",
               dev.name);
        print_cert(&cert);
        rc = 0;
        break;
    case -EEXIST:
        fprintf(stderr, "nbgate: another device already has this certificate (sha256 %s)\n",
                cert.fingerprint);
        break;
    default:
        fprintf(stderr, "nbgate: store error\n");
        break;
    }
out:
    free(body);
    gw_x509_fini(&cert);
    free(buf);
    return rc;
}

static int show_cert(struct gw_store *st, const char *name)
{
    struct gw_x509_cert cert;
    struct gw_device_ref dev;
    char fp[GW_STORE_X509_FP_LEN];
    char *body = NULL;
    char err[256];
    int rc;

    memset(&cert, 0, sizeof(cert));
    if (gw_cli_find_device(st, name, &dev) != 0) {
        return 1;
    }
    rc = gw_store_x509_get(st, dev.id, fp, &body);
    if (rc == -ENOENT) {
        fprintf(stderr, "nbgate: device %s has no X.509 certificate\n", dev.name);
    } else if (rc != 0) {
        fprintf(stderr, "nbgate: store error\n");
    } else if (body == NULL || gw_x509_parse(body, strlen(body), &cert, err, sizeof(err)) != 0) {
        fprintf(stderr, "nbgate: device %s: the stored certificate does not parse\n", dev.name);
        rc = -EINVAL;
    } else {
        printf("device %s: X.509 certificate%s\n", dev.name,
               strcmp(fp, cert.fingerprint) == 0 ? "" : " (stored id differs from its sha256)");
        print_cert(&cert);
    }
    gw_x509_fini(&cert);
    free(body);
    return rc == 0 ? 0 : 1;
}

int gw_cli_x509(struct gw_store *st, int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[0], "set-cert") == 0) {
        return set_cert(st, argv[1], argv[2]);
    }
    if (argc == 2 && strcmp(argv[0], "cert") == 0) {
        return show_cert(st, argv[1]);
    }
    fprintf(stderr, "usage: nbgate device set-cert DEVICE FILE.pem   (FILE - reads stdin)\n"
                    "       nbgate device cert DEVICE\n");
    return 2;
}
