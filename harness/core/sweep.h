/* sweep.h - the [sweep] section of a configuration and its cells (docs/sweeps.md).
 *
 * Each key of [sweep] is an axis with a list of values: a configuration key SECTION.KEY (any key
 * `--set` accepts: cluster.invokers = 1, 10) or one of the derived axes overprovisioned_share,
 * overprovision_ratio and underprovision_ratio, which set every function's user CPU and memory
 * ([function.ID] user_cpu and user_mem_mb). Values are separated by commas, or by `|` when the
 * list holds a `|` (for values with commas: function.dh.cpu_clip = 1,4 | 1,8). `seed` is not an
 * axis: it seeds the rule choosing the over-provisioned functions (default: [experiment] seed).
 *
 * The cells are the cartesian product of the axes in file order, the last axis varying fastest;
 * cell k has the id "%04zu" of k, so the same [sweep] section gives the same ids. A cell is an
 * ordinary `harvestbench run` of the configuration with the cell's --set assignments, written to
 * DIR/cells/ID/ (beside it DIR/cells/ID.json records the cell's values). */
#ifndef HB_SWEEP_H
#define HB_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "experiment_run.h"
#include "hb_error.h"

#define SWEEP_ID_MAX 24

typedef struct sweep_axis {
    char key[128];                     /* "cluster.invokers", or a derived name */
    int derived;                       /* one of the three derived axes */
    long line;                         /* of its key in the configuration file */
    char **values;                     /* as written, trimmed */
    double *num;                       /* derived axes: the values as numbers */
    size_t n;
} sweep_axis;

typedef struct sweep {
    char config[HB_PATH_MAX];          /* the configuration file, absolute */
    char out[HB_PATH_MAX];             /* the sweep directory, absolute once sweep_prepare_out ran */
    char exe[HB_PATH_MAX];             /* the harvestbench binary that runs the cells */
    char name[64];                     /* [experiment] name */
    sweep_axis *axes;
    size_t naxes, ncells;
    uint64_t seed;                     /* of the over-provisioned functions' rule */
    int has_derived;
    double base_cpu[HB_NWORKLOADS], base_mem_mb[HB_NWORKLOADS];   /* the configuration's user sizes */
} sweep;

/* Reads the [sweep] section of a configuration and checks every axis value against the
 * configuration (as --set would), before anything runs. Errors name file:line: key, HB_EINPUT. */
int sweep_load(const char *config_path, sweep *s, hb_error *err);
void sweep_free(sweep *s);

/* Opens the sweep stored in DIR (DIR/sweep.json names its configuration), for --collect and
 * --cell: the configuration must still describe the same sweep (its hash; the values, checked when
 * the sweep started, are not checked again). s->out is DIR, absolute. */
int sweep_load_dir(const char *dir, sweep *s, hb_error *err);

/* The value index of axis a in cell c. */
size_t sweep_value_index(const sweep *s, size_t cell, size_t axis);
/* The id of a cell ("0007"); id must hold SWEEP_ID_MAX bytes. */
void sweep_cell_id(size_t cell, char *id);
/* Parses an id back into a cell index; -1 if it is not one of this sweep's. */
int sweep_cell_parse(const sweep *s, const char *id, size_t *cell);

/* The over-provisioned functions for a share: the first round(share x N) functions in the order of
 * FNV-1a 64 of "SEED:ID" (ties by catalog order). over[f] = 1 for those. Nested in the share. */
void sweep_overprovisioned(uint64_t seed, double share, int over[HB_NWORKLOADS]);

/* The SECTION.KEY=VALUE assignments of a cell (axes in order, then the derived user sizes of
 * every function). *sets is an array of n malloc'd strings; free with sweep_sets_free. */
int sweep_cell_sets(const sweep *s, size_t cell, char ***sets, size_t *n, hb_error *err);
void sweep_sets_free(char **sets, size_t n);

/* Paths under DIR: cells/ID (the run), cells/ID.json (its values), logs/ID.log (its output). */
void sweep_cell_dir(const sweep *s, size_t cell, char *buf, size_t n);
/* DIR/cells/ID.rows.EXT: the cell's rows of sweep.csv (EXT csv) and sweep.md (md), written when
 * the cell has run (sweep_report.h) and removed before it runs again. */
void sweep_rows_path(const sweep *s, size_t cell, const char *ext, char *buf, size_t n);
/* 1 when the cell's manifest says "complete". */
int sweep_cell_done(const sweep *s, size_t cell);

/* Creates DIR (and cells/, logs/), makes s->out absolute and writes DIR/sweep.json (the axes and
 * cell ids). Without resume, a DIR holding cells is refused (HB_EINPUT); with it, the stored
 * sweep.json must describe the same sweep. */
int sweep_prepare_out(sweep *s, const char *dir, int resume, hb_error *err);

/* Starts one cell as a child process `harvestbench sweep CONFIG --out DIR --cell ID --quiet`
 * (which runs it and writes its rows of sweep.csv, sweep_report.h), its output in DIR/logs/ID.log;
 * the child dies with us. What --jobs and the Slurm array tasks run. */
int sweep_spawn_cell(const sweep *s, size_t cell, pid_t *pid, hb_error *err);
/* What the caller of sweep_run_cell sees of the run (NULL members: nothing). */
typedef struct sweep_cell_hooks {
    void (*on_run)(void *ctx, const hb_run_entry *run, const hb_run_stats *st, const hb_error *err);
    void *on_run_ctx;
    void (*on_result)(const hb_run_result *res);     /* once, after the runs */
} sweep_cell_hooks;

/* Runs one cell to its end in this process: what `harvestbench run CONFIG --out DIR/cells/ID
 * --quiet --set ...` does (with --resume when the cell has a manifest), through hb_experiment_run
 * (experiment_run.h). Removes the cell's stale rows first. HB_OK; else the run's code (HB_EINTR
 * when interrupted) with err naming the cell. hooks may be NULL. This is the one place a cell's
 * run is started. */
int sweep_run_cell(const sweep *s, size_t cell, const sweep_cell_hooks *hooks, hb_error *err);

/* Runs every cell not yet complete, jobs at a time, progress on stderr unless quiet. Returns HB_OK,
 * or HB_ERUN with the failed cells listed in err; the others keep running to their end. */
int sweep_run_local(const sweep *s, int jobs, int quiet, hb_error *err);

#endif
