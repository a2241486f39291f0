/* libra_redis.c - see libra_redis.h. */
#include "libra_redis.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "files.h"
#include "libra_fork.h"

#define RETRY_GAP_MS 100               /* no new connect sooner than this after a failed one */

struct lr_client {
    lr_opts o;
    redisContext *ctx;
    int64_t failed_at;                 /* monotonic ms of the last failed connect; 0: none */
    char last_why[200];
    char name[320];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lr_opts_free(lr_opts *o)
{
    if (o->password) {
        memset(o->password, 0, strlen(o->password));
        free(o->password);
    }
    memset(o, 0, sizeof *o);
}

int lr_opts_init(lr_opts *o, const char *hostport, long db, const char *password_file,
                 long timeout_ms, const char *where, hb_error *err)
{
    memset(o, 0, sizeof *o);
    o->db = db;
    o->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    o->port = 6379;
    const char *colon = hostport ? strrchr(hostport, ':') : NULL;
    size_t hl = colon ? (size_t)(colon - hostport) : (hostport ? strlen(hostport) : 0);
    if (!hostport || hl == 0 || hl >= sizeof o->host)
        return hb_fail(err, HB_EINPUT, "%s: '%s' is not HOST:PORT", where, hostport ? hostport : "");
    memcpy(o->host, hostport, hl);
    if (colon) {
        char *end;
        errno = 0;
        long p = strtol(colon + 1, &end, 10);
        if (errno || end == colon + 1 || *end || p < 1 || p > 65535)
            return hb_fail(err, HB_EINPUT, "%s: '%s': the port is not in [1, 65535]", where, hostport);
        o->port = (int)p;
    }
    if (db < 0 || db > 100000)
        return hb_fail(err, HB_EINPUT, "%s: db %ld is not in [0, 100000]", where, db);
    const char *env = getenv("HB_REDIS_PASSWORD");
    if (password_file && *password_file) {
        char *text = NULL;
        size_t len = 0;
        if (hb_read_text(password_file, &text, &len, err))
            return hb_error_wrap(err, "%s: the password file", where);
        text[strcspn(text, "\r\n")] = '\0';   /* its first line */
        if (!*text) {
            free(text);
            return hb_fail(err, HB_EINPUT, "%s: the password file %s is empty", where, password_file);
        }
        o->password = text;
    } else if (env && *env) {
        o->password = strdup(env);
        if (!o->password)
            return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    return 0;
}

static void drop(lr_client *c)
{
    if (c->ctx)
        redisFree(c->ctx);
    c->ctx = NULL;
}

/* One command on the live connection; 1: the connection broke (reconnect and retry), else the
 * reply (which may be an error reply). */
static int command(lr_client *c, int argc, const char **argv, redisReply **out)
{
    size_t len[8];
    for (int i = 0; i < argc; i++)
        len[i] = strlen(argv[i]);
    *out = redisCommandArgv(c->ctx, argc, argv, len);
    if (!*out) {
        snprintf(c->last_why, sizeof c->last_why, "%s", c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
        drop(c);
        return 1;
    }
    return 0;
}

static int connect_now(lr_client *c, hb_error *err)
{
    int64_t now = mono_ms();
    if (c->failed_at && now - c->failed_at < RETRY_GAP_MS)
        return hb_fail(err, HB_ERUN, "redis %s: unreachable (%s)", c->name, c->last_why);
    struct timeval tv = {c->o.timeout_ms / 1000, (c->o.timeout_ms % 1000) * 1000};
    c->ctx = redisConnectWithTimeout(c->o.host, c->o.port, tv);
    const char *why = NULL;
    if (!c->ctx)
        why = "out of memory";
    else if (c->ctx->err)
        why = c->ctx->errstr;
    else if (redisSetTimeout(c->ctx, tv) != REDIS_OK)
        why = "cannot set a timeout";
    if (why) {
        snprintf(c->last_why, sizeof c->last_why, "%s", why);
        drop(c);
        c->failed_at = mono_ms();
        return hb_fail(err, HB_ERUN, "redis %s: cannot connect: %s", c->name, c->last_why);
    }
    char dbs[24];
    snprintf(dbs, sizeof dbs, "%ld", c->o.db);
    const char *auth[] = {"AUTH", c->o.password}, *sel[] = {"SELECT", dbs}, *ping[] = {"PING"};
    const struct {
        const char **argv;
        int argc;
        const char *what;
    } steps[] = {{auth, 2, "AUTH (password not shown)"}, {sel, 2, "SELECT"}, {ping, 1, "PING"}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        if (i == 0 && !c->o.password)
            continue;
        redisReply *r;
        if (command(c, steps[i].argc, steps[i].argv, &r)) {
            c->failed_at = mono_ms();
            return hb_fail(err, HB_ERUN, "redis %s: %s: %s", c->name, steps[i].what, c->last_why);
        }
        if (r->type == REDIS_REPLY_ERROR) {
            snprintf(c->last_why, sizeof c->last_why, "%.150s", r->str);
            freeReplyObject(r);
            drop(c);
            c->failed_at = mono_ms();
            return hb_fail(err, HB_EINPUT, "redis %s: %s refused: %s", c->name, steps[i].what,
                           c->last_why);
        }
        freeReplyObject(r);
    }
    c->failed_at = 0;
    return 0;
}

int lr_open(const lr_opts *o, lr_client **out, hb_error *err)
{
    *out = NULL;
    lr_client *c = calloc(1, sizeof *c);
    if (!c)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    c->o = *o;
    c->o.password = o->password ? strdup(o->password) : NULL;
    snprintf(c->name, sizeof c->name, "%s:%d db %ld", o->host, o->port, o->db);
    if (o->password && !c->o.password) {
        lr_close(c);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    if (connect_now(c, err)) {
        if (err)
            err->code = HB_EINPUT;     /* at start: the setting is wrong or Redis is not there */
        lr_close(c);
        return HB_EINPUT;
    }
    *out = c;
    return 0;
}

void lr_close(lr_client *c)
{
    if (!c)
        return;
    drop(c);
    lr_opts_free(&c->o);
    free(c);
}

const char *lr_name(const lr_client *c) { return c->name; }

/* Runs a command, reconnecting once if the connection was (or became) broken. The reply is the
 * caller's; an error reply is turned into an error here. */
static int run(lr_client *c, int argc, const char **argv, redisReply **out, hb_error *err)
{
    *out = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!c->ctx && connect_now(c, err))
            return err ? err->code : HB_ERUN;
        redisReply *r;
        if (command(c, argc, argv, &r))
            continue;                  /* broken (a restart): once more on a new connection */
        if (r->type == REDIS_REPLY_ERROR) {
            int rc = hb_fail(err, HB_ERUN, "redis %s: %s %s: %.150s", c->name, argv[0], argv[1], r->str);
            freeReplyObject(r);
            return rc;
        }
        *out = r;
        return 0;
    }
    return hb_fail(err, HB_ERUN, "redis %s: %s %s: %s", c->name, argv[0], argv[1], c->last_why);
}

int lr_hset(lr_client *c, const char *key, const char *field, const char *value,
            const char *field2, const char *value2, hb_error *err)
{
    const char *argv[] = {"HSET", key, field, value, field2, value2};
    redisReply *r;
    int rc = run(c, field2 ? 6 : 4, argv, &r, err);
    if (!rc)
        freeReplyObject(r);
    return rc;
}

int lr_hget(lr_client *c, const char *key, const char *field, char **value, hb_error *err)
{
    *value = NULL;
    const char *argv[] = {"HGET", key, field};
    redisReply *r;
    int rc = run(c, 3, argv, &r, err);
    if (rc)
        return rc;
    if (r->type == REDIS_REPLY_STRING) {
        *value = strndup(r->str, r->len);
        if (!*value)
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
    } else if (r->type != REDIS_REPLY_NIL) {
        rc = hb_fail(err, HB_ERUN, "redis %s: HGET %s %s: not a string (reply type %d)", c->name,
                     key, field, r->type);
    }
    freeReplyObject(r);
    return rc;
}

int lr_put_prediction(lr_client *c, const char *action, int encoded, long duration_ms, hb_error *err)
{
    char enc[16], dur[24];
    snprintf(enc, sizeof enc, "%d", encoded);
    snprintf(dur, sizeof dur, "%ld", duration_ms);
    /* MULTI/EXEC: both or neither, in one round trip */
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!c->ctx && connect_now(c, err))
            return err ? err->code : HB_ERUN;
        const char *multi[] = {"MULTI"}, *exec[] = {"EXEC"};
        const char *peak[] = {"HSET", "predict_peak", action, enc};
        const char *du[] = {"HSET", "predict_duration", action, dur};
        const char **cmds[] = {multi, peak, du, exec};
        int argcs[] = {1, 4, 4, 1};
        int broken = 0;
        for (int i = 0; i < 4; i++) {
            size_t len[4];
            for (int k = 0; k < argcs[i]; k++)
                len[k] = strlen(cmds[i][k]);
            if (redisAppendCommandArgv(c->ctx, argcs[i], cmds[i], len) != REDIS_OK)
                broken = 1;
        }
        redisReply *last = NULL;
        for (int i = 0; i < 4 && !broken; i++) {
            void *r = NULL;
            if (redisGetReply(c->ctx, &r) != REDIS_OK || !r) {
                broken = 1;
                break;
            }
            if (i < 3) {
                if (((redisReply *)r)->type == REDIS_REPLY_ERROR) {
                    int rc = hb_fail(err, HB_ERUN, "redis %s: writing the prediction of %s: %.150s",
                                     c->name, action, ((redisReply *)r)->str);
                    freeReplyObject(r);
                    drop(c);           /* the transaction may still be open: start afresh */
                    return rc;
                }
                freeReplyObject(r);
            } else {
                last = r;
            }
        }
        if (broken) {
            snprintf(c->last_why, sizeof c->last_why, "%s",
                     c->ctx && c->ctx->errstr[0] ? c->ctx->errstr : "connection lost");
            drop(c);
            continue;
        }
        int ok = last->type == REDIS_REPLY_ARRAY && last->elements == 2;
        freeReplyObject(last);
        if (!ok)
            return hb_fail(err, HB_ERUN, "redis %s: writing the prediction of %s: the transaction "
                           "was not executed", c->name, action);
        return 0;
    }
    return hb_fail(err, HB_ERUN, "redis %s: writing the prediction of %s: %s", c->name, action,
                   c->last_why);
}

int lr_get_prediction(lr_client *c, const char *action, int *encoded, long *duration_ms,
                      hb_error *err)
{
    *encoded = 0;
    *duration_ms = 0;
    char *peak = NULL, *dur = NULL;
    int rc = lr_hget(c, "predict_peak", action, &peak, err);
    if (!rc)
        rc = lr_hget(c, "predict_duration", action, &dur, err);
    long v;
    char what[640];
    if (!rc && peak) {
        snprintf(what, sizeof what, "redis %s: predict_peak[%.200s]", c->name, action);
        rc = lf_parse_long(peak, what, 1, LF_MAX_ENCODED, &v, err);
        if (!rc)
            *encoded = (int)v;
    }
    if (!rc && dur) {
        snprintf(what, sizeof what, "redis %s: predict_duration[%.200s] (ms)", c->name, action);
        rc = lf_parse_long(dur, what, 0, 1000000000000L, &v, err);
        if (!rc)
            *duration_ms = v;
    }
    free(peak);
    free(dur);
    return rc;
}
