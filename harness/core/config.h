/* config.h - experiment configuration: INI files read with libinih (BRIEF section 8, docs/config.md).
 *
 * Sections: [experiment] [cluster] [trace] [workload] [function.ID] [policy.NAME] [backend.NAME].
 * Every key of the first five has a type, a range and a default (the schema in config.c, documented
 * key by key in docs/config.md); [policy.NAME] and [backend.NAME] hold the keys of that policy or
 * backend, which checks them when it is created. Unknown sections or keys, wrong types and
 * out-of-range values are errors naming the file, line and key. Relative paths in a config file are
 * relative to the directory of that file. */
#ifndef HB_CONFIG_H
#define HB_CONFIG_H

#include <stdint.h>

#include <cJSON.h>

#include "hb_error.h"
#include "hb_policy.h"
#include "hb_types.h"

#define HB_PATH_MAX 1024
#define HB_MAX_POLICIES 16

typedef struct hb_config_section {
    char name[64];                     /* "policy.libra" */
    hb_kvlist kv;
} hb_config_section;

typedef struct hb_config {
    char path[HB_PATH_MAX];            /* the file, as given */
    char dir[HB_PATH_MAX];             /* its directory */

    /* [experiment] */
    char name[64];
    char policies[HB_MAX_POLICIES][32];
    int n_policies;
    int seeds;                         /* number of seeds: run k uses seed + k - 1 */
    uint64_t seed;
    char out[HB_PATH_MAX];             /* results directory; default results/<name> */
    char backend[32];
    double time_scale;                 /* real-time backends: trace seconds per wall second ratio */
    char baseline[64];                 /* compare's default baseline; "": fixed if run, else first */
    double warmup_s, drain_s;          /* statistics leave out calls arriving in the first warmup_s
                                        * and the last drain_s seconds of the trace */

    /* [cluster] */
    int invokers;
    double cores;
    double memory_mb;
    double keep_alive_s;
    double cold_start_ms;              /* < 0: the profile's per-function value */
    double monitor_ms;

    /* [trace] */
    char trace_format[16];             /* artifact | azure2019 | azure2021 | constant */
    char trace_invocations[HB_PATH_MAX];
    char trace_durations[HB_PATH_MAX];
    char trace_memory[HB_PATH_MAX];
    char trace_input_sizes[HB_PATH_MAX];
    char trace_arrival[16];            /* even | uniform | poisson | equidistant */
    char trace_sizes[16];              /* file | random | multi */
    int trace_start_minute;            /* 1-based first minute replayed */
    int trace_minutes;                 /* 0: all */
    int trace_functions;               /* azure2019: functions sampled */
    char trace_mapping[16];            /* azure2019: order | duration | file */
    char trace_mapping_file[HB_PATH_MAX];   /* mapping = file: trace sample's mapping.csv */
    int trace_min_per_minute, trace_max_per_minute;   /* azure2019 filter */
    double trace_scale;                /* multiplies every per-minute count */
    int trace_per_minute;              /* constant: calls per function per minute */
    char trace_scale_work[16];         /* "true": each function's work scaled to its trace duration */
    char trace_user_memory[16];        /* catalog | trace: where a function's user memory comes from */

    /* [workload] */
    char workload_profile[16];         /* artifact | measured */
    char workload_profile_file[HB_PATH_MAX];
    char workload_predictors[HB_PATH_MAX];
    double workload_cv;                /* < 0: the profile's */
    double workload_timeout_s;
    char workload_usage[16];           /* timeline | flat: the simulator's truth model */
    char workload_timeline_file[HB_PATH_MAX];   /* measured timelines; "": beside profile_file */
    double workload_cpu_class_error, workload_mem_class_error;  /* artifact misprediction knob */

    /* [function.ID] applied over the catalog: one entry per workload (ID is a workload id); every
     * function of the run that runs a workload starts from its entry (trace_mapping.h) */
    hb_func_config funcs[HB_NWORKLOADS];
    int func_timeout_set[HB_NWORKLOADS];   /* timeout_s given for the function itself */
    int func_mem_set[HB_NWORKLOADS];       /* user_mem_mb given for the function itself */

    /* The run's function table (one per trace function), once an experiment bound a trace to this
     * configuration (hb_experiment_prepare); borrowed, owned by the experiment. NULL: none bound
     * yet, and the ten workloads stand for the functions one to one (hb_config_run_funcs). */
    const hb_func_config *run_funcs;
    int n_run_funcs;
    const void *run_funcs_trace;       /* the trace (hb_trace) it was built from: the engine uses
                                        * the table only for that trace, else builds its own */

    /* [policy.NAME], [backend.NAME] */
    hb_config_section **sections;      /* each allocated alone: kv pointers stay valid */
    size_t n_sections;

    /* every key as read, in file order (for the manifest) */
    hb_kv *entries;
    size_t n_entries;
} hb_config;

/* Defaults only (no file): what `bench` and tests start from. */
int hb_config_defaults(hb_config *cfg, hb_error *err);
/* Reads a file over the defaults. On error the config is freed and zeroed. */
int hb_config_load(const char *path, hb_config *cfg, hb_error *err);
/* Parses INI text (for tests); name is used in messages and dir for relative paths. */
int hb_config_load_text(const char *text, const char *name, const char *dir, hb_config *cfg,
                        hb_error *err);
void hb_config_free(hb_config *cfg);

/* Applies one SECTION.KEY=VALUE over a loaded configuration (the --set flag), with the same checks
 * as in a file; paths are relative to the current directory. */
int hb_config_set(hb_config *cfg, const char *assignment, hb_error *err);

/* Sets policies from a comma-separated list (the --policy flag); checks each is registered. */
int hb_config_set_policies(hb_config *cfg, const char *list, const char *where, hb_error *err);
/* The same, a name also known when find(ctx, name) is not NULL (out-of-tree policies). */
int hb_config_set_policies_in(hb_config *cfg, const char *list, const char *where,
                              const void *(*find)(const void *ctx, const char *name),
                              const void *ctx, hb_error *err);

/* The keys of [policy.NAME] / [backend.NAME]; an empty list if the file has no such section. */
hb_kvlist *hb_config_section_kv(hb_config *cfg, const char *section);

/* Reports the first key of the section that no one read (an unknown key). */
int hb_config_check_used(const hb_kvlist *kv, hb_error *err);

/* Resolves a path from the config file (relative to its directory) into out; -1 if too long. */
int hb_config_path(const hb_config *cfg, const char *p, char *out, size_t n);

/* When err's message names a path that a key of the configuration (file or --set) gave, prefixes
 * it with where that key is ("file:line: section.key: "), unless it says so already: a missing
 * trace, model or profile then points at the line to fix. Returns err->code. */
int hb_config_locate_path(const hb_config *cfg, hb_error *err);

/* The last entry given for "section.key" (file or --set), or NULL when the key kept its default. */
const hb_kv *hb_config_entry(const hb_config *cfg, const char *section_key);

/* The run's function table: the bound one, else the ten workloads one to one. */
static inline const hb_func_config *hb_config_run_funcs(const hb_config *cfg, int *n)
{
    *n = cfg->run_funcs ? cfg->n_run_funcs : HB_NWORKLOADS;
    return cfg->run_funcs ? cfg->run_funcs : cfg->funcs;
}

/* Every resolved value (defaults included), for the manifest. */
cJSON *hb_config_json(const hb_config *cfg);

/* The schema, for documentation checks: fills names "section.key" one by one; NULL at the end. */
const char *hb_config_schema_key(size_t i);

#endif
