/* ow_zip.c - see ow_zip.h. */
#include "ow_zip.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "files.h"

int ow_zip_exec(const char *path, unsigned char **zip, size_t *len, hb_error *err)
{
    *zip = NULL;
    *len = 0;
    char *data = NULL;
    size_t n = 0;
    int rc = hb_read_text(path, &data, &n, err);
    if (rc)
        return rc;
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *out = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = out ? zip_open_from_source(out, ZIP_TRUNCATE, &ze) : NULL;
    if (!za) {
        rc = hb_fail(err, HB_ERUN, "zip of %s: %s", path, zip_error_strerror(&ze));
        zip_source_free(out);
        goto done;
    }
    zip_source_keep(out);              /* keep the buffer after zip_close writes it */
    zip_source_t *in = zip_source_buffer(za, data, n, 0);
    zip_int64_t idx = in ? zip_file_add(za, "exec", in, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) : -1;
    if (idx < 0) {
        zip_source_free(in);
        rc = hb_fail(err, HB_ERUN, "zip of %s: %s", path, zip_strerror(za));
        zip_discard(za);
        zip_source_free(out);
        goto done;
    }
    zip_file_set_external_attributes(za, (zip_uint64_t)idx, 0, ZIP_OPSYS_UNIX,
                                     (zip_uint32_t)(S_IFREG | 0755) << 16);
    /* level 1: a static binary shrinks almost as much, several times faster */
    zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1);
    if (zip_close(za) < 0) {
        rc = hb_fail(err, HB_ERUN, "zip of %s: %s", path, zip_strerror(za));
        zip_discard(za);
        zip_source_free(out);
        goto done;
    }
    zip_stat_t st;
    if (zip_source_open(out) < 0 || zip_source_stat(out, &st) < 0 || !(st.valid & ZIP_STAT_SIZE)) {
        rc = hb_fail(err, HB_ERUN, "zip of %s: cannot read the archive back", path);
        zip_source_free(out);
        goto done;
    }
    *zip = malloc(st.size ? st.size : 1);
    if (!*zip || zip_source_read(out, *zip, st.size) != (zip_int64_t)st.size) {
        free(*zip);
        *zip = NULL;
        rc = hb_fail(err, HB_ERUN, "zip of %s: cannot read the archive back", path);
    } else {
        *len = st.size;
    }
    zip_source_close(out);
    zip_source_free(out);
done:
    free(data);
    return rc;
}

int ow_unzip_exec(const unsigned char *zip, size_t len, const char *out_path, hb_error *err)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(zip, len, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!za) {
        int rc = hb_fail(err, HB_EINPUT, "the action's code is not a zip archive (%s)",
                         zip_error_strerror(&ze));
        zip_source_free(src);
        zip_error_fini(&ze);
        return rc;
    }
    int rc = 0;
    zip_int64_t idx = zip_name_locate(za, "exec", 0);
    zip_stat_t st;
    zip_file_t *zf = NULL;
    int fd = -1;
    if (idx < 0 || zip_stat_index(za, (zip_uint64_t)idx, 0, &st) < 0) {
        rc = hb_fail(err, HB_EINPUT, "the action's zip holds no file named exec");
        goto done;
    }
    if (!(zf = zip_fopen_index(za, (zip_uint64_t)idx, 0))) {
        rc = hb_fail(err, HB_EINPUT, "the action's zip: exec: %s", zip_strerror(za));
        goto done;
    }
    fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (fd < 0) {
        rc = hb_fail(err, HB_EIO, "%s: %s", out_path, strerror(errno));
        goto done;
    }
    char buf[1 << 16];
    zip_int64_t n;
    while ((n = zip_fread(zf, buf, sizeof buf)) > 0) {
        for (zip_int64_t off = 0; off < n;) {
            ssize_t w = write(fd, buf + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                rc = hb_fail(err, HB_EIO, "%s: %s", out_path, strerror(errno));
                goto done;
            }
            off += w;
        }
    }
    if (n < 0)
        rc = hb_fail(err, HB_EINPUT, "the action's zip: exec: %s", zip_file_strerror(zf));
done:
    if (fd >= 0 && close(fd) != 0 && !rc)
        rc = hb_fail(err, HB_EIO, "%s: %s", out_path, strerror(errno));
    if (zf)
        zip_fclose(zf);
    zip_discard(za);                   /* also frees src */
    zip_error_fini(&ze);
    if (rc)
        unlink(out_path);
    return rc;
}
