/* ow_base64.c - see ow_base64.h. */
#include "ow_base64.h"

#include <stdint.h>
#include <stdlib.h>

static const char ALPHA[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *ow_base64_encode(const unsigned char *in, size_t n)
{
    size_t out_len = (n + 2) / 3 * 4;
    char *out = malloc(out_len + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *o++ = ALPHA[v >> 18 & 63];
        *o++ = ALPHA[v >> 12 & 63];
        *o++ = ALPHA[v >> 6 & 63];
        *o++ = ALPHA[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *o++ = ALPHA[v >> 18 & 63];
        *o++ = ALPHA[v >> 12 & 63];
        *o++ = i + 1 < n ? ALPHA[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

unsigned char *ow_base64_decode(const char *text, size_t len, size_t *n)
{
    unsigned char *out = malloc(len / 4 * 3 + 3), *o = out;
    if (!out)
        return NULL;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
            continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = value_of(c);
        if (v < 0 || pad) {            /* a character after padding is malformed too */
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (unsigned char)(acc >> bits & 0xff);
        }
    }
    /* leftover bits must be zero padding of a 2- or 3-character final group */
    if (bits >= 6 || pad > 2 || (acc & ((1u << bits) - 1)) != 0) {
        free(out);
        return NULL;
    }
    *n = (size_t)(o - out);
    return out;
}
