/* SPDX-License-Identifier: MIT */
/*
 * test_store_efento.c - the store's Efento paths on a temporary database: a batch groups store
 * calls into one transaction (each keeping its own all-or-nothing), a frame's commit refuses to
 * mark SENT an entry cancelled meanwhile, and the identity rules of queued settings (specs/
 * efento.md 3.2): refusals, the in-flight new token, and the switch once the sensor uses it.
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
#include "profiles/profile_model.h"

#include "store_fixture.h"

static const char efento_profile[] =
    "{\"name\":\"efento\",\"type\":\"DEFAULT\",\"transportType\":\"COAP\",\"profileData\":"
    "{\"configuration\":{\"type\":\"DEFAULT\"},\"transportConfiguration\":{\"type\":\"COAP\","
    "\"coapDeviceTypeConfiguration\":{\"coapDeviceType\":\"EFENTO\"}}}}";

static void sql_exec(const char *sql)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

/* A database with an Efento profile and two devices of it (sensor tok-old, other tok-taken). */
static int setup(void **state)
{
    struct gw_store *st = NULL;
    struct profile_config cfg;
    char err[256], tok[64], *norm = NULL;

    if (store_setup(state) != 0) {
        return -1;
    }
    st = *state;
    if (profile_config_parse(efento_profile, strlen(efento_profile), NULL, &cfg, &norm, err,
                             sizeof(err)) != 0 ||
        gw_store_profile_save(st, &cfg, norm, NULL, 0, 1000, NULL, err, sizeof(err)) != 0 ||
        gw_store_device_add(st, "sensor", "tok-old", "efento", 0, 1000, tok, sizeof(tok), err,
                            sizeof(err)) != 0 ||
        gw_store_device_add(st, "other", "tok-taken", "efento", 0, 1000, tok, sizeof(tok), err,
                            sizeof(err)) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    profile_config_fini(&cfg);
    free(norm);
    return 0;
}

static int64_t device_id(const char *name)
{
    char sql[128];

    (void)snprintf(sql, sizeof(sql), "SELECT id FROM device WHERE name = '%s'", name);
    return sql_int(sql);
}

/* A batch commits or rolls back everything; a failing call inside it undoes only itself. */
static void test_batch(void **state)
{
    struct gw_store *st = *state;
    char err[256], tok[64];

    assert_int_equal(gw_store_batch_begin(st), 0);
    assert_int_equal(
        gw_store_device_add(st, "a", "tok-a", NULL, 0, 1, tok, sizeof(tok), err, sizeof(err)), 0);
    assert_int_equal(
        gw_store_device_add(st, "a", "tok-a2", NULL, 0, 1, tok, sizeof(tok), err, sizeof(err)),
        -EEXIST);
    assert_int_equal(
        gw_store_device_add(st, "b", "tok-b", NULL, 0, 1, tok, sizeof(tok), err, sizeof(err)), 0);
    assert_int_equal(gw_store_batch_end(st, -ECANCELED), -ECANCELED);
    assert_int_equal(sql_int("SELECT count(*) FROM device WHERE name IN ('a','b')"), 0);

    assert_int_equal(gw_store_batch_begin(st), 0);
    assert_int_equal(
        gw_store_device_add(st, "a", "tok-a", NULL, 0, 1, tok, sizeof(tok), err, sizeof(err)), 0);
    assert_int_equal(
        gw_store_device_add(st, "a", "tok-a2", NULL, 0, 1, tok, sizeof(tok), err, sizeof(err)),
        -EEXIST);
    assert_int_equal(sql_int("SELECT count(*) FROM device WHERE name = 'a'"), 0); /* not yet */
    assert_int_equal(gw_store_batch_end(st, 0), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM device WHERE name = 'a'"), 1);
    assert_int_equal(sql_int("SELECT count(*) FROM credentials WHERE credentials_id = 'tok-a2'"),
                     0);
}

/* An entry cancelled between reading it and committing the frame that carries it. */
static void test_cancelled_entry(void **state)
{
    struct gw_store *st = *state;
    int64_t dev = device_id("sensor"), id = 0;
    struct gw_efento_dl_change ch = { 0 };
    struct gw_efento_commit c;
    struct profile_kv kv;
    char err[256] = "", key[] = "temperature_1";

    assert_int_equal(gw_store_efento_queue(st, dev, "{\"transmissionInterval\":600}", 2000, 10, &id,
                                           err, sizeof(err)),
                     0);
    sql_exec("DELETE FROM downlink"); /* the admin cancels it */
    memset(&kv, 0, sizeof(kv));
    kv.key = key;
    kv.v.type = PROFILE_VT_DOUBLE;
    kv.v.d = 21.5;
    kv.ts_ms = 1700000000000;
    memset(&c, 0, sizeof(c));
    c.device_id = dev;
    c.now_ms = 3000;
    c.telemetry = &kv;
    c.n_telemetry = 1;
    ch.id = id;
    ch.state = GW_DL_SENT;
    ch.mid = 7;
    c.changes = &ch;
    c.n_changes = 1;
    assert_int_equal(gw_store_efento_commit(st, &c), -EAGAIN);
    assert_int_equal(sql_int("SELECT count(*) FROM ts_kv"), 0);
    c.n_changes = 0; /* built again without the entry */
    assert_int_equal(gw_store_efento_commit(st, &c), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM ts_kv"), 1);
}

static int queue(struct gw_store *st, const char *json, char *err, size_t err_len)
{
    int64_t id = 0;

    err[0] = '\0';
    return gw_store_efento_queue(st, device_id("sensor"), json, 2000, 10, &id, err, err_len);
}

/* Settings that would cut the sensor off are refused with the reason; nothing is queued. */
static void test_identity_refusals(void **state)
{
    struct gw_store *st = *state;
    char err[256];

    assert_int_equal(queue(st, "{\"cloudTokenConfig\":255}", err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "255 sends no token"));
    assert_int_equal(queue(st, "{\"cloudTokenConfig\":2}", err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "IMEI"));
    assert_int_equal(queue(st, "{\"cloudTokenConfig\":1}", err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "needs cloudToken"));
    assert_int_equal(queue(st, "{\"cloudToken\":\"tok-taken\"}", err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "another device"));
    assert_int_equal(queue(st, "{\"cloudTokenCoapOption\":66}", err, sizeof(err)), -EACCES);
    assert_non_null(strstr(err, "differs from the device profile's 65000"));
    assert_int_equal(sql_int("SELECT count(*) FROM downlink"), 0);
    /* A known IMEI makes cloudTokenConfig 2 possible: it becomes the in-flight token. */
    sql_exec("INSERT INTO ts_kv_latest (device_id, key, ts_ms, type, v_long) SELECT id,"
             " 'modem_identification', 1, 2, 352519100417272 FROM device WHERE name = 'sensor'");
    assert_int_equal(queue(st, "{\"cloudTokenConfig\":2}", err, sizeof(err)), 0);
    assert_int_equal(sql_int("SELECT json_extract(additional_info, '$.newToken') ="
                             " '352519100417272' FROM downlink"),
                     1);
}

/* The new token identifies the device only once the entry is SENT; using it switches. */
static void test_token_move(void **state)
{
    struct gw_store *st = *state;
    struct gw_efento_device dev;
    struct gw_efento_dl_change ch = { 0 };
    struct gw_efento_commit c;
    char err[256];

    assert_int_equal(queue(st, "{\"cloudToken\":\"tok-new\"}", err, sizeof(err)), 0);
    assert_int_equal(gw_store_efento_device_moving(st, "tok-new", 7, &dev), -ENOENT);
    memset(&c, 0, sizeof(c));
    c.device_id = device_id("sensor");
    c.now_ms = 3000;
    ch.id = sql_int("SELECT id FROM downlink");
    ch.state = GW_DL_SENT;
    c.changes = &ch;
    c.n_changes = 1;
    assert_int_equal(gw_store_efento_commit(st, &c), 0);
    assert_int_equal(gw_store_efento_device_moving(st, "tok-new", 7, &dev), 0);
    assert_int_equal(dev.id, device_id("sensor"));
    assert_int_equal(gw_store_efento_device(st, "tok-old", 7, &dev), 0); /* both, meanwhile */
    memset(&c, 0, sizeof(c));
    c.device_id = device_id("sensor");
    c.now_ms = 4000;
    c.new_token = "tok-new";
    assert_int_equal(gw_store_efento_commit(st, &c), 0);
    assert_int_equal(gw_store_efento_device(st, "tok-old", 7, &dev), -ENOENT);
    assert_int_equal(gw_store_efento_device(st, "tok-new", 7, &dev), 0);
    assert_int_equal(sql_int("SELECT count(*) FROM event WHERE type = 'TOKEN_CHANGED'"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch, setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_cancelled_entry, setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_identity_refusals, setup, store_teardown),
        cmocka_unit_test_setup_teardown(test_token_move, setup, store_teardown),
    };
    int rc;

    if (mkdtemp(dir) == NULL) {
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    (void)rmdir(dir);
    return rc;
}
