/* version.c - see version.h. The Makefile rebuilds this file whenever the commit changes. */
#include "version.h"

#ifndef HB_VERSION
#define HB_VERSION "0.0.0"
#endif
#ifndef HB_GIT_COMMIT
#define HB_GIT_COMMIT "unknown"
#endif

const char *hb_version(void) { return HB_VERSION; }
const char *hb_git_commit(void) { return HB_GIT_COMMIT; }
