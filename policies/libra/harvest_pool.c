/* harvest_pool.c - see harvest_pool.h. A pool holds a handful of entries (one per running lender
 * of one invoker), so plain arrays and linear scans are the right structure. */
#include "harvest_pool.h"

#include <math.h>
#include <stdlib.h>

static void settle(hp_entry *e, hb_time now)
{
    if (now > e->last)
        e->idle += e->amount * (double)(now - e->last);
    e->last = now;
}

static hp_entry *find(const harvest_pool *p, const void *lender)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->e[i].lender == lender)
            return &p->e[i];
    return NULL;
}

void hp_free(harvest_pool *p)
{
    free(p->e);
    p->e = NULL;
    p->n = p->cap = 0;
}

int hp_put(harvest_pool *p, void *lender, uint64_t lender_index, double amount, hb_time start,
           hb_time end, hb_time now)
{
    hp_entry *e = find(p, lender);
    if (!e) {
        if (p->n == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 8;
            hp_entry *a = realloc(p->e, cap * sizeof *a);
            if (!a)
                return -1;
            p->e = a;
            p->cap = cap;
        }
        e = &p->e[p->n++];
        *e = (hp_entry){lender, lender_index, 0, start, end, ++p->seq, now, 0};
    }
    settle(e, now);
    e->amount += amount;
    return 0;
}

double hp_take(harvest_pool *p, double want, hb_time now, hp_grant *grants, size_t max, size_t *n)
{
    double got = 0;
    *n = 0;
    while (want - got > 1e-9 && *n < max) {
        hp_entry *best = NULL;
        for (size_t i = 0; i < p->n; i++) {
            hp_entry *e = &p->e[i];
            if (e->amount <= 1e-9)
                continue;
            if (!best || e->end > best->end || (e->end == best->end && e->seq < best->seq))
                best = e;
        }
        if (!best)
            break;
        settle(best, now);
        double take = fmin(best->amount, want - got);
        best->amount -= take;
        if (best->amount < 1e-9)
            best->amount = 0;
        grants[(*n)++] = (hp_grant){best->lender, take};
        got += take;
    }
    return got;
}

double hp_remove(harvest_pool *p, const void *lender, hb_time now, double *idle)
{
    hp_entry *e = find(p, lender);
    if (!e)
        return 0;
    settle(e, now);
    double amount = e->amount;
    if (idle)
        *idle += e->idle;
    *e = p->e[--p->n];                 /* order does not matter: ties go by seq */
    return amount;
}

double hp_amount(const harvest_pool *p, const void *lender)
{
    const hp_entry *e = find(p, lender);
    return e ? e->amount : 0;
}

int hp_has(const harvest_pool *p, const void *lender) { return find(p, lender) != NULL; }

double hp_total(const harvest_pool *p)
{
    double t = 0;
    for (size_t i = 0; i < p->n; i++)
        t += p->e[i].amount;
    return t;
}

static int cmp_time(const void *a, const void *b)
{
    hb_time x = *(const hb_time *)a, y = *(const hb_time *)b;
    return (x > y) - (x < y);
}

/* Covered area of min(level, cap) over [t0, t1], levels from entries scaled by 1/unit. */
static double covered_area(const harvest_pool *p, double cap, double unit, hb_time t0, hb_time t1)
{
    hb_time stack[66], *bp = stack;
    size_t n = 0, need = 2 + 2 * p->n;
    if (need > sizeof stack / sizeof stack[0] && !(bp = malloc(need * sizeof *bp)))
        return 0;
    bp[n++] = t0;
    bp[n++] = t1;
    for (size_t i = 0; i < p->n; i++) {
        if (p->e[i].start > t0 && p->e[i].start < t1)
            bp[n++] = p->e[i].start;
        if (p->e[i].end > t0 && p->e[i].end < t1)
            bp[n++] = p->e[i].end;
    }
    qsort(bp, n, sizeof *bp, cmp_time);
    double area = 0;
    for (size_t k = 0; k + 1 < n; k++) {
        hb_time a = bp[k], b = bp[k + 1];
        if (b <= a)
            continue;
        double level = 0;
        for (size_t i = 0; i < p->n; i++)
            if (p->e[i].start <= a && p->e[i].end >= b)
                level += p->e[i].amount / unit;
        area += fmin(level, cap) * (double)(b - a);
    }
    if (bp != stack)
        free(bp);
    return area;
}

double hp_coverage(const harvest_pool *p, double demand, hb_time t0, hb_time t1)
{
    if (demand <= 1e-12)
        return 1;
    if (t1 <= t0) {
        double level = 0;
        for (size_t i = 0; i < p->n; i++)
            if (p->e[i].start <= t0 && p->e[i].end >= t0)
                level += p->e[i].amount;
        return fmin(level, demand) / demand;
    }
    return covered_area(p, demand, 1, t0, t1) / (demand * (double)(t1 - t0));
}

double hp_coverage_artifact(const harvest_pool *p, double demand, double unit, hb_time t0, hb_time t1)
{
    double cover = t1 > t0 ? covered_area(p, demand, unit, t0, t1) : 0;
    double want = (double)(t1 - t0) * demand;
    if (want == 0 && cover == 0)
        return NAN;                    /* the artifact's 0/0 with a zero predicted duration */
    return cover > 0 ? want / cover : INFINITY;
}
