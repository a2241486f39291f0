/* test_config.c - configuration files: defaults, every error names file, line and key. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "hb_test.h"

static int load(const char *text, hb_config *cfg, hb_error *err)
{
    return hb_config_load_text(text, "t.ini", "/cfgdir", cfg, err);
}

START_TEST(defaults_follow_the_catalog_and_openwhisk)
{
    hb_config c;
    hb_error e;
    ck_assert_int_eq(hb_config_defaults(&c, &e), 0);
    ck_assert_int_eq(c.invokers, 1);
    ck_assert_double_eq(c.cores, 8);
    ck_assert_double_eq(c.memory_mb, 8192);
    ck_assert_double_eq(c.keep_alive_s, 600);   /* OpenWhisk's 10 minutes */
    ck_assert(c.cold_start_ms < 0);             /* from the profile */
    ck_assert_int_eq(c.n_policies, 2);
    ck_assert_str_eq(c.policies[0], "default");
    ck_assert_str_eq(c.policies[1], "fixed");
    int vp = hb_function_find("vp");
    ck_assert_double_eq(c.funcs[vp].user.cpu, 2);
    ck_assert_double_eq(c.funcs[vp].user.mem_mb, 512);
    ck_assert_double_eq(c.funcs[vp].mem_clip_mb[0], 512);
    ck_assert_int_eq(c.funcs[vp].timeout, 60 * HB_SEC);
    hb_config_free(&c);
}
END_TEST

START_TEST(a_full_file_is_read)
{
    hb_config c;
    hb_error e;
    const char *text = "; comment\n[experiment]\nname = t1\npolicies = fixed\nseeds = 3\nseed = 42\n"
                       "[cluster]\n  invokers = 4\ncores = 2.5\nkeep_alive_s = 0\ncold_start_ms = 250\n"
                       "[trace]\ninvocations = traces/x.csv\narrival = poisson\n"
                       "[workload]\ntimeout_s = 30\n"
                       "[function.vp]\nuser_cpu = 3\nuser_mem_mb = 640\ncpu_clip = 1,8\n"
                       "[policy.fixed]\n[backend.sim]\n";
    ck_assert_msg(load(text, &c, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(c.name, "t1");
    ck_assert_int_eq(c.n_policies, 1);
    ck_assert_int_eq(c.seeds, 3);
    ck_assert_int_eq((int)c.seed, 42);
    ck_assert_int_eq(c.invokers, 4);
    ck_assert_double_eq(c.cores, 2.5);
    ck_assert_double_eq(c.cold_start_ms, 250);
    ck_assert_str_eq(c.trace_invocations, "/cfgdir/traces/x.csv");  /* relative to the file */
    ck_assert_str_eq(c.trace_arrival, "poisson");
    int vp = hb_function_find("vp"), dh = hb_function_find("dh");
    ck_assert_double_eq(c.funcs[vp].user.cpu, 3);
    ck_assert_double_eq(c.funcs[vp].user.mem_mb, 640);
    ck_assert_double_eq(c.funcs[vp].cpu_clip[1], 8);
    ck_assert_int_eq(c.funcs[dh].timeout, 30 * HB_SEC);   /* [workload] timeout for all */
    hb_config_free(&c);
}
END_TEST

/* Each bad file gives HB_EINPUT and a message with the expected location. */
static void expect_error(const char *text, const char *where, const char *what)
{
    hb_config c;
    hb_error e;
    hb_error_clear(&e);
    int rc = load(text, &c, &e);
    ck_assert_msg(rc == HB_EINPUT, "accepted: %s", text);
    ck_assert_msg(strstr(e.msg, where) != NULL, "'%s' lacks '%s'", e.msg, where);
    ck_assert_msg(strstr(e.msg, what) != NULL, "'%s' lacks '%s'", e.msg, what);
}

START_TEST(bad_input_names_file_line_and_key)
{
    expect_error("[experiment]\nseeds = 2\n[nonsense]\nx = 1\n", "t.ini:3:", "unknown section");
    expect_error("[cluster]\ninvokers = 2\ncorez = 4\n", "t.ini:3: corez:", "unknown key");
    expect_error("[cluster]\ninvokers = two\n", "t.ini:2: invokers:", "not an integer");
    expect_error("[cluster]\ncores = 0\n", "t.ini:2: cores:", "out of range");
    expect_error("[cluster]\ncores = 4\ncores = 5\n", "t.ini:3: cores:", "set twice (first at line 2)");
    expect_error("[experiment]\npolicies = default, nope\n", "t.ini:2: policies:", "unknown policy 'nope'");
    expect_error("[trace]\narrival = sometimes\n", "t.ini:2: arrival:", "not one of");
    expect_error("[function.zz]\nuser_cpu = 1\n", "t.ini:1:", "unknown function");
    expect_error("[function.dh]\nuser_cpu = -1\n", "t.ini:2: user_cpu:", "cores");
    expect_error("[function.dh]\ncpu_clip = 3,1\n", "t.ini:2: cpu_clip:", "LO,HI");
    expect_error("[policy.nope]\nx = 1\n", "t.ini:1:", "unknown policy");
    expect_error("[cluster]\nthis line has no equals sign\n", "t.ini:2:", "not a valid INI line");
    expect_error("[experiment]\nname = has space\n", "t.ini:2: name:", "letters");
    char longline[400];
    memset(longline, 'a', sizeof longline);
    memcpy(longline, "[cluster]\nx=", 12);
    longline[sizeof longline - 1] = '\0';
    expect_error(longline, "t.ini:2:", "line longer than");
}
END_TEST

/* issue 17, 7 */
START_TEST(hygiene_of_keys_numbers_bounds_and_paths)
{
    expect_error("name = early\n[experiment]\nseeds = 2\n", "t.ini:1: name:",
                 "before the first [section]");
    expect_error("[cluster]\ninvokers = 0x10\n", "t.ini:2: invokers:", "not an integer");
    expect_error("[cluster]\ninvokers = +3\n", "t.ini:2: invokers:", "not an integer");
    expect_error("[cluster]\ninvokers = 3.0\n", "t.ini:2: invokers:", "not an integer");
    expect_error("[experiment]\nseed = 0x5\n", "t.ini:2: seed:", "not a non-negative integer");
    expect_error("[cluster]\ncores = 0x10\n", "t.ini:2: cores:", "not a number");
    expect_error("[cluster]\ninvokers = 100000\n", "t.ini:2: invokers:", "out of range [1, 1024]");
    expect_error("[trace]\nper_minute = 1000000\n", "t.ini:2: per_minute:", "out of range");
    /* a control byte from the input is escaped in the message */
    expect_error("[trace]\narrival = a\x1b[2Jb\n", "t.ini:2: arrival:", "'a\\x1b[2Jb'");
    /* an error about a file a key names points at that key */
    hb_config c;
    hb_error e;
    ck_assert_int_eq(load("[experiment]\nseeds = 2\n[trace]\ninvocations = traces/x.csv\n", &c, &e), 0);
    hb_fail(&e, HB_EINPUT, "%s/traces/x.csv: cannot open: No such file or directory", c.dir);
    ck_assert_int_eq(hb_config_locate_path(&c, &e), HB_EINPUT);
    ck_assert_msg(strncmp(e.msg, "t.ini:4: trace.invocations: ", 28) == 0, "%s", e.msg);
    hb_fail(&e, HB_EINPUT, "2: something else");                 /* "2" is a value, not a path */
    hb_config_locate_path(&c, &e);
    ck_assert_str_eq(e.msg, "2: something else");
    hb_config_free(&c);
}
END_TEST

START_TEST(policy_sections_report_unread_keys)
{
    hb_config c;
    hb_error e;
    ck_assert_int_eq(load("[policy.fixed]\nalpha = 1\n", &c, &e), 0);
    hb_kvlist *kv = hb_config_section_kv(&c, "policy.fixed");
    ck_assert_uint_eq(kv->n, 1);
    double v = 0;
    ck_assert_int_eq(hb_kv_double(kv, "beta", 0, 1, &v, &e), 0);   /* absent: untouched */
    ck_assert_double_eq(v, 0);
    ck_assert_int_eq(hb_config_check_used(kv, &e), HB_EINPUT);
    ck_assert_str_eq(e.msg, "t.ini:2: alpha: unknown key in [policy.fixed] (see docs/config.md)");
    ck_assert_int_eq(hb_kv_double(kv, "alpha", 2, 3, &v, &e), HB_EINPUT);
    ck_assert_str_eq(e.msg, "t.ini:2: alpha: 1 is out of range [2, 3]");
    ck_assert_int_eq(hb_config_check_used(kv, &e), 0);              /* now read */
    hb_config_free(&c);
}
END_TEST

START_TEST(every_key_is_documented)
{
    FILE *f = fopen("docs/config.md", "r");
    ck_assert_msg(f != NULL, "docs/config.md is missing");
    static char doc[1 << 18];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[n] = '\0';
    const char *k;
    for (size_t i = 0; (k = hb_config_schema_key(i)); i++) {
        const char *key = strrchr(k, '.') + 1;
        char want[96];
        snprintf(want, sizeof want, "`%s`", key);
        ck_assert_msg(strstr(doc, want) != NULL, "docs/config.md does not document %s", k);
    }
}
END_TEST

START_TEST(resolved_config_lists_every_value)
{
    hb_config c;
    hb_error e;
    ck_assert_int_eq(load("[cluster]\ninvokers = 3\n[policy.fixed]\n", &c, &e), 0);
    cJSON *j = hb_config_json(&c);
    cJSON *cl = cJSON_GetObjectItemCaseSensitive(j, "cluster");
    ck_assert_double_eq(cJSON_GetObjectItemCaseSensitive(cl, "invokers")->valuedouble, 3);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(cl, "cold_start_ms")->valuestring, "profile");
    ck_assert_ptr_nonnull(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "function"), "knn"));
    cJSON_Delete(j);
    hb_config_free(&c);
}
END_TEST

HB_TEST_MAIN("config", defaults_follow_the_catalog_and_openwhisk, a_full_file_is_read,
             bad_input_names_file_line_and_key, hygiene_of_keys_numbers_bounds_and_paths,
             policy_sections_report_unread_keys,
             every_key_is_documented, resolved_config_lists_every_value)
