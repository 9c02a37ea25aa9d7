/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_pending.c - the CoAP side of the pending list (specs/rest-api.md 9.3) for devices that
 * authenticate as ThingsBoard devices do: an access token in the URI that no device has becomes
 * a COAP_TOKEN entry, a DTLS client certificate that no device has an X509 entry (fingerprint
 * and PEM). The Efento resources keep their own rules (gw_coap_efento.c).
 *
 * Called by authenticate() in gw_coap.c and by the OTA resources (gw_coap_ota.c) only after the
 * lookup failed, so a known device never pays for it; the answer stays the caller's 4.01, as in
 * ThingsBoard. The store rewrites an entry at most once a minute and leaves blocked entries
 * alone; a blocked credential makes the request quiet (no log line). Device-supplied text is
 * checked before it is kept: a token is at most an access token long and valid UTF-8 without
 * NUL; a certificate was already bounded (GW_X509_TEXT_MAX) when the handshake captured it.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"

/* Whether len bytes are UTF-8 (RFC 3629: no overlong forms, no surrogates) without NUL. */
static bool is_utf8(const unsigned char *p, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char b = p[i];
        size_t n, k;
        uint32_t cp;
        if (b == 0) {
            return false;
        }
        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf) {
            n = 1;
            cp = b & 0x1fu;
        } else if (b >= 0xe0 && b <= 0xef) {
            n = 2;
            cp = b & 0x0fu;
        } else if (b >= 0xf0 && b <= 0xf4) {
            n = 3;
            cp = b & 0x07u;
        } else {
            return false;
        }
        if (len - i <= n) {
            return false;
        }
        for (k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i + k] & 0x3fu);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
            (n == 3 && (cp < 0x10000 || cp > 0x10ffff))) {
            return false;
        }
        i += n + 1;
    }
    return true;
}

/* The resource the device asked for, in lower case: telemetry, attributes, rpc, firmware, ... */
static void resource_of(const struct gw_req *r, char *out, size_t cap)
{
    const char *name = r->path.root == GW_ROOT_FW           ? "FIRMWARE"
                       : r->path.root == GW_ROOT_SW         ? "SOFTWARE"
                       : r->path.feature == GW_FEATURE_NONE ? "OTHER"
                                                            : gw_path_feature_name(r->path.feature);
    size_t i;

    for (i = 0; i + 1 < cap && name[i] != '\0'; i++) {
        out[i] = (char)tolower((unsigned char)name[i]);
    }
    out[i] = '\0';
}

static void peer_of(const struct gw_req *r, char *buf, size_t len)
{
    size_t n = coap_print_addr(coap_session_get_addr_remote(r->session), (unsigned char *)buf, len);

    buf[n < len ? n : len - 1] = '\0';
}

/* Writes one entry; the summary JSON holds the resource and, for X509, the PEM. */
static void note(struct gw_req *r, const char *kind, const char *identifier, const char *pem)
{
    struct gw_store_pending_in in;
    char res[16], peer[64];
    json_t *sum;
    char *text;
    int rc;

    resource_of(r, res, sizeof(res));
    peer_of(r, peer, sizeof(peer));
    sum = pem != NULL ? json_pack("{s:s, s:s}", "type", res, "certificate", pem)
                      : json_pack("{s:s}", "type", res);
    text = sum != NULL ? json_dumps(sum, JSON_COMPACT) : NULL;
    json_decref(sum);
    if (text == NULL) {
        gw_log_warn("pending entry not stored kind=%s peer=%s err=\"out of memory\"", kind, peer);
        return;
    }
    memset(&in, 0, sizeof(in));
    in.kind = kind;
    in.identifier = identifier;
    in.peer = peer;
    in.summary = text;
    in.max_entries = r->c->cfg->max_pending_devices;
    rc = gw_store_pending_note(r->c->store, &in, r->now_ms);
    if (rc == 1) {
        r->is_quiet = true;
    } else if (rc < 0) {
        gw_log_warn("pending entry not stored kind=%s peer=%s rc=%d", kind, peer, rc);
    }
    free(text);
}

void gw_coap_pending_note(struct gw_req *r)
{
    const struct gw_path_seg *t = &r->path.token;
    char tok[GW_STORE_TOKEN_MAX], fp[GW_STORE_X509_FP_LEN];
    char *pem = NULL;

    if (r->path.has_token && t->len > 0 && t->len < sizeof(tok) &&
        is_utf8((const unsigned char *)t->p, t->len)) {
        memcpy(tok, t->p, t->len);
        tok[t->len] = '\0';
        note(r, "COAP_TOKEN", tok, NULL);
    }
    if (gw_coap_dtls_unknown_cert(r->c, r->session, fp, &pem) == 0) {
        note(r, "X509", fp, pem);
    }
    free(pem);
}
