/* manifest.h - a results directory's manifest.json (docs/outputs.md): what ran (versions, the
 * resolved configuration, the trace, the backend and what it cannot honour, the seeds) and the
 * status of every run; rewritten after each run, so that an interrupted experiment can resume. */
#ifndef HB_MANIFEST_H
#define HB_MANIFEST_H

#include <stddef.h>

#include "experiment.h"
#include "experiment_run.h"
#include "hb_backend.h"
#include "hb_policy.h"

/* What every write of one experiment's manifest shares. */
typedef struct hb_manifest {
    const char *out;                   /* the results directory */
    const hb_experiment *x;
    const hb_backend_ops *backend;
    hb_kvlist *backend_params;         /* its [backend.NAME] section (for its probe) */
    const hb_policy_ops *const *policies;   /* the ops of x->cfg.policies[i] */
    const hb_run_entry *runs;
    size_t n_runs;
    char started[32];                  /* ISO 8601, UTC */
} hb_manifest;

/* The current time, ISO 8601 UTC ("2026-01-31T12:00:00Z"). */
void hb_iso_now(char *buf, size_t n);

/* Writes OUT/manifest.json; ended NULL: not ended yet; status "complete" or "incomplete". */
int hb_manifest_write(const hb_manifest *m, const char *ended, const char *status, hb_error *err);

/* For --resume: OUT/manifest.json must exist and describe the same configuration. */
int hb_manifest_check_resume(const char *out, const hb_config *cfg, hb_error *err);

#endif
