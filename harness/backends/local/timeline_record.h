/* timeline_record.h - recording one call's usage timeline while it runs (`harvestbench profile`).
 *
 * The recorder spawns the call (in its cgroup, or as a plain child), collects its standard output,
 * and every `fine_ms` (10 ms in `profile`) takes one reading from outside the call:
 *   cgroup  CPU: the group's cumulative CPU time (v1 cpuacct.usage, v2 cpu.stat usage_usec);
 *           memory: the group's anonymous resident memory (v1 memory.stat `rss`, which already
 *           includes `rss_huge`; v2 memory.stat `anon`); no page cache;
 *   pid     CPU: utime + stime of /proc/PID/stat (clock ticks); memory: resident set of
 *           /proc/PID/statm;
 *   both    runnable: the threads in state R (running, or runnable and waiting - also when the CFS
 *           quota throttles them) over every process of the call (/proc/PID/task/TID/stat).
 * The readings are then cut into the 100 ms samples of the timeline library
 * (docs: workloads/profiles/README.md, "timelines"): a sample's CPU is the cumulative CPU
 * interpolated linearly at its two ends, divided by its length; its memory and runnable threads are
 * those of the last reading at or before its end. The samples start when the call's own code starts
 * (given by the caller from the call's result), so the process start is not in the timeline.
 * Sampling from outside keeps the sample times exact: a sampler thread inside the group would be
 * throttled with it. */
#ifndef HB_TIMELINE_RECORD_H
#define HB_TIMELINE_RECORD_H

#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "common/cgroup.h"
#include "hb_error.h"

#define HB_TL_PERIOD_MS 100            /* the library's sample period */
#define HB_TL_FINE_MS 10               /* `profile`'s reading period */
#define HB_TL_HEADER "function_id,size,cpu_limit,repeat,t_ms,dt_ms,cpu_cores,mem_mb,runnable"

/* One reading: monotonic time (s), cumulative CPU (s), memory (MB, < 0 unknown), runnable threads
 * (-1 unknown). */
typedef struct hb_tl_reading {
    double t, cpu_s, mem_mb;
    int runnable;
} hb_tl_reading;

/* One sample of a timeline (a row of the library, without its run key). */
typedef struct hb_tl_row {
    int64_t t_ms, dt_ms;
    double cpu_cores, mem_mb;
    int runnable;
} hb_tl_row;

typedef struct hb_tlrec {
    hb_tl_reading *r;
    size_t n, cap;
    double mono0, real0;               /* CLOCK_MONOTONIC and CLOCK_REALTIME just before the spawn */
    double mono_exit;                  /* when the child was reaped */
    double max_gap_s;                  /* the longest interval between two readings */
} hb_tlrec;

/* Spawns argv (argv[0] a path) inside cg (NULL: a plain child), reads its standard output into
 * *out (NUL-terminated; at most out_max bytes, more is an error), and takes a reading every fine_ms
 * until it exits, plus one after. *status receives the wait status, *ru its rusage. rec must be
 * zeroed; its readings stay in it (hb_tlrec_free). */
int hb_tlrec_spawn_run(hb_tlrec *rec, const hb_cgroup *cg, char *const argv[], int fine_ms,
                       size_t out_max, char **out, int *status, struct rusage *ru, hb_error *err);

/* Takes one reading of cg (or of pid when cg is NULL) at monotonic time now. Returns 0, -1 when
 * not even the CPU could be read, or HB_ENOMEM when it could not be stored (the reading is then
 * not stored). */
int hb_tlrec_read(hb_tlrec *rec, const hb_cgroup *cg, pid_t pid, double now);

void hb_tlrec_free(hb_tlrec *rec);

/* Cuts readings r[0..n) (in time order) into period_ms samples over [start, end] (monotonic s):
 * t_ms = 0, period, 2 period, ...; the last sample is shorter (a remainder under 1 ms is merged into
 * the sample before). Fails when there are no readings or end <= start. *rows is malloc'd. */
int hb_tl_aggregate(const hb_tl_reading *r, size_t n, double start, double end, int period_ms,
                    hb_tl_row **rows, size_t *nrows, hb_error *err);

/* The call's timeline from rec's readings: 100 ms samples from the moment its code started
 * (start_epoch, CLOCK_REALTIME seconds, as its result reports it; NAN: the spawn) for wall_s
 * seconds, mapped onto the readings' monotonic clock, and never past the child's exit. */
int hb_tlrec_timeline(const hb_tlrec *rec, double start_epoch, double wall_s, hb_tl_row **rows,
                      size_t *nrows, hb_error *err);

/* Writes the rows of one run in the library's format (no header). Returns 0 or -1 (write error). */
int hb_tl_write_run(FILE *f, const char *function_id, int64_t size, double cpu_limit, int repeat,
                    const hb_tl_row *rows, size_t n);

/* Threads in state R over the processes listed in a cgroup.procs file (dir/cgroup.procs), or of
 * pid alone (dir NULL). -1 when nothing could be read. */
int hb_tl_runnable(const char *dir, pid_t pid);

#endif
