/* run_print.h - what `harvestbench run` prints (harness/cli/cmd_run.c): a line per run, the
 * closing lines (the artifact's console figures per policy, the table pooled over seeds, where the
 * results are) and, after an interruption, the command that continues the run. */
#ifndef HB_RUN_PRINT_H
#define HB_RUN_PRINT_H

#include "experiment_run.h"

/* hb_run_spec.on_run; ctx points to an int, nonzero for --quiet (only failures are printed). */
void hb_print_run_line(void *ctx, const hb_run_entry *r, const hb_run_stats *st, const hb_error *err);

/* The closing lines; with quiet only the table and where. */
void hb_print_run_result(const hb_run_result *res, int quiet);

/* On stderr: the complete command that continues the run in out (the same configuration file,
 * overrides and flags, plus --resume). */
void hb_print_resume_hint(const char *config_path, const char *const *sets, int n_sets,
                          const hb_run_spec *spec, const char *out);

#endif
