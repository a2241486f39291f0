/* gate.c - the regression gate of `harvestbench check` (gate.h). */
#include <math.h>
#include <stdio.h>

#include "gate.h"

typedef struct metric {
    const char *name;
    int higher_is_worse;
    int unit;          /* 0 ms, 1 share */
} metric;

static const metric metrics[HB_GATE_NMETRICS] = {
    {"latency_censored_mean_ms", 1, 0}, {"latency_mean_ms", 1, 0}, {"latency_p99_ms", 1, 0},
    {"success_share", 0, 1}, {"cpu_util_capacity", 0, 1}, {"mem_util_capacity", 0, 1},
};

static void fmt_val(char *b, size_t n, double v, int unit)
{
    if (isnan(v))
        snprintf(b, n, "n/a");
    else if (unit == 1)
        snprintf(b, n, "%.2f%%", 100.0 * v);
    else
        snprintf(b, n, "%.2f", v);
}

/* Prints one metric's line; returns 1 if it is a regression (never when not gated). */
static int judge(FILE *out, const char *policy, const metric *m, double base, double now,
                 const hb_change *ch, double tol, int gated)
{
    char b[32], a[32], chs[64];
    fmt_val(b, sizeof b, base, m->unit);
    fmt_val(a, sizeof a, now, m->unit);
    if (isnan(ch->pct))
        snprintf(chs, sizeof chs, "n/a");
    else if (isnan(ch->ci.lo))
        snprintf(chs, sizeof chs, "%+.2f%% [no interval]", ch->pct);
    else
        snprintf(chs, sizeof chs, "%+.2f%% [%+.2f, %+.2f]", ch->pct, ch->ci.lo, ch->ci.hi);
    const char *verdict;
    int regression = 0;
    if (isnan(ch->pct)) {
        verdict = isnan(base) && isnan(now) ? "n/a (no data in either run)"
                  : isnan(now)              ? "n/a (no data in this run; see success_share)"
                                            : "n/a (no data in the baseline)";
    } else {
        double worse = m->higher_is_worse ? ch->pct : -ch->pct;   /* > 0: worse */
        int sig = hb_change_significant(ch);
        if (!gated) {
            verdict = "info (not gated; see --metric)";
        } else if (worse > tol && sig) {
            verdict = "REGRESSION (worse beyond the tolerance, and significant)";
            regression = 1;
        } else if (worse > tol && isnan(ch->ci.lo)) {
            verdict = "ok (worse beyond the tolerance, but no interval: needs 2 or more seeds)";
        } else if (worse > tol) {
            verdict = "ok (worse beyond the tolerance, but not significant)";
        } else if (worse > 0 && sig) {
            verdict = "ok (worse, within the tolerance)";
        } else if (worse < 0 && sig) {
            verdict = "ok (better)";
        } else {
            verdict = "ok";
        }
    }
    fprintf(out, "%-12s %-24s %12s -> %-12s %-32s %s\n", policy, m->name, b, a, chs, verdict);
    return regression;
}

int hb_gate_policy(const hb_policy_runs *now, const hb_policy_runs *base, const hb_boot_opts *o,
                   double tol, int gate, FILE *out, int *regressions, hb_error *err)
{
    int pairing = hb_runs_pairing(now, base);
    hb_policy_stats a, b;
    hb_streams st = {
        .seeds_a = hb_stream_seed(o->seed, pairing ? "" : now->name, "seeds-now"),
        .seeds_b = hb_stream_seed(o->seed, pairing ? "" : base->name,
                                  pairing ? "seeds-now" : "seeds-base"),
        .calls_a = hb_stream_seed(o->seed, now->name, "calls-now"),
        .calls_b = hb_stream_seed(o->seed, base->name, "calls-base"),
        .paired_calls = hb_stream_seed(o->seed, now->name, "calls-paired"),
    };
    int rc = hb_policy_stats_compute(now, o, st.seeds_a, st.calls_a, &a, err);
    if (rc)
        return rc;
    rc = hb_policy_stats_compute(base, o, st.seeds_b, st.calls_b, &b, err);
    if (rc) {
        hb_policy_stats_free(&a);
        return rc;
    }
    hb_vs_baseline v;
    rc = hb_vs_compute(now, base, &a, &b, pairing, o, &st, &v, err);
    if (!rc && gate == HB_GATE_CMEAN && (isnan(a.cens_mean) || isnan(b.cens_mean)) &&
        !isnan(a.lat_mean) && !isnan(b.lat_mean)) {
        /* results whose manifest gives no timeouts (written before it did) with a failed call:
         * no censored latency on one side, so the mean of the successful calls gates */
        fprintf(out, "%-12s %-24s %s\n", now->name, "gate",
               "latency_mean_ms (no censored latency: a manifest gives no timeouts)");
        gate = HB_GATE_MEAN;
    }
    if (!rc) {
        fprintf(out, "%-12s %-24s %s\n", now->name, "pairing", hb_pairing_names[pairing]);
        *regressions += judge(out, now->name, &metrics[HB_GATE_CMEAN], b.cens_mean, a.cens_mean,
                              &v.cens_mean, tol, gate == HB_GATE_CMEAN);
        *regressions += judge(out, now->name, &metrics[HB_GATE_MEAN], b.lat_mean, a.lat_mean, &v.mean, tol,
                              gate == HB_GATE_MEAN);
        *regressions += judge(out, now->name, &metrics[HB_GATE_P99], b.lat_p99, a.lat_p99, &v.p99, tol,
                              gate == HB_GATE_P99);
        *regressions += judge(out, now->name, &metrics[HB_GATE_SUCCESS], b.success_share, a.success_share,
                              &v.success_share, tol, 1);
        *regressions += judge(out, now->name, &metrics[HB_GATE_CPU], b.cpu_util_capacity,
                              a.cpu_util_capacity, &v.cpu_util_capacity, tol, 1);
        *regressions += judge(out, now->name, &metrics[HB_GATE_MEM], b.mem_util_capacity,
                              a.mem_util_capacity, &v.mem_util_capacity, tol, 1);
    }
    hb_policy_stats_free(&a);
    hb_policy_stats_free(&b);
    return rc;
}

const char *hb_gate_metric_name(int metric)
{
    return metric >= 0 && metric < HB_GATE_NMETRICS ? metrics[metric].name : "?";
}
