/* seed.h - deriving independent, reproducible random streams from one run seed.
 * Each consumer (arrivals, input sizes, run-to-run variation, placement, the policy) gets its own
 * generator seeded with hb_seed_derive(run_seed, "name"), so changing one part of an experiment
 * (say the arrival mode) does not change the numbers another part draws. */
#ifndef HB_SEED_H
#define HB_SEED_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

uint64_t hb_seed_derive(uint64_t seed, const char *stream);
/* A new mt19937 generator for the stream, or NULL when out of memory. */
gsl_rng *hb_rng_new(uint64_t seed, const char *stream);
/* The 32-hex-digit activation id of event `index`; key = hb_seed_derive(seed, "activation"). */
void hb_activation_id(uint64_t key, uint64_t index, char out[33]);
/* A uniform draw in (0, 1) that depends only on (key, index): the same call gets the same draw
 * under every policy (common random numbers). */
double hb_index_uniform(uint64_t key, uint64_t index);
/* The same draws in two steps, for loops drawing many indices of one key (the mixing of the key
 * done once): hb_index_uniform(key, i) == hb_index_uniform_mixed(hb_index_mix(key), i). */
uint64_t hb_index_mix(uint64_t key);
double hb_index_uniform_mixed(uint64_t mixed, uint64_t index);

#endif
