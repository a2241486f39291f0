/* ow_activation.h - an OpenWhisk activation record, read by key (anchors section 6).
 *
 * The record's top-level fields (activationId, name, start, end, duration, response{status,
 * statusCode, success, result}) and its annotations (waitTime, initTime - present only on a cold
 * start -, kind, timeout, limits) are looked up by name: the annotation order differs between
 * OpenWhisk versions and forks, and Libra's own code broke on it. The result of one of the ten
 * workloads carries its usage samples (cpu_usage/cpu_timestamp, mem_usage/mem_timestamp, peaks;
 * docs/workloads.md), which are read too.
 *
 * A record that is not JSON, lacks a required field, or holds a value of the wrong type or an
 * impossible one (end before start, initTime beyond the duration, sample arrays of unequal length)
 * is rejected with a message naming the field; the caller turns that into an `error` outcome. */
#ifndef HB_OW_ACTIVATION_H
#define HB_OW_ACTIVATION_H

#include <stddef.h>
#include <stdint.h>

#include "hb_error.h"
#include "hb_types.h"

typedef struct ow_samples {
    double *t;                         /* Unix epoch seconds */
    double *v;                         /* cores, or MB */
    size_t n;
} ow_samples;

typedef struct ow_activation {
    char id[72];
    char name[256];
    int64_t start_ms, end_ms;          /* Unix epoch ms */
    double duration_ms;                /* end - start when absent; includes initTime */
    double wait_ms;                    /* the waitTime annotation; 0 when absent */
    int has_wait;
    double init_ms;                    /* the initTime annotation: a cold start */
    int has_init;
    int timeout;                       /* the timeout annotation */
    char kind[64];
    double limit_timeout_ms, limit_memory_mb;   /* the limits annotation; 0 when absent */
    char status[64];                   /* response.status: success, application error, ... */
    int status_code;                   /* response.statusCode; -1 when absent */
    int success;                       /* response.success; -1 when absent */
    char error[256];                   /* response.result.error, when a string */
    /* usage samples of a harvestbench workload (has_usage: both series present and valid) */
    int has_usage;
    double cpu_peak, mem_peak_mb;      /* -1 when absent */
    double interval_ms;                /* the sampling interval; 100 when absent */
    ow_samples cpu, mem;
} ow_activation;

/* Parses one record. On failure (HB_EINPUT) the message says which field is wrong and a is freed. */
int ow_activation_parse(const char *text, size_t len, ow_activation *a, hb_error *err);
void ow_activation_free(ow_activation *a);

/* The outcome the record reports: success; timeout (the timeout annotation); oom (a developer
 * error about exhausted memory); error otherwise, with "status: message" in msg. */
hb_outcome ow_activation_outcome(const ow_activation *a, char *msg, size_t n);

#endif
