/* workload_bin.h - the benchmark functions' binaries on this machine: where they are and running
 * one as a child process. They live next to the harvestbench executable, in workloads/<id> (build/
 * after `make`), found through /proc/self/exe, so the commands work from any directory. */
#ifndef HB_WORKLOAD_BIN_H
#define HB_WORKLOAD_BIN_H

#include <stddef.h>

#include "hb_error.h"

/* The path of function id's binary; fails when it is missing or not executable. */
int hb_workload_path(const char *id, char *path, size_t len, hb_error *err);

/* Runs argv (argv[0] the binary's path) as a child with this process's stdio and waits for it.
 * *status receives the wait status. If exec fails the child writes "WHO: exec PATH: reason" to
 * stderr and exits 1. Fails only when the child cannot be started. */
int hb_workload_exec_wait(const char *who, char *const argv[], int *status, hb_error *err);

#endif
