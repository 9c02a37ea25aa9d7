/* SPDX-License-Identifier: MIT */
/*
 * test_profile_proto.c - unit tests of the dynamic Protobuf adaptor (profiles/profile_proto*.c)
 * against specs/coap-device-api.md section 14: schemas are compiled with protoc and payloads are
 * encoded with `protoc --encode` from text format at test time (fork + exec, no shell), so every
 * expected record follows from a readable input. A few malformed payloads are raw bytes, written
 * as hex, because protoc cannot produce them.
 *
 * Inputs: text format; " ## " separates parts that are encoded one by one and concatenated (how
 * protobuf merges: last scalar wins, messages merge, repeated fields and map entries append).
 * "hex:" starts raw bytes. Records render as "<ts> <key>=<T>:<json>, ..." like test_profile_json.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "profiles/profile_model.h"

#define NOW_MS 1000

/* ---- fixtures: schemas ----------------------------------------------------------------------- */

struct fixture {
    const char *name; /* file stem */
    const char *msg;  /* message for --encode / --decode */
    const char *text; /* NULL: ThingsBoard's default of role */
    enum profile_schema_role role;
};

static const struct fixture fixtures[] = {
    { "tb_telemetry", "telemetry.SensorDataReading", NULL, PROFILE_SCHEMA_TELEMETRY },
    { "tb_attributes", "attributes.SensorConfiguration", NULL, PROFILE_SCHEMA_ATTRIBUTES },
    { "tb_rpc_request", "rpc.RpcRequestMsg", NULL, PROFILE_SCHEMA_RPC_REQUEST },
    { "tb_rpc_response", "rpc.RpcResponseMsg", NULL, PROFILE_SCHEMA_RPC_RESPONSE },
    { "tb_test", "test.PostTelemetry",
      "syntax = \"proto3\";\npackage test;\n"
      "message PostTelemetry {\n"
      "  optional string key1 = 1;\n  optional bool key2 = 2;\n  optional double key3 = 3;\n"
      "  optional int32 key4 = 4;\n  JsonObject key5 = 5;\n"
      "  message JsonObject {\n"
      "    optional int32 someNumber = 6;\n    repeated int32 someArray = 7;\n"
      "    optional NestedJsonObject someNestedObject = 8;\n"
      "    message NestedJsonObject { optional string key = 9; }\n"
      "  }\n}\n",
      PROFILE_SCHEMA_TELEMETRY },
    { "tb_test_plain", "test.PostTelemetry",
      "syntax = \"proto3\";\npackage test;\n"
      "message PostTelemetry {\n"
      "  string key1 = 1;\n  bool key2 = 2;\n  double key3 = 3;\n  int32 key4 = 4;\n}\n",
      PROFILE_SCHEMA_TELEMETRY },
    { "sink", "ks.Sink",
      "syntax = \"proto3\";\npackage ks;\n"
      "enum Color { RED = 0; GREEN = 1; BLUE = 2; }\n"
      "message Inner { int32 a = 1; string b_c = 2; }\n"
      "message Node { int32 v = 1; Node next = 2; }\n"
      "message Sink {\n"
      "  int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4;\n"
      "  sint32 s32 = 5; sint64 s64 = 6; fixed32 f32 = 7; fixed64 f64 = 8;\n"
      "  sfixed32 sf32 = 9; sfixed64 sf64 = 10; bool flag = 11; float fl = 12; double dbl = 13;\n"
      "  string battery_level = 14; bytes raw = 15; Color color = 16; Inner inner = 17;\n"
      "  repeated int32 nums = 18; repeated int32 loose = 19 [packed = false];\n"
      "  repeated string tags = 20; repeated Inner items = 21;\n"
      "  map<string, int32> counts = 22; map<int32, Inner> by_id = 23;\n"
      "  oneof choice { string text = 24; Inner obj = 25; }\n"
      "  optional int32 maybe = 26; Node node = 27; repeated Color colors = 28;\n"
      "}\n",
      PROFILE_SCHEMA_ATTRIBUTES },
    { "tsv", "tsv.Reading",
      "syntax = \"proto3\";\npackage tsv;\n"
      "message Reading {\n  optional int64 ts = 1;\n  Values values = 2;\n"
      "  message Values { double temperature = 1; optional string label = 2; }\n}\n",
      PROFILE_SCHEMA_TELEMETRY },
    { "tsmap", "tsmap.Reading",
      "syntax = \"proto3\";\npackage tsmap;\n"
      "message Reading { int64 ts = 1; map<string, double> values = 2; string note = 3; }\n",
      PROFILE_SCHEMA_TELEMETRY },
    { "rpc_custom", "custom.Req",
      "syntax = \"proto3\";\npackage custom;\n"
      "message Req {\n  string method = 1;\n  int32 requestId = 2;\n  Params params = 3;\n"
      "  enum Mode { OFF = 0; ON = 1; }\n"
      "  message Params { int32 pin = 1; bool on = 2; repeated int64 vals = 3; Mode mode = 4;"
      " map<string, string> tags = 5; bytes blob = 6; float f = 7; }\n}\n",
      PROFILE_SCHEMA_RPC_REQUEST },
    { "transport", "transport.AttributeUpdateNotificationMsg",
      "syntax = \"proto3\";\npackage transport;\n"
      "enum KeyValueType { BOOLEAN_V = 0; LONG_V = 1; DOUBLE_V = 2; STRING_V = 3; JSON_V = 4; }\n"
      "message KeyValueProto { string key = 1; KeyValueType type = 2; bool bool_v = 3;"
      " int64 long_v = 4; double double_v = 5; string string_v = 6; string json_v = 7; }\n"
      "message TsKvProto { int64 ts = 1; KeyValueProto kv = 2; optional int64 version = 3; }\n"
      "message AttributeUpdateNotificationMsg { repeated TsKvProto sharedUpdated = 1;"
      " repeated string sharedDeleted = 2; }\n"
      "message GetAttributeResponseMsg { int32 requestId = 1;"
      " repeated TsKvProto clientAttributeList = 2; repeated TsKvProto sharedAttributeList = 3;"
      " bool isMultipleAttributesRequest = 4; string error = 5; bool sharedStateMsg = 6; }\n"
      "message ToServerRpcResponseMsg { int32 requestId = 1; string payload = 2;"
      " string error = 3; }\n",
      PROFILE_SCHEMA_ATTRIBUTES },
    { "transportapi", "transportapi.RpcRequest",
      "syntax = \"proto3\";\npackage transportapi;\n"
      "message RpcRequest { string method = 1; string params = 2; }\n",
      PROFILE_SCHEMA_ATTRIBUTES },
};

#define N_FIXTURES (sizeof(fixtures) / sizeof(fixtures[0]))

static char g_dir[64]; /* the test's temporary directory */
static struct profile_proto_schema *g_schema[N_FIXTURES];
static uint8_t *g_fds[N_FIXTURES]; /* descriptor sets */
static size_t g_fds_len[N_FIXTURES];

static const struct profile_limits lim_default = { 1000, 0, true };
static const struct profile_limits lim_no_cast = { 1000, 0, false };
static const struct profile_limits lim_small = { 3, 3, true };

/* ---- running protoc ---------------------------------------------------------------------------
 */

/*
 * Runs argv in g_dir with in (in_len bytes) on stdin; stdout is returned in *out (heap), stderr
 * is left to the test log. Returns: the exit status, or -1.
 */
static int run(char *const argv[], const void *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    int to_child[2], from_child[2], status = -1;
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);
    ssize_t k;
    pid_t pid;

    assert_non_null(buf);
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(from_child), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (chdir(g_dir) != 0 || dup2(to_child[0], 0) < 0 || dup2(from_child[1], 1) < 0) {
            _exit(126);
        }
        (void)close(to_child[1]);
        (void)close(from_child[0]);
        execvp(argv[0], argv);
        _exit(127);
    }
    (void)close(to_child[0]);
    (void)close(from_child[1]);
    if (in_len > 0) {
        assert_int_equal(write(to_child[1], in, in_len), (ssize_t)in_len);
    }
    (void)close(to_child[1]);
    while ((k = read(from_child[0], buf + n, cap - n)) > 0) {
        n += (size_t)k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
    }
    (void)close(from_child[0]);
    (void)waitpid(pid, &status, 0);
    *out = buf;
    *out_len = n;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    (void)snprintf(path, sizeof(path), "%s/%s", g_dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static uint8_t *read_file(const char *name, size_t *len)
{
    char path[256];
    uint8_t *buf = malloc(1 << 20);
    FILE *f;

    (void)snprintf(path, sizeof(path), "%s/%s", g_dir, name);
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_non_null(buf);
    *len = fread(buf, 1, 1 << 20, f);
    (void)fclose(f);
    return buf;
}

/* Compiles text as file stem.proto; returns the descriptor set (NULL and *status on failure). */
static uint8_t *compile(const char *stem, const char *text, size_t *len, int *status)
{
    char file[128], out_arg[160], out_name[128], a0[] = "protoc", a1[] = "--proto_path=.",
                                                 a3[] = "--include_imports";
    char *argv[] = { a0, a1, out_arg, a3, file, NULL };
    uint8_t *junk;
    size_t junk_len;

    (void)snprintf(file, sizeof(file), "%s.proto", stem);
    (void)snprintf(out_name, sizeof(out_name), "%s.pb", stem);
    (void)snprintf(out_arg, sizeof(out_arg), "--descriptor_set_out=%s", out_name);
    write_file(file, text);
    *status = run(argv, NULL, 0, &junk, &junk_len);
    free(junk);
    return *status == 0 ? read_file(out_name, len) : NULL;
}

/* `protoc --encode=MSG stem.proto` of text-format text. */
static uint8_t *encode_text(const struct fixture *fx, const char *text, size_t *len)
{
    char file[128], msg_arg[160], a0[] = "protoc", a1[] = "--proto_path=.";
    char *argv[] = { a0, a1, msg_arg, file, NULL };
    uint8_t *out;

    (void)snprintf(file, sizeof(file), "%s.proto", fx->name);
    (void)snprintf(msg_arg, sizeof(msg_arg), "--encode=%s", fx->msg);
    if (run(argv, text, strlen(text), &out, len) != 0) {
        fail_msg("protoc --encode=%s failed on: %s", fx->msg, text);
    }
    return out;
}

/* `protoc --decode=MSG stem.proto` of bytes, as text format. */
static char *decode_text(const char *stem, const char *msg, const uint8_t *data, size_t len)
{
    char file[128], msg_arg[160], a0[] = "protoc", a1[] = "--proto_path=.";
    char *argv[] = { a0, a1, msg_arg, file, NULL };
    uint8_t *out;
    size_t n;

    (void)snprintf(file, sizeof(file), "%s.proto", stem);
    (void)snprintf(msg_arg, sizeof(msg_arg), "--decode=%s", msg);
    if (run(argv, data, len, &out, &n) != 0) {
        fail_msg("protoc --decode=%s failed", msg);
    }
    out = realloc(out, n + 1);
    assert_non_null(out);
    out[n] = '\0';
    return (char *)out;
}

static const struct fixture *fixture(const char *name, size_t *idx)
{
    size_t i;

    for (i = 0; i < N_FIXTURES; i++) {
        if (strcmp(fixtures[i].name, name) == 0) {
            *idx = i;
            return &fixtures[i];
        }
    }
    fail_msg("no fixture %s", name);
    return NULL;
}

/* The payload of an input: text-format parts joined by " ## ", or "hex:..." raw bytes. */
static uint8_t *payload(const struct fixture *fx, const char *input, size_t *len)
{
    uint8_t *out = malloc(1), *part;
    const char *p = input, *sep;
    size_t n = 0, k;
    char *text;

    assert_non_null(out);
    if (strncmp(input, "hex:", 4) == 0) {
        for (p = input + 4; p[0] != '\0'; p += p[0] == ' ' ? 1 : 2) {
            if (p[0] != ' ') {
                out = realloc(out, n + 1);
                assert_non_null(out);
                out[n++] = (uint8_t)strtoul((char[]){ p[0], p[1], '\0' }, NULL, 16);
            }
        }
        *len = n;
        return out;
    }
    for (;;) {
        sep = strstr(p, " ## ");
        k = sep != NULL ? (size_t)(sep - p) : strlen(p);
        text = strndup(p, k);
        assert_non_null(text);
        part = encode_text(fx, text, &k);
        out = realloc(out, n + k + 1);
        assert_non_null(out);
        memcpy(out + n, part, k);
        n += k;
        free(part);
        free(text);
        if (sep == NULL) {
            break;
        }
        p = sep + 4;
    }
    *len = n;
    return out;
}

static void render(const struct profile_batch *b, char *out, size_t out_len)
{
    static const char letters[] = "?BLDSJ";
    size_t i, used = 0;
    char val[8192];

    out[0] = '\0';
    for (i = 0; i < b->n && used < out_len; i++) {
        (void)profile_value_to_json(&b->kv[i].v, val, sizeof(val));
        used += (size_t)snprintf(out + used, out_len - used, "%s%lld %s=%c:%s", i > 0 ? ", " : "",
                                 (long long)b->kv[i].ts_ms, b->kv[i].key, letters[b->kv[i].v.type],
                                 val);
    }
}

static int setup(void **state)
{
    size_t i;
    char err[256];
    int status;

    (void)state;
    (void)snprintf(g_dir, sizeof(g_dir), "/tmp/nbgate-test-proto-XXXXXX");
    assert_non_null(mkdtemp(g_dir));
    for (i = 0; i < N_FIXTURES; i++) {
        const char *text =
            fixtures[i].text != NULL ? fixtures[i].text : profile_default_schema(fixtures[i].role);
        g_fds[i] = compile(fixtures[i].name, text, &g_fds_len[i], &status);
        if (g_fds[i] == NULL) {
            fail_msg("fixture %s does not compile (protoc status %d)", fixtures[i].name, status);
        }
        if (profile_proto_schema_load(g_fds[i], g_fds_len[i], fixtures[i].role, &g_schema[i], err,
                                      sizeof(err)) != 0) {
            fail_msg("fixture %s does not load: %s", fixtures[i].name, err);
        }
    }
    return 0;
}

static int teardown(void **state)
{
    char path[256];
    size_t i;

    (void)state;
    for (i = 0; i < N_FIXTURES; i++) {
        profile_proto_schema_free(g_schema[i]);
        free(g_fds[i]);
        (void)snprintf(path, sizeof(path), "%s/%s.proto", g_dir, fixtures[i].name);
        (void)unlink(path);
        (void)snprintf(path, sizeof(path), "%s/%s.pb", g_dir, fixtures[i].name);
        (void)unlink(path);
    }
    (void)snprintf(path, sizeof(path), "%s/rule.proto", g_dir);
    (void)unlink(path);
    (void)snprintf(path, sizeof(path), "%s/rule.pb", g_dir);
    (void)unlink(path);
    (void)snprintf(path, sizeof(path), "%s/other.proto", g_dir);
    (void)unlink(path);
    (void)rmdir(g_dir);
    return 0;
}

/* ---- decoding (14.3) --------------------------------------------------------------------------
 */

struct dec_case {
    const char *fixture;
    char mode; /* 'T' telemetry, 'A' attributes, 'J' profile_proto_to_json */
    const char *input;
    const struct profile_limits *lim;
    const char *err;  /* expected diagnostic, or NULL */
    const char *want; /* records, or the JSON text */
};

#define SINK_DEFAULTS_HEAD                                                                         \
    "0 i32=L:0, 0 i64=L:0, 0 u32=L:0, 0 u64=L:0, 0 s32=L:0, 0 s64=L:0, 0 f32=L:0, 0 f64=L:0, "     \
    "0 sf32=L:0, 0 sf64=L:0, 0 flag=B:false, 0 fl=D:0.0, 0 dbl=D:0.0, 0 batteryLevel=S:\"\", "     \
    "0 raw=S:\"\", 0 color=S:\"RED\""
#define SINK_DEFAULTS_TAIL                                                                         \
    "0 nums=J:[], 0 loose=J:[], 0 tags=J:[], 0 items=J:[], 0 counts=J:{}, 0 byId=J:{}, "           \
    "0 colors=J:[]"

static const struct dec_case dec_cases[] = {
    /* ThingsBoard's own expectations for its test schema (14.3, 14.6) */
    { "tb_test", 'T',
      "key1: \"value1\" key2: true key3: 3.0 key4: 4 key5 { someNumber: 42 someArray: [1, 2, 3]"
      " someNestedObject { key: \"value\" } }",
      &lim_default, NULL,
      "1000 key1=S:\"value1\", 1000 key2=B:true, 1000 key3=D:3.0, 1000 key4=L:4, 1000 "
      "key5=J:{\"someNumber\":42,\"someArray\":[1,2,3],\"someNestedObject\":{\"key\":\"value\"}}" },
    { "tb_test", 'T', "key1: \"value1\" key2: false key3: 3.0", &lim_default, NULL,
      "1000 key1=S:\"value1\", 1000 key2=B:false, 1000 key3=D:3.0" },
    { "tb_test", 'T', "key1: \"\"", &lim_default, NULL, "1000 key1=S:\"\"" },
    { "tb_test", 'T', "key5 { }", &lim_default, NULL, "1000 key5=J:{\"someArray\":[]}" },
    { "tb_test_plain", 'T', "", &lim_default, NULL,
      "1000 key1=S:\"\", 1000 key2=B:false, 1000 key3=D:0.0, 1000 key4=L:0" },
    { "tb_telemetry", 'T', "temperature: 42.0 humidity: 73.5", &lim_default, NULL,
      "1000 temperature=D:42.0, 1000 humidity=D:73.5" },
    { "tb_telemetry", 'T', "innerObject { key1: \"a\" key4: -7 }", &lim_default, NULL,
      "1000 innerObject=J:{\"key1\":\"a\",\"key4\":-7}" },
    { "tb_attributes", 'A', "firmwareVersion: \"1.2.3\" serialNumber: \"SN-1\"", &lim_default, NULL,
      "0 firmwareVersion=S:\"1.2.3\", 0 serialNumber=S:\"SN-1\"" },
    { "tb_attributes", 'A', "serialNumber: \"42\"", &lim_default, NULL, "0 serialNumber=L:42" },
    { "tb_attributes", 'A', "serialNumber: \"42\"", &lim_no_cast, NULL, "0 serialNumber=S:\"42\"" },
    { "tb_attributes", 'A', "", &lim_default, NULL, "" },
    /* defaults of fields without presence, names in lowerCamelCase (14.3) */
    { "sink", 'A', "", &lim_default, NULL, SINK_DEFAULTS_HEAD ", " SINK_DEFAULTS_TAIL },
    /* 64-bit kinds print as strings: LONG by type casting, else STRING */
    { "sink", 'A', "i64: 9223372036854775807 u64: 18446744073709551615 s64: -7 sf64: -8",
      &lim_default, NULL, NULL },
    { "sink", 'J', "i64: 5 u64: 18446744073709551615 f64: 1 s32: -5 u32: 4294967295", &lim_default,
      NULL,
      "{\"i32\":0,\"i64\":\"5\",\"u32\":4294967295,\"u64\":\"18446744073709551615\",\"s32\":-5,"
      "\"s64\":\"0\",\"f32\":0,\"f64\":\"1\",\"sf32\":0,\"sf64\":\"0\",\"flag\":false,\"fl\":0.0,"
      "\"dbl\":0.0,\"batteryLevel\":\"\",\"raw\":\"\",\"color\":\"RED\",\"nums\":[],\"loose\":[],"
      "\"tags\":[],\"items\":[],\"counts\":{},\"byId\":{},\"colors\":[]}" },
    /* doubles and floats as Java prints them, then typed (spec 21) */
    { "sink", 'J',
      "dbl: 10000000 fl: 3.1 nums: [] colors: [GREEN, BLUE] color: BLUE raw: \"\\001\\002\\003\"",
      &lim_default, NULL, NULL },
    { "sink", 'J', "dbl: 0.0001", &lim_default, NULL, NULL },
    { "sink", 'J', "dbl: nan fl: -inf", &lim_default, NULL, NULL },
    /* nested, repeated, maps, oneof, optional, merge, last value wins */
    { "sink", 'J',
      "inner { a: 1 b_c: \"x\" } nums: [1, 2, 3] loose: [4, 5] tags: [\"a\", \"b\"]"
      " items { a: 1 } items { } by_id { key: 7 value { a: 2 } } text: \"t\" maybe: 0"
      " node { v: 1 next { v: 2 } }",
      &lim_default, NULL, NULL },
    { "sink", 'J',
      "counts { key: \"x\" value: 1 } ## counts { key: \"y\" value: 2 } ## counts { key: \"x\" "
      "value: 3 }",
      &lim_default, NULL, NULL },
    { "sink", 'J', "text: \"x\" ## obj { a: 1 }", &lim_default, NULL, NULL },
    { "sink", 'J', "obj { a: 1 } ## text: \"y\" ## obj { b_c: \"z\" }", &lim_default, NULL, NULL },
    { "sink", 'J', "inner { a: 1 } ## inner { b_c: \"q\" } ## i32: 5 ## i32: 6", &lim_default, NULL,
      NULL },
    /* Base64 bytes and a parsable string are typed like any JSON string */
    { "sink", 'A', "raw: \"\\327m\\370\" battery_level: \"-0.50\" color: GREEN", &lim_default, NULL,
      NULL },
    /* unknown fields, unexpected wire types and groups are skipped (protobuf-java) */
    { "sink", 'J', "hex:a0 06 01 0a 01 41 9b 06 08 01 9c 06 08 05", &lim_default, NULL, NULL },
    { "sink", 'J', "hex:82 01 00", &lim_default, NULL, NULL },       /* color as LEN */
    { "sink", 'J', "hex:80 01 07", &lim_default, NULL, NULL },       /* unknown enum value 7 */
    { "sink", 'J', "hex:ba 01 02 08 01", &lim_default, NULL, NULL }, /* map entry, no value */
    { "sink", 'J', "hex:90 01 01 92 01 02 02 03", &lim_default, NULL, NULL }, /* mixed packing */
    /* malformed payloads */
    { "sink", 'A', "hex:08", &lim_default, "invalid Protobuf at byte 0: malformed or truncated",
      NULL },
    { "sink", 'A', "hex:08 01 12", &lim_default,
      "invalid Protobuf at byte 2: malformed or truncated", NULL },
    { "sink", 'A', "hex:72 05 61", &lim_default,
      "invalid Protobuf at byte 0: malformed or truncated", NULL },
    { "sink", 'A', "hex:0f 01", &lim_default, "invalid Protobuf at byte 0: malformed or truncated",
      NULL },
    { "sink", 'A', "hex:00 01", &lim_default, "invalid Protobuf at byte 0: malformed or truncated",
      NULL },
    { "sink", 'A', "hex:9c 06", &lim_default, "invalid Protobuf at byte 0: malformed or truncated",
      NULL },
    { "sink", 'A', "hex:08 ff ff ff ff ff ff ff ff ff ff 01", &lim_default,
      "invalid Protobuf at byte 0: malformed or truncated", NULL },
    { "sink", 'A', "hex:a2 01 01 ff", &lim_default,
      "invalid Protobuf: field tags is not valid UTF-8", NULL },
    { "sink", 'A', "hex:72 02 ed a0", &lim_default,
      "invalid Protobuf: field battery_level is not valid UTF-8", NULL },
    { "sink", 'A', "hex:8a 01 02 ed a0", &lim_default,
      "invalid Protobuf at byte 3: malformed or truncated", NULL },
    { "sink", 'A', "hex:72 03 ed a0 80", &lim_default,
      "invalid Protobuf: field battery_level is not valid UTF-8", NULL },
    { "sink", 'A', "hex:72 03 61 00 62", &lim_default, "NUL characters are not supported", NULL },
    { "sink", 'A', "hex:b2 01 03 0a 01 00", &lim_default, "NUL characters are not supported",
      NULL },
    { "sink", 'A', "", &lim_small, "too many keys (limit 3)", NULL },
    { "tb_attributes", 'A', "serialNumber: \"abcd\"", &lim_small,
      "value of \"serialNumber\" longer than 3 characters", NULL },
    /* the {ts, values} form (5.2, 14.3) */
    { "tsv", 'T', "ts: 1700000000000 values { temperature: 21.5 }", &lim_default, NULL,
      "1700000000000 temperature=D:21.5" },
    { "tsv", 'T', "ts: 1700000000000 values { }", &lim_default, NULL,
      "1700000000000 temperature=D:0.0" },
    { "tsv", 'T', "values { temperature: 21.5 label: \"x\" }", &lim_default, NULL,
      "1000 values=J:{\"temperature\":21.5,\"label\":\"x\"}" },
    { "tsv", 'T', "ts: 1700000000000", &lim_default, NULL, "1000 ts=L:1700000000000" },
    { "tsv", 'T', "ts: -5 values { label: \"7\" }", &lim_default, NULL,
      "-5 temperature=D:0.0, -5 label=L:7" },
    { "tsv", 'A', "ts: 5 values { label: \"x\" }", &lim_default, NULL,
      "0 ts=L:5, 0 values=J:{\"temperature\":0.0,\"label\":\"x\"}" },
    { "tsmap", 'T', "ts: 5 values { key: \"a\" value: 1.5 } note: \"n\"", &lim_default, NULL,
      "5 a=D:1.5" },
    { "tsmap", 'T', "note: \"n\"", &lim_default, NULL, "" },
    /* RPC response printed as JSON (7.4) */
    { "tb_rpc_response", 'J', "payload: \"{\\\"value1\\\":\\\"A\\\",\\\"value2\\\":\\\"B\\\"}\"",
      &lim_default, NULL, "{\"payload\":\"{\\\"value1\\\":\\\"A\\\",\\\"value2\\\":\\\"B\\\"}\"}" },
    { "tb_rpc_response", 'J', "", &lim_default, NULL, "{}" },
};

/* Expected results of the rows above whose want is NULL (kept apart to stay readable). */
static const char *const dec_wants[][2] = {
    { "i64: 9223372036854775807",
      "0 i32=L:0, 0 i64=L:9223372036854775807, 0 u32=L:0, 0 u64=S:\"18446744073709551615\", "
      "0 s32=L:0, 0 s64=L:-7, 0 f32=L:0, 0 f64=L:0, 0 sf32=L:0, 0 sf64=L:-8, 0 flag=B:false, "
      "0 fl=D:0.0, 0 dbl=D:0.0, 0 batteryLevel=S:\"\", 0 raw=S:\"\", 0 "
      "color=S:\"RED\", " SINK_DEFAULTS_TAIL },
    { "dbl: 10000000 fl: 3.1",
      "{\"i32\":0,\"i64\":\"0\",\"u32\":0,\"u64\":\"0\",\"s32\":0,\"s64\":\"0\",\"f32\":0,\"f64\":"
      "\"0\",\"sf32\":0,\"sf64\":\"0\",\"flag\":false,\"fl\":3.1,\"dbl\":1.0E7,\"batteryLevel\":"
      "\"\",\"raw\":\"AQID\",\"color\":\"BLUE\",\"nums\":[],\"loose\":[],\"tags\":[],\"items\":[],"
      "\"counts\":{},\"byId\":{},\"colors\":[\"GREEN\",\"BLUE\"]}" },
    { "dbl: 0.0001", "\"dbl\":1.0E-4," },
    { "dbl: nan fl: -inf", "\"fl\":\"-Infinity\",\"dbl\":\"NaN\"," },
    { "inner { a: 1",
      "\"inner\":{\"a\":1,\"bC\":\"x\"},\"nums\":[1,2,3],\"loose\":[4,5],\"tags\":[\"a\",\"b\"],"
      "\"items\":[{\"a\":1,\"bC\":\"\"},{\"a\":0,\"bC\":\"\"}],\"counts\":{},\"byId\":{\"7\":{"
      "\"a\":"
      "2,\"bC\":\"\"}},\"text\":\"t\",\"maybe\":0,\"node\":{\"v\":1,\"next\":{\"v\":2}},\"colors\":"
      "[]}" },
    { "counts { key: \"x\" value: 1 }", "\"counts\":{\"x\":3,\"y\":2}," },
    { "text: \"x\" ## obj", "\"byId\":{},\"obj\":{\"a\":1,\"bC\":\"\"},\"colors\":[]}" },
    { "obj { a: 1 } ## text", "\"byId\":{},\"obj\":{\"a\":0,\"bC\":\"z\"},\"colors\":[]}" },
    { "inner { a: 1 } ## inner", "{\"i32\":6,\"" },
    { "raw: \"\\327m\\370\"", "0 batteryLevel=D:-0.5, 0 raw=L:1234, 0 color=S:\"GREEN\"" },
    { "hex:a0 06 01 0a 01 41", "{\"i32\":5,\"i64\":\"0\",\"u32\":0,\"u64\":\"0\",\"s32\":0," },
    { "hex:82 01 00", "\"color\":\"RED\"" },
    { "hex:80 01 07", "\"color\":7," },
    { "hex:ba 01 02 08 01", "\"byId\":{\"1\":{\"a\":0,\"bC\":\"\"}}" },
    { "hex:90 01 01 92 01 02 02 03", "\"nums\":[1,2,3]," },
};

/* The expectation of a row: its want, or a substring from dec_wants for rows without one. */
static const char *want_of(const struct dec_case *c, bool *is_substring)
{
    size_t i;

    *is_substring = false;
    if (c->want != NULL || c->err != NULL) {
        return c->want;
    }
    const char *best = NULL;
    size_t best_len = 0;

    for (i = 0; i < sizeof(dec_wants) / sizeof(dec_wants[0]); i++) {
        size_t n = strlen(dec_wants[i][0]);
        if (n > best_len && strncmp(c->input, dec_wants[i][0], n) == 0) {
            best = dec_wants[i][1]; /* the longest matching prefix */
            best_len = n;
        }
    }
    if (best == NULL) {
        fail_msg("no expectation for %s", c->input);
    }
    *is_substring = true;
    return best;
}

static void check_dec(const struct dec_case *c)
{
    struct profile_batch b;
    const char *want;
    char err[256], got[16384];
    char *json = NULL;
    size_t idx = 0, len, json_len = 0;
    uint8_t *data;
    bool is_substring;
    int rc;

    (void)fixture(c->fixture, &idx);
    data = payload(&fixtures[idx], c->input, &len);
    want = want_of(c, &is_substring);
    assert_int_equal(profile_batch_init(&b, 1000), 0);
    memset(err, 'X', sizeof(err));
    if (c->mode == 'J') {
        rc = profile_proto_to_json(g_schema[idx], data, len, &json, &json_len, err, sizeof(err));
        (void)snprintf(got, sizeof(got), "%s", json != NULL ? json : "");
    } else {
        rc = c->mode == 'T'
                 ? profile_proto_telemetry(g_schema[idx], data, len, NOW_MS, c->lim, &b, err,
                                           sizeof(err))
                 : profile_proto_attributes(g_schema[idx], data, len, c->lim, &b, err, sizeof(err));
        render(&b, got, sizeof(got));
    }
    if (c->err != NULL) {
        if (rc != -EBADMSG || strcmp(err, c->err) != 0 || b.n != 0) {
            fail_msg("%s %s: want error \"%s\", got rc %d err \"%s\" result \"%s\"", c->fixture,
                     c->input, c->err, rc, rc == -EBADMSG ? err : "", got);
        }
    } else if (rc != 0 || (is_substring ? strstr(got, want) == NULL : strcmp(got, want) != 0)) {
        fail_msg("%s %s:\n want %s\"%s\"\n got rc %d \"%s\" err \"%s\"", c->fixture, c->input,
                 is_substring ? "substring " : "", want, rc, got, rc != 0 ? err : "");
    }
    if (c->mode == 'J' && rc == 0) {
        assert_int_equal(json_len, strlen(json));
    }
    free(json);
    free(data);
    profile_batch_fini(&b);
}

static void test_decode(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
        check_dec(&dec_cases[i]);
    }
}

/* Nesting: 99 levels decode, deeper than PROFILE_PROTO_MAX_DEPTH is refused (computed bytes). */
static void test_depth(void **state)
{
    static const int depths[] = { 99, 100, 101, 5000 };
    struct profile_batch b;
    uint8_t *buf, *tmp;
    char err[256];
    size_t idx = 0, len, i, k, hdr;
    int rc;

    (void)state;
    (void)fixture("sink", &idx);
    for (k = 0; k < sizeof(depths) / sizeof(depths[0]); k++) {
        /* innermost Node {v: 1}, then Node.next (field 2) around it, then Sink.node (field 27) */
        buf = malloc(2);
        assert_non_null(buf);
        buf[0] = 0x08;
        buf[1] = 0x01;
        len = 2;
        for (i = 0; i < (size_t)depths[k]; i++) {
            uint8_t h[8];
            size_t n = len;
            hdr = 0;
            if (i + 1 == (size_t)depths[k]) {
                h[hdr++] = 0xda; /* field 27, LEN */
                h[hdr++] = 0x01;
            } else {
                h[hdr++] = 0x12; /* field 2, LEN */
            }
            do {
                h[hdr++] = (uint8_t)((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
                n >>= 7;
            } while (n > 0);
            tmp = malloc(len + hdr);
            assert_non_null(tmp);
            memcpy(tmp, h, hdr);
            memcpy(tmp + hdr, buf, len);
            free(buf);
            buf = tmp;
            len += hdr;
        }
        assert_int_equal(profile_batch_init(&b, 1000), 0);
        rc = profile_proto_attributes(g_schema[idx], buf, len, &lim_default, &b, err, sizeof(err));
        if (depths[k] <= PROFILE_PROTO_MAX_DEPTH) {
            assert_int_equal(rc, 0);
        } else {
            assert_int_equal(rc, -EBADMSG);
            assert_string_equal(err, "invalid Protobuf: messages nested deeper than 100");
        }
        profile_batch_fini(&b);
        free(buf);
    }
}

/* A schema that prints many defaults per element: expansion is capped, not allocated. */
static void test_expansion_cap(void **state)
{
    char text[8192], err[256];
    struct profile_proto_schema *s = NULL;
    struct profile_batch b;
    uint8_t *fds, *data;
    size_t fds_len, used, i, n = 30000;
    int status, rc;

    (void)state;
    used = (size_t)snprintf(text, sizeof(text), "syntax = \"proto3\";\nmessage Wide {\n");
    for (i = 1; i <= 120; i++) {
        used += (size_t)snprintf(text + used, sizeof(text) - used,
                                 "  int64 field_number_%zu = %zu;\n", i, i);
    }
    (void)snprintf(text + used, sizeof(text) - used, "}\nmessage Top { repeated Wide w = 1; }\n");
    fds = compile("rule", text, &fds_len, &status);
    assert_non_null(fds);
    assert_int_equal(
        profile_proto_schema_load(fds, fds_len, PROFILE_SCHEMA_TELEMETRY, &s, err, sizeof(err)), 0);
    data = malloc(2 * n);
    assert_non_null(data);
    for (i = 0; i < n; i++) {
        data[2 * i] = 0x0a; /* an empty Wide */
        data[2 * i + 1] = 0x00;
    }
    assert_int_equal(profile_batch_init(&b, 10), 0);
    rc = profile_proto_telemetry(s, data, 2 * n, NOW_MS, &lim_default, &b, err, sizeof(err));
    assert_int_equal(rc, -EBADMSG);
    assert_string_equal(err, "decoded message too large");
    assert_int_equal(b.n, 0);
    /* a few elements are fine */
    rc = profile_proto_telemetry(s, data, 20, NOW_MS, &lim_default, &b, err, sizeof(err));
    assert_int_equal(rc, 0);
    assert_int_equal(b.n, 1);
    profile_batch_fini(&b);
    profile_proto_schema_free(s);
    free(data);
    free(fds);
}

/* ---- schema rules at save time (14.2) ---------------------------------------------------------
 */

struct rule_case {
    enum profile_schema_role role;
    const char *text;
    const char *err; /* NULL: accepted */
    const char *root;
};

static const struct rule_case rule_cases[] = {
    { PROFILE_SCHEMA_TELEMETRY, "syntax = \"proto2\";\nmessage A { optional int32 x = 1; }\n",
      "schema must use proto3 syntax (syntax = \"proto3\";)", NULL },
    { PROFILE_SCHEMA_TELEMETRY, "message A { optional int32 x = 1; }\n",
      "schema must use proto3 syntax (syntax = \"proto3\";)", NULL },
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\noption java_package = \"x\";\nmessage A { int32 x = 1; }\n",
      "schema options are not supported", NULL },
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\nimport \"other.proto\";\nmessage A { int32 x = 1; }\n",
      "schema imports are not supported", NULL },
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\nmessage A { option deprecated = true; int32 x = 1; }\n",
      "message A: options are not supported", NULL },
    { PROFILE_SCHEMA_TELEMETRY, "syntax = \"proto3\";\nmessage A { reserved 2; int32 x = 1; }\n",
      "message A: reserved is not supported", NULL },
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\nenum E { option allow_alias = true; A = 0; B = 0; }\n"
      "message M { E e = 1; }\n",
      "enum E: options are not supported", NULL },
    { PROFILE_SCHEMA_TELEMETRY, "syntax = \"proto3\";\nenum E { A = 0; }\n",
      "schema has no message", NULL },
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\nmessage T { int64 ts = 1; V values = 2; message V { int32 x = 1; } "
      "}\n",
      "telemetry with ts and values: ts must be optional int64", NULL },
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\nmessage T { optional int32 ts = 1; V values = 2; message V {} }\n",
      "telemetry with ts and values: ts must be optional int64", NULL },
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\nmessage T { optional int64 ts = 1; int32 values = 2; }\n",
      "telemetry with ts and values: values must be a message type", NULL },
    { PROFILE_SCHEMA_ATTRIBUTES,
      "syntax = \"proto3\";\nmessage T { int64 ts = 1; int32 values = 2; }\n", NULL, ".T" },
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\nmessage T { int64 ts = 1; int32 values = 2; int32 x = 3; }\n", NULL,
      ".T" },
    { PROFILE_SCHEMA_RPC_REQUEST,
      "syntax = \"proto3\";\nmessage R { string method = 1; int32 requestId = 2; }\n",
      "RPC request message must have exactly the fields method, requestId and params", NULL },
    { PROFILE_SCHEMA_RPC_REQUEST,
      "syntax = \"proto3\";\nmessage R { string method = 1; int64 requestId = 2; string params = "
      "3; }\n",
      "RPC request message: method must be a string, requestId an int32, none of the three "
      "repeated",
      NULL },
    { PROFILE_SCHEMA_RPC_REQUEST,
      "syntax = \"proto3\";\nmessage R { string method = 1; int32 requestId = 2;"
      " repeated string params = 3; }\n",
      "RPC request message: method must be a string, requestId an int32, none of the three "
      "repeated",
      NULL },
    { PROFILE_SCHEMA_RPC_REQUEST,
      "syntax = \"proto3\";\nmessage R { string method = 1; int32 requestId = 2;"
      " map<string, int32> params = 3; }\n",
      "RPC request message: method must be a string, requestId an int32, none of the three "
      "repeated",
      NULL },
    { PROFILE_SCHEMA_RPC_REQUEST,
      "syntax = \"proto3\";\nmessage R { optional string method = 1; int32 requestId = 2;"
      " P params = 3; message P { oneof o { int32 a = 1; string b = 2; } } }\n",
      NULL, ".R" },
    /* the last top-level message is the one used; nested types do not count */
    { PROFILE_SCHEMA_TELEMETRY,
      "syntax = \"proto3\";\npackage p.q;\nmessage A { int32 x = 1; }\n"
      "message B { message C { int32 y = 1; } C c = 1; }\nenum E { Z = 0; }\n",
      NULL, ".p.q.B" },
};

static void test_rules(void **state)
{
    struct profile_proto_schema *s;
    uint8_t *fds;
    size_t i, len;
    char err[256];
    int status, rc;

    (void)state;
    write_file("other.proto", "syntax = \"proto3\";\nmessage O { int32 x = 1; }\n");
    for (i = 0; i < sizeof(rule_cases) / sizeof(rule_cases[0]); i++) {
        const struct rule_case *c = &rule_cases[i];
        char path[256];
        (void)snprintf(path, sizeof(path), "%s/rule.proto", g_dir);
        (void)unlink(path);
        fds = compile("rule", c->text, &len, &status);
        if (fds == NULL) {
            fail_msg("rule %zu does not compile", i);
        }
        s = NULL;
        rc = profile_proto_schema_load(fds, len, c->role, &s, err, sizeof(err));
        if (c->err != NULL && (rc != -EINVAL || strcmp(err, c->err) != 0)) {
            fail_msg("rule %zu: want \"%s\", got rc %d \"%s\"", i, c->err, rc, rc != 0 ? err : "");
        }
        if (c->err == NULL && (rc != 0 || strcmp(profile_proto_schema_message(s), c->root) != 0)) {
            fail_msg("rule %zu: want %s, got rc %d \"%s\"", i, c->root, rc, rc != 0 ? err : "");
        }
        profile_proto_schema_free(s);
        free(fds);
    }
}

/* Broken descriptor sets are refused, never trusted. */
static void test_bad_descriptor(void **state)
{
    static const char *const bad[] = { "hex:0a", "hex:0a 05 12 03 61", "hex:ff ff ff",
                                       "hex:0a 02 22 00", "hex:0a 04 62 02 70 33" };
    struct profile_proto_schema *s = NULL;
    const struct fixture *fx;
    uint8_t *data;
    size_t i, len, idx = 0;
    char err[256];
    int rc;

    (void)state;
    fx = fixture("sink", &idx);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        data = payload(fx, bad[i], &len);
        rc = profile_proto_schema_load(data, len, PROFILE_SCHEMA_TELEMETRY, &s, err, sizeof(err));
        assert_int_equal(rc, -EINVAL);
        assert_null(s);
        free(data);
    }
    /* every truncation of a real descriptor set fails cleanly or loads */
    for (len = 0; len < g_fds_len[idx]; len++) {
        rc = profile_proto_schema_load(g_fds[idx], len, PROFILE_SCHEMA_ATTRIBUTES, &s, err,
                                       sizeof(err));
        assert_true(rc == 0 || rc == -EINVAL);
        profile_proto_schema_free(s);
        s = NULL;
    }
    rc = profile_proto_schema_load(NULL, 0, PROFILE_SCHEMA_TELEMETRY, &s, err, sizeof(err));
    assert_int_equal(rc, -EINVAL);
    assert_string_equal(err, "schema has no message");
}

/* ---- downlinks (14.4) -------------------------------------------------------------------------
 */

struct rpc_case {
    const char *fixture;
    const char *params; /* JSON text or NULL */
    const char *err;    /* expected diagnostic, or NULL */
    const char *text;   /* protoc --decode output */
};

static const struct rpc_case rpc_cases[] = {
    { "tb_rpc_request", "\"on\"", NULL, "method: \"setGpio\"\nrequestId: 5\nparams: \"on\"\n" },
    { "tb_rpc_request", NULL, NULL, "method: \"setGpio\"\nrequestId: 5\n" },
    { "tb_rpc_request", "null", NULL, "method: \"setGpio\"\nrequestId: 5\n" },
    { "tb_rpc_request", "42", NULL, "method: \"setGpio\"\nrequestId: 5\nparams: \"42\"\n" },
    { "tb_rpc_request", "true", NULL, "method: \"setGpio\"\nrequestId: 5\nparams: \"true\"\n" },
    { "tb_rpc_request", "{\"pin\":7}",
      "params do not fit the RPC schema: field params: value of the wrong type", NULL },
    { "tb_rpc_request", "[1]",
      "params do not fit the RPC schema: field params: value of the "
      "wrong type",
      NULL },
    { "tb_rpc_request", "{", "params are not valid JSON: string or '}' expected near end of file",
      NULL },
    { "rpc_custom",
      "{\"pin\":7,\"on\":true,\"vals\":[1,\"-2\",3.0],\"mode\":\"ON\",\"unknown\":1,"
      "\"tags\":{\"a\":\"b\"},\"blob\":\"AQID\",\"f\":\"1.5\"}",
      NULL,
      "method: \"setGpio\"\nrequestId: 5\nparams {\n  pin: 7\n  on: true\n  vals: 1\n  vals: -2\n"
      "  vals: 3\n  mode: ON\n  tags {\n    key: \"a\"\n    value: \"b\"\n  }\n  blob: "
      "\"\\001\\002\\003\"\n  f: 1.5\n}\n" },
    { "rpc_custom", "{\"pin\":0,\"on\":false,\"mode\":\"NOPE\"}", NULL,
      "method: \"setGpio\"\nrequestId: 5\nparams {\n}\n" },
    { "rpc_custom", "{\"pin\":\"x\"}",
      "params do not fit the RPC schema: field pin: value of the wrong type", NULL },
    { "rpc_custom", "{\"pin\":4294967296}",
      "params do not fit the RPC schema: field pin: value out of range", NULL },
    { "rpc_custom", "{\"pin\":1.5}",
      "params do not fit the RPC schema: field pin: value out of "
      "range",
      NULL },
    { "rpc_custom", "{\"vals\":[null]}",
      "params do not fit the RPC schema: field vals: array elements cannot be null", NULL },
    { "rpc_custom", "{\"blob\":\"!!\"}",
      "params do not fit the RPC schema: field blob: value of the wrong type", NULL },
    { "rpc_custom", "\"text\"",
      "params do not fit the RPC schema: field params: expected a JSON "
      "object",
      NULL },
};

static void test_rpc_request(void **state)
{
    uint8_t *out = NULL;
    size_t i, idx = 0, len = 0;
    char err[256], *text;
    int rc;

    (void)state;
    for (i = 0; i < sizeof(rpc_cases) / sizeof(rpc_cases[0]); i++) {
        const struct rpc_case *c = &rpc_cases[i];
        const struct fixture *fx = fixture(c->fixture, &idx);
        rc = profile_proto_encode_rpc_request(g_schema[idx], "setGpio", 5, c->params,
                                              c->params != NULL ? strlen(c->params) : 0, &out, &len,
                                              err, sizeof(err));
        if (c->err != NULL) {
            if (rc != -EBADMSG || strcmp(err, c->err) != 0) {
                fail_msg("rpc %zu: want \"%s\", got rc %d \"%s\"", i, c->err, rc, err);
            }
            continue;
        }
        assert_int_equal(rc, 0);
        text = decode_text(fx->name, fx->msg, out, len);
        if (strcmp(text, c->text) != 0) {
            fail_msg("rpc %zu: want\n%s\ngot\n%s", i, c->text, text);
        }
        free(text);
        free(out);
    }
}

static void check_transport(const char *msg, uint8_t *data, size_t len, const char *want)
{
    char *text = decode_text("transport", msg, data, len);

    if (strcmp(text, want) != 0) {
        fail_msg("%s: want\n%s\ngot\n%s", msg, want, text);
    }
    free(text);
    free(data);
}

static void test_transport_messages(void **state)
{
    struct profile_kv kv[5];
    static const char *const deleted[] = { "gone", "" };
    char kb[] = "b", kl[] = "l", kd[] = "d", ks[] = "s", kj[] = "j", vs[] = "x", vj[] = "{\"a\":1}";
    struct profile_attr_response r;
    uint8_t *out;
    size_t len;

    (void)state;
    memset(kv, 0, sizeof(kv));
    kv[0] = (struct profile_kv){ 5, kb, { PROFILE_VT_BOOLEAN, true, 0, 0, NULL, 0 } };
    kv[1] = (struct profile_kv){ 6, kl, { PROFILE_VT_LONG, false, -3, 0, NULL, 0 } };
    kv[2] = (struct profile_kv){ 0, kd, { PROFILE_VT_DOUBLE, false, 0, 2.5, NULL, 0 } };
    kv[3] = (struct profile_kv){ 7, ks, { PROFILE_VT_STRING, false, 0, 0, vs, 1 } };
    kv[4] = (struct profile_kv){ 8, kj, { PROFILE_VT_JSON, false, 0, 0, vj, 7 } };
    assert_int_equal(profile_proto_encode_attr_update(kv, 5, deleted, 2, &out, &len), 0);
    check_transport(
        "transport.AttributeUpdateNotificationMsg", out, len,
        "sharedUpdated {\n  ts: 5\n  kv {\n    key: \"b\"\n    bool_v: true\n  }\n}\n"
        "sharedUpdated {\n  ts: 6\n  kv {\n    key: \"l\"\n    type: LONG_V\n    long_v: -3\n  "
        "}\n}\n"
        "sharedUpdated {\n  kv {\n    key: \"d\"\n    type: DOUBLE_V\n    double_v: 2.5\n  }\n}\n"
        "sharedUpdated {\n  ts: 7\n  kv {\n    key: \"s\"\n    type: STRING_V\n    string_v: "
        "\"x\"\n  }\n}\n"
        "sharedUpdated {\n  ts: 8\n  kv {\n    key: \"j\"\n    type: JSON_V\n    json_v: "
        "\"{\\\"a\\\":1}\"\n  }\n}\n"
        "sharedDeleted: \"gone\"\nsharedDeleted: \"\"\n");
    assert_int_equal(profile_proto_encode_attr_update(NULL, 0, NULL, 0, &out, &len), 0);
    assert_int_equal(len, 0); /* no shared attributes: a zero-length payload (6.3) */
    free(out);

    memset(&r, 0, sizeof(r));
    r.client = kv + 1;
    r.n_client = 1;
    r.shared = kv + 3;
    r.n_shared = 1;
    r.is_multiple = true;
    assert_int_equal(profile_proto_encode_attr_response(&r, &out, &len), 0);
    check_transport(
        "transport.GetAttributeResponseMsg", out, len,
        "clientAttributeList {\n  ts: 6\n  kv {\n    key: \"l\"\n    type: LONG_V\n"
        "    long_v: -3\n  }\n}\nsharedAttributeList {\n  ts: 7\n  kv {\n    key: \"s\"\n"
        "    type: STRING_V\n    string_v: \"x\"\n  }\n}\n"
        "isMultipleAttributesRequest: true\n");
    r.request_id = -2;
    r.n_client = r.n_shared = 0;
    r.is_multiple = false;
    r.error = "boom";
    r.is_shared_state = true;
    assert_int_equal(profile_proto_encode_attr_response(&r, &out, &len), 0);
    check_transport("transport.GetAttributeResponseMsg", out, len,
                    "requestId: -2\nerror: \"boom\"\nsharedStateMsg: true\n");

    assert_int_equal(profile_proto_encode_rpc_reply(0, "{\"ok\":1}", NULL, &out, &len), 0);
    check_transport("transport.ToServerRpcResponseMsg", out, len, "payload: \"{\\\"ok\\\":1}\"\n");
    assert_int_equal(profile_proto_encode_rpc_reply(3, NULL, "timeout", &out, &len), 0);
    check_transport("transport.ToServerRpcResponseMsg", out, len,
                    "requestId: 3\nerror: \"timeout\"\n");
}

static void test_client_rpc(void **state)
{
    char *method, *params, err[256];
    uint8_t *data;
    size_t idx = 0, len;
    const struct fixture *fx;

    (void)state;
    fx = fixture("transportapi", &idx);
    data = payload(fx, "method: \"getTime\" params: \"{\\\"tz\\\":1}\"", &len);
    assert_int_equal(profile_proto_decode_client_rpc(data, len, &method, &params, err, sizeof(err)),
                     0);
    assert_string_equal(method, "getTime");
    assert_string_equal(params, "{\"tz\":1}");
    free(method);
    free(params);
    free(data);
    data = payload(fx, "", &len);
    assert_int_equal(profile_proto_decode_client_rpc(data, len, &method, &params, err, sizeof(err)),
                     0);
    assert_string_equal(method, "");
    assert_string_equal(params, "");
    free(method);
    free(params);
    free(data);
    data = payload(fx, "hex:0a 05 61", &len);
    assert_int_equal(profile_proto_decode_client_rpc(data, len, &method, &params, err, sizeof(err)),
                     -EBADMSG);
    assert_null(method);
    free(data);
}

/* ---- the profile as a whole: container, dispatch ----------------------------------------------
 */

static void test_profile_dispatch(void **state)
{
    static const char json[] =
        "{\"name\":\"pb\",\"transportType\":\"COAP\",\"profileData\":{\"transportConfiguration\":"
        "{\"coapDeviceTypeConfiguration\":{\"transportPayloadTypeConfiguration\":"
        "{\"transportPayloadType\":\"PROTOBUF\"}}}}}";
    const uint8_t *sets[PROFILE_SCHEMA_COUNT];
    size_t lens[PROFILE_SCHEMA_COUNT], idx = 0, len, blob_len, i;
    struct profile_config p;
    struct profile_batch b;
    uint8_t *blob, *data;
    char err[256], got[1024], *rsp;
    int rc;

    (void)state;
    for (i = 0; i < PROFILE_SCHEMA_COUNT; i++) {
        sets[i] = g_fds[i]; /* the first four fixtures are ThingsBoard's defaults, in role order */
        lens[i] = g_fds_len[i];
    }
    assert_int_equal(profile_schemas_pack(sets, lens, &blob, &blob_len), 0);
    assert_int_equal(profile_config_parse(json, strlen(json), NULL, &p, NULL, err, sizeof(err)), 0);
    assert_int_equal(profile_config_attach_schemas(&p, blob, blob_len, err, sizeof(err)), 0);
    assert_string_equal(profile_proto_schema_message(p.proto[PROFILE_SCHEMA_RPC_REQUEST]),
                        ".rpc.RpcRequestMsg");
    data = payload(fixture("tb_telemetry", &idx), "temperature: 21.5", &len);
    assert_int_equal(profile_batch_init(&b, 10), 0);
    rc = profile_decode_telemetry(&p, data, len, NOW_MS, &lim_default, &b, err, sizeof(err));
    render(&b, got, sizeof(got));
    assert_int_equal(rc, 0);
    assert_string_equal(got, "1000 temperature=D:21.5");
    free(data);
    /* a JSON payload on a Protobuf profile is read as Protobuf: '{' is an invalid wire type */
    rc = profile_decode_attributes(&p, (const uint8_t *)"{\"a\":1}", 7, &lim_default, &b, err,
                                   sizeof(err));
    assert_int_equal(rc, -EBADMSG);
    data = payload(fixture("tb_rpc_response", &idx), "payload: \"ok\"", &len);
    assert_int_equal(profile_decode_rpc_response(&p, data, len, &rsp, &len, err, sizeof(err)), 0);
    assert_string_equal(rsp, "{\"payload\":\"ok\"}");
    free(rsp);
    free(data);
    /* a container without the RPC response schema is refused as a whole */
    lens[3] = 0;
    sets[3] = NULL;
    free(blob);
    assert_int_equal(profile_schemas_pack(sets, lens, &blob, &blob_len), 0);
    assert_int_equal(profile_config_attach_schemas(&p, blob, blob_len, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "deviceRpcResponseProtoSchema: no compiled schema stored");
    rc = profile_decode_rpc_response(&p, (const uint8_t *)"", 0, &rsp, &len, err, sizeof(err));
    assert_int_equal(rc, -ENOEXEC);
    assert_string_equal(err, "profile schema unusable");
    profile_batch_fini(&b);
    profile_config_fini(&p);
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_expansion_cap),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_bad_descriptor),
        cmocka_unit_test(test_rpc_request),
        cmocka_unit_test(test_transport_messages),
        cmocka_unit_test(test_client_rpc),
        cmocka_unit_test(test_profile_dispatch),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
