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
    free(s->seed_cmeans);
    free(s->cens);
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

/* The policy's own replicates of mean, p99, censored mean and success share (NAN when
 * paired_only: hb_boot_opts). -1 when out of memory. */
static int latency_boot(const hb_group *g, const hb_group *gc, const size_t *hits, const size_t *tot,
                        size_t K, size_t B, unsigned long seed_stream, unsigned long call_stream,
                        gsl_rng *sr, gsl_rng *cr, int paired_only, hb_policy_stats *s)
{
    if (paired_only) {
        static const int skip[4] = {HB_REP_MEAN, HB_REP_P99, HB_REP_CMEAN, HB_REP_SUCCESS};
        for (int i = 0; i < 4; i++)
            for (size_t b = 0; b < B; b++)
                s->rep[skip[i]][b] = NAN;
        return 0;
    }
    gsl_rng_set(cr, call_stream);
    gsl_rng_set(sr, seed_stream);
    if (hb_boot_mean_quantile(g, K, B, 0.99, sr, cr, s->rep[HB_REP_MEAN], s->rep[HB_REP_P99]))
        return -1;
    gsl_rng_set(sr, seed_stream);
    if (hb_boot_mean_quantile(gc, K, B, 0.99, sr, cr, s->rep[HB_REP_CMEAN], NULL))
        return -1;
    gsl_rng_set(sr, seed_stream);
    hb_boot_share(hits, tot, K, B, sr, cr, s->rep[HB_REP_SUCCESS]);
    return 0;
}

int hb_policy_stats_compute(const hb_policy_runs *pr, const hb_boot_opts *o,
                            unsigned long seed_stream, unsigned long call_stream,
                            hb_policy_stats *s, hb_error *err)
{
    return hb_policy_stats_compute_opt(pr, o, seed_stream, call_stream, 0, s, err);
}

int hb_policy_stats_compute_opt(const hb_policy_runs *pr, const hb_boot_opts *o,
                                unsigned long seed_stream, unsigned long call_stream,
                                int paired_only, hb_policy_stats *s, hb_error *err)
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
    int cens_known = K > 0;
    for (size_t k = 0; k < K; k++) {
        s->excluded += pr->runs[k].excluded;
        if (pr->runs[k].cens)
            s->ncens += pr->runs[k].ncens;
        else if (pr->runs[k].calls)
            cens_known = 0;
    }
    if (!cens_known)
        s->ncens = 0;
    s->cpu_util_alloc = pooled_util(pr, 0);
    /* Stock OpenWhisk's CPU is a share by memory, not a quota: a call may use idle cores, so
     * used/allocated is no utilization (it exceeds 1). Used/capacity is the headline for all. */
    s->cpu_share = strcmp(pr->name, "default") == 0 || s->cpu_util_alloc > 1.0;
    if (s->cpu_share)
        s->cpu_util_alloc = NAN;
    s->mem_util_alloc = pooled_util(pr, 1);
    s->cpu_util_capacity = pooled_util(pr, 2);
    s->mem_util_capacity = pooled_util(pr, 3);

    s->pooled = malloc((s->nlat ? s->nlat : 1) * sizeof *s->pooled);
    s->seed_means = malloc((K ? K : 1) * sizeof *s->seed_means);
    s->seed_cmeans = malloc((K ? K : 1) * sizeof *s->seed_cmeans);
    s->cens = malloc((s->ncens ? s->ncens : 1) * sizeof *s->cens);
    hb_group *gc = malloc((K ? K : 1) * sizeof *gc);
    s->seed_values = malloc((K ? K : 1) * sizeof *s->seed_values);
    hb_group *g = malloc((K ? K : 1) * sizeof *g);
    size_t *hits = malloc((K ? K : 1) * sizeof *hits), *tot = malloc((K ? K : 1) * sizeof *tot);
    double *num = malloc((K ? K : 1) * 2 * sizeof *num), *den = num ? num + (K ? K : 1) : NULL;
    int ok = s->pooled && s->seed_means && s->seed_values && g && hits && tot && num &&
             s->seed_cmeans && s->cens && gc;
    for (int i = 0; ok && i < HB_REP_N; i++)
        ok = (s->rep[i] = malloc((B ? B : 1) * sizeof(double))) != NULL;
    gsl_rng *sr = ok ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    gsl_rng *cr = sr ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    int rc = HB_OK;
    if (!cr) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory computing statistics of %s", pr->name);
        goto out;
    }

    size_t at = 0, atc = 0;
    for (size_t k = 0; k < K; k++) {
        const hb_run *r = &pr->runs[k];
        if (r->nlat)
            memcpy(s->pooled + at, r->lat, r->nlat * sizeof *r->lat);
        at += r->nlat;
        if (s->ncens && r->ncens)
            memcpy(s->cens + atc, r->cens, r->ncens * sizeof *r->cens);
        atc += s->ncens ? r->ncens : 0;
        gc[k] = (hb_group){r->cens, s->ncens ? r->ncens : 0};
        s->seed_means[k] = hb_mean(r->lat, r->nlat);
        s->seed_cmeans[k] = s->ncens ? hb_mean(r->cens, r->ncens) : NAN;
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
    hb_sort(s->cens, s->ncens);
    s->cens_mean = hb_mean(s->cens, s->ncens);
    s->cens_p50 = hb_quantile_sorted(s->cens, s->ncens, 0.50);
    s->cens_p99 = hb_quantile_sorted(s->cens, s->ncens, 0.99);

    if (latency_boot(g, gc, hits, tot, K, B, seed_stream, call_stream, sr, cr, paired_only, s)) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory computing statistics of %s", pr->name);
        goto out;
    }
    for (int m = 0; m < 4; m++) {   /* HB_REP_CPU_ALLOC.. in util_parts order */
        for (size_t k = 0; k < K; k++) {
            num[k] = integral(&pr->runs[k], util_parts[m][0]);
            den[k] = integral(&pr->runs[k], util_parts[m][1]);
        }
        gsl_rng_set(sr, seed_stream);
        hb_boot_ratio(num, den, K, B, sr, s->rep[HB_REP_CPU_ALLOC + m]);
    }
    if (s->cpu_share)
        for (size_t b = 0; b < B; b++)
            s->rep[HB_REP_CPU_ALLOC][b] = NAN;

    /* intervals from copies: the replicates stay in replicate order for the paired changes */
    double *tmp = malloc((B ? B : 1) * sizeof *tmp);
    if (!tmp) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory computing statistics of %s", pr->name);
        goto out;
    }
    static const int which[5] = {HB_REP_MEAN, HB_REP_P99, HB_REP_CPU_ALLOC, HB_REP_MEM_ALLOC,
                                 HB_REP_CMEAN};
    hb_ci *dest[5] = {&s->mean_ci, &s->p99_ci, &s->cpu_util_alloc_ci, &s->mem_util_alloc_ci,
                      &s->cens_mean_ci};
    for (int i = 0; i < 5; i++) {
        memcpy(tmp, s->rep[which[i]], B * sizeof *tmp);
        *dest[i] = paired_only && which[i] != HB_REP_CPU_ALLOC && which[i] != HB_REP_MEM_ALLOC
                   ? (hb_ci){NAN, NAN} : hb_boot_percentile_ci(tmp, B, o->level);
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
    free(gc);
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

/* The paired-by-invocation changes of mean, p99, censored mean and success share: one draw of seeds and call
 * indices evaluates both sides (stats.h hb_boot_paired). */
static int paired_changes(const hb_policy_runs *pa, const hb_policy_runs *pb,
                          const hb_policy_stats *a, const hb_policy_stats *base, size_t B,
                          const hb_boot_opts *o, const hb_streams *st, double *tmp,
                          hb_vs_baseline *v)
{
    size_t K = pa->nruns, total = 0;
    for (size_t k = 0; k < K; k++)
        total += pa->runs[k].calls;
    hb_pair_group *g = malloc((K ? K : 1) * sizeof *g);
    double *col = malloc((total ? total : 1) * 4 * sizeof *col);
    double *rep[HB_PR_N] = {0};
    int ok = g && col;
    for (int j = 0; ok && j < HB_PR_N; j++)
        ok = (rep[j] = malloc((B ? B : 1) * sizeof(double))) != NULL;
    gsl_rng *sr = ok ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    gsl_rng *cr = sr ? gsl_rng_alloc(gsl_rng_mt19937) : NULL;
    int rc = cr ? 0 : -1;
    if (!rc) {
        /* index-aligned columns: latency and censored latency of call i on each side */
        double *la = col, *lb = col + total, *ca = col + 2 * total, *cb = col + 3 * total;
        size_t at = 0;
        for (size_t k = 0; k < K; k++) {
            const hb_run *x = &pa->runs[k], *y = &pb->runs[k];
            int cens = x->cens && y->cens;
            for (size_t i = 0; i < x->calls; i++) {
                la[at + i] = x->call[i].lat;
                lb[at + i] = y->call[i].lat;
                ca[at + i] = x->call[i].cens;
                cb[at + i] = y->call[i].cens;
            }
            g[k] = (hb_pair_group){la + at, lb + at, cens ? ca + at : NULL, cens ? cb + at : NULL,
                                   x->calls};
            at += x->calls;
        }
        gsl_rng_set(sr, st->seeds_a);   /* the seeds the utilization replicates drew */
        gsl_rng_set(cr, st->paired_calls);
        rc = hb_boot_paired(g, K, B, 0.99, sr, cr, rep);
    }
    if (!rc) {
        hb_change *c[4] = {&v->mean, &v->p99, &v->cens_mean, &v->success_share};
        double pa_[4] = {a->lat_mean, a->lat_p99, a->cens_mean, a->success_share};
        double pb_[4] = {base->lat_mean, base->lat_p99, base->cens_mean, base->success_share};
        for (int m = 0; m < 4; m++) {
            c[m]->pct = hb_change_pct1(pa_[m], pb_[m]);
            hb_change_pct(rep[2 * m], rep[2 * m + 1], B, tmp);
            c[m]->ci = hb_boot_percentile_ci(tmp, B, o->level);
        }
    }
    if (sr)
        gsl_rng_free(sr);
    if (cr)
        gsl_rng_free(cr);
    for (int j = 0; j < HB_PR_N; j++)
        free(rep[j]);
    free(g);
    free(col);
    return rc;
}

int hb_vs_compute(const hb_policy_runs *pa, const hb_policy_runs *pb, const hb_policy_stats *a,
                  const hb_policy_stats *base, int pairing, const hb_boot_opts *o,
                  const hb_streams *st, hb_vs_baseline *v, hb_error *err)
{
    memset(v, 0, sizeof *v);
    v->pairing = pairing;
    v->p_holm = v->wilcoxon_p_holm = v->seed_mean_p_holm = v->seed_cens_mean_p_holm = NAN;
    double level = o->level;
    size_t B = a->B < base->B ? a->B : base->B;
    size_t cap = B > a->seeds ? B : a->seeds;
    double *tmp = malloc((cap ? cap : 1) * sizeof *tmp);
    if (!tmp)
        return hb_fail(err, HB_ENOMEM, "out of memory comparing %s", a->name);
    if (pairing == HB_PAIR_INVOCATION) {
        if (paired_changes(pa, pb, a, base, B, o, st, tmp, v)) {
            free(tmp);
            return hb_fail(err, HB_ENOMEM, "out of memory comparing %s", a->name);
        }
    } else {
        change(a->rep[HB_REP_MEAN], base->rep[HB_REP_MEAN], B, a->lat_mean, base->lat_mean, level,
               tmp, &v->mean);
        change(a->rep[HB_REP_P99], base->rep[HB_REP_P99], B, a->lat_p99, base->lat_p99, level, tmp,
               &v->p99);
        change(a->rep[HB_REP_CMEAN], base->rep[HB_REP_CMEAN], B, a->cens_mean, base->cens_mean,
               level, tmp, &v->cens_mean);
    }
    if (pairing != HB_PAIR_INVOCATION)
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
    v->seed_mean = v->seed_cens_mean = (hb_signflip){NAN, NAN, 0, 0};
    int rc = HB_OK;
    if (pairing != HB_PAIR_NONE) {
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);   /* only for more than 20 seeds */
        if (!r) {
            free(tmp);
            return hb_fail(err, HB_ENOMEM, "out of memory comparing %s", a->name);
        }
        gsl_rng_set(r, st->paired_calls);
        /* censored mean per seed where both are known */
        size_t n = 0;
        for (size_t k = 0; k < a->seeds && k < base->seeds; k++)
            if (!isnan(a->seed_cmeans[k]) && !isnan(base->seed_cmeans[k]))
                tmp[n++] = a->seed_cmeans[k] - base->seed_cmeans[k];
        v->seed_cens_mean = hb_signflip_test(tmp, n, r);
        /* mean per seed where both have one */
        n = 0;
        for (size_t k = 0; k < a->seeds && k < base->seeds; k++)
            if (!isnan(a->seed_means[k]) && !isnan(base->seed_means[k]))
                tmp[n++] = a->seed_means[k] - base->seed_means[k];
        v->seed_mean = hb_signflip_test(tmp, n, r);
        gsl_rng_free(r);
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
