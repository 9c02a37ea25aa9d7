/* SPDX-License-Identifier: MIT */
/*
 * web_auth.c - admin accounts over the API (specs/rest-api.md section 3): login, refresh,
 * logout, the current user, password change, the one-time setup token, the bearer-token check
 * every protected route runs, and the per-address limit on failed logins.
 *
 * Tokens are JWTs (gw_pki_jwt_*): an access token (scope TENANT_ADMIN) and a refresh token
 * (scope REFRESH_TOKEN) that share a session id. A session is a row in the store; logout and a
 * password change end it, and every request checks it, so an ended session's access token is
 * refused at once (401/11) even before it expires.
 *
 * Failed logins: each client address may fail login_failures_per_minute times in a minute;
 * further attempts get 429/33 without the password being checked (the PBKDF2 cost is not spent).
 * A successful login clears the address's count (every account is an administrator, so an
 * attacker who can log in gains nothing by it).
 * The limiter remembers WEB_LIMITER_SIZE addresses and replaces the least recently used one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "gateway/gw_log.h"
#include "web/web_internal.h"

#define WINDOW_MS 60000

/* A hash of a password nobody has, verified when the user does not exist (equal timing). */
#define DUMMY_HASH                                                                                 \
    "pbkdf2-sha256$600000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

static int64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void random_uuid(char out[GW_STORE_UUID_LEN])
{
    uint8_t b[16];

    gw_pki_random(b, sizeof(b));
    (void)snprintf(out, GW_STORE_UUID_LEN,
                   "%02x%02x%02x%02x-%02x%02x-4%x%02x-%x%x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                   b[1], b[2], b[3], b[4], b[5], b[6] & 0x0f, b[7], 8 | (b[8] & 0x3), b[8] >> 4,
                   b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

void web_user_uuid(const struct web_server *srv, int64_t user_id, char out[GW_STORE_UUID_LEN])
{
    uint8_t b[16];
    int i;

    memcpy(b, srv->tenant_seed, sizeof(b));
    b[0] ^= 0x5a; /* never equal to the tenant id */
    for (i = 0; i < 8; i++) {
        b[15 - i] ^= (uint8_t)((uint64_t)user_id >> (8 * i));
    }
    (void)snprintf(out, GW_STORE_UUID_LEN,
                   "%02x%02x%02x%02x-%02x%02x-4%x%02x-%x%x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                   b[1], b[2], b[3], b[4], b[5], b[6] & 0x0f, b[7], 8 | (b[8] & 0x3), b[8] >> 4,
                   b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ---- failed-login limiter ---------------------------------------------------------------- */

static struct web_limiter_entry *limiter_find(struct web_limiter *l, const uint8_t addr[16],
                                              bool is_create, int64_t now)
{
    struct web_limiter_entry *oldest = NULL;
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (memcmp(l->e[i].addr, addr, 16) == 0) {
            return &l->e[i];
        }
        if (oldest == NULL || l->e[i].last_ms < oldest->last_ms) {
            oldest = &l->e[i];
        }
    }
    if (!is_create) {
        return NULL;
    }
    if (l->n < WEB_LIMITER_SIZE) {
        oldest = &l->e[l->n++];
    }
    memset(oldest, 0, sizeof(*oldest));
    memcpy(oldest->addr, addr, 16);
    oldest->window_ms = now;
    return oldest;
}

/* Returns: seconds until the address may try again, 0 when it may try now. */
static int64_t limiter_wait_s(struct web_server *srv, const uint8_t addr[16])
{
    struct web_limiter_entry *e;
    int64_t now = mono_ms(), wait = 0;

    (void)pthread_mutex_lock(&srv->limiter.mu);
    e = limiter_find(&srv->limiter, addr, false, now);
    if (e != NULL && now - e->window_ms < WINDOW_MS &&
        e->failures >= srv->o.login_failures_per_minute) {
        wait = (e->window_ms + WINDOW_MS - now + 999) / 1000;
    }
    (void)pthread_mutex_unlock(&srv->limiter.mu);
    return wait;
}

static void limiter_fail(struct web_server *srv, const uint8_t addr[16])
{
    struct web_limiter_entry *e;
    int64_t now = mono_ms();

    (void)pthread_mutex_lock(&srv->limiter.mu);
    e = limiter_find(&srv->limiter, addr, true, now);
    if (now - e->window_ms >= WINDOW_MS) {
        e->window_ms = now;
        e->failures = 0;
    }
    e->failures++;
    e->last_ms = now;
    (void)pthread_mutex_unlock(&srv->limiter.mu);
}

/* Forgets the failures of an address after a successful login. */
static void limiter_reset(struct web_server *srv, const uint8_t addr[16])
{
    struct web_limiter_entry *e;

    (void)pthread_mutex_lock(&srv->limiter.mu);
    e = limiter_find(&srv->limiter, addr, false, mono_ms());
    if (e != NULL) {
        e->failures = 0;
    }
    (void)pthread_mutex_unlock(&srv->limiter.mu);
}

/* Answers 429 when the client address has failed too often. */
static bool limited(struct web_req *rq, struct web_resp *rs)
{
    int64_t wait = limiter_wait_s(rq->srv, rq->peer_addr);

    if (wait > 0) {
        web_error(rs, 429, WEB_E_TOO_MANY,
                  "Too many failed login attempts from this address, try again in %lld s",
                  (long long)wait);
        return true;
    }
    return false;
}

/* ---- tokens ------------------------------------------------------------------------------ */

/* Signs a new access and refresh token pair for user in session_id; answers it. */
static void reply_pair(struct web_req *rq, struct web_resp *rs, const struct gw_admin_user *u,
                       const char *session_id)
{
    struct web_server *srv = rq->srv;
    struct gw_pki_jwt c;
    char access[GW_PKI_JWT_MAX], refresh[GW_PKI_JWT_MAX];
    int rc;

    memset(&c, 0, sizeof(c));
    (void)snprintf(c.sub, sizeof(c.sub), "%s", u->username);
    web_user_uuid(srv, u->id, c.user_id);
    (void)snprintf(c.session_id, sizeof(c.session_id), "%s", session_id);
    (void)snprintf(c.tenant_id, sizeof(c.tenant_id), "%s", srv->tenant_id);
    (void)snprintf(c.customer_id, sizeof(c.customer_id), "%s", WEB_NO_CUSTOMER);
    c.iat_s = rq->now_ms / 1000;
    c.exp_s = c.iat_s + srv->o.jwt_ttl_s;
    rc = gw_pki_jwt_sign(srv->jwt_key, sizeof(srv->jwt_key), &c, access, sizeof(access));
    if (rc == 0) {
        c.is_refresh = true;
        c.exp_s = c.iat_s + srv->o.jwt_refresh_ttl_s;
        random_uuid(c.jti);
        rc = gw_pki_jwt_sign(srv->jwt_key, sizeof(srv->jwt_key), &c, refresh, sizeof(refresh));
    }
    if (rc != 0) {
        web_error(rs, 500, WEB_E_GENERAL, "Cannot sign the token");
        return;
    }
    web_reply_json(rs, json_pack("{s:s, s:s}", "token", access, "refreshToken", refresh));
}

/* Starts a session for u and answers its token pair. */
static void start_session(struct web_req *rq, struct web_resp *rs, const struct gw_admin_user *u)
{
    char session_id[GW_STORE_UUID_LEN];

    random_uuid(session_id);
    if (gw_store_admin_session_add(rq->st, session_id, u->id,
                                   rq->now_ms + rq->srv->o.jwt_refresh_ttl_s * 1000,
                                   rq->now_ms) != 0) {
        web_reply_db_error(rs);
        return;
    }
    reply_pair(rq, rs, u, session_id);
}

bool web_auth_check(struct web_req *rq, struct web_resp *rs)
{
    const char *h = web_header(rq, "X-Authorization");
    int rc;

    if (h == NULL) {
        h = web_header(rq, "Authorization");
    }
    if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0) {
        web_error(rs, 401, WEB_E_AUTH, "Authentication failed");
        return false;
    }
    h += 7;
    while (*h == ' ') {
        h++;
    }
    rc = gw_pki_jwt_verify(rq->srv->jwt_key, sizeof(rq->srv->jwt_key), h, rq->now_ms / 1000,
                           &rq->jwt);
    if (rc == -EBADMSG) {
        web_error(rs, 401, WEB_E_AUTH, "Invalid username or password");
        return false;
    }
    if (rc != 0) {
        web_error(rs, 401, WEB_E_EXPIRED, "Token has expired");
        return false;
    }
    if (rq->jwt.is_refresh) {
        web_error(rs, 403, WEB_E_PERMISSION,
                  "You don't have permission to perform this "
                  "operation!");
        return false;
    }
    rc = gw_store_admin_session_check(rq->st, rq->jwt.session_id, rq->now_ms, &rq->user_id);
    if (rc == -ENOENT) {
        web_error(rs, 401, WEB_E_EXPIRED, "Token has expired");
    } else if (rc != 0) {
        web_reply_db_error(rs);
    }
    return rc == 0;
}

/* ---- handlers ---------------------------------------------------------------------------- */

void web_hnd_login(struct web_req *rq, struct web_resp *rs)
{
    struct web_login_body b = { 0 };
    struct gw_admin_user u;
    char err[256];
    int rc;

    if (limited(rq, rs)) {
        return;
    }
    if (web_json_login(rq->body != NULL ? rq->body : "", rq->body_len, &b, err, sizeof(err)) != 0) {
        limiter_fail(rq->srv, rq->peer_addr);
        web_error(rs, 401, WEB_E_AUTH, "Authentication failed");
        return;
    }
    rc = gw_store_admin_by_name(rq->st, b.username, &u);
    if (rc == -EIO) {
        web_reply_db_error(rs);
    } else if (!gw_pki_password_verify(b.password, rc == 0 ? u.password_hash : DUMMY_HASH) ||
               rc != 0) {
        limiter_fail(rq->srv, rq->peer_addr);
        gw_log_notice("admin login failed user=\"%.64s\" peer=%s", b.username, rq->peer);
        web_error(rs, 401, WEB_E_AUTH, "Invalid username or password");
    } else {
        gw_log_info("admin login user=\"%s\" peer=%s", u.username, rq->peer);
        limiter_reset(rq->srv, rq->peer_addr);
        start_session(rq, rs, &u);
    }
    explicit_bzero(&u, sizeof(u));
    json_decref(b.root);
}

void web_hnd_token(struct web_req *rq, struct web_resp *rs)
{
    struct web_refresh_body b = { 0 };
    struct gw_admin_user u;
    struct gw_pki_jwt c;
    int64_t user_id = 0;
    char err[256];
    int rc;

    if (web_json_refresh(rq->body != NULL ? rq->body : "", rq->body_len, &b, err, sizeof(err)) !=
        0) {
        web_error(rs, 401, WEB_E_AUTH, "Authentication failed");
        return;
    }
    rc = gw_pki_jwt_verify(rq->srv->jwt_key, sizeof(rq->srv->jwt_key), b.refresh_token,
                           rq->now_ms / 1000, &c);
    if (rc == -EBADMSG || (rc == 0 && !c.is_refresh)) {
        web_error(rs, 401, WEB_E_AUTH, "Authentication failed");
    } else if (rc != 0) {
        web_error(rs, 401, WEB_E_EXPIRED, "Token has expired");
    } else if ((rc = gw_store_admin_session_check(rq->st, c.session_id, rq->now_ms, &user_id)) ==
               -ENOENT) {
        web_error(rs, 401, WEB_E_AUTH, "Token is outdated");
    } else if (rc != 0 || (rc = gw_store_admin_by_id(rq->st, user_id, &u)) == -EIO) {
        web_reply_db_error(rs);
    } else if (rc != 0) {
        web_error(rs, 401, WEB_E_AUTH, "Token is outdated");
    } else if (gw_store_admin_session_extend(
                   rq->st, c.session_id, rq->now_ms + rq->srv->o.jwt_refresh_ttl_s * 1000) != 0) {
        web_reply_db_error(rs);
    } else {
        reply_pair(rq, rs, &u, c.session_id);
    }
    json_decref(b.root);
}

void web_hnd_logout(struct web_req *rq, struct web_resp *rs)
{
    if (gw_store_admin_session_end(rq->st, rq->jwt.session_id) != 0) {
        web_reply_db_error(rs);
        return;
    }
    gw_log_info("admin logout user=\"%s\" peer=%s", rq->jwt.sub, rq->peer);
    rs->status = 200;
}

/* Checks a new user name and password; answers 400 and returns false when one is bad. */
static bool account_ok(struct web_resp *rs, const char *username, const char *password)
{
    long n = web_utf8_chars(password);
    size_t i;

    if (username[0] == '\0' || strlen(username) > WEB_NAME_MAX || web_utf8_chars(username) < 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "User name must be 1 to %d bytes of UTF-8",
                  WEB_NAME_MAX);
        return false;
    }
    for (i = 0; username[i] != '\0'; i++) {
        if ((unsigned char)username[i] < 0x20 || username[i] == 0x7f) {
            web_error(rs, 400, WEB_E_BAD_PARAMS, "User name must not contain control characters");
            return false;
        }
    }
    if (n < WEB_PASSWORD_MIN || n > WEB_PASSWORD_MAX) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Password must be %d to %d characters long",
                  WEB_PASSWORD_MIN, WEB_PASSWORD_MAX);
        return false;
    }
    return true;
}

/* Takes the setup token if given matches (constant time); it can be taken once. */
static bool take_setup_token(struct web_server *srv, const char *given)
{
    size_t len, i;
    uint8_t diff = 0;
    bool ok;

    (void)pthread_mutex_lock(&srv->setup_mu);
    len = strlen(srv->setup_token);
    ok = len > 0 && strlen(given) == len;
    for (i = 0; ok && i < len; i++) {
        diff = (uint8_t)(diff | (srv->setup_token[i] ^ given[i]));
    }
    ok = ok && diff == 0;
    if (ok) {
        explicit_bzero(srv->setup_token, sizeof(srv->setup_token));
    }
    (void)pthread_mutex_unlock(&srv->setup_mu);
    return ok;
}

static void setup_account(struct web_req *rq, struct web_resp *rs, const struct web_setup_body *b)
{
    char hash[GW_PKI_HASH_MAX];
    struct gw_admin_user u;
    int rc;

    if (gw_pki_password_hash(b->password, 0, hash, sizeof(hash)) != 0) {
        web_error(rs, 500, WEB_E_GENERAL, "Cannot hash the password");
        return;
    }
    rc = gw_store_admin_create(rq->st, b->username, hash, true, rq->now_ms, NULL);
    if (rc == -EEXIST) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "An admin user already exists");
    } else if (rc != 0 || gw_store_admin_by_name(rq->st, b->username, &u) != 0) {
        web_reply_db_error(rs);
    } else {
        gw_log_notice("admin user created by setup token user=\"%s\" peer=%s", u.username,
                      rq->peer);
        start_session(rq, rs, &u);
    }
}

void web_hnd_setup(struct web_req *rq, struct web_resp *rs)
{
    struct web_setup_body b = { 0 };
    char err[256];

    if (limited(rq, rs)) {
        return;
    }
    if (web_json_setup(rq->body != NULL ? rq->body : "", rq->body_len, &b, err, sizeof(err)) != 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
        return;
    }
    if (!account_ok(rs, b.username, b.password)) {
        json_decref(b.root);
        return;
    }
    if (!take_setup_token(rq->srv, b.setup_token)) {
        limiter_fail(rq->srv, rq->peer_addr);
        gw_log_notice("admin setup refused (wrong or used setup token) peer=%s", rq->peer);
        web_error(rs, 401, WEB_E_AUTH, "Invalid or used setup token");
    } else {
        setup_account(rq, rs, &b);
    }
    json_decref(b.root);
}

void web_hnd_user(struct web_req *rq, struct web_resp *rs)
{
    char uuid[GW_STORE_UUID_LEN];
    struct gw_admin_user u;
    int rc = gw_store_admin_by_id(rq->st, rq->user_id, &u);

    if (rc != 0) {
        web_reply_db_error(rs);
        return;
    }
    web_user_uuid(rq->srv, u.id, uuid);
    web_reply_json(rs,
                   json_pack("{s:o, s:I, s:o, s:o, s:s, s:s, s:s, s:n, s:n, s:n, s:{}, s:i}", "id",
                             web_json_id("USER", uuid), "createdTime", (json_int_t)u.created_ms,
                             "tenantId", web_json_id("TENANT", rq->srv->tenant_id), "customerId",
                             web_json_id("CUSTOMER", WEB_NO_CUSTOMER), "email", u.username, "name",
                             u.username, "authority", u.authority, "firstName", "lastName", "phone",
                             "additionalInfo", "version", 1));
    explicit_bzero(&u, sizeof(u));
}

void web_hnd_change_password(struct web_req *rq, struct web_resp *rs)
{
    struct web_password_body b = { 0 };
    char hash[GW_PKI_HASH_MAX], err[256];
    struct gw_admin_user u;

    if (web_json_password(rq->body != NULL ? rq->body : "", rq->body_len, &b, err, sizeof(err)) !=
        0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "%s", err);
        return;
    }
    if (gw_store_admin_by_id(rq->st, rq->user_id, &u) != 0) {
        web_reply_db_error(rs);
    } else if (!gw_pki_password_verify(b.current_password, u.password_hash)) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "Current password doesn't match!");
    } else if (strcmp(b.current_password, b.new_password) == 0) {
        web_error(rs, 400, WEB_E_BAD_PARAMS, "New password should be different from existing!");
    } else if (account_ok(rs, u.username, b.new_password)) {
        if (gw_pki_password_hash(b.new_password, 0, hash, sizeof(hash)) != 0 ||
            gw_store_admin_set_password(rq->st, u.id, hash) != 0) {
            web_reply_db_error(rs);
        } else {
            gw_log_notice("admin password changed user=\"%s\" peer=%s", u.username, rq->peer);
            start_session(rq, rs, &u);
        }
    }
    explicit_bzero(&u, sizeof(u));
    json_decref(b.root);
}

int web_auth_setup_init(struct web_server *srv, struct gw_store *st)
{
    uint8_t b[16];
    int64_t n = 0;
    size_t i;

    if (gw_store_admin_count(st, &n) != 0) {
        return -EIO;
    }
    if (n > 0) {
        return 0;
    }
    gw_pki_random(b, sizeof(b));
    for (i = 0; i < sizeof(b); i++) {
        (void)snprintf(srv->setup_token + 2 * i, 3, "%02x", b[i]);
    }
    gw_log_notice("no admin user yet: run `nbgate admin create USER`, or POST /api/nbgate/setup "
                  "with {\"setupToken\":\"%s\",\"username\":..,\"password\":..} (usable once)",
                  srv->setup_token);
    return 0;
}
