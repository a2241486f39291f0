/* test_ow_client.c - the client's pieces without a server: where credentials come from and that the
 * key never shows in a message, API host URLs, base64, the action zip, and the size-variant grid
 * (stock memory variants, the Libra fork's encoded limits). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "hb_test.h"
#include "openwhisk/ow_auth.h"
#include "common/ow_base64.h"
#include "openwhisk/ow_variants.h"
#include "common/ow_zip.h"

#define SECRET "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"

static char dir[64];

static void scratch(void)
{
    snprintf(dir, sizeof dir, "/tmp/hb-owc.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    unsetenv("WSK_AUTH");
    unsetenv("WSK_APIHOST");
    unsetenv("WSK_NAMESPACE");
    setenv("HOME", dir, 1);                      /* no ~/.wskprops of the machine */
    unsetenv("WSK_CONFIG_FILE");
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

START_TEST(credentials_precedence_flags_env_props)
{
    scratch();
    char props[128], keyfile[128];
    write_file(".wskprops", "APIHOST=props.example:443\nAUTH=" SECRET "\nNAMESPACE=/team\n", props,
               sizeof props);
    ow_creds c;
    hb_error e;
    ck_assert_msg(ow_creds_resolve(NULL, &c, &e) == 0, "%s", e.msg);   /* ~/.wskprops */
    ck_assert_str_eq(c.apihost, "https://props.example:443");
    ck_assert_str_eq(c.ns, "team");
    ck_assert_str_eq(c.auth, SECRET);
    ck_assert_str_eq(c.auth_from, props);
    ow_creds_free(&c);
    ck_assert_ptr_null(c.auth);

    setenv("WSK_APIHOST", "http://127.0.0.1:3233/", 1);
    setenv("WSK_AUTH", "u:envkey", 1);
    ck_assert_int_eq(ow_creds_resolve(NULL, &c, &e), 0);
    ck_assert_str_eq(c.apihost, "http://127.0.0.1:3233");
    ck_assert_str_eq(c.auth, "u:envkey");
    ck_assert_str_eq(c.auth_from, "WSK_AUTH");
    ow_creds_free(&c);

    write_file("key", "u2:filekey\n", keyfile, sizeof keyfile);
    ow_creds_given g = {.apihost = "ow.example", .auth_file = keyfile, .ns = "_", .insecure = 1,
                        .where = "test"};
    ck_assert_int_eq(ow_creds_resolve(&g, &c, &e), 0);
    ck_assert_str_eq(c.apihost, "https://ow.example");
    ck_assert_str_eq(c.auth, "u2:filekey");
    ck_assert_str_eq(c.ns, "_");
    ck_assert_int_eq(c.insecure, 1);
    ow_creds_free(&c);

    /* WSK_CONFIG_FILE names another properties file; a missing one is an error */
    char other[128];
    write_file("other.props", "APIHOST=other:1\nAUTH=o:k\n", other, sizeof other);
    unsetenv("WSK_APIHOST");
    unsetenv("WSK_AUTH");
    setenv("WSK_CONFIG_FILE", other, 1);
    ck_assert_int_eq(ow_creds_resolve(NULL, &c, &e), 0);
    ck_assert_str_eq(c.apihost, "https://other:1");
    ck_assert_str_eq(c.ns, "_");
    ow_creds_free(&c);
    setenv("WSK_CONFIG_FILE", "/nonexistent/props", 1);
    ck_assert_int_eq(ow_creds_resolve(NULL, &c, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "WSK_CONFIG_FILE"));
    cleanup();
}
END_TEST

START_TEST(missing_or_bad_credentials_never_show_the_key)
{
    scratch();
    ow_creds c;
    hb_error e;
    ck_assert_int_eq(ow_creds_resolve(NULL, &c, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "no OpenWhisk API host"));
    setenv("WSK_APIHOST", "127.0.0.1:1", 1);
    ck_assert_int_eq(ow_creds_resolve(NULL, &c, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "no OpenWhisk key"));
    /* a malformed key: the message says where it came from, not what it is */
    const char *bad = "no-colon-secret-value-7734";
    setenv("WSK_AUTH", bad, 1);
    ck_assert_int_eq(ow_creds_resolve(NULL, &c, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "WSK_AUTH"));
    ck_assert_ptr_null(strstr(e.msg, bad));
    unsetenv("WSK_AUTH");
    char kf[128];
    write_file("badkey", "AUTH=spaces in secret:x y\n", kf, sizeof kf);
    ow_creds_given g = {.auth_file = kf, .insecure = -1};
    ck_assert_int_eq(ow_creds_resolve(&g, &c, &e), HB_EINPUT);
    ck_assert_ptr_null(strstr(e.msg, "spaces in secret"));
    ck_assert_ptr_nonnull(strstr(e.msg, kf));
    ow_creds_given h = {.apihost = "ftp://x", .insecure = -1};
    ck_assert_int_eq(ow_creds_resolve(&h, &c, &e), HB_EINPUT);
    ck_assert_ptr_nonnull(strstr(e.msg, "ftp://x"));
    cleanup();
}
END_TEST

START_TEST(base64_round_trip_and_rejects)
{
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    for (size_t n = 0; n <= 256; n += 1) {
        char *t = ow_base64_encode(all, n);
        ck_assert_uint_eq(strlen(t), (n + 2) / 3 * 4);
        size_t m = 0;
        unsigned char *back = ow_base64_decode(t, strlen(t), &m);
        ck_assert_ptr_nonnull(back);
        ck_assert_uint_eq(m, n);
        ck_assert(n == 0 || memcmp(back, all, n) == 0);
        free(back);
        free(t);
    }
    char *t = ow_base64_encode((const unsigned char *)"hello", 5);
    ck_assert_str_eq(t, "aGVsbG8=");
    free(t);
    size_t m;
    unsigned char *x = ow_base64_decode("aGVs\nbG8=", 9, &m);   /* line breaks are fine */
    ck_assert(x && m == 5 && memcmp(x, "hello", 5) == 0);
    free(x);
    ck_assert_ptr_null(ow_base64_decode("aGVs*G8=", 8, &m));
    ck_assert_ptr_null(ow_base64_decode("aGVsbG8=QQ", 10, &m));  /* data after padding */
    x = ow_base64_decode("aGVsbG8", 7, &m);      /* padding is optional */
    ck_assert(x && m == 5 && memcmp(x, "hello", 5) == 0);
    free(x);
    ck_assert_ptr_null(ow_base64_decode("aGVsbG9", 7, &m));    /* stray low bits */
}
END_TEST

START_TEST(zip_holds_exec_and_unzips_executable)
{
    scratch();
    char src[128], out[160];
    write_file("prog", "#!/bin/sh\necho '{\"ok\":true}'\n", src, sizeof src);
    unsigned char *zip = NULL;
    size_t len = 0;
    hb_error e;
    ck_assert_msg(ow_zip_exec(src, &zip, &len, &e) == 0, "%s", e.msg);
    ck_assert(len > 22 && memcmp(zip, "PK\3\4", 4) == 0);
    snprintf(out, sizeof out, "%s/exec", dir);
    ck_assert_msg(ow_unzip_exec(zip, len, out, &e) == 0, "%s", e.msg);
    struct stat st;
    ck_assert_int_eq(stat(out, &st), 0);
    ck_assert(st.st_mode & S_IXUSR);
    FILE *f = fopen(out, "r");
    char buf[64] = "";
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "#!/bin/sh\n");
    ck_assert_int_eq(ow_unzip_exec((const unsigned char *)"not a zip", 9, out, &e), HB_EINPUT);
    free(zip);
    ck_assert_int_eq(ow_zip_exec("/nonexistent/ms", &zip, &len, &e), HB_EINPUT);
    cleanup();
}
END_TEST

START_TEST(stock_grid_is_memory_steps_with_cpu_shares)
{
    hb_config cfg;
    hb_error e;
    ck_assert_int_eq(hb_config_load_text("[function.ms]\nuser_mem_mb = 300\n", "t.ini", ".", &cfg, &e), 0);
    ow_grid g;
    ck_assert_int_eq(ow_grid_build(OW_STOCK, "hb-", cfg.funcs, (hb_res){8, 8192}, &g, &e), 0);
    int ms = hb_function_find("ms");
    /* ms clips memory to 512..1024: 512, 640, 768, 896, 1024, plus the user's 300 */
    ck_assert_uint_eq(g.count[ms], 6);
    const ow_variant *v = ow_grid_pick(&g, ms, (hb_res){2, 600});
    ck_assert_str_eq(v->name, "hb-ms-m640");
    ck_assert_int_eq(v->limit_memory, 640);
    ck_assert_int_eq(v->cpu_hard, 0);
    ck_assert_double_eq_tol(v->applied.cpu, 640.0 / 8192 * 8, 1e-12);   /* the memory share */
    ck_assert_str_eq(ow_grid_user(&g, ms, cfg.funcs)->name, "hb-ms-m300");
    ck_assert_str_eq(ow_grid_pick(&g, ms, (hb_res){1, 5000})->name, "hb-ms-m1024");   /* beyond */
    ck_assert_str_eq(ow_grid_pick(&g, ms, (hb_res){1, 1})->name, "hb-ms-m300");
    size_t total = 0;
    for (int f = 0; f < HB_NWORKLOADS; f++)
        total += g.count[f];
    ck_assert_uint_eq(total, g.n);
    ow_grid_free(&g);
    hb_config_free(&cfg);
}
END_TEST

START_TEST(libra_fork_grid_encodes_cores_and_memory)
{
    hb_config cfg;
    hb_error e;
    ck_assert_int_eq(hb_config_load_text("", "t.ini", ".", &cfg, &e), 0);
    ow_grid g;
    ck_assert_int_eq(ow_grid_build(OW_LIBRA_FORK, "x-", cfg.funcs, (hb_res){8, 8192}, &g, &e), 0);
    int dh = hb_function_find("dh");            /* cpu 1..2, memory units 2..8, user (2, 8) */
    ck_assert_uint_eq(g.count[dh], 14);
    for (size_t i = g.first[dh]; i < g.first[dh] + g.count[dh]; i++) {
        const ow_variant *v = &g.v[i];
        ck_assert_int_eq(v->limit_memory, (v->cores - 1) * 8 + v->mem_mb / 128);   /* spec section 2 */
        ck_assert(v->limit_memory >= 1 && v->limit_memory <= 64);
        ck_assert_int_eq(v->cpu_hard, 1);
    }
    const ow_variant *v = ow_grid_pick(&g, dh, (hb_res){1.3, 700});
    ck_assert_str_eq(v->name, "x-dh-c2-m768");
    ck_assert_int_eq(v->limit_memory, 14);
    ck_assert_double_eq(v->applied.cpu, 2);
    ck_assert_str_eq(ow_grid_pick(&g, dh, (hb_res){1, 256})->name, "x-dh-c1-m256");
    ck_assert_str_eq(ow_grid_pick(&g, dh, (hb_res){6, 4096})->name, "x-dh-c2-m1024");
    ck_assert_str_eq(ow_grid_user(&g, dh, cfg.funcs)->name, "x-dh-c2-m1024");
    ow_grid_free(&g);
    hb_config_free(&cfg);
}
END_TEST

HB_TEST_MAIN("ow_client", credentials_precedence_flags_env_props,
             missing_or_bad_credentials_never_show_the_key, base64_round_trip_and_rejects,
             zip_holds_exec_and_unzips_executable, stock_grid_is_memory_steps_with_cpu_shares,
             libra_fork_grid_encodes_cores_and_memory)
