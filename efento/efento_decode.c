/* SPDX-License-Identifier: MIT */
/*
 * efento_decode.c - ProtoMeasurements (POST m) -> telemetry records, specs/efento.md 7.2-7.8.
 *
 * Wire format (6.1, 6.2): a frame has a serial, battery flag, period base and factor, and up to
 * 16 channels; channel N (1-based position) has a type, the epoch second of its oldest sample, a
 * start point and sint32 sample offsets.
 *   continuous: sample i at timestamp + i * base * f, raw = start_point + offset
 *   binary (OK_ALARM, FLOODING, OUTPUT_CONTROL): sample at timestamp + |offset| - 1, the sign
 *   is the state (negative = OK / OFF)
 *   f = factor, or 14 for binary and 1 for continuous channels when the factor is 0
 *   an offset in 8355840..8388607 is a sensor error code, never a value (R4(h))
 *
 * How it works: every value is first collected as an internal record (ts, key id, channel,
 * sequence number), so that keys are compared as integers. Then (1) records are sorted by
 * (ts, key, channel, seq) and equal (ts, key) pairs merged, the later value winning, as in
 * ThingsBoard's per-ts maps; (2) accumulator minor samples are paired with their major channel
 * in each ts group, independent of channel order and in 64 bits (R4(b), 7.6); (3) the result is
 * sorted by (ts, first insertion) and written to the caller's array. Binary channels process
 * every sample (R4(a)); the ten types ThingsBoard ignores are decoded (R4(c)); the extra keys of
 * 7.7 join the common record (R4(f)). All integer arithmetic is 64-bit, uint32 unsigned (7.1).
 */
#include "efento/efento.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efento/efento_internal.h"

enum kind {
    K_UNKNOWN, /* a number this table does not know: interval only */
    K_NONE,    /* NO_SENSOR, SHARED_MODEM: nothing at all */
    K_PLAIN,   /* raw / div, DOUBLE */
    K_META3,   /* raw / 3 and raw % 3, LONG */
    K_MAJOR,   /* raw / 4 and raw % 4, LONG */
    K_MINOR,   /* raw / 6 with raw % 6 = major index; paired in a second pass */
    K_BINARY,  /* state strings */
};

enum key {
    KEY_SERIAL,
    KEY_BATTERY,
    KEY_NEXT_TX,
    KEY_SIGNAL,
    KEY_BATTERY_VOLTAGE,
    KEY_POWER_SOURCE,
    KEY_TRANSFER_REASON,
    KEY_CONFIG_HASH,
    KEY_INTERVAL,
    KEY_VALUE,
    KEY_META,
    KEY_TOTAL,
    KEY_MINOR, /* internal: an unpaired minor sample, v.l = raw */
};

struct mtype {
    const char *prefix; /* key prefix, ends in '_' */
    enum kind kind;
    unsigned acc;    /* accumulator family 1..4 (K_MAJOR, K_MINOR) */
    unsigned div;    /* K_PLAIN divisor */
    const char *neg; /* K_BINARY: state of a negative offset */
    const char *pos; /* K_BINARY: state of a positive offset (or 0) */
};

#define PLAIN(p, d)                                                                                \
    {                                                                                              \
        p, K_PLAIN, 0, d, NULL, NULL                                                               \
    }
#define META3(p)                                                                                   \
    {                                                                                              \
        p, K_META3, 0, 0, NULL, NULL                                                               \
    }
#define ACC(p, k, a)                                                                               \
    {                                                                                              \
        p, k, a, 0, NULL, NULL                                                                     \
    }
#define BIN(p, n, s)                                                                               \
    {                                                                                              \
        p, K_BINARY, 0, 0, n, s                                                                    \
    }

/* Table 6.3 / 7.5, indexed by MeasurementType. */
static const struct mtype MTYPES[] = {
    { NULL, K_NONE, 0, 0, NULL, NULL },
    PLAIN("temperature_", 10),
    PLAIN("humidity_", 1),
    PLAIN("pressure_", 10),
    PLAIN("pressure_diff_", 1),
    BIN("ok_alarm_", "OK", "ALARM"),
    META3("iaq_"),
    BIN("flooding_", "OK", "WATER_DETECTED"),
    PLAIN("pulse_cnt_", 1),
    PLAIN("watt_hour_", 1),
    PLAIN("pulse_counter_water_", 1),
    PLAIN("soil_moisture_", 1),
    PLAIN("co_gas_", 1),
    PLAIN("no2_gas_", 1),
    PLAIN("h2s_gas_", 100),
    PLAIN("ambient_light_", 10),
    PLAIN("pm_1_0_", 1),
    PLAIN("pm_2_5_", 1),
    PLAIN("pm_10_0_", 1),
    PLAIN("noise_level_", 10),
    PLAIN("nh3_gas_", 1),
    PLAIN("ch4_gas_", 1),
    PLAIN("high_pressure_", 1),
    PLAIN("distance_mm_", 1),
    ACC("water_cnt_acc_", K_MINOR, 1),
    ACC("water_cnt_acc_", K_MAJOR, 1),
    META3("co2_gas_"),
    PLAIN("humidity_relative_", 10),
    META3("static_iaq_"),
    META3("co2_"),
    META3("breath_voc_"),
    { NULL, K_NONE, 0, 0, NULL, NULL },
    PLAIN("percentage_", 100),
    PLAIN("voltage_", 10),
    PLAIN("current_", 100),
    ACC("pulse_cnt_acc_", K_MINOR, 2),
    ACC("pulse_cnt_acc_", K_MAJOR, 2),
    ACC("elec_meter_acc_", K_MINOR, 3),
    ACC("elec_meter_acc_", K_MAJOR, 3),
    ACC("pulse_cnt_acc_wide_", K_MINOR, 4),
    ACC("pulse_cnt_acc_wide_", K_MAJOR, 4),
    PLAIN("current_precise_", 1000),
    BIN("output_control_", "OFF", "ON"),
    PLAIN("resistance_", 1),
};

#define N_MTYPES (sizeof(MTYPES) / sizeof(MTYPES[0]))

/* Major resolution per accumulator family (7.6): hl -> l, k -> 1, kWh -> Wh, M -> 1. */
static const int64_t ACC_RESOLUTION[5] = { 0, 100, 1000, 1000, 1000000 };

static const char *const COMMON_KEYS[] = {
    "serial",          "battery",      "next_transmission_at", "signal",
    "battery_voltage", "power_source", "transfer_reason",      "configuration_hash"
};

static const char *const POWER_SOURCES[6] = { "battery",         "rechargeable_battery",
                                              "external_supply", "reserved_3",
                                              "reserved_4",      "reserved_5" };

/* An internal record: one key of one ts. */
struct mrec {
    int64_t ts_ms;
    uint32_t seq; /* insertion order, for "later put wins" and output order */
    uint8_t key;  /* enum key */
    uint8_t ch;   /* channel number, 0 for common keys */
    uint8_t type; /* enum efento_type of v */
    bool is_dead;
    bool is_paired;
    union {
        int64_t l;
        double d;
        const char *s;
    } v;
};

struct mctx {
    const ProtoMeasurements *m;
    const struct efento_opts *o;
    struct efento_meas_info *info;
    struct mrec *recs;
    size_t n;
    size_t cap;
    uint32_t seq;
    int64_t newest_ms;
    char next_tx[32];
    char *err;
    size_t err_len;
};

static const struct mtype *mtype_of(int32_t type)
{
    static const struct mtype unknown = { NULL, K_UNKNOWN, 0, 0, NULL, NULL };

    return type >= 0 && (size_t)type < N_MTYPES ? &MTYPES[type] : &unknown;
}

static struct mrec *put(struct mctx *c, int64_t ts_ms, enum key key, unsigned ch,
                        enum efento_type type)
{
    struct mrec *r;

    if (c->n >= c->cap) {
        return NULL; /* cannot happen: cap counts every possible record */
    }
    r = &c->recs[c->n++];
    memset(r, 0, sizeof(*r));
    r->ts_ms = ts_ms;
    r->seq = c->seq++;
    r->key = (uint8_t)key;
    r->ch = (uint8_t)ch;
    r->type = (uint8_t)type;
    return r;
}

static int put_l(struct mctx *c, int64_t ts_ms, enum key key, unsigned ch, int64_t v)
{
    struct mrec *r = put(c, ts_ms, key, ch, EFENTO_LONG);

    if (r == NULL) {
        return -ERANGE;
    }
    r->v.l = v;
    return 0;
}

static int put_d(struct mctx *c, int64_t ts_ms, enum key key, unsigned ch, double v)
{
    struct mrec *r = put(c, ts_ms, key, ch, EFENTO_DOUBLE);

    if (r == NULL) {
        return -ERANGE;
    }
    r->v.d = v;
    return 0;
}

static int put_s(struct mctx *c, int64_t ts_ms, enum key key, unsigned ch, const char *v)
{
    struct mrec *r = put(c, ts_ms, key, ch, EFENTO_STRING);

    if (r == NULL) {
        return -ERANGE;
    }
    r->v.s = v;
    return 0;
}

/* The common keys (7.2 step 2) and nbgate's extra keys (7.7), at channels[0].timestamp. */
static int common_keys(struct mctx *c)
{
    const ProtoMeasurements *m = c->m;
    int64_t ts = (int64_t)m->channels[0]->timestamp * 1000;
    uint32_t level = m->battery_level;
    int rc = 0;

    efento_fmt_utc((int64_t)m->next_transmission_at, c->next_tx, sizeof(c->next_tx));
    rc |= put_s(c, ts, KEY_SERIAL, 0, c->info->id.serial);
    rc |= put_s(c, ts, KEY_BATTERY, 0, m->battery_status ? "ok" : "low");
    rc |= put_s(c, ts, KEY_NEXT_TX, 0, c->next_tx);
    rc |= put_l(c, ts, KEY_SIGNAL, 0, (int64_t)m->signal);
    if (level != 0 && level / 6 != 10921) {
        rc |= put_d(c, ts, KEY_BATTERY_VOLTAGE, 0, (double)(level / 6) / 100.0);
    }
    if (level != 0) {
        rc |= put_s(c, ts, KEY_POWER_SOURCE, 0, POWER_SOURCES[level % 6]);
    }
    rc |= put_l(c, ts, KEY_TRANSFER_REASON, 0, (int64_t)m->transfer_reason);
    if (m->configuration_hash != 0) {
        rc |= put_l(c, ts, KEY_CONFIG_HASH, 0, (int64_t)m->configuration_hash);
    }
    return rc != 0 ? -ERANGE : 0;
}

static void note_error(struct mctx *c, unsigned ch, int32_t type, int32_t code, int64_t t_s)
{
    struct efento_meas_info *in = c->info;
    struct efento_sensor_error *e;
    size_t i;

    in->error_samples++;
    in->channel_error_samples[ch - 1]++;
    for (i = 0; i < in->n_errors; i++) {
        e = &in->errors[i];
        if (e->channel == ch && e->code == (uint32_t)code) {
            e->samples++;
            e->first_s = t_s < e->first_s ? t_s : e->first_s;
            e->last_s = t_s > e->last_s ? t_s : e->last_s;
            return;
        }
    }
    if (in->n_errors == EFENTO_ERROR_EVENTS_MAX) {
        in->error_samples_unlisted++;
        return;
    }
    e = &in->errors[in->n_errors++];
    e->channel = ch;
    e->type = type;
    e->code = (uint32_t)code;
    e->samples = 1;
    e->first_s = t_s;
    e->last_s = t_s;
}

static void note_unknown(struct mctx *c, int32_t type)
{
    struct efento_meas_info *in = c->info;
    size_t i;

    for (i = 0; i < in->n_unknown_types; i++) {
        if (in->unknown_types[i] == type) {
            return;
        }
    }
    in->unknown_types[in->n_unknown_types++] = type;
}

static void note_newest(struct mctx *c, int64_t ts_ms, int64_t period_s)
{
    if (!c->info->has_newest || ts_ms > c->newest_ms) {
        c->info->has_newest = true;
        c->newest_ms = ts_ms;
        c->info->newest_s = ts_ms / 1000;
        c->info->newest_period_s = period_s;
    }
}

static bool is_error_code(int32_t o)
{
    return o >= EFENTO_ERR_CODE_MIN && o <= EFENTO_ERR_CODE_MAX;
}

/* Values of one continuous sample (7.5). */
static int continuous_value(struct mctx *c, const struct mtype *t, unsigned ch, int64_t ts,
                            int64_t raw)
{
    int rc = 0;

    switch (t->kind) {
    case K_PLAIN:
        rc = put_d(c, ts, KEY_VALUE, ch, (double)raw / (double)t->div);
        break;
    case K_META3:
        rc = put_l(c, ts, KEY_VALUE, ch, raw / 3);
        rc |= put_l(c, ts, KEY_META, ch, raw % 3);
        break;
    case K_MAJOR:
        rc = put_l(c, ts, KEY_VALUE, ch, raw / 4);
        rc |= put_l(c, ts, KEY_META, ch, raw % 4);
        break;
    case K_MINOR:
        rc = put_l(c, ts, KEY_MINOR, ch, raw);
        break;
    default:
        break; /* unknown type: the record stays empty */
    }
    return rc != 0 ? -ERANGE : 0;
}

static int continuous_channel(struct mctx *c, const ProtoChannel *pc, const struct mtype *t,
                              unsigned ch, int64_t period_s)
{
    int64_t start = (int64_t)pc->timestamp * 1000, step_ms, ts;
    size_t i;
    int rc = 0;

    if (__builtin_mul_overflow(period_s, (int64_t)1000, &step_ms)) {
        goto overflow;
    }
    for (i = 0; rc == 0 && i < pc->n_sample_offsets; i++) {
        int32_t o = pc->sample_offsets[i];

        if (__builtin_mul_overflow((int64_t)i, step_ms, &ts) ||
            __builtin_add_overflow(ts, start, &ts)) {
            goto overflow;
        }
        note_newest(c, ts, period_s);
        if (is_error_code(o)) {
            note_error(c, ch, (int32_t)pc->type, o, ts / 1000);
            continue;
        }
        rc = continuous_value(c, t, ch, ts, (int64_t)pc->start_point + o);
    }
    return rc;
overflow:
    efento_errf(c->err, c->err_len, "channel %u: sample time beyond the 64-bit range", ch);
    return -EBADMSG;
}

/* Every state sample is processed, repeated states included (R4(a)). */
static int binary_channel(struct mctx *c, const ProtoChannel *pc, const struct mtype *t,
                          unsigned ch, int64_t period_s)
{
    int64_t start = (int64_t)pc->timestamp * 1000, ts, mag;
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < pc->n_sample_offsets; i++) {
        int32_t o = pc->sample_offsets[i];

        if (is_error_code(o)) {
            note_error(c, ch, (int32_t)pc->type, o, (int64_t)pc->timestamp);
            continue;
        }
        mag = o < 0 ? -(int64_t)o : (int64_t)o;
        ts = start + (mag - 1) * 1000;
        note_newest(c, ts, period_s);
        rc = put_s(c, ts, KEY_VALUE, ch, o < 0 ? t->neg : t->pos);
    }
    return rc;
}

static int decode_channel(struct mctx *c, size_t idx)
{
    const ProtoChannel *pc = c->m->channels[idx];
    const struct mtype *t = mtype_of((int32_t)pc->type);
    unsigned ch = (unsigned)idx + 1;
    bool is_binary = t->kind == K_BINARY;
    uint64_t f = c->m->measurement_period_factor;
    uint64_t period;
    int rc;

    if (pc->n_sample_offsets == 0 || t->kind == K_NONE) {
        return 0;
    }
    if (f == 0) {
        f = is_binary ? 14 : 1;
    }
    period = (uint64_t)c->m->measurement_period_base * f;
    if (period > (uint64_t)INT64_MAX / 1000) {
        efento_errf(c->err, c->err_len, "channel %u: measurement period out of range", ch);
        return -EBADMSG;
    }
    if (t->kind == K_UNKNOWN) {
        note_unknown(c, (int32_t)pc->type);
    }
    rc = put_l(c, (int64_t)pc->timestamp * 1000, KEY_INTERVAL, ch, (int64_t)period);
    if (rc == 0 && is_binary) {
        rc = binary_channel(c, pc, t, ch, (int64_t)period);
    } else if (rc == 0) {
        rc = continuous_channel(c, pc, t, ch, (int64_t)period);
    }
    return rc;
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_slot(const void *pa, const void *pb)
{
    const struct mrec *a = pa, *b = pb;
    int r = cmp_i64(a->ts_ms, b->ts_ms);

    if (r == 0) {
        r = cmp_i64(a->key, b->key);
    }
    if (r == 0) {
        r = cmp_i64(a->ch, b->ch);
    }
    return r != 0 ? r : cmp_i64(a->seq, b->seq);
}

static int cmp_out(const void *pa, const void *pb)
{
    const struct mrec *a = pa, *b = pb;
    int r = cmp_i64(a->ts_ms, b->ts_ms);

    return r != 0 ? r : cmp_i64(a->seq, b->seq);
}

/* Merge equal (ts, key, channel): the last value at the first position (a map's put). */
static void merge_duplicates(struct mctx *c)
{
    size_t i, keep = 0;

    qsort(c->recs, c->n, sizeof(c->recs[0]), cmp_slot);
    for (i = 1; i < c->n; i++) {
        struct mrec *k = &c->recs[keep];

        if (c->recs[i].ts_ms == k->ts_ms && c->recs[i].key == k->key && c->recs[i].ch == k->ch) {
            uint32_t first = k->seq;

            *k = c->recs[i];
            k->seq = first;
        } else {
            c->recs[++keep] = c->recs[i];
        }
    }
    c->n = c->n > 0 ? keep + 1 : 0;
}

static const struct mtype *channel_type(const struct mctx *c, int64_t n)
{
    if (n < 1 || (uint64_t)n > c->m->n_channels) {
        return NULL;
    }
    return mtype_of((int32_t)c->m->channels[n - 1]->type);
}

/* Pair the minor samples of one ts group [a, b) with their majors (7.6, R4(b)). */
static void pair_group(struct mctx *c, size_t a, size_t b)
{
    size_t i, j;

    for (i = a; i < b; i++) {
        struct mrec *r = &c->recs[i];
        const struct mtype *tn, *tm;
        int64_t raw = r->v.l, major = raw % 6 + 1;

        if (r->key != KEY_MINOR) {
            continue;
        }
        r->is_dead = true;
        tn = channel_type(c, r->ch);
        tm = channel_type(c, major);
        if (tn == NULL || tm == NULL || tm->kind != K_MAJOR || tm->acc != tn->acc) {
            continue;
        }
        for (j = a; j < b; j++) {
            struct mrec *mj = &c->recs[j];

            if (mj->key == KEY_VALUE && mj->ch == major) {
                r->is_dead = false;
                r->key = KEY_TOTAL;
                r->v.l = mj->v.l * ACC_RESOLUTION[tn->acc] + raw / 6;
                mj->is_paired = true;
                break;
            }
        }
    }
    for (j = a; j < b; j++) {
        c->recs[j].is_dead = c->recs[j].is_dead || c->recs[j].is_paired;
    }
}

static void pair_accumulators(struct mctx *c)
{
    size_t a = 0, b;

    while (a < c->n) {
        for (b = a + 1; b < c->n && c->recs[b].ts_ms == c->recs[a].ts_ms; b++) {
        }
        pair_group(c, a, b);
        a = b;
    }
}

static void key_text(const struct mctx *c, const struct mrec *r, char *buf, size_t len)
{
    const struct mtype *t = channel_type(c, r->ch);
    const char *p = t != NULL && t->prefix != NULL ? t->prefix : "unknown_";

    switch (r->key) {
    case KEY_INTERVAL:
        (void)snprintf(buf, len, "measurement_interval_%u", r->ch);
        break;
    case KEY_VALUE:
        (void)snprintf(buf, len, "%s%u", p, r->ch);
        break;
    case KEY_META:
        (void)snprintf(buf, len, "%smetadata_%u", p, r->ch);
        break;
    case KEY_TOTAL:
        (void)snprintf(buf, len, "%stotal_%u", p, r->ch);
        break;
    default:
        (void)snprintf(buf, len, "%s", COMMON_KEYS[r->key]);
        break;
    }
}

static int emit(struct mctx *c, struct efento_reading *out, size_t cap, size_t *n_out)
{
    size_t i, n = 0;

    for (i = 0; i < c->n; i++) {
        if (!c->recs[i].is_dead) {
            c->recs[n++] = c->recs[i];
        }
    }
    c->n = n;
    if (n > cap) {
        efento_errf(c->err, c->err_len, "%zu records do not fit the array of %zu", n, cap);
        return -ERANGE;
    }
    qsort(c->recs, n, sizeof(c->recs[0]), cmp_out);
    for (i = 0; i < n; i++) {
        const struct mrec *r = &c->recs[i];
        struct efento_reading *o = &out[i];

        o->ts_ms = r->ts_ms;
        key_text(c, r, o->key, sizeof(o->key));
        if (r->type == EFENTO_LONG) {
            o->type = EFENTO_LONG;
            o->v.l = r->v.l;
        } else if (r->type == EFENTO_DOUBLE) {
            efento_reading_set_double(o, r->v.d);
        } else {
            efento_reading_set_str(o, r->v.s, c->o->is_type_cast);
        }
    }
    *n_out = n;
    return 0;
}

static void fill_info(struct efento_meas_info *info, const ProtoMeasurements *m)
{
    efento_hex_upper(m->serial_number.data, m->serial_number.len, info->id.serial,
                     sizeof(info->id.serial));
    (void)snprintf(info->id.cloud_token, sizeof(info->id.cloud_token), "%s",
                   m->cloud_token != NULL ? m->cloud_token : "");
    info->configuration_hash = m->configuration_hash;
    info->transfer_reason = m->transfer_reason;
}

/* Decode the unpacked frame into the caller's array. */
static int decode_frame(struct mctx *c, struct efento_reading *out, size_t cap, size_t *n_out)
{
    const ProtoMeasurements *m = c->m;
    size_t i, samples = 0;
    int rc;

    for (i = 0; i < m->n_channels; i++) {
        samples += m->channels[i]->n_sample_offsets;
    }
    c->cap = 8 + m->n_channels + 2 * samples;
    c->recs = malloc(c->cap * sizeof(c->recs[0]));
    if (c->recs == NULL) {
        efento_errf(c->err, c->err_len, "out of memory");
        return -ENOMEM;
    }
    rc = common_keys(c);
    for (i = 0; rc == 0 && i < m->n_channels; i++) {
        rc = decode_channel(c, i);
    }
    if (rc == 0) {
        merge_duplicates(c);
        pair_accumulators(c);
        rc = emit(c, out, cap, n_out);
    }
    return rc;
}

int efento_measurements_decode(const uint8_t *buf, size_t len, const struct efento_opts *opts,
                               struct efento_meas_info *info, struct efento_reading *out,
                               size_t cap, size_t *n_out, char *err, size_t err_len)
{
    struct efento_opts o;
    struct efento_alloc a;
    ProtoMeasurements *m = NULL;
    uint8_t *merged = NULL;
    struct mctx c;
    int rc;

    memset(&c, 0, sizeof(c));
    if ((buf == NULL && len > 0) || info == NULL || n_out == NULL || (out == NULL && cap > 0)) {
        return -EINVAL;
    }
    *n_out = 0;
    memset(info, 0, sizeof(*info));
    efento_opts_resolve(opts, &o);
    efento_alloc_init(&a, len);
    if (len > o.payload_bytes) {
        efento_errf(err, err_len, "payload of %zu bytes exceeds %zu", len, o.payload_bytes);
        rc = -ERANGE;
        goto out;
    }
    rc = efento_wire_check(&proto_measurements__descriptor, buf, len, &o, err, err_len);
    if (rc == 0) {
        rc = efento_wire_merge(&proto_measurements__descriptor, buf, len, &merged, &len);
    }
    if (rc != 0) {
        goto out;
    }
    m = proto_measurements__unpack(&a.base, len, merged);
    if (m == NULL) {
        rc = efento_alloc_unpack_error(&a, "ProtoMeasurements", err, err_len);
        goto out;
    }
    rc = efento_count_check(&m->base, &o, err, err_len);
    if (rc == 0 && m->n_channels == 0) {
        efento_errf(err, err_len, "measurement frame without channels");
        rc = -EBADMSG;
    }
    if (rc != 0) {
        goto out;
    }
    fill_info(info, m);
    c.m = m;
    c.o = &o;
    c.info = info;
    c.err = err;
    c.err_len = err_len;
    rc = decode_frame(&c, out, cap, n_out);
out:
    free(c.recs);
    if (m != NULL) {
        proto_measurements__free_unpacked(m, &a.base);
    }
    free(merged);
    if (rc != 0) {
        *n_out = 0;
    }
    return rc;
}
