/* idle_conns.c - holds N connections to 127.0.0.1:PORT for SECONDS: half idle, half sending the
 * first lines of a request and never finishing it (a slow client); one the server closes is opened
 * again. Prints "holding N" once they are open, "reopened K" at the end. Loopback only: a test
 * tool for tests/e2e/openwhisk.sh and tests/soak/soak.sh (issue 17: idle connections).
 * usage: idle_conns PORT N SECONDS */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char PARTIAL[] = "POST /api/v1/namespaces/_/actions/x HTTP/1.1\r\nHost: x\r\n";

static int open_one(int port, int slow)
{
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        (slow && send(fd, PARTIAL, sizeof PARTIAL - 1, MSG_NOSIGNAL) < 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: idle_conns PORT N SECONDS\n");
        return 2;
    }
    int port = atoi(argv[1]), n = atoi(argv[2]);
    double secs = atof(argv[3]);
    if (port <= 0 || n <= 0 || n > 100000)
        return 2;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int *fd = calloc((size_t)n, sizeof *fd);
    if (!fd)
        return 1;
    int open_n = 0;
    for (int i = 0; i < n; i++)
        open_n += (fd[i] = open_one(port, i % 2)) >= 0;
    printf("holding %d\n", open_n);
    fflush(stdout);
    long reopened = 0;
    time_t end = time(NULL) + (time_t)secs;
    while (time(NULL) < end) {
        sleep(1);
        for (int i = 0; i < n; i++) {
            char b;
            if (fd[i] >= 0) {
                ssize_t r = recv(fd[i], &b, 1, MSG_DONTWAIT);
                if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                    continue;          /* still held */
                close(fd[i]);
            }
            if ((fd[i] = open_one(port, i % 2)) >= 0)
                reopened++;
        }
    }
    for (int i = 0; i < n; i++)
        if (fd[i] >= 0)
            close(fd[i]);
    free(fd);
    printf("reopened %ld\n", reopened);
    return 0;
}
