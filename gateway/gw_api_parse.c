/* SPDX-License-Identifier: MIT */
/*
 * gw_api_parse.c - request bodies of provisioning, claiming and RPC (see gw_api_parse.h).
 * JSON is strict (jansson). The provisioning protobuf is read here without generated code
 * (bounded: at most 3 levels, every length checked against the buffer):
 *   1 deviceName string | 2 credentialsType enum | 3 {1 key, 2 secret} | 4 {1 {1 token},
 *   2 {1 hash}, 3 {1 clientId, 2 userName, 3 password}} | 5 gateway bool
 */
#include "gateway/gw_api_parse.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Returns 1 parsed, 0 not a JSON object (try protobuf), -1 JSON with a member error (err set). */
static int parse_json(const uint8_t *data, size_t len, struct gw_provision_fields *f, char *err,
                      size_t err_len)
{
    json_t *o = json_loadb((const char *)data, len, 0, NULL);
    size_t i;
    int rc = 1;

    if (!json_is_object(o)) {
        json_decref(o);
        return 0;
    }
    if (!member_text(o, "provisionDeviceKey", f->key, sizeof(f->key)) ||
        !member_text(o, "provisionDeviceSecret", f->secret, sizeof(f->secret))) {
        (void)snprintf(err, err_len, "provisionDeviceKey and provisionDeviceSecret are required");
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
            (void)snprintf(err, err_len, "unknown credentialsType");
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
static bool walk(const uint8_t *p, size_t len, int depth, struct gw_provision_fields *f, int path);

static bool on_field(int path, uint64_t field, const uint8_t *v, size_t vlen, uint64_t num,
                     bool is_len, int depth, struct gw_provision_fields *f)
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

static bool walk(const uint8_t *p, size_t len, int depth, struct gw_provision_fields *f, int path)
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
                !on_field(path, key >> 3, (const uint8_t *)"", 0, v, false, depth, f)) {
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

int gw_api_parse_provision(const uint8_t *data, size_t len, struct gw_provision_fields *f,
                           char *err, size_t err_len)
{
    int rc;

    memset(f, 0, sizeof(*f));
    rc = parse_json(data, len, f, err, err_len);
    if (rc < 0) {
        return -EBADMSG;
    }
    f->is_json = rc == 1;
    if (!f->is_json) {
        memset(f, 0, sizeof(*f));
        if (len == 0 || !walk(data, len, 0, f, 0)) {
            (void)snprintf(err, err_len,
                           "provisioning request is neither a JSON object nor a "
                           "ProvisionDeviceRequestMsg");
            return -EBADMSG;
        }
    }
    return 0;
}

static json_t *load(const uint8_t *data, size_t len, char *err, size_t err_len)
{
    json_error_t e;
    json_t *j;

    if (len == 0) {
        (void)snprintf(err, err_len, "empty payload");
        return NULL;
    }
    j = json_loadb((const char *)data, len, JSON_DECODE_ANY, &e);
    if (j == NULL) {
        (void)snprintf(err, err_len, "invalid JSON at line %d, column %d: %s", e.line, e.column,
                       e.text);
    }
    return j;
}

int gw_api_parse_claim(const uint8_t *data, size_t len, char *secret, size_t secret_len,
                       int64_t *duration_ms, char *err, size_t err_len)
{
    json_t *j, *s, *d;
    int rc = 0;

    secret[0] = '\0';
    *duration_ms = 0;
    if (len == 0) {
        return 0;
    }
    j = load(data, len, err, err_len);
    if (j == NULL) {
        return -EBADMSG;
    }
    s = json_object_get(j, "secretKey");
    d = json_object_get(j, "durationMs");
    if (!json_is_object(j) || (s != NULL && !json_is_string(s)) ||
        (d != NULL && !json_is_integer(d))) {
        (void)snprintf(err, err_len,
                       "claim must be {\"secretKey\": string, \"durationMs\": integer}");
        rc = -EBADMSG;
    } else {
        (void)snprintf(secret, secret_len, "%s", s != NULL ? json_string_value(s) : "");
        *duration_ms = d != NULL ? (int64_t)json_integer_value(d) : 0;
    }
    json_decref(j);
    return rc;
}

int gw_api_parse_rpc_request(const uint8_t *data, size_t len, char *method, size_t method_len,
                             char *err, size_t err_len)
{
    json_t *j = load(data, len, err, err_len);
    const char *m = json_string_value(json_object_get(j, "method"));
    int rc = 0;

    if (j == NULL) {
        return -EBADMSG;
    }
    if (!json_is_object(j) || m == NULL) {
        (void)snprintf(err, err_len, "rpc request must be a JSON object with a string \"method\"");
        rc = -EBADMSG;
    } else {
        (void)snprintf(method, method_len, "%s", m);
    }
    json_decref(j);
    return rc;
}

int gw_api_parse_rpc_response(const uint8_t *data, size_t len, char **json_out, char *err,
                              size_t err_len)
{
    json_t *j = load(data, len, err, err_len);
    int rc = 0;

    *json_out = NULL;
    if (j == NULL) {
        return -EBADMSG;
    }
    if (!json_is_object(j)) {
        (void)snprintf(err, err_len, "rpc response must be a JSON object");
        rc = -EBADMSG;
    } else {
        *json_out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        rc = *json_out != NULL ? 0 : -ENOMEM;
    }
    json_decref(j);
    return rc;
}
