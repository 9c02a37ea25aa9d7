/* SPDX-License-Identifier: MIT */
/*
 * main.c - nbgate's entry point: command line, configuration, then either an admin command
 * (gw_cli) or the daemon: open the store, bind the CoAP endpoint, run the loop until SIGTERM.
 *
 * The daemon stays in the foreground (systemd runs it); it never forks. Signal handlers only set
 * a flag and poke the loop's eventfd; the loop does the work. Exit status: 0 after a clean
 * shutdown or a good `-t`, 1 on a runtime failure, 2 on a usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "gateway/gw_cli.h"
#include "gateway/gw_coap.h"
#include "gateway/gw_coap_dtls.h"
#include "gateway/gw_config.h"
#include "gateway/gw_log.h"
#include "gateway/gw_loop.h"
#include "gateway/gw_pki.h"
#include "gateway/gw_store.h"
#include "web/web.h"

static volatile sig_atomic_t stop_requested;
static int wake_fd = -1;

static void on_signal(int sig)
{
    uint64_t one = 1;

    (void)sig;
    stop_requested = 1;
    if (wake_fd >= 0) {
        (void)!write(wake_fd, &one, sizeof(one));
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nbgate [-c FILE] [--data-dir DIR] [-t] [-v] [-V] [-h]\n"
            "       nbgate [-c FILE] [--data-dir DIR] COMMAND ...\n"
            "\n"
            "Runs the nbgate CoAP gateway in the foreground, or an admin command on its store.\n"
            "  -c FILE         config file (default: none, built-in defaults)\n"
            "  --data-dir DIR  directory of the database (overrides data_dir)\n"
            "  -t              check the configuration and exit\n"
            "  -v              log at debug level\n"
            "  -V              print the version and exit\n"
            "  -h              this help\n"
            "\n"
            "Commands (they work while the daemon runs):\n"
            "  device add NAME [--token T] [--profile P] [--count N] [--json]\n"
            "  device set-cert NAME FILE.pem | device cert NAME   (X.509 credential)\n"
            "  device list [--json]\n"
            "  device set-profile NAME PROFILE | device set-power NAME JSON|default\n"
            "  profile add NAME --json FILE | profile list|show|set-default|delete ...\n"
            "  telemetry NAME [--keys k1,k2] [--history] [--limit N] [--json]\n"
            "  attributes NAME [--scope client|shared|server] [--json]\n"
            "  attributes set NAME JSON | attributes delete NAME KEY... [--scope shared|server]\n"
            "  rpc NAME METHOD [PARAMS] [--oneway] [--timeout MS] [--wait]\n"
            "  downlinks NAME [--json]\n"
            "  efento set DEVICE... KEY=VALUE...   (Efento settings, sent in the next CON answer)\n"
            "  pending list [--json] | pending approve CREDENTIAL [NAME] [--profile P]\n"
            "  pending block|delete CREDENTIAL\n"
            "  ota add firmware|software TITLE VERSION FILE | ota assign NAME TYPE ID|none\n"
            "  claim NAME SECRET\n"
            "  admin create USER    (password from stdin or a prompt)\n"
            "  admin password USER\n"
            "\n"
            "Environment variables override the file: COAP_BIND_ADDRESS, COAP_BIND_PORT,\n"
            "NBGATE_DURABILITY, ... (see nbgate.conf).\n");
}

static int ensure_dir(const char *dir)
{
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        gw_log_err("cannot create data directory dir=%s err=\"%s\"", dir, strerror(errno));
        return -errno;
    }
    return 0;
}

static void on_coap_ready(void *arg)
{
    gw_coap_process(arg);
}

static int tick_fd = -1;
static struct web_server *admin_web;

static void on_tick(void *arg)
{
    uint64_t n;

    (void)!read(tick_fd, &n, sizeof(n));
    gw_coap_tick(arg);
    gw_coap_dtls_tick(arg);
}

static void on_wake(void *arg)
{
    web_server_loop_alive(admin_web);
    if (arg != NULL) {
        gw_coap_tick(arg);
    }
}

/* A periodic timer for the scheduler: new downlinks, expiries, window starts. */
static int start_ticker(void)
{
    struct itimerspec its = { { 0, GW_COAP_TICK_MS * 1000000L },
                              { 0, GW_COAP_TICK_MS * 1000000L } };
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

    if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL) != 0) {
        (void)close(fd);
        fd = -1;
    }
    return fd;
}

static int start_admin(const struct gw_config *cfg, const struct gw_store_opts *store_opts,
                       int wakeup_fd, struct gw_coap *coap, struct gw_pki_cert *cert,
                       struct web_server **web)
{
    const char *addrs[] = { cfg->admin_bind_address, cfg->coap_bind_address,
                            cfg->coap_dtls_bind_address };
    struct gw_pki_cert_opts po = { cfg->data_dir, cfg->admin_tls_cert, cfg->admin_tls_key, addrs,
                                   3 };
    struct web_server_opts wo = {
        .data_dir = cfg->data_dir,
        .store_opts = store_opts,
        .bind_address = cfg->admin_bind_address,
        .port = (uint16_t)cfg->admin_port,
        .is_tls = cfg->admin_tls,
        .wakeup_fd = wakeup_fd,
        .is_dtls_enabled = cfg->coap_dtls_enabled,
        .max_body_bytes = cfg->admin_max_body_bytes,
        .connection_timeout_s = cfg->admin_connection_timeout_s,
        .max_connections = cfg->admin_max_connections,
        .login_failures_per_minute = cfg->admin_login_failures_per_minute,
        .jwt_ttl_s = cfg->jwt_token_expiration_time_s,
        .jwt_refresh_ttl_s = cfg->jwt_refresh_token_expiration_time_s,
        .default_inactivity_timeout_s = cfg->default_inactivity_timeout_s,
        .max_keys_per_message = cfg->max_keys_per_message,
        .json_max_string_value_length = cfg->json_max_string_value_length,
        .json_type_cast_enabled = cfg->json_type_cast_enabled,
        .max_queued_downlinks = cfg->max_queued_downlinks,
        .loop_metrics = gw_coap_metrics,
        .loop_metrics_arg = coap,
        .coap_bind_address = cfg->coap_bind_address,
        .coap_bind_port = cfg->coap_bind_port,
        .dtls_bind_address = cfg->coap_dtls_bind_address,
        .dtls_bind_port = cfg->coap_dtls_bind_port,
        .dtls_credentials_type = cfg->coap_dtls_credentials_type,
        .dtls_cert_path = cfg->coap_dtls_pem_cert,
        .dtls_session_inactivity_timeout_ms = cfg->coap_dtls_session_inactivity_timeout_ms,
        .dtls_session_report_timeout_ms = cfg->coap_dtls_session_report_timeout_ms,
    };
    char err[512];

    if (cfg->admin_port == 0) {
        gw_log_notice("admin api disabled (admin_port 0)");
        return 0;
    }
    if (cfg->admin_tls) {
        if (gw_pki_cert_load_or_create(&po, cert, err, sizeof(err)) != 0) {
            gw_log_err("cannot load the admin certificate err=\"%s\"", err);
            return -1;
        }
        gw_log_notice("admin certificate subject=\"%s\" sha256=%s generated=%s new=%s",
                      cert->subject, cert->fingerprint, cert->is_generated ? "yes" : "no",
                      cert->is_new ? "yes" : "no");
        wo.tls_cert_pem = cert->cert_pem;
        wo.tls_key_pem = cert->key_pem;
    }
    if (web_server_start(&wo, web, err, sizeof(err)) != 0) {
        gw_log_err("cannot start the admin api err=\"%s\"", err);
        return -1;
    }
    return 0;
}

static int run_daemon(const struct gw_config *cfg)
{
    struct gw_store_opts opts = {
        .is_durable_full = cfg->durability == GW_DURABILITY_FULL,
        .wal_autocheckpoint_pages = cfg->wal_autocheckpoint_pages,
        .journal_size_limit_bytes = cfg->journal_size_limit_bytes,
        .busy_timeout_ms = 5000,
        .events_per_device = cfg->events_per_device,
    };
    struct gw_pki_cert cert = { 0 };
    struct gw_store *store = NULL;
    struct gw_coap *coap = NULL;
    struct gw_loop *loop = NULL;
    struct sigaction sa;
    char path[GW_CONFIG_STR_MAX + 16];
    char err[512];
    int rc = 1;

    if (ensure_dir(cfg->data_dir) != 0) {
        goto out;
    }
    (void)snprintf(path, sizeof(path), "%s/nbgate.db", cfg->data_dir);
    if (gw_store_open(path, &opts, &store, err, sizeof(err)) != 0) {
        gw_log_err("cannot open the store path=%s err=\"%s\"", path, err);
        goto out;
    }
    loop = gw_loop_new();
    if (loop == NULL) {
        gw_log_err("cannot create the event loop err=\"%s\"", strerror(errno));
        goto out;
    }
    wake_fd = gw_loop_wakeup_fd(loop);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    (void)sigemptyset(&sa.sa_mask);
    (void)sigaction(SIGTERM, &sa, NULL);
    (void)sigaction(SIGINT, &sa, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    gw_coap_startup();
    if (gw_coap_new(cfg, store, &coap, err, sizeof(err)) != 0) {
        gw_log_err("cannot start CoAP err=\"%s\"", err);
        goto out;
    }
    tick_fd = start_ticker();
    if (gw_loop_add(loop, gw_coap_fd(coap), on_coap_ready, coap) != 0 || tick_fd < 0 ||
        gw_loop_add(loop, tick_fd, on_tick, coap) != 0) {
        gw_log_err("cannot watch the CoAP descriptor or the scheduler timer");
        goto out;
    }
    if (start_admin(cfg, &opts, wake_fd, coap, &cert, &admin_web) != 0) {
        goto out;
    }
    gw_coap_process(coap);
    gw_log_notice("ready coap=%s:%lld data_dir=%s durability=%s version=%s", cfg->coap_bind_address,
                  (long long)cfg->coap_bind_port, cfg->data_dir,
                  cfg->durability == GW_DURABILITY_FULL ? "full" : "process", NBGATE_VERSION);
    if (gw_loop_run(loop, &stop_requested, on_wake, coap) != 0) {
        gw_log_err("event loop failed err=\"%s\"", strerror(errno));
        goto out;
    }
    gw_log_notice("stopping requests=%llu stored=%llu duplicates=%llu",
                  (unsigned long long)gw_coap_stats(coap)->requests,
                  (unsigned long long)gw_coap_stats(coap)->stored,
                  (unsigned long long)gw_coap_stats(coap)->duplicates);
    rc = 0;
out:
    web_server_stop(admin_web);
    admin_web = NULL;
    gw_pki_cert_fini(&cert);
    gw_coap_free(coap);
    if (coap != NULL || rc == 0) {
        gw_coap_cleanup();
    }
    wake_fd = -1;
    if (tick_fd >= 0) {
        (void)close(tick_fd);
        tick_fd = -1;
    }
    gw_loop_free(loop);
    gw_store_close(store);
    if (rc == 0) {
        gw_log_notice("stopped");
    }
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option long_opts[] = {
        { "data-dir", required_argument, NULL, 'd' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct gw_config cfg;
    const char *conf_path = NULL;
    const char *data_dir = NULL;
    bool is_test = false;
    bool is_verbose = false;
    char err[512];
    int opt;

    while ((opt = getopt_long(argc, argv, "+c:tvVh", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            conf_path = optarg;
            break;
        case 'd':
            data_dir = optarg;
            break;
        case 't':
            is_test = true;
            break;
        case 'v':
            is_verbose = true;
            break;
        case 'V':
            printf("nbgate %s\n", NBGATE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    gw_config_defaults(&cfg);
    if (conf_path != NULL && gw_config_load_file(&cfg, conf_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "nbgate: %s\n", err);
        return 2;
    }
    if (gw_config_load_env(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "nbgate: %s\n", err);
        return 2;
    }
    if (data_dir != NULL && gw_config_set(&cfg, "data_dir", data_dir, err, sizeof(err)) != 0) {
        fprintf(stderr, "nbgate: --data-dir: %s\n", err);
        return 2;
    }
    if (is_verbose) {
        cfg.log_level = LOG_DEBUG;
    }
    if (gw_config_validate(&cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "nbgate: %s%s%s\n", conf_path != NULL ? conf_path : "",
                conf_path != NULL ? ": " : "", err);
        return 2;
    }
    gw_log_set_level(cfg.log_level);
    if (is_test) {
        printf("nbgate: configuration %s ok\n", conf_path != NULL ? conf_path : "(defaults)");
        return 0;
    }
    if (optind < argc) {
        if (!gw_cli_is_command(argv[optind])) {
            fprintf(stderr, "nbgate: unknown command \"%s\"\n", argv[optind]);
            usage(stderr);
            return 2;
        }
        return gw_cli_main(&cfg, argc - optind, argv + optind);
    }
    return run_daemon(&cfg);
}
