// SPDX-License-Identifier: MIT
// proto_defaults.js - ThingsBoard's default .proto schemas for a CoAP profile with Protobuf
// payloads (the same texts as profiles/profile_model.c): the UI pre-fills the four editors with
// them, and the gateway puts the RPC ones in place of an empty RPC schema.

export const SCHEMAS = [
  ['deviceTelemetryProtoSchema', 'Telemetry', `syntax = "proto3";
package telemetry;

message SensorDataReading {

  optional double temperature = 1;
  optional double humidity = 2;
  InnerObject innerObject = 3;

  message InnerObject {
    optional string key1 = 1;
    optional bool key2 = 2;
    optional double key3 = 3;
    optional int32 key4 = 4;
    optional string key5 = 5;
  }
}
`],
  ['deviceAttributesProtoSchema', 'Attributes', `syntax = "proto3";
package attributes;

message SensorConfiguration {
  optional string firmwareVersion = 1;
  optional string serialNumber = 2;
}
`],
  ['deviceRpcRequestProtoSchema', 'RPC request', `syntax = "proto3";
package rpc;

message RpcRequestMsg {
  optional string method = 1;
  optional int32 requestId = 2;
  optional string params = 3;
}
`],
  ['deviceRpcResponseProtoSchema', 'RPC response', `syntax = "proto3";
package rpc;

message RpcResponseMsg {
  optional string payload = 1;
}
`],
];
