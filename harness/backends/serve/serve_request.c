/* serve_request.c - see serve_request.h. */
#include "serve_request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

size_t sv_unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r;) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            int ch = hi * 16 + lo;
            *w++ = ch ? (char)ch : '\x01';
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static int word(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           ch == '_';
}

int sv_valid_name(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 256)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)n[i];
        if (i == 0 && !word(ch))
            return 0;
        if (!word(ch) && ch != '@' && ch != '.' && ch != '-' && !(ch == ' ' && i + 1 < len))
            return 0;
    }
    return 1;
}

static int fail(char *msg, size_t n, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(char *msg, size_t n, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, n, fmt, ap);
    va_end(ap);
    return status;
}

#define NOT_FOUND "The requested resource does not exist."
#define ILLEGAL "The name of the entity contains illegal characters."

/* Copies the segment [p, p + n) into out (size cap) unless too long. */
static int segment(const char *p, size_t n, char *out, size_t cap)
{
    if (n >= cap)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

int sv_request_parse(const char *method, const char *url, const char *body, size_t len,
                     sv_parsed *out, char *msg, size_t msglen)
{
    memset(out, 0, sizeof *out);
    if (msglen)
        msg[0] = '\0';
    out->method = strcmp(method, "GET") == 0      ? SV_GET
                  : strcmp(method, "PUT") == 0    ? SV_PUT
                  : strcmp(method, "POST") == 0   ? SV_POST
                  : strcmp(method, "DELETE") == 0 ? SV_DELETE
                                                  : SV_OTHER;
    int get = out->method == SV_GET;
    if (strcmp(url, "/api/v1/namespaces") == 0 || strcmp(url, "/api/v1/namespaces/") == 0) {
        if (!get)
            return fail(msg, msglen, 405, "HTTP method not allowed, supported methods: GET");
        out->route = SV_NAMESPACES;
        return 0;
    }
    static const char prefix[] = "/api/v1/namespaces/";
    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return fail(msg, msglen, 404, NOT_FOUND);
    const char *p = url + sizeof prefix - 1;
    size_t nl = strcspn(p, "/");
    if (nl == 0 || segment(p, nl, out->ns, sizeof out->ns))
        return fail(msg, msglen, 404, NOT_FOUND);
    p += nl;
    if (*p == '/')
        p++;
    size_t cl = strcspn(p, "/");
    char coll[32];
    if (segment(p, cl, coll, sizeof coll))
        return fail(msg, msglen, 404, NOT_FOUND);
    const char *rest = p + cl;
    if (*rest == '/')
        rest++;
    if (strcmp(coll, "limits") == 0 && !*rest && get) {
        out->route = SV_LIMITS;
        return 0;
    }
    if (strcmp(coll, "actions") == 0) {
        if (!*rest) {
            if (!get)
                return fail(msg, msglen, 405, "HTTP method not allowed, supported methods: GET");
            out->route = SV_ACTIONS;
            return 0;
        }
        const char *slash = strchr(rest, '/');
        if (slash) {                   /* PACKAGE/NAME: both must be names, as OpenWhisk checks */
            char pkg[300];
            if (segment(rest, (size_t)(slash - rest), pkg, sizeof pkg) || !sv_valid_name(pkg) ||
                strchr(slash + 1, '/') || !sv_valid_name(slash + 1))
                return fail(msg, msglen, 400, ILLEGAL);
            return fail(msg, msglen, 404, NOT_FOUND " (harvestbench serve has no packages)");
        }
        if (!sv_valid_name(rest))
            return fail(msg, msglen, 400, ILLEGAL);
        snprintf(out->name, sizeof out->name, "%s", rest);
        out->route = SV_ACTION;
        if (out->method == SV_OTHER)
            return fail(msg, msglen, 405, "HTTP method not allowed, supported methods: GET, PUT, "
                        "DELETE, POST");
        if (out->method == SV_PUT) {
            out->body = len ? cJSON_ParseWithLength(body, len) : NULL;
            if (!cJSON_IsObject(out->body)) {
                cJSON_Delete(out->body);
                out->body = NULL;
                return fail(msg, msglen, 400, "The request content was malformed:\nthe body is not "
                            "a JSON object");
            }
        } else if (out->method == SV_POST && len) {
            if (len > SV_MAX_PAYLOAD)
                return fail(msg, msglen, 413, "The request content was malformed:\npayload larger "
                            "than allowed: %zu > %u bytes.", len, SV_MAX_PAYLOAD);
            out->body = cJSON_ParseWithLength(body, len);
            if (!cJSON_IsObject(out->body)) {
                cJSON_Delete(out->body);
                out->body = NULL;
                return fail(msg, msglen, 400, "The request content was malformed:\nthe payload is "
                            "not a JSON object");
            }
        }
        return 0;
    }
    if (strcmp(coll, "activations") == 0) {
        if (!get)
            return fail(msg, msglen, 405, "HTTP method not allowed, supported methods: GET");
        if (!*rest) {
            out->route = SV_ACTIVATIONS;
            return 0;
        }
        size_t il = strcspn(rest, "/");
        if (segment(rest, il, out->id, sizeof out->id))
            return fail(msg, msglen, 400, "The activation id is not valid.");
        const char *part = rest[il] == '/' ? rest + il + 1 : "";
        if (*part && strcmp(part, "result") != 0 && strcmp(part, "logs") != 0)
            return fail(msg, msglen, 404, NOT_FOUND);
        snprintf(out->part, sizeof out->part, "%s", part);
        out->route = SV_ACTIVATION;
        return 0;
    }
    return fail(msg, msglen, 404, NOT_FOUND);
}

void sv_parsed_free(sv_parsed *p)
{
    if (p) {
        cJSON_Delete(p->body);
        p->body = NULL;
    }
}
