/* cgroup.h - resource-limited process groups on Linux cgroup v1 or v2.
 *
 * One hb_cgroup confines one workload process (and its threads and children): a CPU quota in cores
 * (fractional), a memory limit with swap off, its CPU time, memory use, memory peak and OOM kills,
 * live resizing, and removal. Used by `harvestbench profile` and the local backend.
 *
 * Layout, detected at run time (hb_cgroup_probe):
 *   v1  the cpu, cpuacct and memory hierarchies (cpu and cpuacct may be co-mounted). Each group is
 *       created under the process's *current* group in that hierarchy (from /proc/self/cgroup), so a
 *       machine that accounts its sessions' memory keeps doing so.
 *   v2  the unified hierarchy when it has the cpu and memory controllers: groups live in a parent
 *       "<mount>/harvestbench" that holds no process (the v2 no-internal-process rule), with cpu and
 *       memory enabled down to it; HB_CGROUP_PARENT names another (delegated) parent.
 * A group is named "harvestbench-<pid>-<n>" (pid of the creating process, n a counter), so
 * hb_cgroup_sweep can remove the groups of harvestbench processes that died without cleaning up.
 *
 * Creating groups needs root (or a delegated v2 subtree). Without them every call fails with an
 * error that says what is missing. Not thread-safe per group; distinct groups are independent. */
#ifndef HB_CGROUP_H
#define HB_CGROUP_H

#include <stdint.h>
#include <sys/types.h>

#include "hb_error.h"

#define HB_CGROUP_PREFIX "harvestbench-"
#define HB_CGROUP_PATH_MAX 512

typedef struct hb_cgroup {
    int version;                       /* 1 or 2 */
    char name[64];                     /* harvestbench-<pid>-<n> */
    /* v1: one directory per hierarchy (cpu and cpuacct equal when co-mounted); v2: dir[0] */
    char dir[3][HB_CGROUP_PATH_MAX];   /* [0] cpu (v2: the group), [1] cpuacct, [2] memory */
    int ndirs;                         /* distinct directories created: 1 (v2) to 3 (v1) */
} hb_cgroup;

typedef struct hb_cgroup_usage {
    uint64_t cpu_ns;                   /* CPU time of every task ever in the group */
    uint64_t mem_bytes;                /* memory charged now (v1 usage_in_bytes, v2 memory.current) */
    int64_t mem_peak_bytes;            /* highest charge so far; -1 when the kernel has no peak file */
    int64_t oom_kills;                 /* tasks killed by the OOM killer; -1 when not reported */
} hb_cgroup_usage;

/* Where the child's standard streams go: an fd to dup2 onto 0, 1, 2 and 3, or -1 (0-2: inherit;
 * 3: closed). Every other descriptor is closed in the child. */
typedef struct hb_spawn_fds {
    int in, out, err, fd3;
} hb_spawn_fds;

/* Can this process create groups? Returns 1 (version in *version), or 0 with the reason in why. */
int hb_cgroup_probe(int *version, char *why, size_t whylen);

/* Creates a new, unlimited group. */
int hb_cgroup_create(hb_cgroup *cg, hb_error *err);

/* Creates a new, unlimited group nested inside `parent` (NULL: as hb_cgroup_create), so that the
 * parent's limits bound it and removing the parent removes it. */
int hb_cgroup_create_in(hb_cgroup *cg, const hb_cgroup *parent, hb_error *err);

/* Sets (or, live, changes) the CPU quota: cores > 0, over a 100 ms period; cores <= 0: no limit. */
int hb_cgroup_set_cpu(hb_cgroup *cg, double cores, hb_error *err);

/* Sets (or changes) the memory limit in MB (2^20 bytes), with swap off: mb <= 0: no limit.
 * Shrinking below what the group uses fails (v1) or reclaims/kills (v2), as the kernel decides. */
int hb_cgroup_set_memory(hb_cgroup *cg, double mb, hb_error *err);

/* Sets the group's CPU weight against its siblings when cores compete, in cgroup v1 cpu.shares
 * units (1024 = a default task; clamped to 2..262144; v2 cpu.weight is shares * 100 / 1024). */
int hb_cgroup_set_weight(hb_cgroup *cg, double shares, hb_error *err);

/* Restarts the memory peak at the current usage (v1 memory.max_usage_in_bytes). Returns -1 when
 * the kernel cannot (v2's memory.peak resets only per open file). */
int hb_cgroup_reset_peak(hb_cgroup *cg);

/* Forks a child that moves itself into the group and then execs argv[0] (a path) with argv; the
 * group applies from its first instruction. Errors before exec (the move, exec itself) come back
 * here as an error naming the step. The child calls only async-signal-safe functions before exec,
 * so a threaded caller may spawn. The caller reaps the child (waitpid). */
int hb_cgroup_spawn(hb_cgroup *cg, char *const argv[], const hb_spawn_fds *fds, pid_t *pid,
                    hb_error *err);
/* The same with an environment (envp) and a working directory (dir; NULL: this one) for the
 * child; cg may be NULL (no group: a plain spawn). */
int hb_cgroup_spawn_env(const hb_cgroup *cg, char *const argv[], char *const envp[], const char *dir,
                        const hb_spawn_fds *fds, pid_t *pid, hb_error *err);

/* What a spawned child also does before exec (hb_cgroup_spawn_as). */
typedef struct hb_spawn_as {
    int procs_fd;                      /* >= 0: an open cgroup.procs of another group to join (the
                                        * pids controller's), written "0" */
    int drop;                          /* 1: no supplementary groups, gid, uid, no new privileges */
    uid_t uid;
    gid_t gid;
} hb_spawn_as;

/* hb_cgroup_spawn_env, then `as` (NULL: nothing more): for actions run as another user. */
int hb_cgroup_spawn_as(const hb_cgroup *cg, const hb_spawn_as *as, char *const argv[],
                       char *const envp[], const char *dir, const hb_spawn_fds *fds, pid_t *pid,
                       hb_error *err);

/* Moves a running process (all its threads) into the group. */
int hb_cgroup_attach(hb_cgroup *cg, pid_t pid, hb_error *err);

int hb_cgroup_usage_read(const hb_cgroup *cg, hb_cgroup_usage *u, hb_error *err);

/* Kills what still runs in the group and in groups nested in it (SIGKILL), waits for them to empty
 * (up to 2 s each), removes them. */
int hb_cgroup_remove(hb_cgroup *cg, hb_error *err);

/* Removes every harvestbench group whose creating process no longer runs, anywhere in the
 * hierarchies (v1: cpu, cpuacct, memory, pids; v2: the unified tree, or HB_CGROUP_PARENT), at any
 * depth, with the groups nested in it: each is emptied first (its tasks killed), deepest first.
 * *removed (may be NULL) counts the groups removed (a v1 group spanning hierarchies counts once). */
int hb_cgroup_sweep(int *removed, hb_error *err);

/* Action directories are named HB_WORK_DIR_PREFIX "<pid>.XXXXXX" (pid of the creating process), so
 * that a sweep can tell whose they are. */
#define HB_WORK_DIR_PREFIX "harvestbench-local."

/* What every command that makes groups calls at start: hb_cgroup_sweep (when this process can
 * manage groups) and the removal of action directories (HB_WORK_DIR_PREFIX, under $TMPDIR and /tmp)
 * of processes that no longer run. Says on stderr, as "harvestbench WHO: removed ...", how many it
 * removed (nothing when none), and warns about what it could not remove. Returns the count. */
int hb_cgroup_sweep_stale(const char *who);

#endif
