/* libra_redis.h - a small synchronous Redis client (hiredis) for the Libra fork's side channel
 * (libra-algorithm spec section 3): the openwhisk backend writes predictions and reads
 * trajectories and pools with it; `serve --redis` reads predictions and writes pools and
 * trajectories. One client is one connection; it is not thread-safe (callers lock).
 *
 * Connection: AUTH (when a password is given) and SELECT db on every (re)connect. A command that
 * finds the connection broken reconnects once and tries again; after a failed connect, commands
 * fail at once for 100 ms (a Redis that is down costs one refused connect per 100 ms, not one per
 * call). Timeouts bound connecting and every command. The password is never in a message. */
#ifndef HB_LIBRA_REDIS_H
#define HB_LIBRA_REDIS_H

#include "hb_error.h"

typedef struct lr_opts {
    char host[256];
    int port;
    long db;
    char *password;                    /* NULL: no AUTH; owned (zeroed and freed by lr_opts_free) */
    long timeout_ms;                   /* connect and command timeout */
} lr_opts;

/* hostport: "HOST:PORT" or "HOST" (port 6379). The password comes from password_file (its first
 * line) when given, else from the environment variable HB_REDIS_PASSWORD when set, else none.
 * `where` names the setting in messages ("[backend.openwhisk] redis", "--redis"). */
int lr_opts_init(lr_opts *o, const char *hostport, long db, const char *password_file,
                 long timeout_ms, const char *where, hb_error *err);
void lr_opts_free(lr_opts *o);

typedef struct lr_client lr_client;

/* Connects now (AUTH, SELECT, PING): an unreachable Redis or a refused password is an error here
 * (HB_EINPUT), so a run does not start against it. The options are copied. */
int lr_open(const lr_opts *o, lr_client **out, hb_error *err);
void lr_close(lr_client *c);
/* "HOST:PORT db N", for messages. */
const char *lr_name(const lr_client *c);

/* HSET key field value [field value] (fields2/value2 may be NULL). */
int lr_hset(lr_client *c, const char *key, const char *field, const char *value,
            const char *field2, const char *value2, hb_error *err);
/* HGET key field: *value is malloc'd, or NULL when the field (or the key) does not exist. */
int lr_hget(lr_client *c, const char *key, const char *field, char **value, hb_error *err);
/* HSET predict_peak action <encoded>, HSET predict_duration action <ms>, in one round trip. */
int lr_put_prediction(lr_client *c, const char *action, int encoded, long duration_ms, hb_error *err);
/* HGET predict_peak and predict_duration of action: 0 when absent (as the fork reads them). A
 * value that is present but not a number in range is an error naming the key and field. */
int lr_get_prediction(lr_client *c, const char *action, int *encoded, long *duration_ms,
                      hb_error *err);

#endif
