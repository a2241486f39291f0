/* csv_reader.c - see csv_reader.h. */
#include "csv_reader.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "dynbuf.h"

struct hb_csv {
    char name[512];
    gzFile f;                          /* file mode: zlib reads gzip and plain files alike */
    char *rd;                          /* file mode: what gzread gave, not yet taken as lines */
    size_t rd_pos, rd_len;
    int rd_err;                        /* file mode: gzread failed (its gzerror code) */
    const char *mem, *mem_end, *pos;   /* memory mode */
    hb_dynbuf line;                    /* the physical line being read */
    long lineno;
    struct csv_parser p;
    int eof;

    /* fields of the row being built */
    size_t nfields, cap_fields;
    hb_dynbuf fields;                  /* field storage: each field and its NUL */
    size_t *offs;
    int row_done;
    int oom;

    /* completed row */
    char **row;
    size_t row_n, row_cap;
    char *row_buf;
    size_t row_buf_cap;
    long row_line;

    char **header;
    size_t header_n;
};

static void on_field(void *s, size_t len, void *data)
{
    hb_csv *c = data;
    if (c->oom)
        return;
    size_t at = hb_dyn_len(&c->fields);
    if (HB_GROW(c->offs, c->cap_fields, c->nfields + 1) != HB_OK ||
        hb_dyn_addn(&c->fields, s, len) != HB_OK || hb_dyn_addn(&c->fields, "", 1) != HB_OK) {
        c->oom = 1;
        return;
    }
    c->offs[c->nfields++] = at;
}

static void on_row(int term, void *data)
{
    (void)term;
    hb_csv *c = data;
    c->row_done = 1;
}

static int reader_init(hb_csv *c, const char *name, hb_error *err)
{
    snprintf(c->name, sizeof c->name, "%s", name);
    hb_dyn_init(&c->line, HB_DYN_UNLIMITED);
    hb_dyn_init(&c->fields, HB_DYN_UNLIMITED);
    if (csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return hb_fail(err, HB_ENOMEM, "%s: cannot initialise the CSV parser", name);
    return 0;
}

int hb_csv_open(const char *path, hb_csv **out, hb_error *err)
{
    *out = NULL;
    hb_csv *c = calloc(1, sizeof *c);
    if (!c)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    c->f = gzopen(path, "rb");
    if (!c->f) {
        int e = errno ? errno : ENOMEM;
        free(c);
        return hb_fail(err, HB_EINPUT, "%s: cannot open: %s", path, strerror(e));
    }
    if (reader_init(c, path, err)) {
        gzclose(c->f);
        free(c);
        return err ? err->code : HB_ENOMEM;
    }
    *out = c;
    return 0;
}

int hb_csv_open_mem(const char *text, size_t len, const char *name, hb_csv **out, hb_error *err)
{
    *out = NULL;
    hb_csv *c = calloc(1, sizeof *c);
    if (!c)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    c->mem = c->pos = text;
    c->mem_end = text + len;
    if (reader_init(c, name, err)) {
        free(c);
        return err ? err->code : HB_ENOMEM;
    }
    *out = c;
    return 0;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void hb_csv_close(hb_csv *c)
{
    if (!c)
        return;
    if (c->f)
        gzclose(c->f);
    csv_free(&c->p);
    hb_dyn_free(&c->line);
    free(c->rd);
    free(c->offs);
    hb_dyn_free(&c->fields);
    free(c->row);
    free(c->row_buf);

    free_strv(c->header, c->header_n);
    free(c);
}

/* Next physical line into c->line; returns its length, or -1 at the end. */
static long next_line(hb_csv *c)
{
    if (c->f) {
        /* Lines are split here, not by gzgets: gzgets returns a C string, so a NUL byte inside a
         * line would silently cut it (found by fuzzing: memory and file reads disagreed). */
        enum { CHUNK = 65536 };
        if (!c->rd && !(c->rd = malloc(CHUNK)))
            return -2;
        hb_dyn_reset(&c->line);
        for (;;) {
            if (c->rd_pos == c->rd_len) {
                int got = c->rd_err ? -1 : gzread(c->f, c->rd, CHUNK);
                /* at the end too: a gzip stream cut short ends with Z_BUF_ERROR, not -1 */
                if (got <= 0 && !c->rd_err)
                    gzerror(c->f, &c->rd_err);
                if (got <= 0)
                    break;
                c->rd_pos = 0;
                c->rd_len = (size_t)got;
            }
            const char *from = c->rd + c->rd_pos;
            size_t avail = c->rd_len - c->rd_pos;
            const char *nl = memchr(from, '\n', avail);
            size_t take = nl ? (size_t)(nl - from) + 1 : avail;
            if (hb_dyn_addn(&c->line, from, take) != HB_OK)
                return -2;
            c->rd_pos += take;
            if (nl)
                break;
        }
        if (hb_dyn_len(&c->line) == 0) {
            int e = c->rd_err;
            return e == Z_OK || e == Z_STREAM_END ? -1 : e == Z_ERRNO ? -4 : -3;
        }
        return (long)hb_dyn_len(&c->line);
    }
    if (c->pos >= c->mem_end)
        return -1;
    const char *nl = memchr(c->pos, '\n', (size_t)(c->mem_end - c->pos));
    size_t n = nl ? (size_t)(nl - c->pos) + 1 : (size_t)(c->mem_end - c->pos);
    hb_dyn_reset(&c->line);
    if (hb_dyn_addn(&c->line, c->pos, n) != HB_OK)
        return -2;
    c->pos += n;
    return (long)n;
}

/* Moves the fields collected so far into the completed row. */
static int publish_row(hb_csv *c, hb_error *err)
{
    size_t len = hb_dyn_len(&c->fields);
    if (HB_GROW(c->row, c->row_cap, c->nfields) != HB_OK ||
        HB_GROW(c->row_buf, c->row_buf_cap, len) != HB_OK)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    if (len)
        memcpy(c->row_buf, c->fields.buf, len);
    for (size_t i = 0; i < c->nfields; i++)
        c->row[i] = c->row_buf + c->offs[i];
    c->row_n = c->nfields;
    c->row_line = c->lineno;
    c->nfields = 0;
    hb_dyn_reset(&c->fields);
    c->row_done = 0;
    return 0;
}

static int row_is_blank(const hb_csv *c)
{
    for (size_t i = 0; i < c->nfields; i++)
        if (c->fields.buf[c->offs[i]] != '\0')
            return 0;
    return 1;
}

int hb_csv_next(hb_csv *c, hb_error *err)
{
    for (;;) {
        if (c->eof)
            return 0;
        long n = next_line(c);
        if (n == -2)
            return -hb_fail(err, HB_ENOMEM, "out of memory");
        if (n == -3)
            return -hb_fail_at(err, HB_EINPUT, c->name, c->lineno + 1, NULL,
                               "cannot decompress: a truncated or corrupt gzip file");
        if (n == -4)
            return -hb_fail_at(err, HB_EINPUT, c->name, c->lineno + 1, NULL, "cannot read: %s",
                               strerror(errno));
        if (n < 0) {
            c->eof = 1;
            if (csv_fini(&c->p, on_field, on_row, c) != 0)
                return -hb_fail_at(err, HB_EINPUT, c->name, c->lineno, NULL,
                                   "malformed CSV at the end of the file: %s",
                                   csv_strerror(csv_error(&c->p)));
        } else {
            c->lineno++;
            if (memchr(c->line.buf, '\0', (size_t)n))
                return -hb_fail_at(err, HB_EINPUT, c->name, c->lineno, NULL,
                                   "a NUL byte: this is not a text CSV file");
            if (csv_parse(&c->p, c->line.buf, (size_t)n, on_field, on_row, c) != (size_t)n)
                return -hb_fail_at(err, HB_EINPUT, c->name, c->lineno, NULL, "malformed CSV: %s",
                                   csv_strerror(csv_error(&c->p)));
        }
        if (c->oom)
            return -hb_fail(err, HB_ENOMEM, "out of memory");
        if (c->row_done) {
            if (row_is_blank(c)) {
                c->nfields = 0;
                hb_dyn_reset(&c->fields);
                c->row_done = 0;
                continue;
            }
            int rc = publish_row(c, err);
            return rc ? -rc : 1;
        }
    }
}

size_t hb_csv_nfields(const hb_csv *c) { return c->row_n; }
const char *hb_csv_field(const hb_csv *c, size_t i) { return i < c->row_n ? c->row[i] : ""; }
long hb_csv_line(const hb_csv *c) { return c->row_line; }
const char *hb_csv_name(const hb_csv *c) { return c->name; }

int hb_csv_take_header(hb_csv *c, hb_error *err)
{
    free_strv(c->header, c->header_n);
    c->header = calloc(c->row_n ? c->row_n : 1, sizeof *c->header);
    c->header_n = 0;
    if (!c->header)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    for (size_t i = 0; i < c->row_n; i++) {
        /* trim spaces around names: some writers put a blank after each comma */
        const char *s = c->row[i];
        while (*s == ' ')
            s++;
        size_t len = strlen(s);
        while (len && s[len - 1] == ' ')
            len--;
        c->header[i] = strndup(s, len);
        if (!c->header[i])
            return hb_fail(err, HB_ENOMEM, "out of memory");
        c->header_n++;
    }
    return 0;
}

size_t hb_csv_ncols(const hb_csv *c) { return c->header_n; }

int hb_csv_col(const hb_csv *c, const char *name)
{
    for (size_t i = 0; i < c->header_n; i++)
        if (strcmp(c->header[i], name) == 0)
            return (int)i;
    return -1;
}

const char *hb_csv_colname(const hb_csv *c, size_t i)
{
    return i < c->header_n ? c->header[i] : "";
}

int hb_parse_double(const char *s, double *out)
{
    while (*s == ' ')
        s++;
    if (*s == '\0')
        return -1;
    if (strcasecmp(s, "inf") == 0 || strcasecmp(s, "+inf") == 0) {
        *out = INFINITY;
        return 0;
    }
    if (strcasecmp(s, "-inf") == 0) {
        *out = -INFINITY;
        return 0;
    }
    if (strpbrk(s, "xX"))               /* strtod reads hex floats: a number here is decimal */
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    if (*end != '\0' || errno == ERANGE || isnan(v) || isinf(v))
        return -1;
    *out = v;
    return 0;
}

int hb_parse_int64(const char *s, int64_t *out)
{
    while (*s == ' ')
        s++;
    if (*s == '\0')
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    /* accept integral decimals such as "3.0", which some writers produce */
    if (*end == '.') {
        const char *q = end + 1;
        while (*q == '0')
            q++;
        end = (char *)q;
    }
    while (*end == ' ')
        end++;
    if (*end != '\0' || errno == ERANGE)
        return -1;
    *out = (int64_t)v;
    return 0;
}

static const char *field_name(const hb_csv *c, size_t i, const char *what, char *buf, size_t n)
{
    if (what)
        return what;
    if (i < c->header_n)
        return c->header[i];
    snprintf(buf, n, "column %zu", i + 1);
    return buf;
}

int hb_csv_double(const hb_csv *c, size_t i, const char *what, double *out, hb_error *err)
{
    char nb[32];
    const char *s = hb_csv_field(c, i);
    if (i >= c->row_n)
        return hb_fail_at(err, HB_EINPUT, c->name, c->row_line, field_name(c, i, what, nb, sizeof nb),
                          "missing field (the row has %zu)", c->row_n);
    if (hb_parse_double(s, out))
        return hb_fail_at(err, HB_EINPUT, c->name, c->row_line, field_name(c, i, what, nb, sizeof nb),
                          "'%s' is not a number", s);
    return 0;
}

int hb_csv_int64(const hb_csv *c, size_t i, const char *what, int64_t *out, hb_error *err)
{
    char nb[32];
    const char *s = hb_csv_field(c, i);
    if (i >= c->row_n)
        return hb_fail_at(err, HB_EINPUT, c->name, c->row_line, field_name(c, i, what, nb, sizeof nb),
                          "missing field (the row has %zu)", c->row_n);
    if (hb_parse_int64(s, out))
        return hb_fail_at(err, HB_EINPUT, c->name, c->row_line, field_name(c, i, what, nb, sizeof nb),
                          "'%s' is not an integer", s);
    return 0;
}
