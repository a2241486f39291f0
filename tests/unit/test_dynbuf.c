/* test_dynbuf.c - the growable buffer (harness/core/dynbuf.c): growth, the maximum, take, and the
 * failure paths (content unchanged, nothing leaked); the typed-array growth helper; the clock and
 * comparator helpers. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "dynbuf.h"
#include "sort_cmp.h"

#include "hb_test.h"

/* Under ASan an impossible allocation must return NULL (as libc's does), not abort the test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

START_TEST(grows_and_keeps_every_byte)
{
    hb_dynbuf b;
    hb_dyn_init(&b, 0);
    ck_assert_str_eq(hb_dyn_str(&b), "");
    ck_assert_ptr_null(b.buf);         /* nothing allocated before the first byte */
    char want[10001];
    for (int i = 0; i < 10000; i++) {
        char c = (char)('a' + i % 26);
        want[i] = c;
        ck_assert_int_eq(hb_dyn_addn(&b, &c, 1), HB_OK);
    }
    want[10000] = '\0';
    ck_assert_uint_eq(hb_dyn_len(&b), 10000);
    ck_assert_str_eq(hb_dyn_str(&b), want);
    ck_assert_uint_ge(b.alloc, 10001);
    ck_assert_uint_le(b.alloc, 2 * 10001); /* doubling, not one byte at a time nor wildly more */
    /* binary content, NUL included */
    hb_dyn_reset(&b);
    ck_assert_int_eq(hb_dyn_addn(&b, "a\0b", 3), HB_OK);
    ck_assert_uint_eq(hb_dyn_len(&b), 3);
    ck_assert_int_eq(memcmp(b.buf, "a\0b", 4), 0);
    ck_assert_int_eq(hb_dyn_addf(&b, "%d-%s", 42, "x"), HB_OK);
    ck_assert_int_eq(memcmp(b.buf, "a\0b42-x", 8), 0);
    hb_dyn_setlen(&b, 1);
    ck_assert_str_eq(hb_dyn_str(&b), "a");
    hb_dyn_free(&b);
    ck_assert_uint_eq(hb_dyn_len(&b), 0);
    ck_assert_int_eq(hb_dyn_add(&b, "again"), HB_OK);   /* usable after free */
    ck_assert_str_eq(hb_dyn_str(&b), "again");
    hb_dyn_free(&b);
}
END_TEST

START_TEST(the_maximum_holds_and_a_refused_add_changes_nothing)
{
    hb_dynbuf b;
    hb_dyn_init(&b, 8);
    ck_assert_int_eq(hb_dyn_add(&b, "12345"), HB_OK);
    ck_assert_int_eq(hb_dyn_add(&b, "6789"), HB_EINPUT);  /* 9 > 8 */
    ck_assert_str_eq(hb_dyn_str(&b), "12345");
    ck_assert_int_eq(hb_dyn_addf(&b, "%s", "abcd"), HB_EINPUT);
    ck_assert_str_eq(hb_dyn_str(&b), "12345");
    ck_assert_int_eq(hb_dyn_add(&b, "678"), HB_OK);       /* exactly the maximum */
    ck_assert_str_eq(hb_dyn_str(&b), "12345678");
    ck_assert_uint_le(b.alloc, 9);     /* never more than max + 1 allocated */
    ck_assert_int_eq(hb_dyn_addn(&b, "x", 1), HB_EINPUT);
    hb_dyn_free(&b);

    /* the clipping adder keeps what fits and says it dropped the rest */
    hb_dyn_init(&b, 4);
    int clipped = 0;
    ck_assert_int_eq(hb_dyn_addn_clip(&b, "ab", 2, &clipped), HB_OK);
    ck_assert_int_eq(clipped, 0);
    ck_assert_int_eq(hb_dyn_addn_clip(&b, "cdef", 4, &clipped), HB_OK);
    ck_assert_int_eq(clipped, 1);
    ck_assert_str_eq(hb_dyn_str(&b), "abcd");
    ck_assert_int_eq(hb_dyn_addn_clip(&b, "g", 1, &clipped), HB_OK);
    ck_assert_str_eq(hb_dyn_str(&b), "abcd");
    hb_dyn_free(&b);
}
END_TEST

START_TEST(an_allocation_failure_leaves_the_content)
{
    hb_dynbuf b;
    hb_dyn_init(&b, 0);
    ck_assert_int_eq(hb_dyn_add(&b, "kept"), HB_OK);
    /* within the maximum (SIZE_MAX / 2) but not allocatable: nothing is read from the source */
    ck_assert_int_eq(hb_dyn_addn(&b, "x", SIZE_MAX / 4), HB_ENOMEM);
    ck_assert_str_eq(hb_dyn_str(&b), "kept");
    ck_assert_uint_eq(hb_dyn_len(&b), 4);
    hb_dyn_free(&b);
}
END_TEST

START_TEST(take_hands_the_bytes_over_and_resets)
{
    hb_dynbuf b;
    hb_dyn_init(&b, 100);
    ck_assert_int_eq(hb_dyn_add(&b, "hello"), HB_OK);
    const char *was = b.buf;
    size_t n = 0;
    char *s = hb_dyn_take(&b, &n);
    ck_assert_ptr_eq(s, was);          /* the same bytes, not a copy */
    ck_assert_str_eq(s, "hello");
    ck_assert_uint_eq(n, 5);
    ck_assert_ptr_null(b.buf);
    ck_assert_uint_eq(hb_dyn_len(&b), 0);
    ck_assert_uint_eq(b.max, 100);     /* the limit stays */
    free(s);
    /* an empty buffer still gives an allocated string */
    s = hb_dyn_take(&b, &n);
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "");
    ck_assert_uint_eq(n, 0);
    free(s);
    ck_assert_int_eq(hb_dyn_add(&b, "next"), HB_OK);
    s = hb_dyn_take(&b, NULL);
    ck_assert_str_eq(s, "next");
    free(s);
}
END_TEST

START_TEST(a_zeroed_buffer_is_empty_and_unlimited_and_tail_consumes)
{
    hb_dynbuf b = {0};                 /* a calloc'd struct's member, never initialised */
    ck_assert_str_eq(hb_dyn_str(&b), "");
    ck_assert_int_eq(hb_dyn_add(&b, "line one\nline two\nrest"), HB_OK);
    hb_dyn_tail(&b, hb_dyn_len(&b) - strlen("line one\n"));
    ck_assert_str_eq(hb_dyn_str(&b), "line two\nrest");
    hb_dyn_tail(&b, 4);
    ck_assert_str_eq(hb_dyn_str(&b), "rest");
    hb_dyn_tail(&b, 10);               /* more than there is: unchanged */
    ck_assert_str_eq(hb_dyn_str(&b), "rest");
    hb_dyn_tail(&b, 0);
    ck_assert_uint_eq(hb_dyn_len(&b), 0);
    ck_assert_str_eq(hb_dyn_str(&b), "");
    hb_dyn_free(&b);
}
END_TEST

START_TEST(grow_doubles_and_refuses_overflow)
{
    double *a = NULL;
    size_t cap = 0;
    ck_assert_int_eq(HB_GROW(a, cap, 1), HB_OK);
    ck_assert_uint_eq(cap, 16);
    for (size_t i = 0; i < 16; i++)
        a[i] = (double)i;
    ck_assert_int_eq(HB_GROW(a, cap, 16), HB_OK);   /* fits: unchanged */
    ck_assert_uint_eq(cap, 16);
    ck_assert_int_eq(HB_GROW(a, cap, 17), HB_OK);
    ck_assert_uint_eq(cap, 32);
    ck_assert_int_eq(HB_GROW(a, cap, 100), HB_OK);
    ck_assert_uint_eq(cap, 128);
    for (size_t i = 0; i < 16; i++)
        ck_assert_double_eq(a[i], (double)i);     /* the content moved with it */
    double *was = a;
    /* count * size overflows size_t: refused, the array and capacity unchanged */
    ck_assert_int_eq(HB_GROW(a, cap, SIZE_MAX / 4), HB_ENOMEM);
    ck_assert_int_eq(hb_grow(&a, &cap, SIZE_MAX, 1), HB_ENOMEM);
    ck_assert_ptr_eq(a, was);
    ck_assert_uint_eq(cap, 128);
    free(a);
}
END_TEST

START_TEST(comparators_and_clock)
{
    double d[] = {3, -1, 2.5, -1, 0};
    qsort(d, 5, sizeof *d, hb_cmp_double);
    ck_assert(d[0] == -1 && d[1] == -1 && d[2] == 0 && d[3] == 2.5 && d[4] == 3);
    int64_t i[] = {INT64_MAX, INT64_MIN, 0};   /* a subtraction would overflow here */
    qsort(i, 3, sizeof *i, hb_cmp_int64);
    ck_assert(i[0] == INT64_MIN && i[1] == 0 && i[2] == INT64_MAX);
    size_t z[] = {SIZE_MAX, 0, 7};
    qsort(z, 3, sizeof *z, hb_cmp_size);
    ck_assert(z[0] == 0 && z[1] == 7 && z[2] == SIZE_MAX);
    int64_t a = hb_mono_ns(), b = hb_mono_ns();
    ck_assert_int_ge(b, a);
    ck_assert_int_gt(a, 0);
    ck_assert_int_le(hb_mono_ms(), hb_mono_ns() / 1000000);
    ck_assert(hb_mono_s() > 0);
}
END_TEST

HB_TEST_MAIN("dynbuf", grows_and_keeps_every_byte, the_maximum_holds_and_a_refused_add_changes_nothing,
             an_allocation_failure_leaves_the_content, take_hands_the_bytes_over_and_resets,
             a_zeroed_buffer_is_empty_and_unlimited_and_tail_consumes,
             grow_doubles_and_refuses_overflow, comparators_and_clock)
