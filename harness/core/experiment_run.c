/* experiment_run.c - see experiment_run.h. The stages, in order: resolve (overrides, trace,
 * sections), the results directory (resume check, previous results, manifest), the policy x seed
 * loop (one run_one per run), the closing manifest. */
#include "experiment_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"
#include "files.h"
#include "manifest.h"
#include "trace_mapping.h"
#include "registry.h"
#include "results_reader.h"
#include "seed.h"
#include "stop_signal.h"

/* What one experiment's stages share. */
typedef struct run_ctx {
    const hb_run_spec *spec;
    hb_experiment *x;
    const hb_backend_ops *be;
    const hb_policy_ops *pols[HB_MAX_POLICIES];   /* the ops of x->cfg.policies[i] */
    hb_manifest mf;
    hb_run_result *res;
    volatile sig_atomic_t *stop;
    int files;
    hb_error run_err;                  /* the last failed run's message */
} run_ctx;

static const void *find_extra(const void *ctx, const char *name);

const hb_policy_ops *hb_run_policy_find(const hb_run_spec *spec, const char *name)
{
    const hb_policy_ops *p = spec ? find_extra(spec, name) : NULL;
    return p ? p : hb_policy_find(name);
}

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* ---- resolving the configuration ---- */

/* An extra policy of that name (for the --policy list). */
static const void *find_extra(const void *ctx, const char *name)
{
    const hb_run_spec *spec = ctx;
    for (size_t i = 0; i < spec->n_extra_policies; i++)
        if (spec->extra_policies[i] && strcmp(spec->extra_policies[i]->name, name) == 0)
            return spec->extra_policies[i];
    return NULL;
}

static int apply_overrides(const hb_run_spec *spec, hb_config *cfg, hb_error *err)
{
    int rc = 0;
    for (int i = 0; i < spec->n_sets && !rc; i++)
        rc = hb_config_set(cfg, spec->sets[i], err);
    if (!rc && spec->policies)
        rc = hb_config_set_policies_in(cfg, spec->policies, "--policy", find_extra, spec, err);
    if (!rc && spec->seeds > 0)
        cfg->seeds = spec->seeds;
    if (rc || !spec->backend)
        return rc;
    if (!hb_backend_find(spec->backend)) {
        char known[256] = "";
        for (int i = 0; hb_backend_table[i]; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                     i == 0 ? "" : hb_backend_table[i + 1] ? ", " : " or ", hb_backend_table[i]->name);
        return hb_fail(err, HB_EINPUT, "--backend: '%s' is not %s", spec->backend, known);
    }
    snprintf(cfg->backend, sizeof cfg->backend, "%s", spec->backend);
    return 0;
}

/* One policy reads its section now: it is created with a generator of its own and destroyed, so
 * the runs do not see it. */
static int check_policy(hb_config *cfg, const hb_policy_ops *po, const hb_backend_ops *be,
                        hb_error *err)
{
    char sec[64];
    snprintf(sec, sizeof sec, "policy.%s", po->name);
    hb_kvlist *kv = hb_config_section_kv(cfg, sec);
    if (po->create) {
        gsl_rng *rng = hb_rng_new(cfg->seed, "validate");
        if (!rng)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        hb_policy_ctx ctx;
        hb_engine_policy_ctx(cfg, po->name, kv, rng, 0, be->caps, &ctx);
        void *state = NULL;
        int rc = po->create(&ctx, &state, err);
        if (rc)
            hb_error_wrap(err, "policy %s", po->name);
        else if (po->destroy)
            po->destroy(state);
        gsl_rng_free(rng);
        if (rc)
            return rc;
    }
    return hb_config_check_used(kv, err);
}

/* Every selected policy, and the backend, reads its section before anything runs and before
 * earlier results are replaced: a bad key (from the file or --set) fails at once, naming file,
 * line and key, instead of when its policy starts. */
static int check_sections(run_ctx *c, hb_error *err)
{
    hb_config *cfg = &c->x->cfg;
    for (int p = 0; p < cfg->n_policies; p++) {
        int rc = check_policy(cfg, c->pols[p], c->be, err);
        if (rc)
            return rc;
    }
    char sec[64];
    snprintf(sec, sizeof sec, "backend.%s", c->be->name);
    hb_kvlist *kv = hb_config_section_kv(cfg, sec);
    if (c->be->check_params)
        return c->be->check_params(kv, cfg->dir, err);
    return hb_config_check_used(kv, err);
}

/* The backend and the policies' ops; with a configuration to resolve, the overrides, the trace and
 * the workload model, and the sections' check. */
static int resolve(run_ctx *c, hb_error *err)
{
    const hb_run_spec *spec = c->spec;
    hb_config *cfg = &c->x->cfg;
    int prepared = c->x->trace != NULL;
    int rc = prepared ? 0 : apply_overrides(spec, cfg, err);
    if (!rc && !(c->be = hb_backend_find(cfg->backend)))
        rc = hb_fail(err, HB_EINPUT, "backend '%s' is not available in this build", cfg->backend);
    for (int p = 0; p < cfg->n_policies && !rc; p++)
        if (!(c->pols[p] = hb_run_policy_find(spec, cfg->policies[p])))
            rc = hb_fail(err, HB_EINPUT, "unknown policy '%s'", cfg->policies[p]);
    if (!rc && cfg->n_policies < 1)
        rc = hb_fail(err, HB_EINPUT, "no policy given");
    if (!rc && !prepared)
        rc = hb_experiment_prepare(c->x, err);
    if (!rc && !prepared)
        rc = check_sections(c, err);
    if (rc)
        hb_config_locate_path(cfg, err);
    return rc;
}

/* ---- the result ---- */

static int result_new(const hb_config *cfg, hb_run_result **out)
{
    hb_run_result *r = calloc(1, sizeof *r);
    if (!r)
        return HB_ENOMEM;
    r->n_policies = cfg->n_policies;
    r->n_runs = (size_t)cfg->n_policies * (size_t)(cfg->seeds > 0 ? cfg->seeds : 0);
    r->policies = calloc((size_t)cfg->n_policies, sizeof *r->policies);
    r->runs = calloc(r->n_runs ? r->n_runs : 1, sizeof *r->runs);
    *out = r;
    if (!r->policies || !r->runs)
        return HB_ENOMEM;
    for (int p = 0, i = 0; p < cfg->n_policies; p++) {
        snprintf(r->policies[p].name, sizeof r->policies[p].name, "%s", cfg->policies[p]);
        hb_stats_init(&r->policies[p].pooled, 1);
        for (int k = 1; k <= cfg->seeds; k++, i++) {
            snprintf(r->runs[i].policy, sizeof r->runs[i].policy, "%s", cfg->policies[p]);
            r->runs[i].seed_index = k;
            r->runs[i].seed = cfg->seed + (uint64_t)(k - 1);
        }
    }
    return 0;
}

void hb_run_result_free(hb_run_result *r)
{
    if (!r)
        return;
    for (int p = 0; r->policies && p < r->n_policies; p++)
        hb_stats_free(&r->policies[p].pooled);
    free(r->policies);
    free(r->runs);
    free(r);
}

const hb_policy_result *hb_run_result_policy(const hb_run_result *r, const char *name)
{
    for (int p = 0; r && p < r->n_policies; p++)
        if (strcmp(r->policies[p].name, name) == 0)
            return &r->policies[p];
    return NULL;
}

int hb_run_exit_status(const hb_run_result *r)
{
    if (!r)
        return 2;
    if (r->failed == HB_EINPUT)
        return 2;
    return r->complete && !r->experiment_rc ? 0 : 1;
}

/* ---- the results directory ---- */

/* --out, else [experiment] out, else results/NAME. */
static void out_dir(const hb_run_spec *spec, const hb_config *cfg, char *out, size_t n)
{
    if (spec->out)
        snprintf(out, n, "%s", spec->out);
    else if (cfg->out[0])
        snprintf(out, n, "%s", cfg->out);
    else
        snprintf(out, n, "results/%s", cfg->name);
}

/* The directory exists; without --resume the previous results of these policies are removed;
 * the manifest lists every run as pending. */
static int open_out(run_ctx *c, hb_error *err)
{
    const hb_config *cfg = &c->x->cfg;
    const char *out = c->res->out;
    int rc = c->spec->resume ? hb_manifest_check_resume(out, cfg, err) : 0;
    if (!rc)
        rc = hb_mkdirs(out, err);
    if (!rc && !c->spec->resume) {
        char path[HB_PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/manifest.json", out);
        if (file_exists(path) && !c->spec->quiet && c->spec->who)
            fprintf(stderr, "%s: replacing the previous results in %s\n", c->spec->who, out);
        for (int p = 0; p < cfg->n_policies && !rc; p++) {
            snprintf(path, sizeof path, "%s/%s", out, cfg->policies[p]);
            if (hb_remove_tree(path) != 0)
                rc = hb_fail(err, HB_EIO, "%s: cannot remove the previous results", path);
        }
    }
    c->mf = (hb_manifest){out, c->x, c->be, NULL, c->pols, c->res->runs, c->res->n_runs, ""};
    char sec[64];
    snprintf(sec, sizeof sec, "backend.%s", c->be->name);
    c->mf.backend_params = hb_config_section_kv(&c->x->cfg, sec);
    hb_iso_now(c->mf.started, sizeof c->mf.started);
    if (!rc)
        rc = hb_manifest_write(&c->mf, NULL, "incomplete", err);
    if (!rc)   /* OUT/mapping.csv, the mapping printed, the offered-load warning (trace_mapping.h) */
        rc = hb_run_mapping_report(&c->x->cfg, c->x->trace, c->x->profile, out,
                                   c->spec->quiet ? NULL : stdout, stderr, err);
    return rc;
}

/* Hook groups of a policy the backend cannot honour are not applied; said once, before the runs. */
static void warn_dropped(const run_ctx *c)
{
    const hb_config *cfg = &c->x->cfg;
    for (int p = 0; p < cfg->n_policies && c->spec->who; p++) {
        unsigned d = hb_engine_dropped(c->pols[p], c->be);
        if (d)
            fprintf(stderr, "%s: backend %s cannot honour the %s%s%s hooks of policy %s; they are "
                    "not applied (recorded in manifest.json)\n", c->spec->who, c->be->name,
                    d & HB_CAP_SIZING ? "sizing " : "", d & HB_CAP_PLACEMENT ? "placement " : "",
                    d & HB_CAP_INVOKER ? "invoker-side " : "", cfg->policies[p]);
    }
}

/* The artifact names its CSVs {name}_{exp}_{episode}: name the policy's artifact_name, in which
 * "{trace}" is the trace's prefix (multi_K for constant traces, else what precedes
 * "_invocation_traces_" in the trace file's name), exp the number after it. */
static void artifact_stem(const hb_policy_ops *po, const char *trace_path, int seed_index,
                          char *out, size_t n)
{
    const char *base = strrchr(trace_path, '/');
    base = base ? base + 1 : trace_path;
    const char *mark = strstr(base, "_invocation_traces_");
    char prefix[128] = "trace", exp[32] = "0", name[160];
    if (strncmp(base, "multi_", 6) == 0) {                /* constant traces: multi_K */
        snprintf(prefix, sizeof prefix, "%.*s", (int)strcspn(base, " "), base);
    } else if (mark) {
        snprintf(prefix, sizeof prefix, "%.*s", (int)(mark - base), base);
        const char *e = mark + strlen("_invocation_traces_");
        snprintf(exp, sizeof exp, "%.*s", (int)strcspn(e, "."), e);
    }
    const char *an = po->artifact_name ? po->artifact_name : po->name;
    const char *t = strstr(an, "{trace}");
    if (t)
        snprintf(name, sizeof name, "%.*s%s%s", (int)(t - an), an, prefix, t + strlen("{trace}"));
    else
        snprintf(name, sizeof name, "%s", an);
    snprintf(out, n, "%s_%s_%d", name, exp, seed_index - 1);
}

/* ---- the runs ---- */

/* One run through the engine into st (and, with files, into its directory). */
static int engine_run(run_ctx *c, int p, const hb_run_entry *r, hb_run_writer *w,
                      hb_run_stats *st, hb_error *err)
{
    const hb_run_spec *spec = c->spec;
    hb_experiment *x = c->x;
    char sec[64], label[128];
    snprintf(sec, sizeof sec, "policy.%s", r->policy);
    hb_kvlist *pkv = hb_config_section_kv(&x->cfg, sec);
    snprintf(sec, sizeof sec, "backend.%s", c->be->name);
    hb_kvlist *bkv = hb_config_section_kv(&x->cfg, sec);
    snprintf(label, sizeof label, "%s seed %d/%d", r->policy, r->seed_index, x->cfg.seeds);
    hb_engine_spec es = {
        .cfg = &x->cfg, .trace = x->trace, .profile = x->profile, .arrival = x->arrival,
        .sizes = x->sizes, .policy = c->pols[p], .policy_params = pkv,
        .policy_state = spec->policy_state, .backend = c->be, .backend_params = bkv,
        .seed = r->seed, .seed_index = r->seed_index, .training = spec->training, .writer = w,
        .stats = st, .usage = spec->usage, .stop = c->stop,
        .progress_label = spec->progress ? label : NULL,
        .on_record = spec->on_record, .on_record_ctx = spec->on_record_ctx,
    };
    return hb_engine_run(&es, err);
}

/* One run: its directory is replaced; its files are renamed into place only when it completes. */
static int run_one(run_ctx *c, int p, hb_run_entry *r, hb_run_stats *st, hb_error *err)
{
    char dir[HB_PATH_MAX + 64], stem[256];
    hb_run_writer *w = NULL;
    int rc = 0;
    if (c->files) {
        snprintf(dir, sizeof dir, "%s/%s/seed-%d", c->res->out, r->policy, r->seed_index);
        hb_remove_tree(dir);           /* what an interrupted attempt left; open fails if it stayed */
        artifact_stem(c->pols[p], c->x->trace->source, r->seed_index, stem, sizeof stem);
        hb_writer_spec ws = {dir, stem, c->pols[p]->columns};
        rc = hb_writer_open(&ws, &w, err);
    }
    if (!rc)
        rc = engine_run(c, p, r, w, st, err);
    if (!rc && w) {
        cJSON *sj = hb_stats_json(st, r->policy, r->seed_index, r->seed, c->be->name);
        rc = sj ? hb_writer_finish(w, sj, err) : hb_fail(err, HB_ENOMEM, "out of memory");
        w = NULL;
        cJSON_Delete(sj);
    }
    if (rc)
        hb_writer_abort(w);
    return rc;
}

/* With --resume, a run whose summary.json reads is kept (one that does not is run again): 1 kept,
 * 0 to run, -1 when its statistics could not be pooled. */
static int keep_resumed(run_ctx *c, int p, hb_run_entry *r)
{
    char sum[HB_PATH_MAX + 96];
    snprintf(sum, sizeof sum, "%s/%s/seed-%d/summary.json", c->res->out, r->policy, r->seed_index);
    hb_run_stats st;
    hb_stats_init(&st, 1);
    hb_stats_columns(&st, c->pols[p]->columns);   /* read back from summary.json by name */
    hb_error ignored;
    if (!c->spec->resume || !c->files || !file_exists(sum) ||
        hb_summary_read_stats(sum, &st, &ignored) != 0) {
        hb_stats_free(&st);
        return 0;
    }
    r->status = HB_RUN_COMPLETE;
    r->kept = 1;
    int rc = hb_pool_add(&c->res->policies[p], &st);
    hb_stats_free(&st);
    if (rc) {
        c->res->experiment_rc = hb_fail(&c->res->experiment_err, rc, "%s seed %d: out of memory "
                                        "pooling its statistics", r->policy, r->seed_index);
        return -1;
    }
    if (c->spec->on_run)
        c->spec->on_run(c->spec->on_run_ctx, r, NULL, NULL);
    return 1;
}

/* A run ended: pooled, reported, and recorded in the manifest. Returns what stops the loop. */
static int run_ended(run_ctx *c, int p, hb_run_entry *r, const hb_run_stats *st, int rc)
{
    hb_run_result *res = c->res;
    if (rc) {
        r->status = rc == HB_EINTR ? HB_RUN_PENDING : HB_RUN_FAILED;
        if (rc == HB_EINTR)
            return 0;
        hb_config_locate_path(&c->x->cfg, &c->run_err);
        res->failed = rc;
        if (c->spec->on_run)
            c->spec->on_run(c->spec->on_run_ctx, r, NULL, &c->run_err);
        return rc == HB_EINPUT;        /* bad input fails every run alike */
    }
    r->status = HB_RUN_COMPLETE;
    if (c->spec->on_run)
        c->spec->on_run(c->spec->on_run_ctx, r, st, NULL);
    int prc = hb_pool_add(&res->policies[p], st);
    if (prc)
        res->experiment_rc = hb_fail(&res->experiment_err, prc, "%s seed %d: out of memory "
                                     "pooling its statistics", r->policy, r->seed_index);
    else if (c->files)
        res->experiment_rc = hb_manifest_write(&c->mf, NULL, "incomplete", &res->experiment_err);
    return res->experiment_rc != 0;
}

static void run_all(run_ctx *c)
{
    hb_run_result *res = c->res;
    int seeds = c->x->cfg.seeds;
    for (size_t i = 0; i < res->n_runs && !(c->stop && *c->stop); i++) {
        hb_run_entry *r = &res->runs[i];
        int p = (int)(i / (size_t)seeds);
        int kept = keep_resumed(c, p, r);
        if (kept < 0 || res->experiment_rc)
            break;
        if (kept)
            continue;
        hb_run_stats st;
        hb_stats_init(&st, !c->spec->no_latencies);
        hb_stats_columns(&st, c->pols[p]->columns);
        hb_error_clear(&c->run_err);
        int rc = run_one(c, p, r, &st, &c->run_err);
        int stop = run_ended(c, p, r, &st, rc);
        hb_stats_free(&st);
        if (stop)
            break;
    }
}

/* The closing manifest, and what the caller gets back as the code and message. */
static int finish(run_ctx *c, hb_error *err)
{
    hb_run_result *res = c->res;
    res->interrupted = c->stop && *c->stop;
    res->complete = 1;
    for (size_t i = 0; i < res->n_runs; i++)
        res->complete &= res->runs[i].status == HB_RUN_COMPLETE;
    if (c->files) {
        char ended[32];
        hb_iso_now(ended, sizeof ended);
        hb_error merr;
        hb_error_clear(&merr);
        int rc = hb_manifest_write(&c->mf, ended, res->complete ? "complete" : "incomplete", &merr);
        if (rc && !res->experiment_rc) {
            res->experiment_rc = rc;
            res->experiment_err = merr;
        }
    }
    if (res->experiment_rc) {
        *err = res->experiment_err;
        return res->experiment_rc;
    }
    if (res->failed) {
        *err = c->run_err;
        return res->failed;
    }
    if (!res->complete)
        return hb_fail(err, HB_EINTR, "interrupted");
    return 0;
}

int hb_experiment_run(const hb_run_spec *spec, hb_run_result **out, hb_error *err)
{
    *out = NULL;
    run_ctx c = {.spec = spec, .x = spec->x, .files = !spec->no_files};
    int rc = resolve(&c, err);
    if (rc)
        return rc;
    if ((rc = result_new(&c.x->cfg, &c.res))) {
        hb_run_result_free(c.res);
        return hb_fail(err, rc, "out of memory");
    }
    if (c.files)
        out_dir(spec, &c.x->cfg, c.res->out, sizeof c.res->out);
    if (c.files && (rc = open_out(&c, err))) {
        hb_run_result_free(c.res);
        return rc;
    }
    warn_dropped(&c);
    hb_stop_guard guard;
    c.stop = spec->catch_signals ? hb_stop_install(&guard) : spec->stop;
    run_all(&c);
    if (spec->catch_signals)
        hb_stop_restore(&guard);
    rc = finish(&c, err);
    *out = c.res;
    return rc;
}
