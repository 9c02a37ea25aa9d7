/* SPDX-License-Identifier: MIT */
/*
 * store_fixture.h - the temporary-database fixture of the store's unit tests (test_store.c,
 * test_store_efento.c): one directory per test binary (main() creates it with mkdtemp and
 * removes it), a fresh database file per test, and a side connection for checks in SQL.
 * Included once per test program, after <cmocka.h>; everything here is file-local.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gateway/gw_store.h"

static char dir[] = "/tmp/nbgate-test-store.XXXXXX";
static char db_path[128];
static const struct gw_store_opts opts = { true, 1000, 1 << 20, 1000, 0 };

/* Opens a new database in dir as *state. Returns: 0, -1 (cmocka skips the test as failed). */
static int store_setup(void **state)
{
    struct gw_store *st = NULL;
    char err[256];

    (void)snprintf(db_path, sizeof(db_path), "%s/t%d.db", dir, rand());
    if (gw_store_open(db_path, &opts, &st, err, sizeof(err)) != 0) {
        fprintf(stderr, "open: %s\n", err);
        return -1;
    }
    *state = st;
    return 0;
}

/* Closes *state and removes the database with its WAL and shared-memory files. */
static int store_teardown(void **state)
{
    char p[160];

    gw_store_close(*state);
    (void)unlink(db_path);
    (void)snprintf(p, sizeof(p), "%s-wal", db_path);
    (void)unlink(p);
    (void)snprintf(p, sizeof(p), "%s-shm", db_path);
    (void)unlink(p);
    return 0;
}

/* The first column of the first row of sql, read through a connection of its own; -1: none. */
static int64_t sql_int(const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    int64_t v = -1;

    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW) {
        v = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

#endif /* STORE_FIXTURE_H */
