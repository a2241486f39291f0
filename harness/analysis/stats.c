/* stats.c - percentiles, intervals, rank tests, Holm and the two-stage bootstrap (see stats.h). */
#include "stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

void hb_sort(double *x, size_t n)
{
    if (n > 1)
        gsl_sort(x, 1, n);
}

double hb_quantile_sorted(const double *sorted, size_t n, double f)
{
    if (n == 0 || !(f >= 0.0 && f <= 1.0))
        return NAN;
    return gsl_stats_quantile_from_sorted_data(sorted, 1, n, f);
}

double hb_mean(const double *x, size_t n)
{
    return n ? gsl_stats_mean(x, 1, n) : NAN;
}

/* ---- Le Boudec's interval for the median ---- */

hb_ci hb_median_ci(const double *sorted, size_t n, double level, size_t *jr, size_t *kr)
{
    hb_ci ci = {NAN, NAN};
    size_t j = 0, k = 0;
    if (jr)
        *jr = 0;
    if (kr)
        *kr = 0;
    if (n == 0 || !(level > 0.0 && level < 1.0))
        return ci;
    double alpha2 = (1.0 - level) / 2.0;
    if (n < 71) {
        /* exact: the coverage of [x_(j), x_(n+1-j)] is 1 - 2 P(Bin(n, 1/2) <= j - 1) */
        for (size_t t = 1; t <= n / 2; t++) {
            if (gsl_cdf_binomial_P((unsigned)(t - 1), 0.5, (unsigned)n) <= alpha2)
                j = t;
            else
                break;
        }
        if (j == 0)
            return ci;
        k = n + 1 - j;
    } else {
        /* the book's constants: 0.980 sqrt(n) at 95%, 1.288 sqrt(n) at 99% */
        double z = fabs(level - 0.95) < 1e-12   ? 1.96
                   : fabs(level - 0.99) < 1e-12 ? 2.576
                                                : gsl_cdf_ugaussian_Pinv(1.0 - alpha2);
        double h = z * sqrt((double)n) / 2.0;
        double lo = floor((double)n / 2.0 - h), hi = ceil((double)n / 2.0 + 1.0 + h);
        if (lo < 1.0 || hi > (double)n)
            return ci;
        j = (size_t)lo;
        k = (size_t)hi;
    }
    ci.lo = sorted[j - 1];
    ci.hi = sorted[k - 1];
    if (jr)
        *jr = j;
    if (kr)
        *kr = k;
    return ci;
}

/* ---- Mann-Whitney U and Cliff's delta ---- */

hb_mwu hb_mann_whitney(const double *x, size_t nx, const double *y, size_t ny)
{
    hb_mwu r = {NAN, NAN, NAN};
    if (nx == 0 || ny == 0)
        return r;
    /* One merge pass over the two sorted samples assigns midranks tie group by tie group. */
    double rank_sum_x = 0.0, tie_term = 0.0;
    size_t i = 0, j = 0, pos = 0;
    while (i < nx || j < ny) {
        double v = (j >= ny || (i < nx && x[i] <= y[j])) ? x[i] : y[j];
        size_t tx = 0, ty = 0;
        while (i < nx && x[i] == v) {
            i++;
            tx++;
        }
        while (j < ny && y[j] == v) {
            j++;
            ty++;
        }
        double t = (double)(tx + ty);
        double midrank = (double)pos + (t + 1.0) / 2.0;
        rank_sum_x += (double)tx * midrank;
        tie_term += t * t * t - t;
        pos += tx + ty;
    }
    double n1 = (double)nx, n2 = (double)ny, n = n1 + n2;
    r.u = rank_sum_x - n1 * (n1 + 1.0) / 2.0;
    double mu = n1 * n2 / 2.0;
    double var = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if (!(var > 0.0)) {
        r.z = 0.0;
        r.p = 1.0;
        return r;
    }
    double dev = fabs(r.u - mu) - 0.5;
    if (dev < 0.0)
        dev = 0.0;
    r.z = (r.u >= mu ? dev : -dev) / sqrt(var);
    r.p = 2.0 * gsl_cdf_ugaussian_Q(fabs(r.z));
    if (r.p > 1.0)
        r.p = 1.0;
    return r;
}

double hb_cliffs_delta(const double *x, size_t nx, const double *y, size_t ny)
{
    if (nx == 0 || ny == 0)
        return NAN;
    /* For ascending x, the counts of y below and at-or-below x[i] only grow. */
    uint64_t greater = 0, less = 0;  /* pairs with x > y, x < y */
    size_t below = 0, upto = 0;
    for (size_t i = 0; i < nx; i++) {
        while (below < ny && y[below] < x[i])
            below++;
        if (upto < below)
            upto = below;
        while (upto < ny && y[upto] <= x[i])
            upto++;
        greater += below;
        less += ny - upto;
    }
    return ((double)greater - (double)less) / ((double)nx * (double)ny);
}

/* ---- Wilcoxon signed-rank ---- */

typedef struct absval {
    double a;
    int positive;
} absval;

static int cmp_absval(const void *pa, const void *pb)
{
    double a = ((const absval *)pa)->a, b = ((const absval *)pb)->a;
    return (a > b) - (a < b);
}

int hb_wilcoxon_signed_rank(const double *d, size_t n, hb_wilcoxon *out)
{
    out->w_plus = out->w_minus = out->p = NAN;
    out->n_used = 0;
    out->exact = 0;
    if (n == 0)
        return 0;
    absval *v = malloc(n * sizeof *v);
    unsigned *rank2 = malloc(n * sizeof *rank2);   /* doubled midranks: integers */
    if (!v || !rank2) {
        free(v);
        free(rank2);
        return -1;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (d[i] != 0.0) {
            v[m].a = fabs(d[i]);
            v[m].positive = d[i] > 0.0;
            m++;
        }
    out->n_used = m;
    if (m == 0) {
        out->w_plus = out->w_minus = 0.0;
        out->p = 1.0;
        free(v);
        free(rank2);
        return 0;
    }
    qsort(v, m, sizeof *v, cmp_absval);
    unsigned long w2 = 0, total2 = 0;   /* doubled W+ and the doubled sum of all ranks */
    double tie_term = 0.0;
    for (size_t a = 0; a < m;) {
        size_t b = a;
        while (b + 1 < m && v[b + 1].a == v[a].a)
            b++;
        /* positions a..b hold ranks a+1..b+1; their doubled midrank is a+b+2 */
        double t = (double)(b - a + 1);
        tie_term += t * t * t - t;
        for (size_t i = a; i <= b; i++) {
            rank2[i] = (unsigned)(a + b + 2);
            total2 += rank2[i];
            if (v[i].positive)
                w2 += rank2[i];
        }
        a = b + 1;
    }
    out->w_plus = (double)w2 / 2.0;
    out->w_minus = (double)(total2 - w2) / 2.0;
    int rc = 0;
    if (m <= HB_WILCOXON_EXACT_MAX) {
        /* counts of sign assignments by doubled W+; 2^50 fits a double exactly */
        double *cnt = calloc(total2 + 1, sizeof *cnt);
        if (!cnt) {
            rc = -1;
        } else {
            cnt[0] = 1.0;
            unsigned long reach = 0;
            for (size_t i = 0; i < m; i++) {
                for (unsigned long s = reach + 1; s-- > 0;)
                    if (cnt[s] != 0.0)
                        cnt[s + rank2[i]] += cnt[s];
                reach += rank2[i];
            }
            double le = 0.0, ge = 0.0, all = ldexp(1.0, (int)m);
            for (unsigned long s = 0; s <= total2; s++) {
                if (s <= w2)
                    le += cnt[s];
                if (s >= w2)
                    ge += cnt[s];
            }
            double p = 2.0 * fmin(le, ge) / all;
            out->p = p > 1.0 ? 1.0 : p;
            out->exact = 1;
            free(cnt);
        }
    } else {
        double nm = (double)m;
        double mu = nm * (nm + 1.0) / 4.0;
        double var = nm * (nm + 1.0) * (2.0 * nm + 1.0) / 24.0 - tie_term / 48.0;
        double dev = fabs(out->w_plus - mu) - 0.5;
        if (dev < 0.0)
            dev = 0.0;
        out->p = var > 0.0 ? fmin(1.0, 2.0 * gsl_cdf_ugaussian_Q(dev / sqrt(var))) : 1.0;
    }
    free(v);
    free(rank2);
    return rc;
}

/* ---- Holm ---- */

typedef struct pidx {
    double p;
    size_t i;
} pidx;

static int cmp_pidx(const void *pa, const void *pb)
{
    const pidx *a = pa, *b = pb;
    if (a->p != b->p)
        return (a->p > b->p) - (a->p < b->p);
    return (a->i > b->i) - (a->i < b->i);   /* stable: equal p keep their order */
}

int hb_holm(const double *p, size_t m, double *adj)
{
    if (m == 0)
        return 0;
    pidx *s = malloc(m * sizeof *s);
    if (!s)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (!isnan(p[i]))
            s[k++] = (pidx){p[i], i};
    for (size_t i = 0; i < m; i++)
        if (isnan(p[i]))
            adj[i] = NAN;
    qsort(s, k, sizeof *s, cmp_pidx);
    double running = 0.0;
    for (size_t l = 0; l < k; l++) {
        double v = (double)(k - l) * s[l].p;
        if (v > 1.0)
            v = 1.0;
        if (v > running)
            running = v;
        adj[s[l].i] = running;
    }
    free(s);
    return 0;
}

/* ---- bootstrap ---- */

hb_ci hb_boot_percentile_ci(double *rep, size_t B, double level)
{
    hb_ci ci = {NAN, NAN};
    if (B == 0)
        return ci;
    for (size_t b = 0; b < B; b++)
        if (isnan(rep[b]))
            return ci;
    hb_sort(rep, B);
    ci.lo = hb_quantile_sorted(rep, B, (1.0 - level) / 2.0);
    ci.hi = hb_quantile_sorted(rep, B, (1.0 + level) / 2.0);
    return ci;
}

/* A uniform index in [0, n), n <= 2^32: Lemire's multiply-shift with rejection, so unbiased, and
 * with no division on the common path. Needs a generator of the full 32-bit range. */
static inline size_t draw(gsl_rng *r, size_t n)
{
    uint32_t n32 = (uint32_t)n;
    if (n32 == 0)   /* n == 2^32 */
        return (size_t)gsl_rng_get(r);
    uint64_t m = (uint64_t)(uint32_t)gsl_rng_get(r) * n32;
    uint32_t low = (uint32_t)m;
    if (low < n32) {
        uint32_t t = (uint32_t)(0u - n32) % n32;
        while (low < t) {
            m = (uint64_t)(uint32_t)gsl_rng_get(r) * n32;
            low = (uint32_t)m;
        }
    }
    return (size_t)(m >> 32);
}

static int full_range(const gsl_rng *r)
{
    return gsl_rng_min(r) == 0 && gsl_rng_max(r) == 0xffffffffUL;
}

static inline size_t draw_any(gsl_rng *r, size_t n, int full)
{
    return full ? draw(r, n) : (size_t)gsl_rng_uniform_int(r, (unsigned long)n);
}

size_t hb_rng_index(gsl_rng *r, size_t n)
{
    return draw_any(r, n, full_range(r));
}

/* The draws of one replicate from the drawn groups: the pooled sum, and the values >= tau (all of
 * them when tau is -inf) into buf. Returns how many values went into buf. */
static size_t draw_replicate(const hb_group *g, const size_t *pick, size_t K, gsl_rng *call_rng,
                             int full, double tau, double *buf, double *sum_out)
{
    double sum = 0.0;
    size_t kept = 0;
    for (size_t k = 0; k < K; k++) {
        const double *v = g[pick[k]].v;
        size_t n = g[pick[k]].n;
        if (!buf) {
            for (size_t i = 0; i < n; i++)
                sum += v[draw_any(call_rng, n, full)];
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            double x = v[draw_any(call_rng, n, full)];
            sum += x;
            if (x >= tau)
                buf[kept++] = x;
        }
    }
    *sum_out = sum;
    return kept;
}

/* The pooled q-quantile of a replicate interpolates between the values of ranks floor(h) and
 * floor(h)+1, h = q (N - 1), which for a high q lie in the top few percent. So a replicate keeps
 * only its values >= tau (the pooled data's quantile at 1 - 5(1-q)) and selects the two ranks among
 * them. When they are not all there (a replicate that drew mostly fast seeds), the replicate is
 * drawn again from the saved generator state keeping every value: the same draws, so exact. */
int hb_boot_mean_quantile(const hb_group *g, size_t K, size_t B, double q, gsl_rng *seed_rng,
                          gsl_rng *call_rng, double *mean_rep, double *q_rep)
{
    size_t maxn = 0, total = 0;
    for (size_t k = 0; k < K; k++) {
        if (g[k].n > maxn)
            maxn = g[k].n;
        total += g[k].n;
    }
    if (K == 0 || total == 0) {
        for (size_t b = 0; b < B; b++) {
            mean_rep[b] = NAN;
            if (q_rep)
                q_rep[b] = NAN;
        }
        return 0;
    }
    int full_seed = full_range(seed_rng), full_call = full_range(call_rng);
    double tau = -INFINITY;
    double *buf = NULL;
    gsl_rng *saved = NULL;
    size_t *pick = malloc(K * sizeof *pick);
    if (!pick)
        return -1;
    if (q_rep) {
        buf = malloc(K * maxn * sizeof *buf);
        saved = gsl_rng_clone(call_rng);
        if (!buf || !saved) {
            free(pick);
            free(buf);
            if (saved)
                gsl_rng_free(saved);
            return -1;
        }
        double tail = 5.0 * (1.0 - q);
        if (tail < 0.5) {
            size_t at = 0;
            for (size_t k = 0; k < K; k++) {
                if (g[k].n)
                    memcpy(buf + at, g[k].v, g[k].n * sizeof *buf);
                at += g[k].n;
            }
            tau = gsl_stats_select(buf, 1, total, (size_t)((1.0 - tail) * (double)(total - 1)));
        }
    }
    for (size_t b = 0; b < B; b++) {
        size_t nstar = 0;
        for (size_t k = 0; k < K; k++) {
            pick[k] = draw_any(seed_rng, K, full_seed);
            nstar += g[pick[k]].n;
        }
        if (q_rep && tau > -INFINITY)
            gsl_rng_memcpy(saved, call_rng);
        double sum;
        size_t kept = draw_replicate(g, pick, K, call_rng, full_call, tau, buf, &sum);
        if (nstar == 0) {
            mean_rep[b] = NAN;
            if (q_rep)
                q_rep[b] = NAN;
            continue;
        }
        mean_rep[b] = sum / (double)nstar;
        if (!q_rep)
            continue;
        /* the same arithmetic as gsl_stats_quantile_from_sorted_data */
        double index = q * (double)(nstar - 1);
        size_t lhs = (size_t)index;
        double delta = index - (double)lhs;
        size_t below = nstar - kept;   /* values < tau, all smaller than the kept ones */
        size_t r0 = lhs - below;
        if (lhs < below) {
            gsl_rng *tmp = gsl_rng_clone(call_rng);   /* where the replicate ended */
            if (!tmp) {
                free(pick);
                free(buf);
                gsl_rng_free(saved);
                return -1;
            }
            gsl_rng_memcpy(call_rng, saved);
            kept = draw_replicate(g, pick, K, call_rng, full_call, -INFINITY, buf, &sum);
            gsl_rng_memcpy(call_rng, tmp);
            gsl_rng_free(tmp);
            r0 = lhs;
        }
        double v0 = gsl_stats_select(buf, 1, kept, r0);
        double v1 = (lhs + 1 < nstar && delta > 0.0) ? gsl_stats_select(buf, 1, kept, r0 + 1) : v0;
        q_rep[b] = (1 - delta) * v0 + delta * v1;
    }
    free(pick);
    free(buf);
    if (saved)
        gsl_rng_free(saved);
    return 0;
}

void hb_boot_share(const size_t *hits, const size_t *total, size_t K, size_t B, gsl_rng *seed_rng,
                   gsl_rng *call_rng, double *rep)
{
    int full = full_range(seed_rng);
    for (size_t b = 0; b < B; b++) {
        if (K == 0) {
            rep[b] = NAN;
            continue;
        }
        double h = 0.0, n = 0.0;
        for (size_t k = 0; k < K; k++) {
            size_t s = draw_any(seed_rng, K, full);
            if (total[s] == 0)
                continue;
            double p = (double)hits[s] / (double)total[s];
            h += (double)gsl_ran_binomial(call_rng, p, (unsigned)total[s]);
            n += (double)total[s];
        }
        rep[b] = n > 0.0 ? h / n : NAN;
    }
}

void hb_boot_ratio(const double *num, const double *den, size_t K, size_t B, gsl_rng *seed_rng,
                   double *rep)
{
    int full = full_range(seed_rng);
    for (size_t b = 0; b < B; b++) {
        double sn = 0.0, sd = 0.0;
        for (size_t k = 0; k < K; k++) {
            size_t s = draw_any(seed_rng, K, full);
            sn += num[s];
            sd += den[s];
        }
        rep[b] = (K > 0 && sd != 0.0 && !isnan(sn) && !isnan(sd)) ? sn / sd : NAN;
    }
}

double hb_change_pct1(double a, double b)
{
    if (isnan(a) || isnan(b) || b == 0.0)
        return NAN;
    return 100.0 * (a - b) / b;
}

void hb_change_pct(const double *a, const double *b, size_t B, double *out)
{
    for (size_t i = 0; i < B; i++)
        out[i] = hb_change_pct1(a[i], b[i]);
}

/* ---- paired bootstrap ---- */

/* A replicate side's values: those >= tau from the front of v, the others from the back (v holds
 * cap), so that a high quantile is selected among the few values >= tau (as hb_boot_mean_quantile
 * does). Every value < tau is smaller than every value >= tau, so rank r of the whole is rank
 * r - nlo of the front part whenever r >= nlo: the same value as a select over everything. */
typedef struct tail_buf {
    double *v, tau;
    size_t cap, nhi, nlo;
} tail_buf;

static inline void tail_put(tail_buf *t, double x)
{
    if (x >= t->tau)
        t->v[t->nhi++] = x;
    else
        t->v[t->cap - 1 - t->nlo++] = x;
}

/* The q-quantile of the side's values, as gsl_stats_quantile_from_sorted_data would give on their
 * sorted copy. Reorders them. */
static double tail_quantile(tail_buf *t, double q)
{
    size_t n = t->nhi + t->nlo;
    if (n == 0)
        return NAN;
    double index = q * (double)(n - 1);
    size_t lhs = (size_t)index;
    double delta = index - (double)lhs;
    double *v = t->v;
    size_t m = t->nhi, r0 = lhs - t->nlo;
    if (lhs < t->nlo) {                /* the ranks lie below tau: select over every value */
        memmove(v + t->nhi, v + t->cap - t->nlo, t->nlo * sizeof *v);
        m = n;
        r0 = lhs;
    }
    double v0 = gsl_stats_select(v, 1, m, r0);
    double v1 = (lhs + 1 < n && delta > 0.0) ? gsl_stats_select(v, 1, m, r0 + 1) : v0;
    return (1 - delta) * v0 + delta * v1;
}

/* The pooled quantile at 1 - 5(1 - q) of one side's non-NaN values (-inf: keep every value). */
static double tail_threshold(const hb_pair_group *g, size_t K, int side, double q, double *buf)
{
    double tail = 5.0 * (1.0 - q);
    if (!(tail < 0.5))
        return -INFINITY;
    size_t n = 0;
    for (size_t k = 0; k < K; k++)
        for (size_t i = 0; i < g[k].n; i++) {
            double x = side ? g[k].b[i] : g[k].a[i];
            if (!isnan(x))
                buf[n++] = x;
        }
    if (n == 0)
        return -INFINITY;
    return gsl_stats_select(buf, 1, n, (size_t)((1.0 - tail) * (double)(n - 1)));
}

int hb_boot_paired(const hb_pair_group *g, size_t K, size_t B, double q, gsl_rng *seed_rng,
                   gsl_rng *call_rng, double *const rep[HB_PR_N])
{
    size_t maxn = 0, total = 0;
    for (size_t k = 0; k < K; k++) {
        if (g[k].n > maxn)
            maxn = g[k].n;
        total += g[k].n;
    }
    size_t *pick = malloc((K ? K : 1) * sizeof *pick);
    size_t cap = K * maxn > total ? K * maxn : total;
    cap = cap ? cap : 1;
    double *ba = malloc(cap * sizeof *ba);
    double *bb = malloc(cap * sizeof *bb);
    if (!pick || !ba || !bb) {
        free(pick);
        free(ba);
        free(bb);
        return -1;
    }
    tail_buf ta = {ba, tail_threshold(g, K, 0, q, ba), cap, 0, 0};
    tail_buf tb = {bb, tail_threshold(g, K, 1, q, bb), cap, 0, 0};
    int full_seed = full_range(seed_rng), full_call = full_range(call_rng);
    for (size_t b = 0; b < B; b++) {
        for (size_t k = 0; k < K; k++)
            pick[k] = draw_any(seed_rng, K, full_seed);
        double sa = 0.0, sb = 0.0, sca = 0.0, scb = 0.0;
        size_t nc = 0, nall = 0;
        ta.nhi = ta.nlo = tb.nhi = tb.nlo = 0;
        int cens = K > 0;
        for (size_t k = 0; k < K; k++) {
            const hb_pair_group *x = &g[pick[k]];
            if (!x->ca || !x->cb)
                cens = 0;
            nall += x->n;
            for (size_t j = 0; j < x->n; j++) {
                size_t i = draw_any(call_rng, x->n, full_call);   /* one index, both sides */
                if (!isnan(x->a[i])) {
                    sa += x->a[i];
                    tail_put(&ta, x->a[i]);
                }
                if (!isnan(x->b[i])) {
                    sb += x->b[i];
                    tail_put(&tb, x->b[i]);
                }
                if (cens && x->ca && x->cb) {
                    sca += x->ca[i];
                    scb += x->cb[i];
                    nc++;
                }
            }
        }
        size_t na = ta.nhi + ta.nlo, nb = tb.nhi + tb.nlo;
        rep[HB_PR_MEAN_A][b] = na ? sa / (double)na : NAN;
        rep[HB_PR_MEAN_B][b] = nb ? sb / (double)nb : NAN;
        rep[HB_PR_Q_A][b] = tail_quantile(&ta, q);
        rep[HB_PR_Q_B][b] = tail_quantile(&tb, q);
        rep[HB_PR_CMEAN_A][b] = cens && nc ? sca / (double)nc : NAN;
        rep[HB_PR_CMEAN_B][b] = cens && nc ? scb / (double)nc : NAN;
        rep[HB_PR_SUCC_A][b] = nall ? (double)na / (double)nall : NAN;
        rep[HB_PR_SUCC_B][b] = nall ? (double)nb / (double)nall : NAN;
    }
    free(pick);
    free(ba);
    free(bb);
    return 0;
}

/* ---- sign-flip permutation test ---- */

hb_signflip hb_signflip_test(const double *d, size_t n, gsl_rng *rng)
{
    hb_signflip r = {NAN, NAN, n, 0};
    if (n == 0)
        return r;
    double sum = 0.0, abs_sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += d[i];
        abs_sum += fabs(d[i]);
    }
    r.mean_diff = sum / (double)n;
    if (abs_sum == 0.0) {
        r.p = 1.0;
        r.exact = 1;
        return r;
    }
    double t = fabs(sum) - 1e-9 * abs_sum;   /* sums equal up to rounding count as equal */
    if (n <= HB_SIGNFLIP_EXACT_MAX) {
        /* every sign assignment; bit i of m set: d[i] flipped */
        uint64_t all = (uint64_t)1 << n, count = 0;
        for (uint64_t m = 0; m < all; m++) {
            double s = 0.0;
            for (size_t i = 0; i < n; i++)
                s += (m >> i & 1) ? -d[i] : d[i];
            count += fabs(s) >= t;
        }
        r.p = (double)count / (double)all;
        r.exact = 1;
        return r;
    }
    const uint64_t M = (uint64_t)1 << 17;
    uint64_t count = 0;
    for (uint64_t m = 0; m < M; m++) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++)
            s += (gsl_rng_get(rng) & 1) ? -d[i] : d[i];
        count += fabs(s) >= t;
    }
    r.p = (double)(1 + count) / (double)(1 + M);
    return r;
}
