/* report.h - the outputs of `harvestbench compare`: comparison.json (at least the keys of BRIEF
 * section 8; undefined numbers are null), comparison.csv (one row per policy, empty field when
 * undefined), comparison.md (the tables a person reads, with the plots) and the same tables on the
 * console. docs/statistics.md documents every field. */
#ifndef HB_REPORT_H
#define HB_REPORT_H

#include <stdio.h>

#include "analysis.h"
#include "hb_error.h"
#include "plot.h"
#include "results_reader.h"

typedef struct hb_comparison {
    const hb_results *res;
    size_t base;                 /* index of the baseline in st */
    hb_boot_opts opts;
    size_t n;
    hb_policy_stats *st;         /* one per policy, manifest order */
    hb_vs_baseline *vs;          /* one per policy; vs[base] unused */
    const hb_plot_set *plots;    /* NULL with --no-plots */
} hb_comparison;

int hb_report_json(const hb_comparison *c, const char *path, hb_error *err);
int hb_report_csv(const hb_comparison *c, const char *path, hb_error *err);
int hb_report_md(const hb_comparison *c, const char *path, hb_error *err);
/* The tables and the plain-words summary, as text. */
void hb_report_print(const hb_comparison *c, FILE *out);

#endif
