/* test_sweep.c - the [sweep] section: axes, errors with file:line, the cartesian product, stable
 * cell ids, the derived axes' seeded rule, and which cells a resume skips. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "hb_test.h"
#include "sweep.h"

static const char BASE[] = "[experiment]\nname = t\npolicies = fixed, libra\nseeds = 1\nseed = 1\n"
                           "[trace]\nformat = constant\nper_minute = 1\nminutes = 1\n";

/* Writes BASE + extra to a temporary file; path receives its name. */
static void write_config(const char *extra, char *path)
{
    strcpy(path, "/tmp/hb-test-sweep-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs(BASE, f);
    fputs(extra, f);
    fclose(f);
}

static int load(const char *extra, sweep *s, hb_error *err, char *path)
{
    write_config(extra, path);
    return sweep_load(path, s, err);
}

START_TEST(axes_are_read_in_file_order_and_multiplied)
{
    char p[64];
    sweep s;
    hb_error e = {0};
    ck_assert_int_eq(load("[sweep]\ncluster.invokers = 1, 10 ; a comment\n"
                          "function.dh.cpu_clip = 1,4 | 1,8\ntrace.per_minute = 1,2,3\n", &s, &e, p),
                     0);
    ck_assert_uint_eq(s.naxes, 3);
    ck_assert_str_eq(s.axes[0].key, "cluster.invokers");
    ck_assert_uint_eq(s.axes[0].n, 2);
    ck_assert_str_eq(s.axes[0].values[1], "10");
    ck_assert_str_eq(s.axes[1].values[0], "1,4");   /* '|' separates when present */
    ck_assert_str_eq(s.axes[1].values[1], "1,8");
    ck_assert_uint_eq(s.ncells, 12);
    /* the last axis varies fastest: cell 5 = (0, 1, 2) */
    ck_assert_uint_eq(sweep_value_index(&s, 5, 0), 0);
    ck_assert_uint_eq(sweep_value_index(&s, 5, 1), 1);
    ck_assert_uint_eq(sweep_value_index(&s, 5, 2), 2);
    ck_assert_uint_eq(sweep_value_index(&s, 11, 0), 1);
    char **sets;
    size_t n;
    ck_assert_int_eq(sweep_cell_sets(&s, 7, &sets, &n, &e), 0);   /* (1, 0, 1) */
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(sets[0], "cluster.invokers=10");
    ck_assert_str_eq(sets[1], "function.dh.cpu_clip=1,4");
    ck_assert_str_eq(sets[2], "trace.per_minute=2");
    sweep_sets_free(sets, n);
    sweep_free(&s);
    unlink(p);
}
END_TEST

START_TEST(cell_ids_are_stable)
{
    char id[SWEEP_ID_MAX], p[64];
    sweep_cell_id(0, id);
    ck_assert_str_eq(id, "0000");
    sweep_cell_id(37, id);
    ck_assert_str_eq(id, "0037");
    sweep_cell_id(12345, id);
    ck_assert_str_eq(id, "12345");
    sweep s;
    hb_error e = {0};
    ck_assert_int_eq(load("[sweep]\ncluster.invokers = 1, 2\n", &s, &e, p), 0);
    size_t c;
    ck_assert_int_eq(sweep_cell_parse(&s, "0001", &c), 0);
    ck_assert_uint_eq(c, 1);
    ck_assert_int_eq(sweep_cell_parse(&s, "0002", &c), -1);   /* past the last cell */
    ck_assert_int_eq(sweep_cell_parse(&s, "x1", &c), -1);
    sweep_free(&s);
    unlink(p);
}
END_TEST

/* Each bad section: the message must name "file:line: key". */
static void expect_error(const char *extra, int line, const char *key, const char *what)
{
    char p[64], want[128];
    sweep s;
    hb_error e = {0};
    ck_assert_int_eq(load(extra, &s, &e, p), HB_EINPUT);
    snprintf(want, sizeof want, "%s:%d: %s", p, line, key);
    ck_assert_msg(strstr(e.msg, want) != NULL, "'%s' lacks '%s'", e.msg, want);
    ck_assert_msg(strstr(e.msg, what) != NULL, "'%s' lacks '%s'", e.msg, what);
    unlink(p);
}

START_TEST(bad_axes_name_file_line_and_key)
{
    /* BASE has 9 lines: [sweep] is line 10, the first axis line 11 */
    expect_error("[sweep]\ncluster.nope = 1, 2\n", 11, "cluster.nope", "unknown key");
    expect_error("[sweep]\ncluster.cores = 4\ncluster.invokers = 1, x\n", 12, "cluster.invokers",
                 "'x'");
    expect_error("[sweep]\nfoo = 1, 2\n", 11, "foo", "unknown sweep key");
    expect_error("[sweep]\ncluster.invokers = 1, , 2\n", 11, "cluster.invokers", "empty value");
    expect_error("[sweep]\ncluster.invokers = 1, 1\n", 11, "cluster.invokers", "twice");
    expect_error("[sweep]\ncluster.invokers = 1\ncluster.invokers = 2\n", 12, "cluster.invokers",
                 "set twice");
    expect_error("[sweep]\noverprovisioned_share = 0.5, 1.5\n", 11, "overprovisioned_share",
                 "share in [0, 1]");
    expect_error("[sweep]\noverprovision_ratio = 0\n", 11, "overprovision_ratio", "ratio");
    expect_error("[sweep]\nfunction.zz.user_cpu = 1\n", 11, "function.zz.user_cpu",
                 "unknown function");
    char p[64];
    sweep s;
    hb_error e = {0};
    ck_assert_int_eq(load("", &s, &e, p), HB_EINPUT);   /* no [sweep] at all */
    ck_assert_ptr_nonnull(strstr(e.msg, "no [sweep] section"));
    unlink(p);
}
END_TEST

START_TEST(integer_ranges_expand)
{
    /* LO..HI lists every integer from LO to HI, mixed with plain values */
    char p[64];
    sweep s;
    hb_error e = {0};
    ck_assert_int_eq(load("[sweep]\nexperiment.seed = 1..1000\ntrace.per_minute = 1, 3..5, 9\n", &s,
                          &e, p), 0);
    ck_assert_uint_eq(s.axes[0].n, 1000);
    ck_assert_str_eq(s.axes[0].values[0], "1");
    ck_assert_str_eq(s.axes[0].values[999], "1000");
    ck_assert_uint_eq(s.axes[1].n, 5);
    ck_assert_str_eq(s.axes[1].values[1], "3");
    ck_assert_str_eq(s.axes[1].values[3], "5");
    ck_assert_str_eq(s.axes[1].values[4], "9");
    ck_assert_uint_eq(s.ncells, 5000);
    sweep_free(&s);
    unlink(p);
    expect_error("[sweep]\nexperiment.seed = 5..1\n", 11, "experiment.seed", "LO <= HI");
    expect_error("[sweep]\ntrace.per_minute = 1..3, 2\n", 11, "trace.per_minute", "twice");
}
END_TEST

START_TEST(the_overprovisioned_rule_is_seeded_and_nested)
{
    /* seed 1 orders the catalog dh, dv, eg, gd, ms, ir, ip, vp, alu, knn (FNV-1a 64 of "1:ID",
     * computed independently); half of ten is the first five */
    static const char *const want[] = {"dh", "dv", "eg", "gd", "ms"};
    int over[HB_NWORKLOADS], again[HB_NWORKLOADS];
    sweep_overprovisioned(1, 0.5, over);
    int n = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++)
        n += over[f];
    ck_assert_int_eq(n, 5);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(over[hb_function_find(want[i])], 1);
    sweep_overprovisioned(1, 0.5, again);
    ck_assert_mem_eq(over, again, sizeof over);
    /* seed 7 starts with alu, vp, gd */
    sweep_overprovisioned(7, 0.3, again);
    ck_assert_int_eq(again[hb_function_find("alu")] + again[hb_function_find("vp")] +
                     again[hb_function_find("gd")], 3);
    /* nested: every function over-provisioned at 0.2 is also at 0.5 */
    int small[HB_NWORKLOADS];
    sweep_overprovisioned(1, 0.2, small);
    for (int f = 0; f < HB_NWORKLOADS; f++)
        ck_assert(!small[f] || over[f]);
    sweep_overprovisioned(1, 0, small);
    for (int f = 0; f < HB_NWORKLOADS; f++)
        ck_assert_int_eq(small[f], 0);
}
END_TEST

START_TEST(derived_axes_set_every_functions_user_size)
{
    char p[64];
    sweep s;
    hb_error e = {0};
    ck_assert_int_eq(load("[sweep]\nseed = 1\noverprovisioned_share = 0.5\n"
                          "overprovision_ratio = 2\nunderprovision_ratio = 0.5\n", &s, &e, p), 0);
    ck_assert_uint_eq(s.ncells, 1);
    char **sets;
    size_t n;
    ck_assert_int_eq(sweep_cell_sets(&s, 0, &sets, &n, &e), 0);
    ck_assert_uint_eq(n, 2 * HB_NWORKLOADS);
    int dh = hb_function_find("dh"), ip = hb_function_find("ip");
    char want[96];
    /* dh is over-provisioned (x2), ip under (x0.5); the catalog gives both their user size */
    snprintf(want, sizeof want, "function.dh.user_cpu=%.2f", 2 * hb_functions[dh].user_cpu + 0.0);
    ck_assert_str_eq(sets[2 * dh], want);
    snprintf(want, sizeof want, "function.dh.user_mem_mb=%d", 2 * hb_functions[dh].user_mem_units * 128);
    ck_assert_str_eq(sets[2 * dh + 1], want);
    snprintf(want, sizeof want, "function.ip.user_cpu=%.2f", 0.5 * hb_functions[ip].user_cpu);
    ck_assert_str_eq(sets[2 * ip], want);
    sweep_sets_free(sets, n);
    sweep_free(&s);
    unlink(p);
}
END_TEST

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(resume_skips_only_complete_cells)
{
    char p[64], dir[] = "/tmp/hb-test-sweepdir-XXXXXX", path[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    sweep s;
    hb_error e = {0};
    ck_assert_int_eq(load("[sweep]\ncluster.invokers = 1, 2, 3\n", &s, &e, p), 0);
    ck_assert_int_eq(sweep_prepare_out(&s, dir, 0, &e), 0);
    for (int c = 0; c < 2; c++) {
        snprintf(path, sizeof path, "%s/cells/000%d", dir, c);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        strcat(path, "/manifest.json");
        put(path, c == 0 ? "{\"status\": \"complete\"}" : "{\"status\": \"incomplete\"}");
    }
    ck_assert_int_eq(sweep_cell_done(&s, 0), 1);
    ck_assert_int_eq(sweep_cell_done(&s, 1), 0);   /* interrupted: run again with --resume */
    ck_assert_int_eq(sweep_cell_done(&s, 2), 0);   /* never started */
    /* the same directory without --resume is refused; with it, accepted */
    ck_assert_int_eq(sweep_prepare_out(&s, dir, 0, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "--resume"));
    ck_assert_int_eq(sweep_prepare_out(&s, dir, 1, &e), 0);
    sweep_free(&s);
    /* a changed [sweep] section cannot resume the directory */
    sweep t;
    char q[64];
    ck_assert_int_eq(load("[sweep]\ncluster.invokers = 1, 2, 4\n", &t, &e, q), 0);
    ck_assert_int_eq(sweep_prepare_out(&t, dir, 1, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "differs"));
    sweep_free(&t);
    unlink(p);
    unlink(q);
    hb_remove_tree(dir);
}
END_TEST

HB_TEST_MAIN("sweep", axes_are_read_in_file_order_and_multiplied, cell_ids_are_stable,
             bad_axes_name_file_line_and_key, integer_ranges_expand,
             the_overprovisioned_rule_is_seeded_and_nested,
             derived_axes_set_every_functions_user_size, resume_skips_only_complete_cells)
