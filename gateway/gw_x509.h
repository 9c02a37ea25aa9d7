/* SPDX-License-Identifier: MIT */
/*
 * gw_x509.h - device certificates with mbedTLS 2.28: parse one X.509 certificate from the text an
 * operator pastes (PEM, the bare base64 body ThingsBoard stores, or DER bytes), and compute what
 * nbgate keys X.509 devices by: the lower-case hex SHA-256 of the certificate's DER encoding
 * (specs/coap-device-api.md R7; the credentials id of an X509_CERTIFICATE credential).
 *
 * Pure: no I/O, no log, no global state. Used by the DTLS endpoint (gw_coap_dtls.c, fingerprint
 * of the peer's certificate at the handshake), the command line (gw_cli_x509.c) and the admin API.
 * Thread: every function may be called from any thread.
 */
#ifndef GW_X509_H
#define GW_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_X509_FINGERPRINT_LEN 65    /* lower-case hex SHA-256 and a NUL */
#define GW_X509_TEXT_MAX        16384 /* bytes of certificate text or DER accepted as input */
#define GW_X509_NAME_MAX        256   /* bytes of a distinguished name in text form, with NUL */

/* One parsed certificate. */
struct gw_x509_cert {
    uint8_t *der; /* the DER encoding (heap) */
    size_t der_len;
    char fingerprint[GW_X509_FINGERPRINT_LEN]; /* SHA-256 of der, lower-case hex */
    char subject[GW_X509_NAME_MAX];            /* e.g. "CN=sensor-1, O=Acme" */
    char issuer[GW_X509_NAME_MAX];
    char serial[96];      /* hex bytes separated by ':' as mbedTLS prints them */
    char key_type[32];    /* "EC P-256", "RSA 2048", ... */
    int64_t not_before_s; /* validity start, seconds since the Unix epoch (UTC) */
    int64_t not_after_s;  /* validity end, seconds since the Unix epoch (UTC) */
    bool is_self_signed;  /* issuer equals subject and the own key verifies the signature */
};

/*
 * Parses exactly one certificate from len bytes of data: PEM text with one
 * "-----BEGIN CERTIFICATE-----" block, the base64 body alone (line breaks and spaces allowed),
 * or DER.
 * Returns: 0; -EINVAL (empty, over GW_X509_TEXT_MAX, more than one certificate, or not a
 * certificate: err says why in one line); -ENOMEM.
 * Ownership: caller owns out; release with gw_x509_fini() (also after a failure).
 */
int gw_x509_parse(const void *data, size_t len, struct gw_x509_cert *out, char *err,
                  size_t err_len);

/* Frees what gw_x509_parse() allocated. A zeroed struct is a no-op. */
void gw_x509_fini(struct gw_x509_cert *c);

/*
 * Writes the lower-case hex SHA-256 of len bytes of der to out.
 * Returns: 0, -EINVAL (der NULL or len 0), -EIO (mbedTLS failure).
 */
int gw_x509_fingerprint(const uint8_t *der, size_t len, char out[GW_X509_FINGERPRINT_LEN]);

/* Returns: true when s is 64 lower-case hex digits (a fingerprint as this module writes it). */
bool gw_x509_is_fingerprint(const char *s);

/*
 * The certificate as ThingsBoard stores an X.509 credential: the base64 of the DER on one line,
 * without the armour lines.
 * Returns: a NUL-terminated heap string, or NULL when out of memory. Ownership: caller frees.
 */
char *gw_x509_body_base64(const struct gw_x509_cert *c);

/* Returns: true when now_s lies within [not_before_s, not_after_s]. */
bool gw_x509_is_valid_at(const struct gw_x509_cert *c, int64_t now_s);

#define GW_X509_KEY_PEM_MAX 16384 /* bytes of an unencrypted key in PEM form, with NUL */

/*
 * Reads a private key from len bytes of PEM or DER text and writes it unencrypted, as PEM, to out.
 * An encrypted key needs its password: legacy PEM encryption ("Proc-Type: 4,ENCRYPTED", DES or
 * AES-CBC) and PKCS#8 ("ENCRYPTED PRIVATE KEY": PBES2 with PBKDF2 and AES-CBC or 3DES, as
 * OpenSSL 3 writes by default) are understood. password NULL or "" means none.
 * Returns: 0; -ENOKEY (the key is encrypted and no password was given); -EKEYREJECTED (the
 * password does not decrypt it); -EINVAL (not a key, or an unsupported encryption: err says
 * why); -ENOMEM.
 * Ownership: out (cap bytes, GW_X509_KEY_PEM_MAX suffice) is the caller's: wipe it when done.
 * Nothing here writes to a file.
 */
int gw_x509_key_to_pem(const void *data, size_t len, const char *password, char *out, size_t cap,
                       char *err, size_t err_len);

#endif /* GW_X509_H */
