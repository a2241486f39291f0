/* cmd_serve.c - `harvestbench serve`: runs the OpenWhisk-compatible endpoint (serve.h) until
 * SIGINT or SIGTERM, and writes a wsk properties file with its API host and key. The flags are
 * parsed here; setting the process up and starting it: serve/serve_launch.h. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "openwhisk/ow_auth.h"
#include "serve/serve_launch.h"

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

/* The key to accept: auth itself, else the one in auth_file, else NULL (the endpoint makes one).
 * It is read by the OpenWhisk client's reader (a backend may not include another's headers, so
 * the command does it); *key is the caller's to wipe and free. */
static int read_key(const char *auth, const char *auth_file, char **key, hb_error *err)
{
    *key = NULL;
    if (auth) {
        if (!(*key = strdup(auth)))
            return hb_fail(err, HB_ENOMEM, "out of memory");
    } else if (auth_file) {
        /* the same reader as the client's: one line UUID:KEY, or AUTH= in a properties file */
        ow_creds cr;
        ow_creds_given g = {.apihost = "127.0.0.1", .auth_file = auth_file, .insecure = -1};
        if (ow_creds_resolve(&g, &cr, err)) {
            err->code = HB_EINPUT;
            return HB_EINPUT;
        }
        *key = strdup(cr.auth);
        ow_creds_free(&cr);
        if (!*key)
            return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    return HB_OK;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"port", required_argument, NULL, 'p'},      {"bind", required_argument, NULL, 'b'},
        {"auth", required_argument, NULL, 'u'},      {"quiet", no_argument, NULL, 'q'},
        {"props", required_argument, NULL, 'P'},     {"auth-file", required_argument, NULL, 'a'},
        {"namespace", required_argument, NULL, 'n'}, {"flavor", required_argument, NULL, 'f'},
        {"invocations-per-minute", required_argument, NULL, 'r'},
        {"concurrent-invocations", required_argument, NULL, 'c'},
        {"keep-alive-s", required_argument, NULL, 'k'}, {"max-activations", required_argument, NULL, 'm'},
        {"faults", required_argument, NULL, 'F'},    {"runner", required_argument, NULL, 'R'},
        {"action-user", required_argument, NULL, 'U'}, {"pids-max", required_argument, NULL, 'M'},
        {"redis", required_argument, NULL, 'X'},     {"redis-db", required_argument, NULL, 'D'},
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
    int rc = read_key(auth, auth_file, &key, &err);
    if (rc) {
        fprintf(stderr, "harvestbench serve: %s\n", err.msg);
        return hb_exit_status(rc);
    }
    o.auth = key;
    if (!props && !auth_file && !auth)
        props = "harvestbench-serve.wskprops";
    const char *host = o.bind ? o.bind : "127.0.0.1";
    if (o.bind && strncmp(o.bind, "127.", 4) != 0)
        fprintf(stderr, "harvestbench serve: warning: listening on %s, not on the loopback "
                "interface; anyone who can reach it and has the key can run code here\n", o.bind);
    hb_serve_launch l = {.o = o, .props = props, .host = host, .runner = runner,
                         .action_user = action_user, .pids_max = pids_max};
    hb_serve *s = NULL;
    rc = hb_serve_launch_start(&l, &s, &err);
    if (key) {
        memset(key, 0, strlen(key));
        free(key);
    }
    if (rc) {
        fprintf(stderr, "harvestbench serve: %s\n", err.msg);
        return rc == HB_EINPUT ? 2 : 1;
    }
    char fs[256];
    sv_faults_format(&o.faults, fs, sizeof fs);
    printf("listening on http://%s:%d\n", host, hb_serve_port(s));
    printf("namespace %s, flavor %s, limits %ld/min and %ld concurrent (0: none), runner %s, "
           "faults: %s\n", hb_serve_namespace(s), o.libra_fork ? "libra-fork" : "stock",
           o.per_minute, o.concurrent, l.runner_used, fs);
    if (props)
        printf("credentials in %s (use: WSK_CONFIG_FILE=%s)\n", props, props);
    fflush(stdout);
    hb_serve_stats st;
    int sig = hb_serve_launch_wait(&l, s, &st);
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
