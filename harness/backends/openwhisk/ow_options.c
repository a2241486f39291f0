/* ow_options.c - see ow_options.h. */
#include "ow_options.h"

#include <stdio.h>
#include <string.h>

static int path_key(hb_kvlist *kv, const char *key, const char *dir, char *out, size_t n,
                    hb_error *err)
{
    const char *v = NULL;
    int rc = hb_kv_string(kv, key, NULL, &v, err);
    if (rc || !v)
        return rc;
    int w = v[0] == '/' || !dir || !*dir ? snprintf(out, n, "%s", v) : snprintf(out, n, "%s/%s", dir, v);
    if (w < 0 || (size_t)w >= n) {
        char where[256];
        return hb_fail(err, HB_EINPUT, "%s: %s: path too long", hb_kv_where(kv, key, where, sizeof where), key);
    }
    return 0;
}

int ow_options_read(hb_kvlist *kv, const char *config_dir, ow_options *o, hb_error *err)
{
    memset(o, 0, sizeof *o);
    o->flavor = OW_STOCK;
    o->prefix = "hb-";
    o->image = "openwhisk/dockerskeleton";
    o->size_scale = 1;
    o->max_connections = 32;
    o->request_timeout_s = 30;
    o->retry_deadline_s = 60;
    o->record_grace_s = 60;
    o->poll_initial_ms = 200;
    o->poll_max_ms = 2000;
    o->check_actions = 1;
    o->redis_timeout_ms = 10000;
    o->redis_trajectory_wait_ms = 5000;
    o->redis_sample_ms = 100;
    static const char *const flavors[] = {"stock", "libra-fork", NULL};
    const char *flavor = NULL;
    int rc = 0;
    if (!rc) rc = hb_kv_string(kv, "apihost", NULL, &o->apihost, err);
    if (!rc) rc = hb_kv_string(kv, "namespace", NULL, &o->ns, err);
    if (!rc) rc = path_key(kv, "auth_file", config_dir, o->auth_file, sizeof o->auth_file, err);
    if (!rc) rc = path_key(kv, "ca_file", config_dir, o->ca_file, sizeof o->ca_file, err);
    if (!rc) rc = hb_kv_bool(kv, "insecure", &o->insecure, err);
    if (!rc) rc = hb_kv_string(kv, "flavor", flavors, &flavor, err);
    if (!rc) rc = hb_kv_string(kv, "action_prefix", NULL, &o->prefix, err);
    if (!rc) rc = hb_kv_string(kv, "image", NULL, &o->image, err);
    if (!rc) rc = path_key(kv, "workloads", config_dir, o->workloads, sizeof o->workloads, err);
    if (!rc) rc = hb_kv_double(kv, "size_scale", 1e-6, 1e6, &o->size_scale, err);
    if (!rc) rc = hb_kv_int(kv, "max_connections", 1, 1024, &o->max_connections, err);
    if (!rc) rc = hb_kv_double(kv, "request_timeout_s", 0.1, 3600, &o->request_timeout_s, err);
    if (!rc) rc = hb_kv_double(kv, "retry_deadline_s", 0, 86400, &o->retry_deadline_s, err);
    if (!rc) rc = hb_kv_double(kv, "record_grace_s", 0, 86400, &o->record_grace_s, err);
    if (!rc) rc = hb_kv_int(kv, "poll_initial_ms", 1, 600000, &o->poll_initial_ms, err);
    if (!rc) rc = hb_kv_int(kv, "poll_max_ms", 1, 600000, &o->poll_max_ms, err);
    if (!rc) rc = hb_kv_bool(kv, "check_actions", &o->check_actions, err);
    if (!rc) rc = hb_kv_string(kv, "redis", NULL, &o->redis, err);
    if (!rc) rc = hb_kv_int(kv, "redis_db", 0, 100000, &o->redis_db, err);
    if (!rc) rc = path_key(kv, "redis_password_file", config_dir, o->redis_password_file,
                           sizeof o->redis_password_file, err);
    if (!rc) rc = hb_kv_int(kv, "redis_timeout_ms", 100, 3600000, &o->redis_timeout_ms, err);
    if (!rc) rc = hb_kv_int(kv, "redis_trajectory_wait_ms", 0, 3600000, &o->redis_trajectory_wait_ms, err);
    if (!rc) rc = hb_kv_int(kv, "redis_sample_ms", 0, 3600000, &o->redis_sample_ms, err);
    if (rc)
        return rc;
    if (flavor && strcmp(flavor, "libra-fork") == 0)
        o->flavor = OW_LIBRA_FORK;
    if (o->redis && o->flavor != OW_LIBRA_FORK) {
        char where[256];
        return hb_fail(err, HB_EINPUT, "%s: redis: the Redis side channel is the Libra fork's: "
                       "set flavor = libra-fork", hb_kv_where(kv, "redis", where, sizeof where));
    }
    if (o->poll_max_ms < o->poll_initial_ms)
        o->poll_max_ms = o->poll_initial_ms;
    /* names: letters, digits, '_', '-', '.', '@' (OpenWhisk's entity names) */
    for (const char *p = o->prefix; *p; p++)
        if (!(*p == '_' || *p == '-' || *p == '.' || *p == '@' || (*p >= '0' && *p <= '9') ||
              (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))) {
            char where[256];
            return hb_fail(err, HB_EINPUT, "%s: action_prefix: '%s' is not usable in an action name",
                           hb_kv_where(kv, "action_prefix", where, sizeof where), o->prefix);
        }
    return 0;
}
