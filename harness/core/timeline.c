/* timeline.c - usage timelines: the measured library's reader and the replay of its runs, and the
 * synthetic timelines of the artifact profile (see timeline.h). */
#include "timeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"
#include "dynbuf.h"
#include "files.h"
#include "seed.h"

#define TL_MAGIC "# harvestbench timeline library, format 1"
#define TL_HEADER "function_id,size,cpu_limit,repeat,t_ms,dt_ms,cpu_cores,mem_mb,runnable"
#define TL_IDLE_CORES 1e-3             /* below this a sample is a wait, not work */
#define TL_THROTTLED 0.9               /* cpu >= this x the limit: the sample was throttled */

void hb_call_timeline_free(hb_call_timeline *t)
{
    free(t->p);
    memset(t, 0, sizeof *t);
}

static int tl_reserve(hb_call_timeline *t, size_t n, hb_error *err)
{
    t->n = 0;
    t->peak_cpu = t->mem_peak_mb = 0;
    if (HB_GROW(t->p, t->cap, n) != HB_OK)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    return 0;
}

/* Appends a sample; one that continues the last phase (the same demand and memory, both work or
 * both waits) extends it instead: the same usage in fewer phases, which the simulator runs faster. */
static void tl_push(hb_call_timeline *t, double work, double demand, double wait_us, double mem)
{
    hb_tl_phase *last = t->n ? &t->p[t->n - 1] : NULL;
    if (last && last->mem_mb == mem && (work > 0) == (last->work > 0) &&
        (work > 0 ? last->demand == demand : 1)) {
        last->work += work;
        last->wait_us += wait_us;
    } else {
        t->p[t->n++] = (hb_tl_phase){work, demand, wait_us, mem};
    }
    if (work > 0 && demand > t->peak_cpu)
        t->peak_cpu = demand;
    if (mem > t->mem_peak_mb)
        t->mem_peak_mb = mem;
}

double hb_call_timeline_duration_us(const hb_call_timeline *t, double cores)
{
    double us = 0;
    for (size_t i = 0; i < t->n; i++) {
        const hb_tl_phase *p = &t->p[i];
        us += p->work > 0 ? p->work / fmin(p->demand, cores) : p->wait_us;
    }
    return us;
}

/* ---- the measured library ---- */

void hb_timeline_free(hb_timeline_lib *lib)
{
    if (!lib)
        return;
    free(lib->s);
    free(lib->runs);
    free(lib->sel);
    for (int f = 0; f < HB_NWORKLOADS; f++)
        free(lib->sizes[f]);
    free(lib);
}

double hb_tl_sample_demand(const hb_tl_sample *s, double cpu_limit, int machine_cpus)
{
    double lim = cpu_limit > 0 ? cpu_limit : (double)machine_cpus;
    int throttled = lim > 0 && s->cpu >= TL_THROTTLED * lim;
    if (throttled && s->runnable >= 0)
        return fmax(s->cpu, s->runnable);
    return s->cpu;
}

/* Blanks '#' comment lines in place (line numbers stay right for messages); reads the CPU count
 * of the "# machine:" line. */
static int prepare_text(char *text, int *cpus)
{
    int first = 1, magic = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (*line == '#') {
            if (first && strncmp(line, TL_MAGIC, strlen(TL_MAGIC)) == 0)
                magic = 1;
            const char *m = strstr(line, "CPUs)");
            if (strncmp(line, "# machine:", 10) == 0 && m) {
                const char *p = m;
                while (p > line && p[-1] == ' ')
                    p--;
                while (p > line && p[-1] >= '0' && p[-1] <= '9')
                    p--;
                *cpus = atoi(p);
            }
            memset(line, ' ', n);
        }
        first = 0;
        if (!nl)
            break;
        line = nl + 1;
    }
    return magic;
}

static double limit_rank(double lim) { return lim > 0 ? lim : INFINITY; }

/* Orders runs by function, size, least-limited first, then repeat. */
static int cmp_run(const void *a, const void *b)
{
    const hb_tl_run *x = a, *y = b;
    if (x->func != y->func)
        return x->func < y->func ? -1 : 1;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    double lx = limit_rank(x->cpu_limit), ly = limit_rank(y->cpu_limit);
    if (lx != ly)
        return lx > ly ? -1 : 1;
    return x->repeat < y->repeat ? -1 : x->repeat > y->repeat;
}

static int index_runs(hb_timeline_lib *lib, hb_error *err)
{
    /* the runs keep their samples' offsets, so they can be sorted in place */
    qsort(lib->runs, lib->nruns, sizeof *lib->runs, cmp_run);
    lib->sel = malloc((lib->nruns ? lib->nruns : 1) * sizeof *lib->sel);
    if (!lib->sel)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (size_t i = 0; i < lib->nruns; i++)
        lib->sel[i] = i;
    /* keep, per (function, size), the runs at its least-limited limit */
    size_t k = 0;
    for (size_t i = 0; i < lib->nruns;) {
        const hb_tl_run *r0 = &lib->runs[lib->sel[i]];
        size_t j = i;
        while (j < lib->nruns && lib->runs[lib->sel[j]].func == r0->func &&
               lib->runs[lib->sel[j]].size == r0->size)
            j++;
        int f = r0->func;
        hb_tl_size *a = realloc(lib->sizes[f], (lib->nsizes[f] + 1) * sizeof *a);
        if (!a)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        lib->sizes[f] = a;
        hb_tl_size *z = &a[lib->nsizes[f]++];
        *z = (hb_tl_size){.size = r0->size, .first = k};
        for (size_t m = i; m < j && lib->runs[lib->sel[m]].cpu_limit == r0->cpu_limit; m++) {
            const hb_tl_run *r = &lib->runs[lib->sel[m]];
            lib->sel[k++] = lib->sel[m];
            z->count++;
            z->work += r->work;
            z->mem_peak_mb += r->mem_peak_mb;
        }
        z->work /= (double)z->count;
        z->mem_peak_mb /= (double)z->count;
        i = j;
    }
    return 0;
}

static int parse_rows(hb_csv *c, hb_timeline_lib *lib, const char *source, hb_error *err)
{
    size_t cap_s = 0, cap_r = 0;
    double last_t = 0;
    int r;
    while ((r = hb_csv_next(c, err)) > 0) {
        long line = hb_csv_line(c);
        if (hb_csv_nfields(c) != 9)
            return hb_fail_at(err, HB_EINPUT, source, line, "row", "%zu fields, expected 9",
                              hb_csv_nfields(c));
        int f = hb_function_find(hb_csv_field(c, 0));
        if (f < 0)
            return hb_fail_at(err, HB_EINPUT, source, line, "function_id", "unknown function '%s'",
                              hb_csv_field(c, 0));
        static const char *const names[] = {"size", "cpu_limit", "repeat", "t_ms", "dt_ms",
                                            "cpu_cores", "mem_mb", "runnable"};
        double v[8];
        for (int k = 0; k < 8; k++) {
            int rc = hb_csv_double(c, (size_t)k + 1, names[k], &v[k], err);
            if (rc)
                return rc;
            if (!isfinite(v[k]) || (v[k] < 0 && !(k == 7 && v[k] == -1)))
                return hb_fail_at(err, HB_EINPUT, source, line, names[k], "'%s' is %s",
                                  hb_csv_field(c, (size_t)k + 1),
                                  k == 7 ? "not -1 or a count >= 0" : "negative or not finite");
        }
        if (v[4] <= 0)
            return hb_fail_at(err, HB_EINPUT, source, line, "dt_ms", "must be > 0, is '%s'",
                              hb_csv_field(c, 5));
        int64_t size = (int64_t)v[0];
        int repeat = (int)v[2];
        hb_tl_run *last = lib->nruns ? &lib->runs[lib->nruns - 1] : NULL;
        int same = last && last->func == f && last->size == size && last->cpu_limit == v[1] &&
                   last->repeat == repeat;
        if (same) {
            if (!(v[3] > last_t))
                return hb_fail_at(err, HB_EINPUT, source, line, "t_ms",
                                  "%s out of order in its run (previous sample at %.0f ms)",
                                  hb_csv_field(c, 4), last_t);
        } else {
            for (size_t i = 0; i < lib->nruns; i++) {
                const hb_tl_run *q = &lib->runs[i];
                if (q->func == f && q->size == size && q->cpu_limit == v[1] && q->repeat == repeat)
                    return hb_fail_at(err, HB_EINPUT, source, line, "function_id",
                                      "run (%s, %lld, %g, %d) reappears after other runs",
                                      hb_functions[f].id, (long long)size, v[1], repeat);
            }
            if (HB_GROW(lib->runs, cap_r, lib->nruns + 1) != HB_OK)
                return hb_fail(err, HB_ENOMEM, "out of memory");
            lib->runs[lib->nruns++] = (hb_tl_run){f, size, v[1], repeat, lib->ns, 0, 0, 0};
            last = &lib->runs[lib->nruns - 1];
        }
        if (HB_GROW(lib->s, cap_s, lib->ns + 1) != HB_OK)
            return hb_fail(err, HB_ENOMEM, "out of memory");
        last_t = v[3];
        lib->s[lib->ns++] = (hb_tl_sample){v[4] * 1e3, v[5], v[6], v[7]};
        last->n++;
        last->work += v[5] * v[4] / 1e3;
        if (v[6] > last->mem_peak_mb)
            last->mem_peak_mb = v[6];
    }
    return r < 0 ? -r : 0;
}

int hb_timeline_parse(const char *text, size_t len, const char *source, hb_timeline_lib **out,
                      hb_error *err)
{
    *out = NULL;
    char *t = malloc(len + 1);
    hb_timeline_lib *lib = calloc(1, sizeof *lib);
    hb_csv *c = NULL;
    int rc = 0;
    if (!t || !lib) {
        rc = hb_fail(err, HB_ENOMEM, "out of memory");
        goto done;
    }
    memcpy(t, text, len);
    t[len] = '\0';
    snprintf(lib->source, sizeof lib->source, "%s", source);
    if (!prepare_text(t, &lib->machine_cpus)) {
        rc = hb_fail_at(err, HB_EINPUT, source, 1, "header", "not a timeline library (the first "
                        "line must be '%s')", TL_MAGIC);
        goto done;
    }
    if ((rc = hb_csv_open_mem(t, len, source, &c, err)))
        goto done;
    int r = hb_csv_next(c, err);
    if (r <= 0) {
        rc = r < 0 ? -r : hb_fail_at(err, HB_EINPUT, source, 1, "header", "no header line");
        goto done;
    }
    char hdr[256] = "";
    for (size_t i = 0; i < hb_csv_nfields(c); i++) {
        size_t n = strlen(hdr);
        snprintf(hdr + n, sizeof hdr - n, "%s%s", i ? "," : "", hb_csv_field(c, i));
    }
    if (strcmp(hdr, TL_HEADER) != 0) {
        rc = hb_fail_at(err, HB_EINPUT, source, hb_csv_line(c), "header", "'%s', expected '%s'",
                        hdr, TL_HEADER);
        goto done;
    }
    if ((rc = parse_rows(c, lib, source, err)))
        goto done;
    if (lib->nruns == 0) {
        rc = hb_fail(err, HB_EINPUT, "%s: the timeline library holds no run", source);
        goto done;
    }
    rc = index_runs(lib, err);
done:
    hb_csv_close(c);
    free(t);
    if (rc)
        hb_timeline_free(lib);
    else
        *out = lib;
    return rc;
}

int hb_timeline_load(const char *path, hb_timeline_lib **out, hb_error *err)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc = hb_read_text(path, &text, &len, err);
    if (rc)
        return rc;
    rc = hb_timeline_parse(text, len, path, out, err);
    free(text);
    return rc;
}

/* A measured quantity between measured sizes: linear in x; constant below the smallest; above the
 * largest, work continues the last segment's slope (never below the largest's value) and memory
 * stays at the largest's: the parallel functions' memory grows with the workers that get an item
 * and stops when all have one, which a line through the last two sizes would not know. */
static double size_interp(const hb_tl_size *z, size_t n, double x, int mem)
{
#define V(i) (mem ? z[i].mem_peak_mb : z[i].work)
    if (n == 1 || x <= (double)z[0].size)
        return V(0);
    for (size_t i = 1; i < n; i++)
        if (x <= (double)z[i].size) {
            double x0 = (double)z[i - 1].size, x1 = (double)z[i].size;
            return V(i - 1) + (V(i) - V(i - 1)) * (x - x0) / (x1 - x0);
        }
    if (mem)
        return V(n - 1);
    double x0 = (double)z[n - 2].size, x1 = (double)z[n - 1].size;
    double slope = (V(n - 1) - V(n - 2)) / (x1 - x0);
    return fmax(V(n - 1), V(n - 1) + slope * (x - x1));
#undef V
}

int hb_timeline_measured(const hb_timeline_lib *lib, int func, int64_t size, double u,
                         hb_call_timeline *out, hb_error *err)
{
    size_t nz = lib->nsizes[func];
    const hb_tl_size *z = lib->sizes[func];
    if (nz == 0)
        return hb_fail(err, HB_EINPUT, "%s: no timeline of function %s", lib->source,
                       hb_functions[func].id);
    /* the nearest measured size (in ratio) gives the shape */
    double x = size > 0 ? (double)size : 1.0;
    size_t b = 0;
    double best = INFINITY;
    for (size_t i = 0; i < nz; i++) {
        double d = fabs(log(x) - log(z[i].size > 0 ? (double)z[i].size : 1.0));
        if (d < best) {
            best = d;
            b = i;
        }
    }
    double fw = z[b].work > 0 ? size_interp(z, nz, x, 0) / z[b].work : 1.0;
    double fm = z[b].mem_peak_mb > 0 ? size_interp(z, nz, x, 1) / z[b].mem_peak_mb : 1.0;
    size_t k = (size_t)(u * (double)z[b].count);
    if (k >= z[b].count)
        k = z[b].count - 1;
    const hb_tl_run *r = &lib->runs[lib->sel[z[b].first + k]];
    int rc = tl_reserve(out, r->n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < r->n; i++) {
        const hb_tl_sample *s = &lib->s[r->off + i];
        double dt = s->dt_us * fw;
        if (s->cpu < TL_IDLE_CORES)
            tl_push(out, 0, 0, dt, s->mem_mb * fm);
        else
            tl_push(out, s->cpu * dt, hb_tl_sample_demand(s, r->cpu_limit, lib->machine_cpus), 0,
                    s->mem_mb * fm);
    }
    return 0;
}

/* ---- synthetic timelines of the artifact profile ---- */

/* The draws of one call, by purpose: each is a function of (the call's stream, key) only. */
enum { D_CPU_ERR, D_CPU_DIR, D_MEM_ERR, D_MEM_DIR, D_CPU_PEAK, D_MEM_PEAK, D_BURST0 = 64 };

static double draw(const hb_tl_artifact_call *a, uint64_t key)
{
    return hb_index_uniform(a->stream, key);
}

static int true_class(int c, double p_err, double u_err, double u_dir)
{
    if (c < 1)
        c = 1;
    if (c > 8)
        c = 8;
    if (!(u_err < p_err))
        return c;
    int d = u_dir < 0.5 ? -1 : 1;
    if (c + d < 1 || c + d > 8)
        d = -d;                        /* at an end of 1..8 the other side */
    return c + d;
}

void hb_tl_artifact_classes(const hb_tl_artifact_call *a, int *cpu_class, int *mem_class)
{
    *cpu_class = true_class(a->cpu_class, a->cpu_class_error, draw(a, D_CPU_ERR), draw(a, D_CPU_DIR));
    *mem_class = true_class(a->mem_class, a->mem_class_error, draw(a, D_MEM_ERR), draw(a, D_MEM_DIR));
}

double hb_tl_artifact_sustained(int func, int64_t size)
{
    const hb_function *fn = &hb_functions[func];
    if (strcmp(fn->id, "eg") == 0)
        return 1.0;                    /* one process, no workers */
    if (strcmp(fn->id, "vp") == 0 || strcmp(fn->id, "ir") == 0)
        return -1.0;                   /* one multi-threaded worker (ffmpeg, PyTorch) */
    double w = (double)fn->parallel;
    if (size > 0 && (double)size < w)
        w = (double)size;              /* workers with no item exit at once */
    return w < 1 ? 1 : w;
}

int hb_timeline_artifact(const hb_tl_artifact_call *a, hb_call_timeline *out, hb_error *err)
{
    int cc, mc;
    hb_tl_artifact_classes(a, &cc, &mc);
    /* the realised peaks vary within their class: class c holds peaks in [c-1, c) */
    double peak = fmax((double)(cc - 1) + draw(a, D_CPU_PEAK), 0.1);
    double mem = ((double)(mc - 1) + draw(a, D_MEM_PEAK)) * HB_MEM_UNIT_MB * 1e6 / 1048576.0;
    if (mc == a->mem_class && a->mem_cap_mb > 0)
        mem = fmin(mem, a->mem_cap_mb);
    mem = fmax(mem, 1.0);
    double sus = hb_tl_artifact_sustained(a->func, a->size);
    sus = sus < 0 ? HB_TL_MT_SUSTAIN * peak : fmin(sus, peak);
    double io = fmin(HB_TL_IO_CORES, peak);
    double exec = fmax(a->exec_s, 0) * (a->work_factor > 0 ? a->work_factor : 1.0);
    size_t n = (size_t)ceil(exec / HB_TL_SAMPLE_S - 1e-9);
    if (n < 3)
        n = 3;
    double dt = exec * 1e6 / (double)n;
    size_t n0 = (size_t)lround(HB_TL_START_FRAC * (double)n), n2 = (size_t)lround(HB_TL_END_FRAC * (double)n);
    if (n0 < 1)
        n0 = 1;
    if (n2 < 1)
        n2 = 1;
    size_t n1 = n - n0 - n2;
    int rc = tl_reserve(out, n, err);
    if (rc)
        return rc;
    /* each sample's burst draw is made once: the stream's key mixed once, and the outcomes kept
     * for the loop below (a bit each, for the first BURST_BITS samples) */
    enum { BURST_BITS = 8192 };
    uint64_t mixed = hb_index_mix(a->stream), burst_bit[BURST_BITS / 64];
    size_t bursts = 0;
    for (size_t i = 0; i < n1; i++) {
        int b = hb_index_uniform_mixed(mixed, D_BURST0 + i) < HB_TL_BURST_P;
        bursts += (size_t)b;
        if (i < BURST_BITS) {
            if (i % 64 == 0)
                burst_bit[i / 64] = 0;
            burst_bit[i / 64] |= (uint64_t)b << (i % 64);
        }
    }
    size_t ramp = (size_t)ceil(HB_TL_MEM_RAMP * (double)n1);
    double m0 = HB_TL_MEM_START * mem;
    for (size_t i = 0; i < n; i++) {
        double d, m;
        if (i < n0) {
            d = io;
            m = m0;
        } else if (i < n0 + n1) {
            size_t j = i - n0;
            int drawn = j < BURST_BITS ? (int)(burst_bit[j / 64] >> (j % 64) & 1)
                                       : hb_index_uniform_mixed(mixed, D_BURST0 + j) < HB_TL_BURST_P;
            int burst = drawn || (bursts == 0 && j == n1 / 2);
            d = burst ? peak : sus;
            m = j + 1 >= ramp ? mem : m0 + (mem - m0) * (double)(j + 1) / (double)ramp;
        } else {
            d = io;
            m = mem;
        }
        tl_push(out, d * dt, d, 0, m);
    }
    return 0;
}
