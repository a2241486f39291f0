/* placement.c - the built-in placements of the controller (hb_policy.h).
 *
 * sharding: OpenWhisk's ShardingContainerPoolBalancer. The home invoker of an action is
 *   hash(namespace, action) mod n; the search steps from it by a step size chosen, by the same hash,
 *   among the numbers up to n that are coprime with n and with each other; the first invoker whose
 *   free memory holds the call wins; if none does, a random invoker is forced.
 * jsq: the Libra fork's JSQBalancer: invokers by ascending in-flight count (stable: ties to the lower
 *   index); the first whose free CPU and memory both hold the call's reserve wins; else a random
 *   invoker is forced. */
#include <stdint.h>
#include <stdlib.h>

#include "placement.h"

static int gcd(int a, int b)
{
    while (b) {
        int t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* Java's String.hashCode, as OpenWhisk hashes entity names, continued from h over at most
 * *room more characters of s (*room counts down). */
static uint32_t java_hash_on(uint32_t h, const char *s, size_t *room)
{
    for (; *s && *room; s++, (*room)--)
        h = 31u * h + (unsigned char)*s;
    return h;
}

static int random_invoker(const hb_cluster_view *v)
{
    return v->rng ? (int)gsl_rng_uniform_int(v->rng, (unsigned long)v->n) : 0;
}

const char *hb_sharding_name(const hb_invocation *inv)
{
    /* each function of the run is an action of its own, named as in the trace (the ten workloads'
     * ids when the trace is the artifact's) */
    return inv->trace_name ? inv->trace_name : hb_functions[inv->workload].id;
}

hb_shard_route hb_sharding_route(const char *name, int n)
{
    hb_shard_route r = {0, 1};
    if (n <= 1)
        return r;
    /* the namespace's hash xor that of "guest/NAME" as the 127 characters a 128-byte name buffer
     * keeps */
    size_t ns_room = SIZE_MAX, room = 127;
    uint32_t fqn = java_hash_on(java_hash_on(0, "guest/", &room), name, &room);
    int32_t h = (int32_t)(java_hash_on(0, "guest", &ns_room) ^ fqn);
    int64_t hash = h < 0 ? -(int64_t)h : h;
    int steps[64], n_steps = 0;
    for (int cur = 1; cur <= n && n_steps < 64; cur++) {
        if (gcd(cur, n) != 1)
            continue;
        int ok = 1;
        for (int i = 0; i < n_steps && ok; i++)
            ok = gcd(steps[i], cur) == 1;
        if (ok)
            steps[n_steps++] = cur;
    }
    r.home = (int)(hash % n);
    r.step = steps[hash % n_steps];
    return r;
}

int hb_place_sharding_routed(hb_shard_route r, const hb_invocation *inv, const hb_cluster_view *v)
{
    if (v->n <= 1)
        return 0;
    for (int i = 0; i < v->n; i++) {
        int k = (int)((r.home + (int64_t)i * r.step) % v->n);
        if (v->inv[k].free.mem_mb >= inv->reserve.mem_mb - 1e-9)
            return k;
    }
    return random_invoker(v);
}

int hb_place_sharding(const hb_invocation *inv, const hb_cluster_view *v)
{
    return hb_place_sharding_routed(hb_sharding_route(hb_sharding_name(inv), v->n), inv, v);
}

int hb_place_jsq(const hb_invocation *inv, const hb_cluster_view *v)
{
    int best = -1;
    for (int i = 0; i < v->n; i++) {
        const hb_invoker_state *s = &v->inv[i];
        if (s->free.cpu < inv->reserve.cpu - 1e-9 || s->free.mem_mb < inv->reserve.mem_mb - 1e-9)
            continue;
        if (best < 0 || s->inflight < v->inv[best].inflight)
            best = i;
    }
    return best >= 0 ? best : random_invoker(v);
}

int hb_place_jsq_hook(void *state, const hb_invocation *inv, const hb_cluster_view *view,
                      hb_error *err)
{
    (void)state;
    (void)err;
    return hb_place_jsq(inv, view);
}
