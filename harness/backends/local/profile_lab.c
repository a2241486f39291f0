/* profile_lab.c - `harvestbench profile`'s lab (profile_lab.h): options, the function loop, and the
 * profile and timeline files. Measuring one function: profile_measure.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <gsl/gsl_sort.h>

#include "atomic_file.h"
#include "clock.h"
#include "common/cgroup.h"
#include "local/profile_lab.h"
#include "local/profile_measure.h"
#include "local/timeline_record.h"
#include "local/workload_bin.h"
#include "workload_model.h"

/* Warnings while measuring go to stderr under the command's name: the lab is that command's. */
#define WHO "harvestbench profile"

void hb_lab_defaults(hb_lab_opts *o)
{
    memset(o, 0, sizeof *o);
    o->repeats = 2;
    o->max_others = 0.5;
    o->out = "workloads/profiles/measured.csv";
}

/* The CPU limit: a cgroup quota where this process may create groups, else the worker count. */
static int resolve_limit(hb_lab_opts *o, const char *limit, hb_error *err)
{
    int version;
    char why[400];
    int can = hb_cgroup_probe(&version, why, sizeof why);
    if (strcmp(limit, "cgroup") == 0 && !can)
        return hb_fail(err, HB_EINPUT, "--limit cgroup: %s", why);
    if (strcmp(limit, "auto") != 0 && strcmp(limit, "cgroup") != 0 && strcmp(limit, "threads") != 0)
        return hb_fail(err, HB_EINPUT, "--limit: auto, cgroup or threads");
    if (can && strcmp(limit, "threads") != 0) {
        o->mode = HB_LAB_CGROUP;
        snprintf(o->mode_note, sizeof o->mode_note, "cgroup v%d CPU quota (cfs quota / cpu.max)",
                 version);
    } else {
        o->mode = HB_LAB_THREADS;
        snprintf(o->mode_note, sizeof o->mode_note, "worker-thread count (--parallel = the limit; "
                 "%s)", can ? "asked for" : why);
        for (int k = 0; k < o->ncpus; k++)
            o->cpus[k] = ceil(o->cpus[k]);
    }
    return HB_OK;
}

int hb_lab_resolve(hb_lab_opts *o, const char *limit, hb_error *err)
{
    if (!o->timelines) {               /* the library sits next to the profile it came from */
        const char *slash = strrchr(o->out, '/');
        int dl = slash ? (int)(slash - o->out) : 0;
        int w = snprintf(o->timelines_buf, sizeof o->timelines_buf, "%.*s%stimelines-measured.csv",
                         dl, o->out, slash ? "/" : "");
        if (w < 0 || (size_t)w >= sizeof o->timelines_buf)
            return hb_fail(err, HB_EINPUT, "--out: the path is too long");
        o->timelines = o->timelines_buf;
    } else if (strcmp(o->timelines, "none") == 0) {
        o->timelines = NULL;
    }
    if (o->nfuncs == 0)
        for (int f = 0; f < HB_NWORKLOADS; f++)
            o->funcs[o->nfuncs++] = f;
    if (o->ncpus == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        for (int c = 1; c <= n && c <= 8; c++)
            o->cpus[o->ncpus++] = c;
    }
    gsl_sort(o->cpus, 1, (size_t)o->ncpus);
    return resolve_limit(o, limit, err);
}

/* The file must be writable before minutes of measuring. */
static int check_writable(const char *path, const char *flag, hb_error *err)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *probe = fopen(tmp, "w");
    if (!probe)
        return hb_fail(err, HB_EINPUT, "cannot write %s: %s (see %s)", path, strerror(errno), flag);
    fclose(probe);
    remove(tmp);
    return HB_OK;
}

/* /proc/loadavg's first four fields ("1-min 5-min 15-min running/total"), or "unknown". */
static void loadavg(char *buf, size_t len)
{
    FILE *f = fopen("/proc/loadavg", "re");
    char a[32], b[32], c[32], d[32];
    if (f && fscanf(f, "%31s %31s %31s %31s", a, b, c, d) == 4)
        snprintf(buf, len, "%s %s %s %s", a, b, c, d);
    else
        snprintf(buf, len, "unknown");
    if (f)
        fclose(f);
}

typedef struct tl_meta {
    const char *host, *kernel, *date;
    long ncpus;
    const char *limit_note;
    int repeats, quick;
    double max_others;
    const char *load0, *load1;
    int nice;
    const char *partial;               /* a note that the file is not complete, or NULL */
} tl_meta;

/* Writes the timeline library: its header (format: workloads/profiles/README.md, "timelines"),
 * then the runs' rows as recorded. */
static int write_timelines(const char *path, const tl_meta *m, const hb_lab_sink *tl,
                           const char *body, size_t len, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, NULL, path, err);
    if (rc != HB_OK)
        return rc;
    fprintf(a.f, "# harvestbench timeline library, format 1\n"
            "# machine: %s (%ld CPUs), kernel %s, %s\n"
            "# cpu limit: %s; sample period %d ms; repeats %d\n"
            "# written by harvestbench profile%s; format and method: workloads/profiles/README.md "
            "(section \"timelines\")\n"
            "# readings: every %d ms from outside the call: CPU = the group's cpuacct.usage (v1) "
            "or cpu.stat usage_usec (v2) interpolated at each sample's ends; mem_mb = memory.stat "
            "rss (v1; it includes rss_huge) or anon (v2) at the sample's end; runnable = threads "
            "in state R in /proc/PID/task/*/stat over the group's processes at the sample's end "
            "(the runtime's own 100 ms sampler thread included, which is almost always asleep)\n"
            "# t_ms = 0 is when the function's code started (its runtime sampler's first reading); "
            "the process start (exec of a static binary, ~10 ms) is not in the timeline\n"
            "# shared machine: loadavg before %s, after %s; measured at nice %d (the run's "
            "group got cpu.shares %.0f)\n"
            "# disturbed: %d of %d runs ran while the rest of the machine used more than %.2f "
            "cores (after up to 2 retries each; their '# run' line says DISTURBED)\n"
            "# reading gaps: %d of %d runs had a gap over 50 ms between two readings (this "
            "process not scheduled in time); the samples inside a gap share its average CPU\n"
            "# %d runs, %zu samples%s\n%s%s%s" HB_TL_HEADER "\n",
            m->host, m->ncpus, m->kernel, m->date, m->limit_note, HB_TL_PERIOD_MS, m->repeats,
            m->quick ? " --quick" : "", HB_TL_FINE_MS, m->load0, m->load1, m->nice,
            m->nice < 0 ? hb_lab_shares_for_nice(m->nice) : 1024.0, tl->disturbed, tl->runs,
            m->max_others, tl->gappy, tl->runs, tl->runs, tl->samples,
            m->quick ? "; QUICK GRID: small inputs for CI, not a library for experiments" : "",
            m->partial ? "# " : "", m->partial ? m->partial : "", m->partial ? "\n" : "");
    if (len && fwrite(body, 1, len, a.f) != len) {
        hb_afile_abort(&a);
        return hb_fail(err, HB_EIO, "%s: %s", path, strerror(errno));
    }
    return hb_afile_commit(&a, err);
}

/* What a lab run carries from start to end. */
typedef struct lab_run {
    const hb_lab_opts *o;
    FILE *log;
    char paths[HB_NWORKLOADS][PATH_MAX];
    hb_profile *p;
    struct utsname un;
    char date[32];
    char *comment;
    size_t clen;
    int cn;
    hb_lab_sink tl;
    char *tl_body;
    size_t tl_len;
    char load0[128];
    double t0;
} lab_run;

/* The binaries, the output files, stale groups; then the first line of the log. */
static int lab_prepare(lab_run *L, hb_error *err)
{
    const hb_lab_opts *o = L->o;
    for (int k = 0; k < o->nfuncs; k++)
        if (hb_workload_path(hb_functions[o->funcs[k]].id, L->paths[k], sizeof L->paths[k], err))
            return err->code;
    if (check_writable(o->out, "--out", err) ||
        (o->timelines && check_writable(o->timelines, "--timelines", err)))
        return HB_EINPUT;
    if (o->mode == HB_LAB_CGROUP) {
        int removed = 0;
        hb_error e2;
        if (hb_cgroup_sweep(&removed, &e2) != HB_OK)
            fprintf(stderr, WHO ": warning: %s\n", e2.msg);
        else if (removed)
            fprintf(stderr, WHO ": removed %d stale group(s)\n", removed);
    }
    setvbuf(L->log, NULL, _IOLBF, 0);  /* progress shows as it happens, even into a file */
    fprintf(L->log, "profile: CPU limit by %s; limits", o->mode_note);
    for (int k = 0; k < o->ncpus; k++)
        fprintf(L->log, " %g", o->cpus[k]);
    fprintf(L->log, " cores; %d repeat(s)%s\n", o->repeats, o->quick ? "; quick grid" : "");
    return HB_OK;
}

/* The profile, its source line and the comment at the top of its file. */
static int lab_begin(lab_run *L, hb_error *err)
{
    const hb_lab_opts *o = L->o;
    if (!(L->p = calloc(1, sizeof *L->p)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    snprintf(L->p->name, sizeof L->p->name, "measured");
    uname(&L->un);
    time_t t = time(NULL);
    strftime(L->date, sizeof L->date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    snprintf(L->p->source, sizeof L->p->source, "harvestbench profile%s on %s (%ld CPUs, Linux %s), %s",
             o->quick ? " --quick" : "", L->un.nodename, sysconf(_SC_NPROCESSORS_ONLN),
             L->un.release, L->date);
    L->clen = 8192;
    if (!(L->comment = malloc(L->clen)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    L->cn = snprintf(L->comment, L->clen,
                     "measured workload profile, written by %s\n"
                     "CPU limit by %s; repeats %d%s\n"
                     "method: workloads/profiles/README.md (section \"measured\")\n"
                     "fits (last piece: a, b, c):",
                     L->p->source, o->mode_note, o->repeats,
                     o->quick ? "\nQUICK GRID: small inputs for CI; not a profile for experiments" : "");
    L->t0 = hb_mono_s();
    loadavg(L->load0, sizeof L->load0);
    if (o->timelines && !(L->tl.f = open_memstream(&L->tl_body, &L->tl_len)))
        return hb_fail(err, HB_ENOMEM, "out of memory");
    return HB_OK;
}

/* The timeline library as far as it goes; partial: a note that it is not complete, or NULL. */
static int lab_write_timelines(const lab_run *L, const char *partial, hb_error *err)
{
    char load1[128];
    loadavg(load1, sizeof load1);
    tl_meta meta = {L->un.nodename, L->un.release, L->date, sysconf(_SC_NPROCESSORS_ONLN),
                           L->o->mode_note, L->o->repeats, L->o->quick, L->o->max_others,
                           L->load0, load1, 0, partial};
    errno = 0;
    meta.nice = getpriority(PRIO_PROCESS, 0);
    return write_timelines(L->o->timelines, &meta, &L->tl, L->tl_body, L->tl_len, err);
}

/* Every function in turn; a long measurement that is stopped keeps the timelines of the
 * functions it finished. */
static int lab_measure_all(lab_run *L, hb_error *err)
{
    const hb_lab_opts *o = L->o;
    for (int k = 0; k < o->nfuncs; k++) {
        int f = o->funcs[k];
        char summary[512];
        if (!o->quiet)
            fprintf(L->log, "%s (%s):\n", hb_functions[f].id, hb_functions[f].name);
        int rc = hb_lab_profile_function(o, f, L->paths[k], &L->p->f[f], L->log, &L->tl, summary,
                                         sizeof summary, err);
        if (rc != HB_OK)
            return rc;
        fprintf(L->log, "  fit %s\n", summary);
        if (L->cn > 0 && (size_t)L->cn < L->clen)
            L->cn += snprintf(L->comment + L->cn, L->clen - (size_t)L->cn, "\n%s", summary);
        if (L->tl.f && k + 1 < o->nfuncs && fflush(L->tl.f) == 0) {
            char note[96];
            hb_error e2;
            snprintf(note, sizeof note, "INCOMPLETE: written after function %d of %d; the run "
                     "went on", k + 1, o->nfuncs);
            if (lab_write_timelines(L, note, &e2) != HB_OK)
                fprintf(stderr, WHO ": warning: %s\n", e2.msg);
        }
    }
    return HB_OK;
}

/* The profile, then the timeline library. */
static int lab_finish(lab_run *L, hb_error *err)
{
    const hb_lab_opts *o = L->o;
    hb_error e2;
    if (hb_profile_validate(L->p, o->out, &e2) != 0)
        return hb_fail(err, HB_ERUN, "the fitted profile is not valid: %s", e2.msg);
    if (hb_profile_save(L->p, o->out, L->comment, err) != 0)
        return err->code;
    fprintf(L->log, "profile: wrote %s (%d function(s), %.1f s)\n", o->out, o->nfuncs,
            hb_mono_s() - L->t0);
    if (!L->tl.f)
        return HB_OK;
    int closed = fclose(L->tl.f);
    L->tl.f = NULL;
    if (closed != 0)
        return hb_fail(err, HB_ENOMEM, "out of memory (timelines)");
    if (lab_write_timelines(L, NULL, err) != HB_OK)
        return err->code;
    fprintf(L->log, "profile: wrote %s (%d runs, %zu samples, %d disturbed)\n", o->timelines,
            L->tl.runs, L->tl.samples, L->tl.disturbed);
    return HB_OK;
}

int hb_lab_run(const hb_lab_opts *o, FILE *log, hb_error *err)
{
    lab_run *L = calloc(1, sizeof *L);
    if (!L)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    L->o = o;
    L->log = log;
    int rc = lab_prepare(L, err);
    if (rc == HB_OK && (rc = lab_begin(L, err)) == HB_OK && (rc = lab_measure_all(L, err)) == HB_OK)
        rc = lab_finish(L, err);
    if (rc == HB_EINPUT && L->p) {     /* past the checks of the input, a failure is the run's */
        rc = HB_ERUN;
        err->code = rc;
    }
    if (L->tl.f)
        fclose(L->tl.f);
    free(L->tl_body);
    free(L->comment);
    hb_profile_free(L->p);
    free(L);
    return rc;
}
