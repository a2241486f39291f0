/* ow_deploy.c - deploying the benchmark functions as OpenWhisk actions (ow_deploy.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "openwhisk/ow_auth.h"
#include "common/ow_base64.h"
#include "openwhisk/ow_deploy.h"
#include "openwhisk/ow_http.h"
#include "openwhisk/ow_options.h"
#include "openwhisk/ow_variants.h"
#include "common/ow_zip.h"

/* The directory of the running program (for its workloads/ neighbour). */
static void program_dir(char *out, size_t n)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        snprintf(out, n, ".");
        return;
    }
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    if (strlen(exe) < n)
        memcpy(out, exe, strlen(exe) + 1);
    else
        snprintf(out, n, ".");
}

static int selected(const char *list, const char *id)
{
    if (!list)
        return 1;
    size_t n = strlen(id);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, id, n) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

static cJSON *action_body(const ow_variant *v, const char *ns, const char *image, const char *code,
                          const hb_func_config *fc, ow_flavor flavor)
{
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "namespace", ns);
    cJSON_AddStringToObject(b, "name", v->name);
    cJSON *ex = cJSON_AddObjectToObject(b, "exec");
    cJSON_AddStringToObject(ex, "kind", "blackbox");
    cJSON_AddStringToObject(ex, "image", image);
    cJSON_AddStringToObject(ex, "code", code);
    cJSON_AddBoolToObject(ex, "binary", 1);
    cJSON *lim = cJSON_AddObjectToObject(b, "limits");
    cJSON_AddNumberToObject(lim, "timeout", (double)((fc->timeout + 999) / 1000));
    cJSON_AddNumberToObject(lim, "memory", v->limit_memory);
    cJSON_AddNumberToObject(lim, "logs", 10);
    cJSON_AddNumberToObject(lim, "concurrency", 1);
    cJSON *anns = cJSON_AddArrayToObject(b, "annotations");
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "key", "harvestbench");
    cJSON *val = cJSON_AddObjectToObject(a, "value");
    cJSON_AddStringToObject(val, "function", hb_functions[v->func].id);
    cJSON_AddStringToObject(val, "flavor", ow_flavor_name(flavor));
    cJSON_AddNumberToObject(val, "cpu", v->cores);
    cJSON_AddNumberToObject(val, "memory_mb", v->mem_mb);
    cJSON_AddItemToArray(anns, a);
    cJSON_AddArrayToObject(b, "parameters");
    return b;
}

/* What one deployment carries from function to function. */
typedef struct deploy_run {
    hb_config *cfg;
    const ow_deploy_flags *fl;
    ow_options o;
    ow_creds cr;
    int have_creds;
    const ow_creds *uc;                /* the credentials URLs are made from */
    ow_grid grid;
    size_t done;
} deploy_run;

/* The [backend.openwhisk] options with the flags over them. */
static int deploy_options(deploy_run *d, hb_error *err)
{
    hb_config *cfg = d->cfg;
    const ow_deploy_flags *fl = d->fl;
    ow_options *o = &d->o;
    int rc = ow_options_read(hb_config_section_kv(cfg, "backend.openwhisk"), cfg->dir, o, err);
    if (!rc)
        rc = hb_config_check_used(hb_config_section_kv(cfg, "backend.openwhisk"), err);
    if (rc)
        return rc;
    if (fl->flavor)
        o->flavor = strcmp(fl->flavor, "libra-fork") == 0 ? OW_LIBRA_FORK : OW_STOCK;
    if (fl->image)
        o->image = fl->image;
    if (fl->prefix)
        o->prefix = fl->prefix;
    if (fl->workloads)
        snprintf(o->workloads, sizeof o->workloads, "%s", fl->workloads);
    if (!o->workloads[0]) {
        char dir[900];
        program_dir(dir, sizeof dir);
        snprintf(o->workloads, sizeof o->workloads, "%s/workloads", dir);
    }
    return HB_OK;
}

/* The API host and key; without them only a dry run goes on (*cerr says why). */
static int deploy_creds(deploy_run *d, hb_error *cerr)
{
    const ow_deploy_flags *fl = d->fl;
    const ow_options *o = &d->o;
    ow_creds_given g = {
        .apihost = fl->apihost ? fl->apihost : o->apihost,
        .auth = fl->auth,
        .auth_file = fl->auth ? NULL : fl->auth_file ? fl->auth_file : (o->auth_file[0] ? o->auth_file : NULL),
        .ns = fl->ns ? fl->ns : o->ns,
        .ca_file = fl->ca_file ? fl->ca_file : (o->ca_file[0] ? o->ca_file : NULL),
        .insecure = fl->insecure || o->insecure,
        .where = fl->apihost || fl->auth_file || fl->auth ? "the command line" : "[backend.openwhisk]",
    };
    memset(&d->cr, 0, sizeof d->cr);
    d->have_creds = ow_creds_resolve(&g, &d->cr, cerr) == 0;
    if (!d->have_creds && !fl->dry_run)
        return cerr->code;
    return HB_OK;
}

static void print_intro(const deploy_run *d, const hb_error *cerr)
{
    const ow_deploy_flags *fl = d->fl;
    const ow_creds *cr = &d->cr;
    if (fl->dry_run) {
        printf("dry run: nothing is sent\n");
        if (d->have_creds)
            printf("API host %s (from %s), namespace %s, TLS %s; Authorization: Basic <key from %s, "
                   "not shown>\n", cr->apihost, cr->apihost_from, cr->ns,
                   strncmp(cr->apihost, "http://", 7) == 0 ? "not used (http)"
                   : cr->insecure ? "not verified (--insecure)" : "verified", cr->auth_from);
        else
            printf("no credentials yet (%s)\n", cerr->msg);
    }
    if (!fl->quiet)
        printf("%s %zu actions (flavor %s, image %s) %s %s\n", fl->del ? "deleting" : "deploying",
               d->grid.n, ow_flavor_name(d->o.flavor), d->o.image, fl->del ? "from" : "to",
               d->have_creds ? cr->apihost : "(no API host)");
}

/* Sends (or, in a dry run, prints) one variant's request. */
static int deploy_variant(deploy_run *d, int f, const ow_variant *v, const char *bin,
                          const char *b64, size_t zlen, hb_error *err)
{
    const ow_deploy_flags *fl = d->fl;
    const ow_options *o = &d->o;
    char url[2048];
    if (ow_url(d->uc, "actions", v->name, fl->del ? NULL : "overwrite=true", url, sizeof url))
        return hb_fail(err, HB_EINPUT, "action URL too long for %s", v->name);
    if (fl->dry_run) {
        if (fl->del)
            printf("DELETE %s\n", url);
        else
            printf("PUT %s  {kind blackbox, image %s, code: zip of %s (%zu bytes, %zu "
                   "base64 characters), limits {timeout %lld ms, memory %d%s, logs 10, "
                   "concurrency 1}}\n", url, o->image, bin, zlen, strlen(b64),
                   (long long)((d->cfg->funcs[f].timeout + 999) / 1000), v->limit_memory,
                   o->flavor == OW_LIBRA_FORK ? " (encoded)" : " MB");
        d->done++;
        return HB_OK;
    }
    char *body = NULL;
    if (!fl->del) {
        cJSON *b = action_body(v, d->cr.ns, o->image, b64, &d->cfg->funcs[f], o->flavor);
        body = b ? cJSON_PrintUnformatted(b) : NULL;
        cJSON_Delete(b);
        if (!body)
            return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    ow_response resp = {0};
    int rc = ow_request(&d->cr, fl->del ? "DELETE" : "PUT", url, body,
                        (long)(o->request_timeout_s * 1000), (long)(o->retry_deadline_s * 1000),
                        &resp, err);
    free(body);
    if (!rc && !(resp.status == 200 || (fl->del && resp.status == 404))) {
        char desc[512];
        ow_describe(&resp, desc, sizeof desc);
        rc = hb_fail(err, HB_ERUN, "%s %s: %s", fl->del ? "deleting" : "deploying", v->name, desc);
    }
    ow_response_free(&resp);
    if (!rc) {
        d->done++;
        if (!fl->quiet)
            printf("%s %s (%s %d%s, %s)\n", fl->del ? "deleted" : "deployed", v->name,
                   o->flavor == OW_LIBRA_FORK ? "limit" : "memory", v->limit_memory,
                   o->flavor == OW_LIBRA_FORK ? "" : " MB",
                   o->flavor == OW_LIBRA_FORK ? "encoded cores and memory" : "CPU shares");
    }
    return rc;
}

/* Function f: its binary zipped (unless deleting), then each of its variants. */
static int deploy_function(deploy_run *d, int f, hb_error *err)
{
    char *b64 = NULL;
    size_t zlen = 0;
    char bin[1200];
    snprintf(bin, sizeof bin, "%s/%s", d->o.workloads, hb_functions[f].id);
    if (!d->fl->del) {
        unsigned char *zip = NULL;
        int zrc = ow_zip_exec(bin, &zip, &zlen, err);
        if (zrc) {
            hb_error_wrap(err, "function %s (build the workloads with make, or give "
                          "--workloads DIR)", hb_functions[f].id);
            return zrc;
        }
        b64 = ow_base64_encode(zip, zlen);
        free(zip);
        if (!b64)
            return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    int rc = HB_OK;
    for (size_t i = d->grid.first[f]; i < d->grid.first[f] + d->grid.count[f] && !rc; i++)
        rc = deploy_variant(d, f, &d->grid.v[i], bin, b64, zlen, err);
    free(b64);
    return rc;
}

int ow_deploy(hb_config *cfg, const ow_deploy_flags *fl, hb_error *err)
{
    deploy_run d;
    memset(&d, 0, sizeof d);
    d.cfg = cfg;
    d.fl = fl;
    int rc = deploy_options(&d, err);
    if (rc)
        return rc;
    hb_error cerr;
    if ((rc = deploy_creds(&d, &cerr))) {
        *err = cerr;
        return rc;
    }
    if ((rc = ow_grid_build(d.o.flavor, d.o.prefix, cfg->funcs, (hb_res){cfg->cores, cfg->memory_mb},
                            &d.grid, err))) {
        ow_creds_free(&d.cr);
        return rc;
    }
    print_intro(&d, &cerr);
    static const ow_creds pseudo = {.apihost = "https://APIHOST", .ns = "_"};
    d.uc = d.have_creds ? &d.cr : &pseudo;
    for (int f = 0; f < HB_NWORKLOADS && !rc; f++)
        if (selected(fl->functions, hb_functions[f].id))
            rc = deploy_function(&d, f, err);
    if (!rc && !fl->quiet)
        printf("%zu actions %s\n", d.done, fl->dry_run ? "would be sent" : fl->del ? "deleted" : "deployed");
    ow_grid_free(&d.grid);
    ow_creds_free(&d.cr);
    return rc;
}
