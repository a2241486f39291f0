/* serve_faults.h - fault injection for `harvestbench serve` (tests of the client's retries and of
 * "every invocation gets exactly one outcome"). A fault specification is a comma-separated list:
 *
 *   429=P           a share P of invocations answered 429 (as a rate throttle would), not accepted
 *   500=P           a share P of API requests answered 500, not processed
 *   drop=P          a share P of API requests whose connection is closed without an answer, not
 *                   processed (the client sees an empty reply)
 *   delay=MS        every API request is answered after a uniform delay in [0, MS] ms
 *   lose=P          a share P of accepted activations whose record never appears (unrecoverable:
 *                   the client must end them as `lost`)
 *   record-delay=MS records become readable MS ms after their activation ended
 *   shuffle         annotations of each record in a random order
 *   seed=N          the generator's seed (default 1)
 *
 * Faults never touch /harvestbench/stats, so a test can read what was injected. */
#ifndef HB_SERVE_FAULTS_H
#define HB_SERVE_FAULTS_H

#include <gsl/gsl_rng.h>
#include <pthread.h>
#include <stdint.h>

#include "hb_error.h"

typedef struct sv_faults {
    double p429, p500, pdrop, plose;
    int64_t delay_ms, record_delay_ms;
    int shuffle;
    uint64_t seed;
} sv_faults;

/* Parses a specification (NULL or "" is no faults) over *f, which should start zeroed. */
int sv_faults_parse(const char *spec, sv_faults *f, hb_error *err);
/* Writes the specification back in canonical form ("none" when there are no faults). */
void sv_faults_format(const sv_faults *f, char *out, size_t n);
int sv_faults_any(const sv_faults *f);

/* A thread-safe seeded draw in [0, 1). */
typedef struct sv_dice {
    pthread_mutex_t mu;
    gsl_rng *rng;
} sv_dice;

int sv_dice_init(sv_dice *d, uint64_t seed);
double sv_dice_roll(sv_dice *d);
void sv_dice_free(sv_dice *d);

#endif
