/* test_runner_local.c - serve's runner on the local executor (harness/backends/serve/runner_local.c):
 * dockerskeleton scripts and zips, an ActionLoop workload, warm reuse, application and developer
 * errors, the time limit, the memory limit (with cgroups), forget, and close with calls in flight;
 * callbacks come from the runner's thread while requests come from this one.
 * Without root or cgroups it runs with limits off and says so. */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cgroup.h"
#include "common/ow_zip.h"
#include "serve/runner.h"

#include "hb_test.h"

static char dir[256], wl_dir[1024];
static int limits;

typedef struct got {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
    hb_run_status status;
    char result[4096], message[512], logs[1024];
    int64_t start_ms, end_ms, init_ms;
    int cold;
} got;

static void on_done(void *ctx, const hb_run_result *r)
{
    got *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->status = r->status;
    snprintf(g->result, sizeof g->result, "%s", r->result ? r->result : "");
    snprintf(g->message, sizeof g->message, "%s", r->message ? r->message : "");
    snprintf(g->logs, sizeof g->logs, "%s", r->logs ? r->logs : "");
    g->start_ms = r->start_ms;
    g->end_ms = r->end_ms;
    g->init_ms = r->init_ms;
    g->cold = r->cold;
    g->done++;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void wait_done(got *g, int n)
{
    pthread_mutex_lock(&g->mu);
    for (int i = 0; i < 600 && g->done < n; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    ck_assert_int_ge(g->done, n);
}

static void script(const char *name, const char *body, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    chmod(path, 0755);
}

static void call(hb_runner *r, const char *key, const char *path, int is_zip, const char *image,
                 const char *params, int64_t timeout_ms, int mem, got *g)
{
    hb_run_request q = {
        .activation_id = "0123456789abcdef0123456789abcdef", .action = "guest/t",
        .api_host = "http://127.0.0.1:1", .code = {key, path, is_zip, image}, .params = params,
        .limits = {timeout_ms, mem, 0}, .deadline_ms = hb_epoch_ms() + timeout_ms,
        .done = on_done, .ctx = g,
    };
    hb_error err;
    ck_assert_msg(r->ops->start(r, &q, &err) == 0, "%s", err.msg);
}

static hb_runner *runner(void)
{
    hb_runner_local_opts o = {dir, 60000, limits, 0, 0, 0, 0};
    hb_runner *r;
    hb_error err;
    ck_assert_msg(hb_runner_local_new(&o, &r, &err) == 0, "%s", err.msg);
    return r;
}

static void reset(got *g)
{
    pthread_mutex_lock(&g->mu);
    g->done = 0;
    pthread_mutex_unlock(&g->mu);
}


/* Processes whose command line holds `needle` (a zombie's is empty: it is not counted). */
static int count_procs(const char *needle)
{
    DIR *d = opendir("/proc");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[300], cmd[512];
        snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
        FILE *f = fopen(p, "r");
        if (!f)
            continue;
        size_t k = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t i = 0; i < k; i++)
            if (!cmd[i])
                cmd[i] = ' ';
        cmd[k] = '\0';
        n += strstr(cmd, needle) != NULL;
    }
    closedir(d);
    return n;
}

/* Issue 17 #4: actions ran as root with no process limit, and children outlived their call. */
START_TEST(actions_run_unprivileged_and_leave_nothing_behind)
{
    const struct passwd *pw = getpwnam("nobody");
    if (!limits || geteuid() != 0 || !pw) {
        fprintf(stderr, "SKIPPED actions_run_unprivileged: needs root, cgroups and user nobody\n");
        return;
    }
    chmod(dir, 0711);                  /* the runner's directory is made in it: nobody passes */
    hb_runner_local_opts o = {dir, 60000, 1, 1, pw->pw_uid, pw->pw_gid, 32};
    hb_runner *r;
    hb_error err;
    ck_assert_msg(hb_runner_local_new(&o, &r, &err) == 0, "%s", err.msg);
    static got g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    char shadow[512], forks[512], bomb[512];
    script("shadow", "if cat /etc/shadow > /dev/null 2>&1; then echo '{\"shadow\":\"read\"}'; "
           "else echo \"{\\\"shadow\\\":\\\"denied\\\",\\\"uid\\\":$(id -u)}\"; fi\n",
           shadow, sizeof shadow);
    script("forks", "i=0\nwhile [ $i -lt 20 ]; do sleep 31337 & i=$((i + 1)); done\n"
           "echo '{\"ok\":true}'\n", forks, sizeof forks);
    /* 300 children: the pids limit (32) refuses most forks, and the shell gives up */
    script("bomb", "i=0\nwhile [ $i -lt 300 ]; do sleep 31337 & i=$((i + 1)); done\n"
           "echo '{\"ok\":true}'\n", bomb, sizeof bomb);
    reset(&g);
    call(r, "shadow@1", shadow, 0, NULL, "{}", 10000, 256, &g);
    wait_done(&g, 1);
    ck_assert_msg(g.status == HB_RUN_SUCCESS, "%d %s", g.status, g.message);
    ck_assert_msg(strstr(g.result, "\"denied\"") && !strstr(g.result, "\"uid\":0"), "%s", g.result);
    for (int k = 0; k < 2; k++) {      /* cold, then warm: the container's group stays */
        reset(&g);
        call(r, "forks@1", forks, 0, NULL, "{}", 20000, 256, &g);
        wait_done(&g, 1);
        ck_assert_msg(g.status == HB_RUN_SUCCESS, "%d %s", g.status, g.message);
        ck_assert_int_eq(g.cold, k == 0);
        ck_assert_int_eq(count_procs("sleep 31337"), 0);
    }
    reset(&g);
    call(r, "bomb@1", bomb, 0, NULL, "{}", 20000, 256, &g);
    wait_done(&g, 1);
    ck_assert_msg(g.status == HB_RUN_DEV_ERROR && strstr(g.logs, "fork"), "%d %s %s", g.status,
                  g.message, g.logs);
    ck_assert_int_eq(count_procs("sleep 31337"), 0);
    r->ops->close(r);
}
END_TEST

START_TEST(scripts_zips_and_errors)
{
    hb_runner *r = runner();
    static got g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    char echo[512], slow[512], bad[512];
    script("echo", "echo \"hello $__OW_ACTIVATION_ID\"\necho oops >&2\necho \"{\\\"echo\\\":$1}\"\n",
           echo, sizeof echo);
    script("slow", "sleep 5\necho '{}'\n", slow, sizeof slow);
    script("bad", "echo not json\n", bad, sizeof bad);
    reset(&g);
    call(r, "echo@1", echo, 0, NULL, "{\"a\":1}", 10000, 256, &g);
    wait_done(&g, 1);
    ck_assert_int_eq(g.status, HB_RUN_SUCCESS);
    ck_assert_str_eq(g.result, "{\"echo\":{\"a\":1}}");
    ck_assert_int_eq(g.cold, 1);
    ck_assert(g.end_ms >= g.start_ms && g.init_ms >= 0);
    ck_assert_msg(strstr(g.logs, " stdout: hello 0123456789abcdef0123456789abcdef\n") &&
                  strstr(g.logs, " stderr: oops\n"), "%s", g.logs);
    reset(&g);
    call(r, "echo@1", echo, 0, NULL, "{\"a\":2}", 10000, 256, &g);
    wait_done(&g, 1);
    ck_assert_int_eq(g.cold, 0);
    ck_assert_int_eq(g.init_ms, 0);
    /* a zip holding exec */
    unsigned char *zip;
    size_t zl;
    hb_error err;
    ck_assert_int_eq(ow_zip_exec(echo, &zip, &zl, &err), 0);
    char zpath[512];
    snprintf(zpath, sizeof zpath, "%s/echo.zip", dir);
    FILE *f = fopen(zpath, "wb");
    fwrite(zip, 1, zl, f);
    fclose(f);
    free(zip);
    reset(&g);
    call(r, "zipped@1", zpath, 1, "openwhisk/dockerskeleton", "{\"z\":3}", 10000, 256, &g);
    wait_done(&g, 1);
    ck_assert_int_eq(g.status, HB_RUN_SUCCESS);
    ck_assert_str_eq(g.result, "{\"echo\":{\"z\":3}}");
    /* errors */
    struct { const char *key, *path, *image; int64_t t; hb_run_status want; const char *msg; } e[] = {
        {"slow@1", slow, NULL, 300, HB_RUN_TIMEOUT, "exceeded its time limits of 300 milliseconds"},
        {"bad@1", bad, NULL, 10000, HB_RUN_DEV_ERROR, "not a JSON object"},
        {"img@1", NULL, "some/image", 10000, HB_RUN_DEV_ERROR, "Failed to pull container image"},
    };
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++) {
        reset(&g);
        call(r, e[i].key, e[i].path, 0, e[i].image, "{}", e[i].t, 256, &g);
        wait_done(&g, 1);
        ck_assert_msg(g.status == e[i].want && strstr(g.message, e[i].msg), "%s: %d %s", e[i].key,
                      g.status, g.message);
    }
    r->ops->forget(r, "echo@1");
    r->ops->close(r);
}
END_TEST

START_TEST(actionloop_workload_and_memory)
{
    hb_runner *r = runner();
    static got g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    char ms[1100];
    snprintf(ms, sizeof ms, "%s/ms", wl_dir);
    for (int k = 0; k < 2; k++) {
        reset(&g);
        call(r, "ms@1", ms, 0, "openwhisk/actionloop-base", "{\"size\":100}", 60000, 256, &g);
        wait_done(&g, 1);
        ck_assert_msg(g.status == HB_RUN_SUCCESS, "%d %s", g.status, g.message);
        ck_assert_ptr_nonnull(strstr(g.result, "\"checksum\""));
        ck_assert_int_eq(g.cold, k == 0);
    }
    if (limits) {
        reset(&g);
        call(r, "ms@2", ms, 0, "openwhisk/actionloop-base", "{\"size\":200000,\"parallel\":1}",
             60000, 12, &g);
        wait_done(&g, 1);
        ck_assert_msg(g.status == HB_RUN_OOM, "%d %s", g.status, g.message);
    }
    /* close with a call in flight: it ends as shutting down */
    char slow[512];
    script("slow2", "sleep 30\necho '{}'\n", slow, sizeof slow);
    reset(&g);
    call(r, "slow@2", slow, 0, NULL, "{}", 60000, 256, &g);
    usleep(300 * 1000);
    r->ops->close(r);
    ck_assert_int_eq(g.done, 1);
    ck_assert_int_eq(g.status, HB_RUN_INTERNAL);
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
    snprintf(dir, sizeof dir, "/tmp/hb-test-runner.XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    int v;
    char why[512];
    limits = hb_cgroup_probe(&v, why, sizeof why);
    if (!limits)
        printf("test_runner_local: without limits (%s)\n", why);
    Suite *s = suite_create("runner_local");
    const TTest *tests[] = {actions_run_unprivileged_and_leave_nothing_behind,
                            scripts_zips_and_errors, actionloop_workload_and_memory};
    hb_test_case(s, "core", 300, tests, HB_TEST_N(tests));
    int failed = hb_test_run(s);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return failed ? 1 : 0;
}
