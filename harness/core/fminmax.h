/* fminmax.h - fmin and fmax inline, for the simulator's per-event arithmetic.
 *
 * Without -ffinite-math-only the compiler calls libm for fmin/fmax; on the simulator's hot paths
 * (CPU sharing, a call's levels) those calls were a few percent of `bench`. These return exactly
 * what glibc's do on x86-64 (its minsd/maxsd: the second argument when the two compare equal, so
 * also for -0 and +0; the other argument when one is a NaN), so results do not change. */
#ifndef HB_FMINMAX_H
#define HB_FMINMAX_H

#include <math.h>

static inline double hb_fmin(double a, double b)
{
    if (isnan(a))
        return b;
    if (isnan(b))
        return a;
    return a < b ? a : b;
}

static inline double hb_fmax(double a, double b)
{
    if (isnan(a))
        return b;
    if (isnan(b))
        return a;
    return a > b ? a : b;
}

#endif
