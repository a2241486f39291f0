/* ow_auth.h - where an OpenWhisk client finds its API host, namespace and key, as the wsk CLI
 * does: given values (command-line flags or [backend.openwhisk] keys) first, then the environment
 * (WSK_APIHOST, WSK_AUTH, WSK_NAMESPACE), then a wsk properties file (WSK_CONFIG_FILE, else
 * ~/.wskprops: APIHOST=, AUTH=, NAMESPACE=). The namespace defaults to "_", the key's own.
 *
 * The key ("UUID:KEY") is a secret (BRIEF section 7): it is kept in one heap buffer that is wiped
 * when freed, handed to libcurl only as the Basic-auth user and password, and never printed,
 * logged or written to results; messages about it say where it came from, never what it is. */
#ifndef HB_OW_AUTH_H
#define HB_OW_AUTH_H

#include "hb_error.h"

typedef struct ow_creds {
    char apihost[512];                 /* base URL with its scheme, no trailing slash */
    char ns[256];                      /* namespace; "_" means the key's default */
    char *auth;                        /* "UUID:KEY"; secret */
    int insecure;                      /* 1: do not verify the server's TLS certificate */
    char ca_file[1024];                /* "" or a CA bundle to verify the server against */
    char apihost_from[128];            /* where each value came from, for messages */
    char auth_from[128];
} ow_creds;

/* Values given explicitly; NULL (or insecure < 0) when not given. `where` names their origin in
 * messages ("command line", "configs/x.ini [backend.openwhisk]"). */
typedef struct ow_creds_given {
    const char *apihost;
    const char *auth;                  /* the key itself (a flag) */
    const char *auth_file;             /* a file holding the key, or a wsk properties file */
    const char *ns;
    const char *ca_file;
    int insecure;
    const char *where;
} ow_creds_given;

/* Resolves host, namespace and key. Fails (HB_EINPUT) when no host or no key is found anywhere, or
 * a value is malformed; the message lists where it looked. */
int ow_creds_resolve(const ow_creds_given *given, ow_creds *out, hb_error *err);
void ow_creds_free(ow_creds *c);

/* "https://host:port" from an APIHOST value: a value without a scheme gets https://, as in wsk. */
int ow_apihost_url(const char *value, char *out, size_t n);

#endif
