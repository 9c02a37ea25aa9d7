/* SPDX-License-Identifier: MIT */
/*
 * web_ota_upload.c - POST /api/otaPackage/{id} (specs/rest-api.md 6a.3): the package data as a
 * multipart/form-data body with a part named "file", streamed.
 *
 * The route is streamed (web_server.c checks the token first and then hands each chunk to
 * web_ota_stream()): the multipart reader (web_multipart.c) finds the parts through a fixed
 * window, the "file" part's bytes go to an unlinked temporary file in the data directory, and
 * the form fields checksumAlgorithm and checksum (tb-rest-client sends them so) are kept. When
 * the body is complete, web_hnd_ota_upload() checks the part, then the store copies the file
 * into the package's BLOB slice by slice while the checksum is computed on the way; a checksum
 * that differs from the expected one rolls the whole upload back. Any failure, or a connection
 * that closes early, leaves the package as it was; the temporary file goes with its descriptor.
 * Memory stays flat: one window and one slice per upload.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

#define FIELD_MAX 160 /* bytes of a kept form field (a SHA-512 checksum is 128) */

struct upload {
    struct web_mp mp;
    int fd;                 /* the file part's bytes, unlinked */
    int64_t body_bytes;     /* body seen so far */
    int64_t file_bytes;     /* bytes of the file part */
    bool is_file_part;      /* the current part is "file" */
    bool has_file;          /* a "file" part was seen */
    bool has_filename;      /* it had a filename parameter */
    char filename[256];     /* its file name (last path segment) */
    char content_type[128]; /* its Content-Type, "" = none */
    char *field;            /* the form field being read, or NULL */
    size_t field_len;
    char algorithm[FIELD_MAX]; /* form field checksumAlgorithm */
    char checksum[FIELD_MAX];  /* form field checksum */
    unsigned status;           /* the first refusal, 0 = none */
    char err[200];
    struct web_checksum ck; /* the package's checksum */
};

static void upload_free(void *ctx)
{
    struct upload *u = ctx;

    if (u != NULL) {
        if (u->fd >= 0) {
            (void)close(u->fd);
        }
        free(u);
    }
}

__attribute__((format(printf, 3, 4))) static int refuse(struct upload *u, unsigned status,
                                                        const char *fmt, ...)
{
    va_list ap;

    if (u->status == 0) {
        u->status = status;
        va_start(ap, fmt);
        (void)vsnprintf(u->err, sizeof(u->err), fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

static int part_begin(void *arg, const struct web_mp_part *p)
{
    struct upload *u = arg;

    u->is_file_part = strcmp(p->name, "file") == 0 && !u->has_file;
    u->field = NULL;
    u->field_len = 0;
    if (u->is_file_part) {
        u->has_file = true;
        u->has_filename = p->has_filename;
        (void)snprintf(u->filename, sizeof(u->filename), "%s", p->filename);
        (void)snprintf(u->content_type, sizeof(u->content_type), "%s", p->content_type);
    } else if (strcmp(p->name, "checksumAlgorithm") == 0) {
        u->field = u->algorithm;
    } else if (strcmp(p->name, "checksum") == 0) {
        u->field = u->checksum;
    }
    return 0;
}

static int part_data(void *arg, const char *data, size_t len)
{
    struct upload *u = arg;
    ssize_t n;

    if (u->is_file_part) {
        u->file_bytes += (int64_t)len;
        while (len > 0) {
            n = write(u->fd, data, len);
            if (n <= 0) {
                return refuse(u, 500, "%s", "Database error");
            }
            data += n;
            len -= (size_t)n;
        }
    } else if (u->field != NULL) {
        size_t take = FIELD_MAX - 1 - u->field_len < len ? FIELD_MAX - 1 - u->field_len : len;
        memcpy(u->field + u->field_len, data, take);
        u->field_len += take;
        u->field[u->field_len] = '\0';
    }
    return 0;
}

static int part_end(void *arg)
{
    struct upload *u = arg;

    u->is_file_part = false;
    u->field = NULL;
    return 0;
}

static const struct web_mp_fns mp_fns = { part_begin, part_data, part_end };

/* The first chunk: the Content-Type must be multipart/form-data with a boundary. */
static struct upload *upload_new(struct web_req *rq)
{
    const char *ct = web_header(rq, "Content-Type");
    struct upload *u = calloc(1, sizeof(*u));
    char boundary[WEB_MP_BOUNDARY_MAX + 1];

    if (u == NULL) {
        return NULL;
    }
    u->fd = -1;
    rq->stream_ctx = u;
    rq->stream_free = upload_free;
    if (web_mp_boundary(ct, boundary, sizeof(boundary)) != 0 ||
        web_mp_init(&u->mp, boundary, &mp_fns, u) != 0) {
        (void)refuse(u, 415, "Content-Type '%.80s' is not supported", ct != NULL ? ct : "");
        return u;
    }
    u->fd = web_ota_tmpfile(rq->srv);
    if (u->fd < 0) {
        (void)refuse(u, 500, "%s", "Database error");
    }
    return u;
}

int web_ota_stream(struct web_req *rq, const char *data, size_t len)
{
    struct upload *u = rq->stream_ctx != NULL ? rq->stream_ctx : upload_new(rq);
    int rc;

    if (u == NULL) {
        return -ENOMEM;
    }
    if (u->status != 0) {
        return -EINVAL;
    }
    u->body_bytes += (int64_t)len;
    if (u->body_bytes > WEB_OTA_MAX_PACKAGE) { /* a body without Content-Length */
        return refuse(u, 413, "Payload size exceeds the limit of %lld bytes",
                      (long long)WEB_OTA_MAX_PACKAGE);
    }
    rc = web_mp_feed(&u->mp, data, len);
    if (rc != 0) {
        return refuse(u, 400, "%s", u->mp.err[0] != '\0' ? u->mp.err : "Malformed multipart body");
    }
    return 0;
}

/* ---- the end of the body ----------------------------------------------------------------- */

static bool name_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"') {
            return false;
        }
    }
    return i > 0 && i <= 255;
}

/* The part checks after the body: 400 answered and != 0 when the upload cannot go on. */
static int part_checks(struct web_resp *rs, struct upload *u)
{
    if (u->status == 0 && web_mp_finish(&u->mp) != 0) {
        (void)refuse(u, 400, "%s", u->mp.err);
    }
    if (u->status != 0) {
        web_error(rs, u->status, u->status >= 500 ? WEB_E_DATABASE : WEB_E_BAD_PARAMS, "%s",
                  u->err);
    } else if (!u->has_file) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Required part 'file' is not present.");
    } else if (!u->has_filename || u->filename[0] == '\0') {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "OtaPackage file name should be specified!");
    } else if (!name_ok(u->filename)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "OtaPackage file name is invalid");
    } else if (u->file_bytes == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "OtaPackage data should be specified!");
    } else {
        return 0;
    }
    return -EINVAL;
}

/* Maps the file part, checks its checksum and stores it; answers every outcome. */
static void store_data(struct web_req *rq, struct web_resp *rs, struct upload *u, const char *uuid,
                       const char *expected)
{
    char checksum[160];
    struct gw_api_ota_data d = { NULL,
                                 (size_t)u->file_bytes,
                                 u->filename,
                                 u->content_type[0] != '\0' ? u->content_type
                                                            : "application/octet-stream",
                                 web_checksum_name(u->ck.alg),
                                 checksum,
                                 WEB_OTA_MAX_TOTAL };
    void *map = mmap(NULL, d.len, PROT_READ, MAP_PRIVATE, u->fd, 0);
    int rc = map != MAP_FAILED ? 0 : -EIO;

    if (rc == 0) {
        d.data = map;
        web_checksum_update(&u->ck, map, d.len);
        web_checksum_final(&u->ck, checksum, sizeof(checksum));
        rc = expected != NULL && strcasecmp(expected, checksum) != 0
                 ? -EBADMSG
                 : gw_store_api_ota_data_set(rq->st, uuid, &d);
        (void)munmap(map, d.len);
    }
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Ota package with id [%s] is not found", uuid);
    } else if (rc == -EEXIST) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Updating otaPackage data is prohibited!");
    } else if (rc == -ENOSPC) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Ota packages total size exceeds the maximum of %lld",
                  (long long)WEB_OTA_MAX_TOTAL);
    } else if (rc == -EBADMSG) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Wrong otaPackage file!");
    } else if (rc != 0) {
        gw_log_err("admin ota upload failed id=%s rc=%d", uuid, rc);
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin ota package data id=%s bytes=%lld checksum=%s user=\"%s\"", uuid,
                    (long long)u->file_bytes, d.checksum_algorithm, rq->jwt.sub);
        web_ota_reply_info(rq, rs, uuid, false);
    }
}

void web_hnd_ota_upload(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);
    struct upload *u = rq->stream_ctx;
    const char *alg = web_query(rq, "checksumAlgorithm");
    const char *ck = web_query(rq, "checksum");

    if (uuid == NULL) {
        return;
    }
    if (u == NULL) { /* no body at all */
        u = upload_new(rq);
        if (u == NULL) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
            return;
        }
    }
    if (part_checks(rs, u) != 0) {
        return;
    }
    alg = alg != NULL && alg[0] != '\0' ? alg : u->algorithm[0] != '\0' ? u->algorithm : "SHA256";
    ck = ck != NULL && ck[0] != '\0' ? ck : u->checksum[0] != '\0' ? u->checksum : NULL;
    if (web_checksum_init(&u->ck, alg) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Unsupported checksum algorithm: %.32s", alg);
    } else {
        store_data(rq, rs, u, uuid, ck);
    }
    web_checksum_fini(&u->ck);
}
