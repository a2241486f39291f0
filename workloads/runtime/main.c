/* main.c - the entry point of one workload binary; WL_FUNC names its wl_function (workloads.mk). */
#include "runtime.h"

extern const wl_function WL_FUNC;

int main(int argc, char **argv)
{
    return wl_main(&WL_FUNC, argc, argv);
}
