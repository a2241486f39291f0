/* serve.h - `harvestbench serve`: an OpenWhisk-REST-compatible endpoint on 127.0.0.1
 * (libmicrohttpd), so that the openwhisk backend is tested over real HTTP and users can try the
 * whole flow without a cluster (BRIEF section 4, docs/openwhisk.md).
 *
 * It implements the part of API v1 (data/openwhisk/apiv1swagger.json) that the harness's client,
 * the `openwhisk` npm client and the wsk CLI's basic action and activation commands use:
 *   GET  /api/v1, /api/v1/namespaces, /api/v1/namespaces/NS/limits
 *   GET  .../actions (list)    PUT/GET/DELETE .../actions/NAME    POST .../actions/NAME (invoke,
 *        blocking or not, result=true, timeout=MS)
 *   GET  .../activations (list: name, since, upto, skip, limit, docs)
 *   GET  .../activations/ID, .../activations/ID/result, .../activations/ID/logs
 * with Basic auth (one key, one namespace; "_" is that namespace), OpenWhisk's status codes and
 * JSON shapes: 200, 202 {"activationId"} with the x-openwhisk-activation-id header, 400, 401,
 * 403, 404, 409, 413, 429 (per-namespace invocations per minute and concurrent invocations),
 * 500, 502; activation records with the standard annotations (path, waitTime, kind, timeout,
 * limits, initTime on cold starts). Actions are native ones (kind blackbox: a zip holding `exec`, or
 * a script); they run through a runner (runner.h). Not implemented: packages, triggers, rules,
 * sequences, web actions, other runtimes' kinds (rejected with 400 and a message saying so).
 * Faults can be injected (serve_faults.h). Connections are served one thread each. */
#ifndef HB_SERVE_H
#define HB_SERVE_H

#include <stdint.h>

#include "hb_error.h"
#include "runner.h"
#include "serve_faults.h"
#include "serve_libra.h"

typedef struct hb_serve hb_serve;

typedef struct hb_serve_opts {
    const char *bind;                  /* address to listen on; NULL: 127.0.0.1 */
    int port;                          /* 0: the OS picks one (hb_serve_port) */
    const char *auth;                  /* "UUID:KEY"; NULL: generate one */
    const char *ns;                    /* the namespace; NULL: "guest" */
    long per_minute;                   /* invocations per minute per namespace; 0: no limit */
    long concurrent;                   /* activations in flight per namespace; 0: no limit */
    int libra_fork;                    /* memory limits carry the fork's (cpu, memory) encoding */
    int64_t keep_alive_ms;             /* idle containers of the built-in runner */
    size_t max_activations;            /* records kept (oldest dropped first); 0: 100000 */
    sv_faults faults;
    hb_runner *runner;                 /* NULL: the fork/exec runner; else taken over */
    const char *work_dir;              /* NULL: a new directory under $TMPDIR, removed at stop */
    const sv_libra_opts *libra_redis;  /* libra_fork only: the fork's Redis side channel
                                          (serve_libra.h); NULL: none */
} hb_serve_opts;

typedef struct hb_serve_stats {
    uint64_t requests, invocations, completed;
    uint64_t throttled_rate, throttled_concurrency;
    uint64_t injected_429, injected_500, injected_drop, lost_records;
    uint64_t in_flight;
} hb_serve_stats;

int hb_serve_start(const hb_serve_opts *o, hb_serve **out, hb_error *err);
int hb_serve_port(const hb_serve *s);
/* The key (for writing a wsk properties file and for in-process tests; never print it). */
const char *hb_serve_auth(const hb_serve *s);
const char *hb_serve_namespace(const hb_serve *s);
void hb_serve_stats_get(hb_serve *s, hb_serve_stats *out);
/* Stops listening, stops running actions and frees everything. */
void hb_serve_stop(hb_serve *s);

#endif
