/* SPDX-License-Identifier: MIT */
/*
 * web_internal.h - what the files of web/ share: the server object, one request and its answer,
 * the route table, the pure parts (web_json.c, web_csv.c, web_checksum.c, web_multipart.c), and
 * the handlers of the route files (web_auth.c, web_routes.c, web_telemetry.c, web_tswrite.c,
 * web_profiles.c, web_profile_save.c, web_import.c, web_rpc.c, web_ota*.c, web_nbgate.c,
 * web_metrics.c, web_fleet.c). Nothing outside web/ (except its tests and fuzz targets) includes
 * this header.
 */
#ifndef WEB_INTERNAL_H
#define WEB_INTERNAL_H

#include <jansson.h>
#include <mbedtls/md.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/gw_pki.h"
#include "gateway/gw_store.h"
#include "profiles/profile.h"
#include "web/web.h"

#define WEB_NO_CUSTOMER  "13814000-1dd2-11b2-8080-808080808080" /* ThingsBoard's "no customer" */
#define WEB_JWT_KEY_LEN  64                                     /* bytes of the HMAC secret */
#define WEB_MAX_PARAMS   4    /* {} segments in one route pattern */
#define WEB_PATH_MAX     1024 /* bytes of a request path we route */
#define WEB_MAX_KEYS     256  /* keys in one telemetry or attribute query */
#define WEB_KEYS_MAX     8192 /* bytes of a keys= list */
#define WEB_LIMITER_SIZE 256  /* client addresses the login limiter remembers */
#define WEB_NAME_MAX     255  /* bytes of a device name or label */
#define WEB_PASSWORD_MIN 6    /* ThingsBoard's default password policy, in characters */
#define WEB_PASSWORD_MAX 72

/* ThingsBoard's errorCode values (specs/rest-api.md 2.6). */
enum web_code {
    WEB_E_GENERAL = 2,
    WEB_E_AUTH = 10,
    WEB_E_EXPIRED = 11,
    WEB_E_PERMISSION = 20,
    WEB_E_INVALID_ARGS = 30,
    WEB_E_BAD_PARAMS = 31,
    WEB_E_NOT_FOUND = 32,
    WEB_E_TOO_MANY = 33,
    WEB_E_CONFLICT = 35,
    WEB_E_DATABASE = 46,
};

/* One client address's failed logins in the current minute. */
struct web_limiter_entry {
    uint8_t addr[16];  /* IPv4 mapped into IPv6 */
    int64_t window_ms; /* start of the counting window (monotonic) */
    int64_t failures;  /* failed attempts in the window */
    int64_t last_ms;   /* last use, to pick an entry to replace */
};

struct web_limiter {
    pthread_mutex_t mu;
    struct web_limiter_entry e[WEB_LIMITER_SIZE];
    size_t n;
};

struct web_server {
    struct MHD_Daemon *mhd;
    struct web_server_opts o;             /* borrowed strings, see web_server_start() */
    struct gw_store *stores[WEB_THREADS]; /* one connection per worker thread */
    bool is_store_busy[WEB_THREADS];
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    uint8_t jwt_key[WEB_JWT_KEY_LEN];
    uint8_t tenant_seed[16]; /* tenant id bytes; also seeds derived user ids */
    char tenant_id[GW_STORE_UUID_LEN];
    pthread_mutex_t setup_mu;
    char setup_token[48]; /* "" once used or when an admin exists */
    struct web_limiter limiter;
    atomic_uint_fast64_t loop_alive;      /* bumped by web_server_loop_alive() */
    atomic_uint_fast64_t http_answers[6]; /* answers by status class: [2] counts 2xx, ... */
    int64_t start_ms;                     /* wall clock at start */
    char bind_address[64];
};

/* One request, from the first call of the access handler to its completion. */
struct web_req {
    struct web_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char path[WEB_PATH_MAX];            /* the URL as libmicrohttpd gave it */
    char segs[WEB_PATH_MAX];            /* a copy of path, split into segments */
    const char *params[WEB_MAX_PARAMS]; /* the {} segments of the route, in order */
    size_t n_params;
    char *body; /* NUL-terminated request body */
    size_t body_len, body_cap;
    bool is_too_large;   /* the body passed max_body_bytes */
    bool is_answered;    /* a response is queued */
    struct gw_store *st; /* this request's store connection */
    int64_t now_ms;
    int64_t user_id;        /* the authenticated admin, 0 for public routes */
    struct gw_pki_jwt jwt;  /* its token's claims */
    uint8_t peer_addr[16];  /* client address, IPv4 mapped into IPv6 */
    char peer[64];          /* client address as text, for the log */
    int64_t max_body_bytes; /* the route's body cap (the server's unless the route has one) */
    bool is_stream_failed;  /* a streamed route's stream callback refused a chunk */
    void *stream_ctx;       /* a streamed route's state, released with stream_free */
    void (*stream_free)(void *ctx);
};

/* The answer a handler builds. */
struct web_resp {
    unsigned status;
    char *body; /* heap text (free()), or NULL for an empty body */
    size_t len;
    const char *content_type; /* NULL = application/json */
    int body_fd;              /* > 0: the body is this file instead (the server closes it) */
    uint64_t body_fd_len;     /* bytes of body_fd from offset 0 */
    const char *hdr_name[2];  /* extra response headers (static names), NULL = none */
    char hdr_value[2][320];
    char content_type_buf[128]; /* storage a handler may point content_type at */
};

typedef void (*web_handler_fn)(struct web_req *rq, struct web_resp *rs);

/*
 * A streamed route gets each chunk of the request body as it arrives, after the token was
 * checked (the body is not buffered); fn runs when the body is complete. Returns: 0, or != 0 to
 * refuse the rest of the body (the callback keeps the reason in rq->stream_ctx for fn).
 */
typedef int (*web_stream_fn)(struct web_req *rq, const char *data, size_t len);

struct web_route {
    const char *method;
    const char *pattern; /* literal segments and {} for a parameter */
    bool is_public;      /* no token needed */
    web_handler_fn fn;
    web_stream_fn stream;   /* NULL: the body is buffered up to max_body_bytes */
    int64_t max_body_bytes; /* 0: the server's max_body_bytes */
};

/* A growable text buffer for answers built by hand (typed values). */
struct web_buf {
    char *p;
    size_t len, cap;
    bool is_oom;
};

/* A parsed page link (specs/rest-api.md 2.5). */
struct web_page {
    int64_t page_size;
    int64_t page;
    int sort; /* index into the endpoint's sort list, -1 = none */
    bool is_desc;
};

/* Request bodies: root owns every string; release with json_decref(root). */
struct web_login_body {
    json_t *root;
    const char *username, *password;
};
struct web_setup_body {
    json_t *root;
    const char *setup_token, *username, *password;
};
struct web_refresh_body {
    json_t *root;
    const char *refresh_token;
};
struct web_password_body {
    json_t *root;
    const char *current_password, *new_password;
};
struct web_device_body {
    json_t *root;
    struct gw_api_device_in dev; /* strings borrowed from root, info and transport */
    char *info;                  /* additionalInfo as compact JSON text, or NULL */
    char *transport;             /* deviceData.transportConfiguration text, or NULL */
    bool has_version;
    int64_t version;
};
struct web_cred_body {
    json_t *root;
    const char *device_uuid, *type, *credentials_id, *value;
};

/* ---- web_json.c: pure parsing and building (no I/O, no clock, no log) ---------------------- */

/* Returns: true for a canonical UUID (36 characters, hex digits and dashes, any case). */
bool web_uuid_ok(const char *s);

/*
 * Parses a page link. sorts lists the endpoint's sort properties.
 * Returns: 0, -EINVAL (err holds ThingsBoard's message).
 */
int web_page_parse(const char *page_size, const char *page, const char *sort_property,
                   const char *sort_order, const char *const *sorts, size_t n_sorts,
                   struct web_page *out, char *err, size_t err_len);

/*
 * Splits a comma-separated key list into buf (buf_len bytes); empty keys are dropped.
 * Returns: 0 (*n keys in keys[]), -ERANGE (more than cap keys, or longer than buf).
 */
int web_keys_parse(const char *csv, char *buf, size_t buf_len, const char **keys, size_t cap,
                   size_t *n);

/*
 * The request-body parsers. Each returns 0, -EBADMSG (not JSON, or not an object; err holds
 * jansson's reason and position) or -EINVAL (a field is missing or invalid; err holds the
 * ThingsBoard message). On success the caller releases the body (json_decref(root), and
 * web_device_body_fini() for a device).
 */
int web_json_login(const char *body, size_t len, struct web_login_body *out, char *err,
                   size_t err_len);
int web_json_setup(const char *body, size_t len, struct web_setup_body *out, char *err,
                   size_t err_len);
int web_json_refresh(const char *body, size_t len, struct web_refresh_body *out, char *err,
                     size_t err_len);
int web_json_password(const char *body, size_t len, struct web_password_body *out, char *err,
                      size_t err_len);
int web_json_device(const char *body, size_t len, struct web_device_body *out, char *err,
                    size_t err_len);
int web_json_credentials(const char *body, size_t len, struct web_cred_body *out, char *err,
                         size_t err_len);
void web_device_body_fini(struct web_device_body *b);

/* An RPC request body (specs/rest-api.md 7.1); release with web_rpc_body_fini(). */
struct web_rpc_body {
    json_t *root;
    const char *method;       /* required, borrowed from root */
    const char *request_uuid; /* requestUUID or NULL */
    char *params;             /* params as compact JSON text (heap), NULL for null */
    char *additional_info;    /* additionalInfo as compact JSON text (heap) or NULL */
    bool is_persistent;
    bool has_timeout, has_expiration, has_retries;
    int64_t timeout_ms, expiration_ms, retries;
};

/* Parses an RPC body. Returns: 0, -EBADMSG ("Invalid request body"), -EINVAL, -ENOMEM. */
int web_json_rpc(const char *body, size_t len, struct web_rpc_body *out, char *err, size_t err_len);
void web_rpc_body_fini(struct web_rpc_body *b);

/* Returns: a downlink state's name (QUEUED ...); "FAILED" for an unknown value. */
const char *web_dl_state_name(enum gw_dl_state s);

/* Returns: the state named s (exact, upper case), or 0. */
int web_dl_state_parse(const char *s);

/* An Rpc object (specs/rest-api.md 7.3). */
json_t *web_json_rpc_out(const struct gw_api_rpc *r, const char *tenant_id);

/*
 * Checks a telemetry-save body beyond what the JSON adaptor checks (specs/rest-api.md 6.6):
 * JSON, record sets with values, no blank key, no null value.
 * Returns: 0, -EBADMSG (not JSON), -ENODATA (no values), -EINVAL; err holds ThingsBoard's text.
 */
int web_json_ts_check(const char *body, size_t len, char *err, size_t err_len);

/* Returns: the number of UTF-8 characters in s, or -1 when s is not valid UTF-8. */
long web_utf8_chars(const char *s);

/* Builds {"status","message","errorCode","timestamp"}. Returns: heap text, or NULL (no memory). */
char *web_json_error(unsigned status, int code, const char *message, int64_t ts_ms);

/* ThingsBoard's id object {"entityType": type, "id": uuid}. */
json_t *web_json_id(const char *entity_type, const char *uuid);

/* A Device (is_info: a DeviceInfo with deviceProfileName, active, customer fields). */
json_t *web_json_device_out(const struct gw_api_device *d, const char *tenant_id, bool is_info);

/* A DeviceCredentials object. */
json_t *web_json_credentials_out(const struct gw_api_credentials *c);

/* web_buf.c: appends; on failure is_oom is set and later appends do nothing. */
void web_buf_add(struct web_buf *b, const char *s, size_t len);
void web_buf_addf(struct web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void web_buf_str(struct web_buf *b, const char *s, size_t len); /* as a JSON string */
void web_buf_value(struct web_buf *b, const struct profile_value *v, bool is_strict);
void web_buf_fini(struct web_buf *b);

/* ---- web_csv.c: the bulk import's pure parts (specs/rest-api.md 4.8) --------------------- */

#define WEB_CSV_MAX_COLUMNS    64    /* columns of a mapping, cells kept per record */
#define WEB_CSV_MAX_CELL_BYTES 65536 /* bytes of one cell */

enum web_csv_col {
    WEB_CSV_NAME = 1,
    WEB_CSV_TYPE,
    WEB_CSV_LABEL,
    WEB_CSV_DESCRIPTION,
    WEB_CSV_IS_GATEWAY,
    WEB_CSV_ACCESS_TOKEN,
    WEB_CSV_X509,
    WEB_CSV_SHARED_ATTRIBUTE, /* the key-value types come last */
    WEB_CSV_SERVER_ATTRIBUTE,
    WEB_CSV_TIMESERIES,
};

struct web_csv_column {
    enum web_csv_col type;
    const char *key; /* key-value columns: the key (borrowed from root) */
};

/* A bulk-import request; root owns every string. Release with web_csv_request_fini(). */
struct web_csv_request {
    json_t *root;
    const char *file; /* the CSV text */
    size_t file_len;
    struct web_csv_column cols[WEB_CSV_MAX_COLUMNS];
    size_t n_cols;
    char delimiter;
    bool has_header, is_update;
};

/*
 * Parses {"file", "mapping": {"columns", "delimiter", "header", "update"}}.
 * Returns: 0, -EBADMSG (not JSON), -EINVAL (err: e.g. "Unsupported column type: MQTT_CLIENT_ID").
 */
int web_csv_request_parse(const char *body, size_t len, struct web_csv_request *out, char *err,
                          size_t err_len);
void web_csv_request_fini(struct web_csv_request *r);

/*
 * Called once per record: line counts records from 1; cells[0..min(n_cells, MAX_COLUMNS)) are
 * NUL-terminated and valid during the call; n_cells may exceed WEB_CSV_MAX_COLUMNS. A non-zero
 * return stops the parse.
 */
typedef int (*web_csv_record_fn)(void *arg, size_t line, char **cells, size_t n_cells);

/*
 * Reads len bytes of CSV text (format in web_csv.c) record by record.
 * Returns: 0, -EBADMSG (err: an unterminated quote or an oversized cell), -ENOMEM, fn's value.
 */
int web_csv_parse(const char *text, size_t len, char delim, web_csv_record_fn fn, void *arg,
                  char *err, size_t err_len);

/*
 * Types a non-empty cell as ThingsBoard's bulk import does: number (LONG or DOUBLE), BOOLEAN,
 * JSON, else STRING. Returns: 0, -ENOMEM. Ownership: v->s points into cell or to *heap (a
 * JSON value's compact text), which the caller frees.
 */
int web_csv_cell_value(const char *cell, struct profile_value *v, char **heap);

/* ---- web_checksum.c: OTA checksums as ThingsBoard writes them (specs/rest-api.md 6a.3) ----- */

enum web_checksum_alg {
    WEB_CK_MD5 = 1,
    WEB_CK_SHA256,
    WEB_CK_SHA384,
    WEB_CK_SHA512,
    WEB_CK_CRC32,
    WEB_CK_MURMUR3_32,
    WEB_CK_MURMUR3_128,
};

/* One running checksum; fields are the implementation's. */
struct web_checksum {
    enum web_checksum_alg alg;
    mbedtls_md_context_t md; /* MD5, SHA* */
    uint32_t crc;            /* CRC32 */
    uint64_t h1, h2, total;  /* Murmur3 state and length */
    uint8_t tail[16];        /* Murmur3: bytes of an unfinished block */
    size_t n_tail;
};

/*
 * Starts a checksum by ThingsBoard's algorithm name (any case).
 * Returns: 0, -EINVAL (unknown name), -ENOMEM. Release with web_checksum_fini() in every case.
 */
int web_checksum_init(struct web_checksum *c, const char *name);
void web_checksum_update(struct web_checksum *c, const void *data, size_t len);

/* Writes the checksum text (at most 129 bytes with the NUL) to out. */
void web_checksum_final(struct web_checksum *c, char *out, size_t out_len);
void web_checksum_fini(struct web_checksum *c);

/* Returns: the algorithm's name ("SHA256" ...). */
const char *web_checksum_name(enum web_checksum_alg alg);

/* ---- web_multipart.c: streamed multipart/form-data (RFC 7578) ----------------------------- */

#define WEB_MP_BOUNDARY_MAX 70   /* RFC 2046 */
#define WEB_MP_HEADER_MAX   8192 /* bytes of one part's headers */

/* One part's headers. */
struct web_mp_part {
    char name[64];          /* Content-Disposition name */
    char filename[256];     /* its filename, last path segment only ("" = none) */
    bool has_filename;      /* a filename parameter was present (maybe empty) */
    char content_type[128]; /* Content-Type, "" = none */
};

/* What a reader calls: begin at a part's headers, data for its bytes, end after it. 0 goes on. */
struct web_mp_fns {
    int (*begin)(void *arg, const struct web_mp_part *p);
    int (*data)(void *arg, const char *data, size_t len);
    int (*end)(void *arg);
};

enum web_mp_state {
    WEB_MP_PREAMBLE = 0,
    WEB_MP_AFTER,
    WEB_MP_HEADERS,
    WEB_MP_DATA,
    WEB_MP_DONE,
    WEB_MP_ERROR
};

/* A reader; its fields are the implementation's. */
struct web_mp {
    enum web_mp_state state;
    char delim[4 + WEB_MP_BOUNDARY_MAX + 1]; /* CRLF "--" boundary */
    size_t delim_len;
    char win[16384]; /* the window over the body */
    size_t len;
    const struct web_mp_fns *fns;
    void *arg;
    char err[128]; /* why the body was refused */
};

/* Reads the boundary of a multipart/form-data Content-Type. Returns: 0, -EINVAL. */
int web_mp_boundary(const char *content_type, char *out, size_t out_len);

/* Starts a reader. Returns: 0, -EINVAL (bad boundary). Ownership: fns and arg are borrowed. */
int web_mp_init(struct web_mp *mp, const char *boundary, const struct web_mp_fns *fns, void *arg);

/* Feeds body bytes. Returns: 0, -EBADMSG (mp->err says why), or a callback's value. */
int web_mp_feed(struct web_mp *mp, const char *data, size_t len);

/* The body has ended. Returns: 0 when the closing boundary was seen, else -EBADMSG. */
int web_mp_finish(struct web_mp *mp);

/* ---- web_server.c ------------------------------------------------------------------------- */

/* Answers an error with ThingsBoard's body; fmt builds the message. */
void web_error(struct web_resp *rs, unsigned status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Answers 200 with o (takes ownership; NULL answers 500). */
void web_reply_json(struct web_resp *rs, json_t *o);

/* Answers 200 with b's text (takes the buffer; out of memory answers 500). */
void web_reply_buf(struct web_resp *rs, struct web_buf *b);

/* Answers 500/46 "Database error" (storage failures). */
void web_reply_db_error(struct web_resp *rs);

/* Returns: the query argument name (percent-decoded by libmicrohttpd), or NULL. */
const char *web_query(struct web_req *rq, const char *name);

/* Calls fn for every query argument called name, in request order. */
void web_query_each(struct web_req *rq, const char *name, void (*fn)(void *arg, const char *value),
                    void *arg);

/* Returns: the request header name, or NULL. */
const char *web_header(struct web_req *rq, const char *name);

/* Writes the loop's eventfd (a downlink was queued). */
void web_wake_loop(struct web_server *srv);

/* Returns: the route for method and path, splitting rq->segs into rq->params; NULL if none.
 * *is_path_known tells a wrong method (405) from an unknown path (404). */
const struct web_route *web_route_find(struct web_req *rq, bool *is_path_known);

/* ---- web_auth.c --------------------------------------------------------------------------- */

/* Checks the bearer token of rq; fills user_id and jwt, or answers 401/403 and returns false. */
bool web_auth_check(struct web_req *rq, struct web_resp *rs);

/* Derives a user's UUID from the tenant seed and the user's row id. */
void web_user_uuid(const struct web_server *srv, int64_t user_id, char out[GW_STORE_UUID_LEN]);

/* Logs and stores the one-time setup token when no admin exists. Returns: 0, -EIO. */
int web_auth_setup_init(struct web_server *srv, struct gw_store *st);

void web_hnd_login(struct web_req *rq, struct web_resp *rs);
void web_hnd_token(struct web_req *rq, struct web_resp *rs);
void web_hnd_logout(struct web_req *rq, struct web_resp *rs);
void web_hnd_setup(struct web_req *rq, struct web_resp *rs);
void web_hnd_user(struct web_req *rq, struct web_resp *rs);
void web_hnd_change_password(struct web_req *rq, struct web_resp *rs);

/* ---- web_routes.c ------------------------------------------------------------------------- */

/* Checks the {} parameter i as a UUID. Returns: it, or NULL (400 answered). */
const char *web_param_uuid(struct web_req *rq, struct web_resp *rs, size_t i);

/* Resolves the {} parameter i to a device row id; answers 400 / 404 / 500 and returns != 0. */
int web_param_device(struct web_req *rq, struct web_resp *rs, size_t i, int64_t *id);

/* Reads the request's page link (specs/rest-api.md 2.5); answers 400 and returns -EINVAL. */
int web_page_of(struct web_req *rq, struct web_resp *rs, const char *const *sorts, size_t n_sorts,
                struct web_page *pg);

/* Answers a PageData with data (takes ownership) and the totals. */
void web_reply_page(struct web_resp *rs, json_t *data, int64_t total, const struct web_page *pg);

/* Returns: why t is not a valid access token (ThingsBoard's rules, 127 bytes at most), or NULL. */
const char *web_token_problem(const char *t);

/* Answers the Device with uuid, or (uuid NULL) the one called name; 404 when there is none. */
void web_reply_device(struct web_req *rq, struct web_resp *rs, const char *uuid, const char *name);

void web_hnd_health(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_save(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_with_credentials(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_get(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_info(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_delete(struct web_req *rq, struct web_resp *rs);
void web_hnd_devices(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_infos(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_by_name(struct web_req *rq, struct web_resp *rs);
void web_hnd_credentials_get(struct web_req *rq, struct web_resp *rs);
void web_hnd_credentials_save(struct web_req *rq, struct web_resp *rs);

/* ---- web_telemetry.c ---------------------------------------------------------------------- */

/* The requested keys, deduplicated: repeated key= parameters win over keys=a,b,c. */
struct web_keys {
    const char *keys[WEB_MAX_KEYS];
    bool is_found[WEB_MAX_KEYS];
    size_t n;
    bool is_overflow;
    char buf[WEB_KEYS_MAX];
    size_t used;
};

/* Reads the key list of the request into k; answers 400 and returns -EINVAL when too long. */
int web_keys_of(struct web_req *rq, struct web_resp *rs, struct web_keys *k);

/* Resolves {entityType}/{entityId} to a device row id; answers 400 / 404 / 500 on failure. */
int web_entity_device(struct web_req *rq, struct web_resp *rs, const char *type, const char *uuid,
                      int64_t *id);

/* Parses an attribute scope name. Returns: GW_SCOPE_*, or 0 for an unknown name. */
int web_scope_of(const char *s);

/* Parses an int64 query parameter; absent leaves *out (*is_present false). 400 when malformed. */
int web_query_int(struct web_req *rq, struct web_resp *rs, const char *name, int64_t *out,
                  bool *is_present);

void web_hnd_ts_keys(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_keys(struct web_req *rq, struct web_resp *rs);
void web_hnd_ts_values(struct web_req *rq, struct web_resp *rs);
void web_hnd_ts_history(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_values(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_save(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_save_old(struct web_req *rq, struct web_resp *rs);

/* ---- web_tswrite.c ------------------------------------------------------------------------ */

void web_hnd_ts_save(struct web_req *rq, struct web_resp *rs);
void web_hnd_ts_delete(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_delete(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_delete_old(struct web_req *rq, struct web_resp *rs);

/* ---- web_profiles.c, web_profile_save.c --------------------------------------------------- */

/* A DeviceProfile object (specs/rest-api.md 5.1) from a stored profile. */
json_t *web_profile_out(const struct gw_api_profile *p, const char *tenant_id);

/* Copies the name of the profile with uuid into name. Returns: 0, -ENOENT, -EIO. */
int web_profile_name(struct web_req *rq, const char *uuid, char *name, size_t len);

/* Answers the DeviceProfile with uuid (404 when there is none). */
void web_hnd_profile_reply(struct web_req *rq, struct web_resp *rs, const char *uuid);

void web_hnd_profile_save(struct web_req *rq, struct web_resp *rs);
void web_hnd_profile_get(struct web_req *rq, struct web_resp *rs);
void web_hnd_profile_delete(struct web_req *rq, struct web_resp *rs);
void web_hnd_profile_default(struct web_req *rq, struct web_resp *rs);
void web_hnd_profile_info(struct web_req *rq, struct web_resp *rs);
void web_hnd_profile_info_default(struct web_req *rq, struct web_resp *rs);
void web_hnd_profiles(struct web_req *rq, struct web_resp *rs);
void web_hnd_profile_infos(struct web_req *rq, struct web_resp *rs);

/* ---- web_ota.c, web_ota_upload.c, web_ota_assign.c ---------------------------------------- */

#define WEB_OTA_MAX_PACKAGE (16LL * 1024 * 1024)  /* OTA_MAX_PACKAGE_SIZE: one upload request */
#define WEB_OTA_MAX_TOTAL   (256LL * 1024 * 1024) /* OTA_MAX_TOTAL_SIZE: all packages */

/* An OtaPackageInfo object (specs/rest-api.md 6a.1). */
json_t *web_ota_info_out(const struct gw_api_ota *o, const char *tenant_id);

/* Answers the OtaPackageInfo with uuid; a 404 says "Requested item wasn't found!" when
 * is_generic_404, else "Ota package with id [..] is not found". */
void web_ota_reply_info(struct web_req *rq, struct web_resp *rs, const char *uuid,
                        bool is_generic_404);

/* Opens an unlinked temporary file in the data directory. Returns: the fd, or -1. */
int web_ota_tmpfile(struct web_server *srv);

void web_hnd_ota_save(struct web_req *rq, struct web_resp *rs);
void web_hnd_ota_info(struct web_req *rq, struct web_resp *rs);
void web_hnd_ota_get(struct web_req *rq, struct web_resp *rs);
void web_hnd_ota_download(struct web_req *rq, struct web_resp *rs);
void web_hnd_ota_page(struct web_req *rq, struct web_resp *rs);
void web_hnd_ota_page_profile(struct web_req *rq, struct web_resp *rs);
void web_hnd_ota_delete(struct web_req *rq, struct web_resp *rs);
void web_hnd_ota_count(struct web_req *rq, struct web_resp *rs);
void web_hnd_ota_upload(struct web_req *rq, struct web_resp *rs);
int web_ota_stream(struct web_req *rq, const char *data, size_t len);

/* The packages a device or profile save assigns, checked before the save (6a.6). */
struct web_ota_pick {
    int64_t ids[2];     /* [0] firmware, [1] software: package row ids, 0 = none */
    int64_t old_eff[2]; /* device: the effective packages before the save */
};

/*
 * Checks the firmwareId / softwareId members of a save body (ThingsBoard's assignment rules)
 * for an entity that will belong to profile profile_uuid (NULL: a profile not created yet).
 * device_id (0 for a new device or for a profile) gives the effective packages before the save.
 * Returns: 0 (pick filled), or != 0 with rs answered.
 */
int web_ota_check(struct web_req *rq, struct web_resp *rs, json_t *body, const char *profile_uuid,
                  int64_t device_id, struct web_ota_pick *pick);

/* web_ota_check() for a device save: the target profile is the one the save will pick. */
int web_ota_device_check(struct web_req *rq, struct web_resp *rs, json_t *body,
                         const struct gw_api_device_in *in, struct web_ota_pick *pick);

/* After a device save: its own packages, and the attributes when its effective ones changed. */
int web_ota_device_apply(struct web_req *rq, struct web_resp *rs, const char *device_uuid,
                         const struct web_ota_pick *pick);

/* After a profile save: its packages, and the attributes of the devices that follow it. */
int web_ota_profile_apply(struct web_req *rq, struct web_resp *rs, const char *profile_uuid,
                          const struct web_ota_pick *pick);

/* ---- web_import.c ------------------------------------------------------------------------- */

void web_hnd_bulk_import(struct web_req *rq, struct web_resp *rs);

/* ---- web_nbgate.c, web_metrics.c ---------------------------------------------------------- */

void web_hnd_pending_page(struct web_req *rq, struct web_resp *rs);
void web_hnd_pending_approve(struct web_req *rq, struct web_resp *rs);
void web_hnd_pending_reject(struct web_req *rq, struct web_resp *rs);
void web_hnd_pending_delete(struct web_req *rq, struct web_resp *rs);
void web_hnd_pending_events(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_events(struct web_req *rq, struct web_resp *rs);

/* ---- web_fleet.c: the fleet view in one answer (issue 9) ---------------------------------- */

void web_hnd_fleet(struct web_req *rq, struct web_resp *rs);

/* ---- web_efento.c: the Efento settings queue (specs/rest-api.md 9.4) ----------------------- */

void web_hnd_efento_queue(struct web_req *rq, struct web_resp *rs);
void web_hnd_efento_page(struct web_req *rq, struct web_resp *rs);
void web_hnd_efento_cancel(struct web_req *rq, struct web_resp *rs);

/* ---- web_downlinks.c: a device's whole downlink queue (docs/API.md) ------------------------- */

void web_hnd_downlinks_page(struct web_req *rq, struct web_resp *rs);
void web_hnd_downlinks_cancel(struct web_req *rq, struct web_resp *rs);

/* ---- web_dtls.c: the DTLS endpoint and its certificate (specs/rest-api.md 9.5) -------------- */

void web_hnd_dtls(struct web_req *rq, struct web_resp *rs);
void web_hnd_connectivity(struct web_req *rq, struct web_resp *rs);
void web_hnd_coaps_cert_download(struct web_req *rq, struct web_resp *rs);
void web_hnd_metrics(struct web_req *rq, struct web_resp *rs);

/* ---- web_rpc.c ---------------------------------------------------------------------------- */

void web_hnd_rpc_oneway(struct web_req *rq, struct web_resp *rs);
void web_hnd_rpc_twoway(struct web_req *rq, struct web_resp *rs);
void web_hnd_rpc_old_oneway(struct web_req *rq, struct web_resp *rs);
void web_hnd_rpc_old_twoway(struct web_req *rq, struct web_resp *rs);
void web_hnd_rpc_get(struct web_req *rq, struct web_resp *rs);
void web_hnd_rpc_page(struct web_req *rq, struct web_resp *rs);
void web_hnd_rpc_delete(struct web_req *rq, struct web_resp *rs);

/* ---- web_static.c: the admin page ---------------------------------------------------------- */

/* Returns: true for a GET or HEAD outside /api/ that no route claims (an admin page asset). */
bool web_static_is_page_request(struct web_req *rq);

/*
 * Queues the embedded asset for rq->path ("/" is /index.html), or a 404, with the page's
 * Content-Security-Policy and security headers; marks rq answered.
 * Returns: 0, -ENOMEM (no response object), -EIO (libmicrohttpd refused to queue it).
 */
int web_static_serve(struct web_req *rq);

#endif /* WEB_INTERNAL_H */
