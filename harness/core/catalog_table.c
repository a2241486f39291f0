/* catalog_table.c - the catalogue as a table (catalog_table.h; `harvestbench workloads list`). */
#include "catalog_table.h"

#include "hb_types.h"

void hb_catalog_print(FILE *out)
{
    fprintf(out, "%-4s %-22s %4s %7s %8s %15s %8s  %s\n", "id", "name", "cpu", "mem_mb", "parallel",
            "sizes", "demo", "description");
    for (int i = 0; i < HB_NWORKLOADS; i++) {
        const hb_function *f = &hb_functions[i];
        char range[40];
        snprintf(range, sizeof range, "%lld-%lld", (long long)(f->size_base * f->size_lo),
                 (long long)(f->size_base * (f->size_hi - 1)));
        fprintf(out, "%-4s %-22s %4d %7d %8d %15s %8lld  %s\n", f->id, f->name, f->user_cpu,
                f->user_mem_units * HB_MEM_UNIT_MB, f->parallel, range, (long long)f->size_multi,
                f->description);
    }
}
