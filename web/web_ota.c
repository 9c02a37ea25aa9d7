/* SPDX-License-Identifier: MIT */
/*
 * web_ota.c - OTA packages over the admin API (specs/rest-api.md 6a.1, 6a.2, 6a.4): the package
 * info (create, the allowed no-op update, read), pages, the data as a file or inside the
 * OtaPackage JSON (base64), deletion, and the count of devices a profile assignment reaches.
 * Uploads are in web_ota_upload.c, assignments in web_ota_assign.c.
 *
 * Package data is never held in memory whole: a download or an OtaPackage answer is written
 * slice by slice from the store's BLOB into an unlinked temporary file in the data directory,
 * which libmicrohttpd then sends and closes.
 *
 * Not offered yet (the schema has no place for them): URL packages ("url", "usesUrl") are
 * refused, and "additionalInfo" is not stored (answered null).
 */
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

#define SLICE_BYTES 49152 /* a multiple of 3: base64 of whole slices concatenates */
#define TEXT_MAX    255

json_t *web_ota_info_out(const struct gw_api_ota *o, const char *tenant_id)
{
#define OR_NULL(s) ((s) != NULL ? json_string(s) : json_null())
    return json_pack(
        "{s:o, s:I, s:o, s:o, s:s, s:s, s:s, s:o, s:n, s:b, s:o, s:o, s:o, s:o, s:o,"
        " s:n, s:s, s:n}",
        "id", web_json_id("OTA_PACKAGE", o->uuid), "createdTime", (json_int_t)o->created_ms,
        "tenantId", web_json_id("TENANT", tenant_id), "deviceProfileId",
        o->profile_uuid != NULL ? web_json_id("DEVICE_PROFILE", o->profile_uuid) : json_null(),
        "type", o->is_software ? "SOFTWARE" : "FIRMWARE", "title", o->title, "version", o->version,
        "tag", OR_NULL(o->tag), "url", "hasData", o->has_data, "fileName", OR_NULL(o->file_name),
        "contentType", OR_NULL(o->content_type), "checksumAlgorithm",
        OR_NULL(o->checksum_algorithm), "checksum", OR_NULL(o->checksum), "dataSize",
        o->size_bytes >= 0 ? json_integer((json_int_t)o->size_bytes) : json_null(), "externalId",
        "name", o->title, "additionalInfo");
#undef OR_NULL
}

int web_ota_tmpfile(struct web_server *srv)
{
    char path[4096];
    int fd;

    (void)snprintf(path, sizeof(path), "%s/.ota-XXXXXX", srv->o.data_dir);
    fd = mkstemp(path);
    if (fd >= 0) {
        (void)unlink(path);
    }
    return fd;
}

/* ---- info -------------------------------------------------------------------------------- */

struct ota_json {
    const char *tenant_id;
    json_t *out;
};

static int ota_one(void *arg, const struct gw_api_ota *o)
{
    struct ota_json *j = arg;

    j->out = web_ota_info_out(o, j->tenant_id);
    return j->out != NULL ? 0 : -ENOMEM;
}

static int ota_append(void *arg, const struct gw_api_ota *o)
{
    struct ota_json *j = arg;
    json_t *v = web_ota_info_out(o, j->tenant_id);

    return v != NULL && json_array_append_new(j->out, v) == 0 ? 0 : -ENOMEM;
}

void web_ota_reply_info(struct web_req *rq, struct web_resp *rs, const char *uuid,
                        bool is_generic_404)
{
    struct ota_json j = { rq->srv->tenant_id, NULL };
    int rc = gw_store_api_ota_get(rq->st, uuid, 0, ota_one, &j);

    if (rc == -ENOENT && is_generic_404) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
    } else if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Ota package with id [%s] is not found", uuid);
    } else if (rc != 0) {
        json_decref(j.out);
        web_reply_db_error(rs);
    } else {
        web_reply_json(rs, j.out);
    }
}

void web_hnd_ota_info(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);

    if (uuid != NULL) {
        web_ota_reply_info(rq, rs, uuid, true);
    }
}

/* A required short text member; answers ThingsBoard's messages. */
static const char *text_member(struct web_resp *rs, json_t *b, const char *name,
                               const char *missing)
{
    const char *v = json_string_value(json_object_get(b, name));

    if (missing != NULL && (v == NULL || v[strspn(v, " \t")] == '\0')) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", missing);
        return NULL;
    }
    if (v != NULL && (strlen(v) > TEXT_MAX || web_utf8_chars(v) < 0)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "Validation error: %s length must be equal or less than 255", name);
        return NULL;
    }
    return v != NULL ? v : "";
}

/* Reads the members of a SaveOtaPackageInfoRequest into in (strings borrowed from b). */
static int info_body(struct web_resp *rs, json_t *b, struct gw_api_ota_in *in)
{
    const char *type = json_string_value(json_object_get(b, "type"));
    const char *url = json_string_value(json_object_get(b, "url"));
    json_t *pid = json_object_get(b, "deviceProfileId");

    memset(in, 0, sizeof(*in));
    if ((in->title = text_member(rs, b, "title", "OtaPackage title should be specified!")) ==
            NULL ||
        (in->version = text_member(rs, b, "version", "OtaPackage version should be specified!")) ==
            NULL ||
        (in->tag = text_member(rs, b, "tag", NULL)) == NULL) {
        return -EINVAL;
    }
    in->tag = in->tag[0] != '\0' ? in->tag : NULL;
    if (json_is_true(json_object_get(b, "usesUrl")) && (url == NULL || url[0] == '\0')) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Ota package URL should be specified!");
        return -EINVAL;
    }
    if (url != NULL && url[0] != '\0') {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "OTA packages with a URL are not supported yet");
        return -EINVAL;
    }
    if (type == NULL) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Type should be specified!");
        return -EINVAL;
    }
    if (strcmp(type, "FIRMWARE") != 0 && strcmp(type, "SOFTWARE") != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Unsupported OTA package type: %.32s", type);
        return -EINVAL;
    }
    in->is_software = strcmp(type, "SOFTWARE") == 0;
    in->profile_uuid = json_string_value(json_object_get(pid, "id"));
    if (pid != NULL && !json_is_null(pid) && !web_uuid_ok(in->profile_uuid)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s",
                  in->profile_uuid != NULL ? in->profile_uuid : "");
        return -EINVAL;
    }
    return 0;
}

/* An update may change nothing but additionalInfo: compares the fixed members. */
struct ota_update {
    const struct gw_api_ota_in *in;
    const char *why;
};

static int compare_fixed(void *arg, const struct gw_api_ota *o)
{
    struct ota_update *u = arg;
    const struct gw_api_ota_in *in = u->in;

    if (in->is_software != o->is_software) {
        u->why = "Updating type is prohibited!";
    } else if (strcmp(in->title, o->title) != 0) {
        u->why = "Updating otaPackage title is prohibited!";
    } else if (strcmp(in->version, o->version) != 0) {
        u->why = "Updating otaPackage version is prohibited!";
    } else if (in->tag != NULL && (o->tag == NULL || strcmp(in->tag, o->tag) != 0)) {
        u->why = "Updating otaPackage tag is prohibited!";
    } else if (in->profile_uuid != NULL &&
               (o->profile_uuid == NULL || strcasecmp(in->profile_uuid, o->profile_uuid) != 0)) {
        u->why = "Updating otaPackage deviceProfile is prohibited!";
    }
    return 0;
}

static void info_update(struct web_req *rq, struct web_resp *rs, const char *uuid,
                        const struct gw_api_ota_in *in)
{
    struct ota_update u = { in, NULL };
    int rc = gw_store_api_ota_get(rq->st, uuid, 0, compare_fixed, &u);

    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Ota package with id [%s] is not found", uuid);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else if (u.why != NULL) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", u.why);
    } else {
        web_ota_reply_info(rq, rs, uuid, false);
    }
}

void web_hnd_ota_save(struct web_req *rq, struct web_resp *rs)
{
    json_t *b = json_loadb(rq->body != NULL ? rq->body : "", rq->body_len, 0, NULL);
    const char *uuid = json_string_value(json_object_get(json_object_get(b, "id"), "id"));
    char new_uuid[GW_STORE_UUID_LEN];
    struct gw_api_ota_in in;
    int rc;

    if (!json_is_object(b)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid JSON");
    } else if (uuid != NULL && !web_uuid_ok(uuid)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Invalid UUID string: %.64s", uuid);
    } else if (info_body(rs, b, &in) != 0) {
        /* answered */
    } else if (uuid != NULL) {
        info_update(rq, rs, uuid, &in);
    } else if ((rc = gw_store_api_ota_create(rq->st, &in, rq->now_ms, new_uuid)) == -EEXIST) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "OtaPackage with such title and version already exists!");
    } else if (rc == -ENOENT) {
        web_error(rs, 400, WEB_E_BAD_PARAMS,
                  "OtaPackage is referencing to non-existent device profile!");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin ota package created id=%s title=\"%s\" version=\"%s\" user=\"%s\"",
                    new_uuid, in.title, in.version, rq->jwt.sub);
        web_ota_reply_info(rq, rs, new_uuid, false);
    }
    json_decref(b);
}

/* ---- pages, delete, count ---------------------------------------------------------------- */

static void ota_page(struct web_req *rq, struct web_resp *rs, const char *profile_uuid, int type)
{
    static const char *const sorts[] = { "createdTime", "type",     "title",    "version", "tag",
                                         "url",         "fileName", "dataSize", "checksum" };
    static const enum gw_api_ota_sort sort_of[] = { GW_API_OSORT_CREATED,   GW_API_OSORT_TYPE,
                                                    GW_API_OSORT_TITLE,     GW_API_OSORT_VERSION,
                                                    GW_API_OSORT_TAG,       GW_API_OSORT_CREATED,
                                                    GW_API_OSORT_FILE_NAME, GW_API_OSORT_SIZE,
                                                    GW_API_OSORT_CHECKSUM };
    struct ota_json j = { rq->srv->tenant_id, json_array() };
    struct gw_api_ota_query q;
    struct web_page pg;
    int64_t total = 0;

    if (j.out == NULL || web_page_of(rq, rs, sorts, 9, &pg) != 0) {
        json_decref(j.out);
        if (rs->status == 0) {
            web_error(rs, 500, WEB_E_GENERAL, "Out of memory");
        }
        return;
    }
    memset(&q, 0, sizeof(q));
    q.page_size = pg.page_size;
    q.page = pg.page;
    q.sort = pg.sort >= 0 ? sort_of[pg.sort] : GW_API_OSORT_CREATED;
    q.is_desc = pg.is_desc;
    q.text_search = web_query(rq, "textSearch");
    q.text_search = q.text_search != NULL && q.text_search[0] != '\0' ? q.text_search : NULL;
    q.profile_uuid = profile_uuid;
    q.type = type;
    q.is_with_data = profile_uuid != NULL;
    if (gw_store_api_ota_page(rq->st, &q, &total, ota_append, &j) != 0) {
        json_decref(j.out);
        web_reply_db_error(rs);
        return;
    }
    web_reply_page(rs, j.out, total, &pg);
}

void web_hnd_ota_page(struct web_req *rq, struct web_resp *rs)
{
    ota_page(rq, rs, NULL, 0);
}

/* Parses {type} (FIRMWARE / SOFTWARE). Returns: 1, 2, or 0 (400 answered). */
static int type_param(struct web_resp *rs, const char *s)
{
    if (strcmp(s, "FIRMWARE") == 0 || strcmp(s, "SOFTWARE") == 0) {
        return s[0] == 'F' ? 1 : 2;
    }
    web_error(rs, 400, WEB_E_BAD_PARAMS, "Unsupported OTA package type: %.32s", s);
    return 0;
}

void web_hnd_ota_page_profile(struct web_req *rq, struct web_resp *rs)
{
    const char *uuid = web_param_uuid(rq, rs, 0);
    int type = uuid != NULL ? type_param(rs, rq->params[1]) : 0;

    if (type != 0) {
        ota_page(rq, rs, uuid, type);
    }
}

static int type_row(void *arg, const struct gw_api_ota *o)
{
    *(bool *)arg = o->is_software;
    return 0;
}

void web_hnd_ota_delete(struct web_req *rq, struct web_resp *rs)
{
    static const char *const why_text[2][2] = {
        { "The otaPackage referenced by the devices cannot be deleted!",
          "The otaPackage referenced by the device profile cannot be deleted!" },
        { "The software referenced by the devices cannot be deleted!",
          "The software referenced by the device profile cannot be deleted!" },
    };
    const char *uuid = web_param_uuid(rq, rs, 0);
    bool is_sw = false;
    int why = 0, rc;

    if (uuid == NULL) {
        return;
    }
    rc = gw_store_api_ota_get(rq->st, uuid, 0, type_row, &is_sw);
    rc = rc == 0 ? gw_store_api_ota_delete(rq->st, uuid, &why) : rc;
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Ota package with id [%s] is not found", uuid);
    } else if (rc == -EBUSY) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", why_text[is_sw ? 1 : 0][why == 1 ? 0 : 1]);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_info("admin ota package deleted id=%s user=\"%s\"", uuid, rq->jwt.sub);
        rs->status = 200;
    }
}

void web_hnd_ota_count(struct web_req *rq, struct web_resp *rs)
{
    int type = type_param(rs, rq->params[0]);
    const char *uuid = type != 0 ? web_param_uuid(rq, rs, 1) : NULL;
    int64_t n = 0;

    if (uuid == NULL) {
        return;
    }
    if (gw_store_api_ota_followers_count(rq->st, uuid, type == 2, &n) != 0) {
        web_reply_db_error(rs);
        return;
    }
    web_reply_json(rs, json_integer((json_int_t)n));
}

/* ---- data -------------------------------------------------------------------------------- */

static int write_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    ssize_t n;

    while (len > 0) {
        n = write(fd, c, len);
        if (n <= 0) {
            return -EIO;
        }
        c += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copies the package's data (row id, size bytes) to fd, as raw bytes or as base64. */
static int copy_data(struct web_req *rq, int64_t id, int64_t size, bool is_base64, int fd)
{
    static const size_t b64_cap = SLICE_BYTES / 3 * 4 + 1;
    uint8_t *buf = malloc(SLICE_BYTES + b64_cap);
    int64_t off = 0;
    size_t out_len = 0;
    int rc = buf != NULL ? 0 : -ENOMEM;

    while (rc == 0 && off < size) {
        size_t n = size - off < SLICE_BYTES ? (size_t)(size - off) : SLICE_BYTES;
        rc = gw_store_ota_read(rq->st, id, off, n, buf);
        if (rc == 0 && is_base64) {
            rc = mbedtls_base64_encode(buf + SLICE_BYTES, b64_cap, &out_len, buf, n) == 0
                     ? write_all(fd, buf + SLICE_BYTES, out_len)
                     : -EIO;
        } else if (rc == 0) {
            rc = write_all(fd, buf, n);
        }
        off += (int64_t)n;
    }
    free(buf);
    return rc;
}

/* What a data answer needs to know about the package. */
struct ota_file {
    int64_t id, size;
    bool has_data;
    char file_name[256];
    char content_type[128];
    char *info; /* the OtaPackageInfo JSON text (heap) */
    const char *tenant_id;
};

static int file_row(void *arg, const struct gw_api_ota *o)
{
    struct ota_file *f = arg;
    json_t *j = web_ota_info_out(o, f->tenant_id);

    f->id = o->id;
    f->size = o->size_bytes;
    f->has_data = o->has_data;
    (void)snprintf(f->file_name, sizeof(f->file_name), "%s", o->file_name ? o->file_name : "");
    (void)snprintf(f->content_type, sizeof(f->content_type), "%s",
                   o->content_type ? o->content_type : "application/octet-stream");
    f->info = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return f->info != NULL ? 0 : -ENOMEM;
}

/* Finds the package of the {} parameter; answers 400 / 404 / 500 otherwise. */
static int file_of(struct web_req *rq, struct web_resp *rs, struct ota_file *f)
{
    const char *uuid = web_param_uuid(rq, rs, 0);
    int rc;

    memset(f, 0, sizeof(*f));
    f->tenant_id = rq->srv->tenant_id;
    if (uuid == NULL) {
        return -EINVAL;
    }
    rc = gw_store_api_ota_get(rq->st, uuid, 0, file_row, f);
    if (rc == -ENOENT) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Ota package with id [%s] is not found", uuid);
    } else if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc;
}

/* Hands fd (written up to its end) to the answer. */
static void reply_fd(struct web_resp *rs, int fd)
{
    off_t len = lseek(fd, 0, SEEK_END);

    if (len < 0) {
        (void)close(fd);
        web_reply_db_error(rs);
        return;
    }
    rs->status = 200;
    rs->body_fd = fd;
    rs->body_fd_len = (uint64_t)len;
}

void web_hnd_ota_get(struct web_req *rq, struct web_resp *rs)
{
    struct ota_file f;
    int fd = -1, rc;

    if (file_of(rq, rs, &f) != 0) {
        free(f.info);
        return;
    }
    fd = web_ota_tmpfile(rq->srv);
    rc = fd >= 0 ? write_all(fd, f.info, strlen(f.info) - 1) : -EIO; /* without its '}' */
    rc = rc == 0
             ? write_all(fd, f.has_data ? ",\"data\":\"" : ",\"data\":null}", f.has_data ? 9 : 13)
             : rc;
    if (rc == 0 && f.has_data) {
        rc = copy_data(rq, f.id, f.size, true, fd);
        rc = rc == 0 ? write_all(fd, "\"}", 2) : rc;
    }
    if (rc != 0) {
        if (fd >= 0) {
            (void)close(fd);
        }
        gw_log_err("admin ota answer failed rc=%d", rc);
        web_reply_db_error(rs);
    } else {
        reply_fd(rs, fd);
    }
    free(f.info);
}

void web_hnd_ota_download(struct web_req *rq, struct web_resp *rs)
{
    struct ota_file f;
    int fd = -1, rc;

    if (file_of(rq, rs, &f) != 0) {
        free(f.info);
        return;
    }
    free(f.info);
    if (!f.has_data) {
        web_error(rs, 404, WEB_E_NOT_FOUND, "Requested item wasn't found!");
        return;
    }
    fd = web_ota_tmpfile(rq->srv);
    rc = fd >= 0 ? copy_data(rq, f.id, f.size, false, fd) : -EIO;
    if (rc != 0) {
        if (fd >= 0) {
            (void)close(fd);
        }
        web_reply_db_error(rs);
        return;
    }
    reply_fd(rs, fd);
    (void)snprintf(rs->content_type_buf, sizeof(rs->content_type_buf), "%s", f.content_type);
    rs->content_type = rs->content_type_buf;
    rs->hdr_name[0] = "Content-Disposition";
    (void)snprintf(rs->hdr_value[0], sizeof(rs->hdr_value[0]), "attachment;filename=%s",
                   f.file_name);
    rs->hdr_name[1] = "x-filename";
    (void)snprintf(rs->hdr_value[1], sizeof(rs->hdr_value[1]), "%s", f.file_name);
}
