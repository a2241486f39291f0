/* runner_job.c - the request copy, the __OW_* environment and the code's `exec` that serve's two
 * runners share (runner_job.h). */
#define _GNU_SOURCE
#include "runner_job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "files.h"
#include "common/ow_zip.h"

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int hb_run_job_copy(hb_run_job *j, const hb_run_request *q, hb_error *err)
{
    *j = (hb_run_job){
        .activation_id = strdup(q->activation_id), .action = strdup(q->action),
        .api_host = dup_or_null(q->api_host), .code_key = strdup(q->code.key),
        .code_path = dup_or_null(q->code.path), .image = dup_or_null(q->code.image),
        .params = strdup(q->params ? q->params : "{}"), .is_zip = q->code.is_zip,
        .limits = q->limits, .deadline_ms = q->deadline_ms, .done = q->done, .ctx = q->ctx,
    };
    if (!j->activation_id || !j->action || !j->code_key || !j->params ||
        (q->api_host && !j->api_host) || (q->code.path && !j->code_path) ||
        (q->code.image && !j->image)) {
        hb_run_job_clear(j);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    return 0;
}

void hb_run_job_clear(hb_run_job *j)
{
    free(j->activation_id);
    free(j->action);
    free(j->api_host);
    free(j->code_key);
    free(j->code_path);
    free(j->image);
    free(j->params);
    *j = (hb_run_job){0};
}

void hb_run_env_init(hb_run_env *e, const hb_run_job *j)
{
    snprintf(e->id, sizeof e->id, "__OW_ACTIVATION_ID=%s", j->activation_id);
    snprintf(e->name, sizeof e->name, "__OW_ACTION_NAME=/%s", j->action);
    snprintf(e->ns, sizeof e->ns, "__OW_NAMESPACE=%.*s", (int)strcspn(j->action, "/"), j->action);
    snprintf(e->deadline, sizeof e->deadline, "__OW_DEADLINE=%lld", (long long)j->deadline_ms);
    snprintf(e->host, sizeof e->host, "__OW_API_HOST=%s", j->api_host ? j->api_host : "");
    char *const envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C", e->id, e->name, e->ns,
                          e->deadline, e->host, NULL};
    memcpy(e->envp, envp, sizeof envp);
}

int hb_run_write_exec(const hb_run_job *j, const char *exec_path, hb_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = hb_read_text(j->code_path, &data, &len, err);
    if (!rc && j->is_zip) {
        rc = ow_unzip_exec((const unsigned char *)data, len, exec_path, err);
    } else if (!rc) {
        int fd = open(exec_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        if (fd < 0 || write(fd, data, len) != (ssize_t)len)
            rc = hb_fail(err, HB_EIO, "%s: %s", exec_path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    free(data);
    return rc;
}
