/* trace_sample.c - see trace_sample.h. */
#include "trace_sample.h"

#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "csv_reader.h"
#include "dynbuf.h"
#include "files.h"
#include "seed.h"
#include "sort_cmp.h"

#define INV_STEM "invocations_per_function_md.anon"
#define DUR_STEM "function_durations_percentiles.anon"
#define MEM_STEM "app_memory_percentiles.anon"

/* ---- keys: 64-bit FNV-1a of the hash strings (collisions among ~1e5 keys: ~1e-10) ---- */

static uint64_t fnv(const char *a, const char *b)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *s = a; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    if (b) {
        h = (h ^ 0x1f) * 1099511628211ull;   /* separator: ("ab","c") != ("a","bc") */
        for (const char *s = b; *s; s++)
            h = (h ^ (unsigned char)*s) * 1099511628211ull;
    }
    return h;
}

typedef struct keyval {
    uint64_t key;
    double v;
    long line;
    uint32_t nfun;                     /* memory: the app's function rows in the invocation file */
} keyval;

static int cmp_keyval(const void *a, const void *b)
{
    const keyval *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return (x->line > y->line) - (x->line < y->line);
}

static keyval *kv_find(keyval *t, size_t n, uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && t[lo].key == key ? &t[lo] : NULL;
}

/* A set of keys (open addressing), for repeated HashFunction rows. */
typedef struct keyset {
    uint64_t *slot;
    size_t cap, n;
} keyset;

/* 1: added, 0: already there, -1: out of memory. Key 0 is remapped (0 marks a free slot). */
static int keyset_add(keyset *s, uint64_t key)
{
    if (!key)
        key = 1;
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        uint64_t *ns = calloc(cap, sizeof *ns);
        if (!ns)
            return -1;
        for (size_t i = 0; i < s->cap; i++)
            if (s->slot[i])
                for (size_t j = s->slot[i] & (cap - 1);; j = (j + 1) & (cap - 1))
                    if (!ns[j]) {
                        ns[j] = s->slot[i];
                        break;
                    }
        free(s->slot);
        s->slot = ns;
        s->cap = cap;
    }
    for (size_t j = key & (s->cap - 1);; j = (j + 1) & (s->cap - 1)) {
        if (s->slot[j] == key)
            return 0;
        if (!s->slot[j]) {
            s->slot[j] = key;
            s->n++;
            return 1;
        }
    }
}

/* ---- dataset files ---- */

static int dataset_file(const char *dir, const char *stem, int day, char *out, size_t n,
                        hb_error *err)
{
    struct stat st;
    snprintf(out, n, "%s/%s.d%02d.csv", dir, stem, day);
    if (stat(out, &st) == 0)
        return 0;
    snprintf(out, n, "%s/%s.d%02d.csv.gz", dir, stem, day);
    if (stat(out, &st) == 0)
        return 0;
    snprintf(out, n, "%s/%s.d%02d.csv", dir, stem, day);
    return hb_fail(err, HB_EINPUT, "%s: no such file (nor .gz)%s", out,
                   strcmp(stem, MEM_STEM) == 0 && day > 12
                       ? "; the 2019 dataset has app memory for days 1-12 only" : "");
}

static int open_with_header(const char *path, hb_csv **c, hb_error *err)
{
    int rc = hb_csv_open(path, c, err);
    if (rc)
        return rc;
    int n = hb_csv_next(*c, err);
    if (n <= 0) {
        rc = n < 0 ? -n : hb_fail_at(err, HB_EINPUT, path, 0, NULL, "the file is empty");
        hb_csv_close(*c);
        *c = NULL;
        return rc;
    }
    if ((rc = hb_csv_take_header(*c, err))) {
        hb_csv_close(*c);
        *c = NULL;
    }
    return rc;
}

static int need_col(hb_csv *c, const char *name, int *col, hb_error *err)
{
    *col = hb_csv_col(c, name);
    if (*col < 0)
        return hb_fail_at(err, HB_EINPUT, hb_csv_name(c), 1, "header", "no '%s' column", name);
    return 0;
}

static int check_width(hb_csv *c, size_t want, hb_error *err)
{
    if (hb_csv_nfields(c) != want)
        return hb_fail_at(err, HB_EINPUT, hb_csv_name(c), hb_csv_line(c), NULL,
                          "%zu fields where the header has %zu (a truncated or garbled line)",
                          hb_csv_nfields(c), want);
    return 0;
}

/* Durations keyed by HashFunction (value: Average, ms) or memory keyed by (HashOwner, HashApp)
 * (value: AverageAllocatedMb). Sorted by key; a repeated key keeps its first row. */
static int read_keyed(const char *path, int memory, keyval **out, size_t *nout, hb_error *err)
{
    *out = NULL;
    *nout = 0;
    hb_csv *c;
    int rc = open_with_header(path, &c, err);
    if (rc)
        return rc;
    int ck1, ck2 = -1, cv;
    const char *vname = memory ? "AverageAllocatedMb" : "Average";
    if ((rc = need_col(c, memory ? "HashOwner" : "HashFunction", &ck1, err)) ||
        (memory && (rc = need_col(c, "HashApp", &ck2, err))) || (rc = need_col(c, vname, &cv, err)))
        goto done;
    size_t width = hb_csv_nfields(c), cap = 0, n = 0;
    keyval *t = NULL;
    int r;
    while ((r = hb_csv_next(c, err)) > 0) {
        if ((rc = check_width(c, width, err)))
            break;
        double v;
        if ((rc = hb_csv_double(c, (size_t)cv, vname, &v, err)))
            break;
        if (!(v >= 0) || !isfinite(v)) {
            rc = hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), vname,
                            "'%s' is not a non-negative number", hb_csv_field(c, (size_t)cv));
            break;
        }
        if (HB_GROW(t, cap, n + 1) != HB_OK) {
            rc = hb_fail(err, HB_ENOMEM, "out of memory");
            break;
        }
        t[n].key = fnv(hb_csv_field(c, (size_t)ck1), ck2 >= 0 ? hb_csv_field(c, (size_t)ck2) : NULL);
        t[n].v = v;
        t[n].line = hb_csv_line(c);
        t[n].nfun = 0;
        n++;
    }
    if (!rc && r < 0)
        rc = -r;
    if (rc) {
        free(t);
        goto done;
    }
    if (n) {
        qsort(t, n, sizeof *t, cmp_keyval);
        size_t w = 1;
        for (size_t i = 1; i < n; i++)
            if (t[i].key != t[w - 1].key)
                t[w++] = t[i];
        n = w;
    }
    *out = t;
    *nout = n;
done:
    hb_csv_close(c);
    return rc;
}

/* The invocation file's header: HashOwner,HashApp,HashFunction,Trigger,1..T. */
static int inv_header(hb_csv *c, size_t *minutes, hb_error *err)
{
    const char *path = hb_csv_name(c);
    static const char *const names[] = {"HashOwner", "HashApp", "HashFunction", "Trigger"};
    size_t nf = hb_csv_nfields(c);
    for (size_t i = 0; i < 4; i++)
        if (strcmp(hb_csv_colname(c, i), names[i]) != 0)
            return hb_fail_at(err, HB_EINPUT, path, 1, "header",
                              "column %zu is '%s', expected '%s' (HashOwner,HashApp,HashFunction,"
                              "Trigger,1,...,1440)", i + 1, hb_csv_colname(c, i), names[i]);
    if (nf <= 4)
        return hb_fail_at(err, HB_EINPUT, path, 1, "header", "no minute columns");
    for (size_t i = 4; i < nf; i++) {
        int64_t m;
        if (hb_parse_int64(hb_csv_colname(c, i), &m) || m != (int64_t)(i - 3)) {
            char col[32];
            snprintf(col, sizeof col, "column %zu", i + 1);
            return hb_fail_at(err, HB_EINPUT, path, 1, col,
                              "expected minute %zu, found '%s' (minute columns are 1, 2, ..., T)",
                              i - 3, hb_csv_colname(c, i));
        }
    }
    *minutes = nf - 4;
    return 0;
}

static int parse_count(hb_csv *c, size_t m, uint32_t *out, hb_error *err)
{
    int64_t v;
    const char *s = hb_csv_field(c, 4 + m);
    if (hb_parse_int64(s, &v) || v < 0 || v > UINT32_MAX) {
        char col[32];
        snprintf(col, sizeof col, "minute %zu", m + 1);
        return hb_fail_at(err, HB_EINPUT, hb_csv_name(c), hb_csv_line(c), col,
                          "'%s' is not a count of invocations (a non-negative integer)", s);
    }
    *out = (uint32_t)v;
    return 0;
}

/* ---- Wasserstein ---- */

/* integral of the population quantile function from 0 to u */
static double quantile_integral(const double *pop, const double *prefix, size_t p, double u)
{
    double x = u * (double)p;
    size_t j = (size_t)floor(x);
    if (j >= p)
        return prefix[p] / (double)p;
    return (prefix[j] + (x - (double)j) * pop[j]) / (double)p;
}

double hb_wasserstein1(const double *sample, size_t n, const double *pop, const double *prefix,
                       size_t p)
{
    if (!n || !p)
        return 0;
    /* W1 = int_0^1 |Qs(u) - Qp(u)| du; on slot k, Qs = sample[k] and Qp crosses it at c */
    double w = 0;
    for (size_t k = 0; k < n; k++) {
        double a = (double)k / (double)n, b = (double)(k + 1) / (double)n, s = sample[k];
        size_t lo = 0, hi = p;         /* first population value >= s */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (pop[mid] < s)
                lo = mid + 1;
            else
                hi = mid;
        }
        double c = fmin(fmax((double)lo / (double)p, a), b);
        double ga = quantile_integral(pop, prefix, p, a), gb = quantile_integral(pop, prefix, p, b),
               gc = quantile_integral(pop, prefix, p, c);
        w += s * (c - a) - (gc - ga) + (gb - gc) - s * (b - c);
    }
    return w;
}

int hb_sample_map_bench(double dur_ms, double mem_mb, const double *ref_ms, const double *ref_mem_mb)
{
    int best = 0;
    double bd = INFINITY;
    double d0 = log(fmax(dur_ms, 1e-3));
    for (int b = 0; b < HB_NWORKLOADS; b++) {
        double d = fabs(d0 - log(fmax(ref_ms[b], 1e-3)));
        if (mem_mb > 0 && ref_mem_mb[b] > 0)
            d += fabs(log(mem_mb) - log(ref_mem_mb[b]));
        if (d < bd) {
            bd = d;
            best = b;
        }
    }
    return best;
}

/* ---- the sampler ---- */

typedef struct fsum {
    long line;                         /* in the invocation file */
    uint64_t fkey, akey;
    double rate;                       /* calls per minute over the window */
    double dur;                        /* Average, ms */
    double mem;                        /* the app's AverageAllocatedMb / its function rows */
    double app_mem;
    uint32_t app_funcs;
    uint64_t calls;
} fsum;

typedef struct dist {
    double *sorted, *prefix;           /* population */
    size_t p;
} dist;

static int dist_init(dist *d, const double *v, size_t p)
{
    d->p = p;
    d->sorted = malloc(p * sizeof *d->sorted);
    d->prefix = malloc((p + 1) * sizeof *d->prefix);
    if (!d->sorted || !d->prefix)
        return -1;
    memcpy(d->sorted, v, p * sizeof *v);
    return 0;
}

static void dist_finish(dist *d)
{
    qsort(d->sorted, d->p, sizeof *d->sorted, hb_cmp_double);
    d->prefix[0] = 0;
    for (size_t i = 0; i < d->p; i++)
        d->prefix[i + 1] = d->prefix[i] + d->sorted[i];
}

typedef struct search {
    const double *lrate, *ldur;        /* per population function */
    dist rate, dur;
    double *tmp;                       /* n */
} search;

static void evaluate(search *s, const size_t *idx, size_t n, double *wr, double *wd)
{
    for (size_t i = 0; i < n; i++)
        s->tmp[i] = s->lrate[idx[i]];
    qsort(s->tmp, n, sizeof *s->tmp, hb_cmp_double);
    *wr = hb_wasserstein1(s->tmp, n, s->rate.sorted, s->rate.prefix, s->rate.p);
    for (size_t i = 0; i < n; i++)
        s->tmp[i] = s->ldur[idx[i]];
    qsort(s->tmp, n, sizeof *s->tmp, hb_cmp_double);
    *wd = hb_wasserstein1(s->tmp, n, s->dur.sorted, s->dur.prefix, s->dur.p);
}

/* The best pick so far: its mean distance and the two distances it is the mean of. */
typedef struct best_pick {
    double mean, rate, dur;
} best_pick;

/* all[] = 0..p-1 and the population's distributions, on log10 scales. */
static int search_prepare(search *s, const fsum *fs, size_t p, size_t *all, double *lr, double *ld)
{
    for (size_t i = 0; i < p; i++) {
        all[i] = i;
        /* log10: rates and durations span orders of magnitude; durations below 1 ms count as 1 ms
         * (InVitro clamps runtimes to [1 ms, 60 s]) */
        lr[i] = log10(fs[i].rate);
        ld[i] = log10(fmax(fs[i].dur, 1.0));
    }
    if (dist_init(&s->rate, lr, p) || dist_init(&s->dur, ld, p))
        return -1;
    dist_finish(&s->rate);
    dist_finish(&s->dur);
    return 0;
}

/* The artifact's pick into chosen[] first: it is also trial 0 of the random baseline. With
 * `representative` the best of the trials is kept. Returns the trials' mean distance. */
static double random_trials(const hb_sample_opts *o, search *s, size_t *all, size_t p, size_t n,
                            gsl_rng *rng, size_t *chosen, size_t *cur, best_pick *best)
{
    gsl_ran_choose(rng, chosen, n, all, p, sizeof *all);
    double wr, wd, sum = 0;
    evaluate(s, chosen, n, &wr, &wd);
    best->mean = (wr + wd) / 2;
    best->rate = wr;
    best->dur = wd;
    sum += best->mean;
    int trials = o->trials > 0 ? o->trials : 1;
    for (int t = 1; t < trials; t++) {
        gsl_ran_choose(rng, cur, n, all, p, sizeof *all);
        evaluate(s, cur, n, &wr, &wd);
        double m = (wr + wd) / 2;
        sum += m;
        if (o->representative && m < best->mean) {
            best->mean = m;
            best->rate = wr;
            best->dur = wd;
            memcpy(chosen, cur, n * sizeof *cur);
        }
    }
    return sum / trials;
}

/* Seeded swaps: replace one chosen function by an unchosen one when that lowers the mean.
 * in[] (p zeroes) marks the chosen. */
static void swap_search(const hb_sample_opts *o, search *s, size_t p, size_t n, gsl_rng *rng,
                        size_t *chosen, unsigned char *in, best_pick *best)
{
    double wr, wd;
    for (size_t i = 0; i < n; i++)
        in[chosen[i]] = 1;
    for (int k = 0; k < o->swaps; k++) {
        size_t pos = gsl_rng_uniform_int(rng, n), cand = gsl_rng_uniform_int(rng, p);
        if (in[cand])
            continue;
        size_t old = chosen[pos];
        chosen[pos] = cand;
        evaluate(s, chosen, n, &wr, &wd);
        double m = (wr + wd) / 2;
        if (m < best->mean) {
            best->mean = m;
            best->rate = wr;
            best->dur = wd;
            in[old] = 0;
            in[cand] = 1;
        } else {
            chosen[pos] = old;
        }
    }
}

/* Chooses n of the p functions into chosen[] (ascending). Fills the distances. */
static int choose(const hb_sample_opts *o, const fsum *fs, size_t p, size_t n, gsl_rng *rng,
                  size_t *chosen, hb_sample_result *res, hb_error *err)
{
    int rc = 0;
    size_t *all = malloc(p * sizeof *all), *cur = malloc(n * sizeof *cur);
    double *lr = malloc(p * sizeof *lr), *ld = malloc(p * sizeof *ld);
    unsigned char *in = calloc(p, 1);
    search s = {.lrate = lr, .ldur = ld, .tmp = malloc(n * sizeof(double))};
    if (!all || !cur || !lr || !ld || !in || !s.tmp || search_prepare(&s, fs, p, all, lr, ld)) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    best_pick best;
    res->wd_random = random_trials(o, &s, all, p, n, rng, chosen, cur, &best);
    if (o->representative && n < p)
        swap_search(o, &s, p, n, rng, chosen, in, &best);
    qsort(chosen, n, sizeof *chosen, hb_cmp_size);
    res->wd = best.mean;
    res->wd_rate = best.rate;
    res->wd_duration = best.dur;
done:
    free(all);
    free(cur);
    free(lr);
    free(ld);
    free(in);
    free(s.tmp);
    free(s.rate.sorted);
    free(s.rate.prefix);
    free(s.dur.sorted);
    free(s.dur.prefix);
    return rc;
}

/* Writes `s` with commas and quotes escaped as CSV needs (hashes never have them; Trigger may). */
static void put_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

typedef struct chosen_info {
    char name[80], app[80], trigger[32];
    char *mem_row;                     /* the memory row's values after HashOwner,HashApp */
} chosen_info;

/* Second pass over the invocation file: the chosen rows, window columns only. */
static int write_invocations(const char *inv, const hb_sample_opts *o, size_t start, size_t width,
                             const fsum *fs, const size_t *chosen, size_t n, chosen_info *ci,
                             hb_error *err)
{
    hb_csv *c;
    int rc = open_with_header(inv, &c, err);
    if (rc)
        return rc;
    hb_afile a;
    if ((rc = hb_afile_open(&a, o->out, "sample_invocation_traces_0.csv", err))) {
        hb_csv_close(c);
        return rc;
    }
    fputs("HashFunction,Trigger", a.f);
    for (size_t m = 0; m < width; m++)
        fprintf(a.f, ",%zu", m + 1);
    fputc('\n', a.f);
    size_t k = 0;
    int r = 0;
    while (k < n && (r = hb_csv_next(c, err)) > 0) {
        if (hb_csv_line(c) != fs[chosen[k]].line)
            continue;
        snprintf(ci[k].name, sizeof ci[k].name, "%s", hb_csv_field(c, 2));
        snprintf(ci[k].app, sizeof ci[k].app, "%s", hb_csv_field(c, 1));
        snprintf(ci[k].trigger, sizeof ci[k].trigger, "%s", hb_csv_field(c, 3));
        put_field(a.f, ci[k].name);
        fputc(',', a.f);
        put_field(a.f, ci[k].trigger);
        for (size_t m = 0; m < width; m++) {
            fputc(',', a.f);
            fputs(hb_csv_field(c, 4 + start + m), a.f);
        }
        fputc('\n', a.f);
        k++;
    }
    if (k < n)
        rc = r < 0 ? -r : hb_fail(err, HB_EIO, "%s changed while it was read", inv);
    hb_csv_close(c);
    if (rc) {
        hb_afile_abort(&a);
        return rc;
    }
    return hb_afile_commit(&a, err);
}

/* Copies a statistics file's rows of the chosen functions, HashOwner and HashApp dropped:
 * durations by HashFunction (first row of each), memory by (HashOwner, HashApp), one row per chosen
 * function, named by its HashFunction (the artifact's memory file). */
static int write_stats(const char *path, int memory, const hb_sample_opts *o, const fsum *fs,
                       const size_t *chosen, size_t n, chosen_info *ci, hb_error *err)
{
    hb_csv *c;
    int rc = open_with_header(path, &c, err);
    if (rc)
        return rc;
    int co = hb_csv_col(c, "HashOwner"), ca = hb_csv_col(c, "HashApp"), cf = hb_csv_col(c, "HashFunction");
    size_t width = hb_csv_nfields(c);
    hb_afile a;
    if ((rc = hb_afile_open(&a, o->out, memory ? "sample_memory_traces_0.csv"
                                              : "sample_duration_traces_0.csv", err))) {
        hb_csv_close(c);
        return rc;
    }
    fputs("HashFunction", a.f);
    for (size_t i = 0; i < width; i++)
        if ((int)i != co && (int)i != ca && (int)i != cf)
            fprintf(a.f, ",%s", hb_csv_colname(c, i));
    fputc('\n', a.f);
    unsigned char *done = calloc(n ? n : 1, 1);
    int r = 0;
    while (done && (r = hb_csv_next(c, err)) > 0) {
        uint64_t key = memory ? fnv(hb_csv_field(c, (size_t)co), hb_csv_field(c, (size_t)ca))
                              : fnv(hb_csv_field(c, (size_t)cf), NULL);
        for (size_t k = 0; k < n; k++) {
            if (done[k] || (memory ? fs[chosen[k]].akey : fs[chosen[k]].fkey) != key)
                continue;
            done[k] = 1;
            if (memory) {
                size_t len = 1;
                for (size_t i = 0; i < width; i++)
                    len += strlen(hb_csv_field(c, i)) + 1;
                ci[k].mem_row = malloc(len);
                if (!ci[k].mem_row) {
                    rc = hb_fail(err, HB_ENOMEM, "out of memory");
                    break;
                }
                ci[k].mem_row[0] = '\0';
                for (size_t i = 0; i < width; i++)
                    if ((int)i != co && (int)i != ca) {
                        strcat(ci[k].mem_row, ",");
                        strcat(ci[k].mem_row, hb_csv_field(c, i));
                    }
                continue;
            }
            put_field(a.f, ci[k].name);
            for (size_t i = 0; i < width; i++)
                if ((int)i != co && (int)i != ca && (int)i != cf)
                    fprintf(a.f, ",%s", hb_csv_field(c, i));
            fputc('\n', a.f);
        }
        if (rc)
            break;
    }
    if (!done)
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
    else if (!rc && r < 0)
        rc = -r;
    if (!rc && memory)
        for (size_t k = 0; k < n; k++)
            if (ci[k].mem_row) {
                put_field(a.f, ci[k].name);
                fprintf(a.f, "%s\n", ci[k].mem_row);
            }
    free(done);
    hb_csv_close(c);
    if (rc) {
        hb_afile_abort(&a);
        return rc;
    }
    return hb_afile_commit(&a, err);
}

static int write_mapping(const hb_sample_opts *o, const fsum *fs, const size_t *chosen, size_t n,
                         const chosen_info *ci, hb_sample_result *res, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, o->out, "mapping.csv", err);
    if (rc)
        return rc;
    int used[HB_NWORKLOADS] = {0};
    fputs("trace_function,app,trigger,invocations,rate_per_min,dur_avg_ms,app_mem_mb,app_functions,"
          "mem_mb,bench,bench_ms,bench_mem_mb\n", a.f);
    for (size_t k = 0; k < n; k++) {
        const fsum *f = &fs[chosen[k]];
        int b = hb_sample_map_bench(f->dur, f->mem, o->ref_ms, o->ref_mem_mb);
        used[b]++;
        put_field(a.f, ci[k].name);
        fputc(',', a.f);
        put_field(a.f, ci[k].app);
        fputc(',', a.f);
        put_field(a.f, ci[k].trigger);
        fprintf(a.f, ",%llu,%.6g,%.6g,%.6g,%u,%.6g,%s,%.6g,%.6g\n", (unsigned long long)f->calls,
                f->rate, f->dur, f->app_mem, f->app_funcs, f->mem, hb_functions[b].id, o->ref_ms[b],
                o->ref_mem_mb[b]);
    }
    res->shared_bench = 0;
    for (int b = 0; b < HB_NWORKLOADS; b++)
        if (used[b] > 1)
            res->shared_bench += used[b];
    return hb_afile_commit(&a, err);
}

static int write_summary(const hb_sample_opts *o, const hb_sample_result *r, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, o->out, "sample_summary.csv", err);
    if (rc)
        return rc;
    fprintf(a.f, "key,value\nmethod,%s\nseed,%llu\nday,%d\nstart_minute,%d\nminutes,%zu\n"
            "functions,%zu\nrows,%zu\nduplicates,%zu\nno_calls,%zu\nfiltered,%zu\nno_duration,%zu\n"
            "no_memory,%zu\npopulation,%zu\ninvocations,%llu\nwasserstein_mean,%.6f\n"
            "wasserstein_rate,%.6f\nwasserstein_duration,%.6f\nwasserstein_random_mean,%.6f\n"
            "shared_bench,%d\n",
            o->representative ? "representative" : "artifact", (unsigned long long)o->seed, o->day,
            o->start_minute, r->minutes, r->chosen, r->rows, r->duplicates, r->no_calls, r->filtered,
            r->no_duration, r->no_memory, r->population, (unsigned long long)r->invocations, r->wd,
            r->wd_rate, r->wd_duration, r->wd_random, r->shared_bench);
    return hb_afile_commit(&a, err);
}

static int write_ini(const hb_sample_opts *o, const hb_sample_result *r, hb_error *err)
{
    hb_afile a;
    int rc = hb_afile_open(&a, o->out, "trace.ini", err);
    if (rc)
        return rc;
    fprintf(a.f, "# written by: harvestbench trace sample (%s, seed %llu, day %d)\n"
            "# run it as is (defaults elsewhere), or copy the [trace] section into a config.\n"
            "[trace]\nformat = artifact\ninvocations = sample_invocation_traces_0.csv\n"
            "durations = sample_duration_traces_0.csv\nmemory = sample_memory_traces_0.csv\n"
            "functions = %zu\nmapping = file\nmapping_file = mapping.csv\n",
            o->representative ? "representative" : "artifact", (unsigned long long)o->seed, o->day,
            r->chosen);
    return hb_afile_commit(&a, err);
}

/* Pass 1 over the invocation file: the statistics, the window and the eligible functions. */
typedef struct population {
    keyval *durs, *mems;
    size_t ndur, nmem;
    size_t minutes, start, width;      /* the file's minutes; the window [start, start + width) */
    uint32_t *counts;                  /* one row's minutes */
    keyset seen;                       /* the HashFunctions read so far */
    fsum *fs;                          /* the eligible functions */
    size_t nfs, cap;
} population;

/* Opens the invocation file and fixes the window. */
static int population_open(const hb_sample_opts *o, const char *inv, hb_csv **c, population *pp,
                           hb_sample_result *res, hb_error *err)
{
    int rc;
    if ((rc = open_with_header(inv, c, err)) || (rc = inv_header(*c, &pp->minutes, err)))
        return rc;
    size_t start = (size_t)(o->start_minute > 0 ? o->start_minute - 1 : 0);
    if (start >= pp->minutes)
        return hb_fail(err, HB_EINPUT, "--start %zu but %s has %zu minutes", start + 1, inv,
                       pp->minutes);
    size_t width = pp->minutes - start;
    if (o->minutes > 0 && (size_t)o->minutes < width)
        width = (size_t)o->minutes;
    pp->start = start;
    pp->width = width;
    res->minutes = width;
    pp->counts = malloc(pp->minutes * sizeof *pp->counts);
    if (!pp->counts)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    return 0;
}

/* The current row's minute counts into pp->counts, after checking its shape. */
static int row_counts(hb_csv *c, const char *inv, population *pp, hb_error *err)
{
    int rc;
    if ((rc = check_width(c, 4 + pp->minutes, err)))
        return rc;
    if (!hb_csv_field(c, 2)[0])
        return hb_fail_at(err, HB_EINPUT, inv, hb_csv_line(c), "HashFunction", "empty");
    for (size_t m = 0; m < pp->minutes; m++)
        if ((rc = parse_count(c, m, &pp->counts[m], err)))
            return rc;
    return 0;
}

static int add_eligible(population *pp, hb_csv *c, const char *fname, uint64_t akey, uint64_t sum,
                        double dur, hb_error *err)
{
    if (HB_GROW(pp->fs, pp->cap, pp->nfs + 1) != HB_OK)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    fsum *f = &pp->fs[pp->nfs++];
    f->line = hb_csv_line(c);
    f->fkey = fnv(fname, NULL);
    f->akey = akey;
    f->calls = sum;
    f->rate = (double)sum / (double)pp->width;
    f->dur = dur;
    f->mem = f->app_mem = -1;
    f->app_funcs = 0;
    return 0;
}

/* One row: counted in res as a row and either a reason it is left out or an eligible function. */
static int read_row(hb_csv *c, const char *inv, const hb_sample_opts *o, population *pp,
                    hb_sample_result *res, hb_error *err)
{
    int rc = row_counts(c, inv, pp, err);
    if (rc)
        return rc;
    const char *fname = hb_csv_field(c, 2);
    res->rows++;
    int added = keyset_add(&pp->seen, fnv(fname, NULL));
    if (added < 0)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (!added) {
        res->duplicates++;             /* the artifact drops repeated hashes too */
        return 0;
    }
    uint64_t akey = fnv(hb_csv_field(c, 0), hb_csv_field(c, 1));
    keyval *mk = kv_find(pp->mems, pp->nmem, akey);
    if (mk)
        mk->nfun++;
    uint64_t sum = 0;
    int in_bounds = 1;
    for (size_t m = 0; m < pp->width; m++) {
        uint32_t v = pp->counts[pp->start + m];
        sum += v;
        in_bounds &= v >= o->min_per_minute && v <= o->max_per_minute;
    }
    keyval *dk = kv_find(pp->durs, pp->ndur, fnv(fname, NULL));
    if (sum == 0)
        res->no_calls++;
    else if (!in_bounds)
        res->filtered++;
    else if (!dk)
        res->no_duration++;
    else if (!mk)
        res->no_memory++;
    else
        return add_eligible(pp, c, fname, akey, sum, dk->v, err);
    return 0;
}

/* Pass 1: a summary per eligible function, with its app's memory split among the app's functions. */
static int read_population(const hb_sample_opts *o, const char *inv, population *pp,
                           hb_sample_result *res, hb_error *err)
{
    hb_csv *c = NULL;
    int rc = population_open(o, inv, &c, pp, res, err), r = 0;
    while (!rc && (r = hb_csv_next(c, err)) > 0)
        rc = read_row(c, inv, o, pp, res, err);
    if (c)
        hb_csv_close(c);
    if (rc || r < 0)
        return rc ? rc : -r;
    for (size_t i = 0; i < pp->nfs; i++) {
        keyval *mk = kv_find(pp->mems, pp->nmem, pp->fs[i].akey);
        pp->fs[i].app_mem = mk->v;
        pp->fs[i].app_funcs = mk->nfun;
        pp->fs[i].mem = mk->v / (mk->nfun ? mk->nfun : 1);   /* InVitro: split evenly in the app */
    }
    res->population = pp->nfs;
    return 0;
}

static int too_few(const char *inv, size_t nfs, size_t n, const hb_sample_result *res, hb_error *err)
{
    return hb_fail(err, HB_EINPUT,
                   "%s: %zu functions are eligible but --functions %zu (of %zu rows: %zu repeated, "
                   "%zu without calls in the window, %zu outside the per-minute bounds, %zu without "
                   "a duration row, %zu without an app memory row)", inv, nfs, n, res->rows,
                   res->duplicates, res->no_calls, res->filtered, res->no_duration, res->no_memory);
}

/* The sample's files in o->out. */
static int write_sample(const hb_sample_opts *o, const char *inv, const char *dur, const char *mem,
                        const population *pp, const size_t *chosen, size_t n, chosen_info *ci,
                        hb_sample_result *res, hb_error *err)
{
    int rc;
    if ((rc = hb_mkdirs(o->out, err)) ||
        (rc = write_invocations(inv, o, pp->start, pp->width, pp->fs, chosen, n, ci, err)) ||
        (rc = write_stats(dur, 0, o, pp->fs, chosen, n, ci, err)) ||
        (rc = write_stats(mem, 1, o, pp->fs, chosen, n, ci, err)) ||
        (rc = write_mapping(o, pp->fs, chosen, n, ci, res, err)) || (rc = write_summary(o, res, err)))
        return rc;
    return write_ini(o, res, err);
}

int hb_trace_sample(const hb_sample_opts *o, hb_sample_result *res, hb_error *err)
{
    memset(res, 0, sizeof *res);
    if (o->functions < 1)
        return hb_fail(err, HB_EINPUT, "--functions: need at least 1");
    if (o->day < 1 || o->day > 14)
        return hb_fail(err, HB_EINPUT, "--day %d: the 2019 dataset has days 1 to 14", o->day);
    char inv[4096], dur[4096], mem[4096];
    int rc;
    if ((rc = dataset_file(o->dir, INV_STEM, o->day, inv, sizeof inv, err)) ||
        (rc = dataset_file(o->dir, DUR_STEM, o->day, dur, sizeof dur, err)) ||
        (rc = dataset_file(o->dir, MEM_STEM, o->day, mem, sizeof mem, err)))
        return rc;
    population pp = {0};
    size_t n = (size_t)o->functions, *chosen = NULL;
    chosen_info *ci = NULL;
    gsl_rng *rng = NULL;
    if ((rc = read_keyed(dur, 0, &pp.durs, &pp.ndur, err)) ||
        (rc = read_keyed(mem, 1, &pp.mems, &pp.nmem, err)) ||
        (rc = read_population(o, inv, &pp, res, err)))
        goto done;
    if (pp.nfs < n) {
        rc = too_few(inv, pp.nfs, n, res, err);
        goto done;
    }
    chosen = malloc(n * sizeof *chosen);
    ci = calloc(n, sizeof *ci);
    rng = hb_rng_new(o->seed, "trace-sample");
    if (!chosen || !ci || !rng) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = choose(o, pp.fs, pp.nfs, n, rng, chosen, res, err)))
        goto done;
    res->chosen = n;
    for (size_t k = 0; k < n; k++)
        res->invocations += pp.fs[chosen[k]].calls;
    rc = write_sample(o, inv, dur, mem, &pp, chosen, n, ci, res, err);
done:
    if (ci)
        for (size_t k = 0; k < n; k++)
            free(ci[k].mem_row);
    free(ci);
    free(chosen);
    if (rng)
        gsl_rng_free(rng);
    free(pp.counts);
    free(pp.seen.slot);
    free(pp.fs);
    free(pp.durs);
    free(pp.mems);
    return rc;
}

/* ---- [trace] mapping = file ---- */

int hb_trace_mapping_apply(hb_trace *t, const char *path, hb_error *err)
{
    if (!path || !path[0])
        return hb_fail(err, HB_EINPUT, "[trace] mapping = file needs mapping_file (the mapping.csv "
                       "written by: harvestbench trace sample)");
    hb_csv *c;
    int rc = open_with_header(path, &c, err);
    if (rc)
        return rc;
    int cf, cb;
    if ((rc = need_col(c, "trace_function", &cf, err)) || (rc = need_col(c, "bench", &cb, err))) {
        hb_csv_close(c);
        return rc;
    }
    unsigned char *set = calloc(t->n_funcs ? t->n_funcs : 1, 1);
    if (!set) {
        hb_csv_close(c);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    int r;
    while ((r = hb_csv_next(c, err)) > 0) {
        const char *b = hb_csv_field(c, (size_t)cb);
        int bench = hb_function_find(b);
        if (bench < 0) {
            rc = hb_fail_at(err, HB_EINPUT, path, hb_csv_line(c), "bench",
                            "'%s' is not a benchmark function id (dh, eg, ip, ...)", b);
            break;
        }
        for (size_t i = 0; i < t->n_funcs; i++)
            if (strcmp(t->funcs[i].name, hb_csv_field(c, (size_t)cf)) == 0) {
                t->funcs[i].bench = bench;
                set[i] = 1;
            }
    }
    if (!rc && r < 0)
        rc = -r;
    for (size_t i = 0; !rc && i < t->n_funcs; i++)
        if (!set[i])
            rc = hb_fail(err, HB_EINPUT, "%s: trace function '%s' (of %s) is not in the mapping",
                         path, t->funcs[i].name, t->source);
    free(set);
    hb_csv_close(c);
    return rc;
}
