/* timer_heap.c - see timer_heap.h. */
#include "timer_heap.h"

#include <stdlib.h>

#include "dynbuf.h"

#define D 4                            /* children per node */

/* (A branch-free form with bitwise operators measured no faster in `bench`: medians of 5.) */
static inline int before(const timer_entry *a, const timer_entry *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static inline void place(timer_heap *h, size_t i, timer_entry e)
{
    h->a[i] = e;
    e.tm->slot = i + 1;
}

static void sift_up(timer_heap *h, size_t i)
{
    timer_entry e = h->a[i];
    while (i > 0) {
        size_t p = (i - 1) / D;
        if (!before(&e, &h->a[p]))
            break;
        place(h, i, h->a[p]);
        i = p;
    }
    place(h, i, e);
}

static void sift_down(timer_heap *h, size_t i)
{
    timer_entry e = h->a[i];
    size_t n = h->n;
    for (;;) {
        size_t c = D * i + 1;
        if (c >= n)
            break;
        size_t m = c, end = c + D < n ? c + D : n;
        for (size_t k = c + 1; k < end; k++)
            if (before(&h->a[k], &h->a[m]))
                m = k;
        if (!before(&h->a[m], &e))
            break;
        place(h, i, h->a[m]);
        i = m;
    }
    place(h, i, e);
}

/* ---- the lane ---- */

static inline timer_entry *lane_at(const timer_heap *h, size_t k)
{
    return &h->q[(h->q_head + k) & (h->q_cap - 1)];
}

static inline int lane_live(const timer_entry *e)
{
    return e->tm->slot == TIMER_IN_LANE && e->tm->seq == e->seq;
}

/* Drops stale entries at the lane's head; returns the live head or NULL. */
static timer_entry *lane_head(timer_heap *h)
{
    while (h->q_n) {
        timer_entry *e = lane_at(h, 0);
        if (lane_live(e))
            return e;
        h->q_head = (h->q_head + 1) & (h->q_cap - 1);
        h->q_n--;
    }
    return NULL;
}

/* Grows the ring (a power of two), unwrapping it. */
static int lane_grow(timer_heap *h)
{
    size_t cap = h->q_cap ? h->q_cap * 2 : 64;
    timer_entry *q = malloc(cap * sizeof *q);
    if (!q)
        return -1;
    for (size_t k = 0; k < h->q_n; k++)
        q[k] = *lane_at(h, k);
    free(h->q);
    h->q = q;
    h->q_cap = cap;
    h->q_head = 0;
    return 0;
}

static inline int lane_push(timer_heap *h, timer_entry e)
{
    if (h->q_n == h->q_cap && lane_grow(h))
        return -1;
    *lane_at(h, h->q_n++) = e;
    return 0;
}

/* ---- the interface ---- */

void timer_heap_free(timer_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->a[i].tm->slot = 0;
    for (size_t k = 0; k < h->q_n; k++) {
        timer_entry *e = lane_at(h, k);
        if (lane_live(e))
            e->tm->slot = 0;
    }
    free(h->a);
    free(h->q);
    *h = (timer_heap){0};
}

int timer_heap_set(timer_heap *h, sim_timer *t, hb_time when)
{
    if (t->slot && t->slot != TIMER_IN_LANE) {
        hb_time old = t->t;
        uint64_t old_seq = t->seq;
        t->t = when;
        t->seq = ++h->seq;
        size_t i = t->slot - 1;
        h->a[i].t = when;
        h->a[i].seq = t->seq;
        if (when < old || (when == old && t->seq < old_seq))
            sift_up(h, i);
        else
            sift_down(h, i);
        return 0;
    }
    if (HB_GROW(h->a, h->cap, h->n + 1) != HB_OK)
        return -1;
    t->t = when;
    t->seq = ++h->seq;                 /* a lane entry of t, if any, is stale from here */
    place(h, h->n++, (timer_entry){when, t->seq, t});
    sift_up(h, h->n - 1);
    return 0;
}

void timer_heap_reserve(timer_heap *h, sim_timer *t, hb_time when)
{
    t->t = when;
    t->seq = ++h->seq;
}

int timer_heap_insert_reserved(timer_heap *h, sim_timer *t)
{
    if (HB_GROW(h->a, h->cap, h->n + 1) != HB_OK)
        return -1;
    place(h, h->n++, (timer_entry){t->t, t->seq, t});
    sift_up(h, h->n - 1);
    return 0;
}

int timer_heap_set_lane(timer_heap *h, sim_timer *t, hb_time when)
{
    if (h->q_n && when < lane_at(h, h->q_n - 1)->t)
        return timer_heap_set(h, t, when);
    if (t->slot && t->slot != TIMER_IN_LANE)
        timer_heap_cancel(h, t);
    if (lane_push(h, (timer_entry){when, h->seq + 1, t}))
        return -1;
    t->t = when;
    t->seq = ++h->seq;
    t->slot = TIMER_IN_LANE;
    return 0;
}

void timer_heap_cancel(timer_heap *h, sim_timer *t)
{
    if (!t->slot)
        return;
    if (t->slot == TIMER_IN_LANE) {    /* its entry goes stale */
        t->slot = 0;
        return;
    }
    size_t i = t->slot - 1;
    t->slot = 0;
    h->n--;
    if (i == h->n)
        return;
    timer_entry last = h->a[h->n];
    place(h, i, last);
    if (i > 0 && before(&last, &h->a[(i - 1) / D]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

sim_timer *timer_heap_top(timer_heap *h)
{
    timer_entry *q = lane_head(h);
    if (h->n && (!q || before(&h->a[0], q)))
        return h->a[0].tm;
    return q ? q->tm : NULL;
}

sim_timer *timer_heap_pop_due(timer_heap *h, hb_time until)
{
    timer_entry *q = lane_head(h);
    if (h->n && (!q || before(&h->a[0], q))) {
        if (h->a[0].t > until)
            return NULL;
        sim_timer *t = h->a[0].tm;
        timer_heap_cancel(h, t);
        return t;
    }
    if (!q || q->t > until)
        return NULL;
    sim_timer *t = q->tm;
    t->slot = 0;
    h->q_head = (h->q_head + 1) & (h->q_cap - 1);
    h->q_n--;
    return t;
}

sim_timer *timer_heap_fire_due(timer_heap *h, hb_time until, uint64_t *seq)
{
    timer_entry *q = lane_head(h);
    *seq = 0;
    if (h->n && (!q || before(&h->a[0], q))) {
        if (h->a[0].t > until)
            return NULL;
        *seq = h->a[0].seq;            /* it stays at the root while it fires */
        return h->a[0].tm;
    }
    if (!q || q->t > until)
        return NULL;
    sim_timer *t = q->tm;              /* the lane's head, taken */
    t->slot = 0;
    h->q_head = (h->q_head + 1) & (h->q_cap - 1);
    h->q_n--;
    return t;
}

void timer_heap_fired(timer_heap *h, sim_timer *t, uint64_t seq)
{
    if (seq && t->slot && t->slot != TIMER_IN_LANE && t->seq == seq)
        timer_heap_cancel(h, t);       /* not set again while it fired: now it goes */
}

sim_timer *timer_heap_pop(timer_heap *h)
{
    return timer_heap_pop_due(h, INT64_MAX);
}
