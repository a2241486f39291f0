/* fuzz_serve_request.c - the request reading of `harvestbench serve` (serve/serve_request.h): the
 * URL's unescaping as the server does it (sv_unescape, libmicrohttpd's unescape callback), then
 * sv_request_parse on method, URL and body; and the base64 codec a PUT's zip goes through
 * (common/ow_base64.h), on the body's exec.code when there is one.
 *
 * Input: "METHOD URL" on the first line, the body after it (any bytes, not NUL-terminated). */
#include "fuzz_util.h"

#include "common/ow_base64.h"
#include "serve/serve_request.h"

/* exec.code as a PUT carries it: decode, and re-encode what decoded (the round trip is exact). */
static void check_base64(const cJSON *body)
{
    const cJSON *exec = cJSON_GetObjectItemCaseSensitive(body, "exec");
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(exec, "code");
    if (!cJSON_IsString(code))
        return;
    size_t n = 0, tl = strlen(code->valuestring);
    unsigned char *bytes = ow_base64_decode(code->valuestring, tl, &n);
    if (!bytes)
        return;
    char *again = ow_base64_encode(bytes, n);
    if (again) {
        size_t m = 0;
        unsigned char *twice = ow_base64_decode(again, strlen(again), &m);
        FUZZ_REQUIRE(twice && m == n && (n == 0 || memcmp(twice, bytes, n) == 0));
        free(twice);
        free(again);
    }
    free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t head = nl ? (size_t)(nl - data) : size;
    const char *body = nl ? (const char *)nl + 1 : "";
    size_t len = nl ? size - head - 1 : 0;
    char *line = fuzz_strndup(data, head);
    if (!line)
        return 0;
    if (strlen(line) != head) {        /* a NUL in the request line: the HTTP parser stops there */
        free(line);
        return 0;
    }
    char *url = strchr(line, ' ');
    const char *method = line;
    if (url)
        *url++ = '\0';
    else
        url = line + head;             /* no URL: "" */
    size_t before = strlen(url);
    size_t after = sv_unescape(url);
    FUZZ_REQUIRE(after <= before && after == strlen(url));

    sv_parsed q;
    char msg[512];
    int st = sv_request_parse(method, url, body, len, &q, msg, sizeof msg);
    if (st) {
        FUZZ_REQUIRE(st == 400 || st == 404 || st == 405 || st == 413);
        FUZZ_REQUIRE(msg[0] != '\0');
        FUZZ_REQUIRE(q.body == NULL);
    } else {
        FUZZ_REQUIRE(q.route >= SV_NAMESPACES && q.route <= SV_ACTIVATION);
        if (q.route == SV_ACTION) {
            FUZZ_REQUIRE(sv_valid_name(q.name));
            for (const char *c = q.name; *c; c++)
                FUZZ_REQUIRE((unsigned char)*c >= 0x20 && *c != '/');
            FUZZ_REQUIRE(q.method != SV_PUT || cJSON_IsObject(q.body));
            if (q.method == SV_PUT)
                check_base64(q.body);
        } else {
            FUZZ_REQUIRE(q.body == NULL);
        }
        if (q.route == SV_ACTIVATION)
            FUZZ_REQUIRE(strchr(q.id, '/') == NULL);
    }
    sv_parsed_free(&q);
    free(line);
    return 0;
}
