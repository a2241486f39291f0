/* clock.h - the harness's one clock helper: readings of a POSIX clock as integer nanoseconds,
 * milliseconds, or double seconds. Wall-clock timing only; the simulator's time never comes from
 * here (its runs must be reproducible). */
#ifndef HB_CLOCK_H
#define HB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on clock id (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_PROCESS_CPUTIME_ID, ...). */
int64_t hb_clock_ns(clockid_t id);
/* Seconds on clock id, as a double. */
double hb_clock_s(clockid_t id);

/* The monotonic clock (for intervals and deadlines), in each unit the harness uses. */
int64_t hb_mono_ns(void);
int64_t hb_mono_ms(void);
double hb_mono_s(void);

#endif
