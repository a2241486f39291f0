/* test_ow_serve.c - the client against `harvestbench serve` over loopback HTTP (ports picked by the
 * OS): actions created, listed, updated and deleted; invocations blocking and not; activation
 * records with the standard annotations read by key, in any order; OpenWhisk's status codes
 * (401, 403, 404, 409, 429, 502); and the openwhisk backend replaying a trace through the engine
 * with faults injected, where every call gets exactly one outcome and nothing recoverable is lost. */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "engine.h"
#include "experiment.h"
#include "hb_test.h"
#include "openwhisk/ow_activation.h"
#include "openwhisk/ow_auth.h"
#include "common/ow_base64.h"
#include "openwhisk/ow_http.h"
#include "openwhisk/ow_options.h"
#include "openwhisk/ow_variants.h"
#include "common/ow_zip.h"
#include "registry.h"
#include "serve/serve.h"
#include "serve/serve_request.h"

static char home[64];
static ow_creds cr;

/* A server on a free port, and the client's credentials for it. */
static hb_serve *start(const char *faults, long per_minute, long concurrent)
{
    snprintf(home, sizeof home, "/tmp/hb-ows.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(home));
    setenv("HOME", home, 1);
    unsetenv("WSK_CONFIG_FILE");
    hb_serve_opts o;
    memset(&o, 0, sizeof o);
    o.per_minute = per_minute;
    o.concurrent = concurrent;
    o.keep_alive_ms = 60000;
    hb_error e;
    ck_assert_msg(sv_faults_parse(faults, &o.faults, &e) == 0, "%s", e.msg);
    hb_serve *s = NULL;
    ck_assert_msg(hb_serve_start(&o, &s, &e) == 0, "%s", e.msg);
    char host[64];
    snprintf(host, sizeof host, "http://127.0.0.1:%d", hb_serve_port(s));
    setenv("WSK_APIHOST", host, 1);
    setenv("WSK_AUTH", hb_serve_auth(s), 1);
    unsetenv("WSK_NAMESPACE");
    ck_assert_msg(ow_creds_resolve(NULL, &cr, &e) == 0, "%s", e.msg);
    return s;
}

static void stop(hb_serve *s)
{
    hb_serve_stop(s);
    ow_creds_free(&cr);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", home);
    ck_assert_int_eq(system(cmd), 0);
}

/* One request; returns the HTTP status and leaves the body in r (freed by the caller). */
static long call(const char *method, const char *coll, const char *name, const char *query,
                 const char *body, ow_response *r)
{
    char url[1024];
    ck_assert_int_eq(ow_url(&cr, coll, name, query, url, sizeof url), 0);
    hb_error e;
    memset(r, 0, sizeof *r);
    ck_assert_msg(ow_request(&cr, method, url, body, 20000, 20000, r, &e) == 0, "%s", e.msg);
    return r->status;
}

static cJSON *call_json(const char *method, const char *coll, const char *name, const char *query,
                        const char *body, long *status)
{
    ow_response r;
    *status = call(method, coll, name, query, body, &r);
    cJSON *j = r.body ? cJSON_Parse(r.body) : NULL;
    ow_response_free(&r);
    return j;
}

/* PUT of a script action; returns the status. */
static long put_script(const char *name, const char *script, const char *query, const char *limits)
{
    cJSON *b = cJSON_CreateObject();
    cJSON *ex = cJSON_AddObjectToObject(b, "exec");
    cJSON_AddStringToObject(ex, "kind", "blackbox");
    cJSON_AddStringToObject(ex, "image", "openwhisk/dockerskeleton");
    cJSON_AddStringToObject(ex, "code", script);
    if (limits)
        cJSON_AddItemToObject(b, "limits", cJSON_Parse(limits));
    char *body = cJSON_PrintUnformatted(b);
    cJSON_Delete(b);
    ow_response r;
    long st = call("PUT", "actions", name, query, body, &r);
    ow_response_free(&r);
    free(body);
    return st;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(j) ? j->valuestring : "";
}

/* Polls GET activations/ID until the record exists (or 10 s pass). */
static int fetch_record(const char *id, ow_activation *a)
{
    for (int i = 0; i < 500; i++) {
        ow_response r;
        long st = call("GET", "activations", id, NULL, NULL, &r);
        if (st == 200) {
            hb_error e;
            int rc = ow_activation_parse(r.body, r.len, a, &e);
            ck_assert_msg(rc == 0, "%s", e.msg);
            ow_response_free(&r);
            return 0;
        }
        ck_assert_int_eq(st, 404);
        ow_response_free(&r);
        usleep(20000);
    }
    return -1;
}

#define ECHO_SCRIPT "#!/bin/sh\necho \"a log line\"\necho \"an error line\" >&2\necho \"{\\\"echo\\\":$1}\"\n"

START_TEST(actions_are_created_listed_updated_and_deleted)
{
    hb_serve *s = start(NULL, 0, 0);
    long st;
    ck_assert_int_eq(put_script("echo", ECHO_SCRIPT, NULL, NULL), 200);
    ck_assert_int_eq(put_script("echo", ECHO_SCRIPT, NULL, NULL), 409);        /* exists */
    cJSON *j = call_json("PUT", "actions", "echo", "overwrite=true",
                         "{\"limits\":{\"timeout\":5000,\"memory\":512}}", &st);
    ck_assert_int_eq(st, 200);                                  /* an update without exec */
    ck_assert_str_eq(str(j, "version"), "0.0.2");
    ck_assert_str_eq(str(j, "namespace"), "guest");
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(j, "limits");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(lim, "memory")->valueint, 512);
    cJSON_Delete(j);
    j = call_json("GET", "actions", "echo", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(str(cJSON_GetObjectItemCaseSensitive(j, "exec"), "code"), ECHO_SCRIPT);
    cJSON_Delete(j);
    j = call_json("GET", "actions", "echo", "code=false", NULL, &st);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "exec"), "code"));
    cJSON_Delete(j);
    /* a native binary in a zip, as deploy sends it */
    char src[128];
    snprintf(src, sizeof src, "%s/prog", home);
    FILE *f = fopen(src, "w");
    fputs("#!/bin/sh\necho '{\"zipped\":true}'\n", f);
    fclose(f);
    unsigned char *zip;
    size_t zl;
    hb_error e;
    ck_assert_int_eq(ow_zip_exec(src, &zip, &zl, &e), 0);
    char *b64 = ow_base64_encode(zip, zl);
    char *body = malloc(strlen(b64) + 200);
    sprintf(body, "{\"exec\":{\"kind\":\"blackbox\",\"image\":\"openwhisk/dockerskeleton\",\"code\":\"%s\","
            "\"binary\":true}}", b64);
    j = call_json("PUT", "actions", "zipped", NULL, body, &st);
    ck_assert_int_eq(st, 200);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "exec"), "binary")));
    cJSON_Delete(j);
    free(body);
    free(b64);
    free(zip);
    j = call_json("POST", "actions", "zipped", "blocking=true&result=true", "{}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "zipped")));
    cJSON_Delete(j);
    j = call_json("GET", "actions", NULL, NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(j), 2);
    ck_assert_str_eq(str(cJSON_GetArrayItem(j, 0), "name"), "echo");            /* by name */
    cJSON_Delete(j);
    /* bad requests: OpenWhisk's codes and a message */
    j = call_json("PUT", "actions", "js", NULL,
                  "{\"exec\":{\"kind\":\"nodejs:20\",\"code\":\"function main(){}\"}}", &st);
    ck_assert_int_eq(st, 400);
    ck_assert_ptr_nonnull(strstr(str(j, "error"), "not supported"));
    ck_assert(str(j, "code")[0]);
    cJSON_Delete(j);
    ck_assert_int_eq(put_script("big", ECHO_SCRIPT, NULL, "{\"memory\":4096}"), 400);
    /* far beyond a long: rejected before any cast (the ASan+UBSan build aborts on the cast) */
    ck_assert_int_eq(put_script("huge", ECHO_SCRIPT, NULL, "{\"timeout\":1e300}"), 400);
    ck_assert_int_eq(put_script("huge", ECHO_SCRIPT, NULL, "{\"timeout\":-1e300}"), 400);
    ck_assert_int_eq(put_script("-bad", ECHO_SCRIPT, NULL, NULL), 400);
    cJSON_Delete(call_json("PUT", "actions", "noexec", NULL, "{}", &st));
    ck_assert_int_eq(st, 400);
    cJSON_Delete(call_json("PUT", "actions", "notjson", NULL, "{oops", &st));
    ck_assert_int_eq(st, 400);
    cJSON_Delete(call_json("DELETE", "actions", "echo", NULL, NULL, &st));
    ck_assert_int_eq(st, 200);
    cJSON_Delete(call_json("GET", "actions", "echo", NULL, NULL, &st));
    ck_assert_int_eq(st, 404);
    cJSON_Delete(call_json("DELETE", "actions", "echo", NULL, NULL, &st));
    ck_assert_int_eq(st, 404);
    cJSON_Delete(call_json("POST", "actions", "echo", NULL, "{}", &st));
    ck_assert_int_eq(st, 404);
    stop(s);
}
END_TEST

START_TEST(invocations_blocking_and_not_give_records_with_annotations)
{
    hb_serve *s = start(NULL, 0, 0);
    ck_assert_int_eq(put_script("echo", ECHO_SCRIPT, NULL, "{\"timeout\":20000,\"memory\":256}"), 200);
    long st;
    /* blocking: the whole record; the first call is cold */
    cJSON *j = call_json("POST", "actions", "echo", "blocking=true", "{\"size\":7}", &st);
    ck_assert_int_eq(st, 200);
    char *text = cJSON_PrintUnformatted(j);
    ow_activation a;
    hb_error e;
    ck_assert_msg(ow_activation_parse(text, strlen(text), &a, &e) == 0, "%s", e.msg);
    free(text);
    ck_assert_str_eq(a.status, "success");
    ck_assert(a.has_wait && a.has_init);                        /* cold */
    ck_assert_str_eq(a.kind, "blackbox");
    ck_assert_double_eq(a.limit_memory_mb, 256);
    ck_assert_double_eq(a.limit_timeout_ms, 20000);
    ck_assert(a.end_ms >= a.start_ms && a.duration_ms >= a.init_ms);
    const cJSON *res = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "response"), "result");
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(res, "echo"), "size")->valueint, 7);
    const cJSON *logs = cJSON_GetObjectItemCaseSensitive(j, "logs");
    ck_assert_int_eq(cJSON_GetArraySize(logs), 2);
    ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(logs, 0)->valuestring, "stdout: a log line"));
    ck_assert_ptr_nonnull(strstr(cJSON_GetArrayItem(logs, 1)->valuestring, "stderr: an error line"));
    ow_activation_free(&a);
    cJSON_Delete(j);
    /* again: warm, no initTime */
    j = call_json("POST", "actions", "echo", "blocking=true", "{}", &st);
    text = cJSON_PrintUnformatted(j);
    ck_assert_int_eq(ow_activation_parse(text, strlen(text), &a, &e), 0);
    ck_assert_int_eq(a.has_init, 0);
    ow_activation_free(&a);
    free(text);
    cJSON_Delete(j);
    /* result=true: only the result */
    j = call_json("POST", "actions", "echo", "blocking=true&result=true", "{\"k\":1}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "echo"), "k")->valueint, 1);
    cJSON_Delete(j);
    /* non-blocking: 202, the id in body and header; the record appears */
    ow_response r;
    ck_assert_int_eq(call("POST", "actions", "echo", NULL, "{\"n\":3}", &r), 202);
    j = cJSON_Parse(r.body);
    char id[64];
    snprintf(id, sizeof id, "%s", str(j, "activationId"));
    ck_assert_uint_eq(strlen(id), 32);
    ck_assert_str_eq(r.activation_id, id);
    cJSON_Delete(j);
    ow_response_free(&r);
    ck_assert_int_eq(fetch_record(id, &a), 0);
    ck_assert_str_eq(a.id, id);
    ck_assert_str_eq(a.name, "echo");
    ow_activation_free(&a);
    j = call_json("GET", "activations", id, NULL, NULL, &st);
    cJSON_Delete(j);
    char part[96];
    snprintf(part, sizeof part, "%s/result", id);
    j = call_json("GET", "activations", part, NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(str(j, "status"), "success");
    cJSON_Delete(j);
    snprintf(part, sizeof part, "%s/logs", id);
    j = call_json("GET", "activations", part, NULL, NULL, &st);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "logs")), 2);
    cJSON_Delete(j);
    /* the list: newest first, filtered by name, brief unless docs=true */
    j = call_json("GET", "activations", NULL, "name=echo&limit=2", NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_int_eq(cJSON_GetArraySize(j), 2);
    ck_assert_str_eq(str(cJSON_GetArrayItem(j, 0), "activationId"), id);
    ck_assert_ptr_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "response"));
    cJSON_Delete(j);
    j = call_json("GET", "activations", NULL, "docs=true&skip=1", NULL, &st);
    ck_assert_int_eq(cJSON_GetArraySize(j), 3);
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(j, 0), "response"));
    cJSON_Delete(j);
    cJSON_Delete(call_json("GET", "activations", "0123456789abcdef0123456789abcdef", NULL, NULL, &st));
    ck_assert_int_eq(st, 404);
    stop(s);
}
END_TEST

START_TEST(failures_timeouts_and_their_codes)
{
    hb_serve *s = start(NULL, 0, 0);
    long st;
    ck_assert_int_eq(put_script("apperr", "#!/bin/sh\necho '{\"error\":\"size: bad\"}'\n", NULL, NULL), 200);
    ck_assert_int_eq(put_script("slow", "#!/bin/sh\nsleep 5\necho '{}'\n", NULL, "{\"timeout\":200}"), 200);
    ck_assert_int_eq(put_script("garbage", "#!/bin/sh\necho not json\n", NULL, NULL), 200);
    ck_assert_int_eq(put_script("imageonly", "", NULL, NULL), 200);
    struct { const char *name; long http; hb_outcome outcome; const char *msg; } cases[] = {
        {"apperr", 502, HB_ERROR, "application error: size: bad"},
        {"slow", 502, HB_TIMEOUT, "exceeded its time limits of 200 milliseconds"},
        {"garbage", 502, HB_ERROR, "did not produce a valid JSON response: not json"},
        {"imageonly", 502, HB_ERROR, "Failed to pull container image"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *j = call_json("POST", "actions", cases[i].name, "blocking=true", "{}", &st);
        ck_assert_msg(st == cases[i].http, "%s: HTTP %ld", cases[i].name, st);
        char *text = cJSON_PrintUnformatted(j);
        ow_activation a;
        hb_error e;
        ck_assert_int_eq(ow_activation_parse(text, strlen(text), &a, &e), 0);
        char msg[160];
        ck_assert_int_eq(ow_activation_outcome(&a, msg, sizeof msg), cases[i].outcome);
        ck_assert_msg(strstr(msg, cases[i].msg), "%s: '%s'", cases[i].name, msg);
        ow_activation_free(&a);
        free(text);
        cJSON_Delete(j);
    }
    stop(s);
}
END_TEST

START_TEST(auth_namespaces_and_throttles)
{
    hb_serve *s = start(NULL, 3, 1);
    long st;
    ck_assert_int_eq(put_script("echo", ECHO_SCRIPT, NULL, NULL), 200);
    ck_assert_int_eq(put_script("sleepy", "#!/bin/sh\nsleep 1\necho '{}'\n", NULL, NULL), 200);
    /* another namespace: 403 */
    cJSON *j = call_json("GET", "actions", NULL, NULL, NULL, &st);
    cJSON_Delete(j);
    char saved[256];
    snprintf(saved, sizeof saved, "%s", cr.ns);
    snprintf(cr.ns, sizeof cr.ns, "someone-else");
    j = call_json("GET", "actions", NULL, NULL, NULL, &st);
    ck_assert_int_eq(st, 403);
    cJSON_Delete(j);
    snprintf(cr.ns, sizeof cr.ns, "guest");                    /* by name works as "_" */
    cJSON_Delete(call_json("GET", "actions", NULL, NULL, NULL, &st));
    ck_assert_int_eq(st, 200);
    snprintf(cr.ns, sizeof cr.ns, "%s", saved);
    /* a wrong key: 401 */
    char *good = cr.auth;
    cr.auth = strdup("23bc46b1-71f6-4ed5-8c54-816aa4f8c502:wrong");
    cJSON_Delete(call_json("GET", "actions", NULL, NULL, NULL, &st));
    ck_assert_int_eq(st, 401);
    free(cr.auth);
    cr.auth = good;
    /* concurrency 1: a second call while one runs */
    ow_response r;
    ck_assert_int_eq(call("POST", "actions", "sleepy", NULL, "{}", &r), 202);
    ow_response_free(&r);
    char url[1024];
    ck_assert_int_eq(ow_url(&cr, "actions", "echo", "blocking=true", url, sizeof url), 0);
    hb_error e;
    ck_assert_int_eq(ow_request(&cr, "POST", url, "{}", 5000, 0, &r, &e), 0);   /* no retries */
    ck_assert_int_eq(r.status, 429);
    ck_assert_ptr_nonnull(strstr(r.body, "Too many concurrent requests in flight (count: 1, allowed: 1)."));
    ow_response_free(&r);
    sleep(2);
    /* 3 a minute: the second and third pass, the fourth is refused */
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(ow_request(&cr, "POST", url, "{}", 5000, 0, &r, &e), 0);
        ck_assert_int_eq(r.status, 200);
        ow_response_free(&r);
    }
    ck_assert_int_eq(ow_request(&cr, "POST", url, "{}", 5000, 0, &r, &e), 0);
    ck_assert_int_eq(r.status, 429);
    ck_assert_ptr_nonnull(strstr(r.body, "Too many requests in the last minute (count: 3, allowed: 3)."));
    ow_response_free(&r);
    hb_serve_stats ss;
    hb_serve_stats_get(s, &ss);
    ck_assert_uint_eq(ss.throttled_rate, 1);
    ck_assert_uint_eq(ss.throttled_concurrency, 1);
    stop(s);
}
END_TEST

START_TEST(shuffled_annotations_are_read_by_key)
{
    hb_serve *s = start("shuffle,seed=11", 0, 0);
    ck_assert_int_eq(put_script("echo", ECHO_SCRIPT, NULL, NULL), 200);
    char first[6][32];
    int orders = 0;
    for (int i = 0; i < 12; i++) {
        long st;
        cJSON *j = call_json("POST", "actions", "echo", "blocking=true", "{}", &st);
        ck_assert_int_eq(st, 200);
        const cJSON *anns = cJSON_GetObjectItemCaseSensitive(j, "annotations");
        const char *k0 = str(cJSON_GetArrayItem(anns, 0), "key");
        int seen = 0;
        for (int o = 0; o < orders; o++)
            seen |= strcmp(first[o], k0) == 0;
        if (!seen && orders < 6)
            snprintf(first[orders++], sizeof first[0], "%s", k0);
        char *text = cJSON_PrintUnformatted(j);
        ow_activation a;
        hb_error e;
        ck_assert_int_eq(ow_activation_parse(text, strlen(text), &a, &e), 0);
        ck_assert(a.has_wait);
        ck_assert_int_eq(a.has_init, i == 0);                  /* cold only the first time */
        ck_assert_str_eq(a.kind, "blackbox");
        ck_assert_double_eq(a.limit_timeout_ms, 60000);
        ow_activation_free(&a);
        free(text);
        cJSON_Delete(j);
    }
    ck_assert_msg(orders >= 3, "only %d different first annotations", orders);
    stop(s);
}
END_TEST

/* ---- the backend through the engine ---- */

typedef struct seen {
    int count[4096];
    uint64_t n, outcomes[HB_LOST + 1];
    int bad_times;
    char lost_msg[96];
} seen;

static void on_record(void *ctx, const hb_invocation *inv)
{
    seen *s = ctx;
    if (inv->index < 4096)
        s->count[inv->index]++;
    s->n++;
    s->outcomes[inv->outcome]++;
    if (inv->outcome == HB_SUCCESS &&
        (inv->end - inv->arrival != (inv->start - inv->arrival) + (inv->exec_start - inv->start) +
                                        (inv->end - inv->exec_start) ||
         inv->start < inv->arrival || inv->dispatch_late_ms < 0 || inv->alloc.mem_mb < 128))
        s->bad_times++;
    if (inv->outcome == HB_LOST)
        snprintf(s->lost_msg, sizeof s->lost_msg, "%s", inv->error_msg);
}

static const char *REPLAY_INI =
    "[experiment]\ntime_scale = 0.02\n"
    "[cluster]\ncores = 2\nmemory_mb = 4096\n"
    "[trace]\nformat = constant\nfunctions = 10\nper_minute = 6\nminutes = 1\nsizes = multi\n"
    "[workload]\ntimeout_s = %g\n"
    "[backend.openwhisk]\nrecord_grace_s = %g\npoll_initial_ms = 20\npoll_max_ms = 200\n"
    "retry_deadline_s = 60\nrequest_timeout_s = 5\n";

/* Deploys a script under every variant name of the grid, then replays 60 calls. */
static void replay(hb_serve *s, double timeout_s, double grace, seen *out)
{
    (void)s;
    char ini[1024];
    snprintf(ini, sizeof ini, REPLAY_INI, timeout_s, grace);
    hb_experiment x;
    memset(&x, 0, sizeof x);
    hb_error e;
    ck_assert_msg(hb_config_load_text(ini, "replay.ini", ".", &x.cfg, &e) == 0, "%s", e.msg);
    ck_assert_msg(hb_experiment_prepare(&x, &e) == 0, "%s", e.msg);
    ow_options o;
    ck_assert_int_eq(ow_options_read(hb_config_section_kv(&x.cfg, "backend.openwhisk"), ".", &o, &e), 0);
    ow_grid g;
    ck_assert_int_eq(ow_grid_build(o.flavor, o.prefix, x.cfg.funcs, (hb_res){2, 4096}, &g, &e), 0);
    for (size_t i = 0; i < g.n; i++) {
        char lim[96];
        snprintf(lim, sizeof lim, "{\"memory\":%d,\"timeout\":%d}", g.v[i].limit_memory,
                 (int)(timeout_s * 1000));
        ck_assert_int_eq(put_script(g.v[i].name, "#!/bin/sh\necho '{\"ok\":true}'\n", "overwrite=true", lim), 200);
    }
    ow_grid_free(&g);
    hb_run_stats st;
    hb_stats_init(&st, 1);
    memset(out, 0, sizeof *out);
    hb_engine_spec es = {.cfg = &x.cfg, .trace = x.trace, .profile = x.profile,
                         .arrival = x.arrival, .sizes = x.sizes, .policy = hb_policy_find("default"),
                         .policy_params = hb_config_section_kv(&x.cfg, "policy.default"),
                         .backend = hb_backend_find("openwhisk"),
                         .backend_params = hb_config_section_kv(&x.cfg, "backend.openwhisk"),
                         .seed = 1, .seed_index = 1, .stats = &st, .usage = 1,
                         .on_record = on_record, .on_record_ctx = out};
    ck_assert_msg(hb_engine_run(&es, &e) == 0, "%s", e.msg);
    ck_assert_uint_eq(st.invocations, 60);
    hb_stats_free(&st);
    hb_experiment_free(&x);
}

START_TEST(replay_with_faults_gives_every_call_one_outcome)
{
    hb_serve *s = start("429=0.2,500=0.1,drop=0.1,delay=20,record-delay=100,shuffle,seed=7", 0, 0);
    seen v;
    replay(s, 10, 5, &v);
    ck_assert_uint_eq(v.n, 60);
    for (int i = 0; i < 60; i++)
        ck_assert_msg(v.count[i] == 1, "call %d ended %d times", i, v.count[i]);
    ck_assert_uint_eq(v.outcomes[HB_SUCCESS], 60);      /* every fault here can be recovered */
    ck_assert_int_eq(v.bad_times, 0);
    hb_serve_stats ss;
    hb_serve_stats_get(s, &ss);
    ck_assert_msg(ss.injected_429 > 0 && ss.injected_500 > 0 && ss.injected_drop > 0,
                  "faults not exercised: %llu 429, %llu 500, %llu dropped",
                  (unsigned long long)ss.injected_429, (unsigned long long)ss.injected_500,
                  (unsigned long long)ss.injected_drop);
    ck_assert_uint_eq(ss.invocations, 60);              /* refused attempts were not accepted */
    stop(s);
}
END_TEST

START_TEST(records_that_never_appear_end_as_lost)
{
    hb_serve *s = start("lose=0.25,seed=3", 0, 0);
    seen v;
    replay(s, 2, 8, &v);             /* a grace that load cannot outlast: lost = never written */
    hb_serve_stats ss;
    hb_serve_stats_get(s, &ss);
    ck_assert_uint_eq(v.n, 60);
    for (int i = 0; i < 60; i++)
        ck_assert_int_eq(v.count[i], 1);
    ck_assert_uint_gt(ss.lost_records, 0);
    ck_assert_uint_eq(v.outcomes[HB_LOST], ss.lost_records);
    ck_assert_uint_eq(v.outcomes[HB_SUCCESS], 60 - ss.lost_records);
    ck_assert_ptr_nonnull(strstr(v.lost_msg, "no activation record after"));
    stop(s);
}
END_TEST

START_TEST(backend_refuses_to_start_without_deployed_actions)
{
    hb_serve *s = start(NULL, 0, 0);
    hb_experiment x;
    memset(&x, 0, sizeof x);
    hb_error e;
    char ini[1024];
    snprintf(ini, sizeof ini, REPLAY_INI, 10.0, 5.0);
    ck_assert_int_eq(hb_config_load_text(ini, "replay.ini", ".", &x.cfg, &e), 0);
    ck_assert_int_eq(hb_experiment_prepare(&x, &e), 0);
    hb_run_stats st;
    hb_stats_init(&st, 1);
    hb_engine_spec es = {.cfg = &x.cfg, .trace = x.trace, .profile = x.profile,
                         .arrival = x.arrival, .sizes = x.sizes, .policy = hb_policy_find("default"),
                         .backend = hb_backend_find("openwhisk"),
                         .backend_params = hb_config_section_kv(&x.cfg, "backend.openwhisk"),
                         .seed = 1, .seed_index = 1, .stats = &st};
    ck_assert_int_eq(hb_engine_run(&es, &e), HB_EINPUT);
    ck_assert_msg(strstr(e.msg, "is not deployed") && strstr(e.msg, "harvestbench deploy"), "%s", e.msg);
    ck_assert_ptr_null(strstr(e.msg, hb_serve_auth(s)));
    hb_stats_free(&st);
    hb_experiment_free(&x);
    stop(s);
}
END_TEST

/* A request on a raw path (no escaping by the client): the status, the body in r. */
static long raw_call(const char *method, const char *path, const char *body, ow_response *r)
{
    char url[2048];
    snprintf(url, sizeof url, "%s%s", cr.apihost, path);
    hb_error e;
    memset(r, 0, sizeof *r);
    ck_assert_msg(ow_request(&cr, method, url, body, 20000, 20000, r, &e) == 0, "%s", e.msg);
    return r->status;
}

START_TEST(names_openwhisk_rejects_get_400)
{
    hb_serve *s = start(NULL, 0, 0);
    ck_assert_int_eq(put_script("a", ECHO_SCRIPT, NULL, NULL), 200);
    const char *body = "{\"exec\":{\"kind\":\"blackbox\",\"image\":\"x\",\"code\":\"#!/bin/sh\\necho '{}'\\n\"}}";
    char longname[300];
    memset(longname, 'n', 257);
    longname[257] = '\0';
    const char *bad[] = {"a%00b", "a%00", "%00a", "a%01b", "a%0Ab", "%20a", "a%20", ".a", "-a",
                         "a%C3%A9", "a%7Fb", "a%22b", "a%3Cb", "pkg%00/x", "pkg/x%00", "p/q/r",
                         longname};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[600];
        for (int m = 0; m < 4; m++) {
            static const char *methods[] = {"PUT", "GET", "POST", "DELETE"};
            snprintf(path, sizeof path, "/api/v1/namespaces/_/actions/%s?overwrite=true", bad[i]);
            ow_response r;
            long st = raw_call(methods[m], path, m == 0 ? body : m == 2 ? "{}" : NULL, &r);
            ck_assert_msg(st == 400, "%s %s: %ld", methods[m], bad[i], st);
            cJSON *j = cJSON_Parse(r.body);
            ck_assert_str_eq(str(j, "error"), "The name of the entity contains illegal characters.");
            ck_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "code")));
            cJSON_Delete(j);
            ow_response_free(&r);
        }
    }
    /* action "a" is untouched: the PUT of a%00b did not overwrite it */
    long st;
    cJSON *j = call_json("GET", "actions", "a", NULL, NULL, &st);
    ck_assert_int_eq(st, 200);
    ck_assert_str_eq(str(j, "version"), "0.0.1");
    cJSON_Delete(j);
    j = call_json("GET", "actions", NULL, NULL, NULL, &st);
    ck_assert_int_eq(cJSON_GetArraySize(j), 1);
    cJSON_Delete(j);
    /* names OpenWhisk accepts still work */
    ck_assert_int_eq(put_script("a b@c.d-e_9", ECHO_SCRIPT, NULL, NULL), 200);
    stop(s);
}
END_TEST

START_TEST(request_parser_reads_paths_names_and_bodies)
{
    sv_parsed q;
    char msg[256];
    char url[64] = "/api/v1/namespaces/_/actions/a%00b";
    sv_unescape(url);
    ck_assert_int_eq(strlen(url), strlen("/api/v1/namespaces/_/actions/a\x01" "b"));
    ck_assert_int_eq(sv_request_parse("PUT", url, "{}", 2, &q, msg, sizeof msg), 400);
    ck_assert_int_eq(sv_request_parse("PUT", "/api/v1/namespaces/_/actions/ab", "{}", 2, &q, msg,
                                      sizeof msg), 0);
    ck_assert_int_eq(q.route, SV_ACTION);
    ck_assert_str_eq(q.name, "ab");
    ck_assert(cJSON_IsObject(q.body));
    sv_parsed_free(&q);
    ck_assert_int_eq(sv_request_parse("PUT", "/api/v1/namespaces/_/actions/ab", "[1]", 3, &q, msg,
                                      sizeof msg), 400);
    ck_assert_int_eq(sv_request_parse("POST", "/api/v1/namespaces/_/actions/ab", "{\"x\"", 4, &q,
                                      msg, sizeof msg), 400);
    ck_assert_int_eq(sv_request_parse("PATCH", "/api/v1/namespaces/_/actions/ab", NULL, 0, &q, msg,
                                      sizeof msg), 405);
    ck_assert_int_eq(sv_request_parse("GET", "/api/v1/namespaces/_/activations/0123/logs", NULL, 0,
                                      &q, msg, sizeof msg), 0);
    ck_assert_int_eq(q.route, SV_ACTIVATION);
    ck_assert_str_eq(q.id, "0123");
    ck_assert_str_eq(q.part, "logs");
    ck_assert_int_eq(sv_request_parse("GET", "/api/v2/x", NULL, 0, &q, msg, sizeof msg), 404);
    ck_assert_int_eq(sv_request_parse("GET", "/api/v1/namespaces//actions", NULL, 0, &q, msg,
                                      sizeof msg), 404);
    ck_assert(sv_valid_name("a b") && !sv_valid_name("a ") && !sv_valid_name("") &&
              !sv_valid_name("\xc3\xa9") && !sv_valid_name("a\x01"));
}
END_TEST

/* Issue 17 #1: 2,000 connections from one address, idle or sending a request slowly, do not keep
 * a keyed client out. Loopback only; the count is bounded by the descriptors this process has. */
START_TEST(idle_connections_do_not_block_a_keyed_client)
{
    struct rlimit rl;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    rl.rlim_cur = rl.rlim_max;         /* both ends live in this process */
    setrlimit(RLIMIT_NOFILE, &rl);
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    enum { N_IDLE = 2000 };
    if (rl.rlim_cur < 2 * N_IDLE + 600) {
        fprintf(stderr, "SKIPPED idle_connections: only %llu descriptors\n",
                (unsigned long long)rl.rlim_cur);
        return;
    }
    hb_serve *s = start(NULL, 0, 0);
    ck_assert_int_eq(put_script("echo", ECHO_SCRIPT, NULL, NULL), 200);
    static int fds[N_IDLE];
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons((uint16_t)hb_serve_port(s));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int opened = 0;
    for (int i = 0; i < N_IDLE; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(fds[i], 0);
        if (connect(fds[i], (struct sockaddr *)&sin, sizeof sin) == 0)
            opened++;
        if (i % 2)                     /* half of them start a request and never finish it */
            ck_assert_int_gt(send(fds[i], "POST /api/v1/namespaces/_/actions/echo HTTP/1.1\r\nHost: x\r\n", 58, MSG_NOSIGNAL), 0);
    }
    ck_assert_int_eq(opened, N_IDLE);
    long st;
    cJSON *j = call_json("POST", "actions", "echo", "blocking=true&result=true", "{\"k\":1}", &st);
    ck_assert_int_eq(st, 200);
    ck_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "echo")));
    cJSON_Delete(j);
    /* and they were held meanwhile, not dropped to make room */
    int alive = 0;
    for (int i = 0; i < N_IDLE; i++) {
        char b;
        ssize_t n = recv(fds[i], &b, 1, MSG_DONTWAIT);
        alive += n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        close(fds[i]);
    }
    ck_assert_int_eq(alive, N_IDLE);
    stop(s);
}
END_TEST

HB_TEST_MAIN("ow_serve", idle_connections_do_not_block_a_keyed_client, names_openwhisk_rejects_get_400, request_parser_reads_paths_names_and_bodies, actions_are_created_listed_updated_and_deleted,
             invocations_blocking_and_not_give_records_with_annotations,
             failures_timeouts_and_their_codes, auth_namespaces_and_throttles,
             shuffled_annotations_are_read_by_key, replay_with_faults_gives_every_call_one_outcome,
             records_that_never_appear_end_as_lost, backend_refuses_to_start_without_deployed_actions)
