/* test_wl_runtime.c - the three invocation modes of the built workload binaries ($BUILD/workloads/):
 * command line, OpenWhisk dockerskeleton (argv[1] or stdin), OpenWhisk ActionLoop (fd 3, warm). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "unit/hb_test.h"

static char bin[512];

static void set_bin(const char *id)
{
    const char *b = getenv("BUILD");
    snprintf(bin, sizeof bin, "%s/workloads/%s", b && *b ? b : "build", id);
    ck_assert_msg(access(bin, X_OK) == 0, "%s is not built", bin);
}

/* Runs bin with argv, stdin text (NULL: /dev/null), no fd 3; captures stdout; returns exit status. */
static int run(char *const argv[], const char *in, char *out, size_t outlen)
{
    int pin[2], pout[2];
    ck_assert_int_eq(pipe(pin), 0);
    ck_assert_int_eq(pipe(pout), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 2);                 /* the CLI's usage messages */
        for (int fd = 3; fd < 64; fd++)
            close(fd);
        execv(bin, argv);
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    if (in)
        ck_assert_int_eq((int)write(pin[1], in, strlen(in)), (int)strlen(in));
    close(pin[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(pout[0], out + n, outlen - 1 - n)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(pout[0]);
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* The last line of text, parsed. */
static json_t *last_line(const char *text)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    size_t s = n;
    while (s > 0 && text[s - 1] != '\n')
        s--;
    json_t *j = json_loadb(text + s, n - s, 0, NULL);
    ck_assert_msg(j != NULL, "last line is not JSON: %s", text);
    return j;
}

static void assert_ok_result(const json_t *r, const char *id, int size)
{
    ck_assert_ptr_null(json_object_get(r, "error"));
    ck_assert_str_eq(json_string_value(json_object_get(r, "function")), id);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "size")), size);
    ck_assert(json_is_string(json_object_get(r, "checksum")));
    ck_assert(json_is_array(json_object_get(r, "cpu_usage")));
    ck_assert(json_is_array(json_object_get(r, "mem_usage")));
    ck_assert(json_is_number(json_object_get(r, "cpu_peak")));
    ck_assert(json_is_number(json_object_get(r, "mem_peak")));
}

static void assert_error(const json_t *r, const char *word)
{
    const char *e = json_string_value(json_object_get(r, "error"));
    ck_assert_msg(e && strstr(e, word), "error '%s' lacks '%s'", e ? e : "(none)", word);
}

static char out[1 << 16];

START_TEST(cli_mode)
{
    set_bin("ms");
    char *ok[] = {bin, "--size", "10", "--parallel", "2", "--seed", "4", NULL};
    ck_assert_int_eq(run(ok, NULL, out, sizeof out), 0);
    json_t *r = last_line(out);
    assert_ok_result(r, "ms", 10);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "parallel")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "seed")), 4);
    json_decref(r);

    char *params[] = {bin, "--params", "{\"size\":3,\"seed\":9}", "--size", "4", NULL};
    ck_assert_int_eq(run(params, NULL, out, sizeof out), 0);
    r = last_line(out);
    assert_ok_result(r, "ms", 4);       /* --size overrides the JSON */
    ck_assert_int_eq(json_integer_value(json_object_get(r, "seed")), 9);
    json_decref(r);

    char *neg[] = {bin, "--size", "-5", NULL};
    ck_assert_int_eq(run(neg, NULL, out, sizeof out), 2);
    r = last_line(out);
    assert_error(r, "size");
    json_decref(r);

    char *nan[] = {bin, "--size", "ten", NULL};
    ck_assert_int_eq(run(nan, NULL, out, sizeof out), 2);
    r = last_line(out);
    assert_error(r, "must be a number");
    json_decref(r);

    char *bogus[] = {bin, "--bogus", NULL};
    ck_assert_int_eq(run(bogus, NULL, out, sizeof out), 2);
    r = last_line(out);
    assert_error(r, "unknown argument");
    json_decref(r);

    char *help[] = {bin, "--help", NULL};
    ck_assert_int_eq(run(help, NULL, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage:"));
}
END_TEST

START_TEST(dockerskeleton_mode)
{
    set_bin("alu");
    char *arg[] = {bin, "{\"size\":2000,\"rounds\":10,\"couch_link\":\"ignored\"}", NULL};
    ck_assert_int_eq(run(arg, NULL, out, sizeof out), 0);
    json_t *r = last_line(out);
    assert_ok_result(r, "alu", 2000);
    json_decref(r);

    char *none[] = {bin, NULL};        /* parameters on stdin */
    ck_assert_int_eq(run(none, "{\"size\": 3000, \"rounds\": 5}\n", out, sizeof out), 0);
    r = last_line(out);
    assert_ok_result(r, "alu", 3000);
    json_decref(r);

    ck_assert_int_eq(run(none, "", out, sizeof out), 0);       /* no input: the defaults */
    r = last_line(out);
    assert_ok_result(r, "alu", 100000);
    json_decref(r);

    char *broken[] = {bin, "{\"size\":", NULL};
    ck_assert_int_eq(run(broken, NULL, out, sizeof out), 2);
    r = last_line(out);
    assert_error(r, "broken JSON");
    json_decref(r);

    ck_assert_int_eq(run(none, "[1,2]", out, sizeof out), 2);
    r = last_line(out);
    assert_error(r, "JSON object");
    json_decref(r);
}
END_TEST

static int count_threads(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Reads one line from fd into buf (blocking). */
static int read_line(int fd, char *buf, size_t len)
{
    size_t n = 0;
    while (n + 1 < len) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (c == '\n') {
            buf[n] = '\0';
            return 0;
        }
        buf[n++] = c;
    }
    buf[n] = '\0';
    return -1;
}

START_TEST(actionloop_mode_stays_warm)
{
    set_bin("gd");
    int pin[2], p3[2];
    ck_assert_int_eq(pipe(pin), 0);
    ck_assert_int_eq(pipe(p3), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(p3[1], 3);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        for (int fd = 4; fd < 64; fd++)
            close(fd);
        setenv("__OW_WAIT_FOR_ACK", "1", 1);
        execl(bin, bin, (char *)NULL);
        _exit(127);
    }
    close(pin[0]);
    close(p3[1]);
    char line[1 << 16];
    ck_assert_int_eq(read_line(p3[0], line, sizeof line), 0);
    ck_assert_str_eq(line, "{\"ok\":true}");

    static const char *req[] = {
        "{\"value\":{\"size\":2,\"iterations\":50},\"activation_id\":\"a1\",\"deadline\":\"1\"}\n",
        "{\"value\":{\"size\":-1}}\n",
        "{\"value\":{\"size\":\n",
        "{\"value\":\"not an object\"}\n",
        "{\"value\":{\"size\":3,\"iterations\":50}}\n",
        "{\"value\":{\"size\":2,\"iterations\":50}}\n",
    };
    const char *want[] = {NULL, "size", "broken JSON", "value", NULL, NULL};
    char *first_sum = NULL;
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
        ck_assert_int_eq((int)write(pin[1], req[i], strlen(req[i])), (int)strlen(req[i]));
        ck_assert_int_eq(read_line(p3[0], line, sizeof line), 0);
        json_t *r = json_loads(line, 0, NULL);
        ck_assert_msg(r != NULL, "result %zu is not one JSON line: %s", i, line);
        if (want[i]) {
            assert_error(r, want[i]);
        } else {
            ck_assert_ptr_null(json_object_get(r, "error"));
            ck_assert_str_eq(json_string_value(json_object_get(r, "function")), "gd");
            if (i == 0)
                first_sum = strdup(json_string_value(json_object_get(r, "checksum")));
            if (i == 5)                /* a warm call gives the same answer as the cold one */
                ck_assert_str_eq(json_string_value(json_object_get(r, "checksum")), first_sum);
        }
        json_decref(r);
        /* between calls the process keeps no sampler or worker threads */
        ck_assert_int_eq(count_threads(pid), 1);
    }
    free(first_sum);
    ck_assert_int_eq(kill(pid, 0), 0);  /* still serving */
    close(pin[1]);                      /* end of input: it exits cleanly */
    int st;
    waitpid(pid, &st, 0);
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(p3[0]);
}
END_TEST

START_TEST(every_function_runs_small)
{
    static const char *const small[][2] = {
        {"dh", "{\"size\":1}"}, {"eg", "{\"size\":10}"},
        {"ip", "{\"size\":2,\"src_width\":64,\"src_height\":48,\"width\":32,\"height\":32}"},
        {"vp", "{\"size\":1,\"width\":32,\"height\":32,\"duration\":1}"}, {"ir", "{\"size\":2}"},
        {"knn", "{\"size\":2,\"dataset_size\":50,\"feature_dim\":8}"},
        {"alu", "{\"size\":10,\"rounds\":5}"}, {"ms", "{\"size\":10}"},
        {"gd", "{\"size\":1,\"iterations\":5}"}, {"dv", "{\"size\":2,\"gene_a\":50,\"gene_b\":60}"},
    };
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        set_bin(small[i][0]);
        char *argv[] = {bin, (char *)small[i][1], NULL};
        ck_assert_int_eq(run(argv, NULL, out, sizeof out), 0);
        json_t *r = last_line(out);
        ck_assert_ptr_null(json_object_get(r, "error"));
        ck_assert_str_eq(json_string_value(json_object_get(r, "function")), small[i][0]);
        json_decref(r);
    }
}
END_TEST

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    Suite *s = suite_create("workload runtime");
    const TTest *modes[] = {cli_mode, dockerskeleton_mode, actionloop_mode_stays_warm,
                            every_function_runs_small};
    hb_test_case(s, "modes", 120, modes, HB_TEST_N(modes));
    return hb_test_run(s);
}
