/* cmd_profile.c - `harvestbench profile`: measures the C workloads on this machine and writes the
 * `measured` workload profile and its timeline library. The flags are parsed here; the lab that
 * runs, records and fits is backends/local/profile_lab.h (the fit: core/workload_fit.h). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "hb_types.h"
#include "local/profile_lab.h"

static const char *profile_usage =
    "usage: harvestbench profile [--quick] [--out FILE] [--functions ID,...] [--sizes N,...]\n"
    "                            [--cpus C,...] [--repeats N] [--limit auto|cgroup|threads]\n"
    "                            [--max-others CORES] [--timelines FILE|none] [--quiet]\n"
    "Measures the C workloads on this machine and writes the `measured` workload profile that\n"
    "`run` reads with [workload] profile = measured and profile_file = FILE.\n"
    "Each function runs over a grid of input sizes and CPU limits, each point --repeats times\n"
    "(default 2). The CPU limit is a cgroup CPU quota where this process may create groups (root\n"
    "and cgroup v1 or v2), else the worker-thread count; the output says which.\n"
    "  --quick       a small grid for CI (seconds): three small sizes per function\n"
    "  --out FILE    where to write (default workloads/profiles/measured.csv)\n"
    "  --functions   which functions (default all ten); the rest are left out of the file\n"
    "  --sizes       input sizes for every chosen function (default: four sizes spread\n"
    "                geometrically over the function's trace range, or the --quick ones)\n"
    "  --cpus        CPU limits in cores (default 1,2,... up to this machine's CPUs)\n"
    "  --max-others  retry (up to twice) a run during which the rest of the machine used more\n"
    "                than this many cores (default 0.5); the least disturbed attempt is kept\n"
    "  --timelines   where to write every kept run's usage timeline (100 ms samples of CPU\n"
    "                cores, memory and runnable threads; default timelines-measured.csv in the\n"
    "                directory of --out, i.e. workloads/profiles/timelines-measured.csv); none:\n"
    "                do not record them\n"
    "The method and the file's columns: workloads/profiles/README.md. Exit status: 0 written,\n"
    "1 a run failed, 2 bad usage.\n";

static int parse_list(const char *s, double *out, int max, int *n)
{
    *n = 0;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    char *sv = NULL;
    for (char *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
        char *end;
        double v = strtod(t, &end);
        if (end == t || *end || !(v > 0) || *n >= max)
            return -1;
        out[(*n)++] = v;
    }
    return *n > 0 ? 0 : -1;
}

static int parse_profile_args(int argc, char **argv, hb_lab_opts *o)
{
    hb_lab_defaults(o);
    const char *limit = "auto";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = 1;
        } else if (strcmp(a, "--out") == 0 || strcmp(a, "--functions") == 0 ||
                   strcmp(a, "--timelines") == 0 ||
                   strcmp(a, "--sizes") == 0 || strcmp(a, "--cpus") == 0 ||
                   strcmp(a, "--repeats") == 0 || strcmp(a, "--limit") == 0 ||
                   strcmp(a, "--max-others") == 0) {
            if (!v)
                return hb_usage_error("profile", "%s needs a value", a);
            i++;
            if (strcmp(a, "--out") == 0) {
                o->out = v;
            } else if (strcmp(a, "--timelines") == 0) {
                o->timelines = v;
            } else if (strcmp(a, "--functions") == 0) {
                char buf[256];
                snprintf(buf, sizeof buf, "%s", v);
                char *sv = NULL;
                for (char *t = strtok_r(buf, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
                    int f = hb_function_find(t);
                    if (f < 0)
                        return hb_usage_error("profile", "unknown function '%s'", t);
                    int dup = 0;
                    for (int k = 0; k < o->nfuncs; k++)
                        dup |= o->funcs[k] == f;
                    if (!dup)
                        o->funcs[o->nfuncs++] = f;
                }
            } else if (strcmp(a, "--sizes") == 0) {
                double s[16];
                if (parse_list(v, s, 16, &o->nsizes) != 0)
                    return hb_usage_error("profile", "--sizes: positive integers, comma-separated");
                for (int k = 0; k < o->nsizes; k++) {
                    if (s[k] != floor(s[k]))
                        return hb_usage_error("profile", "--sizes: '%g' is not an integer", s[k]);
                    o->sizes[k] = (int64_t)s[k];
                }
            } else if (strcmp(a, "--cpus") == 0) {
                if (parse_list(v, o->cpus, 16, &o->ncpus) != 0)
                    return hb_usage_error("profile", "--cpus: positive numbers, comma-separated");
            } else if (strcmp(a, "--max-others") == 0) {
                char *end;
                o->max_others = strtod(v, &end);
                if (*end || !(o->max_others >= 0))
                    return hb_usage_error("profile", "--max-others: cores, a number >= 0");
            } else if (strcmp(a, "--repeats") == 0) {
                char *end;
                long r = strtol(v, &end, 10);
                if (*end || r < 1 || r > 100)
                    return hb_usage_error("profile", "--repeats: an integer in 1..100");
                o->repeats = (int)r;
            } else {
                limit = v;
            }
        } else {
            return hb_usage_error("profile", "unknown option '%s'", a);
        }
    }
    hb_error err;
    if (hb_lab_resolve(o, limit, &err) != HB_OK)
        return hb_usage_error("profile", "%s", err.msg);
    return 0;
}

int cmd_profile(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(profile_usage, stdout);
            return 0;
        }
    hb_lab_opts o;
    int rc = parse_profile_args(argc, argv, &o);
    if (rc != 0)
        return rc;
    hb_error err;
    rc = hb_lab_run(&o, stdout, &err);
    if (rc != HB_OK)
        fprintf(stderr, "harvestbench profile: %s\n", err.msg);
    return hb_exit_status(rc);
}
