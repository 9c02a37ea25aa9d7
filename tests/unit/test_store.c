/* SPDX-License-Identifier: MIT */
/*
 * test_store.c - the SQLite store on a temporary file: schema creation and version, the default
 * profile, devices and tokens (generated, given, bulk, duplicates refused), typed telemetry with
 * latest values, attributes by scope, activity, refusal of a database from a newer nbgate, the
 * upgrade of a schema-1 database (pending_device.blocked), and the shared pending list (write
 * gap, blocking, one cap for every kind).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "gateway/gw_store.h"
#include "profiles/profile.h"

#include "store_fixture.h"

static void test_schema_and_default_profile(void **state)
{
    (void)state;
    assert_int_equal(sql_int("PRAGMA user_version"), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM device_profile WHERE is_default = 1"), 1);
    assert_int_equal(sql_int("SELECT json_extract(profile_json, '$.profileData."
                             "transportConfiguration.coapDeviceTypeConfiguration.coapDeviceType')"
                             " = 'DEFAULT' FROM device_profile"),
                     1);
    assert_int_equal(sql_int("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                             " ('device','credentials','ts_kv','ts_kv_latest','attribute_kv',"
                             "'downlink','event','pending_device','admin_user','ota_package',"
                             "'claim','admin_token')"),
                     12);
    assert_int_equal(sql_int("PRAGMA journal_mode = WAL") == -1, 0);
}

static void test_devices(void **state)
{
    struct gw_store *st = *state;
    struct gw_device_ref ref;
    char token[GW_STORE_TOKEN_MAX];
    char err[256];

    assert_int_equal(
        gw_store_device_add(st, "a", NULL, NULL, 0, 1000, token, sizeof(token), err, sizeof(err)),
        0);
    assert_int_equal(strlen(token), 20);
    assert_int_equal(gw_store_device_by_token(st, token, strlen(token), &ref), 0);
    assert_string_equal(ref.name, "a");
    /* Tokens are case-sensitive and exact. */
    token[0] = (char)(token[0] == 'x' ? 'y' : 'x');
    assert_int_equal(gw_store_device_by_token(st, token, strlen(token), &ref), -ENOENT);
    assert_int_equal(
        gw_store_device_add(st, "b", "tok", NULL, 0, 1000, token, sizeof(token), err, sizeof(err)),
        0);
    assert_string_equal(token, "tok");
    assert_int_equal(gw_store_device_by_token(st, "tokX", 3, &ref), 0);
    assert_string_equal(ref.name, "b");
    assert_int_equal(
        gw_store_device_add(st, "a", "other", NULL, 0, 1, token, sizeof(token), err, sizeof(err)),
        -EEXIST);
    assert_int_equal(
        gw_store_device_add(st, "c", "tok", NULL, 0, 1, token, sizeof(token), err, sizeof(err)),
        -EEXIST);
    assert_non_null(strstr(err, "already used"));
    assert_int_equal(gw_store_device_add(st, "d", "bad token", NULL, 0, 1, token, sizeof(token),
                                         err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(
        gw_store_device_add(st, "e", NULL, "nosuch", 0, 1, token, sizeof(token), err, sizeof(err)),
        -ENOENT);
    /* Bulk: all or nothing. */
    assert_int_equal(
        gw_store_device_add(st, "f", "ft", NULL, 100, 1, token, sizeof(token), err, sizeof(err)),
        0);
    assert_int_equal(gw_store_device_by_token(st, "ft-99", 5, &ref), 0);
    assert_string_equal(ref.name, "f-99");
    assert_int_equal(
        gw_store_device_add(st, "g", "ft", NULL, 200, 1, token, sizeof(token), err, sizeof(err)),
        -EEXIST);
    assert_int_equal(sql_int("SELECT count(*) FROM device WHERE name LIKE 'g-%'"), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM device"), 102);
}

static void add_kv(struct profile_batch *b, const char *key, int64_t ts, struct profile_value v)
{
    struct profile_kv *kv = &b->kv[b->n++];

    kv->key = strdup(key);
    kv->ts_ms = ts;
    kv->v = v;
}

static void add_str(struct profile_batch *b, const char *key, int64_t ts,
                    enum profile_value_type type, const char *text)
{
    struct profile_value v = { .type = type, .s = strdup(text), .s_len = strlen(text) };

    add_kv(b, key, ts, v);
}

static int collect(void *arg, const char *key, int64_t ts_ms, const struct profile_value *v,
                   int scope)
{
    char *out = arg;
    size_t n = strlen(out);

    (void)snprintf(out + n, 1024 - n, "%s@%lld:%d:%lld:%g:%s:%d;", key, (long long)ts_ms,
                   (int)v->type, (long long)(v->type == PROFILE_VT_BOOLEAN ? v->b : v->l), v->d,
                   v->s != NULL ? v->s : "", scope);
    return 0;
}

static void test_telemetry_and_attributes(void **state)
{
    struct gw_store *st = *state;
    struct profile_batch b;
    struct gw_device_ref ref;
    char token[GW_STORE_TOKEN_MAX];
    char err[256];
    char out[1024] = "";
    const char *keys[] = { "t" };

    assert_int_equal(
        gw_store_device_add(st, "dev", "tk", NULL, 0, 1, token, sizeof(token), err, sizeof(err)),
        0);
    assert_int_equal(gw_store_device_by_token(st, "tk", 2, &ref), 0);
    assert_int_equal(profile_batch_init(&b, 8), 0);
    add_kv(&b, "t", 2000, (struct profile_value){ .type = PROFILE_VT_LONG, .l = 25 });
    add_kv(&b, "t", 1000, (struct profile_value){ .type = PROFILE_VT_LONG, .l = 24 });
    add_kv(&b, "h", 2000, (struct profile_value){ .type = PROFILE_VT_DOUBLE, .d = 40.5 });
    add_kv(&b, "on", 2000, (struct profile_value){ .type = PROFILE_VT_BOOLEAN, .b = true });
    add_str(&b, "s", 2000, PROFILE_VT_STRING, "x");
    add_str(&b, "j", 2000, PROFILE_VT_JSON, "{\"a\":1}");
    assert_int_equal(gw_store_insert_telemetry(st, ref.id, &b, 5000), 0);
    /* Latest: the newer ts wins even though it was written first. */
    assert_int_equal(gw_store_telemetry_walk(st, ref.id, keys, 1, false, 0, collect, out), 0);
    assert_string_equal(out, "t@2000:2:25:0::0;");
    out[0] = '\0';
    assert_int_equal(gw_store_telemetry_walk(st, ref.id, keys, 1, true, 0, collect, out), 0);
    assert_string_equal(out, "t@2000:2:25:0::0;t@1000:2:24:0::0;");
    out[0] = '\0';
    assert_int_equal(gw_store_telemetry_walk(st, ref.id, NULL, 0, false, 0, collect, out), 0);
    assert_string_equal(out, "h@2000:3:0:40.5::0;j@2000:5:0:0:{\"a\":1}:0;on@2000:1:1:0::0;"
                             "s@2000:4:0:0:x:0;t@2000:2:25:0::0;");
    assert_int_equal(sql_int("SELECT last_activity_ms FROM device WHERE name = 'dev'"), 5000);
    /* Same key and ts replaces the row instead of duplicating it. */
    assert_int_equal(gw_store_insert_telemetry(st, ref.id, &b, 6000), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM ts_kv"), 6);

    profile_batch_clear(&b);
    add_str(&b, "fw", 0, PROFILE_VT_STRING, "1.0");
    assert_int_equal(gw_store_save_attributes(st, ref.id, GW_SCOPE_CLIENT, &b, 7000, true), 0);
    assert_int_equal(gw_store_save_attributes(st, ref.id, GW_SCOPE_SHARED, &b, 8000, false), 0);
    out[0] = '\0';
    assert_int_equal(gw_store_attributes_walk(st, ref.id, 0, collect, out), 0);
    assert_string_equal(out, "fw@7000:4:0:0:1.0:1;fw@8000:4:0:0:1.0:2;");
    out[0] = '\0';
    assert_int_equal(gw_store_attributes_walk(st, ref.id, GW_SCOPE_SHARED, collect, out), 0);
    assert_string_equal(out, "fw@8000:4:0:0:1.0:2;");
    /* A shared write is not device activity; a client write is. */
    assert_int_equal(sql_int("SELECT last_activity_ms FROM device WHERE name = 'dev'"), 7000);
    profile_batch_fini(&b);
}

static int64_t dev_with_token(struct gw_store *st, const char *name)
{
    struct gw_device_ref ref;
    char token[GW_STORE_TOKEN_MAX];
    char err[256];

    assert_int_equal(
        gw_store_device_add(st, name, name, NULL, 0, 1, token, sizeof(token), err, sizeof(err)), 0);
    assert_int_equal(gw_store_device_by_token(st, name, strlen(name), &ref), 0);
    return ref.id;
}

static void test_downlink_order_merge_states(void **state)
{
    struct gw_store *st = *state;
    int64_t dev = dev_with_token(st, "q");
    const char *del_a[] = { "a" };
    const char *del_b[] = { "b" };
    struct profile_batch b;
    struct gw_dl_next n;
    int64_t id1, id2;
    int32_t rpc1, rpc2;

    assert_int_equal(profile_batch_init(&b, 4), 0);
    /* a=1, b=2 ; then delete a ; then RPC ; then b deleted ; then a=3 */
    add_kv(&b, "a", 0, (struct profile_value){ .type = PROFILE_VT_LONG, .l = 1 });
    add_kv(&b, "b", 0, (struct profile_value){ .type = PROFILE_VT_LONG, .l = 2 });
    assert_int_equal(gw_store_shared_update(st, dev, &b, NULL, 0, 100, 100000, 100), 0);
    assert_int_equal(gw_store_shared_update(st, dev, NULL, del_a, 1, 110, 100000, 100), 0);
    assert_int_equal(
        gw_store_rpc_queue(st, dev, "m1", "{\"x\":1}", false, 100000, 120, 100, &id1, &rpc1), 0);
    assert_int_equal(gw_store_shared_update(st, dev, NULL, del_b, 1, 130, 100000, 100), 0);
    profile_batch_clear(&b);
    add_kv(&b, "a", 0, (struct profile_value){ .type = PROFILE_VT_DOUBLE, .d = 3.0 });
    assert_int_equal(gw_store_shared_update(st, dev, &b, NULL, 0, 140, 100000, 100), 0);

    /* Oldest first: the attribute entries merge (a updated later than its deletion, b deleted). */
    assert_int_equal(gw_store_dl_next(st, dev, true, true, 150, &n), 0);
    assert_int_equal(n.kind, GW_DL_ATTRIBUTES);
    assert_int_equal(n.n_ids, 4);
    assert_string_equal(n.payload, "{\"a\":3.0,\"deleted\":[\"b\"]}");
    assert_int_equal(gw_store_dl_set_state(st, dev, n.ids, n.n_ids, GW_DL_SENT, NULL, 150), 0);
    gw_dl_next_fini(&n);
    /* One RPC observation only: the RPC is next. */
    assert_int_equal(gw_store_dl_next(st, dev, true, false, 160, &n), 0);
    assert_int_equal(n.kind, GW_DL_RPC);
    assert_int_equal(n.ids[0], id1);
    assert_string_equal(n.payload, "{\"id\":0,\"method\":\"m1\",\"params\":{\"x\":1}}");
    gw_dl_next_fini(&n);
    /* Without the observation it needs, nothing is sendable. */
    assert_int_equal(gw_store_dl_next(st, dev, false, true, 160, &n), -ENOENT);

    /* Retries: each timeout is a try; past max_retries (5) the entry fails. */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(gw_store_dl_set_state(st, dev, &id1, 1, GW_DL_SENT, NULL, 200), 0);
        assert_int_equal(gw_store_dl_set_state(st, dev, &id1, 1, GW_DL_TIMEOUT, NULL, 200), 0);
    }
    assert_int_equal(sql_int("SELECT state = 'FAILED' FROM downlink WHERE method = 'm1'"), 1);
    /* A final state is never left: a late ACK does not resurrect it. */
    assert_int_equal(gw_store_dl_set_state(st, dev, &id1, 1, GW_DL_DELIVERED, NULL, 300), 0);
    assert_int_equal(sql_int("SELECT state = 'FAILED' FROM downlink WHERE method = 'm1'"), 1);

    /* Expiry: a waiting RPC past its expiry becomes EXPIRED and is never offered. */
    assert_int_equal(gw_store_rpc_queue(st, dev, "m2", NULL, true, 1000, 500, 100, &id2, &rpc2), 0);
    assert_int_equal(rpc2, 1);
    assert_int_equal(gw_store_dl_next(st, dev, true, false, 1000, &n), -ENOENT);
    assert_int_equal(sql_int("SELECT state = 'EXPIRED' FROM downlink WHERE method = 'm2'"), 1);

    /* Two-way answer: SUCCESSFUL only for a waiting two-way RPC with that id. */
    assert_int_equal(gw_store_rpc_queue(st, dev, "m3", NULL, false, 100000, 600, 100, &id2, &rpc2),
                     0);
    assert_int_equal(gw_store_rpc_response(st, dev, rpc2, "{\"ok\":1}", 700), -ENOENT);
    assert_int_equal(gw_store_dl_set_state(st, dev, &id2, 1, GW_DL_SENT, NULL, 650), 0);
    assert_int_equal(gw_store_rpc_response(st, dev, rpc2, "{\"ok\":1}", 700), 0);
    assert_int_equal(sql_int("SELECT state = 'SUCCESSFUL' AND response = '{\"ok\":1}' FROM"
                             " downlink WHERE method = 'm3'"),
                     1);
    /* Queue limit: refused, nothing evicted. */
    assert_int_equal(gw_store_rpc_queue(st, dev, "m4", NULL, false, 100000, 800, 1, &id2, &rpc2),
                     -ENOSPC);
    /* Restart recovery: SENT becomes TIMEOUT (a try). */
    assert_int_equal(sql_int("SELECT count(*) FROM downlink WHERE state = 'SENT'"), 4);
    assert_int_equal(gw_store_dl_recover(st, 900), 4);
    assert_int_equal(sql_int("SELECT count(*) FROM downlink WHERE state = 'TIMEOUT'"), 4);
    assert_true(sql_int("SELECT count(*) FROM event WHERE type = 'DOWNLINK'") > 10);
    profile_batch_fini(&b);
}

/* A database of schema 1 (pending_device without blocked) keeps its data and gains the column. */
static void test_schema_1_upgrade(void **state)
{
    struct gw_store *st = *state;
    char err[256];
    sqlite3 *db = NULL;

    gw_store_close(st);
    *state = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "ALTER TABLE pending_device DROP COLUMN blocked;"
                                  " INSERT INTO pending_device (kind, identifier, first_seen_ms,"
                                  " last_seen_ms, seen_count, peer) VALUES ('EFENTO', 'tok-v1',"
                                  " 1000, 2000, 3, '10.0.0.1:5683'); PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(sql_int("SELECT count(*) FROM pragma_table_info('pending_device') WHERE"
                             " name = 'blocked'"),
                     0);
    assert_int_equal(gw_store_open(db_path, &opts, &st, err, sizeof(err)), 0);
    *state = st;
    assert_int_equal(sql_int("PRAGMA user_version"), 2);
    assert_int_equal(sql_int("SELECT count(*) FROM pragma_table_info('pending_device') WHERE"
                             " name = 'blocked'"),
                     1);
    assert_int_equal(sql_int("SELECT seen_count + blocked FROM pending_device WHERE identifier ="
                             " 'tok-v1' AND last_seen_ms = 2000 AND peer = '10.0.0.1:5683'"),
                     3);
    assert_int_equal(sql_int("SELECT count(*) FROM device_profile WHERE is_default = 1"), 1);
}

static void note(struct gw_store *st, const char *kind, const char *id, int64_t max, int64_t now,
                 int expect)
{
    struct gw_store_pending_in in = { kind, id, "10.0.0.9:1000", "{\"type\":\"telemetry\"}", max };

    assert_int_equal(gw_store_pending_note(st, &in, now), expect);
}

static int64_t pending_int(const char *id, const char *col)
{
    char sql[160];

    (void)snprintf(sql, sizeof(sql), "SELECT %s FROM pending_device WHERE identifier = '%s'", col,
                   id);
    return sql_int(sql);
}

/* One list for every kind: the write gap, blocking and the shared cap. */
static void test_pending(void **state)
{
    struct gw_store *st = *state;
    int64_t id;

    note(st, "COAP_TOKEN", "t1", 3, 1000, 0);
    note(st, "COAP_TOKEN", "t1", 3, 30000, 0); /* within the gap: nothing written */
    assert_int_equal(pending_int("t1", "seen_count"), 1);
    assert_int_equal(pending_int("t1", "last_seen_ms"), 1000);
    note(st, "COAP_TOKEN", "t1", 3, 61000, 0);
    assert_int_equal(pending_int("t1", "seen_count"), 2);
    assert_int_equal(pending_int("t1", "last_seen_ms"), 61000);
    /* Blocked: answered 1, neither counted nor rewritten. */
    id = pending_int("t1", "id");
    assert_int_equal(gw_store_api_pending_block(st, id), 0);
    note(st, "COAP_TOKEN", "t1", 3, 200000, 1);
    assert_int_equal(pending_int("t1", "seen_count"), 2);
    assert_int_equal(pending_int("t1", "last_seen_ms"), 61000);
    /* The cap counts every kind together (blocked entries aside). */
    note(st, "EFENTO", "e1", 3, 300000, 0);
    note(st, "X509", "f1", 3, 301000, 0);
    note(st, "COAP_TOKEN", "t2", 3, 302000, 0);
    assert_int_equal(sql_int("SELECT count(*) FROM pending_device WHERE blocked = 0"), 3);
    note(st, "COAP_TOKEN", "t3", 3, 303000, 0);
    assert_int_equal(sql_int("SELECT count(*) FROM pending_device WHERE blocked = 0"), 3);
    assert_int_equal(pending_int("e1", "count(*)"), 0); /* the least recently seen went */
    assert_int_equal(pending_int("t1", "blocked"), 1);  /* the blocked one stays */
    assert_int_equal(gw_store_api_pending_delete(st, id), 0);
    assert_int_equal(pending_int("t1", "count(*)"), 0);
}

static void test_newer_schema_refused(void **state)
{
    struct gw_store *st = NULL;
    char err[256];
    sqlite3 *db = NULL;

    (void)state;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(gw_store_open(db_path, &opts, &st, err, sizeof(err)), -EIO);
    assert_null(st);
    assert_non_null(strstr(err, "newer than this nbgate"));
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_and_default_profile, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(test_devices, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_telemetry_and_attributes, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_downlink_order_merge_states, store_setup,
                                        store_teardown),
        cmocka_unit_test_setup_teardown(test_schema_1_upgrade, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_pending, store_setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_newer_schema_refused, store_setup, store_teardown),
    };
    int rc;

    if (mkdtemp(dir) == NULL) {
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    (void)rmdir(dir);
    return rc;
}
