/* SPDX-License-Identifier: MIT */
/*
 * test_efento.c - cmocka tests of the Efento codec (efento/efento.h) against
 * specs/efento.md: every worked example of section 14 with its exact records, every measurement
 * type family, binary channels, error samples, accumulators in both channel orders, the period
 * factor rules, device info per modem type and with short lists, configurations (whole, split,
 * printing rules), the downlink encoder, and the section 9 bounds.
 *
 * Inputs are written in protobuf text format (tests/data/efento/<name>.txtpb, or inline text in the
 * tables) and encoded at test time by running `protoc --encode=<Message> -I. <file>.proto`
 * through fork/execvp with pipes, so the tests exercise real protobuf encodings, including
 * protoc's own choices (packed repeated fields, field order). Hand-made byte strings cover what
 * protoc refuses to produce (invalid UTF-8, NUL, group wire types, truncation).
 * Run from the repository root (or the binary finds it from its own path).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "efento/efento.h"

#define DATA       "tests/data/efento/"
#define MEAS_PROTO "proto/efento/proto_measurements.proto"
#define INFO_PROTO "proto/efento/proto_device_info.proto"
#define CFG_PROTO  "proto/efento/proto_config.proto"
#define T0         1700000000000LL
#define RX         1700000123456LL /* receive time of device info */
#define TEXT_CAP   EFENTO_CONFIG_TEXT_MAX

/* ---- protoc helper ------------------------------------------------------------------------ */

/* Read everything from fd into a malloc'd buffer. */
static int read_all(int fd, uint8_t **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap), *bigger;
    ssize_t r;

    while (buf != NULL) {
        if (n == cap) {
            bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                break;
            }
            buf = bigger;
            cap *= 2;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0) {
            break;
        }
        if (r == 0) {
            *out = buf;
            *len = n;
            return 0;
        }
        n += (size_t)r;
    }
    free(buf);
    return -1;
}

/*
 * Encode protobuf text (from `path`, or the string `text`) as message `msg` of `proto` with
 * protoc. Returns 0 and a malloc'd buffer, or -1.
 */
static int protoc_encode(const char *msg, const char *proto, const char *path, const char *text,
                         uint8_t **out, size_t *len)
{
    char a0[] = "protoc", a2[] = "-I.", a1[128], a3[256];
    char *argv[] = { a0, a1, a2, a3, NULL };
    int in[2] = { -1, -1 }, outp[2] = { -1, -1 }, status = 0, rc = -1;
    pid_t pid;

    (void)snprintf(a1, sizeof(a1), "--encode=%s", msg);
    (void)snprintf(a3, sizeof(a3), "%s", proto);
    if (pipe(outp) != 0) {
        return -1;
    }
    if (path != NULL) {
        in[0] = open(path, O_RDONLY);
    } else if (pipe(in) != 0) {
        in[0] = -1;
    }
    if (in[0] < 0) {
        goto out;
    }
    pid = fork();
    if (pid == 0) {
        (void)dup2(in[0], 0);
        (void)dup2(outp[1], 1);
        (void)close(outp[0]);
        if (in[1] >= 0) {
            (void)close(in[1]);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    (void)close(outp[1]);
    outp[1] = -1;
    (void)close(in[0]);
    in[0] = -1;
    if (text != NULL && write(in[1], text, strlen(text)) != (ssize_t)strlen(text)) {
        goto out;
    }
    if (in[1] >= 0) {
        (void)close(in[1]);
        in[1] = -1;
    }
    rc = pid > 0 ? read_all(outp[0], out, len) : -1;
    if (pid > 0 &&
        (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        if (rc == 0) {
            free(*out);
        }
        rc = -1;
    }
out:
    for (int i = 0; i < 2; i++) {
        if (in[i] >= 0) {
            (void)close(in[i]);
        }
        if (outp[i] >= 0) {
            (void)close(outp[i]);
        }
    }
    return rc;
}

static uint8_t *enc_file(const char *msg, const char *proto, const char *name, size_t *len)
{
    char path[256];
    uint8_t *buf = NULL;

    (void)snprintf(path, sizeof(path), DATA "%s", name);
    if (protoc_encode(msg, proto, path, NULL, &buf, len) != 0) {
        print_error("protoc could not encode %s\n", path);
        fail();
    }
    return buf;
}

static uint8_t *enc_text(const char *msg, const char *proto, const char *text, size_t *len)
{
    uint8_t *buf = NULL;

    if (protoc_encode(msg, proto, NULL, text, &buf, len) != 0) {
        print_error("protoc could not encode:\n%s\n", text);
        fail();
    }
    return buf;
}

/* ---- expected records --------------------------------------------------------------------- */

struct xr {
    int64_t ts;
    const char *key;
    enum efento_type t;
    int64_t l;
    double d;
    const char *s;
};

#define XL(ts, k, v)                                                                               \
    {                                                                                              \
        ts, k, EFENTO_LONG, v, 0, NULL                                                             \
    }
#define XD(ts, k, v)                                                                               \
    {                                                                                              \
        ts, k, EFENTO_DOUBLE, 0, v, NULL                                                           \
    }
#define XS(ts, k, v)                                                                               \
    {                                                                                              \
        ts, k, EFENTO_STRING, 0, 0, v                                                              \
    }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct efento_reading g_out[EFENTO_MEAS_READINGS_MAX];

static bool same_value(const struct efento_reading *r, const struct xr *x)
{
    if (r->type != x->t) {
        return false;
    }
    switch (x->t) {
    case EFENTO_LONG:
        return r->v.l == x->l;
    case EFENTO_DOUBLE:
        return r->v.d == x->d;
    case EFENTO_BOOLEAN:
        return r->v.b == (x->l != 0);
    default:
        return strcmp(r->v.s, x->s) == 0;
    }
}

static void print_reading(const struct efento_reading *r)
{
    switch (r->type) {
    case EFENTO_LONG:
        print_message("  %lld %s LONG %lld\n", (long long)r->ts_ms, r->key, (long long)r->v.l);
        break;
    case EFENTO_DOUBLE:
        print_message("  %lld %s DOUBLE %.17g\n", (long long)r->ts_ms, r->key, r->v.d);
        break;
    case EFENTO_BOOLEAN:
        print_message("  %lld %s BOOLEAN %d\n", (long long)r->ts_ms, r->key, (int)r->v.b);
        break;
    default:
        print_message("  %lld %s %s \"%s\"\n", (long long)r->ts_ms, r->key,
                      r->type == EFENTO_JSON ? "JSON" : "STRING", r->v.s);
        break;
    }
}

/* The readings must be exactly `x` (as a set), sorted by ts, each (ts, key) once. */
static void check_readings(const struct efento_reading *out, size_t n, const struct xr *x,
                           size_t n_x)
{
    size_t i, j, hits;
    bool is_ok = n == n_x;

    for (i = 0; i < n; i++) {
        if (i > 0 && out[i].ts_ms < out[i - 1].ts_ms) {
            is_ok = false;
        }
        for (j = 0; j < i; j++) {
            is_ok = is_ok && !(out[i].ts_ms == out[j].ts_ms && strcmp(out[i].key, out[j].key) == 0);
        }
    }
    for (j = 0; j < n_x; j++) {
        for (i = 0, hits = 0; i < n; i++) {
            hits += out[i].ts_ms == x[j].ts && strcmp(out[i].key, x[j].key) == 0 &&
                    same_value(&out[i], &x[j]);
        }
        if (hits != 1) {
            print_error("expected record %lld %s not found\n", (long long)x[j].ts, x[j].key);
            is_ok = false;
        }
    }
    if (!is_ok) {
        print_message("got %zu records, expected %zu:\n", n, n_x);
        for (i = 0; i < n; i++) {
            print_reading(&out[i]);
        }
        fail();
    }
}

static void decode_meas_buf(const uint8_t *buf, size_t len, const struct efento_opts *o,
                            struct efento_meas_info *info, size_t *n)
{
    char err[256] = "";
    int rc = efento_measurements_decode(buf, len, o, info, g_out, N(g_out), n, err, sizeof(err));

    if (rc != 0) {
        print_error("decode failed: %d %s\n", rc, err);
    }
    assert_int_equal(rc, 0);
}

static void decode_meas_file(const char *name, struct efento_meas_info *info, size_t *n)
{
    size_t len = 0;
    uint8_t *buf = enc_file("ProtoMeasurements", MEAS_PROTO, name, &len);

    decode_meas_buf(buf, len, NULL, info, n);
    free(buf);
}

/* ---- measurements: files with exact expected records -------------------------------------- */

#define COMMON5(ts, batt, next, tr)                                                                \
    XS(ts, "serial", "282C02424EED"), XS(ts, "battery", batt),                                     \
        XS(ts, "next_transmission_at", next), XL(ts, "signal", 0), XL(ts, "transfer_reason", tr)

/* 14.1 */
static const struct xr EX14_1[] = {
    COMMON5(T0, "ok", "2023-11-14 22:28:20 UTC", 0),
    XD(T0, "battery_voltage", 4.12),
    XS(T0, "power_source", "external_supply"),
    XL(T0, "configuration_hash", 1234),
    XL(T0, "measurement_interval_1", 60),
    XD(T0, "temperature_1", 21.5),
    XL(T0, "measurement_interval_2", 60),
    XD(T0, "humidity_2", 45.0),
    XD(T0 + 60000, "temperature_1", 21.8),
    XD(T0 + 60000, "humidity_2", 46.0),
    XD(T0 + 120000, "temperature_1", 21.0),
    XD(T0 + 120000, "humidity_2", 47.0),
};

/* 14.2: the last sample repeats OK and is kept (R4(a)) */
static const struct xr EX14_2[] = {
    COMMON5(T0, "low", "2023-11-14 23:13:20 UTC", 256),
    XL(T0, "measurement_interval_1", 840),
    XS(T0, "ok_alarm_1", "OK"),
    XS(T0 + 120000, "ok_alarm_1", "ALARM"),
    XS(T0 + 300000, "ok_alarm_1", "OK"),
    XS(T0 + 899000, "ok_alarm_1", "OK"),
};

/* 14.3: no record at +60 s */
static const struct xr EX14_3[] = {
    COMMON5(T0, "ok", "2023-11-14 22:28:20 UTC", 0),
    XL(T0, "measurement_interval_1", 60),
    XD(T0, "temperature_1", 11.5),
    XD(T0 + 120000, "temperature_1", 12.0),
};

static const struct xr BINARY[] = {
    COMMON5(T0, "ok", "1970-01-01 00:00:00 UTC", 0),
    XL(T0, "measurement_interval_1", 840),
    XS(T0, "flooding_1", "WATER_DETECTED"),
    XS(T0 + 4000, "flooding_1", "WATER_DETECTED"),
    XS(T0 + 9000, "flooding_1", "OK"),
    XS(T0 + 19000, "flooding_1", "OK"),
    XS(T0 + 29000, "flooding_1", "WATER_DETECTED"),
    XS(T0 + 99000, "output_control_2", "ON"),
    XL(T0 + 100000, "measurement_interval_2", 840),
    XS(T0 + 100000, "output_control_2", "OFF"),
    XS(T0 + 106000, "output_control_2", "OFF"),
};

static const struct xr ERRORS[] = {
    COMMON5(T0, "ok", "1970-01-01 00:00:00 UTC", 0),
    XL(T0, "measurement_interval_1", 300),
    XD(T0, "humidity_1", 8355839.0),
    XD(T0 + 900000, "humidity_1", 8388608.0),
    XL(T0, "measurement_interval_2", 300),
    XS(T0, "ok_alarm_2", "OK"),
    XS(T0 + 60000, "ok_alarm_2", "ALARM"),
};

static const struct xr ACC_MAJOR_FIRST[] = {
    COMMON5(T0, "low", "1970-01-01 00:00:00 UTC", 0),
    XL(T0, "measurement_interval_1", 60),
    XL(T0, "water_cnt_acc_metadata_1", 0),
    XL(T0, "measurement_interval_2", 60),
    XL(T0, "water_cnt_acc_total_2", 62515),
};

static const struct xr ACC_MINOR_FIRST[] = {
    COMMON5(T0, "low", "1970-01-01 00:00:00 UTC", 0),
    XL(T0, "measurement_interval_1", 60),
    XL(T0, "water_cnt_acc_total_1", 62515),
    XL(T0, "measurement_interval_2", 60),
    XL(T0, "water_cnt_acc_metadata_2", 0),
    XL(T0, "measurement_interval_3", 60),
    XL(T0, "measurement_interval_4", 60),
    XL(T0, "elec_meter_acc_4", 1000),
    XL(T0, "elec_meter_acc_metadata_4", 1),
    XL(T0 + 60000, "water_cnt_acc_total_1", 62616),
    XL(T0 + 60000, "water_cnt_acc_metadata_2", 0),
};

static const struct xr ACC_WIDE[] = {
    COMMON5(T0, "low", "1970-01-01 00:00:00 UTC", 0),   XL(T0, "measurement_interval_1", 900),
    XL(T0, "pulse_cnt_acc_wide_metadata_1", 0),         XL(T0, "measurement_interval_2", 900),
    XL(T0, "pulse_cnt_acc_wide_total_2", 2148000000LL), XL(T0, "measurement_interval_3", 900),
    XL(T0, "pulse_cnt_acc_wide_total_3", 2148999999LL),
};

static const struct xr FACTOR[] = {
    COMMON5(T0, "ok", "1970-01-01 00:00:00 UTC", 0),
    XL(T0, "measurement_interval_1", 300),
    XD(T0, "temperature_1", 20.0),
    XD(T0 + 300000, "temperature_1", 20.1),
    XD(T0 + 600000, "temperature_1", 20.2),
    XL(T0, "measurement_interval_2", 300),
    XS(T0, "ok_alarm_2", "OK"),
    XS(T0 + 1000, "ok_alarm_2", "ALARM"),
};

static const struct xr FACTOR0[] = {
    COMMON5(T0, "ok", "1970-01-01 00:00:00 UTC", 0),
    XL(T0, "measurement_interval_1", 60),
    XD(T0, "temperature_1", 20.0),
    XD(T0 + 60000, "temperature_1", 20.1),
    XL(T0, "measurement_interval_2", 840),
    XS(T0, "ok_alarm_2", "ALARM"),
};

static const struct xr NO_SENSOR_FIRST[] = {
    XS(0, "serial", "282C02424EED"),
    XS(0, "battery", "ok"),
    XS(0, "next_transmission_at", "1970-01-01 00:00:00 UTC"),
    XL(0, "signal", 99),
    XS(0, "power_source", "rechargeable_battery"),
    XL(0, "transfer_reason", 0),
    XL(0, "configuration_hash", 4294967295LL),
    XL(T0, "measurement_interval_3", 60),
    XD(T0, "temperature_3", 10.0),
    XL(T0, "measurement_interval_4", 60),
};

struct meas_case {
    const char *file;
    const struct xr *x;
    size_t n_x;
};

static const struct meas_case MEAS_CASES[] = {
    { "meas_ex14_1.txtpb", EX14_1, N(EX14_1) },
    { "meas_ex14_2.txtpb", EX14_2, N(EX14_2) },
    { "meas_ex14_3.txtpb", EX14_3, N(EX14_3) },
    { "meas_binary.txtpb", BINARY, N(BINARY) },
    { "meas_errors.txtpb", ERRORS, N(ERRORS) },
    { "meas_acc_major_first.txtpb", ACC_MAJOR_FIRST, N(ACC_MAJOR_FIRST) },
    { "meas_acc_minor_first.txtpb", ACC_MINOR_FIRST, N(ACC_MINOR_FIRST) },
    { "meas_acc_wide.txtpb", ACC_WIDE, N(ACC_WIDE) },
    { "meas_factor.txtpb", FACTOR, N(FACTOR) },
    { "meas_factor0.txtpb", FACTOR0, N(FACTOR0) },
    { "meas_no_sensor_first.txtpb", NO_SENSOR_FIRST, N(NO_SENSOR_FIRST) },
};

static void test_meas_case(void **state)
{
    const struct meas_case *c = *state;
    struct efento_meas_info info;
    size_t n = 0;

    decode_meas_file(c->file, &info, &n);
    check_readings(g_out, n, c->x, c->n_x);
}

/* 14.3 / 7.8: the error sample is counted and described for the event log. */
static void test_meas_ex14_3_error_event(void **state)
{
    struct efento_meas_info info;
    size_t n = 0;

    (void)state;
    decode_meas_file("meas_ex14_3.txtpb", &info, &n);
    assert_int_equal(info.error_samples, 1);
    assert_int_equal(info.channel_error_samples[0], 1);
    assert_int_equal(info.n_errors, 1);
    assert_int_equal(info.errors[0].channel, 1);
    assert_int_equal(info.errors[0].type, 1);
    assert_int_equal(info.errors[0].code, 8388557);
    assert_int_equal(info.errors[0].samples, 1);
    assert_int_equal(info.errors[0].first_s, 1700000060);
    assert_int_equal(info.errors[0].last_s, 1700000060);
    assert_string_equal(info.id.serial, "282C02424EED");
    assert_string_equal(info.id.cloud_token, "example-token-1");
    assert_int_equal(info.configuration_hash, 0);
}

static void test_meas_error_range(void **state)
{
    struct efento_meas_info info;
    size_t n = 0;

    (void)state;
    decode_meas_file("meas_errors.txtpb", &info, &n);
    assert_int_equal(info.error_samples, 4); /* NO_SENSOR's is not counted */
    assert_int_equal(info.channel_error_samples[0], 3);
    assert_int_equal(info.channel_error_samples[1], 1);
    assert_int_equal(info.channel_error_samples[2], 0);
    assert_int_equal(info.n_errors, 3);
    assert_int_equal(info.errors[0].code, 8355840);
    assert_int_equal(info.errors[0].samples, 2);
    assert_int_equal(info.errors[0].first_s, 1700000300);
    assert_int_equal(info.errors[0].last_s, 1700001200);
    assert_int_equal(info.errors[1].code, 8388607);
    assert_int_equal(info.errors[1].first_s, 1700000600);
    assert_int_equal(info.errors[2].channel, 2);
    assert_int_equal(info.errors[2].type, 5);
    assert_int_equal(info.errors[2].first_s, 1700000000); /* binary: the channel's timestamp */
    assert_true(info.has_newest);
    assert_int_equal(info.newest_s, 1700001200); /* error samples included (8.3) */
    assert_int_equal(info.newest_period_s, 300);
}

static void test_meas_newest(void **state)
{
    struct efento_meas_info info;
    size_t n = 0;

    (void)state;
    decode_meas_file("meas_ex14_1.txtpb", &info, &n);
    assert_int_equal(info.newest_s, 1700000120);
    assert_int_equal(info.newest_period_s, 60);
    assert_int_equal(info.configuration_hash, 1234);
    decode_meas_file("meas_ex14_2.txtpb", &info, &n);
    assert_int_equal(info.newest_s, 1700000899);
    assert_int_equal(info.newest_period_s, 840);
    assert_int_equal(info.transfer_reason, 256);
    assert_int_equal(EFENTO_RETRY_COUNT(info.transfer_reason), 0);
    assert_int_equal(EFENTO_RETRY_COUNT(0x48u), 9);
    decode_meas_file("meas_no_sensor_first.txtpb", &info, &n);
    assert_int_equal(info.n_unknown_types, 1);
    assert_int_equal(info.unknown_types[0], 99);
    assert_int_equal(info.newest_s, 1700000000); /* NO_SENSOR's samples do not count */
}

/* ---- measurements: one row per type (table 6.3 / 7.5, R4(c)) ------------------------------ */

struct xv {
    const char *key;
    enum efento_type t;
    int64_t l;
    double d;
    const char *s;
};

struct type_case {
    int type;
    int start;
    int offset;
    bool has_interval;
    size_t n;
    struct xv v[2];
};

#define VD(k, d)                                                                                   \
    {                                                                                              \
        k, EFENTO_DOUBLE, 0, d, NULL                                                               \
    }
#define VL(k, l)                                                                                   \
    {                                                                                              \
        k, EFENTO_LONG, l, 0, NULL                                                                 \
    }
#define VS(k, s)                                                                                   \
    {                                                                                              \
        k, EFENTO_STRING, 0, 0, s                                                                  \
    }
#define ONE(a)                                                                                     \
    1,                                                                                             \
    {                                                                                              \
        a                                                                                          \
    }
#define TWO(a, b)                                                                                  \
    2,                                                                                             \
    {                                                                                              \
        a, b                                                                                       \
    }
#define NONE                                                                                       \
    0,                                                                                             \
    {                                                                                              \
        {                                                                                          \
            NULL, EFENTO_LONG, 0, 0, NULL                                                          \
        }                                                                                          \
    }

static const struct type_case TYPE_CASES[] = {
    { 0, 10, 0, false, NONE },
    { 1, -2732, 0, true, ONE(VD("temperature_1", -273.2)) },
    { 2, 100, 0, true, ONE(VD("humidity_1", 100.0)) },
    { 3, 10132, 1, true, ONE(VD("pressure_1", 1013.3)) },
    { 4, -10000, 0, true, ONE(VD("pressure_diff_1", -10000.0)) },
    { 5, 0, 1, true, ONE(VS("ok_alarm_1", "ALARM")) },
    { 6, 450, 2, true, TWO(VL("iaq_1", 150), VL("iaq_metadata_1", 2)) },
    { 6, -4, 0, true, TWO(VL("iaq_1", -1), VL("iaq_metadata_1", -1)) },
    { 7, 0, -1, true, ONE(VS("flooding_1", "OK")) },
    { 8, 10000000, 0, true, ONE(VL("pulse_cnt_1", 10000000)) }, /* 1.0E7 -> LONG (7.11) */
    { 9, 9999999, 0, true, ONE(VD("watt_hour_1", 9999999.0)) },
    { 10, 8000000, 0, true, ONE(VD("pulse_counter_water_1", 8000000.0)) },
    { 11, -1000, 0, true, ONE(VD("soil_moisture_1", -1000.0)) },
    { 12, 1000000, 0, true, ONE(VD("co_gas_1", 1000000.0)) },
    { 13, 5, 0, true, ONE(VD("no2_gas_1", 5.0)) },
    { 14, 8000000, 0, true, ONE(VD("h2s_gas_1", 80000.0)) },
    { 15, 1000000, 0, true, ONE(VD("ambient_light_1", 100000.0)) },
    { 16, 12, 0, true, ONE(VD("pm_1_0_1", 12.0)) },
    { 17, 25, 0, true, ONE(VD("pm_2_5_1", 25.0)) },
    { 18, 1000, 0, true, ONE(VD("pm_10_0_1", 1000.0)) },
    { 19, 655, 0, true, ONE(VD("noise_level_1", 65.5)) },
    { 20, 7, 0, true, ONE(VD("nh3_gas_1", 7.0)) },
    { 21, 9, 0, true, ONE(VD("ch4_gas_1", 9.0)) },
    { 22, 200000, 0, true, ONE(VD("high_pressure_1", 200000.0)) },
    { 23, 1234, 0, true, ONE(VD("distance_mm_1", 1234.0)) },
    { 24, 90, 0, true, NONE }, /* a minor without its major emits nothing */
    { 25, 2503, 0, true, TWO(VL("water_cnt_acc_1", 625), VL("water_cnt_acc_metadata_1", 3)) },
    { 26, 1201, 0, true, TWO(VL("co2_gas_1", 400), VL("co2_gas_metadata_1", 1)) },
    { 27, 555, 0, true, ONE(VD("humidity_relative_1", 55.5)) },
    { 28, 300, 0, true, TWO(VL("static_iaq_1", 100), VL("static_iaq_metadata_1", 0)) },
    { 29, 1502, 0, true, TWO(VL("co2_1", 500), VL("co2_metadata_1", 2)) },
    { 30, 31, 0, true, TWO(VL("breath_voc_1", 10), VL("breath_voc_metadata_1", 1)) },
    { 31, 5, 0, false, NONE },
    { 32, 10000, 0, true, ONE(VD("percentage_1", 100.0)) },
    { 33, 33000, 0, true, ONE(VD("voltage_1", 3300.0)) },
    { 34, 2000, 0, true, ONE(VD("current_1", 20.0)) },
    { 35, 90, 0, true, NONE },
    { 36, 3999998, 0, true, TWO(VL("pulse_cnt_acc_1", 999999), VL("pulse_cnt_acc_metadata_1", 2)) },
    { 37, 90, 0, true, NONE },
    { 38, 4001, 0, true, TWO(VL("elec_meter_acc_1", 1000), VL("elec_meter_acc_metadata_1", 1)) },
    { 39, 90, 0, true, NONE },
    { 40, 8, 0, true, TWO(VL("pulse_cnt_acc_wide_1", 2), VL("pulse_cnt_acc_wide_metadata_1", 0)) },
    { 41, 1234, 0, true, ONE(VD("current_precise_1", 1.234)) },
    { 42, 0, 1, true, ONE(VS("output_control_1", "ON")) },
    { 43, 1000000, 0, true, ONE(VD("resistance_1", 1000000.0)) },
    { 44, 7, 0, true, NONE }, /* unknown to nbgate: interval only */
    { -5, 7, 0, true, NONE }, /* negative enum number */
};

static void test_meas_types(void **state)
{
    const struct type_case *c = *state;
    struct efento_meas_info info;
    struct xr x[8] = {
        XS(T0, "serial", ""),
        XS(T0, "battery", "low"),
        XS(T0, "next_transmission_at", "1970-01-01 00:00:00 UTC"),
        XL(T0, "signal", 0),
        XL(T0, "transfer_reason", 0),
    };
    size_t n_x = 5, i, n = 0, len = 0;
    char text[512];
    uint8_t *buf;

    (void)snprintf(text, sizeof(text),
                   "measurement_period_base: 60 measurement_period_factor: 1\n"
                   "channels { type: %d timestamp: 1700000000 start_point: %d "
                   "sample_offsets: [%d] }\n",
                   c->type, c->start, c->offset);
    buf = enc_text("ProtoMeasurements", MEAS_PROTO, text, &len);
    if (c->has_interval) {
        x[n_x++] = (struct xr)XL(T0, "measurement_interval_1", 60);
    }
    for (i = 0; i < c->n; i++) {
        x[n_x++] = (struct xr){ T0, c->v[i].key, c->v[i].t, c->v[i].l, c->v[i].d, c->v[i].s };
    }
    decode_meas_buf(buf, len, NULL, &info, &n);
    check_readings(g_out, n, x, n_x);
    assert_int_equal(info.n_unknown_types, c->type < 0 || c->type > 43 ? 1 : 0);
    free(buf);
}

/* ---- measurements: wire variants, bounds, malformed frames -------------------------------- */

struct bb {
    uint8_t b[8192];
    size_t n;
};

static void bb_varint(struct bb *b, uint64_t v)
{
    while (v >= 0x80u) {
        b->b[b->n++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    b->b[b->n++] = (uint8_t)v;
}

static void bb_tag(struct bb *b, unsigned field, unsigned wt)
{
    bb_varint(b, (uint64_t)field << 3 | wt);
}

static void bb_raw(struct bb *b, const void *p, size_t n)
{
    memcpy(b->b + b->n, p, n);
    b->n += n;
}

static void bb_ld(struct bb *b, unsigned field, const void *p, size_t n)
{
    bb_tag(b, field, 2);
    bb_varint(b, n);
    bb_raw(b, p, n);
}

static uint64_t zz(int32_t v)
{
    return (uint64_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31));
}

/* A TEMPERATURE channel at T0, start 100, offsets 1 and 2, packed or not. */
static void bb_channel(struct bb *b, bool is_packed)
{
    struct bb ch = { { 0 }, 0 }, off = { { 0 }, 0 };

    bb_tag(&ch, 1, 0);
    bb_varint(&ch, 1);
    bb_tag(&ch, 2, 0);
    bb_varint(&ch, 1700000000);
    bb_tag(&ch, 4, 0);
    bb_varint(&ch, zz(100));
    if (is_packed) {
        bb_varint(&off, zz(1));
        bb_varint(&off, zz(2));
        bb_ld(&ch, 5, off.b, off.n);
    } else {
        bb_tag(&ch, 5, 0);
        bb_varint(&ch, zz(1));
        bb_tag(&ch, 5, 0);
        bb_varint(&ch, zz(2));
    }
    bb_ld(b, 4, ch.b, ch.n);
}

static const struct xr WIRE_BASE[] = {
    XS(T0, "serial", ""),
    XS(T0, "battery", "low"),
    XS(T0, "next_transmission_at", "1970-01-01 00:00:00 UTC"),
    XL(T0, "signal", 0),
    XL(T0, "transfer_reason", 0),
    XL(T0, "measurement_interval_1", 60),
    XD(T0, "temperature_1", 10.1),
    XD(T0 + 60000, "temperature_1", 10.2),
};

static void frame_base(struct bb *b, bool is_packed)
{
    b->n = 0;
    bb_tag(b, 3, 0);
    bb_varint(b, 60);
    bb_channel(b, is_packed);
}

/* Unpacked offsets, unknown fields of every wire type and encoded defaults decode the same. */
static void test_meas_wire_variants(void **state)
{
    static struct bb b;
    struct efento_meas_info info;
    const uint8_t fixed[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
    size_t n = 0;

    (void)state;
    frame_base(&b, true);
    decode_meas_buf(b.b, b.n, NULL, &info, &n);
    check_readings(g_out, n, WIRE_BASE, N(WIRE_BASE));
    frame_base(&b, false);
    bb_tag(&b, 30, 0); /* unknown fields (newer firmware) */
    bb_varint(&b, 5);
    bb_ld(&b, 31, "ab", 2);
    bb_tag(&b, 40, 5);
    bb_raw(&b, fixed, 4);
    bb_tag(&b, 41, 1);
    bb_raw(&b, fixed, 8);
    bb_ld(&b, 16, "", 0); /* explicitly encoded empty cloud_token: 82 01 00 */
    bb_tag(&b, 2, 0);
    bb_varint(&b, 0); /* explicit false */
    decode_meas_buf(b.b, b.n, NULL, &info, &n);
    check_readings(g_out, n, WIRE_BASE, N(WIRE_BASE));
    assert_string_equal(info.id.cloud_token, "");
}

struct bad_case {
    const char *what;
    int rc;
};

static int decode_rc(const uint8_t *p, size_t n, const struct efento_opts *o)
{
    struct efento_meas_info info;
    char err[256] = "";
    size_t n_out = 99;
    int rc = efento_measurements_decode(p, n, o, &info, g_out, N(g_out), &n_out, err, sizeof(err));

    if (rc != 0) {
        assert_int_equal(n_out, 0);
        assert_true(err[0] != '\0'); /* every failure says why */
    }
    return rc;
}

static void test_meas_malformed(void **state)
{
    static struct bb b;
    uint8_t big[300];
    size_t i;

    (void)state;
    assert_int_equal(decode_rc((const uint8_t *)"", 0, NULL), -EBADMSG); /* no channels */
    frame_base(&b, true);
    b.n = 0;
    bb_tag(&b, 3, 0);
    bb_varint(&b, 60);
    assert_int_equal(decode_rc(b.b, b.n, NULL), -EBADMSG); /* still no channels */
    assert_int_equal(decode_rc((const uint8_t *)"\xff", 1, NULL), -EBADMSG);
    assert_int_equal(decode_rc((const uint8_t *)"\x22\x05\x08", 3, NULL), -EBADMSG);
    assert_int_equal(decode_rc((const uint8_t *)"\x0b\x0c", 2, NULL), -EBADMSG); /* group */
    assert_int_equal(decode_rc((const uint8_t *)"\x00\x01", 2, NULL), -EBADMSG); /* field 0 */
    /* a packed varint cut in the middle */
    assert_int_equal(decode_rc((const uint8_t *)"\x22\x04\x2a\x02\x02\x80", 6, NULL), -EBADMSG);
    frame_base(&b, true);
    bb_ld(&b, 16, "\xff\xfe", 2); /* invalid UTF-8 token */
    assert_int_equal(decode_rc(b.b, b.n, NULL), -EBADMSG);
    frame_base(&b, true);
    bb_ld(&b, 16, "a\0b", 3); /* NUL inside a string */
    assert_int_equal(decode_rc(b.b, b.n, NULL), -EBADMSG);
    frame_base(&b, true);
    bb_ld(&b, 16, "\xed\xa0\x80", 3); /* UTF-16 surrogate */
    assert_int_equal(decode_rc(b.b, b.n, NULL), -EBADMSG);
    memset(big, 'a', sizeof(big));
    frame_base(&b, true);
    bb_ld(&b, 16, big, 255);
    assert_int_equal(decode_rc(b.b, b.n, NULL), 0);
    frame_base(&b, true);
    bb_ld(&b, 16, big, 256);
    assert_int_equal(decode_rc(b.b, b.n, NULL), -EBADMSG);
    frame_base(&b, true);
    bb_ld(&b, 1, big, 64);
    assert_int_equal(decode_rc(b.b, b.n, NULL), 0);
    frame_base(&b, true);
    bb_ld(&b, 1, big, 65); /* bytes field above 64 */
    assert_int_equal(decode_rc(b.b, b.n, NULL), -EBADMSG);
    frame_base(&b, true);
    for (i = 1; i < 16; i++) {
        bb_channel(&b, true);
    }
    assert_int_equal(decode_rc(b.b, b.n, NULL), 0);
    bb_channel(&b, true); /* 17 channels */
    assert_int_equal(decode_rc(b.b, b.n, NULL), -EBADMSG);
    frame_base(&b, true);
    while (b.n <= EFENTO_PAYLOAD_MAX) {
        bb_ld(&b, 31, big, 200); /* unknown field padding */
    }
    assert_int_equal(decode_rc(b.b, b.n, NULL), -ERANGE);
}

static void test_meas_opts(void **state)
{
    static struct bb b;
    struct efento_opts o;

    (void)state;
    frame_base(&b, true);
    bb_channel(&b, true);
    efento_opts_init(&o);
    assert_int_equal(decode_rc(b.b, b.n, &o), 0);
    o.channels = 1;
    assert_int_equal(decode_rc(b.b, b.n, &o), -EBADMSG);
    efento_opts_init(&o);
    o.samples = 3; /* two channels of two samples */
    assert_int_equal(decode_rc(b.b, b.n, &o), -EBADMSG);
    o.samples = 4;
    assert_int_equal(decode_rc(b.b, b.n, &o), 0);
    o.payload_bytes = b.n - 1;
    assert_int_equal(decode_rc(b.b, b.n, &o), -ERANGE);
    efento_opts_init(&o);
    o.string_bytes = 4;
    bb_ld(&b, 16, "12345", 5);
    assert_int_equal(decode_rc(b.b, b.n, &o), -EBADMSG);
    o.string_bytes = 100000; /* above the hard maximum: clamped, not raised */
    o.payload_bytes = 100000;
    assert_int_equal(decode_rc(b.b, b.n, &o), 0);
    while (b.n <= EFENTO_PAYLOAD_MAX) {
        bb_ld(&b, 31, "0123456789", 10);
    }
    assert_int_equal(decode_rc(b.b, b.n, &o), -ERANGE);
}

static int decode_text_rc(const char *text, size_t cap, size_t *n)
{
    struct efento_meas_info info;
    size_t len = 0;
    uint8_t *buf = enc_text("ProtoMeasurements", MEAS_PROTO, text, &len);
    int rc = efento_measurements_decode(buf, len, NULL, &info, g_out, cap, n, NULL, 0);

    free(buf);
    return rc;
}

/* 64-bit periods and times: a sample time beyond int64 ms is malformed; base 0 merges. */
static void test_meas_period_edges(void **state)
{
    static const struct xr base0[] = {
        XS(T0, "serial", ""),
        XS(T0, "battery", "low"),
        XS(T0, "next_transmission_at", "1970-01-01 00:00:00 UTC"),
        XL(T0, "signal", 0),
        XL(T0, "transfer_reason", 0),
        XL(T0, "measurement_interval_1", 0),
        XD(T0, "temperature_1", 0.3), /* the later put of the same (ts, key) wins */
    };
    size_t n = 0;

    (void)state;
    assert_int_equal(decode_text_rc("measurement_period_base: 4294967295 "
                                    "measurement_period_factor: 4294967295 channels { type: 1 "
                                    "timestamp: 1 sample_offsets: [1] }",
                                    N(g_out), &n),
                     -EBADMSG);
    assert_int_equal(decode_text_rc("measurement_period_base: 4294967295 "
                                    "measurement_period_factor: 2000000 channels { type: 1 "
                                    "timestamp: 1700000000 sample_offsets: [1, 2] }",
                                    N(g_out), &n),
                     0);
    assert_int_equal(g_out[n - 1].ts_ms, 1700000000000LL + 4294967295LL * 2000000LL * 1000LL);
    assert_int_equal(decode_text_rc("measurement_period_base: 4294967295 "
                                    "measurement_period_factor: 2000000 channels { type: 1 "
                                    "timestamp: 1700000000 sample_offsets: [1, 2, 3] }",
                                    N(g_out), &n),
                     -EBADMSG);
    assert_int_equal(decode_text_rc("measurement_period_base: 0 channels { type: 1 "
                                    "timestamp: 1700000000 sample_offsets: [1, 2, 3] }",
                                    N(g_out), &n),
                     0);
    check_readings(g_out, n, base0, N(base0));
    assert_int_equal(decode_text_rc("measurement_period_base: 60 channels { type: 1 "
                                    "timestamp: 1700000000 sample_offsets: [1, 2, 3] }",
                                    3, &n),
                     -ERANGE); /* the caller's array is too small */
    assert_int_equal(n, 0);
}

/* 7.11: a digit-only serial is stored as a number when type-cast is on, as in TB. */
static void test_meas_type_cast(void **state)
{
    const char *text = "serial_number: \"\\x12\\x34\\x56\\x78\\x90\\x12\" "
                       "channels { type: 1 timestamp: 1 sample_offsets: [1] }";
    struct efento_meas_info info;
    struct efento_opts o;
    size_t len = 0, n = 0;
    uint8_t *buf = enc_text("ProtoMeasurements", MEAS_PROTO, text, &len);

    (void)state;
    decode_meas_buf(buf, len, NULL, &info, &n);
    assert_string_equal(g_out[0].key, "serial");
    assert_int_equal(g_out[0].type, EFENTO_LONG);
    assert_int_equal(g_out[0].v.l, 123456789012LL);
    assert_string_equal(info.id.serial, "123456789012");
    efento_opts_init(&o);
    o.is_type_cast = false;
    decode_meas_buf(buf, len, &o, &info, &n);
    assert_int_equal(g_out[0].type, EFENTO_STRING);
    assert_string_equal(g_out[0].v.s, "123456789012");
    free(buf);
}

/* 7.2 date text of next_transmission_at, and 7.9's for device-info dates, at the edges. */
static void test_dates(void **state)
{
    static const struct {
        const char *text;
        const char *next_tx;
    } rows[] = {
        { "next_transmission_at: 1000", "1970-01-01 00:16:40 UTC" },
        { "next_transmission_at: 951782400", "2000-02-29 00:00:00 UTC" },
        { "next_transmission_at: 4294967295", "2106-02-07 06:28:15 UTC" },
    };
    char text[256];
    struct efento_ident id;
    size_t i, n = 0, len = 0;
    uint8_t *buf;

    (void)state;
    for (i = 0; i < N(rows); i++) {
        (void)snprintf(text, sizeof(text), "%s channels { type: 1 sample_offsets: [1] }",
                       rows[i].text);
        assert_int_equal(decode_text_rc(text, N(g_out), &n), 0);
        assert_string_equal(g_out[2].key, "next_transmission_at");
        assert_string_equal(g_out[2].v.s, rows[i].next_tx);
    }
    buf = enc_text("ProtoDeviceInfo", INFO_PROTO,
                   "memory_statistics: [0, 4294967294] runtime_info { battery_reset_timestamp: "
                   "1709164800 }",
                   &len);
    assert_int_equal(
        efento_device_info_decode(buf, len, NULL, RX, &id, g_out, N(g_out), &n, NULL, 0), 0);
    assert_string_equal(g_out[2].v.s, "07 Feb 2106 06:28:14 +0000");
    assert_string_equal(g_out[3].key, "battery_reset_timestamp");
    assert_string_equal(g_out[3].v.s, "29 Feb 2024 00:00:00 +0000");
    free(buf);
}

/* ---- device info (7.9, R4(d), R4(e)) ------------------------------------------------------ */

static const struct xr DI_BC66[] = {
    XL(RX, "sw_version", 1546),
    XL(RX, "nv_storage_status", 0),
    XS(RX, "timestamp_of_the_end_of_collecting_statistics", "14 Nov 2023 22:13:20 +0000"),
    XL(RX, "capacity_of_memory_in_bytes", 1048576),
    XL(RX, "used_space_in_bytes", 2048),
    XL(RX, "size_of_invalid_packets_in_bytes", 0),
    XL(RX, "size_of_corrupted_packets_in_bytes", 0),
    XL(RX, "number_of_valid_packets", 10),
    XL(RX, "number_of_invalid_packets", 0),
    XL(RX, "number_of_corrupted_packets", 0),
    XL(RX, "number_of_all_samples_for_channel_1", 100),
    XL(RX, "number_of_all_samples_for_channel_2", 200),
    XL(RX, "number_of_all_samples_for_channel_3", 0),
    XL(RX, "number_of_all_samples_for_channel_4", 0),
    XL(RX, "number_of_all_samples_for_channel_5", 0),
    XL(RX, "number_of_all_samples_for_channel_6", 0),
    XS(RX, "timestamp_of_the_first_binary_measurement", "Undefined"),
    XS(RX, "timestamp_of_the_last_binary_measurement", "Undefined"),
    XS(RX, "timestamp_of_the_first_binary_measurement_sent", "Undefined"),
    XS(RX, "timestamp_of_the_first_continuous_measurement", "14 Nov 2023 19:26:40 +0000"),
    XS(RX, "timestamp_of_the_last_continuous_measurement", "14 Nov 2023 22:13:20 +0000"),
    XS(RX, "timestamp_of_the_last_continuous_measurement_sent", "14 Nov 2023 21:56:40 +0000"),
    XL(RX, "nvm_write_counter", 77),
    XS(RX, "modem_types", "MODEM_TYPE_BC66"),
    XS(RX, "sim_card_identification", "89882280000012345678"), /* > int64: stays STRING */
    XS(RX, "firmware_version", "MODEM_FIRMWARE_VERSION_UNKNOWN"),
    XL(RX, "modem_identification", 352519100417272LL), /* type-cast IMEI (7.11) */
    XL(RX, "modem_transmissions_count", 12),
    XL(RX, "modem_time_since_last_devinfo", 3600),
    XL(RX, "modem_total_psm_time", 80000),
    XL(RX, "modem_total_active_time", 400),
    XL(RX, "sc_EARFCN", 6300),      /* item 0 (R4(d)) */
    XL(RX, "sc_EARNFCN_offset", 2), /* item 1 */
    XL(RX, "sc_PCI", 101),
    XL(RX, "sc_Cell_id", 12345),
    XL(RX, "sc_RSRP", -95),
    XL(RX, "sc_RSRQ", -11),
    XL(RX, "sc_RSSI", -70),
    XL(RX, "sc_SINR", 12),
    XL(RX, "sc_Band", 20),
    XL(RX, "sc_TAC", 4660),
    XL(RX, "sc_ECL", 0),
    XL(RX, "sc_TX_PWR", 230),
    XL(RX, "op_mode", 1),
    XL(RX, "nc_EARFCN", 6301),
    XL(RX, "nc_EARNFCN_offset", 3),
    XL(RX, "nc_PCI", 102),
    XL(RX, "nc_RSRP", -99),
    XL(RX, "RLC_UL_BLER", 1),
    XL(RX, "RLC_DL_BLER", 2),
    XL(RX, "MAC_UL_BLER", 3),
    XL(RX, "MAC_DL_BLER", 4),
    XL(RX, "MAC_UL_TOTAL_BYTES", 5000),
    XL(RX, "MAC_DL_TOTAL_BYTES", 6000),
    XL(RX, "MAC_UL_total_HARQ_Tx", 7),
    XL(RX, "MAC_DL_total_HARQ_Tx", 8),
    XL(RX, "MAC_UL_HARQ_re_Tx", 9),
    XL(RX, "MAC_DL_HARQ_re_Tx", 10),
    XL(RX, "RLC_UL_tput", 11),
    XL(RX, "RLC_DL_tput", 12),
    XL(RX, "MAC_UL_tput", 13),
    XL(RX, "MAC_DL_tput", 14),
    XL(RX, "sleep_duration", 15),
    XL(RX, "rx_time", 16),
    XL(RX, "tx_time", 17),
    XS(RX, "battery_reset_timestamp", "Undefined"),
    XL(RX, "max_mcu_temp", 40),
    XL(RX, "mcu_temp", 23),
    XL(RX, "counter_of_confirmable_messages_attempts", 10),
    XL(RX, "counter_of_non_confirmable_messages_attempts", 20),
    XL(RX, "counter_of_succeeded_messages", 28),
    XL(RX, "min_battery_mcu_temp", -5),
    XL(RX, "min_battery_voltage", 3600),
    XL(RX, "min_mcu_temp", -10),
    XL(RX, "runtime_errors", 2),
    XL(RX, "up_time", 86400),
};

static const struct xr DI_BC66NA[] = {
    XL(RX, "sw_version", 0),
    XS(RX, "modem_types", "MODEM_TYPE_BC66NA"),
    XS(RX, "sim_card_identification", ""),
    XS(RX, "firmware_version", "MODEM_FIRMWARE_VERSION_UNSPECIFIED"),
    XS(RX, "modem_identification", ""),
    XL(RX, "modem_transmissions_count", 5),
    XL(RX, "sc_EARFCN", 100),
    XL(RX, "sc_EARNFCN_offset", 3),
};

static const struct xr DI_BC660[] = {
    XL(RX, "sw_version", 1794),
    XS(RX, "modem_types", "MODEM_TYPE_BC660"),
    XL(RX, "sim_card_identification", 8948031234567890123LL), /* 19 digits fit int64 */
    XS(RX, "firmware_version", "MODEM_FIRMWARE_VERSION_BC660_V8"),
    XL(RX, "modem_identification", 867997030000001LL),
    XL(RX, "sc_EARFCN", 3597),
    XL(RX, "sc_EARNFCN_offset", 13),
    XL(RX, "sc_PCI", 55),
    XL(RX, "sc_Cell_id", 987654),
    XL(RX, "sc_RSRP", -88),
    XL(RX, "sc_RSRQ", -9),
    XL(RX, "sc_RSSI", -60),
    XL(RX, "sc_SINR", 15),
    XL(RX, "sc_Band", 20),
    XL(RX, "sc_TAC", 100),
    XL(RX, "sc_ECL", 1),
    XL(RX, "sc_TX_PWR", 23),
    XL(RX, "op_mode", 3),
    XL(RX, "nc_EARFCN", 3600),
    XL(RX, "nc_PCI", 56),
    XL(RX, "nc_RSRP", -95),
    XL(RX, "nc_RSRQ", -12),
    XL(RX, "sleep_duration", 500),
    XL(RX, "rx_time", 20),
    XL(RX, "tx_time", 5),
    XL(RX, "PLMN_state", 2),
    XL(RX, "select_PLMN", 26201),
};

static const struct xr DI_SHARED[] = {
    XL(RX, "sw_version", 1794),
    XS(RX, "modem_types", "MODEM_TYPE_SHARED_MODEM"),
    XS(RX, "sim_card_identification", ""),
    XS(RX, "firmware_version", "MODEM_FIRMWARE_VERSION_UNSPECIFIED"),
    XS(RX, "modem_identification", "282C02424EEE"),
    XL(RX, "RSRP", -80),
    XL(RX, "RSRQ", -10),
    XL(RX, "RSSI", -60),
    XL(RX, "SINR", 5),
};

static const struct xr DI_UNKNOWN[] = {
    XL(RX, "sw_version", 0),
    XS(RX, "modem_types", "UNRECOGNIZED"),
    XS(RX, "sim_card_identification", ""),
    XS(RX, "firmware_version", "UNRECOGNIZED"),
    XS(RX, "modem_identification", ""),
    XL(RX, "sc_EARFCN", 1),
    XL(RX, "sc_EARNFCN_offset", 2),
    XL(RX, "sc_PCI", 3),
};

static const struct xr DI_SHORT[] = {
    XL(RX, "sw_version", 0),
    XL(RX, "nv_storage_status", 1),
    XS(RX, "timestamp_of_the_end_of_collecting_statistics", "Undefined"),
    XL(RX, "capacity_of_memory_in_bytes", 0),
    XS(RX, "battery_reset_timestamp", "01 Jan 1970 00:00:00 +0000"),
    XL(RX, "max_mcu_temp", 0),
    XL(RX, "mcu_temp", 0),
    XL(RX, "counter_of_confirmable_messages_attempts", 7),
    XL(RX, "min_battery_mcu_temp", 0),
    XL(RX, "min_battery_voltage", 0),
    XL(RX, "min_mcu_temp", 0),
    XL(RX, "runtime_errors", 0),
    XL(RX, "up_time", 0),
};

static const struct meas_case DI_CASES[] = {
    { "devinfo_bc66.txtpb", DI_BC66, N(DI_BC66) },
    { "devinfo_bc66na.txtpb", DI_BC66NA, N(DI_BC66NA) },
    { "devinfo_bc660.txtpb", DI_BC660, N(DI_BC660) },
    { "devinfo_shared.txtpb", DI_SHARED, N(DI_SHARED) },
    { "devinfo_unknown_modem.txtpb", DI_UNKNOWN, N(DI_UNKNOWN) },
    { "devinfo_short.txtpb", DI_SHORT, N(DI_SHORT) },
};

static void test_devinfo_case(void **state)
{
    const struct meas_case *c = *state;
    struct efento_ident id;
    size_t len = 0, n = 0, i;
    uint8_t *buf = enc_file("ProtoDeviceInfo", INFO_PROTO, c->file, &len);
    char err[256] = "";
    int rc = efento_device_info_decode(buf, len, NULL, RX, &id, g_out, EFENTO_DEVINFO_READINGS_MAX,
                                       &n, err, sizeof(err));

    if (rc != 0) {
        print_error("%s: %d %s\n", c->file, rc, err);
    }
    assert_int_equal(rc, 0);
    check_readings(g_out, n, c->x, c->n_x);
    for (i = 0; i < n; i++) { /* ThingsBoard's key order */
        assert_string_equal(g_out[i].key, c->x[i].key);
    }
    assert_string_equal(id.serial, "282C02424EED");
    assert_string_equal(id.cloud_token, "example-token-1");
    free(buf);
}

static void test_devinfo_edges(void **state)
{
    static const struct xr empty[] = { XL(RX, "sw_version", 0) };
    struct efento_ident id;
    struct efento_opts o;
    static struct bb b;
    size_t len = 0, n = 0, i;
    uint8_t *buf = enc_file("ProtoDeviceInfo", INFO_PROTO, "devinfo_bc66.txtpb", &len);

    (void)state;
    assert_int_equal(efento_device_info_decode((const uint8_t *)"", 0, NULL, RX, &id, g_out,
                                               N(g_out), &n, NULL, 0),
                     0);
    check_readings(g_out, n, empty, N(empty));
    efento_opts_init(&o);
    o.is_type_cast = false;
    assert_int_equal(efento_device_info_decode(buf, len, &o, RX, &id, g_out, N(g_out), &n, NULL, 0),
                     0);
    assert_string_equal(g_out[26].key, "modem_identification");
    assert_int_equal(g_out[26].type, EFENTO_STRING);
    assert_string_equal(g_out[26].v.s, "352519100417272");
    assert_int_equal(efento_device_info_decode(buf, len, NULL, RX, &id, g_out, 75, &n, NULL, 0),
                     -ERANGE);
    free(buf);
    b.n = 0; /* 65 memory statistics */
    for (i = 0; i < 65; i++) {
        bb_tag(&b, 17, 0);
        bb_varint(&b, i);
    }
    assert_int_equal(
        efento_device_info_decode(b.b, b.n, NULL, RX, &id, g_out, N(g_out), &n, NULL, 0), -EBADMSG);
    b.n = 0; /* the modem twice, 40 parameters each: merged to 80 */
    for (i = 0; i < 2; i++) {
        struct bb m = { { 0 }, 0 }, p = { { 0 }, 0 };
        size_t k;

        for (k = 0; k < 40; k++) {
            bb_varint(&p, zz((int32_t)k));
        }
        bb_ld(&m, 2, p.b, p.n);
        bb_ld(&b, 14, m.b, m.n);
    }
    assert_int_equal(
        efento_device_info_decode(b.b, b.n, NULL, RX, &id, g_out, N(g_out), &n, NULL, 0), -EBADMSG);
    assert_int_equal(efento_device_info_decode((const uint8_t *)"\x72\x03\x12\x01", 4, NULL, RX,
                                               &id, g_out, N(g_out), &n, NULL, 0),
                     -EBADMSG);
}

/* A singular sub-message sent twice is merged field by field (section 4), not reset. */
static void test_devinfo_merge(void **state)
{
    static const struct xr x[] = {
        XL(RX, "sw_version", 0),
        XS(RX, "modem_types", "MODEM_TYPE_SHARED_MODEM"), /* from the first occurrence */
        XS(RX, "sim_card_identification", "123abc"),      /* from the second */
        XS(RX, "firmware_version", "MODEM_FIRMWARE_VERSION_UNSPECIFIED"),
        XS(RX, "modem_identification", ""),
        XL(RX, "RSRP", -80),
        XL(RX, "RSRQ", -10),
    };
    struct efento_ident id;
    size_t la = 0, lb = 0, n = 0;
    uint8_t *a = enc_text("ProtoDeviceInfo", INFO_PROTO,
                          "modem { type: MODEM_TYPE_SHARED_MODEM parameters: [-80] }", &la);
    uint8_t *b = enc_text("ProtoDeviceInfo", INFO_PROTO,
                          "modem { sim_card_identification: \"123abc\" parameters: [-10] }", &lb);
    uint8_t *both = malloc(la + lb);

    (void)state;
    assert_non_null(both);
    memcpy(both, a, la);
    memcpy(both + la, b, lb);
    assert_int_equal(
        efento_device_info_decode(both, la + lb, NULL, RX, &id, g_out, N(g_out), &n, NULL, 0), 0);
    check_readings(g_out, n, x, N(x));
    free(a);
    free(b);
    free(both);
}

/* ---- configuration (7.10, R4(g)) ---------------------------------------------------------- */

static struct efento_attr g_attrs[EFENTO_CONFIG_ATTRS_MAX];
static char g_text[TEXT_CAP];

struct xa {
    const char *key;
    enum efento_type t;
    int64_t l;
    const char *s;
};

#define AL(k, v)                                                                                   \
    {                                                                                              \
        k, EFENTO_LONG, v, NULL                                                                    \
    }
#define AB(k, v)                                                                                   \
    {                                                                                              \
        k, EFENTO_BOOLEAN, v, NULL                                                                 \
    }
#define AS(k, v)                                                                                   \
    {                                                                                              \
        k, EFENTO_STRING, 0, v                                                                     \
    }
#define AJ(k, v)                                                                                   \
    {                                                                                              \
        k, EFENTO_JSON, 0, v                                                                       \
    }

/* Table 6.6's attribute column, in field order; payloadSplitInfo is never an attribute. */
static const char *const CFG_KEYS[] = {
    "measurementPeriodBase",
    "transmissionInterval",
    "bleTurnoffTime",
    "ackInterval",
    "deviceInfoRequest",
    "updateSoftwareRequest",
    "currentTime",
    "transferLimit",
    "transferLimitTimer",
    "dataServerIp",
    "dataServerPort",
    "updateServerIp",
    "updateServerPortUdp",
    "updateServerPortCoap",
    "apn",
    "plmnSelection",
    "disableModemRequest",
    "configurationRequest",
    "configurationErrors",
    "configurationHash",
    "acceptWithoutTestingRequest",
    "cloudTokenConfig",
    "cloudToken",
    "serialNumber",
    "measurementPeriodFactor",
    "channelTypes",
    "rules",
    "supervisionPeriod",
    "resetMemoryRequest",
    "modemBandsMask",
    "dataEndpoint",
    "configurationEndpoint",
    "deviceInfoEndpoint",
    "timeEndpoint",
    "bleTxPowerLevel",
    "clearRuntimeErrorsRequest",
    "configurationErrorTimestamp",
    "configurationHashTimestamp",
    "cloudTokenCoapOption",
    "payloadSignatureCoapOption",
    "dnsServerIp",
    "dnsTtlConfig",
    "updateModemRequest",
    "cellularConfigParams",
    "calendars",
    "calibrationParametersRequest",
    "ledConfig",
    "networkTroubleshooting",
    "modemIdentificationCoapOption",
    "networkKey",
    "encryptionKey",
    "apnUsername",
    "apnPassword",
    "networkSearch",
    "setOutputControlStateRequest",
    "bleAdvertisingPeriod",
    "advertisementManufacturerDataFormat",
    "extendedConfigurationEndpoint",
    "nvmStatus",
    "extendedConfigurationRequest",
    "restartMemoryStatsRequest",
    "dataTransferStartTimestampRequest",
};

#define RULES_FULL                                                                                 \
    "[{\"channelMask\":1,\"condition\":\"CONDITION_HIGH_THRESHOLD\",\"parameters\":[300,10,1,"     \
    "1,1],\"action\":\"ACTION_TRIGGER_TRANSMISSION\"},{\"channelMask\":2,\"condition\":"           \
    "\"CONDITION_LOW_THRESHOLD\",\"parameters\":[-50,5,2,3,2],\"action\":"                         \
    "\"ACTION_TRIGGER_TRANSMISSION_WITH_ACK\"}]"

static const struct xa CFG_FULL[] = {
    AL("measurementPeriodBase", 60),
    AL("transmissionInterval", 900),
    AL("bleTurnoffTime", 4294967295LL),
    AL("ackInterval", 86400),
    AB("deviceInfoRequest", 0),
    AL("currentTime", 0),
    AS("dataServerIp", "192.168.1.10"),
    AL("dataServerPort", 5683),
    AS("apn", "\x7f"),
    AL("plmnSelection", 1000000),
    AJ("configurationErrors", "[]"),
    AL("configurationHash", 1234),
    AL("cloudTokenConfig", 1),
    AS("cloudToken", "example-token-1"),
    AS("serialNumber", "KCwCQyHT"),
    AJ("channelTypes", "[\"MEASUREMENT_TYPE_TEMPERATURE\",\"MEASUREMENT_TYPE_HUMIDITY\","
                       "\"MEASUREMENT_TYPE_NO_SENSOR\"]"),
    AJ("rules", RULES_FULL),
    AL("supervisionPeriod", 4294967295LL),
    AL("modemBandsMask", 2084),
    AS("dataEndpoint", "m"),
    AL("configurationErrorTimestamp", 0),
    AJ("dnsServerIp", "[255,255,255,255]"),
    AL("dnsTtlConfig", 864001),
    AS("updateModemRequest", ""),
    AJ("cellularConfigParams", "[0]"),
    AJ("calendars", "[{\"ruleMask\":3,\"parameters\":[62,480,1020,4],\"type\":"
                    "\"CALENDAR_TYPE_WEEK\"}]"),
    AJ("ledConfig", "[2,2,1,1,1,0,0,30,20]"),
    AS("networkKey", "fw=="),
    AS("encryptionKey", ""),
    AS("apnUsername", "\x7f"),
    AJ("networkSearch", "{\"timeSchemaLastRegistrationOk\":[1,2,4,8,16,32],"
                        "\"timeSchemaLastRegistrationNotOk\":[1,1,2,2,4,4],"
                        "\"disablePeriodBase\":60,\"counterMax\":4}"),
    AJ("setOutputControlStateRequest", "[]"),
    AJ("bleAdvertisingPeriod",
       "{\"mode\":\"BLE_ADVERTISING_PERIOD_MODE_NORMAL\",\"normal\":1600,\"fast\":160}"),
    AS("advertisementManufacturerDataFormat", "ADVERTISEMENT_MANUFACTURER_DATA_FORMAT_V5"),
    AS("extendedConfigurationEndpoint", "x"),
    AL("nvmStatus", 0),
    AB("extendedConfigurationRequest", 0),
    AL("dataTransferStartTimestampRequest", 0),
};

static const struct efento_attr *find_attr(const char *key, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(g_attrs[i].key, key) == 0) {
            return &g_attrs[i];
        }
    }
    return NULL;
}

static void check_attrs(size_t n, const struct xa *x, size_t n_x)
{
    size_t i;

    for (i = 0; i < n_x; i++) {
        const struct efento_attr *a = find_attr(x[i].key, n);

        if (a == NULL) {
            print_error("attribute %s missing\n", x[i].key);
            fail();
        }
        if (a->type != x[i].t) {
            print_error("attribute %s: type %d, expected %d\n", x[i].key, (int)a->type,
                        (int)x[i].t);
            fail();
        }
        if (x[i].t == EFENTO_LONG) {
            assert_int_equal(a->v.l, x[i].l);
        } else if (x[i].t == EFENTO_BOOLEAN) {
            assert_int_equal(a->v.b, x[i].l != 0);
        } else {
            assert_non_null(a->s);
            assert_string_equal(a->s, x[i].s);
        }
    }
}

static int config_attrs(const struct efento_part *parts, size_t n_parts,
                        const struct efento_opts *o, size_t *n)
{
    char err[256] = "";
    int rc = efento_config_attrs(parts, n_parts, o, g_attrs, N(g_attrs), n, g_text, TEXT_CAP, err,
                                 sizeof(err));

    if (rc != 0) {
        print_message("config_attrs: %d %s\n", rc, err);
    }
    return rc;
}

static bool is_listed(const char *key, const char *const *list)
{
    for (; *list != NULL; list++) {
        if (strcmp(key, *list) == 0) {
            return true;
        }
    }
    return false;
}

/* The attribute keys are CFG_KEYS in order, without the absent sub-messages. */
static void check_keys(size_t n, const char *const *absent)
{
    size_t i, k = 0;

    for (i = 0; i < N(CFG_KEYS); i++) {
        if (is_listed(CFG_KEYS[i], absent)) {
            continue;
        }
        assert_true(k < n);
        assert_string_equal(g_attrs[k].key, CFG_KEYS[i]);
        k++;
    }
    assert_int_equal(k, n);
}

static void test_config_full(void **state)
{
    struct efento_part p;
    struct efento_config_info info;
    size_t n = 0;

    (void)state;
    p.data = enc_file("ProtoConfig", CFG_PROTO, "config_full.txtpb", &p.len);
    assert_int_equal(config_attrs(&p, 1, NULL, &n), 0);
    check_keys(n, (const char *const[]){ "calibrationParametersRequest", NULL });
    check_attrs(n, CFG_FULL, N(CFG_FULL));
    assert_int_equal(efento_config_parse(&p, 1, NULL, &info, NULL, 0), 0);
    assert_string_equal(info.id.serial, "282C024321D3");
    assert_string_equal(info.id.cloud_token, "example-token-1");
    assert_int_equal(info.payload_split_info, 0);
    assert_int_equal(info.configuration_hash, 1234);
    assert_int_equal(info.n_configuration_errors, 0);
    assert_int_equal(efento_config_attrs(&p, 1, NULL, g_attrs, 20, &n, g_text, TEXT_CAP, NULL, 0),
                     -ERANGE);
    assert_int_equal(
        efento_config_attrs(&p, 1, NULL, g_attrs, N(g_attrs), &n, g_text, 300, NULL, 0), -ERANGE);
    free((void *)p.data);
}

/* An empty configuration prints every default (what keeps stored attributes true, 7.10). */
static void test_config_defaults(void **state)
{
    static const struct xa x[] = {
        AL("measurementPeriodBase", 0),
        AB("configurationRequest", 0),
        AS("apn", ""),
        AJ("rules", "[]"),
        AJ("channelTypes", "[]"),
        AS("serialNumber", ""),
        AS("cloudToken", ""),
        AS("advertisementManufacturerDataFormat",
           "ADVERTISEMENT_MANUFACTURER_DATA_FORMAT_UNSPECIFIED"),
    };
    struct efento_part p = { (const uint8_t *)"", 0 };
    size_t n = 0;

    (void)state;
    assert_int_equal(config_attrs(&p, 1, NULL, &n), 0);
    assert_int_equal(n, 59);
    check_keys(n, (const char *const[]){ "calibrationParametersRequest", "networkSearch",
                                         "bleAdvertisingPeriod", NULL });
    check_attrs(n, x, N(x));
    assert_null(find_attr("bleAdvertisingPeriod", n));
}

static void test_config_values(void **state)
{
    static const struct xa cast_on[] = {
        AL("cloudToken", 12345),
        AJ("channelTypes", "[\"MEASUREMENT_TYPE_TEMPERATURE\",77]"),
        AL("advertisementManufacturerDataFormat", 9),
        AJ("calibrationParametersRequest",
           "{\"calibrationRequest\":1,\"channelAssignment\":0,\"parameters\":[-1,2]}"),
        AS("dataServerIp", "1.2.3"),
        AS("apn", "12a"),
    };
    static const struct xa cast_off[] = { AS("cloudToken", "12345") };
    struct efento_part p;
    struct efento_opts o;
    size_t n = 0;
    double d;

    (void)state;
    p.data = enc_text("ProtoConfig", CFG_PROTO,
                      "cloud_token: \"12345\" channel_types: [1, 77] "
                      "advertisement_manufacturer_data_format: 9 "
                      "calibration_parameters_request { calibration_request: 1 "
                      "parameters: [-1, 2] } data_server_ip: \"1.2.3\" apn: \"12a\" "
                      "update_server_ip: \"-1.5\"",
                      &p.len);
    assert_int_equal(config_attrs(&p, 1, NULL, &n), 0);
    assert_int_equal(n, 60);
    check_attrs(n, cast_on, N(cast_on));
    assert_int_equal(find_attr("updateServerIp", n)->type, EFENTO_DOUBLE);
    d = find_attr("updateServerIp", n)->v.d;
    assert_true(d == -1.5);
    efento_opts_init(&o);
    o.is_type_cast = false;
    assert_int_equal(config_attrs(&p, 1, &o, &n), 0);
    check_attrs(n, cast_off, N(cast_off));
    free((void *)p.data);
}

static void test_config_split_merge(void **state)
{
    static const struct xa x[] = {
        AL("measurementPeriodBase", 120), /* part 2 repeats it: the later one wins */
        AL("transmissionInterval", 900),
        AJ("channelTypes", "[\"MEASUREMENT_TYPE_TEMPERATURE\",\"MEASUREMENT_TYPE_HUMIDITY\"]"),
        AJ("rules", "[{\"channelMask\":1,\"condition\":\"CONDITION_HIGH_THRESHOLD\","
                    "\"parameters\":[300,10,1,1,1],\"action\":\"ACTION_TRIGGER_TRANSMISSION\"},"
                    "{\"channelMask\":2,\"condition\":\"CONDITION_DIFF_THRESHOLD\","
                    "\"parameters\":[20,1,1,1],\"action\":\"ACTION_NO_ACTION\"}]"),
        AJ("bleAdvertisingPeriod",
           "{\"mode\":\"BLE_ADVERTISING_PERIOD_MODE_NORMAL\",\"normal\":1600,\"fast\":160}"),
        AL("configurationHash", 999),
        AJ("configurationErrors", "[7]"),
    };
    struct efento_part parts[3];
    struct efento_config_info info;
    const char *files[3] = { "config_split_1.txtpb", "config_split_2.txtpb",
                             "config_split_3.txtpb" };
    const int32_t split[3] = { -1, -2, 3 };
    size_t i, n = 0;

    (void)state;
    for (i = 0; i < 3; i++) {
        parts[i].data = enc_file("ProtoConfig", CFG_PROTO, files[i], &parts[i].len);
        assert_int_equal(efento_config_parse(&parts[i], 1, NULL, &info, NULL, 0), 0);
        assert_int_equal(info.payload_split_info, split[i]);
        assert_string_equal(info.id.cloud_token, "example-token-1");
    }
    assert_int_equal(config_attrs(parts, 3, NULL, &n), 0);
    assert_int_equal(n, 60);
    check_keys(n, (const char *const[]){ "calibrationParametersRequest", "networkSearch", NULL });
    check_attrs(n, x, N(x));
    assert_null(find_attr("payloadSplitInfo", n));
    assert_int_equal(efento_config_parse(parts, 3, NULL, &info, NULL, 0), 0);
    assert_int_equal(info.configuration_hash, 999);
    assert_int_equal(info.n_configuration_errors, 1);
    assert_int_equal(info.configuration_errors[0], 7);
    assert_string_equal(info.id.serial, "282C024321D3");
    for (i = 0; i < 3; i++) {
        free((void *)parts[i].data);
    }
}

static void test_config_bounds(void **state)
{
    static struct bb b;
    struct efento_config_info info;
    struct efento_part parts[EFENTO_SPLIT_PARTS_MAX + 1];
    size_t i, n = 0;

    (void)state;
    b.n = 0; /* 65 rules */
    for (i = 0; i < 65; i++) {
        bb_ld(&b, 28, "\x08\x01", 2);
    }
    parts[0] = (struct efento_part){ b.b, b.n };
    assert_int_equal(efento_config_parse(parts, 1, NULL, &info, NULL, 0), -EBADMSG);
    assert_int_equal(config_attrs(parts, 1, NULL, &n), -EBADMSG);
    parts[0].len = 64 * 5; /* 64 rules (5 bytes each) are fine */
    assert_int_equal(config_attrs(parts, 1, NULL, &n), 0);
    b.n = 0;
    bb_ld(&b, 24, "\xc3\x28", 2); /* cloud_token not UTF-8 */
    parts[0] = (struct efento_part){ b.b, b.n };
    assert_int_equal(efento_config_parse(parts, 1, NULL, &info, NULL, 0), -EBADMSG);
    assert_int_equal(efento_config_parse(parts, 0, NULL, &info, NULL, 0), -EINVAL);
    b.n = 0;
    while (b.n < 4000) {
        bb_ld(&b, 99, "0123456789012345678901234567890123456789", 40);
    }
    for (i = 0; i < 5; i++) {
        parts[i] = (struct efento_part){ b.b, b.n }; /* 5 x 4000 > 16384 */
    }
    assert_int_equal(efento_config_parse(parts, 4, NULL, &info, NULL, 0), 0);
    assert_int_equal(efento_config_parse(parts, 5, NULL, &info, NULL, 0), -ERANGE);
    for (i = 0; i <= EFENTO_SPLIT_PARTS_MAX; i++) {
        parts[i] = (struct efento_part){ (const uint8_t *)"", 0 };
    }
    assert_int_equal(efento_config_parse(parts, EFENTO_SPLIT_PARTS_MAX + 1, NULL, &info, NULL, 0),
                     -ERANGE);
}

/* ---- split bookkeeping -------------------------------------------------------------------- */

struct split_row {
    int32_t info;
    size_t len;
    int64_t now;
    enum efento_split_discard discard;
    bool is_whole;
    bool is_store;
    uint32_t index;
    bool is_complete;
};

#define STORE(i, len, now)                                                                         \
    {                                                                                              \
        i, len, now, EFENTO_SPLIT_KEPT, false, true, (uint32_t)((i) < 0 ? -(i) : (i)), false       \
    }
#define DONE(i, len, now)                                                                          \
    {                                                                                              \
        i, len, now, EFENTO_SPLIT_KEPT, false, true, (uint32_t)((i) < 0 ? -(i) : (i)), true        \
    }
#define DROP(i, len, now, why)                                                                     \
    {                                                                                              \
        i, len, now, why, false, false, 0, false                                                   \
    }
#define END                                                                                        \
    {                                                                                              \
        0, 0, -1, EFENTO_SPLIT_KEPT, false, false, 0, false                                        \
    }

static const struct split_row SPLIT_ROWS[][6] = {
    { STORE(-1, 100, 1000), STORE(-2, 100, 1001), DONE(3, 100, 1002), END },
    { { 0, 50, 1000, EFENTO_SPLIT_KEPT, true, false, 0, false }, END },
    { DONE(1, 100, 1000), END },
    { STORE(2, 100, 1000), DONE(-1, 100, 1001), END },
    { STORE(-1, 100, 1000),
      STORE(-2, 100, 1000),
      { -1, 100, 1001, EFENTO_SPLIT_RESTARTED, false, true, 1, false },
      DONE(2, 100, 1002),
      END },
    { STORE(-1, 100, 1000),
      { -2, 100, 4600, EFENTO_SPLIT_EXPIRED, false, true, 2, false },
      STORE(3, 100, 4601),
      DONE(-1, 100, 4602),
      END },
    { DROP(-17, 100, 1000, EFENTO_SPLIT_TOO_BIG), STORE(-1, 100, 1000), DONE(2, 100, 1000), END },
    { STORE(-1, 10000, 1000), DROP(-2, 7000, 1000, EFENTO_SPLIT_TOO_BIG), STORE(2, 100, 1000),
      END },
    { STORE(-1, 9000, 1000), STORE(-2, 7000, 1000), STORE(-2, 7300, 1000), DONE(3, 84, 1000), END },
    { STORE(-1, 100, 1000), STORE(-2, 100, 1000), STORE(-3, 100, 1000),
      DROP(2, 100, 1000, EFENTO_SPLIT_INCONSISTENT), END },
    { STORE(3, 100, 1000), DROP(4, 100, 1000, EFENTO_SPLIT_INCONSISTENT), END },
};

static void test_split(void **state)
{
    size_t s, i;

    (void)state;
    for (s = 0; s < N(SPLIT_ROWS); s++) {
        struct efento_split sp;

        efento_split_init(&sp);
        for (i = 0; SPLIT_ROWS[s][i].now >= 0; i++) {
            const struct split_row *r = &SPLIT_ROWS[s][i];
            struct efento_split_step st;

            assert_int_equal(efento_split_add(&sp, r->info, r->len, r->now, &st), 0);
            if (st.discard != r->discard || st.is_whole != r->is_whole ||
                st.is_store != r->is_store || (r->is_store && st.index != r->index) ||
                st.is_complete != r->is_complete) {
                print_error("scenario %zu step %zu: discard %d whole %d store %d index %u "
                            "complete %d\n",
                            s, i, (int)st.discard, st.is_whole, st.is_store, st.index,
                            st.is_complete);
                fail();
            }
        }
    }
}

static void test_split_expiry(void **state)
{
    struct efento_split sp;
    struct efento_split_step st;

    (void)state;
    efento_split_init(&sp);
    assert_false(efento_split_is_expired(&sp, 1000000));
    assert_int_equal(efento_split_add(&sp, -1, 10, 1000, &st), 0);
    assert_false(efento_split_is_expired(&sp, 1000 + EFENTO_SPLIT_TTL_S - 1));
    assert_true(efento_split_is_expired(&sp, 1000 + EFENTO_SPLIT_TTL_S));
    assert_int_equal(efento_split_add(NULL, -1, 10, 1000, &st), -EINVAL);
}

/* ---- downlink (section 8) ----------------------------------------------------------------- */

/* 14.1: a configuration request alone is the three bytes 98 01 01. */
static void test_downlink_config_request(void **state)
{
    struct efento_downlink *dl = NULL;
    uint8_t buf[16];
    size_t len = 0;

    (void)state;
    assert_int_equal(efento_downlink_new(&dl), 0);
    assert_true(efento_downlink_is_empty(dl));
    assert_int_equal(efento_downlink_set_uint(dl, "configurationRequest", 1, NULL, 0), 0);
    assert_false(efento_downlink_is_empty(dl));
    assert_int_equal(efento_downlink_size(dl), 3);
    assert_int_equal(efento_downlink_encode(dl, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 3);
    assert_memory_equal(buf, "\x98\x01\x01", 3);
    assert_int_equal(efento_downlink_encode(dl, buf, 2, &len), -ERANGE);
    assert_int_equal(efento_downlink_set_uint(dl, "configurationRequest", 0, NULL, 0), 0);
    assert_true(efento_downlink_is_empty(dl)); /* false is "not sent" in proto3 */
    efento_downlink_free(dl);
    efento_downlink_free(NULL);
}

static int32_t enum_of(const char *e, const char *name)
{
    int32_t v = -1;

    assert_int_equal(efento_enum_value(e, name, &v), 0);
    return v;
}

/* Everything downlink_settings.txtpb holds, set through the API (with overwrites). */
static void build_settings(struct efento_downlink *dl)
{
    struct efento_rule rules[2] = {
        { 1,
          enum_of("Condition", "CONDITION_HIGH_THRESHOLD"),
          enum_of("Action", "ACTION_TRIGGER_TRANSMISSION_WITH_ACK"),
          5,
          { 300, 10, 1, 1, 1 } },
        { 2, 4, 1, 1, { 5 } },
    };
    struct efento_calendar cal = {
        1, enum_of("CalendarType", "CALENDAR_TYPE_WEEK"), 4, { 62, 480, 1020, 4 }
    };
    struct efento_network_search ns = { 3, { 1, 2, 4 }, 1, { 5 }, 60, 4 };
    const uint32_t dns[4] = { 8, 8, 4, 4 }, led[9] = { 2, 2, 1, 1, 1, 0, 0, 30, 20 };
    const uint32_t idx = 0, st = 2;
    char err[128] = "";

    assert_int_equal(efento_downlink_set_uint(dl, "measurementPeriodBase", 60, err, 128), 0);
    assert_int_equal(efento_downlink_set_uint(dl, "measurementPeriodBase", 300, err, 128), 0);
    assert_int_equal(efento_downlink_set_uint(dl, "transmissionInterval", 3600, err, 128), 0);
    assert_int_equal(efento_downlink_set_uint(dl, "ackInterval", 4294967295u, err, 128), 0);
    assert_int_equal(efento_downlink_set_uint(dl, "deviceInfoRequest", 1, err, 128), 0);
    assert_int_equal(efento_downlink_set_uint(dl, "currentTime", 1700000000, err, 128), 0);
    assert_int_equal(efento_downlink_set_string(dl, "dataServerIp", "old.example", err, 128), 0);
    assert_int_equal(efento_downlink_set_string(dl, "dataServerIp", "gw.example.net", err, 128), 0);
    assert_int_equal(efento_downlink_set_uint(dl, "dataServerPort", 5683, err, 128), 0);
    assert_int_equal(efento_downlink_set_uint(dl, "configurationRequest", 1, err, 128), 0);
    assert_int_equal(efento_downlink_set_uint(dl, "cloudTokenConfig", 2, err, 128), 0);
    assert_int_equal(efento_downlink_set_rules(dl, rules, 2, err, 128), 0);
    assert_int_equal(efento_downlink_set_rules(dl, rules, 1, err, 128), 0); /* replaced */
    assert_int_equal(efento_downlink_set_string(dl, "dataEndpoint", "efento/m", err, 128), 0);
    assert_int_equal(efento_downlink_set_uints(dl, "dnsServerIp", dns, 4, err, 128), 0);
    assert_int_equal(efento_downlink_set_calendars(dl, &cal, 1, err, 128), 0);
    assert_int_equal(efento_downlink_set_uints(dl, "ledConfig", led, 9, err, 128), 0);
    assert_int_equal(efento_downlink_set_string(dl, "networkKey", "AQID", err, 128), 0);
    assert_int_equal(efento_downlink_set_network_search(dl, &ns, err, 128), 0);
    assert_int_equal(efento_downlink_set_output_control(dl, &idx, &st, 1, err, 128), 0);
    assert_int_equal(efento_downlink_set_ble_advertising_period(dl, 2, 100, 100, err, 128), 0);
    assert_int_equal(efento_downlink_set_ble_advertising_period(dl, 3, 1600, 32, err, 128), 0);
    assert_int_equal(efento_downlink_set_string(dl, "advertisementManufacturerDataFormat",
                                                "ADVERTISEMENT_MANUFACTURER_DATA_FORMAT_V3", err,
                                                128),
                     0);
    assert_int_equal(efento_downlink_set_uint(dl, "nvmStatus", 127, err, 128), 0);
}

/* Byte for byte what protoc encodes from the same settings in text format. */
static void test_downlink_settings(void **state)
{
    struct efento_downlink *dl = NULL;
    static uint8_t buf[EFENTO_DOWNLINK_MAX];
    struct efento_part p;
    size_t len = 0, want_len = 0, n = 0;
    uint8_t *want = enc_file("ProtoConfig", CFG_PROTO, "downlink_settings.txtpb", &want_len);

    (void)state;
    assert_int_equal(efento_downlink_new(&dl), 0);
    build_settings(dl);
    assert_int_equal(efento_downlink_encode(dl, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, want_len);
    assert_memory_equal(buf, want, want_len);
    p = (struct efento_part){ buf, len }; /* and it reads back as the same settings */
    assert_int_equal(config_attrs(&p, 1, NULL, &n), 0);
    assert_int_equal(find_attr("currentTime", n)->v.l, 1700000000);
    assert_string_equal(find_attr("rules", n)->s,
                        "[{\"channelMask\":1,\"condition\":\"CONDITION_HIGH_THRESHOLD\","
                        "\"parameters\":[300,10,1,1,1],"
                        "\"action\":\"ACTION_TRIGGER_TRANSMISSION_WITH_ACK\"}]");
    assert_string_equal(find_attr("networkKey", n)->s, "AQID");
    efento_downlink_free(dl);
    free(want);
}

struct dl_row {
    const char *attr;
    uint64_t v;
    int rc;
};

static const struct dl_row DL_UINT_ROWS[] = {
    { "measurementPeriodBase", 0, -ERANGE },
    { "measurementPeriodBase", 1, 0 },
    { "measurementPeriodBase", 65535, 0 },
    { "measurementPeriodBase", 65536, -ERANGE },
    { "transmissionInterval", 59, -ERANGE },
    { "transmissionInterval", 604800, 0 },
    { "ackInterval", 179, -ERANGE },
    { "ackInterval", 2592000, 0 },
    { "ackInterval", 2592001, -ERANGE },
    { "ackInterval", 4294967295u, 0 },
    { "bleTurnoffTime", 4294967295u, 0 },
    { "transmissionInterval", 4294967295u, -ERANGE },
    { "currentTime", 4294967296ull, -ERANGE },
    { "cloudTokenConfig", 3, -ERANGE },
    { "cloudTokenConfig", 255, 0 },
    { "plmnSelection", 99, -ERANGE },
    { "plmnSelection", 1000000, 0 },
    { "modemBandsMask", 0x80000, -ERANGE },
    { "bleTxPowerLevel", 5, -ERANGE },
    { "cloudTokenCoapOption", 65000, 0 },
    { "cloudTokenCoapOption", 65001, -ERANGE },
    { "dnsTtlConfig", 864002, 0 },
    { "nvmStatus", 1, -ERANGE },
    { "nvmStatus", 127, 0 },
    { "deviceInfoRequest", 2, -ERANGE },
    { "advertisementManufacturerDataFormat", 3, -ERANGE },
    { "advertisementManufacturerDataFormat", 2, 0 },
    { "configurationHash", 1, -ENOENT }, /* sent by the device only */
    { "payloadSplitInfo", 1, -ENOENT },
    { "extendedConfigurationRequest", 1, -ENOENT }, /* out of scope (8.6) */
    { "calibrationParametersRequest", 1, -ENOENT }, /* deprecated */
    { "measurement_period_base", 60, -ENOENT },     /* attribute names only */
    { "cloudToken", 1, -EINVAL },
    { "rules", 1, -EINVAL },
};

static void test_downlink_validation(void **state)
{
    struct efento_downlink *dl = NULL;
    struct efento_rule bad_rule = { 1, 0, 1, 0, { 0 } };
    struct efento_rule rules[17];
    struct efento_calendar cals[7];
    const uint32_t dns5[5] = { 1, 2, 3, 4, 5 }, dns_big[4] = { 1, 2, 3, 256 };
    const uint32_t idx[4] = { 0, 1, 2, 3 }, st[4] = { 1, 2, 1, 2 }, bad_idx = 6;
    struct efento_network_search ns = { 1, { 0 }, 0, { 0 }, 0, 0 };
    char err[128];
    size_t i;

    (void)state;
    assert_int_equal(efento_downlink_new(&dl), 0);
    for (i = 0; i < N(DL_UINT_ROWS); i++) {
        int rc;

        err[0] = '\0';
        rc = efento_downlink_set_uint(dl, DL_UINT_ROWS[i].attr, DL_UINT_ROWS[i].v, err, 128);
        if (rc != DL_UINT_ROWS[i].rc) {
            print_error("%s = %llu: %d, expected %d\n", DL_UINT_ROWS[i].attr,
                        (unsigned long long)DL_UINT_ROWS[i].v, rc, DL_UINT_ROWS[i].rc);
            fail();
        }
        assert_true(rc == 0 || strstr(err, DL_UINT_ROWS[i].attr) != NULL);
    }
    assert_int_equal(efento_downlink_set_string(dl, "cloudToken",
                                                "0123456789012345678901234567890123456", err, 128),
                     -ERANGE); /* 37 > 36 */
    assert_int_equal(efento_downlink_set_string(dl, "dataEndpoint", "", err, 128), -ERANGE);
    assert_int_equal(efento_downlink_set_string(dl, "dataEndpoint", "efento/mmmmm", err, 128),
                     -ERANGE); /* 12 > 11 */
    assert_int_equal(efento_downlink_set_string(dl, "apn", "\x7f", err, 128), 0);
    assert_int_equal(efento_downlink_set_string(dl, "apn", "\xff", err, 128), -ERANGE);
    assert_int_equal(
        efento_downlink_set_string(dl, "advertisementManufacturerDataFormat", "V9", err, 128),
        -ERANGE);
    assert_int_equal(efento_downlink_set_string(dl, "networkKey", "!!!!", err, 128), -ERANGE);
    assert_int_equal(
        efento_downlink_set_string(dl, "networkKey", "AAECAwQFBgcICQoLDA0ODxA=", err, 128),
        -ERANGE); /* 17 bytes > 16 */
    assert_int_equal(
        efento_downlink_set_string(dl, "networkKey", "AAECAwQFBgcICQoLDA0ODw==", err, 128), 0);
    assert_int_equal(efento_downlink_set_string(dl, "currentTime", "1", err, 128), -EINVAL);
    assert_int_equal(efento_downlink_set_uints(dl, "dnsServerIp", dns5, 5, err, 128), -ERANGE);
    assert_int_equal(efento_downlink_set_uints(dl, "dnsServerIp", dns_big, 4, err, 128), -ERANGE);
    assert_int_equal(efento_downlink_set_uints(dl, "cellularConfigParams", dns5, 5, err, 128), 0);
    assert_int_equal(efento_downlink_set_uints(dl, "apn", dns5, 1, err, 128), -EINVAL);
    for (i = 0; i < 17; i++) {
        rules[i] = (struct efento_rule){ 1, 2, 1, 0, { 0 } };
    }
    assert_int_equal(efento_downlink_set_rules(dl, rules, 17, err, 128), -ERANGE);
    assert_int_equal(efento_downlink_set_rules(dl, rules, 16, err, 128), 0);
    assert_int_equal(efento_downlink_set_rules(dl, &bad_rule, 1, err, 128), -ERANGE);
    for (i = 0; i < 7; i++) {
        cals[i] = (struct efento_calendar){ 1, 2, 0, { 0 } };
    }
    assert_int_equal(efento_downlink_set_calendars(dl, cals, 7, err, 128), -ERANGE);
    assert_int_equal(efento_downlink_set_calendars(dl, cals, 6, err, 128), 0);
    assert_int_equal(efento_downlink_set_output_control(dl, idx, st, 4, err, 128), -ERANGE);
    assert_int_equal(efento_downlink_set_output_control(dl, &bad_idx, st, 1, err, 128), -ERANGE);
    assert_int_equal(efento_downlink_set_network_search(dl, &ns, err, 128), -ERANGE);
    assert_int_equal(efento_downlink_set_ble_advertising_period(dl, 0, 100, 100, err, 128),
                     -ERANGE);
    assert_int_equal(efento_downlink_set_ble_advertising_period(dl, 1, 16385, 100, err, 128),
                     -ERANGE);
    assert_true(efento_downlink_size(dl) < EFENTO_DOWNLINK_MAX);
    efento_downlink_free(dl);
}

static void test_enum_value(void **state)
{
    int32_t v = 0;

    (void)state;
    assert_int_equal(enum_of("MeasurementType", "MEASUREMENT_TYPE_RESISTANCE"), 43);
    assert_int_equal(enum_of("ModemType", "MODEM_TYPE_BC660"), 4);
    assert_int_equal(enum_of("ModemFirmwareVersion", "MODEM_FIRMWARE_VERSION_BC660_V8"), 10);
    assert_int_equal(enum_of("LogicOperator", "LOGIC_OPERATOR_OR"), 2);
    assert_int_equal(enum_of("Action", "ACTION_FAST_ADVERTISING_MODE"), 4);
    assert_int_equal(enum_of("Condition", "CONDITION_ON_SENSOR_ERROR"), 8);
    assert_int_equal(enum_of("BleAdvertisingPeriodMode", "BLE_ADVERTISING_PERIOD_MODE_FAST"), 3);
    assert_int_equal(efento_enum_value("Condition", "HIGH_THRESHOLD", &v), -ENOENT);
    assert_int_equal(efento_enum_value("Nope", "CONDITION_DISABLED", &v), -ENOENT);
}

/* ---- main --------------------------------------------------------------------------------- */

/* Run from the repository root; when started elsewhere, go there from argv[0]. */
static void goto_root(const char *argv0)
{
    char root[PATH_MAX];
    const char *at = strstr(argv0, "build/test/unit/");

    if (access(MEAS_PROTO, R_OK) == 0 || at == NULL) {
        return;
    }
    (void)snprintf(root, sizeof(root), "%.*s", (int)(at - argv0), argv0);
    if (root[0] != '\0' && chdir(root) != 0) {
        print_error("cannot chdir to %s\n", root);
    }
}

#define MAX_TESTS 128

int main(int argc, char **argv)
{
    static struct CMUnitTest t[MAX_TESTS];
    static char names[MAX_TESTS][80];
    static const struct {
        const char *name;
        CMUnitTestFunction f;
    } plain[] = {
        { "meas_ex14_3_error_event", test_meas_ex14_3_error_event },
        { "meas_error_range", test_meas_error_range },
        { "meas_newest", test_meas_newest },
        { "meas_wire_variants", test_meas_wire_variants },
        { "meas_malformed", test_meas_malformed },
        { "meas_opts", test_meas_opts },
        { "meas_period_edges", test_meas_period_edges },
        { "meas_type_cast", test_meas_type_cast },
        { "dates", test_dates },
        { "devinfo_edges", test_devinfo_edges },
        { "devinfo_merge", test_devinfo_merge },
        { "config_full", test_config_full },
        { "config_defaults", test_config_defaults },
        { "config_values", test_config_values },
        { "config_split_merge", test_config_split_merge },
        { "config_bounds", test_config_bounds },
        { "split", test_split },
        { "split_expiry", test_split_expiry },
        { "downlink_config_request", test_downlink_config_request },
        { "downlink_settings", test_downlink_settings },
        { "downlink_validation", test_downlink_validation },
        { "enum_value", test_enum_value },
    };
    size_t n = 0, i;

    (void)argc;
    goto_root(argv[0]);
    for (i = 0; i < N(MEAS_CASES); i++, n++) {
        (void)snprintf(names[n], sizeof(names[n]), "meas %s", MEAS_CASES[i].file);
        t[n] = (struct CMUnitTest){ names[n], test_meas_case, NULL, NULL, (void *)&MEAS_CASES[i] };
    }
    for (i = 0; i < N(TYPE_CASES); i++, n++) {
        (void)snprintf(names[n], sizeof(names[n]), "meas type %d raw %d", TYPE_CASES[i].type,
                       TYPE_CASES[i].start + TYPE_CASES[i].offset);
        t[n] = (struct CMUnitTest){ names[n], test_meas_types, NULL, NULL, (void *)&TYPE_CASES[i] };
    }
    for (i = 0; i < N(DI_CASES); i++, n++) {
        (void)snprintf(names[n], sizeof(names[n]), "devinfo %s", DI_CASES[i].file);
        t[n] = (struct CMUnitTest){ names[n], test_devinfo_case, NULL, NULL, (void *)&DI_CASES[i] };
    }
    for (i = 0; i < N(plain); i++, n++) {
        t[n] = (struct CMUnitTest){ plain[i].name, plain[i].f, NULL, NULL, NULL };
    }
    return _cmocka_run_group_tests("efento", t, n, NULL, NULL);
}
