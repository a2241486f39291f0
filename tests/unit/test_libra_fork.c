/* test_libra_fork.c - the Libra fork's Redis formats (harness/backends/libra_fork.h) and the
 * Redis client's settings (libra_redis.h): encoding, pools, trajectories, malformed fields. The
 * round trip with a real Redis is tests/e2e/openwhisk_libra_fork.sh. */
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "hb_test.h"
#include "libra_fork.h"
#include "libra_redis.h"

START_TEST(encoding_matches_the_fork)
{
    /* the spec's examples (section 2) */
    int c, m;
    ck_assert_int_eq(lf_encode(1, 1), 1);
    ck_assert_int_eq(lf_encode(1, 8), 8);
    ck_assert_int_eq(lf_encode(2, 1), 9);
    ck_assert_int_eq(lf_encode(2, 8), 16);
    ck_assert_int_eq(lf_encode(8, 8), 64);
    ck_assert_int_eq(lf_encode(0, 1), -1);
    ck_assert_int_eq(lf_encode(1, 9), -1);
    for (int x = 1; x <= 64; x++) {
        ck_assert_int_eq(lf_decode(x, &c, &m), 0);
        ck_assert_int_eq(lf_encode(c, m / 128), x);
    }
    ck_assert_int_eq(lf_decode(9, &c, &m), 0);
    ck_assert_int_eq(c, 2);
    ck_assert_int_eq(m, 128);
    ck_assert_int_eq(lf_decode(0, &c, &m), -1);
    ck_assert_int_eq(lf_decode(65, &c, &m), -1);
    /* rounded up, clamped into the fork's range */
    ck_assert_int_eq(lf_encode_res((hb_res){1.5, 300}), lf_encode(2, 3));
    ck_assert_int_eq(lf_encode_res((hb_res){2.0000000001, 256}), lf_encode(2, 2));
    ck_assert_int_eq(lf_encode_res((hb_res){0.2, 10}), 1);
    ck_assert_int_eq(lf_encode_res((hb_res){20, 4096}), 64);
}
END_TEST

START_TEST(prediction_values)
{
    hb_error e;
    long v;
    ck_assert_int_eq(lf_parse_long("17", "predict_peak[f]", 1, 64, &v, &e), 0);
    ck_assert_int_eq(v, 17);
    ck_assert_int_eq(lf_parse_long("65", "predict_peak[f]", 1, 64, &v, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "predict_peak[f]: '65' is not an integer in [1, 64]"));
    ck_assert_int_eq(lf_parse_long("3.5", "predict_duration[f]", 0, 100000, &v, &e), HB_EINPUT);
    ck_assert_int_eq(lf_parse_long("", "x", 0, 1, &v, &e), HB_EINPUT);
    ck_assert_int_eq(lf_parse_long("12abc", "x", 0, 100, &v, &e), HB_EINPUT);
}
END_TEST

START_TEST(pools_parse_and_format)
{
    hb_error e;
    lf_pool_entry *p;
    size_t n;
    ck_assert_int_eq(lf_pool_parse("None", &p, &n, &e), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(p);
    const char *text = "aa11:2;1700000000000;1700000003000,bb22:1;1700000000100;1700000000900";
    ck_assert_int_eq(lf_pool_parse(text, &p, &n, &e), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(p[0].id, "aa11");
    ck_assert(p[0].value == 2);
    ck_assert(p[0].start_ms == 1700000000000LL && p[0].end_ms == 1700000003000LL);
    ck_assert(lf_pool_total(p, n) == 3);
    char *back = lf_pool_format(p, n);
    ck_assert_str_eq(back, text);
    free(back);
    /* only open windows are listed, as the fork's PriorityMap.summary */
    p[1].end_ms = p[1].start_ms;
    back = lf_pool_format(p, n);
    ck_assert_str_eq(back, "aa11:2;1700000000000;1700000003000");
    free(back);
    p[0].end_ms = p[0].start_ms - 1;
    back = lf_pool_format(p, n);
    ck_assert_str_eq(back, "None");
    free(back);
    free(p);
    /* malformed: clear errors naming the entry */
    const char *bad[] = {"aa:2;1;", "aa:x;1;2", "aa2;1;2", ":2;1;2", "aa:2;1;2,", "aa:2;1;2;3",
                         "a b:1;1;2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(lf_pool_parse(bad[i], &p, &n, &e), HB_EINPUT);
        ck_assert_ptr_null(p);
        ck_assert_ptr_nonnull(strstr(e.msg, "pool summary: entry"));
        ck_assert_ptr_nonnull(strstr(e.msg, "<activationId>:<value>;<startMs>;<endMs>"));
    }
    ck_assert_int_eq(lf_pool_parse("aa:1;1;2,bb:oops;1;2", &p, &n, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "entry 2 'bb:oops;1;2'"));
}
END_TEST

START_TEST(trajectories_parse_and_format)
{
    hb_error e;
    lf_trajectory t;
    /* a lender that lent 256 MB and 1 core to b, and a borrower */
    const char *lender = "0;-512 -2;120000 3000;bbbb:-256;bbbb:-1";
    ck_assert_int_eq(lf_trajectory_parse(lender, &t, &e), 0);
    ck_assert_int_eq(t.safeguard, 0);
    ck_assert(t.mem_delta_mb == -512 && t.cpu_delta == -2);
    ck_assert(t.mem_idle == 120000 && t.cpu_idle == 3000);
    ck_assert_uint_eq(t.n_mem, 1);
    ck_assert_uint_eq(t.n_cpu, 1);
    ck_assert_str_eq(t.mem[0].id, "bbbb");
    ck_assert(t.mem[0].amount == -256);
    double lent, borrowed;
    lf_trajectory_sums(t.mem, t.n_mem, &lent, &borrowed);
    ck_assert(lent == 256 && borrowed == 0);
    char *back = lf_trajectory_format(&t);
    ck_assert_str_eq(back, lender);
    free(back);
    lf_trajectory_free(&t);
    /* empty trajectories, a safeguard, several loans, decimals */
    const char *other = "1;256 1;0 0;aa:128 cc:128;";
    ck_assert_int_eq(lf_trajectory_parse(other, &t, &e), 0);
    ck_assert_int_eq(t.safeguard, 1);
    ck_assert_uint_eq(t.n_mem, 2);
    ck_assert_uint_eq(t.n_cpu, 0);
    lf_trajectory_sums(t.mem, t.n_mem, &lent, &borrowed);
    ck_assert(lent == 0 && borrowed == 256);
    back = lf_trajectory_format(&t);
    ck_assert_str_eq(back, other);
    free(back);
    lf_trajectory_free(&t);
    ck_assert_int_eq(lf_trajectory_parse("0;0 0;10.5 0.25;;", &t, &e), 0);
    ck_assert(t.mem_idle == 10.5 && t.cpu_idle == 0.25);
    lf_trajectory_free(&t);
    /* malformed: which field, and what it should be */
    struct {
        const char *text, *says;
    } bad[] = {
        {"0;0 0;0 0;", "4 fields, expected 5"},
        {"0;0 0;0 0;;;", "more than 5 fields"},
        {"2;0 0;0 0;;", "field 1 (safeguard) '2' is not 0 or 1"},
        {"0;12;0 0;;", "field 2 (deltas) '12'"},
        {"0;a b;0 0;;", "field 2 (deltas)"},
        {"0;0 0;-1 0;;", "field 3 (idle)"},
        {"0;0 0;0 0;aa;", "memory item 'aa' is not <activationId>:<amount>"},
        {"0;0 0;0 0;;aa:1 bb:x", "cpu item 'bb:x'"},
        {"", "1 fields"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(lf_trajectory_parse(bad[i].text, &t, &e), HB_EINPUT);
        ck_assert_msg(strstr(e.msg, bad[i].says), "'%s': got '%s'", bad[i].text, e.msg);
        ck_assert_ptr_null(t.mem);
        ck_assert_ptr_null(t.cpu);
    }
}
END_TEST

START_TEST(redis_settings)
{
    hb_error e;
    lr_opts o;
    unsetenv("HB_REDIS_PASSWORD");
    ck_assert_int_eq(lr_opts_init(&o, "10.0.0.5:6380", 2, NULL, 0, "redis", &e), 0);
    ck_assert_str_eq(o.host, "10.0.0.5");
    ck_assert_int_eq(o.port, 6380);
    ck_assert_int_eq(o.db, 2);
    ck_assert_ptr_null(o.password);
    lr_opts_free(&o);
    ck_assert_int_eq(lr_opts_init(&o, "edge", 0, NULL, 0, "redis", &e), 0);
    ck_assert_int_eq(o.port, 6379);        /* the fork's port */
    lr_opts_free(&o);
    ck_assert_int_eq(lr_opts_init(&o, "edge:0", 0, NULL, 0, "[backend.openwhisk] redis", &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "[backend.openwhisk] redis: 'edge:0': the port is not in [1, 65535]"));
    ck_assert_int_eq(lr_opts_init(&o, ":6379", 0, NULL, 0, "redis", &e), HB_EINPUT);
    ck_assert_int_eq(lr_opts_init(&o, "edge:6379", -1, NULL, 0, "redis", &e), HB_EINPUT);
    /* the password: from the environment, or the first line of a file (which wins) */
    setenv("HB_REDIS_PASSWORD", "from-env", 1);
    ck_assert_int_eq(lr_opts_init(&o, "edge", 0, NULL, 0, "redis", &e), 0);
    ck_assert_str_eq(o.password, "from-env");
    lr_opts_free(&o);
    char path[] = "/tmp/hb-redis-pw-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "from-file\nsecond line\n", 22), 22);
    close(fd);
    ck_assert_int_eq(lr_opts_init(&o, "edge", 0, path, 0, "redis", &e), 0);
    ck_assert_str_eq(o.password, "from-file");
    lr_opts_free(&o);
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    ck_assert_int_eq(lr_opts_init(&o, "edge", 0, path, 0, "redis", &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "is empty"));
    unlink(path);
    ck_assert_int_ne(lr_opts_init(&o, "edge", 0, path, 0, "redis", &e), 0);   /* gone */
    unsetenv("HB_REDIS_PASSWORD");
}
END_TEST

START_TEST(redis_unreachable_at_start)
{
    hb_error e;
    lr_opts o;
    setenv("HB_REDIS_PASSWORD", "never-shown", 1);
    ck_assert_int_eq(lr_opts_init(&o, "127.0.0.1:1", 0, NULL, 500, "redis", &e), 0);
    lr_client *c = NULL;
    ck_assert_int_eq(lr_open(&o, &c, &e), HB_EINPUT);
    ck_assert_ptr_null(c);
    ck_assert_ptr_nonnull(strstr(e.msg, "redis 127.0.0.1:1 db 0: cannot connect"));
    ck_assert_ptr_null(strstr(e.msg, "never-shown"));
    lr_opts_free(&o);
    unsetenv("HB_REDIS_PASSWORD");
}
END_TEST

HB_TEST_MAIN("libra_fork", encoding_matches_the_fork, prediction_values, pools_parse_and_format,
             trajectories_parse_and_format, redis_settings, redis_unreachable_at_start)
