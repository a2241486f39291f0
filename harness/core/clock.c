/* clock.c - see clock.h. */
#include "clock.h"

int64_t hb_clock_ns(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)   /* only for an id this system lacks: a programming error */
        return 0;
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

double hb_clock_s(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t hb_mono_ns(void) { return hb_clock_ns(CLOCK_MONOTONIC); }

int64_t hb_mono_ms(void) { return hb_clock_ns(CLOCK_MONOTONIC) / 1000000; }

double hb_mono_s(void) { return hb_clock_s(CLOCK_MONOTONIC); }
