/* sweep_slurm.h - a sweep's cells as a Slurm job array (docs/sweeps.md).
 *
 * DIR/slurm/sweep.sbatch runs, in array task t, the cells of chunk t one after the other as
 * `harvestbench sweep CONFIG --out DIR --cell ID`, its output in DIR/slurm/task-<t>.log. Only the
 * cells not yet complete are submitted, so a resubmission (--resume) runs what failed. DIR and the
 * binary must be on a filesystem the compute nodes share. */
#ifndef HB_SWEEP_SLURM_H
#define HB_SWEEP_SLURM_H

#include <stddef.h>

#include "hb_error.h"
#include "sweep.h"

typedef struct sweep_slurm_opts {
    const char *partition;             /* NULL: the cluster's default */
    const char *time;                  /* NULL: the partition's default */
    int cells_per_task;                /* >= 1 */
    char **sbatch_args;                /* extra sbatch arguments, passed as they are */
    size_t n_sbatch_args;
    int quiet;
} sweep_slurm_opts;

/* Writes DIR/slurm/sweep.sbatch and DIR/slurm/tasks.json (the cells of each task), submits with
 * `sbatch --parsable`, and puts the job id in jobid. *ntasks = 0 when every cell is complete
 * (nothing submitted). */
int sweep_slurm_submit(const sweep *s, const sweep_slurm_opts *o, char *jobid, size_t n,
                       int *ntasks, hb_error *err);
/* Waits until the job has left the queue (squeue, every 2 s), progress on stderr unless quiet. */
int sweep_slurm_wait(const sweep *s, const char *jobid, int quiet, hb_error *err);
/* Lists on stderr every cell not complete with the log of the array task that ran it (from
 * DIR/slurm/tasks.json). HB_OK when all are complete, else HB_ERUN. */
int sweep_slurm_check(const sweep *s, hb_error *err);

#endif
