/* atomic_file.c - write, then rename (see atomic_file.h). */
#include "atomic_file.h"

#include <errno.h>
#include <string.h>

int hb_afile_open(hb_afile *a, const char *dir, const char *name, hb_error *err)
{
    int n = dir ? snprintf(a->path, sizeof a->path, "%s/%s", dir, name)
                : snprintf(a->path, sizeof a->path, "%s", name);
    a->f = NULL;
    if (n < 0 || (size_t)n >= sizeof a->path)
        return hb_fail(err, HB_EIO, "%s/%s: path too long", dir ? dir : ".", name);
    snprintf(a->tmp, sizeof a->tmp, "%s.tmp", a->path);
    a->f = fopen(a->tmp, "w");
    if (!a->f)
        return hb_fail_at(err, HB_EIO, a->tmp, 0, NULL, "cannot write: %s", strerror(errno));
    return HB_OK;
}

int hb_afile_commit(hb_afile *a, hb_error *err)
{
    if (!a->f)
        return hb_fail_at(err, HB_EIO, a->path, 0, NULL, "not open");
    int bad = ferror(a->f);
    int e = errno;
    if (fclose(a->f) != 0) {
        bad = 1;
        e = errno;
    }
    a->f = NULL;
    if (!bad && rename(a->tmp, a->path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        remove(a->tmp);
        return hb_fail_at(err, HB_EIO, a->path, 0, NULL, "cannot write: %s", strerror(e));
    }
    return HB_OK;
}

void hb_afile_abort(hb_afile *a)
{
    if (a->f) {
        fclose(a->f);
        a->f = NULL;
        remove(a->tmp);
    }
}

void hb_afile_keep(hb_afile *a)
{
    if (a->f) {
        fclose(a->f);
        a->f = NULL;
    }
}
