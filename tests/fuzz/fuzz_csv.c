/* fuzz_csv.c - the CSV reader every trace, profile and result reader is built on (csv_reader.h).
 *
 * The input is read twice, from memory (hb_csv_open_mem) and from a file (hb_csv_open): both must
 * give the same rows, fields, line numbers and verdict. The first row is taken as the header; each
 * field of every row goes through the typed accessors (their verdict must match hb_parse_*). */
#include "fuzz_util.h"

#include "csv_reader.h"

static void rows_equal(hb_csv *a, hb_csv *b)
{
    FUZZ_REQUIRE(hb_csv_nfields(a) == hb_csv_nfields(b));
    FUZZ_REQUIRE(hb_csv_line(a) == hb_csv_line(b));
    for (size_t i = 0; i < hb_csv_nfields(a); i++)
        FUZZ_REQUIRE(strcmp(hb_csv_field(a, i), hb_csv_field(b, i)) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(0, data, size);
    if (!path)
        return 0;
    hb_csv *m = NULL, *f = NULL;
    hb_error em = {0}, ef = {0};
    int rc = hb_csv_open_mem((const char *)data, size, "fuzz.csv", &m, &em);
    fuzz_check_error(rc, &em);
    if (rc)
        return 0;
    rc = hb_csv_open(path, &f, &ef);
    fuzz_check_error(rc, &ef);
    if (rc) {
        hb_csv_close(m);
        return 0;
    }
    long rows = 0;
    for (;;) {
        int rm = hb_csv_next(m, &em), rf = hb_csv_next(f, &ef);
        FUZZ_REQUIRE(rm == rf);
        if (rm < 0) {
            fuzz_check_error(-rm, &em);
            fuzz_check_error(-rf, &ef);
            break;
        }
        if (rm == 0)
            break;
        rows_equal(m, f);
        if (rows++ == 0) {
            rc = hb_csv_take_header(m, &em);
            fuzz_check_error(rc, &em);
            if (rc)
                break;
            for (size_t i = 0; i < hb_csv_nfields(m); i++)
                FUZZ_REQUIRE(hb_csv_col(m, hb_csv_colname(m, i)) >= 0);
            continue;
        }
        /* one past the end too: a missing field is an error, not a read out of bounds */
        for (size_t i = 0; i <= hb_csv_nfields(m); i++) {
            double d;
            int64_t v;
            hb_error e2 = {0};
            int rd = hb_csv_double(m, i, NULL, &d, &e2);
            fuzz_check_error(rd, &e2);
            FUZZ_REQUIRE((rd == 0) == (i < hb_csv_nfields(m) && hb_parse_double(hb_csv_field(m, i), &d) == 0));
            int ri = hb_csv_int64(m, i, i % 2 ? "what" : NULL, &v, &e2);
            fuzz_check_error(ri, &e2);
            FUZZ_REQUIRE((ri == 0) == (i < hb_csv_nfields(m) && hb_parse_int64(hb_csv_field(m, i), &v) == 0));
        }
    }
    hb_csv_close(m);
    hb_csv_close(f);
    return 0;
}
