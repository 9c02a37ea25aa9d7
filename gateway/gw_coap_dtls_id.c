/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_dtls_id.c - the DTLS server's own certificate and key, for gw_coap_dtls.c.
 *
 * With COAP_DTLS_PEM_CERT set: that file's first certificate is the server's (kept alone as PEM for
 * libcoap) and the certificates after it are its chain (kept as DER, sent by gw_coap_dtls.c);
 * the key comes from COAP_DTLS_PEM_KEY, or from the same file. A key protected by
 * COAP_DTLS_PEM_KEY_PASSWORD is decrypted with mbedTLS (gw_x509_key_to_pem) and kept unencrypted
 * in memory only; the file's bytes are wiped once read. Without a configured certificate the
 * appliance pair of gw_pki is used (generated in data_dir on first start, as for the admin API).
 * Either way the key must belong to the certificate, or nbgate does not start.
 */
#include <errno.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"
#include "gateway/gw_pki.h"
#include "gateway/gw_x509.h"

#define FILE_MAX       (64 * 1024) /* bytes of a configured PEM file */
#define LEAF_PEM_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define LEAF_PEM_END   "-----END CERTIFICATE-----\n"

/* Reads a whole file of at most FILE_MAX bytes into a NUL-terminated heap buffer. */
static int read_file(const char *path, char **out, size_t *len_out, char *err, size_t err_len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0;
    int rc = -EIO;

    *out = NULL;
    if (f == NULL) {
        (void)snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? -ENOENT : -EIO;
    }
    buf = malloc(FILE_MAX + 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    n = fread(buf, 1, FILE_MAX + 1, f);
    if (ferror(f) || n > FILE_MAX) {
        (void)snprintf(err, err_len, "%s: %s", path,
                       ferror(f) ? "read error" : "larger than 64 KiB");
        rc = ferror(f) ? -EIO : -EINVAL;
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len_out = n;
    buf = NULL;
    rc = 0;
out:
    if (buf != NULL) {
        mbedtls_platform_zeroize(buf, FILE_MAX + 1);
        free(buf);
    }
    (void)fclose(f);
    return rc;
}

/* The certificate file: the first certificate is the server's (kept as PEM), the rest its chain. */
static int load_cert(struct gw_coap_dtls_id *d, const char *path, mbedtls_x509_crt *crt, char *err,
                     size_t err_len)
{
    const mbedtls_x509_crt *x;
    char *text = NULL;
    size_t len = 0, olen = 0;
    int rc = read_file(path, &text, &len, err, err_len);

    if (rc != 0) {
        return rc;
    }
    rc = -EINVAL;
    if (strstr(text, "-----BEGIN CERTIFICATE-----") == NULL ||
        mbedtls_x509_crt_parse(crt, (const unsigned char *)text, len + 1) != 0) {
        (void)snprintf(err, err_len, "%s: not a PEM certificate (or a block does not parse)", path);
        goto out;
    }
    d->cert_pem = malloc(crt->raw.len * 2 + 128);
    if (d->cert_pem == NULL || mbedtls_pem_write_buffer(LEAF_PEM_BEGIN, LEAF_PEM_END, crt->raw.p,
                                                        crt->raw.len, (unsigned char *)d->cert_pem,
                                                        crt->raw.len * 2 + 128, &olen) != 0) {
        rc = -ENOMEM;
        goto out;
    }
    for (x = crt->next; x != NULL && x->raw.p != NULL && d->n_chain < GW_COAP_DTLS_CHAIN_MAX;
         x = x->next) {
        d->chain_der[d->n_chain] = malloc(x->raw.len);
        if (d->chain_der[d->n_chain] == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        memcpy(d->chain_der[d->n_chain], x->raw.p, x->raw.len);
        d->chain_len[d->n_chain++] = x->raw.len;
    }
    rc = 0;
out:
    free(text);
    return rc;
}

/* Decrypts the key when it has a password (gw_x509, mbedTLS), checks it against the certificate
 * and keeps it as unencrypted PEM in memory. */
static int load_key(struct gw_coap_dtls_id *d, const struct gw_config *cfg, const char *path,
                    const char *password, const mbedtls_x509_crt *crt, char *err, size_t err_len)
{
    mbedtls_pk_context pk;
    char *text = NULL;
    char why[200];
    size_t len = 0;
    int rc = read_file(path, &text, &len, err, err_len);

    mbedtls_pk_init(&pk);
    if (rc != 0) {
        goto out;
    }
    d->key_pem = calloc(1, GW_X509_KEY_PEM_MAX);
    rc = d->key_pem == NULL ? -ENOMEM
                            : gw_x509_key_to_pem(text, len, password, d->key_pem,
                                                 GW_X509_KEY_PEM_MAX, why, sizeof(why));
    if (rc == -ENOKEY) {
        (void)snprintf(err, err_len, "%s: the key is encrypted: set COAP_DTLS_PEM_KEY_PASSWORD",
                       path);
    } else if (rc == -EKEYREJECTED) {
        (void)snprintf(err, err_len,
                       "%s: wrong COAP_DTLS_PEM_KEY_PASSWORD: the key does not decrypt", path);
    } else if (rc != 0) {
        (void)snprintf(err, err_len, "%s: %s", path, rc == -ENOMEM ? "out of memory" : why);
    } else if (mbedtls_pk_parse_key(&pk, (const unsigned char *)d->key_pem, strlen(d->key_pem) + 1,
                                    NULL, 0) != 0 ||
               mbedtls_pk_check_pair(&crt->pk, &pk) != 0) {
        (void)snprintf(err, err_len, "%s: the key does not belong to the certificate %s", path,
                       cfg->coap_dtls_pem_cert);
        rc = -EINVAL;
    }
out:
    mbedtls_pk_free(&pk);
    if (text != NULL) {
        mbedtls_platform_zeroize(text, len);
        free(text);
    }
    return rc;
}

/* The appliance pair (the admin API's too): copied, and gw_pki's copy wiped at once. */
static int load_appliance(const struct gw_config *cfg, struct gw_coap_dtls_id *d, char *err,
                          size_t err_len)
{
    const char *addrs[] = { cfg->admin_bind_address, cfg->coap_bind_address,
                            cfg->coap_dtls_bind_address };
    struct gw_pki_cert_opts po = { cfg->data_dir, NULL, NULL, addrs, 3 };
    struct gw_pki_cert pair;
    int rc;

    memset(&pair, 0, sizeof(pair));
    rc = gw_pki_cert_load_or_create(&po, &pair, err, err_len);
    if (rc == 0) {
        d->cert_pem = strdup(pair.cert_pem);
        d->key_pem = strdup(pair.key_pem);
        rc = d->cert_pem == NULL || d->key_pem == NULL ? -ENOMEM : 0;
        gw_log_notice("dtls certificate subject=\"%s\" sha256=%s source=appliance new=%s",
                      pair.subject, pair.fingerprint, pair.is_new ? "yes" : "no");
    }
    gw_pki_cert_fini(&pair);
    return rc;
}

int gw_coap_dtls_id_load(const struct gw_config *cfg, struct gw_coap_dtls_id *d, char *err,
                         size_t err_len)
{
    const char *key_path =
        cfg->coap_dtls_pem_key[0] != '\0' ? cfg->coap_dtls_pem_key : cfg->coap_dtls_pem_cert;
    mbedtls_x509_crt crt;
    char fp[GW_X509_FINGERPRINT_LEN] = "";
    char subject[GW_X509_NAME_MAX] = "";
    int rc;

    if (cfg->coap_dtls_pem_cert[0] == '\0') {
        return load_appliance(cfg, d, err, err_len);
    }
    mbedtls_x509_crt_init(&crt);
    rc = load_cert(d, cfg->coap_dtls_pem_cert, &crt, err, err_len);
    if (rc == 0) {
        rc = load_key(d, cfg, key_path, cfg->coap_dtls_pem_key_password, &crt, err, err_len);
    }
    if (rc == 0) {
        (void)gw_x509_fingerprint(crt.raw.p, crt.raw.len, fp);
        (void)mbedtls_x509_dn_gets(subject, sizeof(subject), &crt.subject);
        gw_log_notice("dtls certificate subject=\"%s\" sha256=%s source=%s chain=%zu key=%s",
                      subject, fp, cfg->coap_dtls_pem_cert, d->n_chain,
                      cfg->coap_dtls_pem_key_password[0] != '\0' ? "decrypted" : "plain");
    }
    mbedtls_x509_crt_free(&crt);
    return rc;
}

void gw_coap_dtls_id_fini(struct gw_coap_dtls_id *id)
{
    size_t i;

    if (id->key_pem != NULL) {
        mbedtls_platform_zeroize(id->key_pem, strlen(id->key_pem));
    }
    free(id->key_pem);
    free(id->cert_pem);
    for (i = 0; i < id->n_chain; i++) {
        free(id->chain_der[i]);
    }
    memset(id, 0, sizeof(*id));
}
