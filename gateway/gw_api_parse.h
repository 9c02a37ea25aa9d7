/* SPDX-License-Identifier: MIT */
/*
 * gw_api_parse.h - pure parsers of the device API's request bodies other than telemetry and
 * attributes (those are the profile adaptors): provisioning (JSON or
 * transport.ProvisionDeviceRequestMsg), claiming, client-side RPC and RPC responses. No I/O, no
 * libcoap: each is fuzzed on its own (tests/fuzz/fuzz_api_bodies.c).
 * Errors: 0, or -EBADMSG with a one-line diagnostic in err; -ENOMEM.
 */
#ifndef GW_API_PARSE_H
#define GW_API_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GW_API_FIELD_MAX 256

struct gw_provision_fields {
    char key[GW_API_FIELD_MAX], secret[GW_API_FIELD_MAX], name[GW_API_FIELD_MAX];
    char type[32], token[GW_API_FIELD_MAX];
    bool has_name, has_token, is_gateway;
    bool is_json; /* the body was JSON (answer in JSON), else protobuf */
};

/* Parses a provisioning request: JSON object first, ProvisionDeviceRequestMsg second. */
int gw_api_parse_provision(const uint8_t *data, size_t len, struct gw_provision_fields *f,
                           char *err, size_t err_len);

/* Parses a claim body (empty = defaults): secretKey string, durationMs integer (0 = default). */
int gw_api_parse_claim(const uint8_t *data, size_t len, char *secret, size_t secret_len,
                       int64_t *duration_ms, char *err, size_t err_len);

/* Parses a client-side RPC request: a JSON object with a string "method" (copied to method). */
int gw_api_parse_rpc_request(const uint8_t *data, size_t len, char *method, size_t method_len,
                             char *err, size_t err_len);

/*
 * Checks an RPC response (a JSON object) and returns its compact text.
 * Ownership: *json_out is the caller's, free with free().
 */
int gw_api_parse_rpc_response(const uint8_t *data, size_t len, char **json_out, char *err,
                              size_t err_len);

#endif /* GW_API_PARSE_H */
