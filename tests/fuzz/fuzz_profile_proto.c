/* SPDX-License-Identifier: MIT */
/*
 * fuzz_profile_proto.c - libFuzzer entry for the dynamic Protobuf adaptor
 * (profiles/profile_proto*.c) with several schemas: tests/data/proto/NAME.pb, made from NAME.proto
 * with `protoc --proto_path=. --descriptor_set_out=NAME.pb --include_imports NAME.proto` (run from
 * the repository root, like make test and make fuzz). Byte 0 chooses what the rest is: low 3 bits
 * 0..5   a payload of schema N; bits 3-4: telemetry, attributes (casting off, few keys, short
 * strings), printed JSON, or RPC params JSON for rpc_custom low 3 bits 6      a descriptor set to
 * load (role from bits 3-4), then a payload for it low 3 bits 7      a client-side
 * transportapi.RpcRequest Besides the sanitizers it aborts on a broken contract: records left after
 * an error, a diagnostic over 200 bytes or on two lines, JSON text that jansson cannot read back,
 * or an encoded RPC request that does not decode with its own schema.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "profiles/profile_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {
    "tb_telemetry", "tb_test", "sink", "tsv", "tsmap", "rpc_custom"
};
#define N_SCHEMAS (sizeof(names) / sizeof(names[0]))

static struct profile_proto_schema *schemas[N_SCHEMAS];

static void load_schemas(void)
{
    static uint8_t buf[65536];
    char path[128], err[256];
    size_t i, n;
    FILE *f;

    for (i = 0; i < N_SCHEMAS && schemas[N_SCHEMAS - 1] == NULL; i++) {
        (void)snprintf(path, sizeof(path), "tests/data/proto/%s.pb", names[i]);
        f = fopen(path, "rb");
        n = f != NULL ? fread(buf, 1, sizeof(buf), f) : 0;
        if (f == NULL || profile_proto_schema_load(buf, n, i + 1 == N_SCHEMAS ? 2 : 0, &schemas[i],
                                                   err, sizeof(err)) != 0) {
            fprintf(stderr, "fuzz_profile_proto: cannot load %s (run from the repository root)\n",
                    path);
            abort();
        }
        (void)fclose(f);
    }
}

static void check_diag(int rc, const char *err)
{
    if (rc == -EBADMSG && (strlen(err) > 200 || strchr(err, '\n') != NULL)) {
        abort();
    }
}

static void check_json(const char *s, size_t n)
{
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY, NULL);

    if (j == NULL) {
        abort();
    }
    json_decref(j);
}

static void decode(const struct profile_proto_schema *s, unsigned mode, const uint8_t *p, size_t n)
{
    static const struct profile_limits lims[2] = { { 1000, 0, true }, { 8, 16, false } };
    struct profile_batch b;
    char err[256], *json = NULL;
    size_t i, json_len = 0;
    int rc;

    if (profile_batch_init(&b, 1000) != 0) {
        abort();
    }
    if (mode == 2) {
        rc = profile_proto_to_json(s, p, n, &json, &json_len, err, sizeof(err));
        if (rc == 0) {
            check_json(json, json_len);
        }
    } else {
        rc = mode == 0 ? profile_proto_telemetry(s, p, n, 1, &lims[0], &b, err, sizeof(err))
                       : profile_proto_attributes(s, p, n, &lims[1], &b, err, sizeof(err));
        if (rc != 0 && b.n != 0) {
            abort();
        }
        for (i = 0; i < b.n; i++) {
            if (b.kv[i].v.type == PROFILE_VT_JSON) {
                check_json(b.kv[i].v.s, b.kv[i].v.s_len);
            }
        }
    }
    check_diag(rc, err);
    free(json);
    profile_batch_fini(&b);
}

/* params JSON for rpc_custom: what encodes must decode with the same schema. */
static void encode_rpc(const uint8_t *p, size_t n)
{
    const struct profile_proto_schema *s = schemas[N_SCHEMAS - 1];
    char err[256], *json = NULL;
    uint8_t *out = NULL;
    size_t len = 0, json_len = 0;
    int rc;

    rc = profile_proto_encode_rpc_request(s, "m", 7, (const char *)p, n, &out, &len, err,
                                          sizeof(err));
    check_diag(rc, err);
    if (rc == 0 && profile_proto_to_json(s, out, len, &json, &json_len, err, sizeof(err)) != 0) {
        abort();
    }
    free(json);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct profile_proto_schema *s = NULL;
    unsigned sel, mode;
    char err[256], *method = NULL, *params = NULL;
    int rc;

    if (size < 1 || size > 65536) {
        return 0;
    }
    load_schemas();
    sel = data[0] & 7u;
    mode = (data[0] >> 3) & 3u;
    if (sel < N_SCHEMAS && mode == 3) {
        encode_rpc(data + 1, size - 1);
    } else if (sel < N_SCHEMAS) {
        decode(schemas[sel], mode, data + 1, size - 1);
    } else if (sel == 6) {
        rc = profile_proto_schema_load(data + 1, size - 1, (enum profile_schema_role)mode, &s, err,
                                       sizeof(err));
        if (rc == 0) {
            decode(s, 2, data + 1, size - 1);
        }
        profile_proto_schema_free(s);
    } else {
        rc =
            profile_proto_decode_client_rpc(data + 1, size - 1, &method, &params, err, sizeof(err));
        check_diag(rc, err);
        free(method);
        free(params);
    }
    return 0;
}
