/* serve.c - see serve.h. The controller's side of OpenWhisk in one process: entities, throttles,
 * activation records; the runner does the invoker's side. One lock guards the state.
 *
 * Connections: libmicrohttpd's internal epoll mode with a small thread pool, not a thread per
 * connection, so that thousands of idle or slow connections cost a descriptor each and no thread
 * (issue 17: 1,000 half-open connections blocked every keyed client). A handler never sleeps on a
 * pool thread: a blocking invocation, or an injected delay, suspends its connection
 * (MHD_suspend_connection) and a timer thread resumes it when the call ends or its wait is over,
 * whereupon the handler runs again and answers. */
#define _GNU_SOURCE
#include "serve.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "files.h"
#include "common/ow_base64.h"
#include "serve_request.h"

#define MAX_BODY SV_MAX_BODY
#define SV_POOL_THREADS 4              /* handlers never sleep on them (see the top) */
#define SV_IDLE_TIMEOUT_S 15           /* a connection silent this long is closed */
#define MAX_BLOCKING_WAIT_MS 60000     /* maxWaitForBlockingActivation */
#define LIST_DEFAULT 30
#define LIST_MAX 200
#define REALM "whisk rest service"

/* ---- state ---- */

typedef struct sv_action {
    char name[257];
    cJSON *doc;                        /* the entity without exec.code */
    char code_key[40];                 /* "" for an image without code */
    char code_path[1200];
    int is_zip;
    char image[256];
    char kind[64];
    char version[32];
    int64_t timeout_ms;
    long memory, logs, concurrency;
    struct sv_action *next;
} sv_action;

enum { A_PENDING, A_DONE, A_LOST };

typedef struct sv_act {
    char id[33];
    char name[257];
    int state;
    char *record;                      /* the activation record (JSON text) once done */
    int64_t visible_at;                /* epoch ms from which GET finds it */
    int64_t start_ms;
    unsigned http_status;              /* for a blocking answer: 200, 502 or 500 */
    struct sv_act *hnext;
} sv_act;

/* what the completion callback needs about its call */
typedef struct sv_pending {
    hb_serve *s;
    char id[33];
    char name[257];
    char kind[64];
    char version[32];
    int64_t received_ms;
    int64_t timeout_ms;
    long memory, logs, concurrency;
    int lose;
} sv_pending;

struct hb_serve {
    struct MHD_Daemon *d;
    int port;
    char auth[512];
    char ns[256];
    char apihost[320];
    long per_minute, concurrent;
    int libra_fork;
    sv_libra *libra;                   /* the fork's Redis side channel, or NULL */
    sv_faults faults;
    sv_dice dice;
    hb_runner *runner;
    char work_dir[1024];
    int own_dir;
    pthread_mutex_t mu;
    pthread_cond_t done_cv;            /* an activation ended, or a waiter came (monotonic clock) */
    int stopping;
    struct sv_request *waiters;        /* suspended connections */
    size_t n_waiters;
    size_t n_resumed;                  /* resumed, their handler not yet run again */
    pthread_t timer;
    int timer_started;
    uint64_t txn;
    sv_action *actions;
    /* activations: a hash by id, and a ring in creation order (the oldest are dropped) */
    sv_act **table;
    size_t nbuckets;
    sv_act **ring;
    size_t ring_cap, ring_head, ring_n;
    /* invocation times of the last minute (rate throttle) */
    int64_t *rate;
    size_t rate_head, rate_n;
    hb_serve_stats st;
};

enum { PH_NEW, PH_DELAYED, PH_WAITING };

/* One request of a connection; while suspended, also on the server's list of waiters. */
typedef struct sv_request {
    char *body;
    size_t len;
    int too_large;
    int counted;                       /* in st.requests */
    int phase;                         /* PH_*: what a resumed handler continues with */
    int waiting;                       /* on the waiters' list (lock held to read) */
    struct MHD_Connection *conn;
    int64_t wake_ms;                   /* monotonic: resume then at the latest */
    char id[33];                       /* PH_WAITING: the activation waited for */
    int result_only;
    struct sv_request *wnext, *wprev;
} sv_request;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void random_hex(char *out, size_t nbytes)
{
    unsigned char b[64];
    if (nbytes > sizeof b)
        nbytes = sizeof b;
    size_t got = 0;
    while (got < nbytes) {
        ssize_t n = getrandom(b + got, nbytes - got, 0);
        if (n <= 0) {
            /* no entropy source: a clock-based fallback is still unique enough for ids */
            uint64_t x = (uint64_t)mono_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
            for (; got < nbytes; got++, x = x * 6364136223846793005ULL + 1442695040888963407ULL)
                b[got] = (unsigned char)(x >> 33);
            break;
        }
        got += (size_t)n;
    }
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h ^ n;
}

/* ---- answers ---- */

static enum MHD_Result send_text(struct MHD_Connection *c, unsigned status, char *text,
                                 const char *activation_id)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
                                                             MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/json");
    if (activation_id)
        MHD_add_response_header(r, "x-openwhisk-activation-id", activation_id);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result send_json(struct MHD_Connection *c, unsigned status, cJSON *doc,
                                 const char *activation_id)
{
    char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
    cJSON_Delete(doc);
    if (!text)
        return MHD_NO;
    return send_text(c, status, text, activation_id);
}

static enum MHD_Result send_error(hb_serve *s, struct MHD_Connection *c, unsigned status,
                                  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static enum MHD_Result send_error(hb_serve *s, struct MHD_Connection *c, unsigned status,
                                  const char *fmt, ...)
{
    char msg[1024], code[40];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&s->mu);
    unsigned long long t = ++s->txn;
    pthread_mutex_unlock(&s->mu);
    snprintf(code, sizeof code, "%016llx", t);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "error", msg);
    cJSON_AddStringToObject(j, "code", code);
    return send_json(c, status, j, NULL);
}

static const char *qarg(struct MHD_Connection *c, const char *key)
{
    return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
}

static int qbool(struct MHD_Connection *c, const char *key, int def)
{
    const char *v = qarg(c, key);
    if (!v)
        return def;
    return strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "") == 0;
}

/* An integer query argument in [lo, hi]: 0 absent (out untouched), 1 read, -1 malformed. */
static int qlong(struct MHD_Connection *c, const char *key, long lo, long hi, long *out)
{
    const char *v = qarg(c, key);
    if (!v)
        return 0;
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 1;
}

/* ---- entities ---- */

static sv_action *find_action(hb_serve *s, const char *name)
{
    for (sv_action *a = s->actions; a; a = a->next)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

static int code_in_use(hb_serve *s, const char *key, const sv_action *except)
{
    for (sv_action *a = s->actions; a; a = a->next)
        if (a != except && strcmp(a->code_key, key) == 0)
            return 1;
    return 0;
}

/* Containers are an action's own, as in OpenWhisk: warm reuse needs the same action and version. */
static void container_key(const sv_action *a, char *out, size_t n)
{
    snprintf(out, n, "%s@%s#%s", a->name, a->version, a->code_key[0] ? a->code_key : "image");
}

/* The action (old version) is gone: its idle containers go, and its code file if no action uses it
 * (called with the lock held). */
static void release_code(hb_serve *s, const sv_action *a, const sv_action *except)
{
    char ck[700];
    container_key(a, ck, sizeof ck);
    s->runner->ops->forget(s->runner, ck);
    if (a->code_key[0] && !code_in_use(s, a->code_key, except))
        unlink(a->code_path);
}

static void action_free(sv_action *a)
{
    if (a) {
        cJSON_Delete(a->doc);
        free(a);
    }
}

/* The entity as the API shows it; with its code when asked (read back from the code file). */
static cJSON *action_json(hb_serve *s, const sv_action *a, int with_code)
{
    cJSON *doc = cJSON_Duplicate(a->doc, 1);
    if (!doc || !with_code || !a->code_key[0])
        return doc;
    char *data = NULL;
    size_t len = 0;
    hb_error err;
    (void)s;
    if (hb_read_text(a->code_path, &data, &len, &err) == 0) {
        cJSON *exec = cJSON_GetObjectItemCaseSensitive(doc, "exec");
        char *b64 = a->is_zip ? ow_base64_encode((unsigned char *)data, len) : NULL;
        cJSON_AddStringToObject(exec, "code", a->is_zip ? (b64 ? b64 : "") : data);
        free(b64);
    }
    free(data);
    return doc;
}

static int bad_put(char *msg, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad_put(char *msg, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    return 400;
}

static int limit_field(const cJSON *limits, const char *key, long lo, long hi, long *out,
                       const char *unit, char *msg, size_t n)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(limits, key);
    if (!j)
        return 0;
    /* range before the cast: a double beyond long's range cast to long is undefined (found by
     * fuzzing: limits.timeout = 1e300) */
    double d = cJSON_IsNumber(j) ? j->valuedouble : NAN;
    if (!isfinite(d) || d != floor(d))
        return bad_put(msg, n, "The request content was malformed:\nlimits.%s must be an integer", key);
    if (d < (double)lo)
        return bad_put(msg, n, "The request content was malformed:\n%s %.0f %s below allowed "
                       "threshold of %ld %s", key, d, unit, lo, unit);
    if (d > (double)hi)
        return bad_put(msg, n, "The request content was malformed:\n%s %.0f %s exceeds allowed "
                       "threshold of %ld %s", key, d, unit, hi, unit);
    *out = (long)d;
    return 0;
}

/* Builds the new state of an action from a PUT body over the old one (NULL when new). Returns an
 * HTTP status: 200, or 400/413/500 with msg. The code goes to a file named by its digest. */
static int action_from_put(hb_serve *s, const char *name, const cJSON *body, const sv_action *old,
                           sv_action **out, char *msg, size_t n)
{
    *out = NULL;
    sv_action *a = calloc(1, sizeof *a);
    if (!a)
        return bad_put(msg, n, "out of memory"), 500;
    snprintf(a->name, sizeof a->name, "%s", name);
    if (old) {
        snprintf(a->code_key, sizeof a->code_key, "%s", old->code_key);
        snprintf(a->code_path, sizeof a->code_path, "%s", old->code_path);
        a->is_zip = old->is_zip;
        snprintf(a->image, sizeof a->image, "%s", old->image);
        snprintf(a->kind, sizeof a->kind, "%s", old->kind);
        a->timeout_ms = old->timeout_ms;
        a->memory = old->memory;
        a->logs = old->logs;
        a->concurrency = old->concurrency;
    } else {
        a->timeout_ms = 60000;
        a->memory = s->libra_fork ? 1 : 256;
        a->logs = 10;
        a->concurrency = 1;
    }
    int st = 0, made_file = 0;
    const cJSON *exec = cJSON_GetObjectItemCaseSensitive(body, "exec");
    if (!exec && !old) {
        st = bad_put(msg, n, "exec undefined");
        goto fail;
    }
    if (exec) {
        const cJSON *kind = cJSON_GetObjectItemCaseSensitive(exec, "kind");
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(exec, "code");
        const cJSON *image = cJSON_GetObjectItemCaseSensitive(exec, "image");
        const cJSON *binary = cJSON_GetObjectItemCaseSensitive(exec, "binary");
        if (!cJSON_IsObject(exec) || !cJSON_IsString(kind)) {
            st = bad_put(msg, n, "The request content was malformed:\nexec.kind is missing");
            goto fail;
        }
        if (strcmp(kind->valuestring, "blackbox") != 0) {
            st = bad_put(msg, n, "kind '%s' is not supported by harvestbench serve: it runs native "
                         "actions (kind blackbox with a zip holding exec, or a script)",
                         kind->valuestring);
            goto fail;
        }
        if (!cJSON_IsString(image) || !image->valuestring[0]) {
            st = bad_put(msg, n, "The request content was malformed:\nimage is mandatory for a "
                         "blackbox action");
            goto fail;
        }
        snprintf(a->kind, sizeof a->kind, "blackbox");
        snprintf(a->image, sizeof a->image, "%s", image->valuestring);
        a->code_key[0] = a->code_path[0] = '\0';
        a->is_zip = 0;
        if (code && !cJSON_IsString(code)) {
            st = bad_put(msg, n, "The request content was malformed:\nexec.code is not a string");
            goto fail;
        }
        if (code && code->valuestring[0]) {
            const char *text = code->valuestring;
            size_t tl = strlen(text);
            unsigned char *bytes = NULL;
            size_t bl = 0;
            /* a zip arrives in base64 (binary true); a script as text */
            int is_zip = cJSON_IsTrue(binary) || strncmp(text, "UEsD", 4) == 0;
            if (is_zip) {
                bytes = ow_base64_decode(text, tl, &bl);
                if (!bytes || bl < 4 || memcmp(bytes, "PK\3\4", 4) != 0) {
                    free(bytes);
                    st = bad_put(msg, n, "The request content was malformed:\nexec.code is not a "
                                 "base64-encoded zip archive");
                    goto fail;
                }
            }
            const unsigned char *p = is_zip ? bytes : (const unsigned char *)text;
            size_t pl = is_zip ? bl : tl;
            snprintf(a->code_key, sizeof a->code_key, "%016llx%s",
                     (unsigned long long)fnv1a(p, pl), is_zip ? "z" : "s");
            snprintf(a->code_path, sizeof a->code_path, "%s/code-%s", s->work_dir, a->code_key);
            a->is_zip = is_zip;
            struct stat sb;
            if (stat(a->code_path, &sb) != 0) {
                made_file = 1;
                char tmp[1300];
                snprintf(tmp, sizeof tmp, "%s.tmp%llx", a->code_path, (unsigned long long)mono_ms());
                int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int ok = fd >= 0 && write(fd, p, pl) == (ssize_t)pl;
                if (fd >= 0 && close(fd) != 0)
                    ok = 0;
                if (!ok || rename(tmp, a->code_path) != 0) {
                    unlink(tmp);
                    free(bytes);
                    st = bad_put(msg, n, "cannot store the action's code: %s", strerror(errno));
                    st = 500;
                    goto fail;
                }
            }
            free(bytes);
        }
    }
    const cJSON *limits = cJSON_GetObjectItemCaseSensitive(body, "limits");
    if (limits && !cJSON_IsObject(limits)) {
        st = bad_put(msg, n, "The request content was malformed:\nlimits is not an object");
        goto fail;
    }
    long t = a->timeout_ms;
    if ((st = limit_field(limits, "timeout", 100, 300000, &t, "ms", msg, n)) ||
        (st = limit_field(limits, "memory", s->libra_fork ? 1 : 128, s->libra_fork ? 64 : 2048,
                          &a->memory, s->libra_fork ? "(encoded)" : "MB", msg, n)) ||
        (st = limit_field(limits, "logs", 0, 10, &a->logs, "MB", msg, n)) ||
        (st = limit_field(limits, "concurrency", 1, 500, &a->concurrency, "", msg, n)))
        goto fail;
    a->timeout_ms = t;

    /* the entity as GET shows it */
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "namespace", s->ns);
    cJSON_AddStringToObject(doc, "name", name);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(body, "version");
    if (cJSON_IsString(ver) && strlen(ver->valuestring) < sizeof a->version) {
        snprintf(a->version, sizeof a->version, "%s", ver->valuestring);
    } else if (old) {
        unsigned ma = 0, mi = 0, pa = 0;
        sscanf(old->version, "%u.%u.%u", &ma, &mi, &pa);
        snprintf(a->version, sizeof a->version, "%u.%u.%u", ma, mi, pa + 1);
    } else {
        snprintf(a->version, sizeof a->version, "0.0.1");
    }
    cJSON_AddStringToObject(doc, "version", a->version);
    const cJSON *pub = cJSON_GetObjectItemCaseSensitive(body, "publish");
    const cJSON *old_pub = old ? cJSON_GetObjectItemCaseSensitive(old->doc, "publish") : NULL;
    cJSON_AddBoolToObject(doc, "publish", cJSON_IsBool(pub) ? cJSON_IsTrue(pub) : cJSON_IsTrue(old_pub));
    cJSON *ex = cJSON_AddObjectToObject(doc, "exec");
    cJSON_AddStringToObject(ex, "kind", a->kind);
    cJSON_AddStringToObject(ex, "image", a->image);
    cJSON_AddBoolToObject(ex, "binary", a->is_zip);
    /* annotations and parameters: the body's, else the old ones; "exec" is the system's */
    const cJSON *anns = cJSON_GetObjectItemCaseSensitive(body, "annotations");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(body, "parameters");
    if ((anns && !cJSON_IsArray(anns)) || (params && !cJSON_IsArray(params))) {
        cJSON_Delete(doc);
        st = bad_put(msg, n, "The request content was malformed:\nannotations and parameters "
                     "must be arrays of {key, value}");
        goto fail;
    }
    if (!anns && old)
        anns = cJSON_GetObjectItemCaseSensitive(old->doc, "annotations");
    if (!params && old)
        params = cJSON_GetObjectItemCaseSensitive(old->doc, "parameters");
    cJSON *an = cJSON_AddArrayToObject(doc, "annotations");
    for (const cJSON *e = anns ? anns->child : NULL; e; e = e->next) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
        if (cJSON_IsString(k) && strcmp(k->valuestring, "exec") != 0)
            cJSON_AddItemToArray(an, cJSON_Duplicate(e, 1));
    }
    cJSON *ea = cJSON_CreateObject();
    cJSON_AddStringToObject(ea, "key", "exec");
    cJSON_AddStringToObject(ea, "value", a->kind);
    cJSON_AddItemToArray(an, ea);
    cJSON_AddItemToObject(doc, "parameters", params ? cJSON_Duplicate(params, 1) : cJSON_CreateArray());
    cJSON *lim = cJSON_AddObjectToObject(doc, "limits");
    cJSON_AddNumberToObject(lim, "timeout", (double)a->timeout_ms);
    cJSON_AddNumberToObject(lim, "memory", (double)a->memory);
    cJSON_AddNumberToObject(lim, "logs", (double)a->logs);
    cJSON_AddNumberToObject(lim, "concurrency", (double)a->concurrency);
    cJSON_AddNumberToObject(doc, "updated", (double)hb_epoch_ms());
    a->doc = doc;
    *out = a;
    return 200;
fail:
    if (made_file && !code_in_use(s, a->code_key, NULL))
        unlink(a->code_path);          /* written for this request only */
    free(a);
    return st ? st : 400;
}

/* ---- activations ---- */

static size_t bucket(const hb_serve *s, const char *id)
{
    return (size_t)(fnv1a((const unsigned char *)id, strlen(id)) % s->nbuckets);
}

static sv_act *find_act(hb_serve *s, const char *id)
{
    for (sv_act *a = s->table[bucket(s, id)]; a; a = a->hnext)
        if (strcmp(a->id, id) == 0)
            return a;
    return NULL;
}

static void unlink_act(hb_serve *s, sv_act *x)
{
    for (sv_act **pp = &s->table[bucket(s, x->id)]; *pp; pp = &(*pp)->hnext)
        if (*pp == x) {
            *pp = x->hnext;
            break;
        }
    free(x->record);
    free(x);
}

/* Adds a pending activation (lock held), dropping the oldest record when the store is full. */
static sv_act *add_act(hb_serve *s, const char *id, const char *name, int64_t now)
{
    sv_act *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    snprintf(a->id, sizeof a->id, "%s", id);
    snprintf(a->name, sizeof a->name, "%s", name);
    a->start_ms = now;
    if (s->ring_n == s->ring_cap) {
        unlink_act(s, s->ring[s->ring_head]);
        s->ring_head = (s->ring_head + 1) % s->ring_cap;
        s->ring_n--;
    }
    s->ring[(s->ring_head + s->ring_n) % s->ring_cap] = a;
    s->ring_n++;
    size_t b = bucket(s, id);
    a->hnext = s->table[b];
    s->table[b] = a;
    return a;
}

static const char *status_text(hb_run_status st)
{
    switch (st) {
    case HB_RUN_SUCCESS: return "success";
    case HB_RUN_APP_ERROR: return "application error";
    case HB_RUN_INTERNAL: return "whisk internal error";
    default: return "action developer error";
    }
}

static int status_code(hb_run_status st)
{
    switch (st) {
    case HB_RUN_SUCCESS: return 0;
    case HB_RUN_APP_ERROR: return 1;
    case HB_RUN_INTERNAL: return 3;
    default: return 2;
    }
}

static cJSON *kv(const char *key, cJSON *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "key", key);
    cJSON_AddItemToObject(o, "value", value);
    return o;
}

/* The activation record of an ended call. */
static cJSON *make_record(hb_serve *s, const sv_pending *p, const hb_run_result *r)
{
    cJSON *rec = cJSON_CreateObject();
    int code = status_code(r->status);
    cJSON_AddStringToObject(rec, "namespace", s->ns);
    cJSON_AddStringToObject(rec, "name", p->name);
    cJSON_AddStringToObject(rec, "version", p->version);
    cJSON_AddStringToObject(rec, "subject", s->ns);
    cJSON_AddStringToObject(rec, "activationId", p->id);
    cJSON_AddNumberToObject(rec, "start", (double)r->start_ms);
    cJSON_AddNumberToObject(rec, "end", (double)r->end_ms);
    cJSON_AddNumberToObject(rec, "duration", (double)(r->end_ms - r->start_ms));
    cJSON_AddNumberToObject(rec, "statusCode", code);
    cJSON *resp = cJSON_AddObjectToObject(rec, "response");
    cJSON_AddStringToObject(resp, "status", status_text(r->status));
    cJSON_AddNumberToObject(resp, "statusCode", code);
    cJSON_AddBoolToObject(resp, "success", r->status == HB_RUN_SUCCESS);
    cJSON *result = NULL;
    if ((r->status == HB_RUN_SUCCESS || r->status == HB_RUN_APP_ERROR) && r->result)
        result = cJSON_Parse(r->result);
    if (!result) {
        result = cJSON_CreateObject();
        cJSON_AddStringToObject(result, "error", r->message && r->message[0] ? r->message
                                                                           : status_text(r->status));
    }
    char *rt = cJSON_PrintUnformatted(result);
    cJSON_AddItemToObject(resp, "result", result);
    cJSON_AddNumberToObject(resp, "size", rt ? (double)strlen(rt) : 0);
    free(rt);
    cJSON *logs = cJSON_AddArrayToObject(rec, "logs");
    for (const char *l = r->logs; l && *l;) {
        size_t n = strcspn(l, "\n");
        char *line = strndup(l, n);
        if (line)
            cJSON_AddItemToArray(logs, cJSON_CreateString(line));
        free(line);
        l += n + (l[n] == '\n');
    }
    /* the standard annotations, in the order of OpenWhisk's documentation unless shuffled */
    cJSON *ann[6];
    int na = 0;
    char path[600];
    snprintf(path, sizeof path, "%s/%s", s->ns, p->name);
    ann[na++] = kv("path", cJSON_CreateString(path));
    int64_t wait = r->start_ms - p->received_ms;
    ann[na++] = kv("waitTime", cJSON_CreateNumber((double)(wait > 0 ? wait : 0)));
    ann[na++] = kv("kind", cJSON_CreateString(p->kind));
    ann[na++] = kv("timeout", cJSON_CreateBool(r->status == HB_RUN_TIMEOUT));
    cJSON *lim = cJSON_CreateObject();
    cJSON_AddNumberToObject(lim, "concurrency", (double)p->concurrency);
    cJSON_AddNumberToObject(lim, "logs", (double)p->logs);
    cJSON_AddNumberToObject(lim, "memory", (double)p->memory);
    cJSON_AddNumberToObject(lim, "timeout", (double)p->timeout_ms);
    ann[na++] = kv("limits", lim);
    if (r->cold)
        ann[na++] = kv("initTime", cJSON_CreateNumber((double)r->init_ms));
    if (s->faults.shuffle)
        for (int i = na - 1; i > 0; i--) {
            int k = (int)(sv_dice_roll(&s->dice) * (i + 1));
            cJSON *t = ann[i];
            ann[i] = ann[k];
            ann[k] = t;
        }
    cJSON *an = cJSON_AddArrayToObject(rec, "annotations");
    for (int i = 0; i < na; i++)
        cJSON_AddItemToArray(an, ann[i]);
    cJSON_AddBoolToObject(rec, "publish", 0);
    return rec;
}

/* The runner's callback: the record is stored (unless a fault loses it) and waiters wake. */
static void on_done(void *ctx, const hb_run_result *r)
{
    sv_pending *p = ctx;
    hb_serve *s = p->s;
    if (s->libra)                      /* the trajectory is in Redis before the record is visible */
        sv_libra_complete(s->libra, p->id, r->end_ms);
    cJSON *rec = make_record(s, p, r);
    char *text = rec ? cJSON_PrintUnformatted(rec) : NULL;
    cJSON_Delete(rec);
    unsigned http = r->status == HB_RUN_SUCCESS ? 200 : r->status == HB_RUN_INTERNAL ? 500 : 502;
    pthread_mutex_lock(&s->mu);
    sv_act *a = find_act(s, p->id);
    if (a) {
        if (p->lose || !text) {
            a->state = A_LOST;
            s->st.lost_records++;
        } else {
            a->state = A_DONE;
            a->record = text;
            text = NULL;
            a->start_ms = r->start_ms;
            a->visible_at = r->end_ms + s->faults.record_delay_ms;
            a->http_status = http;
        }
    }
    s->st.completed++;
    if (s->st.in_flight)
        s->st.in_flight--;
    pthread_cond_broadcast(&s->done_cv);
    pthread_mutex_unlock(&s->mu);
    free(text);
    free(p);
}

/* ---- suspended connections ---- */

/* Suspends the request's connection until wake_ms (monotonic) or, with an id, the end of that
 * activation (lock held, so that the timer cannot resume it before it is suspended). */
static void suspend_locked(hb_serve *s, struct MHD_Connection *c, sv_request *rq, int phase,
                           int64_t wake_ms)
{
    rq->phase = phase;
    rq->conn = c;
    rq->wake_ms = wake_ms;
    rq->waiting = 1;
    rq->wprev = NULL;
    rq->wnext = s->waiters;
    if (s->waiters)
        s->waiters->wprev = rq;
    s->waiters = rq;
    s->n_waiters++;
    MHD_suspend_connection(c);
    pthread_cond_broadcast(&s->done_cv);
}

static void waiter_remove(hb_serve *s, sv_request *rq)
{
    if (rq->wprev)
        rq->wprev->wnext = rq->wnext;
    else
        s->waiters = rq->wnext;
    if (rq->wnext)
        rq->wnext->wprev = rq->wprev;
    rq->waiting = 0;
    s->n_waiters--;
}

static sv_act *find_act(hb_serve *s, const char *id);

/* The timer thread: resumes each suspended connection when its activation ended, its time came,
 * or the server stops. Runs until the server stops and no connection is suspended. */
static void *timer_main(void *arg)
{
    hb_serve *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        int64_t now = mono_ms(), next = now + 1000;
        for (sv_request *rq = s->waiters, *nx; rq; rq = nx) {
            nx = rq->wnext;
            const sv_act *a = rq->phase == PH_WAITING ? find_act(s, rq->id) : NULL;
            int ended = rq->phase == PH_WAITING && (!a || a->state != A_PENDING);
            if (ended || rq->wake_ms <= now || s->stopping) {
                waiter_remove(s, rq);
                s->n_resumed++;
                MHD_resume_connection(rq->conn);
            } else if (rq->wake_ms < next) {
                next = rq->wake_ms;
            }
        }
        if (s->stopping && !s->waiters)
            break;
        struct timespec dl = {(time_t)(next / 1000), (long)(next % 1000) * 1000000L};
        pthread_cond_timedwait(&s->done_cv, &s->mu, &dl);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- handlers ---- */

static enum MHD_Result list_actions(hb_serve *s, struct MHD_Connection *c)
{
    long limit = LIST_DEFAULT, skip = 0;
    if (qlong(c, "limit", 0, LIST_MAX, &limit) < 0)
        return send_error(s, c, 400, "The value '%s' is not in the range of 0 to %d for actions.",
                          qarg(c, "limit"), LIST_MAX);
    if (qlong(c, "skip", 0, 1L << 30, &skip) < 0)
        return send_error(s, c, 400, "The value '%s' is not greater than or equal to 0 for actions.",
                          qarg(c, "skip"));
    if (limit == 0)
        limit = LIST_MAX;
    cJSON *arr = cJSON_CreateArray();
    pthread_mutex_lock(&s->mu);
    long i = 0;
    for (sv_action *a = s->actions; a; a = a->next, i++)
        if (i >= skip && i < skip + limit)
            cJSON_AddItemToArray(arr, action_json(s, a, 0));
    pthread_mutex_unlock(&s->mu);
    return send_json(c, 200, arr, NULL);
}

static enum MHD_Result put_action(hb_serve *s, struct MHD_Connection *c, const char *name,
                                  const cJSON *body)
{
    int overwrite = qbool(c, "overwrite", 0);
    char msg[1024] = "";
    pthread_mutex_lock(&s->mu);
    sv_action *old = find_action(s, name);
    if (old && !overwrite) {
        pthread_mutex_unlock(&s->mu);
        return send_error(s, c, 409, "resource already exists");
    }
    sv_action *a = NULL;
    int st = action_from_put(s, name, body, old, &a, msg, sizeof msg);
    if (st != 200) {
        pthread_mutex_unlock(&s->mu);
        return send_error(s, c, (unsigned)st, "%s", msg);
    }
    if (old) {
        for (sv_action **pp = &s->actions; *pp; pp = &(*pp)->next)
            if (*pp == old) {
                *pp = a;
                a->next = old->next;
                break;
            }
        release_code(s, old, old);
        action_free(old);
    } else {
        sv_action **pp = &s->actions;  /* kept sorted by name, as a listing shows them */
        while (*pp && strcmp((*pp)->name, name) < 0)
            pp = &(*pp)->next;
        a->next = *pp;
        *pp = a;
    }
    cJSON *out = action_json(s, a, 0);
    pthread_mutex_unlock(&s->mu);
    return send_json(c, 200, out, NULL);
}

static enum MHD_Result get_action(hb_serve *s, struct MHD_Connection *c, const char *name)
{
    pthread_mutex_lock(&s->mu);
    sv_action *a = find_action(s, name);
    cJSON *doc = a ? action_json(s, a, qbool(c, "code", 1)) : NULL;
    pthread_mutex_unlock(&s->mu);
    if (!a)
        return send_error(s, c, 404, "The requested resource does not exist.");
    return send_json(c, 200, doc, NULL);
}

static enum MHD_Result delete_action(hb_serve *s, struct MHD_Connection *c, const char *name)
{
    pthread_mutex_lock(&s->mu);
    sv_action *a = NULL;
    for (sv_action **pp = &s->actions; *pp; pp = &(*pp)->next)
        if (strcmp((*pp)->name, name) == 0) {
            a = *pp;
            *pp = a->next;
            break;
        }
    cJSON *doc = NULL;
    if (a) {
        doc = action_json(s, a, 0);
        release_code(s, a, a);
        action_free(a);
    }
    pthread_mutex_unlock(&s->mu);
    if (!a)
        return send_error(s, c, 404, "The requested resource does not exist.");
    return send_json(c, 200, doc, NULL);
}

/* The action's default parameters under the payload's. */
static char *merged_params(const sv_action *a, const cJSON *payload)
{
    cJSON *out = payload ? cJSON_Duplicate(payload, 1) : cJSON_CreateObject();
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(a->doc, "parameters");
    for (const cJSON *e = params ? params->child : NULL; e; e = e->next) {
        const cJSON *k = cJSON_GetObjectItemCaseSensitive(e, "key");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "value");
        if (cJSON_IsString(k) && v && !cJSON_GetObjectItemCaseSensitive(out, k->valuestring))
            cJSON_AddItemToObject(out, k->valuestring, cJSON_Duplicate(v, 1));
    }
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    return text;
}

static enum MHD_Result answer_done(hb_serve *s, struct MHD_Connection *c, const char *id,
                                   const char *record, unsigned http, int result_only)
{
    cJSON *rec = cJSON_Parse(record);
    if (!rec)
        return send_error(s, c, 500, "the activation record could not be read back");
    if (result_only) {
        cJSON *resp = cJSON_GetObjectItemCaseSensitive(rec, "response");
        cJSON *res = cJSON_DetachItemFromObjectCaseSensitive(resp, "result");
        cJSON_Delete(rec);
        rec = res ? res : cJSON_CreateObject();
    }
    return send_json(c, http, rec, id);
}

/* The answer to a blocking invocation: the record once done, else 202 with its id. */
static enum MHD_Result answer_waited(hb_serve *s, struct MHD_Connection *c, const char *id,
                                     int result_only)
{
    pthread_mutex_lock(&s->mu);
    sv_act *x = find_act(s, id);
    if (x && x->state == A_DONE) {
        char *rec = strdup(x->record);
        unsigned http = x->http_status;
        pthread_mutex_unlock(&s->mu);
        if (!rec)
            return send_error(s, c, 500, "out of memory");
        enum MHD_Result mr = answer_done(s, c, id, rec, http, result_only);
        free(rec);
        return mr;
    }
    pthread_mutex_unlock(&s->mu);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "activationId", id);
    return send_json(c, 202, o, id);
}

static enum MHD_Result invoke(hb_serve *s, struct MHD_Connection *c, const char *name,
                              const cJSON *body, sv_request *rq)
{
    int blocking = qbool(c, "blocking", 0), result_only = qbool(c, "result", 0);
    long wait_ms = MAX_BLOCKING_WAIT_MS;
    if (qlong(c, "timeout", 1, MAX_BLOCKING_WAIT_MS, &wait_ms) < 0)
        return send_error(s, c, 400, "Timeout must be number of milliseconds up to %d.",
                          MAX_BLOCKING_WAIT_MS);
    cJSON *payload = body ? cJSON_Duplicate(body, 1) : NULL;
    if (body && !payload)
        return send_error(s, c, 500, "out of memory");
    if (s->faults.p429 > 0 && sv_dice_roll(&s->dice) < s->faults.p429) {
        cJSON_Delete(payload);
        pthread_mutex_lock(&s->mu);
        s->st.injected_429++;
        pthread_mutex_unlock(&s->mu);
        return send_error(s, c, 429, "Too many requests in the last minute (count: %ld, allowed: "
                          "%ld).", s->per_minute, s->per_minute);
    }
    int64_t now = hb_epoch_ms(), now_m = mono_ms();
    pthread_mutex_lock(&s->mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->mu);
        cJSON_Delete(payload);
        return send_error(s, c, 503, "The server is shutting down.");
    }
    sv_action *a = find_action(s, name);
    if (!a) {
        pthread_mutex_unlock(&s->mu);
        cJSON_Delete(payload);
        return send_error(s, c, 404, "The requested resource does not exist.");
    }
    if (s->per_minute > 0) {
        while (s->rate_n && s->rate[s->rate_head] <= now_m - 60000) {
            s->rate_head = (s->rate_head + 1) % (size_t)s->per_minute;
            s->rate_n--;
        }
        if ((long)s->rate_n >= s->per_minute) {
            s->st.throttled_rate++;
            long count = (long)s->rate_n;
            pthread_mutex_unlock(&s->mu);
            cJSON_Delete(payload);
            return send_error(s, c, 429, "Too many requests in the last minute (count: %ld, "
                              "allowed: %ld).", count, s->per_minute);
        }
    }
    if (s->concurrent > 0 && (long)s->st.in_flight >= s->concurrent) {
        s->st.throttled_concurrency++;
        long count = (long)s->st.in_flight;
        pthread_mutex_unlock(&s->mu);
        cJSON_Delete(payload);
        return send_error(s, c, 429, "Too many concurrent requests in flight (count: %ld, allowed: "
                          "%ld).", count, s->concurrent);
    }
    char id[33];
    random_hex(id, 16);
    sv_pending *p = calloc(1, sizeof *p);
    char *params = merged_params(a, payload);
    cJSON_Delete(payload);
    sv_act *act = p && params ? add_act(s, id, name, now) : NULL;
    if (!act) {
        pthread_mutex_unlock(&s->mu);
        free(p);
        free(params);
        return send_error(s, c, 500, "out of memory");
    }
    if (s->per_minute > 0) {
        s->rate[(s->rate_head + s->rate_n) % (size_t)s->per_minute] = now_m;
        s->rate_n++;
    }
    s->st.invocations++;
    s->st.in_flight++;
    p->s = s;
    snprintf(p->id, sizeof p->id, "%s", id);
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->kind, sizeof p->kind, "%s", a->kind);
    snprintf(p->version, sizeof p->version, "%s", a->version);
    p->received_ms = now;
    p->timeout_ms = a->timeout_ms;
    p->memory = a->memory;
    p->logs = a->logs;
    p->concurrency = a->concurrency;
    p->lose = s->faults.plose > 0 && sv_dice_roll(&s->dice) < s->faults.plose;
    char action[600], ckey[700];
    snprintf(action, sizeof action, "%s/%s", s->ns, name);
    container_key(a, ckey, sizeof ckey);
    hb_run_request req = {
        .activation_id = id,
        .action = action,
        .api_host = s->apihost,
        .code = {ckey, a->code_key[0] ? a->code_path : NULL, a->is_zip, a->image},
        .params = params,
        .limits = {a->timeout_ms, (int)a->memory, 0},
        .deadline_ms = now + a->timeout_ms,
        .done = on_done,
        .ctx = p,
    };
    if (s->libra_fork) {               /* the fork's encoding: (cores - 1) x 8 + 128 MB units */
        req.limits.cpu = (double)((a->memory - 1) / 8 + 1);
        req.limits.memory_mb = (int)((a->memory - 1) % 8 + 1) * 128;
    }
    pthread_mutex_unlock(&s->mu);
    if (s->libra)                      /* the prediction and the pool decide the call's limits */
        sv_libra_arrive(s->libra, id, name, p->memory, now, &req.limits.cpu, &req.limits.memory_mb);
    hb_error err;
    if (s->runner->ops->start(s->runner, &req, &err)) {
        /* the invoker failed to take it: a whisk internal error, recorded as OpenWhisk does */
        int64_t t = hb_epoch_ms();
        hb_run_result r = {HB_RUN_INTERNAL, NULL, err.msg, t, t, 0, 0, ""};
        on_done(p, &r);
    }
    free(params);
    if (blocking) {
        /* answered when the call ends, or with 202 after the wait, as OpenWhisk does: the
         * connection is suspended meanwhile (the handler runs again on resume: answer_waited) */
        pthread_mutex_lock(&s->mu);
        sv_act *x = find_act(s, id);
        if (x && x->state == A_PENDING && !s->stopping) {
            snprintf(rq->id, sizeof rq->id, "%s", id);
            rq->result_only = result_only;
            suspend_locked(s, c, rq, PH_WAITING, mono_ms() + wait_ms);
            pthread_mutex_unlock(&s->mu);
            return MHD_YES;
        }
        pthread_mutex_unlock(&s->mu);
        return answer_waited(s, c, id, result_only);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "activationId", id);
    return send_json(c, 202, o, id);
}

/* A record readable now (lock held): done, not lost, past its visibility delay. */
static const sv_act *visible(hb_serve *s, const char *id, int64_t now)
{
    sv_act *a = find_act(s, id);
    return a && a->state == A_DONE && a->visible_at <= now ? a : NULL;
}

static enum MHD_Result get_activation(hb_serve *s, struct MHD_Connection *c, const char *id,
                                      const char *part)
{
    pthread_mutex_lock(&s->mu);
    const sv_act *a = visible(s, id, hb_epoch_ms());
    char *rec = a ? strdup(a->record) : NULL;
    pthread_mutex_unlock(&s->mu);
    if (!a)
        return send_error(s, c, 404, "The requested resource does not exist.");
    if (!rec)
        return send_error(s, c, 500, "out of memory");
    if (!part)
        return send_text(c, 200, rec, NULL);
    cJSON *doc = cJSON_Parse(rec);
    free(rec);
    cJSON *out = NULL;
    if (strcmp(part, "result") == 0) {
        out = cJSON_DetachItemFromObjectCaseSensitive(doc, "response");
    } else if (strcmp(part, "logs") == 0) {
        out = cJSON_CreateObject();
        cJSON *logs = cJSON_DetachItemFromObjectCaseSensitive(doc, "logs");
        cJSON_AddItemToObject(out, "logs", logs ? logs : cJSON_CreateArray());
    }
    cJSON_Delete(doc);
    if (!out)
        return send_error(s, c, 404, "The requested resource does not exist.");
    return send_json(c, 200, out, NULL);
}

static enum MHD_Result list_activations(hb_serve *s, struct MHD_Connection *c)
{
    long limit = LIST_DEFAULT, skip = 0, since = 0, upto = 0;
    if (qlong(c, "limit", 0, LIST_MAX, &limit) < 0)
        return send_error(s, c, 400, "The value '%s' is not in the range of 0 to %d for activations.",
                          qarg(c, "limit"), LIST_MAX);
    if (qlong(c, "skip", 0, 1L << 30, &skip) < 0)
        return send_error(s, c, 400, "The value '%s' is not greater than or equal to 0 for "
                          "activations.", qarg(c, "skip"));
    if (qlong(c, "since", 0, 1L << 62, &since) < 0 || qlong(c, "upto", 0, 1L << 62, &upto) < 0)
        return send_error(s, c, 400, "Parameter is not a valid value for epoch seconds: %s",
                          qarg(c, "since") ? qarg(c, "since") : qarg(c, "upto"));
    if (limit == 0)
        limit = LIST_MAX;
    const char *name = qarg(c, "name");
    int docs = qbool(c, "docs", 0);
    cJSON *arr = cJSON_CreateArray();
    int64_t now = hb_epoch_ms();
    pthread_mutex_lock(&s->mu);
    long seen = 0, added = 0;
    for (size_t k = s->ring_n; k-- > 0 && added < limit;) {   /* newest first */
        const sv_act *a = s->ring[(s->ring_head + k) % s->ring_cap];
        if (a->state != A_DONE || a->visible_at > now)
            continue;
        if (name && *name && strcmp(a->name, name) != 0)
            continue;
        if ((since && a->start_ms < since) || (upto && a->start_ms > upto))
            continue;
        if (seen++ < skip)
            continue;
        cJSON *rec = cJSON_Parse(a->record);
        if (!rec)
            continue;
        if (!docs) {                   /* the brief form: no logs, no result */
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "logs");
            cJSON_DeleteItemFromObjectCaseSensitive(rec, "response");
        }
        cJSON_AddItemToArray(arr, rec);
        added++;
    }
    pthread_mutex_unlock(&s->mu);
    return send_json(c, 200, arr, NULL);
}

static enum MHD_Result send_stats(hb_serve *s, struct MHD_Connection *c)
{
    hb_serve_stats st;
    hb_serve_stats_get(s, &st);
    cJSON *j = cJSON_CreateObject();
    cJSON_AddNumberToObject(j, "requests", (double)st.requests);
    cJSON_AddNumberToObject(j, "invocations", (double)st.invocations);
    cJSON_AddNumberToObject(j, "completed", (double)st.completed);
    cJSON_AddNumberToObject(j, "in_flight", (double)st.in_flight);
    cJSON_AddNumberToObject(j, "throttled_rate", (double)st.throttled_rate);
    cJSON_AddNumberToObject(j, "throttled_concurrency", (double)st.throttled_concurrency);
    cJSON_AddNumberToObject(j, "injected_429", (double)st.injected_429);
    cJSON_AddNumberToObject(j, "injected_500", (double)st.injected_500);
    cJSON_AddNumberToObject(j, "injected_drop", (double)st.injected_drop);
    cJSON_AddNumberToObject(j, "lost_records", (double)st.lost_records);
    char f[256];
    sv_faults_format(&s->faults, f, sizeof f);
    cJSON_AddStringToObject(j, "faults", f);
    return send_json(c, 200, j, NULL);
}

static enum MHD_Result send_info(hb_serve *s, struct MHD_Connection *c)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "description", "harvestbench serve: an OpenWhisk-compatible endpoint "
                            "for native actions");
    cJSON *paths = cJSON_AddArrayToObject(j, "api_paths");
    cJSON_AddItemToArray(paths, cJSON_CreateString("/api/v1"));
    cJSON_AddStringToObject(j, "api_version", "1.0.0");
    cJSON_AddStringToObject(j, "build", "harvestbench");
    cJSON *lim = cJSON_AddObjectToObject(j, "limits");
    cJSON_AddNumberToObject(lim, "actions_per_minute", (double)s->per_minute);
    cJSON_AddNumberToObject(lim, "concurrent_actions", (double)s->concurrent);
    cJSON_AddNumberToObject(lim, "max_action_duration", 300000);
    cJSON_AddNumberToObject(lim, "max_action_memory", s->libra_fork ? 64 : 2048);
    cJSON_AddNumberToObject(lim, "min_action_memory", s->libra_fork ? 1 : 128);
    cJSON *rt = cJSON_AddObjectToObject(j, "runtimes");
    cJSON *bb = cJSON_AddArrayToObject(rt, "blackbox");
    cJSON *k = cJSON_CreateObject();
    cJSON_AddStringToObject(k, "kind", "blackbox");
    cJSON_AddItemToArray(bb, k);
    return send_json(c, 200, j, NULL);
}

/* Basic auth against the one key, in constant time. */
static int authorized(hb_serve *s, struct MHD_Connection *c)
{
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(c, &pass);
    int ok = 0;
    if (user && pass) {
        size_t ul = strlen(user), pl = strlen(pass), kl = strlen(s->auth);
        const char *colon = strchr(s->auth, ':');
        size_t kul = (size_t)(colon - s->auth);
        unsigned diff = (ul != kul) | (ul + 1 + pl != kl);
        for (size_t i = 0; i < kl; i++) {
            char want = s->auth[i];
            char got = i < ul ? user[i] : i == ul ? ':' : (i - ul - 1 < pl ? pass[i - ul - 1] : 0);
            diff |= (unsigned)(want ^ got);
        }
        ok = diff == 0;
    }
    if (pass) {
        memset(pass, 0, strlen(pass));
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
    return ok;
}

static enum MHD_Result route(hb_serve *s, struct MHD_Connection *c, const sv_parsed *q,
                             sv_request *rq)
{
    if (q->route == SV_NAMESPACES) {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, cJSON_CreateString(s->ns));
        return send_json(c, 200, arr, NULL);
    }
    if (strcmp(q->ns, "_") != 0 && strcmp(q->ns, s->ns) != 0)
        return send_error(s, c, 403, "The supplied authentication is not authorized to access '%s'.",
                          q->ns);
    switch (q->route) {
    case SV_LIMITS: {
        cJSON *j = cJSON_CreateObject();
        if (s->per_minute > 0)
            cJSON_AddNumberToObject(j, "invocationsPerMinute", (double)s->per_minute);
        if (s->concurrent > 0)
            cJSON_AddNumberToObject(j, "concurrentInvocations", (double)s->concurrent);
        return send_json(c, 200, j, NULL);
    }
    case SV_ACTIONS: return list_actions(s, c);
    case SV_ACTION:
        switch (q->method) {
        case SV_GET: return get_action(s, c, q->name);
        case SV_PUT: return put_action(s, c, q->name, q->body);
        case SV_DELETE: return delete_action(s, c, q->name);
        default: return invoke(s, c, q->name, q->body, rq);
        }
    case SV_ACTIVATIONS: return list_activations(s, c);
    case SV_ACTIVATION: return get_activation(s, c, q->id, q->part[0] ? q->part : NULL);
    default: return send_error(s, c, 404, "The requested resource does not exist.");
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    hb_serve *s = cls;
    sv_request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_size) {
        if (rq->len + *upload_size > MAX_BODY) {
            rq->too_large = 1;
        } else if (!rq->too_large) {
            char *b = realloc(rq->body, rq->len + *upload_size + 1);
            if (!b)
                return MHD_NO;
            memcpy(b + rq->len, upload, *upload_size);
            rq->len += *upload_size;
            b[rq->len] = '\0';
            rq->body = b;
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (rq->phase != PH_NEW) {         /* resumed */
        pthread_mutex_lock(&s->mu);
        if (s->n_resumed)
            s->n_resumed--;
        pthread_mutex_unlock(&s->mu);
    }
    if (rq->phase == PH_WAITING) {     /* the call ended, or the wait is over */
        rq->phase = PH_NEW;
        return answer_waited(s, c, rq->id, rq->result_only);
    }
    if (!rq->counted) {
        rq->counted = 1;
        pthread_mutex_lock(&s->mu);
        s->st.requests++;
        int stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        if (stopping)                  /* kept-alive connections bring no new work at the end */
            return send_error(s, c, 503, "The server is shutting down.");
    }
    int stats = strcmp(url, "/harvestbench/stats") == 0;
    if (!stats && (strcmp(url, "/") == 0 || strcmp(url, "/api/v1") == 0 ||
                   strcmp(url, "/api/v1/") == 0))
        return send_info(s, c);        /* public, as OpenWhisk's */
    if (!authorized(s, c)) {
        char *text = strdup("{\"error\":\"The supplied authentication is invalid\",\"code\":\"0\"}");
        if (!text)
            return MHD_NO;
        struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text,
                                                                 MHD_RESPMEM_MUST_FREE);
        if (!r) {
            free(text);
            return MHD_NO;
        }
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result rc = MHD_queue_basic_auth_fail_response(c, REALM, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (stats)
        return send_stats(s, c);
    if (s->faults.delay_ms > 0 && rq->phase == PH_NEW) {
        int64_t d = (int64_t)(sv_dice_roll(&s->dice) * (double)(s->faults.delay_ms + 1));
        if (d > 0) {                   /* not on a pool thread: the connection waits suspended */
            pthread_mutex_lock(&s->mu);
            if (!s->stopping) {
                suspend_locked(s, c, rq, PH_DELAYED, mono_ms() + d);
                pthread_mutex_unlock(&s->mu);
                return MHD_YES;
            }
            pthread_mutex_unlock(&s->mu);
        }
    }
    if (s->faults.pdrop > 0 && sv_dice_roll(&s->dice) < s->faults.pdrop) {
        pthread_mutex_lock(&s->mu);
        s->st.injected_drop++;
        pthread_mutex_unlock(&s->mu);
        return MHD_NO;                 /* closes the connection without an answer */
    }
    if (s->faults.p500 > 0 && sv_dice_roll(&s->dice) < s->faults.p500) {
        pthread_mutex_lock(&s->mu);
        s->st.injected_500++;
        pthread_mutex_unlock(&s->mu);
        return send_error(s, c, 500, "Internal server error (an injected fault).");
    }
    if (rq->too_large)
        return send_error(s, c, 413, "The request content was malformed:\nrequest larger than "
                          "allowed: > %u bytes.", MAX_BODY);
    sv_parsed q;
    char msg[512];
    int st = sv_request_parse(method, url, rq->body, rq->len, &q, msg, sizeof msg);
    if (st)
        return send_error(s, c, (unsigned)st, "%s", msg);
    enum MHD_Result mr = route(s, c, &q, rq);
    sv_parsed_free(&q);
    return mr;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    sv_request *rq = *con_cls;
    if (rq) {
        free(rq->body);
        free(rq);
        *con_cls = NULL;
    }
}

/* libmicrohttpd's own unescaping cuts a name at %00 (a%00b became action a): ours keeps it. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *text)
{
    (void)cls;
    (void)c;
    return sv_unescape(text);
}

/* ---- lifecycle ---- */

/* Removes the code files and the directory serve made (the runner removed its containers). */
static void remove_work_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, "code-", 5) != 0)
                continue;
            char p[1400];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

static void serve_free(hb_serve *s)
{
    if (s->timer_started) {            /* a start that failed after the timer began */
        pthread_mutex_lock(&s->mu);
        s->stopping = 1;
        pthread_cond_broadcast(&s->done_cv);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->timer, NULL);
        s->timer_started = 0;
    }
    if (s->runner)
        s->runner->ops->close(s->runner);
    sv_libra_stop(s->libra);           /* after the runner: every call has completed */
    while (s->actions) {
        sv_action *a = s->actions;
        s->actions = a->next;
        action_free(a);
    }
    for (size_t k = 0; k < s->ring_n; k++) {
        sv_act *a = s->ring[(s->ring_head + k) % s->ring_cap];
        free(a->record);
        free(a);
    }
    free(s->ring);
    free(s->table);
    free(s->rate);
    if (s->own_dir && s->work_dir[0])
        remove_work_dir(s->work_dir);
    sv_dice_free(&s->dice);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->done_cv);
    memset(s->auth, 0, sizeof s->auth);
    free(s);
}

int hb_serve_start(const hb_serve_opts *o, hb_serve **out, hb_error *err)
{
    *out = NULL;
    hb_serve *s = calloc(1, sizeof *s);
    if (!s)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    int rc = 0;
    s->runner = o->runner;             /* taken over on every path, failures included */
    snprintf(s->ns, sizeof s->ns, "%s", o->ns && *o->ns ? o->ns : "guest");
    if (o->auth) {
        const char *colon = strchr(o->auth, ':');
        if (!colon || colon == o->auth || !colon[1] || strlen(o->auth) >= sizeof s->auth) {
            rc = hb_fail(err, HB_EINPUT, "serve: the key is not of the form UUID:KEY (not shown)");
            goto fail;
        }
        snprintf(s->auth, sizeof s->auth, "%s", o->auth);
    } else {                           /* a fresh key, shaped as OpenWhisk's: uuid:64 characters */
        char u[33], k[65];
        random_hex(u, 16);
        random_hex(k, 32);
        snprintf(s->auth, sizeof s->auth, "%.8s-%.4s-%.4s-%.4s-%.12s:%s", u, u + 8, u + 12, u + 16,
                 u + 20, k);
    }
    s->per_minute = o->per_minute;
    s->concurrent = o->concurrent;
    s->libra_fork = o->libra_fork;
    s->faults = o->faults;
    if (!s->faults.seed)
        s->faults.seed = 1;
    if (sv_dice_init(&s->dice, s->faults.seed)) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto fail;
    }
    size_t cap = o->max_activations ? o->max_activations : 100000;
    s->ring_cap = cap;
    s->nbuckets = cap < 1024 ? 1024 : cap;
    s->ring = calloc(cap, sizeof *s->ring);
    s->table = calloc(s->nbuckets, sizeof *s->table);
    s->rate = s->per_minute > 0 ? calloc((size_t)s->per_minute, sizeof *s->rate) : NULL;
    if (!s->ring || !s->table || (s->per_minute > 0 && !s->rate)) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto fail;
    }
    if (o->work_dir) {
        snprintf(s->work_dir, sizeof s->work_dir, "%s", o->work_dir);
        if ((rc = hb_mkdirs(s->work_dir, err)))
            goto fail;
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(s->work_dir, sizeof s->work_dir, "%s/harvestbench-serve.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(s->work_dir)) {
            rc = hb_fail(err, HB_EIO, "serve: cannot make a directory under %s: %s",
                         tmp && *tmp ? tmp : "/tmp", strerror(errno));
            s->work_dir[0] = '\0';
            goto fail;
        }
        s->own_dir = 1;
    }
    if (o->libra_redis) {
        if (!o->libra_fork) {
            rc = hb_fail(err, HB_EINPUT, "serve: --redis needs --flavor libra-fork");
            goto fail;
        }
        if ((rc = sv_libra_start(o->libra_redis, &s->libra, err)))
            goto fail;
    }
    if (!o->runner) {
        char cdir[1100];
        snprintf(cdir, sizeof cdir, "%s", s->work_dir);
        hb_runner_exec_opts ro = {cdir, o->keep_alive_ms > 0 ? o->keep_alive_ms : 600000, 0};
        if ((rc = hb_runner_exec_new(&ro, &s->runner, err)))
            goto fail;
    }
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)o->port);
    const char *bind = o->bind ? o->bind : "127.0.0.1";
    if (inet_pton(AF_INET, bind, &sin.sin_addr) != 1) {
        rc = hb_fail(err, HB_EINPUT, "serve: '%s' is not an IPv4 address", bind);
        goto fail;
    }
    /* descriptors bound the connections: keep a reserve for the runner's pipes and files */
    struct rlimit nofile;
    unsigned limit = 1000;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
        limit = nofile.rlim_cur > 1280 ? (unsigned)(nofile.rlim_cur - 256) : (unsigned)nofile.rlim_cur * 3 / 4;
    if (limit > 60000)
        limit = 60000;
    if (pthread_create(&s->timer, NULL, timer_main, s) != 0) {
        rc = hb_fail(err, HB_EIO, "serve: cannot start a thread");
        goto fail;
    }
    s->timer_started = 1;
    s->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                                MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC,
                            (uint16_t)o->port, NULL, NULL, on_request, s,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)SV_POOL_THREADS,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SV_IDLE_TIMEOUT_S,
                            MHD_OPTION_CONNECTION_LIMIT, limit,
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
                            MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024),
                            MHD_OPTION_END);
    if (!s->d) {
        rc = hb_fail(err, HB_EIO, "serve: cannot listen on %s:%d: %s", bind, o->port,
                     errno ? strerror(errno) : "libmicrohttpd failed to start");
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    snprintf(s->apihost, sizeof s->apihost, "http://%s:%d", bind, s->port);
    *out = s;
    return 0;
fail:
    serve_free(s);
    return rc;
}

int hb_serve_port(const hb_serve *s) { return s->port; }
const char *hb_serve_auth(const hb_serve *s) { return s->auth; }
const char *hb_serve_namespace(const hb_serve *s) { return s->ns; }

void hb_serve_stats_get(hb_serve *s, hb_serve_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}

void hb_serve_stop(hb_serve *s)
{
    if (!s)
        return;
    /* no new connections; suspended ones are resumed (blocking waiters answer 202) */
    if (s->d) {
        MHD_socket l = MHD_quiesce_daemon(s->d);
        if (l != MHD_INVALID_SOCKET)
            close(l);
    }
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_cond_broadcast(&s->done_cv);
    pthread_mutex_unlock(&s->mu);
    if (s->timer_started)
        pthread_join(s->timer, NULL);  /* it ends once no connection is suspended */
    s->timer_started = 0;
    /* the resumed get their answer (202 for a blocking wait) before connections close; bounded */
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&s->mu);
        size_t n = s->n_resumed;
        pthread_mutex_unlock(&s->mu);
        if (!n)
            break;
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    if (s->d) {                        /* and a moment to send it */
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
    if (s->d)
        MHD_stop_daemon(s->d);
    s->d = NULL;
    serve_free(s);
}
