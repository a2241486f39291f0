/* fuzz_trace_info.c - `harvestbench trace info` (hb_trace_info, trace.h) on one file of any kind it
 * detects: artifact or azure2019 invocation counts, artifact input sizes, duration or memory
 * statistics (artifact or Azure). The input is the file. */
#include "fuzz_util.h"

#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w")))
        return 0;
    const char *path = fuzz_file(0, data, size);
    if (!path)
        return 0;
    hb_error err = {0};
    int rc = hb_trace_info(path, sink, &err);
    fuzz_check_error(rc, &err);
    return 0;
}
