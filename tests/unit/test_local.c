/* test_local.c - the local executor (harness/backends/common/executor.h) on the real workloads: a cold start
 * then warm reuse, a CPU quota holds a CPU-bound call near its cores and a resize raises its rate,
 * memory limits end calls as oom (by the kernel, and by a shrink below usage), time limits as
 * timeout, crashes and bad results as crash, and no group is left behind.
 *
 * Needs root and a cgroup hierarchy; without them it says so, checks that creating an executor with
 * limits fails with a message saying what is missing, and runs the tests that need no limits.
 * Rates are measured over a second or more and compared with generous bounds: the machine is
 * shared, so a test only asserts what contention cannot undo (a quota is a ceiling; a ten times
 * larger quota must show). */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cgroup.h"
#include "common/executor.h"

#include "hb_test.h"

static char wl_dir[1024];
static char tmp_dir[256];

typedef struct rec {
    int running, done;
    hb_exec_result r;
    char result[8192];
    char message[512];
    char logs[512];
} rec;

static int cb_running(void *ctx, hb_exec_call *c, int64_t t, hb_error *err)
{
    (void)c;
    (void)t;
    (void)err;
    ((rec *)ctx)->running = 1;
    return 0;
}

static int cb_done(void *ctx, hb_exec_call *c, const hb_exec_result *r, hb_error *err)
{
    (void)c;
    (void)err;
    rec *d = ctx;
    d->done = 1;
    d->r = *r;
    snprintf(d->result, sizeof d->result, "%s", r->result ? r->result : "");
    snprintf(d->message, sizeof d->message, "%s", r->message);
    d->r.result = d->result;
    d->r.message = d->message;
    snprintf(d->logs, sizeof d->logs, "%s", r->logs);
    d->r.logs = d->logs;
    return 0;
}

static void path_of(const char *id, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", wl_dir, id);
}

static hb_exec *new_exec(int limits, int *pool)
{
    hb_exec_opts o = {.limits = limits, .keep_alive_ns = 60 * 1000000000LL};
    hb_exec *ex;
    hb_error err;
    ck_assert_msg(hb_exec_new(&o, &ex, &err) == HB_OK, "%s", err.msg);
    ck_assert_msg(hb_exec_pool_add(ex, 2, 0, pool, &err) == HB_OK, "%s", err.msg);
    return ex;
}

static hb_exec_call *start(hb_exec *ex, int pool, const char *id, const char *params, double cpu,
                           double mem, double timeout_s, rec *d)
{
    char path[1100], req[512];
    path_of(id, path, sizeof path);
    snprintf(req, sizeof req, "{\"value\":%s,\"activation_id\":\"test\"}", params);
    memset(d, 0, sizeof *d);
    hb_exec_spec s = {
        .pool = pool, .key = id, .path = path, .request = req,
        .limits = {cpu, 1024, mem}, .timeout_ns = (int64_t)(timeout_s * 1e9),
        .ev = {cb_running, cb_done, d},
    };
    hb_exec_call *c;
    hb_error err;
    ck_assert_msg(hb_exec_start(ex, &s, &c, &err) == HB_OK, "%s", err.msg);
    return c;
}

/* Runs the loop for `s` seconds, or until d is done (d may be NULL). */
static void drive(hb_exec *ex, rec *d, double s)
{
    int64_t end = hb_exec_now() + (int64_t)(s * 1e9);
    hb_error err;
    while (hb_exec_now() < end && !(d && d->done)) {
        int64_t until = hb_exec_now() + 20 * 1000000;
        ck_assert_msg(hb_exec_run(ex, until < end ? until : end, &err) == HB_OK, "%s", err.msg);
    }
}

static double rate_over(hb_exec *ex, hb_exec_call *c, double s)
{
    hb_exec_usage a, b;
    hb_error err;
    ck_assert_msg(hb_exec_usage_read(ex, c, &a, &err) == HB_OK, "%s", err.msg);
    drive(ex, NULL, s);
    ck_assert_msg(hb_exec_usage_read(ex, c, &b, &err) == HB_OK, "%s", err.msg);
    return (double)(b.cpu_ns - a.cpu_ns) / (double)(b.t - a.t);
}

/* Directories named harvestbench-<this pid>-* anywhere under /sys/fs/cgroup (4 levels). */
static int count_ours(const char *dir, int depth)
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, HB_CGROUP_PREFIX "%d-", (int)getpid());
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
        if (depth > 0)
            n += count_ours(sub, depth - 1);
    }
    closedir(d);
    return n;
}

static void write_script(const char *name, const char *body, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", tmp_dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    chmod(path, 0755);
}

/* ---- tests ---- */

START_TEST(cold_then_warm)
{
    int pool;
    hb_exec *ex = new_exec(_i, &pool);
    rec d;
    start(ex, pool, "ms", "{\"size\":100,\"seed\":7}", 1, 256, 60, &d);
    drive(ex, &d, 60);
    ck_assert_msg(d.done && d.r.status == HB_EXEC_OK, "%s: %s", hb_exec_status_name(d.r.status),
                  d.message);
    ck_assert_int_eq(d.r.cold, 1);
    ck_assert(d.running);
    ck_assert(d.r.t_running > d.r.t_assigned);       /* the cold start, measured */
    ck_assert(d.r.t_end >= d.r.t_running);
    ck_assert_ptr_nonnull(strstr(d.result, "\"checksum\""));
    char first[8192];
    snprintf(first, sizeof first, "%s", d.result);
    ck_assert(hb_exec_has_idle(ex, pool, "ms"));
    ck_assert(!hb_exec_has_idle(ex, pool, "alu"));
    start(ex, pool, "ms", "{\"size\":100,\"seed\":7}", 1, 256, 60, &d);
    drive(ex, &d, 60);
    ck_assert_msg(d.r.status == HB_EXEC_OK, "%s", d.message);
    ck_assert_int_eq(d.r.cold, 0);                   /* the same process served it */
    const char *k1 = strstr(first, "\"checksum\""), *k2 = strstr(d.result, "\"checksum\"");
    ck_assert(k1 && k2 && strncmp(k1, k2, 30) == 0);
    if (_i) {                          /* /proc counts CPU in 10 ms ticks: too coarse here */
        ck_assert(d.r.cpu_ns > 0);
        ck_assert_msg(d.r.mem_peak_mb > 0.1 && d.r.mem_peak_mb < 256, "peak %g", d.r.mem_peak_mb);
        ck_assert(hb_exec_idle_mem(ex, pool) >= 256 - 1e-9);
    }
    ck_assert_int_eq(hb_exec_evict_lru(ex, pool), 1);
    ck_assert(!hb_exec_has_idle(ex, pool, "ms"));
    ck_assert_int_eq((int)hb_exec_live_calls(ex), 0);
    hb_exec_free(ex);
    ck_assert_int_eq(count_ours("/sys/fs/cgroup", 4), 0);
}
END_TEST

START_TEST(quota_holds_a_cpu_bound_call)
{
    int pool;
    hb_exec *ex = new_exec(1, &pool);
    rec d;
    hb_exec_call *c = start(ex, pool, "alu", "{\"size\":1000000,\"parallel\":2}", 0.5, 256, 0, &d);
    drive(ex, NULL, 0.4);                            /* past the cold start */
    ck_assert(d.running && !d.done);
    double r = rate_over(ex, c, 1.5);
    /* at most its half core (a little more for the CFS period's granularity); at least something,
     * even on a busy machine */
    ck_assert_msg(r > 0.15 && r < 0.62, "0.5-core quota: measured %.3f cores", r);
    hb_exec_free(ex);
    ck_assert_int_eq(count_ours("/sys/fs/cgroup", 4), 0);
}
END_TEST

START_TEST(resize_raises_the_rate)
{
    int pool;
    hb_exec *ex = new_exec(1, &pool);
    rec d;
    hb_exec_call *c = start(ex, pool, "alu", "{\"size\":1000000,\"parallel\":2}", 0.1, 256, 0, &d);
    drive(ex, NULL, 0.4);
    double r1 = rate_over(ex, c, 1.2);
    hb_exec_limits l = {1.0, 1024, 256};
    hb_error err;
    ck_assert_msg(hb_exec_resize(ex, c, &l, &err) == HB_OK, "%s", err.msg);
    drive(ex, NULL, 0.2);
    double r2 = rate_over(ex, c, 1.2);
    ck_assert_msg(r1 < 0.16, "0.1-core quota: measured %.3f cores", r1);
    ck_assert_msg(r2 > 1.5 * r1 && r2 < 1.1, "0.1 -> 1 core: %.3f -> %.3f cores", r1, r2);
    ck_assert(!d.done);
    hb_exec_abort_all(ex, "test over");
    ck_assert(d.done && d.r.status == HB_EXEC_ABORTED);
    hb_exec_free(ex);
}
END_TEST

START_TEST(memory_limit_ends_as_oom)
{
    int pool;
    hb_exec *ex = new_exec(1, &pool);
    rec d;
    start(ex, pool, "ms", "{\"size\":200000,\"parallel\":1}", 1, 12, 60, &d);
    drive(ex, &d, 60);
    ck_assert_msg(d.done && d.r.status == HB_EXEC_OOM, "%s: %s", hb_exec_status_name(d.r.status),
                  d.message);
    ck_assert_ptr_nonnull(strstr(d.message, "memory limit"));
    ck_assert(!hb_exec_has_idle(ex, pool, "ms"));     /* a killed container is not reused */
    hb_exec_free(ex);
    ck_assert_int_eq(count_ours("/sys/fs/cgroup", 4), 0);
}
END_TEST

START_TEST(shrinking_below_usage_ends_as_oom)
{
    int pool;
    hb_exec *ex = new_exec(1, &pool);
    rec d;
    hb_exec_call *c = start(ex, pool, "ms", "{\"size\":1000000,\"parallel\":1}", 1, 1024, 120, &d);
    hb_exec_usage u = {0};
    hb_error err;
    int64_t give_up = hb_exec_now() + 60 * 1000000000LL;
    while (!d.done && u.mem_mb < 40 && hb_exec_now() < give_up) {
        drive(ex, &d, 0.05);
        if (!d.done)
            ck_assert_msg(hb_exec_usage_read(ex, c, &u, &err) == HB_OK, "%s", err.msg);
    }
    ck_assert_msg(!d.done, "ended before using 40 MB: %s", d.message);
    hb_exec_limits l = {1, 1024, 16};
    ck_assert_msg(hb_exec_resize(ex, c, &l, &err) == HB_OK, "%s", err.msg);
    drive(ex, &d, 30);
    ck_assert_msg(d.done && d.r.status == HB_EXEC_OOM, "%s: %s", hb_exec_status_name(d.r.status),
                  d.message);
    hb_exec_free(ex);
}
END_TEST

START_TEST(time_limit_ends_as_timeout)
{
    int pool;
    hb_exec *ex = new_exec(_i, &pool);
    rec d;
    start(ex, pool, "alu", "{\"size\":10000000,\"parallel\":1}", 1, 256, 0.3, &d);
    drive(ex, &d, 60);
    ck_assert_msg(d.done && d.r.status == HB_EXEC_TIMEOUT, "%s: %s",
                  hb_exec_status_name(d.r.status), d.message);
    double ran = (double)(d.r.t_end - d.r.t_running) / 1e9;
    ck_assert_msg(ran >= 0.29 && ran < 0.4, "killed after %.3f s", ran);
    ck_assert(!hb_exec_has_idle(ex, pool, "alu"));
    hb_exec_free(ex);
    ck_assert_int_eq(count_ours("/sys/fs/cgroup", 4), 0);
}
END_TEST

START_TEST(crashes_and_bad_results)
{
    int pool;
    hb_exec *ex = new_exec(_i, &pool);
    char bad[512], dies[512], noack[512];
    write_script("bad", "echo '{\"ok\":true}' >&3\nwhile read l; do echo 'not json' >&3; done\n", bad,
                 sizeof bad);
    write_script("dies", "echo '{\"ok\":true}' >&3\nread l\necho 'about to fail' >&2\nexit 3\n", dies,
                 sizeof dies);
    write_script("noack", "echo hello >&3\nsleep 5\n", noack, sizeof noack);
    struct { const char *path, *want; } cases[] = {
        {bad, "not a JSON object"}, {dies, "exited with status 3: about to fail"},
        {noack, "was not {\"ok\":true}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec d;
        memset(&d, 0, sizeof d);
        hb_exec_spec s = {.pool = pool, .key = cases[i].path, .path = cases[i].path,
                          .request = "{\"value\":{}}", .limits = {1, 1024, 64},
                          .timeout_ns = 10 * 1000000000LL, .ev = {cb_running, cb_done, &d}};
        hb_exec_call *c;
        hb_error err;
        ck_assert_msg(hb_exec_start(ex, &s, &c, &err) == HB_OK, "%s", err.msg);
        drive(ex, &d, 20);
        ck_assert_msg(d.done && d.r.status == HB_EXEC_CRASH, "%s: %s: %s", cases[i].path,
                      hb_exec_status_name(d.r.status), d.message);
        ck_assert_msg(strstr(d.message, cases[i].want), "%s: %s", cases[i].path, d.message);
    }
    /* an executable that cannot start fails at once */
    rec d;
    hb_exec_spec s = {.pool = pool, .key = "x", .path = "/nonexistent/harvestbench",
                      .request = "{}", .limits = {1, 1024, 64}, .ev = {cb_running, cb_done, &d}};
    hb_exec_call *c;
    hb_error err;
    ck_assert_int_ne(hb_exec_start(ex, &s, &c, &err), HB_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "exec"));
    ck_assert_int_eq((int)hb_exec_live_calls(ex), 0);
    hb_exec_free(ex);
    ck_assert_int_eq(count_ours("/sys/fs/cgroup", 4), 0);
}
END_TEST

/* dockerskeleton actions: a process per call in the container's group */
START_TEST(one_shot_actions)
{
    int pool;
    hb_exec *ex = new_exec(_i, &pool);
    char echo[512], slow[512], fail[512];
    write_script("echo", "if [ $# -ge 1 ]; then p=\"$1\"; else p=$(cat); fi\n"
                 "echo 'a log line'\necho 'to stderr' >&2\n"
                 "case \"$p\" in *boom*) echo '{\"error\":\"boom\"}'; exit 0;; esac\n"
                 "echo \"{\\\"len\\\":${#p}}\"\n", echo, sizeof echo);
    write_script("slow", "sleep 5\necho '{}'\n", slow, sizeof slow);
    write_script("fail", "echo 'going down' >&2\nexit 3\n", fail, sizeof fail);
    size_t big_n = 70 * 1024;
    char *big = malloc(big_n + 16);
    ck_assert_ptr_nonnull(big);
    snprintf(big, 16, "{\"p\":\"");
    memset(big + 6, 'x', big_n - 8);
    memcpy(big + big_n - 2, "\"}", 3);
    struct { const char *path, *params; double timeout; hb_exec_status want; const char *has;
             int cold; } cases[] = {
        {echo, "{\"a\":1}", 10, HB_EXEC_OK, "{\"len\":7}", 1},
        {echo, "{\"a\":12}", 10, HB_EXEC_OK, "{\"len\":8}", 0},     /* warm: the same group */
        {echo, big, 10, HB_EXEC_OK, "{\"len\":71680}", 0},            /* on stdin */
        {echo, "{\"boom\":1}", 10, HB_EXEC_APP_ERROR, "boom", 0},
        {slow, "{}", 0.3, HB_EXEC_TIMEOUT, "time limit", 1},
        {fail, "{}", 10, HB_EXEC_CRASH, "exit status 3): going down", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rec d;
        memset(&d, 0, sizeof d);
        hb_exec_spec s = {.pool = pool, .key = cases[i].path, .path = cases[i].path, .oneshot = 1,
                          .request = cases[i].params, .limits = {1, 1024, 64},
                          .timeout_ns = (int64_t)(cases[i].timeout * 1e9),
                          .ev = {cb_running, cb_done, &d}};
        hb_exec_call *c;
        hb_error err;
        ck_assert_msg(hb_exec_start(ex, &s, &c, &err) == HB_OK, "%s", err.msg);
        drive(ex, &d, 20);
        ck_assert_msg(d.done && d.r.status == cases[i].want, "case %zu: %s: %s", i,
                      hb_exec_status_name(d.r.status), d.message);
        const char *text = cases[i].want == HB_EXEC_OK ? d.result : d.message;
        ck_assert_msg(strstr(text, cases[i].has), "case %zu: %s", i, text);
        ck_assert_msg(d.r.cold == cases[i].cold, "case %zu: cold %d", i, d.r.cold);
        ck_assert(d.running && d.r.t_running >= d.r.t_assigned);
        if (cases[i].want == HB_EXEC_OK) {      /* stdout's other lines, then stderr */
            ck_assert_int_eq((int)d.r.logs_out, (int)strlen("a log line\n"));
            ck_assert_str_eq(d.logs, "a log line\nto stderr\n");
        }
    }
    free(big);
    ck_assert(hb_exec_has_idle(ex, pool, echo));
    ck_assert_int_eq(hb_exec_forget(ex, echo), 1);
    ck_assert(!hb_exec_has_idle(ex, pool, echo));
    /* an environment of its own and a working directory */
    char envs[512];
    write_script("envs", "echo \"{\\\"id\\\":\\\"$__OW_ACTIVATION_ID\\\",\\\"home\\\":\\\"$HOME\\\","
                 "\\\"dir\\\":\\\"$(pwd)\\\"}\"\n", envs, sizeof envs);
    char *env[] = {"PATH=/usr/bin:/bin", "__OW_ACTIVATION_ID=abc123", NULL};
    rec d;
    memset(&d, 0, sizeof d);
    hb_exec_spec s = {.pool = pool, .key = "envs", .path = envs, .oneshot = 1, .request = "{}",
                      .limits = {1, 1024, 64}, .env = env, .dir = tmp_dir,
                      .ev = {cb_running, cb_done, &d}};
    hb_exec_call *c;
    hb_error err;
    ck_assert_msg(hb_exec_start(ex, &s, &c, &err) == HB_OK, "%s", err.msg);
    drive(ex, &d, 20);
    ck_assert_msg(d.r.status == HB_EXEC_OK, "%s", d.message);
    char want[400];
    snprintf(want, sizeof want, "{\"id\":\"abc123\",\"home\":\"\",\"dir\":\"%s\"}", tmp_dir);
    ck_assert_str_eq(d.result, want);
    hb_exec_free(ex);
    ck_assert_int_eq(count_ours("/sys/fs/cgroup", 4), 0);
}
END_TEST

START_TEST(without_cgroups_the_error_says_what_is_missing)
{
    hb_exec_opts o = {.limits = 1};
    hb_exec *ex;
    hb_error err;
    int v;
    char why[512];
    ck_assert_int_eq(hb_cgroup_probe(&v, why, sizeof why), 0);
    ck_assert_int_ne(hb_exec_new(&o, &ex, &err), HB_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, why));
}
END_TEST

int main(void)
{
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return 1;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(wl_dir, sizeof wl_dir, "%.990s/../workloads", exe);
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/hb-test-local.XXXXXX");
    if (!mkdtemp(tmp_dir))
        return 1;

    Suite *s = suite_create("local");
    TCase *tc = tcase_create("executor");
    tcase_set_timeout(tc, 300);
    int version;
    char why[512];
    int limits = hb_cgroup_probe(&version, why, sizeof why);
    /* _i: 0 without limits, 1 with cgroups */
    tcase_add_loop_test(tc, cold_then_warm, 0, limits + 1);
    tcase_add_loop_test(tc, time_limit_ends_as_timeout, 0, limits + 1);
    tcase_add_loop_test(tc, crashes_and_bad_results, 0, limits + 1);
    tcase_add_loop_test(tc, one_shot_actions, 0, limits + 1);
    if (limits) {
        tcase_add_test(tc, quota_holds_a_cpu_bound_call);
        tcase_add_test(tc, resize_raises_the_rate);
        tcase_add_test(tc, memory_limit_ends_as_oom);
        tcase_add_test(tc, shrinking_below_usage_ends_as_oom);
    } else {
        hb_test_skipped(4, "test_local: the cgroup tests (quota, resize, oom): %s", why);
        tcase_add_test(tc, without_cgroups_the_error_says_what_is_missing);
    }
    suite_add_tcase(s, tc);
    int failed = hb_test_run(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "test_local: could not remove %s\n", tmp_dir);
    return failed ? 1 : 0;
}
