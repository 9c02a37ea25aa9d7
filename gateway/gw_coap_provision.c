/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_provision.c - POST /api/v1/provision (spec 9): no authentication, not an uplink. The
 * body is tried as JSON first and as transport.ProvisionDeviceRequestMsg second; the answer uses
 * the format that parsed. Protobuf wire format read here (bounded, no recursion beyond 3 levels):
 *   1 deviceName string | 2 credentialsType enum | 3 {1 key, 2 secret} | 4 {1 {1 token}, 2 {1
 * hash}, 3 {1 clientId, 2 userName, 3 password}} | 5 gateway bool
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_api_parse.h"
#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"

static void answer_json(struct gw_answer *a, enum gw_provision_status st, const char *token)
{
    json_t *j;
    char *text;

    if (st == GW_PROVISION_SUCCESS) {
        j = json_pack("{s:s, s:s, s:s}", "credentialsValue", token, "credentialsType",
                      "ACCESS_TOKEN", "status", "SUCCESS");
    } else if (st == GW_PROVISION_NOT_FOUND) {
        j = json_pack("{s:s, s:s}", "errorMsg", "Provision data was not found!", "status",
                      "NOT_FOUND");
    } else {
        j = json_pack("{s:s, s:s}", "errorMsg", "Failed to provision device!", "status", "FAILURE");
    }
    text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (text == NULL) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
        return;
    }
    gw_coap_answer_body(
        a, st == GW_PROVISION_SUCCESS ? COAP_RESPONSE_CODE_CREATED : COAP_RESPONSE_CODE_BAD_REQUEST,
        GW_CF_TEXT, text, strlen(text));
}

static void answer_proto(struct gw_answer *a, enum gw_provision_status st, const char *token)
{
    size_t tl = strlen(token);
    char *b = malloc(8 + tl);
    size_t n = 0;

    if (b == NULL || tl > 127) {
        free(b);
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "cannot encode the answer");
        return;
    }
    b[n++] = 0x08; /* status */
    b[n++] = (char)st;
    if (st == GW_PROVISION_SUCCESS) {
        b[n++] = 0x10; /* credentialsType ACCESS_TOKEN */
        b[n++] = 0x00;
        b[n++] = 0x1a; /* credentialsValue */
        b[n++] = (char)tl;
        memcpy(b + n, token, tl);
        n += tl;
    }
    gw_coap_answer_body(
        a, st == GW_PROVISION_SUCCESS ? COAP_RESPONSE_CODE_CREATED : COAP_RESPONSE_CODE_BAD_REQUEST,
        -1, b, n);
}

void gw_coap_api_provision(struct gw_req *r, struct gw_answer *a)
{
    struct gw_provision_fields f;
    struct gw_provision_req req;
    enum gw_provision_status st;
    char token[GW_STORE_TOKEN_MAX] = "";
    char why[256];

    if (gw_api_parse_provision(r->data, r->len, &f, why, sizeof(why)) != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "%s", why);
        return;
    }
    memset(&req, 0, sizeof(req));
    req.key = f.key;
    req.secret = f.secret;
    req.device_name = f.has_name ? f.name : NULL;
    req.credentials_type = f.type[0] != '\0' ? f.type : NULL;
    req.token = f.has_token ? f.token : NULL;
    req.is_gateway = f.is_gateway;
    if (gw_store_provision(r->c->store, &req, r->now_ms, &st, token, sizeof(token), why,
                           sizeof(why)) != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "storage error");
        return;
    }
    gw_log_info("provisioning status=%d name=\"%s\"%s%s", (int)st, f.name, why[0] ? " why=" : "",
                why);
    if (f.is_json) {
        answer_json(a, st, token);
    } else {
        answer_proto(a, st, token);
    }
}
