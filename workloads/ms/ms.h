/* ms.h - merge sort (see README.md). The pieces are public for the tests. */
#ifndef WL_MS_H
#define WL_MS_H

#include <stdint.h>

#include "runtime.h"

#define MS_PER_UNIT 50                 /* numbers per unit of size */
#define MS_BLOCK 4096                  /* numbers drawn from one reseeded generator */

extern const wl_function wl_fn_ms;

/* The n input numbers of a call with this seed (what every worker draws, block by block). */
void ms_generate(uint64_t seed, int64_t n, uint32_t *out);

/* Draws and sorts the n numbers with `parallel` workers: each sorts its share with a recursive
 * merge sort, then pairs of runs are merged in parallel rounds. Returns a malloc'ed sorted array,
 * or NULL when out of memory. */
uint32_t *ms_sorted(uint64_t seed, int64_t n, int parallel);

/* Sorts a[0..n) in place with a top-down merge sort; tmp holds at least n/2 + 1 numbers. */
void ms_merge_sort(uint32_t *a, uint32_t *tmp, int64_t n);

#endif
