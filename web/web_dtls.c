/* SPDX-License-Identifier: MIT */
/*
 * web_dtls.c - the DTLS endpoint as the admin API shows it (specs/rest-api.md 9.5):
 *
 *   GET /api/nbgate/dtls                                  settings and the server certificate
 *   GET /api/device-connectivity/{protocol}/certificate/download   ThingsBoard's path, no token:
 *                                                         the certificate PEM for a device's -R
 *
 * The certificate is read from its file at each request (COAP_DTLS_PEM_CERT, or the appliance
 * certificate data_dir/appliance-cert.pem that gw_pki generates), so the answer is what the
 * DTLS endpoint loaded at start unless the file was replaced since. A file is read up to
 * CERT_FILE_MAX bytes. Only certificate blocks are served: a configured file may hold the key
 * too (gw_coap_dtls_id.c), and the download re-encodes each certificate so the key never leaves.
 * activeSessions is null: the sessions live in the CoAP loop, which the admin threads do not
 * touch (web.h).
 *
 *   GET /api/nbgate/connectivity   what a device needs to reach the gateway (the UI's "Connect
 *                                  this device" panel): the CoAP and CoAP-over-DTLS endpoints as
 *                                  configured (main.c fills web_server_opts) and the Efento paths
 */
#include <errno.h>
#include <jansson.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/gw_x509.h"
#include "web/web_internal.h"

#define CERT_FILE_MAX (64 * 1024) /* bytes of a certificate file we read */
#define GEN_CERT_FILE "appliance-cert.pem"
#define PEM_BEGIN     "-----BEGIN CERTIFICATE-----\n"
#define PEM_END       "-----END CERTIFICATE-----\n"
#define DOWNLOAD_NAME "ca-root.pem"

static bool is_generated(const struct web_server *srv)
{
    return srv->o.dtls_cert_path == NULL || srv->o.dtls_cert_path[0] == '\0';
}

/* Reads and parses the server certificate file. Returns: 0, -ENOENT, -EINVAL, -ENOMEM. */
static int certs_load(const struct web_server *srv, mbedtls_x509_crt *crt)
{
    char path[1024];
    char *text = NULL;
    size_t len = 0;
    FILE *f = NULL;
    int rc = 0;

    if (is_generated(srv)) {
        (void)snprintf(path, sizeof(path), "%s/%s", srv->o.data_dir, GEN_CERT_FILE);
    } else {
        (void)snprintf(path, sizeof(path), "%s", srv->o.dtls_cert_path);
    }
    f = fopen(path, "rb");
    text = malloc(CERT_FILE_MAX + 1);
    if (f == NULL || text == NULL) {
        rc = f == NULL ? -ENOENT : -ENOMEM;
        goto out;
    }
    len = fread(text, 1, CERT_FILE_MAX + 1, f);
    if (len > CERT_FILE_MAX || ferror(f)) {
        rc = -EINVAL;
        goto out;
    }
    text[len] = '\0';
    if (mbedtls_x509_crt_parse(crt, (const unsigned char *)text, len + 1) < 0 ||
        crt->raw.len == 0) {
        rc = -EINVAL;
    }
out:
    free(text);
    if (f != NULL) {
        (void)fclose(f);
    }
    return rc;
}

static json_int_t time_ms(const mbedtls_x509_time *t)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = t->year - 1900;
    tm.tm_mon = t->mon - 1;
    tm.tm_mday = t->day;
    tm.tm_hour = t->hour;
    tm.tm_min = t->min;
    tm.tm_sec = t->sec;
    return (json_int_t)timegm(&tm) * 1000;
}

static void key_type(const mbedtls_x509_crt *crt, char *out, size_t len)
{
    mbedtls_pk_type_t t = mbedtls_pk_get_type(&crt->pk);
    size_t bits = mbedtls_pk_get_bitlen(&crt->pk);

    if (t == MBEDTLS_PK_ECKEY || t == MBEDTLS_PK_ECKEY_DH || t == MBEDTLS_PK_ECDSA) {
        (void)snprintf(out, len, "EC P-%zu", bits);
    } else if (t == MBEDTLS_PK_RSA) {
        (void)snprintf(out, len, "RSA-%zu", bits);
    } else {
        (void)snprintf(out, len, "%s", mbedtls_pk_get_name(&crt->pk));
    }
}

/* The certificate object of GET /api/nbgate/dtls. */
static json_t *cert_json(const struct web_server *srv, const mbedtls_x509_crt *crt)
{
    char subject[256] = "", issuer[256] = "", serial[2 * 32 + 1] = "", type[32];
    char fp[GW_X509_FINGERPRINT_LEN] = "";
    size_t i;

    (void)mbedtls_x509_dn_gets(subject, sizeof(subject), &crt->subject);
    (void)mbedtls_x509_dn_gets(issuer, sizeof(issuer), &crt->issuer);
    for (i = 0; i < crt->serial.len && i < 32; i++) {
        (void)snprintf(serial + 2 * i, 3, "%02x", crt->serial.p[i]);
    }
    (void)gw_x509_fingerprint(crt->raw.p, crt->raw.len, fp);
    key_type(crt, type, sizeof(type));
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s, s:b, s:b, s:s}", "subject", subject, "issuer",
                     issuer, "serialNumber", serial, "notBefore", time_ms(&crt->valid_from),
                     "notAfter", time_ms(&crt->valid_to), "sha256Fingerprint", fp, "selfSigned",
                     crt->subject_raw.len == crt->issuer_raw.len &&
                         memcmp(crt->subject_raw.p, crt->issuer_raw.p, crt->issuer_raw.len) == 0,
                     "generated", is_generated(srv), "keyType", type);
}

void web_hnd_dtls(struct web_req *rq, struct web_resp *rs)
{
    const struct web_server_opts *o = &rq->srv->o;
    mbedtls_x509_crt crt;
    json_t *cert = json_null();

    mbedtls_x509_crt_init(&crt);
    if (o->is_dtls_enabled && certs_load(rq->srv, &crt) == 0) {
        cert = cert_json(rq->srv, &crt);
    }
    web_reply_json(
        rs,
        json_pack("{s:b, s:s, s:I, s:s, s:o?, s:I, s:I, s:n}", "enabled", o->is_dtls_enabled,
                  "bindAddress", o->dtls_bind_address != NULL ? o->dtls_bind_address : "",
                  "bindPort", (json_int_t)o->dtls_bind_port, "credentialsType",
                  o->dtls_credentials_type != NULL ? o->dtls_credentials_type : "PEM",
                  "certificate", cert, "x509SessionInactivityTimeoutMs",
                  (json_int_t)o->dtls_session_inactivity_timeout_ms, "x509SessionReportTimeoutMs",
                  (json_int_t)o->dtls_session_report_timeout_ms, "activeSessions"));
    mbedtls_x509_crt_free(&crt);
}

void web_hnd_coaps_cert_download(struct web_req *rq, struct web_resp *rs)
{
    const char *proto = rq->params[0];
    const mbedtls_x509_crt *c;
    mbedtls_x509_crt crt;
    struct web_buf b = { 0 };
    unsigned char pem[8192];
    size_t olen = 0;
    int rc = -ENOENT;

    mbedtls_x509_crt_init(&crt);
    if (strcmp(proto, "coaps") == 0 && rq->srv->o.is_dtls_enabled) {
        rc = certs_load(rq->srv, &crt);
    }
    for (c = &crt; rc == 0 && c != NULL && c->raw.len > 0; c = c->next) {
        rc = mbedtls_pem_write_buffer(PEM_BEGIN, PEM_END, c->raw.p, c->raw.len, pem, sizeof(pem),
                                      &olen) == 0
                 ? 0
                 : -EINVAL;
        web_buf_add(&b, (const char *)pem, rc == 0 && olen > 0 ? olen - 1 : 0);
    }
    mbedtls_x509_crt_free(&crt);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "%.32s pem cert file is not found!", proto);
        web_buf_fini(&b);
        return;
    }
    if (rc != 0) {
        web_buf_fini(&b);
        web_error(rs, 500, WEB_E_GENERAL, "The server certificate cannot be read");
        return;
    }
    web_reply_buf(rs, &b);
    rs->content_type = "application/octet-stream";
    rs->hdr_name[0] = "Content-Disposition";
    (void)snprintf(rs->hdr_value[0], sizeof(rs->hdr_value[0]), "attachment;filename=%s",
                   DOWNLOAD_NAME);
}

/* The CoAP paths an Efento sensor may post to (gw_path.c: efento/{m,i,c,t} and the bare ones). */
static const char *const efento_endpoints[] = { "efento/m", "efento/i", "efento/c", "efento/t",
                                                "m",        "i",        "c",        "t" };

void web_hnd_connectivity(struct web_req *rq, struct web_resp *rs)
{
    const struct web_server_opts *o = &rq->srv->o;
    char fp[GW_X509_FINGERPRINT_LEN] = "";
    json_t *eps = json_array();
    mbedtls_x509_crt crt;
    size_t i;

    mbedtls_x509_crt_init(&crt);
    if (o->is_dtls_enabled && certs_load(rq->srv, &crt) == 0) {
        (void)gw_x509_fingerprint(crt.raw.p, crt.raw.len, fp);
    }
    mbedtls_x509_crt_free(&crt);
    for (i = 0; eps != NULL && i < sizeof(efento_endpoints) / sizeof(efento_endpoints[0]); i++) {
        (void)json_array_append_new(eps, json_string(efento_endpoints[i]));
    }
    web_reply_json(
        rs, json_pack("{s:{s:b, s:s, s:I}, s:{s:b, s:s, s:I, s:s?}, s:{s:o?}}", "coap", "enabled",
                      true, "bindAddress", o->coap_bind_address != NULL ? o->coap_bind_address : "",
                      "port", (json_int_t)o->coap_bind_port, "coaps", "enabled", o->is_dtls_enabled,
                      "bindAddress", o->dtls_bind_address != NULL ? o->dtls_bind_address : "",
                      "port", (json_int_t)o->dtls_bind_port, "certificateSha256",
                      fp[0] != '\0' ? fp : NULL, "efento", "endpoints", eps));
}
