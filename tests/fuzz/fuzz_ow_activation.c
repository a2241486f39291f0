/* fuzz_ow_activation.c - OpenWhisk activation records (openwhisk/ow_activation.h): parse, then the
 * outcome. The input is the record's JSON text. */
#include "fuzz_util.h"

#include "openwhisk/ow_activation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ow_activation a;
    hb_error err = {0};
    int rc = ow_activation_parse((const char *)data, size, &a, &err);
    fuzz_check_error(rc, &err);
    if (rc) {
        FUZZ_REQUIRE(a.cpu.t == NULL && a.mem.t == NULL);   /* freed on failure */
        return 0;
    }
    FUZZ_REQUIRE(a.id[0] != '\0' && a.end_ms >= a.start_ms && a.duration_ms >= 0);
    FUZZ_REQUIRE(!a.has_usage || (a.cpu.t && a.mem.t));
    char msg[512];
    hb_outcome o = ow_activation_outcome(&a, msg, sizeof msg);
    FUZZ_REQUIRE(o == HB_SUCCESS || msg[0] != '\0');
    ow_activation_free(&a);
    return 0;
}
