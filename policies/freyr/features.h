/* features.h - what the Freyr agent sees and is rewarded with: per-function statistics kept from
 * arrivals and ended calls, the 64 x 11 state, the safeguard mask and Freyr's reward.
 *
 * Candidates: index i in 0..63 is cpu = i / 8 + 1 cores and mem = i % 8 + 1 units of 128 MB.
 *
 * Features of candidate i (docs/policies.md, "freyr"), raw value then (raw - shift) / scale:
 *   0 inflight_per_core   calls in flight / cluster cores          shift 0 scale 1
 *   1 free_cpu_frac       free cores / cluster cores                shift 0 scale 1
 *   2 free_mem_frac       free MB / cluster MB                      shift 0 scale 1
 *   3 mean_gap_s          the function's mean positive inter-arrival (s)    scale 60
 *   4 rate_per_min        the function's calls per minute so far            scale 10
 *   5 mean_cpu_peak       mean CPU peak (cores)  \                          scale 8
 *   6 mean_mem_peak_mb    mean memory peak (MB)   } over its successful     scale 1024
 *   7 mean_duration_s     mean duration (s)      /  calls since the last    scale 10
 *                                                   calibration (below)
 *   8 baseline_s          its duration at the user allocation (s; 0 unknown) scale 10
 *   9 cand_cpu            the candidate's cores                             scale 8
 *  10 cand_mem_units      the candidate's memory units                      scale 8
 * A calibration is a successful call that ran at the function's user allocation (after clipping):
 * its duration becomes the baseline and the "since" window restarts with it (Freyr's "latest
 * recalibration"). Durations exclude cold-start initialisation. */
#ifndef FREYR_FEATURES_H
#define FREYR_FEATURES_H

#include "hb_policy.h"

#define FREYR_NFEAT 11
#define FREYR_CAP 8                    /* cores and memory units per call */
#define FREYR_SAFEGUARD 0.9            /* Freyr's usage-spike and over-provision threshold */

extern const char *const freyr_feature_names[FREYR_NFEAT];

typedef struct freyr_norm {
    double shift[FREYR_NFEAT];
    double scale[FREYR_NFEAT];
} freyr_norm;

freyr_norm freyr_norm_default(void);

typedef struct freyr_fstats {
    long n_calls;                      /* arrivals */
    hb_time last_arrival;
    double gap_sum;                    /* positive inter-arrival gaps, s */
    long gap_n;

    long n_recent;                     /* successful calls since the last calibration */
    double sum_cpu_peak, sum_mem_peak_mb, sum_dur_s;
    double max_cpu_peak, max_mem_peak_mb;
    double baseline_s;                 /* duration of the last calibration; 0: none yet */

    int has_last;                      /* the last ended call */
    int last_ok;
    double last_cpu_peak, last_mem_peak_mb, last_alloc_cpu, last_alloc_mem_mb;
} freyr_fstats;

/* The call's user allocation clipped to the function's range: what "user allocation" means for
 * decisions. */
hb_res freyr_user_alloc(const hb_func_config *fc);

/* Records an arrival (before its decision). */
void freyr_stats_arrival(freyr_fstats *s, hb_time arrival);
/* Records an ended call. */
void freyr_stats_end(freyr_fstats *s, const hb_func_config *fc, const hb_invocation *done);

/* The safeguard mask of a function's next call (mask[i] = 1: allowed), intersected with the
 * function's clip range. Returns 1 if the safeguard forces the user allocation (first call, last
 * call failed, or a usage spike in CPU or memory), 0 otherwise. */
int freyr_mask(const freyr_fstats *s, const hb_func_config *fc, unsigned char *mask);

/* The 64 x FREYR_NFEAT normalised state of a call of the function at obs->now. */
void freyr_state(const freyr_fstats *s, const hb_observation *obs, const freyr_norm *norm, double *x);

/* The slowdown of an ended call: duration / baseline, where the baseline is the call's own duration
 * alone at the user allocation when the backend reports it (hb_invocation.base_duration_ms, the
 * simulator does), else Freyr's estimate, the function's last calibration (then a calibration call,
 * or any call before the first calibration, has slowdown 1). A call that did not succeed counts as
 * rerun at the user allocation: 1 + duration / baseline (2 without a baseline). s is the function's
 * statistics before this call is recorded. */
double freyr_slowdown(const freyr_fstats *s, const hb_func_config *fc, const hb_invocation *done);

/* Freyr's reward for one ended call, the n_done-th of the episode (n_done >= 1):
 *   -slo / n_done^(1/3) + (slo < 1 ? 1 - slo : 0) - (slo > 1 ? (slo - 1) * (cpu_user + mem_user) : 0)
 * with cpu_user in cores and mem_user in 128 MB units. Summed over the calls ended between two
 * decisions this is the artifact's step reward, except that each call divides by the count of calls
 * ended up to itself rather than up to the end of its poll. */
double freyr_reward(double slo, long n_done, hb_res user);

#endif
