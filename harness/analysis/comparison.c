/* comparison.c - every policy against the baseline, for `harvestbench compare` (comparison.h). */
#include <stdlib.h>

#include "comparison.h"
#include "stats.h"

/* Holm over the non-baseline policies, separately for each family of p-values. */
static int holm_all(hb_vs_baseline *vs, size_t n, size_t base)
{
    enum { F = 4 };
    double *p = malloc((n ? n : 1) * F * sizeof *p);
    if (!p)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (i != base) {
            p[0 * n + m] = vs[i].mwu.p;
            p[1 * n + m] = vs[i].wilcoxon.p;
            p[2 * n + m] = vs[i].seed_mean.p;
            p[3 * n + m] = vs[i].seed_cens_mean.p;
            m++;
        }
    for (int f = 0; f < F; f++)
        if (hb_holm(p + f * n, m, p + f * n)) {
            free(p);
            return -1;
        }
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (i != base) {
            vs[i].p_holm = p[0 * n + m];
            vs[i].wilcoxon_p_holm = p[1 * n + m];
            vs[i].seed_mean_p_holm = p[2 * n + m];
            vs[i].seed_cens_mean_p_holm = p[3 * n + m];
            m++;
        }
    free(p);
    return 0;
}

void hb_comparison_stats_free(hb_policy_stats *st, hb_vs_baseline *vs, size_t n)
{
    for (size_t i = 0; st && i < n; i++)
        hb_policy_stats_free(&st[i]);
    free(st);
    free(vs);
}

/* Paired policies (the baseline's seeds) share the seed stream, so that replicate b draws the
 * same seeds for them; every policy has its own stream of within-seed draws, and each comparison
 * paired by invocation its own stream of shared call indices. */
static hb_streams *streams(const hb_results *res, size_t base, const hb_boot_opts *o)
{
    size_t n = res->npolicies;
    hb_streams *ss = calloc(n ? n : 1, sizeof *ss);
    if (!ss)
        return NULL;
    const hb_policy_runs *bp = &res->policies[base];
    for (size_t i = 0; i < n; i++) {
        const hb_policy_runs *pr = &res->policies[i];
        int pairing = hb_runs_pairing(pr, bp);
        ss[i].seeds_a = hb_stream_seed(o->seed, pairing ? "" : pr->name, "seeds");
        ss[i].calls_a = hb_stream_seed(o->seed, pr->name, "calls");
        ss[i].paired_calls = hb_stream_seed(o->seed, pr->name, "paired-calls");
    }
    for (size_t i = 0; i < n; i++) {
        ss[i].seeds_b = ss[base].seeds_a;
        ss[i].calls_b = ss[base].calls_a;
    }
    return ss;
}

int hb_comparison_stats(const hb_results *res, size_t base, const hb_boot_opts *o,
                        hb_policy_stats **stp, hb_vs_baseline **vsp, hb_error *err)
{
    size_t n = res->npolicies;
    const hb_policy_runs *bp = &res->policies[base];
    hb_policy_stats *st = calloc(n, sizeof *st);
    hb_vs_baseline *vs = calloc(n, sizeof *vs);
    hb_streams *ss = st && vs ? streams(res, base, o) : NULL;
    *stp = NULL;
    *vsp = NULL;
    if (!ss) {
        hb_comparison_stats_free(st, vs, 0);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = hb_policy_stats_compute(&res->policies[i], o, ss[i].seeds_a, ss[i].calls_a, &st[i],
                                     err);
    for (size_t i = 0; i < n && !rc; i++)
        if (i != base)
            rc = hb_vs_compute(&res->policies[i], bp, &st[i], &st[base],
                               hb_runs_pairing(&res->policies[i], bp), o, &ss[i], &vs[i], err);
    free(ss);
    if (!rc && holm_all(vs, n, base))
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
    if (rc) {
        hb_comparison_stats_free(st, vs, n);
        return rc;
    }
    *stp = st;
    *vsp = vs;
    return HB_OK;
}
