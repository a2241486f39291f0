/* cgroup.c - resource-limited process groups on cgroup v1 or v2 (see cgroup.h).
 *
 * Everything here is file I/O on the cgroup filesystems; no library wraps it (libcgroup is a
 * v1-era tool set with its own configuration daemon model), so it is written directly. */
#define _GNU_SOURCE
#include "cgroup.h"
#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PERIOD_US 100000               /* CFS period: quotas are cores x 100 ms */

static const char *const v1_ctrl[3] = {"cpu", "cpuacct", "memory"};

/* ---- small file helpers ---- */

static int write_file(const char *dir, const char *file, const char *text, hb_error *err)
{
    char path[HB_CGROUP_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return hb_fail(err, HB_EIO, "cgroup: cannot open %s: %s", path, strerror(errno));
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int e = errno;
    close(fd);
    if (w != (ssize_t)n)
        return hb_fail(err, HB_EIO, "cgroup: writing '%s' to %s: %s", text, path,
                       w < 0 ? strerror(e) : "short write");
    return HB_OK;
}

static int read_file(const char *dir, const char *file, char *buf, size_t len)
{
    char path[HB_CGROUP_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return 0;
}

static int read_u64(const char *dir, const char *file, uint64_t *v)
{
    char buf[64];
    if (read_file(dir, file, buf, sizeof buf) != 0)
        return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(buf, &end, 10);
    if (errno || end == buf)
        return -1;
    *v = x;
    return 0;
}

/* "key N" in a flat keyed file. */
static int read_keyed(const char *dir, const char *file, const char *key, int64_t *v)
{
    char buf[4096];
    if (read_file(dir, file, buf, sizeof buf) != 0)
        return -1;
    size_t kl = strlen(key);
    for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, key, kl) == 0 && l[kl] == ' ') {
            *v = strtoll(l + kl + 1, NULL, 10);
            return 0;
        }
    return -1;
}

/* ---- finding the hierarchies ---- */

static int find_mount(const char *fstype, const char *ctrl, char *mnt, size_t mlen, char *root,
                      size_t rlen)
{
    FILE *f = fopen("/proc/self/mountinfo", "re");
    if (!f)
        return -1;
    char line[1024];
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, f)) {
        char *sep = strstr(line, " - ");
        char fs[32], opts[512], r[256], m[256];
        if (!sep || sscanf(sep + 3, "%31s %*s %511s", fs, opts) != 2 || strcmp(fs, fstype) != 0 ||
            sscanf(line, "%*s %*s %*s %255s %255s", r, m) != 2)
            continue;
        if (ctrl) {
            int has = 0;
            char *sv = NULL;
            for (char *t = strtok_r(opts, ",", &sv); t; t = strtok_r(NULL, ",", &sv))
                has |= strcmp(t, ctrl) == 0;
            if (!has)
                continue;
        }
        snprintf(mnt, mlen, "%s", m);
        snprintf(root, rlen, "%s", r);
        found = 0;
    }
    fclose(f);
    return found;
}

/* This process's path in v1 hierarchy ctrl, or in v2 (ctrl NULL). */
static int own_path(const char *ctrl, char *path, size_t len)
{
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f)
        return -1;
    char line[1024];
    int found = -1;
    while (found != 0 && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2)
            continue;
        *c2 = '\0';
        if (!ctrl) {
            if (strcmp(line, "0") == 0 && c1[1] == '\0') {
                snprintf(path, len, "%s", c2 + 1);
                found = 0;
            }
            continue;
        }
        char *sv = NULL;
        for (char *t = strtok_r(c1 + 1, ",", &sv); t; t = strtok_r(NULL, ",", &sv))
            if (strcmp(t, ctrl) == 0) {
                snprintf(path, len, "%s", c2 + 1);
                found = 0;
            }
    }
    fclose(f);
    return found;
}

/* The directory of this process's current group in a v1 hierarchy. */
static int v1_parent(const char *ctrl, char *dir, size_t len)
{
    char mnt[256], root[256], path[512];
    if (find_mount("cgroup", ctrl, mnt, sizeof mnt, root, sizeof root) != 0 ||
        own_path(ctrl, path, sizeof path) != 0)
        return -1;
    const char *rel = path;
    if (strcmp(root, "/") != 0 && strncmp(path, root, strlen(root)) == 0)
        rel += strlen(root);
    while (*rel == '/')
        rel++;
    int n = *rel ? snprintf(dir, len, "%s/%s", mnt, rel) : snprintf(dir, len, "%s", mnt);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static int has_word(const char *list, const char *word)
{
    size_t wl = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += wl)
        if ((p == list || p[-1] == ' ') && (p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\n'))
            return 1;
    return 0;
}

/* The v2 parent directory for our groups; with create, make it and enable cpu and memory on the
 * way down. */
static int v2_parent(char *dir, size_t len, int create, char *why, size_t whylen)
{
    char mnt[256], root[256];
    if (find_mount("cgroup2", NULL, mnt, sizeof mnt, root, sizeof root) != 0) {
        snprintf(why, whylen, "no cgroup2 filesystem mounted");
        return -1;
    }
    char ctl[512];
    if (read_file(mnt, "cgroup.controllers", ctl, sizeof ctl) != 0 || !has_word(ctl, "cpu") ||
        !has_word(ctl, "memory")) {
        snprintf(why, whylen, "cgroup v2 at %s lacks the cpu and memory controllers (they are "
                              "bound to v1 hierarchies or not enabled)", mnt);
        return -1;
    }
    const char *env = getenv("HB_CGROUP_PARENT");
    if (env && *env)
        snprintf(dir, len, "%s", env);
    else
        snprintf(dir, len, "%s/harvestbench", mnt);
    if (!create)
        return 0;
    if (!env || !*env) {
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            snprintf(why, whylen, "cannot create %s: %s", dir, strerror(errno));
            return -1;
        }
        hb_error e;
        if (write_file(mnt, "cgroup.subtree_control", "+cpu +memory", &e) != HB_OK) {
            snprintf(why, whylen, "%.400s", e.msg);
            return -1;
        }
    }
    hb_error e;
    if (write_file(dir, "cgroup.subtree_control", "+cpu +memory", &e) != HB_OK) {
        snprintf(why, whylen, "%.400s", e.msg);
        return -1;
    }
    return 0;
}

int hb_cgroup_probe(int *version, char *why, size_t whylen)
{
    char dir[HB_CGROUP_PATH_MAX];
    int v1 = 1;
    for (int k = 0; k < 3 && v1; k++)
        v1 = v1_parent(v1_ctrl[k], dir, sizeof dir) == 0;
    if (v1) {
        if (geteuid() != 0) {
            snprintf(why, whylen, "cgroup v1: creating groups needs root (euid %d)", (int)geteuid());
            return 0;
        }
        for (int k = 0; k < 3; k++) {
            v1_parent(v1_ctrl[k], dir, sizeof dir);
            if (access(dir, W_OK) != 0) {
                snprintf(why, whylen, "cgroup v1: cannot write %s: %s", dir, strerror(errno));
                return 0;
            }
        }
        *version = 1;
        return 1;
    }
    char why2[256] = "";
    if (v2_parent(dir, sizeof dir, 0, why2, sizeof why2) != 0) {
        snprintf(why, whylen, "no usable cgroup: v1 needs the cpu, cpuacct and memory hierarchies "
                              "mounted; v2: %s", why2);
        return 0;
    }
    const char *env = getenv("HB_CGROUP_PARENT");
    if (geteuid() != 0 && !(env && *env && access(dir, W_OK) == 0)) {
        snprintf(why, whylen, "cgroup v2: creating groups needs root, or a delegated writable "
                              "parent named by HB_CGROUP_PARENT (euid %d)", (int)geteuid());
        return 0;
    }
    *version = 2;
    return 1;
}

/* ---- groups ---- */

int hb_cgroup_create(hb_cgroup *cg, hb_error *err)
{
    return hb_cgroup_create_in(cg, NULL, err);
}

int hb_cgroup_create_in(hb_cgroup *cg, const hb_cgroup *in, hb_error *err)
{
    static int counter;                /* unique names within this process */
    memset(cg, 0, sizeof *cg);
    char why[512];
    if (in)
        cg->version = in->version;
    else if (!hb_cgroup_probe(&cg->version, why, sizeof why))
        return hb_fail(err, HB_EIO, "cgroup: %s", why);
    snprintf(cg->name, sizeof cg->name, HB_CGROUP_PREFIX "%d-%d", (int)getpid(),
             __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
    char parent[3][HB_CGROUP_PATH_MAX];
    int n = 0;
    if (in) {
        n = cg->version == 1 ? 3 : 1;
        for (int k = 0; k < n; k++)
            snprintf(parent[k], sizeof parent[k], "%s", in->dir[k]);
    } else if (cg->version == 1) {
        for (int k = 0; k < 3; k++)
            v1_parent(v1_ctrl[k], parent[k], sizeof parent[k]);
        n = 3;
    } else {
        if (v2_parent(parent[0], sizeof parent[0], 1, why, sizeof why) != 0)
            return hb_fail(err, HB_EIO, "cgroup v2: %s", why);
        n = 1;
    }
    if (in && cg->version == 2) {      /* a v2 parent delegates cpu and memory to its children */
        hb_error e;
        if (write_file(parent[0], "cgroup.subtree_control", "+cpu +memory", &e) != HB_OK)
            return hb_fail(err, HB_EIO, "%s", e.msg);
    }
    for (int k = 0; k < n; k++) {
        int w = snprintf(cg->dir[k], sizeof cg->dir[k], "%.440s/%s", parent[k], cg->name);
        if (w < 0 || (size_t)w >= sizeof cg->dir[k])
            return hb_fail(err, HB_EIO, "cgroup: the path under %s is too long", parent[k]);
        int dup = 0;                   /* co-mounted hierarchies share one directory */
        for (int j = 0; j < k; j++)
            dup |= strcmp(cg->dir[j], cg->dir[k]) == 0;
        if (dup)
            continue;
        if (mkdir(cg->dir[k], 0755) != 0) {
            int e = errno;
            hb_error ignored;
            hb_cgroup_remove(cg, &ignored);
            return hb_fail(err, HB_EIO, "cgroup: cannot create %s: %s", cg->dir[k], strerror(e));
        }
        cg->ndirs = k + 1;
    }
    if (cg->version == 1) {            /* dir[] fully set even when some are shared */
        cg->ndirs = 3;
    } else {
        cg->ndirs = 1;
        for (int k = 1; k < 3; k++)
            snprintf(cg->dir[k], sizeof cg->dir[k], "%s", cg->dir[0]);
    }
    return HB_OK;
}

static const char *cpu_dir(const hb_cgroup *cg) { return cg->dir[0]; }
static const char *acct_dir(const hb_cgroup *cg) { return cg->dir[cg->version == 1 ? 1 : 0]; }
static const char *mem_dir(const hb_cgroup *cg) { return cg->dir[cg->version == 1 ? 2 : 0]; }

int hb_cgroup_set_cpu(hb_cgroup *cg, double cores, hb_error *err)
{
    char buf[64];
    long quota = cores > 0 ? (long)(cores * PERIOD_US + 0.5) : -1;
    if (quota > 0 && quota < 1000)
        quota = 1000;                  /* the kernel's minimum quota is 1 ms */
    if (cg->version == 1) {
        snprintf(buf, sizeof buf, "%d", PERIOD_US);
        if (write_file(cpu_dir(cg), "cpu.cfs_period_us", buf, err) != HB_OK)
            return err ? err->code : HB_EIO;
        snprintf(buf, sizeof buf, "%ld", quota);
        return write_file(cpu_dir(cg), "cpu.cfs_quota_us", buf, err);
    }
    if (quota > 0)
        snprintf(buf, sizeof buf, "%ld %d", quota, PERIOD_US);
    else
        snprintf(buf, sizeof buf, "max %d", PERIOD_US);
    return write_file(cpu_dir(cg), "cpu.max", buf, err);
}

int hb_cgroup_set_memory(hb_cgroup *cg, double mb, hb_error *err)
{
    char buf[64];
    long long bytes = mb > 0 ? (long long)(mb * 1048576.0) : -1;
    if (cg->version == 2) {
        if (bytes > 0)
            snprintf(buf, sizeof buf, "%lld", bytes);
        else
            snprintf(buf, sizeof buf, "max");
        int rc = write_file(mem_dir(cg), "memory.max", buf, err);
        char probe[8];
        if (rc == HB_OK && read_file(mem_dir(cg), "memory.swap.max", probe, sizeof probe) == 0)
            rc = write_file(mem_dir(cg), "memory.swap.max", "0", err);
        return rc;
    }
    /* v1: memory.memsw.limit_in_bytes (memory + swap) must stay >= memory.limit_in_bytes, so
     * raise memsw first when growing and lower it last when shrinking. memsw exists only with swap
     * accounting; without it there is nothing to turn off. */
    snprintf(buf, sizeof buf, "%lld", bytes);
    uint64_t cur = 0, memsw;
    int has_memsw = read_u64(mem_dir(cg), "memory.memsw.limit_in_bytes", &memsw) == 0;
    if (read_u64(mem_dir(cg), "memory.limit_in_bytes", &cur) != 0)
        cur = 0;                       /* unknown: taken as growing, the order that is always safe */
    int growing = bytes < 0 || (uint64_t)bytes > cur;
    if (has_memsw && growing && write_file(mem_dir(cg), "memory.memsw.limit_in_bytes", buf, err))
        return err ? err->code : HB_EIO;
    if (write_file(mem_dir(cg), "memory.limit_in_bytes", buf, err) != HB_OK)
        return err ? err->code : HB_EIO;
    if (has_memsw && !growing && write_file(mem_dir(cg), "memory.memsw.limit_in_bytes", buf, err))
        return err ? err->code : HB_EIO;
    return HB_OK;
}

int hb_cgroup_set_weight(hb_cgroup *cg, double shares, hb_error *err)
{
    char buf[32];
    double s = shares < 2 ? 2 : (shares > 262144 ? 262144 : shares);
    if (cg->version == 1) {
        snprintf(buf, sizeof buf, "%ld", (long)(s + 0.5));
        return write_file(cpu_dir(cg), "cpu.shares", buf, err);
    }
    double w = s * 100.0 / 1024.0;
    snprintf(buf, sizeof buf, "%ld", (long)(w < 1 ? 1 : (w > 10000 ? 10000 : w + 0.5)));
    return write_file(cpu_dir(cg), "cpu.weight", buf, err);
}

int hb_cgroup_reset_peak(hb_cgroup *cg)
{
    hb_error ignored;
    if (cg->version != 1)
        return -1;
    return write_file(mem_dir(cg), "memory.max_usage_in_bytes", "0", &ignored) == HB_OK ? 0 : -1;
}

/* Moves pid into every hierarchy's group. */
static int move(const hb_cgroup *cg, pid_t pid, hb_error *err)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%d", (int)pid);
    for (int k = 0; k < cg->ndirs; k++) {
        int dup = 0;
        for (int j = 0; j < k; j++)
            dup |= strcmp(cg->dir[j], cg->dir[k]) == 0;
        if (!dup && write_file(cg->dir[k], "cgroup.procs", buf, err) != HB_OK)
            return HB_EIO;
    }
    return HB_OK;
}

int hb_cgroup_attach(hb_cgroup *cg, pid_t pid, hb_error *err)
{
    return move(cg, pid, err);
}

enum { STEP_MOVE = 1, STEP_FDS, STEP_EXEC, STEP_DIR, STEP_JOIN, STEP_USER };

/* In the forked child, before exec: writes its pid to every group's cgroup.procs with nothing but
 * open/write (async-signal-safe, so spawning from a threaded process is safe). Returns errno or 0. */
static int child_move(const hb_cgroup *cg)
{
    char num[24];
    int n = 0;
    for (long v = (long)getpid(); v > 0 && n < (int)sizeof num; v /= 10)
        num[sizeof num - 1 - n++] = (char)('0' + v % 10);
    const char *digits = num + sizeof num - n;
    for (int k = 0; k < cg->ndirs; k++) {
        int dup = 0;
        for (int j = 0; j < k; j++)
            dup |= strcmp(cg->dir[j], cg->dir[k]) == 0;
        if (dup)
            continue;
        char path[HB_CGROUP_PATH_MAX + 16];
        size_t dl = strlen(cg->dir[k]);
        if (dl + 14 > sizeof path)
            return ENAMETOOLONG;
        memcpy(path, cg->dir[k], dl);
        memcpy(path + dl, "/cgroup.procs", 14);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return errno;
        ssize_t w = write(fd, digits, (size_t)n);
        int e = errno;
        close(fd);
        if (w != n)
            return w < 0 ? e : EIO;
    }
    return 0;
}

int hb_cgroup_spawn(hb_cgroup *cg, char *const argv[], const hb_spawn_fds *fds, pid_t *pid,
                    hb_error *err)
{
    extern char **environ;
    return hb_cgroup_spawn_env(cg, argv, environ, NULL, fds, pid, err);
}

int hb_cgroup_spawn_env(const hb_cgroup *cg, char *const argv[], char *const envp[], const char *dir,
                        const hb_spawn_fds *fds, pid_t *pid, hb_error *err)
{
    return hb_cgroup_spawn_as(cg, NULL, argv, envp, dir, fds, pid, err);
}

int hb_cgroup_spawn_as(const hb_cgroup *cg, const hb_spawn_as *as, char *const argv[],
                       char *const envp[], const char *dir, const hb_spawn_fds *fds, pid_t *pid,
                       hb_error *err)
{
    int rep[2];
    if (pipe2(rep, O_CLOEXEC) != 0)
        return hb_fail(err, HB_EIO, "cgroup: pipe: %s", strerror(errno));
    pid_t c = fork();
    if (c < 0) {
        int e = errno;
        close(rep[0]);
        close(rep[1]);
        return hb_fail(err, HB_EIO, "cgroup: fork: %s", strerror(e));
    }
    if (c == 0) {
        int report[3] = {0, 0, 0};
        int wfd = fcntl(rep[1], F_DUPFD_CLOEXEC, 10);   /* out of the way of fds 0-3 */
        if (wfd < 0)
            wfd = rep[1];
        if (cg && (report[1] = child_move(cg)) != 0) {
            report[0] = STEP_MOVE;
            goto fail;
        }
        if (as && as->procs_fd >= 0 && write(as->procs_fd, "0", 1) != 1) {
            report[0] = STEP_JOIN;
            report[1] = errno;
            goto fail;
        }
        /* map the requested fds onto 0-3 via temporaries above 9 (sources may be 0-3 too) */
        int src[4] = {fds ? fds->in : -1, fds ? fds->out : -1, fds ? fds->err : -1,
                      fds ? fds->fd3 : -1};
        int tmp[4] = {-1, -1, -1, -1};
        for (int k = 0; k < 4; k++)
            if (src[k] >= 0 && (tmp[k] = fcntl(src[k], F_DUPFD, 10)) < 0) {
                report[0] = STEP_FDS;
                report[1] = errno;
                goto fail;
            }
        for (int k = 0; k < 4; k++)
            if (tmp[k] >= 0 && dup2(tmp[k], k) < 0) {
                report[0] = STEP_FDS;
                report[1] = errno;
                goto fail;
            }
        if (tmp[3] < 0)
            close(3);
        if (wfd > 4)                   /* close everything else but the report pipe */
            close_range(4, (unsigned)wfd - 1, 0);
        close_range((unsigned)wfd + 1, ~0U, 0);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;                 /* a caller's thread may block signals: the child does not */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* the user last: joining groups and the directory may need root */
        if (as && as->drop && (setgroups(0, NULL) != 0 || setgid(as->gid) != 0 ||
                               setuid(as->uid) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)) {
            report[0] = STEP_USER;
            report[1] = errno;
            goto fail;
        }
        if (dir && chdir(dir) != 0) {
            report[0] = STEP_DIR;
            report[1] = errno;
            goto fail;
        }
        execve(argv[0], argv, envp);
        report[0] = STEP_EXEC;
        report[1] = errno;
    fail:
        if (write(wfd, report, sizeof report) < 0)
            _exit(126);
        _exit(127);
    }
    close(rep[1]);
    int report[3];
    ssize_t n;
    do
        n = read(rep[0], report, sizeof report);
    while (n < 0 && errno == EINTR);
    close(rep[0]);
    if (n == (ssize_t)sizeof report) {
        waitpid(c, NULL, 0);
        static const char *const step[] = {"", "moving it into the group", "setting up its fds",
                                           "exec", "changing to its directory",
                                           "joining its pids group", "changing its user"};
        return hb_fail(err, HB_EIO, "cgroup: spawning %s: %s: %s", argv[0],
                       step[report[0] >= 1 && report[0] <= 6 ? report[0] : 0], strerror(report[1]));
    }
    *pid = c;
    return HB_OK;
}

int hb_cgroup_usage_read(const hb_cgroup *cg, hb_cgroup_usage *u, hb_error *err)
{
    memset(u, 0, sizeof *u);
    u->mem_peak_bytes = -1;
    u->oom_kills = -1;
    if (cg->version == 1) {
        uint64_t peak;
        if (read_u64(acct_dir(cg), "cpuacct.usage", &u->cpu_ns) != 0 ||
            read_u64(mem_dir(cg), "memory.usage_in_bytes", &u->mem_bytes) != 0)
            return hb_fail(err, HB_EIO, "cgroup: cannot read the counters of %s", cg->name);
        if (read_u64(mem_dir(cg), "memory.max_usage_in_bytes", &peak) == 0)
            u->mem_peak_bytes = (int64_t)peak;
        if (read_keyed(mem_dir(cg), "memory.oom_control", "oom_kill", &u->oom_kills) != 0)
            u->oom_kills = -1;         /* before Linux 4.13: not reported */
        return HB_OK;
    }
    int64_t usec;
    uint64_t peak;
    if (read_keyed(cpu_dir(cg), "cpu.stat", "usage_usec", &usec) != 0 ||
        read_u64(mem_dir(cg), "memory.current", &u->mem_bytes) != 0)
        return hb_fail(err, HB_EIO, "cgroup: cannot read the counters of %s", cg->name);
    u->cpu_ns = (uint64_t)usec * 1000;
    if (read_u64(mem_dir(cg), "memory.peak", &peak) == 0)
        u->mem_peak_bytes = (int64_t)peak;
    if (read_keyed(mem_dir(cg), "memory.events", "oom_kill", &u->oom_kills) != 0)
        u->oom_kills = -1;             /* not reported */
    return HB_OK;
}

/* Kills the tasks of one directory; returns how many were still listed. */
static int kill_tasks(const char *dir)
{
    char buf[8192];
    if (read_file(dir, "cgroup.procs", buf, sizeof buf) != 0)
        return 0;
    int n = 0;
    for (char *p = buf; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        if (pid > 0 && pid != getpid()) {
            kill((pid_t)pid, SIGKILL);
            n++;
        }
        p = end;
        while (*p == '\n')
            p++;
    }
    return n;
}

/* Removes one group directory: first the groups nested in it, then its tasks, then itself. */
static int remove_one(const char *dir, hb_error *err)
{
    DIR *d = opendir(dir);
    int rc = HB_OK;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char sub[HB_CGROUP_PATH_MAX];
            int w = snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
            struct stat st;
            if (w < 0 || (size_t)w >= sizeof sub || (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN))
                continue;
            if (e->d_type == DT_UNKNOWN && (stat(sub, &st) != 0 || !S_ISDIR(st.st_mode)))
                continue;
            if (remove_one(sub, err) != HB_OK)
                rc = HB_EIO;
        }
        closedir(d);
    }
    if (rc != HB_OK)
        return rc;
    struct timespec pause = {0, 10 * 1000 * 1000};
    hb_error ignored;
    write_file(dir, "cgroup.kill", "1", &ignored);      /* v2 (5.14+): kills all at once */
    int left = 1;
    for (int tries = 0; tries < 200; tries++) {
        left = kill_tasks(dir);
        if (rmdir(dir) == 0 || errno == ENOENT)
            return HB_OK;
        nanosleep(&pause, NULL);
    }
    return hb_fail(err, HB_EIO, "cgroup: cannot remove %s: %s (%d task(s) left; an unreaped "
                   "child keeps it busy)", dir, strerror(errno), left);
}

static int remove_dirs(char (*dir)[HB_CGROUP_PATH_MAX], int ndirs, hb_error *err)
{
    for (int k = 0; k < ndirs; k++) {
        int dup = 0;
        for (int j = 0; j < k; j++)
            dup |= strcmp(dir[j], dir[k]) == 0;
        if (dup || access(dir[k], F_OK) != 0)
            continue;
        if (remove_one(dir[k], err) != HB_OK)
            return HB_EIO;
    }
    return HB_OK;
}

int hb_cgroup_remove(hb_cgroup *cg, hb_error *err)
{
    int rc = remove_dirs(cg->dir, cg->ndirs, err);
    if (rc == HB_OK)
        cg->ndirs = 0;
    return rc;
}

/* Is the process that made a group or directory (by the pid in its name) gone? EPERM: it runs
 * under another user, so it is not gone. */
static int owner_gone(long pid)
{
    if (pid <= 0 || pid == (long)getpid())
        return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* "harvestbench-<pid>-<n>" exactly; returns the pid or -1. */
static long group_owner(const char *name)
{
    int pid, n;
    char tail;
    if (sscanf(name, HB_CGROUP_PREFIX "%d-%d%c", &pid, &n, &tail) != 2 || pid <= 0 || n < 0)
        return -1;
    return pid;
}

static int is_dir(const char *parent, const struct dirent *e, char *path, size_t len)
{
    int w = snprintf(path, len, "%s/%s", parent, e->d_name);
    if (w < 0 || (size_t)w >= len || e->d_name[0] == '.')
        return 0;
    if (e->d_type == DT_DIR)
        return 1;
    struct stat st;
    return e->d_type == DT_UNKNOWN && lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Counts the group directories under (and including) dir, for the report. */
static int count_groups(const char *dir, int depth)
{
    int n = 1;
    DIR *d = depth < 64 ? opendir(dir) : NULL;
    if (!d)
        return n;
    struct dirent *e;
    char sub[HB_CGROUP_PATH_MAX];
    while ((e = readdir(d)) != NULL)
        if (is_dir(dir, e, sub, sizeof sub))
            n += count_groups(sub, depth + 1);
    closedir(d);
    return n;
}

/* Walks one hierarchy from dir down: a group named for a process that is gone is emptied (its
 * tasks killed) and removed with everything nested in it, deepest first; any other directory is
 * searched, since groups are made under the creator's *current* group, which differs between
 * sessions (a process started elsewhere leaves its groups elsewhere). */
static int sweep_tree(const char *dir, int depth, int *removed, hb_error *err)
{
    DIR *d = depth < 64 ? opendir(dir) : NULL;
    if (!d)
        return HB_OK;
    int rc = HB_OK;
    struct dirent *e;
    char sub[HB_CGROUP_PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (!is_dir(dir, e, sub, sizeof sub))
            continue;
        if (owner_gone(group_owner(e->d_name))) {
            int n = count_groups(sub, 0);
            if (remove_one(sub, err) != HB_OK)
                rc = HB_EIO;
            else
                *removed += n;
        } else if (sweep_tree(sub, depth + 1, removed, err) != HB_OK) {
            rc = HB_EIO;
        }
    }
    closedir(d);
    return rc;
}

int hb_cgroup_sweep(int *removed, hb_error *err)
{
    int version;
    char why[512];
    if (removed)
        *removed = 0;
    if (!hb_cgroup_probe(&version, why, sizeof why))
        return hb_fail(err, HB_EIO, "cgroup: %s", why);
    char mnt[256], root[256];
    int rc = HB_OK, most = 0;
    if (version == 1) {
        /* every hierarchy a group may live in (pids too, for groups that limit processes); a
         * group spans several, so the count is the largest of theirs */
        static const char *const ctrl[] = {"cpu", "cpuacct", "memory", "pids"};
        char seen[4][256];
        for (int k = 0; k < 4; k++) {
            int n = 0, dup = 0;
            if (find_mount("cgroup", ctrl[k], mnt, sizeof mnt, root, sizeof root) != 0)
                continue;
            snprintf(seen[k], sizeof seen[k], "%s", mnt);
            for (int j = 0; j < k; j++)
                dup |= strcmp(seen[j], mnt) == 0;
            if (dup)
                continue;              /* co-mounted cpu,cpuacct */
            if (sweep_tree(mnt, 0, &n, err) != HB_OK)
                rc = HB_EIO;
            most = n > most ? n : most;
        }
    } else if (find_mount("cgroup2", NULL, mnt, sizeof mnt, root, sizeof root) == 0) {
        const char *env = getenv("HB_CGROUP_PARENT");
        rc = sweep_tree(env && *env ? env : mnt, 0, &most, err);
    }
    if (removed)
        *removed = most;
    return rc;
}

/* Action directories: "harvestbench-local.<pid>.XXXXXX" under $TMPDIR and /tmp. */
static int sweep_work_dirs(const char *base, int *removed)
{
    DIR *d = opendir(base);
    if (!d)
        return 0;
    int failed = 0;
    struct dirent *e;
    char path[HB_CGROUP_PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        long pid;
        char tail[16];
        if (sscanf(e->d_name, HB_WORK_DIR_PREFIX "%ld.%15s", &pid, tail) != 2 ||
            !is_dir(base, e, path, sizeof path) || !owner_gone(pid))
            continue;
        if (hb_remove_tree(path) != 0)
            failed++;
        else
            (*removed)++;
    }
    closedir(d);
    return failed;
}

int hb_cgroup_sweep_stale(const char *who)
{
    int groups = 0, dirs = 0, version;
    char why[512];
    hb_error err;
    if (hb_cgroup_probe(&version, why, sizeof why) && hb_cgroup_sweep(&groups, &err) != HB_OK)
        fprintf(stderr, "harvestbench %s: warning: cleaning up stale groups: %s\n", who, err.msg);
    const char *tmp = getenv("TMPDIR");
    int failed = 0;
    if (tmp && *tmp && strcmp(tmp, "/tmp") != 0)
        failed += sweep_work_dirs(tmp, &dirs);
    failed += sweep_work_dirs("/tmp", &dirs);
    if (failed)
        fprintf(stderr, "harvestbench %s: warning: %d stale action directory(ies) could not be "
                "removed\n", who, failed);
    if (groups || dirs)
        fprintf(stderr, "harvestbench %s: removed %d cgroup(s) and %d action directory(ies) left "
                "by harvestbench processes that no longer run\n", who, groups, dirs);
    return groups + dirs;
}
