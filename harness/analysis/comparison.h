/* comparison.h - the statistics of `harvestbench compare`: every policy of a run against its
 * baseline policy (analysis.h), with Holm-adjusted p-values over the non-baseline policies. The
 * tables, files and plots made from them: report.h, plot.h. */
#ifndef HB_COMPARISON_H
#define HB_COMPARISON_H

#include "analysis.h"
#include "hb_error.h"
#include "results_reader.h"

/* Computes st[i] for every policy of res and vs[i] against the baseline res->policies[base] (vs[base]
 * unused); both arrays have res->npolicies entries, allocated here and freed with
 * hb_comparison_stats_free (also on failure). */
int hb_comparison_stats(const hb_results *res, size_t base, const hb_boot_opts *o,
                        hb_policy_stats **st, hb_vs_baseline **vs, hb_error *err);

void hb_comparison_stats_free(hb_policy_stats *st, hb_vs_baseline *vs, size_t n);

#endif
