/* test_wl_sampler.c - the 100 ms usage sampler: a 2-thread busy loop reads as about 2 cores, a
 * 100 MB allocation shows in memory, and start/stop leaves no thread behind.
 *
 * The machine may be busy with other work, so the CPU checks compare the sampler with the process's
 * own CPU clock over the same span (what it really got), not with a fixed 2.0. */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"
#include "sampler.h"

#include "unit/hb_test.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static volatile int spin_stop;

static void *spin(void *arg)
{
    volatile unsigned long *n = arg;
    while (!spin_stop)
        (*n)++;
    return NULL;
}

static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

START_TEST(busy_two_threads_read_as_two_cores)
{
    setenv("HB_SAMPLER", "proc", 1);
    wl_sampler *s;
    char err[128];
    ck_assert_int_eq(wl_sampler_start(&s, 100, err, sizeof err), 0);
    double c0 = cpu_now(), t0 = wl_now();
    spin_stop = 0;
    unsigned long n[2] = {0, 0};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, spin, &n[i]), 0);
    usleep(800 * 1000);
    spin_stop = 1;
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    wl_sampler_stop(s);
    double cores = (cpu_now() - c0) / (wl_now() - t0);   /* what the process really got */

    const wl_series *cpu = wl_sampler_cpu(s);
    ck_assert_int_ge((int)cpu->n, 6);                     /* ~8 samples of 100 ms */
    double integral = 0, prev_t = 0;
    for (size_t i = 0; i < cpu->n; i++) {
        double dt = i == 0 ? 0.1 : cpu->t[i] - prev_t;
        ck_assert(dt > 0.01 && dt < 0.5);                 /* evenly spaced */
        integral += cpu->v[i] * dt;
        prev_t = cpu->t[i];
    }
    /* the samples account for the CPU time used, and their level is what the process got */
    ck_assert_msg(integral > 0.8 * wl_sampler_cpu_seconds(s) && integral < 1.2 * wl_sampler_cpu_seconds(s),
                  "integral %.3f vs %.3f s", integral, wl_sampler_cpu_seconds(s));
    double mean = integral / (cpu->t[cpu->n - 1] - cpu->t[0] + 0.1);
    ck_assert_msg(mean > cores - 0.35 && mean < cores + 0.35, "sampled %.2f, got %.2f cores", mean, cores);
    if (cores > 1.6)                   /* an idle enough machine: the peak shows both threads */
        ck_assert_msg(wl_sampler_cpu_peak(s) > 1.5, "peak %.2f", wl_sampler_cpu_peak(s));
    ck_assert_str_eq(wl_sampler_source(s), "proc");
    wl_sampler_free(s);
}
END_TEST

START_TEST(hundred_megabytes_show)
{
    setenv("HB_SAMPLER", "proc", 1);
    wl_sampler *s;
    char err[128];
    ck_assert_int_eq(wl_sampler_start(&s, 100, err, sizeof err), 0);
    size_t n = 100u << 20;
    char *p = malloc(n);
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i += 4096)   /* resident, not just reserved (volatile: not elided) */
        ((volatile char *)p)[i] = 1;
    usleep(350 * 1000);
    wl_sampler_stop(s);
    const wl_series *mem = wl_sampler_mem(s);
    ck_assert_int_ge((int)mem->n, 3);
    double grew = wl_sampler_mem_peak(s) - mem->v[0];
    ck_assert_msg(grew > 90 && grew < 140, "memory grew %.1f MB", grew);
    free(p);
    wl_sampler_free(s);
}
END_TEST

START_TEST(start_stop_leaves_no_thread)
{
    int before = threads_now();
    for (int i = 0; i < 50; i++) {
        wl_sampler *s;
        char err[128];
        ck_assert_int_eq(wl_sampler_start(&s, 100, err, sizeof err), 0);
        double t0 = wl_now();
        wl_sampler_stop(s);            /* stopping wakes the thread at once */
        ck_assert(wl_now() - t0 < 0.09);
        wl_sampler_free(s);
    }
    ck_assert_int_eq(threads_now(), before);
}
END_TEST

START_TEST(cgroup_source_falls_back_with_a_reason)
{
    /* forced onto a cgroup it either reads one or says why it uses /proc */
    setenv("HB_SAMPLER", "cgroup", 1);
    wl_sampler *s;
    char err[128];
    ck_assert_int_eq(wl_sampler_start(&s, 100, err, sizeof err), 0);
    usleep(50 * 1000);
    wl_sampler_stop(s);
    if (strcmp(wl_sampler_source(s), "proc") == 0)
        ck_assert_int_gt((int)strlen(wl_sampler_note(s)), 0);
    ck_assert(wl_sampler_mem_peak(s) > 0);
    wl_sampler_free(s);
    /* auto outside a group of its own (the test's group is the machine's or its session's) */
    setenv("HB_SAMPLER", "auto", 1);
    ck_assert_int_eq(wl_sampler_start(&s, 100, err, sizeof err), 0);
    wl_sampler_stop(s);
    ck_assert(strcmp(wl_sampler_source(s), "proc") == 0 || strlen(wl_sampler_note(s)) == 0);
    wl_sampler_free(s);
}
END_TEST

HB_TEST_MAIN("workload sampler", busy_two_threads_read_as_two_cores, hundred_megabytes_show,
             start_stop_leaves_no_thread, cgroup_source_falls_back_with_a_reason)
