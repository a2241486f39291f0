/* ow_deploy.h - `harvestbench deploy`: the ten functions as native OpenWhisk actions, one per size
 * variant (ow_variants.h): a zip holding the static binary as `exec`, kind blackbox, the image of
 * [backend.openwhisk] image, limits from the configuration. PUT with overwrite=true, so deploying
 * again updates what is there. A dry run prints the requests without the key; delete removes the
 * variants (absent ones are fine). */
#ifndef HB_OW_DEPLOY_H
#define HB_OW_DEPLOY_H

#include "config.h"
#include "hb_error.h"

/* What the command line gives; NULL or 0: the configuration's [backend.openwhisk] value. */
typedef struct ow_deploy_flags {
    const char *apihost, *auth, *auth_file, *ns, *ca_file;
    const char *flavor;                /* "stock" or "libra-fork" */
    const char *image, *prefix;
    const char *workloads;             /* the binaries' directory; default: workloads/ next to us */
    const char *functions;             /* comma-separated ids; NULL: all */
    int insecure, dry_run, del, quiet;
} ow_deploy_flags;

/* Deploys (or deletes) every selected function's variants; progress goes to stdout unless quiet.
 * The caller initialises libcurl. */
int ow_deploy(hb_config *cfg, const ow_deploy_flags *fl, hb_error *err);

#endif
