/* commands.c - the table of subcommands, `version` and `help`. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "version.h"

const hb_command hb_commands[] = {
    {"run", "CONFIG [--out DIR] [--policy P1,P2] [--seeds N] [--backend B] [--resume] [--quiet]",
     "replay a trace under each policy and seed, write results", cmd_run},
    {"sweep", "CONFIG [--out DIR] [--jobs N] [--resume] [--slurm] | plot DIR --x A --y B",
     "run a configuration over the cells of its [sweep] axes, merge into sweep.csv", cmd_sweep},
    {"trace", "info FILE... | sample DIR", "describe trace files; sample the raw Azure 2019 dataset",
     cmd_trace},
    {"compare", "DIR [--baseline POLICY] [--no-plots]", "statistics, tables and plots of a run",
     cmd_compare},
    {"check", "DIR --against BASELINE_DIR [--max-regression PCT]",
     "fail on a significant regression against a stored run (CI)", cmd_check},
    {"bench", "[--invocations N] [--policy P] [--json]",
     "measure the simulator's speed on a synthetic trace", cmd_bench},
    {"train", "libra|freyr CONFIG [OPTIONS]",
     "train a policy in the simulator: libra's predictors, freyr's networks", cmd_train},
    {"workloads", "list | run ID [--size N] [--parallel P]",
     "list the ten benchmark functions, or run one here and print its result", cmd_workloads},
    {"profile", "[--quick] [--out FILE] [--functions IDS] [--cpus C,...]",
     "measure the C workloads, write the `measured` workload profile", cmd_profile},
    {"deploy", "[CONFIG] [--apihost H] [--auth-file F] [--flavor F] [--dry-run] [--delete] ...",
     "deploy the ten functions (and their size variants) to an OpenWhisk API host", cmd_deploy},
    {"serve", "[--port N] [--props FILE] [--faults SPEC] ...",
     "an OpenWhisk-compatible endpoint on 127.0.0.1 running native actions", cmd_serve},
    {"version", "", "print the version", cmd_version},
    {"help", "[COMMAND]", "list the commands, or describe one", cmd_help},
    {NULL, NULL, NULL, NULL},
};

int hb_usage_error(const char *name, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "harvestbench %s: ", name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see: harvestbench %s --help)\n", name);
    return 2;
}

int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: harvestbench version\nPrints the version and the git commit it was built from.\n");
        return 0;
    }
    if (argc > 1)
        return hb_usage_error("version", "unexpected argument '%s'", argv[1]);
    printf("harvestbench %s (commit %s)\n", hb_version(), hb_git_commit());
    return 0;
}

int cmd_help(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0) {
        for (const hb_command *c = hb_commands; c->name; c++)
            if (strcmp(c->name, argv[1]) == 0) {
                char *sub[] = {(char *)c->name, "--help", NULL};
                return c->run(2, sub);
            }
        return hb_usage_error("help", "unknown command '%s'", argv[1]);
    }
    printf("usage: harvestbench COMMAND [ARGS]\n\n"
           "A harness for resource-harvesting policies in serverless clusters.\n\ncommands:\n");
    for (const hb_command *c = hb_commands; c->name; c++)
        printf("  %-10s %s\n", c->name, c->summary);
    printf("\n'harvestbench COMMAND --help' describes one. Exit status: 0 success, 1 a run or check\n"
           "that failed, 2 bad usage or bad input. Documentation: docs/ in the source tree.\n");
    return 0;
}
