/* serve_request.h - the part of `harvestbench serve` that reads a request before any state is
 * touched: the URL's unescaping, its path (namespace, collection, entity name, activation id) with
 * OpenWhisk's entity-name rule, and the JSON body of a PUT or POST. Pure functions (no server, no
 * lock), so that a fuzz target and unit tests can call them on any bytes. serve.c routes with them. */
#ifndef HB_SERVE_REQUEST_H
#define HB_SERVE_REQUEST_H

#include <stddef.h>

#include <cJSON.h>

#define SV_MAX_BODY (64u << 20)        /* a PUT with a zip in base64 */
#define SV_MAX_PAYLOAD (1u << 20)      /* OpenWhisk's default invocation payload limit */

typedef enum sv_route {
    SV_NAMESPACES,                     /* GET /api/v1/namespaces */
    SV_LIMITS,                         /* GET .../NS/limits */
    SV_ACTIONS,                        /* GET .../NS/actions */
    SV_ACTION,                         /* GET/PUT/DELETE/POST .../NS/actions/NAME */
    SV_ACTIVATIONS,                    /* GET .../NS/activations */
    SV_ACTIVATION,                     /* GET .../NS/activations/ID[/result|/logs] */
} sv_route;

typedef enum sv_method { SV_GET, SV_PUT, SV_POST, SV_DELETE, SV_OTHER } sv_method;

typedef struct sv_parsed {
    sv_route route;
    sv_method method;
    char ns[256];                      /* as written ("_" included); serve checks it is its own */
    char name[257];                    /* SV_ACTION: the entity name, valid by sv_valid_name */
    char id[64];                       /* SV_ACTIVATION */
    char part[16];                     /* SV_ACTIVATION: "", "result" or "logs" */
    cJSON *body;                       /* SV_ACTION PUT: the entity; POST: the payload or NULL */
} sv_parsed;

/* Decodes %XX escapes in place, as libmicrohttpd's default does, but a decoded NUL becomes byte
 * 0x01: the string is never cut short (a%00b would otherwise be action "a"), and a name holding
 * it is rejected like any other control byte. Returns the new length. Suits
 * MHD_OPTION_UNESCAPE_CALLBACK. */
size_t sv_unescape(char *s);

/* OpenWhisk's entity-name rule: 1..256 characters, ASCII word characters first, then also '@',
 * '.', '-' and ' ' (a space not last). */
int sv_valid_name(const char *n);

/* Reads method, URL (already unescaped, NUL-terminated) and body (len bytes, need not be
 * NUL-terminated). Returns 0 with *out filled (free with sv_parsed_free), or an HTTP status (400,
 * 404, 405, 413) with OpenWhisk's message in msg; then nothing needs freeing. Does not handle "/",
 * "/api/v1" (public information) or the namespace's authorization. */
int sv_request_parse(const char *method, const char *url, const char *body, size_t len,
                     sv_parsed *out, char *msg, size_t msglen);
void sv_parsed_free(sv_parsed *p);

#endif
