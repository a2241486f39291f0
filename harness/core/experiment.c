/* experiment.c - see experiment.h. */
#include "experiment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "hb_steptable.h"
#include "timeline.h"
#include "trace_mapping.h"
#include "trace_sample.h"
#include "seed.h"

void hb_profile_reference_ms(const hb_profile *p, const hb_func_config *funcs, double out[HB_NWORKLOADS])
{
    for (int f = 0; f < HB_NWORKLOADS; f++)
        out[f] = hb_workload_reference_ms(p, f, funcs[f].user.cpu);
}

static int load_profile(const hb_config *cfg, hb_profile **out, hb_error *err)
{
    if (strcmp(cfg->workload_profile, "measured") == 0) {
        if (!cfg->workload_profile_file[0])
            return hb_fail(err, HB_EINPUT, "%s: [workload] profile = measured needs profile_file "
                           "(written by: harvestbench profile)", cfg->path);
        return hb_profile_load(cfg->workload_profile_file, out, err);
    }
    if (cfg->workload_profile_file[0])
        return hb_profile_load(cfg->workload_profile_file, out, err);
    hb_predictor_table *t;
    int rc = hb_predictor_table_load(cfg->workload_predictors, &t, err);
    if (rc)
        return rc;
    rc = hb_profile_from_table(t, out, err);
    hb_predictor_table_free(t);
    return rc;
}

/* The truth model: [workload] usage and, for the measured profile's timelines, the library
 * (timeline_file, default timelines-measured.csv beside profile_file). Only the simulator replays
 * timelines; other backends run the real functions and do not load the library. */
static int set_usage(const hb_config *cfg, hb_profile *p, hb_error *err)
{
    p->cpu_class_error = cfg->workload_cpu_class_error;
    p->mem_class_error = cfg->workload_mem_class_error;
    if (strcmp(cfg->workload_usage, "timeline") != 0)
        return 0;
    p->usage = HB_USAGE_TIMELINE;
    if (strcmp(cfg->workload_profile, "measured") != 0) {
        p->synthetic = 1;
        return 0;
    }
    if (cfg->backend[0] && strcmp(cfg->backend, "sim") != 0)
        return 0;
    char path[HB_PATH_MAX];
    if (cfg->workload_timeline_file[0]) {
        snprintf(path, sizeof path, "%s", cfg->workload_timeline_file);
    } else {
        const char *slash = strrchr(cfg->workload_profile_file, '/');
        int dir = slash ? (int)(slash - cfg->workload_profile_file + 1) : 0;
        if (snprintf(path, sizeof path, "%.*stimelines-measured.csv", dir,
                     cfg->workload_profile_file) >= (int)sizeof path)
            return hb_fail(err, HB_EINPUT, "%s: [workload] profile_file: path too long", cfg->path);
    }
    int rc = hb_timeline_load(path, &p->timelines, err);
    if (rc)
        return hb_error_wrap(err, "%s: [workload] usage = timeline (set usage = flat for the "
                             "constant-usage model, or timeline_file)", cfg->path);
    for (int f = 0; f < HB_NWORKLOADS; f++)  /* every function the profile models must have a run */
        if (p->f[f].present && p->timelines->nsizes[f] == 0)
            return hb_fail(err, HB_EINPUT, "%s: [workload] usage = timeline: %s has no run of "
                           "function %s", cfg->path, path, hb_functions[f].id);
    return 0;
}

int hb_experiment_profile(const hb_config *cfg, hb_profile **out, hb_error *err)
{
    int rc = load_profile(cfg, out, err);
    if (rc)
        return rc;
    if ((rc = set_usage(cfg, *out, err))) {
        hb_profile_free(*out);
        *out = NULL;
    }
    return rc;
}

int hb_experiment_prepare(hb_experiment *x, hb_error *err)
{
    hb_config *cfg = &x->cfg;
    int rc = hb_experiment_profile(cfg, &x->profile, err);
    if (rc)
        return rc;
    double ref[HB_NWORKLOADS];
    hb_profile_reference_ms(x->profile, cfg->funcs, ref);
    gsl_rng *sample = hb_rng_new(cfg->seed, "trace-sample");
    if (!sample)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_trace_spec ts = {
        .format = cfg->trace_format,
        .invocations = cfg->trace_invocations,
        .durations = cfg->trace_durations,
        .memory = cfg->trace_memory,
        .input_sizes = cfg->trace_input_sizes,
        .start_minute = cfg->trace_start_minute,
        .minutes = cfg->trace_minutes,
        .scale = cfg->trace_scale,
        .functions = cfg->trace_functions,
        .min_per_minute = cfg->trace_min_per_minute,
        .max_per_minute = cfg->trace_max_per_minute,
        .mapping = cfg->trace_mapping,
        .ref_duration_ms = ref,
        .rng = sample,
    };
    if (strcmp(cfg->trace_format, "constant") == 0) {
        /* the artifact's multi_k traces: every function k times a minute */
        gsl_rng_free(sample);
        int n = cfg->trace_functions;  /* function i runs workload i mod 10 */
        uint64_t minutes = cfg->trace_minutes > 0 ? (uint64_t)cfg->trace_minutes : 1;
        rc = hb_trace_synthetic((uint64_t)n * (uint64_t)cfg->trace_per_minute * minutes, n,
                                (uint32_t)cfg->trace_per_minute, &x->trace, err);
        if (rc)
            return rc;
        snprintf(x->trace->source, sizeof x->trace->source, "multi_%d (constant: %d calls per "
                 "function per minute, %llu minutes)", cfg->trace_per_minute,
                 cfg->trace_per_minute, (unsigned long long)minutes);
        snprintf(x->trace->format, sizeof x->trace->format, "constant");
    } else if (!cfg->trace_invocations[0]) {
        gsl_rng_free(sample);
        return hb_fail(err, HB_EINPUT, "%s: [trace] invocations: no trace file given", cfg->path);
    } else {
        rc = hb_trace_load(&ts, &x->trace, err);
        gsl_rng_free(sample);
        if (!rc && strcmp(cfg->trace_mapping, "file") == 0)
            rc = hb_trace_mapping_apply(x->trace, cfg->trace_mapping_file, err);
        if (rc)
            return rc;
    }
    if ((rc = hb_trace_check_request(cfg, x->trace, err)) ||
        (rc = hb_run_funcs_build(cfg, x->trace, x->profile, &x->funcs, err)))
        return rc;
    cfg->run_funcs = x->funcs;
    cfg->n_run_funcs = (int)x->trace->n_funcs;
    cfg->run_funcs_trace = x->trace;
    if (hb_arrival_parse(cfg->trace_arrival, &x->arrival))
        return hb_fail(err, HB_EINPUT, "[trace] arrival: unknown mode '%s'", cfg->trace_arrival);
    return hb_sizes_parse(cfg->trace_sizes, x->trace, &x->sizes, err);
}

void hb_experiment_free(hb_experiment *x)
{
    hb_trace_free(x->trace);
    hb_profile_free(x->profile);
    free(x->funcs);
    hb_config_free(&x->cfg);
    memset(x, 0, sizeof *x);
}

const char *hb_experiment_baseline(const hb_config *cfg)
{
    if (cfg->baseline[0])
        return cfg->baseline;
    for (int i = 0; i < cfg->n_policies; i++)
        if (strcmp(cfg->policies[i], "fixed") == 0)
            return "fixed";
    return cfg->n_policies > 0 ? cfg->policies[0] : "";
}

void hb_experiment_manifest_stats(const hb_experiment *x, cJSON *m)
{
    cJSON_AddStringToObject(m, "baseline", hb_experiment_baseline(&x->cfg));
    cJSON *s = cJSON_AddObjectToObject(m, "statistics");
    cJSON_AddNumberToObject(s, "warmup_s", x->cfg.warmup_s);
    cJSON_AddNumberToObject(s, "drain_s", x->cfg.drain_s);
    cJSON_AddNumberToObject(s, "trace_s", x->trace ? 60.0 * (double)x->trace->n_minutes : 0.0);
}
