/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_proto.c - what Protobuf devices get back (spec 14.4, 14.5): attribute answers and
 * updates as transport.GetAttributeResponseMsg / AttributeUpdateNotificationMsg, server-side RPCs
 * encoded with the profile's RPC-request schema, client-side RPC replies as
 * ToServerRpcResponseMsg. The queue and the JSON devices work with JSON text; this file turns that
 * into bytes for a PROTOBUF profile, with typed values read from the store.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_coap_internal.h"
#include "profiles/profile_model.h"

#define ATTRS_MAX 4096

struct collect {
    struct profile_batch *out;
    const char *const *keys; /* NULL: every key */
    size_t n_keys;
    int rc;
};

static bool wanted(const struct collect *c, const char *key)
{
    size_t i;

    if (c->keys == NULL) {
        return true;
    }
    for (i = 0; i < c->n_keys; i++) {
        if (strcmp(c->keys[i], key) == 0) {
            return true;
        }
    }
    return false;
}

static int collect_one(void *arg, const char *key, int64_t ts_ms, const struct profile_value *v,
                       int scope)
{
    struct collect *c = arg;
    struct profile_kv *kv;

    (void)scope;
    if (!wanted(c, key) || c->out->n >= c->out->cap) {
        return 0;
    }
    kv = &c->out->kv[c->out->n];
    memset(kv, 0, sizeof(*kv));
    kv->key = strdup(key);
    kv->ts_ms = ts_ms;
    kv->v = *v;
    kv->v.s = NULL;
    if (v->type == PROFILE_VT_STRING || v->type == PROFILE_VT_JSON) {
        kv->v.s = malloc(v->s_len + 1);
        if (kv->v.s != NULL) {
            memcpy(kv->v.s, v->s, v->s_len);
            kv->v.s[v->s_len] = '\0';
        }
    }
    if (kv->key == NULL ||
        ((v->type == PROFILE_VT_STRING || v->type == PROFILE_VT_JSON) && kv->v.s == NULL)) {
        free(kv->key);
        free(kv->v.s);
        c->rc = -ENOMEM;
        return -ENOMEM;
    }
    c->out->n++;
    return 0;
}

int gw_coap_collect_attrs(struct gw_coap *c, int64_t device_id, enum gw_attr_scope scope,
                          const char *const *keys, size_t n_keys, struct profile_batch *out)
{
    struct collect col = { out, keys, n_keys, 0 };
    int rc;

    if (profile_batch_init(out, ATTRS_MAX) != 0) {
        return -ENOMEM;
    }
    rc = gw_store_attributes_walk(c->store, device_id, (int)scope, collect_one, &col);
    if (rc != 0 || col.rc != 0) {
        profile_batch_fini(out);
        return rc != 0 ? rc : col.rc;
    }
    return 0;
}

int gw_coap_proto_attr_update(struct gw_coap *c, int64_t device_id, const char *const *updated,
                              size_t n_updated, bool is_all, const char *const *deleted,
                              size_t n_deleted, uint8_t **out, size_t *out_len)
{
    struct profile_batch b = { 0 };
    int rc;

    if (!is_all && n_updated == 0) {
        return profile_proto_encode_attr_update(NULL, 0, deleted, n_deleted, out, out_len);
    }
    rc = gw_coap_collect_attrs(c, device_id, GW_SCOPE_SHARED, is_all ? NULL : updated, n_updated,
                               &b);
    if (rc != 0) {
        return rc;
    }
    rc = profile_proto_encode_attr_update(b.kv, b.n, deleted, n_deleted, out, out_len);
    profile_batch_fini(&b);
    return rc;
}

int gw_coap_proto_rpc(const struct profile_config *p, const char *json, size_t len, uint8_t **out,
                      size_t *out_len, char *err, size_t err_len)
{
    json_t *j = json_loadb(json, len, 0, NULL);
    json_t *params = json_object_get(j, "params");
    char *params_text = NULL;
    int rc = -EBADMSG;

    if (j == NULL || p->proto[PROFILE_SCHEMA_RPC_REQUEST] == NULL) {
        (void)snprintf(err, err_len, "no RPC request schema");
        goto out;
    }
    params_text = json_dumps(params != NULL ? params : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
    if (params_text == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    rc = profile_proto_encode_rpc_request(
        p->proto[PROFILE_SCHEMA_RPC_REQUEST], json_string_value(json_object_get(j, "method")),
        (int32_t)json_integer_value(json_object_get(j, "id")), params_text, strlen(params_text),
        out, out_len, err, err_len);
out:
    free(params_text);
    json_decref(j);
    return rc;
}

bool gw_coap_is_proto(struct gw_coap *c, int64_t profile_id, int64_t mono_ms)
{
    const struct profile_config *p = gw_coap_profile(c, profile_id, mono_ms);

    return p != NULL && p->payload_type == PROFILE_PAYLOAD_PROTOBUF;
}

void gw_coap_shared_state_answer(struct gw_req *r, struct gw_answer *a, int content_format)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    char *body;

    if (gw_coap_is_proto(r->c, r->dev.profile_id, r->mono_ms)) {
        if (gw_coap_proto_attr_update(r->c, r->dev.id, NULL, 0, true, NULL, 0, &bytes, &len) != 0) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "cannot encode the attributes");
            return;
        }
        gw_coap_answer_body(a, COAP_RESPONSE_CODE_CONTENT, GW_CF_OCTETS, (char *)bytes, len);
        return;
    }
    body = gw_coap_shared_json(r->c, r->dev.id, &len);
    if (body == NULL) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, "out of memory");
        return;
    }
    gw_coap_answer_body(a, COAP_RESPONSE_CODE_CONTENT, content_format, body, len);
}
