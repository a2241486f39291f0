/* ow_variants.c - see ow_variants.h. */
#include "ow_variants.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dynbuf.h"

#define FORK_MAX_CPU 8
#define FORK_MAX_UNITS 8

const char *ow_flavor_name(ow_flavor f) { return f == OW_LIBRA_FORK ? "libra-fork" : "stock"; }

void ow_grid_free(ow_grid *g)
{
    free(g->v);
    memset(g, 0, sizeof *g);
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Rounds up, forgiving the last bits of a double (2.0000000001 cores is 2). */
static int ceil_i(double x) { return (int)ceil(x - 1e-6); }

static int add(ow_grid *g, size_t *cap, const ow_variant *v)
{
    for (size_t i = g->first[v->func]; i < g->n; i++)
        if (g->v[i].limit_memory == v->limit_memory && g->v[i].mem_mb == v->mem_mb)
            return 0;                  /* the user configuration is often on the grid already */
    if (HB_GROW(g->v, *cap, g->n + 1) != HB_OK)
        return -1;
    g->v[g->n++] = *v;
    return 0;
}

static void make(ow_variant *v, ow_flavor fl, const char *prefix, int func, int cores, int mem_mb,
                 hb_res inv)
{
    memset(v, 0, sizeof *v);
    v->func = func;
    v->mem_mb = mem_mb;
    if (fl == OW_LIBRA_FORK) {
        v->cores = cores;
        v->limit_memory = (cores - 1) * FORK_MAX_UNITS + mem_mb / HB_MEM_UNIT_MB;
        v->applied = (hb_res){cores, mem_mb};
        v->cpu_hard = 1;
        snprintf(v->name, sizeof v->name, "%s%s-c%d-m%d", prefix, hb_functions[func].id, cores, mem_mb);
    } else {
        v->limit_memory = mem_mb;
        v->applied = (hb_res){mem_mb / inv.mem_mb * inv.cpu, mem_mb};
        snprintf(v->name, sizeof v->name, "%s%s-m%d", prefix, hb_functions[func].id, mem_mb);
    }
}

int ow_grid_build(ow_flavor flavor, const char *prefix, const hb_func_config *funcs,
                  hb_res invoker, ow_grid *g, hb_error *err)
{
    memset(g, 0, sizeof *g);
    g->flavor = flavor;
    size_t cap = 0;
    ow_variant v;
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        const hb_func_config *fc = &funcs[f];
        g->first[f] = g->n;
        int u_lo = ceil_i(fc->mem_clip_mb[0] / HB_MEM_UNIT_MB);
        int u_hi = (int)floor(fc->mem_clip_mb[1] / HB_MEM_UNIT_MB + 1e-6);
        if (flavor == OW_LIBRA_FORK) {
            u_lo = clampi(u_lo, 1, FORK_MAX_UNITS);
            u_hi = clampi(u_hi, 1, FORK_MAX_UNITS);
            int c_lo = clampi(ceil_i(fc->cpu_clip[0]), 1, FORK_MAX_CPU);
            int c_hi = clampi((int)floor(fc->cpu_clip[1] + 1e-6), 1, FORK_MAX_CPU);
            for (int c = c_lo; c <= c_hi; c++)
                for (int u = u_lo; u <= u_hi; u++) {
                    make(&v, flavor, prefix, f, c, u * HB_MEM_UNIT_MB, invoker);
                    if (add(g, &cap, &v))
                        goto oom;
                }
            make(&v, flavor, prefix, f, clampi(ceil_i(fc->user.cpu), 1, FORK_MAX_CPU),
                 clampi(ceil_i(fc->user.mem_mb / HB_MEM_UNIT_MB), 1, FORK_MAX_UNITS) * HB_MEM_UNIT_MB,
                 invoker);
        } else {
            if (u_lo < 1)
                u_lo = 1;
            for (int u = u_lo; u <= u_hi; u++) {
                make(&v, flavor, prefix, f, 0, u * HB_MEM_UNIT_MB, invoker);
                if (add(g, &cap, &v))
                    goto oom;
            }
            make(&v, flavor, prefix, f, 0, ceil_i(fc->user.mem_mb), invoker);
        }
        if (add(g, &cap, &v))
            goto oom;
        g->count[f] = g->n - g->first[f];
    }
    return 0;
oom:
    ow_grid_free(g);
    return hb_fail(err, HB_ENOMEM, "out of memory");
}

const ow_variant *ow_grid_pick(const ow_grid *g, int func, hb_res alloc)
{
    const ow_variant *best = NULL, *largest = NULL;
    size_t lo = g->first[func], hi = lo + g->count[func];
    int max_c = 0, max_m = 0;
    for (size_t i = lo; i < hi; i++) {
        const ow_variant *v = &g->v[i];
        max_c = v->cores > max_c ? v->cores : max_c;
        max_m = v->mem_mb > max_m ? v->mem_mb : max_m;
        if (!largest || v->mem_mb > largest->mem_mb ||
            (v->mem_mb == largest->mem_mb && v->cores > largest->cores))
            largest = v;
    }
    /* a decision beyond the grid gets the grid's edge in that dimension */
    int need_c = clampi(ceil_i(alloc.cpu), 0, max_c), need_m = clampi(ceil_i(alloc.mem_mb), 0, max_m);
    for (size_t i = lo; i < hi; i++) {
        const ow_variant *v = &g->v[i];
        if (v->mem_mb < need_m || (g->flavor == OW_LIBRA_FORK && v->cores < need_c))
            continue;
        /* the smallest that fits: fewest cores, then least memory */
        if (!best || v->cores < best->cores || (v->cores == best->cores && v->mem_mb < best->mem_mb))
            best = v;
    }
    return best ? best : largest;
}

const ow_variant *ow_grid_user(const ow_grid *g, int func, const hb_func_config *funcs)
{
    return ow_grid_pick(g, func, funcs[func].user);
}
