/* dynbuf.h - the harness's one growable byte buffer, and one growth helper for typed arrays.
 *
 * Modelled on curl's lib/curlx/dynbuf.c: one struct, explicit ownership, a maximum length, every
 * adder that can fail marked warn-unused-result (so a dropped failure is a compile error under
 * -Werror), and an explicit "take" that hands the bytes over and resets the buffer.
 *
 * Ownership: the hb_dynbuf owns its bytes until hb_dyn_take() hands them to the caller or
 * hb_dyn_free() releases them. Unlike curl's, a failed add leaves the content as it was (the caller
 * still owns it and frees it), so an error path needs no special case. */
#ifndef HB_DYNBUF_H
#define HB_DYNBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hb_error.h"

/* A limit for buffers that have no natural one: half the address space (sizes stay overflow-free). */
#define HB_DYN_UNLIMITED (SIZE_MAX / 2)

typedef struct hb_dynbuf {
    char *buf;     /* NUL-terminated when not NULL; NULL until the first byte is added */
    size_t len;    /* bytes held, not counting the NUL */
    size_t alloc;  /* bytes allocated */
    size_t max;    /* most bytes it may hold (not counting the NUL) */
} hb_dynbuf;

/* An empty buffer that may hold at most max bytes (0: HB_DYN_UNLIMITED). Allocates nothing. A zeroed
 * hb_dynbuf (a calloc'd struct's member) is the same as one initialised with max 0. */
void hb_dyn_init(hb_dynbuf *b, size_t max);
/* Releases the bytes; the buffer is empty and usable again with the same max. */
void hb_dyn_free(hb_dynbuf *b);
/* Empties the buffer and keeps the allocation (for reuse, e.g. one line after another). */
void hb_dyn_reset(hb_dynbuf *b);

/* Appends n bytes (any bytes, NUL included). HB_OK; HB_EINPUT if the result would exceed max;
 * HB_ENOMEM if allocation failed. On failure the content is unchanged. */
int hb_dyn_addn(hb_dynbuf *b, const void *mem, size_t n) HB_WARN_UNUSED;
/* Appends a C string (without its NUL). */
int hb_dyn_add(hb_dynbuf *b, const char *s) HB_WARN_UNUSED;
/* Appends printf-formatted text. */
int hb_dyn_addf(hb_dynbuf *b, const char *fmt, ...) HB_WARN_UNUSED
    __attribute__((format(printf, 2, 3)));
int hb_dyn_vaddf(hb_dynbuf *b, const char *fmt, va_list ap) HB_WARN_UNUSED
    __attribute__((format(printf, 2, 0)));
/* For capped captures (a child's output): appends what fits under max and drops the rest, setting
 * *clipped to 1 when anything was dropped (it is never cleared). HB_OK or HB_ENOMEM. */
int hb_dyn_addn_clip(hb_dynbuf *b, const void *mem, size_t n, int *clipped) HB_WARN_UNUSED;
/* Shortens the content to its first n bytes (nothing if n >= the length). */
void hb_dyn_setlen(hb_dynbuf *b, size_t n);
/* Keeps only the last `keep` bytes (nothing if keep >= the length): consumes what was read. */
void hb_dyn_tail(hb_dynbuf *b, size_t keep);

/* The content as a C string: "" while empty, never NULL. Valid until the next change. */
const char *hb_dyn_str(const hb_dynbuf *b);
size_t hb_dyn_len(const hb_dynbuf *b);

/* Hands the bytes over: returns them NUL-terminated (the caller frees them; an empty buffer gives an
 * allocated "") and *len (may be NULL) their length, and leaves the buffer empty. NULL only when an
 * empty buffer's "" could not be allocated. */
char *hb_dyn_take(hb_dynbuf *b, size_t *len) HB_WARN_UNUSED;

/* Makes the array *pp (elements of elem bytes, *cap of them allocated) hold at least need elements:
 * the capacity doubles (starting at 16) until it does. pp is the address of the array's pointer,
 * of any pointer type. HB_OK, or HB_ENOMEM (on overflow or allocation failure; *pp and *cap are then
 * unchanged, and the old array is still the caller's). */
int hb_grow(void *pp, size_t *cap, size_t need, size_t elem) HB_WARN_UNUSED;
/* hb_grow for an array named by its pointer: HB_GROW(s->items, s->cap, s->n + 1). */
#define HB_GROW(arr, cap, need) hb_grow(&(arr), &(cap), (need), sizeof *(arr))

#endif
