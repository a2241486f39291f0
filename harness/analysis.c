/* analysis.c - per-policy metrics and comparisons (see analysis.h). */
#include "analysis.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

unsigned long hb_stream_seed(unsigned long seed, const char *name, const char *tag)
{
    uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */
    for (const char *s = name; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    h = (h ^ 0xff) * 0x100000001b3ULL;    /* separator */
    for (const char *s = tag; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    uint64_t x = splitmix64(h ^ splitmix64((uint64_t)seed));
    return (unsigned long)((x ^ (x >> 32)) & 0xffffffffULL);   /* mt19937 uses 32 bits */
}

void hb_policy_stats_free(hb_policy_stats *s)
{
    if (!s)
        return;
    free(s->pooled);
    free(s->seed_means);
    free(s->seed_values);
    for (int i = 0; i < HB_REP_N; i++)
        free(s->rep[i]);
    memset(s, 0, sizeof *s);
}

/* The integrals of summary.json that utilizations divide. */
enum { INT_CPU_USED, INT_CPU_ALLOC, INT_CPU_CAP, INT_MEM_USED, INT_MEM_ALLOC, INT_MEM_CAP };

static double integral(const hb_run *r, int which)
{
    switch (which) {
    case INT_CPU_USED: return r->cpu_used_core_s;
    case INT_CPU_ALLOC: return r->cpu_alloc_core_s;
    case INT_CPU_CAP: return r->cpu_capacity_core_s;
    case INT_MEM_USED: return r->mem_used_mb_s;
    case INT_MEM_ALLOC: return r->mem_alloc_mb_s;
    default: return r->mem_capacity_mb_s;
    }
}

/* utilization pooled over seeds: sum of used integrals / sum of the other integrals */
static const int util_parts[4][2] = {
    {INT_CPU_USED, INT_CPU_ALLOC}, {INT_MEM_USED, INT_MEM_ALLOC},
    {INT_CPU_USED, INT_CPU_CAP},   {INT_MEM_USED, INT_MEM_CAP},
};

static double pooled_util(const hb_policy_runs *pr, int m)
{
    double n = 0.0, d = 0.0;
    for (size_t k = 0; k < pr->nruns; k++) {
        n += integral(&pr->runs[k], util_parts[m][0]);
        d += integral(&pr->runs[k], util_parts[m][1]);
    }
    return (pr->nruns && d != 0.0 && !isnan(n) && !isnan(d)) ? n / d : NAN;
}

static double share(size_t hits, size_t total)
{
    return total ? (double)hits / (double)total : NAN;
}

int hb_policy_stats_compute(const hb_policy_runs *pr, const hb_boot_opts *o,
                            unsigned long seed_stream, unsigned long call_stream,
                            hb_policy_stats *s, hb_error *err)
{
    memset(s, 0, sizeof *s);
    s->name = pr->name;
    s->seeds = pr->nruns;
    s->B = o->resamples;
    size_t K = pr->nruns, B = o->resamples;

    long harvested = 0, accelerated = 0;
    double slow_sum = 0.0;
    for (size_t k = 0; k < K; k++) {
        const hb_run *r = &pr->runs[k];
        s->calls += r->calls;
        s->nlat += r->nlat;
        s->cold_starts += r->cold_starts;
        for (int i = 0; i < HB_NOUTCOMES; i++)
            s->outcomes[i] += r->outcomes[i];
        if (harvested >= 0)
            harvested = r->harvested < 0 ? -1 : harvested + r->harvested;
        if (accelerated >= 0)
            accelerated = r->accelerated < 0 ? -1 : accelerated + r->accelerated;
        for (size_t i = 0; i < r->nslow; i++)
            slow_sum += r->slowdown[i];
        s->nslowdown += r->nslow;
    }
    s->success_share = share(s->outcomes[HB_OUT_SUCCESS], s->calls);
    s->cold_start_share = share(s->cold_starts, s->calls);
    s->harvested_share = harvested < 0 || K == 0 ? NAN : share((size_t)harvested, s->calls);
    s->accelerated_share = accelerated < 0 || K == 0 ? NAN : share((size_t)accelerated, s->calls);
    s->slowdown_mean = s->nslowdown ? slow_sum / (double)s->nslowdown : NAN;
    s->cpu_util_alloc = pooled_util(pr, 0);
    s->mem_util_alloc = pooled_util(pr, 1);
    s->cpu_util_capacity = pooled_util(pr, 2);
    s->mem_util_capacity = pooled_util(pr, 3);

    s->pooled = malloc((s->nlat ? s->nlat : 1) * sizeof *s->pooled);
    s->seed_means = malloc((K ? K : 1) * sizeof *s->seed_means);
    s->seed_values = malloc((K ? K : 1) * sizeof *s->seed_values);
    hb_group *g = malloc((K ? K : 1) * sizeof *g);
    size_t *hits = malloc((K ? K : 1) * sizeof *hits), *tot = malloc((K ? K : 1) * sizeof *tot);
    double *num = malloc((K ? K : 1) * 2 * sizeof *num), *den = num ? num + (K ? K : 1) : NULL;
    int ok = s->pooled && s->seed_means && s->seed_values && g && hits && tot && num;
    for (int i = 0; ok && i < HB_REP_N; i++)
        ok = (s->rep[i] = malloc((B ? B : 1) * sizeof(double))) != NULL;
    gsl_rng *sr = ok ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    gsl_rng *cr = sr ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    int rc = HB_OK;
    if (!cr) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory computing statistics of %s", pr->name);
        goto out;
    }

    size_t at = 0;
    for (size_t k = 0; k < K; k++) {
        const hb_run *r = &pr->runs[k];
        if (r->nlat)
            memcpy(s->pooled + at, r->lat, r->nlat * sizeof *r->lat);
        at += r->nlat;
        s->seed_means[k] = hb_mean(r->lat, r->nlat);
        s->seed_values[k] = r->seed;
        g[k] = (hb_group){r->lat, r->nlat};
        hits[k] = r->outcomes[HB_OUT_SUCCESS];
        tot[k] = r->calls;
    }
    hb_sort(s->pooled, s->nlat);
    s->lat_mean = hb_mean(s->pooled, s->nlat);
    s->lat_p50 = hb_quantile_sorted(s->pooled, s->nlat, 0.50);
    s->lat_p90 = hb_quantile_sorted(s->pooled, s->nlat, 0.90);
    s->lat_p95 = hb_quantile_sorted(s->pooled, s->nlat, 0.95);
    s->lat_p99 = hb_quantile_sorted(s->pooled, s->nlat, 0.99);
    s->lat_max = s->nlat ? s->pooled[s->nlat - 1] : NAN;
    s->p50_ci = hb_median_ci(s->pooled, s->nlat, o->level, NULL, NULL);

    gsl_rng_set(cr, call_stream);
    gsl_rng_set(sr, seed_stream);
    if (hb_boot_mean_quantile(g, K, B, 0.99, sr, cr, s->rep[HB_REP_MEAN], s->rep[HB_REP_P99])) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory computing statistics of %s", pr->name);
        goto out;
    }
    gsl_rng_set(sr, seed_stream);
    hb_boot_share(hits, tot, K, B, sr, cr, s->rep[HB_REP_SUCCESS]);
    for (int m = 0; m < 4; m++) {   /* HB_REP_CPU_ALLOC.. in util_parts order */
        for (size_t k = 0; k < K; k++) {
            num[k] = integral(&pr->runs[k], util_parts[m][0]);
            den[k] = integral(&pr->runs[k], util_parts[m][1]);
        }
        gsl_rng_set(sr, seed_stream);
        hb_boot_ratio(num, den, K, B, sr, s->rep[HB_REP_CPU_ALLOC + m]);
    }

    /* intervals from copies: the replicates stay in replicate order for the paired changes */
    double *tmp = malloc((B ? B : 1) * sizeof *tmp);
    if (!tmp) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory computing statistics of %s", pr->name);
        goto out;
    }
    static const int which[4] = {HB_REP_MEAN, HB_REP_P99, HB_REP_CPU_ALLOC, HB_REP_MEM_ALLOC};
    hb_ci *dest[4] = {&s->mean_ci, &s->p99_ci, &s->cpu_util_alloc_ci, &s->mem_util_alloc_ci};
    for (int i = 0; i < 4; i++) {
        memcpy(tmp, s->rep[which[i]], B * sizeof *tmp);
        *dest[i] = hb_boot_percentile_ci(tmp, B, o->level);
    }
    free(tmp);
    /* Utilization is resampled over seeds only: one seed says nothing about its variation. */
    if (K < 2)
        s->cpu_util_alloc_ci = s->mem_util_alloc_ci = (hb_ci){NAN, NAN};
out:
    if (sr)
        gsl_rng_free(sr);
    if (cr)
        gsl_rng_free(cr);
    free(g);
    free(hits);
    free(tot);
    free(num);
    if (rc)
        hb_policy_stats_free(s);
    return rc;
}

/* The change of point estimates pa vs pb, and the interval of the replicate-by-replicate changes. */
static void change(const double *a, const double *b, size_t B, double pa, double pb, double level,
                   double *tmp, hb_change *out)
{
    out->pct = hb_change_pct1(pa, pb);
    hb_change_pct(a, b, B, tmp);
    out->ci = hb_boot_percentile_ci(tmp, B, level);
}

int hb_vs_compute(const hb_policy_stats *a, const hb_policy_stats *base, int paired, double level,
                  hb_vs_baseline *v, hb_error *err)
{
    memset(v, 0, sizeof *v);
    v->paired = paired;
    v->p_holm = v->wilcoxon_p_holm = NAN;
    size_t B = a->B < base->B ? a->B : base->B;
    size_t cap = B > a->seeds ? B : a->seeds;
    double *tmp = malloc((cap ? cap : 1) * sizeof *tmp);
    if (!tmp)
        return hb_fail(err, HB_ENOMEM, "out of memory comparing %s", a->name);
    change(a->rep[HB_REP_MEAN], base->rep[HB_REP_MEAN], B, a->lat_mean, base->lat_mean, level, tmp,
           &v->mean);
    change(a->rep[HB_REP_P99], base->rep[HB_REP_P99], B, a->lat_p99, base->lat_p99, level, tmp,
           &v->p99);
    change(a->rep[HB_REP_SUCCESS], base->rep[HB_REP_SUCCESS], B, a->success_share,
           base->success_share, level, tmp, &v->success_share);
    change(a->rep[HB_REP_CPU_ALLOC], base->rep[HB_REP_CPU_ALLOC], B, a->cpu_util_alloc,
           base->cpu_util_alloc, level, tmp, &v->cpu_util_alloc);
    change(a->rep[HB_REP_MEM_ALLOC], base->rep[HB_REP_MEM_ALLOC], B, a->mem_util_alloc,
           base->mem_util_alloc, level, tmp, &v->mem_util_alloc);
    change(a->rep[HB_REP_CPU_CAP], base->rep[HB_REP_CPU_CAP], B, a->cpu_util_capacity,
           base->cpu_util_capacity, level, tmp, &v->cpu_util_capacity);
    change(a->rep[HB_REP_MEM_CAP], base->rep[HB_REP_MEM_CAP], B, a->mem_util_capacity,
           base->mem_util_capacity, level, tmp, &v->mem_util_capacity);
    if (a->seeds < 2 || base->seeds < 2) {   /* no interval from a single seed's integral */
        hb_change *u[4] = {&v->cpu_util_alloc, &v->mem_util_alloc, &v->cpu_util_capacity,
                           &v->mem_util_capacity};
        for (int i = 0; i < 4; i++)
            u[i]->ci = (hb_ci){NAN, NAN};
    }
    v->mwu = hb_mann_whitney(a->pooled, a->nlat, base->pooled, base->nlat);
    v->cliffs_delta = hb_cliffs_delta(a->pooled, a->nlat, base->pooled, base->nlat);
    v->wilcoxon.p = v->wilcoxon.w_plus = v->wilcoxon.w_minus = NAN;
    int rc = HB_OK;
    if (paired) {
        /* seeds where both have a mean latency */
        size_t n = 0;
        for (size_t k = 0; k < a->seeds && k < base->seeds; k++)
            if (!isnan(a->seed_means[k]) && !isnan(base->seed_means[k]))
                tmp[n++] = a->seed_means[k] - base->seed_means[k];
        if (hb_wilcoxon_signed_rank(tmp, n, &v->wilcoxon))
            rc = hb_fail(err, HB_ENOMEM, "out of memory comparing %s", a->name);
    }
    free(tmp);
    return rc;
}

int hb_change_significant(const hb_change *c)
{
    if (isnan(c->ci.lo) || isnan(c->ci.hi))
        return 0;
    return c->ci.lo > 0.0 || c->ci.hi < 0.0;
}
