/* A program linking the installed library with `pkg-config --cflags --libs harvestbench`
 * (tests/e2e/outoftree.sh): it links, runs, and reads the catalogue and the error helpers. */
#include <stdio.h>

#include "hb_policy.h"

int main(void)
{
    hb_error err;
    int f = hb_function_find("dh");
    hb_fail(&err, HB_EINPUT, "function %s", f >= 0 ? hb_functions[f].name : "?");
    printf("%s %s %d\n", err.msg, hb_outcome_name(HB_OOM), hb_exit_status(err.code));
    return f >= 0 ? 0 : 1;
}
