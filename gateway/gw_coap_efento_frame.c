/* SPDX-License-Identifier: MIT */
/*
 * gw_coap_efento_frame.c - what an Efento frame commits, and the downlink in the answer
 * (specs/efento.md R3-R5, 7.8, 7.10, section 8). gw_coap_efento.c has decoded and identified the
 * frame; this file turns it into one gw_store_efento_commit (records, attributes, counters,
 * events, queue states, held parts) and, for a CON measurement frame, the ProtoConfig answer.
 *
 * Downlink (8.2): current_time (8.3), device_info_request on first contact, configuration_request
 * on a changed configuration_hash (both at most once per requestRetryS), and the queued
 * EFENTO_CONFIG entries, merged oldest first (the newest value of a field wins) into one
 * ProtoConfig of at most GW_EFENTO_DOWNLINK_MAX bytes, so the retransmission cache can always
 * keep the exact answer; entries that do not fit wait, an entry that can never fit fails.
 *
 * Queue states move with the frames that prove them (diagram in gw_store_efento.c): an entry is
 * SENT when the answer carrying it goes out (its Message ID recorded). The ACK of a piggybacked
 * answer is not observable, so the sensor's next frame with a new Message ID is the proof of
 * delivery (DELIVERED; final for commands without a reply), unless that frame is a retried
 * measurement frame (the answer was lost: QUEUED again, a try counted). The configuration that
 * follows confirms settings (SUCCESSFUL, or FAILED with its configuration_errors or the first
 * value that differs); a device info frame confirms a deviceInfoRequest; a DELIVERED entry not
 * confirmed within confirmTimeoutS of its send times out (and is sent again, as TIMEOUT entries
 * of the other kinds are).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/gw_coap_efento.h"
#include "gateway/gw_efento.h"
#include "gateway/gw_log.h"

#define OPEN_DL_MAX    32
#define EVENTS_MAX     (EFENTO_ERROR_EVENTS_MAX + EFENTO_CHANNELS_MAX + 8)
#define CHANGES_MAX    (3 * OPEN_DL_MAX)
#define EVENT_BODY_MAX 512
#define DOWNLINK_CAP   GW_EFENTO_DOWNLINK_MAX

/* What the frame will commit, built up as the frame is handled. */
struct work {
    struct gw_efento_commit c;
    struct gw_efento_event events[EVENTS_MAX];
    char bodies[EVENTS_MAX][EVENT_BODY_MAX];
    struct gw_efento_dl_change changes[CHANGES_MAX];
    char responses[CHANGES_MAX][EVENT_BODY_MAX];
    struct profile_kv server[4];
    char serial[GW_EFENTO_SERIAL_MAX];
    const char *client_deleted[4];
    struct gw_efento_part part;
};

/* Makes a message safe inside a JSON string: quotes, backslashes and controls become '. */
static void json_escape_err(char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20) {
            *s = '\'';
        }
    }
}

/* ---- what a frame commits -------------------------------------------------------------------- */

static void work_init(struct work *w, const struct gw_efento_frame *f)
{
    memset(&w->c, 0, sizeof(w->c));
    w->c.device_id = f->dev.id;
    w->c.now_ms = f->r->now_ms;
    w->c.events = w->events;
    w->c.changes = w->changes;
    w->c.server = w->server;
    w->c.client_deleted = w->client_deleted;
    w->c.new_token = f->new_token[0] != '\0' ? f->new_token : NULL;
}

static void add_event(struct work *w, const char *type, bool is_once, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void add_event(struct work *w, const char *type, bool is_once, const char *fmt, ...)
{
    va_list ap;
    size_t i = w->c.n_events;

    if (i == EVENTS_MAX) {
        return;
    }
    va_start(ap, fmt);
    (void)vsnprintf(w->bodies[i], EVENT_BODY_MAX, fmt, ap);
    va_end(ap);
    w->events[i].type = type;
    w->events[i].body = w->bodies[i];
    w->events[i].is_once = is_once;
    w->c.n_events++;
}

static void add_change(struct work *w, int64_t id, enum gw_dl_state state, bool is_final,
                       int32_t mid, const char *response)
{
    size_t i = w->c.n_changes;

    if (i == CHANGES_MAX) {
        return;
    }
    w->changes[i].id = id;
    w->changes[i].state = state;
    w->changes[i].is_final = is_final;
    w->changes[i].mid = mid;
    w->changes[i].response = NULL;
    if (response != NULL) {
        (void)snprintf(w->responses[i], EVENT_BODY_MAX, "%s", response);
        w->changes[i].response = w->responses[i];
    }
    w->c.n_changes++;
}

static void add_server_long(struct work *w, const char *key, int64_t v)
{
    struct profile_kv *kv = &w->server[w->c.n_server++];

    memset(kv, 0, sizeof(*kv));
    kv->key = (char *)(uintptr_t)key;
    kv->v.type = PROFILE_VT_LONG;
    kv->v.l = v;
}

/* R2.8: the last serial seen, and an event when it changes under the same token. */
static void note_serial(struct work *w, const struct gw_efento_frame *f)
{
    struct profile_kv *kv;

    if (f->id.serial[0] == '\0' || strcmp(f->id.serial, f->dev.serial) == 0) {
        return;
    }
    if (f->dev.serial[0] != '\0') {
        add_event(w, "SERIAL_CHANGED", false, "{\"from\":\"%s\",\"to\":\"%s\"}", f->dev.serial,
                  f->id.serial);
    }
    (void)snprintf(w->serial, sizeof(w->serial), "%s", f->id.serial);
    kv = &w->server[w->c.n_server++];
    memset(kv, 0, sizeof(*kv));
    kv->key = (char *)(uintptr_t) "efentoSerial";
    kv->v.type = PROFILE_VT_STRING;
    kv->v.s = w->serial;
    kv->v.s_len = strlen(w->serial);
}

/* R4(h), 7.8: sensor error samples are counted and logged; unknown types logged once. */
static void note_errors(struct work *w, const struct gw_efento_frame *f)
{
    const struct efento_meas_info *m = &f->meas;
    size_t i;

    for (i = 0; i < EFENTO_CHANNELS_MAX && i < GW_EFENTO_CHANNELS; i++) {
        w->c.error_samples[i] = m->channel_error_samples[i];
    }
    for (i = 0; i < m->n_errors; i++) {
        const struct efento_sensor_error *e = &m->errors[i];
        add_event(w, "SENSOR_ERROR", false,
                  "{\"channel\":%u,\"type\":%d,\"code\":%u,\"hex\":\"0x%06X\",%s\"samples\":%u,"
                  "\"firstS\":%lld,\"lastS\":%lld}",
                  (unsigned)e->channel, (int)e->type, (unsigned)e->code, (unsigned)e->code,
                  e->code == 8388557 ? "\"name\":\"SHT4x failure\"," : "", (unsigned)e->samples,
                  (long long)e->first_s, (long long)e->last_s);
    }
    for (i = 0; i < m->n_unknown_types; i++) {
        add_event(w, "EFENTO_UNSUPPORTED_TYPE", true, "{\"type\":%d}", (int)m->unknown_types[i]);
    }
}

/*
 * The frame proves that the exchanges before it completed (8.5): SENT entries become DELIVERED
 * (final for commands without a reply), or QUEUED again when this is a retried measurement frame;
 * DELIVERED entries not confirmed within confirmTimeoutS time out. dls[].state follows.
 */
static void progress(struct work *w, const struct gw_efento_frame *f, struct gw_efento_dl *dls,
                     size_t n)
{
    bool is_retry = f->res == 'm' && EFENTO_RETRY_COUNT(f->meas.transfer_reason) != 0;
    int64_t timeout_ms = f->dev.profile.confirm_timeout_s * 1000;
    size_t i;

    for (i = 0; i < n; i++) {
        struct gw_efento_dl *d = &dls[i];
        if (d->state == GW_DL_DELIVERED && f->r->now_ms - d->sent_ms > timeout_ms) {
            add_change(w, d->id, GW_DL_TIMEOUT, false, 0,
                       "{\"error\":\"not confirmed by the sensor\"}");
            d->state = ++d->retries > GW_EFENTO_MAX_SENDS - 1 ? GW_DL_FAILED : GW_DL_TIMEOUT;
        } else if (d->state == GW_DL_SENT && d->sent_mid != (int32_t)f->mid) {
            if (is_retry) {
                add_change(w, d->id, GW_DL_QUEUED, false, 0,
                           "{\"error\":\"sent without being delivered\"}");
                d->state = ++d->retries > GW_EFENTO_MAX_SENDS - 1 ? GW_DL_FAILED : GW_DL_QUEUED;
            } else {
                bool is_final = gw_efento_settings_confirm(d->body) == GW_EFENTO_CONFIRM_NONE;
                add_change(w, d->id, GW_DL_DELIVERED, is_final, 0, NULL);
                d->state = is_final ? GW_DL_SUCCESSFUL : GW_DL_DELIVERED; /* SUCCESSFUL: done */
            }
        }
    }
}

static int commit_and_answer(struct gw_efento_frame *f, struct gw_answer *a, struct work *w,
                             uint8_t *payload, size_t payload_len)
{
    static const char *const what[] = { "measurements", "device info", "configuration" };
    bool is_dtls = coap_session_get_proto(f->r->session) == COAP_PROTO_DTLS;
    char *body;
    int rc;

    /* The frame in the device's event log (specs/rest-api.md 9.6), committed with it. */
    add_event(w, "UPLINK", false,
              "{\"resource\":\"efento/%c\",\"coapType\":\"%s\",\"messageId\":%u,"
              "\"remoteAddress\":\"%s\",\"secure\":%s,\"payloadSize\":%zu,\"responseCode\":%s,"
              "\"responsePayloadSize\":%zu,\"summary\":\"%s, %zu %s%s\"}",
              f->res, f->is_con ? "CON" : "NON", (unsigned)f->mid, f->peer,
              is_dtls ? "true" : "false", f->r->len, f->is_con ? "\"2.01\"" : "null", payload_len,
              what[f->res == 'm'   ? 0
                   : f->res == 'i' ? 1
                                   : 2],
              f->res == 'c' ? w->c.n_client : f->n_readings,
              f->res == 'c' ? "attributes" : "records",
              payload_len > 0 ? "; downlink in the answer" : "");
    rc = gw_store_efento_commit(f->r->c->store, &w->c);

    if (rc == -EAGAIN) {
        return rc; /* an entry of the answer was cancelled: the caller builds it again */
    }
    if (rc != 0) {
        gw_log_err("efento frame not stored peer=%s dev=%lld rc=%d", f->peer, (long long)f->dev.id,
                   rc);
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        return rc;
    }
    f->r->c->stats.stored++;
    if (!f->is_con) {
        gw_coap_answer(a, (coap_pdu_code_t)0, NULL); /* R3.2: no answer to a NON success */
        return 0;
    }
    gw_coap_answer(a, COAP_RESPONSE_CODE_CREATED, NULL);
    body = payload_len > 0 ? malloc(payload_len) : NULL;
    if (body != NULL) {
        memcpy(body, payload, payload_len);
        gw_coap_answer_body(a, COAP_RESPONSE_CODE_CREATED, -1, body, payload_len);
    }
    return 0;
}

/* ---- the downlink of a CON measurement frame (section 8) ------------------------------------ */

/* The automatic part of a downlink (8.2 items 1-3). */
struct auto_dl {
    uint32_t current_time; /* 0 = none */
    bool is_devinfo_request;
    bool is_config_request;
};

/* Builds auto + the bodies of dls[idx[0..n)] (+ extra) into a fresh downlink. */
static int build(const struct auto_dl *ad, const struct gw_efento_dl *dls, const size_t *idx,
                 size_t n, const struct gw_efento_dl *extra, struct efento_downlink **out,
                 char *err, size_t err_len)
{
    struct efento_downlink *dl = NULL;
    bool is_config = ad->is_config_request;
    size_t i;
    int rc = efento_downlink_new(&dl);

    for (i = 0; rc == 0 && i <= n; i++) {
        const struct gw_efento_dl *d = i < n ? &dls[idx[i]] : extra;
        if (d == NULL) {
            break;
        }
        rc = gw_efento_settings_apply(dl, d->body, strlen(d->body), err, err_len);
        is_config = is_config || gw_efento_settings_confirm(d->body) == GW_EFENTO_CONFIRM_CONFIG;
    }
    if (rc == 0 && ad->current_time != 0) {
        rc = efento_downlink_set_uint(dl, "currentTime", ad->current_time, err, err_len);
    }
    if (rc == 0 && ad->is_devinfo_request) {
        rc = efento_downlink_set_uint(dl, "deviceInfoRequest", 1, err, err_len);
    }
    if (rc == 0 && is_config) {
        rc = efento_downlink_set_uint(dl, "configurationRequest", 1, err, err_len);
    }
    if (rc != 0) {
        efento_downlink_free(dl);
        dl = NULL;
    }
    *out = dl;
    return rc;
}

static void auto_requests(struct work *w, const struct gw_efento_frame *f, struct auto_dl *ad)
{
    const struct gw_efento_device *dev = &f->dev;
    int64_t now_s = f->r->now_ms / 1000, drift = 0;
    int64_t gap_ms = dev->profile.request_retry_s * 1000;
    uint32_t hash = f->meas.configuration_hash;

    memset(ad, 0, sizeof(*ad));
    if (now_s >= GW_EFENTO_CLOCK_FLOOR_S &&
        gw_efento_clock_sync(&f->meas, now_s, dev->profile.clock_sync_threshold_s, &drift)) {
        ad->current_time = (uint32_t)now_s;
        /* Threshold 0 sends the time in every answer: that is no correction worth an event. */
        if (dev->profile.clock_sync_threshold_s != 0) {
            add_event(w, "CLOCK_SYNC", false, "{\"driftS\":%lld,\"currentTime\":%lld}",
                      (long long)drift, (long long)now_s);
        }
    }
    if (!dev->has_device_info && f->r->now_ms - dev->devinfo_request_ms >= gap_ms) {
        ad->is_devinfo_request = true;
        add_server_long(w, "efentoDeviceInfoRequestTs", f->r->now_ms);
    }
    if (hash != 0 && (!dev->has_config_hash || dev->config_hash != hash) &&
        f->r->now_ms - dev->config_request_ms >= gap_ms) {
        ad->is_config_request = true;
        add_server_long(w, "efentoConfigurationRequestTs", f->r->now_ms);
    }
    if (ad->is_devinfo_request || ad->is_config_request) {
        add_event(w, "EFENTO_REQUEST", false,
                  "{\"deviceInfoRequest\":%s,\"configurationRequest\":%s,\"configurationHash\":%u}",
                  ad->is_devinfo_request ? "true" : "false",
                  ad->is_config_request ? "true" : "false", (unsigned)hash);
    }
}

/*
 * Merges what is due into payload (at most efento_max_downlink_bytes, never above DOWNLINK_CAP);
 * entries carried become SENT.
 */
static size_t build_downlink(struct work *w, const struct gw_efento_frame *f,
                             struct gw_efento_dl *dls, size_t n, uint8_t *payload)
{
    struct efento_downlink *dl = NULL;
    struct auto_dl ad;
    size_t idx[OPEN_DL_MAX] = { 0 }, n_idx = 0, len = 0, i;
    size_t cap = (size_t)f->r->c->cfg->efento_max_downlink_bytes;
    char err[160], resp[EVENT_BODY_MAX];

    auto_requests(w, f, &ad);
    for (i = 0; i < n; i++) {
        if (dls[i].state != GW_DL_QUEUED && dls[i].state != GW_DL_TIMEOUT) {
            continue;
        }
        if (build(&ad, dls, idx, n_idx, &dls[i], &dl, err, sizeof(err)) != 0) {
            json_escape_err(err);
            (void)snprintf(resp, sizeof(resp), "{\"error\":\"%s\"}", err);
            add_change(w, dls[i].id, GW_DL_FAILED, false, 0, resp);
            continue;
        }
        if (efento_downlink_size(dl) <= cap) {
            idx[n_idx++] = i;
        } else if (n_idx == 0) {
            (void)snprintf(resp, sizeof(resp),
                           "{\"error\":\"larger than a downlink (%zu > %d"
                           " bytes)\"}",
                           efento_downlink_size(dl), (int)cap);
            add_change(w, dls[i].id, GW_DL_FAILED, false, 0, resp);
        }
        efento_downlink_free(dl);
        dl = NULL;
    }
    if (build(&ad, dls, idx, n_idx, NULL, &dl, err, sizeof(err)) == 0 &&
        !efento_downlink_is_empty(dl) && efento_downlink_encode(dl, payload, cap, &len) != 0) {
        len = 0;
    }
    efento_downlink_free(dl);
    for (i = 0; i < n_idx && len > 0; i++) {
        add_change(w, dls[idx[i]].id, GW_DL_SENT, false, (int32_t)f->mid, NULL);
    }
    return len;
}

/* ---- the three frame kinds ------------------------------------------------------------------- */

/* The device's unfinished configuration entries (none read when the lookup counted none). */
static int open_entries(const struct gw_efento_frame *f, struct gw_efento_dl *dls, size_t *n)
{
    *n = 0;
    if (f->dev.n_open_dl == 0) {
        return 0;
    }
    return gw_store_efento_dl_open(f->r->c->store, f->dev.id, f->r->now_ms, dls, OPEN_DL_MAX, n);
}

/* One try at a measurement frame; -EAGAIN when an entry the answer carried was cancelled. */
static int meas_try(struct gw_efento_frame *f, struct gw_answer *a, struct work *w)
{
    struct gw_efento_dl dls[OPEN_DL_MAX];
    uint8_t payload[DOWNLINK_CAP];
    size_t n_dl = 0, len = 0, i;
    int rc;

    if (open_entries(f, dls, &n_dl) != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        return -EIO;
    }
    work_init(w, f);
    for (i = 0; i < f->n_readings; i++) {
        gw_efento_reading_kv(&f->readings[i], &f->kv[i]);
    }
    w->c.telemetry = f->kv;
    w->c.n_telemetry = f->n_readings;
    note_serial(w, f);
    note_errors(w, f);
    progress(w, f, dls, n_dl);
    if (f->is_con) {
        len = build_downlink(w, f, dls, n_dl, payload);
    }
    rc = commit_and_answer(f, a, w, payload, len);
    gw_store_efento_dl_fini(dls, n_dl);
    return rc;
}

void gw_coap_efento_meas(struct gw_efento_frame *f, struct gw_answer *a)
{
    struct work *w = malloc(sizeof(*w));
    int tries = 0, rc;

    if (w == NULL) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        return;
    }
    do { /* the admin thread may cancel an entry between reading and committing it */
        rc = meas_try(f, a, w);
    } while (rc == -EAGAIN && ++tries < 3);
    if (rc == -EAGAIN) {
        gw_log_err("efento frame not stored peer=%s dev=%lld: queue kept changing", f->peer,
                   (long long)f->dev.id);
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
    }
    free(w);
}

/* Server time for device-info records, unique per device (R3.5: a re-sent frame adds a record). */
static int64_t data_stamp(struct gw_coap *c, int64_t device_id, int64_t now_ms)
{
    struct gw_sched_dev *d = gw_sched_get(c->sched, device_id, true);

    if (d == NULL) {
        return now_ms;
    }
    if (now_ms <= d->last_data_ts_ms) {
        now_ms = d->last_data_ts_ms + 1;
    }
    d->last_data_ts_ms = now_ms;
    return now_ms;
}

void gw_coap_efento_devinfo(struct gw_efento_frame *f, struct gw_answer *a)
{
    struct gw_efento_dl dls[OPEN_DL_MAX];
    struct work *w = malloc(sizeof(*w));
    int64_t stamp = data_stamp(f->r->c, f->dev.id, f->r->now_ms);
    size_t n_dl = 0, i;

    if (w == NULL || open_entries(f, dls, &n_dl) != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        free(w);
        return;
    }
    work_init(w, f);
    for (i = 0; i < f->n_readings; i++) {
        f->readings[i].ts_ms = stamp;
        gw_efento_reading_kv(&f->readings[i], &f->kv[i]);
    }
    w->c.telemetry = f->kv;
    w->c.n_telemetry = f->n_readings;
    note_serial(w, f);
    progress(w, f, dls, n_dl);
    for (i = 0; i < n_dl; i++) {
        if ((dls[i].state == GW_DL_SENT || dls[i].state == GW_DL_DELIVERED) &&
            gw_efento_settings_confirm(dls[i].body) == GW_EFENTO_CONFIRM_DEVICE_INFO) {
            add_change(w, dls[i].id, GW_DL_SUCCESSFUL, false, 0, NULL);
        }
    }
    (void)commit_and_answer(f, a, w, NULL, 0);
    gw_store_efento_dl_fini(dls, n_dl);
    free(w);
}

static const char *split_reason(enum efento_split_discard d)
{
    switch (d) {
    case EFENTO_SPLIT_EXPIRED:
        return "expired";
    case EFENTO_SPLIT_RESTARTED:
        return "restarted";
    case EFENTO_SPLIT_TOO_BIG:
        return "too big";
    case EFENTO_SPLIT_INCONSISTENT:
        return "inconsistent";
    case EFENTO_SPLIT_KEPT:
        break;
    }
    return "kept";
}

/*
 * Split reassembly (7.10): replays the held parts, accounts for this one, and fills parts[] with
 * the complete configuration in index order (*n_parts 0 when it is not complete yet).
 */
static uint32_t part_index(int32_t split_info)
{
    return split_info < 0 ? (uint32_t)(-(int64_t)split_info) : (uint32_t)split_info;
}

/* Fills parts[] with parts 1..n in index order: held ones, this frame as part `index`. */
static int collect_parts(const struct gw_efento_frame *f, const struct gw_efento_part *held,
                         size_t n_held, uint32_t index, struct efento_part *parts, size_t *n_parts)
{
    uint32_t n = index, k;
    size_t i;

    for (i = 0; i < n_held; i++) {
        n = part_index(held[i].split_info) > n ? part_index(held[i].split_info) : n;
    }
    for (k = 1; k <= n && k <= EFENTO_SPLIT_PARTS_MAX; k++) {
        parts[k - 1].data = NULL;
        for (i = 0; i < n_held; i++) {
            if (part_index(held[i].split_info) == k) {
                parts[k - 1].data = held[i].data;
                parts[k - 1].len = held[i].len;
            }
        }
        if (k == index) {
            parts[k - 1].data = f->r->data;
            parts[k - 1].len = f->r->len;
        }
        if (parts[k - 1].data == NULL) {
            return -EBADMSG;
        }
    }
    *n_parts = n;
    return n <= EFENTO_SPLIT_PARTS_MAX ? 0 : -EBADMSG;
}

/*
 * Split reassembly (7.10): replays the held parts, accounts for this one, and fills parts[] with
 * the complete configuration in index order (*n_parts 0 when it is not complete yet). A held set
 * that no longer replays cleanly (it expired meanwhile) is dropped as a whole.
 */
static int reassemble(struct work *w, struct gw_efento_frame *f, struct gw_efento_part *held,
                      size_t n_held, struct efento_part *parts, size_t *n_parts)
{
    enum efento_split_discard why = EFENTO_SPLIT_KEPT;
    struct efento_split sp;
    struct efento_split_step step;
    struct efento_opts o;
    int64_t now_s = f->r->now_ms / 1000;
    size_t i;

    *n_parts = 0;
    gw_coap_efento_opts(f->r->c->cfg, &o);
    efento_split_init(&sp);
    efento_split_limit(&sp, &o, f->r->c->cfg->efento_split_ttl_s);
    for (i = 0; i < n_held && why == EFENTO_SPLIT_KEPT; i++) {
        (void)efento_split_add(&sp, held[i].split_info, held[i].len, held[i].rx_s, &step);
        why = step.discard;
    }
    if (why == EFENTO_SPLIT_KEPT) {
        (void)efento_split_add(&sp, f->cfg.payload_split_info, f->r->len, now_s, &step);
        why = step.discard;
    } else {
        efento_split_init(&sp);
        efento_split_limit(&sp, &o, f->r->c->cfg->efento_split_ttl_s);
        (void)efento_split_add(&sp, f->cfg.payload_split_info, f->r->len, now_s, &step);
    }
    if (why != EFENTO_SPLIT_KEPT) {
        w->c.is_parts_dropped = true;
        add_event(w, "CONFIG_DISCARDED", false, "{\"reason\":\"%s\",\"parts\":%zu}",
                  split_reason(why), n_held);
        n_held = 0;
    }
    if (step.is_whole) {
        parts[0].data = f->r->data;
        parts[0].len = f->r->len;
        *n_parts = 1;
    } else if (step.is_store && !step.is_complete) {
        w->part.split_info = f->cfg.payload_split_info;
        w->part.rx_s = now_s;
        w->part.data = (uint8_t *)(uintptr_t)f->r->data;
        w->part.len = f->r->len;
        w->c.part_add = &w->part;
    } else if (step.is_complete) {
        w->c.is_parts_dropped = true;
        return collect_parts(f, held, n_held, step.index, parts, n_parts);
    }
    return 0;
}

/* Confirms the entries waiting for a configuration (8.5): SUCCESSFUL or FAILED. */
static void confirm_config(struct work *w, const struct efento_config_info *ci,
                           const struct gw_efento_dl *dls, size_t n,
                           const struct efento_attr *attrs, size_t n_attrs)
{
    char why[200], resp[EVENT_BODY_MAX];
    size_t i, k, at;

    for (i = 0; i < n; i++) {
        if ((dls[i].state != GW_DL_SENT && dls[i].state != GW_DL_DELIVERED) ||
            gw_efento_settings_confirm(dls[i].body) != GW_EFENTO_CONFIRM_CONFIG) {
            continue;
        }
        if (ci->n_configuration_errors > 0) {
            at = (size_t)snprintf(resp, sizeof(resp), "{\"configurationErrors\":[");
            for (k = 0; k < ci->n_configuration_errors && at < sizeof(resp) - 16; k++) {
                at += (size_t)snprintf(resp + at, sizeof(resp) - at, "%s%u", k > 0 ? "," : "",
                                       (unsigned)ci->configuration_errors[k]);
            }
            (void)snprintf(resp + at, sizeof(resp) - at, "]}");
            add_change(w, dls[i].id, GW_DL_FAILED, false, 0, resp);
        } else if (gw_efento_settings_match(dls[i].body, attrs, n_attrs, why, sizeof(why))) {
            add_change(w, dls[i].id, GW_DL_SUCCESSFUL, false, 0, NULL);
        } else {
            json_escape_err(why);
            (void)snprintf(resp, sizeof(resp), "{\"error\":\"%s\"}", why);
            add_change(w, dls[i].id, GW_DL_FAILED, false, 0, resp);
        }
    }
}

/* Publishes a complete configuration as client attributes (R4(g)). Returns: 0, -EBADMSG, ... */
static int publish_config(struct work *w, struct gw_efento_frame *f,
                          const struct efento_part *parts, size_t n_parts,
                          const struct gw_efento_dl *dls, size_t n_dl)
{
    static const char *const optional[] = { "bleAdvertisingPeriod", "networkSearch",
                                            "calibrationParametersRequest" };
    struct efento_config_info ci;
    struct efento_opts o;
    char err[160];
    size_t n_attrs = 0, i, k;
    int rc;

    gw_coap_efento_opts(f->r->c->cfg, &o);
    rc = efento_config_attrs(parts, n_parts, &o, f->attrs, EFENTO_CONFIG_ATTRS_MAX, &n_attrs,
                             f->text, EFENTO_CONFIG_TEXT_MAX, err, sizeof(err));
    rc = rc != 0 ? rc : efento_config_parse(parts, n_parts, &o, &ci, err, sizeof(err));
    if (rc != 0) {
        gw_log_notice("efento configuration not published peer=%s dev=%lld parts=%zu err=\"%s\"",
                      f->peer, (long long)f->dev.id, n_parts, err);
        return rc;
    }
    for (i = 0; i < n_attrs; i++) {
        gw_efento_attr_kv(&f->attrs[i], &f->kv[i]);
    }
    w->c.client = f->kv;
    w->c.n_client = n_attrs;
    for (k = 0; k < sizeof(optional) / sizeof(optional[0]); k++) {
        for (i = 0; i < n_attrs && strcmp(f->attrs[i].key, optional[k]) != 0; i++) {
        }
        if (i == n_attrs) {
            w->client_deleted[w->c.n_client_deleted++] = optional[k];
        }
    }
    confirm_config(w, &ci, dls, n_dl, f->attrs, n_attrs);
    return 0;
}

void gw_coap_efento_config(struct gw_efento_frame *f, struct gw_answer *a)
{
    struct gw_efento_dl dls[OPEN_DL_MAX];
    struct gw_efento_part held[GW_EFENTO_PARTS_MAX];
    struct efento_part parts[EFENTO_SPLIT_PARTS_MAX];
    struct work *w = malloc(sizeof(*w));
    size_t n_dl = 0, n_held = 0, n_parts = 0;
    int rc = w != NULL ? 0 : -ENOMEM;

    rc = rc != 0 ? rc : open_entries(f, dls, &n_dl);
    rc = rc != 0 ? rc : gw_store_efento_parts(f->r->c->store, f->dev.id, held, &n_held);
    if (rc != 0) {
        gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        goto out;
    }
    work_init(w, f);
    note_serial(w, f);
    progress(w, f, dls, n_dl);
    rc = reassemble(w, f, held, n_held, parts, &n_parts);
    if (rc == 0 && n_parts > 0) {
        rc = publish_config(w, f, parts, n_parts, dls, n_dl);
    }
    if (rc != 0) {
        /* The held set cannot make a configuration: drop it, and refuse the part. */
        w->c.is_parts_dropped = true;
        w->c.part_add = NULL;
        w->c.n_client = 0;
        w->c.n_client_deleted = 0;
        add_event(w, "CONFIG_DISCARDED", false, "{\"reason\":\"unusable\",\"parts\":%zu}", n_parts);
        if (gw_store_efento_commit(f->r->c->store, &w->c) != 0) {
            gw_coap_answer(a, COAP_RESPONSE_CODE_INTERNAL_ERROR, NULL);
        } else {
            gw_coap_answer(a, COAP_RESPONSE_CODE_BAD_REQUEST, NULL);
        }
        goto out;
    }
    (void)commit_and_answer(f, a, w, NULL, 0);
out:
    gw_store_efento_parts_fini(held, n_held);
    gw_store_efento_dl_fini(dls, n_dl);
    free(w);
}
