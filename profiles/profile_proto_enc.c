/* SPDX-License-Identifier: MIT */
/*
 * profile_proto_enc.c - what nbgate sends to Protobuf devices (specs/coap-device-api.md 14.4,
 * 14.5): the fixed transport messages (AttributeUpdateNotificationMsg, GetAttributeResponseMsg,
 * ToServerRpcResponseMsg, each a proto3 message of package transport) and the server-side RPC
 * request in the profile's own RPC-request schema; plus the fixed client-side RPC request
 * (transportapi.RpcRequest) read from devices. Called by the gateway's downlink code.
 *
 * Encoding is proto3 as protobuf-java serialises it: fields in number order, a field without
 * presence left out when it holds its default (0, false, "", 0.0 but not -0.0), a set message
 * always written (even when empty), repeated scalars packed unless [packed = false].
 *
 * The RPC request is {"method": m, "requestId": id, "params": <params JSON>} merged into the
 * schema's message the way ThingsBoard's JsonFormat.parser().ignoringUnknownFields() does:
 * members match a field's JSON name or declared name, unknown members and unknown enum names
 * are ignored, null leaves a field unset, numbers may come as JSON strings, a string field takes
 * any JSON scalar as text, bytes are Base64, two members of one oneof are an error. With
 * ThingsBoard's default schema (params is a string) an object params therefore does not fit:
 * the caller marks that RPC FAILED (spec 7.2). Nesting is bounded by PROFILE_PROTO_MAX_DEPTH.
 */
#include "profiles/profile_model.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "profiles/profile_proto_internal.h"

/* transport.KeyValueType */
enum { KV_BOOLEAN = 0, KV_LONG = 1, KV_DOUBLE = 2, KV_STRING = 3, KV_JSON = 4 };

/* Appends sub as a LEN field and releases it. */
static void put_sub(struct profile_pb_wbuf *w, uint32_t field, struct profile_pb_wbuf *sub)
{
    if (sub->has_failed) {
        w->has_failed = true;
    } else {
        profile_pb_wbuf_bytes(w, field, sub->p != NULL ? sub->p : (const uint8_t *)"", sub->len);
    }
    free(sub->p);
    memset(sub, 0, sizeof(*sub));
}

static void put_string(struct profile_pb_wbuf *w, uint32_t field, const char *s, size_t n)
{
    if (s != NULL && n > 0) {
        profile_pb_wbuf_bytes(w, field, s, n);
    }
}

static void put_varint_field(struct profile_pb_wbuf *w, uint32_t field, uint64_t v)
{
    if (v != 0) {
        profile_pb_wbuf_tag(w, field, PROFILE_PB_WT_VARINT);
        profile_pb_wbuf_varint(w, v);
    }
}

/* transport.KeyValueProto of one typed value. */
static void put_kv(struct profile_pb_wbuf *w, const struct profile_kv *kv)
{
    const struct profile_value *v = &kv->v;
    uint64_t bits;

    put_string(w, 1, kv->key, kv->key != NULL ? strlen(kv->key) : 0);
    switch (v->type) {
    case PROFILE_VT_BOOLEAN:
        put_varint_field(w, 3, v->b ? 1 : 0);
        break;
    case PROFILE_VT_LONG:
        put_varint_field(w, 2, KV_LONG);
        put_varint_field(w, 4, (uint64_t)v->l);
        break;
    case PROFILE_VT_DOUBLE:
        put_varint_field(w, 2, KV_DOUBLE);
        memcpy(&bits, &v->d, sizeof(bits));
        if (bits != 0) {
            profile_pb_wbuf_tag(w, 5, PROFILE_PB_WT_I64);
            profile_pb_wbuf_fixed64(w, bits);
        }
        break;
    case PROFILE_VT_STRING:
        put_varint_field(w, 2, KV_STRING);
        put_string(w, 6, v->s, v->s_len);
        break;
    case PROFILE_VT_JSON:
        put_varint_field(w, 2, KV_JSON);
        put_string(w, 7, v->s, v->s_len);
        break;
    }
}

/* transport.TsKvProto {ts = 1, kv = 2} as field number field of w. */
static void put_tskv(struct profile_pb_wbuf *w, uint32_t field, const struct profile_kv *kv)
{
    struct profile_pb_wbuf tskv = { 0 }, kvb = { 0 };

    put_varint_field(&tskv, 1, (uint64_t)kv->ts_ms);
    put_kv(&kvb, kv);
    put_sub(&tskv, 2, &kvb);
    put_sub(w, field, &tskv);
}

int profile_proto_encode_attr_update(const struct profile_kv *updated, size_t n_updated,
                                     const char *const *deleted, size_t n_deleted, uint8_t **out,
                                     size_t *out_len)
{
    struct profile_pb_wbuf w = { 0 };
    size_t i;

    for (i = 0; i < n_updated; i++) {
        put_tskv(&w, 1, &updated[i]);
    }
    for (i = 0; i < n_deleted; i++) {
        profile_pb_wbuf_bytes(&w, 2, deleted[i], strlen(deleted[i])); /* repeated: even "" */
    }
    return profile_pb_wbuf_take(&w, out, out_len);
}

int profile_proto_encode_attr_response(const struct profile_attr_response *r, uint8_t **out,
                                       size_t *out_len)
{
    struct profile_pb_wbuf w = { 0 };
    size_t i;

    put_varint_field(&w, 1, (uint64_t)(int64_t)r->request_id);
    for (i = 0; i < r->n_client; i++) {
        put_tskv(&w, 2, &r->client[i]);
    }
    for (i = 0; i < r->n_shared; i++) {
        put_tskv(&w, 3, &r->shared[i]);
    }
    put_varint_field(&w, 4, r->is_multiple ? 1 : 0);
    put_string(&w, 5, r->error, r->error != NULL ? strlen(r->error) : 0);
    put_varint_field(&w, 6, r->is_shared_state ? 1 : 0);
    return profile_pb_wbuf_take(&w, out, out_len);
}

int profile_proto_encode_rpc_reply(int32_t request_id, const char *payload, const char *error,
                                   uint8_t **out, size_t *out_len)
{
    struct profile_pb_wbuf w = { 0 };

    put_varint_field(&w, 1, (uint64_t)(int64_t)request_id);
    put_string(&w, 2, payload, payload != NULL ? strlen(payload) : 0);
    put_string(&w, 3, error, error != NULL ? strlen(error) : 0);
    return profile_pb_wbuf_take(&w, out, out_len);
}

/* ---- transportapi.RpcRequest ------------------------------------------------------------------
 */

static int dup_text(const uint8_t *p, size_t n, char **out)
{
    free(*out);
    *out = malloc(n + 1);
    if (*out == NULL) {
        return -ENOMEM;
    }
    memcpy(*out, p, n);
    (*out)[n] = '\0';
    return 0;
}

int profile_proto_decode_client_rpc(const uint8_t *data, size_t len, char **method, char **params,
                                    char *err, size_t err_len)
{
    struct profile_pb_reader r = profile_pb_reader_of((const uint8_t *)"", 0);
    const uint8_t *p;
    uint32_t f, wt;
    uint64_t v;
    size_t n;
    int rc = 0;

    *method = NULL;
    *params = NULL;
    if (len > PROFILE_PROTO_MAX_BYTES) {
        rc = profile_pb_fail(err, err_len, "payload larger than %u bytes", PROFILE_PROTO_MAX_BYTES);
    } else if (data != NULL) {
        r = profile_pb_reader_of(data, len);
    }
    while (rc == 0 && r.p < r.end) {
        if (profile_pb_read_tag(&r, &f, &wt) != 0 ||
            (wt == PROFILE_PB_WT_SGROUP || wt == PROFILE_PB_WT_EGROUP
                 ? profile_pb_skip(&r, f, wt)
                 : profile_pb_read_value(&r, wt, &v, &p, &n)) != 0) {
            rc = profile_pb_fail(err, err_len,
                                 "invalid Protobuf: malformed or truncated RpcRequest");
        } else if ((f == 1 || f == 2) && wt == PROFILE_PB_WT_LEN) {
            rc = !profile_pb_utf8_ok(p, n)    ? profile_pb_fail(err, err_len,
                                                                "invalid Protobuf: "
                                                                   "RpcRequest field is not "
                                                                   "valid UTF-8")
                 : memchr(p, '\0', n) != NULL ? profile_pb_fail(err, err_len,
                                                                "NUL characters are not "
                                                                "supported")
                                              : dup_text(p, n, f == 1 ? method : params);
        }
    }
    if (rc == 0 && *method == NULL) {
        rc = dup_text((const uint8_t *)"", 0, method);
    }
    if (rc == 0 && *params == NULL) {
        rc = dup_text((const uint8_t *)"", 0, params);
    }
    if (rc != 0) {
        free(*method);
        free(*params);
        *method = NULL;
        *params = NULL;
    }
    return rc;
}

/* ---- RPC request: JSON merged into the profile's schema ---------------------------------------
 */

struct enc_ctx {
    const struct profile_proto_schema *s;
    char *err;
    size_t err_len;
};

/* One scalar ready for the wire: v for varint/fixed kinds, p/len for LEN kinds. */
struct scalar {
    uint64_t v;
    const char *p;
    size_t len;
    char *heap; /* owned text or bytes behind p */
    bool is_default;
    bool is_skipped; /* an unknown enum name: the field stays unset */
};

static int misfit(struct enc_ctx *c, const struct profile_pb_field *fd, const char *why)
{
    return profile_pb_fail(c->err, c->err_len, "params do not fit the RPC schema: field %s: %s",
                           fd->name, why);
}

/* A JSON number or numeric string as an integer in [lo, hi] (lo < 0) or [0, hi_u] (unsigned). */
static int json_integer_in(const json_t *j, bool is_unsigned, int64_t lo, int64_t hi, uint64_t hi_u,
                           uint64_t *out)
{
    const char *s;
    char *end = NULL;
    double d;

    if (json_is_integer(j)) {
        json_int_t x = json_integer_value(j);
        if (is_unsigned ? x < 0 || (uint64_t)x > hi_u : x < lo || x > hi) {
            return -ERANGE;
        }
        *out = (uint64_t)x;
        return 0;
    }
    if (json_is_real(j)) {
        d = json_real_value(j);
    } else if (json_is_string(j)) {
        s = json_string_value(j);
        errno = 0;
        if (is_unsigned && s[0] >= '0' && s[0] <= '9') {
            unsigned long long u = strtoull(s, &end, 10);
            if (errno == 0 && *end == '\0') {
                return u > hi_u ? -ERANGE : (*out = u, 0);
            }
        } else if (!is_unsigned) {
            long long x = strtoll(s, &end, 10);
            if (errno == 0 && *end == '\0' && end != s) {
                return x < lo || x > hi ? -ERANGE : (*out = (uint64_t)x, 0);
            }
        }
        d = strtod(s, &end);
        if (end == s || *end != '\0') {
            return -EINVAL;
        }
    } else {
        return -EINVAL;
    }
    if (!isfinite(d) || d != trunc(d) ||
        (is_unsigned ? d < 0 || d >= 18446744073709551616.0 || (uint64_t)d > hi_u
                     : d < (double)lo || d >= -(double)INT64_MIN || (int64_t)d > hi)) {
        return -ERANGE;
    }
    *out = is_unsigned ? (uint64_t)d : (uint64_t)(int64_t)d;
    return 0;
}

static int json_floating(const json_t *j, bool is_float, double *out)
{
    const char *s;
    char *end = NULL;

    if (json_is_number(j)) {
        *out = json_number_value(j);
    } else if (json_is_string(j)) {
        s = json_string_value(j);
        if (strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0) {
            *out = s[0] == 'N' ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
            return 0;
        }
        *out = strtod(s, &end);
        if (end == s || *end != '\0' || !isfinite(*out)) {
            return -EINVAL;
        }
    } else {
        return -EINVAL;
    }
    return is_float && isfinite(*out) && fabs(*out) > FLT_MAX ? -ERANGE : 0;
}

/* A JSON scalar as text, as Gson's getAsString gives it. */
static int json_text(const json_t *j, struct scalar *sc)
{
    char buf[40];
    int n = 0, prec;

    if (json_is_string(j)) {
        sc->p = json_string_value(j);
        sc->len = json_string_length(j);
        return memchr(sc->p, '\0', sc->len) != NULL ? -EINVAL : 0;
    }
    if (json_is_boolean(j)) {
        sc->p = json_is_true(j) ? "true" : "false";
        sc->len = strlen(sc->p);
        return 0;
    }
    if (json_is_integer(j)) {
        n = snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
    } else if (json_is_real(j)) {
        for (prec = 15; prec <= 17; prec++) {
            n = snprintf(buf, sizeof(buf), "%.*g", prec, json_real_value(j));
            if (strtod(buf, NULL) == json_real_value(j)) {
                break;
            }
        }
    } else {
        return -EINVAL;
    }
    sc->heap = malloc((size_t)n + 1);
    if (sc->heap == NULL) {
        return -ENOMEM;
    }
    memcpy(sc->heap, buf, (size_t)n + 1);
    sc->p = sc->heap;
    sc->len = (size_t)n;
    return 0;
}

static int b64_val(char ch)
{
    if (ch >= 'A' && ch <= 'Z') {
        return ch - 'A';
    }
    if (ch >= 'a' && ch <= 'z') {
        return ch - 'a' + 26;
    }
    if (ch >= '0' && ch <= '9') {
        return ch - '0' + 52;
    }
    return ch == '+' || ch == '-' ? 62 : ch == '/' || ch == '_' ? 63 : -1;
}

/* Base64 (standard or URL-safe, padding optional) to bytes. */
static int json_bytes(const json_t *j, struct scalar *sc)
{
    const char *s = json_string_value(j);
    size_t n, i, o = 0, bits = 0;
    uint32_t acc = 0;
    int x;

    if (s == NULL) {
        return -EINVAL;
    }
    n = strlen(s);
    while (n > 0 && s[n - 1] == '=') {
        n--;
    }
    sc->heap = malloc(n / 4 * 3 + 3);
    if (sc->heap == NULL) {
        return -ENOMEM;
    }
    for (i = 0; i < n; i++) {
        x = b64_val(s[i]);
        if (x < 0) {
            return -EINVAL;
        }
        acc = acc << 6 | (uint32_t)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            sc->heap[o++] = (char)(acc >> bits);
        }
    }
    if (n % 4 == 1) {
        return -EINVAL;
    }
    sc->p = sc->heap;
    sc->len = o;
    return 0;
}

static int json_enum(struct enc_ctx *c, const struct profile_pb_field *fd, const json_t *j,
                     struct scalar *sc)
{
    const struct profile_pb_enum *en = &c->s->enums[fd->ref];
    size_t i;

    if (json_is_string(j)) {
        for (i = 0; i < en->n_values; i++) {
            if (strcmp(en->values[i].name, json_string_value(j)) == 0) {
                sc->v = (uint64_t)(int64_t)en->values[i].number;
                return 0;
            }
        }
        sc->is_skipped = true; /* ignoringUnknownFields: an unknown name leaves the field unset */
        return 0;
    }
    return json_integer_in(j, false, INT32_MIN, INT32_MAX, 0, &sc->v);
}

/* A JSON boolean, or the string "true" or "false" (JsonFormat accepts both). */
static int json_bool(const json_t *j, uint64_t *v)
{
    const char *s = json_string_value(j);

    if (json_is_boolean(j)) {
        *v = json_is_true(j) ? 1 : 0;
    } else if (s != NULL && (strcmp(s, "true") == 0 || strcmp(s, "false") == 0)) {
        *v = s[0] == 't' ? 1 : 0;
    } else {
        return -EINVAL;
    }
    return 0;
}

/* A float or double field's value as its wire bits. */
static int json_float_bits(const json_t *j, bool is_float, uint64_t *v)
{
    double d = 0.0;
    float f;
    uint32_t u32;
    int rc = json_floating(j, is_float, &d);

    if (is_float) {
        f = (float)d;
        memcpy(&u32, &f, sizeof(u32));
        *v = u32;
    } else {
        memcpy(v, &d, sizeof(*v));
    }
    return rc;
}

/* One JSON value as a scalar of field fd. */
static int scalar_of(struct enc_ctx *c, const struct profile_pb_field *fd, const json_t *j,
                     struct scalar *sc)
{
    uint32_t u32;
    int rc = 0;

    memset(sc, 0, sizeof(*sc));
    switch (fd->type) {
    case PROFILE_PB_T_INT32:
    case PROFILE_PB_T_SINT32:
    case PROFILE_PB_T_SFIXED32:
        rc = json_integer_in(j, false, INT32_MIN, INT32_MAX, 0, &sc->v);
        u32 = (uint32_t)sc->v;
        sc->v = fd->type == PROFILE_PB_T_SINT32  ? (uint64_t)((u32 << 1) ^ (0u - (u32 >> 31)))
                : fd->type == PROFILE_PB_T_INT32 ? sc->v
                                                 : u32;
        break;
    case PROFILE_PB_T_UINT32:
    case PROFILE_PB_T_FIXED32:
        rc = json_integer_in(j, true, 0, 0, UINT32_MAX, &sc->v);
        break;
    case PROFILE_PB_T_INT64:
    case PROFILE_PB_T_SINT64:
    case PROFILE_PB_T_SFIXED64:
        rc = json_integer_in(j, false, INT64_MIN, INT64_MAX, 0, &sc->v);
        sc->v = fd->type == PROFILE_PB_T_SINT64 ? (sc->v << 1) ^ (0u - (sc->v >> 63)) : sc->v;
        break;
    case PROFILE_PB_T_UINT64:
    case PROFILE_PB_T_FIXED64:
        rc = json_integer_in(j, true, 0, 0, UINT64_MAX, &sc->v);
        break;
    case PROFILE_PB_T_BOOL:
        rc = json_bool(j, &sc->v);
        break;
    case PROFILE_PB_T_FLOAT:
    case PROFILE_PB_T_DOUBLE:
        rc = json_float_bits(j, fd->type == PROFILE_PB_T_FLOAT, &sc->v);
        break;
    case PROFILE_PB_T_STRING:
        rc = json_text(j, sc);
        break;
    case PROFILE_PB_T_BYTES:
        rc = json_bytes(j, sc);
        break;
    default: /* PROFILE_PB_T_ENUM */
        rc = json_enum(c, fd, j, sc);
        break;
    }
    sc->is_default = fd->type == PROFILE_PB_T_STRING || fd->type == PROFILE_PB_T_BYTES
                         ? sc->len == 0
                         : sc->v == 0;
    if (rc == -ERANGE) {
        rc = misfit(c, fd, "value out of range");
    } else if (rc == -EINVAL) {
        rc = misfit(c, fd, "value of the wrong type");
    }
    return rc;
}

static void put_scalar(struct profile_pb_wbuf *w, const struct profile_pb_field *fd,
                       const struct scalar *sc, bool is_tagged)
{
    uint32_t wt = profile_pb_wire_of(fd->type);

    if (is_tagged) {
        profile_pb_wbuf_tag(w, (uint32_t)fd->number, wt);
    }
    if (wt == PROFILE_PB_WT_VARINT) {
        profile_pb_wbuf_varint(w, sc->v);
    } else if (wt == PROFILE_PB_WT_I64) {
        profile_pb_wbuf_fixed64(w, sc->v);
    } else if (wt == PROFILE_PB_WT_I32) {
        profile_pb_wbuf_fixed32(w, (uint32_t)sc->v);
    } else {
        profile_pb_wbuf_varint(w, sc->len);
        profile_pb_wbuf_put(w, sc->p, sc->len);
    }
}

static int encode_message(struct enc_ctx *c, const struct profile_pb_msg *type, const json_t *obj,
                          struct profile_pb_wbuf *w, size_t depth);

/* One value (not an array) of field fd: a message or a scalar; is_packed_run writes no tag. */
static int encode_value(struct enc_ctx *c, const struct profile_pb_field *fd, const json_t *j,
                        struct profile_pb_wbuf *w, size_t depth, bool is_always, bool is_packed_run)
{
    struct profile_pb_wbuf sub = { 0 };
    struct scalar sc;
    int rc;

    if (fd->type == PROFILE_PB_T_MESSAGE) {
        if (!json_is_object(j)) {
            return misfit(c, fd, "expected a JSON object");
        }
        rc = encode_message(c, &c->s->msgs[fd->ref], j, &sub, depth + 1);
        if (rc == 0) {
            put_sub(w, (uint32_t)fd->number, &sub);
        }
        free(sub.p);
        return rc;
    }
    rc = scalar_of(c, fd, j, &sc);
    if (rc == 0 && !sc.is_skipped && (is_always || !sc.is_default)) {
        put_scalar(w, fd, &sc, !is_packed_run);
    }
    free(sc.heap);
    return rc;
}

/* A map field: a JSON object whose members become entries {key = 1, value = 2}. */
static int encode_map(struct enc_ctx *c, const struct profile_pb_field *fd, const json_t *obj,
                      struct profile_pb_wbuf *w, size_t depth)
{
    const struct profile_pb_msg *et = &c->s->msgs[fd->ref];
    struct profile_pb_wbuf entry = { 0 };
    const char *key;
    json_t *val, *jk;
    int rc = 0;

    if (!json_is_object(obj)) {
        return misfit(c, fd, "expected a JSON object");
    }
    json_object_foreach((json_t *)obj, key, val)
    {
        jk = json_string(key);
        rc = jk == NULL ? -ENOMEM : encode_value(c, &et->fields[0], jk, &entry, depth, true, false);
        json_decref(jk);
        if (rc == 0 && json_is_null(val)) {
            rc = misfit(c, fd, "map values cannot be null");
        }
        if (rc == 0) {
            rc = encode_value(c, &et->fields[1], val, &entry, depth, true, false);
        }
        if (rc != 0) {
            break;
        }
        put_sub(w, (uint32_t)fd->number, &entry);
    }
    free(entry.p);
    return rc;
}

static int encode_repeated(struct enc_ctx *c, const struct profile_pb_field *fd, const json_t *arr,
                           struct profile_pb_wbuf *w, size_t depth)
{
    bool is_packed = profile_pb_is_packable(fd->type) && !fd->is_unpacked;
    struct profile_pb_wbuf run = { 0 };
    json_t *el;
    size_t i;
    int rc = 0;

    if (!json_is_array(arr)) {
        return misfit(c, fd, "expected a JSON array");
    }
    json_array_foreach(arr, i, el)
    {
        rc = json_is_null(el)
                 ? misfit(c, fd, "array elements cannot be null")
                 : encode_value(c, fd, el, is_packed ? &run : w, depth, true, is_packed);
        if (rc != 0) {
            break;
        }
    }
    if (rc == 0 && is_packed && run.len > 0) {
        put_sub(w, (uint32_t)fd->number, &run);
    }
    free(run.p);
    return rc;
}

/* The member of obj for field fd (by JSON name, then declared name), or NULL. */
static const json_t *member(const json_t *obj, const struct profile_pb_field *fd)
{
    const json_t *j = json_object_get(obj, fd->json_name);

    return j != NULL ? j : json_object_get(obj, fd->name);
}

static int encode_message(struct enc_ctx *c, const struct profile_pb_msg *type, const json_t *obj,
                          struct profile_pb_wbuf *w, size_t depth)
{
    const struct profile_pb_field *fd;
    const json_t *j;
    int32_t *oneof_set = NULL;
    size_t i;
    int rc = 0;

    if (depth > PROFILE_PROTO_MAX_DEPTH) {
        return profile_pb_fail(c->err, c->err_len, "params nested deeper than %d",
                               PROFILE_PROTO_MAX_DEPTH);
    }
    oneof_set = calloc(type->n_oneofs + 1, sizeof(*oneof_set));
    if (oneof_set == NULL) {
        return -ENOMEM;
    }
    for (i = 0; rc == 0 && i < type->n_fields; i++) {
        fd = &type->fields[i];
        j = member(obj, fd);
        if (j == NULL || json_is_null(j)) {
            continue;
        }
        if (fd->oneof >= 0 && oneof_set[fd->oneof]++ > 0) {
            rc = misfit(c, fd, "another field of its oneof is already set");
        } else if (fd->label == PROFILE_PB_LABEL_REPEATED && fd->type == PROFILE_PB_T_MESSAGE &&
                   c->s->msgs[fd->ref].is_map_entry) {
            rc = encode_map(c, fd, j, w, depth);
        } else if (fd->label == PROFILE_PB_LABEL_REPEATED) {
            rc = encode_repeated(c, fd, j, w, depth);
        } else {
            rc = encode_value(c, fd, j, w, depth, fd->oneof >= 0, false);
        }
    }
    free(oneof_set);
    return rc;
}

int profile_proto_encode_rpc_request(const struct profile_proto_schema *s, const char *method,
                                     int32_t request_id, const char *params_json, size_t params_len,
                                     uint8_t **out, size_t *out_len, char *err, size_t err_len)
{
    struct enc_ctx c = { s, err, err_len };
    struct profile_pb_wbuf w = { 0 };
    json_t *obj = NULL, *params = NULL;
    json_error_t jerr;
    int rc = 0;

    *out = NULL;
    *out_len = 0;
    if (params_json != NULL) {
        params = json_loadb(params_json, params_len, JSON_DECODE_ANY, &jerr);
        if (params == NULL) {
            return profile_pb_fail(err, err_len, "params are not valid JSON: %s", jerr.text);
        }
    }
    obj = json_pack("{s:s, s:I, s:o}", "method", method != NULL ? method : "", "requestId",
                    (json_int_t)request_id, "params", params != NULL ? params : json_null());
    if (obj == NULL) {
        return -ENOMEM; /* json_pack released params */
    }
    rc = encode_message(&c, &s->msgs[s->root], obj, &w, 0);
    json_decref(obj);
    if (rc == 0) {
        rc = profile_pb_wbuf_take(&w, out, out_len);
    }
    free(w.p);
    return rc;
}
