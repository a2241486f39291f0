/* checkpoint.h - the Freyr checkpoint: a small JSON file (cJSON) with the networks, the feature
 * normalisation and where it came from. Format version 1 (docs/policies.md, "freyr checkpoint"):
 *
 *   { "format": "harvestbench-freyr", "version": 1,
 *     "candidates": { "cpu": [1, 8], "mem_units": [1, 8], "mem_unit_mb": 128, "order": "cpu-major" },
 *     "features": [ "inflight_per_core", ... 11 names in input order ],
 *     "norm": { "shift": [11 numbers], "scale": [11 numbers] },   input = (raw - shift) / scale
 *     "actor":  [ layer, layer, layer ],
 *     "critic": [ layer, layer, layer ],
 *     "trained": { "episodes": N, "seed": S, "config": "...", "command": "..." } }
 *
 * where a layer is { "in": I, "out": O, "activation": "tanh" | "linear",
 *                    "weight": [O rows of I numbers], "bias": [O numbers] }
 * and output = activation(weight x input + bias). The shapes are 11 -> 32 -> 16 -> 1, tanh, tanh,
 * linear. Numbers are written with %.17g, so a save/load round trip is exact. */
#ifndef FREYR_CHECKPOINT_H
#define FREYR_CHECKPOINT_H

#include "features.h"
#include "ppo.h"

typedef struct freyr_provenance {
    long episodes;
    unsigned long seed;
    const char *config;                /* may be NULL */
    const char *command;               /* may be NULL */
} freyr_provenance;

/* Writes path (through path.tmp and a rename). */
int freyr_ckpt_save(const char *path, const freyr_agent *a, const freyr_norm *norm,
                    const freyr_provenance *prov, hb_error *err);
/* Reads path into a fresh agent (freyr_agent_free it) and norm. Errors name the file and the
 * JSON path of the bad value (or the line of a syntax error). */
int freyr_ckpt_load(const char *path, freyr_agent *a, freyr_norm *norm, hb_error *err);

#endif
