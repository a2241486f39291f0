/* manifest.c - see manifest.h. */
#include "manifest.h"

#include <csv.h>
#include <gsl/gsl_version.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cJSON.h>

#include "engine.h"
#include "files.h"
#include "policy_lib.h"
#include "version.h"

void hb_iso_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void add_versions(cJSON *m)
{
    cJSON *hb = cJSON_AddObjectToObject(m, "harvestbench");
    cJSON_AddStringToObject(hb, "version", hb_version());
    cJSON_AddStringToObject(hb, "git_commit", hb_git_commit());
    cJSON *lib = cJSON_AddObjectToObject(hb, "libraries");
    cJSON_AddStringToObject(lib, "cjson", cJSON_Version());
    cJSON_AddStringToObject(lib, "gsl", GSL_VERSION);
    char v[32];
    snprintf(v, sizeof v, "%d.%d.%d", CSV_MAJOR, CSV_MINOR, CSV_RELEASE);
    cJSON_AddStringToObject(lib, "libcsv", v);
}

static void add_trace(cJSON *m, const hb_experiment *x)
{
    cJSON *tr = cJSON_AddObjectToObject(m, "trace");
    cJSON_AddStringToObject(tr, "source", x->trace->source);
    cJSON_AddStringToObject(tr, "format", x->trace->format);
    cJSON_AddNumberToObject(tr, "functions", (double)x->trace->n_funcs);
    cJSON_AddNumberToObject(tr, "minutes", (double)x->trace->n_minutes);
    cJSON_AddNumberToObject(tr, "invocations", (double)x->trace->total);
    cJSON *map = cJSON_AddObjectToObject(tr, "mapping");
    for (size_t i = 0; i < x->trace->n_funcs; i++)
        cJSON_AddStringToObject(map, x->trace->funcs[i].name, hb_functions[x->trace->funcs[i].bench].id);
    cJSON *pr = cJSON_AddObjectToObject(m, "profile");
    cJSON_AddStringToObject(pr, "name", x->profile->name);
    cJSON_AddStringToObject(pr, "source", x->profile->source);
}

/* HB_CAP_* bits as names. */
static cJSON *add_caps(cJSON *parent, const char *key, unsigned caps)
{
    cJSON *a = cJSON_AddArrayToObject(parent, key);
    if (caps & HB_CAP_SIZING)
        cJSON_AddItemToArray(a, cJSON_CreateString("sizing"));
    if (caps & HB_CAP_PLACEMENT)
        cJSON_AddItemToArray(a, cJSON_CreateString("placement"));
    if (caps & HB_CAP_INVOKER)
        cJSON_AddItemToArray(a, cJSON_CreateString("invoker"));
    return a;
}

/* The backend, how it confines calls (its probe, e.g. the local backend's cgroups), what it
 * honours, and per policy the hook groups it drops. */
static void add_backend(cJSON *m, const hb_manifest *mf)
{
    const hb_backend_ops *be = mf->backend;
    const hb_config *cfg = &mf->x->cfg;
    cJSON_AddStringToObject(m, "backend", be->name);
    if (be->probe) {
        char limits[600];
        be->probe(mf->backend_params, limits, sizeof limits);
        cJSON_AddStringToObject(m, "limits", limits);
    }
    add_caps(m, "capabilities", be->caps);
    cJSON *pol = cJSON_AddArrayToObject(m, "policies");
    cJSON *dropped = cJSON_AddObjectToObject(m, "dropped");
    for (int i = 0; i < cfg->n_policies; i++) {
        cJSON_AddItemToArray(pol, cJSON_CreateString(cfg->policies[i]));
        add_caps(dropped, cfg->policies[i], hb_engine_dropped(mf->policies[i], be));
    }
    cJSON *seeds = cJSON_AddArrayToObject(m, "seeds");
    for (int k = 0; k < cfg->seeds; k++)
        cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)(cfg->seed + (uint64_t)k)));
}

static void add_runs(cJSON *m, const hb_manifest *mf)
{
    static const char *const st[] = {"pending", "complete", "failed"};
    cJSON *ra = cJSON_AddArrayToObject(m, "runs");
    for (size_t i = 0; i < mf->n_runs; i++) {
        const hb_run_entry *run = &mf->runs[i];
        cJSON *r = cJSON_CreateObject();
        cJSON_AddStringToObject(r, "policy", run->policy);
        cJSON_AddNumberToObject(r, "seed_index", run->seed_index);
        cJSON_AddNumberToObject(r, "seed", (double)run->seed);
        char dir[64];
        snprintf(dir, sizeof dir, "%s/seed-%d", run->policy, run->seed_index);
        cJSON_AddStringToObject(r, "dir", dir);
        cJSON_AddStringToObject(r, "status", st[run->status]);
        cJSON_AddItemToArray(ra, r);
    }
}

static cJSON *manifest_json(const hb_manifest *mf, const char *ended, const char *status)
{
    const hb_config *cfg = &mf->x->cfg;
    cJSON *m = cJSON_CreateObject();
    if (!m)
        return NULL;
    add_versions(m);
    cJSON_AddStringToObject(m, "experiment", cfg->name);
    cJSON_AddStringToObject(m, "config_file", cfg->path);
    hb_policy_lib_manifest(m);         /* --policy-lib: which code ran (nothing when none loaded) */
    cJSON_AddItemToObject(m, "config", hb_config_json(cfg));
    add_trace(m, mf->x);
    hb_experiment_manifest_stats(mf->x, m);
    add_backend(m, mf);
    cJSON_AddStringToObject(m, "started", mf->started);
    if (ended)
        cJSON_AddStringToObject(m, "ended", ended);
    else
        cJSON_AddNullToObject(m, "ended");
    cJSON_AddStringToObject(m, "status", status);
    add_runs(m, mf);
    return m;
}

int hb_manifest_write(const hb_manifest *mf, const char *ended, const char *status, hb_error *err)
{
    cJSON *m = manifest_json(mf, ended, status);
    if (!m)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    char path[HB_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/manifest.json", mf->out);
    int rc = hb_write_json(path, m, err);
    cJSON_Delete(m);
    return rc;
}

int hb_manifest_check_resume(const char *out, const hb_config *cfg, hb_error *err)
{
    char path[HB_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/manifest.json", out);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return hb_fail(err, HB_EINPUT, "--resume: %s does not exist (nothing to resume)", path);
    cJSON *m = NULL;
    int rc = hb_read_json(path, &m, err);
    if (rc)
        return hb_error_wrap(err, "--resume");
    cJSON *old = m ? cJSON_GetObjectItemCaseSensitive(m, "config") : NULL;
    cJSON *now = hb_config_json(cfg);
    int same = old && now && cJSON_Compare(old, now, 1);
    cJSON_Delete(m);
    cJSON_Delete(now);
    if (!old)
        return hb_fail(err, HB_EINPUT, "--resume: %s is not a harvestbench manifest", path);
    if (!same)
        return hb_fail(err, HB_EINPUT, "--resume: the configuration differs from the one in %s; "
                       "run without --resume to start again", path);
    return 0;
}
