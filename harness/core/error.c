/* error.c - filling hb_error messages with their location. */
#include "hb_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

size_t hb_escape_ctl(char *dst, size_t len, const char *src)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    if (!len)
        return 0;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            if (o + 4 >= len)
                break;
            dst[o++] = '\\';
            dst[o++] = 'x';
            dst[o++] = hex[*p >> 4];
            dst[o++] = hex[*p & 15];
        } else {
            if (o + 1 >= len)
                break;
            dst[o++] = (char)*p;
        }
    }
    dst[o] = '\0';
    return o;
}

/* Messages quote input (names, values, lines): a control byte in it must not reach a terminal or
 * a log raw, so every message is escaped once it is formatted. */
static void escape_msg(hb_error *err)
{
    char raw[HB_ERRMSG_MAX];
    memcpy(raw, err->msg, sizeof raw);
    raw[sizeof raw - 1] = '\0';
    hb_escape_ctl(err->msg, sizeof err->msg, raw);
}

static int vfail(hb_error *err, int code, const char *prefix, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    size_t n = 0;
    if (prefix) {
        n = strlen(prefix);
        if (n >= sizeof err->msg)
            n = sizeof err->msg - 1;
        memcpy(err->msg, prefix, n);
        err->msg[n] = '\0';
    }
    vsnprintf(err->msg + n, sizeof err->msg - n, fmt, ap);
    escape_msg(err);
    return code;
}

int hb_fail(hb_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

int hb_fail_at(hb_error *err, int code, const char *file, long line, const char *field,
               const char *fmt, ...)
{
    char prefix[512];
    int n = 0;
    prefix[0] = '\0';
    if (file && line > 0)
        n = snprintf(prefix, sizeof prefix, "%s:%ld: ", file, line);
    else if (file)
        n = snprintf(prefix, sizeof prefix, "%s: ", file);
    if (field && n >= 0 && (size_t)n < sizeof prefix)
        snprintf(prefix + n, sizeof prefix - (size_t)n, "%s: ", field);
    va_list ap;
    va_start(ap, fmt);
    vfail(err, code, prefix, fmt, ap);
    va_end(ap);
    return code;
}

int hb_error_wrap(hb_error *err, const char *fmt, ...)
{
    if (!err)
        return HB_ERUN;
    char old[HB_ERRMSG_MAX];
    memcpy(old, err->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n + 2 < sizeof err->msg) {
        size_t room = sizeof err->msg - (size_t)n - 2;
        size_t len = strlen(old);
        if (len > room)
            len = room;
        memcpy(err->msg + n, ": ", 2);
        memcpy(err->msg + n + 2, old, len);
        err->msg[(size_t)n + 2 + len] = '\0';
    }
    escape_msg(err);
    return err->code;
}

void hb_error_clear(hb_error *err)
{
    if (err) {
        err->code = HB_OK;
        err->msg[0] = '\0';
    }
}

int hb_exit_status(int code)
{
    switch (code) {
    case HB_OK:
        return 0;
    case HB_EINPUT:
        return 2;
    default:
        return 1;
    }
}
