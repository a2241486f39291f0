/* cmd_deploy.c - `harvestbench deploy`: the ten functions as native OpenWhisk actions, one per size
 * variant (ow_variants.h): a zip holding the static binary as `exec`, kind blackbox, the image of
 * [backend.openwhisk] image, limits from the configuration. PUT with overwrite=true, so running it
 * again updates what is there. --dry-run prints the requests without the key; --delete removes
 * the variants. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>

#include "commands.h"
#include "config.h"
#include "openwhisk/ow_auth.h"
#include "common/ow_base64.h"
#include "openwhisk/ow_http.h"
#include "openwhisk/ow_options.h"
#include "openwhisk/ow_variants.h"
#include "common/ow_zip.h"

static const char DEPLOY_HELP[] =
    "usage: harvestbench deploy [CONFIG] [--apihost HOST] [--auth-file FILE | --auth KEY]\n"
    "                           [--namespace NS]\n"
    "                           [--insecure] [--ca-file FILE] [--flavor stock|libra-fork]\n"
    "                           [--image IMAGE] [--prefix P] [--workloads DIR] [--functions ID,...]\n"
    "                           [--set SECTION.KEY=VALUE]... [--dry-run] [--delete] [--quiet]\n"
    "\n"
    "Deploys the ten benchmark functions to an OpenWhisk API host as native actions (kind\n"
    "blackbox, a zip holding the static binary as exec), one action per size variant the\n"
    "openwhisk backend invokes (docs/openwhisk.md). Limits and clip ranges come from CONFIG's\n"
    "[function.ID] and [workload] sections, the rest from its [backend.openwhisk] section; flags\n"
    "override the file. Actions are created or replaced (overwrite=true): deploying again is safe.\n"
    "\n"
    "The API host and key come from the flags, else WSK_APIHOST / WSK_AUTH, else the wsk\n"
    "properties file ($WSK_CONFIG_FILE or ~/.wskprops: APIHOST, AUTH, NAMESPACE). The key is\n"
    "never printed.\n"
    "\n"
    "  --apihost HOST    host[:port] (https:// is assumed) or an http(s):// URL\n"
    "  --auth-file FILE  a file holding the key UUID:KEY (or a wsk properties file)\n"
    "  -u, --auth KEY    the key UUID:KEY itself, as wsk's flag (visible to other users in the\n"
    "                    process list: prefer a file or WSK_AUTH)\n"
    "  --namespace NS    default: the key's own (_)\n"
    "  --insecure        do not verify the server's TLS certificate (self-signed deployments)\n"
    "  --ca-file FILE    verify the server against this CA bundle\n"
    "  --flavor F        stock (memory variants) or libra-fork (encoded (cpu, memory) variants)\n"
    "  --image IMAGE     the blackbox image (default openwhisk/dockerskeleton)\n"
    "  --prefix P        action names start with P (default hb-)\n"
    "  --workloads DIR   the ten binaries (default: the workloads/ next to this program)\n"
    "  --functions LIST  only these function ids\n"
    "  --dry-run         print what would be sent; send nothing\n"
    "  --delete          delete the variants instead (absent ones are fine)\n"
    "\n"
    "Exit status: 0 all done, 1 a request failed, 2 bad usage or input.\n";

typedef struct deploy_flags {
    const char *apihost, *auth, *auth_file, *ns, *ca_file, *flavor, *image, *prefix, *workloads, *functions;
    int insecure, dry_run, del, quiet;
} deploy_flags;

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

static int run_deploy(hb_config *cfg, const deploy_flags *fl, hb_error *err)
{
    ow_options o;
    int rc = ow_options_read(hb_config_section_kv(cfg, "backend.openwhisk"), cfg->dir, &o, err);
    if (!rc)
        rc = hb_config_check_used(hb_config_section_kv(cfg, "backend.openwhisk"), err);
    if (rc)
        return rc;
    if (fl->flavor)
        o.flavor = strcmp(fl->flavor, "libra-fork") == 0 ? OW_LIBRA_FORK : OW_STOCK;
    if (fl->image)
        o.image = fl->image;
    if (fl->prefix)
        o.prefix = fl->prefix;
    if (fl->workloads)
        snprintf(o.workloads, sizeof o.workloads, "%s", fl->workloads);
    if (!o.workloads[0]) {
        char dir[900];
        program_dir(dir, sizeof dir);
        snprintf(o.workloads, sizeof o.workloads, "%s/workloads", dir);
    }
    ow_creds_given g = {
        .apihost = fl->apihost ? fl->apihost : o.apihost,
        .auth = fl->auth,
        .auth_file = fl->auth ? NULL : fl->auth_file ? fl->auth_file : (o.auth_file[0] ? o.auth_file : NULL),
        .ns = fl->ns ? fl->ns : o.ns,
        .ca_file = fl->ca_file ? fl->ca_file : (o.ca_file[0] ? o.ca_file : NULL),
        .insecure = fl->insecure || o.insecure,
        .where = fl->apihost || fl->auth_file || fl->auth ? "the command line" : "[backend.openwhisk]",
    };
    ow_creds cr;
    memset(&cr, 0, sizeof cr);
    hb_error cerr;
    int have_creds = ow_creds_resolve(&g, &cr, &cerr) == 0;
    if (!have_creds && !fl->dry_run) {
        *err = cerr;
        return cerr.code;
    }
    ow_grid grid;
    if ((rc = ow_grid_build(o.flavor, o.prefix, cfg->funcs, (hb_res){cfg->cores, cfg->memory_mb},
                            &grid, err))) {
        ow_creds_free(&cr);
        return rc;
    }
    if (fl->dry_run) {
        printf("dry run: nothing is sent\n");
        if (have_creds)
            printf("API host %s (from %s), namespace %s, TLS %s; Authorization: Basic <key from %s, "
                   "not shown>\n", cr.apihost, cr.apihost_from, cr.ns,
                   strncmp(cr.apihost, "http://", 7) == 0 ? "not used (http)"
                   : cr.insecure ? "not verified (--insecure)" : "verified", cr.auth_from);
        else
            printf("no credentials yet (%s)\n", cerr.msg);
    }
    if (!fl->quiet)
        printf("%s %zu actions (flavor %s, image %s) %s %s\n", fl->del ? "deleting" : "deploying",
               grid.n, ow_flavor_name(o.flavor), o.image, fl->del ? "from" : "to",
               have_creds ? cr.apihost : "(no API host)");
    const ow_creds pseudo = {.apihost = "https://APIHOST", .ns = "_"};
    const ow_creds *uc = have_creds ? &cr : &pseudo;
    size_t done = 0;
    for (int f = 0; f < HB_NWORKLOADS && !rc; f++) {
        if (!selected(fl->functions, hb_functions[f].id))
            continue;
        char *b64 = NULL;
        size_t zlen = 0;
        char bin[1200];
        snprintf(bin, sizeof bin, "%s/%s", o.workloads, hb_functions[f].id);
        if (!fl->del) {
            unsigned char *zip = NULL;
            if ((rc = ow_zip_exec(bin, &zip, &zlen, err))) {
                hb_error_wrap(err, "function %s (build the workloads with make, or give "
                              "--workloads DIR)", hb_functions[f].id);
                break;
            }
            b64 = ow_base64_encode(zip, zlen);
            free(zip);
            if (!b64) {
                rc = hb_fail(err, HB_ENOMEM, "out of memory");
                break;
            }
        }
        for (size_t i = grid.first[f]; i < grid.first[f] + grid.count[f] && !rc; i++) {
            const ow_variant *v = &grid.v[i];
            char url[2048];
            if (ow_url(uc, "actions", v->name, fl->del ? NULL : "overwrite=true", url, sizeof url)) {
                rc = hb_fail(err, HB_EINPUT, "action URL too long for %s", v->name);
                break;
            }
            if (fl->dry_run) {
                if (fl->del)
                    printf("DELETE %s\n", url);
                else
                    printf("PUT %s  {kind blackbox, image %s, code: zip of %s (%zu bytes, %zu "
                           "base64 characters), limits {timeout %lld ms, memory %d%s, logs 10, "
                           "concurrency 1}}\n", url, o.image, bin, zlen, strlen(b64),
                           (long long)((cfg->funcs[f].timeout + 999) / 1000), v->limit_memory,
                           o.flavor == OW_LIBRA_FORK ? " (encoded)" : " MB");
                done++;
                continue;
            }
            char *body = NULL;
            if (!fl->del) {
                cJSON *b = action_body(v, cr.ns, o.image, b64, &cfg->funcs[f], o.flavor);
                body = b ? cJSON_PrintUnformatted(b) : NULL;
                cJSON_Delete(b);
                if (!body) {
                    rc = hb_fail(err, HB_ENOMEM, "out of memory");
                    break;
                }
            }
            ow_response resp = {0};
            rc = ow_request(&cr, fl->del ? "DELETE" : "PUT", url, body,
                            (long)(o.request_timeout_s * 1000), (long)(o.retry_deadline_s * 1000),
                            &resp, err);
            free(body);
            if (!rc && !(resp.status == 200 || (fl->del && resp.status == 404))) {
                char d[512];
                ow_describe(&resp, d, sizeof d);
                rc = hb_fail(err, HB_ERUN, "%s %s: %s", fl->del ? "deleting" : "deploying", v->name, d);
            }
            ow_response_free(&resp);
            if (!rc) {
                done++;
                if (!fl->quiet)
                    printf("%s %s (%s %d%s, %s)\n", fl->del ? "deleted" : "deployed", v->name,
                           o.flavor == OW_LIBRA_FORK ? "limit" : "memory", v->limit_memory,
                           o.flavor == OW_LIBRA_FORK ? "" : " MB",
                           o.flavor == OW_LIBRA_FORK ? "encoded cores and memory" : "CPU shares");
            }
        }
        free(b64);
    }
    if (!rc && !fl->quiet)
        printf("%zu actions %s\n", done, fl->dry_run ? "would be sent" : fl->del ? "deleted" : "deployed");
    ow_grid_free(&grid);
    ow_creds_free(&cr);
    return rc;
}

int cmd_deploy(int argc, char **argv)
{
    static const struct option opts[] = {
        {"apihost", required_argument, NULL, 'H'},   {"auth-file", required_argument, NULL, 'a'},
        {"auth", required_argument, NULL, 'u'},
        {"namespace", required_argument, NULL, 'n'}, {"insecure", no_argument, NULL, 'i'},
        {"ca-file", required_argument, NULL, 'C'},   {"flavor", required_argument, NULL, 'f'},
        {"image", required_argument, NULL, 'I'},     {"prefix", required_argument, NULL, 'p'},
        {"workloads", required_argument, NULL, 'w'}, {"functions", required_argument, NULL, 'F'},
        {"set", required_argument, NULL, 'S'},       {"dry-run", no_argument, NULL, 'd'},
        {"delete", no_argument, NULL, 'D'},          {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    deploy_flags fl;
    memset(&fl, 0, sizeof fl);
    const char *sets[64];
    int n_sets = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hu:", opts, NULL)) != -1) {
        switch (c) {
        case 'H': fl.apihost = optarg; break;
        case 'u': fl.auth = optarg; break;
        case 'a': fl.auth_file = optarg; break;
        case 'n': fl.ns = optarg; break;
        case 'i': fl.insecure = 1; break;
        case 'C': fl.ca_file = optarg; break;
        case 'f':
            if (strcmp(optarg, "stock") && strcmp(optarg, "libra-fork"))
                return hb_usage_error("deploy", "--flavor: '%s' is not stock or libra-fork", optarg);
            fl.flavor = optarg;
            break;
        case 'I': fl.image = optarg; break;
        case 'p': fl.prefix = optarg; break;
        case 'w': fl.workloads = optarg; break;
        case 'F':
            for (const char *p = optarg; *p;) {
                size_t k = strcspn(p, ",");
                char id[16];
                snprintf(id, sizeof id, "%.*s", (int)(k < 15 ? k : 15), p);
                if (hb_function_find(id) < 0)
                    return hb_usage_error("deploy", "--functions: '%s' is not a function id", id);
                p += k + (p[k] == ',');
            }
            fl.functions = optarg;
            break;
        case 'S':
            if (n_sets == 64)
                return hb_usage_error("deploy", "more than 64 --set flags");
            sets[n_sets++] = optarg;
            break;
        case 'd': fl.dry_run = 1; break;
        case 'D': fl.del = 1; break;
        case 'q': fl.quiet = 1; break;
        case 'h': fputs(DEPLOY_HELP, stdout); return 0;
        default:
        {
            /* the option's name only: "--aut=KEY" (ambiguous) must not print the key */
            const char *bad = argv[optind - 1];
            return hb_usage_error("deploy", "unknown or incomplete option '%.*s'",
                                  (int)strcspn(bad, "="), bad);
        }
        }
    }
    if (fl.auth && fl.auth_file)
        return hb_usage_error("deploy", "give the key by --auth or by --auth-file, not both");
    if (argc - optind > 1)
        return hb_usage_error("deploy", "unexpected argument '%s'", argv[optind + 1]);
    hb_error err;
    hb_error_clear(&err);
    hb_config cfg;
    int rc = optind < argc ? hb_config_load(argv[optind], &cfg, &err) : hb_config_defaults(&cfg, &err);
    for (int i = 0; i < n_sets && !rc; i++)
        rc = hb_config_set(&cfg, sets[i], &err);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (!rc)
        rc = run_deploy(&cfg, &fl, &err);
    curl_global_cleanup();
    if (rc)
        fprintf(stderr, "harvestbench deploy: %s\n", err.msg);
    hb_config_free(&cfg);
    return rc ? hb_exit_status(rc) : 0;
}
