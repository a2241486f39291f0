/* policy_lib.c - policies loaded from shared objects (policy_lib.h). */
#include <cJSON.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "policy_lib.h"
#include "registry.h"

#define MAX_LIBS 64
#define MAX_NAME 31                    /* hb_config.policies[] holds 32 bytes */

typedef struct policy_lib {
    char *path;                        /* absolute, as opened */
    void *handle;
    unsigned long crc;                 /* of the file, for the manifest */
    const hb_policy_ops *const *ops;   /* NULL-terminated, inside the object */
} policy_lib;

/* process-wide, as the dynamic linker's own list is */
static policy_lib libs[MAX_LIBS];
static size_t n_libs;

static int file_crc32(const char *path, unsigned long *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    unsigned char buf[65536];
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crc = crc32(crc, buf, (uInt)n);
    int bad = ferror(f);
    fclose(f);
    *out = crc;
    return bad ? -1 : 0;
}

/* Where else the name is taken, or NULL. */
static const char *name_taken(const char *name, char *buf, size_t len)
{
    for (int i = 0; hb_policy_table[i]; i++)
        if (strcmp(hb_policy_table[i]->name, name) == 0)
            return "the built-in policy of that name";
    for (size_t l = 0; l < n_libs; l++)
        for (size_t k = 0; libs[l].ops[k]; k++)
            if (strcmp(libs[l].ops[k]->name, name) == 0) {
                snprintf(buf, len, "policy '%s' of %s (an earlier --policy-lib)", name, libs[l].path);
                return buf;
            }
    return NULL;
}

/* Checks the entry symbol's contents: version, table size, names. */
static int check_info(const char *path, const hb_policy_plugin_info *info, hb_error *err)
{
    if (info->api_version != HB_POLICY_API_VERSION)
        return hb_fail(err, HB_EINPUT, "%s: built for policy API version %u, this harvestbench has "
                       "version %d (HB_POLICY_API_VERSION): rebuild it against this harvestbench's "
                       "headers (pkg-config --cflags harvestbench)", path, info->api_version,
                       HB_POLICY_API_VERSION);
    if (info->ops_size != sizeof(hb_policy_ops))
        return hb_fail(err, HB_EINPUT, "%s: built with an hb_policy_ops of %u bytes, this harvestbench "
                       "has %zu at the same API version %d: rebuild it against this harvestbench's "
                       "headers", path, info->ops_size, sizeof(hb_policy_ops), HB_POLICY_API_VERSION);
    if (!info->policies || !info->policies[0])
        return hb_fail(err, HB_EINPUT, "%s: names no policy", path);
    for (size_t k = 0; info->policies[k]; k++) {
        const char *name = info->policies[k]->name;
        size_t len = name ? strlen(name) : 0;
        if (len == 0 || len > MAX_NAME || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                        "0123456789_.-") != len)
            return hb_fail(err, HB_EINPUT, "%s: policy %zu: name '%s' is not 1 to %d letters, digits, "
                           "'_', '.' or '-'", path, k + 1, name ? name : "", MAX_NAME);
        char buf[HB_ERRMSG_MAX / 2];
        const char *where = name_taken(name, buf, sizeof buf);
        for (size_t j = 0; j < k && !where; j++)
            if (strcmp(info->policies[j]->name, name) == 0)
                where = "another policy of the same file";
        if (where)
            return hb_fail(err, HB_EINPUT, "%s: policy '%s' clashes with %s", path, name, where);
    }
    return 0;
}

int hb_policy_lib_load(const char *file, hb_error *err)
{
    if (n_libs == MAX_LIBS)
        return hb_fail(err, HB_EINPUT, "%s: more than %d policy libraries", file, MAX_LIBS);
    /* an absolute path: dlopen searches the library path for a name without a slash */
    char *path = realpath(file, NULL);
    if (!path)
        return hb_fail(err, HB_EINPUT, "%s: no such file", file);
    unsigned long crc = 0;
    if (file_crc32(path, &crc)) {
        free(path);
        return hb_fail(err, HB_EINPUT, "%s: cannot read it", file);
    }
    /* RTLD_NOW: a symbol the binary does not export fails here, not in the middle of a run */
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        hb_fail(err, HB_EINPUT, "%s: cannot load it as a policy library: %s", file, why ? why : "?");
        free(path);
        return HB_EINPUT;
    }
    dlerror();
    const hb_policy_plugin_info *info = dlsym(h, HB_POLICY_PLUGIN_SYMBOL);
    int rc = 0;
    if (!info)
        rc = hb_fail(err, HB_EINPUT, "%s: no entry symbol '%s' (a policy library defines it with "
                     "HB_POLICY_PLUGIN(&ops, ...), include/hb_policy.h)", file, HB_POLICY_PLUGIN_SYMBOL);
    else
        rc = check_info(file, info, err);
    if (rc) {
        dlclose(h);
        free(path);
        return rc;
    }
    libs[n_libs++] = (policy_lib){path, h, crc, info->policies};
    return 0;
}

const hb_policy_ops *hb_policy_lib_find(const char *name)
{
    for (size_t l = 0; l < n_libs; l++)
        for (size_t k = 0; libs[l].ops[k]; k++)
            if (strcmp(libs[l].ops[k]->name, name) == 0)
                return libs[l].ops[k];
    return NULL;
}

void hb_policy_lib_manifest(struct cJSON *m)
{
    if (n_libs == 0)
        return;
    cJSON *a = cJSON_AddArrayToObject(m, "policy_libs");
    for (size_t l = 0; a && l < n_libs; l++) {
        cJSON *o = cJSON_CreateObject();
        if (!o)
            return;
        cJSON_AddItemToArray(a, o);
        cJSON_AddStringToObject(o, "path", libs[l].path);
        char crc[16];
        snprintf(crc, sizeof crc, "%08lx", libs[l].crc);
        cJSON_AddStringToObject(o, "crc32", crc);
        cJSON_AddNumberToObject(o, "api_version", HB_POLICY_API_VERSION);
        cJSON *p = cJSON_AddArrayToObject(o, "policies");
        for (size_t k = 0; p && libs[l].ops[k]; k++)
            cJSON_AddItemToArray(p, cJSON_CreateString(libs[l].ops[k]->name));
    }
}

size_t hb_policy_lib_count(void) { return n_libs; }

const char *hb_policy_lib_path(size_t i) { return i < n_libs ? libs[i].path : NULL; }

void hb_policy_lib_unload_all(void)
{
    while (n_libs > 0) {
        policy_lib *l = &libs[--n_libs];
        dlclose(l->handle);
        free(l->path);
        *l = (policy_lib){0};
    }
}
