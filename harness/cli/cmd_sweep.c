/* cmd_sweep.c - `harvestbench sweep`: the flags; the work is in sweep.c, sweep_slurm.c and
 * sweep_report.c (docs/sweeps.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "compare_opts.h"
#include "run_print.h"
#include "sweep.h"
#include "sweep_report.h"
#include "sweep_slurm.h"

static const char usage[] =
    "usage: harvestbench sweep CONFIG [--out DIR] [--jobs N] [--resume] [--quiet]\n"
    "       harvestbench sweep CONFIG --slurm [--partition P] [--time T] [--cells-per-task N]\n"
    "                          [--sbatch-arg ARG]... [--no-wait] [--out DIR] [--resume]\n"
    "       harvestbench sweep --collect DIR\n"
    "       harvestbench sweep CONFIG --out DIR --cell ID\n"
    "       harvestbench sweep plot DIR --x AXIS --y AXIS [--policy P] [--metric M]\n"
    "\n"
    "Runs the configuration once per cell of its [sweep] section (the cartesian product of the\n"
    "axes; docs/sweeps.md), each cell an ordinary run directory DIR/cells/ID/, and merges them\n"
    "into DIR/sweep.csv (a row per cell and policy: the axis values, the paired changes against\n"
    "the baseline with 95% intervals, harvesting rates) and DIR/sweep.md.\n"
    "\n"
    "  --out DIR            sweep directory (default: results/NAME-sweep)\n"
    "  --jobs N             cells run at once, as processes (default: the machine's cores)\n"
    "  --resume             continue a sweep in DIR: complete cells are kept\n"
    "  --quiet              no progress lines on stderr\n"
    "  --slurm              run the cells as a Slurm job array (sbatch), wait, merge\n"
    "  --partition P, --time T   the array's partition and time limit\n"
    "  --cells-per-task N   cells per array task (default: 1)\n"
    "  --sbatch-arg ARG     one more sbatch argument (repeatable), e.g. --sbatch-arg=--account=X\n"
    "  --no-wait            submit and return; merge later with --collect DIR\n"
    "  --collect DIR        merge a sweep whose cells ran elsewhere (lists cells not complete)\n"
    "  --cell ID            run one cell of the sweep in DIR (what an array task runs)\n"
    "  plot                 heatmaps DIR/plots/heatmap_*.png of the change against the baseline\n"
    "                       over two axes, per policy (default: every policy but the baseline);\n"
    "                       --metric mean (default), p99, cens_mean, cpu_util, mem_util, success\n"
    "\n"
    "Exit status: 0 merged, 1 a cell failed or was interrupted (continue with --resume), 2 bad\n"
    "usage or a bad [sweep] section (nothing runs).\n";

static int fail(const char *what, const hb_error *err, int rc)
{
    fprintf(stderr, "harvestbench sweep: %s%s%s\n", what, *what ? ": " : "", err->msg);
    return hb_exit_status(rc);
}

static int cmd_plot(int argc, char **argv)
{
    const char *dir = NULL, *x = NULL, *y = NULL, *pol = NULL, *metric = "mean", *v;
    for (int i = 2; i < argc; i++) {
        int r = 0;
        if ((r = hb_opt_value(argc, argv, &i, "--x", &v)) > 0)
            x = v;
        else if (r == 0 && (r = hb_opt_value(argc, argv, &i, "--y", &v)) > 0)
            y = v;
        else if (r == 0 && (r = hb_opt_value(argc, argv, &i, "--policy", &v)) > 0)
            pol = v;
        else if (r == 0 && (r = hb_opt_value(argc, argv, &i, "--metric", &v)) > 0)
            metric = v;
        else if (r < 0)
            return hb_usage_error("sweep", "%s needs a value", argv[i]);
        else if (argv[i][0] == '-' || dir)
            return hb_usage_error("sweep", "plot: unexpected argument '%s'", argv[i]);
        else
            dir = argv[i];
    }
    if (!dir || !x || !y)
        return hb_usage_error("sweep", "plot needs DIR, --x AXIS and --y AXIS");
    hb_error err = {0};
    int drawn = 0, rc = sweep_plot(dir, x, y, pol, metric, &drawn, &err);
    if (rc)
        return fail("plot", &err, rc);
    if (!drawn)
        fprintf(stderr, "harvestbench sweep: warning: no plot drawn (is gnuplot on PATH? see "
                        "%s/plots/gnuplot.log); the data and scripts are written\n", dir);
    return 0;
}

typedef struct opts {
    const char *config, *out, *cell, *collect;
    int jobs, resume, quiet, slurm, wait;
    sweep_slurm_opts so;
} opts;

static int parse(int argc, char **argv, opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int r;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 1;
        }
#define VALUE(flag) ((r = hb_opt_value(argc, argv, &i, flag, &v)) != 0)
        if (VALUE("--out") || VALUE("--cell") || VALUE("--collect") || VALUE("--jobs") ||
            VALUE("--partition") || VALUE("--time") || VALUE("--cells-per-task") ||
            VALUE("--sbatch-arg")) {
            const char *flag = strncmp(a, "--", 2) == 0 ? a : "";
            if (r < 0)
                return hb_usage_error("sweep", "%s needs a value", a), -1;
            char name[32];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(flag, "="), flag);
            char *end;
            long n = 0;
            if (strcmp(name, "--jobs") == 0 || strcmp(name, "--cells-per-task") == 0) {
                n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 100000)
                    return hb_usage_error("sweep", "%s: '%s' must be an integer >= 1", name, v), -1;
            }
            if (strcmp(name, "--out") == 0) o->out = v;
            else if (strcmp(name, "--cell") == 0) o->cell = v;
            else if (strcmp(name, "--collect") == 0) o->collect = v;
            else if (strcmp(name, "--jobs") == 0) o->jobs = (int)n;
            else if (strcmp(name, "--partition") == 0) o->so.partition = v;
            else if (strcmp(name, "--time") == 0) o->so.time = v;
            else if (strcmp(name, "--cells-per-task") == 0) o->so.cells_per_task = (int)n;
            else {
                char **na = realloc(o->so.sbatch_args, (o->so.n_sbatch_args + 1) * sizeof *na);
                if (!na)
                    return fprintf(stderr, "harvestbench sweep: out of memory\n"), -1;
                o->so.sbatch_args = na;
                na[o->so.n_sbatch_args++] = (char *)v;
            }
        } else if (strcmp(a, "--resume") == 0) o->resume = 1;
        else if (strcmp(a, "--quiet") == 0) o->quiet = 1;
        else if (strcmp(a, "--slurm") == 0) o->slurm = 1;
        else if (strcmp(a, "--no-wait") == 0) o->wait = 0;
        else if (a[0] == '-' && a[1])
            return hb_usage_error("sweep", "unknown option '%s'", a), -1;
        else if (!o->config) o->config = a;
        else
            return hb_usage_error("sweep", "unexpected argument '%s'", a), -1;
#undef VALUE
    }
    if (!o->config && !o->collect)
        return hb_usage_error("sweep", "missing the configuration file CONFIG"), -1;
    if (o->collect && (o->config || o->cell || o->slurm))
        return hb_usage_error("sweep", "--collect DIR takes no CONFIG, --cell or --slurm"), -1;
    if (o->cell && (!o->out || o->slurm))
        return hb_usage_error("sweep", "--cell ID needs --out DIR (and no --slurm)"), -1;
    return 0;
}

/* A --cell's log (DIR/logs/ID.log) gets what `run --quiet` prints: failed runs, closing table. */
static int quiet_flag = 1;
static void print_result(const hb_run_result *res) { hb_print_run_result(res, 1); }

/* Merges the cells of s into sweep.csv and sweep.md. */
static int merge(const sweep *s, int quiet)
{
    hb_error err = {0};
    int rc = sweep_report_write(s, &err);
    if (rc)
        return fail("", &err, rc);
    if (!quiet)
        fprintf(stderr, "sweep: merged %zu cells\n", s->ncells);
    printf("Written: %s/sweep.csv, sweep.md\n", s->out);
    return 0;
}

static int run(opts *o)
{
    hb_error err = {0};
    sweep s;
    int rc;
    if (o->collect) {
        if ((rc = sweep_load_dir(o->collect, &s, &err)))
            return fail("--collect", &err, rc);
        rc = sweep_slurm_check(&s, &err);
        rc = rc ? fail("", &err, rc) : merge(&s, o->quiet);
        sweep_free(&s);
        return rc;
    }
    if (o->cell) {
        /* the sweep as DIR/sweep.json records it; a changed CONFIG is refused there */
        size_t c = 0;
        if ((rc = sweep_load_dir(o->out, &s, &err)))
            return fail("--cell", &err, rc);
        if (sweep_cell_parse(&s, o->cell, &c))
            rc = hb_fail(&err, HB_EINPUT, "--cell: '%s' is not a cell of this sweep (0000 to "
                         "%04zu)", o->cell, s.ncells - 1);
        else if (!sweep_cell_done(&s, c)) {
            sweep_cell_hooks h = {hb_print_run_line, &quiet_flag, print_result};
            rc = sweep_run_cell(&s, c, &h, &err);  /* removes the cell's old rows */
        }
        char rows[HB_PATH_MAX + 64];
        sweep_rows_path(&s, c, "csv", rows, sizeof rows);
        if (!rc && access(rows, R_OK) != 0)
            rc = sweep_report_cell(&s, c, &err);   /* its rows, computed here, in parallel */
        sweep_free(&s);
        return rc ? fail("", &err, rc) : 0;
    }
    if ((rc = sweep_load(o->config, &s, &err)))
        return fail("", &err, rc);
    char def[200];
    snprintf(def, sizeof def, "results/%s-sweep", s.name);
    if ((rc = sweep_prepare_out(&s, o->out ? o->out : def, o->resume, &err))) {
        sweep_free(&s);
        return fail("", &err, rc);
    }
    if (!o->quiet)
        fprintf(stderr, "sweep: %zu cells of %s into %s\n", s.ncells, s.config, s.out);
    if (o->slurm) {
        char job[64];
        int ntasks = 0;
        rc = sweep_slurm_submit(&s, &o->so, job, sizeof job, &ntasks, &err);
        if (!rc && ntasks && !o->quiet)
            fprintf(stderr, "sweep: submitted Slurm job %s (%d array task(s))\n", job, ntasks);
        if (!rc && ntasks && !o->wait) {
            printf("Submitted Slurm job %s; when it has finished: harvestbench sweep --collect %s\n",
                   job, s.out);
            sweep_free(&s);
            return 0;
        }
        if (!rc && ntasks)
            rc = sweep_slurm_wait(&s, job, o->quiet, &err);
        if (!rc)
            rc = sweep_slurm_check(&s, &err);
    } else {
        rc = sweep_run_local(&s, o->jobs, o->quiet, &err);
    }
    rc = rc ? fail("", &err, rc) : merge(&s, o->quiet);
    sweep_free(&s);
    return rc;
}

int cmd_sweep(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "plot") == 0)
        return cmd_plot(argc, argv);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    opts o = {.jobs = cores > 0 ? (int)cores : 1, .wait = 1, .so = {.cells_per_task = 1}};
    int r = parse(argc, argv, &o);
    if (r == 0) {
        o.so.quiet = o.quiet;
        r = run(&o);
    } else {
        r = r > 0 ? 0 : 2;
    }
    free(o.so.sbatch_args);
    return r;
}
