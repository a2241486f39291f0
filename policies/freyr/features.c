/* features.c - Freyr's per-function statistics, state, safeguard mask and reward. See features.h. */
#include <math.h>
#include <string.h>

#include "features.h"
#include "ppo.h"

const char *const freyr_feature_names[FREYR_NFEAT] = {
    "inflight_per_core", "free_cpu_frac", "free_mem_frac", "mean_gap_s", "rate_per_min",
    "mean_cpu_peak", "mean_mem_peak_mb", "mean_duration_s", "baseline_s", "cand_cpu",
    "cand_mem_units",
};

freyr_norm freyr_norm_default(void)
{
    freyr_norm n = {
        .shift = {0},
        .scale = {1, 1, 1, 60, 10, 8, 1024, 10, 10, 8, 8},
    };
    return n;
}

hb_res freyr_user_alloc(const hb_func_config *fc)
{
    hb_res u = {hb_clip(fc->user.cpu, fc->cpu_clip[0], fc->cpu_clip[1]),
                hb_clip(fc->user.mem_mb, fc->mem_clip_mb[0], fc->mem_clip_mb[1])};
    return u;
}

void freyr_stats_arrival(freyr_fstats *s, hb_time arrival)
{
    if (s->n_calls > 0 && arrival > s->last_arrival) {
        s->gap_sum += hb_time_s(arrival - s->last_arrival);
        s->gap_n++;
    }
    s->n_calls++;
    s->last_arrival = arrival;
}

static int at_user(const hb_func_config *fc, hb_res alloc)
{
    hb_res u = freyr_user_alloc(fc);
    return fabs(alloc.cpu - u.cpu) < 1e-9 && fabs(alloc.mem_mb - u.mem_mb) < 1e-6;
}

static double duration_s(const hb_invocation *d)
{
    hb_time t = d->end - (d->exec_start > 0 ? d->exec_start : d->start);
    return t > 0 ? hb_time_s(t) : 0.0;
}

void freyr_stats_end(freyr_fstats *s, const hb_func_config *fc, const hb_invocation *done)
{
    int ok = done->outcome == HB_SUCCESS;
    s->has_last = 1;
    s->last_ok = ok;
    s->last_cpu_peak = done->cpu_peak;
    s->last_mem_peak_mb = done->mem_peak_mb;
    s->last_alloc_cpu = done->alloc_start.cpu;
    s->last_alloc_mem_mb = done->alloc_start.mem_mb;
    if (!ok)
        return;
    double dur = duration_s(done);
    if (at_user(fc, done->alloc_start)) {
        s->baseline_s = dur;
        s->n_recent = 0;
        s->sum_cpu_peak = s->sum_mem_peak_mb = s->sum_dur_s = 0.0;
        s->max_cpu_peak = s->max_mem_peak_mb = 0.0;
    }
    s->n_recent++;
    s->sum_cpu_peak += done->cpu_peak;
    s->sum_mem_peak_mb += done->mem_peak_mb;
    s->sum_dur_s += dur;
    if (done->cpu_peak > s->max_cpu_peak)
        s->max_cpu_peak = done->cpu_peak;
    if (done->mem_peak_mb > s->max_mem_peak_mb)
        s->max_mem_peak_mb = done->mem_peak_mb;
}

/* Whole candidates in [lo, hi] and in the clip range [clo, chi], as [*a, *b] within 1..8. When they
 * do not meet, the candidate of the clip range nearest to [lo, hi]. */
static void cand_range(double lo, double hi, double clo, double chi, int *a, int *b)
{
    int ca = (int)ceil(clo - 1e-9), cb = (int)floor(chi + 1e-9);
    if (ca < 1)
        ca = 1;
    if (cb > FREYR_CAP)
        cb = FREYR_CAP;
    if (cb < ca) {                     /* the clip range holds no whole candidate */
        int v = (int)lround(hb_clip((clo + chi) / 2, 1, FREYR_CAP));
        *a = *b = v;
        return;
    }
    int ra = (int)ceil(lo - 1e-9), rb = (int)floor(hi + 1e-9);
    *a = ra > ca ? ra : ca;
    *b = rb < cb ? rb : cb;
    if (*a > *b)
        *a = *b = rb < ca ? ca : cb;   /* below the clip range: its lowest; above: its highest */
}

/* Freyr's range of one resource, in candidate units: user u, last peak p and last allocation la
 * (same units), recent peak rp. Returns 1 for a usage spike (range {u}). */
static int resource_range(double u, double p, double la, double rp, double *lo, double *hi)
{
    if (p / u <= FREYR_SAFEGUARD) {    /* over-provisioned */
        if (la > 0 && p / la >= FREYR_SAFEGUARD) {
            *lo = *hi = u;
            return 1;
        }
        double l = floor(rp) + 1.0;
        *lo = l < u ? l : u;
        *hi = u;
    } else {                           /* under-provisioned */
        double l = floor(rp) + 1.0;
        *lo = l < FREYR_CAP ? l : FREYR_CAP;
        *hi = FREYR_CAP;
    }
    return 0;
}

int freyr_mask(const freyr_fstats *s, const hb_func_config *fc, unsigned char *mask)
{
    hb_res u = freyr_user_alloc(fc);
    double uc = hb_clip(round(u.cpu), 1, FREYR_CAP);
    double um = hb_clip(round(u.mem_mb / HB_MEM_UNIT_MB), 1, FREYR_CAP);
    int forced = 0;
    double clo_c, chi_c, clo_m, chi_m;
    if (!s->has_last || !s->last_ok) {
        clo_c = chi_c = uc;
        clo_m = chi_m = um;
        forced = 1;
    } else {
        forced |= resource_range(uc, s->last_cpu_peak, s->last_alloc_cpu, s->max_cpu_peak,
                                 &clo_c, &chi_c);
        forced |= resource_range(um, s->last_mem_peak_mb / HB_MEM_UNIT_MB,
                                 s->last_alloc_mem_mb / HB_MEM_UNIT_MB,
                                 s->max_mem_peak_mb / HB_MEM_UNIT_MB, &clo_m, &chi_m);
    }
    int ca, cb, ma, mb;
    cand_range(clo_c, chi_c, fc->cpu_clip[0], fc->cpu_clip[1], &ca, &cb);
    cand_range(clo_m, chi_m, fc->mem_clip_mb[0] / HB_MEM_UNIT_MB, fc->mem_clip_mb[1] / HB_MEM_UNIT_MB,
               &ma, &mb);
    for (int i = 0; i < FREYR_NCAND; i++) {
        int c = i / FREYR_CAP + 1, m = i % FREYR_CAP + 1;
        mask[i] = c >= ca && c <= cb && m >= ma && m <= mb;
    }
    return forced;
}

void freyr_state(const freyr_fstats *s, const hb_observation *obs, const freyr_norm *norm, double *x)
{
    double raw[FREYR_NFEAT];
    double cap_cpu = obs->capacity.cpu > 0 ? obs->capacity.cpu : 1.0;
    double cap_mem = obs->capacity.mem_mb > 0 ? obs->capacity.mem_mb : 1.0;
    double now_min = hb_time_s(obs->now) / 60.0;
    raw[0] = obs->inflight / cap_cpu;
    raw[1] = obs->free.cpu / cap_cpu;
    raw[2] = obs->free.mem_mb / cap_mem;
    raw[3] = s->gap_n ? s->gap_sum / (double)s->gap_n : 0.0;
    raw[4] = now_min > 0 ? (double)s->n_calls / now_min : 0.0;
    raw[5] = s->n_recent ? s->sum_cpu_peak / (double)s->n_recent : 0.0;
    raw[6] = s->n_recent ? s->sum_mem_peak_mb / (double)s->n_recent : 0.0;
    raw[7] = s->n_recent ? s->sum_dur_s / (double)s->n_recent : 0.0;
    raw[8] = s->baseline_s;
    for (int i = 0; i < FREYR_NCAND; i++) {
        raw[9] = i / FREYR_CAP + 1;
        raw[10] = i % FREYR_CAP + 1;
        for (int k = 0; k < FREYR_NFEAT; k++)
            x[i * FREYR_NFEAT + k] = (raw[k] - norm->shift[k]) / norm->scale[k];
    }
}

double freyr_slowdown(const freyr_fstats *s, const hb_func_config *fc, const hb_invocation *done)
{
    double dur = duration_s(done);
    /* the call's own duration alone at the user allocation when the backend knows it (the
     * simulator), else Freyr's estimate: the function's last calibration */
    double base = done->base_duration_ms > 0 ? done->base_duration_ms / 1e3 : s->baseline_s;
    if (done->outcome != HB_SUCCESS)
        return base > 0 ? 1.0 + dur / base : 2.0;
    if (done->base_duration_ms > 0)
        return dur / base;
    if (at_user(fc, done->alloc_start) || base <= 0)
        return 1.0;
    return dur / base;
}

double freyr_reward(double slo, long n_done, hb_res user)
{
    double r = -slo / cbrt((double)(n_done > 0 ? n_done : 1));
    if (slo < 1.0)
        r += 1.0 - slo;
    else if (slo > 1.0)
        r -= (slo - 1.0) * (user.cpu + user.mem_mb / HB_MEM_UNIT_MB);
    return r;
}
