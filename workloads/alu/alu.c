/* alu.c - arithmetic-logic-unit: for each of `size` random operand pairs, `rounds` dependent rounds
 * of +, -, *, / (see README.md). CPU only: memory stays constant. */
#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_rng.h>

#include "runtime.h"

#define ALU_BLOCK 1024                 /* operand pairs drawn from one reseeded generator */
#define ALU_TAG 0x616c75               /* "alu" */

typedef struct alu_job {
    uint64_t seed;
    int64_t n, rounds;
    uint64_t *digest;                  /* per block: the sum of its pairs' results */
} alu_job;

/* One pair: each round computes a+b, a-b, a*b and a/b (unsigned 64-bit, wrapping; the divisor made
 * odd so it is never 0) and feeds them into the next round, so no round can be skipped. */
static uint64_t alu_pair(uint64_t a, uint64_t b, int64_t rounds)
{
    for (int64_t r = 0; r < rounds; r++) {
        uint64_t s = a + b, d = a - b, m = a * b, q = a / (b | 1);
        a = s ^ (q << 7) ^ (m >> 13);
        b = d + (m >> 29) + (uint64_t)r;
    }
    return a ^ b;
}

static int blocks(void *arg, int w, int64_t lo, int64_t hi)
{
    (void)w;
    alu_job *j = arg;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!r)
        return WL_ERUN;
    for (int64_t b = lo; b < hi; b++) {
        gsl_rng_set(r, wl_seed(j->seed, ALU_TAG, (uint64_t)b));
        int64_t end = (b + 1) * ALU_BLOCK < j->n ? (b + 1) * ALU_BLOCK : j->n;
        uint64_t sum = 0;
        for (int64_t i = b * ALU_BLOCK; i < end; i++) {
            uint64_t x = (uint64_t)gsl_rng_get(r) << 32 | gsl_rng_get(r);
            uint64_t y = 1 + gsl_rng_uniform_int(r, 1000000);
            sum += alu_pair(x, y, j->rounds);
        }
        j->digest[b] = sum;
    }
    gsl_rng_free(r);
    return WL_OK;
}

static int alu_run(const wl_call *c, wl_out *out)
{
    int64_t rounds;
    if (wl_param_int(c, "rounds", 1500, 1, 1000000, &rounds, out))
        return out->code;
    int64_t nb = (c->size + ALU_BLOCK - 1) / ALU_BLOCK;
    alu_job j = {c->seed, c->size, rounds, malloc((size_t)nb * sizeof(uint64_t))};
    if (!j.digest)
        return wl_fail(out, WL_ERUN, "out of memory");
    if (wl_parallel_for(nb, c->parallel, blocks, &j) != WL_OK) {
        wl_fail(out, WL_ERUN, "out of memory");
    } else {
        uint64_t h = WL_HASH_INIT, total = 0;
        for (int64_t b = 0; b < nb; b++) {
            h = wl_hash_u64(h, j.digest[b]);
            total += j.digest[b];
        }
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", (unsigned long long)total);
        out->checksum = h;
        json_object_set_new(out->answer, "pairs", json_integer((json_int_t)c->size));
        json_object_set_new(out->answer, "rounds", json_integer((json_int_t)rounds));
        json_object_set_new(out->answer, "operations", json_integer((json_int_t)(4 * c->size * rounds)));
        json_object_set_new(out->answer, "result", json_string(hex));
    }
    free(j.digest);
    return out->code;
}

const wl_function wl_fn_alu = {
    .id = "alu",
    .summary = "size random operand pairs, each through 1500 dependent rounds of +, -, *, /",
    .default_size = 100000,
    .max_size = 100000000,
    .default_parallel = 2,
    .run = alu_run,
};
