/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_dtls.h - the periodic work of the DTLS endpoint (gw_coap_dtls.c), for the loop's timer:
 * the idle-session sweep every TB_COAP_X509_DTLS_SESSION_REPORT_TIMEOUT, the session cap, the
 * re-check of certificate bindings after an operator's change, and the DELIVERED fallback for
 * notifications sent over DTLS. Everything else of DTLS is internal to the CoAP files.
 * Thread: loop thread only.
 */
#ifndef GW_COAP_DTLS_H
#define GW_COAP_DTLS_H

struct gw_coap;

/* Runs the DTLS endpoint's periodic work; a no-op when DTLS is disabled. Call every tick. */
void gw_coap_dtls_tick(struct gw_coap *c);

#endif /* GW_COAP_DTLS_H */
