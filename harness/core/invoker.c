/* invoker.c - the invoker handle policies use (hb_policy.h), dispatched to its backend. */
#include "hb_backend.h"

int hb_invoker_id(const hb_invoker *iv) { return iv->id; }
hb_time hb_invoker_now(const hb_invoker *iv) { return iv->ops->now(iv->impl); }
hb_res hb_invoker_capacity(const hb_invoker *iv) { return iv->capacity; }

int hb_invoker_resize(hb_invoker *iv, hb_invocation *inv, hb_res alloc, hb_error *err)
{
    if (!iv->ops->resize)
        return hb_fail(err, HB_ERUN, "this backend cannot resize a running call");
    return iv->ops->resize(iv->impl, inv, alloc, err);
}

size_t hb_invoker_running(hb_invoker *iv, hb_invocation *const **out)
{
    return iv->ops->running(iv->impl, out);
}
