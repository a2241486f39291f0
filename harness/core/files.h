/* files.h - whole files: reading text and JSON (errors name the file, and for JSON the line),
 * writing JSON so that it is never seen half-written (via atomic_file.h), making directories. */
#ifndef HB_FILES_H
#define HB_FILES_H

#include <stddef.h>

#include <cJSON.h>

#include "hb_error.h"

/* Reads a whole file into a NUL-terminated buffer (the caller frees it); len may be NULL. A file
 * that does not exist is bad input (HB_EINPUT); other failures are HB_EIO. */
int hb_read_text(const char *path, char **text, size_t *len, hb_error *err) HB_WARN_UNUSED;
/* Parses a JSON file; a syntax error names the line and column. */
int hb_read_json(const char *path, cJSON **out, hb_error *err) HB_WARN_UNUSED;
/* Writes a JSON document to path (path.tmp, then rename), with a final newline. */
int hb_write_json(const char *path, const cJSON *doc, hb_error *err) HB_WARN_UNUSED;
/* rm -rf: removes a directory tree (links are removed, not followed). 0, or -1 if something stayed. */
int hb_remove_tree(const char *path);
/* mkdir -p */
int hb_mkdirs(const char *path, hb_error *err) HB_WARN_UNUSED;

#endif
