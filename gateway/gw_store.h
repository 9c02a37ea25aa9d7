/* SPDX-License-Identifier: MIT */
/*
 * gw_store.h - nbgate's SQLite store: devices, credentials, profiles, time series, attributes,
 * the downlink queue, events, pending devices and admin users.
 *
 * SQLite in WAL mode is the single source of truth. Each thread (the CoAP loop, the admin
 * threads, the command-line tool) opens its own struct gw_store on the same file. Every write is
 * one transaction; a function that returns 0 after a write has committed it, so the caller may
 * then acknowledge the device. Values keep their type (enum profile_value_type).
 * Thread: a struct gw_store is used by one thread at a time.
 */
#ifndef GW_STORE_H
#define GW_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiles/profile.h"

#define GW_STORE_NAME_MAX  256 /* bytes of a device or profile name, with NUL */
#define GW_STORE_TOKEN_MAX 128 /* bytes of an access token, with NUL */

struct gw_store;

/* Attribute scopes, as ThingsBoard names them. */
enum gw_attr_scope {
    GW_SCOPE_CLIENT = 1,
    GW_SCOPE_SHARED = 2,
    GW_SCOPE_SERVER = 3,
};

struct gw_store_opts {
    bool is_durable_full;             /* synchronous=FULL (power loss) or NORMAL (process) */
    int64_t wal_autocheckpoint_pages; /* 0 disables automatic checkpoints */
    int64_t journal_size_limit_bytes; /* WAL size kept after a checkpoint */
    int64_t busy_timeout_ms;          /* wait this long for another connection's lock */
    int64_t events_per_device;        /* device event log entries kept; 0 = 1000 */
};

/* What the CoAP API needs to know about an authenticated device. */
struct gw_device_ref {
    int64_t id;
    int64_t profile_id;
    char name[GW_STORE_NAME_MAX];
};

/* One row of a device listing. */
struct gw_device_info {
    int64_t id;
    char name[GW_STORE_NAME_MAX];
    char profile[GW_STORE_NAME_MAX];
    char token[GW_STORE_TOKEN_MAX];
    int64_t created_ms;
    int64_t last_activity_ms;      /* 0 = never seen */
    int64_t inactivity_timeout_ms; /* server attribute, else the profile's, else the default */
    char reachability[96];         /* as the daemon last described it, or "" */
    bool is_active;                /* now < last activity + inactivity timeout */
};

/*
 * Opens (creating and migrating when needed) the database at path.
 * Returns: 0, -EIO (err says why), -ENOMEM.
 * Ownership: caller owns *out, close with gw_store_close().
 */
int gw_store_open(const char *path, const struct gw_store_opts *opts, struct gw_store **out,
                  char *err, size_t err_len);

/* Finalises every statement and closes the connection. NULL is a no-op. */
void gw_store_close(struct gw_store *st);

/*
 * Finds the device whose access token is token (case-sensitive, token_len bytes).
 * Returns: 0, -ENOENT (no such token), -EIO.
 */
int gw_store_device_by_token(struct gw_store *st, const char *token, size_t token_len,
                             struct gw_device_ref *out);

/* Finds a device by name. Returns: 0, -ENOENT, -EIO. */
int gw_store_device_by_name(struct gw_store *st, const char *name, struct gw_device_ref *out);

/*
 * Stores every record of batch as telemetry of device_id (one transaction; a record with the same
 * key and ts replaces the stored one), updates the latest values and the device's last activity
 * (now_ms; 0 leaves it), all in one transaction.
 * Returns: 0 (committed), -EIO (nothing stored).
 */
int gw_store_insert_telemetry(struct gw_store *st, int64_t device_id,
                              const struct profile_batch *batch, int64_t now_ms);

/*
 * Saves every record of batch as an attribute of scope, with last-update time now_ms; with
 * is_activity (an uplink) also the device's last activity; one transaction. Returns: 0
 * (committed), -EIO (nothing stored).
 */
int gw_store_save_attributes(struct gw_store *st, int64_t device_id, enum gw_attr_scope scope,
                             const struct profile_batch *batch, int64_t now_ms, bool is_activity);

/* Records how the device can be reached now (shown to the operator). Returns: 0, -EIO. */
int gw_store_device_reachability(struct gw_store *st, int64_t device_id, const char *text);

/* Records the device's last activity time. Returns: 0, -EIO. */
int gw_store_touch_activity(struct gw_store *st, int64_t device_id, int64_t now_ms);

/*
 * Groups the store calls made until gw_store_batch_end into one transaction: each call keeps
 * its own all-or-nothing behaviour (a savepoint) and nothing is committed before the end (an
 * auto-accepted Efento sensor is created together with its first frame, R2.6). Not nestable.
 * Returns: 0, -EIO.
 */
int gw_store_batch_begin(struct gw_store *st);

/* Commits the batch when rc is 0, else rolls all of it back. Returns: rc, or -EIO. */
int gw_store_batch_end(struct gw_store *st, int rc);

/*
 * Creates devices. With count 0 one device named name with token (NULL or "" = a generated
 * 20-character token); with count N > 0, devices name-0 .. name-(N-1) with tokens token-0 ..
 * (token required). profile NULL means the default profile. All in one transaction.
 * token_out receives the (first) device's token.
 * Returns: 0, -EEXIST (name or token taken), -ENOENT (no such profile), -EINVAL, -EIO.
 */
int gw_store_device_add(struct gw_store *st, const char *name, const char *token,
                        const char *profile, unsigned count, int64_t now_ms, char *token_out,
                        size_t token_out_len, char *err, size_t err_len);

/* Called once per row by the listing functions; a non-zero return stops the walk. */
typedef int (*gw_store_device_fn)(void *arg, const struct gw_device_info *d);
typedef int (*gw_store_kv_fn)(void *arg, const char *key, int64_t ts_ms,
                              const struct profile_value *v, int scope);

/*
 * Lists every device in name order with its activity as of now_ms (default_timeout_ms applies when
 * neither the device's server attribute inactivityTimeout nor its profile sets one).
 * Returns: 0, -EIO, or the callback's non-zero value.
 */
int gw_store_device_list(struct gw_store *st, int64_t now_ms, int64_t default_timeout_ms,
                         gw_store_device_fn fn, void *arg);

/*
 * Walks a device's telemetry: the latest value per key (history false) or every stored value
 * (history true, newest first, at most limit rows), restricted to keys (NULL = all).
 * Returns: 0, -EIO, or the callback's value.
 */
int gw_store_telemetry_walk(struct gw_store *st, int64_t device_id, const char *const *keys,
                            size_t n_keys, bool history, int64_t limit, gw_store_kv_fn fn,
                            void *arg);

/* Walks a device's attributes of every scope (scope 0) or one scope. Returns: 0, -EIO, cb's. */
int gw_store_attributes_walk(struct gw_store *st, int64_t device_id, int scope, gw_store_kv_fn fn,
                             void *arg);

/* Appends an event to the device's log (type e.g. "UPLINK", body JSON or NULL). */
int gw_store_event_add(struct gw_store *st, int64_t device_id, int64_t ts_ms, const char *type,
                       const char *body);

/* ---- downlink queue and shared attributes (gw_store_downlink.c) ---- */

/* Downlink kinds and states as stored (spec 16.8). */
enum gw_dl_kind {
    GW_DL_RPC = 1,
    GW_DL_ATTRIBUTES = 2,
    GW_DL_EFENTO_CONFIG = 3,
};

enum gw_dl_state {
    GW_DL_QUEUED = 1,
    GW_DL_SENT,
    GW_DL_DELIVERED,
    GW_DL_SUCCESSFUL,
    GW_DL_TIMEOUT,
    GW_DL_EXPIRED,
    GW_DL_FAILED,
};

#define GW_DL_GROUP_MAX 64 /* waiting attribute updates merged into one notification */

/* The next thing to send to a device: one RPC, or the merge of its waiting attribute updates. */
struct gw_dl_next {
    enum gw_dl_kind kind;
    int64_t ids[GW_DL_GROUP_MAX]; /* the entries this send completes (1 for an RPC) */
    size_t n_ids;
    int32_t rpc_id;
    bool is_oneway;
    char *payload; /* RPC: {"id":N,"method":..,"params":..}; attributes: {k:v,..,"deleted":[..]} */
    size_t payload_len;
    char **updated; /* attributes: the keys with a value in payload (for Protobuf devices) */
    size_t n_updated;
    char **deleted; /* attributes: the deleted keys */
    size_t n_deleted;
};

/* Returns: the state's name ("QUEUED" ...), or "?" . */
const char *gw_dl_state_name(enum gw_dl_state s);

/*
 * Queues a server-side RPC for device_id. params_json is JSON text or NULL (null). The RPC id is
 * the device's next id not used by an unfinished RPC.
 * Returns: 0 (id_out, rpc_id_out set), -ENOSPC (max_queued unfinished downlinks), -ENOENT, -EIO.
 */
int gw_store_rpc_queue(struct gw_store *st, int64_t device_id, const char *method,
                       const char *params_json, bool is_oneway, int64_t expiration_ms,
                       int64_t now_ms, int64_t max_queued, int64_t *id_out, int32_t *rpc_id_out);

/*
 * Sets shared attributes (batch, may be empty) and deletes shared keys (deleted[0..n_deleted)),
 * and queues one attribute-update downlink carrying both, in one transaction.
 * Returns: 0, -ENOSPC (queue full), -EIO.
 */
int gw_store_shared_update(struct gw_store *st, int64_t device_id,
                           const struct profile_batch *batch, const char *const *deleted,
                           size_t n_deleted, int64_t now_ms, int64_t expiration_ms,
                           int64_t max_queued);

/*
 * Finds the oldest downlink that can be sent now given which observations exist, expiring the
 * waiting entries whose expiry has passed on the way. Attribute updates waiting together are
 * merged (latest value per key, every deletion kept unless a later update sets the key again).
 * Returns: 0 (out filled; free with gw_dl_next_fini), -ENOENT (nothing sendable), -EIO.
 */
int gw_store_dl_next(struct gw_store *st, int64_t device_id, bool has_rpc_obs, bool has_attr_obs,
                     int64_t now_ms, struct gw_dl_next *out);

/* Releases the payload of a gw_dl_next. */
void gw_dl_next_fini(struct gw_dl_next *n);

/*
 * Moves entries to a new state (and logs the change as a device event). For GW_DL_TIMEOUT the try
 * count grows and an entry past its retries becomes FAILED. response_json (or NULL) is stored.
 * Returns: 0, -EIO.
 */
int gw_store_dl_set_state(struct gw_store *st, int64_t device_id, const int64_t *ids, size_t n,
                          enum gw_dl_state state, const char *response_json, int64_t now_ms);

/*
 * Claims the entries a gw_store_dl_next() picked for a send: in one transaction, all of them
 * move to SENT (events logged) if every one is still QUEUED or TIMEOUT; otherwise nothing
 * changes (one was cancelled or moved meanwhile by another connection, so the rendered payload
 * is stale and must not leave). Call it before sending.
 * Returns: 0, -EAGAIN (pick again), -EIO.
 */
int gw_store_dl_claim(struct gw_store *st, int64_t device_id, const int64_t *ids, size_t n,
                      int64_t now_ms);

/*
 * The device answered RPC rpc_id: a two-way entry waiting for it becomes SUCCESSFUL.
 * Returns: 0, -ENOENT (no such waiting RPC: late or unknown id), -EIO.
 */
int gw_store_rpc_response(struct gw_store *st, int64_t device_id, int32_t rpc_id,
                          const char *response_json, int64_t now_ms);

/* Puts delivered-but-unanswered two-way RPCs of a device back in the queue (new observation). */
int gw_store_rpc_requeue_delivered(struct gw_store *st, int64_t device_id, int64_t now_ms);

/*
 * At start: entries left SENT by a previous run have an unknown outcome. They count as a try that
 * timed out (TIMEOUT, or FAILED past their retries) and are sent again in the next window.
 * Returns: the number of entries, or -EIO.
 */
int gw_store_dl_recover(struct gw_store *st, int64_t now_ms);

/* Expires every waiting entry whose expiry has passed. Returns: the count, or -EIO. */
int gw_store_dl_expire(struct gw_store *st, int64_t now_ms);

/*
 * Calls fn(arg, device_id) for every device with a downlink created after *last_id, and advances
 * *last_id. Returns: 0, -EIO.
 */
int gw_store_dl_new_devices(struct gw_store *st, int64_t *last_id,
                            void (*fn)(void *arg, int64_t device_id), void *arg);

/* One row of a downlink listing. */
struct gw_dl_info {
    int64_t id;
    enum gw_dl_kind kind;
    enum gw_dl_state state;
    int32_t rpc_id;
    bool is_oneway;
    int64_t retries;
    int64_t created_ms, expiration_ms;
    const char *method;   /* borrowed for the callback's duration; may be NULL */
    const char *body;     /* borrowed; may be NULL */
    const char *response; /* borrowed; may be NULL */
};

/* Lists a device's downlinks (id order; limit 0 = all). Returns: 0, -EIO, or fn's value. */
int gw_store_dl_list(struct gw_store *st, int64_t device_id, int64_t limit,
                     int (*fn)(void *arg, const struct gw_dl_info *d), void *arg);

/* Reads one downlink by id. Returns: 0, -ENOENT, -EIO (fn called once). */
int gw_store_dl_get(struct gw_store *st, int64_t id,
                    int (*fn)(void *arg, const struct gw_dl_info *d), void *arg);

/* Deletes one attribute key of a scope without queuing anything. Returns: 0, -EIO. */
int gw_store_attribute_delete(struct gw_store *st, int64_t device_id, enum gw_attr_scope scope,
                              const char *key);

/* ---- admin accounts and API (gw_store_accounts.c, gw_store_admin.c) ---- */

#define GW_STORE_HASH_MAX 256 /* bytes of an encoded password hash, with NUL */
#define GW_STORE_UUID_LEN 37  /* a UUID in text form and a NUL */

/* An admin user of the JSON API. */
struct gw_admin_user {
    int64_t id;
    char username[GW_STORE_NAME_MAX];
    char password_hash[GW_STORE_HASH_MAX]; /* gw_pki_password_hash() text */
    char authority[32];                    /* "TENANT_ADMIN" */
    int64_t created_ms;
};

/* Counts admin users. Returns: 0 (*n set), -EIO. Thread: any thread with its own store. */
int gw_store_admin_count(struct gw_store *st, int64_t *n);

/*
 * Creates an admin user. With is_first it succeeds only while no admin exists (the one-time setup
 * token's rule), checked in the same transaction.
 * Returns: 0 (*id_out set when not NULL), -EEXIST (name taken, or is_first and an admin exists),
 * -EIO.
 */
int gw_store_admin_create(struct gw_store *st, const char *username, const char *password_hash,
                          bool is_first, int64_t now_ms, int64_t *id_out);

/* Finds an admin user by name or by id. Returns: 0, -ENOENT, -EIO. */
int gw_store_admin_by_name(struct gw_store *st, const char *username, struct gw_admin_user *out);
int gw_store_admin_by_id(struct gw_store *st, int64_t id, struct gw_admin_user *out);

/* Replaces a password hash and ends every session of the user (one transaction). Returns: 0,
 * -ENOENT, -EIO. */
int gw_store_admin_set_password(struct gw_store *st, int64_t user_id, const char *password_hash);

/*
 * Login sessions: one admin_token row per session (jti = session id, kind REFRESH) that lives
 * until its newest refresh token expires. _add also drops sessions expired before now_ms.
 * _check gives the session's user (0, -ENOENT when unknown, ended or expired, -EIO); _extend
 * moves the expiry to expiration_ms if later; _end ends it (0 also when already ended).
 */
int gw_store_admin_session_add(struct gw_store *st, const char *session_id, int64_t user_id,
                               int64_t expiration_ms, int64_t now_ms);
int gw_store_admin_session_check(struct gw_store *st, const char *session_id, int64_t now_ms,
                                 int64_t *user_id);
int gw_store_admin_session_extend(struct gw_store *st, const char *session_id,
                                  int64_t expiration_ms);
int gw_store_admin_session_end(struct gw_store *st, const char *session_id);

/* Checks that the database can be locked for writing (BEGIN IMMEDIATE, ROLLBACK). 0, -EIO. */
int gw_store_admin_ping(struct gw_store *st);

/* Why an API write was refused. */
enum gw_api_fail {
    GW_API_OK = 0,
    GW_API_NO_DEVICE,   /* -ENOENT: no device with that uuid */
    GW_API_NO_PROFILE,  /* -ENOENT: no profile with that uuid */
    GW_API_NAME_TAKEN,  /* -EEXIST: another device has the name */
    GW_API_TOKEN_TAKEN, /* -EEXIST: another device has the credentials id */
};

/* A device as the admin API shows it. Strings are borrowed for the callback's duration. */
struct gw_api_device {
    int64_t id;
    const char *uuid;
    const char *name;
    const char *label;        /* NULL = JSON null */
    const char *profile_name; /* the device's "type" */
    const char *profile_uuid;
    const char *profile_transport; /* the profile's transportType, NULL if unset */
    const char *additional_info;   /* JSON text or NULL */
    const char *transport_json;    /* deviceData.transportConfiguration JSON text or NULL */
    int64_t created_ms;
    int64_t last_activity_ms; /* 0 = never */
    bool is_active;           /* now < last activity + inactivity timeout */
    const char *fw_uuid;      /* the device's own firmware package, or NULL */
    const char *sw_uuid;      /* its own software package, or NULL */
    const char *reachability; /* when the loop can reach it ("PSM: awake until ..."), or NULL */
};

typedef int (*gw_store_api_device_fn)(void *arg, const struct gw_api_device *d);

enum gw_api_sort {
    GW_API_SORT_CREATED = 0,
    GW_API_SORT_NAME,
    GW_API_SORT_LABEL,
    GW_API_SORT_TYPE, /* profile name */
};

/* What a device listing asks for (ThingsBoard's page link plus filters). */
struct gw_api_device_query {
    int64_t page_size;        /* >= 1 */
    int64_t page;             /* >= 0 */
    const char *text_search;  /* NULL, or a case-insensitive substring of name or label */
    bool is_search_type;      /* text_search also matches the profile name */
    const char *type;         /* NULL, or an exact profile name */
    const char *profile_uuid; /* NULL, or the profile's uuid */
    int active;               /* -1 any, 0 inactive only, 1 active only */
    enum gw_api_sort sort;    /* then createdTime, then id */
    bool is_desc;
    int64_t now_ms;                /* for the activity rule */
    int64_t default_inactivity_ms; /* timeout of a device without inactivityTimeout */
};

/*
 * Walks one page of devices and counts every match into *total.
 * Returns: 0, -EIO, or the callback's non-zero value.
 */
int gw_store_api_device_page(struct gw_store *st, const struct gw_api_device_query *q,
                             int64_t *total, gw_store_api_device_fn fn, void *arg);

/*
 * Finds one device by uuid (name NULL) or by exact name (uuid NULL) and calls fn once.
 * Returns: 0, -ENOENT, -EIO, or the callback's value.
 */
int gw_store_api_device_get(struct gw_store *st, const char *uuid, const char *name, int64_t now_ms,
                            int64_t default_inactivity_ms, gw_store_api_device_fn fn, void *arg);

/* ---- the fleet view (gw_store_fleet.c) ---------------------------------------------------- */

/* A device's state as the fleet view shows it; also the order of sorting by state. */
enum gw_fleet_state {
    GW_FLEET_ACTIVE = 0,     /* a message within its inactivity timeout */
    GW_FLEET_INACTIVE = 1,   /* seen, but not within the timeout */
    GW_FLEET_NEVER_SEEN = 2, /* no message yet */
};

/* Where an effective setting comes from. */
enum gw_fleet_source {
    GW_FLEET_SRC_NONE = 0, /* unknown */
    GW_FLEET_SRC_DEVICE,   /* the device's own attribute */
    GW_FLEET_SRC_PROFILE,  /* its profile's profileData.configuration */
    GW_FLEET_SRC_GATEWAY,  /* the gateway's default (inactivity timeout only) */
};

enum gw_fleet_sort {
    GW_FLEET_SORT_NAME = 0,
    GW_FLEET_SORT_LAST_ACTIVITY,
    GW_FLEET_SORT_STATE, /* enum gw_fleet_state order */
};

/* What a fleet page asks for. Strings are borrowed for the call. */
struct gw_fleet_query {
    int64_t page_size;        /* 1..1000 */
    int64_t page;             /* >= 0 */
    const char *text_search;  /* NULL, or a case-insensitive substring of name, label, profile */
    const char *profile_uuid; /* NULL, or only the devices of this profile */
    const char *device_uuid;  /* NULL, or only this device (the device page) */
    int state;                /* -1 any, else an enum gw_fleet_state */
    enum gw_fleet_sort sort;  /* then name, then row id */
    bool is_desc;             /* the first sort key descending */
    int64_t now_ms;           /* for the activity rule */
    int64_t default_inactivity_ms; /* the gateway's default_inactivity_timeout_s in ms */
};

/* The latest value of the first present key of a list (battery, signal). */
struct gw_fleet_reading {
    const char *key; /* NULL = none of the keys has a value */
    int64_t ts_ms;
    struct profile_value value; /* text borrowed like the key */
};

/* One device of a fleet page. Strings are borrowed for the callback's duration. */
struct gw_fleet_device {
    const char *uuid;
    const char *name;
    const char *label; /* NULL = none */
    const char *profile_name;
    const char *profile_uuid;
    enum gw_fleet_state state;
    int64_t last_activity_ms;               /* 0 = never */
    int64_t inactivity_timeout_ms;          /* the effective one */
    enum gw_fleet_source inactivity_source; /* DEVICE, PROFILE or GATEWAY */
    int64_t expected_interval_ms;           /* between uplinks; 0 = unknown */
    enum gw_fleet_source expected_source; /* PROFILE, DEVICE (Efento transmissionInterval), NONE */
    int64_t next_uplink_ms;               /* last activity + expected interval; 0 = unknown */
    struct gw_fleet_reading battery; /* battery, battery_level, battery_voltage, batteryLevel */
    struct gw_fleet_reading signal;  /* signal, signal_strength, rssi, rsrp, RSRP, RSSI */
    int64_t pending_downlinks;       /* unfinished downlinks of every kind */
};

/* Totals of a fleet query. */
struct gw_fleet_summary {
    int64_t total; /* devices matching text_search and profile_uuid (the state filter aside) */
    int64_t active, inactive, never_seen; /* of those, by state */
    int64_t devices_with_pending;         /* of those, devices with an unfinished downlink */
    int64_t pending_downlinks;            /* their unfinished downlinks */
    int64_t matches;                      /* devices matching every filter (the paged list) */
};

typedef int (*gw_store_fleet_fn)(void *arg, const struct gw_fleet_device *d);

/*
 * Answers one page of the fleet view: fills *sum over the filtered fleet, then calls fn for each
 * device of the page in order. Two queries, whatever the page size. The activity rule is the one
 * of gw_store_api_device_page(); the expected uplink interval is the profile's
 * profileData.configuration.expectedUplinkInterval, else (Efento profiles) the device's reported
 * client attribute transmissionInterval (seconds); unfinished downlinks are QUEUED, SENT,
 * TIMEOUT (to be retried) and DELIVERED two-way RPCs, as the queue limit counts them.
 * Returns: 0, -EIO, or the callback's non-zero value.
 */
int gw_store_fleet_page(struct gw_store *st, const struct gw_fleet_query *q,
                        struct gw_fleet_summary *sum, gw_store_fleet_fn fn, void *arg);

/* Resolves a device uuid to its row id. Returns: 0, -ENOENT, -EIO. */
int gw_store_api_device_id(struct gw_store *st, const char *uuid, int64_t *id);

/* A device to create (uuid NULL) or update. */
struct gw_api_device_in {
    const char *uuid;            /* NULL = create */
    const char *name;            /* required */
    const char *label;           /* NULL = null */
    const char *profile_uuid;    /* NULL: the profile named type, created if missing */
    const char *type;            /* NULL with profile_uuid NULL: the default profile */
    const char *additional_info; /* JSON text or NULL */
    const char *transport_json;  /* JSON text or NULL */
    const char *access_token;    /* create only; NULL = 20 random letters and digits */
};

/*
 * Creates or updates a device (and on create its ACCESS_TOKEN credential) in one transaction.
 * Returns: 0 (uuid_out set), -ENOENT / -EEXIST (*fail says which), -EIO.
 */
int gw_store_api_device_save(struct gw_store *st, const struct gw_api_device_in *in, int64_t now_ms,
                             char uuid_out[GW_STORE_UUID_LEN], enum gw_api_fail *fail);

/* Deletes a device and everything that belongs to it. Returns: 0, -ENOENT, -EIO. */
int gw_store_api_device_delete(struct gw_store *st, const char *uuid);

/* A device's credential; strings borrowed for the callback's duration. */
struct gw_api_credentials {
    const char *uuid;
    const char *device_uuid;
    const char *type;           /* "ACCESS_TOKEN" or "X509_CERTIFICATE" */
    const char *credentials_id; /* token or certificate fingerprint */
    const char *value;          /* certificate text or NULL */
    int64_t created_ms;
};

/* Reads the credential of a device. Returns: 0, -ENOENT (no device or none), -EIO, fn's. */
int gw_store_api_credentials_get(struct gw_store *st, const char *device_uuid,
                                 int (*fn)(void *arg, const struct gw_api_credentials *c),
                                 void *arg);

/*
 * Replaces (or adds) the credential of a device.
 * Returns: 0, -ENOENT (no device), -EEXIST (credentials id taken), -EIO; *fail says which.
 */
int gw_store_api_credentials_set(struct gw_store *st, const char *device_uuid, const char *type,
                                 const char *credentials_id, const char *value, int64_t now_ms,
                                 enum gw_api_fail *fail);

/*
 * Walks the stored values of one telemetry key with start_ms <= ts < end_ms, newest first (or
 * oldest first with is_asc), at most limit rows. Returns: 0, -EIO, or the callback's value.
 */
int gw_store_api_ts_history(struct gw_store *st, int64_t device_id, const char *key,
                            int64_t start_ms, int64_t end_ms, int64_t limit, bool is_asc,
                            gw_store_kv_fn fn, void *arg);

/* One line of a bulk import (specs/rest-api.md 4.8); NULL members are empty cells. */
struct gw_api_import_line {
    const char *name;        /* required: the match key */
    const char *type;        /* profile name (created if missing); NULL: keep / the default */
    const char *label;       /* NULL: keep / none */
    const char *description; /* additionalInfo.description; NULL: keep */
    int is_gateway;          /* additionalInfo.gateway: -1 keep, 0, 1 */
    const char *cred_type;   /* "ACCESS_TOKEN", "X509_CERTIFICATE", or NULL: keep / generated */
    const char *cred_id;     /* the token or the certificate's fingerprint */
    const char *cred_value;  /* the certificate's base64 body, or NULL */
    const struct profile_batch *server;    /* server attributes, or NULL */
    const struct profile_batch *telemetry; /* time series stamped now_ms, or NULL */
    bool is_update_values; /* write server attributes and time series of an existing device */
};

/*
 * Creates the device of a line, or updates the existing one with that name, with its credential
 * and values, in one transaction. *is_created tells which.
 * Returns: 0 (*device_id set), -EEXIST (*fail: the credentials id is taken), -ENOENT, -EIO.
 */
int gw_store_api_import_line(struct gw_store *st, const struct gw_api_import_line *l,
                             int64_t now_ms, int64_t *device_id, bool *is_created,
                             enum gw_api_fail *fail);

/* Resolves a device uuid to its row id, profile and name. Returns: 0, -ENOENT, -EIO. */
int gw_store_api_device_ref(struct gw_store *st, const char *uuid, struct gw_device_ref *out);

/* ---- admin API: RPC (gw_store_rpc.c) ---- */

/* A server-side RPC to queue from the admin API (specs/rest-api.md 7.1). */
struct gw_api_rpc_in {
    int64_t device_id;
    const char *uuid;            /* requestUUID (lower-case), or NULL = a random one */
    const char *method;          /* required */
    const char *params_json;     /* JSON text, NULL = null */
    bool is_oneway;              /* no answer expected */
    bool is_persistent;          /* listed by the persistent-RPC routes */
    int64_t max_retries;         /* resend attempts after a delivery timeout */
    int64_t expiration_ms;       /* wall clock; unfinished after it: EXPIRED */
    const char *additional_info; /* JSON text or NULL */
};

/*
 * Queues an RPC (state QUEUED, the device's next free RPC id, a DOWNLINK event) in one
 * transaction. uuid_out receives the RPC's uuid.
 * Returns: 0 (*id_out = the downlink row), -ENOSPC (max_queued unfinished downlinks), -EEXIST
 * (the uuid is taken), -ENOENT (no such device), -EIO.
 */
int gw_store_api_rpc_queue(struct gw_store *st, const struct gw_api_rpc_in *in, int64_t now_ms,
                           int64_t max_queued, int64_t *id_out, char uuid_out[GW_STORE_UUID_LEN]);

/* An RPC as the admin API shows it; strings borrowed for the callback's duration. */
struct gw_api_rpc {
    int64_t id; /* downlink row */
    const char *uuid;
    const char *device_uuid;
    enum gw_dl_state state;
    bool is_oneway, is_persistent;
    int64_t max_retries;
    int64_t created_ms, expiration_ms;
    const char *method;
    const char *params;          /* JSON text */
    const char *response;        /* JSON text or NULL */
    const char *additional_info; /* JSON text or NULL */
    int32_t rpc_id;              /* the id the device sees */
};

/* What a persistent-RPC listing asks for. */
struct gw_api_rpc_query {
    int64_t device_id;
    enum gw_dl_state state; /* 0 = any */
    int64_t page_size;      /* >= 1 */
    int64_t page;           /* >= 0 */
    bool is_by_expiration;  /* sort by expiration time, else by creation time (then row id) */
    bool is_desc;
};

/*
 * Reads one RPC by uuid, or by downlink row id when uuid is NULL, and calls fn once.
 * Returns: 0, -ENOENT, -EIO, or fn's value.
 */
int gw_store_api_rpc_get(struct gw_store *st, const char *uuid, int64_t id,
                         int (*fn)(void *arg, const struct gw_api_rpc *r), void *arg);

/* Walks one page of a device's persistent RPCs, counting all matches into *total. 0, -EIO, fn's. */
int gw_store_api_rpc_page(struct gw_store *st, const struct gw_api_rpc_query *q, int64_t *total,
                          int (*fn)(void *arg, const struct gw_api_rpc *r), void *arg);

/* Deletes an RPC whatever its state (a late answer is then dropped). 0, -ENOENT, -EIO. */
int gw_store_api_rpc_delete(struct gw_store *st, const char *uuid);

/* ---- admin API: time series and attribute writes (gw_store_api_ts.c) ---- */

/*
 * Saves telemetry from the admin API: like gw_store_insert_telemetry() (a value at an existing
 * key and ts replaces it, the latest values follow) but without touching the device's activity.
 * Returns: 0 (committed), -EIO.
 */
int gw_store_api_ts_save(struct gw_store *st, int64_t device_id, const struct profile_batch *batch);

/* A time-series deletion (specs/rest-api.md 6.8). */
struct gw_api_ts_delete {
    int64_t start_ms, end_ms; /* [start, end) */
    bool is_delete_latest;    /* also drop the latest value when its ts is in the range */
    bool is_rewrite_latest;   /* then make the newest value before the range the latest */
};

/* Deletes the values of keys in the range, in one transaction. Returns: 0, -EIO. */
int gw_store_api_ts_delete(struct gw_store *st, int64_t device_id, const char *const *keys,
                           size_t n_keys, const struct gw_api_ts_delete *d);

/*
 * Deletes attribute keys of one scope in one transaction, queuing nothing (use
 * gw_store_shared_update() for SHARED_SCOPE). Unknown keys are ignored. Returns: 0, -EIO.
 */
int gw_store_api_attr_delete(struct gw_store *st, int64_t device_id, enum gw_attr_scope scope,
                             const char *const *keys, size_t n_keys);

/* An aggregated read of one key over [start, end) in buckets of interval_ms. */
struct gw_api_ts_agg_query {
    int64_t device_id;
    const char *key;
    int64_t start_ms, end_ms;
    int64_t interval_ms; /* > 0 */
};

/* One non-empty bucket; strings borrowed for the callback's duration. */
struct gw_api_ts_bucket {
    int64_t start_ms, end_ms; /* the bucket, cut at the query's end */
    int64_t count;            /* values of any type */
    int64_t n_numeric;        /* LONG and DOUBLE values */
    int64_t n_long;
    bool is_all_long;            /* n_numeric > 0 and every numeric value is a LONG */
    int64_t min_l, max_l, sum_l; /* when is_all_long */
    double min_d, max_d, sum_d;  /* over the numeric values */
    const char *min_s, *max_s;   /* over the STRING values, NULL when none */
};

/*
 * Calls fn for every non-empty bucket in ascending order.
 * Returns: 0, -EINVAL (interval_ms <= 0), -EIO, or fn's value.
 */
int gw_store_api_ts_agg(struct gw_store *st, const struct gw_api_ts_agg_query *q,
                        int (*fn)(void *arg, const struct gw_api_ts_bucket *b), void *arg);

/* ---- admin API: device profiles (gw_store_api_profile.c) ---- */

/* A profile as the admin API shows it; strings borrowed for the callback's duration. */
struct gw_api_profile {
    int64_t id;
    const char *uuid;
    const char *name;
    const char *json; /* the stored ThingsBoard JSON */
    bool is_default;
    bool is_efento; /* coapDeviceType EFENTO */
    int64_t created_ms;
    const char *fw_uuid, *sw_uuid; /* assigned OTA packages, or NULL */
    const char *transport;         /* transportType: "COAP" or "DEFAULT" */
    int64_t n_devices;
};

enum gw_api_profile_sort {
    GW_API_PSORT_CREATED = 0,
    GW_API_PSORT_NAME,
    GW_API_PSORT_TRANSPORT,
    GW_API_PSORT_DESCRIPTION,
    GW_API_PSORT_DEFAULT,
};

struct gw_api_profile_query {
    int64_t page_size, page;
    const char *text_search; /* NULL, or a case-insensitive substring of the name */
    const char *transport;   /* NULL, or an exact transportType */
    enum gw_api_profile_sort sort;
    bool is_desc;
};

/*
 * Reads one profile by uuid, else by name, else (both NULL) the default one; fn is called once.
 * Returns: 0, -ENOENT, -EIO, or fn's value.
 */
int gw_store_api_profile_get(struct gw_store *st, const char *uuid, const char *name,
                             int (*fn)(void *arg, const struct gw_api_profile *p), void *arg);

/* Walks one page of profiles, counting all matches into *total. Returns: 0, -EIO, fn's. */
int gw_store_api_profile_page(struct gw_store *st, const struct gw_api_profile_query *q,
                              int64_t *total, int (*fn)(void *arg, const struct gw_api_profile *p),
                              void *arg);

/*
 * Renames a profile (its JSON "name" too) and rewrites its devices' type, in one transaction.
 * Returns: 0, -ENOENT, -EEXIST (the name is taken), -EIO.
 */
int gw_store_api_profile_rename(struct gw_store *st, const char *uuid, const char *name,
                                int64_t now_ms);

/* ---- admin API: OTA packages (gw_store_api_ota.c) ---- */

/* A package as the admin API shows it; strings borrowed for the callback's duration. */
struct gw_api_ota {
    int64_t id;
    const char *uuid;
    const char *profile_uuid; /* NULL: no profile */
    int64_t profile_id;       /* 0: none */
    bool is_software;
    const char *title, *version, *tag;                                    /* tag may be NULL */
    const char *checksum_algorithm, *checksum, *content_type, *file_name; /* NULL before data */
    bool has_data;
    int64_t size_bytes; /* -1 before data */
    int64_t created_ms;
};

enum gw_api_ota_sort {
    GW_API_OSORT_CREATED = 0,
    GW_API_OSORT_TYPE,
    GW_API_OSORT_TITLE,
    GW_API_OSORT_VERSION,
    GW_API_OSORT_TAG,
    GW_API_OSORT_FILE_NAME,
    GW_API_OSORT_SIZE,
    GW_API_OSORT_CHECKSUM,
};

struct gw_api_ota_query {
    int64_t page_size, page;
    const char *text_search;  /* NULL, or a case-insensitive substring of the title */
    const char *profile_uuid; /* NULL, or only the packages of this profile */
    int type;                 /* 0 any, 1 FIRMWARE, 2 SOFTWARE */
    bool is_with_data;        /* only packages with data */
    enum gw_api_ota_sort sort;
    bool is_desc;
};

/* Reads one package by uuid, or by row id when uuid is NULL. 0, -ENOENT, -EIO, fn's value. */
int gw_store_api_ota_get(struct gw_store *st, const char *uuid, int64_t id,
                         int (*fn)(void *arg, const struct gw_api_ota *o), void *arg);

/* Walks one page of packages, counting all matches. Returns: 0, -EIO, fn's value. */
int gw_store_api_ota_page(struct gw_store *st, const struct gw_api_ota_query *q, int64_t *total,
                          int (*fn)(void *arg, const struct gw_api_ota *o), void *arg);

/* A package info to create (specs/rest-api.md 6a.2). */
struct gw_api_ota_in {
    const char *title, *version; /* required */
    const char *tag;             /* or NULL */
    bool is_software;
    const char *profile_uuid; /* or NULL */
};

/*
 * Creates a package without data. Returns: 0 (uuid_out set), -EEXIST (title and version are
 * taken), -ENOENT (no such profile), -EIO.
 */
int gw_store_api_ota_create(struct gw_store *st, const struct gw_api_ota_in *in, int64_t now_ms,
                            char uuid_out[GW_STORE_UUID_LEN]);

/*
 * Deletes a package nothing references. Returns: 0, -ENOENT, -EBUSY (*why: 1 devices, 2 a
 * profile reference it), -EIO.
 */
int gw_store_api_ota_delete(struct gw_store *st, const char *uuid, int *why);

/* The data of an upload. */
struct gw_api_ota_data {
    const uint8_t *data; /* borrowed: len bytes (e.g. a mapped temporary file) */
    size_t len;
    const char *file_name, *content_type, *checksum_algorithm, *checksum;
    int64_t max_total_bytes; /* all packages together; 0 = no limit */
};

/*
 * Stores a package's data, size, checksum and file name in one transaction.
 * Returns: 0, -ENOENT, -EEXIST (it has data already), -ENOSPC (over max_total_bytes), -EIO.
 */
int gw_store_api_ota_data_set(struct gw_store *st, const char *uuid,
                              const struct gw_api_ota_data *d);

/* Resolves a package uuid to its row id. Returns: 0, -ENOENT, -EIO. */
int gw_store_api_ota_id(struct gw_store *st, const char *uuid, int64_t *id);

/* The device's effective package of a type (its own, else its profile's; 0 = none). 0, -EIO. */
int gw_store_api_ota_effective(struct gw_store *st, int64_t device_id, bool is_software,
                               int64_t *package_id);

/* Sets a device's own firmware and software packages (0 = none). Returns: 0, -EIO. */
int gw_store_api_device_ota_set(struct gw_store *st, int64_t device_id, int64_t fw_id,
                                int64_t sw_id);

/* Sets a profile's package of a type (0 = none); *old_id gets the previous one. 0, -ENOENT, -EIO.
 */
int gw_store_api_profile_ota_set(struct gw_store *st, int64_t profile_id, bool is_software,
                                 int64_t package_id, int64_t *old_id);

/* Calls fn for every device of the profile without an own package of that type. 0, -EIO, fn's. */
int gw_store_api_profile_followers(struct gw_store *st, int64_t profile_id, bool is_software,
                                   int (*fn)(void *arg, int64_t device_id), void *arg);

/*
 * What a new effective package (0 = none) means for a device (specs/rest-api.md 6a.7): its fw_*
 * (sw_*) shared attributes are set or deleted and queued as one notification, and for a package
 * the target_* telemetry and fw_state INITIATED are written. Returns: 0, -EIO, -ENOMEM.
 */
int gw_store_api_ota_notify(struct gw_store *st, int64_t device_id, bool is_software,
                            int64_t package_id, int64_t now_ms, int64_t expiration_ms);

/* Counts the devices of a profile without an own package of the type. 0, -EIO. */
int gw_store_api_ota_followers_count(struct gw_store *st, const char *profile_uuid,
                                     bool is_software, int64_t *n);

/* ---- admin API: pending devices (gw_store_pending.c), events, metrics (gw_store_api_misc.c) ----
 */

/* A pending (unknown) device entry; strings borrowed for the callback's duration. */
struct gw_api_pending {
    int64_t id;
    const char *kind;       /* "EFENTO", "EFENTO_OPT<N>", ... (who recorded it) */
    const char *identifier; /* the unknown credential (token or fingerprint) */
    int64_t first_seen_ms, last_seen_ms;
    int64_t attempts;
    const char *peer;    /* last remote address, or NULL */
    const char *summary; /* the recorder's JSON summary of the last message, or NULL */
    bool is_blocked;     /* rejected with block: attempts are answered but not recorded */
};

struct gw_api_pending_query {
    int64_t page_size, page;
    const char *text_search; /* NULL, or a substring of the credential or the serial */
    int sort;                /* 0 lastSeen, 1 firstSeen, 2 attempts */
    bool is_desc;
    bool is_blocked; /* list the blocked entries instead of the others */
};

/* Walks one page of pending entries, counting all matches. Returns: 0, -EIO, fn's value. */
int gw_store_api_pending_page(struct gw_store *st, const struct gw_api_pending_query *q,
                              int64_t *total, int (*fn)(void *arg, const struct gw_api_pending *p),
                              void *arg);

/* Reads one pending entry. Returns: 0, -ENOENT, -EIO, fn's value. */
int gw_store_api_pending_get(struct gw_store *st, int64_t id,
                             int (*fn)(void *arg, const struct gw_api_pending *p), void *arg);

/* Forgets one pending entry. Returns: 0, -ENOENT, -EIO. */
int gw_store_api_pending_delete(struct gw_store *st, int64_t id);

/* Blocks one pending entry (kept, blocked = 1). Returns: 0, -ENOENT, -EIO. */
int gw_store_api_pending_block(struct gw_store *st, int64_t id);

/* Sets the label of the device called name (NULL: none). Returns: 0, -ENOENT, -EIO. */
int gw_store_api_device_label(struct gw_store *st, const char *name, const char *label);

/* One event of a device's log; strings borrowed for the callback's duration. */
struct gw_api_event {
    int64_t id;
    int64_t ts_ms;
    const char *type;
    const char *body; /* JSON text or NULL */
};

struct gw_api_event_query {
    int64_t device_id;
    int64_t start_ms, end_ms; /* [start, end) */
    const char *type;         /* NULL = any */
    int64_t page_size, page;
    bool is_asc; /* oldest first; default newest first */
};

/* Walks one page of a device's events, counting all matches. Returns: 0, -EIO, fn's value. */
int gw_store_api_event_page(struct gw_store *st, const struct gw_api_event_query *q, int64_t *total,
                            int (*fn)(void *arg, const struct gw_api_event *e), void *arg);

/*
 * The counts GET /metrics reports, one fn call per value: family "downlinks" (a = kind in lower
 * case, b = state), "pending_devices", "ts_records" (stored time-series values) and
 * "device_events" (a = event type). Returns: 0, -EIO, fn's value.
 */
int gw_store_api_metrics(struct gw_store *st,
                         int (*fn)(void *arg, const char *family, const char *a, const char *b,
                                   int64_t value),
                         void *arg);

/* ---- claiming (gw_store.c) ---- */

enum gw_claim_result {
    GW_CLAIM_SUCCESS = 0, /* first successful claim */
    GW_CLAIM_CLAIMED,     /* already claimed */
    GW_CLAIM_FAILURE,     /* no claim registered, wrong secret, or expired */
};

/* Registers (or replaces) the device's claim: secret and expiry. Returns: 0, -EIO. */
int gw_store_claim_register(struct gw_store *st, int64_t device_id, const char *secret,
                            int64_t expiration_ms);

/*
 * Claims a device by name with its secret, as ThingsBoard's customer claim does.
 * Returns: 0 with *result set, -ENOENT (no such device), -EIO.
 */
int gw_store_claim_device(struct gw_store *st, const char *name, const char *secret, int64_t now_ms,
                          enum gw_claim_result *result);

/* ---- OTA packages (gw_store_ota.c) ---- */

struct gw_ota_info {
    int64_t id;
    bool is_software;
    char title[GW_STORE_NAME_MAX];
    char version[GW_STORE_NAME_MAX];
    char checksum_algorithm[32];
    char checksum[160];
    int64_t size_bytes;
};

/*
 * Stores a package (data copied). checksum_algorithm e.g. "SHA256" (the checksum is computed by the
 * caller). Returns: 0 (*id_out set), -EEXIST (same type, title and version), -EIO.
 */
int gw_store_ota_add(struct gw_store *st, bool is_software, const char *title, const char *version,
                     const uint8_t *data, size_t len, const char *checksum_algorithm,
                     const char *checksum, int64_t now_ms, int64_t *id_out);

/*
 * Assigns a package (or none: package_id 0) to a device, and sets (or deletes) the device's
 * fw_* / sw_* shared attributes through the downlink queue, as ThingsBoard does.
 * Returns: 0, -ENOENT (no such package of that type), -EIO.
 */
int gw_store_ota_assign_device(struct gw_store *st, int64_t device_id, bool is_software,
                               int64_t package_id, int64_t now_ms);

/* Finds the package a device gets: its own assignment, else its profile's. 0, -ENOENT, -EIO. */
int gw_store_ota_for_device(struct gw_store *st, int64_t device_id, bool is_software,
                            struct gw_ota_info *out);

/* Finds a package by id. Returns: 0, -ENOENT, -EIO. */
int gw_store_ota_get(struct gw_store *st, int64_t package_id, struct gw_ota_info *out);

/* Copies bytes [offset, offset + len) of a package's data into buf. Returns: 0, -EIO. */
int gw_store_ota_read(struct gw_store *st, int64_t package_id, int64_t offset, size_t len,
                      uint8_t *buf);

/* Lists packages. Returns: 0, -EIO, or fn's value. */
int gw_store_ota_list(struct gw_store *st, int (*fn)(void *arg, const struct gw_ota_info *p),
                      void *arg);

/* ---- provisioning (gw_store_provision.c) ---- */

enum gw_provision_status {
    GW_PROVISION_SUCCESS = 1, /* numbered as ThingsBoard's ResponseStatus */
    GW_PROVISION_NOT_FOUND = 2,
    GW_PROVISION_FAILURE = 3,
};

struct gw_provision_req {
    const char *key;              /* provisionDeviceKey */
    const char *secret;           /* provisionDeviceSecret */
    const char *device_name;      /* NULL or "" = generated (create-new strategy) */
    const char *credentials_type; /* NULL = ACCESS_TOKEN */
    const char *token;            /* NULL or "" = generated */
    bool is_gateway;
};

/*
 * Decides a provisioning request as ThingsBoard does (spec 9.3) and creates or marks the device.
 * Returns: 0 with *status set and, on success, the access token in token_out; -EIO.
 */
int gw_store_provision(struct gw_store *st, const struct gw_provision_req *req, int64_t now_ms,
                       enum gw_provision_status *status, char *token_out, size_t token_out_len,
                       char *why, size_t why_len);

/* ---- device profiles (gw_store_profile.c) ---- */

struct profile_config;
struct profile_power;

/* One row of a profile listing; strings are copies. */
struct gw_profile_info {
    int64_t id;
    char uuid[37];
    char name[GW_STORE_NAME_MAX];
    bool is_default;
    char transport_type[16]; /* transportType: "COAP" or "DEFAULT" */
    char device_type[16];    /* coap_device_type: "DEFAULT" or "EFENTO" */
    char payload_type[16];   /* payload_type: "JSON" or "PROTOBUF" */
    int64_t n_devices;       /* devices that use the profile */
    int64_t created_ms;
    int64_t updated_ms; /* last change of JSON, schemas or default flag */
};

typedef int (*gw_store_profile_fn)(void *arg, const struct gw_profile_info *p);

/*
 * Creates profile p->name, or replaces the JSON and schemas of the profile with that name (its
 * id, uuid and devices stay). json is the normalised ThingsBoard JSON of profile_config_parse();
 * blob the descriptor container of gw_protoc_profile() or NULL. The columns device type, payload
 * type and provision key are taken from p, and the JSON's "default" is rewritten to the stored
 * flag: a profile becomes the default only through gw_store_profile_set_default(), except that
 * "default": true on the current default is kept. *is_created (may be NULL) tells which case.
 * Returns: 0, -EEXIST (another profile is the default, or the provision key is taken; err says
 * which), -EBUSY (a transportType change while devices use the profile), -EIO.
 */
int gw_store_profile_save(struct gw_store *st, const struct profile_config *p, const char *json,
                          const uint8_t *blob, size_t blob_len, int64_t now_ms, bool *is_created,
                          char *err, size_t err_len);

/*
 * Loads profile profile_id for the device API: JSON parsed and Protobuf schemas attached.
 * *updated_ms (may be NULL) is the version to revalidate a cache with gw_store_profile_updated().
 * Returns: 0, -ENOENT, -EIO, -EINVAL (the stored profile cannot be used; err says why).
 * Ownership: caller owns *out, release with profile_config_fini().
 */
int gw_store_profile_load(struct gw_store *st, int64_t profile_id, struct profile_config *out,
                          int64_t *updated_ms, char *err, size_t err_len);

/* The profile's last change time (cache revalidation). Returns: 0, -ENOENT, -EIO. */
int gw_store_profile_updated(struct gw_store *st, int64_t profile_id, int64_t *updated_ms);

/*
 * Finds a profile by name: its listing row and (json not NULL) its stored JSON.
 * Returns: 0, -ENOENT, -EIO, -ENOMEM. Ownership: caller owns *json (free()).
 */
int gw_store_profile_get(struct gw_store *st, const char *name, struct gw_profile_info *info,
                         char **json);

/* Lists every profile in name order. Returns: 0, -EIO, or the callback's non-zero value. */
int gw_store_profile_list(struct gw_store *st, gw_store_profile_fn fn, void *arg);

/* Makes profile name the default (the previous one loses the flag, same transaction). */
int gw_store_profile_set_default(struct gw_store *st, const char *name, int64_t now_ms);

/*
 * Deletes a profile and its OTA packages.
 * Returns: 0, -ENOENT, -EPERM (the default profile), -EBUSY (devices use it), -EIO; err says why.
 */
int gw_store_profile_delete(struct gw_store *st, const char *name, char *err, size_t err_len);

/*
 * Moves device `device` to profile `profile` (also its ThingsBoard "type", and for a transport
 * DEFAULT profile its transport configuration becomes {"type":"DEFAULT"}). The next uplink is
 * read with the new profile.
 * Returns: 0, -ENOENT (err says whether the device or the profile), -EIO.
 */
int gw_store_device_set_profile(struct gw_store *st, const char *device, const char *profile,
                                int64_t now_ms, char *err, size_t err_len);

/*
 * Sets a device's power-saving override (deviceData.transportConfiguration JSON, checked with
 * profile_power_parse()), or clears it (power_json NULL).
 * Returns: 0, -EINVAL (err names the member), -ENOENT, -EIO.
 */
int gw_store_device_set_power(struct gw_store *st, const char *device, const char *power_json,
                              char *err, size_t err_len);

/*
 * A device's power-saving override (mode UNSET when it has none).
 * Returns: 0, -ENOENT, -EIO, -EINVAL (the stored override does not parse: *out has none).
 */
int gw_store_device_power(struct gw_store *st, int64_t device_id, struct profile_power *out);

/* ---- Efento sensors (gw_store_efento.c) ---- */

/*
 * Efento NB-IoT sensors (specs/efento.md). A device is an Efento sensor when its profile's CoAP
 * device type is EFENTO; the profile's Efento settings live in its JSON next to coapDeviceType
 * (profileData.transportConfiguration.coapDeviceTypeConfiguration). Per-device Efento state is
 * kept in server attributes: efentoSerial (last serial seen), efentoDeviceInfoRequestTs and
 * efentoConfigurationRequestTs (last automatic requests, ms), efentoSensorErrors and
 * efentoSensorErrors_N (error sample counters), efentoConfigParts (held parts of a split
 * configuration). Admin settings are EFENTO_CONFIG downlink rows whose body is the settings
 * JSON (gateway/gw_efento.h); unknown tokens are pending_device rows of kind EFENTO (token in
 * the payload) or EFENTO_OPT<N> (token in CoAP option N), identifier = the token.
 */

#define GW_EFENTO_TOKEN_PAYLOAD                                                                    \
    65000                        /* cloudTokenCoapOption value: the token is in the payload        \
                                  */
#define GW_EFENTO_SERIAL_MAX 130 /* a serial in hex (64 bytes at most) and a NUL */
#define GW_EFENTO_TEXT_MAX   256 /* a token or other short text from a frame, with NUL */
#define GW_EFENTO_CHANNELS   16  /* channels of one measurement frame (efento.h) */
#define GW_EFENTO_PARTS_MAX  16  /* held parts of one split configuration */

/* The Efento settings of a device profile (specs/efento.md section 1, "Settings"). */
struct gw_efento_profile {
    int64_t id;
    char name[GW_STORE_NAME_MAX];
    int32_t token_option;           /* cloudTokenCoapOption 1..64999, or GW_EFENTO_TOKEN_PAYLOAD */
    int32_t signature_option;       /* payloadSignatureCoapOption (registered, not verified) */
    int32_t modem_id_option;        /* modemIdentificationCoapOption (registered, ignored) */
    bool is_auto_accept;            /* autoAccept: unknown tokens create devices (R2.6) */
    int64_t clock_sync_threshold_s; /* clockSyncThresholdS: 0 = always, < 0 = never */
    int64_t request_retry_s;        /* requestRetryS: gap between automatic requests */
    int64_t downlink_expiry_s;      /* downlinkExpiryS: a QUEUED entry expires after this */
    int64_t confirm_timeout_s;      /* confirmTimeoutS: SENT/DELIVERED entries time out after */
};

/* A device found by its access token, with what the Efento resources need to answer it. */
struct gw_efento_device {
    int64_t id;
    char name[GW_STORE_NAME_MAX];
    bool is_efento;                    /* the profile's CoAP device type is EFENTO */
    struct gw_efento_profile profile;  /* the profile and its settings (defaults filled in) */
    bool has_config_hash;              /* a configuration was stored */
    uint32_t config_hash;              /* its client attribute configurationHash */
    bool has_device_info;              /* a device info frame was stored (telemetry sw_version) */
    char serial[GW_EFENTO_SERIAL_MAX]; /* last serial seen (efentoSerial), "" = none */
    int64_t devinfo_request_ms;        /* last automatic deviceInfoRequest, 0 = never */
    int64_t config_request_ms;         /* last automatic configurationRequest, 0 = never */
    int64_t n_open_dl;                 /* unfinished EFENTO_CONFIG entries (0: skip reading them) */
    bool is_place_moving; /* an unfinished entry moves the token to the profile's place (3.2) */
};

/* One unfinished EFENTO_CONFIG downlink entry. */
struct gw_efento_dl {
    int64_t id;
    enum gw_dl_state state; /* QUEUED, TIMEOUT (sent again), SENT or DELIVERED (waiting) */
    int64_t retries;        /* sends that were not delivered or not confirmed */
    int64_t sent_ms;        /* wall-clock time of the last send, 0 = never sent */
    int32_t sent_mid;       /* Message ID of the answer that carried it, -1 = none */
    char *body;             /* the settings JSON (heap) */
};

/* One held part of a split configuration. */
struct gw_efento_part {
    int32_t split_info; /* payload_split_info of the part (index = its absolute value) */
    int64_t rx_s;       /* receive time, epoch s */
    uint8_t *data;      /* the part's bytes (heap) */
    size_t len;
};

/* An event of the device's log written with a frame; is_once: skip if the same is logged. */
struct gw_efento_event {
    const char *type; /* e.g. "EFENTO_CLOCK_SYNC" */
    const char *body; /* JSON text */
    bool is_once;
};

/* A state change of a downlink entry, committed with the frame that caused it (8.5). */
struct gw_efento_dl_change {
    int64_t id;
    enum gw_dl_state state; /* target; QUEUED = sent in vain, sent again (a try counted) */
    bool is_final;          /* DELIVERED: nothing more is awaited */
    int32_t mid;            /* SENT: the answer's Message ID */
    const char *response;   /* JSON stored as the entry's response, or NULL */
};

/* Everything one Efento frame produced: written in one transaction (R3.1). */
struct gw_efento_commit {
    int64_t device_id;
    int64_t now_ms; /* receive time: last activity, attribute and event times */
    const struct profile_kv *telemetry;
    size_t n_telemetry;
    const struct profile_kv *client; /* client attributes to set (a configuration) */
    size_t n_client;
    const char *const *client_deleted; /* client attributes to delete */
    size_t n_client_deleted;
    const struct profile_kv *server; /* server attributes to set */
    size_t n_server;
    const struct gw_efento_event *events;
    size_t n_events;
    const struct gw_efento_dl_change *changes;
    size_t n_changes;
    uint32_t error_samples[GW_EFENTO_CHANNELS]; /* sensor error samples per channel, to count */
    const struct gw_efento_part *part_add;      /* hold this part (replacing its index), or NULL */
    bool is_parts_dropped;                      /* drop every held part (before part_add) */
    const char *new_token; /* the frame came with an in-flight new token: it becomes the
                              device's access token (3.2), or NULL */
};

/* An unknown token that knocked (R2.4). */
struct gw_efento_pending {
    int32_t token_option;              /* where the token was: option number or TOKEN_PAYLOAD */
    char token[GW_EFENTO_TEXT_MAX];    /* "" = the frame carried none */
    char serial[GW_EFENTO_SERIAL_MAX]; /* "" = none */
    char msg_type;                     /* 'm', 'i' or 'c' */
    char peer[64];                     /* address and port */
    int64_t first_seen_ms, last_seen_ms;
    int64_t seen_count;  /* attempts recorded (at most one per GW_STORE_PENDING_GAP_MS) */
    int64_t max_entries; /* entries kept (max_pending_devices); 0 = GW_STORE_PENDING_MAX */
};

/*
 * Finds the device whose access token is token, with its profile's Efento settings and the
 * device's Efento state. Returns: 0, -ENOENT (no such token), -EIO.
 */
int gw_store_efento_device(struct gw_store *st, const char *token, size_t token_len,
                           struct gw_efento_device *out);

/*
 * Finds the device that a sent (SENT or DELIVERED) settings entry is moving to the cloud token
 * `token` (3.2: old and new token are both accepted until the change is confirmed or fails).
 * Returns: 0, -ENOENT, -EIO.
 */
int gw_store_efento_device_moving(struct gw_store *st, const char *token, size_t token_len,
                                  struct gw_efento_device *out);

/* Calls fn for every Efento profile (settings with defaults). Returns: 0, -EIO, fn's value. */
int gw_store_efento_profiles(struct gw_store *st,
                             int (*fn)(void *arg, const struct gw_efento_profile *p), void *arg);

/*
 * Reads the device's unfinished EFENTO_CONFIG entries, oldest first: QUEUED and TIMEOUT ones not
 * expired at now_ms, SENT ones, and DELIVERED ones still waiting for a confirmation.
 * Returns: 0 (*n_out set), -EIO, -ENOMEM. Ownership: release with gw_store_efento_dl_fini().
 */
int gw_store_efento_dl_open(struct gw_store *st, int64_t device_id, int64_t now_ms,
                            struct gw_efento_dl *out, size_t cap, size_t *n_out);

/* Frees the bodies of n entries. */
void gw_store_efento_dl_fini(struct gw_efento_dl *dl, size_t n);

/*
 * Queues admin settings (a validated settings JSON object) for an Efento device; the entry
 * expires after the profile's downlinkExpiryS. Settings that change how the sensor identifies
 * itself (cloudToken, cloudTokenConfig, cloudTokenCoapOption) are checked so the sensor stays
 * reachable, and the token they lead to is kept with the entry (3.2).
 * Returns: 0 (*id_out set when not NULL), -EINVAL (not an Efento device), -EACCES (the
 * settings would cut the sensor off; err says why), -ENOSPC (max_queued unfinished downlinks),
 * -ENOENT, -EIO.
 */
int gw_store_efento_queue(struct gw_store *st, int64_t device_id, const char *settings_json,
                          int64_t now_ms, int64_t max_queued, int64_t *id_out, char *err,
                          size_t err_len);

/*
 * Reads the held parts of the device's split configuration in arrival order.
 * Returns: 0 (*n_out set), -EIO, -ENOMEM. Ownership: release with gw_store_efento_parts_fini().
 */
int gw_store_efento_parts(struct gw_store *st, int64_t device_id,
                          struct gw_efento_part out[GW_EFENTO_PARTS_MAX], size_t *n_out);

/* Frees the data of n parts. */
void gw_store_efento_parts_fini(struct gw_efento_part *parts, size_t n);

/*
 * Writes everything of one frame (records, attributes, counters, events, queue states, held
 * parts) and the device's last activity in one transaction.
 * Returns: 0 (committed), -EIO (nothing written), -ENOMEM.
 */
int gw_store_efento_commit(struct gw_store *st, const struct gw_efento_commit *c);
/* (gw_store_efento_commit also returns -EAGAIN, with nothing written, when an entry it marks
 * SENT left QUEUED/TIMEOUT meanwhile, e.g. cancelled: build the answer again without it.) */

/*
 * Records an unknown token through gw_store_pending_note() (kind EFENTO or EFENTO_OPT<N>, the
 * frame summarised into the entry). Returns: 0, 1 (the token is blocked: nothing written), -EIO,
 * -ENOMEM.
 */
int gw_store_efento_pending_note(struct gw_store *st, const struct gw_efento_pending *p,
                                 const uint8_t *payload, size_t len, int64_t now_ms);

/*
 * Approves a pending entry (R2.5): creates device name (NULL = "Efento <serial>") with the
 * entry's token as its access token under Efento profile `profile` (NULL = the only Efento
 * profile), and removes the entry. name_out receives the device's name.
 * Returns: 0; -ENOENT (no such entry or profile); -EINVAL (empty token, not an Efento profile,
 * several Efento profiles to choose from, or the profile expects the token elsewhere);
 * -EEXIST (name or token taken); -EIO. err says why.
 */
int gw_store_efento_pending_approve(struct gw_store *st, const char *token, const char *name,
                                    const char *profile, int64_t now_ms, char *name_out,
                                    size_t name_out_len, char *err, size_t err_len);

/*
 * Auto-accept (R2.6): creates a device "Efento <serial>" (or "Efento <serial> <n>" when taken)
 * with token under the profile, and removes any pending entry of the token.
 * Returns: 0, -EEXIST (token taken), -EACCES (the operator blocked the token), -EINVAL, -EIO.
 */
int gw_store_efento_auto_accept(struct gw_store *st, const char *token, const char *serial,
                                const char *profile, int64_t now_ms);

/* ---- pending (unknown) devices (gw_store_pending.c) ---- */

/*
 * Devices that knocked with credentials nobody registered (specs/rest-api.md 9.3), all in one
 * list: one pending_device row per kind and identifier. kind EFENTO or EFENTO_OPT<N> (an unknown
 * Efento cloud token, gw_store_efento_pending.c), COAP_TOKEN (an unknown access token in a CoAP
 * URI) or X509 (an unknown DTLS client certificate; identifier = its SHA-256 fingerprint).
 * last_payload is the recorder's JSON summary: "type" names the last message (Efento m/i/c, or
 * the CoAP resource), an X509 entry adds "certificate" (PEM). At most max_pending_devices
 * entries that are not blocked are kept, the least recently seen going first; blocked entries
 * stay until the operator deletes them.
 */
#define GW_STORE_PENDING_MAX    1000  /* entries kept by default (max_pending_devices) */
#define GW_STORE_PENDING_GAP_MS 60000 /* an entry is rewritten at most this often */

/* One attempt with an unknown credential; strings borrowed for the call. */
struct gw_store_pending_in {
    const char *kind;       /* "EFENTO", "EFENTO_OPT<N>", "COAP_TOKEN", "X509" */
    const char *identifier; /* the credential: token or fingerprint ("" allowed for Efento) */
    const char *peer;       /* remote address and port, or NULL */
    const char *summary;    /* JSON object text, or NULL */
    int64_t max_entries;    /* entries kept; 0 = GW_STORE_PENDING_MAX */
};

/*
 * Records an attempt: a new entry, or first/last seen, attempts, peer and summary of the
 * existing one, rewritten at most every GW_STORE_PENDING_GAP_MS (a device hammering the gateway
 * costs one indexed read per attempt). A blocked entry is left alone.
 * Returns: 0, 1 (the credential is blocked: nothing written), -EIO.
 */
int gw_store_pending_note(struct gw_store *st, const struct gw_store_pending_in *in,
                          int64_t now_ms);

/* Lists every pending entry (blocked ones too), most recently seen first. 0, -EIO, fn's value. */
int gw_store_pending_list(struct gw_store *st, int (*fn)(void *arg, const struct gw_api_pending *p),
                          void *arg);

/* What approving a COAP_TOKEN or X509 entry needs (specs/rest-api.md 9.3). */
struct gw_store_pending_approve_in {
    int64_t id;               /* the entry */
    const char *name;         /* required */
    const char *label;        /* NULL = none */
    const char *profile_uuid; /* NULL: the only profile of CoAP device type DEFAULT */
    const char *x509_body;    /* X509: the certificate's one-line base64 body, else NULL */
};

/*
 * Approves a COAP_TOKEN or X509 entry in one transaction: creates the device under a profile of
 * CoAP device type DEFAULT with the entry's credential (the token as its access token, or the
 * certificate), and removes the entry. uuid_out receives the device's id.
 * Returns: 0; -ENOENT (no such entry or profile); -EINVAL (an Efento entry, no name, a profile
 * that does not fit, or no single fitting profile); -EEXIST (name or credential taken); -EIO.
 * err says why.
 */
int gw_store_pending_approve(struct gw_store *st, const struct gw_store_pending_approve_in *in,
                             int64_t now_ms, char uuid_out[GW_STORE_UUID_LEN], char *err,
                             size_t err_len);

/* ---- X.509 credentials (gw_store_x509.c) ---- */

#define GW_STORE_X509_FP_LEN 65 /* a fingerprint: 64 lower-case hex digits and a NUL */

/*
 * Finds the device whose X509_CERTIFICATE credential has the credentials id fingerprint (the
 * lower-case hex SHA-256 of the certificate's DER bytes, spec R7) and that has a profile.
 * value_out, when not NULL, receives the stored certificate text so that the caller can compare
 * the DER bytes themselves.
 * Returns: 0, -ENOENT (no such device), -EIO.
 * Ownership: caller frees *value_out (NULL when nothing is stored).
 */
int gw_store_x509_find(struct gw_store *st, const char *fingerprint, struct gw_device_ref *out,
                       char **value_out);

/*
 * Makes a certificate the credential of device_id, replacing its access token or earlier
 * certificate (one credential per device, as in ThingsBoard). The caller has parsed the
 * certificate (gw_x509_parse): fingerprint is its SHA-256, body its one-line base64 body.
 * Returns: 0 (committed), -EINVAL (fingerprint not 64 lower-case hex digits, or body empty),
 * -ENOENT (no such device), -EEXIST (another device has this certificate), -EIO.
 */
int gw_store_x509_set(struct gw_store *st, int64_t device_id, const char *fingerprint,
                      const char *body, int64_t now_ms);

/*
 * Reads the X.509 credential of device_id.
 * Returns: 0, -ENOENT (the device has none), -EIO.
 * Ownership: fingerprint is copied into the caller's buffer; caller frees *body_out.
 */
int gw_store_x509_get(struct gw_store *st, int64_t device_id,
                      char fingerprint[GW_STORE_X509_FP_LEN], char **body_out);

/*
 * A number that changes whenever another connection (admin API, command line) has committed
 * (SQLite's PRAGMA data_version): the DTLS endpoint re-checks its certificate bindings then.
 * Returns: 0, -EIO.
 */
int gw_store_x509_data_version(struct gw_store *st, int64_t *out);

/* ---- admin API: Efento settings (gw_store_api_efento.c) ---- */

/* An EFENTO_CONFIG entry as the admin API shows it (specs/rest-api.md 9.4). */
struct gw_api_efento_entry {
    int64_t id;              /* downlink row */
    const char *uuid;        /* borrowed for the callback's duration */
    const char *device_uuid; /* borrowed */
    enum gw_dl_state state;
    int64_t created_ms, expiration_ms;
    int64_t send_count;   /* sends recorded: failed tries and the current one */
    int64_t sent_ms;      /* last send, 0 = never */
    int64_t done_ms;      /* when the entry ended, 0 = not yet */
    const char *settings; /* the settings JSON text (borrowed) */
    const char *response; /* the confirmation's JSON text (borrowed), or NULL */
};

/* What a listing of a device's entries asks for. */
struct gw_api_efento_query {
    int64_t device_id;
    enum gw_dl_state state; /* 0 = any */
    int64_t page_size;      /* >= 1 */
    int64_t page;           /* >= 0 */
    bool is_desc;           /* by creation time (then row id), newest first */
};

/* Returns: 0 (device_id is an Efento device), -EINVAL (it is not), -ENOENT, -EIO. */
int gw_store_api_efento_check(struct gw_store *st, int64_t device_id);

/* Walks one page of a device's entries, counting all matches into *total. 0, -EIO, fn's value. */
int gw_store_api_efento_page(struct gw_store *st, const struct gw_api_efento_query *q,
                             int64_t *total,
                             int (*fn)(void *arg, const struct gw_api_efento_entry *e), void *arg);

/* Reads the entry with row id and calls fn once. Returns: 0, -ENOENT, -EIO, fn's value. */
int gw_store_api_efento_get(struct gw_store *st, int64_t id,
                            int (*fn)(void *arg, const struct gw_api_efento_entry *e), void *arg);

/* Sets a QUEUED entry's expiry (ms). Returns: 0, -ENOENT (no such QUEUED entry), -EIO. */
int gw_store_api_efento_expiry(struct gw_store *st, int64_t id, int64_t expiration_ms);

/*
 * Cancels (deletes) the device's QUEUED entry uuid and logs a DOWNLINK event, in one transaction.
 * Returns: 0, -ENOENT (no such entry of this device), -EBUSY (not QUEUED), -EIO.
 */
int gw_store_api_efento_cancel(struct gw_store *st, int64_t device_id, const char *uuid,
                               int64_t now_ms);

/* ---- admin API: a device's whole downlink queue (gw_store_dlq.c) ---- */

/* Returns: the kind's name ("RPC", "ATTRIBUTES", "EFENTO_CONFIG"), or "?". */
const char *gw_dl_kind_name(enum gw_dl_kind k);

/* One downlink row of any kind, as GET /api/nbgate/device/{id}/downlinks shows it. */
struct gw_dlq_entry {
    int64_t id;       /* downlink row */
    const char *uuid; /* borrowed for the callback's duration */
    enum gw_dl_kind kind;
    enum gw_dl_state state;
    int64_t created_ms, expiration_ms;           /* ms since the epoch */
    int64_t sent_ms, delivered_ms, completed_ms; /* ms since the epoch, 0 = not (yet) */
    int64_t retries, max_retries;                /* sends that failed or timed out; the cap */
    int32_t rpc_id;                              /* RPC: the id the device sees */
    bool is_oneway;                              /* RPC: no answer awaited */
    const char *method;                          /* RPC: borrowed, may be NULL */
    const char *body;     /* borrowed JSON text: RPC params, the attribute update's key lists
                             {"updated":[..],"deleted":[..]}, or the Efento settings; may be NULL */
    const char *response; /* borrowed JSON text, or NULL */
};

/* What a listing of a device's queue asks for. */
struct gw_dlq_query {
    int64_t device_id;
    enum gw_dl_kind kind;   /* 0 = any */
    enum gw_dl_state state; /* 0 = any */
    int64_t page_size;      /* >= 1 */
    int64_t page;           /* >= 0 */
    bool is_desc;           /* by creation time (then row id), newest first */
};

/*
 * Walks one page of the device's downlink rows (every kind), counting all matches into *total.
 * Returns: 0, -EIO, fn's value.
 * Ownership: the entry's strings are borrowed for the duration of fn.
 */
int gw_store_dlq_page(struct gw_store *st, const struct gw_dlq_query *q, int64_t *total,
                      int (*fn)(void *arg, const struct gw_dlq_entry *e), void *arg);

/*
 * Cancels the device's entry uuid while it is QUEUED (never sent): deletes it and logs a
 * DOWNLINK event with state CANCELLED, in one transaction. An attribute update's values stay
 * stored; only its notification is withdrawn. *kind_out (may be NULL) gets the entry's kind.
 * Returns: 0, -ENOENT (no such entry of this device), -EBUSY (not QUEUED), -EIO.
 */
int gw_store_dlq_cancel(struct gw_store *st, int64_t device_id, const char *uuid, int64_t now_ms,
                        enum gw_dl_kind *kind_out);

#endif /* GW_STORE_H: sections are added above this line */
