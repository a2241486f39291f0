/* test_cgroup.c - the cgroup module: groups are created and removed, a spawned child is inside its
 * group from the start, the CPU quota and memory limit are enforced, usage/peak/OOM kills are read,
 * limits change live, and stale groups of dead processes are swept.
 *
 * Needs root and a cgroup hierarchy; without them it checks instead that creating a group fails
 * with a message saying what is missing. The test re-executes itself as the confined child
 * (argv[1] = --busy S | --alloc MB | --cgroup | --sleep S). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "common/cgroup.h"

#include "hb_test.h"

static char self[512];

/* ---- the child's roles ---- */

static int child_main(int argc, char **argv)
{
    double x = argc > 2 ? atof(argv[2]) : 0;
    if (strcmp(argv[1], "--busy") == 0) {
        volatile unsigned long n = 0;
        double end = hb_mono_s() + x;
        while (hb_mono_s() < end)
            n++;
        return 0;
    }
    if (strcmp(argv[1], "--alloc") == 0) {
        size_t bytes = (size_t)(x * 1048576.0);
        char *p = malloc(bytes);
        if (!p)
            return 3;
        for (size_t i = 0; i < bytes; i += 4096)
            ((volatile char *)p)[i] = 1;
        usleep(100 * 1000);
        free(p);
        return 0;
    }
    if (strcmp(argv[1], "--cgroup") == 0) {
        FILE *f = fopen("/proc/self/cgroup", "r");
        char line[512];
        while (f && fgets(line, sizeof line, f))
            fputs(line, stdout);
        if (f)
            fclose(f);
        return 0;
    }
    if (strcmp(argv[1], "--sleep") == 0) {
        usleep((useconds_t)(x * 1e6));
        return 0;
    }
    return 2;
}

/* ---- helpers ---- */

static hb_cgroup cg;

static void setup(void)
{
    hb_error err;
    ck_assert_msg(hb_cgroup_create(&cg, &err) == HB_OK, "%s", err.msg);
}

static void teardown(void)
{
    hb_error err;
    hb_cgroup_remove(&cg, &err);
}

static pid_t spawn(const char *role, const char *arg, int out)
{
    char *argv[] = {self, (char *)role, (char *)arg, NULL};
    hb_spawn_fds fds = {-1, out, -1, -1};
    pid_t pid;
    hb_error err;
    ck_assert_msg(hb_cgroup_spawn(&cg, argv, &fds, &pid, &err) == HB_OK, "%s", err.msg);
    return pid;
}

static int wait_status(pid_t pid)
{
    int st;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    return st;
}

static long long read_ll(const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "r");
    long long v = -12345;
    if (f) {
        if (fscanf(f, "%lld", &v) != 1)
            v = -12345;
        fclose(f);
    }
    return v;
}

/* ---- tests ---- */

START_TEST(create_and_remove)
{
    char name[64];
    snprintf(name, sizeof name, HB_CGROUP_PREFIX "%d-", (int)getpid());
    ck_assert_int_eq(strncmp(cg.name, name, strlen(name)), 0);
    for (int k = 0; k < 3; k++) {
        struct stat st;
        ck_assert_msg(stat(cg.dir[k], &st) == 0 && S_ISDIR(st.st_mode), "%s", cg.dir[k]);
        ck_assert_ptr_nonnull(strstr(cg.dir[k], cg.name));
    }
    char dirs[3][HB_CGROUP_PATH_MAX];
    memcpy(dirs, cg.dir, sizeof dirs);
    hb_error err;
    ck_assert_int_eq(hb_cgroup_remove(&cg, &err), HB_OK);
    for (int k = 0; k < 3; k++)
        ck_assert_int_ne(access(dirs[k], F_OK), 0);
}
END_TEST

START_TEST(child_is_in_the_group_from_the_start)
{
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = spawn("--cgroup", NULL, p[1]);
    close(p[1]);
    char buf[4096];
    size_t n = 0;
    ssize_t r;
    while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    buf[n] = '\0';
    close(p[0]);
    ck_assert(WIFEXITED(wait_status(pid)));
    /* every hierarchy we use lists the group: cpu, cpuacct, memory (v1) or the unified line */
    int lines = 0;
    for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
        int ours = strstr(l, cg.name) != NULL;
        if (cg.version == 1 && (strstr(l, ":cpu:") || strstr(l, ":cpuacct:") || strstr(l, ":memory:") ||
                                strstr(l, ":cpu,cpuacct:") || strstr(l, ":cpuacct,cpu:"))) {
            ck_assert_msg(ours, "not in the group: %s", l);
            lines++;
        }
        if (cg.version == 2 && strncmp(l, "0::", 3) == 0) {
            ck_assert_msg(ours, "not in the group: %s", l);
            lines++;
        }
    }
    ck_assert_int_ge(lines, 1);
}
END_TEST

START_TEST(cpu_quota_is_enforced)
{
    hb_error err;
    ck_assert_msg(hb_cgroup_set_cpu(&cg, 0.25, &err) == HB_OK, "%s", err.msg);
    if (cg.version == 1)
        ck_assert_int_eq(read_ll(cg.dir[0], "cpu.cfs_quota_us"), 25000);
    double t0 = hb_mono_s();
    pid_t pid = spawn("--busy", "0.8", -1);
    ck_assert(WIFEXITED(wait_status(pid)));
    double wall = hb_mono_s() - t0;
    hb_cgroup_usage u;
    ck_assert_int_eq(hb_cgroup_usage_read(&cg, &u, &err), HB_OK);
    double cpu = (double)u.cpu_ns / 1e9;
    /* a spinner alone would use ~0.8 s: the quota holds it near 0.25 of the wall time */
    ck_assert_msg(cpu < 0.25 * wall * 1.3 + 0.03, "used %.3f s in %.3f s", cpu, wall);
    ck_assert_msg(cpu > 0.02, "used %.3f s", cpu);
}
END_TEST

START_TEST(memory_limit_kills_and_counts)
{
    hb_error err;
    ck_assert_msg(hb_cgroup_set_memory(&cg, 32, &err) == HB_OK, "%s", err.msg);
    if (cg.version == 1)
        ck_assert_int_eq(read_ll(cg.dir[2], "memory.limit_in_bytes"), 32LL << 20);
    pid_t pid = spawn("--alloc", "200", -1);
    int st = wait_status(pid);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "status %#x", st);
    hb_cgroup_usage u;
    ck_assert_int_eq(hb_cgroup_usage_read(&cg, &u, &err), HB_OK);
    if (u.oom_kills >= 0)
        ck_assert_int_ge(u.oom_kills, 1);
    if (u.mem_peak_bytes >= 0) {
        ck_assert(u.mem_peak_bytes <= (33LL << 20));
        ck_assert(u.mem_peak_bytes >= (16LL << 20));
    }
}
END_TEST

START_TEST(memory_peak_is_read)
{
    pid_t pid = spawn("--alloc", "64", -1);
    ck_assert(WIFEXITED(wait_status(pid)));
    hb_cgroup_usage u;
    hb_error err;
    ck_assert_int_eq(hb_cgroup_usage_read(&cg, &u, &err), HB_OK);
    if (u.mem_peak_bytes < 0)          /* v2 before Linux 5.19 has no memory.peak */
        return;
    ck_assert_msg(u.mem_peak_bytes >= (60LL << 20), "peak %lld", (long long)u.mem_peak_bytes);
    ck_assert(u.cpu_ns > 0);
}
END_TEST

START_TEST(limits_change_live)
{
    pid_t pid = spawn("--sleep", "10", -1);
    hb_error err;
    ck_assert_int_eq(hb_cgroup_set_cpu(&cg, 0.5, &err), HB_OK);
    ck_assert_int_eq(hb_cgroup_set_cpu(&cg, 1.5, &err), HB_OK);
    ck_assert_int_eq(hb_cgroup_set_memory(&cg, 64, &err), HB_OK);
    ck_assert_int_eq(hb_cgroup_set_memory(&cg, 256, &err), HB_OK);    /* grow */
    ck_assert_int_eq(hb_cgroup_set_memory(&cg, 48, &err), HB_OK);     /* shrink */
    if (cg.version == 1) {
        ck_assert_int_eq(read_ll(cg.dir[0], "cpu.cfs_quota_us"), 150000);
        ck_assert_int_eq(read_ll(cg.dir[2], "memory.limit_in_bytes"), 48LL << 20);
        long long sw = read_ll(cg.dir[2], "memory.memsw.limit_in_bytes");
        ck_assert(sw == -12345 || sw == (48LL << 20));              /* swap off, when accounted */
    }
    ck_assert_int_eq(hb_cgroup_set_cpu(&cg, 0, &err), HB_OK);
    ck_assert_int_eq(hb_cgroup_set_memory(&cg, 0, &err), HB_OK);
    if (cg.version == 1)
        ck_assert_int_eq(read_ll(cg.dir[0], "cpu.cfs_quota_us"), -1);
    /* removal kills what still runs (an exited task leaves its group even before it is reaped) */
    ck_assert_int_eq(kill(pid, 0), 0);
    double t0 = hb_mono_s();
    ck_assert_msg(hb_cgroup_remove(&cg, &err) == HB_OK, "%s", err.msg);
    ck_assert(hb_mono_s() - t0 < 1.5);
    int st = wait_status(pid);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    ck_assert_int_ne(access(cg.dir[0], F_OK), 0);
}
END_TEST

START_TEST(sweep_removes_groups_of_dead_processes)
{
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);            /* its pid no longer runs */
    char stale[3][HB_CGROUP_PATH_MAX];
    for (int k = 0; k < 3; k++) {
        snprintf(stale[k], sizeof stale[k], "%s", cg.dir[k]);
        char *slash = strrchr(stale[k], '/');
        snprintf(slash + 1, sizeof stale[k] - (size_t)(slash + 1 - stale[k]), HB_CGROUP_PREFIX "%d-7",
                 (int)dead);
        ck_assert(mkdir(stale[k], 0755) == 0 || errno == EEXIST);
    }
    int removed = -1;
    hb_error err;
    ck_assert_msg(hb_cgroup_sweep(&removed, &err) == HB_OK, "%s", err.msg);
    ck_assert_int_ge(removed, 1);
    for (int k = 0; k < 3; k++) {
        ck_assert_int_ne(access(stale[k], F_OK), 0);
        ck_assert_int_eq(access(cg.dir[k], F_OK), 0);   /* a live process's group stays */
    }
}
END_TEST

/* issue 17, 2: a killed process leaves groups wherever its session placed them (each shell of a
 * machine may sit in its own memory group), nested, with its children still running in them. The
 * sweep finds them anywhere in the hierarchy, kills the tasks, removes them deepest first. */
START_TEST(sweep_finds_stale_groups_anywhere_and_empties_them)
{
    if (cg.version != 1)
        return;                        /* the layout below is v1's */
    pid_t dead = fork();
    if (dead == 0)
        _exit(0);
    waitpid(dead, NULL, 0);
    static const char *const hier[] = {"/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory",
                                       "/sys/fs/cgroup/pids"};
    char session[3][128], top[3][256], inner[3][384];
    int used[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (access(hier[k], W_OK) != 0)
            continue;
        used[k] = 1;
        snprintf(session[k], sizeof session[k], "%s/hb-test-session-%d", hier[k], (int)getpid());
        snprintf(top[k], sizeof top[k], "%.127s/" HB_CGROUP_PREFIX "%d-0", session[k], (int)dead);
        snprintf(inner[k], sizeof inner[k], "%.255s/" HB_CGROUP_PREFIX "%d-5", top[k], (int)dead);
        ck_assert(mkdir(session[k], 0755) == 0 || errno == EEXIST);
        ck_assert_int_eq(mkdir(top[k], 0755), 0);
        ck_assert_int_eq(mkdir(inner[k], 0755), 0);
    }
    int go[2];
    ck_assert_int_eq(pipe(go), 0);
    pid_t task = fork();               /* a leftover action: in the innermost groups, asleep */
    if (task == 0) {
        char me[24];
        snprintf(me, sizeof me, "%d", (int)getpid());
        for (int k = 0; k < 3; k++) {
            char procs[512];
            snprintf(procs, sizeof procs, "%.383s/cgroup.procs", inner[k]);
            FILE *f = used[k] ? fopen(procs, "w") : NULL;
            if (f) {
                fputs(me, f);
                fclose(f);
            }
        }
        if (write(go[1], "x", 1) != 1)
            _exit(3);
        sleep(60);
        _exit(0);
    }
    char c;
    close(go[1]);
    ck_assert_int_eq(read(go[0], &c, 1), 1);
    close(go[0]);
    int removed = -1;
    hb_error err;
    ck_assert_msg(hb_cgroup_sweep(&removed, &err) == HB_OK, "%s", err.msg);
    ck_assert_int_ge(removed, 2);
    int st = wait_status(task);
    ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    for (int k = 0; k < 3; k++)
        if (used[k]) {
            ck_assert_msg(access(top[k], F_OK) != 0, "%s is still there", top[k]);
            ck_assert_int_eq(access(session[k], F_OK), 0);   /* not ours: searched, kept */
            rmdir(session[k]);
        }
    ck_assert_int_eq(access(cg.dir[0], F_OK), 0);            /* a live process's group stays */

    /* action directories: the dead owner's go, a live one's stay */
    char gone[128], kept[128], file[160];
    snprintf(gone, sizeof gone, "/tmp/" HB_WORK_DIR_PREFIX "%d.t%d", (int)dead, (int)getpid());
    snprintf(kept, sizeof kept, "/tmp/" HB_WORK_DIR_PREFIX "%d.t%d", (int)getpid(), (int)getpid());
    ck_assert_int_eq(mkdir(gone, 0700), 0);
    ck_assert_int_eq(mkdir(kept, 0700), 0);
    snprintf(file, sizeof file, "%s/code.js", gone);
    FILE *f = fopen(file, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    ck_assert_int_ge(hb_cgroup_sweep_stale("test"), 1);
    ck_assert_int_ne(access(gone, F_OK), 0);
    ck_assert_int_eq(access(kept, F_OK), 0);
    rmdir(kept);
}
END_TEST

START_TEST(spawn_errors_name_the_step)
{
    char *argv[] = {"/nonexistent/harvestbench-test", NULL};
    pid_t pid;
    hb_error err;
    ck_assert_int_ne(hb_cgroup_spawn(&cg, argv, NULL, &pid, &err), HB_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "exec"));
    ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
}
END_TEST

START_TEST(without_permission_the_error_says_what_is_missing)
{
    int v;
    char why[512];
    ck_assert_int_eq(hb_cgroup_probe(&v, why, sizeof why), 0);
    hb_cgroup g;
    hb_error err;
    ck_assert_int_ne(hb_cgroup_create(&g, &err), HB_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, why));
    ck_assert(strstr(err.msg, "root") || strstr(err.msg, "cgroup") || strstr(err.msg, "mounted"));
}
END_TEST

int main(int argc, char **argv)
{
    if (argc > 1)
        return child_main(argc, argv);
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return 1;
    self[n] = '\0';

    Suite *s = suite_create("cgroup");
    TCase *tc = tcase_create("groups");
    tcase_set_timeout(tc, 60);
    int version;
    char why[512];
    const TTest *group_tests[] = {create_and_remove, child_is_in_the_group_from_the_start,
                                  cpu_quota_is_enforced, memory_limit_kills_and_counts,
                                  memory_peak_is_read, limits_change_live,
                                  sweep_removes_groups_of_dead_processes,
                                  sweep_finds_stale_groups_anywhere_and_empties_them,
                                  spawn_errors_name_the_step};
    size_t n_group = sizeof group_tests / sizeof group_tests[0];
    if (hb_cgroup_probe(&version, why, sizeof why)) {
        tcase_add_checked_fixture(tc, setup, teardown);
        for (size_t i = 0; i < n_group; i++)
            tcase_add_test(tc, group_tests[i]);
    } else {
        hb_test_skipped(n_group, "test_cgroup: the group tests: %s", why);
        tcase_add_test(tc, without_permission_the_error_says_what_is_missing);
    }
    suite_add_tcase(s, tc);
    return hb_test_run(s);
}
