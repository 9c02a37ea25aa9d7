/* SPDX-License-Identifier: MIT */
/* gw_cli_internal.h - shared by the admin command files (gw_cli.c, gw_cli_ops.c). */
#ifndef GW_CLI_INTERNAL_H
#define GW_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <strings.h>

#include "gateway/gw_store.h"

/* Options of every admin command (each command uses the ones it documents). */
struct gw_cli_opts {
    const char *token;
    const char *profile;
    const char *keys;
    const char *scope;
    long count;
    long limit;
    long timeout_ms;
    int64_t max_queued;            /* max_queued_downlinks of the configuration */
    int64_t default_inactivity_ms; /* DEFAULT_INACTIVITY_TIMEOUT in ms */
    bool is_json;
    bool is_history;
    bool is_oneway;
    bool is_wait;
};

/* Finds a device by name, printing the error. Returns: 0, -ENOENT, -EIO. */
int gw_cli_find_device(struct gw_store *st, const char *name, struct gw_device_ref *dev);

int gw_cli_attr_set(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv);
int gw_cli_attr_delete(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv);
int gw_cli_rpc(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv);
int gw_cli_downlinks(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv);
int gw_cli_ota(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv);
int gw_cli_claim(struct gw_store *st, const struct gw_cli_opts *o, int argc, char **argv);
/* device set-cert DEVICE FILE | device cert DEVICE (gw_cli_x509.c); argv[0] is the subcommand. */
int gw_cli_x509(struct gw_store *st, int argc, char **argv);

/* `efento set ...` and `pending list|approve ...` (gw_cli_efento.c); cmd is "efento" or
 * "pending". Returns: the exit status. */
int gw_cli_efento(struct gw_store *st, const struct gw_cli_opts *o, const char *cmd, int argc,
                  char **argv);

#endif /* GW_CLI_INTERNAL_H */
