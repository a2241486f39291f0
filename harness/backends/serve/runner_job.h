/* runner_job.h - what both of serve's runners (runner_exec.c, runner_local.c) keep of a request and
 * build from it: an owned copy of the request (start() may not keep the caller's strings), the
 * action's environment (OpenWhisk's __OW_* variables of the dockerskeleton contract), and the code
 * written into a container directory as `exec` (the dockerskeleton image's /init). */
#ifndef HB_RUNNER_JOB_H
#define HB_RUNNER_JOB_H

#include "hb_error.h"
#include "runner.h"

/* The request's fields, owned: strings of the request that were NULL stay NULL (params becomes
 * "{}"). */
typedef struct hb_run_job {
    char *activation_id, *action, *api_host, *code_key, *code_path, *image, *params;
    int is_zip;
    hb_run_limits limits;
    int64_t deadline_ms;
    hb_run_done_fn done;
    void *ctx;
} hb_run_job;

/* Copies q into *j, all or nothing: on failure (out of memory) nothing is kept and *j is cleared. */
int hb_run_job_copy(hb_run_job *j, const hb_run_request *q, hb_error *err);
/* Frees the copied strings (j itself belongs to the caller); safe on a cleared job. */
void hb_run_job_clear(hb_run_job *j);

/* The action's environment: envp is NULL-terminated and points into the struct, so the struct is
 * filled in place and not copied. */
typedef struct hb_run_env {
    char id[128], name[600], ns[300], deadline[64], host[600];
    char *envp[8];
} hb_run_env;

void hb_run_env_init(hb_run_env *e, const hb_run_job *j);

/* Writes the job's code to exec_path: a zip's `exec` unpacked, or the script as it is (mode 0755).
 * The directory must exist. An error names the file. */
int hb_run_write_exec(const hb_run_job *j, const char *exec_path, hb_error *err);

#endif
