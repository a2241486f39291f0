/* fuzz_libra_fork.c - the Libra fork's Redis formats (harness/backends/libra_fork.h), which the
 * openwhisk backend reads from a Redis it does not control: lf_pool_parse, lf_trajectory_parse,
 * lf_parse_long; what parses must format back to text that parses to the same values.
 *
 * Input: one text, tried as a pool summary, a trajectory and a prediction value. */
#include "fuzz_util.h"

#include "libra_fork.h"

static int same_items(const lf_traj_item *a, size_t na, const lf_traj_item *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].id, b[i].id) != 0 || a[i].amount != b[i].amount)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    if (!text)
        return 0;
    hb_error err = {0};
    lf_pool_entry *p = NULL;
    size_t n = 0;
    int rc = lf_pool_parse(text, &p, &n, &err);
    fuzz_check_error(rc, &err);
    if (!rc) {
        char *back = lf_pool_format(p, n);
        FUZZ_REQUIRE(back != NULL);
        lf_pool_entry *q = NULL;
        size_t m = 0, open = 0;
        FUZZ_REQUIRE(lf_pool_parse(back, &q, &m, &err) == 0);
        for (size_t i = 0; i < n; i++) {
            if (p[i].start_ms >= p[i].end_ms)
                continue;              /* not listed, as the fork's summary */
            FUZZ_REQUIRE(open < m && strcmp(p[i].id, q[open].id) == 0 && p[i].value == q[open].value &&
                         p[i].start_ms == q[open].start_ms && p[i].end_ms == q[open].end_ms);
            open++;
        }
        FUZZ_REQUIRE(open == m);
        free(q);
        free(back);
    }
    free(p);
    lf_trajectory t, u;
    rc = lf_trajectory_parse(text, &t, &err);
    fuzz_check_error(rc, &err);
    if (!rc) {
        char *back = lf_trajectory_format(&t);
        FUZZ_REQUIRE(back != NULL);
        FUZZ_REQUIRE(lf_trajectory_parse(back, &u, &err) == 0);
        FUZZ_REQUIRE(u.safeguard == t.safeguard && u.mem_delta_mb == t.mem_delta_mb &&
                     u.cpu_delta == t.cpu_delta && u.mem_idle == t.mem_idle && u.cpu_idle == t.cpu_idle);
        FUZZ_REQUIRE(same_items(t.mem, t.n_mem, u.mem, u.n_mem) && same_items(t.cpu, t.n_cpu, u.cpu, u.n_cpu));
        lf_trajectory_free(&u);
        free(back);
        lf_trajectory_free(&t);
    }
    long v;
    rc = lf_parse_long(text, "predict_peak[f]", 1, LF_MAX_ENCODED, &v, &err);
    fuzz_check_error(rc, &err);
    FUZZ_REQUIRE(rc || (v >= 1 && v <= LF_MAX_ENCODED));
    free(text);
    return 0;
}
