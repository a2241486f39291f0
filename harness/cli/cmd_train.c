/* cmd_train.c - `harvestbench train POLICY CONFIG ...`: dispatches to the policy's trainer
 * (harness/cli/train.h). A trainable policy adds one line to the table below. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "train.h"

typedef struct trainer {
    const char *policy;
    const char *summary;
    int (*run)(int argc, char **argv);
} trainer;

static const trainer trainers[] = {
    {"libra", "random forests of peak CPU, peak memory and duration from profiling runs",
     hb_train_libra},
    {"freyr", "PPO in the simulator, one episode per replay of the trace; writes a checkpoint",
     hb_train_freyr},
    {NULL, NULL, NULL},
};

static void train_help(void)
{
    printf("usage: harvestbench train POLICY CONFIG [OPTIONS]\n"
           "\n"
           "Trains a policy on a configuration's trace and saves what it learned to a file that\n"
           "[policy.POLICY] in a config can load. 'harvestbench train POLICY --help' lists the\n"
           "options of one trainer.\n\ntrainers:\n");
    for (const trainer *t = trainers; t->policy; t++)
        printf("  %-8s %s\n", t->policy, t->summary);
}

int cmd_train(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        train_help();
        return argc < 2 ? 2 : 0;
    }
    for (const trainer *t = trainers; t->policy; t++)
        if (strcmp(t->policy, argv[1]) == 0)
            return t->run(argc - 1, argv + 1);
    return hb_usage_error("train", "no trainer for policy '%s'", argv[1]);
}
