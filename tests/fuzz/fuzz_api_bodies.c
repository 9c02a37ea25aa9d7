/* SPDX-License-Identifier: MIT */
/* fuzz_api_bodies.c - provisioning (JSON and protobuf), claim and RPC bodies from the network. */
#include <stdlib.h>

#include "gateway/gw_api_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_provision_fields f;
    char err[256], secret[256], method[128];
    char *json = NULL;
    int64_t ms;

    if (size > 65536) {
        return 0;
    }
    (void)gw_api_parse_provision(data, size, &f, err, sizeof(err));
    (void)gw_api_parse_claim(data, size, secret, sizeof(secret), &ms, err, sizeof(err));
    (void)gw_api_parse_rpc_request(data, size, method, sizeof(method), err, sizeof(err));
    (void)gw_api_parse_rpc_response(data, size, &json, err, sizeof(err));
    free(json);
    return 0;
}
