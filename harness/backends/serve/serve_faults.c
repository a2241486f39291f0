/* serve_faults.c - see serve_faults.h. */
#include "serve_faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_reader.h"

static int prob(const char *key, const char *v, double *out, hb_error *err)
{
    double p;
    if (!v || hb_parse_double(v, &p) || p < 0 || p > 1)
        return hb_fail(err, HB_EINPUT, "faults: %s: '%s' is not a share in [0, 1]", key, v ? v : "");
    *out = p;
    return 0;
}

static int ms(const char *key, const char *v, int64_t *out, hb_error *err)
{
    int64_t x;
    if (!v || hb_parse_int64(v, &x) || x < 0 || x > 600000)
        return hb_fail(err, HB_EINPUT, "faults: %s: '%s' is not a number of ms in [0, 600000]", key,
                       v ? v : "");
    *out = x;
    return 0;
}

int sv_faults_parse(const char *spec, sv_faults *f, hb_error *err)
{
    if (!f->seed)
        f->seed = 1;
    if (!spec || !*spec || strcmp(spec, "none") == 0)
        return 0;
    char *copy = strdup(spec), *save = NULL;
    if (!copy)
        return hb_fail(err, HB_ENOMEM, "out of memory");
    int rc = 0;
    for (char *item = strtok_r(copy, ",", &save); item && !rc; item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ')
            item++;
        char *eq = strchr(item, '=');
        const char *v = NULL;
        if (eq) {
            *eq = '\0';
            v = eq + 1;
        }
        if (strcmp(item, "429") == 0)
            rc = prob(item, v, &f->p429, err);
        else if (strcmp(item, "500") == 0)
            rc = prob(item, v, &f->p500, err);
        else if (strcmp(item, "drop") == 0)
            rc = prob(item, v, &f->pdrop, err);
        else if (strcmp(item, "lose") == 0)
            rc = prob(item, v, &f->plose, err);
        else if (strcmp(item, "delay") == 0)
            rc = ms(item, v, &f->delay_ms, err);
        else if (strcmp(item, "record-delay") == 0)
            rc = ms(item, v, &f->record_delay_ms, err);
        else if (strcmp(item, "shuffle") == 0 && !v)
            f->shuffle = 1;
        else if (strcmp(item, "seed") == 0) {
            int64_t s;
            if (!v || hb_parse_int64(v, &s) || s < 0)
                rc = hb_fail(err, HB_EINPUT, "faults: seed: '%s' is not an integer >= 0", v ? v : "");
            else
                f->seed = (uint64_t)s;
        } else
            rc = hb_fail(err, HB_EINPUT, "faults: unknown item '%s' (known: 429=P, 500=P, drop=P, "
                         "delay=MS, lose=P, record-delay=MS, shuffle, seed=N)", item);
    }
    free(copy);
    return rc;
}

int sv_faults_any(const sv_faults *f)
{
    return f->p429 > 0 || f->p500 > 0 || f->pdrop > 0 || f->plose > 0 || f->delay_ms > 0 ||
           f->record_delay_ms > 0 || f->shuffle;
}

void sv_faults_format(const sv_faults *f, char *out, size_t n)
{
    if (!sv_faults_any(f)) {
        snprintf(out, n, "none");
        return;
    }
    snprintf(out, n, "429=%g,500=%g,drop=%g,delay=%lld,lose=%g,record-delay=%lld%s,seed=%llu",
             f->p429, f->p500, f->pdrop, (long long)f->delay_ms, f->plose,
             (long long)f->record_delay_ms, f->shuffle ? ",shuffle" : "",
             (unsigned long long)f->seed);
}

int sv_dice_init(sv_dice *d, uint64_t seed)
{
    d->rng = gsl_rng_alloc(gsl_rng_mt19937);
    if (!d->rng)
        return -1;
    gsl_rng_set(d->rng, (unsigned long)seed);
    pthread_mutex_init(&d->mu, NULL);
    return 0;
}

double sv_dice_roll(sv_dice *d)
{
    pthread_mutex_lock(&d->mu);
    double x = gsl_rng_uniform(d->rng);
    pthread_mutex_unlock(&d->mu);
    return x;
}

void sv_dice_free(sv_dice *d)
{
    if (!d->rng)
        return;
    gsl_rng_free(d->rng);
    d->rng = NULL;
    pthread_mutex_destroy(&d->mu);
}
