/* csv_reader.h - row-at-a-time CSV reading on libcsv, with the line number of every row and
 * typed field accessors whose errors name "file:line: column".
 *
 * libcsv parses; this module only feeds it one line at a time so that each row knows the line it
 * ended on, and collects the fields of a row. */
#ifndef HB_CSV_READER_H
#define HB_CSV_READER_H

#include <stddef.h>
#include <stdint.h>

#include "hb_error.h"

typedef struct hb_csv hb_csv;

int hb_csv_open(const char *path, hb_csv **out, hb_error *err);
/* Reads from memory (not copied: text must outlive the reader). name is used in messages. */
int hb_csv_open_mem(const char *text, size_t len, const char *name, hb_csv **out, hb_error *err);
void hb_csv_close(hb_csv *c);

/* Next row: 1 when a row is ready, 0 at the end, negative (an HB_ code, negated) on error. Rows made
 * only of empty fields are skipped. */
int hb_csv_next(hb_csv *c, hb_error *err);

size_t hb_csv_nfields(const hb_csv *c);
const char *hb_csv_field(const hb_csv *c, size_t i);   /* "" past the end */
long hb_csv_line(const hb_csv *c);                     /* line the current row ended on */
const char *hb_csv_name(const hb_csv *c);

/* Column names: call after reading the header row; hb_csv_col returns the index or -1. */
int hb_csv_take_header(hb_csv *c, hb_error *err);
int hb_csv_col(const hb_csv *c, const char *name);
size_t hb_csv_ncols(const hb_csv *c);                  /* columns of the header taken */
const char *hb_csv_colname(const hb_csv *c, size_t i);

/* Typed fields of the current row. `what` names the field in messages (a column name).
 * Empty fields are errors unless allow_empty (then *present = 0). */
int hb_csv_double(const hb_csv *c, size_t i, const char *what, double *out, hb_error *err);
int hb_csv_int64(const hb_csv *c, size_t i, const char *what, int64_t *out, hb_error *err);

/* Strict number parsing shared with other readers: the whole string must be a number.
 * Accepts "inf", "-inf" for doubles. Returns 0 on success. */
int hb_parse_double(const char *s, double *out);
int hb_parse_int64(const char *s, int64_t *out);

#endif
