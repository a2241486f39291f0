/* ow_zip.h - the zip of a native OpenWhisk action: one executable named `exec` (libzip). deploy
 * builds it in memory; serve's runner unpacks it into a container directory on a cold start, as
 * the dockerskeleton image's /init does. */
#ifndef HB_OW_ZIP_H
#define HB_OW_ZIP_H

#include <stddef.h>

#include "hb_error.h"

/* Zips the file at path as `exec` (mode 0755) into a new buffer (*zip, *len; the caller frees). */
int ow_zip_exec(const char *path, unsigned char **zip, size_t *len, hb_error *err);

/* Writes the member `exec` of a zip held in memory to out_path with mode 0755. A zip without
 * `exec` or an unreadable one is HB_EINPUT. */
int ow_unzip_exec(const unsigned char *zip, size_t len, const char *out_path, hb_error *err);

#endif
