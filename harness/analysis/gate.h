/* gate.h - the CI regression gate of `harvestbench check` (docs/ci.md): per policy present in a
 * run and its baseline, the gated latency metric (by default the censored mean: a failed call
 * counts at its timeout, so failing more cannot look faster), the success share and the CPU and
 * memory utilization of capacity are compared; a metric is a regression when it is worse by more
 * than the tolerance AND the 95% bootstrap interval of its relative change excludes zero. The two
 * latency metrics not gated are printed as information. Runs of the same seeds and calls are
 * resampled paired by invocation (docs/statistics.md). */
#ifndef HB_GATE_H
#define HB_GATE_H

#include <stdio.h>

#include "analysis.h"
#include "hb_error.h"
#include "results_reader.h"

enum { HB_GATE_CMEAN, HB_GATE_MEAN, HB_GATE_P99, HB_GATE_SUCCESS, HB_GATE_CPU, HB_GATE_MEM,
       HB_GATE_NMETRICS };
#define HB_GATE_PER_POLICY 4           /* one latency metric, success share, CPU and memory */

/* The metric's name as printed (e.g. "latency_censored_mean_ms"). */
const char *hb_gate_metric_name(int metric);

/* Compares one policy of the run (now) with the baseline's, printing one line per metric to out
 * (and a 'pairing' line); gate is the gated latency metric (HB_GATE_CMEAN, _MEAN or _P99), tol
 * the tolerance in percent. Adds the regressions found to *regressions. */
int hb_gate_policy(const hb_policy_runs *now, const hb_policy_runs *base, const hb_boot_opts *o,
                   double tol, int gate, FILE *out, int *regressions, hb_error *err);

#endif
