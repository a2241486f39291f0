/* libra.h - the Libra policies and their test hooks. */
#ifndef HB_LIBRA_H
#define HB_LIBRA_H

#include "hb_policy.h"

extern const hb_policy_ops hb_policy_libra;
extern const hb_policy_ops hb_policy_libra_np;

/* Checks, on one invoker, that what lenders hold below their user allocation equals what is lent
 * plus what sits in the pool, and that what borrowers hold above theirs equals what is lent. */
int hb_libra_audit(void *state, hb_invoker *iv, hb_error *err);
/* Checks that every pool is empty and no loan or call is left (after a run). */
int hb_libra_empty(void *state, hb_error *err);

#endif
