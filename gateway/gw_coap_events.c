/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_events.c - UPLINK entries of the device event log for the device API (specs/rest-api.md
 * 9.6): what the device sent and the code it got, so an operator can see a misbehaving device
 * from the web page. Efento frames write theirs in gw_coap_efento_frame.c.
 *
 * A successful upload's entry is committed in the same transaction as the data it reports (a
 * store batch), so it costs no extra sync; a device that uploads more than once per
 * UPLINK_EVENT_GAP_MS gets one entry per gap, which counts the uploads it stands for (an NB-IoT
 * device sends every few minutes and has each upload listed; a chatty one does not slow the
 * gateway down with log rows). Error answers (4.xx, 5.xx) to an identified device are
 * written on their own, at most one per device and ERROR_EVENT_GAP_MS, so a device that keeps
 * sending broken payloads cannot turn the log into a write load. Tokens never reach the log: the
 * resource is written as api/v1/ * * * /<feature>.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"
#include "gateway/gw_sched.h"

#define ERROR_EVENT_GAP_MS  1000
#define UPLINK_EVENT_GAP_MS 1000
#define SUMMARY_KEYS        3 /* keys named in a summary */

static json_t *code_text(coap_pdu_code_t code)
{
    char s[24];

    if (code == 0) {
        return json_null();
    }
    (void)snprintf(s, sizeof(s), "%u.%02u", (unsigned)code >> 5, (unsigned)code & 0x1f);
    return json_string(s);
}

char *gw_coap_event_uplink(const struct gw_req *r, coap_pdu_code_t code, size_t resp_len,
                           const char *summary, const char *error)
{
    char resource[64], peer[64] = "";
    size_t n = coap_print_addr(coap_session_get_addr_remote(r->session), (unsigned char *)peer,
                               sizeof(peer) - 1);
    json_t *o;
    char *text;

    peer[n < sizeof(peer) ? n : sizeof(peer) - 1] = '\0';
    (void)snprintf(resource, sizeof(resource), "api/v1/%s%s", r->path.has_token ? "***/" : "",
                   gw_path_feature_name(r->path.feature));
    for (n = 7; resource[n] != '\0'; n++) { /* TELEMETRY -> telemetry, as in the path */
        resource[n] = (char)tolower((unsigned char)resource[n]);
    }
    o = json_pack("{s:s, s:s, s:i, s:s, s:b, s:I, s:o, s:I, s:s?, s:s?}", "resource", resource,
                  "coapType", coap_pdu_get_type(r->pdu) == COAP_MESSAGE_CON ? "CON" : "NON",
                  "messageId", (int)coap_pdu_get_mid(r->pdu), "remoteAddress", peer, "secure",
                  coap_session_get_proto(r->session) == COAP_PROTO_DTLS, "payloadSize",
                  (json_int_t)r->len, "responseCode", code_text(code), "responsePayloadSize",
                  (json_int_t)resp_len, "summary", summary, "error",
                  error != NULL && error[0] != '\0' ? error : NULL);
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

bool gw_coap_event_due(struct gw_req *r, uint32_t *unlisted)
{
    struct gw_sched_dev *d = gw_sched_get(r->c->sched, r->dev.id, true);

    *unlisted = 0;
    if (d == NULL) {
        return true;
    }
    if (d->last_uplink_event_ms != 0 &&
        r->mono_ms - d->last_uplink_event_ms < UPLINK_EVENT_GAP_MS) {
        d->uplinks_unlisted++;
        return false;
    }
    *unlisted = d->uplinks_unlisted;
    d->uplinks_unlisted = 0;
    d->last_uplink_event_ms = r->mono_ms;
    return true;
}

void gw_coap_event_summary(const struct profile_batch *b, const char *noun, char *out, size_t cap)
{
    size_t i, len;

    (void)snprintf(out, cap, "%zu %s", b->n, noun);
    for (i = 0; i < b->n && i < SUMMARY_KEYS; i++) {
        len = strlen(out);
        (void)snprintf(out + len, cap - len, "%s%s", i == 0 ? " (" : ", ", b->kv[i].key);
    }
    len = strlen(out);
    if (b->n > 0) {
        (void)snprintf(out + len, cap - len, "%s)", b->n > SUMMARY_KEYS ? ", ..." : "");
    }
}

void gw_coap_event_error(struct gw_req *r, const struct gw_answer *a)
{
    struct gw_sched_dev *d;
    char *body;

    if (!r->has_dev || (a->code >> 5) < 4) {
        return;
    }
    d = gw_sched_get(r->c->sched, r->dev.id, true);
    if (d == NULL ||
        (d->last_error_event_ms != 0 && r->mono_ms - d->last_error_event_ms < ERROR_EVENT_GAP_MS)) {
        return;
    }
    d->last_error_event_ms = r->mono_ms;
    body = gw_coap_event_uplink(r, a->code, a->body_len > 0 ? a->body_len : strlen(a->diag), NULL,
                                a->diag);
    if (body == NULL ||
        gw_store_event_add(r->c->store, r->dev.id, r->now_ms, "UPLINK", body) != 0) {
        gw_log_warn("event log entry not written dev=%lld", (long long)r->dev.id);
    }
    free(body);
}
