/* SPDX-License-Identifier: MIT */
/*
 * nbgate-sim.c - Efento NB-IoT fleet simulator: N sensors post measurement frames to a gateway,
 * answer its requests and apply the configuration it sends back (specs/efento.md sections 3, 8).
 * It is the onboarding demo and the load generator for Efento benchmarks; it needs only libc.
 *
 * Sensors. Sensor i has its own connected UDP socket (its own source port; with --psm a new one
 * after every sleep, as a NAT rebinding does), token PREFIX<i>, serial 28 2C + i (4 bytes), and
 * one of seven channel mixes (temperature; temperature + humidity; + pressure; door contact
 * OK_ALARM; pulse counter + temperature; CO2 + temperature + humidity; flooding + temperature).
 * Every --interval-ms it sends a ProtoMeasurements frame with --samples samples per channel, one
 * measurement period apart, CON with probability --con (the first frame is always CON) and NON
 * otherwise. A CON waits for its ACK (RFC 7252 4.8: 2 s x [1, 1.5], doubled, 4 retransmissions);
 * after a CON that was never answered, the next frame carries retry count 1 in transfer_reason.
 *
 * Time-lapse. Each frame covers samples x period seconds of sensor time, so the sensors' clocks
 * run faster than the wall clock (the gateway's profile should switch clock sync off with
 * clockSyncThresholdS -1, or expect current_time in every CON answer). Sample times never repeat
 * for a sensor (current_time only moves a clock forward), so every record is a distinct row in
 * the gateway's time series and records can be counted exactly.
 *
 * Downlink. The payload of a 2.01 is decoded as ProtoConfig: measurement_period_base and
 * measurement_period_factor change the sensor's period, transmission_interval and ack_interval
 * are kept, current_time moves the clock forward, device_info_request makes the sensor send a
 * ProtoDeviceInfo (CON the first time, NON later), configuration_request a ProtoConfig (NON).
 * The configuration hash changes with the settings, as on a real sensor.
 *
 * Records per measurement frame (what the gateway's decoder makes of it, spec 7.2 and 7.7):
 * 8 common keys (serial, battery, next_transmission_at, signal, battery_voltage, power_source,
 * transfer_reason, configuration_hash) + per channel 1 measurement_interval_N + samples x keys
 * (2 for CO2, 1 otherwise). A device info frame makes 1 record (sw_version).
 *
 * Wire formats, encoded by hand: CoAP (RFC 7252 3: header, token, Uri-Path options, 0xFF,
 * payload) and protobuf (varint tags; sint32 zigzag; packed sample_offsets; strings and bytes
 * length-delimited). Answers are read into SIM_DGRAM_CAP bytes and parsed defensively.
 *
 * Output: one summary line of key=value pairs (frames/s and records/s over the run), and with
 * --per-sensor FILE one CSV line per sensor.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SIM_DGRAM_CAP      1024u
#define SIM_MAX_SENSORS    100000u
#define SIM_MAX_SAMPLES    64u
#define SIM_MAX_CHANNELS   3u
#define SIM_TOKEN_CAP      64u
#define SIM_ACK_TIMEOUT_US 2000000u
#define SIM_MAX_RETRANSMIT 4u
#define SIM_DRAIN_US       93000000u /* MAX_TRANSMIT_WAIT: the longest a CON exchange can take */
#define SIM_EVENTS         1024
#define SIM_SW_VERSION     0x0702u
#define SIM_NONE           UINT32_MAX
#define SIM_EXIT_USAGE     2
#define SIM_CON            0u
#define SIM_NON            1u
#define SIM_ACK            2u

/* MeasurementType numbers (proto/efento/proto_measurement_types.proto). */
enum sim_type {
    T_TEMPERATURE = 1,
    T_HUMIDITY = 2,
    T_PRESSURE = 3,
    T_OK_ALARM = 5,
    T_FLOODING = 7,
    T_PULSE_CNT = 8,
    T_CO2_GAS = 26,
};

struct sim_mix {
    const char *name;
    size_t n;
    enum sim_type type[SIM_MAX_CHANNELS];
};

static const struct sim_mix MIXES[] = {
    { "temperature", 1, { T_TEMPERATURE } },
    { "temp-humidity", 2, { T_TEMPERATURE, T_HUMIDITY } },
    { "temp-hum-pressure", 3, { T_TEMPERATURE, T_HUMIDITY, T_PRESSURE } },
    { "door", 1, { T_OK_ALARM } },
    { "pulse", 2, { T_PULSE_CNT, T_TEMPERATURE } },
    { "co2", 3, { T_CO2_GAS, T_TEMPERATURE, T_HUMIDITY } },
    { "flood", 2, { T_FLOODING, T_TEMPERATURE } },
};
#define SIM_N_MIXES (sizeof(MIXES) / sizeof(MIXES[0]))

struct sim_opts {
    const char *host;
    const char *port;
    const char *token_prefix;
    const char *path_prefix; /* "efento/" or "" for the factory paths */
    const char *per_sensor;  /* CSV file or NULL */
    uint32_t sensors;
    uint32_t samples;
    uint32_t period_s;
    uint32_t con_pct;
    uint32_t ack_interval_s; /* initial ack_interval: a CON at least this often (sensor time) */
    uint64_t interval_us;
    uint64_t duration_us;
    uint64_t seed;
    bool is_psm;
    bool is_quiet;
};

/* Counters of one sensor (and, summed, of the fleet). */
struct sim_count {
    uint64_t frames, con, non, devinfo, config; /* sent, first transmissions */
    uint64_t acked, errors, timeouts, retrans;
    uint64_t records, records_acked, records_devinfo;
    uint64_t downlinks, period_changes, clock_syncs;
    uint64_t latency_us_sum, latency_us_max; /* first transmission of a CON to its answer */
    uint64_t answered;                       /* CON frames answered */
};

struct sim_sensor {
    int fd;
    uint32_t index;
    uint32_t mix;
    char token[SIM_TOKEN_CAP];
    uint8_t serial[6];
    uint32_t period_s, factor, tx_interval_s, ack_interval_s;
    int64_t vclock_s;                /* sensor time of the next frame's first sample */
    int64_t last_con_s;              /* sensor time of the last CON measurement frame */
    int32_t start[SIM_MAX_CHANNELS]; /* running base values */
    uint16_t mid;
    uint16_t seq;
    bool has_devinfo_sent;
    bool want_devinfo, want_config, want_retry, want_reopen;
    /* the outstanding CON, if any */
    bool is_waiting;
    char kind; /* 'm', 'i', 'c' of the outstanding frame */
    uint64_t out_records;
    uint8_t dgram[SIM_DGRAM_CAP];
    size_t dgram_len;
    uint32_t retransmits;
    uint64_t timeout_us;
    uint64_t sent_us;      /* first transmission of the outstanding CON */
    uint64_t next_us;      /* heap key: retransmission, next frame */
    uint64_t next_meas_us; /* next measurement frame */
    uint32_t heap_idx;
    struct sim_count c;
};

struct sim {
    struct sim_opts o;
    struct sim_sensor *s;
    uint32_t *heap;
    uint32_t heap_len;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int epfd;
    uint64_t rng;
    uint64_t start_us, end_us;
    bool is_running;
    uint64_t stray; /* datagrams that matched nothing */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint64_t now_us(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t rng_next(struct sim *S)
{
    S->rng ^= S->rng >> 12;
    S->rng ^= S->rng << 25;
    S->rng ^= S->rng >> 27;
    return S->rng * 2685821657736338717ull;
}

/* ---- timer heap (sensors by next_us) ------------------------------------------------------- */

static void heap_swap(struct sim *S, uint32_t a, uint32_t b)
{
    uint32_t t = S->heap[a];

    S->heap[a] = S->heap[b];
    S->heap[b] = t;
    S->s[S->heap[a]].heap_idx = a;
    S->s[S->heap[b]].heap_idx = b;
}

static void heap_up(struct sim *S, uint32_t i)
{
    while (i > 0 && S->s[S->heap[(i - 1) / 2]].next_us > S->s[S->heap[i]].next_us) {
        heap_swap(S, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct sim *S, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < S->heap_len && S->s[S->heap[l]].next_us < S->s[S->heap[m]].next_us) {
            m = l;
        }
        if (r < S->heap_len && S->s[S->heap[r]].next_us < S->s[S->heap[m]].next_us) {
            m = r;
        }
        if (m == i) {
            return;
        }
        heap_swap(S, i, m);
        i = m;
    }
}

/* Sets a sensor's next_us and puts it in the heap (or moves it). */
static void schedule(struct sim *S, struct sim_sensor *s, uint64_t at_us)
{
    s->next_us = at_us;
    if (s->heap_idx == SIM_NONE) {
        s->heap_idx = S->heap_len;
        S->heap[S->heap_len++] = s->index;
        heap_up(S, s->heap_idx);
    } else {
        heap_up(S, s->heap_idx);
        heap_down(S, s->heap_idx);
    }
}

static struct sim_sensor *heap_pop_due(struct sim *S, uint64_t now)
{
    struct sim_sensor *s;

    if (S->heap_len == 0 || S->s[S->heap[0]].next_us > now) {
        return NULL;
    }
    s = &S->s[S->heap[0]];
    heap_swap(S, 0, S->heap_len - 1);
    S->heap_len--;
    heap_down(S, 0);
    s->heap_idx = SIM_NONE;
    return s;
}

/* ---- protobuf encoding --------------------------------------------------------------------- */

struct pb {
    uint8_t *p;
    size_t len, cap;
    bool is_full;
};

static void pb_byte(struct pb *b, uint8_t v)
{
    if (b->len < b->cap) {
        b->p[b->len++] = v;
    } else {
        b->is_full = true;
    }
}

static void pb_varint(struct pb *b, uint64_t v)
{
    while (v >= 0x80) {
        pb_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    pb_byte(b, (uint8_t)v);
}

static void pb_tag(struct pb *b, unsigned field, unsigned wire)
{
    pb_varint(b, (uint64_t)field << 3 | wire);
}

static void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
    pb_tag(b, field, 0);
    pb_varint(b, v);
}

static uint32_t zigzag(int32_t v)
{
    return v < 0 ? ((uint32_t)(-(int64_t)v) << 1) - 1u : (uint32_t)v << 1;
}

static void pb_bytes(struct pb *b, unsigned field, const void *data, size_t len)
{
    pb_tag(b, field, 2);
    pb_varint(b, len);
    for (size_t i = 0; i < len; i++) {
        pb_byte(b, ((const uint8_t *)data)[i]);
    }
}

/* Appends a length-delimited field whose body is sub (already encoded). */
static void pb_sub(struct pb *b, unsigned field, const struct pb *sub)
{
    pb_bytes(b, field, sub->p, sub->len);
    b->is_full = b->is_full || sub->is_full;
}

/* ---- frames ------------------------------------------------------------------------------ */

static uint32_t config_hash(const struct sim_sensor *s)
{
    uint32_t h = 2166136261u;
    uint32_t v[4] = { s->period_s, s->factor, s->tx_interval_s, s->ack_interval_s };

    for (size_t i = 0; i < 4; i++) {
        h = (h ^ v[i]) * 16777619u;
    }
    return h != 0 ? h : 1;
}

static bool is_binary(enum sim_type t)
{
    return t == T_OK_ALARM || t == T_FLOODING;
}

/* One channel: continuous samples as offsets from a start point, or binary state changes. */
static void encode_channel(struct sim *S, struct sim_sensor *s, size_t ch, struct pb *out)
{
    enum sim_type t = MIXES[s->mix].type[ch];
    uint8_t sbuf[SIM_MAX_SAMPLES * 5 + 8], cbuf[SIM_MAX_SAMPLES * 5 + 32];
    struct pb samples = { sbuf, 0, sizeof(sbuf), false };
    struct pb c = { cbuf, 0, sizeof(cbuf), false };
    uint32_t period = s->period_s * s->factor;
    int32_t off = 0;

    pb_uint(&c, 1, (uint64_t)t);
    pb_uint(&c, 2, (uint64_t)(uint32_t)s->vclock_s);
    if (!is_binary(t)) {
        pb_uint(&c, 4, zigzag(s->start[ch]));
    }
    for (uint32_t j = 0; j < S->o.samples; j++) {
        if (is_binary(t)) {
            int32_t at = (int32_t)(j * period) + 1; /* sample time = timestamp + |at| - 1 */
            pb_varint(&samples, zigzag(((j + s->seq) & 1) != 0 ? at : -at));
        } else {
            off += (int32_t)(rng_next(S) % 5) - 2;
            pb_varint(&samples, zigzag(t == T_PULSE_CNT ? (int32_t)(rng_next(S) % 50) : off));
        }
    }
    pb_sub(&c, 5, &samples);
    s->start[ch] += t == T_PULSE_CNT ? 0 : off;
    pb_sub(out, 4, &c);
}

/* Records the gateway makes of one measurement frame (see the file comment). */
static uint64_t frame_records(const struct sim *S, const struct sim_sensor *s)
{
    const struct sim_mix *m = &MIXES[s->mix];
    uint64_t n = 8;

    for (size_t ch = 0; ch < m->n; ch++) {
        n += 1 + (uint64_t)S->o.samples * (m->type[ch] == T_CO2_GAS ? 2u : 1u);
    }
    return n;
}

static size_t encode_measurements(struct sim *S, struct sim_sensor *s, uint8_t *buf, size_t cap)
{
    struct pb b = { buf, 0, cap, false };
    uint32_t span = S->o.samples * s->period_s * s->factor;

    pb_bytes(&b, 1, s->serial, sizeof(s->serial));
    pb_uint(&b, 2, 1);
    pb_uint(&b, 3, s->period_s);
    for (size_t ch = 0; ch < MIXES[s->mix].n; ch++) {
        encode_channel(S, s, ch, &b);
    }
    pb_uint(&b, 5, (uint64_t)(s->vclock_s + span));
    if (s->want_retry) {
        pb_uint(&b, 6, 1u << 3); /* retry count 1 (transfer_reason bits 3-7) */
    }
    pb_uint(&b, 8, s->factor);
    pb_uint(&b, 9, config_hash(s));
    pb_bytes(&b, 16, s->token, strlen(s->token));
    pb_uint(&b, 18, 360u * 6u + (s->index % 3)); /* 3.60 V; battery, rechargeable or external */
    s->vclock_s += span;
    return b.is_full ? 0 : b.len;
}

static size_t encode_devinfo(const struct sim_sensor *s, uint8_t *buf, size_t cap)
{
    struct pb b = { buf, 0, cap, false };

    pb_bytes(&b, 1, s->serial, sizeof(s->serial));
    pb_uint(&b, 3, SIM_SW_VERSION);
    pb_bytes(&b, 16, s->token, strlen(s->token));
    return b.is_full ? 0 : b.len;
}

static size_t encode_config(const struct sim_sensor *s, uint8_t *buf, size_t cap)
{
    struct pb b = { buf, 0, cap, false };
    uint8_t tbuf[8];
    struct pb types = { tbuf, 0, sizeof(tbuf), false };

    pb_uint(&b, 2, s->period_s);
    pb_uint(&b, 3, s->tx_interval_s);
    pb_uint(&b, 5, s->ack_interval_s);
    pb_uint(&b, 21, config_hash(s));
    pb_uint(&b, 23, 1);
    pb_bytes(&b, 24, s->token, strlen(s->token));
    pb_bytes(&b, 25, s->serial, sizeof(s->serial));
    pb_uint(&b, 26, s->factor);
    for (size_t ch = 0; ch < MIXES[s->mix].n; ch++) {
        pb_varint(&types, (uint64_t)MIXES[s->mix].type[ch]);
    }
    pb_sub(&b, 27, &types);
    return b.is_full ? 0 : b.len;
}

/* ---- CoAP -------------------------------------------------------------------------------- */

/* A POST to PREFIX<kind> with a 4-byte token; Uri-Path options per '/'-separated segment. */
static size_t coap_post(const struct sim *S, struct sim_sensor *s, bool is_con, char kind,
                        const uint8_t *payload, size_t len, uint8_t *out)
{
    char path[64];
    size_t at = 0, seg, i = 0, n;
    unsigned last = 0;

    (void)snprintf(path, sizeof(path), "%s%c", S->o.path_prefix, kind);
    n = strlen(path);
    s->mid++;
    s->seq++;
    out[at++] = (uint8_t)(0x40 | (is_con ? SIM_CON : SIM_NON) << 4 | 4);
    out[at++] = 0x02; /* POST */
    out[at++] = (uint8_t)(s->mid >> 8);
    out[at++] = (uint8_t)s->mid;
    out[at++] = (uint8_t)(s->index >> 8);
    out[at++] = (uint8_t)s->index;
    out[at++] = (uint8_t)(s->seq >> 8);
    out[at++] = (uint8_t)s->seq;
    while (i < n) {
        for (seg = 0; i + seg < n && path[i + seg] != '/'; seg++) {
        }
        if (seg > 0 && seg < 13) {
            out[at++] = (uint8_t)((11 - last) << 4 | seg);
            memcpy(out + at, path + i, seg);
            at += seg;
            last = 11;
        }
        i += seg + 1;
    }
    if (len == 0 || at + 1 + len > SIM_DGRAM_CAP) {
        return 0;
    }
    out[at++] = 0xff;
    memcpy(out + at, payload, len);
    return at + len;
}

static int open_socket(struct sim *S, struct sim_sensor *s)
{
    struct epoll_event ev;

    if (s->fd >= 0) {
        (void)close(s->fd); /* also leaves the epoll set */
    }
    s->fd = socket(S->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0 || connect(s->fd, (const struct sockaddr *)&S->addr, S->addr_len) != 0) {
        return -errno;
    }
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.u32 = s->index;
    return epoll_ctl(S->epfd, EPOLL_CTL_ADD, s->fd, &ev) == 0 ? 0 : -errno;
}

static void transmit(struct sim_sensor *s)
{
    (void)send(s->fd, s->dgram, s->dgram_len, 0); /* a lost datagram is what CON retries fix */
}

/* Sends the sensor's next frame: a requested device info or configuration, else measurements. */
static void send_next(struct sim *S, struct sim_sensor *s, uint64_t now)
{
    uint8_t pl[SIM_DGRAM_CAP];
    size_t len;
    bool is_con;
    char kind;

    if (s->want_reopen && S->o.is_psm && open_socket(S, s) != 0) {
        fprintf(stderr, "nbgate-sim: sensor %u: cannot open a socket: %s\n", s->index,
                strerror(errno));
    }
    s->want_reopen = false;
    if (s->want_devinfo) {
        kind = 'i';
        is_con = !s->has_devinfo_sent; /* the first after start-up is CON (3.1) */
        len = encode_devinfo(s, pl, sizeof(pl));
        s->want_devinfo = false;
        s->has_devinfo_sent = true;
        s->c.devinfo++;
        s->c.records_devinfo++;
        s->out_records = 0;
    } else if (s->want_config) {
        kind = 'c';
        is_con = false; /* CON only when it carries errors (3.1) */
        len = encode_config(s, pl, sizeof(pl));
        s->want_config = false;
        s->c.config++;
        s->out_records = 0;
    } else {
        kind = 'm';
        /* CON: the first frame, a retry, an ACK due per ack_interval, or by chance (3.1). */
        is_con = s->c.frames == 0 || s->want_retry ||
                 s->vclock_s - s->last_con_s >= (int64_t)s->ack_interval_s ||
                 rng_next(S) % 100 < S->o.con_pct;
        if (is_con) {
            s->last_con_s = s->vclock_s;
        }
        s->out_records = frame_records(S, s);
        len = encode_measurements(S, s, pl, sizeof(pl));
        s->want_retry = false;
        s->c.records += s->out_records;
        s->next_meas_us += S->o.interval_us;
        if (s->next_meas_us < now) {
            s->next_meas_us = now + S->o.interval_us; /* fell behind: skip, do not burst */
        }
    }
    s->c.frames++;
    s->dgram_len = coap_post(S, s, is_con, kind, pl, len, s->dgram);
    transmit(s);
    if (is_con) {
        s->c.con++;
        s->is_waiting = true;
        s->kind = kind;
        s->retransmits = 0;
        s->sent_us = now;
        s->timeout_us = SIM_ACK_TIMEOUT_US + rng_next(S) % (SIM_ACK_TIMEOUT_US / 2);
        schedule(S, s, now + s->timeout_us);
        return;
    }
    s->c.non++;
    schedule(S, s, s->want_devinfo || s->want_config ? now : s->next_meas_us);
}

/* A timer fired: retransmit or give up the outstanding CON, or send the next frame. */
static void on_timer(struct sim *S, struct sim_sensor *s, uint64_t now)
{
    if (s->is_waiting) {
        if (s->retransmits < SIM_MAX_RETRANSMIT) {
            s->retransmits++;
            s->c.retrans++;
            s->timeout_us *= 2;
            transmit(s);
            schedule(S, s, now + s->timeout_us);
            return;
        }
        s->is_waiting = false;
        s->c.timeouts++;
        s->want_retry = s->kind == 'm';
    }
    if (!S->is_running) {
        return;
    }
    if (!s->want_devinfo && !s->want_config && now < s->next_meas_us) {
        s->want_reopen = true; /* asleep until then (PSM) */
        schedule(S, s, s->next_meas_us);
        return;
    }
    send_next(S, s, now);
}

/* ---- answers ------------------------------------------------------------------------------ */

static bool pb_read_varint(const uint8_t *p, size_t len, size_t *at, uint64_t *v)
{
    unsigned shift = 0;

    *v = 0;
    while (*at < len && shift < 64) {
        uint8_t b = p[(*at)++];
        *v |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            return true;
        }
        shift += 7;
    }
    return false;
}

/* Applies a ProtoConfig downlink: settings, requests and the clock. Returns: false if malformed. */
static bool apply_downlink(struct sim_sensor *s, const uint8_t *p, size_t len)
{
    size_t at = 0;

    while (at < len) {
        uint64_t key, v = 0;
        if (!pb_read_varint(p, len, &at, &key)) {
            return false;
        }
        if ((key & 7) == 0) {
            if (!pb_read_varint(p, len, &at, &v)) {
                return false;
            }
        } else if ((key & 7) == 2) {
            if (!pb_read_varint(p, len, &at, &v) || v > len - at) {
                return false;
            }
            at += (size_t)v;
            continue;
        } else if ((key & 7) == 5 && at + 4 <= len) {
            at += 4;
            continue;
        } else if ((key & 7) == 1 && at + 8 <= len) {
            at += 8;
            continue;
        } else {
            return false;
        }
        switch (key >> 3) {
        case 2: /* measurement_period_base */
            if (v >= 1 && v <= 65535 && v != s->period_s) {
                s->period_s = (uint32_t)v;
                s->c.period_changes++;
            }
            break;
        case 26: /* measurement_period_factor */
            s->factor = v >= 1 && v <= 65535 ? (uint32_t)v : s->factor;
            break;
        case 3:
            s->tx_interval_s = (uint32_t)v;
            break;
        case 5:
            s->ack_interval_s = (uint32_t)v;
            break;
        case 6:
            s->want_devinfo = s->want_devinfo || v != 0;
            break;
        case 19:
            s->want_config = s->want_config || v != 0;
            break;
        case 8: /* current_time: the clock only moves forward, so no sample time repeats */
            s->c.clock_syncs++;
            if ((int64_t)v > s->vclock_s) {
                s->vclock_s = (int64_t)v;
            }
            break;
        default:
            break;
        }
    }
    return true;
}

/* Skips the options of a CoAP message; returns the payload offset (len when none) or 0. */
static size_t coap_payload_at(const uint8_t *b, size_t len)
{
    size_t at = 4 + (b[0] & 0x0f);

    while (at < len && b[at] != 0xff) {
        unsigned d = b[at] >> 4, l = b[at] & 0x0f;
        at++;
        if (d == 15 || l == 15) {
            return 0;
        }
        at += d == 13 ? 1 : d == 14 ? 2 : 0;
        if (l == 13 && at < len) {
            l = 13u + b[at++];
        } else if (l == 14 && at + 1 < len) {
            l = 269u + (unsigned)(b[at] << 8 | b[at + 1]);
            at += 2;
        }
        at += l;
    }
    return at < len ? at + 1 : len;
}

static void on_datagram(struct sim *S, struct sim_sensor *s, const uint8_t *b, size_t len,
                        uint64_t now)
{
    unsigned type, code, cls;
    uint16_t mid;
    size_t at;

    if (len < 4 || (b[0] >> 6) != 1 || 4u + (b[0] & 0x0f) > len) {
        S->stray++;
        return;
    }
    type = (b[0] >> 4) & 3;
    code = b[1];
    cls = code >> 5;
    mid = (uint16_t)(b[2] << 8 | b[3]);
    if (type == SIM_NON && cls >= 4) {
        s->c.errors++; /* the error answer to a NON frame (e.g. 4.01: unknown token) */
        return;
    }
    if (type != SIM_ACK || !s->is_waiting || mid != s->mid) {
        S->stray++;
        return;
    }
    if (code == 0) {
        return; /* empty ACK: a separate response would follow (nbgate does not do this) */
    }
    s->is_waiting = false;
    s->c.answered++;
    s->c.latency_us_sum += now - s->sent_us;
    if (now - s->sent_us > s->c.latency_us_max) {
        s->c.latency_us_max = now - s->sent_us;
    }
    if (cls != 2) {
        s->c.errors++;
    } else {
        s->c.acked++;
        s->c.records_acked += s->out_records;
        at = coap_payload_at(b, len);
        if (at > 0 && at < len) {
            s->c.downlinks++;
            if (!apply_downlink(s, b + at, len - at)) {
                S->stray++;
            }
        }
    }
    if (S->is_running) {
        schedule(S, s, s->want_devinfo || s->want_config ? now : s->next_meas_us);
    }
}

static void drain_socket(struct sim *S, struct sim_sensor *s, uint64_t now)
{
    uint8_t buf[SIM_DGRAM_CAP];
    ssize_t n;

    while ((n = recv(s->fd, buf, sizeof(buf), 0)) >= 0) {
        on_datagram(S, s, buf, (size_t)n, now);
    }
}

/* ---- setup, run, report ------------------------------------------------------------------- */

static int resolve(struct sim *S)
{
    struct addrinfo hints, *res = NULL;
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_DGRAM;
    rc = getaddrinfo(S->o.host, S->o.port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "nbgate-sim: %s:%s: %s\n", S->o.host, S->o.port, gai_strerror(rc));
        return -EINVAL;
    }
    memcpy(&S->addr, res->ai_addr, res->ai_addrlen);
    S->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static int setup(struct sim *S)
{
    struct rlimit rl;
    uint64_t span_s;
    int64_t t0;
    uint32_t i;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)S->o.sensors + 64) {
        rl.rlim_cur = rl.rlim_max < (rlim_t)S->o.sensors + 64 ? rl.rlim_max : S->o.sensors + 64;
        (void)setrlimit(RLIMIT_NOFILE, &rl);
    }
    S->s = calloc(S->o.sensors, sizeof(*S->s));
    S->heap = calloc(S->o.sensors, sizeof(*S->heap));
    S->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (S->s == NULL || S->heap == NULL || S->epfd < 0 || resolve(S) != 0) {
        return -ENOMEM;
    }
    /* Sensor time ends at about the wall clock when the run ends (time-lapse). */
    span_s = (S->o.duration_us / S->o.interval_us + 2) * S->o.samples * S->o.period_s;
    t0 = (int64_t)time(NULL) - (int64_t)span_s;
    S->start_us = now_us();
    for (i = 0; i < S->o.sensors; i++) {
        struct sim_sensor *s = &S->s[i];
        s->fd = -1;
        s->index = i;
        s->heap_idx = SIM_NONE;
        s->mix = i % (uint32_t)SIM_N_MIXES;
        (void)snprintf(s->token, sizeof(s->token), "%s%u", S->o.token_prefix, i);
        s->serial[0] = 0x28;
        s->serial[1] = 0x2c;
        s->serial[2] = (uint8_t)(i >> 24);
        s->serial[3] = (uint8_t)(i >> 16);
        s->serial[4] = (uint8_t)(i >> 8);
        s->serial[5] = (uint8_t)i;
        s->period_s = S->o.period_s;
        s->factor = 1;
        s->tx_interval_s = 900;
        s->ack_interval_s = S->o.ack_interval_s;
        s->vclock_s = t0;
        s->start[0] = 215;
        s->start[1] = 45;
        s->start[2] = 10130;
        s->mid = (uint16_t)rng_next(S);
        if (open_socket(S, s) != 0) {
            fprintf(stderr, "nbgate-sim: sensor %u: cannot open a socket: %s\n", i,
                    strerror(errno));
            return -EIO;
        }
        s->next_meas_us = S->start_us + rng_next(S) % S->o.interval_us; /* spread the fleet */
        schedule(S, s, s->next_meas_us);
    }
    S->end_us = S->start_us + S->o.duration_us;
    S->is_running = true;
    return 0;
}

static uint32_t waiting(const struct sim *S)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < S->o.sensors; i++) {
        n += S->s[i].is_waiting ? 1u : 0u;
    }
    return n;
}

static void run(struct sim *S)
{
    struct epoll_event ev[SIM_EVENTS];
    uint64_t drain_end = 0;

    while (!stop_requested) {
        uint64_t now = now_us();
        struct sim_sensor *s;
        int n, timeout_ms = 100;
        if (S->is_running && now >= S->end_us) {
            S->is_running = false; /* no new frames; outstanding CONs may still be answered */
            drain_end = now + SIM_DRAIN_US;
        }
        if (!S->is_running && (now >= drain_end || waiting(S) == 0)) {
            break;
        }
        while ((s = heap_pop_due(S, now)) != NULL) {
            on_timer(S, s, now);
        }
        if (S->heap_len > 0) {
            uint64_t next = S->s[S->heap[0]].next_us;
            timeout_ms = next <= now ? 0 : (int)((next - now) / 1000u) + 1;
            timeout_ms = timeout_ms > 100 ? 100 : timeout_ms;
        }
        n = epoll_wait(S->epfd, ev, SIM_EVENTS, timeout_ms);
        now = now_us();
        for (int i = 0; i < n; i++) {
            drain_socket(S, &S->s[ev[i].data.u32], now);
        }
    }
}

static void add_count(struct sim_count *t, const struct sim_count *c)
{
    t->frames += c->frames;
    t->con += c->con;
    t->non += c->non;
    t->devinfo += c->devinfo;
    t->config += c->config;
    t->acked += c->acked;
    t->errors += c->errors;
    t->timeouts += c->timeouts;
    t->retrans += c->retrans;
    t->records += c->records;
    t->records_acked += c->records_acked;
    t->records_devinfo += c->records_devinfo;
    t->downlinks += c->downlinks;
    t->period_changes += c->period_changes;
    t->clock_syncs += c->clock_syncs;
    t->latency_us_sum += c->latency_us_sum;
    t->answered += c->answered;
    t->latency_us_max =
        c->latency_us_max > t->latency_us_max ? c->latency_us_max : t->latency_us_max;
}

static int report(const struct sim *S, uint64_t elapsed_us)
{
    struct sim_count t;
    double secs = (double)elapsed_us / 1e6;
    uint32_t applied = 0, unanswered = 0;
    FILE *f = NULL;

    memset(&t, 0, sizeof(t));
    for (uint32_t i = 0; i < S->o.sensors; i++) {
        add_count(&t, &S->s[i].c);
        applied += S->s[i].c.period_changes > 0 ? 1u : 0u;
        unanswered += S->s[i].is_waiting ? 1u : 0u;
    }
    printf("nbgate-sim sensors=%" PRIu32 " seconds=%.1f frames=%" PRIu64 " con=%" PRIu64
           " non=%" PRIu64 " devinfo=%" PRIu64 " config=%" PRIu64 " acked=%" PRIu64
           " errors=%" PRIu64 " timeouts=%" PRIu64 " retrans=%" PRIu64 " records=%" PRIu64
           " records_acked=%" PRIu64 " records_devinfo=%" PRIu64 " downlinks=%" PRIu64
           " period_changes=%" PRIu64 " sensors_applied=%" PRIu32 " clock_syncs=%" PRIu64
           " stray=%" PRIu64 " unanswered=%" PRIu32 " ack_ms_mean=%.1f ack_ms_max=%.1f"
           " frames_per_s=%.1f records_per_s=%.1f\n",
           S->o.sensors, secs, t.frames, t.con, t.non, t.devinfo, t.config, t.acked, t.errors,
           t.timeouts, t.retrans, t.records, t.records_acked, t.records_devinfo, t.downlinks,
           t.period_changes, applied, t.clock_syncs, S->stray, unanswered,
           t.answered > 0 ? (double)t.latency_us_sum / 1000.0 / (double)t.answered : 0.0,
           (double)t.latency_us_max / 1000.0, secs > 0 ? (double)t.frames / secs : 0.0,
           secs > 0 ? (double)(t.records + t.records_devinfo) / secs : 0.0);
    if (S->o.per_sensor == NULL) {
        return 0;
    }
    f = fopen(S->o.per_sensor, "w");
    if (f == NULL) {
        fprintf(stderr, "nbgate-sim: %s: %s\n", S->o.per_sensor, strerror(errno));
        return -EIO;
    }
    fprintf(f, "index,token,mix,frames,con,non,devinfo,config,acked,errors,timeouts,records,"
               "records_acked,downlinks,period_s,period_changes\n");
    for (uint32_t i = 0; i < S->o.sensors; i++) {
        const struct sim_sensor *s = &S->s[i];
        fprintf(f,
                "%" PRIu32 ",%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu32
                ",%" PRIu64 "\n",
                i, s->token, MIXES[s->mix].name, s->c.frames, s->c.con, s->c.non, s->c.devinfo,
                s->c.config, s->c.acked, s->c.errors, s->c.timeouts, s->c.records,
                s->c.records_acked, s->c.downlinks, s->period_s, s->c.period_changes);
    }
    return fclose(f) == 0 ? 0 : -EIO;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: nbgate-sim [options] HOST PORT\n"
        "  -n, --sensors N        simulated sensors (default 10)\n"
        "  -d, --duration S       seconds of sending (default 10)\n"
        "  -i, --interval-ms MS   time between a sensor's measurement frames (default 1000)\n"
        "  -s, --samples K        samples per channel per frame, 1..%u (default 5)\n"
        "  -p, --period S         initial measurement period base in seconds (default 60)\n"
        "  -c, --con PCT          share of measurement frames sent CON (default 30)\n"
        "  -a, --ack-interval S   a CON at least every S seconds of sensor time (default 1800)\n"
        "  -t, --token-prefix P   sensor i's cloud token is P<i> (default sim-)\n"
        "      --factory-paths    post to m, i, c instead of efento/m, efento/i, efento/c\n"
        "      --psm              a new source port after every sleep (NAT rebinding)\n"
        "      --per-sensor FILE  write per-sensor counts as CSV\n"
        "      --seed N           random seed (default: time)\n",
        SIM_MAX_SAMPLES);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "nbgate-sim: %s: needs a number in %" PRIu64 "..%" PRIu64 "\n", s, min,
                max);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

static int parse_opts(int argc, char **argv, struct sim_opts *o)
{
    static const struct option long_opts[] = {
        { "sensors", required_argument, NULL, 'n' },
        { "duration", required_argument, NULL, 'd' },
        { "interval-ms", required_argument, NULL, 'i' },
        { "samples", required_argument, NULL, 's' },
        { "period", required_argument, NULL, 'p' },
        { "con", required_argument, NULL, 'c' },
        { "token-prefix", required_argument, NULL, 't' },
        { "factory-paths", no_argument, NULL, 'F' },
        { "psm", no_argument, NULL, 'P' },
        { "per-sensor", required_argument, NULL, 'R' },
        { "seed", required_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { "ack-interval", required_argument, NULL, 'a' },
        { NULL, 0, NULL, 0 },
    };
    uint64_t v = 0;
    int opt, rc = 0;

    while (rc == 0 && (opt = getopt_long(argc, argv, "n:d:i:s:p:c:a:t:h", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'n':
            rc = parse_u64(optarg, 1, SIM_MAX_SENSORS, &v);
            o->sensors = (uint32_t)v;
            break;
        case 'd':
            rc = parse_u64(optarg, 1, 86400, &v);
            o->duration_us = v * 1000000u;
            break;
        case 'i':
            rc = parse_u64(optarg, 1, 86400000, &v);
            o->interval_us = v * 1000u;
            break;
        case 's':
            rc = parse_u64(optarg, 1, SIM_MAX_SAMPLES, &v);
            o->samples = (uint32_t)v;
            break;
        case 'p':
            rc = parse_u64(optarg, 1, 65535, &v);
            o->period_s = (uint32_t)v;
            break;
        case 'c':
            rc = parse_u64(optarg, 0, 100, &v);
            o->con_pct = (uint32_t)v;
            break;
        case 'a':
            rc = parse_u64(optarg, 180, UINT32_MAX, &v);
            o->ack_interval_s = (uint32_t)v;
            break;
        case 't':
            o->token_prefix = optarg;
            break;
        case 'F':
            o->path_prefix = "";
            break;
        case 'P':
            o->is_psm = true;
            break;
        case 'R':
            o->per_sensor = optarg;
            break;
        case 'S':
            rc = parse_u64(optarg, 1, UINT64_MAX, &o->seed);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            rc = -EINVAL;
            break;
        }
    }
    if (rc == 0 && argc - optind != 2) {
        rc = -EINVAL;
    }
    if (rc != 0) {
        usage(stderr);
        return rc;
    }
    o->host = argv[optind];
    o->port = argv[optind + 1];
    return 0;
}

int main(int argc, char **argv)
{
    struct sim S;
    uint64_t elapsed;
    int rc;

    memset(&S, 0, sizeof(S));
    S.epfd = -1;
    S.o.sensors = 10;
    S.o.duration_us = 10000000u;
    S.o.interval_us = 1000000u;
    S.o.samples = 5;
    S.o.period_s = 60;
    S.o.con_pct = 30;
    S.o.ack_interval_s = 1800;
    S.o.token_prefix = "sim-";
    S.o.path_prefix = "efento/";
    if (parse_opts(argc, argv, &S.o) != 0) {
        return SIM_EXIT_USAGE;
    }
    S.rng = S.o.seed != 0 ? S.o.seed : (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    (void)signal(SIGINT, on_signal);
    (void)signal(SIGTERM, on_signal);
    rc = setup(&S);
    if (rc == 0) {
        run(&S);
        elapsed = (S.is_running ? now_us() : S.end_us) - S.start_us;
        rc = report(&S, elapsed);
    }
    for (uint32_t i = 0; S.s != NULL && i < S.o.sensors; i++) {
        if (S.s[i].fd >= 0) {
            (void)close(S.s[i].fd);
        }
    }
    free(S.s);
    free(S.heap);
    if (S.epfd >= 0) {
        (void)close(S.epfd);
    }
    return rc == 0 ? 0 : 1;
}
