/* ow_options.h - the keys of [backend.openwhisk] (docs/config.md, docs/openwhisk.md), read by
 * both `harvestbench deploy` and the openwhisk backend so that they agree on the variants, and so
 * that each accepts the other's keys. No key holds the secret itself: the key comes from a file,
 * the environment or ~/.wskprops (ow_auth.h), because the configuration is copied into
 * manifest.json. */
#ifndef HB_OW_OPTIONS_H
#define HB_OW_OPTIONS_H

#include "hb_error.h"
#include "hb_policy.h"
#include "ow_variants.h"

typedef struct ow_options {
    const char *apihost;               /* NULL: WSK_APIHOST or ~/.wskprops */
    const char *ns;                    /* NULL: the key's default ("_") */
    char auth_file[1024];              /* "" : WSK_AUTH or ~/.wskprops */
    char ca_file[1024];
    int insecure;
    ow_flavor flavor;
    const char *prefix;                /* action names: PREFIX<id>-... */
    const char *image;                 /* the blackbox image of the native actions */
    char workloads[1024];              /* deploy: directory of the ten binaries; "" : next to harvestbench */
    double size_scale;                 /* multiplies the input size sent to an action */
    long max_connections;
    double request_timeout_s;
    double retry_deadline_s;
    double record_grace_s;
    long poll_initial_ms, poll_max_ms;
    int check_actions;
    /* libra-fork: the fork's Redis side channel (ow_libra.h); redis NULL: none */
    const char *redis;                 /* HOST:PORT */
    long redis_db;
    char redis_password_file[1024];    /* "": HB_REDIS_PASSWORD, else no password */
    long redis_timeout_ms;             /* a prediction write is retried this long */
    long redis_trajectory_wait_ms;     /* a trajectory may appear this long after its record */
    long redis_sample_ms;              /* pools sampled this often; 0: never */
} ow_options;

/* Defaults, then the keys present in kv (which may be empty); relative paths are resolved against
 * config_dir (NULL: the current directory). */
int ow_options_read(hb_kvlist *kv, const char *config_dir, ow_options *o, hb_error *err);

#endif
