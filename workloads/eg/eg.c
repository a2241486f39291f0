/* eg.c - email-generation: write `size` fake e-mails into an ever-growing mailbox, archiving each
 * file of 1500 with deflate (see README.md). Single-threaded, as the original. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include <gsl/gsl_rng.h>

#include "runtime.h"

#define EG_PER_FILE 1500               /* e-mails per file, as the original */
#define EG_TAG 0x6567                  /* "eg" */

static const char *const first[] = {
    "Ada", "Alan", "Barbara", "Claude", "Dennis", "Donald", "Edsger", "Frances", "Grace", "Guido",
    "Hedy", "John", "Ken", "Leslie", "Linus", "Margaret", "Niklaus", "Radia", "Robin", "Shafi",
    "Sophie", "Tim", "Whitfield", "Yukihiro", "Anita", "Butler", "Carol", "David", "Erna", "Fran"};
static const char *const last[] = {
    "Lovelace", "Turing", "Liskov", "Shannon", "Ritchie", "Knuth", "Dijkstra", "Allen", "Hopper",
    "Rossum", "Lamarr", "McCarthy", "Thompson", "Lamport", "Torvalds", "Hamilton", "Wirth",
    "Perlman", "Milner", "Goldwasser", "Wilson", "Berners-Lee", "Diffie", "Matsumoto", "Borg",
    "Lampson", "Shaw", "Patterson", "Hoover", "Bilas"};
static const char *const domains[] = {"example.com", "example.org", "example.net", "mail.test",
                                      "inbox.invalid", "faas.example"};
static const char *const lorem[] = {
    "lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
    "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "enim",
    "ad", "minim", "veniam", "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi",
    "aliquip", "ex", "ea", "commodo", "consequat", "duis", "aute", "irure", "in", "reprehenderit",
    "voluptate", "velit", "esse", "cillum", "fugiat", "nulla", "pariatur", "excepteur", "sint",
    "occaecat", "cupidatat", "non", "proident", "sunt", "culpa", "qui", "officia", "deserunt",
    "mollit", "anim", "id", "est", "laborum"};

#define N(a) (sizeof a / sizeof a[0])

typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

static int grow(buf *b, size_t need)
{
    if (b->n + need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int add(buf *b, const char *s, size_t n)
{
    if (grow(b, n + 1))
        return -1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
    return 0;
}

static int addf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int addf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    return n < 0 ? -1 : add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

#define PICK(r, a) a[gsl_rng_uniform_int(r, N(a))]

/* One e-mail in mbox form: envelope line, headers, a body of about 550 characters of Lorem text
 * in sentences, wrapped at 72 columns. */
static int write_email(gsl_rng *r, int64_t i, buf *b)
{
    const char *ff = PICK(r, first), *fl = PICK(r, last), *fd = PICK(r, domains);
    const char *tf = PICK(r, first), *tl = PICK(r, last), *td = PICK(r, domains);
    time_t t = (time_t)1546300800 + (time_t)(i * 37);    /* 2019-01-01 + 37 s per e-mail */
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64], env[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    strftime(env, sizeof env, "%a %b %e %H:%M:%S %Y", &tm);
    unsigned long id = gsl_rng_get(r);
    int rc = addf(b, "From %c.%s@%s %s\n", ff[0], fl, fd, env);
    rc |= addf(b, "From: %s %s <%c.%s@%s>\nTo: %s %s <%c.%s@%s>\nDate: %s\n", ff, fl, ff[0], fl,
               fd, tf, tl, tf[0], tl, td, date);
    rc |= addf(b, "Message-ID: <%08lx.%lld@%s>\nSubject:", id, (long long)i, fd);
    int words = 3 + (int)gsl_rng_uniform_int(r, 5);
    for (int w = 0; w < words; w++)
        rc |= addf(b, " %s", PICK(r, lorem));
    rc |= addf(b, "\nContent-Type: text/plain; charset=us-ascii\n\nDear %s,\n\n", tf);
    /* body: sentences of 6..14 words until about 550 characters, wrapped */
    int col = 0, len = 0;
    while (len < 550) {
        int sw = 6 + (int)gsl_rng_uniform_int(r, 9);
        for (int w = 0; w < sw; w++) {
            const char *word = PICK(r, lorem);
            char tmp[32];
            int wl = snprintf(tmp, sizeof tmp, "%s%s", word, w == sw - 1 ? "." : "");
            if (w == 0 && wl > 0)
                tmp[0] = (char)(tmp[0] - 'a' + 'A');
            if (col + wl + 1 > 72) {
                rc |= add(b, "\n", 1);
                col = 0;
            } else if (col > 0) {
                rc |= add(b, " ", 1);
                col++;
            }
            rc |= add(b, tmp, (size_t)wl);
            col += wl;
            len += wl + 1;
        }
    }
    rc |= addf(b, "\n\nBest regards,\n%s %s\n\n", ff, fl);
    return rc ? -1 : 0;
}

/* Deflates a file's e-mails at the best compression, as an archive of the log would be. */
static int archive(const char *p, size_t n, uint64_t *h, size_t *zbytes)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit(&z, Z_BEST_COMPRESSION) != Z_OK)
        return -1;
    unsigned char out[65536];
    z.next_in = (unsigned char *)(uintptr_t)p;
    z.avail_in = (uInt)n;
    int zr;
    do {
        z.next_out = out;
        z.avail_out = sizeof out;
        zr = deflate(&z, Z_FINISH);
        size_t got = sizeof out - z.avail_out;
        *h = wl_hash(*h, out, got);
        *zbytes += got;
    } while (zr == Z_OK);
    deflateEnd(&z);
    return zr == Z_STREAM_END ? 0 : -1;
}

static int eg_run(const wl_call *c, wl_out *out)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    buf box = {0};                       /* the ever-growing mailbox */
    size_t *start = malloc((size_t)(c->size + 1) * sizeof *start);
    uint64_t zh = WL_HASH_INIT;
    size_t zbytes = 0;
    int64_t files = 0;
    if (!r || !start) {
        wl_fail(out, WL_ERUN, "out of memory");
        goto done;
    }
    for (int64_t i = 0; i < c->size; i++) {
        if (i % EG_PER_FILE == 0)        /* each file draws from its own generator */
            gsl_rng_set(r, wl_seed(c->seed, EG_TAG, (uint64_t)(i / EG_PER_FILE)));
        start[i] = box.n;
        if (write_email(r, i, &box) != 0) {
            wl_fail(out, WL_ERUN, "out of memory at e-mail %lld", (long long)i);
            goto done;
        }
        if ((i + 1) % EG_PER_FILE == 0 || i + 1 == c->size) {
            int64_t first_mail = i / EG_PER_FILE * EG_PER_FILE;
            if (archive(box.p + start[first_mail], box.n - start[first_mail], &zh, &zbytes) != 0) {
                wl_fail(out, WL_ERUN, "deflate failed");
                goto done;
            }
            files++;
        }
    }
    start[c->size] = box.n;
    /* the answer: counts and the first e-mail's subject line */
    const char *subj = strstr(box.p, "Subject:");
    const char *eol = subj ? strchr(subj, '\n') : NULL;
    json_object_set_new(out->answer, "emails", json_integer((json_int_t)c->size));
    json_object_set_new(out->answer, "files", json_integer((json_int_t)files));
    json_object_set_new(out->answer, "mailbox_bytes", json_integer((json_int_t)box.n));
    json_object_set_new(out->answer, "archive_bytes", json_integer((json_int_t)zbytes));
    if (subj && eol)
        json_object_set_new(out->answer, "first_subject",
                            json_stringn(subj + 9, (size_t)(eol - subj - 9)));
    out->checksum = wl_hash_u64(wl_hash(WL_HASH_INIT, box.p, box.n), zh);
done:
    gsl_rng_free(r);
    free(box.p);
    free(start);
    return out->code;
}

const wl_function wl_fn_eg = {
    .id = "eg",
    .summary = "generate size fake e-mails into a growing mailbox, deflating each file of 1500",
    .default_size = 20000,
    .max_size = 2000000,
    .default_parallel = 1,
    .run = eg_run,
};
