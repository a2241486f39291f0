/* trace_azure2021.h - the Azure Functions 2021 invocation trace (`[trace] format = azure2021`,
 * docs/traces.md): one row per invocation, `app,func,end_timestamp,duration` (seconds, floats; the
 * call started at end_timestamp - duration). Calls are replayed at their real start times: the trace
 * keeps per-minute counts as every trace does, plus each call's offset into its minute
 * (hb_trace.offsets), which the event generator uses instead of an arrival mode.
 *
 * Time 0 of the replay is the start of the trace's minute [trace] start_minute, where minute 1
 * starts at timestamp 0 (or at the earliest start's minute, if a call started before 0). */
#ifndef HB_TRACE_AZURE2021_H
#define HB_TRACE_AZURE2021_H

#include "trace.h"

int hb_trace_load_azure2021(const hb_trace_spec *spec, hb_trace **out, hb_error *err);

#endif
