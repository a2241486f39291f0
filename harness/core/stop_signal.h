/* stop_signal.h - stopping a long command cleanly on SIGINT or SIGTERM: the handler only sets a
 * flag, which the engine reads at its next event (hb_engine_spec.stop). */
#ifndef HB_STOP_SIGNAL_H
#define HB_STOP_SIGNAL_H

#include <signal.h>

typedef struct hb_stop_guard {
    struct sigaction old_int, old_term;
} hb_stop_guard;

/* Installs the handlers (the flag starts at 0) and returns the flag to poll. */
volatile sig_atomic_t *hb_stop_install(hb_stop_guard *g);
/* Puts the previous handlers back. */
void hb_stop_restore(hb_stop_guard *g);

#endif
