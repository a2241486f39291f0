/* report.c - comparison.{json,csv,md} and the console tables (see report.h). */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "atomic_file.h"
#include "files.h"
#include "version.h"


/* ---- number formatting for people (the JSON and CSV keep full precision) ---- */

#define NA "n/a"

static const char *fmt_ms(char *b, size_t n, double v)
{
    if (isnan(v))
        snprintf(b, n, NA);
    else if (fabs(v) >= 1000)
        snprintf(b, n, "%.0f", v);
    else if (fabs(v) >= 100)
        snprintf(b, n, "%.1f", v);
    else if (fabs(v) >= 1)
        snprintf(b, n, "%.2f", v);
    else
        snprintf(b, n, "%.3g", v);
    return b;
}

static const char *fmt_ms_ci(char *b, size_t n, double v, hb_ci ci)
{
    char x[32], lo[32], hi[32];
    if (isnan(ci.lo))
        snprintf(b, n, "%s", fmt_ms(x, sizeof x, v));
    else
        snprintf(b, n, "%s [%s, %s]", fmt_ms(x, sizeof x, v), fmt_ms(lo, sizeof lo, ci.lo),
                 fmt_ms(hi, sizeof hi, ci.hi));
    return b;
}

static const char *fmt_share(char *b, size_t n, double v)
{
    if (isnan(v))
        snprintf(b, n, NA);
    else
        snprintf(b, n, "%.1f%%", 100.0 * v);
    return b;
}

static const char *fmt_change(char *b, size_t n, const hb_change *c)
{
    if (isnan(c->pct))
        snprintf(b, n, NA);
    else if (isnan(c->ci.lo))
        snprintf(b, n, "%+.1f%%", c->pct);
    else
        snprintf(b, n, "%+.1f%% [%+.1f, %+.1f]", c->pct, c->ci.lo, c->ci.hi);
    return b;
}

static const char *fmt_p(char *b, size_t n, double p)
{
    if (isnan(p))
        snprintf(b, n, NA);
    else if (p < 1e-300)
        snprintf(b, n, "<1e-300");
    else if (p < 1e-4)
        snprintf(b, n, "%.1e", p);
    else
        snprintf(b, n, "%.4f", p);
    return b;
}

static const char *fmt_num(char *b, size_t n, double v, const char *f)
{
    if (isnan(v))
        snprintf(b, n, NA);
    else
        snprintf(b, n, f, v);
    return b;
}

/* ---- tables ---- */

#define TCOLS 12
#define TCELL 64

typedef struct table {
    size_t rows, cols;
    char (*c)[TCOLS][TCELL];
} table;

static int tab_init(table *t, size_t rows, size_t cols, const char *const *head)
{
    t->rows = rows + 1;
    t->cols = cols;
    t->c = calloc(t->rows, sizeof *t->c);
    if (!t->c)
        return -1;
    for (size_t j = 0; j < cols; j++)
        snprintf(t->c[0][j], TCELL, "%s", head[j]);
    return 0;
}

static void tab_set(table *t, size_t r, size_t c, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void tab_set(table *t, size_t r, size_t c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->c[r + 1][c], TCELL, fmt, ap);
    va_end(ap);
}

/* Prints a Markdown table with padded columns (readable as text, rendered as a table), then frees
 * it. */
static void tab_print_free(table *t, FILE *f)
{
    size_t w[TCOLS] = {0};
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < t->cols; c++) {
            size_t len = strlen(t->c[r][c]);
            if (len > w[c])
                w[c] = len;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c < t->cols; c++) {
            if (c == 0)
                fprintf(f, "| %-*s ", (int)w[c], t->c[r][c]);
            else
                fprintf(f, "| %*s ", (int)w[c], t->c[r][c]);
        }
        fprintf(f, "|\n");
        if (r == 0) {
            for (size_t c = 0; c < t->cols; c++) {
                fputs("|", f);
                for (size_t k = 0; k < w[c] + 2; k++)
                    fputc(k == w[c] + 1 && c > 0 ? ':' : '-', f);
            }
            fprintf(f, "|\n");
        }
    }
    free(t->c);
}

static void table_latency(const hb_comparison *c, FILE *f)
{
    static const char *const head[] = {"policy", "calls", "seeds", "success", "mean ms [95% CI]",
                                       "p50 ms [95% CI]", "p90 ms", "p95 ms", "p99 ms [95% CI]",
                                       "max ms", "slowdown"};
    table t;
    if (tab_init(&t, c->n, 11, head))
        return;
    char a[TCELL];
    for (size_t i = 0; i < c->n; i++) {
        const hb_policy_stats *s = &c->st[i];
        tab_set(&t, i, 0, "%s%s", s->name, i == c->base ? " (baseline)" : "");
        tab_set(&t, i, 1, "%zu", s->calls);
        tab_set(&t, i, 2, "%zu", s->seeds);
        tab_set(&t, i, 3, "%s", fmt_share(a, sizeof a, s->success_share));
        tab_set(&t, i, 4, "%s", fmt_ms_ci(a, sizeof a, s->lat_mean, s->mean_ci));
        tab_set(&t, i, 5, "%s", fmt_ms_ci(a, sizeof a, s->lat_p50, s->p50_ci));
        tab_set(&t, i, 6, "%s", fmt_ms(a, sizeof a, s->lat_p90));
        tab_set(&t, i, 7, "%s", fmt_ms(a, sizeof a, s->lat_p95));
        tab_set(&t, i, 8, "%s", fmt_ms_ci(a, sizeof a, s->lat_p99, s->p99_ci));
        tab_set(&t, i, 9, "%s", fmt_ms(a, sizeof a, s->lat_max));
        tab_set(&t, i, 10, "%s", fmt_num(a, sizeof a, s->slowdown_mean, "%.2f"));
    }
    tab_print_free(&t, f);
}

/* Censored latency: every call, a failed one at its timeout, beside the success-only mean. */
static void table_censored(const hb_comparison *c, FILE *f)
{
    static const char *const head[] = {"policy", "calls", "failed", "censored mean ms [95% CI]",
                                       "censored p50 ms", "censored p99 ms",
                                       "mean ms (successful only)"};
    table t;
    if (tab_init(&t, c->n, 7, head))
        return;
    char a[TCELL];
    for (size_t i = 0; i < c->n; i++) {
        const hb_policy_stats *s = &c->st[i];
        tab_set(&t, i, 0, "%s%s", s->name, i == c->base ? " (baseline)" : "");
        tab_set(&t, i, 1, "%zu", s->calls);
        tab_set(&t, i, 2, "%zu", s->calls - s->outcomes[HB_OUT_SUCCESS]);
        tab_set(&t, i, 3, "%s", fmt_ms_ci(a, sizeof a, s->cens_mean, s->cens_mean_ci));
        tab_set(&t, i, 4, "%s", fmt_ms(a, sizeof a, s->cens_p50));
        tab_set(&t, i, 5, "%s", fmt_ms(a, sizeof a, s->cens_p99));
        tab_set(&t, i, 6, "%s", fmt_ms(a, sizeof a, s->lat_mean));
    }
    tab_print_free(&t, f);
}

/* The headline: paired changes of every policy, the numbers of the forest plot. */
static void table_headline(const hb_comparison *c, FILE *f)
{
    static const char *const head[] = {"policy", "pairing", "mean latency [95% CI]",
                                       "p99 latency [95% CI]", "censored mean [95% CI]",
                                       "CPU util/capacity [95% CI]", "seed-level p (Holm)"};
    table t;
    if (tab_init(&t, c->n > 0 ? c->n - 1 : 0, 7, head))
        return;
    char a[TCELL], b[TCELL];
    size_t r = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (i == c->base)
            continue;
        const hb_vs_baseline *v = &c->vs[i];
        tab_set(&t, r, 0, "%s", c->st[i].name);
        tab_set(&t, r, 1, "%s", hb_pairing_names[v->pairing]);
        tab_set(&t, r, 2, "%s", fmt_change(a, sizeof a, &v->mean));
        tab_set(&t, r, 3, "%s", fmt_change(a, sizeof a, &v->p99));
        tab_set(&t, r, 4, "%s", fmt_change(a, sizeof a, &v->cens_mean));
        tab_set(&t, r, 5, "%s", fmt_change(a, sizeof a, &v->cpu_util_capacity));
        /* the censored mean's test; the mean's where no censored latency exists */
        int cens = !isnan(v->seed_cens_mean.p);
        tab_set(&t, r, 6, "%s (%s)%s",
                fmt_p(a, sizeof a, cens ? v->seed_cens_mean.p : v->seed_mean.p),
                fmt_p(b, sizeof b, cens ? v->seed_cens_mean_p_holm : v->seed_mean_p_holm),
                cens || isnan(v->seed_mean.p) ? "" : " mean");
        r++;
    }
    tab_print_free(&t, f);
}

static void table_resources(const hb_comparison *c, FILE *f)
{
    static const char *const head[] = {"policy",          "cold starts",     "CPU util/capacity",
                                       "mem util/capacity", "CPU util/alloc", "mem util/alloc",
                                       "harvested calls", "accelerated calls"};
    table t;
    if (tab_init(&t, c->n, 8, head))
        return;
    char a[TCELL];
    for (size_t i = 0; i < c->n; i++) {
        const hb_policy_stats *s = &c->st[i];
        tab_set(&t, i, 0, "%s", s->name);
        tab_set(&t, i, 1, "%s", fmt_share(a, sizeof a, s->cold_start_share));
        tab_set(&t, i, 2, "%s", fmt_share(a, sizeof a, s->cpu_util_capacity));
        tab_set(&t, i, 3, "%s", fmt_share(a, sizeof a, s->mem_util_capacity));
        if (s->cpu_share)
            tab_set(&t, i, 4, "n/a (share)");
        else
            tab_set(&t, i, 4, "%s", fmt_share(a, sizeof a, s->cpu_util_alloc));
        tab_set(&t, i, 5, "%s", fmt_share(a, sizeof a, s->mem_util_alloc));
        tab_set(&t, i, 6, "%s", fmt_share(a, sizeof a, s->harvested_share));
        tab_set(&t, i, 7, "%s", fmt_share(a, sizeof a, s->accelerated_share));
    }
    tab_print_free(&t, f);
}

/* The tests at the level of the independent units (seeds), and the other changes. */
static void table_vs(const hb_comparison *c, FILE *f)
{
    static const char *const head[] = {"policy",
                                       "pairing",
                                       "seeds",
                                       "mean diff ms/seed",
                                       "sign-flip p",
                                       "p (Holm)",
                                       "censored diff ms/seed",
                                       "sign-flip p",
                                       "p (Holm)",
                                       "Wilcoxon p",
                                       "success share change",
                                       "mem util/capacity change"};
    table t;
    if (tab_init(&t, c->n > 0 ? c->n - 1 : 0, 12, head))
        return;
    char a[TCELL];
    size_t r = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (i == c->base)
            continue;
        const hb_vs_baseline *v = &c->vs[i];
        tab_set(&t, r, 0, "%s", c->st[i].name);
        tab_set(&t, r, 1, "%s", hb_pairing_names[v->pairing]);
        tab_set(&t, r, 2, "%zu", v->seed_mean.n);
        tab_set(&t, r, 3, "%s", fmt_num(a, sizeof a, v->seed_mean.mean_diff, "%+.1f"));
        tab_set(&t, r, 4, "%s", fmt_p(a, sizeof a, v->seed_mean.p));
        tab_set(&t, r, 5, "%s", fmt_p(a, sizeof a, v->seed_mean_p_holm));
        tab_set(&t, r, 6, "%s", fmt_num(a, sizeof a, v->seed_cens_mean.mean_diff, "%+.1f"));
        tab_set(&t, r, 7, "%s", fmt_p(a, sizeof a, v->seed_cens_mean.p));
        tab_set(&t, r, 8, "%s", fmt_p(a, sizeof a, v->seed_cens_mean_p_holm));
        tab_set(&t, r, 9, "%s", fmt_p(a, sizeof a, v->wilcoxon.p));
        tab_set(&t, r, 10, "%s", fmt_change(a, sizeof a, &v->success_share));
        tab_set(&t, r, 11, "%s", fmt_change(a, sizeof a, &v->mem_util_capacity));
        r++;
    }
    tab_print_free(&t, f);
}

/* Descriptive only: pooled calls treated as independent. */
static void table_descriptive(const hb_comparison *c, FILE *f)
{
    static const char *const head[] = {"policy", "Mann-Whitney p (pooled)", "p (Holm)",
                                       "Cliff's delta"};
    table t;
    if (tab_init(&t, c->n > 0 ? c->n - 1 : 0, 4, head))
        return;
    char a[TCELL];
    size_t r = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (i == c->base)
            continue;
        const hb_vs_baseline *v = &c->vs[i];
        tab_set(&t, r, 0, "%s", c->st[i].name);
        tab_set(&t, r, 1, "%s", fmt_p(a, sizeof a, v->mwu.p));
        tab_set(&t, r, 2, "%s", fmt_p(a, sizeof a, v->p_holm));
        tab_set(&t, r, 3, "%s", fmt_num(a, sizeof a, v->cliffs_delta, "%+.3f"));
        r++;
    }
    tab_print_free(&t, f);
}

static void table_outcomes(const hb_comparison *c, FILE *f)
{
    static const char *const head[] = {"policy", "invocations", "success", "timeout",
                                       "oom",    "error",       "lost"};
    table t;
    if (tab_init(&t, c->n, 7, head))
        return;
    for (size_t i = 0; i < c->n; i++) {
        const hb_policy_stats *s = &c->st[i];
        tab_set(&t, i, 0, "%s", s->name);
        tab_set(&t, i, 1, "%zu", s->calls);
        for (int o = 0; o < HB_NOUTCOMES; o++)
            tab_set(&t, i, 2 + (size_t)o, "%zu", s->outcomes[o]);
    }
    tab_print_free(&t, f);
}

/* Romano et al. (2006) thresholds for |Cliff's delta|. */
static const char *effect_size(double d)
{
    double a = fabs(d);
    return a < 0.147 ? "negligible" : a < 0.33 ? "small" : a < 0.474 ? "medium" : "large";
}

/* Cliff's delta counts P(policy > baseline) - P(policy < baseline): its sign, in words. */
static const char *dominance(double d)
{
    return d < 0 ? "lower" : d > 0 ? "higher" : "neither lower nor higher";
}

static void words_change(FILE *f, const char *what, const hb_change *ch, int lower_is_better)
{
    if (isnan(ch->pct)) {
        fprintf(f, "%s: not comparable", what);
        return;
    }
    const char *dir = ch->pct < 0 ? "lower" : "higher";
    fprintf(f, "%s %.1f%% %s", what, fabs(ch->pct), dir);
    if (isnan(ch->ci.lo)) {
        fprintf(f, " (no interval)");
        return;
    }
    int sig = hb_change_significant(ch);
    const char *verdict = !sig ? "not significant"
                          : ((ch->pct < 0) == (lower_is_better != 0)) ? "significant, better"
                                                                       : "significant, worse";
    fprintf(f, " (95%% CI %+.1f%% to %+.1f%%: %s)", ch->ci.lo, ch->ci.hi, verdict);
}

static void words(const hb_comparison *c, FILE *f)
{
    const char *base = c->st[c->base].name;
    for (size_t i = 0; i < c->n; i++) {
        if (i == c->base)
            continue;
        const hb_policy_stats *s = &c->st[i];
        const hb_vs_baseline *v = &c->vs[i];
        char p1[32], p2[32];
        fprintf(f, "- **%s** against %s (paired by %s): ", s->name, base,
                hb_pairing_names[v->pairing]);
        words_change(f, "censored mean latency", &v->cens_mean, 1);
        fprintf(f, "; ");
        words_change(f, "mean latency of successful calls", &v->mean, 1);
        fprintf(f, "; ");
        words_change(f, "p99", &v->p99, 1);
        fprintf(f, "; ");
        words_change(f, "CPU utilization of capacity", &v->cpu_util_capacity, 0);
        fprintf(f, ".");
        int cens = !isnan(v->seed_cens_mean.p);
        const hb_signflip *sf = cens ? &v->seed_cens_mean : &v->seed_mean;
        if (v->pairing != HB_PAIR_NONE && !isnan(sf->p)) {
            fprintf(f, " Seed level (sign-flip over %zu seeds): %s p %s (Holm %s)", sf->n,
                    cens ? "censored mean" : "mean", fmt_p(p1, sizeof p1, sf->p),
                    fmt_p(p2, sizeof p2, cens ? v->seed_cens_mean_p_holm : v->seed_mean_p_holm));
            if (sf->exact && sf->n > 0 && sf->n <= 5)
                fprintf(f, " (with %zu seeds no p below %.4g is possible: the interval decides)",
                        sf->n, ldexp(2.0, -(int)sf->n));
            fprintf(f, ".");
        } else if (v->pairing == HB_PAIR_NONE) {
            fprintf(f, " Seeds differ from the baseline's: unpaired, no seed-level test.");
        }
        if (!isnan(v->cliffs_delta))
            fprintf(f, " Descriptive: Cliff's delta %+.2f (%s; %s's latencies tend to be %s).",
                    v->cliffs_delta, effect_size(v->cliffs_delta), s->name,
                    dominance(v->cliffs_delta));
        fprintf(f, "\n");
    }
}

static size_t excluded_all(const hb_comparison *c)
{
    size_t e = 0;
    for (size_t i = 0; i < c->n; i++)
        e += c->st[i].excluded;
    return e;
}

static const hb_plot *find_plot(const hb_plot_set *ps, const char *name)
{
    for (size_t i = 0; ps && i < ps->n; i++)
        if (strcmp(ps->plots[i].name, name) == 0)
            return &ps->plots[i];
    return NULL;
}

static void print_seeds(const hb_results *r, FILE *f)
{
    for (size_t k = 0; k < r->nseeds; k++)
        fprintf(f, "%s%.17g", k ? ", " : "", r->seeds[k]);
}

void hb_report_print(const hb_comparison *c, FILE *f)
{
    const hb_results *r = c->res;
    fprintf(f, "Comparison of %s (%s, %zu seed%s), baseline %s; 95%% intervals: bootstrap (%zu "
               "resamples of seeds, then calls), median: Le Boudec.\n\nLatency of successful "
               "invocations (all seeds pooled):\n",
            r->dir, *r->experiment ? r->experiment : "experiment", r->nseeds,
            r->nseeds == 1 ? "" : "s", c->st[c->base].name, c->opts.resamples);
    table_latency(c, f);
    fprintf(f, "\nCensored latency (every call; a failed call counts at its timeout):\n");
    table_censored(c, f);
    fprintf(f, "\nResources (utilization = used / capacity; used / allocated is n/a where CPU is a "
               "share):\n");
    table_resources(c, f);
    if (c->n > 1) {
        fprintf(f, "\nAgainst the baseline (%s); changes are (policy - baseline) / baseline, "
                   "95%% intervals from the paired bootstrap (the decision):\n",
                c->st[c->base].name);
        table_headline(c, f);
        fprintf(f, "\nSeed-level paired tests and other changes:\n");
        table_vs(c, f);
        fprintf(f, "\nDescriptive only (pooled calls treated as independent):\n");
        table_descriptive(c, f);
        fprintf(f, "\n");
        words(c, f);
    }
    fprintf(f, "\nOutcomes:\n");
    table_outcomes(c, f);
}

/* ---- comparison.md ---- */

int hb_report_md(const hb_comparison *c, const char *path, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, NULL, path, err);
    if (rc)
        return rc;
    FILE *f = a.f;
    const hb_results *r = c->res;
    const char *base = c->st[c->base].name;
    fprintf(f, "# Comparison: %s\n\n", *r->experiment ? r->experiment : r->dir);
    fprintf(f, "Run `%s`: backend %s, status %s, seeds ", r->dir, *r->backend ? r->backend : "?",
            *r->status ? r->status : "?");
    print_seeds(r, f);
    fprintf(f, "; harvestbench %s, commit %s. Baseline policy: **%s**.\n\n",
            *r->version ? r->version : "?", *r->git_commit ? r->git_commit : "?", base);
    fprintf(f, "Latency statistics pool the calls of every seed inside the statistics window "
               "(warmup %g s, drain %g s; %zu calls left out). Intervals are 95%%: a two-stage "
               "bootstrap (%zu resamples of the seeds, then of the invocations within each drawn "
               "seed; bootstrap seed %lu). Against the baseline, a policy that replayed the same "
               "calls is resampled **paired by invocation**: the same seeds and the same call "
               "indices for both, every change computed from that one draw. Changes are (policy - "
               "baseline) / baseline x 100. See docs/statistics.md for every definition and how "
               "to read these tables.\n\n",
            r->warmup_s, r->drain_s, excluded_all(c), c->opts.resamples, c->opts.seed);
    if (r->nwarnings || strcmp(r->status, "complete") != 0) {
        fprintf(f, "**Warnings**\n\n");
        if (strcmp(r->status, "complete") != 0)
            fprintf(f, "- the run's status is \"%s\", not complete\n", r->status);
        for (size_t i = 0; i < r->nwarnings; i++)
            fprintf(f, "- %s\n", r->warnings[i]);
        fprintf(f, "\n");
    }
    if (c->n > 1) {
        fprintf(f, "## Against the baseline (%s)\n\n", base);
        const hb_plot *fp = find_plot(c->plots, "forest");
        if (fp && fp->drawn)
            fprintf(f, "![%s](plots/forest.png)\n\n", fp->title);
        table_headline(c, f);
        fprintf(f, "\nThe decision is the interval: a change whose 95%% interval excludes 0 is "
                   "significant. `pairing` says how the policy was resampled with the baseline "
                   "(invocation, seed or none). The seed-level p comes from an exact sign-flip "
                   "permutation test of the per-seed differences of the censored mean (the seed is "
                   "the independent unit; with 5 seeds no p below 0.0625 exists).\n\n");
        words(c, f);
        fprintf(f, "\n### Seed-level paired tests and other changes\n\n");
        table_vs(c, f);
        fprintf(f, "\n### Descriptive statistics (not tests)\n\n");
        table_descriptive(c, f);
        fprintf(f, "\nMann-Whitney U and Cliff's delta pool the calls of all seeds as if they were "
                   "independent; they are not (calls of one run share the queue and the cluster), "
                   "so their p-values overstate the evidence. They describe how the two latency "
                   "distributions overlap; Holm adjusts over the %zu policies.\n\n",
                c->n - 1);
    }
    fprintf(f, "## Latency (ms, successful invocations)\n\n");
    table_latency(c, f);
    fprintf(f, "\n`slowdown` is the mean of latency / the function's duration alone at its user "
               "allocation, where that is known.\n\n");
    fprintf(f, "## Censored latency (ms, every call)\n\n");
    table_censored(c, f);
    fprintf(f, "\nA failed call (timeout, oom, error, lost) counts at its function's timeout "
               "(`timeout_s`), so a policy cannot look faster by failing its slow calls. n/a: the "
               "manifest does not give the timeouts.\n\n## Resources\n\n");
    table_resources(c, f);
    fprintf(f, "\nUtilization = used / capacity resource-seconds, pooled over seeds: the headline, "
               "defined the same way for every policy. Used / allocated is n/a (null in the JSON) "
               "for a policy whose CPU allocation is a share rather than a quota (`default`, stock "
               "OpenWhisk: a call may use idle cores, so used can exceed allocated). Harvested "
               "calls lent resources, accelerated calls received some.\n\n");
    fprintf(f, "## Outcomes\n\n");
    table_outcomes(c, f);
    fprintf(f, "\n## Plots\n\n");
    if (!c->plots) {
        fprintf(f, "Not drawn (--no-plots).\n");
    } else {
        if (c->plots->gnuplot_missing)
            fprintf(f, "gnuplot was not found, so no plot was drawn. The data files and gnuplot "
                       "scripts are in `plots/`: install gnuplot and run `gnuplot NAME.gp` there."
                       "\n\n");
        for (size_t i = 0; i < c->plots->n; i++) {
            const hb_plot *p = &c->plots->plots[i];
            if (strcmp(p->name, "forest") == 0 && p->drawn)
                continue;   /* shown first, above */
            if (p->drawn)
                fprintf(f, "### %s\n\n![%s](plots/%s.png)\n\n", p->title, p->title, p->name);
            else if (!c->plots->gnuplot_missing)
                fprintf(f, "- %s: not drawn (see plots/gnuplot.log; script plots/%s.gp)\n",
                        p->title, p->name);
        }
    }
    return hb_afile_commit(&a, err);
}

/* ---- comparison.csv ---- */

static void csv_num(FILE *f, double v)
{
    if (isnan(v))
        fputs(",", f);
    else
        fprintf(f, ",%.10g", v);
}

static void csv_change(FILE *f, const hb_change *ch)
{
    csv_num(f, ch->pct);
    csv_num(f, ch->ci.lo);
    csv_num(f, ch->ci.hi);
}

static const char csv_vs_head[] =
    "pairing,mean_change_pct,mean_change_ci_lo,mean_change_ci_hi,p99_change_pct,p99_change_ci_lo,"
    "p99_change_ci_hi,censored_mean_change_pct,censored_mean_change_ci_lo,"
    "censored_mean_change_ci_hi,success_share_change_pct,success_share_change_ci_lo,"
    "success_share_change_ci_hi,cpu_util_capacity_change_pct,cpu_util_capacity_change_ci_lo,"
    "cpu_util_capacity_change_ci_hi,mem_util_capacity_change_pct,mem_util_capacity_change_ci_lo,"
    "mem_util_capacity_change_ci_hi,cpu_util_alloc_change_pct,cpu_util_alloc_change_ci_lo,"
    "cpu_util_alloc_change_ci_hi,mem_util_alloc_change_pct,mem_util_alloc_change_ci_lo,"
    "mem_util_alloc_change_ci_hi,seed_n,seed_mean_diff_ms,seed_mean_p,seed_mean_p_holm,"
    "seed_censored_mean_diff_ms,seed_censored_mean_p,seed_censored_mean_p_holm,wilcoxon_w_plus,"
    "wilcoxon_n,wilcoxon_p,wilcoxon_p_holm,descriptive_mann_whitney_u,"
    "descriptive_mann_whitney_p,descriptive_mann_whitney_p_holm,descriptive_cliffs_delta";

int hb_report_csv(const hb_comparison *c, const char *path, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, NULL, path, err);
    if (rc)
        return rc;
    FILE *f = a.f;
    size_t nvs = 1;   /* fields of csv_vs_head */
    for (const char *p = csv_vs_head; *p; p++)
        nvs += *p == ',';
    fprintf(f, "policy,baseline,invocations,excluded_calls,seeds,successful,success,timeout,oom,"
               "error,lost,success_share,cold_start_share,latency_mean_ms,latency_mean_ci_lo,"
               "latency_mean_ci_hi,latency_p50_ms,latency_p50_ci_lo,latency_p50_ci_hi,"
               "latency_p90_ms,latency_p95_ms,latency_p99_ms,latency_p99_ci_lo,latency_p99_ci_hi,"
               "latency_max_ms,latency_censored_mean_ms,latency_censored_mean_ci_lo,"
               "latency_censored_mean_ci_hi,latency_censored_p50_ms,latency_censored_p99_ms,"
               "slowdown_mean,cpu_util_capacity,mem_util_capacity,cpu_util_alloc,mem_util_alloc,"
               "cpu_alloc_is_share,harvested_share,accelerated_share,%s\n", csv_vs_head);
    for (size_t i = 0; i < c->n; i++) {
        const hb_policy_stats *s = &c->st[i];
        fprintf(f, "%s,%d,%zu,%zu,%zu,%zu", s->name, i == c->base, s->calls, s->excluded,
                s->seeds, s->nlat);
        for (int o = 0; o < HB_NOUTCOMES; o++)
            fprintf(f, ",%zu", s->outcomes[o]);
        csv_num(f, s->success_share);
        csv_num(f, s->cold_start_share);
        double v[] = {s->lat_mean,   s->mean_ci.lo,       s->mean_ci.hi,     s->lat_p50,
                      s->p50_ci.lo,  s->p50_ci.hi,        s->lat_p90,        s->lat_p95,
                      s->lat_p99,    s->p99_ci.lo,        s->p99_ci.hi,      s->lat_max,
                      s->cens_mean,  s->cens_mean_ci.lo,  s->cens_mean_ci.hi, s->cens_p50,
                      s->cens_p99,   s->slowdown_mean,    s->cpu_util_capacity,
                      s->mem_util_capacity, s->cpu_util_alloc, s->mem_util_alloc};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
            csv_num(f, v[k]);
        fprintf(f, ",%d", s->cpu_share);
        csv_num(f, s->harvested_share);
        csv_num(f, s->accelerated_share);
        if (i == c->base) {   /* no comparison fields */
            for (size_t k = 0; k < nvs; k++)
                fputc(',', f);
            fputc('\n', f);
            continue;
        }
        const hb_vs_baseline *vs = &c->vs[i];
        fprintf(f, ",%s", hb_pairing_names[vs->pairing]);
        csv_change(f, &vs->mean);
        csv_change(f, &vs->p99);
        csv_change(f, &vs->cens_mean);
        csv_change(f, &vs->success_share);
        csv_change(f, &vs->cpu_util_capacity);
        csv_change(f, &vs->mem_util_capacity);
        csv_change(f, &vs->cpu_util_alloc);
        csv_change(f, &vs->mem_util_alloc);
        if (vs->pairing != HB_PAIR_NONE)
            fprintf(f, ",%zu", vs->seed_mean.n);
        else
            fputs(",", f);
        csv_num(f, vs->seed_mean.mean_diff);
        csv_num(f, vs->seed_mean.p);
        csv_num(f, vs->seed_mean_p_holm);
        csv_num(f, vs->seed_cens_mean.mean_diff);
        csv_num(f, vs->seed_cens_mean.p);
        csv_num(f, vs->seed_cens_mean_p_holm);
        csv_num(f, vs->wilcoxon.w_plus);
        if (vs->pairing != HB_PAIR_NONE && !isnan(vs->wilcoxon.p))
            fprintf(f, ",%zu", vs->wilcoxon.n_used);
        else
            fputs(",", f);
        csv_num(f, vs->wilcoxon.p);
        csv_num(f, vs->wilcoxon_p_holm);
        csv_num(f, vs->mwu.u);
        csv_num(f, vs->mwu.p);
        csv_num(f, vs->p_holm);
        csv_num(f, vs->cliffs_delta);
        fputc('\n', f);
    }
    return hb_afile_commit(&a, err);
}

/* ---- comparison.json ---- */

static void j_num(cJSON *o, const char *k, double v)
{
    if (isnan(v) || isinf(v))
        cJSON_AddNullToObject(o, k);
    else
        cJSON_AddNumberToObject(o, k, v);
}

static void j_ci(cJSON *o, const char *k, hb_ci ci)
{
    if (isnan(ci.lo) || isnan(ci.hi)) {
        cJSON_AddNullToObject(o, k);
        return;
    }
    double v[2] = {ci.lo, ci.hi};
    cJSON_AddItemToObject(o, k, cJSON_CreateDoubleArray(v, 2));
}

static void j_change(cJSON *o, const char *name, const hb_change *ch)
{
    char k[64];
    snprintf(k, sizeof k, "%s_change_pct", name);
    j_num(o, k, ch->pct);
    snprintf(k, sizeof k, "%s_change_ci", name);
    j_ci(o, k, ch->ci);
}

static cJSON *j_policy(const hb_comparison *c, size_t i)
{
    const hb_policy_stats *s = &c->st[i];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "invocations", (double)s->calls);
    cJSON_AddNumberToObject(p, "seeds", (double)s->seeds);
    cJSON_AddNumberToObject(p, "successful", (double)s->nlat);
    cJSON *o = cJSON_AddObjectToObject(p, "outcomes");
    for (int k = 0; k < HB_NOUTCOMES; k++)
        cJSON_AddNumberToObject(o, hb_outcome_names[k], (double)s->outcomes[k]);
    j_num(p, "success_share", s->success_share);
    j_num(p, "cold_start_share", s->cold_start_share);
    cJSON *l = cJSON_AddObjectToObject(p, "latency_ms");
    j_num(l, "mean", s->lat_mean);
    j_num(l, "p50", s->lat_p50);
    j_num(l, "p90", s->lat_p90);
    j_num(l, "p95", s->lat_p95);
    j_num(l, "p99", s->lat_p99);
    j_num(l, "max", s->lat_max);
    j_ci(l, "mean_ci", s->mean_ci);
    j_ci(l, "p50_ci", s->p50_ci);
    j_ci(l, "p99_ci", s->p99_ci);
    cJSON *cl = cJSON_AddObjectToObject(p, "latency_censored_ms");
    cJSON_AddNumberToObject(cl, "n", (double)s->ncens);
    j_num(cl, "mean", s->cens_mean);
    j_num(cl, "p50", s->cens_p50);
    j_num(cl, "p99", s->cens_p99);
    j_ci(cl, "mean_ci", s->cens_mean_ci);
    cJSON_AddNumberToObject(p, "excluded_calls", (double)s->excluded);
    j_num(p, "slowdown_mean", s->slowdown_mean);
    cJSON_AddNumberToObject(p, "slowdown_n", (double)s->nslowdown);
    j_num(p, "cpu_util_capacity", s->cpu_util_capacity);
    j_num(p, "mem_util_capacity", s->mem_util_capacity);
    j_num(p, "cpu_util_alloc", s->cpu_util_alloc);
    j_num(p, "mem_util_alloc", s->mem_util_alloc);
    j_ci(p, "cpu_util_alloc_ci", s->cpu_util_alloc_ci);
    j_ci(p, "mem_util_alloc_ci", s->mem_util_alloc_ci);
    if (s->cpu_share)
        cJSON_AddStringToObject(p, "cpu_util_alloc_note",
                                "null: the CPU allocation is a share (CPU shares by memory, stock "
                                "OpenWhisk), not a quota, so used/allocated is no utilization; "
                                "cpu_util_capacity is the utilization for every policy");
    j_num(p, "harvested_share", s->harvested_share);
    j_num(p, "accelerated_share", s->accelerated_share);
    if (i == c->base) {
        cJSON_AddNullToObject(p, "vs_baseline");
        return p;
    }
    const hb_vs_baseline *v = &c->vs[i];
    cJSON *vb = cJSON_AddObjectToObject(p, "vs_baseline");
    cJSON_AddStringToObject(vb, "pairing", hb_pairing_names[v->pairing]);
    j_change(vb, "mean", &v->mean);
    j_change(vb, "p99", &v->p99);
    j_change(vb, "censored_mean", &v->cens_mean);
    j_change(vb, "success_share", &v->success_share);
    j_change(vb, "cpu_util_capacity", &v->cpu_util_capacity);
    j_change(vb, "mem_util_capacity", &v->mem_util_capacity);
    j_change(vb, "cpu_util_alloc", &v->cpu_util_alloc);
    j_change(vb, "mem_util_alloc", &v->mem_util_alloc);
    cJSON *sl = cJSON_AddObjectToObject(vb, "seed_level");
    if (v->pairing != HB_PAIR_NONE)
        cJSON_AddNumberToObject(sl, "n", (double)v->seed_mean.n);
    else
        cJSON_AddNullToObject(sl, "n");
    cJSON_AddBoolToObject(sl, "exact", v->seed_cens_mean.exact || v->seed_mean.exact);
    j_num(sl, "mean_diff_ms", v->seed_mean.mean_diff);
    j_num(sl, "mean_p", v->seed_mean.p);
    j_num(sl, "mean_p_holm", v->seed_mean_p_holm);
    j_num(sl, "censored_mean_diff_ms", v->seed_cens_mean.mean_diff);
    j_num(sl, "censored_mean_p", v->seed_cens_mean.p);
    j_num(sl, "censored_mean_p_holm", v->seed_cens_mean_p_holm);
    j_num(sl, "wilcoxon_w_plus", v->wilcoxon.w_plus);
    if (v->pairing != HB_PAIR_NONE && !isnan(v->wilcoxon.p)) {
        cJSON_AddNumberToObject(sl, "wilcoxon_n", (double)v->wilcoxon.n_used);
        cJSON_AddBoolToObject(sl, "wilcoxon_exact", v->wilcoxon.exact);
    } else {
        cJSON_AddNullToObject(sl, "wilcoxon_n");
        cJSON_AddNullToObject(sl, "wilcoxon_exact");
    }
    j_num(sl, "wilcoxon_p", v->wilcoxon.p);
    j_num(sl, "wilcoxon_p_holm", v->wilcoxon_p_holm);
    cJSON *d = cJSON_AddObjectToObject(vb, "descriptive");
    cJSON_AddStringToObject(d, "note", "pooled calls treated as independent, which they are not: "
                                       "describes overlap, decides nothing");
    j_num(d, "mann_whitney_u", v->mwu.u);
    j_num(d, "mann_whitney_z", v->mwu.z);
    j_num(d, "mann_whitney_p", v->mwu.p);
    j_num(d, "mann_whitney_p_holm", v->p_holm);
    j_num(d, "cliffs_delta", v->cliffs_delta);
    return p;
}

int hb_report_json(const hb_comparison *c, const char *path, hb_error *err)
{
    const hb_results *r = c->res;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    cJSON *hb = cJSON_AddObjectToObject(root, "harvestbench");
    cJSON_AddStringToObject(hb, "version", hb_version());
    cJSON_AddStringToObject(hb, "git_commit", hb_git_commit());
    cJSON *run = cJSON_AddObjectToObject(root, "run");
    cJSON_AddStringToObject(run, "dir", r->dir);
    cJSON_AddStringToObject(run, "experiment", r->experiment);
    cJSON_AddStringToObject(run, "status", r->status);
    cJSON_AddStringToObject(run, "backend", r->backend);
    cJSON_AddStringToObject(run, "harvestbench_version", r->version);
    cJSON_AddStringToObject(run, "git_commit", r->git_commit);
    cJSON_AddItemToObject(run, "seeds", cJSON_CreateDoubleArray(r->seeds, (int)r->nseeds));
    cJSON *w = cJSON_AddArrayToObject(run, "warnings");
    for (size_t i = 0; i < r->nwarnings; i++)
        cJSON_AddItemToArray(w, cJSON_CreateString(r->warnings[i]));
    cJSON_AddStringToObject(root, "baseline", c->st[c->base].name);
    cJSON *m = cJSON_AddObjectToObject(root, "method");
    cJSON_AddNumberToObject(m, "confidence", c->opts.level);
    cJSON_AddStringToObject(m, "bootstrap", "two-stage percentile bootstrap: seeds with "
                                            "replacement, then invocations within each drawn seed");
    cJSON_AddStringToObject(m, "pairing", "invocation: the same seeds and call indices drawn for "
                                          "policy and baseline (same calls replayed); seed: the "
                                          "same seeds, calls drawn independently; none: unpaired");
    cJSON_AddStringToObject(m, "censored_latency", "every call; a failed call counts at its "
                                                   "function's timeout_s");
    cJSON_AddStringToObject(m, "seed_level_test", "exact sign-flip permutation test of per-seed "
                                                  "differences (policy - baseline), two-sided");
    cJSON *win = cJSON_AddObjectToObject(m, "window");
    cJSON_AddNumberToObject(win, "warmup_s", r->warmup_s);
    cJSON_AddNumberToObject(win, "drain_s", r->drain_s);
    cJSON_AddNumberToObject(m, "bootstrap_resamples", (double)c->opts.resamples);
    cJSON_AddNumberToObject(m, "bootstrap_seed", (double)c->opts.seed);
    cJSON_AddStringToObject(m, "percentiles", "linear interpolation between closest ranks");
    cJSON_AddStringToObject(m, "median_ci", "Le Boudec order statistics");
    cJSON_AddStringToObject(m, "mann_whitney", "two-sided, normal approximation, tie and "
                                               "continuity corrected; policy against baseline");
    cJSON_AddStringToObject(m, "wilcoxon", "signed-rank on per-seed mean latency, zero "
                                           "differences dropped, exact up to 50 pairs");
    cJSON_AddStringToObject(m, "holm", "over the policies compared with the baseline, "
                                       "separately for each test");
    cJSON *pols = cJSON_AddObjectToObject(root, "policies");
    for (size_t i = 0; i < c->n; i++)
        cJSON_AddItemToObject(pols, c->st[i].name, j_policy(c, i));
    int rc = hb_write_json(path, root, err);
    cJSON_Delete(root);
    return rc;
}
