/* run_print.c - see run_print.h. */
#define _GNU_SOURCE                    /* program_invocation_name, for the resume hint */
#include "run_print.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "policy_lib.h"

static void print_artifact_lines(const char *policy, const hb_policy_result *t)
{
    const hb_run_stats *s = &t->pooled;
    printf("Running %s (%d seed%s)\n", policy, t->seeds, t->seeds == 1 ? "" : "s");
    printf("Total events: %llu\n", (unsigned long long)s->invocations);
    printf("Timeout num: %llu\n", (unsigned long long)s->outcomes[HB_TIMEOUT]);
    /* the artifact's line counts every call that did not succeed or time out; what each was: */
    printf("Error num: %llu (oom %llu, error %llu, lost %llu)\n",
           (unsigned long long)(s->outcomes[HB_OOM] + s->outcomes[HB_ERROR] + s->outcomes[HB_LOST]),
           (unsigned long long)s->outcomes[HB_OOM], (unsigned long long)s->outcomes[HB_ERROR],
           (unsigned long long)s->outcomes[HB_LOST]);
    printf("system runtime: %.1f s (mean over seeds)\n", t->seeds ? t->makespan_sum / t->seeds : 0);
    if (s->harvested || s->accelerated || s->safeguards) {
        double n = s->invocations ? (double)s->invocations : 1;
        printf("Harvested: %.1f%% of calls, accelerated: %.1f%%, safeguard triggers: %llu\n",
               100.0 * (double)s->harvested / n, 100.0 * (double)s->accelerated / n,
               (unsigned long long)s->safeguards);
        printf("Lent: %.1f core-s, %.0f MB-s\n", s->harvested_cpu_s, s->harvested_mem_mb_s);
    }
    for (size_t i = 0; i < s->n_columns; i++)   /* the policy's extension columns */
        printf("%s%s %.1f%s", i ? ", " : "Policy totals: ", s->column[i].name, s->column[i].total,
               i + 1 == s->n_columns ? "\n" : "");
}

static void print_table(const hb_run_result *res)
{
    printf("\n%-10s %7s %7s %9s %9s %9s %9s %8s %8s %8s %8s\n", "policy", "calls", "ok",
           "mean ms", "p50 ms", "p95 ms", "p99 ms", "cpu/alloc", "mem/alloc", "cpu/cap", "mem/cap");
    for (int i = 0; i < res->n_policies; i++) {
        hb_run_stats *s = &res->policies[i].pooled;
        if (!s->invocations)
            continue;
        double mean = s->n_success ? s->lat_sum / (double)s->n_success : NAN;
        double cap_cpu = s->cpu_capacity, cap_mem = s->mem_capacity_mb;  /* core x s summed */
        printf("%-10s %7llu %7llu %9.1f %9.1f %9.1f %9.1f %8.3f %8.3f %8.3f %8.3f\n", res->policies[i].name,
               (unsigned long long)s->invocations, (unsigned long long)s->n_success, mean,
               hb_stats_latency_pct(s, 0.50), hb_stats_latency_pct(s, 0.95),
               hb_stats_latency_pct(s, 0.99),
               s->cpu_alloc_core_s > 0 ? s->cpu_used_core_s / s->cpu_alloc_core_s : NAN,
               s->mem_alloc_mb_s > 0 ? s->mem_used_mb_s / s->mem_alloc_mb_s : NAN,
               cap_cpu > 0 ? s->cpu_used_core_s / cap_cpu : NAN,
               cap_mem > 0 ? s->mem_used_mb_s / cap_mem : NAN);
    }
    printf("(latency of successful calls, pooled over seeds; utilization = used / allocated and\n"
           " used / capacity over the makespan)\n");
}

/* After each run: one line, unless --quiet; a failure always. */
void hb_print_run_line(void *ctx, const hb_run_entry *r, const hb_run_stats *st, const hb_error *err)
{
    int quiet = *(const int *)ctx;
    if (err) {
        fprintf(stderr, "harvestbench run: %s seed %d: %s\n", r->policy, r->seed_index, err->msg);
        return;
    }
    if (quiet)
        return;
    if (!st) {
        printf("%s seed %d: complete already, kept\n", r->policy, r->seed_index);
        return;
    }
    printf("%s seed %d: %llu calls, %llu ok, %llu timeout, %llu oom, %llu error; makespan %.1f s; "
           "%.2f s wall\n", r->policy, r->seed_index, (unsigned long long)st->invocations,
           (unsigned long long)st->outcomes[HB_SUCCESS], (unsigned long long)st->outcomes[HB_TIMEOUT],
           (unsigned long long)st->outcomes[HB_OOM], (unsigned long long)st->outcomes[HB_ERROR],
           hb_time_s(st->makespan), st->wall_seconds);
}

/* Appends s to buf, single-quoted for a POSIX shell when it has anything but safe characters. */
static void shell_quote(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    int plain = *s != '\0';
    for (const char *c = s; *c; c++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%", *c))
            plain = 0;
    if (n + 1 < len)
        buf[n++] = ' ';
    if (!plain && n + 1 < len)
        buf[n++] = '\'';
    for (const char *c = s; *c && n + 5 < len; c++) {
        if (*c == '\'' && !plain) {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *c;
        }
    }
    if (!plain && n + 1 < len)
        buf[n++] = '\'';
    buf[n] = '\0';
}

/* The command that continues an interrupted run: following it must reproduce this configuration
 * exactly. */
void hb_print_resume_hint(const char *config_path, const char *const *sets, int n_sets,
                       const hb_run_spec *spec, const char *out)
{
    char hint[8192] = "";
    shell_quote(hint, sizeof hint, program_invocation_name);
    shell_quote(hint, sizeof hint, "run");
    shell_quote(hint, sizeof hint, config_path);
    for (size_t i = 0; i < hb_policy_lib_count(); i++) {
        shell_quote(hint, sizeof hint, "--policy-lib");
        shell_quote(hint, sizeof hint, hb_policy_lib_path(i));
    }
    for (int i = 0; i < n_sets; i++) {
        shell_quote(hint, sizeof hint, "--set");
        shell_quote(hint, sizeof hint, sets[i]);
    }
    if (spec->policies) {
        shell_quote(hint, sizeof hint, "--policy");
        shell_quote(hint, sizeof hint, spec->policies);
    }
    if (spec->seeds) {
        char n[24];
        snprintf(n, sizeof n, "%d", spec->seeds);
        shell_quote(hint, sizeof hint, "--seeds");
        shell_quote(hint, sizeof hint, n);
    }
    if (spec->backend) {
        shell_quote(hint, sizeof hint, "--backend");
        shell_quote(hint, sizeof hint, spec->backend);
    }
    shell_quote(hint, sizeof hint, "--out");
    shell_quote(hint, sizeof hint, out);
    shell_quote(hint, sizeof hint, "--resume");
    if (spec->quiet)
        shell_quote(hint, sizeof hint, "--quiet");
    fprintf(stderr, "harvestbench run: interrupted; continue with:%s\n", hint);
}

/* The closing lines: per policy the artifact's lines (unless --quiet), the table, where. */
void hb_print_run_result(const hb_run_result *res, int quiet)
{
    if (!quiet)
        printf("\n");
    for (int p = 0; p < res->n_policies && !quiet; p++)
        if (res->policies[p].seeds)
            print_artifact_lines(res->policies[p].name, &res->policies[p]);
    print_table(res);
    printf("results: %s (%s)\n", res->out, res->complete ? "complete" : "incomplete");
}

