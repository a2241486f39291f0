/* policy_testkit.h - helpers for unit tests that drive a policy's hooks directly: a policy context
 * with the artifact's ten functions, synthetic invocations and ended calls. Header-only. */
#ifndef POLICY_TESTKIT_H
#define POLICY_TESTKIT_H

#include <string.h>

#include <gsl/gsl_rng.h>

#include "hb_policy.h"
#include "hb_types.h"

typedef struct testkit {
    hb_func_config funcs[HB_NWORKLOADS];
    hb_kv items[16];
    hb_kvlist params;
    hb_policy_ctx ctx;
    gsl_rng *rng;
} testkit;

/* The artifact's user configurations and clip ranges; one invoker of 8 cores and 8192 MB. */
static inline void testkit_init(testkit *k, const char *policy, unsigned long seed)
{
    memset(k, 0, sizeof *k);
    for (int i = 0; i < HB_NWORKLOADS; i++) {
        const hb_function *f = &hb_functions[i];
        k->funcs[i].user.cpu = f->user_cpu;
        k->funcs[i].user.mem_mb = f->user_mem_units * HB_MEM_UNIT_MB;
        k->funcs[i].cpu_clip[0] = f->cpu_clip[0];
        k->funcs[i].cpu_clip[1] = f->cpu_clip[1];
        k->funcs[i].mem_clip_mb[0] = f->mem_clip[0] * HB_MEM_UNIT_MB;
        k->funcs[i].mem_clip_mb[1] = f->mem_clip[1] * HB_MEM_UNIT_MB;
        k->funcs[i].timeout = 300 * HB_SEC;
        k->funcs[i].workload = i;          /* the run's functions are the ten workloads, 1:1 */
        k->funcs[i].name = f->id;
        k->funcs[i].work_scale = 1;
    }
    k->rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(k->rng, seed);
    k->params.section = policy;
    k->params.items = k->items;
    k->ctx.name = policy;
    k->ctx.n_invokers = 1;
    k->ctx.invoker_capacity = (hb_res){8, 8192};
    k->ctx.n_funcs = HB_NWORKLOADS;
    k->ctx.funcs = k->funcs;
    k->ctx.rng = k->rng;
    k->ctx.params = &k->params;
    k->ctx.config_dir = ".";
    k->ctx.monitor_interval = 100 * HB_MS;
}

static inline void testkit_free(testkit *k)
{
    gsl_rng_free(k->rng);
}

/* Adds key = value to the policy's section, as if read from test.ini at the given line. */
static inline void testkit_param(testkit *k, const char *key, const char *value, int line)
{
    hb_kv *it = &k->items[k->params.n++];
    it->key = key;
    it->value = value;
    it->file = "test.ini";
    it->line = line;
    it->used = 0;
}

/* A call of function `id` arriving at `arrival_s`, with the engine's default sizing filled in. */
static inline hb_invocation testkit_call(const testkit *k, const char *id, uint64_t index,
                                         double arrival_s, int64_t size)
{
    hb_invocation inv;
    memset(&inv, 0, sizeof inv);
    inv.index = index;
    inv.func = inv.workload = hb_function_find(id);
    inv.input_size = size;
    inv.user = k->funcs[inv.func].user;
    inv.timeout = k->funcs[inv.func].timeout;
    inv.arrival = (hb_time)(arrival_s * 1e6);
    inv.invoker = -1;
    inv.pred.cpu = inv.pred.mem_mb = -1.0;
    inv.pred_duration_s = -1.0;
    return inv;
}

static inline hb_sizing testkit_default_sizing(const hb_invocation *inv)
{
    hb_sizing s;
    memset(&s, 0, sizeof s);
    s.alloc = inv->user;
    s.reserve = inv->user;
    s.cpu_hard = 0;
    s.pred.cpu = s.pred.mem_mb = -1.0;
    s.pred_duration_s = -1.0;
    return s;
}

/* Applies a sizing to a call and ends it: queued wait_s, cold start init_s, ran dur_s, with the
 * given peaks and outcome. */
static inline void testkit_end(hb_invocation *inv, const hb_sizing *s, double wait_s, double init_s,
                               double dur_s, double cpu_peak, double mem_peak_mb, hb_outcome outcome)
{
    inv->alloc_start = s->alloc;
    inv->alloc = s->alloc;
    inv->reserve = s->reserve;
    inv->cpu_hard = s->cpu_hard;
    inv->pred = s->pred;
    inv->pred_duration_s = s->pred_duration_s;
    inv->invoker = 0;
    inv->start = inv->arrival + (hb_time)(wait_s * 1e6);
    inv->exec_start = inv->start + (hb_time)(init_s * 1e6);
    inv->end = inv->exec_start + (hb_time)(dur_s * 1e6);
    inv->cold_start = init_s > 0;
    inv->outcome = outcome;
    inv->cpu_peak = cpu_peak;
    inv->mem_peak_mb = mem_peak_mb;
}

static inline hb_observation testkit_obs(double now_s, int inflight, double free_cpu, double free_mem)
{
    hb_observation o;
    o.now = (hb_time)(now_s * 1e6);
    o.inflight = inflight;
    o.free = (hb_res){free_cpu, free_mem};
    o.capacity = (hb_res){8, 8192};
    return o;
}

#endif
