/* ip.h - image-processing (see README.md). The pieces are public for the tests. */
#ifndef WL_IP_H
#define WL_IP_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

extern const wl_function wl_fn_ip;

/* The seeded source picture: w*h RGB, 3 bytes per pixel, row-major. */
void ip_source(uint64_t seed, int w, int h, uint8_t *rgb);

/* The thumbnail size: the largest w x h with the source's aspect that fits in bw x bh, never
 * larger than the source (as Pillow's Image.thumbnail). */
void ip_fit(int sw, int sh, int bw, int bh, int *tw, int *th);

/* Resamples src (sw x sh RGB) to dst (dw x dh RGB) with a triangle filter widened by the
 * reduction factor (an antialiased bilinear reduction). Returns 0, or -1 out of memory. */
int ip_resize(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh);

/* Encodes w x h RGB as a PNG (8-bit truecolor; per row the filter with the smallest sum of
 * absolute values; deflate at `level`). *png is malloc'ed. Returns 0, or -1. */
int ip_png(const uint8_t *rgb, int w, int h, int level, uint8_t **png, size_t *len);

#endif
