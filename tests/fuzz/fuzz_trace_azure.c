/* fuzz_trace_azure.c - hb_trace_load on raw Azure Functions 2019 files (trace.h).
 *
 * Input: up to four parts separated by FUZZ_SEP lines: the invocation file
 * (HashOwner,HashApp,HashFunction,Trigger,1..1440), function_durations_percentiles
 * (HashOwner,HashApp,HashFunction,Average,...), app_memory_percentiles
 * (HashOwner,HashApp,SampleCount,AverageAllocatedMb,...) and the options
 * "START_MINUTE MINUTES SCALE FUNCTIONS MIN_PER_MINUTE MAX_PER_MINUTE MAPPING" (MAPPING 0 = order,
 * 1 = duration), clamped to the ranges config.c allows. An absent or empty part is not given to
 * the reader (as an empty path in a configuration). Sampling uses a generator seeded alike for
 * every input, so a crash reproduces. */
#include "fuzz_util.h"

#include <gsl/gsl_rng.h>

#include "hb_types.h"
#include "trace.h"

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static gsl_rng *rng;
    /* per benchmark function, as the catalog's: any positive values exercise the mapping */
    static const double ref_ms[HB_NWORKLOADS] = {5, 1046, 64, 3000, 700, 20000, 150, 90, 45000, 8};
    if (!rng && !(rng = gsl_rng_alloc(gsl_rng_mt19937)))
        return 0;
    gsl_rng_set(rng, 1);
    fuzz_part part[4];
    size_t n = fuzz_split(data, size, part, 4);
    const char *path[3] = {NULL, NULL, NULL};
    for (size_t i = 0; i < n && i < 3; i++)
        if (part[i].n && !(path[i] = fuzz_file((int)i, part[i].p, part[i].n)))
            return 0;
    hb_trace_spec spec = {.format = "azure2019", .invocations = path[0], .durations = path[1],
                          .memory = path[2], .start_minute = 1, .minutes = 0, .scale = 1.0,
                          .functions = 10, .min_per_minute = 0, .max_per_minute = 2147483647,
                          .mapping = "order", .ref_duration_ms = ref_ms, .rng = rng};
    if (n == 4) {
        char *opt = fuzz_strndup(part[3].p, part[3].n);
        if (!opt)
            return 0;
        int start = 1, minutes = 0, functions = 10, lo = 0, hi = 2147483647, mapping = 0;
        double scale = 1.0;
        if (sscanf(opt, "%d %d %lf %d %d %d %d", &start, &minutes, &scale, &functions, &lo, &hi,
                   &mapping) >= 1) {
            spec.start_minute = clampi(start, 1, 1000000);
            spec.minutes = clampi(minutes, 0, 1000000);
            spec.scale = scale >= 1e-6 && scale <= 1e6 ? scale : 1.0;
            spec.functions = clampi(functions, 1, 100000);
            spec.min_per_minute = clampi(lo, 0, 2147483647);
            spec.max_per_minute = clampi(hi, 0, 2147483647);
            spec.mapping = mapping == 1 ? "duration" : "order";
        }
        free(opt);
    }
    hb_trace *t = NULL;
    hb_error err = {0};
    int rc = hb_trace_load(&spec, &t, &err);
    fuzz_check_error(rc, &err);
    if (rc == 0) {
        FUZZ_REQUIRE(t && t->n_funcs >= 1 && t->n_minutes >= 1);
        FUZZ_REQUIRE(t->n_funcs <= (size_t)spec.functions);
        uint64_t sum = 0;
        for (size_t f = 0; f < t->n_funcs; f++) {
            FUZZ_REQUIRE(t->funcs[f].bench >= 0 && t->funcs[f].bench < HB_NWORKLOADS);
            for (size_t m = 0; m < t->n_minutes; m++)
                sum += hb_trace_count(t, f, m);
        }
        FUZZ_REQUIRE(sum == t->total);
    } else {
        FUZZ_REQUIRE(t == NULL);
    }
    hb_trace_free(t);
    return 0;
}
