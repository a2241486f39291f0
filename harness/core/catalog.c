/* catalog.c - the ten benchmark functions of the Libra evaluation, with the artifact's user
 * configurations, clip ranges and input-size ranges (libra-harness spec section 6.2). */
#include <string.h>

#include "hb_types.h"

const hb_function hb_functions[HB_NWORKLOADS] = {
    {"dh", "dynamic-html", "render an HTML page of merge-sorted random numbers",
     2, 8, {1, 2}, {2, 8}, 100, 1, 101, 1000, 2},
    {"eg", "email-generation", "generate batches of fake e-mails and log them",
     2, 8, {1, 2}, {2, 8}, 2000, 1, 101, 20000, 1},
    {"ip", "image-processing", "thumbnail and re-encode an image, size/parallel times per worker",
     1, 2, {1, 2}, {2, 8}, 5, 1, 101, 100, 8},
    {"vp", "video-processing", "trim, concatenate, flip-watermark and box video frames",
     2, 4, {1, 2}, {4, 8}, 1, 1, 11, 1, 1},
    {"ir", "image-recognition", "classify images with a small convolutional network",
     1, 8, {1, 2}, {4, 8}, 10, 1, 101, 100, 1},
    {"knn", "k-nearest-neighbors", "k=3 vote of queries over a fresh 1000x800 dataset each",
     2, 8, {1, 2}, {4, 8}, 5, 1, 101, 50, 8},
    {"alu", "arithmetic-logic-unit", "loops of +, -, *, / over random integers",
     2, 8, {1, 2}, {1, 8}, 10000, 1, 101, 100000, 2},
    {"ms", "merge-sorting", "merge-sort random integers",
     2, 4, {1, 2}, {4, 8}, 5000, 1, 101, 100000, 2},
    {"gd", "gradient-descent", "fit W*X = Y with SGD-momentum, Adam and RMSprop",
     1, 8, {1, 2}, {4, 8}, 2, 1, 101, 10, 8},
    {"dv", "dna-visualization", "squiggle transform of two gene sequences",
     1, 8, {1, 2}, {4, 8}, 100, 1, 101, 500, 8},
};

int hb_function_find(const char *id)
{
    for (int i = 0; i < HB_NWORKLOADS; i++)
        if (strcmp(hb_functions[i].id, id) == 0)
            return i;
    return -1;
}

const char *hb_outcome_name(hb_outcome o)
{
    switch (o) {
    case HB_SUCCESS: return "success";
    case HB_TIMEOUT: return "timeout";
    case HB_OOM: return "oom";
    case HB_ERROR: return "error";
    case HB_LOST: return "lost";
    default: return "pending";
    }
}
