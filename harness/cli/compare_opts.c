/* compare_opts.c - flags shared by `compare` and `check` (see compare_opts.h). */
#include "compare_opts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

int hb_opt_value(int argc, char **argv, int *i, const char *name, const char **value)
{
    const char *a = argv[*i];
    size_t len = strlen(name);
    if (strncmp(a, name, len) != 0)
        return 0;
    if (a[len] == '=') {
        *value = a + len + 1;
        return **value ? 1 : -1;
    }
    if (a[len] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static int parse_ulong(const char *s, unsigned long *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

int hb_opt_boot(int argc, char **argv, int *i, hb_boot_opts *o, const char *cmd)
{
    const char *v;
    unsigned long x;
    int r = hb_opt_value(argc, argv, i, "--seed", &v);
    if (r != 0) {
        if (r < 0 || parse_ulong(v, &x)) {
            hb_usage_error(cmd, "--seed needs a non-negative integer");
            return -1;
        }
        o->seed = x;
        return 1;
    }
    r = hb_opt_value(argc, argv, i, "--resamples", &v);
    if (r != 0) {
        if (r < 0 || parse_ulong(v, &x) || x < HB_BOOT_MIN_RESAMPLES || x > 1000000) {
            hb_usage_error(cmd, "--resamples needs an integer from %d to 1000000",
                           HB_BOOT_MIN_RESAMPLES);
            return -1;
        }
        o->resamples = x;
        return 1;
    }
    return 0;
}
