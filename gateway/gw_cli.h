/* SPDX-License-Identifier: MIT */
/*
 * gw_cli.h - the admin command line: `nbgate device|telemetry|attributes ...`, working on the
 * same database as a running daemon (WAL lets both use it at once).
 */
#ifndef GW_CLI_H
#define GW_CLI_H

#include "gateway/gw_config.h"

/*
 * Runs one admin command; argv[0] is the command name ("device", "telemetry", "attributes").
 * Returns: the process exit status (0 ok, 1 failure, 2 usage error).
 */
int gw_cli_main(const struct gw_config *cfg, int argc, char **argv);

/* Returns: true when name is an admin command gw_cli_main() handles. */
bool gw_cli_is_command(const char *name);

#endif /* GW_CLI_H */
