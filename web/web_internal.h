/* SPDX-License-Identifier: MIT */
/*
 * web_internal.h - what the files of web/ share: the server object, one request and its answer,
 * the route table, the pure request-body parsers and answer builders of web_json.c, and the
 * handlers of web_auth.c, web_routes.c and web_telemetry.c. Nothing outside web/ (except its
 * tests and fuzz targets) includes this header.
 */
#ifndef WEB_INTERNAL_H
#define WEB_INTERNAL_H

#include <jansson.h>
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
    atomic_uint_fast64_t loop_alive; /* bumped by web_server_loop_alive() */
    int64_t start_ms;                /* wall clock at start */
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
    int64_t user_id;       /* the authenticated admin, 0 for public routes */
    struct gw_pki_jwt jwt; /* its token's claims */
    uint8_t peer_addr[16]; /* client address, IPv4 mapped into IPv6 */
    char peer[64];         /* client address as text, for the log */
};

/* The answer a handler builds. */
struct web_resp {
    unsigned status;
    char *body; /* heap text (free()), or NULL for an empty body */
    size_t len;
    const char *content_type; /* NULL = application/json */
};

typedef void (*web_handler_fn)(struct web_req *rq, struct web_resp *rs);

struct web_route {
    const char *method;
    const char *pattern; /* literal segments and {} for a parameter */
    bool is_public;      /* no token needed */
    web_handler_fn fn;
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

/* web_buf: appends; on failure is_oom is set and later appends do nothing. */
void web_buf_add(struct web_buf *b, const char *s, size_t len);
void web_buf_addf(struct web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void web_buf_str(struct web_buf *b, const char *s, size_t len); /* as a JSON string */
void web_buf_value(struct web_buf *b, const struct profile_value *v, bool is_strict);
void web_buf_fini(struct web_buf *b);

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

void web_hnd_health(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_save(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_get(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_info(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_delete(struct web_req *rq, struct web_resp *rs);
void web_hnd_devices(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_infos(struct web_req *rq, struct web_resp *rs);
void web_hnd_device_by_name(struct web_req *rq, struct web_resp *rs);
void web_hnd_credentials_get(struct web_req *rq, struct web_resp *rs);
void web_hnd_credentials_save(struct web_req *rq, struct web_resp *rs);

/* ---- web_telemetry.c ---------------------------------------------------------------------- */

void web_hnd_ts_keys(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_keys(struct web_req *rq, struct web_resp *rs);
void web_hnd_ts_values(struct web_req *rq, struct web_resp *rs);
void web_hnd_ts_history(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_values(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_save(struct web_req *rq, struct web_resp *rs);
void web_hnd_attr_save_old(struct web_req *rq, struct web_resp *rs);

#endif /* WEB_INTERNAL_H */
