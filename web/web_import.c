/* SPDX-License-Identifier: MIT */
/*
 * web_import.c - POST /api/device/bulk_import (specs/rest-api.md 4.8): devices from CSV text with
 * a column mapping, one line at a time, each in its own transaction; a failing line is reported
 * as "Line N: <message>" and does not undo the others. The request itself (mapping, column
 * types) is refused as a whole when it is wrong: nothing is imported then.
 *
 * Per line: NAME is the match key (an existing device is updated: profile, label, description,
 * gateway flag and credential when their cells are filled); ACCESS_TOKEN follows ThingsBoard's
 * token rules, X509 is parsed and keyed by its SHA-256 fingerprint (gateway/gw_x509.h); empty
 * cells write nothing. Key-value cells are typed as ThingsBoard types them (web_csv.c) and
 * written for new devices always, for existing ones only with "update": true; shared attributes
 * are queued to the device like any shared write, after the line's transaction.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/gw_log.h"
#include "gateway/gw_x509.h"
#include "web/web_internal.h"

#define SHARED_EXPIRY_MS   86400000LL
#define DEFAULT_MAX_QUEUED 100
#define MAX_ERRORS_LISTED  1000 /* errorsList entries; the count goes on */

struct import_ctx {
    struct web_req *rq;
    const struct web_csv_request *req;
    json_t *errors_list;
    int64_t created, updated, errors;
    bool is_woken;
};

/* One line being assembled: the store's view plus what its cells own. */
struct import_line {
    struct gw_api_import_line l;
    struct profile_kv server[WEB_CSV_MAX_COLUMNS], ts[WEB_CSV_MAX_COLUMNS],
        shared[WEB_CSV_MAX_COLUMNS];
    struct profile_batch b_server, b_ts, b_shared;
    char *heap[WEB_CSV_MAX_COLUMNS]; /* JSON values' text */
    size_t n_heap;
    struct gw_x509_cert cert;
    char *cert_body;
};

static void line_error(struct import_ctx *c, size_t line, const char *msg)
{
    char text[400];

    c->errors++;
    if (json_array_size(c->errors_list) < MAX_ERRORS_LISTED) {
        (void)snprintf(text, sizeof(text), "Line %zu: %s", line, msg);
        (void)json_array_append_new(c->errors_list, json_string(text));
    }
}

static void line_fini(struct import_line *ln)
{
    size_t i;

    for (i = 0; i < ln->n_heap; i++) {
        free(ln->heap[i]);
    }
    gw_x509_fini(&ln->cert);
    free(ln->cert_body);
}

/* A key-value cell into its batch. Returns: 0, -ENOMEM. */
static int kv_cell(struct import_line *ln, const struct web_csv_column *col, const char *cell)
{
    struct profile_batch *b = col->type == WEB_CSV_SERVER_ATTRIBUTE ? &ln->b_server
                              : col->type == WEB_CSV_TIMESERIES     ? &ln->b_ts
                                                                    : &ln->b_shared;
    struct profile_kv *kv = &b->kv[b->n];
    char *heap = NULL;
    int rc = web_csv_cell_value(cell, &kv->v, &heap);

    if (rc == 0) {
        kv->key = (char *)(uintptr_t)col->key;
        b->n++;
        if (heap != NULL) {
            ln->heap[ln->n_heap++] = heap;
        }
    }
    return rc;
}

/* The X509 cell: parsed, fingerprinted, kept as ThingsBoard's one-line body. */
static const char *x509_cell(struct import_line *ln, const char *cell, char *err, size_t err_len)
{
    char why[200];

    if (gw_x509_parse(cell, strlen(cell), &ln->cert, why, sizeof(why)) != 0) {
        (void)snprintf(err, err_len, "Invalid device credentials: %s", why);
        return err;
    }
    ln->cert_body = gw_x509_body_base64(&ln->cert);
    if (ln->cert_body == NULL) {
        return "Out of memory";
    }
    ln->l.cred_type = "X509_CERTIFICATE";
    ln->l.cred_id = ln->cert.fingerprint;
    ln->l.cred_value = ln->cert_body;
    return NULL;
}

/* One non-empty cell. Returns: NULL, or the line's error message. */
static const char *one_cell(struct import_line *ln, const struct web_csv_column *col, char *cell,
                            char *err, size_t err_len)
{
    switch (col->type) {
    case WEB_CSV_NAME:
        ln->l.name = cell;
        return strlen(cell) > WEB_NAME_MAX || web_utf8_chars(cell) < 0
                   ? "Device name length must be equal or less than 255"
                   : NULL;
    case WEB_CSV_TYPE:
        ln->l.type = cell;
        return strlen(cell) > WEB_NAME_MAX ? "Device type length must be equal or less than 255"
                                           : NULL;
    case WEB_CSV_LABEL:
        ln->l.label = cell;
        return strlen(cell) > WEB_NAME_MAX ? "Device label length must be equal or less than 255"
                                           : NULL;
    case WEB_CSV_DESCRIPTION:
        ln->l.description = cell;
        return NULL;
    case WEB_CSV_IS_GATEWAY:
        ln->l.is_gateway = strcasecmp(cell, "true") == 0 ? 1 : 0;
        return NULL;
    case WEB_CSV_ACCESS_TOKEN:
        if (ln->l.cred_type == NULL) { /* an X509 cell wins */
            ln->l.cred_type = "ACCESS_TOKEN";
            ln->l.cred_id = cell;
        }
        return web_token_problem(cell);
    case WEB_CSV_X509:
        return x509_cell(ln, cell, err, err_len);
    case WEB_CSV_SHARED_ATTRIBUTE:
    case WEB_CSV_SERVER_ATTRIBUTE:
    case WEB_CSV_TIMESERIES:
        return kv_cell(ln, col, cell) == 0 ? NULL : "Out of memory";
    }
    return NULL;
}

/* Reads the cells of a record into ln. Returns: NULL, or the line's error message. */
static const char *read_cells(struct import_ctx *c, struct import_line *ln, char **cells,
                              size_t n_cells, char *err, size_t err_len)
{
    const char *why = NULL;
    size_t i;

    if (n_cells > c->req->n_cols) {
        (void)snprintf(err, err_len, "The line has %zu values, the mapping %zu columns", n_cells,
                       c->req->n_cols);
        return err;
    }
    ln->l.is_gateway = -1;
    ln->l.is_update_values = c->req->is_update;
    ln->b_server = (struct profile_batch){ ln->server, 0, WEB_CSV_MAX_COLUMNS };
    ln->b_ts = (struct profile_batch){ ln->ts, 0, WEB_CSV_MAX_COLUMNS };
    ln->b_shared = (struct profile_batch){ ln->shared, 0, WEB_CSV_MAX_COLUMNS };
    for (i = 0; why == NULL && i < n_cells; i++) {
        if (cells[i][0] != '\0') {
            why = one_cell(ln, &c->req->cols[i], cells[i], err, err_len);
        }
    }
    if (why == NULL && ln->l.name == NULL) {
        why = "Device name should be specified!";
    }
    ln->l.server = ln->b_server.n > 0 ? &ln->b_server : NULL;
    ln->l.telemetry = ln->b_ts.n > 0 ? &ln->b_ts : NULL;
    return why;
}

/* Queues the line's shared attributes to the device. Returns: NULL, or the error. */
static const char *queue_shared(struct import_ctx *c, int64_t id, const struct import_line *ln)
{
    const struct web_server_opts *o = &c->rq->srv->o;
    int64_t max = o->max_queued_downlinks > 0 ? o->max_queued_downlinks : DEFAULT_MAX_QUEUED;
    int64_t expiry = o->shared_attr_expiry_ms > 0 ? o->shared_attr_expiry_ms : SHARED_EXPIRY_MS;
    int rc;

    if (ln->b_shared.n == 0) {
        return NULL;
    }
    rc = gw_store_shared_update(c->rq->st, id, &ln->b_shared, NULL, 0, c->rq->now_ms,
                                c->rq->now_ms + expiry, max);
    c->is_woken = c->is_woken || rc == 0;
    return rc == 0         ? NULL
           : rc == -ENOSPC ? "Too many downlinks are waiting for this device"
                           : "Database error";
}

static int on_record(void *arg, size_t line, char **cells, size_t n_cells)
{
    struct import_ctx *c = arg;
    struct import_line *ln = calloc(1, sizeof(*ln));
    enum gw_api_fail fail = GW_API_OK;
    const char *why;
    char err[300];
    int64_t id = 0;
    bool is_created = false;
    int rc;

    if (ln == NULL) {
        return -ENOMEM;
    }
    if (c->req->has_header && line == 1) {
        free(ln);
        return 0;
    }
    why = read_cells(c, ln, cells, n_cells, err, sizeof(err));
    if (why == NULL) {
        rc = gw_store_api_import_line(c->rq->st, &ln->l, c->rq->now_ms, &id, &is_created, &fail);
        why = rc == 0                      ? NULL
              : fail == GW_API_TOKEN_TAKEN ? "Device credentials are already assigned to another "
                                             "device!"
                                           : "Database error";
    }
    if (why == NULL && (is_created || c->req->is_update)) {
        why = queue_shared(c, id, ln);
    }
    if (why != NULL) {
        line_error(c, line, why);
    } else if (is_created) {
        c->created++;
    } else {
        c->updated++;
    }
    line_fini(ln);
    free(ln);
    return 0;
}

static int dry_record(void *arg, size_t line, char **cells, size_t n_cells)
{
    (void)arg;
    (void)line;
    (void)cells;
    (void)n_cells;
    return 0;
}

/* Whole-request checks the parser does not make. */
static int check_columns(const struct web_csv_request *r, char *err, size_t err_len)
{
    size_t i;

    for (i = 0; i < r->n_cols; i++) {
        if (r->cols[i].type == WEB_CSV_SHARED_ATTRIBUTE && strcmp(r->cols[i].key, "deleted") == 0) {
            (void)snprintf(err, err_len, "Attribute key 'deleted' is reserved in SHARED_SCOPE");
            return -EINVAL;
        }
    }
    return 0;
}

void web_hnd_bulk_import(struct web_req *rq, struct web_resp *rs)
{
    struct web_csv_request req;
    struct import_ctx c = { rq, &req, json_array(), 0, 0, 0, false };
    char err[300];
    int rc;

    memset(&req, 0, sizeof(req));
    rc = c.errors_list != NULL ? web_csv_request_parse(rq->body != NULL ? rq->body : "",
                                                       rq->body_len, &req, err, sizeof(err))
                               : -ENOMEM;
    rc = rc == 0 ? check_columns(&req, err, sizeof(err)) : rc;
    /* A file that does not parse is refused before any line is imported. */
    rc = rc == 0 ? web_csv_parse(req.file, req.file_len, req.delimiter, dry_record, NULL, err,
                                 sizeof(err))
                 : rc;
    rc = rc == 0
             ? web_csv_parse(req.file, req.file_len, req.delimiter, on_record, &c, err, sizeof(err))
             : rc;
    if (c.is_woken) {
        web_wake_loop(rq->srv);
    }
    if (rc == -ENOMEM) {
        web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
    } else if (rc != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
    } else {
        gw_log_info("admin bulk import created=%lld updated=%lld errors=%lld user=\"%s\"",
                    (long long)c.created, (long long)c.updated, (long long)c.errors, rq->jwt.sub);
        web_reply_json(rs, json_pack("{s:I, s:I, s:I, s:O}", "created", (json_int_t)c.created,
                                     "updated", (json_int_t)c.updated, "errors",
                                     (json_int_t)c.errors, "errorsList", c.errors_list));
    }
    json_decref(c.errors_list);
    if (req.root != NULL) {
        web_csv_request_fini(&req);
    }
}
