/* fuzz_trace_artifact.c - hb_trace_load on traces in the artifact format (trace.h).
 *
 * Input: up to five parts separated by FUZZ_SEP lines: the invocation file
 * (HashFunction,Trigger,1..T), the duration file (HashFunction,Average,...), the memory file
 * (HashFunction,...,AverageAllocatedMb,...), the input-size file (1..N, then N sizes) and the
 * options "START_MINUTE MINUTES SCALE", clamped to the ranges config.c allows. An absent or empty part
 * is not given to the reader (as an empty path in a configuration). */
#include "fuzz_util.h"

#include "hb_types.h"
#include "trace.h"

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_part part[5];
    size_t n = fuzz_split(data, size, part, 5);
    const char *path[4] = {NULL, NULL, NULL, NULL};
    for (size_t i = 0; i < n && i < 4; i++)
        if (part[i].n && !(path[i] = fuzz_file((int)i, part[i].p, part[i].n)))
            return 0;
    hb_trace_spec spec = {.format = "artifact", .invocations = path[0], .durations = path[1],
                          .memory = path[2], .input_sizes = path[3], .start_minute = 1,
                          .minutes = 0, .scale = 1.0, .functions = 10,
                          .max_per_minute = 2147483647, .mapping = "order"};
    if (n == 5) {
        char *opt = fuzz_strndup(part[4].p, part[4].n);
        if (!opt)
            return 0;
        int start = 1, minutes = 0;
        double scale = 1.0;
        if (sscanf(opt, "%d %d %lf", &start, &minutes, &scale) >= 1) {
            spec.start_minute = clampi(start, 1, 1000000);
            spec.minutes = clampi(minutes, 0, 1000000);
            spec.scale = scale >= 1e-6 && scale <= 1e6 ? scale : 1.0;
        }
        free(opt);
    }
    hb_trace *t = NULL;
    hb_error err = {0};
    int rc = hb_trace_load(&spec, &t, &err);
    fuzz_check_error(rc, &err);
    if (rc == 0) {
        FUZZ_REQUIRE(t && t->n_funcs >= 1 && t->n_minutes >= 1);
        uint64_t sum = 0;
        for (size_t f = 0; f < t->n_funcs; f++) {
            FUZZ_REQUIRE(t->funcs[f].bench >= 0 && t->funcs[f].bench < HB_NWORKLOADS);
            for (size_t m = 0; m < t->n_minutes; m++)
                sum += hb_trace_count(t, f, m);
        }
        FUZZ_REQUIRE(sum == t->total);
        FUZZ_REQUIRE(!t->sizes || t->n_sizes == t->total);
    } else {
        FUZZ_REQUIRE(t == NULL);
    }
    hb_trace_free(t);
    return 0;
}
