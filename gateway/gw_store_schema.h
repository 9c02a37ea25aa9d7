/* SPDX-License-Identifier: MIT */
/*
 * gw_store_schema.h - the SQL schema, one migration per schema version (PRAGMA user_version).
 * Only gw_store.c includes this file. A migration only adds: tables, columns, indexes. It never
 * drops or rewrites stored data, so an upgrade cannot lose readings.
 *
 * Version 1 covers the whole domain: device profiles in ThingsBoard's JSON shape (plus the
 * compiled Protobuf descriptor set), devices, credentials (access token or X.509 SHA-256
 * fingerprint + PEM), time series with typed values and a latest-value table, attributes by scope,
 * the downlink queue with its states, claims, OTA packages, the per-device event log, pending
 * (unknown) devices, admin users and their refresh tokens.
 * Version 2 adds pending_device.blocked (1: the operator blocked the credential; its attempts are
 * answered 4.01 without being recorded).
 * Value columns: type (enum profile_value_type), v_long (BOOLEAN 0/1 and LONG), v_double (DOUBLE),
 * v_str (STRING and JSON text).
 */
#ifndef GW_STORE_SCHEMA_H
#define GW_STORE_SCHEMA_H

struct gw_store_migration_step {
    int version; /* user_version after the step's transaction */
    const char *sql;
};

static const struct gw_store_migration_step gw_store_migrations[] = {
    { 1, "CREATE TABLE device_profile ("
         " id INTEGER PRIMARY KEY,"
         " uuid TEXT NOT NULL UNIQUE,"
         " name TEXT NOT NULL UNIQUE,"
         " is_default INTEGER NOT NULL DEFAULT 0,"
         " coap_device_type TEXT NOT NULL DEFAULT 'DEFAULT' CHECK (coap_device_type IN "
         "('DEFAULT','EFENTO')),"
         " payload_type TEXT NOT NULL DEFAULT 'JSON' CHECK (payload_type IN ('JSON','PROTOBUF')),"
         " profile_json TEXT NOT NULL,"
         " descriptor_set BLOB,"
         " provision_key TEXT UNIQUE,"
         " fw_package_id INTEGER,"
         " sw_package_id INTEGER,"
         " created_ms INTEGER NOT NULL,"
         " updated_ms INTEGER NOT NULL);" },
    { 1, "CREATE UNIQUE INDEX device_profile_one_default ON device_profile(is_default) WHERE "
         "is_default = 1;" },
    { 1, "CREATE TABLE device ("
         " id INTEGER PRIMARY KEY,"
         " uuid TEXT NOT NULL UNIQUE,"
         " name TEXT NOT NULL UNIQUE,"
         " label TEXT,"
         " type TEXT NOT NULL DEFAULT 'default',"
         " profile_id INTEGER NOT NULL REFERENCES device_profile(id),"
         " additional_info TEXT,"
         " power_json TEXT,"
         " inactivity_timeout_ms INTEGER,"
         " last_activity_ms INTEGER NOT NULL DEFAULT 0,"
         " last_connect_ms INTEGER NOT NULL DEFAULT 0,"
         " last_disconnect_ms INTEGER NOT NULL DEFAULT 0,"
         " next_rpc_id INTEGER NOT NULL DEFAULT 0,"
         " provision_state TEXT,"
         " is_gateway INTEGER NOT NULL DEFAULT 0,"
         " reachability TEXT,"
         " fw_package_id INTEGER,"
         " sw_package_id INTEGER,"
         " created_ms INTEGER NOT NULL);" },
    { 1, "CREATE INDEX device_profile_idx ON device(profile_id);" },
    { 1, "CREATE TABLE credentials ("
         " id INTEGER PRIMARY KEY,"
         " uuid TEXT NOT NULL UNIQUE,"
         " device_id INTEGER NOT NULL UNIQUE REFERENCES device(id) ON DELETE CASCADE,"
         " type TEXT NOT NULL CHECK (type IN ('ACCESS_TOKEN','X509_CERTIFICATE')),"
         " credentials_id TEXT NOT NULL UNIQUE,"
         " value TEXT,"
         " created_ms INTEGER NOT NULL);" },
    { 1, "CREATE TABLE ts_kv ("
         " device_id INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,"
         " key TEXT NOT NULL,"
         " ts_ms INTEGER NOT NULL,"
         " type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 5),"
         " v_long INTEGER, v_double REAL, v_str TEXT,"
         " PRIMARY KEY (device_id, key, ts_ms)) WITHOUT ROWID;" },
    { 1, "CREATE TABLE ts_kv_latest ("
         " device_id INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,"
         " key TEXT NOT NULL,"
         " ts_ms INTEGER NOT NULL,"
         " type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 5),"
         " v_long INTEGER, v_double REAL, v_str TEXT,"
         " PRIMARY KEY (device_id, key)) WITHOUT ROWID;" },
    { 1, "CREATE TABLE attribute_kv ("
         " device_id INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,"
         " scope INTEGER NOT NULL CHECK (scope BETWEEN 1 AND 3),"
         " key TEXT NOT NULL,"
         " last_update_ms INTEGER NOT NULL,"
         " type INTEGER NOT NULL CHECK (type BETWEEN 1 AND 5),"
         " v_long INTEGER, v_double REAL, v_str TEXT,"
         " PRIMARY KEY (device_id, scope, key)) WITHOUT ROWID;" },
    { 1, "CREATE TABLE downlink ("
         " id INTEGER PRIMARY KEY,"
         " uuid TEXT NOT NULL UNIQUE,"
         " device_id INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,"
         " kind TEXT NOT NULL CHECK (kind IN ('RPC','ATTRIBUTES','EFENTO_CONFIG')),"
         " state TEXT NOT NULL DEFAULT 'QUEUED' CHECK (state IN ('QUEUED','SENT','DELIVERED',"
         "'SUCCESSFUL','TIMEOUT','EXPIRED','FAILED','DELETED')),"
         " rpc_id INTEGER,"
         " is_oneway INTEGER NOT NULL DEFAULT 0,"
         " is_persistent INTEGER NOT NULL DEFAULT 1,"
         " method TEXT,"
         " body TEXT,"
         " response TEXT,"
         " retries INTEGER NOT NULL DEFAULT 0,"
         " max_retries INTEGER NOT NULL DEFAULT 5,"
         " created_ms INTEGER NOT NULL,"
         " expiration_ms INTEGER NOT NULL,"
         " sent_ms INTEGER, delivered_ms INTEGER, completed_ms INTEGER,"
         " additional_info TEXT);" },
    { 1, "CREATE INDEX downlink_device_state ON downlink(device_id, state, id);" },
    { 1, "CREATE INDEX downlink_state_expiry ON downlink(state, expiration_ms);" },
    { 1, "CREATE TABLE claim ("
         " device_id INTEGER PRIMARY KEY REFERENCES device(id) ON DELETE CASCADE,"
         " secret_key TEXT NOT NULL,"
         " expiration_ms INTEGER NOT NULL,"
         " claimed_ms INTEGER);" },
    { 1, "CREATE TABLE ota_package ("
         " id INTEGER PRIMARY KEY,"
         " uuid TEXT NOT NULL UNIQUE,"
         " profile_id INTEGER REFERENCES device_profile(id),"
         " type TEXT NOT NULL CHECK (type IN ('FIRMWARE','SOFTWARE')),"
         " title TEXT NOT NULL, version TEXT NOT NULL, tag TEXT,"
         " checksum_algorithm TEXT, checksum TEXT,"
         " content_type TEXT, file_name TEXT, size_bytes INTEGER,"
         " data BLOB,"
         " created_ms INTEGER NOT NULL);" },
    { 1, "CREATE UNIQUE INDEX ota_package_version ON ota_package(COALESCE(profile_id, 0), type,"
         " title, version);" },
    { 1, "CREATE TABLE event ("
         " id INTEGER PRIMARY KEY,"
         " device_id INTEGER NOT NULL REFERENCES device(id) ON DELETE CASCADE,"
         " ts_ms INTEGER NOT NULL,"
         " type TEXT NOT NULL,"
         " body TEXT);" },
    { 1, "CREATE INDEX event_device_ts ON event(device_id, ts_ms);" },
    { 1, "CREATE TABLE pending_device ("
         " id INTEGER PRIMARY KEY,"
         " kind TEXT NOT NULL,"
         " identifier TEXT NOT NULL,"
         " first_seen_ms INTEGER NOT NULL,"
         " last_seen_ms INTEGER NOT NULL,"
         " seen_count INTEGER NOT NULL DEFAULT 1,"
         " peer TEXT,"
         " last_payload BLOB,"
         " UNIQUE (kind, identifier));" },
    { 1, "CREATE TABLE admin_user ("
         " id INTEGER PRIMARY KEY,"
         " username TEXT NOT NULL UNIQUE,"
         " password_hash TEXT NOT NULL,"
         " authority TEXT NOT NULL DEFAULT 'TENANT_ADMIN',"
         " created_ms INTEGER NOT NULL);" },
    { 1, "CREATE TABLE admin_token ("
         " jti TEXT PRIMARY KEY,"
         " user_id INTEGER NOT NULL REFERENCES admin_user(id) ON DELETE CASCADE,"
         " kind TEXT NOT NULL CHECK (kind IN ('ACCESS','REFRESH')),"
         " expiration_ms INTEGER NOT NULL,"
         " is_revoked INTEGER NOT NULL DEFAULT 0);" },
    /* Version 2: a pending entry can be blocked (specs/rest-api.md 9.3 reject with block). */
    { 2, "ALTER TABLE pending_device ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;" },
};

#define GW_STORE_N_MIGRATION_STEPS (sizeof(gw_store_migrations) / sizeof(gw_store_migrations[0]))
#define GW_STORE_LATEST_VERSION    2

/* ThingsBoard's device-profile JSON for the default profile created with a new database. */
#define GW_STORE_DEFAULT_PROFILE_JSON                                                              \
    "{\"name\":\"default\",\"type\":\"DEFAULT\",\"transportType\":\"COAP\",\"default\":true,"      \
    "\"description\":\"Default device profile\",\"provisionType\":\"DISABLED\","                   \
    "\"provisionDeviceKey\":null,\"profileData\":{\"configuration\":{\"type\":\"DEFAULT\"},"       \
    "\"transportConfiguration\":{\"type\":\"COAP\",\"coapDeviceTypeConfiguration\":{"              \
    "\"coapDeviceType\":\"DEFAULT\",\"transportPayloadTypeConfiguration\":{"                       \
    "\"transportPayloadType\":\"JSON\"}},\"clientSettings\":{\"powerMode\":\"DRX\","               \
    "\"edrxCycle\":null,\"psmActivityTimer\":null,\"pagingTransmissionWindow\":null}},"            \
    "\"provisionConfiguration\":{\"type\":\"DISABLED\",\"provisionDeviceSecret\":null},"           \
    "\"alarms\":null}}"

#endif /* GW_STORE_SCHEMA_H */
