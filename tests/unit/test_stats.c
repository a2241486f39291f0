/* test_stats.c - every statistic of harness/analysis/stats.c against a worked example, a published table or a
 * value derived by hand in the comment next to it; edge cases; the bootstrap's determinism. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "stats.h"

#include "hb_test.h"

#define EPS 1e-12
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- percentiles and the mean ---- */

START_TEST(quantile_matches_brief_definition)
{
    /* BRIEF section 8: h = (n-1) f, linear between floor(h) and floor(h)+1 (numpy's default).
     * [1,2,3,4]: f=0.5 -> h=1.5 -> 2.5; f=0.99 -> h=2.97 -> 3 + 0.97 = 3.97; ends are min and max.
     * [1,3,5,7,9]: f=0.9 -> h=3.6 -> 7 + 0.6*2 = 8.2. */
    double a[] = {1, 2, 3, 4};
    ck_assert_double_eq_tol(hb_quantile_sorted(a, 4, 0.0), 1.0, EPS);
    ck_assert_double_eq_tol(hb_quantile_sorted(a, 4, 0.5), 2.5, EPS);
    ck_assert_double_eq_tol(hb_quantile_sorted(a, 4, 0.99), 3.97, EPS);
    ck_assert_double_eq_tol(hb_quantile_sorted(a, 4, 1.0), 4.0, EPS);
    double b[] = {9, 1, 7, 3, 5};
    hb_sort(b, 5);
    ck_assert_double_eq_tol(hb_quantile_sorted(b, 5, 0.9), 8.2, EPS);
    ck_assert_double_eq_tol(hb_quantile_sorted(b, 5, 0.25), 3.0, EPS);
    /* [0,10]: f=0.95 -> 9.5 */
    double c[] = {0, 10};
    ck_assert_double_eq_tol(hb_quantile_sorted(c, 2, 0.95), 9.5, EPS);
}
END_TEST

START_TEST(quantile_and_mean_edge_cases)
{
    double one[] = {42.0};
    ck_assert(isnan(hb_quantile_sorted(one, 0, 0.5)));   /* empty */
    ck_assert(isnan(hb_mean(one, 0)));
    ck_assert_double_eq(hb_quantile_sorted(one, 1, 0.0), 42.0);
    ck_assert_double_eq(hb_quantile_sorted(one, 1, 0.99), 42.0);
    ck_assert_double_eq(hb_mean(one, 1), 42.0);
    double ties[] = {5, 5, 5, 5, 5};
    ck_assert_double_eq(hb_quantile_sorted(ties, 5, 0.37), 5.0);
    ck_assert_double_eq(hb_mean(ties, 5), 5.0);
    double m[] = {1, 2, 3, 4, 10};
    ck_assert_double_eq_tol(hb_mean(m, 5), 4.0, EPS);
    ck_assert(isnan(hb_quantile_sorted(m, 5, 1.5)));
}
END_TEST

/* ---- Le Boudec's median interval ---- */

START_TEST(median_ci_le_boudec)
{
    double x[200];
    for (size_t i = 0; i < 200; i++)
        x[i] = (double)(i + 1);   /* x_(r) = r, so the interval shows its ranks */
    size_t j, k;
    /* n = 100 >= 71: j = floor(50 - 0.98*10) = 40, k = ceil(51 + 0.98*10) = 61 (Le Boudec 2010,
     * Theorem 2.1, 1-based order statistics). */
    hb_ci ci = hb_median_ci(x, 100, 0.95, &j, &k);
    ck_assert_uint_eq(j, 40);
    ck_assert_uint_eq(k, 61);
    ck_assert_double_eq(ci.lo, 40.0);
    ck_assert_double_eq(ci.hi, 61.0);
    /* n = 200: 100 - 0.98 sqrt(200) = 86.14 -> 86; 101 + 13.86 = 114.86 -> 115. */
    ci = hb_median_ci(x, 200, 0.95, &j, &k);
    ck_assert_uint_eq(j, 86);
    ck_assert_uint_eq(k, 115);
    /* n = 100 at 99%: 50 - 1.288*10 = 37.12 -> 37; 51 + 12.88 = 63.88 -> 64 */
    ci = hb_median_ci(x, 100, 0.99, &j, &k);
    ck_assert_uint_eq(j, 37);
    ck_assert_uint_eq(k, 64);
    /* Small n, exact binomial (the book's Table A.1): n=6 -> (1,6): P(B<=0) = 1/64 <= 0.025;
     * n=10 -> (2,9): P(B<=1) = 11/1024 = 0.0107, P(B<=2) = 56/1024 = 0.055;
     * n=11 -> (2,10): P(B<=2) = 67/2048 = 0.0327 > 0.025; n=12 -> (3,10): P(B<=2) = 79/4096. */
    static const size_t want[][3] = {{6, 1, 6}, {9, 2, 8}, {10, 2, 9}, {11, 2, 10}, {12, 3, 10}};
    for (size_t i = 0; i < N_OF(want); i++) {
        hb_median_ci(x, want[i][0], 0.95, &j, &k);
        ck_assert_uint_eq(j, want[i][1]);
        ck_assert_uint_eq(k, want[i][2]);
    }
    /* n = 5 is too small at 95%: P(B<=0) = 1/32 > 0.025 */
    ci = hb_median_ci(x, 5, 0.95, &j, &k);
    ck_assert(isnan(ci.lo) && isnan(ci.hi));
    ck_assert_uint_eq(j, 0);
    ci = hb_median_ci(x, 0, 0.95, NULL, NULL);
    ck_assert(isnan(ci.lo));
    /* Coverage of [x_(j), x_(k)] is P(j <= Bin(n,1/2) <= k-1); it must be >= 95% for every n. */
    for (size_t n = 6; n <= 200; n++) {
        hb_median_ci(x, n, 0.95, &j, &k);
        ck_assert(j >= 1 && j < k && k <= n);
        double cover = gsl_cdf_binomial_P((unsigned)(k - 1), 0.5, (unsigned)n) -
                       (j >= 1 ? gsl_cdf_binomial_P((unsigned)(j - 1), 0.5, (unsigned)n) : 0.0);
        ck_assert_msg(cover >= 0.95 - 1e-9, "n=%zu coverage %g", n, cover);
    }
}
END_TEST

/* ---- Mann-Whitney U ---- */

START_TEST(mann_whitney_hand_example_with_ties)
{
    /* x = {1,2,2,3}, y = {2,3,4,4,5}. Pooled ranks: 1 -> 1; the three 2s share (2+3+4)/3 = 3;
     * the 3s share 5.5; the 4s 7.5; 5 -> 9. R_x = 1 + 3 + 3 + 5.5 = 12.5, U = 12.5 - 4*5/2 = 2.5
     * (= 1 pair x>y + 3 ties / 2). mu = 10. Ties: t = 3, 2, 2 -> sum(t^3 - t) = 24 + 6 + 6 = 36;
     * sigma^2 = 20/12 (10 - 36/72) = 15.8333; z = -(7.5 - 0.5)/3.97911 = -1.75919;
     * p = 2 Phi(-1.75919) = 0.078546 (scipy.stats.mannwhitneyu, asymptotic, continuity: same). */
    double x[] = {1, 2, 2, 3}, y[] = {2, 3, 4, 4, 5};
    hb_mwu r = hb_mann_whitney(x, 4, y, 5);
    ck_assert_double_eq_tol(r.u, 2.5, EPS);
    ck_assert_double_eq_tol(r.z, -7.0 / sqrt(20.0 / 12.0 * 9.5), 1e-12);
    ck_assert_double_eq_tol(r.p, 0.07854585095119067, 1e-12);
    /* swapping the samples gives U' = n_x n_y - U and the same p */
    hb_mwu s = hb_mann_whitney(y, 5, x, 4);
    ck_assert_double_eq_tol(s.u, 20.0 - 2.5, EPS);
    ck_assert_double_eq_tol(s.p, r.p, 1e-15);
    ck_assert_double_eq_tol(s.z, -r.z, 1e-15);
}
END_TEST

START_TEST(mann_whitney_separated_samples)
{
    /* Fully separated samples, x all below y, n = 3 and 4 (by hand; scipy agrees: 0.0518299272):
     * U = 0, mu = 6, sigma^2 = 12/12 * 8 = 8, z = -(6 - 0.5)/sqrt(8) = -1.94454, p = 0.051830. */
    double x[] = {1, 2, 3}, y[] = {4, 5, 6, 7};
    hb_mwu r = hb_mann_whitney(x, 3, y, 4);
    ck_assert_double_eq(r.u, 0.0);
    ck_assert_double_eq_tol(r.z, -5.5 / sqrt(8.0), 1e-12);
    ck_assert_double_eq_tol(r.p, 2.0 * gsl_cdf_ugaussian_P(-5.5 / sqrt(8.0)), 1e-15);
    ck_assert_double_eq_tol(r.p, 0.05182992, 1e-7);
}
END_TEST

START_TEST(mann_whitney_edge_cases)
{
    double x[] = {3, 3, 3}, y[] = {3, 3};
    hb_mwu r = hb_mann_whitney(x, 3, y, 2);   /* all ties: no evidence */
    ck_assert_double_eq(r.u, 3.0);
    ck_assert_double_eq(r.z, 0.0);
    ck_assert_double_eq(r.p, 1.0);
    r = hb_mann_whitney(x, 0, y, 2);           /* empty sample: no test */
    ck_assert(isnan(r.u) && isnan(r.z) && isnan(r.p));
    double a[] = {1}, b[] = {2};
    r = hb_mann_whitney(a, 1, b, 1);           /* one value each: |U - mu| = 1/2, corrected to 0 */
    ck_assert_double_eq(r.u, 0.0);
    ck_assert_double_eq(r.p, 1.0);
}
END_TEST

/* ---- Cliff's delta ---- */

START_TEST(cliffs_delta_hand_and_brute_force)
{
    /* x = {1,2,2,3}, y = {2,3,4,4,5}: x>y: (3,2) = 1 pair; x<y: 5 + 4 + 4 + 3 = 16; ties 3.
     * delta = (1 - 16)/20 = -0.75 = 2U/(n_x n_y) - 1 with U = 2.5. */
    double x[] = {1, 2, 2, 3}, y[] = {2, 3, 4, 4, 5};
    ck_assert_double_eq_tol(hb_cliffs_delta(x, 4, y, 5), -0.75, EPS);
    ck_assert_double_eq_tol(hb_cliffs_delta(y, 5, x, 4), 0.75, EPS);
    /* against the O(n^2) definition on samples with many ties */
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 11);
    enum { NX = 300, NY = 411 };
    static double a[NX], b[NY];
    for (int i = 0; i < NX; i++)
        a[i] = floor(gsl_rng_uniform(r) * 40.0);
    for (int i = 0; i < NY; i++)
        b[i] = floor(gsl_rng_uniform(r) * 40.0 + 3.0);
    hb_sort(a, NX);
    hb_sort(b, NY);
    long gt = 0, lt = 0;
    for (int i = 0; i < NX; i++)
        for (int j = 0; j < NY; j++) {
            gt += a[i] > b[j];
            lt += a[i] < b[j];
        }
    double want = (double)(gt - lt) / ((double)NX * NY);
    ck_assert_double_eq_tol(hb_cliffs_delta(a, NX, b, NY), want, 1e-14);
    hb_mwu m = hb_mann_whitney(a, NX, b, NY);
    ck_assert_double_eq_tol(2.0 * m.u / ((double)NX * NY) - 1.0, want, 1e-12);
    gsl_rng_free(r);
    /* edge cases */
    double t[] = {7, 7, 7};
    ck_assert_double_eq(hb_cliffs_delta(t, 3, t, 2), 0.0);
    ck_assert(isnan(hb_cliffs_delta(t, 0, t, 3)));
}
END_TEST

/* ---- Wilcoxon signed-rank ---- */

START_TEST(wilcoxon_exact_by_hand)
{
    hb_wilcoxon w;
    /* d = (1,2,3,4,-5): W+ = 10, W- = 5. The 32 subset sums of {1..5} have counts 1,1,1,2,2,3,3,3,
     * 3,3,3,2,2,1,1,1 for s = 0..15, so P(W+ >= 10) = 10/32 and p = 20/32 = 0.625. */
    double d1[] = {1, 2, 3, 4, -5};
    ck_assert_int_eq(hb_wilcoxon_signed_rank(d1, 5, &w), 0);
    ck_assert_double_eq(w.w_plus, 10.0);
    ck_assert_double_eq(w.w_minus, 5.0);
    ck_assert_double_eq_tol(w.p, 0.625, EPS);
    ck_assert_int_eq(w.exact, 1);
    /* five seeds all in one direction: p = 2/32 = 0.0625, the smallest p five pairs can give */
    double d2[] = {0.3, 1.2, 0.8, 2.0, 0.1};
    hb_wilcoxon_signed_rank(d2, 5, &w);
    ck_assert_double_eq(w.w_plus, 15.0);
    ck_assert_double_eq_tol(w.p, 0.0625, EPS);
}
END_TEST

START_TEST(wilcoxon_exact_table_value)
{
    /* Published tables of the signed-rank statistic (e.g. Wilcoxon, Katti & Wilcox 1963; Siegel &
     * Castellan, Table H) give T = 8 as the two-sided 5% critical value for n = 10: P(T <= 8) =
     * 25/1024 (subsets of {1..10} summing to <= 8: 1,1,1,2,2,3,4,5,6). So T = 8 gives
     * p = 50/1024 = 0.048828 and T = 9 gives p = 66/1024 = 0.064453. */
    hb_wilcoxon w;
    double d[] = {-1, 2, 3, 4, 5, 6, -7, 8, 9, 10};   /* W- = 1 + 7 = 8 */
    hb_wilcoxon_signed_rank(d, 10, &w);
    ck_assert_double_eq(w.w_minus, 8.0);
    ck_assert_double_eq(w.w_plus, 47.0);
    ck_assert_double_eq_tol(w.p, 50.0 / 1024.0, EPS);
    double e[] = {-1, 2, 3, 4, 5, 6, 7, -8, 9, 10};   /* W- = 9 */
    hb_wilcoxon_signed_rank(e, 10, &w);
    ck_assert_double_eq(w.w_minus, 9.0);
    ck_assert_double_eq_tol(w.p, 66.0 / 1024.0, EPS);
}
END_TEST

START_TEST(wilcoxon_zeros_and_ties)
{
    /* d = (0,1,-1,2,2,3): the zero is dropped (n = 5); |d| = 1,1,2,2,3 take midranks 1.5,1.5,3.5,
     * 3.5,5, so W+ = 1.5+3.5+3.5+5 = 13.5, W- = 1.5. Exact over the 32 sign assignments of these
     * ranks (doubled: 3,3,7,7,10, total 30, W+ doubled 27): sums >= 27 are the complements of sums
     * <= 3: {}, {3}, {3'} -> 3/32; p = 6/32 = 0.1875. */
    hb_wilcoxon w;
    double d[] = {0, 1, -1, 2, 2, 3};
    hb_wilcoxon_signed_rank(d, 6, &w);
    ck_assert_uint_eq(w.n_used, 5);
    ck_assert_double_eq(w.w_plus, 13.5);
    ck_assert_double_eq(w.w_minus, 1.5);
    ck_assert_double_eq_tol(w.p, 0.1875, EPS);
    ck_assert_int_eq(w.exact, 1);
    /* all differences zero: no evidence */
    double z[] = {0, 0, 0};
    hb_wilcoxon_signed_rank(z, 3, &w);
    ck_assert_uint_eq(w.n_used, 0);
    ck_assert_double_eq(w.p, 1.0);
    /* no pairs: no test */
    hb_wilcoxon_signed_rank(z, 0, &w);
    ck_assert(isnan(w.p) && isnan(w.w_plus));
    /* one pair: p = 2 * 1/2 = 1 */
    double o[] = {-2.5};
    hb_wilcoxon_signed_rank(o, 1, &w);
    ck_assert_double_eq(w.w_minus, 1.0);
    ck_assert_double_eq(w.p, 1.0);
}
END_TEST

START_TEST(wilcoxon_normal_approximation)
{
    /* 60 differences with many ties and three zeros (57 used): scipy.stats.wilcoxon(d,
     * method="approx", correction=True, zero_method="wilcox") gives statistic min(W+,W-) = 530 and
     * p = 0.01854089039592215; W+ = 1653 - 530 = 1123. */
    double d[] = {2.3,  -2.3, 0.7,  -0.3, -0.2, 0.1,  -1.7, 0.1,  -0.6, 3.6, 0.5,  -0.1,
                  0.0,  -0.4, -0.8, -0.1, 0.8,  0.1,  1.3,  0.1,  0.3,  1.8, 0.8,  -0.2,
                  0.1,  0.8,  2.2,  0.0,  0.1,  1.3,  -0.6, 0.0,  1.2,  0.9, 0.4,  1.0,
                  -2.5, 1.3,  -0.7, -1.4, 0.6,  1.0,  -0.1, -0.8, 0.3,  0.2, 1.7,  1.0,
                  0.5,  1.4,  0.1,  -0.6, 0.9,  0.9,  0.1,  -0.5, 0.5,  -2.2, 1.0,  0.8};
    hb_wilcoxon w;
    hb_wilcoxon_signed_rank(d, N_OF(d), &w);
    ck_assert_uint_eq(w.n_used, 57);
    ck_assert_int_eq(w.exact, 0);
    ck_assert_double_eq(w.w_plus, 1123.0);
    ck_assert_double_eq(w.w_minus, 530.0);
    ck_assert_double_eq_tol(w.p, 0.01854089039592215, 1e-12);
}
END_TEST

/* ---- Holm ---- */

START_TEST(holm_small_vector)
{
    /* Holm (1979): p = (0.01, 0.04, 0.03, 0.005). Sorted 0.005, 0.01, 0.03, 0.04 times 4,3,2,1:
     * 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06. */
    double p[] = {0.01, 0.04, 0.03, 0.005}, adj[4];
    ck_assert_int_eq(hb_holm(p, 4, adj), 0);
    ck_assert_double_eq_tol(adj[0], 0.03, EPS);
    ck_assert_double_eq_tol(adj[1], 0.06, EPS);
    ck_assert_double_eq_tol(adj[2], 0.06, EPS);
    ck_assert_double_eq_tol(adj[3], 0.02, EPS);
    /* capped at 1; NAN left out of the family (m = 2 here), in place */
    double q[] = {0.02, NAN, 0.7};
    hb_holm(q, 3, q);
    ck_assert_double_eq_tol(q[0], 0.04, EPS);
    ck_assert(isnan(q[1]));
    ck_assert_double_eq_tol(q[2], 0.7, EPS);
    double r[] = {0.6, 0.9};
    hb_holm(r, 2, r);
    ck_assert_double_eq(r[0], 1.0);
    ck_assert_double_eq(r[1], 1.0);
    /* one test: unchanged */
    double s[] = {0.013};
    hb_holm(s, 1, s);
    ck_assert_double_eq(s[0], 0.013);
}
END_TEST

/* ---- bootstrap ---- */

static gsl_rng *rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

START_TEST(bootstrap_is_deterministic_for_a_seed)
{
    enum { B = 2000 };
    double v0[] = {1, 2, 3, 5, 8, 13, 21}, v1[] = {2, 4, 4, 9}, v2[] = {3, 3, 7, 30, 31};
    hb_group g[] = {{v0, 7}, {v1, 4}, {v2, 5}};
    static double m1[B], q1[B], m2[B], q2[B], m3[B], q3[B];
    gsl_rng *s = rng(7), *c = rng(8);
    ck_assert_int_eq(hb_boot_mean_quantile(g, 3, B, 0.99, s, c, m1, q1), 0);
    gsl_rng_set(s, 7);
    gsl_rng_set(c, 8);
    hb_boot_mean_quantile(g, 3, B, 0.99, s, c, m2, q2);
    ck_assert_mem_eq(m1, m2, sizeof m1);
    ck_assert_mem_eq(q1, q2, sizeof q1);
    gsl_rng_set(s, 9);
    gsl_rng_set(c, 8);
    hb_boot_mean_quantile(g, 3, B, 0.99, s, c, m3, q3);
    ck_assert(memcmp(m1, m3, sizeof m1) != 0);
    hb_ci a = hb_boot_percentile_ci(m1, B, 0.95), b = hb_boot_percentile_ci(m2, B, 0.95);
    ck_assert_double_eq(a.lo, b.lo);
    ck_assert_double_eq(a.hi, b.hi);
    gsl_rng_free(s);
    gsl_rng_free(c);
}
END_TEST

/* A naive replicate: the same draws (hb_rng_index), pooled, sorted, hb_quantile_sorted. */
static void naive_replicates(const hb_group *g, size_t K, size_t B, double q, gsl_rng *s, gsl_rng *c,
                             double *mean, double *qv)
{
    size_t maxn = 0;
    for (size_t k = 0; k < K; k++)
        if (g[k].n > maxn)
            maxn = g[k].n;
    double *buf = malloc(K * maxn * sizeof *buf);
    size_t *pick = malloc(K * sizeof *pick);
    for (size_t b = 0; b < B; b++) {
        size_t n = 0;
        double sum = 0;
        for (size_t k = 0; k < K; k++)
            pick[k] = hb_rng_index(s, K);
        for (size_t k = 0; k < K; k++)
            for (size_t i = 0; i < g[pick[k]].n; i++) {
                buf[n] = g[pick[k]].v[hb_rng_index(c, g[pick[k]].n)];
                sum += buf[n++];
            }
        mean[b] = n ? sum / (double)n : NAN;
        hb_sort(buf, n);
        qv[b] = hb_quantile_sorted(buf, n, q);
    }
    free(buf);
    free(pick);
}

START_TEST(bootstrap_tail_selection_is_exact)
{
    /* Two seeds on very different scales, so that some replicates draw only the fast seed and the
     * selection must fall back from the tail to all values; checked against sorting each replicate. */
    enum { B = 400, N0 = 500, N1 = 300 };
    static double v0[N0], v1[N1], m[B], q[B], mn[B], qn[B];
    gsl_rng *r = rng(3);
    for (int i = 0; i < N0; i++)
        v0[i] = 10.0 + floor(gsl_rng_uniform(r) * 50.0);   /* ties */
    for (int i = 0; i < N1; i++)
        v1[i] = 1000.0 + gsl_rng_uniform(r) * 1000.0;
    hb_sort(v0, N0);
    hb_sort(v1, N1);
    hb_group g[] = {{v0, N0}, {v1, N1}};
    double qs[] = {0.99, 0.5, 0.95, 1.0, 0.0};
    for (size_t t = 0; t < N_OF(qs); t++) {
        gsl_rng *s1 = rng(100 + t), *c1 = rng(200 + t), *s2 = rng(100 + t), *c2 = rng(200 + t);
        hb_boot_mean_quantile(g, 2, B, qs[t], s1, c1, m, q);
        naive_replicates(g, 2, B, qs[t], s2, c2, mn, qn);
        for (int b = 0; b < B; b++) {
            ck_assert_double_eq_tol(m[b], mn[b], 1e-9);
            ck_assert_msg(fabs(q[b] - qn[b]) <= 1e-9 * fabs(qn[b]), "q=%g b=%d: %g vs %g", qs[t],
                          b, q[b], qn[b]);
        }
        gsl_rng_free(s1);
        gsl_rng_free(c1);
        gsl_rng_free(s2);
        gsl_rng_free(c2);
    }
    gsl_rng_free(r);
}
END_TEST

START_TEST(bootstrap_resamples_seeds_not_only_calls)
{
    /* Three seeds, each constant: {1,1,1}, {2,2,2}, {3,3,3}. Within-seed resampling changes
     * nothing, so a replicate's mean is the mean of three seeds drawn with replacement, in
     * {1, 4/3, ..., 3}. P(all three draws = seed 1) = 1/27 = 3.7% > 2.5%, so the 95% percentile
     * interval is exactly [1, 3]. A bootstrap of calls alone would give [2, 2]. */
    enum { B = 4000 };
    double a[] = {1, 1, 1}, b[] = {2, 2, 2}, c[] = {3, 3, 3};
    hb_group g[] = {{a, 3}, {b, 3}, {c, 3}};
    static double m[B], q[B];
    gsl_rng *s = rng(1), *cr = rng(2);
    hb_boot_mean_quantile(g, 3, B, 0.99, s, cr, m, q);
    hb_ci ci = hb_boot_percentile_ci(m, B, 0.95);
    ck_assert_double_eq_tol(ci.lo, 1.0, EPS);
    ck_assert_double_eq_tol(ci.hi, 3.0, EPS);
    gsl_rng_free(s);
    gsl_rng_free(cr);
}
END_TEST

START_TEST(bootstrap_single_seed_matches_normal_theory)
{
    /* One seed of n = 4000 values uniform on [0,1): the bootstrap standard error of the mean is
     * about sigma/sqrt(n) = 0.2887/63.25 = 0.004564, so the 95% interval is about +-0.00895 around
     * the sample mean. Allow 10% for the Monte Carlo error of 2000 replicates. */
    enum { N = 4000, B = 2000 };
    static double v[N], m[B];
    gsl_rng *r = rng(5);
    for (int i = 0; i < N; i++)
        v[i] = gsl_rng_uniform(r);
    hb_sort(v, N);
    hb_group g = {v, N};
    gsl_rng *s = rng(1), *c = rng(2);
    hb_boot_mean_quantile(&g, 1, B, 0.99, s, c, m, NULL);
    double mean = hb_mean(v, N);
    hb_ci ci = hb_boot_percentile_ci(m, B, 0.95);
    double half = 1.959964 * sqrt(1.0 / 12.0) / sqrt((double)N);
    ck_assert(ci.lo < mean && mean < ci.hi);
    ck_assert_double_eq_tol((ci.hi - ci.lo) / 2.0, half, 0.1 * half);
    gsl_rng_free(r);
    gsl_rng_free(s);
    gsl_rng_free(c);
}
END_TEST

START_TEST(bootstrap_pairs_by_seed)
{
    /* A policy 1.2 times its baseline seed by seed, constant within a seed; seeds differ a lot.
     * Paired (the same seed generator state for both), every replicate's ratio is exactly 1.2, so
     * the change's interval is [20%, 20%]; unpaired, it is wide because seeds differ. */
    enum { B = 2000 };
    double b0[] = {10, 10}, b1[] = {50, 50}, b2[] = {90, 90, 90};
    double p0[] = {12, 12}, p1[] = {60, 60}, p2[] = {108, 108, 108};
    hb_group base[] = {{b0, 2}, {b1, 2}, {b2, 3}}, pol[] = {{p0, 2}, {p1, 2}, {p2, 3}};
    static double mb[B], mp[B], ch[B];
    gsl_rng *s = rng(42), *c = rng(43);
    hb_boot_mean_quantile(base, 3, B, 0.99, s, c, mb, NULL);
    gsl_rng_set(s, 42);
    hb_boot_mean_quantile(pol, 3, B, 0.99, s, c, mp, NULL);
    hb_change_pct(mp, mb, B, ch);
    hb_ci ci = hb_boot_percentile_ci(ch, B, 0.95);
    ck_assert_double_eq_tol(ci.lo, 20.0, 1e-9);
    ck_assert_double_eq_tol(ci.hi, 20.0, 1e-9);
    gsl_rng_set(s, 42);
    hb_boot_mean_quantile(base, 3, B, 0.99, s, c, mb, NULL);
    gsl_rng_set(s, 4242);   /* unpaired: independent seed draws */
    hb_boot_mean_quantile(pol, 3, B, 0.99, s, c, mp, NULL);
    hb_change_pct(mp, mb, B, ch);
    ci = hb_boot_percentile_ci(ch, B, 0.95);
    ck_assert(ci.lo < 0.0 && ci.hi > 100.0);
    gsl_rng_free(s);
    gsl_rng_free(c);
}
END_TEST

START_TEST(bootstrap_edge_cases)
{
    enum { B = 2000 };
    static double m[B], q[B];
    gsl_rng *s = rng(1), *c = rng(2);
    /* every call failed: no values in any seed -> every replicate undefined -> no interval */
    hb_group none[] = {{NULL, 0}, {NULL, 0}};
    ck_assert_int_eq(hb_boot_mean_quantile(none, 2, B, 0.99, s, c, m, q), 0);
    ck_assert(isnan(m[0]) && isnan(q[B - 1]));
    hb_ci ci = hb_boot_percentile_ci(m, B, 0.95);
    ck_assert(isnan(ci.lo) && isnan(ci.hi));
    ck_assert_int_eq(hb_boot_mean_quantile(none, 0, B, 0.99, s, c, m, q), 0);
    ck_assert(isnan(m[0]));
    /* one value: the interval is that value */
    double one[] = {4.5};
    hb_group g1 = {one, 1};
    hb_boot_mean_quantile(&g1, 1, B, 0.99, s, c, m, q);
    ci = hb_boot_percentile_ci(q, B, 0.95);
    ck_assert_double_eq(ci.lo, 4.5);
    ck_assert_double_eq(ci.hi, 4.5);
    /* a seed without successes among seeds with some: replicates that draw only it are NAN, and
     * then the interval is not given rather than computed from a biased subset */
    double v[] = {1, 2};
    hb_group half[] = {{v, 2}, {NULL, 0}};
    hb_boot_mean_quantile(half, 2, B, 0.5, s, c, m, q);
    ci = hb_boot_percentile_ci(m, B, 0.95);
    ck_assert(isnan(ci.lo));
    ck_assert(isnan(hb_boot_percentile_ci(m, 0, 0.95).lo));
    gsl_rng_free(s);
    gsl_rng_free(c);
}
END_TEST

START_TEST(bootstrap_share_and_ratio)
{
    enum { B = 3000 };
    static double rep[B];
    gsl_rng *s = rng(1), *c = rng(2);
    /* all successes: the share is 1 in every replicate */
    size_t hits[] = {10, 20}, tot[] = {10, 20};
    hb_boot_share(hits, tot, 2, B, s, c, rep);
    hb_ci ci = hb_boot_percentile_ci(rep, B, 0.95);
    ck_assert_double_eq(ci.lo, 1.0);
    ck_assert_double_eq(ci.hi, 1.0);
    /* one seed of 400 calls, 100 hits: Bin(400, 1/4)/400 has sd sqrt(.25*.75/400) = 0.02165, so the
     * interval is about 0.25 +- 0.0424 */
    size_t h1[] = {100}, t1[] = {400};
    hb_boot_share(h1, t1, 1, B, s, c, rep);
    ci = hb_boot_percentile_ci(rep, B, 0.95);
    ck_assert_double_eq_tol(ci.lo, 0.25 - 0.0424, 0.006);
    ck_assert_double_eq_tol(ci.hi, 0.25 + 0.0424, 0.006);
    /* ratio of sums over seeds: seeds (1/2) and (2/2): a replicate is 2/4, 3/4 or 4/4 with
     * probabilities 1/4, 1/2, 1/4 -> the 95% interval is [0.5, 1] */
    double num[] = {1, 2}, den[] = {2, 2};
    hb_boot_ratio(num, den, 2, B, s, rep);
    int seen[3] = {0, 0, 0};
    for (int b = 0; b < B; b++) {
        int k = (int)lround(rep[b] * 4.0) - 2;
        ck_assert(k >= 0 && k <= 2 && fabs(rep[b] * 4.0 - lround(rep[b] * 4.0)) < EPS);
        seen[k]++;
    }
    ck_assert(seen[0] > 600 && seen[0] < 900 && seen[1] > 1300 && seen[2] > 600);
    ci = hb_boot_percentile_ci(rep, B, 0.95);
    ck_assert_double_eq(ci.lo, 0.5);
    ck_assert_double_eq(ci.hi, 1.0);
    /* unknown integrals give no interval */
    double nn[] = {NAN, 1};
    hb_boot_ratio(nn, den, 2, B, s, rep);
    ck_assert(isnan(hb_boot_percentile_ci(rep, B, 0.95).lo));
    gsl_rng_free(s);
    gsl_rng_free(c);
}
END_TEST

START_TEST(change_pct_definition)
{
    /* BRIEF section 8: (policy - baseline) / baseline x 100 */
    ck_assert_double_eq_tol(hb_change_pct1(80.0, 100.0), -20.0, EPS);
    ck_assert_double_eq_tol(hb_change_pct1(120.0, 100.0), 20.0, EPS);
    ck_assert(isnan(hb_change_pct1(1.0, 0.0)));
    ck_assert(isnan(hb_change_pct1(NAN, 1.0)));
    double a[] = {2, 3}, b[] = {1, 0}, o[2];
    hb_change_pct(a, b, 2, o);
    ck_assert_double_eq_tol(o[0], 100.0, EPS);
    ck_assert(isnan(o[1]));
}
END_TEST

START_TEST(rng_index_is_uniform_and_in_range)
{
    gsl_rng *r = rng(9);
    int cnt[7] = {0};
    for (int i = 0; i < 70000; i++) {
        size_t k = hb_rng_index(r, 7);
        ck_assert_uint_lt(k, 7);
        cnt[k]++;
    }
    for (int k = 0; k < 7; k++)   /* 10000 expected, sd ~93 */
        ck_assert_msg(cnt[k] > 9500 && cnt[k] < 10500, "bucket %d: %d", k, cnt[k]);
    ck_assert_uint_eq(hb_rng_index(r, 1), 0);
    gsl_rng_free(r);
}
END_TEST

/* ---- the paired bootstrap and the seed-level test ---- */

START_TEST(paired_bootstrap_draws_the_same_calls_for_both)
{
    /* b = 2a call by call: every replicate's mean (and quantile) ratio is exactly 2 only if both
     * sides were evaluated on the same drawn indices; group 2 has no censored values. */
    double a1[5] = {10, 20, 30, 40, 1000}, b1[5] = {20, 40, 60, 80, 2000};
    double a2[3] = {5, 7, 9}, b2[3] = {10, 14, 18};
    hb_pair_group g[2] = {{a1, b1, a1, b1, 5}, {a2, b2, NULL, NULL, 3}};
    size_t B = 2000;
    double *rep[HB_PR_N];
    for (int j = 0; j < HB_PR_N; j++)
        rep[j] = malloc(B * sizeof(double));
    gsl_rng *sr = gsl_rng_alloc(gsl_rng_mt19937), *cr = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(sr, 5);
    gsl_rng_set(cr, 6);
    ck_assert_int_eq(hb_boot_paired(g, 2, B, 0.99, sr, cr, rep), 0);
    int varied = 0;
    for (size_t b = 0; b < B; b++) {
        ck_assert_double_eq_tol(rep[HB_PR_MEAN_B][b], 2.0 * rep[HB_PR_MEAN_A][b],
                                1e-9 * rep[HB_PR_MEAN_B][b]);
        ck_assert_double_eq_tol(rep[HB_PR_Q_B][b], 2.0 * rep[HB_PR_Q_A][b], 1e-9 * rep[HB_PR_Q_B][b]);
        /* censored: NAN whenever group 2 (no censored values) was drawn */
        varied |= rep[HB_PR_MEAN_A][b] != rep[HB_PR_MEAN_A][0];
    }
    ck_assert(varied);   /* the replicates do differ */
    /* with only group 1 (K = 1) the censored means are defined and paired too */
    gsl_rng_set(sr, 5);
    ck_assert_int_eq(hb_boot_paired(g, 1, B, 0.99, sr, cr, rep), 0);
    for (size_t b = 0; b < B; b++)
        ck_assert_double_eq_tol(rep[HB_PR_CMEAN_B][b], 2.0 * rep[HB_PR_CMEAN_A][b],
                                1e-9 * rep[HB_PR_CMEAN_B][b]);
    /* a failed call (NAN) is left out of its own side only */
    double a3[2] = {NAN, 4}, b3[2] = {6, 8};
    hb_pair_group g3 = {a3, b3, NULL, NULL, 2};
    ck_assert_int_eq(hb_boot_paired(&g3, 1, B, 0.5, sr, cr, rep), 0);
    for (size_t b = 0; b < B; b++) {
        ck_assert(isnan(rep[HB_PR_MEAN_A][b]) || rep[HB_PR_MEAN_A][b] == 4.0);
        ck_assert(rep[HB_PR_MEAN_B][b] >= 6.0 && rep[HB_PR_MEAN_B][b] <= 8.0);
        ck_assert(isnan(rep[HB_PR_CMEAN_A][b]));
    }
    for (int j = 0; j < HB_PR_N; j++)
        free(rep[j]);
    gsl_rng_free(sr);
    gsl_rng_free(cr);
}
END_TEST

START_TEST(paired_bootstrap_tail_selection_is_exact)
{
    /* hb_boot_paired selects a high quantile among a replicate's values above a threshold (falling
     * back to all values when the ranks lie below it): each side must equal the naive replicate
     * (the same draws, sorted) exactly, for quantiles with and without the tail, and with the
     * fallback exercised by two seeds on very different scales; side b is ordered otherwise. */
    enum { B = 400, N0 = 500, N1 = 300 };
    static double a0[N0], a1[N1], b0[N0], b1[N1], rp[HB_PR_N][B], mn[B], qa[B], qb[B];
    gsl_rng *r = rng(4);
    for (int i = 0; i < N0; i++) {
        a0[i] = 10.0 + floor(gsl_rng_uniform(r) * 50.0);   /* ties */
        b0[i] = 5000.0 - a0[i] * 7;
    }
    for (int i = 0; i < N1; i++) {
        a1[i] = 1000.0 + gsl_rng_uniform(r) * 1000.0;
        b1[i] = gsl_rng_uniform(r) * 100.0;
    }
    hb_pair_group g[] = {{a0, b0, NULL, NULL, N0}, {a1, b1, NULL, NULL, N1}};
    hb_group ga[] = {{a0, N0}, {a1, N1}}, gb[] = {{b0, N0}, {b1, N1}};
    double *rep[HB_PR_N];
    for (int j = 0; j < HB_PR_N; j++)
        rep[j] = rp[j];
    double qs[] = {0.99, 0.999, 0.5, 0.95, 1.0, 0.0};
    for (size_t t = 0; t < N_OF(qs); t++) {
        gsl_rng *s1 = rng(100 + t), *c1 = rng(200 + t);
        ck_assert_int_eq(hb_boot_paired(g, 2, B, qs[t], s1, c1, rep), 0);
        for (int side = 0; side < 2; side++) {
            gsl_rng *s2 = rng(100 + t), *c2 = rng(200 + t);
            naive_replicates(side ? gb : ga, 2, B, qs[t], s2, c2, mn, side ? qb : qa);
            gsl_rng_free(s2);
            gsl_rng_free(c2);
        }
        for (int b = 0; b < B; b++) {
            ck_assert_msg(rep[HB_PR_Q_A][b] == qa[b], "q=%g b=%d: a %.17g vs %.17g", qs[t], b,
                          rep[HB_PR_Q_A][b], qa[b]);
            ck_assert_msg(rep[HB_PR_Q_B][b] == qb[b], "q=%g b=%d: b %.17g vs %.17g", qs[t], b,
                          rep[HB_PR_Q_B][b], qb[b]);
        }
        gsl_rng_free(s1);
        gsl_rng_free(c1);
    }
    gsl_rng_free(r);
}
END_TEST

START_TEST(signflip_exact_by_hand)
{
    /* all of one sign: only the two all-same-sign assignments reach |sum|: p = 2 / 2^n */
    double d5[5] = {-1, -2, -3, -4, -5};
    hb_signflip r = hb_signflip_test(d5, 5, NULL);
    ck_assert(r.exact);
    ck_assert_uint_eq(r.n, 5);
    ck_assert_double_eq_tol(r.p, 0.0625, 1e-15);
    ck_assert_double_eq_tol(r.mean_diff, -3.0, 1e-15);
    /* {3, -1, 2}: the 8 sums +-3+-1+-2 are 6,2,4,0,0,4,2,6 (|.|); T = 4 is reached by 4: p = 0.5 */
    double d3[3] = {3, -1, 2};
    ck_assert_double_eq_tol(hb_signflip_test(d3, 3, NULL).p, 0.5, 1e-15);
    /* symmetric: every assignment reaches T = 0 */
    double d2[2] = {1, -1};
    ck_assert_double_eq_tol(hb_signflip_test(d2, 2, NULL).p, 1.0, 1e-15);
    double z[3] = {0, 0, 0};
    ck_assert_double_eq(hb_signflip_test(z, 3, NULL).p, 1.0);
    ck_assert(isnan(hb_signflip_test(z, 0, NULL).p));
    /* 21 seeds: Monte Carlo from the generator, close to the exact 2 / 2^21 */
    double d21[21];
    for (int i = 0; i < 21; i++)
        d21[i] = 1.0 + i;
    gsl_rng *r21 = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r21, 1);
    hb_signflip m = hb_signflip_test(d21, 21, r21);
    ck_assert(!m.exact);
    ck_assert(m.p > 0 && m.p < 1e-4);
    gsl_rng_free(r21);
}
END_TEST

HB_TEST_MAIN("stats", quantile_matches_brief_definition,
             paired_bootstrap_draws_the_same_calls_for_both,
             paired_bootstrap_tail_selection_is_exact, signflip_exact_by_hand,
             quantile_and_mean_edge_cases, median_ci_le_boudec,
             mann_whitney_hand_example_with_ties, mann_whitney_separated_samples,
             mann_whitney_edge_cases, cliffs_delta_hand_and_brute_force, wilcoxon_exact_by_hand,
             wilcoxon_exact_table_value, wilcoxon_zeros_and_ties, wilcoxon_normal_approximation,
             holm_small_vector, bootstrap_is_deterministic_for_a_seed,
             bootstrap_tail_selection_is_exact, bootstrap_resamples_seeds_not_only_calls,
             bootstrap_single_seed_matches_normal_theory, bootstrap_pairs_by_seed,
             bootstrap_edge_cases, bootstrap_share_and_ratio, change_pct_definition,
             rng_index_is_uniform_and_in_range)
