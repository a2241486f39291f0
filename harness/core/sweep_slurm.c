/* sweep_slurm.c - writing, submitting and waiting for a sweep's Slurm job array (sweep_slurm.h). */
#include "sweep_slurm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "files.h"

/* A shell single-quoted word: ' becomes '\''. */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* Runs argv, its stdout into out (n bytes, trimmed); the exit status, or -1. */
static int capture(char *const argv[], char *out, size_t n)
{
    int fd[2];
    if (pipe(fd))
        return -1;
    fflush(NULL);
    pid_t p = fork();
    if (p < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (p == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    size_t k = 0;
    ssize_t r;
    while ((r = read(fd[0], out + k, n - 1 - k)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0 && (k += (size_t)r) >= n - 1)
            break;
    out[k] = '\0';
    while (k && (out[k - 1] == '\n' || out[k - 1] == ' '))
        out[--k] = '\0';
    char sink[256];
    while (read(fd[0], sink, sizeof sink) > 0)
        ;
    close(fd[0]);
    int st;
    while (waitpid(p, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The cells not done yet, in order, into *todo (*nt of them). */
static int slurm_todo(const sweep *s, size_t **todo, size_t *nt, hb_error *err)
{
    *nt = 0;
    *todo = malloc((s->ncells ? s->ncells : 1) * sizeof **todo);
    if (!*todo)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (size_t c = 0; c < s->ncells; c++)
        if (!sweep_cell_done(s, c))
            (*todo)[(*nt)++] = c;
    return 0;
}

static void sbatch_header(FILE *f, const sweep_slurm_opts *o, const char *dir, const char *cwd,
                          int ntasks)
{
    fprintf(f, "#!/bin/sh\n# written by `harvestbench sweep --slurm` (docs/sweeps.md): array task T "
               "runs the cells of chunk T\n#SBATCH --job-name=harvestbench-sweep\n"
               "#SBATCH --array=0-%d\n#SBATCH --ntasks=1\n#SBATCH --output=%s/task-%%a.log\n"
               "#SBATCH --chdir=%s\n", ntasks - 1, dir, cwd);
    if (o->partition)
        fprintf(f, "#SBATCH --partition=%s\n", o->partition);
    if (o->time)
        fprintf(f, "#SBATCH --time=%s\n", o->time);
}

/* The script's case: array task t runs chunk t of `per` cells of todo[]; the same chunks as the
 * returned tasks.json object. */
static cJSON *sbatch_cases(FILE *f, const char *dir, const size_t *todo, size_t nt, size_t per,
                           int ntasks)
{
    cJSON *tj = cJSON_CreateObject(), *ta = cJSON_AddArrayToObject(tj, "tasks");
    fputs("case \"$SLURM_ARRAY_TASK_ID\" in\n", f);
    for (int t = 0; t < ntasks; t++) {
        cJSON *one = cJSON_CreateObject(), *cells = cJSON_AddArrayToObject(one, "cells");
        char log[HB_PATH_MAX + 64];
        snprintf(log, sizeof log, "%s/task-%d.log", dir, t);
        cJSON_AddStringToObject(one, "log", log);
        fprintf(f, "%d) CELLS=\"", t);
        for (size_t k = (size_t)t * per; k < nt && k < (size_t)(t + 1) * per; k++) {
            char id[SWEEP_ID_MAX];
            sweep_cell_id(todo[k], id);
            fprintf(f, "%s%s", k == (size_t)t * per ? "" : " ", id);
            cJSON_AddItemToArray(cells, cJSON_CreateString(id));
        }
        fputs("\" ;;\n", f);
        cJSON_AddItemToArray(ta, one);
    }
    return tj;
}

/* The script's loop: each cell of the task's chunk through `harvestbench sweep --cell`. */
static void sbatch_loop(FILE *f, const sweep *s)
{
    fputs("*) echo \"no cells for array task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;\nesac\nrc=0\n"
          "for c in $CELLS; do\n    ", f);
    sh_quote(f, s->exe);
    fputs(" sweep ", f);
    sh_quote(f, s->config);
    fputs(" --out ", f);
    sh_quote(f, s->out);
    fputs(" --cell \"$c\" || rc=1\ndone\nexit $rc\n", f);
}

/* sbatch --parsable [ARGS] SCRIPT; the job id into jobid. */
static int sbatch_run(const sweep_slurm_opts *o, char *script, char *jobid, size_t n, hb_error *err)
{
    char **argv = calloc(o->n_sbatch_args + 4, sizeof *argv);
    if (!argv)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    size_t k = 0;
    argv[k++] = (char *)"sbatch";
    argv[k++] = (char *)"--parsable";
    for (size_t i = 0; i < o->n_sbatch_args; i++)
        argv[k++] = o->sbatch_args[i];
    argv[k++] = script;
    argv[k] = NULL;
    char outb[256];
    int st = capture(argv, outb, sizeof outb);
    free(argv);
    if (st != 0)
        return hb_fail(err, HB_ERUN, "sbatch %s failed (exit %d%s); is Slurm's sbatch on PATH and "
                       "SLURM_CONF set?", script, st, st == 127 ? ": not found" : "");
    /* --parsable prints "JOBID" or "JOBID;CLUSTER" */
    snprintf(jobid, n, "%.*s", (int)strcspn(outb, ";"), outb);
    if (!*jobid)
        return hb_fail(err, HB_ERUN, "sbatch printed no job id");
    return 0;
}

int sweep_slurm_submit(const sweep *s, const sweep_slurm_opts *o, char *jobid, size_t n,
                       int *ntasks, hb_error *err)
{
    char dir[HB_PATH_MAX + 16], script[HB_PATH_MAX + 32], tasks[HB_PATH_MAX + 32], cwd[HB_PATH_MAX];
    snprintf(dir, sizeof dir, "%s/slurm", s->out);
    snprintf(script, sizeof script, "%s/sweep.sbatch", dir);
    snprintf(tasks, sizeof tasks, "%s/tasks.json", dir);
    int rc = hb_mkdirs(dir, err);
    if (rc)
        return rc;
    if (!getcwd(cwd, sizeof cwd))
        return hb_fail(err, HB_EIO, "getcwd: %s", strerror(errno));
    size_t *todo, nt;
    if ((rc = slurm_todo(s, &todo, &nt, err)))
        return rc;
    size_t per = (size_t)o->cells_per_task;
    *ntasks = (int)((nt + per - 1) / per);
    if (nt == 0) {
        free(todo);
        return 0;
    }
    FILE *f = fopen(script, "w");
    if (!f) {
        free(todo);
        return hb_fail(err, HB_EIO, "%s: cannot write (%s)", script, strerror(errno));
    }
    sbatch_header(f, o, dir, cwd, *ntasks);
    cJSON *tj = sbatch_cases(f, dir, todo, nt, per, *ntasks);
    sbatch_loop(f, s);
    free(todo);
    if (fclose(f)) {
        cJSON_Delete(tj);
        return hb_fail(err, HB_EIO, "%s: write failed", script);
    }
    rc = hb_write_json(tasks, tj, err);
    cJSON_Delete(tj);
    if (rc)
        return rc;
    return sbatch_run(o, script, jobid, n, err);
}

int sweep_slurm_wait(const sweep *s, const char *jobid, int quiet, hb_error *err)
{
    (void)s;
    time_t start = time(NULL), last = 0;
    for (;;) {
        char out[4096];
        char *argv[] = {(char *)"squeue", (char *)"-h", (char *)"-j", (char *)jobid,
                        (char *)"-o", (char *)"%i %T", NULL};
        int st = capture(argv, out, sizeof out);
        if (st == 127 || st < 0)
            return hb_fail(err, HB_ERUN, "squeue could not be run");
        /* a job that has left the controller's memory makes squeue fail: it is done */
        if (st != 0 || !*out)
            return 0;
        if (!quiet && time(NULL) - last >= 30) {
            size_t lines = 1;
            for (const char *c = out; *c; c++)
                lines += *c == '\n';
            fprintf(stderr, "sweep: Slurm job %s: %zu array task(s) queued or running (%lds)\n",
                    jobid, lines, (long)(time(NULL) - start));
            last = time(NULL);
        }
        sleep(2);
    }
}

int sweep_slurm_check(const sweep *s, hb_error *err)
{
    char path[HB_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/slurm/tasks.json", s->out);
    cJSON *tj = NULL;
    hb_error e = {0};
    if (access(path, R_OK) == 0 && hb_read_json(path, &tj, &e))
        tj = NULL;
    size_t failed = 0;
    for (size_t c = 0; c < s->ncells; c++) {
        if (sweep_cell_done(s, c))
            continue;
        char id[SWEEP_ID_MAX];
        const char *log = "(not submitted)";
        sweep_cell_id(c, id);
        const cJSON *t;
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(tj, "tasks")) {
            const cJSON *x;
            cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(t, "cells"))
                if (cJSON_IsString(x) && strcmp(x->valuestring, id) == 0 &&
                    cJSON_IsString(cJSON_GetObjectItemCaseSensitive(t, "log")))
                    log = cJSON_GetObjectItemCaseSensitive(t, "log")->valuestring;
        }
        fprintf(stderr, "sweep: cell %s is not complete; Slurm log: %s; cell log: %s/logs/%s.log\n",
                id, log, s->out, id);
        failed++;
    }
    cJSON_Delete(tj);
    if (failed)
        return hb_fail(err, HB_ERUN, "%zu cell(s) not complete; resubmit them with "
                       "`harvestbench sweep CONFIG --out %s --slurm --resume`", failed, s->out);
    return 0;
}
