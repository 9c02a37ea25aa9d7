/* SPDX-License-Identifier: MIT */
/*
 * test_config.c - the configuration table: defaults, file parsing with file:line diagnostics,
 * conf.d fragments, environment overrides with ThingsBoard's names, ranges and types.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gateway/gw_config.h"
#include "gateway/gw_log.h"

static char dir[] = "/tmp/nbgate-test-config.XXXXXX";

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int load(struct gw_config *cfg, const char *name, char *err, size_t len)
{
    char path[256];

    (void)snprintf(path, sizeof(path), "%s/%s", dir, name);
    gw_config_defaults(cfg);
    return gw_config_load_file(cfg, path, err, len);
}

static void test_defaults(void **state)
{
    struct gw_config cfg;
    char err[256];

    (void)state;
    gw_config_defaults(&cfg);
    assert_string_equal(cfg.coap_bind_address, "0.0.0.0");
    assert_int_equal(cfg.coap_bind_port, 5683);
    assert_int_equal(cfg.coap_dtls_bind_port, 5684);
    assert_false(cfg.coap_dtls_enabled);
    assert_int_equal(cfg.durability, GW_DURABILITY_FULL);
    assert_int_equal(cfg.max_payload_size, 65536);
    assert_int_equal(cfg.max_keys_per_message, 1000);
    assert_int_equal(cfg.json_max_string_value_length, 0);
    assert_true(cfg.json_type_cast_enabled);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_string_equal(cfg.data_dir, "nbgate-data");
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), 0);
}

struct bad_case {
    const char *text;
    const char *want; /* substring of the error */
};

static void test_bad_lines(void **state)
{
    static const struct bad_case cases[] = {
        { "coap_bind_port 0\n", "c.conf:1: coap_bind_port: 0 out of range 1..65535" },
        { "\n# c\ncoap_bind_port 5683x\n", "c.conf:3: coap_bind_port: not an integer" },
        { "bogus 1\n", "c.conf:1: bogus: unknown key" },
        { "durability sometimes\n", "c.conf:1: durability: expected full or process" },
        { "log_level loud\n", "c.conf:1: log_level: expected err, warning" },
        { "coap_dtls_enabled maybe\n", "c.conf:1: coap_dtls_enabled: expected true or false" },
        { "max_payload_size 10\n", "c.conf:1: max_payload_size: 10 out of range 64..16777216" },
        { "coap_bind_port\n", "c.conf:1: coap_bind_port: not an integer" },
    };
    struct gw_config cfg;
    char err[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file("c.conf", cases[i].text);
        assert_int_equal(load(&cfg, "c.conf", err, sizeof(err)), -EINVAL);
        if (strstr(err, cases[i].want) == NULL) {
            fail_msg("case %zu: got \"%s\", want \"%s\"", i, err, cases[i].want);
        }
    }
}

static void test_file_conf_d_env(void **state)
{
    struct gw_config cfg;
    char path[256];
    char err[256];

    (void)state;
    write_file("n.conf", "  # comment\ncoap_bind_port 6000   # trailing\n"
                         "coap_bind_address 127.0.0.1\ndurability process\n"
                         "json_type_cast_enabled no\nlog_level debug\n");
    (void)snprintf(path, sizeof(path), "%s/conf.d", dir);
    (void)mkdir(path, 0700);
    write_file("conf.d/20-b.conf", "coap_bind_port 6002\n");
    write_file("conf.d/10-a.conf", "coap_bind_port 6001\nmax_keys_per_message 5\n");
    assert_int_equal(load(&cfg, "n.conf", err, sizeof(err)), 0);
    assert_int_equal(cfg.coap_bind_port, 6002); /* 20-b after 10-a */
    assert_int_equal(cfg.max_keys_per_message, 5);
    assert_string_equal(cfg.coap_bind_address, "127.0.0.1");
    assert_int_equal(cfg.durability, GW_DURABILITY_PROCESS);
    assert_false(cfg.json_type_cast_enabled);
    assert_int_equal(cfg.log_level, LOG_DEBUG);

    assert_int_equal(setenv("COAP_BIND_PORT", "7000", 1), 0);
    assert_int_equal(setenv("JSON_TYPE_CAST_ENABLED", "true", 1), 0);
    assert_int_equal(setenv("NBGATE_MAX_PAYLOAD_SIZE", "1024", 1), 0);
    assert_int_equal(gw_config_load_env(&cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg.coap_bind_port, 7000);
    assert_true(cfg.json_type_cast_enabled);
    assert_int_equal(cfg.max_payload_size, 1024);
    assert_int_equal(setenv("COAP_BIND_PORT", "-1", 1), 0);
    assert_int_equal(gw_config_load_env(&cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "environment COAP_BIND_PORT"));
    (void)unsetenv("COAP_BIND_PORT");
    (void)unsetenv("JSON_TYPE_CAST_ENABLED");
    (void)unsetenv("NBGATE_MAX_PAYLOAD_SIZE");
    (void)snprintf(path, sizeof(path), "%s/conf.d/20-b.conf", dir);
    (void)unlink(path);
    (void)snprintf(path, sizeof(path), "%s/conf.d/10-a.conf", dir);
    (void)unlink(path);
}

static void test_missing_file_and_validate(void **state)
{
    struct gw_config cfg;
    char err[256];

    (void)state;
    assert_int_equal(load(&cfg, "does-not-exist.conf", err, sizeof(err)), -ENOENT);
    gw_config_defaults(&cfg);
    assert_int_equal(
        gw_config_set(&cfg, "coap_dtls_credentials_type", "KEYSTORE", err, sizeof(err)), 0);
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "only PEM is supported"));
    gw_config_defaults(&cfg);
    assert_int_equal(gw_config_set(&cfg, "data_dir", "", err, sizeof(err)), 0);
    assert_int_equal(gw_config_validate(&cfg, err, sizeof(err)), -EINVAL);
    assert_int_equal(gw_config_set(&cfg, "nope", "1", err, sizeof(err)), -ENOENT);
}

static void test_dump_lists_every_key(void **state)
{
    struct gw_config cfg;
    char buf[8192];
    size_t n;

    (void)state;
    gw_config_defaults(&cfg);
    n = gw_config_dump(&cfg, buf, sizeof(buf));
    assert_true(n < sizeof(buf));
    assert_non_null(strstr(buf, "coap_bind_port 5683\n"));
    assert_non_null(strstr(buf, "durability full\n"));
    assert_non_null(strstr(buf, "coap_dtls_pem_key_password \n"));
}

int main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_file_conf_d_env),
        cmocka_unit_test(test_missing_file_and_validate),
        cmocka_unit_test(test_dump_lists_every_key),
    };
    int rc;

    if (mkdtemp(dir) == NULL) {
        return 1;
    }
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    for (size_t i = 0; i < 3; i++) {
        static const char *const names[] = { "c.conf", "n.conf", "conf.d" };
        char path[256];
        (void)snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        (void)remove(path);
    }
    (void)rmdir(dir);
    return rc;
}
