/* cmd_serve.c - `harvestbench serve`: runs the OpenWhisk-compatible endpoint (serve.h) until
 * SIGINT or SIGTERM, and writes a wsk properties file with its API host and key. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <malloc.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cgroup.h"
#include "commands.h"
#include "files.h"
#include "openwhisk/ow_auth.h"
#include "serve/serve.h"

static const char SERVE_HELP[] =
    "usage: harvestbench serve [--port N] [--bind ADDR] [--props FILE]\n"
    "                          [--auth-file FILE | --auth KEY]\n"
    "                          [--namespace NS] [--flavor stock|libra-fork]\n"
    "                          [--invocations-per-minute N] [--concurrent-invocations N]\n"
    "                          [--keep-alive-s S] [--max-activations N] [--faults SPEC]\n"
    "                          [--runner local|exec] [--action-user USER[:GROUP]]\n"
    "                          [--pids-max N] [--quiet]\n"
    "                          [--redis HOST:PORT [--redis-db N] [--redis-password-file FILE]]\n"
    "\n"
    "Serves the OpenWhisk REST API (actions, invocations, activations; docs/openwhisk.md) on\n"
    "127.0.0.1 until interrupted, running native actions as local processes. The first line of\n"
    "output is 'listening on http://ADDR:PORT'.\n"
    "\n"
    "  --port N          TCP port (default 3233, OpenWhisk standalone's); 0: any free port\n"
    "  --bind ADDR       IPv4 address to listen on (default 127.0.0.1)\n"
    "  --props FILE      write APIHOST, AUTH and NAMESPACE there (mode 0600), for WSK_CONFIG_FILE,\n"
    "                    the wsk CLI and `harvestbench deploy/run` (default: ./harvestbench-serve.wskprops)\n"
    "  --auth-file FILE  the key to accept (UUID:KEY, or a wsk properties file with AUTH=);\n"
    "                    default: a new random key\n"
    "  -u, --auth KEY    the key UUID:KEY itself, as wsk's flag (visible in the process list:\n"
    "                    prefer --auth-file)\n"
    "  --namespace NS    the namespace (default guest); '_' in URLs means it\n"
    "  --flavor F        stock (memory limits in MB) or libra-fork (the fork's encoded\n"
    "                    (cpu, memory) limit 1..64, applied as a CPU quota and memory)\n"
    "  --invocations-per-minute N   429 beyond N invocations in a minute (default 6000; 0: none)\n"
    "  --concurrent-invocations N   429 beyond N activations in flight (default 100; 0: none)\n"
    "  --keep-alive-s S  how long an idle container stays warm (default 600)\n"
    "  --max-activations N  records kept in memory, oldest dropped first (default 100000)\n"
    "  --faults SPEC     inject faults (also from HB_SERVE_FAULTS): 429=P,500=P,drop=P,delay=MS,\n"
    "                    lose=P,record-delay=MS,shuffle,seed=N (docs/openwhisk.md)\n"
    "  --runner R        how actions run: local (the local executor: a cgroup per container with\n"
    "                    its memory limit and CPU, warm processes; the default where cgroups can be\n"
    "                    made, docs/local.md) or exec (plain processes, no limits)\n"
    "  --action-user U[:G]  the user (and group) actions run as with the local runner when serve\n"
    "                    runs as root (default nobody:nogroup; 'root' keeps root, not advised)\n"
    "  --pids-max N      tasks per container, by the pids controller (default 128; 0: none)\n"
    "  --quiet           no closing statistics\n"
    "  --redis HOST:PORT with --flavor libra-fork: play the fork's invoker towards this Redis:\n"
    "                    read predict_peak/predict_duration before each call and run it at the\n"
    "                    harvested or borrowed size, publish the pools (invoker0) and each call's\n"
    "                    trajectory (invocations) (docs/openwhisk.md)\n"
    "  --redis-db N      the Redis database (default 0)\n"
    "  --redis-password-file FILE  the Redis password (first line); default HB_REDIS_PASSWORD\n"
    "\n"
    "Exit status: 0 after an interrupt, 1 if it cannot listen, 2 bad usage.\n";

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi)
        return -1;
    *out = x;
    return 0;
}

static int write_props(const char *path, const hb_serve *s, const char *host, hb_error *err)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        if (fd >= 0)
            close(fd);
        return hb_fail(err, HB_EIO, "%s: %s", tmp, strerror(errno));
    }
    fprintf(f, "APIHOST=http://%s:%d\nAUTH=%s\nNAMESPACE=%s\n", host, hb_serve_port(s),
            hb_serve_auth(s), hb_serve_namespace(s));
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return hb_fail(err, HB_EIO, "%s: %s", path, strerror(errno));
    }
    return 0;
}

/* The user actions run as (issue 17: they ran as root): USER[:GROUP] by name or number; by
 * default nobody with group nogroup (Debian's), else nobody's own group. Only root can switch. */
static int action_user_resolve(const char *spec, int *run_as, uid_t *uid, gid_t *gid, hb_error *err)
{
    *run_as = 0;
    if (geteuid() != 0)
        return 0;                      /* no other user to become: actions run as ours */
    char user[256], group[256] = "";
    const char *s = spec ? spec : "nobody";
    const char *colon = strchr(s, ':');
    size_t ul = colon ? (size_t)(colon - s) : strlen(s);
    if (ul >= sizeof user || (colon && strlen(colon + 1) >= sizeof group))
        return hb_fail(err, HB_EINPUT, "--action-user: '%s' is too long", s);
    snprintf(user, sizeof user, "%.*s", (int)ul, s);
    if (colon)
        snprintf(group, sizeof group, "%s", colon + 1);
    const struct passwd *pw = getpwnam(user);
    char *end;
    long n = strtol(user, &end, 10);
    if (!pw && *user && !*end && n >= 0)
        pw = getpwuid((uid_t)n);
    if (!pw)
        return hb_fail(err, HB_EINPUT, "--action-user: no user '%s' on this machine (create one, "
                       "e.g. useradd --system harvestbench-action, and name it)", user);
    if (pw->pw_uid == 0) {
        fprintf(stderr, "harvestbench serve: warning: actions run as root (--action-user %s)\n",
                user);
        return 0;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    const struct group *gr = NULL;
    if (*group) {
        gr = getgrnam(group);
        long g = strtol(group, &end, 10);
        if (!gr && !*end && g >= 0)
            gr = getgrgid((gid_t)g);
        if (!gr)
            return hb_fail(err, HB_EINPUT, "--action-user: no group '%s' on this machine", group);
    } else if (!spec) {
        gr = getgrnam("nogroup");
    }
    if (gr)
        *gid = gr->gr_gid;
    if (*gid == 0)
        return hb_fail(err, HB_EINPUT, "--action-user: group 0 (root) is not allowed");
    *run_as = 1;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},      {"bind", required_argument, NULL, 'b'},
        {"auth", required_argument, NULL, 'u'},
        {"props", required_argument, NULL, 'P'},     {"auth-file", required_argument, NULL, 'a'},
        {"namespace", required_argument, NULL, 'n'}, {"flavor", required_argument, NULL, 'f'},
        {"invocations-per-minute", required_argument, NULL, 'r'},
        {"concurrent-invocations", required_argument, NULL, 'c'},
        {"keep-alive-s", required_argument, NULL, 'k'},
        {"max-activations", required_argument, NULL, 'm'},
        {"faults", required_argument, NULL, 'F'},    {"quiet", no_argument, NULL, 'q'},
        {"runner", required_argument, NULL, 'R'},
        {"action-user", required_argument, NULL, 'U'},
        {"pids-max", required_argument, NULL, 'M'},
        {"redis", required_argument, NULL, 'X'},
        {"redis-db", required_argument, NULL, 'D'},
        {"redis-password-file", required_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
    };
    hb_serve_opts o;
    memset(&o, 0, sizeof o);
    o.port = 3233;
    o.per_minute = 6000;
    o.concurrent = 100;
    o.keep_alive_ms = 600000;
    const char *props = NULL, *auth_file = NULL, *auth = NULL, *faults = getenv("HB_SERVE_FAULTS");
    const char *runner = NULL, *action_user = NULL;
    long pids_max = 128;
    sv_libra_opts redis = {0};
    int quiet = 0, c;
    long v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "hu:", opts, NULL)) != -1) {
        switch (c) {
        case 'u': auth = optarg; break;
        case 'p':
            if (parse_long(optarg, 0, 65535, &v))
                return hb_usage_error("serve", "--port: '%s' is not a port in [0, 65535]", optarg);
            o.port = (int)v;
            break;
        case 'b': o.bind = optarg; break;
        case 'P': props = optarg; break;
        case 'a': auth_file = optarg; break;
        case 'n': o.ns = optarg; break;
        case 'f':
            if (strcmp(optarg, "stock") && strcmp(optarg, "libra-fork"))
                return hb_usage_error("serve", "--flavor: '%s' is not stock or libra-fork", optarg);
            o.libra_fork = strcmp(optarg, "libra-fork") == 0;
            break;
        case 'r':
            if (parse_long(optarg, 0, 100000000, &o.per_minute))
                return hb_usage_error("serve", "--invocations-per-minute: '%s' is not a count", optarg);
            break;
        case 'c':
            if (parse_long(optarg, 0, 1000000, &o.concurrent))
                return hb_usage_error("serve", "--concurrent-invocations: '%s' is not a count", optarg);
            break;
        case 'k':
            if (parse_long(optarg, 0, 86400, &v))
                return hb_usage_error("serve", "--keep-alive-s: '%s' is not in [0, 86400]", optarg);
            o.keep_alive_ms = v * 1000;
            break;
        case 'm':
            if (parse_long(optarg, 1, 100000000, &v))
                return hb_usage_error("serve", "--max-activations: '%s' is not a count", optarg);
            o.max_activations = (size_t)v;
            break;
        case 'F': faults = optarg; break;
        case 'R':
            if (strcmp(optarg, "local") && strcmp(optarg, "exec"))
                return hb_usage_error("serve", "--runner: '%s' is not local or exec", optarg);
            runner = optarg;
            break;
        case 'U': action_user = optarg; break;
        case 'M':
            if (parse_long(optarg, 0, 1000000, &pids_max))
                return hb_usage_error("serve", "--pids-max: '%s' is not a count", optarg);
            break;
        case 'X': redis.redis = optarg; break;
        case 'D':
            if (parse_long(optarg, 0, 100000, &redis.db))
                return hb_usage_error("serve", "--redis-db: '%s' is not in [0, 100000]", optarg);
            break;
        case 'W': redis.password_file = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(SERVE_HELP, stdout); return 0;
        default:
        {
            /* the option's name only: "--aut=KEY" (ambiguous) must not print the key */
            const char *bad = argv[optind - 1];
            return hb_usage_error("serve", "unknown or incomplete option '%.*s'",
                                  (int)strcspn(bad, "="), bad);
        }
        }
    }
    if (auth && auth_file)
        return hb_usage_error("serve", "give the key by --auth or by --auth-file, not both");
    if (optind < argc)
        return hb_usage_error("serve", "unexpected argument '%s'", argv[optind]);
    if (redis.redis && !o.libra_fork)
        return hb_usage_error("serve", "--redis needs --flavor libra-fork");
    redis.quiet = quiet;
    o.libra_redis = redis.redis ? &redis : NULL;
    hb_error err;
    hb_error_clear(&err);
    if (sv_faults_parse(faults, &o.faults, &err))
        return hb_usage_error("serve", "%s", err.msg);
    char *key = NULL;
    if (auth) {
        key = strdup(auth);
        if (!key) {
            fprintf(stderr, "harvestbench serve: out of memory\n");
            return 1;
        }
        o.auth = key;
    } else if (auth_file) {
        /* the same reader as the client's: one line UUID:KEY, or AUTH= in a properties file */
        ow_creds cr;
        ow_creds_given g = {.apihost = "127.0.0.1", .auth_file = auth_file, .insecure = -1};
        if (ow_creds_resolve(&g, &cr, &err)) {
            fprintf(stderr, "harvestbench serve: %s\n", err.msg);
            return 2;
        }
        key = strdup(cr.auth);
        ow_creds_free(&cr);
        if (!key) {
            fprintf(stderr, "harvestbench serve: out of memory\n");
            return 1;
        }
        o.auth = key;
    }
    if (!props && !auth_file && !auth)
        props = "harvestbench-serve.wskprops";
    const char *host = o.bind ? o.bind : "127.0.0.1";
    if (o.bind && strncmp(o.bind, "127.", 4) != 0)
        fprintf(stderr, "harvestbench serve: warning: listening on %s, not on the loopback "
                "interface; anyone who can reach it and has the key can run code here\n", o.bind);

    /* connections are bounded by descriptors (serve.c): take what the hard limit allows */
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
        rlim_t want = nofile.rlim_max > 65536 ? 65536 : nofile.rlim_max;
        if (nofile.rlim_cur < want) {
            nofile.rlim_cur = want;
            setrlimit(RLIMIT_NOFILE, &nofile);
        }
    }
    /* A long-running server with a thread pool: glibc gives each thread that allocates an arena of
     * its own (up to 8 per core), and memory freed in one arena is not reused by another, so the
     * resident size keeps climbing for hours without any leak (the soak test: +13.6 MB over 17,000
     * requests with the default, within bounds with MALLOC_ARENA_MAX=1). Two arenas bound it. */
    mallopt(M_ARENA_MAX, 2);
    /* signals are taken by sigwait below; every thread started from here inherits the mask */
    sigset_t set, old;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, &old);
    signal(SIGPIPE, SIG_IGN);
    hb_cgroup_sweep_stale("serve");    /* what killed servers and runs left behind (issue 17) */
    /* the runner's thread starts here, with the signals blocked like every other thread */
    const char *runner_used = "exec";
    int rc = 0;
    if (!runner || strcmp(runner, "local") == 0) {
        int version;
        char why[512];
        if (hb_cgroup_probe(&version, why, sizeof why)) {
            hb_runner_local_opts lo = {NULL, o.keep_alive_ms, 1, 0, 0, 0, pids_max};
            if (action_user_resolve(action_user, &lo.run_as, &lo.uid, &lo.gid, &err)) {
                pthread_sigmask(SIG_SETMASK, &old, NULL);
                fprintf(stderr, "harvestbench serve: %s\n", err.msg);
                return 2;
            }
            rc = hb_runner_local_new(&lo, &o.runner, &err);
            runner_used = "local";
        } else if (runner) {
            rc = hb_fail(&err, HB_ERUN, "--runner local: %s", why);
        } else {
            fprintf(stderr, "harvestbench serve: actions run as plain processes without limits (the "
                    "exec runner): %s\n", why);
        }
    }
    if (strcmp(runner_used, "exec") == 0 && geteuid() == 0)
        fprintf(stderr, "harvestbench serve: warning: the exec runner runs actions as root, "
                "without a pids limit (the local runner runs them as --action-user)\n");
    hb_serve *s = NULL;
    if (!rc)
        rc = hb_serve_start(&o, &s, &err);   /* it owns the runner from here */
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    if (!rc && props)
        rc = write_props(props, s, host, &err);
    if (rc) {
        fprintf(stderr, "harvestbench serve: %s\n", err.msg);
        hb_serve_stop(s);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        return rc == HB_EINPUT ? 2 : 1;
    }
    char fs[256];
    sv_faults_format(&o.faults, fs, sizeof fs);
    printf("listening on http://%s:%d\n", host, hb_serve_port(s));
    printf("namespace %s, flavor %s, limits %ld/min and %ld concurrent (0: none), runner %s, "
           "faults: %s\n", hb_serve_namespace(s), o.libra_fork ? "libra-fork" : "stock",
           o.per_minute, o.concurrent, runner_used, fs);
    if (props)
        printf("credentials in %s (use: WSK_CONFIG_FILE=%s)\n", props, props);
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    hb_serve_stats st;
    hb_serve_stats_get(s, &st);
    hb_serve_stop(s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!quiet)
        fprintf(stderr, "harvestbench serve: stopped (%s); %llu requests, %llu invocations, %llu "
                "completed, throttled %llu (rate) + %llu (concurrency), injected %llu x 429, "
                "%llu x 500, %llu dropped, %llu records lost\n", strsignal(sig),
                (unsigned long long)st.requests, (unsigned long long)st.invocations,
                (unsigned long long)st.completed, (unsigned long long)st.throttled_rate,
                (unsigned long long)st.throttled_concurrency, (unsigned long long)st.injected_429,
                (unsigned long long)st.injected_500, (unsigned long long)st.injected_drop,
                (unsigned long long)st.lost_records);
    return 0;
}
