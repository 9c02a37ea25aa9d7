/* SPDX-License-Identifier: MIT */
/*
 * gw_pki.h - nbgate's own keys and secrets, all with mbedTLS 2.28: the appliance certificate
 * (EC P-256, self-signed, generated on first start), admin password hashes (PBKDF2-HMAC-SHA256),
 * random secrets kept in the data directory, and the admin API's JSON Web Tokens (HS256).
 *
 * Files this module writes are created with O_EXCL under a temporary name, fsynced and renamed,
 * so a crash leaves either the old file or the whole new one. Secret files are mode 0600.
 * Thread: every function may be called from any thread; none keeps state between calls.
 */
#ifndef GW_PKI_H
#define GW_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_PKI_FINGERPRINT_LEN 65     /* lower-case hex SHA-256 and a NUL */
#define GW_PKI_HASH_MAX        160    /* bytes of an encoded password hash, with NUL */
#define GW_PKI_PBKDF2_ITER     600000 /* PBKDF2-HMAC-SHA256 iterations for new hashes */
#define GW_PKI_JWT_MAX         2048   /* bytes of a token this module signs or accepts, with NUL */
#define GW_PKI_SUB_MAX         256    /* bytes of a JWT subject (user name), with NUL */
#define GW_PKI_UUID_LEN        37     /* a UUID in text form and a NUL */

/* Where the appliance certificate comes from. */
struct gw_pki_cert_opts {
    const char *data_dir;  /* a generated pair lives here as appliance-{cert,key}.pem */
    const char *cert_path; /* a configured PEM certificate, or NULL / "" to use the generated one */
    const char *key_path;  /* its PEM private key (unencrypted), with cert_path */
    const char *const *addresses; /* bind addresses to name in the SANs ("0.0.0.0", "::" skipped) */
    size_t n_addresses;
};

/* The certificate and key the admin server (and later DTLS) present. */
struct gw_pki_cert {
    char *cert_pem;                           /* NUL-terminated PEM */
    char *key_pem;                            /* NUL-terminated PEM; a secret */
    char fingerprint[GW_PKI_FINGERPRINT_LEN]; /* SHA-256 of the certificate's DER bytes */
    char subject[128];                        /* e.g. "CN=gw-7f3a" */
    bool is_generated;                        /* made by this gateway */
};

/*
 * Loads the configured pair, or the generated pair from data_dir, or generates one (EC P-256,
 * subject CN = host name, SANs: host name, localhost, 127.0.0.1, ::1 and the addresses; valid 10
 * years; key file mode 0600) and stores it. Checks that key and certificate belong together.
 * Returns: 0, -ENOENT (a configured file is missing), -EINVAL (a file does not parse, or the key
 * does not match), -EIO (cannot write the generated files); err says which file and why.
 * Ownership: caller owns out's strings; release with gw_pki_cert_fini().
 */
int gw_pki_cert_load_or_create(const struct gw_pki_cert_opts *o, struct gw_pki_cert *out, char *err,
                               size_t err_len);

/* Frees the PEM strings (the key is wiped first). A zeroed struct is a no-op. */
void gw_pki_cert_fini(struct gw_pki_cert *c);

/* Fills buf with len bytes from the kernel's random source. */
void gw_pki_random(void *buf, size_t len);

/*
 * Hashes a password for storage: "pbkdf2-sha256$ITER$SALT$HASH" with a random 16-byte salt and
 * a 32-byte derived key, both base64 without padding. iterations 0 means GW_PKI_PBKDF2_ITER.
 * Returns: 0, -EINVAL (empty password or out too small), -EIO (mbedTLS failure).
 */
int gw_pki_password_hash(const char *password, uint32_t iterations, char *out, size_t out_len);

/*
 * Checks a password against an encoded hash. The comparison of derived keys runs in constant
 * time. Returns: true on a match; false on a mismatch or a hash that does not parse.
 */
bool gw_pki_password_verify(const char *password, const char *encoded);

/*
 * Reads the len-byte secret from path, or creates it with random bytes (mode 0600) when the file
 * does not exist. Returns: 0, -EINVAL (the file has another size), -EIO (err says why).
 */
int gw_pki_secret_load_or_create(const char *path, uint8_t *secret, size_t len, char *err,
                                 size_t err_len);

/* The claims nbgate puts into an admin token (ThingsBoard's claim names). */
struct gw_pki_jwt {
    char sub[GW_PKI_SUB_MAX];          /* user name */
    char user_id[GW_PKI_UUID_LEN];     /* userId */
    char session_id[GW_PKI_UUID_LEN];  /* sessionId: ended by logout */
    char tenant_id[GW_PKI_UUID_LEN];   /* tenantId (access tokens) */
    char customer_id[GW_PKI_UUID_LEN]; /* customerId (access tokens) */
    char jti[GW_PKI_UUID_LEN];         /* jti (refresh tokens), "" for none */
    bool is_refresh;                   /* scopes ["REFRESH_TOKEN"], else ["TENANT_ADMIN"] */
    int64_t iat_s;                     /* issued at, seconds since the Unix epoch */
    int64_t exp_s;                     /* expires at, seconds since the Unix epoch */
};

/*
 * Signs claims as a compact JWT (header {"alg":"HS256","typ":"JWT"}, base64url without padding).
 * Returns: 0, -ERANGE (out too small), -ENOMEM, -EIO.
 */
int gw_pki_jwt_sign(const uint8_t *key, size_t key_len, const struct gw_pki_jwt *claims, char *out,
                    size_t out_len);

/*
 * Verifies a compact JWT signed by gw_pki_jwt_sign() and reads its claims.
 * Returns: 0 (out filled); -EBADMSG (not a well-formed nbgate JWT: shape, header, base64, JSON,
 * a claim missing or too long); -EKEYREJECTED (the signature does not verify); -EKEYEXPIRED
 * (exp <= now_s). The checks run in that order.
 */
int gw_pki_jwt_verify(const uint8_t *key, size_t key_len, const char *token, int64_t now_s,
                      struct gw_pki_jwt *out);

#endif /* GW_PKI_H */
