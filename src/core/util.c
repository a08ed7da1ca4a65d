/* util.c: allocation, string helpers and the id hash map (output files: outfile.c). */
#include "core/util.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- allocation ------------------------------------------------------------------------ */

/* The byte count of count * size: 0 when it overflows, at least 1 otherwise. */
static size_t alloc_bytes(size_t count, size_t size)
{
    if (count == 0 || size == 0) return 1;
    if (count > SIZE_MAX / size) return 0;
    return count * size;
}

/* The allocation-failure hook of gfuse_i_alloc_fail_after: off (one relaxed load per
 * allocation) until a test sets it; then each allocation is counted and the one that brings
 * the countdown to zero fails. Atomic, as allocations happen in OpenMP threads too. */
static atomic_bool hook_on;
static atomic_long hook_count;
static atomic_long hook_countdown;

long gfuse_i_alloc_fail_after(long n)
{
    long counted = atomic_exchange(&hook_count, 0);
    atomic_store(&hook_countdown, n > 0 ? n : 0);
    atomic_store(&hook_on, n >= 0);
    return counted;
}

/* Whether the hook makes this allocation fail. */
static bool hook_fails(void)
{
    atomic_fetch_add_explicit(&hook_count, 1, memory_order_relaxed);
    return atomic_load_explicit(&hook_countdown, memory_order_relaxed) > 0 &&
           atomic_fetch_sub(&hook_countdown, 1) == 1;
}

/* Every allocation of the library passes here (gfuse_i_alloc, _zalloc, _realloc, _strdup,
 * _asprintf). */
static void *block_alloc(void *old, size_t bytes, bool zero)
{
    if (bytes == 0) return NULL;
    if (atomic_load_explicit(&hook_on, memory_order_relaxed) && hook_fails()) return NULL;
    if (old) return realloc(old, bytes);
    return zero ? calloc(1, bytes) : malloc(bytes);
}

void *gfuse_i_alloc(size_t count, size_t size)
{
    return block_alloc(NULL, alloc_bytes(count, size), false);
}

void *gfuse_i_zalloc(size_t count, size_t size)
{
    return block_alloc(NULL, alloc_bytes(count, size), true);
}

void *gfuse_i_realloc(void *p, size_t count, size_t size)
{
    return block_alloc(p, alloc_bytes(count, size), false);
}

char *gfuse_i_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = gfuse_i_alloc(n, 1);
    if (p) memcpy(p, s, n);
    return p;
}

char *gfuse_i_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *p = gfuse_i_alloc((size_t)n + 1, 1);
    if (!p) return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

char *gfuse_i_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir);
    if (n > 0 && dir[n - 1] == '/') return gfuse_i_asprintf("%s%s", dir, name);
    return gfuse_i_asprintf("%s/%s", dir, name);
}

void gfuse_i_free_strings(char **s, int64_t n)
{
    if (!s) return;
    for (int64_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

/* ---- digests ---------------------------------------------------------------------------- */

uint64_t gfuse_i_digest(uint64_t h, const void *buf, size_t n)
{
    const unsigned char *p = buf;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 1099511628211ULL;
        h ^= h >> 29;
    }
    for (; n > 0; n--, p++) h = (h ^ *p) * 1099511628211ULL;
    return h;
}

/* ---- id map --------------------------------------------------------------------------- */

struct gfuse_i_idmap {
    uint64_t cap; /* power of two */
    uint64_t used;
    const char **key;
    int64_t *value;
};

static uint64_t hash_string(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, then a final mix */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

gfuse_i_idmap *gfuse_i_idmap_new(int64_t capacity_hint)
{
    gfuse_i_idmap *m = gfuse_i_zalloc(1, sizeof *m);
    if (!m) return NULL;
    uint64_t cap = 16;
    while (cap < (uint64_t)(capacity_hint > 0 ? capacity_hint : 0) * 2) cap <<= 1;
    m->cap = cap;
    m->key = gfuse_i_zalloc(cap, sizeof *m->key);
    m->value = gfuse_i_alloc(cap, sizeof *m->value);
    if (!m->key || !m->value) {
        gfuse_i_idmap_free(m);
        return NULL;
    }
    return m;
}

void gfuse_i_idmap_free(gfuse_i_idmap *m)
{
    if (!m) return;
    free(m->key);
    free(m->value);
    free(m);
}

static int idmap_grow(gfuse_i_idmap *m)
{
    uint64_t cap = m->cap * 2;
    const char **key = gfuse_i_zalloc(cap, sizeof *key);
    int64_t *value = gfuse_i_alloc(cap, sizeof *value);
    if (!key || !value) {
        free(key);
        free(value);
        return -1;
    }
    for (uint64_t i = 0; i < m->cap; i++) {
        if (!m->key[i]) continue;
        uint64_t h = hash_string(m->key[i]) & (cap - 1);
        while (key[h]) h = (h + 1) & (cap - 1);
        key[h] = m->key[i];
        value[h] = m->value[i];
    }
    free(m->key);
    free(m->value);
    m->key = key;
    m->value = value;
    m->cap = cap;
    return 0;
}

int gfuse_i_idmap_insert(gfuse_i_idmap *m, const char *key, int64_t value, int64_t *existing)
{
    if ((m->used + 1) * 2 > m->cap && idmap_grow(m) != 0) return -1;
    uint64_t h = hash_string(key) & (m->cap - 1);
    while (m->key[h]) {
        if (strcmp(m->key[h], key) == 0) {
            if (existing) *existing = m->value[h];
            return 0;
        }
        h = (h + 1) & (m->cap - 1);
    }
    m->key[h] = key;
    m->value[h] = value;
    m->used++;
    return 1;
}

int64_t gfuse_i_idmap_find(const gfuse_i_idmap *m, const char *key)
{
    uint64_t h = hash_string(key) & (m->cap - 1);
    while (m->key[h]) {
        if (strcmp(m->key[h], key) == 0) return m->value[h];
        h = (h + 1) & (m->cap - 1);
    }
    return -1;
}
