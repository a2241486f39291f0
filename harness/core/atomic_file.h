/* atomic_file.h - writing a file so that it is never seen half-written: the text goes to NAME.tmp,
 * which is renamed to NAME once it is complete (BRIEF section 7). */
#ifndef HB_ATOMIC_FILE_H
#define HB_ATOMIC_FILE_H

#include <stdio.h>

#include "hb_error.h"

typedef struct hb_afile {
    FILE *f;            /* write here between open and commit */
    char path[4096];
    char tmp[4112];
} hb_afile;

/* Opens dir/name.tmp for writing (dir may be NULL: name is the path). */
int hb_afile_open(hb_afile *a, const char *dir, const char *name, hb_error *err) HB_WARN_UNUSED;
/* Closes and renames into place; on any write error removes the temporary file and fails. */
int hb_afile_commit(hb_afile *a, hb_error *err) HB_WARN_UNUSED;
/* Closes and removes the temporary file, if open. */
void hb_afile_abort(hb_afile *a);
/* Closes the temporary file, if open, and leaves it (an interrupted run keeps what it wrote). */
void hb_afile_keep(hb_afile *a);

#endif
