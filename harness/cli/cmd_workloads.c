/* cmd_workloads.c - `harvestbench workloads list|run`: the ten benchmark functions, listed from
 * the catalogue (core/catalog_table.h) or one run here (backends/local/workload_bin.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "catalog_table.h"
#include "commands.h"
#include "hb_types.h"
#include "local/workload_bin.h"

static int is_help(const char *a) { return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0; }

/* ---- workloads list ---- */

static int workloads_list(int argc, char **argv)
{
    if (argc > 1 && is_help(argv[1])) {
        printf("usage: harvestbench workloads list\n"
               "Lists the ten benchmark functions: id, name, the artifact's user CPU (cores) and\n"
               "memory (MB), its worker count, the input-size range of random traces, and the size\n"
               "of its demo traces. What each computes: docs/workloads.md.\n");
        return 0;
    }
    if (argc > 1)
        return hb_usage_error("workloads list", "unexpected argument '%s'", argv[1]);
    hb_catalog_print(stdout);
    return 0;
}

/* ---- workloads run ---- */

static int workloads_run(int argc, char **argv)
{
    static const char *usage =
        "usage: harvestbench workloads run ID [--size N] [--parallel P] [--seed S] [--params JSON]\n"
        "Runs one benchmark function on this machine (its binary next to harvestbench, in\n"
        "workloads/ID) and prints its result JSON: the answer, a checksum of the output, the wall\n"
        "time, and CPU (cores) and memory (MB) samples every 100 ms with their peaks. Without\n"
        "--size and --parallel the function's defaults apply (docs/workloads.md).\n"
        "Exit status: 0 ok, 1 the function failed, 2 bad usage or parameters.\n";
    if (argc < 2 || is_help(argv[1])) {
        if (argc < 2) {
            fputs(usage, stderr);
            return 2;
        }
        fputs(usage, stdout);
        return 0;
    }
    const char *id = argv[1];
    if (hb_function_find(id) < 0)
        return hb_usage_error("workloads run", "unknown function '%s' (see: harvestbench "
                              "workloads list)", id);
    char path[PATH_MAX];
    hb_error err;
    if (hb_workload_path(id, path, sizeof path, &err) != HB_OK) {
        fprintf(stderr, "harvestbench workloads run: %s\n", err.msg);
        return 1;
    }
    char *args[16] = {path};
    int n = 1;
    for (int i = 2; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(argv[i], "--size") != 0 && strcmp(argv[i], "--parallel") != 0 &&
            strcmp(argv[i], "--seed") != 0 && strcmp(argv[i], "--params") != 0)
            return hb_usage_error("workloads run", "unknown option '%s'", argv[i]);
        if (i + 1 >= argc)
            return hb_usage_error("workloads run", "%s needs a value", argv[i]);
        if (n + 2 >= (int)(sizeof args / sizeof args[0]))
            return hb_usage_error("workloads run", "too many options");
        args[n++] = argv[i];
        args[n++] = argv[++i];
    }
    args[n] = NULL;
    int st;
    if (hb_workload_exec_wait("harvestbench workloads run", args, &st, &err) != HB_OK) {
        fprintf(stderr, "harvestbench workloads run: %s\n", err.msg);
        return 1;
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st) <= 2 ? WEXITSTATUS(st) : 1;
    fprintf(stderr, "harvestbench workloads run: %s killed by signal %d\n", id, WTERMSIG(st));
    return 1;
}

int cmd_workloads(int argc, char **argv)
{
    if (argc < 2 || is_help(argv[1])) {
        fprintf(argc < 2 ? stderr : stdout,
                "usage: harvestbench workloads list\n"
                "       harvestbench workloads run ID [--size N] [--parallel P] [--seed S] "
                "[--params JSON]\n"
                "The ten benchmark functions in C: list them, or run one here and print its "
                "result.\n'harvestbench workloads list --help' and 'workloads run --help' describe "
                "each.\n");
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "list") == 0)
        return workloads_list(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return workloads_run(argc - 1, argv + 1);
    return hb_usage_error("workloads", "unknown subcommand '%s' (list or run)", argv[1]);
}
