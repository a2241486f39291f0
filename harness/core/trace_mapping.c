/* trace_mapping.c - see trace_mapping.h. */
#include "trace_mapping.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "events.h"
#include "timeline.h"

double hb_workload_reference_ms(const hb_profile *p, int w, double user_cpu)
{
    const hb_profile_func *pf = &p->f[w];
    double x = (double)hb_functions[w].size_multi;
    double par = fmax(hb_profile_eval(&pf->parallelism, x), 0.01);
    double work = hb_profile_eval(&pf->exec_s, x) * fmin(pf->ref_cores, par);
    return fmax(1e3 * (work / fmin(par, user_cpu) + pf->cold_start_s), 1e-3);
}

static int flag_on(const char *v) { return strcmp(v, "true") == 0; }

int hb_run_funcs_build(const hb_config *cfg, const hb_trace *t, const hb_profile *p,
                       hb_func_config **out, hb_error *err)
{
    *out = NULL;
    size_t n = t->n_funcs;
    hb_func_config *fs = calloc(n ? n : 1, sizeof *fs);
    if (!fs)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    int mem_from_trace = strcmp(cfg->trace_user_memory, "trace") == 0;
    int scale = flag_on(cfg->trace_scale_work);
    for (size_t i = 0; i < n; i++) {
        const hb_trace_func *tf = &t->funcs[i];
        int w = tf->bench;
        if (w < 0 || w >= HB_NWORKLOADS) {
            free(fs);
            return hb_fail(err, HB_EINPUT, "%s: trace function '%s' runs no benchmark workload",
                           t->source, tf->name);
        }
        hb_func_config *fc = &fs[i];
        *fc = cfg->funcs[w];
        fc->workload = w;
        fc->name = tf->name;
        fc->work_scale = 1;
        if (mem_from_trace && tf->mem_avg_mb > 0 && !cfg->func_mem_set[w]) {
            double units = ceil(tf->mem_avg_mb / HB_MEM_UNIT_MB - 1e-9);
            fc->user.mem_mb = fmax(units, 1) * HB_MEM_UNIT_MB;
            fc->mem_clip_mb[0] = fmin(fc->mem_clip_mb[0], fc->user.mem_mb);
            fc->mem_clip_mb[1] = fmax(fc->mem_clip_mb[1], fc->user.mem_mb);
        }
        if (scale && tf->dur_avg_ms > 0 && p)
            fc->work_scale = tf->dur_avg_ms / hb_workload_reference_ms(p, w, fc->user.cpu);
    }
    *out = fs;
    return 0;
}

int hb_trace_check_request(const hb_config *cfg, const hb_trace *t, hb_error *err)
{
    const hb_kv *k = hb_config_entry(cfg, "trace.functions");
    int sampled = strcmp(cfg->trace_format, "azure2019") == 0 ||
                  strcmp(cfg->trace_format, "azure2021") == 0;
    if (k && sampled && t->n_funcs < (size_t)cfg->trace_functions)
        return hb_fail_at(err, HB_EINPUT, k->file, k->line, "trace.functions",
                          "%d functions asked, but %s has only %zu%s; lower functions (or leave "
                          "it out: then every function is replayed, up to 10)",
                          cfg->trace_functions, t->source, t->n_funcs,
                          cfg->trace_min_per_minute > 0 || cfg->trace_max_per_minute < 2147483647
                              ? " that pass min_per_minute/max_per_minute"
                              : "");
    if (t->total == 0) {
        const hb_kv *s = hb_config_entry(cfg, "trace.start_minute");
        const hb_kv *m = hb_config_entry(cfg, "trace.minutes");
        const hb_kv *at = s ? s : m;
        char where[512] = "";
        if (at)
            snprintf(where, sizeof where, "%s:%d: ", at->file, at->line);
        return hb_fail(err, HB_EINPUT, "%s[trace] start_minute = %d, minutes = %d: %s has no call "
                       "in these minutes (%zu replayed); choose a window with calls",
                       where, cfg->trace_start_minute, cfg->trace_minutes, t->source, t->n_minutes);
    }
    return 0;
}

/* The usage timeline of a call of workload w at size x, drawn as the simulator draws it (sim.c,
 * call_timeline) with the median repeat and no run-to-run variation. 0: none (flat model, or no
 * timeline for the size). */
static int call_timeline(const hb_profile *p, int w, double x, hb_call_timeline *tl)
{
    hb_error e;
    tl->n = 0;
    if (p->usage != HB_USAGE_TIMELINE)
        return 0;
    if (!p->synthetic)
        return p->timelines && hb_timeline_measured(p->timelines, w, (int64_t)x, 0.5, tl, &e) == 0 &&
               tl->n > 0;
    const hb_profile_func *pf = &p->f[w];
    hb_tl_artifact_call a = {
        .func = w, .size = (int64_t)x, .exec_s = hb_profile_eval(&pf->exec_s, x),
        .cpu_class_error = 0, .mem_class_error = 0, .work_factor = 1, .stream = 1,
        .mem_cap_mb = pf->class_mem_cap_mb,
    };
    a.cpu_class = pf->cpu_class.n ? (int)lround(hb_profile_eval(&pf->cpu_class, x))
                                  : (int)lround(hb_profile_eval(&pf->parallelism, x) + 0.5);
    a.mem_class = pf->mem_class.n ? (int)lround(hb_profile_eval(&pf->mem_class, x))
                                  : (int)ceil(hb_profile_eval(&pf->mem_peak_mb, x) * 1048576.0 /
                                              (HB_MEM_UNIT_MB * 1e6));
    a.cpu_class = a.cpu_class < 1 ? 1 : a.cpu_class;
    a.mem_class = a.mem_class < 1 ? 1 : a.mem_class;
    return hb_timeline_artifact(&a, tl, &e) == 0 && tl->n > 0;
}

/* Core x s of work and seconds alone at the user allocation of one call of input size x, under
 * the truth model the simulator uses ([workload] usage). */
static void call_cost(const hb_profile *p, const hb_func_config *fc, double x, hb_call_timeline *tl,
                      double *work, double *dur)
{
    const hb_profile_func *pf = &p->f[fc->workload];
    double scale = fc->work_scale > 0 ? fc->work_scale : 1;
    if (call_timeline(p, fc->workload, x, tl)) {
        double w = 0;
        for (size_t i = 0; i < tl->n; i++)
            w += tl->p[i].work;
        *work = w / 1e6 * scale;
        /* waits do not scale; the work does: scale the duration's compute part only */
        double d = hb_call_timeline_duration_us(tl, fc->user.cpu), waits = 0;
        for (size_t i = 0; i < tl->n; i++)
            if (!(tl->p[i].work > 0))
                waits += tl->p[i].wait_us;
        *dur = ((d - waits) * scale + waits) / 1e6;
        return;
    }
    double par = fmax(hb_profile_eval(&pf->parallelism, x), 0.01);
    *work = fmax(hb_profile_eval(&pf->exec_s, x), 0) * fmin(pf->ref_cores, par) * scale;
    *dur = *work / fmin(par, fc->user.cpu);
}

/* Mean cost of a call of each function over the sizes the run draws: the input-size file's,
 * the artifact's random range (101 evenly spaced sizes), or the demo size. */
static void mean_costs(const hb_config *cfg, const hb_trace *t, const hb_profile *p,
                       const hb_func_config *funcs, double *work, double *dur)
{
    hb_sizes mode = HB_SIZES_MULTI;
    hb_error e;
    hb_call_timeline tl = {0};
    if (hb_sizes_parse(cfg->trace_sizes, t, &mode, &e))
        mode = HB_SIZES_MULTI;
    if (mode == HB_SIZES_FILE && t->sizes && t->n_sizes >= t->total) {
        double *n = calloc(t->n_funcs, sizeof *n);
        if (n) {
            uint64_t idx = 0;
            for (size_t m = 0; m < t->n_minutes; m++)
                for (size_t f = 0; f < t->n_funcs; f++)
                    for (uint32_t c = hb_trace_count(t, f, m); c > 0; c--) {
                        double w, d;
                        call_cost(p, &funcs[f], (double)t->sizes[idx++], &tl, &w, &d);
                        work[f] += w;
                        dur[f] += d;
                        n[f]++;
                    }
            for (size_t f = 0; f < t->n_funcs; f++)
                if (n[f] > 0) {
                    work[f] /= n[f];
                    dur[f] /= n[f];
                }
            free(n);
            hb_call_timeline_free(&tl);
            return;
        }
    }
    for (size_t f = 0; f < t->n_funcs; f++) {
        const hb_function *fn = &hb_functions[funcs[f].workload];
        if (mode != HB_SIZES_RANDOM) {
            call_cost(p, &funcs[f], (double)fn->size_multi, &tl, &work[f], &dur[f]);
            continue;
        }
        double lo = (double)(fn->size_base * fn->size_lo), hi = (double)(fn->size_base * fn->size_hi - 1);
        for (int k = 0; k <= 100; k++) {
            double w, d;
            call_cost(p, &funcs[f], floor(lo + (hi - lo) * k / 100.0), &tl, &w, &d);
            work[f] += w / 101;
            dur[f] += d / 101;
        }
    }
    hb_call_timeline_free(&tl);
}

void hb_load_estimate_run(const hb_config *cfg, const hb_trace *t, const hb_profile *p,
                          const hb_func_config *funcs, hb_load_estimate *out)
{
    memset(out, 0, sizeof *out);
    out->cpu_capacity = cfg->cores * cfg->invokers;
    out->mem_capacity_mb = cfg->memory_mb * cfg->invokers;
    double *work = calloc(t->n_funcs ? t->n_funcs : 1, sizeof *work);
    double *dur = calloc(t->n_funcs ? t->n_funcs : 1, sizeof *dur);
    if (!work || !dur || t->n_minutes == 0) {
        free(work);
        free(dur);
        return;
    }
    mean_costs(cfg, t, p, funcs, work, dur);
    for (size_t m = 0; m < t->n_minutes; m++) {
        double cpu = 0, mem = 0;
        for (size_t f = 0; f < t->n_funcs; f++) {
            double rate = hb_trace_count(t, f, m) / 60.0;   /* calls per second */
            cpu += rate * work[f];
            mem += rate * dur[f] * funcs[f].user.mem_mb;
        }
        out->cpu_mean += cpu / (double)t->n_minutes;
        out->mem_mean_mb += mem / (double)t->n_minutes;
        if (cpu > out->cpu_peak) {
            out->cpu_peak = cpu;
            out->mem_peak_mb = mem;
            out->peak_minute = m;
        }
    }
    free(work);
    free(dur);
}

static void csv_name(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_csv(const hb_trace *t, const hb_profile *p, const hb_func_config *funcs,
                     const char *dir, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, dir, "mapping.csv", err);
    if (rc)
        return rc;
    fputs("function,trace_function,bench,calls,per_minute,trace_duration_ms,modelled_duration_ms,"
          "work_scale,trace_memory_mb,user_cpu,user_mem_mb\n", a.f);
    for (size_t i = 0; i < t->n_funcs; i++) {
        const hb_trace_func *tf = &t->funcs[i];
        const hb_func_config *fc = &funcs[i];
        double model = hb_workload_reference_ms(p, fc->workload, fc->user.cpu) * fc->work_scale;
        fprintf(a.f, "%zu,", i);
        csv_name(a.f, tf->name);
        fprintf(a.f, ",%s,%llu,%.6g,", hb_functions[fc->workload].id,
                (unsigned long long)tf->total, (double)tf->total / (double)t->n_minutes);
        if (tf->dur_avg_ms > 0)
            fprintf(a.f, "%.6g", tf->dur_avg_ms);
        fprintf(a.f, ",%.6g,%.6g,", model, fc->work_scale);
        if (tf->mem_avg_mb > 0)
            fprintf(a.f, "%.6g", tf->mem_avg_mb);
        fprintf(a.f, ",%g,%g\n", fc->user.cpu, fc->user.mem_mb);
    }
    return hb_afile_commit(&a, err);
}

#define PRINT_ROWS 20

static void print_mapping(const hb_config *cfg, const hb_trace *t, const hb_profile *p,
                          const hb_func_config *funcs, const char *dir, FILE *out)
{
    /* rows named by a workload id run it whatever `mapping` says (docs/traces.md) */
    int by_id = strcmp(cfg->trace_mapping, "duration") != 0;
    for (size_t i = 0; i < t->n_funcs && by_id; i++)
        by_id = hb_function_find(t->funcs[i].name) == funcs[i].workload;
    const char *how = strcmp(t->format, "constant") == 0 ? "i mod 10"
                      : by_id                            ? "by workload id"
                                                         : cfg->trace_mapping;
    fprintf(out, "trace: %zu function%s over %zu minute%s (%s); mapping = %s%s%s -> %s/mapping.csv\n",
            t->n_funcs, t->n_funcs == 1 ? "" : "s", t->n_minutes, t->n_minutes == 1 ? "" : "s",
            t->format, how,
            strcmp(cfg->trace_scale_work, "true") == 0 ? ", scale_work = true" : "",
            strcmp(cfg->trace_user_memory, "trace") == 0 ? ", user_memory = trace" : "", dir);
    fprintf(out, "  %-24s %-5s %8s %9s %12s %12s %8s\n", "trace function", "runs", "calls",
            "per min", "trace ms", "modelled ms", "user MB");
    for (size_t i = 0; i < t->n_funcs && i < PRINT_ROWS; i++) {
        const hb_trace_func *tf = &t->funcs[i];
        const hb_func_config *fc = &funcs[i];
        double model = hb_workload_reference_ms(p, fc->workload, fc->user.cpu) * fc->work_scale;
        char trace_ms[32] = "-";
        if (tf->dur_avg_ms > 0)
            snprintf(trace_ms, sizeof trace_ms, "%.1f", tf->dur_avg_ms);
        fprintf(out, "  %-24.24s %-5s %8llu %9.2f %12s %12.1f %8.0f\n", tf->name,
                hb_functions[fc->workload].id, (unsigned long long)tf->total,
                (double)tf->total / (double)t->n_minutes, trace_ms, model, fc->user.mem_mb);
    }
    if (t->n_funcs > PRINT_ROWS)
        fprintf(out, "  ... %zu more in mapping.csv\n", t->n_funcs - PRINT_ROWS);
    int used[HB_NWORKLOADS] = {0}, distinct = 0;
    for (size_t i = 0; i < t->n_funcs; i++)
        distinct += !used[funcs[i].workload]++;
    if (t->n_funcs > 1 && distinct == 1)
        fprintf(out, "  note: every trace function runs %s (see [trace] mapping in docs/config.md)\n",
                hb_functions[funcs[0].workload].id);
}

int hb_run_mapping_report(const hb_config *cfg, const hb_trace *t, const hb_profile *p,
                          const char *out_dir, FILE *out, FILE *warn, hb_error *err)
{
    int n;
    const hb_func_config *funcs = hb_config_run_funcs(cfg, &n);
    hb_func_config *own = NULL;
    if (cfg->run_funcs_trace != (const void *)t || (size_t)n != t->n_funcs) {
        /* no table bound to this trace: build it as the engine will */
        int rc = hb_run_funcs_build(cfg, t, p, &own, err);
        if (rc)
            return rc;
        funcs = own;
    }
    int rc = write_csv(t, p, funcs, out_dir, err);
    hb_load_estimate le;
    if (!rc && (out || warn))
        hb_load_estimate_run(cfg, t, p, funcs, &le);
    if (!rc && out) {
        print_mapping(cfg, t, p, funcs, out_dir, out);
        fprintf(out, "  offered load (estimate): %.2f of %g cores, %.0f of %g MB on average; busiest "
                "minute %zu: %.2f cores, %.0f MB\n", le.cpu_mean, le.cpu_capacity, le.mem_mean_mb,
                le.mem_capacity_mb, le.peak_minute + 1, le.cpu_peak, le.mem_peak_mb);
    }
    if (!rc && warn) {
        const char *what[2] = {NULL, NULL};
        if (le.cpu_mean > le.cpu_capacity)
            what[0] = "CPU";
        if (le.mem_mean_mb > le.mem_capacity_mb)
            what[what[0] ? 1 : 0] = "memory";
        if (what[0])
            fprintf(warn, "harvestbench run: warning: the trace overloads the cluster's %s%s%s: it "
                    "offers %.2f cores of work against %g cores and holds %.0f MB of user memory "
                    "against %g MB on average (busiest minute %zu: %.2f cores, %.0f MB); calls "
                    "will queue without bound (lower [trace] scale or add invokers)\n",
                    what[0], what[1] ? " and " : "", what[1] ? what[1] : "", le.cpu_mean,
                    le.cpu_capacity, le.mem_mean_mb, le.mem_capacity_mb, le.peak_minute + 1,
                    le.cpu_peak, le.mem_peak_mb);
    }
    free(own);
    return rc;
}
