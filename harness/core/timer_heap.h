/* timer_heap.h - the simulator's event queue: an indexed 4-ary min-heap of timers ordered by
 * (time, sequence), plus a lane for timers that are always scheduled in time order (the monitor
 * ticks). Each timer remembers its slot, so rescheduling and cancelling are O(log n) without stale
 * entries in the heap. Hand-written: no packaged C library offers an indexed heap.
 *
 * Why this shape (measured, docs/simulator.md "Speed"): the keys sit inline in the heap's array, so
 * a sift compares without following a pointer per child, and four children per node halve the
 * depth; a 4-ary heap of inline keys beat the binary heap of pointers it replaced. The lane holds
 * timers whose times never decrease in the order they are set (each invoker's next monitor tick is
 * the next point of one grid), so it is a FIFO: O(1) per tick instead of a heap operation, and pops
 * merge it with the heap by (time, sequence), so the order of events is exactly what one heap gives. */
#ifndef HB_TIMER_HEAP_H
#define HB_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "hb_types.h"

typedef struct sim_timer {
    hb_time t;
    uint64_t seq;                      /* insertion order: ties fire first-scheduled first */
    size_t slot;                       /* 0: not scheduled; TIMER_IN_LANE; else heap index + 1 */
    int kind;
    void *obj;
} sim_timer;

#define TIMER_IN_LANE SIZE_MAX

typedef struct timer_entry {
    hb_time t;
    uint64_t seq;
    sim_timer *tm;
} timer_entry;

typedef struct timer_heap {
    timer_entry *a;                    /* the heap */
    size_t n, cap;
    uint64_t seq;
    timer_entry *q;                    /* the lane: a ring, in (time, sequence) order; entries of
                                        * timers cancelled or set again since are skipped */
    size_t q_head, q_n, q_cap;
} timer_heap;

void timer_heap_free(timer_heap *h);
/* Schedules (or reschedules) t at time `when`. Returns -1 when out of memory. */
int timer_heap_set(timer_heap *h, sim_timer *t, hb_time when);
/* The same, in the lane: for timers set in nondecreasing time order (a `when` before the lane's
 * last goes to the heap instead, so the order stays right). A lane timer's memory must stay valid
 * until its time has passed or the heap is freed (its stale entry is read then). */
int timer_heap_set_lane(timer_heap *h, sim_timer *t, hb_time when);
void timer_heap_cancel(timer_heap *h, sim_timer *t);
/* A timer's key taken now (its time and the next sequence) without scheduling it, and its
 * insertion later with that key: it fires exactly where it would have had it been set when the key
 * was taken, provided it is inserted before anything after it is taken from the heap. For timers
 * that seldom fire and would only weigh on the heap (a call's timeout, while its end is sure to
 * come first). t must not be scheduled; -1 when out of memory. */
void timer_heap_reserve(timer_heap *h, sim_timer *t, hb_time when);
int timer_heap_insert_reserved(timer_heap *h, sim_timer *t);
/* The next timer (heap or lane), without taking it; NULL when none. */
sim_timer *timer_heap_top(timer_heap *h);
sim_timer *timer_heap_pop(timer_heap *h);
/* The next timer, taken, if it is due at or before `until`; else NULL (nothing taken). */
sim_timer *timer_heap_pop_due(timer_heap *h, hb_time until);
/* The next timer due at or before `until`, for firing: a lane timer is taken, as by pop_due, but a
 * heap timer stays at the root (still scheduled, at its time, the least key) while it fires, so
 * that setting it again - a call's next phase or its end after a cold start - moves it once
 * instead of removing it and inserting it. After firing, timer_heap_fired(h, t, *seq) removes it
 * if it was not set again. The order of events is the same: the heap holds the same keys. */
sim_timer *timer_heap_fire_due(timer_heap *h, hb_time until, uint64_t *seq);
void timer_heap_fired(timer_heap *h, sim_timer *t, uint64_t seq);
static inline int timer_scheduled(const sim_timer *t) { return t->slot != 0; }

#endif
