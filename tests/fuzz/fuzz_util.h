/* fuzz_util.h - helpers shared by the libFuzzer targets (docs/fuzzing.md).
 *
 * The readers under test open paths, so an input is handed to them as a file: one memfd per slot,
 * rewritten for each input and opened through /proc/self/fd/N (no file is left behind, even after
 * a crash). Inputs that stand for several files are split on a separator line (FUZZ_SEP); the seed
 * corpus and the dictionaries use the same separator. */
#ifndef HB_FUZZ_UTIL_H
#define HB_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hb_error.h"

#define FUZZ_SEP "\n%%\n"
#define FUZZ_MAX_PARTS 8

/* A failure the target detected itself (a broken contract, not a sanitizer report): abort, so
 * libFuzzer saves the input. */
#define FUZZ_REQUIRE(cond)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz: %s:%d: requirement failed: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Every failure returns a known code and says why (hb_error.h); where messages are escaped
 * (hb_escape_ctl, issue 17: the Makefile then defines FUZZ_MESSAGES_ESCAPED), no control byte of
 * the input reaches one. */
static inline void fuzz_check_error(int rc, const hb_error *err)
{
    if (rc == 0)
        return;
    FUZZ_REQUIRE(rc == HB_EINPUT || rc == HB_ERUN || rc == HB_EIO || rc == HB_ENOMEM);
    FUZZ_REQUIRE(err->msg[0] != '\0');
#ifdef FUZZ_MESSAGES_ESCAPED
    for (const unsigned char *c = (const unsigned char *)err->msg; *c; c++)
        FUZZ_REQUIRE(*c >= 0x20 && *c != 0x7f);
#endif
}

typedef struct fuzz_part {
    const uint8_t *p;
    size_t n;
} fuzz_part;

/* Splits data on FUZZ_SEP into at most max parts; returns how many (at least 1). */
static inline size_t fuzz_split(const uint8_t *data, size_t size, fuzz_part *parts, size_t max)
{
    const size_t sl = sizeof FUZZ_SEP - 1;
    size_t n = 0, start = 0;
    for (size_t i = 0; n + 1 < max && i + sl <= size; i++)
        if (memcmp(data + i, FUZZ_SEP, sl) == 0) {
            parts[n].p = data + start;
            parts[n].n = i - start;
            n++;
            start = i + sl;
            i = start - 1;
        }
    parts[n].p = data + start;
    parts[n].n = size - start;
    return n + 1;
}

/* The path of a file holding exactly bytes [p, p+n): slot 0..FUZZ_MAX_PARTS-1. NULL if the memfd
 * cannot be made (then the target skips the input). */
static inline const char *fuzz_file(int slot, const uint8_t *p, size_t n)
{
    static int fds[FUZZ_MAX_PARTS];
    static char paths[FUZZ_MAX_PARTS][48];
    if (slot < 0 || slot >= FUZZ_MAX_PARTS)
        return NULL;
    if (fds[slot] <= 0) {
        char name[16];
        snprintf(name, sizeof name, "fuzz%d", slot);
        fds[slot] = memfd_create(name, MFD_CLOEXEC);
        if (fds[slot] < 0) {
            fds[slot] = 0;
            return NULL;
        }
        snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
    }
    if (ftruncate(fds[slot], 0) != 0)
        return NULL;
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fds[slot], p + done, n - done, (off_t)done);
        if (w <= 0)
            return NULL;
        done += (size_t)w;
    }
    return paths[slot];
}

/* A NUL-terminated copy (the caller frees it); NULL on allocation failure. */
static inline char *fuzz_strndup(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        if (n)
            memcpy(s, p, n);
        s[n] = '\0';
    }
    return s;
}

#endif
