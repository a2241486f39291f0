/* profile.c - the workload model: deriving the `artifact` profile from the Libra artifact's
 * predictor table, and reading and writing profile files (format in profile.h).
 *
 * The derivation is documented for users in workloads/profiles/README.md; in short, per function f
 * and size x, from the artifact's forests (measured cold, at 8 cores and 1 GB):
 *   exec_s(x)      = duration(x) - cold_start_s               (the artifact's duration includes init)
 *   parallelism(x) = cpu_class(x) - 0.5                       (class c: int(peak cores) + 1 = c)
 *   mem_peak_mb(x) = (mem_class(x) - 0.5) * 128 * 10^6 / 2^20 (class c: int(peak / 128 MB) + 1 = c,
 *                     peaks in decimal MB, our MB are MiB), capped at mem_cap_frac x the user memory
 * Class 0 only occurs below each function's size range (a synthetic training point); it takes the
 * class of the next piece. */
#include "workload_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "csv_reader.h"
#include "files.h"
#include "hb_steptable.h"
#include "timeline.h"

/* Constants of the artifact derivation (documented in workloads/profiles/README.md). */
#define ART_COLD_START_S 0.5           /* container start + Python runtime init */
#define ART_CV 0.05                    /* run-to-run variation of the work */
#define ART_MEM_START_FRAC 0.3         /* memory in use when the code starts */
#define ART_MEM_RAMP_FRAC 0.5          /* memory reaches its peak half-way through the run */
#define ART_MEM_CAP_FRAC 0.95          /* the user's memory is feasible: peak <= 0.95 x user */
#define ART_MIN_EXEC_S 0.05

extern const char hb_embedded_predictors[];
extern const char hb_embedded_predictors_end[];

const char *hb_embedded_predictor_table(size_t *len)
{
    *len = (size_t)(hb_embedded_predictors_end - hb_embedded_predictors);
    return hb_embedded_predictors;
}

int hb_profile_curve_add(hb_profile_curve *c, double x_gt, double x_le, double a, double b,
                         double cc, hb_error *err)
{
    if (!(x_gt < x_le))
        return hb_fail(err, HB_EINPUT, "interval (%g, %g] is empty", x_gt, x_le);
    if (c->n && c->p[c->n - 1].x_le != x_gt)
        return hb_fail(err, HB_EINPUT, "interval (%g, %g] does not continue the previous one "
                       "(which ends at %g)", x_gt, x_le, c->p[c->n - 1].x_le);
    hb_profile_piece *p = realloc(c->p, (c->n + 1) * sizeof *p);
    if (!p)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    c->p = p;
    c->p[c->n++] = (hb_profile_piece){x_gt, x_le, a, b, cc};
    return 0;
}

static void curve_free(hb_profile_curve *c)
{
    free(c->p);
    c->p = NULL;
    c->n = 0;
}

void hb_profile_free(hb_profile *p)
{
    if (!p)
        return;
    for (int i = 0; i < HB_NWORKLOADS; i++) {
        curve_free(&p->f[i].exec_s);
        curve_free(&p->f[i].parallelism);
        curve_free(&p->f[i].mem_peak_mb);
        curve_free(&p->f[i].cpu_class);
        curve_free(&p->f[i].mem_class);
    }
    hb_timeline_free(p->timelines);
    free(p);
}

double hb_profile_eval(const hb_profile_curve *c, double x)
{
    if (c->n == 0)
        return 0.0;
    size_t lo = 0, hi = c->n - 1;
    if (x <= c->p[0].x_le)
        lo = hi = 0;
    else if (x > c->p[hi].x_gt)
        lo = hi;
    while (lo < hi) {                  /* first piece with x <= x_le */
        size_t mid = lo + (hi - lo) / 2;
        if (x <= c->p[mid].x_le)
            hi = mid;
        else
            lo = mid + 1;
    }
    const hb_profile_piece *p = &c->p[lo];
    /* x log2 x only where it has a coefficient (c x 0 is the same signed zero as c x xl, xl >= 0) */
    double xl = x >= 1.0 && p->c != 0 ? x * log2(x) : 0.0;
    return p->a + p->b * x + p->c * xl;
}

/* ---- the artifact derivation ---- */

static int derive_function(hb_profile_func *pf, const hb_step_fn t[HB_NTARGETS],
                           const hb_function *fn, const char *source, hb_error *err)
{
    pf->present = 1;
    pf->ref_cores = 8.0;
    pf->cold_start_s = ART_COLD_START_S;
    pf->cv = ART_CV;
    pf->mem_start_frac = ART_MEM_START_FRAC;
    pf->mem_ramp_frac = ART_MEM_RAMP_FRAC;
    double mem_cap = ART_MEM_CAP_FRAC * fn->user_mem_units * HB_MEM_UNIT_MB;
    pf->class_mem_cap_mb = mem_cap;
    for (int k = 0; k < HB_NTARGETS; k++) {
        hb_profile_curve *c = k == HB_TARGET_CPU ? &pf->parallelism
                              : k == HB_TARGET_MEM ? &pf->mem_peak_mb : &pf->exec_s;
        const hb_step_fn *f = &t[k];
        for (size_t i = 0; i < f->n; i++) {
            double v = f->s[i].v;
            if (k != HB_TARGET_DUR && v < 1.0) {   /* class 0: take the next non-zero class */
                for (size_t j = i + 1; j < f->n && v < 1.0; j++)
                    v = f->s[j].v;
                if (v < 1.0)
                    v = 1.0;
            }
            if (k != HB_TARGET_DUR &&
                hb_profile_curve_add(k == HB_TARGET_CPU ? &pf->cpu_class : &pf->mem_class,
                                     f->s[i].x_gt, f->s[i].x_le, v, 0, 0, err))
                return hb_error_wrap(err, "%s: %s", source, fn->id);
            if (k == HB_TARGET_CPU)
                v = v - 0.5;
            else if (k == HB_TARGET_MEM)
                v = fmin((v - 0.5) * HB_MEM_UNIT_MB * 1e6 / 1048576.0, mem_cap);
            else
                v = fmax(v - ART_COLD_START_S, ART_MIN_EXEC_S);
            if (hb_profile_curve_add(c, f->s[i].x_gt, f->s[i].x_le, v, 0, 0, err))
                return hb_error_wrap(err, "%s: %s", source, fn->id);
        }
    }
    return 0;
}

int hb_profile_from_table(const hb_predictor_table *t, hb_profile **out, hb_error *err)
{
    *out = NULL;
    hb_profile *p = calloc(1, sizeof *p);
    if (!p)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    snprintf(p->name, sizeof p->name, "artifact");
    snprintf(p->source, sizeof p->source, "%s", t->source);
    int rc = 0;
    for (int f = 0; f < HB_NWORKLOADS && !rc; f++)
        rc = derive_function(&p->f[f], t->f[f], &hb_functions[f], t->source, err);
    if (!rc)
        rc = hb_profile_validate(p, t->source, err);
    if (rc)
        hb_profile_free(p);
    else
        *out = p;
    return rc;
}

int hb_profile_artifact(const char *text, size_t len, const char *source, hb_profile **out,
                        hb_error *err)
{
    *out = NULL;
    hb_predictor_table *t;
    int rc = hb_predictor_table_parse(text, len, source, &t, err);
    if (rc)
        return rc;
    rc = hb_profile_from_table(t, out, err);
    hb_predictor_table_free(t);
    return rc;
}

/* ---- profile files ---- */

static const char *const CURVES[] = {"exec_s", "parallelism", "mem_peak_mb"};
static const char *const CONSTS[] = {"ref_cores", "cold_start_s", "cv", "mem_start_frac",
                                     "mem_ramp_frac"};

static hb_profile_curve *curve_of(hb_profile_func *f, int k)
{
    return k == 0 ? &f->exec_s : k == 1 ? &f->parallelism : &f->mem_peak_mb;
}

static double *const_of(hb_profile_func *f, int k)
{
    switch (k) {
    case 0: return &f->ref_cores;
    case 1: return &f->cold_start_s;
    case 2: return &f->cv;
    case 3: return &f->mem_start_frac;
    default: return &f->mem_ramp_frac;
    }
}

int hb_profile_write(const hb_profile *p, FILE *f, hb_error *err)
{
    fprintf(f, "function_id,param,x_gt,x_le,a,b,c\n");
    for (int i = 0; i < HB_NWORKLOADS; i++) {
        hb_profile_func *pf = (hb_profile_func *)&p->f[i];
        if (!pf->present)
            continue;
        for (int k = 0; k < 5; k++)
            fprintf(f, "%s,%s,-inf,inf,%.17g,0,0\n", hb_functions[i].id, CONSTS[k],
                    *const_of(pf, k));
        for (int k = 0; k < 3; k++) {
            const hb_profile_curve *c = curve_of(pf, k);
            for (size_t j = 0; j < c->n; j++)
                fprintf(f, "%s,%s,%.17g,%.17g,%.17g,%.17g,%.17g\n", hb_functions[i].id, CURVES[k],
                        c->p[j].x_gt, c->p[j].x_le, c->p[j].a, c->p[j].b, c->p[j].c);
        }
    }
    if (ferror(f))
        return hb_fail(err, HB_EIO, "writing the profile failed");
    return 0;
}

int hb_profile_save(const hb_profile *p, const char *path, const char *comment, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, NULL, path, err);
    if (rc)
        return rc;
    for (const char *s = comment; s && *s;) {         /* one '#' per line of the comment */
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        fprintf(a.f, "# %.*s\n", (int)n, s);
        s += n + (nl ? 1 : 0);
    }
    rc = hb_profile_write(p, a.f, err);
    if (rc) {
        hb_afile_abort(&a);
        return rc;
    }
    return hb_afile_commit(&a, err);
}

/* Blanks '#' comment lines in place, keeping line numbers for messages. */
static void blank_comments(char *text)
{
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (*line == '#')
            memset(line, ' ', nl ? (size_t)(nl - line) : strlen(line));
        if (!nl)
            break;
        line = nl + 1;
    }
}

static const char *const PROFILE_COLS[] = {"function_id", "param", "x_gt", "x_le", "a", "b", "c"};

/* The header: ci[k] gets the index of PROFILE_COLS[k]. */
static int profile_header(hb_csv *c, const char *path, int ci[7], hb_error *err)
{
    int r = hb_csv_next(c, err), rc;
    if (r <= 0)
        return r < 0 ? -r : hb_fail(err, HB_EINPUT, "%s: empty profile", path);
    if ((rc = hb_csv_take_header(c, err)))
        return rc;
    for (int k = 0; k < 7; k++)
        if ((ci[k] = hb_csv_col(c, PROFILE_COLS[k])) < 0)
            return hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), PROFILE_COLS[k], "missing column "
                              "(expected function_id,param,x_gt,x_le,a,b,c)");
    return 0;
}

/* One row: a constant (value in a) or an interval of a curve of one function. */
static int profile_row(hb_csv *c, const int ci[7], const char *path, hb_profile *p, hb_error *err)
{
    long line = hb_csv_line(c);
    int f = hb_function_find(hb_csv_field(c, (size_t)ci[0])), rc;
    if (f < 0)
        return hb_fail_at(err, HB_EINPUT, path, line, "function_id", "unknown function '%s'",
                          hb_csv_field(c, (size_t)ci[0]));
    double v[5];
    for (int k = 0; k < 5; k++)
        if ((rc = hb_csv_double(c, (size_t)ci[k + 2], PROFILE_COLS[k + 2], &v[k], err)))
            return rc;
    const char *param = hb_csv_field(c, (size_t)ci[1]);
    hb_profile_func *pf = &p->f[f];
    pf->present = 1;
    for (int k = 0; k < 5; k++)
        if (strcmp(param, CONSTS[k]) == 0) {
            *const_of(pf, k) = v[2];
            return 0;
        }
    for (int k = 0; k < 3; k++)
        if (strcmp(param, CURVES[k]) == 0) {
            if ((rc = hb_profile_curve_add(curve_of(pf, k), v[0], v[1], v[2], v[3], v[4], err))) {
                char why[HB_ERRMSG_MAX];  /* the curve's reason, copied: err->msg is rewritten */
                snprintf(why, sizeof why, "%s", err ? err->msg : "bad interval");
                hb_fail_at(err, rc, path, line, param, "%s", why);
                return rc;
            }
            return 0;
        }
    return hb_fail_at(err, HB_EINPUT, path, line, "param", "unknown parameter '%s'", param);
}

int hb_profile_load(const char *path, hb_profile **out, hb_error *err)
{
    *out = NULL;
    size_t len;
    char *text;
    int rrc = hb_read_text(path, &text, &len, err);
    if (rrc)
        return rrc;
    blank_comments(text);
    hb_csv *c = NULL;
    hb_profile *p = calloc(1, sizeof *p);
    int rc = p ? hb_csv_open_mem(text, len, path, &c, err) : hb_fail(err, HB_ENOMEM, "out of memory");
    if (rc)
        goto done;
    const char *base = strrchr(path, '/');
    snprintf(p->name, sizeof p->name, "%s", base ? base + 1 : path);
    snprintf(p->source, sizeof p->source, "%s", path);
    for (int i = 0; i < HB_NWORKLOADS; i++)
        for (int k = 0; k < 5; k++)
            *const_of(&p->f[i], k) = NAN;
    int ci[7] = {0}, r = 0;
    if ((rc = profile_header(c, path, ci, err)))
        goto done;
    while (!rc && (r = hb_csv_next(c, err)) > 0)
        rc = profile_row(c, ci, path, p, err);
    if (!rc && r < 0)
        rc = -r;
    if (!rc)
        rc = hb_profile_validate(p, path, err);
done:
    hb_csv_close(c);
    free(text);
    if (rc)
        hb_profile_free(p);
    else
        *out = p;
    return rc;
}

int hb_profile_validate(const hb_profile *p, const char *where, hb_error *err)
{
    int any = 0;
    for (int i = 0; i < HB_NWORKLOADS; i++) {
        const hb_profile_func *f = &p->f[i];
        if (!f->present)
            continue;
        any = 1;
        const char *id = hb_functions[i].id;
        hb_profile_func *m = (hb_profile_func *)f;
        for (int k = 0; k < 3; k++) {
            const hb_profile_curve *c = curve_of(m, k);
            if (c->n == 0)
                return hb_fail(err, HB_EINPUT, "%s: %s: no %s curve", where, id, CURVES[k]);
            if (c->p[0].x_gt != -INFINITY || c->p[c->n - 1].x_le != INFINITY)
                return hb_fail(err, HB_EINPUT, "%s: %s: the %s curve must cover (-inf, inf]",
                               where, id, CURVES[k]);
        }
        for (int k = 0; k < 5; k++)
            if (isnan(*const_of(m, k)))
                return hb_fail(err, HB_EINPUT, "%s: %s: %s is missing", where, id, CONSTS[k]);
        if (!(f->ref_cores > 0) || f->cold_start_s < 0 || f->cv < 0 || f->cv > 2 ||
            f->mem_start_frac < 0 || f->mem_start_frac > 1 || f->mem_ramp_frac < 0 ||
            f->mem_ramp_frac > 1)
            return hb_fail(err, HB_EINPUT, "%s: %s: a constant is out of range (ref_cores > 0, "
                           "cold_start_s >= 0, 0 <= cv <= 2, fractions in [0,1])", where, id);
    }
    if (!any)
        return hb_fail(err, HB_EINPUT, "%s: the profile describes no function", where);
    return 0;
}
