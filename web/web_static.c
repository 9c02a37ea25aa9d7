/* SPDX-License-Identifier: MIT */
/*
 * web_static.c - the admin web page: serves the files of web/static/ (HTML, CSS, JavaScript
 * modules) from a table built into the binary, for GET and HEAD of every path outside /api/ that
 * no API route claims. web_server.c's request handler asks web_static_is_page_request() before it
 * dispatches to the API and hands such requests to web_static_serve().
 *
 * The table is build/gen/web/web_assets.inc, which the Makefile generates from web/static/ with
 * od(1): one `static const unsigned char asset_N[]` per file (its bytes plus a terminating 0 that
 * is not served) and `assets[]`, rows of struct asset in file-name order. Nothing is read from
 * disk at run time, so the page works without internet, CDN or installed files.
 *
 * Every answer, 404 included, carries a strict Content-Security-Policy: scripts, styles and
 * connections from this origin only, no inline script or style, no plugins, no framing, and
 * Trusted Types required for DOM sinks with no policy allowed, so an innerHTML assignment throws
 * instead of parsing markup. The page keeps its tokens in memory and escapes device data with
 * textContent; the policy is the second line of defence. Assets are revalidated on every load
 * (no-cache with an ETag: an FNV-1a hash of the bytes), so a new daemon serves its own page.
 */
#include <errno.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

/* One embedded file: its URL path ("/index.html"), bytes and length (without the final 0). */
struct asset {
    const char *path;
    const unsigned char *data;
    size_t len;
};

#include "web/web_assets.inc"

#define CSP                                                                                        \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "                    \
    "form-action 'self'; frame-ancestors 'none'; require-trusted-types-for 'script'; "             \
    "trusted-types 'none'"
#define NOT_FOUND_TEXT "Not found\n"

/* File-name extension -> Content-Type; the first row is the fallback. */
static const struct {
    const char *ext;
    const char *type;
} types[] = {
    { "", "application/octet-stream" },
    { ".html", "text/html; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".json", "application/json" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".txt", "text/plain; charset=utf-8" },
};

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    size_t i;

    for (i = 1; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++) {
        if (strcmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return types[0].type;
}

static const struct asset *asset_find(const char *path)
{
    size_t i;

    if (strcmp(path, "/") == 0) {
        path = "/index.html";
    }
    for (i = 0; i < sizeof(assets) / sizeof(assets[0]); i++) {
        if (strcmp(assets[i].path, path) == 0) {
            return &assets[i];
        }
    }
    return NULL;
}

bool web_static_is_page_request(struct web_req *rq)
{
    bool is_known = false;

    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        return false;
    }
    if (strncmp(rq->path, "/api/", 5) == 0 || strcmp(rq->path, "/api") == 0) {
        return false;
    }
    /* A non-/api route (e.g. /metrics) keeps its handler. */
    return web_route_find(rq, &is_known) == NULL && !is_known;
}

/* The security headers every page answer carries. */
static void add_headers(struct MHD_Response *r, const char *type)
{
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    (void)MHD_add_response_header(r, "Content-Security-Policy", CSP);
    (void)MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    (void)MHD_add_response_header(r, "X-Frame-Options", "DENY");
    (void)MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    (void)MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
    (void)MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    (void)MHD_add_response_header(r, "Permissions-Policy",
                                  "camera=(), microphone=(), geolocation=(), payment=()");
}

int web_static_serve(struct web_req *rq)
{
    const struct asset *a = asset_find(rq->path);
    const char *inm = web_header(rq, MHD_HTTP_HEADER_IF_NONE_MATCH);
    struct MHD_Response *r;
    char etag[24];
    uint32_t h = 2166136261u; /* FNV-1a */
    unsigned status = MHD_HTTP_OK;
    size_t i;
    int rc = 0;

    rq->is_answered = true;
    if (a == NULL) {
        status = MHD_HTTP_NOT_FOUND;
        r = MHD_create_response_from_buffer(
            strlen(NOT_FOUND_TEXT), (void *)(uintptr_t)NOT_FOUND_TEXT, MHD_RESPMEM_PERSISTENT);
    } else {
        for (i = 0; i < a->len; i++) {
            h = (h ^ a->data[i]) * 16777619u;
        }
        (void)snprintf(etag, sizeof(etag), "\"%08x-%zx\"", (unsigned)h, a->len);
        if (inm != NULL && strcmp(inm, etag) == 0) {
            status = MHD_HTTP_NOT_MODIFIED;
            r = MHD_create_response_from_buffer(0, (void *)(uintptr_t) "", MHD_RESPMEM_PERSISTENT);
        } else {
            r = MHD_create_response_from_buffer(a->len, (void *)(uintptr_t)a->data,
                                                MHD_RESPMEM_PERSISTENT);
        }
    }
    if (r == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    add_headers(r, a != NULL ? content_type(a->path) : "text/plain; charset=utf-8");
    if (a != NULL) {
        (void)MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag);
    }
    (void)MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (MHD_queue_response(rq->conn, status, r) != MHD_YES) {
        rc = -EIO;
    }
    MHD_destroy_response(r);
    gw_log_debug("admin page method=%s path=%s status=%u peer=%s", rq->method, rq->path, status,
                 rq->peer);
out:
    return rc;
}
