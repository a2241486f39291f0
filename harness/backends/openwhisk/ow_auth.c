/* ow_auth.c - see ow_auth.h. */
#include "ow_auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "files.h"

/* Wipes a buffer in a way the compiler cannot drop. */
static void wipe(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = 0;
}

void ow_creds_free(ow_creds *c)
{
    if (!c)
        return;
    wipe(c->auth);
    free(c->auth);
    c->auth = NULL;
}

int ow_apihost_url(const char *value, char *out, size_t n)
{
    while (isspace((unsigned char)*value))
        value++;
    size_t len = strlen(value);
    while (len && (isspace((unsigned char)value[len - 1]) || value[len - 1] == '/'))
        len--;
    if (!len)
        return -1;
    int w = strstr(value, "://") ? snprintf(out, n, "%.*s", (int)len, value)
                                 : snprintf(out, n, "https://%.*s", (int)len, value);
    if (w < 0 || (size_t)w >= n)
        return -1;
    if (strncmp(out, "http://", 7) != 0 && strncmp(out, "https://", 8) != 0)
        return -1;
    return 0;
}

/* One KEY=VALUE of a wsk properties file; the value is copied into a new string, or NULL. */
static char *props_value(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        while (*line == ' ' || *line == '\t')
            line++;
        if (strncmp(line, key, kl) != 0)
            continue;
        const char *p = line + kl;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=')
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, "\r\n");
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        char *v = malloc(len + 1);
        if (v) {
            memcpy(v, p, len);
            v[len] = '\0';
        }
        return v;
    }
    return NULL;
}

static int valid_key(const char *k)
{
    const char *colon = strchr(k, ':');
    if (!colon || colon == k || !colon[1])
        return 0;
    for (const char *p = k; *p; p++)
        if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
            return 0;
    return 1;
}

static int set_auth(ow_creds *c, const char *key, const char *from, hb_error *err)
{
    if (!valid_key(key))
        return hb_fail(err, HB_EINPUT, "the OpenWhisk key from %s is not of the form UUID:KEY "
                       "(the key itself is not shown)", from);
    wipe(c->auth);
    free(c->auth);
    c->auth = strdup(key);
    if (!c->auth)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    snprintf(c->auth_from, sizeof c->auth_from, "%s", from);
    return 0;
}

static int set_host(ow_creds *c, const char *host, const char *from, hb_error *err)
{
    if (ow_apihost_url(host, c->apihost, sizeof c->apihost))
        return hb_fail(err, HB_EINPUT, "the OpenWhisk API host from %s ('%s') is not a host[:port] "
                       "or an http(s):// URL", from, host);
    snprintf(c->apihost_from, sizeof c->apihost_from, "%s", from);
    return 0;
}

/* A key file: one line UUID:KEY, or a wsk properties file with AUTH=. */
static int read_key_file(ow_creds *c, const char *path, hb_error *err)
{
    char *text = NULL;
    int rc = hb_read_text(path, &text, NULL, err);
    if (rc)
        return hb_error_wrap(err, "OpenWhisk key file");
    char *key = props_value(text, "AUTH");
    if (!key) {
        size_t len = strcspn(text, "\r\n");
        while (len && isspace((unsigned char)text[len - 1]))
            len--;
        key = strndup(text, len);
    }
    wipe(text);
    free(text);
    if (!key)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    rc = set_auth(c, key, path, err);
    wipe(key);
    free(key);
    return rc;
}

int ow_creds_resolve(const ow_creds_given *g, ow_creds *c, hb_error *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->ns, sizeof c->ns, "_");
    const char *where = g && g->where ? g->where : "the command line";
    char from[128];
    int rc = 0;
    /* lowest precedence first: the properties file, then the environment, then what was given */
    const char *props_env = getenv("WSK_CONFIG_FILE");
    char props[1024] = "";
    if (props_env && *props_env)
        snprintf(props, sizeof props, "%s", props_env);
    else if (getenv("HOME"))
        snprintf(props, sizeof props, "%s/.wskprops", getenv("HOME"));
    char *text = NULL;
    if (props[0]) {
        hb_error e2;
        if (hb_read_text(props, &text, NULL, &e2) == 0) {
            char *v;
            if (!rc && (v = props_value(text, "APIHOST"))) {
                if (*v)
                    rc = set_host(c, v, props, err);
                free(v);
            }
            if (!rc && (v = props_value(text, "NAMESPACE"))) {
                if (*v)
                    snprintf(c->ns, sizeof c->ns, "%s", v);
                free(v);
            }
            if (!rc && (v = props_value(text, "AUTH"))) {
                if (*v)
                    rc = set_auth(c, v, props, err);
                wipe(v);
                free(v);
            }
            wipe(text);
            free(text);
        } else if (props_env && *props_env) {
            rc = hb_fail(err, HB_EINPUT, "WSK_CONFIG_FILE=%s: %s", props, e2.msg);
        }
    }
    const char *e;
    if (!rc && (e = getenv("WSK_APIHOST")) && *e)
        rc = set_host(c, e, "WSK_APIHOST", err);
    if (!rc && (e = getenv("WSK_NAMESPACE")) && *e)
        snprintf(c->ns, sizeof c->ns, "%s", e);
    if (!rc && (e = getenv("WSK_AUTH")) && *e)
        rc = set_auth(c, e, "WSK_AUTH", err);
    if (!rc && g) {
        if (g->apihost) {
            snprintf(from, sizeof from, "%s (apihost)", where);
            rc = set_host(c, g->apihost, from, err);
        }
        if (!rc && g->ns && *g->ns)
            snprintf(c->ns, sizeof c->ns, "%s", g->ns);
        if (!rc && g->auth_file)
            rc = read_key_file(c, g->auth_file, err);
        if (!rc && g->auth) {
            snprintf(from, sizeof from, "%s (auth)", where);
            rc = set_auth(c, g->auth, from, err);
        }
        if (!rc && g->ca_file)
            snprintf(c->ca_file, sizeof c->ca_file, "%s", g->ca_file);
        if (g->insecure > 0)
            c->insecure = 1;
    }
    if (!rc && !c->apihost[0])
        rc = hb_fail(err, HB_EINPUT, "no OpenWhisk API host: give --apihost (or apihost in "
                     "[backend.openwhisk]), set WSK_APIHOST, or APIHOST in %s",
                     props[0] ? props : "~/.wskprops");
    if (!rc && !c->auth)
        rc = hb_fail(err, HB_EINPUT, "no OpenWhisk key: give --auth-file (or auth_file in "
                     "[backend.openwhisk]), set WSK_AUTH, or AUTH in %s",
                     props[0] ? props : "~/.wskprops");
    if (c->ns[0] == '/')               /* wsk accepts "/guest" as well as "guest" */
        memmove(c->ns, c->ns + 1, strlen(c->ns));
    if (!rc && !c->ns[0])
        snprintf(c->ns, sizeof c->ns, "_");
    for (const char *p = c->ns; !rc && *p; p++)
        if (*p == '/' || isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
            rc = hb_fail(err, HB_EINPUT, "namespace '%s': contains '/' or a space", c->ns);
    if (rc)
        ow_creds_free(c);
    return rc;
}
