/* serve_libra.h - `harvestbench serve --flavor libra-fork --redis HOST:PORT`: serve's invoker plays
 * the Libra fork's ContainerPool towards Redis (libra-algorithm spec sections 3 and 6), so that the
 * openwhisk backend's side channel is tested end to end on one machine.
 *
 * Per call, at arrival (as the fork's pool does on Run): HGET predict_peak and predict_duration of
 * the action (missing: the action's own encoded limit, duration 0); an over-provisioned dimension
 * puts (user - predicted) into the harvested resource pool with the window [now, now + duration]
 * and runs at the prediction; an under-provisioned one borrows up to (predicted - user) from the
 * pool, lenders with the latest predicted end first, and runs at user + what it got (section 6.2,
 * 6.3). At its end (section 6.8): what it borrowed goes back to its lenders still running, its
 * borrowers forget it, its unlent harvest leaves the pool, and its trajectory is written with
 * HSET invocations <activationId> (section 6.9). Every 100 ms the pools are published as
 * HSET invoker<i> memory_summary ... cpu_summary ... (section 3).
 *
 * Differences from the fork, on purpose: containers are not resized while running (serve's runners
 * apply limits at start only), so a lender's end does not shrink its borrowers and there is no
 * safeguard (the flag is always 0); every call's end releases its pool entries and writes a
 * trajectory, also timeouts and errors (the fork skips them, spec 11.9); lending ties go to the
 * earliest inserted lender. A Redis that fails a read gives the fork's answer (the user
 * allocation); a trajectory that cannot be written is written again by the publisher later. */
#ifndef HB_SERVE_LIBRA_H
#define HB_SERVE_LIBRA_H

#include <stdint.h>

#include "hb_error.h"

typedef struct sv_libra_opts {
    const char *redis;                 /* HOST:PORT */
    long db;
    const char *password_file;         /* NULL: HB_REDIS_PASSWORD, else none */
    long timeout_ms;                   /* connect and command timeout; 0: 1000 */
    int invoker;                       /* publishes invoker<i>; serve is one invoker: 0 */
    int quiet;                         /* no closing line of counts */
} sv_libra_opts;

typedef struct sv_libra sv_libra;

/* Connects (an unreachable Redis is an HB_EINPUT error) and starts the publisher thread. */
int sv_libra_start(const sv_libra_opts *o, sv_libra **out, hb_error *err);
/* A call arrives: its limits (cores, MB) from the prediction and the pool. user_encoded is the
 * action's limits.memory (1..64). */
void sv_libra_arrive(sv_libra *l, const char *activation_id, const char *action, long user_encoded,
                     int64_t now_ms, double *cpu, int *memory_mb);
/* The call ended: release its pool entries and write its trajectory. */
void sv_libra_complete(sv_libra *l, const char *activation_id, int64_t now_ms);
/* Stops the publisher (a last publication and retry of unwritten trajectories first), prints one
 * line of counts unless quiet, and frees everything. */
void sv_libra_stop(sv_libra *l);

#endif
