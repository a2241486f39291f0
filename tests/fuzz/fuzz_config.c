/* fuzz_config.c - the INI configuration (config.h): hb_config_load_text, then every --set
 * assignment, then the manifest's JSON and the unknown-key check of every [policy.NAME] and
 * [backend.NAME] section.
 *
 * Input: the INI text, then optionally SECTION.KEY=VALUE assignments, each after a FUZZ_SEP line. */
#include "fuzz_util.h"

#include <cJSON.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_part part[FUZZ_MAX_PARTS];
    size_t n = fuzz_split(data, size, part, FUZZ_MAX_PARTS);
    char *text = fuzz_strndup(part[0].p, part[0].n);
    if (!text)
        return 0;
    hb_config cfg;
    hb_error err = {0};
    int rc = hb_config_load_text(text, "fuzz.ini", "/nonexistent/fuzz", &cfg, &err);
    free(text);
    fuzz_check_error(rc, &err);
    if (rc)
        return 0;
    for (size_t i = 1; i < n; i++) {
        char *set = fuzz_strndup(part[i].p, part[i].n);
        if (!set)
            break;
        hb_error e2 = {0};
        rc = hb_config_set(&cfg, set, &e2);
        free(set);
        fuzz_check_error(rc, &e2);
    }
    FUZZ_REQUIRE(cfg.n_policies >= 1 && cfg.n_policies <= HB_MAX_POLICIES);
    cJSON *j = hb_config_json(&cfg);
    FUZZ_REQUIRE(j != NULL);
    char *s = cJSON_PrintUnformatted(j);
    FUZZ_REQUIRE(s != NULL);
    free(s);
    cJSON_Delete(j);
    for (size_t i = 0; i < cfg.n_sections; i++) {
        hb_error e3 = {0};
        fuzz_check_error(hb_config_check_used(&cfg.sections[i]->kv, &e3), &e3);
    }
    hb_config_free(&cfg);
    return 0;
}
