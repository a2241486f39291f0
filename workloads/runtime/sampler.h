/* sampler.h - CPU and memory usage of this process, sampled every interval by a thread.
 *
 * Sources (chosen at start):
 *   proc       CPU: CLOCK_PROCESS_CPUTIME_ID (all threads, ns resolution, unlike the 10 ms ticks of
 *              /proc/self/stat); memory: resident set from /proc/self/statm.
 *   cgroup-v1  the process's cpuacct group (cpuacct.usage, ns) and memory group
 *              (memory.usage_in_bytes minus total_inactive_file, as the Libra artifact's monitor did);
 *   cgroup-v2  cpu.stat usage_usec; memory.current minus inactive_file.
 * A cgroup is used when the process has one of its own: a group whose name starts with
 * "harvestbench-" (the local executor's) or a container's group (a path naming docker, kubepods,
 * containerd or libpod). A container with its own cgroup namespace sees its group as "/", which
 * cannot be told from the whole machine: set HB_SAMPLER=cgroup in such an image. HB_SAMPLER=
 * proc|cgroup|auto overrides the choice (cgroup falls back to proc, with the reason in `note`, when
 * unreadable).
 *
 * The thread wakes on absolute deadlines start + k*interval (no drift), takes one reading, and goes
 * back to a timed wait on a condition variable, so stopping it wakes it at once. Each start has
 * exactly one stop, which joins the thread: warm processes keep no sampler threads between calls
 * (the artifact's monitor leaked one per call).
 *
 * Series: mem has a reading at start (t = 0) and at each tick; cpu has at each tick the cores used
 * over the interval that ended there. Stop adds a last, partial interval when it is at least 20 ms.
 * Peaks: the maxima of the series (the last partial interval counts for CPU only when it is at least
 * half an interval long or the only one). */
#ifndef WL_SAMPLER_H
#define WL_SAMPLER_H

#include <stddef.h>

typedef struct wl_series {
    size_t n, cap;
    double *t;                         /* Unix epoch seconds */
    double *v;                         /* cores or MB */
} wl_series;

typedef struct wl_sampler wl_sampler;

/* Starts sampling. Returns 0, or -1 with a message in err (no memory, no thread). */
int wl_sampler_start(wl_sampler **out, int interval_ms, char *err, size_t errlen);

/* Stops the thread (joins it) and takes the final reading. Call exactly once per start. */
void wl_sampler_stop(wl_sampler *s);

const wl_series *wl_sampler_cpu(const wl_sampler *s);
const wl_series *wl_sampler_mem(const wl_sampler *s);
double wl_sampler_cpu_peak(const wl_sampler *s);
double wl_sampler_mem_peak(const wl_sampler *s);
double wl_sampler_cpu_seconds(const wl_sampler *s);   /* CPU time used between start and stop */
const char *wl_sampler_source(const wl_sampler *s);   /* "proc", "cgroup-v1", "cgroup-v2" */
const char *wl_sampler_note(const wl_sampler *s);     /* why a cgroup was not used, or "" */

void wl_sampler_free(wl_sampler *s);

#endif
