/* cmd_trace.c - `harvestbench trace info FILE...`. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "trace.h"

static const char TRACE_HELP[] =
    "usage: harvestbench trace info FILE...\n"
    "       harvestbench trace sample DATASET_DIR --functions N --out DIR ... (trace sample --help)\n"
    "\n"
    "Describes trace files, detected by their header: invocation counts (the artifact's\n"
    "HashFunction,Trigger,1..T or Azure 2019's HashOwner,HashApp,HashFunction,Trigger,1..1440):\n"
    "functions, minutes, invocations and per-minute rate; input-size files; Azure duration and\n"
    "memory statistics. Exit status 2 on a file that cannot be read or parsed.\n";

int cmd_trace(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(TRACE_HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "sample") == 0)
        return cmd_trace_sample(argc - 1, argv + 1);
    if (strcmp(argv[1], "info") != 0)
        return hb_usage_error("trace", "unknown subcommand '%s' (expected: info, sample)", argv[1]);
    if (argc < 3)
        return hb_usage_error("trace", "info: no FILE given");
    int status = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(TRACE_HELP, stdout);
            return 0;
        }
        hb_error err;
        hb_error_clear(&err);
        if (hb_trace_info(argv[i], stdout, &err)) {
            fprintf(stderr, "harvestbench trace: %s\n", err.msg);
            status = 2;
        }
    }
    return status;
}
