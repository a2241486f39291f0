/* sweep_report.c - DIR/sweep.csv, DIR/sweep.md and the heatmaps of a sweep (sweep_report.h). */
#include "sweep_report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis.h"
#include "atomic_file.h"
#include "csv_reader.h"
#include "files.h"
#include "plot.h"
#include "results_reader.h"

/* Sums over every call of a policy's complete runs (invocations.csv, columns found by name). */
typedef struct harvest_sums {
    double calls, safeguards;
    double lent_cpu, lent_mem, running_cpu, running_mem, idle_cpu, idle_mem;
    int has_running, has_idle, has_lent, has_safeguard;
} harvest_sums;

/* A column by its name, or else one whose name ends in ".NAME" or "_NAME": a policy's extension
 * column (e.g. "libra.pool_idle_cpu_s") at the end of the row. -1 if none. */
static int find_col(const hb_csv *c, const char *name)
{
    int i = hb_csv_col(c, name);
    size_t n = strlen(name);
    for (size_t k = 0; i < 0 && k < hb_csv_ncols(c); k++) {
        const char *h = hb_csv_colname(c, k);
        size_t l = strlen(h);
        if (l > n + 1 && strcmp(h + l - n, name) == 0 && (h[l - n - 1] == '.' || h[l - n - 1] == '_'))
            i = (int)k;
    }
    return i;
}

static int sum_invocations(const char *path, harvest_sums *h, hb_error *err)
{
    static const char *const cols[] = {"harvested_cpu_s", "harvested_mem_mb_s",
                                       "borrowed_running_cpu_s", "borrowed_running_mem_mb_s",
                                       "pool_idle_cpu_s", "pool_idle_mem_mb_s", "safeguard"};
    double *dst[] = {&h->lent_cpu, &h->lent_mem, &h->running_cpu, &h->running_mem, &h->idle_cpu,
                     &h->idle_mem, &h->safeguards};
    hb_csv *c;
    int rc = hb_csv_open(path, &c, err);
    if (rc)
        return rc;
    int idx[7];
    rc = hb_csv_next(c, err) < 0 ? HB_EINPUT : 0;
    if (!rc)
        rc = hb_csv_take_header(c, err);
    for (int k = 0; k < 7 && !rc; k++)
        idx[k] = find_col(c, cols[k]);
    if (!rc) {
        h->has_lent = idx[0] >= 0 && idx[1] >= 0;
        h->has_running = idx[2] >= 0 && idx[3] >= 0;
        h->has_idle = idx[4] >= 0 && idx[5] >= 0;
        h->has_safeguard = idx[6] >= 0;
    }
    int r;
    while (!rc && (r = hb_csv_next(c, err)) > 0) {
        h->calls++;
        for (int k = 0; k < 7 && !rc; k++) {
            if (idx[k] < 0 || !*hb_csv_field(c, (size_t)idx[k]))
                continue;
            double v;
            rc = hb_csv_double(c, (size_t)idx[k], cols[k], &v, err);
            if (!rc)
                *dst[k] += k == 6 ? (v != 0) : v;
        }
    }
    if (!rc && r < 0)
        rc = -r;
    hb_csv_close(c);
    return rc;
}

typedef struct cell_stats {
    hb_results res;
    size_t n, base;
    hb_policy_stats *st;
    hb_vs_baseline *vs;
    harvest_sums *hs;
} cell_stats;

static void cell_free(cell_stats *c)
{
    for (size_t i = 0; c->st && i < c->n; i++)
        hb_policy_stats_free(&c->st[i]);
    free(c->st);
    free(c->vs);
    free(c->hs);
    hb_results_free(&c->res);
}

/* The statistics of one cell, computed as `compare` computes them (the same streams). */
static int cell_compute(const char *dir, cell_stats *c, hb_error *err)
{
    memset(c, 0, sizeof *c);
    int rc = hb_results_read(dir, 0, &c->res, err);
    if (rc)
        return rc;
    hb_results *res = &c->res;
    const char *baseline = res->baseline[0] ? res->baseline
                           : hb_results_policy(res, "fixed") ? "fixed" : res->policies[0].name;
    const hb_policy_runs *bp = hb_results_policy(res, baseline);
    if (!bp || bp->nruns == 0) {
        hb_results_free(res);
        return hb_fail(err, HB_EINPUT, "%s: the baseline policy '%s' has no complete run", dir,
                       baseline);
    }
    hb_boot_opts o = {HB_BOOT_MIN_RESAMPLES, 1, 0.95};
    size_t n = c->n = res->npolicies, base = c->base = (size_t)(bp - res->policies);
    c->st = calloc(n, sizeof *c->st);
    c->vs = calloc(n, sizeof *c->vs);
    c->hs = calloc(n, sizeof *c->hs);
    hb_streams *ss = calloc(n, sizeof *ss);
    if (!c->st || !c->vs || !c->hs || !ss) {
        free(ss);
        cell_free(c);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const hb_policy_runs *pr = &res->policies[i];
        int pairing = hb_runs_pairing(pr, bp);
        ss[i].seeds_a = hb_stream_seed(o.seed, pairing ? "" : pr->name, "seeds");
        ss[i].calls_a = hb_stream_seed(o.seed, pr->name, "calls");
        ss[i].paired_calls = hb_stream_seed(o.seed, pr->name, "paired-calls");
    }
    for (size_t i = 0; i < n; i++) {
        ss[i].seeds_b = ss[base].seeds_a;
        ss[i].calls_b = ss[base].calls_a;
    }
    /* sweep.csv reads a policy's own latency replicates only for a change not paired by
     * invocation (hb_policy_stats_compute_opt, analysis.h): the numbers are those of `compare`, in less time */
    int all_paired = 1;
    for (size_t i = 0; i < n; i++)
        if (i != base && hb_runs_pairing(&res->policies[i], bp) != HB_PAIR_INVOCATION)
            all_paired = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        int paired_only = i == base ? all_paired
                          : hb_runs_pairing(&res->policies[i], bp) == HB_PAIR_INVOCATION;
        rc = hb_policy_stats_compute_opt(&res->policies[i], &o, ss[i].seeds_a, ss[i].calls_a,
                                         paired_only, &c->st[i], err);
    }
    for (size_t i = 0; i < n && !rc; i++)
        if (i != base)
            rc = hb_vs_compute(&res->policies[i], bp, &c->st[i], &c->st[base],
                               hb_runs_pairing(&res->policies[i], bp), &o, &ss[i], &c->vs[i], err);
    free(ss);
    for (size_t i = 0; i < n && !rc; i++)
        for (size_t r = 0; r < res->policies[i].nruns && !rc; r++) {
            char path[HB_PATH_MAX + 160];
            snprintf(path, sizeof path, "%s/%s/seed-%d/invocations.csv", dir,
                     res->policies[i].name, res->policies[i].runs[r].seed_index);
            rc = sum_invocations(path, &c->hs[i], err);
        }
    if (rc)
        cell_free(c);
    return rc;
}

/* ---- writing ---- */

static void put_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, ",%.6g", v);
    else
        fputs(",", f);
}

static void put_text(FILE *f, const char *t, int first)
{
    if (!first)
        fputc(',', f);
    if (strpbrk(t, ",\"\n\r")) {
        fputc('"', f);
        for (; *t; t++) {
            if (*t == '"')
                fputc('"', f);
            fputc(*t, f);
        }
        fputc('"', f);
    } else {
        fputs(t, f);
    }
}

static void put_change(FILE *f, const hb_change *c, int is_base)
{
    if (is_base) {
        fputs(",,,", f);
        return;
    }
    put_num(f, c->pct);
    put_num(f, c->ci.lo);
    put_num(f, c->ci.hi);
}

static double ratio(double a, double b, int has)
{
    return has && b > 0 ? a / b : NAN;
}

static const char CSV_COLS[] =
    "policy,baseline,pairing,seeds,calls,success_share,"
    "mean_ms,mean_change_pct,mean_change_lo,mean_change_hi,"
    "p99_ms,p99_change_pct,p99_change_lo,p99_change_hi,"
    "cens_mean_ms,cens_mean_change_pct,cens_mean_change_lo,cens_mean_change_hi,"
    "cpu_util,cpu_util_change_pct,cpu_util_change_lo,cpu_util_change_hi,"
    "mem_util,mem_util_change_pct,mem_util_change_lo,mem_util_change_hi,"
    "success_change_pct,lent_cpu_core_s,lent_mem_mb_s,borrowed_running_cpu_share,"
    "borrowed_running_mem_share,idle_in_pool_cpu_share,idle_in_pool_mem_share,safeguard_rate\n";

static void csv_rows(FILE *f, const sweep *s, size_t cell, const cell_stats *c)
{
    char id[SWEEP_ID_MAX];
    sweep_cell_id(cell, id);
    for (size_t i = 0; i < c->n; i++) {
        const hb_policy_stats *p = &c->st[i];
        const hb_vs_baseline *v = &c->vs[i];
        const harvest_sums *h = &c->hs[i];
        int b = i == c->base;
        put_text(f, id, 1);
        for (size_t a = 0; a < s->naxes; a++)
            put_text(f, s->axes[a].values[sweep_value_index(s, cell, a)], 0);
        put_text(f, c->res.policies[i].name, 0);
        put_text(f, c->res.policies[c->base].name, 0);
        put_text(f, b ? "" : hb_pairing_names[v->pairing], 0);
        fprintf(f, ",%zu,%zu", p->seeds, p->calls);
        put_num(f, p->success_share);
        put_num(f, p->lat_mean);
        put_change(f, &v->mean, b);
        put_num(f, p->lat_p99);
        put_change(f, &v->p99, b);
        put_num(f, p->cens_mean);
        put_change(f, &v->cens_mean, b);
        put_num(f, p->cpu_util_capacity);
        put_change(f, &v->cpu_util_capacity, b);
        put_num(f, p->mem_util_capacity);
        put_change(f, &v->mem_util_capacity, b);
        put_num(f, b ? NAN : v->success_share.pct);
        double seeds = p->seeds ? (double)p->seeds : NAN;
        put_num(f, h->has_lent ? h->lent_cpu / seeds : NAN);
        put_num(f, h->has_lent ? h->lent_mem / seeds : NAN);
        put_num(f, ratio(h->running_cpu, h->lent_cpu, h->has_running));
        put_num(f, ratio(h->running_mem, h->lent_mem, h->has_running));
        put_num(f, ratio(h->idle_cpu, h->lent_cpu, h->has_idle));
        put_num(f, ratio(h->idle_mem, h->lent_mem, h->has_idle));
        put_num(f, ratio(h->safeguards, h->calls, h->has_safeguard));
        fputc('\n', f);
    }
}

static void md_change(FILE *f, const hb_change *c, int is_base)
{
    if (is_base)
        fputs(" (baseline) |", f);
    else if (!isfinite(c->pct))
        fputs(" - |", f);
    else if (isfinite(c->ci.lo))
        fprintf(f, " %+.1f%% [%+.1f, %+.1f]%s |", c->pct, c->ci.lo, c->ci.hi,
                hb_change_significant(c) ? " *" : "");
    else
        fprintf(f, " %+.1f%% |", c->pct);
}

static void md_rows(FILE *f, const sweep *s, size_t cell, const cell_stats *c)
{
    char id[SWEEP_ID_MAX];
    sweep_cell_id(cell, id);
    for (size_t i = 0; i < c->n; i++) {
        int b = i == c->base;
        fprintf(f, "| %s |", id);
        for (size_t a = 0; a < s->naxes; a++)
            fprintf(f, " %s |", s->axes[a].values[sweep_value_index(s, cell, a)]);
        fprintf(f, " %s | %.3f |", c->res.policies[i].name, c->st[i].success_share);
        md_change(f, &c->vs[i].mean, b);
        md_change(f, &c->vs[i].p99, b);
        md_change(f, &c->vs[i].cens_mean, b);
        md_change(f, &c->vs[i].cpu_util_capacity, b);
        fputc('\n', f);
    }
}

/* Writes what f_write puts into a FILE to path (path.tmp, then rename). */
static int write_rows(const char *path, void (*fn)(FILE *, const sweep *, size_t, const cell_stats *),
                      const sweep *s, size_t cell, const cell_stats *c, hb_error *err)
{
    char tmp[HB_PATH_MAX + 80];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return hb_fail(err, HB_EIO, "%s: cannot write (%s)", tmp, strerror(errno));
    fn(f, s, cell, c);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return hb_fail(err, HB_EIO, "%s: cannot write (%s)", path, strerror(errno));
    }
    return 0;
}

int sweep_report_cell(const sweep *s, size_t cell, hb_error *err)
{
    char dir[HB_PATH_MAX + 64], csv[HB_PATH_MAX + 64], md[HB_PATH_MAX + 64];
    sweep_cell_dir(s, cell, dir, sizeof dir);
    sweep_rows_path(s, cell, "csv", csv, sizeof csv);
    sweep_rows_path(s, cell, "md", md, sizeof md);
    cell_stats c;
    int rc = cell_compute(dir, &c, err);
    if (rc)
        return rc;
    /* the md first: a csv present means both are */
    rc = write_rows(md, md_rows, s, cell, &c, err);
    if (!rc)
        rc = write_rows(csv, csv_rows, s, cell, &c, err);
    cell_free(&c);
    return rc;
}

/* Appends the file at path to f. */
static int append(FILE *f, const char *path, hb_error *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = hb_read_text(path, &text, &len, err);
    if (!rc && fwrite(text, 1, len, f) != len)
        rc = hb_fail(err, HB_EIO, "write failed");
    free(text);
    return rc;
}

int sweep_report_write(const sweep *s, hb_error *err)
{
    for (size_t cell = 0; cell < s->ncells; cell++)
        if (!sweep_cell_done(s, cell)) {
            char id[SWEEP_ID_MAX];
            sweep_cell_id(cell, id);
            return hb_fail(err, HB_ERUN, "%s/cells/%s is not complete; run the sweep with --resume",
                           s->out, id);
        }
    int rc = 0;
    for (size_t cell = 0; cell < s->ncells && !rc; cell++) {
        char rows[HB_PATH_MAX + 64];
        sweep_rows_path(s, cell, "csv", rows, sizeof rows);
        if (access(rows, R_OK) != 0)
            rc = sweep_report_cell(s, cell, err);
    }
    if (rc)
        return rc;
    char csv[HB_PATH_MAX + 32], md[HB_PATH_MAX + 32], tcsv[HB_PATH_MAX + 40], tmd[HB_PATH_MAX + 40];
    snprintf(csv, sizeof csv, "%s/sweep.csv", s->out);
    snprintf(md, sizeof md, "%s/sweep.md", s->out);
    snprintf(tcsv, sizeof tcsv, "%s.tmp", csv);
    snprintf(tmd, sizeof tmd, "%s.tmp", md);
    FILE *fc = fopen(tcsv, "w"), *fm = fopen(tmd, "w");
    if (!fc || !fm) {
        if (fc)
            fclose(fc);
        if (fm)
            fclose(fm);
        return hb_fail(err, HB_EIO, "%s: cannot write (%s)", fc ? tmd : tcsv, strerror(errno));
    }
    put_text(fc, "cell", 1);
    for (size_t a = 0; a < s->naxes; a++)
        put_text(fc, s->axes[a].key, 0);
    fputc(',', fc);
    fputs(CSV_COLS, fc);
    fprintf(fm, "# Sweep of %s\n\n%zu cells; a row per cell and policy (sweep.csv has every "
                "column). Changes against the baseline with 95%% paired bootstrap intervals "
                "(docs/statistics.md); * marks an interval clear of zero.\n\n| cell |",
            s->config, s->ncells);
    for (size_t a = 0; a < s->naxes; a++)
        fprintf(fm, " %s |", s->axes[a].key);
    fputs(" policy | success | mean | p99 | censored mean | CPU utilization |\n|---|", fm);
    for (size_t a = 0; a < s->naxes; a++)
        fputs("---|", fm);
    fputs("---|---|---|---|---|---|\n", fm);
    for (size_t cell = 0; cell < s->ncells && !rc; cell++) {
        char rows[HB_PATH_MAX + 64];
        sweep_rows_path(s, cell, "csv", rows, sizeof rows);
        rc = append(fc, rows, err);
        sweep_rows_path(s, cell, "md", rows, sizeof rows);
        if (!rc)
            rc = append(fm, rows, err);
    }
    int e1 = fclose(fc), e2 = fclose(fm);
    if (!rc && (e1 || e2))
        rc = hb_fail(err, HB_EIO, "%s: write failed", s->out);
    if (!rc && (rename(tcsv, csv) || rename(tmd, md)))
        rc = hb_fail(err, HB_EIO, "%s: cannot rename into place (%s)", s->out, strerror(errno));
    if (rc) {
        remove(tcsv);
        remove(tmd);
    }
    return rc;
}

/* ---- heatmaps ---- */

const char *const sweep_plot_metrics[] = {"mean", "p99", "cens_mean", "cpu_util", "mem_util",
                                          "success", NULL};

typedef struct pt {
    char *x, *y;
    double sum;
    int n;
} pt;

static int find_or_add(char ***list, size_t *n, const char *v)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], v) == 0)
            return (int)i;
    char **nl = realloc(*list, (*n + 1) * sizeof *nl);
    if (!nl)
        return -1;
    *list = nl;
    if (!(nl[*n] = strdup(v)))
        return -1;
    return (int)(*n)++;
}

/* Sorts the axis labels numerically when they are all numbers, else keeps first-seen order. */
static int numeric(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double d;
        if (hb_parse_double(v[i], &d))
            return 0;
    }
    return 1;
}

static int cmp_num(const void *a, const void *b)
{
    double x = strtod(*(char *const *)a, NULL), y = strtod(*(char *const *)b, NULL);
    return (x > y) - (x < y);
}

static void safe_name(char *dst, size_t n, const char *src)
{
    size_t k = 0;
    for (; *src && k + 1 < n; src++)
        dst[k++] = (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", *src))
                   ? *src : '_';
    dst[k] = '\0';
}

/* One heatmap of one policy: the data as a matrix, the script, the png. */
static int plot_one(const char *pdir, const char *policy, const char *metric, const char *xa,
                    const char *ya, char **xs, size_t nx, char **ys, size_t ny, const pt *pts,
                    size_t np, int averaged, int *drawn, hb_error *err)
{
    char stem[400], px[100], py[100], pp[100];
    safe_name(px, sizeof px, xa);
    safe_name(py, sizeof py, ya);
    safe_name(pp, sizeof pp, policy);
    snprintf(stem, sizeof stem, "heatmap_%s_%s_%s_%s", metric, pp, px, py);
    char path[HB_PATH_MAX + 500];
    snprintf(path, sizeof path, "%s/%s.dat", pdir, stem);
    FILE *f = fopen(path, "w");
    if (!f)
        return hb_fail(err, HB_EIO, "%s: cannot write (%s)", path, strerror(errno));
    fprintf(f, "# x_index y_index change_pct (x: %s, y: %s, policy %s)\n", xa, ya, policy);
    for (size_t i = 0; i < nx; i++) {
        for (size_t j = 0; j < ny; j++) {
            double v = NAN;
            for (size_t k = 0; k < np; k++)
                if (strcmp(pts[k].x, xs[i]) == 0 && strcmp(pts[k].y, ys[j]) == 0 && pts[k].n)
                    v = pts[k].sum / pts[k].n;
            if (isfinite(v))
                fprintf(f, "%zu %zu %.6g\n", i, j, v);
            else
                fprintf(f, "%zu %zu NaN\n", i, j);
        }
        fputc('\n', f);
    }
    fclose(f);
    snprintf(path, sizeof path, "%s/%s.gp", pdir, stem);
    if (!(f = fopen(path, "w")))
        return hb_fail(err, HB_EIO, "%s: cannot write (%s)", path, strerror(errno));
    fprintf(f, "# heatmap of the %s change (%%) of %s against the baseline; drawn by "
               "`harvestbench sweep plot`\nset terminal pngcairo size 800,600 font 'DejaVu Sans,10'\n"
               "set termoption noenhanced\nset output '%s.png'\nset title ", metric, policy, stem);
    char title[600];
    snprintf(title, sizeof title, "%s: %s change vs baseline (%%)%s", policy, metric,
             averaged ? ", mean over the other axes" : "");
    hb_gp_quote(f, title);
    fputs("\nset xlabel ", f);
    hb_gp_quote(f, xa);
    fputs("\nset ylabel ", f);
    hb_gp_quote(f, ya);
    fputs("\nset xtics (", f);
    for (size_t i = 0; i < nx; i++) {
        fputs(i ? ", " : "", f);
        hb_gp_quote(f, xs[i]);
        fprintf(f, " %zu", i);
    }
    fputs(")\nset ytics (", f);
    for (size_t j = 0; j < ny; j++) {
        fputs(j ? ", " : "", f);
        hb_gp_quote(f, ys[j]);
        fprintf(f, " %zu", j);
    }
    /* stats before the ranges: a one-column stats filters by the x range */
    fprintf(f, ")\nstats '%s.dat' using 3 nooutput\nm = (abs(STATS_min) > abs(STATS_max) ? "
               "abs(STATS_min) : abs(STATS_max))\nm = (m == 0 ? 1 : m)\nset cbrange [-m:m]\n"
               "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\n"
               "set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b')\n"
               "set cblabel 'change %% (blue: lower than the baseline)'\n"
               "plot '%s.dat' using 1:2:3 with image notitle, "
               "'%s.dat' using 1:2:(sprintf('%%+.1f', $3)) with labels notitle\n",
            stem, nx - 1, ny - 1, stem, stem);
    fclose(f);
    char script[420];
    snprintf(script, sizeof script, "%s.gp", stem);
    if (hb_find_program("gnuplot") && hb_gnuplot_run(pdir, script) == 0)
        (*drawn)++;
    printf("%s/%s.png\n", pdir, stem);
    return 0;
}

int sweep_plot(const char *dir, const char *x, const char *y, const char *policy,
               const char *metric, int *drawn, hb_error *err)
{
    *drawn = 0;
    int mk = 0;
    while (sweep_plot_metrics[mk] && strcmp(sweep_plot_metrics[mk], metric) != 0)
        mk++;
    if (!sweep_plot_metrics[mk])
        return hb_fail(err, HB_EINPUT, "--metric: '%s' is not one of mean, p99, cens_mean, "
                       "cpu_util, mem_util, success", metric);
    if (strcmp(x, y) == 0)
        return hb_fail(err, HB_EINPUT, "--x and --y name the same axis '%s'", x);
    char path[HB_PATH_MAX + 32], col[64];
    snprintf(path, sizeof path, "%s/sweep.csv", dir);
    snprintf(col, sizeof col, "%s_change_pct", metric);
    hb_csv *c;
    int rc = hb_csv_open(path, &c, err);
    if (rc)
        return rc;
    if (hb_csv_next(c, err) <= 0 || hb_csv_take_header(c, err)) {
        hb_csv_close(c);
        return hb_fail(err, HB_EINPUT, "%s: no header", path);
    }
    int ix = hb_csv_col(c, x), iy = hb_csv_col(c, y), ip = hb_csv_col(c, "policy"),
        ib = hb_csv_col(c, "baseline"), iv = hb_csv_col(c, col), ic = hb_csv_col(c, "cell");
    int ipol = hb_csv_col(c, "policy");
    if (ix < 0 || iy < 0 || ix <= ic || iy <= ic || ix >= ipol || iy >= ipol) {
        hb_csv_close(c);
        return hb_fail(err, HB_EINPUT, "%s: '%s' is not an axis of this sweep (the columns "
                       "between cell and policy are)", path, ix < 0 || ix <= ic || ix >= ipol ? x : y);
    }
    if (ip < 0 || ib < 0 || iv < 0) {
        hb_csv_close(c);
        return hb_fail(err, HB_EINPUT, "%s: not a sweep.csv (no policy, baseline or %s)", path, col);
    }
    char **xs = NULL, **ys = NULL, **pols = NULL;
    size_t nx = 0, ny = 0, npol = 0, np = 0, cells_per_pt = 0;
    pt *pts = NULL;
    char **ppol = NULL;                         /* the policy of each point */
    int r, seen = 0;
    while (!rc && (r = hb_csv_next(c, err)) > 0) {
        const char *p = hb_csv_field(c, (size_t)ip);
        if (strcmp(p, hb_csv_field(c, (size_t)ib)) == 0)
            continue;                           /* the baseline has no change */
        if (policy && strcmp(p, policy) != 0)
            continue;
        seen = 1;
        const char *xv = hb_csv_field(c, (size_t)ix), *yv = hb_csv_field(c, (size_t)iy);
        if (find_or_add(&xs, &nx, xv) < 0 || find_or_add(&ys, &ny, yv) < 0 ||
            find_or_add(&pols, &npol, p) < 0) {
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
            break;
        }
        size_t k = 0;
        while (k < np && !(strcmp(pts[k].x, xv) == 0 && strcmp(pts[k].y, yv) == 0 &&
                           strcmp(ppol[k], p) == 0))
            k++;
        if (k == np) {
            pt *npts = realloc(pts, (np + 1) * sizeof *npts);
            char **npp = npts ? realloc(ppol, (np + 1) * sizeof *npp) : NULL;
            if (npts)
                pts = npts;
            if (npp)
                ppol = npp;
            if (!npts || !npp) {
                rc = hb_fail(err, HB_ENOMEM, "out of memory");
                break;
            }
            pts[np] = (pt){strdup(xv), strdup(yv), 0, 0};
            ppol[np] = strdup(p);
            np++;
        }
        double v;
        const char *f = hb_csv_field(c, (size_t)iv);
        if (*f && hb_parse_double(f, &v) == 0 && isfinite(v)) {
            pts[k].sum += v;
            pts[k].n++;
            if ((size_t)pts[k].n > cells_per_pt)
                cells_per_pt = (size_t)pts[k].n;
        }
    }
    hb_csv_close(c);
    if (!rc && !seen)
        rc = hb_fail(err, HB_EINPUT, "%s: no rows of %s", path,
                     policy ? policy : "a policy other than the baseline");
    if (!rc) {
        if (numeric(xs, nx))
            qsort(xs, nx, sizeof *xs, cmp_num);
        if (numeric(ys, ny))
            qsort(ys, ny, sizeof *ys, cmp_num);
        char pdir[HB_PATH_MAX + 16];
        snprintf(pdir, sizeof pdir, "%s/plots", dir);
        rc = hb_mkdirs(pdir, err);
        for (size_t q = 0; q < npol && !rc; q++) {
            /* the points of this policy */
            pt *sub = malloc((np ? np : 1) * sizeof *sub);
            size_t ns = 0;
            if (!sub) {
                rc = hb_fail(err, HB_ENOMEM, "out of memory");
                break;
            }
            for (size_t k = 0; k < np; k++)
                if (strcmp(ppol[k], pols[q]) == 0)
                    sub[ns++] = pts[k];
            rc = plot_one(pdir, pols[q], metric, x, y, xs, nx, ys, ny, sub, ns, cells_per_pt > 1,
                          drawn, err);
            free(sub);
        }
    }
    for (size_t k = 0; k < np; k++) {
        free(pts[k].x);
        free(pts[k].y);
        free(ppol[k]);
    }
    free(pts);
    free(ppol);
    for (size_t i = 0; i < nx; i++)
        free(xs[i]);
    for (size_t i = 0; i < ny; i++)
        free(ys[i]);
    for (size_t i = 0; i < npol; i++)
        free(pols[i]);
    free(xs);
    free(ys);
    free(pols);
    return rc;
}
