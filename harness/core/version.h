/* version.h - the version and the git commit the binary was built from (set by the Makefile). */
#ifndef HB_VERSION_H
#define HB_VERSION_H

const char *hb_version(void);
const char *hb_git_commit(void);

#endif
