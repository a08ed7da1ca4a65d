/*
 * utf8.h: the one UTF-8 check, header-only so that the tool (which sees only the public API of
 * the shared library) and the library's readers share it.
 */
#ifndef GFUSE_UTF8_H
#define GFUSE_UTF8_H

#include <stddef.h>
#include <string.h>

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0: overlong forms,
 * surrogates and code points above U+10FFFF are invalid. On a NUL-terminated string n may
 * exceed what is left: the NUL is never a continuation byte. */
static inline size_t gfuse_i_utf8_sequence(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) len = 2, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, min = 0x10000;
    else return 0;
    if (len > n) return 0;
    unsigned cp = c & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* 1 when the NUL-terminated s is valid UTF-8 throughout. */
static inline int gfuse_i_utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t k = 0; k < n;) {
        size_t len = gfuse_i_utf8_sequence(p + k, n - k);
        if (len == 0) return 0;
        k += len;
    }
    return 1;
}

#endif
