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

#include "gateway/gw_coap_internal.h"
#include "gateway/gw_log.h"

#define FIELD_MAX 256

struct prov_fields {
    char key[FIELD_MAX], secret[FIELD_MAX], name[FIELD_MAX], type[32], token[FIELD_MAX];
    bool has_name, has_token, is_gateway;
};

static const char *const cred_types[] = { "ACCESS_TOKEN", "X509_CERTIFICATE", "MQTT_BASIC",
                                          "LWM2M_CREDENTIALS" };

/* ThingsBoard reads members with getAsString: strings as they are, numbers by their text. */
static bool member_text(json_t *o, const char *name, char *out, size_t len)
{
    json_t *v = json_object_get(o, name);
    char *t;

    if (json_is_string(v)) {
        (void)snprintf(out, len, "%s", json_string_value(v));
        return true;
    }
    if (json_is_number(v) || json_is_boolean(v)) {
        t = json_dumps(v, JSON_ENCODE_ANY);
        (void)snprintf(out, len, "%s", t != NULL ? t : "");
        free(t);
        return true;
    }
    return false;
}

/* Returns 1 parsed, 0 not JSON (try protobuf), -1 JSON with a member error (answer set). */
static int parse_json(const struct gw_req *r, struct prov_fields *f, struct gw_answer *a)
{
    json_t *o = json_loadb((const char *)r->data, r->len, 0, NULL);
    size_t i;
    int rc = 1;

    if (!json_is_object(o)) {
        json_decref(o);
        return 0;
    }
    if (!member_text(o, "provisionDeviceKey", f->key, sizeof(f->key)) ||
        !member_text(o, "provisionDeviceSecret", f->secret, sizeof(f->secret))) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST,
                       "provisionDeviceKey and provisionDeviceSecret are required");
        rc = -1;
        goto out;
    }
    f->has_name = member_text(o, "deviceName", f->name, sizeof(f->name));
    f->has_token = member_text(o, "token", f->token, sizeof(f->token));
    f->is_gateway = json_is_true(json_object_get(o, "gateway")) ||
                    (json_is_string(json_object_get(o, "gateway")) &&
                     strcmp(json_string_value(json_object_get(o, "gateway")), "true") == 0);
    if (member_text(o, "credentialsType", f->type, sizeof(f->type))) {
        for (i = 0; i < 4 && strcmp(f->type, cred_types[i]) != 0; i++) {
        }
        if (i == 4) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, "unknown credentialsType");
            rc = -1;
        }
    }
out:
    json_decref(o);
    return rc;
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    int shift;

    *v = 0;
    for (shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            return true;
        }
    }
    return false;
}

static void copy_field(const uint8_t *p, size_t len, char *out, size_t cap)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    memcpy(out, p, n);
    out[n] = '\0';
}

/* Walks one message; calls on_field for length-delimited and varint fields. */
static bool walk(const uint8_t *p, size_t len, int depth, struct prov_fields *f, int path);

static bool on_field(int path, uint64_t field, const uint8_t *v, size_t vlen, uint64_t num,
                     bool is_len, int depth, struct prov_fields *f)
{
    int here = path * 10 + (int)field;

    if (!is_len) {
        if (here == 2 && num < 4) {
            (void)snprintf(f->type, sizeof(f->type), "%s", cred_types[num]);
        } else if (here == 5) {
            f->is_gateway = num != 0;
        }
        return true;
    }
    switch (here) {
    case 1:
        copy_field(v, vlen, f->name, sizeof(f->name));
        f->has_name = true;
        return true;
    case 31:
        copy_field(v, vlen, f->key, sizeof(f->key));
        return true;
    case 32:
        copy_field(v, vlen, f->secret, sizeof(f->secret));
        return true;
    case 411:
        copy_field(v, vlen, f->token, sizeof(f->token));
        f->has_token = true;
        return true;
    case 3:
    case 4:
    case 41:
        return depth < 3 && walk(v, vlen, depth + 1, f, here);
    default:
        return true;
    }
}

static bool walk(const uint8_t *p, size_t len, int depth, struct prov_fields *f, int path)
{
    const uint8_t *end = p + len;
    uint64_t key, v;

    while (p < end) {
        if (!read_varint(&p, end, &key) || key >> 3 == 0) {
            return false;
        }
        switch (key & 7) {
        case 0:
            if (!read_varint(&p, end, &v) ||
                !on_field(path, key >> 3, NULL, 0, v, false, depth, f)) {
                return false;
            }
            break;
        case 2:
            if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p) ||
                !on_field(path, key >> 3, p, (size_t)v, 0, true, depth, f)) {
                return false;
            }
            p += v;
            break;
        case 1:
            if (end - p < 8) {
                return false;
            }
            p += 8;
            break;
        case 5:
            if (end - p < 4) {
                return false;
            }
            p += 4;
            break;
        default:
            return false;
        }
    }
    return true;
}

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
    struct prov_fields f;
    struct gw_provision_req req;
    enum gw_provision_status st;
    char token[GW_STORE_TOKEN_MAX] = "";
    char why[256];
    bool is_json;
    int rc;

    memset(&f, 0, sizeof(f));
    rc = parse_json(r, &f, a);
    if (rc < 0) {
        return;
    }
    is_json = rc == 1;
    if (!is_json && (r->len == 0 || !walk(r->data, r->len, 0, &f, 0))) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST,
                       "provisioning request is neither a JSON object nor a "
                       "ProvisionDeviceRequestMsg");
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
    if (is_json) {
        answer_json(a, st, token);
    } else {
        answer_proto(a, st, token);
    }
}
