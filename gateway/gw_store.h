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
    int64_t last_activity_ms; /* 0 = never seen */
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
 * (now_ms), all in one transaction.
 * Returns: 0 (committed), -EIO (nothing stored).
 */
int gw_store_insert_telemetry(struct gw_store *st, int64_t device_id,
                              const struct profile_batch *batch, int64_t now_ms);

/*
 * Saves every record of batch as an attribute of scope, with last-update time now_ms; for
 * CLIENT scope (an uplink) also the device's last activity; one transaction. Returns: 0
 * (committed), -EIO (nothing stored).
 */
int gw_store_save_attributes(struct gw_store *st, int64_t device_id, enum gw_attr_scope scope,
                             const struct profile_batch *batch, int64_t now_ms);

/* Records the device's last activity time. Returns: 0, -EIO. */
int gw_store_touch_activity(struct gw_store *st, int64_t device_id, int64_t now_ms);

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

/* Lists every device in name order. Returns: 0, -EIO, or the callback's non-zero value. */
int gw_store_device_list(struct gw_store *st, gw_store_device_fn fn, void *arg);

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

#endif /* GW_STORE_H */
