/* backends.c - the table of backends. */
#include <string.h>

#include "registry.h"

extern const hb_backend_ops hb_backend_sim;
extern const hb_backend_ops hb_backend_local;
extern const hb_backend_ops hb_backend_openwhisk;

const hb_backend_ops *const hb_backend_table[] = {
    &hb_backend_sim,
    &hb_backend_local,
    &hb_backend_openwhisk,
    NULL,
};

const hb_backend_ops *hb_backend_find(const char *name)
{
    for (int i = 0; hb_backend_table[i]; i++)
        if (strcmp(hb_backend_table[i]->name, name) == 0)
            return hb_backend_table[i];
    return NULL;
}
