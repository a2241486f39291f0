/* predictor.c - see predictor.h. */
#include "predictor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int libra_predictor_table(libra_predictor *p, libra_pred_kind kind, const char *path, hb_error *err)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    return hb_predictor_table_load(path, &p->table, err);
}

int libra_predictor_window(libra_predictor *p, int window, int n_funcs, hb_error *err)
{
    memset(p, 0, sizeof *p);
    p->kind = LP_WINDOW;
    p->window = window;
    p->n_funcs = n_funcs > 0 ? n_funcs : 0;
    size_t n = p->n_funcs ? (size_t)p->n_funcs : 1;
    p->ring = calloc(n * (size_t)window, sizeof *p->ring);
    p->head = calloc(n, sizeof *p->head);
    p->count = calloc(n, sizeof *p->count);
    return p->ring && p->head && p->count ? 0 : hb_fail(err, HB_ENOMEM, "out of memory");
}

void libra_predictor_free(libra_predictor *p)
{
    hb_predictor_table_free(p->table);
    free(p->ring);
    free(p->head);
    free(p->count);
    memset(p, 0, sizeof *p);
}

void libra_predict(const libra_predictor *p, int f, int w, double x, hb_res user, libra_pred *out)
{
    if (p->kind != LP_WINDOW) {
        out->cpu = floor(hb_step_eval(&p->table->f[w][HB_TARGET_CPU], x));
        out->mem_mb = floor(hb_step_eval(&p->table->f[w][HB_TARGET_MEM], x)) * HB_MEM_UNIT_MB;
        out->dur_s = hb_step_eval(&p->table->f[w][HB_TARGET_DUR], x);
        return;
    }
    int n = f >= 0 && f < p->n_funcs ? p->count[f] : 0;
    if (n == 0) {                      /* no history: the user's allocation, no duration */
        out->cpu = user.cpu;
        out->mem_mb = user.mem_mb;
        out->dur_s = 0;
        return;
    }
    double cpu = 0, mem = 0, dur = 0;
    for (int i = 0; i < n; i++) {
        const lp_sample *s = &p->ring[f * p->window + i];
        cpu += s->cpu_peak;
        mem += s->mem_peak_mb;
        dur += s->dur_s;
    }
    /* durations include init, as the other predictors' do (the window starts at container
     * assignment); the mean over the samples held (the artifact divided by 5 even with fewer) */
    cpu /= n;
    mem /= n;
    out->cpu = cpu > 0 ? floor(cpu) + 1 : user.cpu;
    out->mem_mb = mem > 0 ? (floor(mem / HB_MEM_UNIT_MB) + 1) * HB_MEM_UNIT_MB : user.mem_mb;
    out->dur_s = dur / n;
}

void libra_predictor_observe(libra_predictor *p, const hb_invocation *done)
{
    if (p->kind != LP_WINDOW || done->outcome == HB_LOST)
        return;
    int f = done->func;
    if (f < 0 || f >= p->n_funcs)
        return;
    /* the ring holds the newest `window` samples of each function, in any order */
    p->ring[f * p->window + p->head[f]] =
        (lp_sample){done->cpu_peak, done->mem_peak_mb, hb_time_s(done->end - done->start)};
    p->head[f] = (p->head[f] + 1) % p->window;
    if (p->count[f] < p->window)
        p->count[f]++;
}
