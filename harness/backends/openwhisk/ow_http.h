/* ow_http.h - HTTP requests to an OpenWhisk API host with libcurl: URLs under /api/v1, the
 * Basic-auth key, TLS verification (on unless insecure), the response body and the activation-id
 * header. One request at a time (ow_request, with retries) for deploy and checks; the backend drives
 * many at once on a multi handle with the same per-handle setup (ow_easy_setup). */
#ifndef HB_OW_HTTP_H
#define HB_OW_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

#include "hb_error.h"
#include "ow_auth.h"

typedef struct ow_response {
    long status;                       /* HTTP status; 0 when the transfer failed */
    CURLcode curl;                     /* CURLE_OK or why the transfer failed */
    char curl_msg[CURL_ERROR_SIZE];
    char *body;                        /* NUL-terminated (heap) */
    size_t len, cap;                   /* its length, and bytes allocated (hb_grow) */
    char activation_id[72];            /* x-openwhisk-activation-id, if sent */
    double pretransfer_s;              /* from the start of the transfer to its first byte sent */
} ow_response;

void ow_response_reset(ow_response *r);
void ow_response_free(ow_response *r);

/* Upper bound of a response body the client accepts (activation records, action documents). */
#define OW_MAX_RESPONSE (64u << 20)

/* Builds APIHOST/api/v1/namespaces/NS/<collection>[/<name>][?query] with the namespace and name
 * percent-encoded (a name may hold one '/' between a package and an action). */
int ow_url(const ow_creds *c, const char *collection, const char *name, const char *query,
           char *out, size_t n);

/* Prepares an easy handle: method, URL, JSON body (copied by libcurl; NULL for none), auth, TLS,
 * timeouts, keep-alive, response capture into resp (which must outlive the transfer). headers is
 * the caller's list (ow_json_headers) and must outlive the transfer too. */
int ow_easy_setup(CURL *h, const ow_creds *c, const char *method, const char *url, const char *body,
                  struct curl_slist *headers, long timeout_ms, ow_response *resp, hb_error *err);
/* "Content-Type: application/json" and "Accept: application/json". */
struct curl_slist *ow_json_headers(void);

/* A request worth repeating: the transfer failed, or the host answered 429 or 5xx (but not a 502
 * that carries an activation record: that is a blocking invocation's failed action). */
int ow_retryable(const ow_response *r);

/* One request, repeated with exponential backoff (100 ms doubling to 2 s, with jitter) while it is
 * retryable and retry_ms has not passed since the first attempt. On return resp holds the last
 * answer; the return value is 0 when an HTTP answer arrived (any status), else an error. */
int ow_request(const ow_creds *c, const char *method, const char *url, const char *body,
               long timeout_ms, long retry_ms, ow_response *resp, hb_error *err);

/* A short description of a failed answer: "HTTP 404: <error field>" or the transfer error. */
void ow_describe(const ow_response *r, char *out, size_t n);

#endif
