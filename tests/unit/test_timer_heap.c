/* test_timer_heap.c - the event queue: (time, sequence) order, reschedule, cancel and the lane,
 * against a reference that scans every timer (deterministic pseudo-random operations). */
#include <stdint.h>
#include <string.h>

#include "hb_test.h"
#include "timer_heap.h"

#define NT 300

static uint64_t rng_state;
static uint64_t rnd(void)              /* xorshift64: a fixed sequence, no seed from outside */
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The reference: the scheduled timer of least (time, sequence), found by scanning. */
static sim_timer *ref_min(sim_timer *t, const int *on, int n)
{
    sim_timer *best = NULL;
    for (int i = 0; i < n; i++)
        if (on[i] && (!best || t[i].t < best->t || (t[i].t == best->t && t[i].seq < best->seq)))
            best = &t[i];
    return best;
}

START_TEST(equal_times_fire_in_the_order_they_were_set)
{
    timer_heap h = {0};
    sim_timer t[8];
    memset(t, 0, sizeof t);
    /* all at time 5, set in the order 3 1 4 0 7 2 6 5; one rescheduled to 5 again goes last */
    static const int order[] = {3, 1, 4, 0, 7, 2, 6, 5};
    for (int i = 0; i < 8; i++)
        ck_assert_int_eq(timer_heap_set(&h, &t[order[i]], 5), 0);
    ck_assert_int_eq(timer_heap_set(&h, &t[4], 5), 0);
    static const int want[] = {3, 1, 0, 7, 2, 6, 5, 4};
    for (int i = 0; i < 8; i++) {
        sim_timer *p = timer_heap_pop(&h);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq((int)(p - t), want[i]);
        ck_assert(!timer_scheduled(p));
    }
    ck_assert_ptr_null(timer_heap_pop(&h));
    timer_heap_free(&h);
}
END_TEST

START_TEST(the_lane_merges_with_the_heap_by_time_then_sequence)
{
    timer_heap h = {0};
    sim_timer a = {0}, b = {0}, c = {0}, d = {0};
    ck_assert_int_eq(timer_heap_set_lane(&h, &a, 10), 0);   /* seq 1 */
    ck_assert_int_eq(timer_heap_set(&h, &b, 10), 0);        /* seq 2 */
    ck_assert_int_eq(timer_heap_set_lane(&h, &c, 10), 0);   /* seq 3 */
    ck_assert_int_eq(timer_heap_set(&h, &d, 5), 0);         /* seq 4, earlier */
    ck_assert_ptr_eq(timer_heap_top(&h), &d);
    ck_assert_ptr_eq(timer_heap_pop(&h), &d);
    ck_assert_ptr_eq(timer_heap_pop(&h), &a);
    ck_assert_ptr_eq(timer_heap_pop(&h), &b);
    ck_assert_ptr_eq(timer_heap_pop(&h), &c);
    ck_assert_ptr_null(timer_heap_top(&h));
    /* a cancelled lane timer is skipped; one set again moves to its new place */
    ck_assert_int_eq(timer_heap_set_lane(&h, &a, 20), 0);
    ck_assert_int_eq(timer_heap_set_lane(&h, &b, 20), 0);
    timer_heap_cancel(&h, &a);
    ck_assert(!timer_scheduled(&a));
    ck_assert_int_eq(timer_heap_set_lane(&h, &a, 30), 0);
    ck_assert_int_eq(timer_heap_set(&h, &c, 25), 0);
    ck_assert_ptr_eq(timer_heap_pop(&h), &b);
    ck_assert_ptr_eq(timer_heap_pop(&h), &c);
    ck_assert_ptr_eq(timer_heap_pop(&h), &a);
    ck_assert_ptr_null(timer_heap_pop(&h));
    /* pop_due takes only what is due */
    ck_assert_int_eq(timer_heap_set_lane(&h, &a, 35), 0);
    ck_assert_int_eq(timer_heap_set(&h, &b, 36), 0);
    ck_assert_ptr_null(timer_heap_pop_due(&h, 34));
    ck_assert_ptr_eq(timer_heap_pop_due(&h, 35), &a);
    ck_assert_ptr_null(timer_heap_pop_due(&h, 35));
    ck_assert_ptr_eq(timer_heap_pop_due(&h, 36), &b);
    /* out of order for the lane: it goes to the heap, still in the right place */
    ck_assert_int_eq(timer_heap_set_lane(&h, &a, 50), 0);
    ck_assert_int_eq(timer_heap_set_lane(&h, &b, 40), 0);
    ck_assert_ptr_eq(timer_heap_pop(&h), &b);
    ck_assert_ptr_eq(timer_heap_pop(&h), &a);
    timer_heap_free(&h);
}
END_TEST

/* Many random sets, lane sets, cancels and pops, checked against the scan at every pop. */
START_TEST(random_operations_match_the_reference)
{
    for (int round = 0; round < 4; round++) {
        rng_state = 0x9e3779b97f4a7c15ULL + (uint64_t)round;
        timer_heap h = {0};
        static sim_timer t[NT];
        static int on[NT];
        memset(t, 0, sizeof t);
        memset(on, 0, sizeof on);
        hb_time now = 0, lane_last = 0;
        int tick = 0;
        for (int op = 0; op < 200000; op++) {
            uint64_t r = rnd();
            int i = (int)(r % NT);
            switch ((r >> 20) % 8) {
            case 0: case 1: case 2: {   /* set (or reschedule): few distinct times, many ties */
                hb_time when = now + (hb_time)((r >> 32) % (round < 2 ? 8 : 100000));
                ck_assert_int_eq(timer_heap_set(&h, &t[i], when), 0);
                on[i] = 1;
                break;
            }
            case 3: {                   /* the lane: the ticks of timers 0..9 on a grid of 4 */
                int k = tick++ % 10;
                hb_time when = (now / 4 + 1) * 4;
                if (when < lane_last)
                    when = lane_last;
                lane_last = when;
                ck_assert_int_eq(timer_heap_set_lane(&h, &t[k], when), 0);
                on[k] = 1;
                break;
            }
            case 4:
                timer_heap_cancel(&h, &t[i]);
                on[i] = 0;
                ck_assert(!timer_scheduled(&t[i]));
                break;
            default: {
                sim_timer *want = ref_min(t, on, NT);
                ck_assert_ptr_eq(timer_heap_top(&h), want);
                sim_timer *got = timer_heap_pop(&h);
                ck_assert_ptr_eq(got, want);
                if (got) {
                    ck_assert_int_ge(got->t, now);
                    now = got->t;
                    on[got - t] = 0;
                    ck_assert(!timer_scheduled(got));
                }
            }
            }
        }
        while (ref_min(t, on, NT)) {
            sim_timer *want = ref_min(t, on, NT);
            ck_assert_ptr_eq(timer_heap_pop(&h), want);
            on[want - t] = 0;
        }
        ck_assert_ptr_null(timer_heap_pop(&h));
        timer_heap_free(&h);
    }
}
END_TEST

START_TEST(a_reserved_key_fires_where_it_was_taken)
{
    timer_heap h = {0};
    sim_timer a = {0}, r = {0}, b = {0};
    ck_assert_int_eq(timer_heap_set(&h, &a, 10), 0);        /* seq 1 */
    timer_heap_reserve(&h, &r, 10);                         /* seq 2, not in the heap */
    ck_assert(!timer_scheduled(&r));
    ck_assert_int_eq(timer_heap_set(&h, &b, 10), 0);        /* seq 3 */
    ck_assert_int_eq(timer_heap_insert_reserved(&h, &r), 0);
    ck_assert(timer_scheduled(&r));
    ck_assert_ptr_eq(timer_heap_pop(&h), &a);
    ck_assert_ptr_eq(timer_heap_pop(&h), &r);
    ck_assert_ptr_eq(timer_heap_pop(&h), &b);
    ck_assert_ptr_null(timer_heap_pop(&h));
    timer_heap_free(&h);
}
END_TEST

START_TEST(a_firing_timer_stays_until_fired_and_moves_if_set_again)
{
    timer_heap h = {0};
    sim_timer a = {0}, b = {0}, l = {0};
    uint64_t seq;
    ck_assert_int_eq(timer_heap_set(&h, &a, 5), 0);
    ck_assert_int_eq(timer_heap_set(&h, &b, 7), 0);
    ck_assert_int_eq(timer_heap_set_lane(&h, &l, 6), 0);
    ck_assert_ptr_null(timer_heap_fire_due(&h, 4, &seq));
    /* a heap timer: still scheduled while it fires; not set again, fired() removes it */
    ck_assert_ptr_eq(timer_heap_fire_due(&h, 10, &seq), &a);
    ck_assert(timer_scheduled(&a));
    timer_heap_fired(&h, &a, seq);
    ck_assert(!timer_scheduled(&a));
    /* a lane timer is taken at once */
    ck_assert_ptr_eq(timer_heap_fire_due(&h, 10, &seq), &l);
    ck_assert(!timer_scheduled(&l));
    timer_heap_fired(&h, &l, seq);
    /* set again while it fires: it stays, at its new place */
    ck_assert_ptr_eq(timer_heap_fire_due(&h, 10, &seq), &b);
    ck_assert_int_eq(timer_heap_set(&h, &a, 8), 0);
    ck_assert_int_eq(timer_heap_set(&h, &b, 9), 0);
    timer_heap_fired(&h, &b, seq);
    ck_assert(timer_scheduled(&b));
    ck_assert_ptr_eq(timer_heap_pop(&h), &a);
    ck_assert_ptr_eq(timer_heap_pop(&h), &b);
    ck_assert_ptr_null(timer_heap_pop(&h));
    timer_heap_free(&h);
}
END_TEST

/* The simulator's loop: fire_due, then while firing set the timer again or others, cancel
 * others, hold keys and insert them later; the order is the reference's throughout. */
START_TEST(firing_and_reserved_keys_match_the_reference)
{
    for (int round = 0; round < 4; round++) {
        rng_state = 0x2545f4914f6cdd1dULL + (uint64_t)round;
        timer_heap h = {0};
        static sim_timer t[NT];
        static int on[NT], held[NT];
        memset(t, 0, sizeof t);
        memset(on, 0, sizeof on);
        memset(held, 0, sizeof held);
        hb_time now = 0;
        for (int op = 0; op < 100000; op++) {
            uint64_t r = rnd();
            int i = (int)(r % NT);
            hb_time when = now + (hb_time)((r >> 32) % (round < 2 ? 8 : 100000));
            switch ((r >> 20) % 6) {
            case 0: case 1:
                if (!held[i]) {
                    ck_assert_int_eq(timer_heap_set(&h, &t[i], when), 0);
                    on[i] = 1;
                }
                break;
            case 2:                     /* hold a key (reference: it counts from now) */
                if (!on[i] && !held[i]) {
                    timer_heap_reserve(&h, &t[i], when);
                    held[i] = 1;
                }
                break;
            case 3:
                if (!held[i]) {
                    timer_heap_cancel(&h, &t[i]);
                    on[i] = 0;
                }
                break;
            default: {
                /* every held key goes in before anything after it is taken */
                for (int k = 0; k < NT; k++)
                    if (held[k]) {
                        ck_assert_int_eq(timer_heap_insert_reserved(&h, &t[k]), 0);
                        held[k] = 0;
                        on[k] = 1;
                    }
                sim_timer *want = ref_min(t, on, NT);
                uint64_t seq;
                sim_timer *got = timer_heap_fire_due(&h, INT64_MAX, &seq);
                ck_assert_ptr_eq(got, want);
                if (!got)
                    break;
                now = got->t;
                int again = (r >> 40) % 2;
                if (again) {
                    ck_assert_int_eq(timer_heap_set(&h, got, now + (hb_time)((r >> 44) % 50)), 0);
                } else {
                    on[got - t] = 0;
                }
                timer_heap_fired(&h, got, seq);
                ck_assert_int_eq(timer_scheduled(got), again);
            }
            }
        }
        timer_heap_free(&h);
    }
}
END_TEST

HB_TEST_MAIN("timer_heap", equal_times_fire_in_the_order_they_were_set,
             the_lane_merges_with_the_heap_by_time_then_sequence,
             random_operations_match_the_reference, a_reserved_key_fires_where_it_was_taken,
             a_firing_timer_stays_until_fired_and_moves_if_set_again,
             firing_and_reserved_keys_match_the_reference)
