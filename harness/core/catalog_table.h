/* catalog_table.h - the catalogue of benchmark functions (hb_functions) as a table for people. */
#ifndef HB_CATALOG_TABLE_H
#define HB_CATALOG_TABLE_H

#include <stdio.h>

/* One line per function: id, name, the artifact's user CPU and memory, its worker count, the
 * input-size range of random traces, the size of its demo traces, and what it computes. */
void hb_catalog_print(FILE *out);

#endif
