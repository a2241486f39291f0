/* serve_launch.h - starting `harvestbench serve` as a long-running process: its key, the process
 * settings a server needs (descriptors, malloc arenas, signals taken by sigwait), the runner
 * actions run in (local where cgroups can be made, else exec), the endpoint (serve.h), and the wsk
 * properties file with its API host and key; then waiting for SIGINT or SIGTERM. */
#ifndef HB_SERVE_LAUNCH_H
#define HB_SERVE_LAUNCH_H

#include <signal.h>

#include "hb_error.h"
#include "serve.h"

typedef struct hb_serve_launch {
    hb_serve_opts o;                   /* the endpoint's options (o.runner is set here) */
    const char *props;                 /* where to write APIHOST, AUTH, NAMESPACE; NULL: nowhere */
    const char *host;                  /* the host written there */
    const char *runner;                /* "local", "exec", or NULL: local where it can */
    const char *action_user;           /* USER[:GROUP] actions run as (local runner, as root) */
    long pids_max;                     /* tasks per container; 0: no limit */
    /* set by hb_serve_launch */
    const char *runner_used;           /* "local" or "exec" */
    sigset_t set, old;                 /* the signals waited for, and the mask before */
} hb_serve_launch;

/* Sets the process up, starts the runner and the endpoint, writes the properties file. Warnings
 * go to stderr. On failure nothing is left running and the signal mask is restored; an unknown
 * --action-user fails with HB_EINPUT. */
int hb_serve_launch_start(hb_serve_launch *l, hb_serve **out, hb_error *err);

/* Waits for SIGINT or SIGTERM, then stops the endpoint (after reading its statistics into st)
 * and restores the signal mask. Returns the signal. */
int hb_serve_launch_wait(hb_serve_launch *l, hb_serve *s, hb_serve_stats *st);

#endif
