/* harvest_pool.h - one invoker's pool of harvested resource in one dimension (Libra, spec section
 * 6.3): CPU in cores or memory in MB that running calls predicted they would not use.
 *
 * Each entry belongs to a lender (a running call) and carries its harvest window: from the lender's
 * start to its predicted end. Borrowers take from the entry with the latest predicted end first (the
 * longest expected window), ties to the earliest inserted, partial grants allowed. Returned resource
 * is credited to its lender's entry; the lender's window stays its own (the artifact replaced neither
 * the window nor, through a shadowing bug, kept the first one when merging). The time an entry's
 * amount sits unlent is integrated (amount x microseconds) for the idle accounting. */
#ifndef HB_HARVEST_POOL_H
#define HB_HARVEST_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "hb_types.h"

typedef struct hp_entry {
    void *lender;                      /* the lender's key (Libra's per-call state) */
    uint64_t lender_index;             /* its event index, for messages */
    double amount;                     /* unlent, in the pool now */
    hb_time start, end;                /* the lender's harvest window */
    uint64_t seq;                      /* insertion order: the deterministic tie-break */
    hb_time last;                      /* when amount last changed */
    double idle;                       /* amount x microseconds spent in the pool */
} hp_entry;

typedef struct harvest_pool {
    hp_entry *e;
    size_t n, cap;
    uint64_t seq;
} harvest_pool;

typedef struct hp_grant {
    void *lender;
    double amount;
} hp_grant;

void hp_free(harvest_pool *p);
/* Adds amount to the lender's entry, creating it with the window [start, end] if absent. -1: no memory. */
int hp_put(harvest_pool *p, void *lender, uint64_t lender_index, double amount, hb_time start,
           hb_time end, hb_time now);
/* Takes up to `want`, latest predicted end first; fills grants (at most max) and returns the total. */
double hp_take(harvest_pool *p, double want, hb_time now, hp_grant *grants, size_t max, size_t *n);
/* Removes the lender's entry; returns its unlent amount and adds its idle integral to *idle. */
double hp_remove(harvest_pool *p, const void *lender, hb_time now, double *idle);
/* Unlent amount of one lender (0 if it has no entry), and in the whole pool. */
double hp_amount(const harvest_pool *p, const void *lender);
double hp_total(const harvest_pool *p);
int hp_has(const harvest_pool *p, const void *lender);

/* Share of a demand D over the window [t0, t1] that the pool's entries cover: the area of
 * min(sum of the amounts of the entries whose window overlaps, D) over the window, divided by
 * D x (t1 - t0); in [0, 1]. With t1 == t0, the cover at t0. A demand of 0 is fully covered. */
double hp_coverage(const harvest_pool *p, double demand, hb_time t0, hb_time t1);

/* The Libra artifact's coverage (spec section 4.4), for comparison: demand area over covered area
 * with `unit` dividing pool amounts (128 reproduces its memory unit mismatch); +inf when nothing
 * covers, NaN when t1 == t0. Larger means less covered; the artifact ranks it descending. */
double hp_coverage_artifact(const harvest_pool *p, double demand, double unit, hb_time t0, hb_time t1);

#endif
