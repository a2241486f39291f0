/* vp.h - video-processing (see README.md). The pieces are public for the tests. */
#ifndef WL_VP_H
#define WL_VP_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

#define VP_FPS 25
#define VP_SRC_FRAMES 150              /* the source clip: 6 s at 25 fps */
#define VP_MARK 48                     /* the watermark is VP_MARK x VP_MARK RGBA */

extern const wl_function wl_fn_vp;

/* Frame t of the seeded source clip, w x h RGB. */
void vp_source_frame(uint64_t seed, int t, int w, int h, uint8_t *rgb);

/* The seeded watermark, VP_MARK x VP_MARK RGBA. */
void vp_watermark(uint64_t seed, uint8_t *rgba);

/* The edit applied to each output frame in place: the horizontally flipped watermark blended at
 * the top right, and a red box (3 px) around the centre half. */
void vp_edit(uint8_t *rgb, int w, int h, const uint8_t *mark);

/* Intra-codes one frame: YCbCr 4:2:0, 8x8 DCT, JPEG quantisation at `quality`, zigzag, deflate.
 * *out is malloc'ed. Returns 0 or -1. */
int vp_encode(const uint8_t *rgb, int w, int h, int quality, uint8_t **out, size_t *len);

/* Decodes vp_encode's output back to RGB (for tests: the codec must round-trip closely). */
int vp_decode(const uint8_t *in, size_t len, int w, int h, int quality, uint8_t *rgb);

#endif
