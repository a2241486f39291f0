/* ow_base64.h - base64 (RFC 4648, standard alphabet, padded): how OpenWhisk carries an action's zip
 * in the "code" field of its exec. Hand-written: neither libcurl nor cJSON exports a codec. */
#ifndef HB_OW_BASE64_H
#define HB_OW_BASE64_H

#include <stddef.h>

/* Encodes n bytes into a new NUL-terminated string (the caller frees it); NULL when out of memory. */
char *ow_base64_encode(const unsigned char *in, size_t n);
/* Decodes text (whitespace is skipped; padding optional) into a new buffer of *n bytes (the caller
 * frees it). Returns NULL on a character outside the alphabet, bad padding, or out of memory. */
unsigned char *ow_base64_decode(const char *text, size_t len, size_t *n);

#endif
