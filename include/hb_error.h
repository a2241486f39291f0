/* hb_error.h - error reporting shared by every module.
 *
 * A failing function returns a non-zero code and fills an hb_error whose message names where the
 * problem is: "FILE:LINE: FIELD: what is wrong". Nothing aborts on bad input. */
#ifndef HB_ERROR_H
#define HB_ERROR_H

#include <stddef.h>

enum {
    HB_OK = 0,
    HB_EINPUT = 2,   /* bad input (config, trace, flag, record): exit status 2 */
    HB_ERUN = 1,     /* a run or check that failed: exit status 1 */
    HB_EIO = 3,      /* a file or system call failed */
    HB_ENOMEM = 4,   /* out of memory */
    HB_EINTR = 5,    /* stopped by a signal */
};

#define HB_ERRMSG_MAX 1024

/* Marks a function whose failure must not be dropped: ignoring its result is a compile error under
 * -Werror (a (void) cast does not silence it; handle the code or say in a branch why not). */
#define HB_WARN_UNUSED __attribute__((warn_unused_result))

typedef struct hb_error {
    int code;
    char msg[HB_ERRMSG_MAX];
} hb_error;

/* Sets err (if not NULL) and returns code, so callers can write `return hb_fail(err, ...)`. */
int hb_fail(hb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As hb_fail, with the location prefix "file:line: field: " (line 0 and NULL field are left out). */
int hb_fail_at(hb_error *err, int code, const char *file, long line, const char *field,
               const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Prepends "prefix: " to an existing message (for adding context on the way up). */
int hb_error_wrap(hb_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void hb_error_clear(hb_error *err);

/* Copies src into dst (len bytes, always terminated, truncated if needed) with every control byte
 * (0x00-0x1f, 0x7f) written as \xNN, so text from input cannot act on a terminal or forge log lines.
 * hb_fail, hb_fail_at and hb_error_wrap apply it to every message. Returns the length written. */
size_t hb_escape_ctl(char *dst, size_t len, const char *src);

/* The process exit status for an error code: 0, 1 or 2 (BRIEF section 8). */
int hb_exit_status(int code);

#endif
