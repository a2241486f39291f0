/* files.c - see files.h. */
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "dynbuf.h"

int hb_read_text(const char *path, char **out, size_t *len, hb_error *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return hb_fail_at(err, errno == ENOENT ? HB_EINPUT : HB_EIO, path, 0, NULL,
                          "cannot open: %s", strerror(errno));
    hb_dynbuf b;
    hb_dyn_init(&b, HB_DYN_UNLIMITED);
    char chunk[65536];
    size_t got;
    int rc = HB_OK;
    while (rc == HB_OK && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = hb_dyn_addn(&b, chunk, got);
    int bad = ferror(f);
    fclose(f);
    if (rc == HB_OK && !bad && !(*out = hb_dyn_take(&b, len)))
        rc = HB_ENOMEM;
    hb_dyn_free(&b);
    if (rc != HB_OK)
        return hb_fail(err, HB_ENOMEM, "out of memory reading %s", path);
    if (bad)
        return hb_fail_at(err, HB_EIO, path, 0, NULL, "read error");
    return HB_OK;
}

int hb_read_json(const char *path, cJSON **out, hb_error *err)
{
    *out = NULL;
    char *text = NULL;
    int rc = hb_read_text(path, &text, NULL, err);
    if (rc)
        return rc;
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithOpts(text, &end, 1);
    if (!j) {
        long line = 1, col = 1;
        const char *at = end ? end : text;
        for (const char *p = text; p < at && *p; p++) {
            if (*p == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        free(text);
        return hb_fail_at(err, HB_EINPUT, path, line, NULL, "malformed JSON near column %ld", col);
    }
    free(text);
    *out = j;
    return HB_OK;
}

int hb_write_json(const char *path, const cJSON *doc, hb_error *err)
{
    char *text = cJSON_Print(doc);
    if (!text)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    hb_afile a;
    int rc = hb_afile_open(&a, NULL, path, err);
    if (!rc) {
        fputs(text, a.f);
        fputc('\n', a.f);
        rc = hb_afile_commit(&a, err);
    }
    free(text);
    return rc;
}

int hb_mkdirs(const char *path, hb_error *err)
{
    char buf[4096];
    int k = snprintf(buf, sizeof buf, "%s", path);
    if (k < 0 || (size_t)k >= sizeof buf)
        return hb_fail(err, HB_EIO, "%s: path too long", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return hb_fail(err, HB_EIO, "%s: cannot create the directory: %s", buf,
                               strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return hb_fail(err, HB_EIO, "%s: cannot create the directory: %s", buf, strerror(errno));
    return 0;
}

int hb_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    struct dirent *ent;
    int rc = 0;
    while ((ent = readdir(d))) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        char p[4096];
        int n = snprintf(p, sizeof p, "%s/%s", path, ent->d_name);
        if (n < 0 || (size_t)n >= sizeof p) {
            rc = -1;
            continue;
        }
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rc |= hb_remove_tree(p);
        else if (unlink(p) != 0)
            rc = -1;
    }
    closedir(d);
    return rmdir(path) != 0 ? -1 : rc;
}
