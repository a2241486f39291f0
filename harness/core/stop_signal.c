/* stop_signal.c - see stop_signal.h. The flag is the one piece of process-wide state: a signal can
 * only reach the program through a global. */
#include "stop_signal.h"

#include <string.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

volatile sig_atomic_t *hb_stop_install(hb_stop_guard *g)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &g->old_int);
    sigaction(SIGTERM, &sa, &g->old_term);
    return &g_stop;
}

void hb_stop_restore(hb_stop_guard *g)
{
    sigaction(SIGINT, &g->old_int, NULL);
    sigaction(SIGTERM, &g->old_term, NULL);
}
