/* SPDX-License-Identifier: MIT */
/*
 * web_rpc.c - server-side RPC over the admin API (specs/rest-api.md section 7): one-way and
 * two-way, lightweight or persistent, under /api/rpc (ThingsBoard's v2 paths) and
 * /api/plugins/rpc (v1: other failure codes), and the persistent RPC records.
 *
 * Every RPC becomes a downlink row (gw_store_api_rpc_queue) and the loop is woken through its
 * eventfd; the loop sends it in the device's reachability window and moves its state. A
 * persistent RPC answers {"rpcId"} at once. A lightweight one keeps the HTTP request open: the
 * handler polls the row every RPC_POLL_MS until the outcome is known or the RPC's lifetime ends
 * (capped at RPC_MAX_WAIT_MS), then answers as ThingsBoard does:
 *
 *   one-way DELIVERED -> 200 empty        two-way SUCCESSFUL -> 200 with the device's answer
 *   lifetime over, sent (SENT, TIMEOUT, DELIVERED)      -> 504 (v1: 408)
 *   lifetime over, never sent (still QUEUED)            -> 504 (v1: 409)
 *
 * A lightweight RPC is stored with is_persistent = 0 (not listed) and no retries. While it waits,
 * the handler holds one of the WEB_THREADS workers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/gw_log.h"
#include "profiles/profile_model.h"
#include "web/web_internal.h"

#define RPC_DEFAULT_TIMEOUT_MS 10000  /* DEFAULT_SERVER_SIDE_RPC_TIMEOUT */
#define RPC_MIN_TIMEOUT_MS     5000   /* MIN_SERVER_SIDE_RPC_TIMEOUT */
#define RPC_MAX_RETRIES        5      /* ACTORS_RPC_MAX_RETRIES */
#define RPC_MAX_WAIT_MS        300000 /* longest a lightweight RPC keeps its request open */
#define RPC_POLL_MS            50
#define DEFAULT_MAX_QUEUED     100

static int64_t wall_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Refuses RPC to Efento devices and checks params against a Protobuf profile's schema. */
static int check_profile(struct web_req *rq, struct web_resp *rs, int64_t profile_id,
                         const struct web_rpc_body *b)
{
    struct profile_config cfg;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char err[256];
    int rc = gw_store_profile_load(rq->st, profile_id, &cfg, NULL, err, sizeof(err));

    if (rc != 0) {
        gw_log_warn("admin rpc: device profile unusable profile=%lld rc=%d err=\"%s\"",
                    (long long)profile_id, rc, rc == -EINVAL ? err : "");
        return 0; /* the loop refuses to send it and marks it FAILED */
    }
    if (cfg.device_type == PROFILE_DEVICE_EFENTO) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "RPC is not supported for Efento devices; use the Efento configuration queue");
        rc = -EINVAL;
    } else if (cfg.payload_type == PROFILE_PAYLOAD_PROTOBUF &&
               cfg.proto[PROFILE_SCHEMA_RPC_REQUEST] != NULL) {
        rc = profile_proto_encode_rpc_request(cfg.proto[PROFILE_SCHEMA_RPC_REQUEST], b->method, 0,
                                              b->params, b->params != NULL ? strlen(b->params) : 0,
                                              &bytes, &len, err, sizeof(err));
        if (rc == -EBADMSG) {
            web_error(rs, 400, WEB_E_BAD_PARAMS, "%s: %s",
                      profile_schema_member(PROFILE_SCHEMA_RPC_REQUEST), err);
            rc = -EINVAL;
        } else if (rc != 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        free(bytes);
    }
    profile_config_fini(&cfg);
    return rc;
}

/* Fills the row to queue from the body; the lifetime rules of specs/rest-api.md 7.1. */
static void rpc_in(struct web_req *rq, const struct web_rpc_body *b, int64_t device_id,
                   bool is_oneway, char *uuid, struct gw_api_rpc_in *in)
{
    int64_t timeout = b->has_timeout ? b->timeout_ms : RPC_DEFAULT_TIMEOUT_MS;
    size_t i;

    memset(in, 0, sizeof(*in));
    in->device_id = device_id;
    if (b->request_uuid != NULL) {
        for (i = 0; i < GW_STORE_UUID_LEN - 1; i++) {
            uuid[i] = (char)(b->request_uuid[i] >= 'A' && b->request_uuid[i] <= 'F'
                                 ? b->request_uuid[i] - 'A' + 'a'
                                 : b->request_uuid[i]);
        }
        uuid[GW_STORE_UUID_LEN - 1] = '\0';
        in->uuid = uuid;
    }
    in->method = b->method;
    in->params_json = b->params;
    in->is_oneway = is_oneway;
    in->is_persistent = b->is_persistent;
    in->max_retries = 0;
    if (b->is_persistent) {
        in->max_retries = b->has_retries && b->retries >= 0 && b->retries < RPC_MAX_RETRIES
                              ? b->retries
                              : RPC_MAX_RETRIES;
    }
    in->expiration_ms =
        b->has_expiration
            ? b->expiration_ms
            : rq->now_ms + (timeout < RPC_MIN_TIMEOUT_MS ? RPC_MIN_TIMEOUT_MS : timeout);
    in->additional_info = b->additional_info;
}

/* What the waiting handler learns from the row. */
struct rpc_wait {
    enum gw_dl_state state;
    bool was_sent;
    int64_t retries;
    char *response; /* heap copy */
};

static int wait_row(void *arg, const struct gw_dl_info *d)
{
    struct rpc_wait *w = arg;

    w->state = d->state;
    w->retries = d->retries;
    if (d->state == GW_DL_SENT || d->state == GW_DL_DELIVERED || d->state == GW_DL_TIMEOUT ||
        d->retries > 0) {
        w->was_sent = true;
    }
    free(w->response);
    w->response = d->response != NULL ? strdup(d->response) : NULL;
    return 0;
}

static bool is_done(const struct rpc_wait *w, bool is_oneway)
{
    return w->state == GW_DL_SUCCESSFUL || w->state == GW_DL_FAILED || w->state == GW_DL_EXPIRED ||
           (is_oneway && w->state == GW_DL_DELIVERED);
}

/* Polls the row until it is done or the deadline passes. Returns: 0, -EIO. */
static int wait_outcome(struct web_req *rq, int64_t id, bool is_oneway, int64_t deadline_ms,
                        struct rpc_wait *w)
{
    const struct timespec step = { 0, RPC_POLL_MS * 1000000L };
    int rc;

    for (;;) {
        rc = gw_store_dl_get(rq->st, id, wait_row, w);
        if (rc != 0 || is_done(w, is_oneway) || wall_ms() >= deadline_ms) {
            break;
        }
        (void)nanosleep(&step, NULL);
    }
    if (rc == 0 && !is_done(w, is_oneway)) {
        (void)gw_store_dl_expire(rq->st, wall_ms()); /* never sent late */
    }
    return rc == -ENOENT ? 0 : rc; /* deleted meanwhile: answered as not done */
}

static void answer_outcome(struct web_resp *rs, const struct rpc_wait *w, bool is_oneway,
                           bool is_v1)
{
    if ((is_oneway && (w->state == GW_DL_DELIVERED || w->state == GW_DL_SUCCESSFUL)) ||
        (!is_oneway && w->state == GW_DL_SUCCESSFUL)) {
        rs->status = 200;
        if (!is_oneway && w->response != NULL && w->response[0] != '\0') {
            rs->body = strdup(w->response);
            rs->len = rs->body != NULL ? strlen(rs->body) : 0;
            if (rs->body == NULL) {
                web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
            }
        }
    } else if (w->state == GW_DL_FAILED) {
        web_error(rs, is_v1 ? 408 : 504, WEB_E_GENERAL, "RPC failed: %.200s",
                  w->response != NULL ? w->response : "no acknowledgement from the device");
    } else if (w->was_sent) {
        web_error(rs, is_v1 ? 408 : 504, WEB_E_GENERAL,
                  "Timeout: the device did not answer within the RPC's lifetime");
    } else {
        web_error(rs, is_v1 ? 409 : 504, WEB_E_GENERAL,
                  "Timeout: the device was not reachable within the RPC's lifetime");
    }
}

static void queue_failed(struct web_resp *rs, int rc, const char *uuid)
{
    if (rc == -ENOSPC) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Too many downlinks are waiting for this device");
    } else if (rc == -EEXIST) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Rpc with id [%s] already exists", uuid);
    } else if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device with requested id wasn't found!");
    } else {
        web_reply_db_error(rs);
    }
}

/* Queues the RPC and answers (persistent: at once; lightweight: after waiting). */
static void rpc_send(struct web_req *rq, struct web_resp *rs, const struct gw_device_ref *dev,
                     const struct web_rpc_body *b, bool is_oneway, bool is_v1)
{
    struct rpc_wait w = { GW_DL_QUEUED, false, 0, NULL };
    char req_uuid[GW_STORE_UUID_LEN], uuid[GW_STORE_UUID_LEN];
    int64_t max =
        rq->srv->o.max_queued_downlinks > 0 ? rq->srv->o.max_queued_downlinks : DEFAULT_MAX_QUEUED;
    struct gw_api_rpc_in in;
    int64_t id = 0, deadline;
    int rc;

    rpc_in(rq, b, dev->id, is_oneway, req_uuid, &in);
    rc = gw_store_api_rpc_queue(rq->st, &in, rq->now_ms, max, &id, uuid);
    if (rc != 0) {
        queue_failed(rs, rc, uuid);
        return;
    }
    web_wake_loop(rq->srv);
    gw_log_info("admin rpc queued dev=\"%s\" rpc=%s method=\"%.64s\" persistent=%d user=\"%s\"",
                dev->name, uuid, b->method, b->is_persistent, rq->jwt.sub);
    if (b->is_persistent) {
        web_reply_json(rs, json_pack("{s:s}", "rpcId", uuid));
        return;
    }
    deadline = in.expiration_ms < rq->now_ms + RPC_MAX_WAIT_MS ? in.expiration_ms
                                                               : rq->now_ms + RPC_MAX_WAIT_MS;
    rc = wait_outcome(rq, id, is_oneway, deadline, &w);
    if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        answer_outcome(rs, &w, is_oneway, is_v1);
    }
    free(w.response);
}

static void rpc_post(struct web_req *rq, struct web_resp *rs, bool is_oneway, bool is_v1)
{
    struct gw_device_ref dev;
    struct web_rpc_body b;
    char err[256];
    int rc;

    if (!web_uuid_ok(rq->params[0])) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s", rq->params[0]);
        return;
    }
    rc = web_json_rpc(rq->body != NULL ? rq->body : "", rq->body_len, &b, err, sizeof(err));
    if (rc != 0) {
        web_error(rs, rc == -ENOMEM ? 500 : 400, rc == -ENOMEM ? WEB_E_GENERAL : WEB_E_BAD_PARAMS,
                  "%s", err);
        return;
    }
    rc = gw_store_api_device_ref(rq->st, rq->params[0], &dev);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Device with requested id wasn't found!");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else if (check_profile(rq, rs, dev.profile_id, &b) == 0) {
        rpc_send(rq, rs, &dev, &b, is_oneway, is_v1);
    }
    web_rpc_body_fini(&b);
}

void web_hnd_rpc_oneway(struct web_req *rq, struct web_resp *rs)
{
    rpc_post(rq, rs, true, false);
}

void web_hnd_rpc_twoway(struct web_req *rq, struct web_resp *rs)
{
    rpc_post(rq, rs, false, false);
}

void web_hnd_rpc_old_oneway(struct web_req *rq, struct web_resp *rs)
{
    rpc_post(rq, rs, true, true);
}

void web_hnd_rpc_old_twoway(struct web_req *rq, struct web_resp *rs)
{
    rpc_post(rq, rs, false, true);
}

/* ---- persistent records ------------------------------------------------------------------ */

struct rpc_json {
    const char *tenant_id;
    json_t *out; /* one object, or the array a page appends to */
};

static int rpc_one(void *arg, const struct gw_api_rpc *r)
{
    struct rpc_json *j = arg;

    j->out = web_json_rpc_out(r, j->tenant_id);
    return j->out != NULL ? 0 : -ENOMEM;
}

static int rpc_append(void *arg, const struct gw_api_rpc *r)
{
    struct rpc_json *j = arg;
    json_t *o = web_json_rpc_out(r, j->tenant_id);

    return o != NULL && json_array_append_new(j->out, o) == 0 ? 0 : -ENOMEM;
}

void web_hnd_rpc_get(struct web_req *rq, struct web_resp *rs)
{
    struct rpc_json j = { rq->srv->tenant_id, NULL };
    const char *uuid = web_param_uuid(rq, rs, 0);
    int rc;

    if (uuid == NULL) {
        return;
    }
    rc = gw_store_api_rpc_get(rq->st, uuid, 0, rpc_one, &j);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Rpc with id [%s] is not found", uuid);
    } else if (rc != 0) {
        json_decref(j.out);
        web_reply_db_error(rs);
    } else {
        web_reply_json(rs, j.out);
    }
}

/* Reads rpcStatus: one of the stored states; DELETED and unknown names are 400. */
static int status_filter(struct web_req *rq, struct web_resp *rs, enum gw_dl_state *out)
{
    const char *s = web_query(rq, "rpcStatus");

    *out = 0;
    if (s == NULL || s[0] == '\0') {
        return 0;
    }
    *out = (enum gw_dl_state)web_dl_state_parse(s);
    if (*out != 0) {
        return 0;
    }
    web_error(rs, 400, WEB_E_BAD_PARAMS, "Unsupported rpc status '%.32s'", s);
    return -EINVAL;
}

void web_hnd_rpc_page(struct web_req *rq, struct web_resp *rs)
{
    static const char *const sorts[] = { "createdTime", "expirationTime", "request", "response" };
    struct rpc_json j = { rq->srv->tenant_id, json_array() };
    struct gw_api_rpc_query q;
    struct web_page pg;
    int64_t total = 0;
    int rc;

    memset(&q, 0, sizeof(q));
    if (j.out == NULL || web_param_device(rq, rs, 0, &q.device_id) != 0 ||
        web_page_of(rq, rs, sorts, 4, &pg) != 0 || status_filter(rq, rs, &q.state) != 0) {
        json_decref(j.out);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    q.page_size = pg.page_size;
    q.page = pg.page;
    q.is_by_expiration = pg.sort == 1;
    q.is_desc = pg.is_desc;
    rc = gw_store_api_rpc_page(rq->st, &q, &total, rpc_append, &j);
    if (rc != 0) {
        json_decref(j.out);
        web_reply_db_error(rs);
        return;
    }
    web_reply_page(rs, j.out, total, &pg);
}

void web_hnd_rpc_delete(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);
    int rc;

    if (uuid == NULL) {
        return;
    }
    rc = gw_store_api_rpc_delete(rq->st, uuid);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Rpc with id [%s] is not found", uuid);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin rpc deleted rpc=%s user=\"%s\"", uuid, rq->jwt.sub);
        rs->status = 200;
    }
}
