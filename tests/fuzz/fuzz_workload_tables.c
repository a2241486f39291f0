/* fuzz_workload_tables.c - the workload tables the simulator reads through the CSV reader: the
 * Libra artifact's predictor table (hb_steptable.h: function_id,target,x_gt,x_le,value) and the
 * artifact profile derived from it, and a workload profile file (profile.h:
 * function_id,param,x_gt,x_le,a,b,c). What is read is validated, evaluated and written back.
 *
 * Input: the predictor table, then after a FUZZ_SEP line the profile file (an empty part is
 * skipped). */
#include "fuzz_util.h"

#include "hb_steptable.h"
#include "workload_model.h"

static void use_profile(hb_profile *p, FILE *sink)
{
    hb_error err = {0};
    int rc = hb_profile_validate(p, "fuzz", &err);
    fuzz_check_error(rc, &err);
    if (rc)
        return;
    static const double xs[] = {-1, 0, 0.5, 1, 100, 1e6, 1e300};
    for (int f = 0; f < HB_NWORKLOADS; f++)
        if (p->f[f].present)
            for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
                (void)hb_profile_eval(&p->f[f].exec_s, xs[i]);
                (void)hb_profile_eval(&p->f[f].parallelism, xs[i]);
                (void)hb_profile_eval(&p->f[f].mem_peak_mb, xs[i]);
            }
    fuzz_check_error(hb_profile_write(p, sink, &err), &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink && !(sink = fopen("/dev/null", "w")))
        return 0;
    fuzz_part part[2];
    size_t n = fuzz_split(data, size, part, 2);
    if (part[0].n) {
        hb_predictor_table *t = NULL;
        hb_error err = {0};
        int rc = hb_predictor_table_parse((const char *)part[0].p, part[0].n, "fuzz", &t, &err);
        fuzz_check_error(rc, &err);
        if (rc == 0) {
            for (int f = 0; f < HB_NWORKLOADS; f++)
                for (int k = 0; k < HB_NTARGETS; k++)
                    (void)hb_step_eval(&t->f[f][k], 1000);
            hb_profile *p = NULL;
            rc = hb_profile_from_table(t, &p, &err);
            fuzz_check_error(rc, &err);
            if (rc == 0)
                use_profile(p, sink);
            hb_profile_free(p);
            hb_predictor_table_free(t);
        }
    }
    if (n == 2 && part[1].n) {
        const char *path = fuzz_file(0, part[1].p, part[1].n);
        if (!path)
            return 0;
        hb_profile *p = NULL;
        hb_error err = {0};
        int rc = hb_profile_load(path, &p, &err);
        fuzz_check_error(rc, &err);
        if (rc == 0)
            use_profile(p, sink);
        hb_profile_free(p);
    }
    return 0;
}
