/* compare_opts.h - the command-line flags that `compare` and `check` share. */
#ifndef HB_COMPARE_OPTS_H
#define HB_COMPARE_OPTS_H

#include "analysis.h"

/* If argv[*i] is NAME VALUE or NAME=VALUE, sets *value (advancing *i past it) and returns 1;
 * returns -1 when the value is missing, 0 when argv[*i] is another argument. */
int hb_opt_value(int argc, char **argv, int *i, const char *name, const char **value);

/* --seed S and --resamples B (at least HB_BOOT_MIN_RESAMPLES) into o. Returns 1 if argv[*i] was
 * one of them, 0 if not, -1 after printing a usage error for command cmd. */
int hb_opt_boot(int argc, char **argv, int *i, hb_boot_opts *o, const char *cmd);

#endif
