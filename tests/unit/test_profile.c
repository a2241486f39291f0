/* test_profile.c - the artifact profile's derivation, evaluation, and profile files. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hb_test.h"
#include "workload_model.h"

static const double MIB_PER_MB = 1e6 / 1048576.0;

START_TEST(artifact_profile_follows_the_documented_derivation)
{
    hb_profile *p;
    hb_error e;
    ck_assert_msg(hb_profile_artifact(NULL, 0, NULL, &p, &e) == 0, "%s", e.msg);
    const hb_profile_func *dh = &p->f[hb_function_find("dh")];
    ck_assert_double_eq(dh->ref_cores, 8);
    ck_assert_double_eq(dh->cold_start_s, 0.5);
    /* predictor table: dh duration on (150, 250] is 1.734056 s; cpu class 7 above 50; memory
     * class 1 on (200, inf) */
    ck_assert_double_eq_tol(hb_profile_eval(&dh->exec_s, 200), 1.734056 - 0.5, 1e-12);
    ck_assert_double_eq_tol(hb_profile_eval(&dh->exec_s, 100), 1.790112 - 0.5, 1e-12);
    ck_assert_double_eq(hb_profile_eval(&dh->parallelism, 1000), 6.5);
    ck_assert_double_eq_tol(hb_profile_eval(&dh->mem_peak_mb, 1000), 0.5 * 128 * MIB_PER_MB, 1e-9);
    /* class 0 (below the size range) takes the next class: dh memory is 0 up to 200 */
    ck_assert_double_eq_tol(hb_profile_eval(&dh->mem_peak_mb, 100), 0.5 * 128 * MIB_PER_MB, 1e-9);
    ck_assert_double_eq(hb_profile_eval(&dh->parallelism, 10), 6.5);
    /* vp: memory class 5 -> 576 MB = 549 MiB, above its user 512 MB: capped at 0.95 x 512 */
    const hb_profile_func *vp = &p->f[hb_function_find("vp")];
    ck_assert_double_eq_tol(hb_profile_eval(&vp->mem_peak_mb, 3), 0.95 * 512, 1e-9);
    /* knn: class 5 for sizes above 17.5, under its user 1024 MB: not capped */
    const hb_profile_func *knn = &p->f[hb_function_find("knn")];
    ck_assert_double_eq_tol(hb_profile_eval(&knn->mem_peak_mb, 50), 4.5 * 128 * MIB_PER_MB, 1e-9);
    ck_assert_double_eq(hb_profile_eval(&knn->parallelism, 5), 4.5);   /* class 5 on (2.5, 7.5] */
    ck_assert_double_eq(hb_profile_eval(&knn->parallelism, 50), 7.5);  /* class 8 above */
    hb_profile_free(p);
}
END_TEST

START_TEST(eval_uses_half_open_intervals_and_the_formula)
{
    hb_profile_curve c = {0, NULL};
    hb_error e;
    ck_assert_int_eq(hb_profile_curve_add(&c, -INFINITY, 10, 1, 0, 0, &e), 0);
    ck_assert_int_eq(hb_profile_curve_add(&c, 10, INFINITY, 0, 2, 1, &e), 0);
    ck_assert_double_eq(hb_profile_eval(&c, 10), 1);        /* (-inf, 10] */
    ck_assert_double_eq(hb_profile_eval(&c, 16), 2 * 16 + 16 * 4);   /* b x + c x log2 x */
    ck_assert_int_eq(hb_profile_curve_add(&c, 50, 60, 0, 0, 0, &e), HB_EINPUT);   /* a gap */
    free(c.p);
}
END_TEST

START_TEST(profile_files_round_trip)
{
    hb_profile *p, *q;
    hb_error e;
    ck_assert_int_eq(hb_profile_artifact(NULL, 0, NULL, &p, &e), 0);
    char path[] = "/tmp/hb-profile-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    ck_assert_int_eq(hb_profile_save(p, path, "test profile\nsecond line", &e), 0);
    ck_assert_msg(hb_profile_load(path, &q, &e) == 0, "%s", e.msg);
    for (int f = 0; f < HB_NWORKLOADS; f++) {
        for (double x = 0.5; x < 3e5; x *= 1.7) {
            ck_assert_double_eq(hb_profile_eval(&p->f[f].exec_s, x), hb_profile_eval(&q->f[f].exec_s, x));
            ck_assert_double_eq(hb_profile_eval(&p->f[f].mem_peak_mb, x),
                                hb_profile_eval(&q->f[f].mem_peak_mb, x));
        }
        ck_assert_double_eq(p->f[f].cv, q->f[f].cv);
    }
    hb_profile_free(q);
    hb_profile_free(p);
    remove(path);
}
END_TEST

static void expect_bad(const char *text, const char *what)
{
    char path[] = "/tmp/hb-badprofile-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    hb_profile *p = NULL;
    hb_error e;
    ck_assert_int_eq(hb_profile_load(path, &p, &e), HB_EINPUT);
    ck_assert_ptr_null(p);
    ck_assert_msg(strstr(e.msg, what), "'%s' lacks '%s'", e.msg, what);
    remove(path);
}

START_TEST(bad_profiles_are_refused_with_their_line)
{
    expect_bad("function_id,param,x_gt,x_le,a,b,c\nzz,cv,-inf,inf,0.1,0,0\n", ":2: function_id: unknown function 'zz'");
    expect_bad("# c\nfunction_id,param,x_gt,x_le,a,b,c\ndh,cv,-inf,inf,abc,0,0\n", ":3: a: 'abc' is not a number");
    expect_bad("function_id,param,x_gt,x_le,a,b,c\ndh,speed,-inf,inf,1,0,0\n", "unknown parameter 'speed'");
    expect_bad("function_id,param,x_gt,x_le,a,b,c\ndh,cv,-inf,inf,0.1,0,0\n", "dh: no exec_s curve");
    expect_bad("function_id,param\n", "missing column");
}
END_TEST

HB_TEST_MAIN("profile", artifact_profile_follows_the_documented_derivation,
             eval_uses_half_open_intervals_and_the_formula, profile_files_round_trip,
             bad_profiles_are_refused_with_their_line)
