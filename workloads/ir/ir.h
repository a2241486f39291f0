/* ir.h - image-recognition (see README.md). The pieces are public for the tests. */
#ifndef WL_IR_H
#define WL_IR_H

#include <stdint.h>

#include "runtime.h"

#define IR_SIDE 64                     /* input images are IR_SIDE x IR_SIDE RGB */
#define IR_CLASSES 1000

extern const wl_function wl_fn_ir;

typedef struct ir_net ir_net;

/* The network with weights drawn from weights_seed (He initialisation). NULL out of memory. */
ir_net *ir_net_new(uint64_t weights_seed);
void ir_net_free(ir_net *n);

/* Image i of a call with this seed: 3 x IR_SIDE x IR_SIDE floats in [-1, 1], channel-major. */
void ir_image(uint64_t seed, int64_t i, float *chw);

/* The forward pass: conv3x3(3->16), ReLU, maxpool2; conv3x3(16->32), ReLU, maxpool2;
 * conv3x3(32->64), ReLU, maxpool2; global average pool; fully connected 64 -> IR_CLASSES.
 * Writes the logits. Returns 0, or -1 out of memory. */
int ir_forward(const ir_net *n, const float *chw, float *logits);

/* The label name of class k (synthetic, "adjective noun"). */
void ir_label(int k, char *buf, int len);

#endif
