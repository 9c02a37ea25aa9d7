/* SPDX-License-Identifier: MIT */
/*
 * web_metrics.c - GET /metrics (specs/rest-api.md 9.2): Prometheus' text exposition format 0.0.4,
 * served without a token so that a scraper can read it. Every family is computed from the store
 * at scrape time (no state kept here) plus the admin API's own request counts:
 *
 *   nbgate_build_info{version}            gauge 1
 *   nbgate_start_time_seconds             gauge
 *   nbgate_devices{state}                 gauge, active / inactive (ThingsBoard's activity rule)
 *   nbgate_downlinks{kind,state}          gauge, the downlink queue as stored
 *   nbgate_pending_devices                gauge
 *   nbgate_ts_records                     gauge, time-series values stored
 *   nbgate_device_events{type}            gauge, entries of the device event logs
 *   nbgate_store_ping_seconds             gauge, one BEGIN IMMEDIATE / ROLLBACK round trip
 *   nbgate_store_scrape_seconds           gauge, the time the store queries of this scrape took
 *   nbgate_http_requests_total{status}    counter, admin API answers by status class (2xx ...)
 *   nbgate_coap_answers_total{code}       counter, device API answers by CoAP code (the loop's)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "web/web_internal.h"

static double mono_s(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A label value with Prometheus' escapes (backslash, quote, newline). */
static void label(struct web_buf *b, const char *v)
{
    for (; v != NULL && *v != '\0'; v++) {
        if (*v == '\\' || *v == '"') {
            web_buf_add(b, "\\", 1);
            web_buf_add(b, v, 1);
        } else if (*v == '\n') {
            web_buf_add(b, "\\n", 2);
        } else {
            web_buf_add(b, v, 1);
        }
    }
}

static void family(struct web_buf *b, const char *name, const char *type, const char *help)
{
    web_buf_add(b, "# HELP nbgate_", 14);
    web_buf_add(b, name, strlen(name));
    web_buf_add(b, " ", 1);
    web_buf_add(b, help, strlen(help));
    web_buf_add(b, "\n# TYPE nbgate_", 15);
    web_buf_add(b, name, strlen(name));
    web_buf_add(b, " ", 1);
    web_buf_add(b, type, strlen(type));
    web_buf_add(b, "\n", 1);
}

/* What the store walk writes into, one family at a time. */
struct scrape {
    struct web_buf *b;
    char last[32]; /* the family whose header was written */
};

static int store_value(void *arg, const char *fam, const char *a, const char *b, int64_t value)
{
    static const struct {
        const char *name, *help, *label_a, *label_b;
    } fams[] = {
        { "downlinks", "Downlink queue entries by kind and state.", "kind", "state" },
        { "pending_devices", "Unknown devices waiting for approval.", NULL, NULL },
        { "ts_records", "Time-series values stored.", NULL, NULL },
        { "device_events", "Entries of the device event logs by type.", "type", NULL },
    };
    struct scrape *s = arg;
    size_t i;

    for (i = 0; i < sizeof(fams) / sizeof(fams[0]) && strcmp(fams[i].name, fam) != 0; i++) {
    }
    if (i == sizeof(fams) / sizeof(fams[0])) {
        return 0;
    }
    if (strcmp(s->last, fam) != 0) {
        family(s->b, fam, "gauge", fams[i].help);
        (void)snprintf(s->last, sizeof(s->last), "%s", fam);
    }
    web_buf_addf(s->b, "nbgate_%s", fam);
    if (fams[i].label_a != NULL) {
        web_buf_addf(s->b, "{%s=\"", fams[i].label_a);
        label(s->b, a);
        web_buf_add(s->b, "\"", 1);
        if (fams[i].label_b != NULL) {
            web_buf_addf(s->b, ",%s=\"", fams[i].label_b);
            label(s->b, b);
            web_buf_add(s->b, "\"", 1);
        }
        web_buf_add(s->b, "}", 1);
    }
    web_buf_addf(s->b, " %lld\n", (long long)value);
    return s->b->is_oom ? -ENOMEM : 0;
}

/* Devices by activity: the totals of two filtered device listings. */
static int devices(struct web_req *rq, struct web_buf *b)
{
    struct gw_api_device_query q;
    int64_t n[2] = { 0, 0 };
    int i, rc = 0;

    for (i = 0; rc == 0 && i < 2; i++) {
        memset(&q, 0, sizeof(q));
        q.page_size = 1;
        q.page = INT32_MAX; /* past the end: only the count is read */
        q.active = i;
        q.now_ms = rq->now_ms;
        q.default_inactivity_ms = rq->srv->o.default_inactivity_timeout_s * 1000;
        rc = gw_store_api_device_page(rq->st, &q, &n[i], NULL, NULL);
    }
    family(b, "devices", "gauge", "Devices by activity (ThingsBoard's inactivity rule).");
    web_buf_addf(b, "nbgate_devices{state=\"active\"} %lld\n", (long long)n[1]);
    web_buf_addf(b, "nbgate_devices{state=\"inactive\"} %lld\n", (long long)n[0]);
    return rc;
}

static void http_counts(struct web_server *srv, struct web_buf *b)
{
    static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx" };
    size_t i;

    family(b, "http_requests_total", "counter", "Admin API answers by status class.");
    for (i = 0; i < 5; i++) {
        web_buf_addf(b, "nbgate_http_requests_total{status=\"%s\"} %llu\n", classes[i],
                     (unsigned long long)atomic_load(&srv->http_answers[i + 1]));
    }
}

void web_hnd_metrics(struct web_req *rq, struct web_resp *rs)
{
    struct web_buf b = { NULL, 0, 0, false };
    struct scrape s = { &b, "" };
    double t0, t1, t2;
    int rc;

    family(&b, "build_info", "gauge", "The running nbgate version.");
    web_buf_addf(&b, "nbgate_build_info{version=\"%s\"} 1\n", NBGATE_VERSION);
    family(&b, "start_time_seconds", "gauge", "Start time of the daemon, Unix seconds.");
    web_buf_addf(&b, "nbgate_start_time_seconds %lld\n", (long long)(rq->srv->start_ms / 1000));
    t0 = mono_s();
    rc = gw_store_admin_ping(rq->st);
    t1 = mono_s();
    rc = rc == 0 ? devices(rq, &b) : rc;
    rc = rc == 0 ? gw_store_api_metrics(rq->st, store_value, &s) : rc;
    t2 = mono_s();
    family(&b, "store_ping_seconds", "gauge", "One write-lock round trip of the store.");
    web_buf_addf(&b, "nbgate_store_ping_seconds %.6f\n", t1 - t0);
    family(&b, "store_scrape_seconds", "gauge", "Time the store queries of this scrape took.");
    web_buf_addf(&b, "nbgate_store_scrape_seconds %.6f\n", t2 - t1);
    http_counts(rq->srv, &b);
    if (rq->srv->o.loop_metrics != NULL) {
        char text[8192];
        size_t need = rq->srv->o.loop_metrics(rq->srv->o.loop_metrics_arg, text, sizeof(text));
        web_buf_add(&b, text, need < sizeof(text) ? need : sizeof(text) - 1);
    }
    if (rc != 0) {
        web_buf_fini(&b);
        web_reply_db_error(rs);
        return;
    }
    web_reply_buf(rs, &b);
    rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
