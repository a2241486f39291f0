/* dynbuf.c - see dynbuf.h. */
#include "dynbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { FIRST_ALLOC = 64, FIRST_CAP = 16 };

void hb_dyn_init(hb_dynbuf *b, size_t max)
{
    b->buf = NULL;
    b->len = b->alloc = 0;
    b->max = max && max < HB_DYN_UNLIMITED ? max : HB_DYN_UNLIMITED;
}

void hb_dyn_free(hb_dynbuf *b)
{
    free(b->buf);
    b->buf = NULL;
    b->len = b->alloc = 0;
}

void hb_dyn_reset(hb_dynbuf *b)
{
    b->len = 0;
    if (b->buf)
        b->buf[0] = '\0';
}

/* The limit in force: a zeroed buffer has none but the address space's. */
static size_t limit(const hb_dynbuf *b) { return b->max ? b->max : HB_DYN_UNLIMITED; }

/* Room for `fit` bytes (content and NUL): doubles, never past max + 1. */
static int reserve(hb_dynbuf *b, size_t fit)
{
    if (fit <= b->alloc)
        return HB_OK;
    size_t a = b->alloc ? b->alloc : FIRST_ALLOC;
    while (a < fit)
        a *= 2;                        /* fit <= max + 1 <= SIZE_MAX / 2 + 1: cannot overflow */
    if (a > limit(b) + 1)
        a = limit(b) + 1;
    char *p = realloc(b->buf, a);
    if (!p)
        return HB_ENOMEM;
    b->buf = p;
    b->alloc = a;
    return HB_OK;
}

int hb_dyn_addn(hb_dynbuf *b, const void *mem, size_t n)
{
    if (n > limit(b) - b->len)
        return HB_EINPUT;
    if (reserve(b, b->len + n + 1) != HB_OK)
        return HB_ENOMEM;
    if (n)
        memcpy(b->buf + b->len, mem, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return HB_OK;
}

int hb_dyn_add(hb_dynbuf *b, const char *s) { return hb_dyn_addn(b, s, strlen(s)); }

int hb_dyn_vaddf(hb_dynbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return HB_EINPUT;              /* an encoding error in the arguments */
    if ((size_t)n > limit(b) - b->len)
        return HB_EINPUT;
    if (reserve(b, b->len + (size_t)n + 1) != HB_OK)
        return HB_ENOMEM;
    vsnprintf(b->buf + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return HB_OK;
}

int hb_dyn_addf(hb_dynbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = hb_dyn_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int hb_dyn_addn_clip(hb_dynbuf *b, const void *mem, size_t n, int *clipped)
{
    if (n > limit(b) - b->len) {
        *clipped = 1;
        n = limit(b) - b->len;
    }
    return n ? hb_dyn_addn(b, mem, n) : HB_OK;
}

void hb_dyn_setlen(hb_dynbuf *b, size_t n)
{
    if (n < b->len) {
        b->len = n;
        b->buf[n] = '\0';
    }
}

void hb_dyn_tail(hb_dynbuf *b, size_t keep)
{
    if (keep < b->len) {
        memmove(b->buf, b->buf + (b->len - keep), keep);
        b->len = keep;
        b->buf[keep] = '\0';
    }
}

const char *hb_dyn_str(const hb_dynbuf *b) { return b->buf ? b->buf : ""; }

size_t hb_dyn_len(const hb_dynbuf *b) { return b->len; }

char *hb_dyn_take(hb_dynbuf *b, size_t *len)
{
    char *p = b->buf ? b->buf : calloc(1, 1);
    if (len)
        *len = p ? b->len : 0;
    b->buf = NULL;
    b->len = b->alloc = 0;
    return p;
}

int hb_grow(void *pp, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return HB_OK;
    size_t c = *cap ? *cap : FIRST_CAP;
    while (c < need) {
        if (c > SIZE_MAX / 2)
            return HB_ENOMEM;
        c *= 2;
    }
    if (elem && c > SIZE_MAX / elem)
        return HB_ENOMEM;
    void *old;                         /* via memcpy: pp may point at any object pointer type */
    memcpy(&old, pp, sizeof old);
    void *p = realloc(old, c * elem);
    if (!p)
        return HB_ENOMEM;
    memcpy(pp, &p, sizeof p);
    *cap = c;
    return HB_OK;
}
