/* SPDX-License-Identifier: MIT */
/*
 * gw_protoc.h - compiling a Protobuf profile's .proto schemas with protoc (protobuf-compiler) when
 * the profile is saved, so that a schema with a mistake is refused there, with protoc's own
 * message and line:column, never at a device's first uplink (specs/coap-device-api.md 14.2).
 * Thread: any thread; each call uses its own temporary directory and child process.
 */
#ifndef GW_PROTOC_H
#define GW_PROTOC_H

#include <stddef.h>
#include <stdint.h>

#include "profiles/profile_model.h"

#define GW_PROTOC_TIMEOUT_MS 30000 /* a protoc run that takes longer is killed */

/*
 * Compiles one schema: text (len bytes) is written to file_name (e.g. "telemetry.proto") in a
 * private temporary directory and `protoc --descriptor_set_out --include_imports` is run on it
 * (fork + exec, no shell). protoc is the program to run: NULL means "protoc" found on PATH.
 * Returns: 0 (*fds holds the FileDescriptorSet), -EINVAL (the schema does not compile: err holds
 * protoc's output verbatim, "file_name:line:column: message" lines), -EIO (protoc could not be
 * run or the temporary files failed; err says why), -ETIMEDOUT, -ENOMEM.
 * Ownership: caller owns *fds (free()).
 */
int gw_protoc_compile(const char *protoc, const char *file_name, const char *text, size_t len,
                      uint8_t **fds, size_t *fds_len, char *err, size_t err_len);

/*
 * Compiles the four schemas of a Protobuf profile, checks ThingsBoard's schema rules on each
 * (profile_proto_schema_load()) and packs them into the descriptor container stored with the
 * profile (profile_schemas_pack()). A profile that is not Default/Protobuf gets *blob NULL.
 * Errors name the schema member first: "deviceTelemetryProtoSchema: telemetry.proto:4:3: ...".
 * Returns: as gw_protoc_compile(). Ownership: caller owns *blob (free()).
 */
int gw_protoc_profile(const char *protoc, const struct profile_config *p, uint8_t **blob,
                      size_t *blob_len, char *err, size_t err_len);

#endif /* GW_PROTOC_H */
