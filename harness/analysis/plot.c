/* plot.c - data files, gnuplot scripts and gnuplot runs for the plots of `compare` (see plot.h). */
#include "plot.h"

#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CDF_POINTS 2000   /* at most this many points per policy in latency_cdf */
#define TERMINAL "set terminal pngcairo size %d,%d font 'DejaVu Sans,10' noenhanced\n"

/* ---- files ---- */

void hb_gp_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'')
            fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* A policy name as a file name part: [A-Za-z0-9._-], others as '_'. */
static void file_part(char *dst, size_t cap, const char *name)
{
    size_t i = 0;
    for (; name[i] && i + 1 < cap; i++) {
        char c = name[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-';
        dst[i] = ok ? c : '_';
    }
    dst[i] = '\0';
}

static void put_num(FILE *f, double v)
{
    if (isnan(v))
        fputs(" NaN", f);
    else
        fprintf(f, " %.10g", v);
}

/* ---- gnuplot ---- */

int hb_find_program(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        return 0;
    char dir[4096];
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && len + strlen(name) + 2 < sizeof dir) {
            memcpy(dir, path, len);
            snprintf(dir + len, sizeof dir - len, "/%s", name);
            if (access(dir, X_OK) == 0)
                return 1;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return 0;
}

int hb_gnuplot_run(const char *dir, const char *script)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(126);
        int fd = open("gnuplot.log", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2(nul, STDIN_FILENO);
            close(nul);
        }
        unsetenv("DISPLAY");
        execlp("gnuplot", "gnuplot", script, (char *)NULL);
        _exit(127);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* ---- the plots ---- */

static hb_plot *add_plot(hb_plot_set *set, const char *name, const char *title)
{
    hb_plot *p = realloc(set->plots, (set->n + 1) * sizeof *p);
    if (!p)
        return NULL;
    set->plots = p;
    p = &set->plots[set->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->title, sizeof p->title, "%s", title);
    return p;
}

static int write_cdf(const char *dir, const hb_policy_stats *st, size_t n, int *any, hb_error *err)
{
    hb_afile o = {0};
    char name[160], part[80];
    int rc = HB_OK;
    *any = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        file_part(part, sizeof part, st[i].name);
        snprintf(name, sizeof name, "latency_cdf.%s.dat", part);
        if ((rc = hb_afile_open(&o, dir, name, err)))
            break;
        fprintf(o.f, "# %s: empirical CDF of the latency of successful invocations, all seeds\n"
                     "# latency_ms cumulative_fraction\n", st[i].name);
        size_t m = st[i].nlat, pts = m < CDF_POINTS ? m : CDF_POINTS;
        size_t last = (size_t)-1;
        for (size_t j = 0; j < pts; j++) {
            size_t r = pts > 1 ? (size_t)llround((double)j * (double)(m - 1) / (double)(pts - 1)) : 0;
            if (r == last)
                continue;
            last = r;
            double x = st[i].pooled[r];
            if (x > 0) {   /* a log axis shows only positive latencies */
                fprintf(o.f, "%.10g %.10g\n", x, (double)(r + 1) / (double)m);
                *any = 1;
            }
        }
        rc = hb_afile_commit(&o, err);
    }
    hb_afile_abort(&o);
    if (rc || !*any)
        return rc;
    if ((rc = hb_afile_open(&o, dir, "latency_cdf.gp", err)))
        return rc;
    fprintf(o.f, TERMINAL, 960, 600);
    fprintf(o.f, "set output 'latency_cdf.png'\n"
                 "set title 'Latency CDF (successful invocations, all seeds pooled)'\n"
                 "set xlabel 'latency (ms, log scale)'\n"
                 "set ylabel 'fraction of invocations with latency <= x'\n"
                 "set logscale x\nset yrange [0:1.02]\nset grid\nset key bottom right\n"
                 "plot ");
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (st[i].nlat == 0 || st[i].pooled[st[i].nlat - 1] <= 0)
            continue;
        file_part(part, sizeof part, st[i].name);
        snprintf(name, sizeof name, "latency_cdf.%s.dat", part);
        fprintf(o.f, "%s", first ? "" : ", \\\n     ");
        hb_gp_quote(o.f, name);
        fprintf(o.f, " using 1:2 with steps lw 2 title ");
        hb_gp_quote(o.f, st[i].name);
        first = 0;
    }
    fputc('\n', o.f);
    return hb_afile_commit(&o, err);
}

static int write_bars(const char *dir, const hb_policy_stats *st, size_t n, hb_error *err)
{
    hb_afile o = {0};
    int rc = hb_afile_open(&o, dir, "latency_bars.dat", err);
    if (rc)
        return rc;
    fprintf(o.f, "# latency of successful invocations, all seeds, with 95%% bootstrap intervals "
                 "(no interval: lo = hi = value)\n"
                 "# policy mean_ms mean_lo mean_hi p99_ms p99_lo p99_hi\n");
    for (size_t i = 0; i < n; i++) {
        const hb_policy_stats *s = &st[i];
        fputc('"', o.f);
        for (const char *c = s->name; *c; c++)
            fputc(*c == '"' ? '\'' : *c, o.f);
        fputc('"', o.f);
        double v[6] = {s->lat_mean, s->mean_ci.lo, s->mean_ci.hi,
                       s->lat_p99,  s->p99_ci.lo,  s->p99_ci.hi};
        for (int k = 0; k < 6; k += 3)
            if (isnan(v[k + 1]) || isnan(v[k + 2]))
                v[k + 1] = v[k + 2] = v[k];
        for (int k = 0; k < 6; k++)
            put_num(o.f, v[k]);
        fputc('\n', o.f);
    }
    if ((rc = hb_afile_commit(&o, err)))
        return rc;
    if ((rc = hb_afile_open(&o, dir, "latency_bars.gp", err)))
        return rc;
    fprintf(o.f, TERMINAL, 1100, 520);
    fprintf(o.f,
            "set output 'latency_bars.png'\n"
            "set multiplot layout 1,2 title 'Latency by policy (successful invocations, all seeds; "
            "whiskers: 95%% bootstrap CI)'\n"
            "set style data histogram\nset style histogram errorbars gap 1 lw 1.5\n"
            "set style fill solid 0.6 border -1\nset yrange [0:*]\nset grid ytics\n"
            "set xlabel 'policy'\nset ylabel 'latency (ms)'\nset key top right\n"
            "set title 'mean latency'\n"
            "plot 'latency_bars.dat' using 2:3:4:xtic(1) title 'mean (95%% CI)' lc rgb '#4e79a7'\n"
            "set title 'p99 latency'\n"
            "plot 'latency_bars.dat' using 5:6:7:xtic(1) title 'p99 (95%% CI)' lc rgb '#e15759'\n"
            "unset multiplot\n");
    return hb_afile_commit(&o, err);
}

/* The forest plot: one row per compared policy, one panel per change, whiskers at the interval
 * (none: lo = hi = the change), a dashed line at no change. */
static int write_forest(const char *dir, const hb_policy_stats *st, const hb_vs_baseline *vs,
                        size_t base, size_t n, hb_error *err)
{
    hb_afile o = {0};
    int rc = hb_afile_open(&o, dir, "forest.dat", err);
    if (rc)
        return rc;
    fprintf(o.f, "# change against the baseline %s in %%, (policy - baseline) / baseline, with "
                 "95%% bootstrap intervals (paired as comparison.json's pairing says)\n"
                 "# policy row mean lo hi p99 lo hi censored_mean lo hi cpu_util_capacity lo hi\n",
            st[base].name);
    size_t row = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == base)
            continue;
        fputc('"', o.f);
        for (const char *c = st[i].name; *c; c++)
            fputc(*c == '"' ? '\'' : *c, o.f);
        fputc('"', o.f);
        fprintf(o.f, " %zu", row++);
        const hb_change *ch[4] = {&vs[i].mean, &vs[i].p99, &vs[i].cens_mean,
                                  &vs[i].cpu_util_capacity};
        for (int k = 0; k < 4; k++) {
            double lo = ch[k]->ci.lo, hi = ch[k]->ci.hi;
            if (isnan(lo) || isnan(hi))
                lo = hi = ch[k]->pct;
            put_num(o.f, ch[k]->pct);
            put_num(o.f, lo);
            put_num(o.f, hi);
        }
        fputc('\n', o.f);
    }
    if ((rc = hb_afile_commit(&o, err)))
        return rc;
    if ((rc = hb_afile_open(&o, dir, "forest.gp", err)))
        return rc;
    int h = 260 + 40 * (int)row;
    fprintf(o.f, TERMINAL, 1400, h);
    fprintf(o.f, "set output 'forest.png'\nset multiplot layout 1,4 title ");
    char title[256];
    snprintf(title, sizeof title, "Change against %s (%%; dots: point estimate, whiskers: 95%% "
             "bootstrap CI; left of 0 is lower)", st[base].name);
    hb_gp_quote(o.f, title);
    fprintf(o.f, "\nset yrange [%zu.5:-0.5]\nset grid xtics\nunset key\n"
                 "set xzeroaxis\nset arrow 1 from 0, graph 0 to 0, graph 1 nohead dt 2 "
                 "lc rgb 'gray30'\nset offsets graph 0.1, graph 0.1, 0, 0\n", row ? row - 1 : 0);
    static const char *const panel[4] = {"mean latency", "p99 latency",
                                         "censored mean latency", "CPU utilization of capacity"};
    for (int k = 0; k < 4; k++) {
        fprintf(o.f, "set title '%s'\nset xlabel 'change (%%)'\n", panel[k]);
        if (k == 0)
            fprintf(o.f, "set ytics out\n");
        else
            fprintf(o.f, "set format y ''\n");
        int any = 0;   /* gnuplot cannot autoscale a panel without a number */
        for (size_t i = 0; i < n; i++) {
            const hb_change *ch[4] = {&vs[i].mean, &vs[i].p99, &vs[i].cens_mean,
                                      &vs[i].cpu_util_capacity};
            any |= i != base && !isnan(ch[k]->pct);
        }
        if (!any) {
            fprintf(o.f, "set xrange [-1:1]\nset label 2 'n/a (no data)' at 0, graph 0.5 center\n"
                         "plot 1/0 notitle\nunset label 2\nset autoscale x\n");
            continue;
        }
        fprintf(o.f, "plot 'forest.dat' using %d:2:%d:%d%s with xerrorbars pt 7 ps 1.2 lw 2 "
                     "lc rgb '#4e79a7'\n", 3 + 3 * k, 4 + 3 * k, 5 + 3 * k,
                k == 0 ? ":ytic(1)" : "");
    }
    fprintf(o.f, "unset multiplot\n");
    return hb_afile_commit(&o, err);
}

static const hb_run *first_run(const hb_results *res, const char *policy)
{
    const hb_policy_runs *pr = hb_results_policy(res, policy);
    return pr && pr->nruns ? &pr->runs[0] : NULL;
}

static int write_usage(const char *dir, const char *policy, const hb_run *run, const char *base,
                       hb_error *err)
{
    const hb_usage *u = &run->usage;
    hb_afile o = {0};
    char name[160];
    snprintf(name, sizeof name, "%s.dat", base);
    int rc = hb_afile_open(&o, dir, name, err);
    if (rc)
        return rc;
    fprintf(o.f, "# %s, seed-%d (seed %.17g): usage.csv summed over invokers\n"
                 "# time_s cpu_capacity cpu_alloc cpu_used mem_capacity_mb mem_alloc_mb "
                 "mem_used_mb\n", policy, run->seed_index, run->seed);
    for (size_t i = 0; i < u->n; i++) {
        fprintf(o.f, "%.10g", u->time_s[i]);
        put_num(o.f, u->cpu_capacity[i]);
        put_num(o.f, u->cpu_alloc[i]);
        put_num(o.f, u->cpu_used[i]);
        put_num(o.f, u->mem_capacity_mb[i]);
        put_num(o.f, u->mem_alloc_mb[i]);
        put_num(o.f, u->mem_used_mb[i]);
        fputc('\n', o.f);
    }
    if ((rc = hb_afile_commit(&o, err)))
        return rc;
    snprintf(name, sizeof name, "%s.gp", base);
    if ((rc = hb_afile_open(&o, dir, name, err)))
        return rc;
    fprintf(o.f, TERMINAL, 1000, 700);
    fprintf(o.f, "set output '%s.png'\n", base);
    fprintf(o.f, "set multiplot layout 2,1 title ");
    char title[256];
    snprintf(title, sizeof title, "%s: resources over time (seed-%d, all invokers)", policy,
             run->seed_index);
    hb_gp_quote(o.f, title);
    fprintf(o.f, "\nset grid\nset key outside right top\nset xlabel 'time (s)'\nset yrange [0:*]\nset offsets 0, 0, graph 0.05, 0\n"
                 "set title 'CPU'\nset ylabel 'cores'\n"
                 "plot '%s.dat' using 1:4 with lines lw 2 title 'used', \\\n"
                 "     '' using 1:3 with lines lw 2 title 'allocated', \\\n"
                 "     '' using 1:2 with lines dt 2 lc rgb 'gray40' title 'capacity'\n"
                 "set title 'Memory'\nset ylabel 'memory (MB)'\n"
                 "plot '%s.dat' using 1:7 with lines lw 2 title 'used', \\\n"
                 "     '' using 1:6 with lines lw 2 title 'allocated', \\\n"
                 "     '' using 1:5 with lines dt 2 lc rgb 'gray40' title 'capacity'\n"
                 "unset multiplot\n", base, base);
    return hb_afile_commit(&o, err);
}

static int harvests(const hb_run *run, const hb_policy_stats *s)
{
    const hb_usage *u = &run->usage;
    if (!u->cpu_harvested)
        return 0;
    if (s->harvested_share > 0 || s->accelerated_share > 0)
        return 1;
    for (size_t i = 0; i < u->n; i++)
        if (u->cpu_harvested[i] > 0 || u->cpu_borrowed[i] > 0 || u->mem_harvested_mb[i] > 0 ||
            u->mem_borrowed_mb[i] > 0)
            return 1;
    return 0;
}

static int write_harvest(const char *dir, const char *policy, const hb_run *run, const char *base,
                         hb_error *err)
{
    const hb_usage *u = &run->usage;
    hb_afile o = {0};
    char name[160];
    snprintf(name, sizeof name, "%s.dat", base);
    int rc = hb_afile_open(&o, dir, name, err);
    if (rc)
        return rc;
    fprintf(o.f, "# %s, seed-%d (seed %.17g): lent and borrowed resources summed over running "
                 "calls and invokers\n"
                 "# time_s cpu_harvested cpu_borrowed mem_harvested_mb mem_borrowed_mb\n",
            policy, run->seed_index, run->seed);
    for (size_t i = 0; i < u->n; i++) {
        fprintf(o.f, "%.10g", u->time_s[i]);
        put_num(o.f, u->cpu_harvested[i]);
        put_num(o.f, u->cpu_borrowed[i]);
        put_num(o.f, u->mem_harvested_mb[i]);
        put_num(o.f, u->mem_borrowed_mb[i]);
        fputc('\n', o.f);
    }
    if ((rc = hb_afile_commit(&o, err)))
        return rc;
    snprintf(name, sizeof name, "%s.gp", base);
    if ((rc = hb_afile_open(&o, dir, name, err)))
        return rc;
    fprintf(o.f, TERMINAL, 1000, 700);
    fprintf(o.f, "set output '%s.png'\n", base);
    fprintf(o.f, "set multiplot layout 2,1 title ");
    char title[256];
    snprintf(title, sizeof title, "%s: harvested (lent) and borrowed resources over time (seed-%d)",
             policy, run->seed_index);
    hb_gp_quote(o.f, title);
    fprintf(o.f, "\nset grid\nset key outside right top\nset xlabel 'time (s)'\nset yrange [0:*]\nset offsets 0, 0, graph 0.05, 0\n"
                 "set title 'CPU'\nset ylabel 'cores'\n"
                 "plot '%s.dat' using 1:2 with lines lw 2 title 'lent (harvested)', \\\n"
                 "     '' using 1:3 with lines lw 2 title 'borrowed (accelerated)'\n"
                 "set title 'Memory'\nset ylabel 'memory (MB)'\n"
                 "plot '%s.dat' using 1:4 with lines lw 2 title 'lent (harvested)', \\\n"
                 "     '' using 1:5 with lines lw 2 title 'borrowed (accelerated)'\n"
                 "unset multiplot\n", base, base);
    return hb_afile_commit(&o, err);
}

void hb_plot_set_free(hb_plot_set *set)
{
    free(set->plots);
    memset(set, 0, sizeof *set);
}

int hb_plots_write(const char *dir, const hb_results *res, const hb_policy_stats *st,
                   const hb_vs_baseline *vs, size_t base_i, size_t n, hb_plot_set *set,
                   hb_error *err)
{
    memset(set, 0, sizeof *set);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return hb_fail_at(err, HB_EIO, dir, 0, NULL, "cannot create: %s", strerror(errno));
    char log[4200];
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    remove(log);

    int any, rc = HB_OK;
    if (n > 1) {   /* the headline first */
        rc = write_forest(dir, st, vs, base_i, n, err);
        if (!rc && !add_plot(set, "forest", "Paired change against the baseline, per policy "
                                            "(forest plot)"))
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
    }
    if (!rc)
        rc = write_cdf(dir, st, n, &any, err);
    if (!rc && any && !add_plot(set, "latency_cdf", "Latency CDF per policy (log x)"))
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
    if (!rc)
        rc = write_bars(dir, st, n, err);
    if (!rc && !add_plot(set, "latency_bars", "Mean and p99 latency with 95% CIs"))
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
    char base[128], part[80], title[160];
    for (size_t i = 0; i < n && !rc; i++) {
        const hb_run *run = first_run(res, st[i].name);
        if (!run || run->usage.n == 0)
            continue;
        file_part(part, sizeof part, st[i].name);
        snprintf(base, sizeof base, "usage_%s", part);
        snprintf(title, sizeof title, "%s: CPU and memory used vs allocated over time", st[i].name);
        rc = write_usage(dir, st[i].name, run, base, err);
        if (!rc && !add_plot(set, base, title))
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
        if (rc || !harvests(run, &st[i]))
            continue;
        snprintf(base, sizeof base, "harvest_%s", part);
        snprintf(title, sizeof title, "%s: lent and borrowed resources over time", st[i].name);
        rc = write_harvest(dir, st[i].name, run, base, err);
        if (!rc && !add_plot(set, base, title))
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
    }
    if (rc)
        return rc;

    if (!hb_find_program("gnuplot")) {
        set->gnuplot_missing = 1;
        return HB_OK;
    }
    for (size_t i = 0; i < set->n; i++) {
        char script[128], png[4200];
        snprintf(script, sizeof script, "%s.gp", set->plots[i].name);
        snprintf(png, sizeof png, "%s/%s.png", dir, set->plots[i].name);
        remove(png);
        struct stat sb;
        if (hb_gnuplot_run(dir, script) == 0 && stat(png, &sb) == 0 && sb.st_size > 0)
            set->plots[i].drawn = 1;
        else
            set->failed++;
    }
    /* keep the log only when it says something */
    struct stat sb;
    if (stat(log, &sb) == 0 && sb.st_size == 0)
        remove(log);
    return HB_OK;
}
