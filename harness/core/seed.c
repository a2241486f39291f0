/* seed.c - see seed.h. splitmix64 (Steele, Lea and Flood 2014) mixes the seed with an FNV-1a hash
 * of the stream name; a few lines, so written here rather than pulled from a library. */
#include "seed.h"

#include <string.h>


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
    static const char pairs[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                                "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
                                "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
                                "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
                                "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
                                "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
                                "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
                                "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
    for (int i = 7; i >= 0; i--, v >>= 8)
        memcpy(out + 2 * i, pairs + 2 * (v & 255), 2);
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
