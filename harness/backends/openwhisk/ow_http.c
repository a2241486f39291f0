/* ow_http.c - see ow_http.h. */
#include "ow_http.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "dynbuf.h"

void ow_response_reset(ow_response *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

void ow_response_free(ow_response *r) { ow_response_reset(r); }

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
    ow_response *r = user;
    size_t n = size * nmemb;
    if (r->len + n > OW_MAX_RESPONSE)
        return 0;                      /* aborts the transfer: CURLE_WRITE_ERROR */
    if (hb_grow(&r->body, &r->cap, r->len + n + 1, 1) != HB_OK)
        return 0;
    memcpy(r->body + r->len, data, n);
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *user)
{
    ow_response *r = user;
    size_t n = size * nmemb;
    static const char name[] = "x-openwhisk-activation-id:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
        const char *v = data + sizeof name - 1;
        size_t vl = n - (sizeof name - 1);
        while (vl && (*v == ' ' || *v == '\t'))
            v++, vl--;
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        if (vl < sizeof r->activation_id) {
            memcpy(r->activation_id, v, vl);
            r->activation_id[vl] = '\0';
        }
    }
    return n;
}

int ow_url(const ow_creds *c, const char *collection, const char *name, const char *query,
           char *out, size_t n)
{
    char *ns = curl_easy_escape(NULL, c->ns, 0);
    char *nm = NULL;
    if (name) {
        /* an action in a package: encode both parts, keep the '/' between them */
        const char *slash = strchr(name, '/');
        if (slash) {
            char *a = curl_easy_escape(NULL, name, (int)(slash - name));
            char *b = curl_easy_escape(NULL, slash + 1, 0);
            if (a && b && (nm = malloc(strlen(a) + strlen(b) + 2)))
                sprintf(nm, "%s/%s", a, b);
            curl_free(a);
            curl_free(b);
        } else {
            char *a = curl_easy_escape(NULL, name, 0);
            nm = a ? strdup(a) : NULL;
            curl_free(a);
        }
    }
    int w = -1;
    if (ns && (!name || nm))
        w = snprintf(out, n, "%s/api/v1/namespaces/%s/%s%s%s%s%s", c->apihost, ns, collection,
                     nm ? "/" : "", nm ? nm : "", query && *query ? "?" : "",
                     query && *query ? query : "");
    curl_free(ns);
    free(nm);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

struct curl_slist *ow_json_headers(void)
{
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h2 = h ? curl_slist_append(h, "Accept: application/json") : NULL;
    if (!h2)
        curl_slist_free_all(h);
    return h2;
}

int ow_easy_setup(CURL *h, const ow_creds *c, const char *method, const char *url, const char *body,
                  struct curl_slist *headers, long timeout_ms, ow_response *resp, hb_error *err)
{
    /* the key goes in as user and password, never into a URL that could be printed */
    const char *colon = strchr(c->auth, ':');
    char user[256];
    size_t ul = (size_t)(colon - c->auth);
    if (ul >= sizeof user)
        return hb_fail(err, HB_EINPUT, "the OpenWhisk key from %s has a user part longer than %zu "
                       "characters", c->auth_from, sizeof user - 1);
    memcpy(user, c->auth, ul);
    user[ul] = '\0';
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERNAME, user) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_PASSWORD, colon + 1) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC) != CURLE_OK;
    memset(user, 0, sizeof user);
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method) != CURLE_OK;
    if (body) {
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body) != CURLE_OK;
    } else if (strcmp(method, "GET") == 0) {
        bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L) != CURLE_OK;
    } else if (strcmp(method, "DELETE") != 0) {
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L) != CURLE_OK;
        bad |= curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, "") != CURLE_OK;
    }
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L) != CURLE_OK;
    if (c->ca_file[0])
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, resp) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_HEADERDATA, resp) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, resp->curl_msg) != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "harvestbench") != CURLE_OK;
    if (bad)
        return hb_fail(err, HB_ERUN, "libcurl refused an option for %s %s", method, url);
    return 0;
}

int ow_retryable(const ow_response *r)
{
    if (r->curl != CURLE_OK)
        return r->curl != CURLE_URL_MALFORMAT && r->curl != CURLE_UNSUPPORTED_PROTOCOL &&
               r->curl != CURLE_PEER_FAILED_VERIFICATION && r->curl != CURLE_SSL_CACERT_BADFILE &&
               r->curl != CURLE_WRITE_ERROR && r->curl != CURLE_OUT_OF_MEMORY &&
               r->curl != CURLE_LOGIN_DENIED;
    /* a 502 that carries an activation is an answer (a blocking call's failed action) */
    if (r->status == 502 && r->body && strstr(r->body, "\"activationId\""))
        return 0;
    return r->status == 429 || r->status >= 500;
}

void ow_describe(const ow_response *r, char *out, size_t n)
{
    if (r->curl != CURLE_OK) {
        snprintf(out, n, "%s", r->curl_msg[0] ? r->curl_msg : curl_easy_strerror(r->curl));
        return;
    }
    const char *msg = NULL;
    cJSON *j = r->body ? cJSON_Parse(r->body) : NULL;
    cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    if (cJSON_IsString(e))
        msg = e->valuestring;
    if (msg)
        snprintf(out, n, "HTTP %ld: %s", r->status, msg);
    else if (r->body && r->len)
        snprintf(out, n, "HTTP %ld: %.120s", r->status, r->body);
    else
        snprintf(out, n, "HTTP %ld", r->status);
    cJSON_Delete(j);
}

int ow_request(const ow_creds *c, const char *method, const char *url, const char *body,
               long timeout_ms, long retry_ms, ow_response *resp, hb_error *err)
{
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = ow_json_headers();
    if (!h || !hdr) {
        curl_easy_cleanup(h);
        curl_slist_free_all(hdr);
        return hb_fail(err, HB_ENOMEM, "out of memory");
    }
    double t0 = hb_mono_s() * 1e3, backoff = 100;
    unsigned jitter = (unsigned)t0;
    int rc = 0;
    for (;;) {
        ow_response_reset(resp);
        if ((rc = ow_easy_setup(h, c, method, url, body, hdr, timeout_ms, resp, err)))
            break;
        resp->curl = curl_easy_perform(h);
        if (resp->curl == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
        if (!ow_retryable(resp))
            break;
        jitter = jitter * 1103515245u + 12345u;
        double wait = backoff * (0.5 + (double)(jitter >> 16 & 0x7fff) / 32768.0);
        if (hb_mono_s() * 1e3 + wait - t0 > (double)retry_ms)
            break;
        long us = (long)(wait * 1e3);
        struct timespec ts = {us / 1000000, us % 1000000 * 1000};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
    }
    if (!rc && resp->curl != CURLE_OK) {
        char d[256];
        ow_describe(resp, d, sizeof d);
        rc = hb_fail(err, HB_ERUN, "%s %s: %s", method, url, d);
    }
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    return rc;
}
