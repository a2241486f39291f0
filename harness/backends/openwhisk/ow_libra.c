/* ow_libra.c - see ow_libra.h. */
#include "ow_libra.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libra_redis.h"

struct ow_libra {
    lr_client *redis;
    /* for the closing line */
    uint64_t written, failed_writes, read, missing, waited_out, safeguards, samples, failed_samples;
    double lent_cpu, lent_mem_mb, borrowed_cpu, borrowed_mem_mb;   /* amounts in trajectories */
    double idle_cpu_s, idle_mem_mb_s;
};

int ow_libra_open(const ow_options *o, ow_libra **out, hb_error *err)
{
    *out = NULL;
    ow_libra *l = calloc(1, sizeof *l);
    if (!l)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    lr_opts ro;
    /* one attempt is short: a call's write is retried until redis_timeout_ms */
    long t = o->redis_timeout_ms < 1000 ? o->redis_timeout_ms : 1000;
    int rc = lr_opts_init(&ro, o->redis, o->redis_db,
                          o->redis_password_file[0] ? o->redis_password_file : NULL, t,
                          "[backend.openwhisk] redis", err);
    if (!rc)
        rc = lr_open(&ro, &l->redis, err);
    lr_opts_free(&ro);
    if (rc) {
        free(l);
        return rc;
    }
    *out = l;
    return 0;
}

void ow_libra_close(ow_libra *l)
{
    if (!l)
        return;
    lr_close(l->redis);
    free(l);
}

int ow_libra_encoded(const hb_invocation *inv)
{
    hb_res r = inv->pred.cpu > 0 && inv->pred.mem_mb > 0 ? inv->pred : inv->alloc_start;
    return lf_encode_res(r);
}

long ow_libra_duration_ms(const hb_invocation *inv)
{
    double ms = inv->pred_duration_s * 1000;
    return ms > 0 && ms < 1e12 ? (long)ms : 0;   /* the agent writes int(seconds x 1000) */
}

/* The message without "redis HOST:PORT db N: ", which the caller's record has no room for. */
static void shorten(hb_error *err, const char *name)
{
    char prefix[400];
    snprintf(prefix, sizeof prefix, "redis %s: ", name);
    size_t n = strlen(prefix);
    if (err && strncmp(err->msg, prefix, n) == 0)
        memmove(err->msg, err->msg + n, strlen(err->msg + n) + 1);
}

int ow_libra_predict(ow_libra *l, const char *action, const hb_invocation *inv, hb_error *err)
{
    int rc = lr_put_prediction(l->redis, action, ow_libra_encoded(inv), ow_libra_duration_ms(inv), err);
    if (rc) {
        l->failed_writes++;
        shorten(err, lr_name(l->redis));
    } else {
        l->written++;
    }
    return rc;
}

int ow_libra_trajectory(ow_libra *l, const char *activation_id, lf_trajectory *t, int *found,
                        hb_error *err)
{
    *found = 0;
    memset(t, 0, sizeof *t);
    char *text = NULL;
    int rc = lr_hget(l->redis, "invocations", activation_id, &text, err);
    if (rc) {
        shorten(err, lr_name(l->redis));
        return rc;
    }
    if (!text)
        return 0;
    rc = lf_trajectory_parse(text, t, err);
    free(text);
    if (rc)
        return hb_error_wrap(err, "invocations[%s]", activation_id);
    *found = 1;
    l->read++;
    return 0;
}

void ow_libra_apply(ow_libra *l, const lf_trajectory *t, hb_res user, hb_invocation *inv)
{
    hb_res a = {user.cpu + t->cpu_delta, user.mem_mb + t->mem_delta_mb};
    inv->alloc = inv->alloc_mean = a;
    double held_s = hb_time_s(inv->end - inv->start), run_s = hb_time_s(inv->end - inv->exec_start);
    inv->harvested_cpu_s = fmax(0, -t->cpu_delta) * held_s;
    inv->harvested_mem_mb_s = fmax(0, -t->mem_delta_mb) * held_s;
    inv->borrowed_cpu_s = fmax(0, t->cpu_delta) * held_s;
    inv->borrowed_mem_mb_s = fmax(0, t->mem_delta_mb) * held_s;
    inv->borrowed_running_cpu_s = fmax(0, t->cpu_delta) * run_s;
    inv->borrowed_running_mem_mb_s = fmax(0, t->mem_delta_mb) * run_s;
    inv->safeguard = t->safeguard;
    double lent, borrowed;
    lf_trajectory_sums(t->cpu, t->n_cpu, &lent, &borrowed);
    l->lent_cpu += lent;
    l->borrowed_cpu += borrowed;
    lf_trajectory_sums(t->mem, t->n_mem, &lent, &borrowed);
    l->lent_mem_mb += lent;
    l->borrowed_mem_mb += borrowed;
    l->idle_cpu_s += t->cpu_idle / 1000;
    l->idle_mem_mb_s += t->mem_idle / 1000;
    l->safeguards += t->safeguard != 0;
}

void ow_libra_missing(ow_libra *l, int waited)
{
    l->missing++;
    l->waited_out += waited != 0;
}

int ow_libra_sample(ow_libra *l, int n, double *cpu, double *mem_mb, hb_error *err)
{
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "invoker%d", i);
        cpu[i] = mem_mb[i] = 0;
        for (int d = 0; d < 2; d++) {
            char *text = NULL;
            int rc = lr_hget(l->redis, key, d ? "cpu_summary" : "memory_summary", &text, err);
            if (rc) {
                l->failed_samples++;
                return rc;
            }
            lf_pool_entry *e = NULL;
            size_t ne = 0;
            if (text && lf_pool_parse(text, &e, &ne, err)) {
                free(text);
                l->failed_samples++;
                return hb_error_wrap(err, "%s %s", key, d ? "cpu_summary" : "memory_summary");
            }
            double total = lf_pool_total(e, ne);
            if (d)
                cpu[i] = total;
            else
                mem_mb[i] = total * HB_MEM_UNIT_MB;
            free(e);
            free(text);
        }
    }
    l->samples++;
    return 0;
}

void ow_libra_report(const ow_libra *l, FILE *f)
{
    fprintf(f, "openwhisk: redis %s: %llu predictions written (%llu failed attempts), %llu "
            "trajectories read, %llu calls without one (%llu after waiting), %llu safeguards; "
            "loans in trajectories: %.0f cores and %.0f MB lent, %.0f cores and %.0f MB borrowed; "
            "pool idle %.1f core-s, %.1f MB-s; %llu pool samples (%llu failed)\n",
            lr_name(l->redis), (unsigned long long)l->written, (unsigned long long)l->failed_writes,
            (unsigned long long)l->read, (unsigned long long)l->missing,
            (unsigned long long)l->waited_out, (unsigned long long)l->safeguards, l->lent_cpu,
            l->lent_mem_mb, l->borrowed_cpu, l->borrowed_mem_mb, l->idle_cpu_s, l->idle_mem_mb_s,
            (unsigned long long)l->samples, (unsigned long long)l->failed_samples);
}
