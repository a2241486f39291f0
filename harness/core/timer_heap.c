/* timer_heap.c - see timer_heap.h. */
#include "timer_heap.h"

#include <stdlib.h>

#include "dynbuf.h"

static int before(const sim_timer *a, const sim_timer *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void place(timer_heap *h, size_t i, sim_timer *t)
{
    h->a[i] = t;
    t->slot = i + 1;
}

static void sift_up(timer_heap *h, size_t i)
{
    sim_timer *t = h->a[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!before(t, h->a[p]))
            break;
        place(h, i, h->a[p]);
        i = p;
    }
    place(h, i, t);
}

static void sift_down(timer_heap *h, size_t i)
{
    sim_timer *t = h->a[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const sim_timer *best = t;
        if (l < h->n && before(h->a[l], best)) {
            m = l;
            best = h->a[l];
        }
        if (r < h->n && before(h->a[r], best))
            m = r;
        if (m == i)
            break;
        place(h, i, h->a[m]);
        i = m;
    }
    place(h, i, t);
}

void timer_heap_free(timer_heap *h)
{
    for (size_t i = 0; i < h->n; i++)
        h->a[i]->slot = 0;
    free(h->a);
    h->a = NULL;
    h->n = h->cap = 0;
}

int timer_heap_set(timer_heap *h, sim_timer *t, hb_time when)
{
    if (t->slot) {
        hb_time old = t->t;
        uint64_t old_seq = t->seq;
        t->t = when;
        t->seq = ++h->seq;
        size_t i = t->slot - 1;
        if (when < old || (when == old && t->seq < old_seq))
            sift_up(h, i);
        else
            sift_down(h, i);
        return 0;
    }
    if (HB_GROW(h->a, h->cap, h->n + 1) != HB_OK)
        return -1;
    t->t = when;
    t->seq = ++h->seq;
    place(h, h->n++, t);
    sift_up(h, h->n - 1);
    return 0;
}

void timer_heap_cancel(timer_heap *h, sim_timer *t)
{
    if (!t->slot)
        return;
    size_t i = t->slot - 1;
    t->slot = 0;
    h->n--;
    if (i == h->n)
        return;
    sim_timer *last = h->a[h->n];
    place(h, i, last);
    if (i > 0 && before(last, h->a[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}

sim_timer *timer_heap_pop(timer_heap *h)
{
    if (!h->n)
        return NULL;
    sim_timer *t = h->a[0];
    timer_heap_cancel(h, t);
    return t;
}
