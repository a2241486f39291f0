/* timer_heap.h - the simulator's event queue: an indexed binary min-heap of timers ordered by
 * (time, sequence). Each timer remembers its slot, so rescheduling and cancelling are O(log n)
 * without stale entries. Hand-written: no packaged C library offers an indexed heap. */
#ifndef HB_TIMER_HEAP_H
#define HB_TIMER_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include "hb_types.h"

typedef struct sim_timer {
    hb_time t;
    uint64_t seq;                      /* insertion order: ties fire first-scheduled first */
    size_t slot;                       /* 0: not scheduled; else index + 1 */
    int kind;
    void *obj;
} sim_timer;

typedef struct timer_heap {
    sim_timer **a;
    size_t n, cap;
    uint64_t seq;
} timer_heap;

void timer_heap_free(timer_heap *h);
/* Schedules (or reschedules) t at time `when`. Returns -1 when out of memory. */
int timer_heap_set(timer_heap *h, sim_timer *t, hb_time when);
void timer_heap_cancel(timer_heap *h, sim_timer *t);
static inline sim_timer *timer_heap_top(const timer_heap *h) { return h->n ? h->a[0] : NULL; }
sim_timer *timer_heap_pop(timer_heap *h);
static inline int timer_scheduled(const sim_timer *t) { return t->slot != 0; }

#endif
