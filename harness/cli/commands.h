/* commands.h - the subcommands of the harvestbench program (BRIEF section 8).
 * Each takes the arguments after its name (argv[0] is the subcommand's name) and returns the exit
 * status: 0 success, 1 a run or check that failed, 2 bad usage or bad input. */
#ifndef HB_COMMANDS_H
#define HB_COMMANDS_H

typedef struct hb_command {
    const char *name;
    const char *usage;                 /* one line: arguments */
    const char *summary;               /* one line: what it does */
    int (*run)(int argc, char **argv);
} hb_command;

extern const hb_command hb_commands[];

int cmd_run(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_trace_sample(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_workloads(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_help(int argc, char **argv);

/* Prints "harvestbench NAME: message" and the usage hint to stderr; returns 2. */
int hb_usage_error(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
