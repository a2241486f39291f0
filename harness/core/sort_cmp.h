/* sort_cmp.h - the harness's one set of qsort/bsearch comparators for plain values (ascending).
 * They never overflow (no subtraction) and order equal values as equal; a NaN compares equal to
 * everything, so sort NaN-free data. */
#ifndef HB_SORT_CMP_H
#define HB_SORT_CMP_H

int hb_cmp_double(const void *a, const void *b);
int hb_cmp_int64(const void *a, const void *b);   /* int64_t, and so hb_time */
int hb_cmp_size(const void *a, const void *b);    /* size_t */

#endif
