/* SPDX-License-Identifier: MIT */
/*
 * nbgate-load.c - CoAP load generator: many simulated devices sending confirmable requests.
 *
 * Each simulated device owns one connected UDP socket (its own source port, so its own session
 * at the server) and keeps --window confirmable requests outstanding. The load is a closed loop:
 * an answer or a timeout frees a slot and the device sends its next request at once. Used by
 * tests/bench/run.sh and by crash tests (--log-acked); docs/BENCH.md explains the output.
 *
 * Requests are encoded by hand (RFC 7252 section 3):
 *   byte 0: Ver=1 (2 bits) | Type=CON (2 bits) | TKL (4 bits)   byte 1: code (0.01 .. 0.03)
 *   bytes 2-3: message id (network order), then TKL token bytes, then the options in order:
 *   Uri-Path (11), one per non-empty '/'-separated path segment; Content-Format (12) = 50
 *   (application/json) when there is a payload; Uri-Query (15), one per '&'-separated part after
 *   a '?' in the path; then 0xFF and the payload.
 * Answers are matched by message id + token (piggybacked, in an ACK) or by token alone (a
 * separate response, which gets an empty ACK when it is CON). Datagrams are read into a buffer of
 * LOAD_DGRAM_CAP bytes; anything malformed or unmatched is only counted.
 *
 * Retransmission follows RFC 7252 section 4.8: the first timeout is ACK_TIMEOUT (2 s) times a
 * random factor in [1, ACK_RANDOM_FACTOR = 1.5], doubled at each of MAX_RETRANSMIT (4)
 * retransmissions; when the last one times out the request counts as a timeout. After an empty
 * ACK the device waits up to MAX_TRANSMIT_WAIT (93 s) for the separate response.
 *
 * Invariants: one epoll set covers every socket; every outstanding request sits in one indexed
 * min-heap ordered by its next deadline (slot.seq != 0 <=> slot is in the heap). Latency is the
 * time from the first transmission to the answer, kept in a log-scale histogram with 16
 * sub-buckets per power of two (about 6 % resolution; the reported figure is the bucket's upper
 * bound, never above the exact maximum).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOAD_ACK_TIMEOUT_MS      2000u
#define LOAD_MAX_RETRANSMIT      4u
#define LOAD_SEPARATE_WAIT_US    93000000u /* MAX_TRANSMIT_WAIT: separate response after empty ACK */
#define LOAD_DGRAM_CAP           1500u     /* bytes; longest datagram sent or accepted */
#define LOAD_PAYLOAD_CAP         1024u     /* bytes of one expanded payload */
#define LOAD_PATH_CAP            512u      /* bytes of one expanded path */
#define LOAD_OPTS_CAP            640u      /* bytes of one device's encoded options */
#define LOAD_TOKEN_STR_CAP       128u      /* bytes of one expanded --tokens value */
#define LOAD_SEGMENT_CAP         255u      /* bytes of one Uri-Path option (RFC 7252 5.10) */
#define LOAD_MAX_DEVICES         50000u    /* sockets; also limited by RLIMIT_NOFILE */
#define LOAD_MAX_WINDOW          64u
#define LOAD_EVENTS_CAP          1024
#define LOAD_FLUSH_US            50000u /* --log-acked flush period */
#define LOAD_MAX_WAIT_MS         100    /* longest epoll sleep */
#define LOAD_HIST_SUB_BITS       4u
#define LOAD_HIST_SUB            (1u << LOAD_HIST_SUB_BITS)
#define LOAD_HIST_BUCKETS        (64u * LOAD_HIST_SUB)
#define LOAD_NONE                UINT32_MAX
#define LOAD_CODE_TIMEOUT        (-1)
#define LOAD_CODE_RST            (-2)
#define LOAD_CON                 0u
#define LOAD_ACK                 2u
#define LOAD_RST                 3u
#define LOAD_CONTENT_FORMAT_JSON 50u
#define LOAD_EXIT_USAGE          2

static volatile sig_atomic_t stop_requested;

enum load_phase { LOAD_PHASE_RUN, LOAD_PHASE_DRAIN, LOAD_PHASE_DONE };

struct load_opts {
    const char *host;
    const char *port;
    const char *path_tpl;    /* %t device token, %d device index */
    const char *token_tpl;   /* %d device index */
    const char *payload_tpl; /* %s sequence number, %t, %d; "" = no payload */
    const char *log_path;    /* --log-acked, NULL = none */
    uint8_t method;          /* CoAP code 0.01 GET, 0.02 POST, 0.03 PUT */
    uint32_t devices;
    uint32_t window;      /* outstanding requests per device */
    uint64_t duration_us; /* 0 = until --requests are done */
    uint64_t requests;    /* 0 = until --duration ends */
    uint64_t drain_us;    /* wait for answers after --duration */
    uint64_t give_up_us;  /* stop after this long without any datagram; 0 = never */
    uint32_t ack_timeout_ms;
    uint32_t token_bytes; /* CoAP token length, 1..8 */
    bool is_quiet;
};

struct load_stats {
    uint64_t sent;     /* first transmissions */
    uint64_t retrans;  /* retransmissions */
    uint64_t ok;       /* 2.xx answers */
    uint64_t c4;       /* 4.xx answers */
    uint64_t c5;       /* 5.xx answers */
    uint64_t other;    /* answers of another class */
    uint64_t rst;      /* requests rejected with RST */
    uint64_t timeouts; /* no answer after MAX_RETRANSMIT */
    uint64_t separate; /* empty ACKs (separate responses announced) */
    uint64_t late;     /* datagrams matching no outstanding request */
    uint64_t bad;      /* malformed datagrams or token mismatches */
    uint64_t send_err; /* send(2) failures (retried by the timer) */
    uint64_t recv_err; /* recv(2) errors, e.g. ICMP port unreachable */
    uint64_t answered; /* answers during the run phase (for req/s) */
    uint64_t max_us;   /* exact maximum latency */
    uint64_t n_lat;    /* latencies recorded */
    uint64_t hist[LOAD_HIST_BUCKETS];
};

struct load_device {
    char *token;       /* expanded --tokens value */
    uint8_t *opts;     /* encoded options (Uri-Path..., Content-Format) */
    uint16_t opts_len; /* bytes */
    uint16_t next_mid; /* next message id */
    int fd;            /* connected UDP socket, -1 = none */
};

struct load_slot {
    uint64_t seq;         /* global sequence number, 0 = free */
    uint64_t first_us;    /* first transmission, monotonic microseconds */
    uint64_t deadline_us; /* next retransmission or give-up, monotonic microseconds */
    uint64_t timeout_us;  /* current retransmission timeout */
    uint32_t heap_idx;    /* position in the timer heap, LOAD_NONE when free */
    uint32_t device;      /* owning device index */
    uint16_t mid;         /* message id */
    uint8_t retrans;      /* retransmissions so far */
    bool is_acked;        /* empty ACK seen: waiting for a separate response */
    uint8_t token[8];
};

struct load {
    struct load_opts o;
    struct load_device *dev;
    struct load_slot *slot; /* devices * window; device d owns [d * window, d * window + window) */
    uint32_t *heap;         /* slot indices, min-heap by deadline */
    uint32_t heap_len;
    uint64_t seq;         /* last sequence number issued = requests issued */
    uint64_t outstanding; /* requests in flight */
    uint64_t rng;         /* xorshift64* state */
    uint64_t token_key;   /* mixed into tokens so runs differ */
    int epfd;
    FILE *log;
    bool is_log_dirty;
    enum load_phase phase;
    uint64_t start_us, run_end_us, drain_end_us, last_rx_us, next_flush_us, next_progress_us;
    uint64_t progress_answered; /* answers at the last progress line */
    struct load_stats st;
    uint8_t tx[LOAD_DGRAM_CAP];
    uint8_t rx[LOAD_DGRAM_CAP + 1];
};

static uint64_t now_us(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t rng_next(struct load *L)
{
    L->rng ^= L->rng >> 12;
    L->rng ^= L->rng << 25;
    L->rng ^= L->rng >> 27;
    return L->rng * 2685821657736338717ull;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* ---- latency histogram ------------------------------------------------------------------- */

static unsigned hist_index(uint64_t v)
{
    if (v < LOAD_HIST_SUB) {
        return (unsigned)v;
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= LOAD_HIST_SUB_BITS */
    unsigned sub = (unsigned)(v >> (e - LOAD_HIST_SUB_BITS)) & (LOAD_HIST_SUB - 1u);
    return (e - LOAD_HIST_SUB_BITS + 1u) * LOAD_HIST_SUB + sub;
}

static uint64_t hist_upper(unsigned idx)
{
    if (idx < LOAD_HIST_SUB) {
        return idx;
    }
    unsigned e = idx / LOAD_HIST_SUB + LOAD_HIST_SUB_BITS - 1u;
    uint64_t sub = idx % LOAD_HIST_SUB;
    return ((LOAD_HIST_SUB + sub + 1u) << (e - LOAD_HIST_SUB_BITS)) - 1u;
}

/* Returns: the latency in microseconds at fraction q (0..1] of the recorded answers, 0 if none. */
static uint64_t hist_quantile(const struct load_stats *st, double q)
{
    if (st->n_lat == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)ceil(q * (double)st->n_lat);
    uint64_t seen = 0;
    for (unsigned i = 0; i < LOAD_HIST_BUCKETS; i++) {
        seen += st->hist[i];
        if (seen >= rank && seen > 0) {
            uint64_t up = hist_upper(i);
            return up < st->max_us ? up : st->max_us;
        }
    }
    return st->max_us;
}

/* ---- templates and encoding -------------------------------------------------------------- */

/*
 * Expands tpl into out: %d device index, %t device token, %s sequence number, %% a percent.
 * Returns: 0 with *len_out set, -EINVAL for an unknown conversion, -ERANGE if out is too small.
 */
static int expand(const char *tpl, char *out, size_t cap, uint32_t dev, const char *tok,
                  uint64_t seq, size_t *len_out)
{
    size_t n = 0;
    int rc = 0;
    for (const char *p = tpl; *p != '\0' && rc == 0; p++) {
        int w;
        if (*p != '%') {
            w = (n + 1 < cap) ? 1 : -1;
            if (w > 0) {
                out[n] = *p;
            }
        } else if (p[1] == 'd') {
            w = snprintf(out + n, cap - n, "%" PRIu32, dev);
        } else if (p[1] == 't') {
            w = snprintf(out + n, cap - n, "%s", tok);
        } else if (p[1] == 's') {
            w = snprintf(out + n, cap - n, "%" PRIu64, seq);
        } else if (p[1] == '%') {
            w = snprintf(out + n, cap - n, "%%");
        } else {
            rc = -EINVAL;
            break;
        }
        if (*p == '%') {
            p++;
        }
        if (w < 0 || (size_t)w >= cap - n) {
            rc = -ERANGE;
            break;
        }
        n += (size_t)w;
    }
    if (rc == 0) {
        out[n] = '\0';
        *len_out = n;
    }
    return rc;
}

/* Returns: the 4-bit nibble for an option delta or length v, with its extended bytes. */
static uint8_t opt_nibble(size_t v, uint8_t ext[2], size_t *n_ext)
{
    if (v < 13) {
        *n_ext = 0;
        return (uint8_t)v;
    }
    if (v < 269) {
        ext[0] = (uint8_t)(v - 13);
        *n_ext = 1;
        return 13;
    }
    ext[0] = (uint8_t)((v - 269) >> 8);
    ext[1] = (uint8_t)(v - 269);
    *n_ext = 2;
    return 14;
}

/* Appends option num (options come in ascending order). Returns: 0 or -ERANGE. */
static int put_option(uint8_t *out, size_t cap, size_t *pos, unsigned *last, unsigned num,
                      const void *val, size_t len)
{
    uint8_t ed[2], el[2];
    size_t n_ed, n_el;
    uint8_t nd = opt_nibble(num - *last, ed, &n_ed);
    uint8_t nl = opt_nibble(len, el, &n_el);
    if (*pos + 1 + n_ed + n_el + len > cap) {
        return -ERANGE;
    }
    out[(*pos)++] = (uint8_t)(nd << 4 | nl);
    memcpy(out + *pos, ed, n_ed);
    *pos += n_ed;
    memcpy(out + *pos, el, n_el);
    *pos += n_el;
    memcpy(out + *pos, val, len);
    *pos += len;
    *last = num;
    return 0;
}

/* Appends one option per non-empty sep-separated part of s[0..n). Returns: 0 or -ERANGE. */
static int put_parts(uint8_t *out, size_t cap, size_t *pos, unsigned *last, unsigned num,
                     const char *s, size_t n, char sep)
{
    int rc = 0;
    size_t i = 0;
    while (i < n && rc == 0) {
        size_t len = 0;
        while (i + len < n && s[i + len] != sep) {
            len++;
        }
        if (len > LOAD_SEGMENT_CAP) {
            rc = -ERANGE;
        } else if (len > 0) {
            rc = put_option(out, cap, pos, last, num, s + i, len);
        }
        i += len + 1;
    }
    return rc;
}

/*
 * Encodes "seg/seg...[?query&query...]" as Uri-Path (11) options, Content-Format (12) when there
 * is a payload, then Uri-Query (15) options. Empty parts are skipped. Returns: 0 or -ERANGE.
 */
static int encode_options(const char *path, bool has_payload, uint8_t *out, size_t cap,
                          size_t *len_out)
{
    size_t pos = 0;
    unsigned last = 0;
    const char *q = strchr(path, '?');
    size_t n_path = q != NULL ? (size_t)(q - path) : strlen(path);
    int rc = put_parts(out, cap, &pos, &last, 11, path, n_path, '/');
    if (rc == 0 && has_payload) {
        uint8_t cf = LOAD_CONTENT_FORMAT_JSON;
        rc = put_option(out, cap, &pos, &last, 12, &cf, 1);
    }
    if (rc == 0 && q != NULL) {
        rc = put_parts(out, cap, &pos, &last, 15, q + 1, strlen(q + 1), '&');
    }
    *len_out = pos;
    return rc;
}

/* Writes the request of slot s into L->tx. Returns: its length, 0 if it does not fit. */
static size_t build_request(struct load *L, const struct load_slot *s)
{
    const struct load_device *d = &L->dev[s->device];
    unsigned tkl = L->o.token_bytes;
    size_t n = 4 + tkl + d->opts_len;
    L->tx[0] = (uint8_t)(0x40u | (LOAD_CON << 4) | tkl);
    L->tx[1] = L->o.method;
    L->tx[2] = (uint8_t)(s->mid >> 8);
    L->tx[3] = (uint8_t)s->mid;
    memcpy(L->tx + 4, s->token, tkl);
    memcpy(L->tx + 4 + tkl, d->opts, d->opts_len);
    if (L->o.payload_tpl[0] != '\0') {
        size_t plen = 0;
        L->tx[n++] = 0xFF;
        if (expand(L->o.payload_tpl, (char *)L->tx + n, sizeof(L->tx) - n, s->device, d->token,
                   s->seq, &plen) != 0) {
            return 0;
        }
        n += plen;
    }
    return n;
}

/* ---- timer heap -------------------------------------------------------------------------- */

static bool heap_less(const struct load *L, uint32_t a, uint32_t b)
{
    return L->slot[L->heap[a]].deadline_us < L->slot[L->heap[b]].deadline_us;
}

static void heap_swap(struct load *L, uint32_t a, uint32_t b)
{
    uint32_t t = L->heap[a];
    L->heap[a] = L->heap[b];
    L->heap[b] = t;
    L->slot[L->heap[a]].heap_idx = a;
    L->slot[L->heap[b]].heap_idx = b;
}

static void heap_fix(struct load *L, uint32_t i)
{
    while (i > 0 && heap_less(L, i, (i - 1) / 2)) {
        heap_swap(L, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < L->heap_len && heap_less(L, l, m)) {
            m = l;
        }
        if (r < L->heap_len && heap_less(L, r, m)) {
            m = r;
        }
        if (m == i) {
            break;
        }
        heap_swap(L, i, m);
        i = m;
    }
}

static void heap_push(struct load *L, uint32_t s)
{
    uint32_t i = L->heap_len++;
    L->heap[i] = s;
    L->slot[s].heap_idx = i;
    heap_fix(L, i);
}

static void heap_remove(struct load *L, uint32_t s)
{
    uint32_t i = L->slot[s].heap_idx;
    uint32_t last = --L->heap_len;
    if (i != last) {
        L->heap[i] = L->heap[last];
        L->slot[L->heap[i]].heap_idx = i;
        heap_fix(L, i);
    }
    L->slot[s].heap_idx = LOAD_NONE;
}

/* ---- request life cycle ------------------------------------------------------------------ */

static void transmit(struct load *L, const struct load_slot *s)
{
    size_t n = build_request(L, s);
    if (n == 0 || send(L->dev[s->device].fd, L->tx, n, 0) < 0) {
        L->st.send_err++;
    }
}

static bool may_issue(const struct load *L)
{
    return L->phase == LOAD_PHASE_RUN && stop_requested == 0 &&
           (L->o.requests == 0 || L->seq < L->o.requests);
}

/* Starts a new request in the free slot s. */
static void issue(struct load *L, uint32_t s, uint64_t now)
{
    struct load_slot *sl = &L->slot[s];
    uint64_t spread_us = (uint64_t)L->o.ack_timeout_ms * 500u; /* ACK_RANDOM_FACTOR - 1 = 0.5 */
    uint64_t tok = (++L->seq) ^ L->token_key;
    sl->seq = L->seq;
    sl->mid = L->dev[sl->device].next_mid++;
    for (unsigned i = 0; i < L->o.token_bytes; i++) {
        sl->token[i] = (uint8_t)(tok >> (8 * i));
    }
    sl->first_us = now;
    sl->retrans = 0;
    sl->is_acked = false;
    sl->timeout_us = (uint64_t)L->o.ack_timeout_ms * 1000u + rng_next(L) % (spread_us + 1u);
    sl->deadline_us = now + sl->timeout_us;
    heap_push(L, s);
    L->outstanding++;
    L->st.sent++;
    transmit(L, sl);
}

static void record_answer(struct load *L, const struct load_slot *sl, unsigned code, uint64_t now)
{
    uint64_t lat = now - sl->first_us;
    unsigned cls = code >> 5;
    if (cls == 2) {
        L->st.ok++;
    } else if (cls == 4) {
        L->st.c4++;
    } else if (cls == 5) {
        L->st.c5++;
    } else {
        L->st.other++;
    }
    L->st.hist[hist_index(lat)]++;
    L->st.n_lat++;
    if (lat > L->st.max_us) {
        L->st.max_us = lat;
    }
    if (L->phase == LOAD_PHASE_RUN) {
        L->st.answered++;
    }
    if (L->log != NULL) {
        (void)fprintf(L->log, "%" PRIu64 " %u.%02u\n", sl->seq, cls, code & 31u);
        L->is_log_dirty = true;
    }
}

/* Ends the request in slot s with an answer code or LOAD_CODE_*, then reuses the slot. */
static void complete(struct load *L, uint32_t s, int code, uint64_t now)
{
    struct load_slot *sl = &L->slot[s];
    heap_remove(L, s);
    if (code == LOAD_CODE_TIMEOUT) {
        L->st.timeouts++;
    } else if (code == LOAD_CODE_RST) {
        L->st.rst++;
    } else {
        record_answer(L, sl, (unsigned)code, now);
    }
    sl->seq = 0;
    L->outstanding--;
    if (may_issue(L)) {
        issue(L, s, now);
    }
}

static void on_deadline(struct load *L, uint32_t s, uint64_t now)
{
    struct load_slot *sl = &L->slot[s];
    if (sl->is_acked || sl->retrans >= LOAD_MAX_RETRANSMIT) {
        complete(L, s, LOAD_CODE_TIMEOUT, now);
        return;
    }
    sl->retrans++;
    sl->timeout_us *= 2;
    sl->deadline_us = now + sl->timeout_us;
    heap_fix(L, sl->heap_idx);
    L->st.retrans++;
    transmit(L, sl);
}

static void fire_deadlines(struct load *L, uint64_t now)
{
    while (L->heap_len > 0 && L->slot[L->heap[0]].deadline_us <= now) {
        on_deadline(L, L->heap[0], now);
    }
}

/* ---- receiving --------------------------------------------------------------------------- */

static uint32_t find_slot(const struct load *L, uint32_t d, bool by_mid, uint16_t mid,
                          const uint8_t *tok, unsigned tkl)
{
    for (uint32_t s = d * L->o.window; s < (d + 1) * L->o.window; s++) {
        const struct load_slot *sl = &L->slot[s];
        if (sl->seq == 0) {
            continue;
        }
        if (by_mid ? sl->mid == mid
                   : (tkl == L->o.token_bytes && memcmp(sl->token, tok, tkl) == 0)) {
            return s;
        }
    }
    return LOAD_NONE;
}

static void send_empty_ack(struct load *L, uint32_t d, uint16_t mid)
{
    uint8_t ack[4] = { (uint8_t)(0x40u | LOAD_ACK << 4), 0, (uint8_t)(mid >> 8), (uint8_t)mid };
    if (send(L->dev[d].fd, ack, sizeof(ack), 0) < 0) {
        L->st.send_err++;
    }
}

/* Handles an ACK or RST: piggybacked answer, empty ACK, or reset. */
static void on_ack(struct load *L, uint32_t d, const uint8_t *b, size_t len, uint64_t now)
{
    unsigned type = (b[0] >> 4) & 3u, tkl = b[0] & 15u;
    uint16_t mid = (uint16_t)(b[2] << 8 | b[3]);
    uint32_t s = find_slot(L, d, true, mid, NULL, 0);
    if (s == LOAD_NONE) {
        L->st.late++;
    } else if (type == LOAD_RST) {
        complete(L, s, LOAD_CODE_RST, now);
    } else if (b[1] == 0) {
        if (!L->slot[s].is_acked) {
            L->slot[s].is_acked = true;
            L->slot[s].deadline_us = now + LOAD_SEPARATE_WAIT_US;
            heap_fix(L, L->slot[s].heap_idx);
            L->st.separate++;
        }
    } else if (len < 4 + tkl || tkl != L->o.token_bytes ||
               memcmp(L->slot[s].token, b + 4, tkl) != 0) {
        L->st.bad++;
    } else {
        complete(L, s, b[1], now);
    }
}

static void on_datagram(struct load *L, uint32_t d, const uint8_t *b, size_t len, uint64_t now)
{
    if (len < 4 || len > LOAD_DGRAM_CAP || (b[0] >> 6) != 1 || (b[0] & 15u) > 8 ||
        len < 4u + (b[0] & 15u)) {
        L->st.bad++;
        return;
    }
    unsigned type = (b[0] >> 4) & 3u, tkl = b[0] & 15u;
    if (type == LOAD_ACK || type == LOAD_RST) {
        on_ack(L, d, b, len, now);
        return;
    }
    if ((b[1] >> 5) < 2) { /* a request or a ping: not for a load generator */
        L->st.bad++;
        return;
    }
    if (type == LOAD_CON) {
        send_empty_ack(L, d, (uint16_t)(b[2] << 8 | b[3]));
    }
    uint32_t s = find_slot(L, d, false, 0, b + 4, tkl);
    if (s == LOAD_NONE) {
        L->st.late++;
    } else {
        complete(L, s, b[1], now);
    }
}

/* Reads one datagram (level-triggered epoll reports the socket again if more are queued). */
static void on_readable(struct load *L, uint32_t d)
{
    ssize_t n = recv(L->dev[d].fd, L->rx, sizeof(L->rx), 0);
    uint64_t now = now_us();
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            L->st.recv_err++; /* e.g. ECONNREFUSED: the server is gone; the timers go on */
        }
        return;
    }
    L->last_rx_us = now;
    on_datagram(L, d, L->rx, (size_t)n, now);
}

/* ---- run control ------------------------------------------------------------------------- */

static void finish(struct load *L, uint64_t now)
{
    if (L->phase == LOAD_PHASE_RUN) {
        L->run_end_us = now;
    }
    L->phase = LOAD_PHASE_DONE;
}

static void update_phase(struct load *L, uint64_t now)
{
    const struct load_opts *o = &L->o;
    if (stop_requested != 0) {
        finish(L, now);
    } else if (o->give_up_us > 0 && L->outstanding > 0 && now - L->last_rx_us >= o->give_up_us) {
        (void)fprintf(stderr, "nbgate-load: no datagram for %.1f s, giving up\n",
                      (double)o->give_up_us / 1e6);
        finish(L, now);
    } else if (L->phase == LOAD_PHASE_RUN && o->duration_us > 0 &&
               now >= L->start_us + o->duration_us) {
        L->run_end_us = L->start_us + o->duration_us;
        L->drain_end_us = now + o->drain_us;
        L->phase = LOAD_PHASE_DRAIN;
    } else if (L->phase == LOAD_PHASE_RUN && o->requests > 0 && L->seq >= o->requests &&
               L->outstanding == 0) {
        finish(L, now);
    }
    if (L->phase == LOAD_PHASE_DRAIN && (L->outstanding == 0 || now >= L->drain_end_us)) {
        finish(L, now);
    }
}

static void flush_log(struct load *L, uint64_t now, bool is_forced)
{
    if (L->log != NULL && L->is_log_dirty && (is_forced || now >= L->next_flush_us)) {
        (void)fflush(L->log);
        L->is_log_dirty = false;
        L->next_flush_us = now + LOAD_FLUSH_US;
    }
}

static void progress(struct load *L, uint64_t now)
{
    if (L->o.is_quiet || now < L->next_progress_us) {
        return;
    }
    uint64_t answered = L->st.ok + L->st.c4 + L->st.c5 + L->st.other;
    (void)fprintf(stderr,
                  "t=%.0fs sent=%" PRIu64 " answered=%" PRIu64 " last_s=%" PRIu64
                  " outstanding=%" PRIu64 " retrans=%" PRIu64 " timeouts=%" PRIu64 "\n",
                  (double)(now - L->start_us) / 1e6, L->st.sent, answered,
                  answered - L->progress_answered, L->outstanding, L->st.retrans, L->st.timeouts);
    L->progress_answered = answered;
    L->next_progress_us += 1000000u;
}

static int wait_ms(const struct load *L, uint64_t now)
{
    uint64_t until = now + (uint64_t)LOAD_MAX_WAIT_MS * 1000u;
    if (L->heap_len > 0 && L->slot[L->heap[0]].deadline_us < until) {
        until = L->slot[L->heap[0]].deadline_us;
    }
    if (L->phase == LOAD_PHASE_RUN && L->o.duration_us > 0 &&
        L->start_us + L->o.duration_us < until) {
        until = L->start_us + L->o.duration_us;
    }
    if (L->is_log_dirty && L->next_flush_us < until) {
        until = L->next_flush_us;
    }
    return until <= now ? 0 : (int)((until - now + 999u) / 1000u);
}

static void run(struct load *L)
{
    struct epoll_event ev[LOAD_EVENTS_CAP];
    uint64_t now = now_us();
    L->start_us = L->last_rx_us = L->next_progress_us = now;
    L->next_progress_us += 1000000u;
    for (uint32_t s = 0; s < L->o.devices * L->o.window && may_issue(L); s++) {
        issue(L, s, now_us());
    }
    while (L->phase != LOAD_PHASE_DONE) {
        now = now_us();
        fire_deadlines(L, now);
        update_phase(L, now);
        flush_log(L, now, false);
        progress(L, now);
        if (L->phase == LOAD_PHASE_DONE) {
            break;
        }
        int n = epoll_wait(L->epfd, ev, LOAD_EVENTS_CAP, wait_ms(L, now));
        if (n < 0 && errno != EINTR) {
            perror("nbgate-load: epoll_wait");
            finish(L, now_us());
        }
        for (int i = 0; i < n; i++) {
            on_readable(L, ev[i].data.u32);
        }
    }
    flush_log(L, now_us(), true);
}

static void report(const struct load *L)
{
    const struct load_stats *st = &L->st;
    double secs = (double)(L->run_end_us - L->start_us) / 1e6;
    double rps = secs > 0 ? (double)st->answered / secs : 0.0;
    uint64_t err = st->c4 + st->c5 + st->other;
    uint64_t p50 = hist_quantile(st, 0.50), p90 = hist_quantile(st, 0.90);
    uint64_t p99 = hist_quantile(st, 0.99);
    if (!L->o.is_quiet) {
        (void)fprintf(stderr,
                      "nbgate-load: %" PRIu32 " devices, window %" PRIu32 ", %.2f s\n"
                      "  requests  sent %" PRIu64 ", retransmissions %" PRIu64 ", timeouts %" PRIu64
                      ", reset %" PRIu64 ", unanswered at exit %" PRIu64
                      "\n  answers   2.xx %" PRIu64 ", 4.xx %" PRIu64 ", 5.xx %" PRIu64
                      ", other %" PRIu64 " (separate %" PRIu64 ", late %" PRIu64
                      ", malformed %" PRIu64 ")\n  rate      %.1f answers/s\n"
                      "  latency   p50 %" PRIu64 " us, p90 %" PRIu64 " us, p99 %" PRIu64
                      " us, max %" PRIu64 " us\n",
                      L->o.devices, L->o.window, secs, st->sent, st->retrans, st->timeouts, st->rst,
                      L->outstanding, st->ok, st->c4, st->c5, st->other, st->separate, st->late,
                      st->bad, rps, p50, p90, p99, st->max_us);
    }
    (void)printf("RESULT devices=%" PRIu32 " window=%" PRIu32 " seconds=%.3f sent=%" PRIu64
                 " ok=%" PRIu64 " err=%" PRIu64 " c4=%" PRIu64 " c5=%" PRIu64 " rst=%" PRIu64
                 " timeouts=%" PRIu64 " retrans=%" PRIu64 " pending=%" PRIu64 " late=%" PRIu64
                 " bad=%" PRIu64 " send_err=%" PRIu64 " recv_err=%" PRIu64
                 " rps=%.1f p50_us=%" PRIu64 " p90_us=%" PRIu64 " p99_us=%" PRIu64
                 " max_us=%" PRIu64 "\n",
                 L->o.devices, L->o.window, secs, st->sent, st->ok, err, st->c4, st->c5, st->rst,
                 st->timeouts, st->retrans, L->outstanding, st->late, st->bad, st->send_err,
                 st->recv_err, rps, p50, p90, p99, st->max_us);
    (void)fflush(stdout);
}

/* ---- setup ------------------------------------------------------------------------------- */

/* Raises RLIMIT_NOFILE to its hard limit. Returns: 0, or -EMFILE if need descriptors won't fit. */
static int raise_nofile(uint64_t need)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return -errno;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return -errno;
    }
    return (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) ? -EMFILE : 0;
}

/* Expands the device's token and path and encodes its options. Returns: 0 or negative errno. */
static int setup_device_text(struct load *L, uint32_t d)
{
    struct load_device *dev = &L->dev[d];
    char tok[LOAD_TOKEN_STR_CAP], path[LOAD_PATH_CAP];
    uint8_t opts[LOAD_OPTS_CAP];
    size_t n = 0, plen = 0;
    bool has_payload = L->o.payload_tpl[0] != '\0';
    int rc = expand(L->o.token_tpl, tok, sizeof(tok), d, "", 0, &n);
    if (rc == 0) {
        rc = expand(L->o.path_tpl, path, sizeof(path), d, tok, 0, &n);
    }
    if (rc == 0) {
        rc = encode_options(path, has_payload, opts, sizeof(opts), &n);
    }
    if (rc == 0 && has_payload) { /* the longest payload must fit in a datagram */
        char pay[LOAD_PAYLOAD_CAP];
        rc = expand(L->o.payload_tpl, pay, sizeof(pay), d, tok, UINT64_MAX, &plen);
    }
    if (rc == 0 && 4u + 8u + n + 1u + plen > LOAD_DGRAM_CAP) {
        rc = -ERANGE;
    }
    if (rc == 0) {
        dev->token = strdup(tok);
        dev->opts = malloc(n > 0 ? n : 1);
        rc = (dev->token == NULL || dev->opts == NULL) ? -ENOMEM : 0;
    }
    if (rc == 0) {
        memcpy(dev->opts, opts, n);
        dev->opts_len = (uint16_t)n;
    }
    return rc;
}

static int setup_socket(struct load *L, uint32_t d, const struct addrinfo *ai)
{
    struct epoll_event ev = { .events = EPOLLIN };
    int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return -errno;
    }
    L->dev[d].fd = fd;
    ev.data.u32 = d;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 ||
        epoll_ctl(L->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return -errno;
    }
    L->dev[d].next_mid = (uint16_t)rng_next(L);
    return 0;
}

static int setup(struct load *L)
{
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai = NULL;
    uint64_t n_slots = (uint64_t)L->o.devices * L->o.window;
    int rc = raise_nofile((uint64_t)L->o.devices + 16u);
    if (rc != 0) {
        (void)fprintf(stderr, "nbgate-load: RLIMIT_NOFILE too low for %" PRIu32 " devices\n",
                      L->o.devices);
        goto out;
    }
    int gai = getaddrinfo(L->o.host, L->o.port, &hints, &ai);
    if (gai != 0) {
        (void)fprintf(stderr, "nbgate-load: %s:%s: %s\n", L->o.host, L->o.port, gai_strerror(gai));
        rc = -EINVAL;
        goto out;
    }
    L->dev = calloc(L->o.devices, sizeof(*L->dev));
    L->slot = calloc(n_slots, sizeof(*L->slot));
    L->heap = calloc(n_slots, sizeof(*L->heap));
    L->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (L->dev == NULL || L->slot == NULL || L->heap == NULL || L->epfd < 0) {
        rc = -ENOMEM;
        goto out;
    }
    for (uint32_t d = 0; d < L->o.devices; d++) {
        L->dev[d].fd = -1;
    }
    for (uint64_t s = 0; s < n_slots; s++) {
        L->slot[s].device = (uint32_t)(s / L->o.window);
        L->slot[s].heap_idx = LOAD_NONE;
    }
    for (uint32_t d = 0; d < L->o.devices && rc == 0; d++) {
        rc = setup_device_text(L, d);
        if (rc != 0) {
            (void)fprintf(stderr,
                          "nbgate-load: device %" PRIu32 ": bad --tokens, --path or "
                          "--payload (unknown %% conversion or too long)\n",
                          d);
            rc = LOAD_EXIT_USAGE;
            goto out;
        }
        rc = setup_socket(L, d, ai);
        if (rc != 0) {
            (void)fprintf(stderr, "nbgate-load: socket for device %" PRIu32 ": %s\n", d,
                          strerror(-rc));
        }
    }
out:
    if (ai != NULL) {
        freeaddrinfo(ai);
    }
    return rc;
}

static void teardown(struct load *L)
{
    for (uint32_t d = 0; L->dev != NULL && d < L->o.devices; d++) {
        if (L->dev[d].fd >= 0) {
            (void)close(L->dev[d].fd);
        }
        free(L->dev[d].token);
        free(L->dev[d].opts);
    }
    if (L->epfd >= 0) {
        (void)close(L->epfd);
    }
    if (L->log != NULL) {
        (void)fclose(L->log);
    }
    free(L->dev);
    free(L->slot);
    free(L->heap);
}

/* ---- command line ------------------------------------------------------------------------ */

enum opt_kind { OPT_STR, OPT_U32, OPT_U64, OPT_SECONDS, OPT_METHOD, OPT_FLAG };

struct opt_def {
    const char *name;
    enum opt_kind kind;
    size_t offset;     /* into struct load_opts */
    uint64_t min, max; /* numbers; microseconds for OPT_SECONDS */
    const char *help;
};

#define OF(field) offsetof(struct load_opts, field)

static const struct opt_def opt_defs[] = {
    { "host", OPT_STR, OF(host), 0, 0, "ADDR       server address (127.0.0.1)" },
    { "port", OPT_STR, OF(port), 0, 0, "N          server UDP port (5683)" },
    { "method", OPT_METHOD, OF(method), 0, 0, "M          get, post or put (post)" },
    { "path", OPT_STR, OF(path_tpl), 0, 0,
      "TPL        Uri-Path; %t device token, %d index (api/v1/%t/telemetry)" },
    { "tokens", OPT_STR, OF(token_tpl), 0, 0, "TPL        device token; %d index (bench-%d)" },
    { "payload", OPT_STR, OF(payload_tpl), 0, 0,
      "TPL        %s unique sequence number, %t, %d; '' none\n"
      "                           (post/put: {\"temperature\":25,\"seq\":%s}, get: none)" },
    { "devices", OPT_U32, OF(devices), 1, LOAD_MAX_DEVICES,
      "N          devices, a socket each (1)" },
    { "window", OPT_U32, OF(window), 1, LOAD_MAX_WINDOW,
      "W          requests in flight/device (1)" },
    { "duration", OPT_SECONDS, OF(duration_us), 1000, 10000000000000u,
      "S          seconds to send (10 unless --requests)" },
    { "requests", OPT_U64, OF(requests), 1, UINT64_MAX / 2,
      "N          total requests; with --duration, whichever ends first" },
    { "drain", OPT_SECONDS, OF(drain_us), 0, 10000000000000u,
      "S          wait for answers after --duration (2)" },
    { "give-up", OPT_SECONDS, OF(give_up_us), 0, 10000000000000u,
      "S          stop after S seconds without a datagram, 0 never (30)" },
    { "ack-timeout", OPT_U32, OF(ack_timeout_ms), 1, 60000,
      "MS         first retransmission timeout (2000, RFC 7252)" },
    { "token-bytes", OPT_U32, OF(token_bytes), 1, 8, "N          CoAP token length 1..8 (4)" },
    { "log-acked", OPT_STR, OF(log_path), 0, 0,
      "FILE       '<seq> <code>' per answered request, flushed every 50 ms" },
    { "quiet", OPT_FLAG, OF(is_quiet), 0, 0, "           print only the RESULT line" },
};

#define OPT_COUNT (sizeof(opt_defs) / sizeof(opt_defs[0]))

static void usage(FILE *f)
{
    (void)fprintf(f, "usage: nbgate-load [options]\n");
    for (size_t i = 0; i < OPT_COUNT; i++) {
        (void)fprintf(f, "  --%-11s %s\n", opt_defs[i].name, opt_defs[i].help);
    }
    (void)fprintf(f, "Prints a human summary on stderr and one RESULT line on stdout.\n");
}

/* Parses an unsigned number in [min, max]. Returns: true on success. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
        return false;
    }
    *out = v;
    return true;
}

/* Parses seconds (fractions allowed) into microseconds in [min, max]. Returns: true on success. */
static bool parse_seconds(const char *s, uint64_t min, uint64_t max, uint64_t *out_us)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end) * 1e6;
    if (errno != 0 || end == s || *end != '\0' || !(v >= (double)min) || v > (double)max) {
        return false;
    }
    *out_us = (uint64_t)llround(v);
    return true;
}

/* Stores one option's value through its table row. Returns: true if the value is valid. */
static bool parse_one(struct load_opts *o, const struct opt_def *def, const char *arg)
{
    static const char *const methods[] = { "get", "post", "put" };
    void *field = (char *)o + def->offset;
    uint64_t v = 0;
    bool ok = false;
    switch (def->kind) {
    case OPT_STR:
        *(const char **)field = arg;
        ok = true;
        break;
    case OPT_U32:
        ok = parse_u64(arg, def->min, def->max, &v);
        *(uint32_t *)field = (uint32_t)v;
        break;
    case OPT_U64:
        ok = parse_u64(arg, def->min, def->max, (uint64_t *)field);
        break;
    case OPT_SECONDS:
        ok = parse_seconds(arg, def->min, def->max, (uint64_t *)field);
        break;
    case OPT_METHOD:
        for (uint8_t i = 0; i < 3 && !ok; i++) {
            ok = strcmp(arg, methods[i]) == 0;
            *(uint8_t *)field = (uint8_t)(i + 1);
        }
        break;
    case OPT_FLAG:
        *(bool *)field = true;
        ok = true;
        break;
    }
    return ok;
}

/* Returns: 0, or LOAD_EXIT_USAGE after printing why. */
static int parse_args(struct load_opts *o, int argc, char **argv)
{
    struct option longopts[OPT_COUNT + 2] = { { "help", no_argument, NULL, 'h' } };
    int c, rc = 0;
    for (size_t i = 0; i < OPT_COUNT; i++) {
        longopts[i + 1] =
            (struct option){ opt_defs[i].name,
                             opt_defs[i].kind == OPT_FLAG ? no_argument : required_argument, NULL,
                             256 + (int)i };
    }
    *o = (struct load_opts){ .host = "127.0.0.1",
                             .port = "5683",
                             .method = 2,
                             .path_tpl = "api/v1/%t/telemetry",
                             .token_tpl = "bench-%d",
                             .devices = 1,
                             .window = 1,
                             .duration_us = UINT64_MAX,
                             .drain_us = 2000000u,
                             .give_up_us = 30000000u,
                             .ack_timeout_ms = LOAD_ACK_TIMEOUT_MS,
                             .token_bytes = 4 };
    while (rc == 0 && (c = getopt_long(argc, argv, "hq", longopts, NULL)) != -1) {
        if (c == 'h') {
            usage(stdout);
            exit(0);
        }
        const struct opt_def *def = c == 'q'   ? &opt_defs[OPT_COUNT - 1]
                                    : c >= 256 ? &opt_defs[c - 256]
                                               : NULL;
        if (def == NULL || !parse_one(o, def, optarg)) {
            if (def != NULL) {
                (void)fprintf(stderr, "nbgate-load: bad value for --%s: %s\n", def->name, optarg);
            }
            rc = LOAD_EXIT_USAGE;
        }
    }
    if (rc == 0 && optind != argc) {
        (void)fprintf(stderr, "nbgate-load: unexpected argument %s\n", argv[optind]);
        rc = LOAD_EXIT_USAGE;
    }
    if (o->duration_us == UINT64_MAX) {
        o->duration_us = o->requests > 0 ? 0 : 10000000u;
    }
    if (o->payload_tpl == NULL) {
        o->payload_tpl = o->method == 1 ? "" : "{\"temperature\":25,\"seq\":%s}";
    }
    if (rc != 0) {
        (void)fprintf(stderr, "nbgate-load: try --help\n");
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct load *L = calloc(1, sizeof(*L));
    struct sigaction sa = { .sa_handler = on_signal };
    int rc = 0;
    if (L == NULL) {
        rc = 1;
        goto out;
    }
    L->epfd = -1;
    rc = parse_args(&L->o, argc, argv);
    if (rc != 0) {
        goto out;
    }
    L->rng = (now_us() << 20) ^ (uint64_t)(uint32_t)getpid() ^ 0x9E3779B97F4A7C15ull;
    L->token_key = rng_next(L);
    if (L->o.log_path != NULL) {
        L->log = fopen(L->o.log_path, "w");
        if (L->log == NULL) {
            (void)fprintf(stderr, "nbgate-load: %s: %s\n", L->o.log_path, strerror(errno));
            rc = LOAD_EXIT_USAGE;
            goto out;
        }
    }
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)sigaction(SIGTERM, &sa, NULL);
    rc = setup(L);
    if (rc != 0) {
        rc = rc == LOAD_EXIT_USAGE ? LOAD_EXIT_USAGE : 1;
        goto out;
    }
    run(L);
    report(L);
out:
    if (L != NULL) {
        teardown(L);
    }
    free(L);
    return rc;
}
