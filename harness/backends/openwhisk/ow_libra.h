/* ow_libra.h - the openwhisk backend's side of the Libra fork's Redis channel
 * ([backend.openwhisk] redis with flavor = libra-fork; docs/openwhisk.md, libra-algorithm spec
 * section 3). It does what the artifact's Python agent does towards Redis: before each call it
 * writes the function's encoded (cpu, memory) prediction to predict_peak and the predicted
 * duration (ms) to predict_duration, keyed by the action invoked (the function's user
 * configuration: the fork harvests or borrows the difference itself); after the call it reads the
 * call's trajectory from invocations; and it samples the invokers' pools (invoker<i>).
 *
 * What a trajectory gives a record: the allocation the fork ran the call with (the user
 * configuration plus the trajectory's deltas), harvested and borrowed resource-seconds (the deltas
 * over the time the call held its container: an upper bound, since a lender's end takes loans back
 * early and the trajectory has no times), and the safeguard flag. What it lent to whom, what it
 * borrowed from whom and the pool's idle time are counted here and shown in the closing line. */
#ifndef HB_OW_LIBRA_H
#define HB_OW_LIBRA_H

#include <stdio.h>

#include "hb_error.h"
#include "hb_types.h"
#include "libra_fork.h"
#include "ow_options.h"

typedef struct ow_libra ow_libra;

/* Connects (AUTH, SELECT): an unreachable Redis or a refused password is an HB_EINPUT error. */
int ow_libra_open(const ow_options *o, ow_libra **out, hb_error *err);
void ow_libra_close(ow_libra *l);

/* The encoded prediction of a call: the policy's predicted peak when it has one, else its
 * allocation; rounded up to whole cores and 128 MB units inside 1..64. And its duration in ms
 * (0 when the policy predicts none). */
int ow_libra_encoded(const hb_invocation *inv);
long ow_libra_duration_ms(const hb_invocation *inv);

/* Writes the prediction of a call of `action`. A failure is one attempt's: the caller retries
 * within redis_timeout_ms. err->msg says why without the Redis address. */
int ow_libra_predict(ow_libra *l, const char *action, const hb_invocation *inv, hb_error *err);

/* Reads the trajectory of an activation: *found 0 when the fork has written none (yet). A
 * trajectory that does not parse is an error naming the field. */
int ow_libra_trajectory(ow_libra *l, const char *activation_id, lf_trajectory *t, int *found,
                        hb_error *err);

/* Fills a record from a trajectory: alloc = user (as deployed) + deltas, harvested/borrowed
 * resource-seconds over [start, end), safeguard. Counts the trajectory's loans. */
void ow_libra_apply(ow_libra *l, const lf_trajectory *t, hb_res user, hb_invocation *inv);
/* A call that ended without a trajectory (counted for the closing line). */
void ow_libra_missing(ow_libra *l, int waited);

/* Samples the pools of invoker0..invoker{n-1}: cpu[i] in cores, mem_mb[i] in MB (what each lists
 * as harvested and not lent). Non-zero when Redis could not be read (the sample is skipped). */
int ow_libra_sample(ow_libra *l, int n, double *cpu, double *mem_mb, hb_error *err);

/* One line of counts. */
void ow_libra_report(const ow_libra *l, FILE *f);

#endif
