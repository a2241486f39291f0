/* seed.c - see seed.h. splitmix64 (Steele, Lea and Flood 2014) mixes the seed with an FNV-1a hash
 * of the stream name; a few lines, so written here rather than pulled from a library. */
#include "seed.h"


static uint64_t splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t hb_seed_derive(uint64_t seed, const char *stream)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *s = (const unsigned char *)stream; *s; s++)
        h = (h ^ *s) * 0x100000001b3ULL;
    return splitmix64(splitmix64(seed) ^ h);
}

gsl_rng *hb_rng_new(uint64_t seed, const char *stream)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r)
        gsl_rng_set(r, (unsigned long)(hb_seed_derive(seed, stream) & 0xffffffffUL));
    return r;
}

/* Eight bytes as 16 hex digits, most significant first, a byte (two digits) at a time. */
static void hex16(uint64_t v, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 7; i >= 0; i--, v >>= 8) {
        out[2 * i] = hex[(v >> 4) & 15];
        out[2 * i + 1] = hex[v & 15];
    }
}

void hb_activation_id(uint64_t key, uint64_t index, char out[33])
{
    uint64_t a = splitmix64(key ^ index);
    uint64_t b = splitmix64(a ^ 0x5851f42d4c957f2dULL);
    hex16(a, out);
    hex16(b, out + 16);
    out[32] = '\0';
}

uint64_t hb_index_mix(uint64_t key) { return splitmix64(key); }

double hb_index_uniform_mixed(uint64_t mixed, uint64_t index)
{
    uint64_t x = splitmix64(mixed ^ index);
    return ((double)(x >> 11) + 0.5) / 9007199254740992.0;   /* (x + 1/2) / 2^53: never 0 or 1 */
}

double hb_index_uniform(uint64_t key, uint64_t index)
{
    return hb_index_uniform_mixed(splitmix64(key), index);
}
