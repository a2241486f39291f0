/* workload_bin.c - the workload binaries next to this program (workload_bin.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "local/workload_bin.h"

int hb_workload_path(const char *id, char *path, size_t len, hb_error *err)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return hb_fail(err, HB_ERUN, "cannot find this executable (/proc/self/exe): %s",
                       strerror(errno));
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    int w = snprintf(path, len, "%.3900s/workloads/%.16s", exe, id);
    if (w < 0 || (size_t)w >= len)
        return hb_fail(err, HB_ERUN, "the path of %s is too long", id);
    if (access(path, X_OK) != 0)
        return hb_fail(err, HB_ERUN, "%s: %s (build the workloads with `make`)", path,
                       strerror(errno));
    return HB_OK;
}

int hb_workload_exec_wait(const char *who, char *const argv[], int *status, hb_error *err)
{
    fflush(stdout);                    /* the child shares stdout: what we printed goes first */
    pid_t pid = fork();
    if (pid < 0)
        return hb_fail(err, HB_ERUN, "fork: %s", strerror(errno));
    if (pid == 0) {
        execv(argv[0], argv);
        fprintf(stderr, "%s: exec %s: %s\n", who, argv[0], strerror(errno));
        _exit(1);
    }
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    return HB_OK;
}
