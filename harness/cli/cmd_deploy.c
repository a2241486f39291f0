/* cmd_deploy.c - `harvestbench deploy`: the ten functions as native OpenWhisk actions. The flags
 * are parsed here; what is sent and how: openwhisk/ow_deploy.h. */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "openwhisk/ow_deploy.h"

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
    ow_deploy_flags fl;
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
        rc = ow_deploy(&cfg, &fl, &err);
    curl_global_cleanup();
    if (rc)
        fprintf(stderr, "harvestbench deploy: %s\n", err.msg);
    hb_config_free(&cfg);
    return rc ? hb_exit_status(rc) : 0;
}
