/* stats.h - the statistics behind `harvestbench compare` and `check` (BRIEF section 8).
 *
 * Built on GSL where GSL has the piece: sorting, quantiles (gsl_stats_quantile_from_sorted_data,
 * i.e. linear interpolation between closest ranks, numpy's default), selection, the normal and
 * binomial distributions, and the mt19937 generator. Hand-written here, because GSL has no such
 * routine: the Mann-Whitney U test, Cliff's delta, the Wilcoxon signed-rank test (exact and normal),
 * the Holm correction, Le Boudec's order-statistic interval for the median, and the two-stage
 * (seeds, then invocations) bootstrap. docs/statistics.md gives every definition and its source.
 *
 * Conventions: a statistic that is undefined for its input (the mean of nothing, a test on an
 * empty sample, an interval that needs more data) is NAN; writers print NAN as JSON null or "n/a",
 * never as a number. No function here aborts or allocates behind the caller's back except where it
 * says so (and then it reports failure by its return value). */
#ifndef HB_STATS_H
#define HB_STATS_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

/* An interval; both ends NAN when it is undefined. */
typedef struct hb_ci {
    double lo, hi;
} hb_ci;

/* Sorts ascending in place (gsl_sort). NAN must not be present. */
void hb_sort(double *x, size_t n);

/* Quantile f in [0,1] of ascending data, interpolating linearly between the closest ranks:
 * with h = (n-1) f, x[floor h] + (h - floor h)(x[floor h + 1] - x[floor h]). NAN when n == 0. */
double hb_quantile_sorted(const double *sorted, size_t n, double f);

/* Arithmetic mean; NAN when n == 0. */
double hb_mean(const double *x, size_t n);

/* Le Boudec's distribution-free confidence interval for the median of ascending data (Le Boudec,
 * Performance Evaluation of Computer and Communication Systems, 2010, Theorem 2.1 and Table A.1):
 * the order statistics x_(j) and x_(k) (1-based ranks). For n < 71, j is the largest rank with
 * P(Bin(n, 1/2) <= j - 1) <= (1 - level)/2 and k = n + 1 - j (exact); for n >= 71, the normal
 * approximation j = floor(n/2 - z sqrt(n)/2), k = ceil(n/2 + 1 + z sqrt(n)/2). level is 0.95 or
 * 0.99. Both ends NAN when no such ranks exist (n < 6 at 95%). The ranks used are returned in
 * *j and *k when not NULL (0 when undefined). */
hb_ci hb_median_ci(const double *sorted, size_t n, double level, size_t *j, size_t *k);

/* Mann-Whitney U test of sample x against sample y, two-sided (Mann and Whitney 1947), with
 * midranks for ties, the tie-corrected variance and a continuity correction of 1/2:
 *   U = R_x - n_x (n_x + 1) / 2  (R_x: sum of the midranks of x in the pooled sample)
 *     = #{x_i > y_j} + #{x_i = y_j} / 2,
 *   sigma^2 = n_x n_y / 12 ((N + 1) - sum(t^3 - t) / (N (N - 1))),
 *   z = sign(U - n_x n_y / 2) max(0, |U - n_x n_y / 2| - 1/2) / sigma,  p = min(1, 2 Phi(-|z|)).
 * Both inputs ascending. When either sample is empty every field is NAN. When the pooled sample is
 * all ties (sigma = 0) there is no evidence of a difference: z = 0 and p = 1. */
typedef struct hb_mwu {
    double u;          /* U of x */
    double z;
    double p;          /* two-sided */
} hb_mwu;
hb_mwu hb_mann_whitney(const double *x_sorted, size_t nx, const double *y_sorted, size_t ny);

/* Cliff's delta (Cliff 1993): (#{x_i > y_j} - #{x_i < y_j}) / (n_x n_y), in [-1, 1]; negative when x
 * tends to be smaller. Both inputs ascending; one merge pass, O(n_x + n_y). NAN if either is empty. */
double hb_cliffs_delta(const double *x_sorted, size_t nx, const double *y_sorted, size_t ny);

/* Wilcoxon signed-rank test (Wilcoxon 1945) on paired differences d[0..n), two-sided.
 * Zero differences are dropped (Wilcoxon's own convention; scipy's zero_method="wilcox");
 * tied |d| share their midrank. The p-value is exact when at most HB_WILCOXON_EXACT_MAX differences
 * remain: the permutation distribution of W+ over all 2^n sign assignments of the actual
 * (mid)ranks, which stays exact with ties; beyond that, the normal approximation with the tie
 * correction sigma^2 = n(n+1)(2n+1)/24 - sum(t^3 - t)/48 and a continuity correction of 1/2.
 * p = min(1, 2 min(P(W+ <= w), P(W+ >= w))). With n = 0 pairs every field is NAN; when every
 * difference is zero, n_used = 0, w_plus = 0 and p = 1. */
#define HB_WILCOXON_EXACT_MAX 50
typedef struct hb_wilcoxon {
    double w_plus;     /* sum of the ranks of the positive differences */
    double w_minus;    /* ... of the negative ones */
    double p;
    size_t n_used;     /* non-zero differences */
    int exact;         /* 1 if p is exact */
} hb_wilcoxon;
int hb_wilcoxon_signed_rank(const double *d, size_t n, hb_wilcoxon *out);  /* -1: out of memory */

/* Holm's step-down adjustment (Holm 1979) of m p-values: with p_(1) <= ... <= p_(m),
 * adj_(i) = max over l <= i of min(1, (m - l + 1) p_(l)). NAN p-values are left out of the family
 * (their adjusted value is NAN and they do not count in m). adj may alias p. */
int hb_holm(const double *p, size_t m, double *adj);  /* -1: out of memory */

/* Percentile interval of bootstrap replicates: the (1-level)/2 and (1+level)/2 quantiles (same
 * definition as hb_quantile_sorted). Sorts rep in place. NAN ends if B == 0 or any replicate is NAN
 * (a replicate is undefined when it drew no data, e.g. only seeds without successful calls). */
hb_ci hb_boot_percentile_ci(double *rep, size_t B, double level);

/* ---- the two-stage bootstrap ----
 *
 * Data are grouped by seed: group k holds the values of one run, which are not independent of one
 * another, while runs are. One replicate draws K groups with replacement (K uniform draws from
 * seed_rng, nothing else from it), then, within each drawn group of n values, n values with
 * replacement (from call_rng), and computes the statistic of the pooled draw. Pairing: two calls
 * whose seed_rng were set to the same seed with the same K draw the same group indices, replicate by
 * replicate, which is how a policy and its baseline are resampled by the same seeds (the trace of
 * seed k is the same for every policy). Deterministic for given generator states.
 * Both generators must have the full 32-bit range (gsl_rng_mt19937 does). */

typedef struct hb_group {
    const double *v;   /* ascending */
    size_t n;
} hb_group;

/* A uniform index in [0, n), 1 <= n <= 2^32, drawn as the bootstrap draws: Lemire's multiply-shift
 * with rejection (unbiased) on a full 32-bit generator, gsl_rng_uniform_int on any other. */
size_t hb_rng_index(gsl_rng *r, size_t n);

/* B replicates of the pooled mean (mean_rep) and of the pooled quantile q (q_rep; may be NULL).
 * Returns 0, or -1 when out of memory. Replicates that drew no value are NAN. */
int hb_boot_mean_quantile(const hb_group *g, size_t K, size_t B, double q, gsl_rng *seed_rng,
                          gsl_rng *call_rng, double *mean_rep, double *q_rep);

/* B replicates of a share: group k has hits[k] successes among total[k] trials. Resampling n 0/1
 * values with replacement gives Bin(n, hits/n) hits, which is drawn directly (gsl_ran_binomial from
 * call_rng): exact and O(K) per replicate. */
void hb_boot_share(const size_t *hits, const size_t *total, size_t K, size_t B, gsl_rng *seed_rng,
                   gsl_rng *call_rng, double *rep);

/* B replicates of a ratio of sums over resampled groups only, sum num / sum den (e.g. used over
 * allocated core-seconds; a run's integral has no lower level to resample). NAN where any drawn
 * den or num is NAN or the sum of den is 0. */
void hb_boot_ratio(const double *num, const double *den, size_t K, size_t B, gsl_rng *seed_rng,
                   double *rep);

/* ---- the paired bootstrap (by invocation) ----
 *
 * When invocation i of seed k is the same call under a policy and its baseline (same arrival, size
 * and work draw: common random numbers), the two are resampled together: a replicate draws K seeds
 * with replacement (from seed_rng: K draws, as above, so the seeds match hb_boot_ratio's), then,
 * within each drawn seed of n calls, n call indices with replacement (from call_rng), and evaluates
 * both the policy and the baseline on the SAME indices. Group k holds, index-aligned, a[i] and b[i]:
 * the latency of call i under each (NAN where it failed) and ca[i], cb[i]: its censored latency
 * (a failed call at its timeout; NULL when unknown). Per replicate it writes the success-only mean
 * and q-quantile, the censored mean and the success share of each side (NAN when the draw holds
 * no value). */
typedef struct hb_pair_group {
    const double *a, *b;
    const double *ca, *cb;   /* may be NULL (then the censored replicates are NAN) */
    size_t n;
} hb_pair_group;

enum { HB_PR_MEAN_A, HB_PR_MEAN_B, HB_PR_Q_A, HB_PR_Q_B, HB_PR_CMEAN_A, HB_PR_CMEAN_B,
       HB_PR_SUCC_A, HB_PR_SUCC_B, HB_PR_N };

/* rep[j] holds B replicates for each j < HB_PR_N. Returns 0, or -1 when out of memory. */
int hb_boot_paired(const hb_pair_group *g, size_t K, size_t B, double q, gsl_rng *seed_rng,
                   gsl_rng *call_rng, double *const rep[HB_PR_N]);

/* ---- the seed-level paired test ----
 *
 * Sign-flip permutation test (Fisher 1935; Good, Permutation Tests, 2005, ch. 3) of n paired
 * differences d (one per seed, policy minus baseline): under H0 (no effect), each seed's difference
 * is as likely to have either sign, so the reference distribution of T = |sum d| is over all 2^n
 * sign assignments. p = #{assignments with |sum s_i d_i| >= T} / 2^n (a relative tolerance of 1e-9
 * counts equal sums as equal): exact for n <= HB_SIGNFLIP_EXACT_MAX; above, 2^17 random
 * assignments from rng, p = (1 + count) / (1 + 2^17). Two-sided. The smallest possible p is
 * 2 / 2^n: 0.0625 with 5 seeds. With n = 0 p is NAN; when every difference is 0, p = 1. */
#define HB_SIGNFLIP_EXACT_MAX 20
typedef struct hb_signflip {
    double mean_diff;      /* mean of d */
    double p;
    size_t n;
    int exact;
} hb_signflip;
hb_signflip hb_signflip_test(const double *d, size_t n, gsl_rng *rng);

/* Relative change in percent, replicate by replicate: 100 (a[b] - b[b]) / b[b] (NAN where b is 0
 * or either is NAN), into out (may alias a). */
void hb_change_pct(const double *a, const double *b, size_t B, double *out);

/* 100 (a - b) / b, NAN if either is NAN or b == 0. */
double hb_change_pct1(double a, double b);

#endif
