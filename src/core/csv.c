/* csv.c: the streaming CSV/TSV tokenizer, number parsing and the two table readers (csv.h). */
#include "core/csv.h"
#include "core/utf8.h"
#include "core/util.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- string pool ---------------------------------------------------------------------------- */

enum { POOL_BLOCK = 64 * 1024 };

typedef struct pool_block {
    struct pool_block *next;
    size_t used, cap;
    char data[];
} pool_block;

struct gfuse_i_strpool {
    pool_block *head; /* the block being filled; older blocks follow */
    size_t bytes;
};

gfuse_i_strpool *gfuse_i_strpool_new(void) { return gfuse_i_zalloc(1, sizeof(gfuse_i_strpool)); }

void gfuse_i_strpool_free(gfuse_i_strpool *pool)
{
    if (!pool) return;
    pool_block *b = pool->head;
    while (b) {
        pool_block *next = b->next;
        free(b);
        b = next;
    }
    free(pool);
}

char *gfuse_i_strpool_add(gfuse_i_strpool *pool, const char *s, size_t n)
{
    pool_block *b = pool->head;
    if (!b || b->cap - b->used < n + 1) {
        size_t cap = n + 1 > POOL_BLOCK ? n + 1 : POOL_BLOCK;
        pool_block *nb = gfuse_i_alloc(1, sizeof *nb + cap);
        if (!nb) return NULL;
        nb->used = 0;
        nb->cap = cap;
        /* A string too big for a fresh block of the usual size gets a block of its own behind
         * the head, so that the head's free space is not wasted. */
        if (b && cap > POOL_BLOCK) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            pool->head = nb;
        }
        pool->bytes += cap;
        b = nb;
    }
    char *p = b->data + b->used;
    memcpy(p, s, n);
    p[n] = '\0';
    b->used += n + 1;
    return p;
}

void gfuse_i_strpool_absorb(gfuse_i_strpool *dst, gfuse_i_strpool *src)
{
    if (!src) return;
    if (src->head) {
        pool_block *tail = src->head;
        while (tail->next) tail = tail->next;
        /* dst's head keeps being filled; src's blocks go behind it. */
        if (dst->head) {
            tail->next = dst->head->next;
            dst->head->next = src->head;
        } else {
            dst->head = src->head;
        }
        dst->bytes += src->bytes;
    }
    free(src);
}

/* ---- tokenizer ---------------------------------------------------------------------------------- */

/* The read buffer's size; the fuzzing build (make fuzz) makes it tiny so that short inputs
 * cross buffer boundaries. */
#ifndef GFUSE_CSV_BUF
#define GFUSE_CSV_BUF (1 << 20)
#endif
enum { CSV_BUF = GFUSE_CSV_BUF };

/* Byte classes; the fast scans rely on PLAIN and BLANK being the two smallest. */
enum { C_PLAIN = 0, C_BLANK = 1, C_DELIM = 2, C_NL = 3, C_QUOTE = 4 };

enum { PEEK_EOF = -1, PEEK_ERR = -2 };

struct gfuse_i_csv {
    FILE *f;
    char *path;
    char delim;
    unsigned char cls[256];
    unsigned char *buf; /* CSV_BUF + 1 bytes: a field ending at the buffer's end can be terminated */
    size_t len, pos;
    int eof;
    int64_t line;     /* physical line of buf[pos] */
    int after_cr;     /* the last byte consumed was a CR ending a line (a following LF is no new line) */
    int at_start;     /* the next field starts a record */
    int64_t col;      /* field number of the last field returned */
    char *scratch;    /* fields that span buffers or need unquoting */
    size_t slen, scap;
    gfuse_status err; /* the failure behind PEEK_ERR */
};

static int csv_fill(gfuse_i_csv *r)
{
    r->pos = 0;
    r->len = 0;
    if (r->eof) return 0;
    r->len = fread(r->buf, 1, CSV_BUF, r->f);
    if (r->len < CSV_BUF) {
        if (ferror(r->f)) {
            r->err = gfuse_i_error(GFUSE_ERR_IO, "%s: read failed: %s", r->path, strerror(errno));
            return -1;
        }
        r->eof = 1;
    }
    return r->len > 0;
}

static int csv_peek(gfuse_i_csv *r)
{
    if (r->pos == r->len) {
        int st = csv_fill(r);
        if (st < 0) return PEEK_ERR;
        if (st == 0) return PEEK_EOF;
    }
    return r->buf[r->pos];
}

/* Positions the reader at the start of the file, past a byte-order mark. */
static gfuse_status csv_rewind(gfuse_i_csv *r)
{
    if (fseek(r->f, 0, SEEK_SET) != 0)
        return gfuse_i_error(GFUSE_ERR_IO, "%s: cannot rewind: %s", r->path, strerror(errno));
    clearerr(r->f);
    r->eof = 0;
    if (csv_fill(r) < 0) return r->err;
    if (r->len >= 3 && r->buf[0] == 0xEF && r->buf[1] == 0xBB && r->buf[2] == 0xBF) r->pos = 3;
    r->line = 1;
    r->after_cr = 0;
    r->at_start = 1;
    r->col = 0;
    return GFUSE_OK;
}

/* The delimiter of the header line: tab when it has more tabs than commas outside quotes. */
static char sniff_delimiter(const gfuse_i_csv *r)
{
    int64_t commas = 0, tabs = 0;
    int quoted = 0;
    for (size_t i = r->pos; i < r->len; i++) {
        unsigned char c = r->buf[i];
        if (c == '"') quoted = !quoted;
        else if (!quoted && (c == '\n' || c == '\r')) break;
        else if (!quoted && c == ',') commas++;
        else if (!quoted && c == '\t') tabs++;
    }
    return tabs > commas ? '\t' : ',';
}

static char delimiter_of_extension(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    if (!dot) return 0;
    if (strcasecmp(dot, ".csv") == 0) return ',';
    if (strcasecmp(dot, ".tsv") == 0 || strcasecmp(dot, ".tab") == 0) return '\t';
    return 0;
}

gfuse_status gfuse_i_csv_open(gfuse_i_csv **out, const char *path)
{
    *out = NULL;
    gfuse_status st = GFUSE_OK;
    gfuse_i_csv *r = gfuse_i_zalloc(1, sizeof *r);
    if (!r) return gfuse_i_nomem("a file reader");
    r->path = gfuse_i_strdup(path);
    r->buf = gfuse_i_alloc(CSV_BUF + 1, 1);
    r->scap = 256;
    r->scratch = gfuse_i_alloc(r->scap, 1);
    GFUSE_TRY_MEM(r->path && r->buf && r->scratch, "a file reader");
    r->f = fopen(path, "rb");
    if (!r->f)
        GFUSE_FAIL(gfuse_i_error(GFUSE_ERR_IO, "%s: cannot open: %s", path, strerror(errno)));
    GFUSE_TRY(csv_rewind(r));
    r->delim = delimiter_of_extension(path);
    if (!r->delim) r->delim = sniff_delimiter(r);
    memset(r->cls, C_PLAIN, sizeof r->cls);
    r->cls[' '] = C_BLANK;
    r->cls['\t'] = C_BLANK;
    r->cls[(unsigned char)r->delim] = C_DELIM;
    r->cls['\n'] = C_NL;
    r->cls['\r'] = C_NL;
    r->cls['"'] = C_QUOTE;
done:
    if (st != GFUSE_OK) {
        gfuse_i_csv_close(r);
        r = NULL;
    }
    *out = r;
    return st;
}

void gfuse_i_csv_close(gfuse_i_csv *r)
{
    if (!r) return;
    if (r->f) fclose(r->f);
    free(r->path);
    free(r->buf);
    free(r->scratch);
    free(r);
}

static int scratch_push(gfuse_i_csv *r, int c)
{
    if (r->slen + 1 >= r->scap) {
        size_t cap = r->scap * 2;
        char *s = gfuse_i_realloc(r->scratch, cap, 1);
        if (!s) {
            r->err = gfuse_i_nomem("a field of a text file");
            return -1;
        }
        r->scratch = s;
        r->scap = cap;
    }
    r->scratch[r->slen++] = (char)c;
    return 0;
}

/* Bookkeeping after the byte t that ended a field was consumed (t < 0: end of input). */
static void end_field(gfuse_i_csv *r, int t, gfuse_i_csv_field *f)
{
    r->after_cr = 0;
    if (t == r->delim) {
        f->last = 0;
        return;
    }
    f->last = 1;
    r->at_start = 1;
    if (t == '\n' || t == '\r') {
        r->line++;
        r->after_cr = t == '\r';
    }
}

static void trim_unquoted(const gfuse_i_csv *r, gfuse_i_csv_field *f, char *s)
{
    size_t n = f->n;
    while (n > 0 && r->cls[(unsigned char)s[n - 1]] == C_BLANK) n--;
    s[n] = '\0';
    while (n > 0 && r->cls[(unsigned char)*s] == C_BLANK) {
        s++;
        n--;
    }
    f->s = s;
    f->n = n;
}

/* A field that spans a buffer boundary, or is quoted, or holds a stray quote: byte by byte. */
static int next_slow(gfuse_i_csv *r, gfuse_i_csv_field *f)
{
    int c;
    r->slen = 0;
    for (;;) { /* leading blanks: kept unless a quote follows */
        c = csv_peek(r);
        if (c == PEEK_ERR) return r->err;
        if (c < 0 || r->cls[c] != C_BLANK) break;
        if (scratch_push(r, c) != 0) return r->err;
        r->pos++;
    }
    if (c == '"') {
        int64_t open_line = r->line;
        int prev_cr = 0;
        f->quoted = 1;
        r->slen = 0;
        r->pos++;
        for (;;) {
            c = csv_peek(r);
            if (c == PEEK_ERR) return r->err;
            if (c == PEEK_EOF)
                return gfuse_i_error_at(GFUSE_ERR_DATA, r->path, open_line, f->col,
                                        "unterminated quoted field: the quote opened here is "
                                        "never closed");
            r->pos++;
            if (c == '"') {
                int c2 = csv_peek(r);
                if (c2 == PEEK_ERR) return r->err;
                if (c2 != '"') break;
                r->pos++;
            } else if (c == '\n') {
                if (!prev_cr) r->line++;
            } else if (c == '\r') {
                r->line++;
            }
            prev_cr = c == '\r';
            if (scratch_push(r, c) != 0) return r->err;
        }
        for (;;) { /* blanks after the closing quote, then the end of the field */
            c = csv_peek(r);
            if (c == PEEK_ERR) return r->err;
            if (c < 0 || r->cls[c] != C_BLANK) break;
            r->pos++;
        }
        if (c >= 0 && r->cls[c] != C_DELIM && r->cls[c] != C_NL)
            return gfuse_i_error_at(GFUSE_ERR_DATA, r->path, r->line, f->col,
                                    "unexpected text after the closing quote of a quoted field "
                                    "(a quote inside a quoted field is written \"\")");
        if (c >= 0) r->pos++;
        end_field(r, c, f);
        r->scratch[r->slen] = '\0';
        f->s = r->scratch;
        f->n = r->slen;
        return 1;
    }
    for (;;) {
        c = csv_peek(r);
        if (c == PEEK_ERR) return r->err;
        if (c == PEEK_EOF) break;
        r->pos++;
        if (r->cls[c] == C_DELIM || r->cls[c] == C_NL) break;
        if (scratch_push(r, c) != 0) return r->err;
    }
    end_field(r, c, f);
    f->n = r->slen;
    trim_unquoted(r, f, r->scratch);
    return 1;
}

int gfuse_i_csv_next(gfuse_i_csv *r, gfuse_i_csv_field *f)
{
    if (r->at_start) { /* skip empty lines */
        for (;;) {
            int c = csv_peek(r);
            if (c == PEEK_ERR) return r->err;
            if (c == PEEK_EOF) return 0;
            if (c == '\n') {
                if (!r->after_cr) r->line++;
            } else if (c == '\r') {
                r->line++;
            } else {
                break;
            }
            r->after_cr = c == '\r';
            r->pos++;
        }
        r->at_start = 0;
        r->after_cr = 0;
        r->col = 0;
    } else if (r->pos == r->len && csv_peek(r) == PEEK_ERR) {
        return r->err;
    }
    r->col++;
    f->line = r->line;
    f->col = r->col;
    f->quoted = 0;
    /* Fast path: an unquoted field that ends inside the buffer is terminated in place. */
    const unsigned char *cls = r->cls;
    unsigned char *b = r->buf;
    size_t p = r->pos;
    while (p < r->len && cls[b[p]] <= C_BLANK) p++;
    if (p < r->len && cls[b[p]] != C_QUOTE) {
        int t = b[p];
        b[p] = '\0';
        f->n = p - r->pos;
        char *s = (char *)b + r->pos;
        r->pos = p + 1;
        end_field(r, t, f);
        trim_unquoted(r, f, s);
        return 1;
    }
    return next_slow(r, f);
}

gfuse_status gfuse_i_csv_count_records(gfuse_i_csv *r, int64_t *n_records)
{
    enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_SEEN };
    *n_records = 0;
    gfuse_status st = csv_rewind(r);
    if (st != GFUSE_OK) return st;
    const unsigned char *cls = r->cls;
    int64_t records = 0;
    int content = 0, state = FIELD_START;
    for (;;) {
        const unsigned char *b = r->buf;
        size_t i = r->pos, len = r->len;
        /* Without quotes and CRs in the buffer, whole lines are counted with memchr; the tail
         * after the last newline goes through the state machine below. */
        if (state != QUOTED && state != QUOTE_SEEN && !memchr(b + i, '"', len - i) &&
            !memchr(b + i, '\r', len - i)) {
            const unsigned char *q;
            while ((q = memchr(b + i, '\n', len - i)) != NULL) {
                size_t k = (size_t)(q - b);
                if (k > i) content = 1;
                records += content;
                content = 0;
                state = FIELD_START;
                i = k + 1;
            }
        }
        while (i < len) {
            int k = cls[b[i]];
            switch (state) {
            case FIELD_START:
                if (k == C_QUOTE) state = QUOTED;
                else if (k == C_NL) {
                    if (content) records++;
                    content = 0;
                    i++;
                    continue;
                } else if (k == C_PLAIN) state = UNQUOTED;
                content = 1;
                i++;
                break;
            case UNQUOTED:
                while (i < len && cls[b[i]] != C_DELIM && cls[b[i]] != C_NL) i++;
                if (i == len) break;
                if (cls[b[i]] == C_NL) {
                    records++;
                    content = 0;
                }
                state = FIELD_START;
                i++;
                break;
            case QUOTED: {
                const unsigned char *q = memchr(b + i, '"', len - i);
                if (!q) {
                    i = len;
                    break;
                }
                i = (size_t)(q - b) + 1;
                state = QUOTE_SEEN;
                break;
            }
            case QUOTE_SEEN:
                if (k == C_QUOTE) state = QUOTED;
                else if (k == C_DELIM) state = FIELD_START;
                else if (k == C_NL) {
                    records++;
                    content = 0;
                    state = FIELD_START;
                } else state = UNQUOTED;
                i++;
                break;
            }
        }
        r->pos = len;
        int got = csv_fill(r);
        if (got < 0) return r->err;
        if (got == 0) break;
    }
    if (content) records++;
    *n_records = records;
    return csv_rewind(r);
}

/* ---- numbers ------------------------------------------------------------------------------------ */

int gfuse_i_is_missing(const char *s, size_t n)
{
    switch (n) {
    case 0: return 1;
    case 2: return strncasecmp(s, "na", 2) == 0;
    case 3: return strncasecmp(s, "nan", 3) == 0 || strncasecmp(s, "n/a", 3) == 0;
    default: return 0;
    }
}

static int is_infinity_word(const char *s, size_t n)
{
    if (n > 0 && (*s == '+' || *s == '-')) {
        s++;
        n--;
    }
    return (n == 3 && strncasecmp(s, "inf", 3) == 0) ||
           (n == 8 && strncasecmp(s, "infinity", 8) == 0);
}

/* The decimal syntax, read into a mantissa of at most 19 significant digits and a power of ten.
 * exact is 0 when nonzero digits were dropped. */
typedef struct {
    int negative;
    uint64_t mantissa;
    int64_t exp10;
    int exact;
} decimal;

/* Numbers with more than 19 digits: leading zeros skipped, digits beyond the 19th dropped
 * (noted in exact). The syntax was already checked. */
static void scan_long_digits(const char *p, size_t n_int, size_t n_frac, decimal *d)
{
    int digits = 0;
    d->mantissa = 0;
    d->exact = 1;
    for (size_t k = 0; k < n_int + n_frac; k++, p++) {
        if (k == n_int) p++; /* the decimal point */
        unsigned v = (unsigned)(*p - '0');
        int fraction = k >= n_int;
        if (digits < 19) {
            if (fraction) d->exp10--;
            if (d->mantissa == 0 && v == 0) continue;
            d->mantissa = d->mantissa * 10 + v;
            digits++;
        } else {
            if (!fraction) d->exp10++;
            if (v) d->exact = 0;
        }
    }
}

/* Reads [+-] digits [. digits] [(e|E) [+-] digits] spanning all of s[0..n); 0 if it does not. */
static int scan_decimal(const char *s, size_t n, decimal *d)
{
    const char *p = s, *end = s + n;
    d->negative = 0;
    d->exact = 1;
    if (p < end && (*p == '+' || *p == '-')) d->negative = *p++ == '-';
    const char *first = p;
    uint64_t mantissa = 0; /* wraps when there are more than 19 digits; then recomputed */
    while (p < end && (unsigned)(*p - '0') < 10) mantissa = mantissa * 10 + (unsigned)(*p++ - '0');
    size_t n_int = (size_t)(p - first), n_frac = 0;
    if (p < end && *p == '.') {
        const char *fraction = ++p;
        while (p < end && (unsigned)(*p - '0') < 10)
            mantissa = mantissa * 10 + (unsigned)(*p++ - '0');
        n_frac = (size_t)(p - fraction);
    }
    if (n_int + n_frac == 0) return 0;
    int64_t e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        int negative = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) negative = *p++ == '-';
        if (p == end || (unsigned)(*p - '0') >= 10) return 0;
        for (; p < end && (unsigned)(*p - '0') < 10; p++)
            if (e < 100000) e = e * 10 + (*p - '0');
        if (negative) e = -e;
    }
    if (p != end) return 0;
    d->exp10 = e;
    if (n_int + n_frac <= 19) {
        d->mantissa = mantissa;
        d->exp10 -= (int64_t)n_frac;
    } else {
        scan_long_digits(first, n_int, n_frac, d);
    }
    return 1;
}

static const float pow10_float[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f,
                                      1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Clinger's fast path: a mantissa below 2^53 times or over an exact power of ten is one
 * correctly rounded double operation. Returns 0 when it does not apply. */
static int decimal_to_double_fast(const decimal *d, double *out)
{
    if (!d->exact || d->mantissa > (UINT64_C(1) << 53) || d->exp10 < -22 || d->exp10 > 22)
        return 0;
    double v = (double)d->mantissa;
    v = d->exp10 < 0 ? v / pow10_exact[-d->exp10] : v * pow10_exact[d->exp10];
    *out = d->negative ? -v : v;
    return 1;
}

/* strtof/strtod need a NUL-terminated copy only when s[n] is not already a terminator. */
static gfuse_i_num parse_slow(const char *s, size_t n, int as_float, double *out)
{
    char small[64];
    char *copy = n < sizeof small ? small : gfuse_i_alloc(n + 1, 1);
    if (!copy) return GFUSE_I_NUM_BAD;
    memcpy(copy, s, n);
    copy[n] = '\0';
    double v = as_float ? (double)strtof(copy, NULL) : strtod(copy, NULL);
    if (copy != small) free(copy);
    if (isinf(v)) return GFUSE_I_NUM_INF;
    *out = v;
    return GFUSE_I_NUM_OK;
}

gfuse_i_num gfuse_i_parse_float(const char *s, size_t n, float *out)
{
    decimal d;
    if (!scan_decimal(s, n, &d)) {
        if (gfuse_i_is_missing(s, n)) {
            *out = NAN;
            return GFUSE_I_NUM_MISSING;
        }
        return is_infinity_word(s, n) ? GFUSE_I_NUM_INF : GFUSE_I_NUM_BAD;
    }
    if (d.mantissa == 0) {
        *out = d.negative ? -0.0f : 0.0f;
        return GFUSE_I_NUM_OK;
    }
    if (d.exact && d.mantissa < (UINT64_C(1) << 24) && d.exp10 >= -10 && d.exp10 <= 10) {
        /* mantissa and power of ten are exact floats: one correctly rounded float operation */
        float f = (float)d.mantissa;
        f = d.exp10 < 0 ? f / pow10_float[-d.exp10] : f * pow10_float[d.exp10];
        *out = d.negative ? -f : f;
        return GFUSE_I_NUM_OK;
    }
    double v;
    if (decimal_to_double_fast(&d, &v)) {
        /* Rounding the correctly rounded double to float is exact unless the double falls on a
         * midpoint between two floats (the low 29 of its 52 fraction bits are 1000...0): no
         * float midpoint can then lie between the decimal value and the double. Subnormal and
         * overflowing results take the slow path. */
        double a = fabs(v);
        if (a >= FLT_MIN && a <= FLT_MAX) {
            uint64_t bits;
            memcpy(&bits, &v, sizeof bits);
            if ((bits & UINT64_C(0x1FFFFFFF)) != UINT64_C(0x10000000)) {
                *out = (float)v;
                return GFUSE_I_NUM_OK;
            }
        }
    }
    gfuse_i_num st = parse_slow(s, n, 1, &v);
    if (st == GFUSE_I_NUM_OK) *out = (float)v;
    return st;
}

gfuse_i_num gfuse_i_parse_double(const char *s, size_t n, double *out)
{
    decimal d;
    if (!scan_decimal(s, n, &d)) {
        if (gfuse_i_is_missing(s, n)) {
            *out = NAN;
            return GFUSE_I_NUM_MISSING;
        }
        return is_infinity_word(s, n) ? GFUSE_I_NUM_INF : GFUSE_I_NUM_BAD;
    }
    if (decimal_to_double_fast(&d, out)) return GFUSE_I_NUM_OK;
    return parse_slow(s, n, 0, out);
}

/* ---- tables ----------------------------------------------------------------------------------- */

/* At most this many bytes of a cell are quoted back in a message. */
#define SHOW "%.60s"

/* A text field (an id, a name, a label): a NUL byte or invalid UTF-8 is GFUSE_ERR_DATA naming
 * the field and the byte, as either would silently change what the text means. */
static gfuse_status check_text(const char *path, const gfuse_i_csv_field *f, const char *what)
{
    const unsigned char *s = (const unsigned char *)f->s;
    for (size_t k = 0; k < f->n;) {
        if (s[k] == 0)
            return gfuse_i_error_at(GFUSE_ERR_DATA, path, f->line, f->col,
                                    "%s holds a NUL byte (byte %zu of the field)", what, k + 1);
        size_t len = gfuse_i_utf8_sequence(s + k, f->n - k);
        if (len == 0)
            return gfuse_i_error_at(GFUSE_ERR_DATA, path, f->line, f->col,
                                    "%s is not valid UTF-8 (byte %zu of the field is 0x%02X)",
                                    what, k + 1, s[k]);
        k += len;
    }
    return GFUSE_OK;
}

/* Reads the header record into pool strings. */
static gfuse_status read_header(gfuse_i_csv *r, const char *path, const char *what,
                                gfuse_i_strpool *pool, char ***names_out, int64_t *n_out,
                                int *all_numbers)
{
    gfuse_status st = GFUSE_OK;
    char **names = NULL;
    int64_t n = 0, cap = 0;
    *all_numbers = 1;
    gfuse_i_csv_field f;
    for (;;) {
        int got = gfuse_i_csv_next(r, &f);
        if (got < 0) GFUSE_FAIL((gfuse_status)got);
        if (got == 0)
            GFUSE_FAIL(gfuse_i_error_at(GFUSE_ERR_DATA, path, 1, 1,
                                        "empty file: expected a header row %s", what));
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = gfuse_i_realloc(names, cap, sizeof *grown);
            GFUSE_TRY_MEM(grown, "a header row");
            names = grown;
        }
        GFUSE_TRY(check_text(path, &f, n == 0 ? "the id column's name" : "a column name"));
        names[n] = gfuse_i_strpool_add(pool, f.s, f.n);
        GFUSE_TRY_MEM(names[n], "a header row");
        if (n > 0) {
            float v;
            if (f.quoted || gfuse_i_parse_float(f.s, f.n, &v) != GFUSE_I_NUM_OK) *all_numbers = 0;
        }
        n++;
        if (f.last) break;
    }
    *names_out = names;
    *n_out = n;
    names = NULL;
done:
    free(names);
    return st;
}

/* Checks the column names after the id column: present, unique, and not a row of data. */
static gfuse_status check_header(const char *path, char **names, int64_t n, int all_numbers,
                                 const char *what, const char *noun)
{
    gfuse_status st = GFUSE_OK;
    if (n < 2)
        return gfuse_i_error_at(GFUSE_ERR_DATA, path, 1, 1,
                                "the header has 1 column; expected %s", what);
    if (all_numbers)
        return gfuse_i_error_at(GFUSE_ERR_DATA, path, 1, 2,
                                "missing header: the first row holds numbers (\"" SHOW "\"); "
                                "expected %s (quote numeric %ss)", names[1], what, noun);
    gfuse_i_idmap *seen = gfuse_i_idmap_new(n);
    if (!seen) return gfuse_i_nomem("a header row");
    for (int64_t j = 1; j < n; j++) {
        int64_t first = -1;
        if (names[j][0] == '\0') {
            st = gfuse_i_error_at(GFUSE_ERR_DATA, path, 1, j + 1, "empty %s in the header", noun);
            break;
        }
        int ins = gfuse_i_idmap_insert(seen, names[j], j + 1, &first);
        if (ins < 0) {
            st = gfuse_i_nomem("a header row");
            break;
        }
        if (ins == 0) {
            st = gfuse_i_error_at(GFUSE_ERR_DATA, path, 1, j + 1,
                                  "duplicate %s \"" SHOW "\" (also column %lld)", noun, names[j],
                                  (long long)first);
            break;
        }
    }
    gfuse_i_idmap_free(seen);
    return st;
}

/* Stores the id of a row; the map's values are the lines ids were first seen on. */
static gfuse_status take_id(const char *path, const gfuse_i_csv_field *f, gfuse_i_strpool *pool,
                            gfuse_i_idmap *seen, char **id_out)
{
    if (f->n == 0) return gfuse_i_error_at(GFUSE_ERR_DATA, path, f->line, 1, "empty sample id");
    gfuse_status st = check_text(path, f, "the sample id");
    if (st != GFUSE_OK) return st;
    char *id = gfuse_i_strpool_add(pool, f->s, f->n);
    if (!id) return gfuse_i_nomem("sample ids");
    int64_t first = -1;
    int ins = gfuse_i_idmap_insert(seen, id, f->line, &first);
    if (ins < 0) return gfuse_i_nomem("sample ids");
    if (ins == 0)
        return gfuse_i_error_at(GFUSE_ERR_DATA, path, f->line, 1,
                                "duplicate id \"" SHOW "\" (first on line %lld)", id,
                                (long long)first);
    *id_out = id;
    return GFUSE_OK;
}

/* A row with more fields than the header: reads the rest to count them. */
static gfuse_status too_many_fields(gfuse_i_csv *r, const char *path, gfuse_i_csv_field *f,
                                    int64_t n_cols)
{
    int64_t line = f->line;
    while (!f->last) {
        int got = gfuse_i_csv_next(r, f);
        if (got < 0) return (gfuse_status)got;
        if (got == 0) break;
    }
    return gfuse_i_error_at(GFUSE_ERR_DATA, path, line, n_cols + 1,
                            "row has %lld fields but the header has %lld", (long long)f->col,
                            (long long)n_cols);
}

static gfuse_status too_few_fields(const char *path, const gfuse_i_csv_field *f, char **header,
                                   int64_t n_cols)
{
    return gfuse_i_error_at(GFUSE_ERR_DATA, path, f->line, f->col + 1,
                            "row has %lld field%s but the header has %lld (column \"" SHOW
                            "\" is missing)",
                            (long long)f->col, f->col == 1 ? "" : "s", (long long)n_cols,
                            header[f->col]);
}

static gfuse_status file_changed(const char *path)
{
    return gfuse_i_error(GFUSE_ERR_IO, "%s: the file changed while it was being read", path);
}

void gfuse_i_matrix_free(gfuse_i_matrix *m)
{
    if (!m) return;
    free(m->feature);
    free(m->row_id);
    free(m->x);
    gfuse_i_strpool_free(m->pool);
    memset(m, 0, sizeof *m);
}

static gfuse_status parse_cell(const char *path, const gfuse_i_csv_field *f, const char *name,
                               float *out)
{
    switch (gfuse_i_parse_float(f->s, f->n, out)) {
    case GFUSE_I_NUM_OK:
    case GFUSE_I_NUM_MISSING: return GFUSE_OK;
    case GFUSE_I_NUM_INF:
        return gfuse_i_error_at(GFUSE_ERR_DATA, path, f->line, f->col,
                                "column \"" SHOW "\": infinite value \"" SHOW "\"", name, f->s);
    case GFUSE_I_NUM_BAD: break;
    }
    if (memchr(f->s, '\0', f->n))
        return gfuse_i_error_at(GFUSE_ERR_DATA, path, f->line, f->col,
                                "column \"" SHOW "\": the cell holds a NUL byte", name);
    return gfuse_i_error_at(GFUSE_ERR_DATA, path, f->line, f->col,
                            "column \"" SHOW "\": \"" SHOW "\" is not a number", name, f->s);
}

/* The data rows of a file whose header is read: n_rows records of n_cols fields each; cell
 * takes every field of row `row` in turn, the id (column 1) first. A record too short or too
 * long is GFUSE_ERR_DATA naming it, a row count other than n_rows a changed file. */
typedef gfuse_status (*row_cell_fn)(void *ctx, int64_t row, const gfuse_i_csv_field *f);

static gfuse_status read_rows(gfuse_i_csv *r, const char *path, char **header, int64_t n_cols,
                              int64_t n_rows, row_cell_fn cell, void *ctx)
{
    gfuse_i_csv_field f;
    int64_t row = 0;
    for (;;) {
        int got = gfuse_i_csv_next(r, &f);
        if (got < 0) return (gfuse_status)got;
        if (got == 0) break;
        if (row == n_rows) return file_changed(path);
        gfuse_status st = cell(ctx, row, &f);
        if (st != GFUSE_OK) return st;
        while (!f.last) {
            got = gfuse_i_csv_next(r, &f);
            if (got < 0) return (gfuse_status)got;
            if (f.col > n_cols) return too_many_fields(r, path, &f, n_cols);
            st = cell(ctx, row, &f);
            if (st != GFUSE_OK) return st;
        }
        if (f.col < n_cols) return too_few_fields(path, &f, header, n_cols);
        row++;
    }
    return row != n_rows ? file_changed(path) : GFUSE_OK;
}

/* A matrix row: the id, then a number per feature. */
typedef struct {
    const char *path;
    gfuse_i_matrix *m;
    gfuse_i_idmap *seen;
    char **header;
} matrix_rows;

static gfuse_status matrix_cell(void *ctx, int64_t row, const gfuse_i_csv_field *f)
{
    matrix_rows *mr = ctx;
    gfuse_i_matrix *m = mr->m;
    if (f->col == 1) return take_id(mr->path, f, m->pool, mr->seen, &m->row_id[row]);
    return parse_cell(mr->path, f, mr->header[f->col - 1], &m->x[row * m->d + f->col - 2]);
}

/* A table row: the id and its line, then the other cells as strings. */
typedef struct {
    const char *path;
    gfuse_i_table *t;
    gfuse_i_idmap *seen;
} table_rows;

static gfuse_status table_cell(void *ctx, int64_t row, const gfuse_i_csv_field *f)
{
    table_rows *tr = ctx;
    gfuse_i_table *t = tr->t;
    char **cells = t->cell + row * t->n_cols;
    if (f->col == 1) {
        t->line[row] = f->line;
        return take_id(tr->path, f, t->pool, tr->seen, &cells[0]);
    }
    gfuse_status st = check_text(tr->path, f, "the value");
    if (st != GFUSE_OK) return st;
    cells[f->col - 1] = gfuse_i_strpool_add(t->pool, f->s, f->n);
    return cells[f->col - 1] ? GFUSE_OK : gfuse_i_nomem("a table");
}

static const char MATRIX_HEADER[] = "id,<feature names...>";

gfuse_status gfuse_i_read_matrix(const char *path, gfuse_i_matrix *m)
{
    gfuse_status st;
    gfuse_i_csv *r = NULL;
    gfuse_i_idmap *seen = NULL;
    char **header = NULL;
    int64_t n_cols = 0, n_records = 0;
    int all_numbers;
    memset(m, 0, sizeof *m);

    st = gfuse_i_csv_open(&r, path);
    if (st != GFUSE_OK) goto done;
    st = gfuse_i_csv_count_records(r, &n_records);
    if (st != GFUSE_OK) goto done;
    m->pool = gfuse_i_strpool_new();
    if (!m->pool) {
        st = gfuse_i_nomem("feature names");
        goto done;
    }
    st = read_header(r, path, MATRIX_HEADER, m->pool, &header, &n_cols, &all_numbers);
    if (st != GFUSE_OK) goto done;
    st = check_header(path, header, n_cols, all_numbers, MATRIX_HEADER, "feature name");
    if (st != GFUSE_OK) goto done;

    m->d = n_cols - 1;
    m->n_rows = n_records - 1;
    m->feature = gfuse_i_alloc(m->d, sizeof *m->feature);
    if (!m->feature) {
        st = gfuse_i_nomem("feature names");
        goto done;
    }
    memcpy(m->feature, header + 1, (size_t)m->d * sizeof *m->feature);
    m->id_column = header[0];
    if (m->n_rows > 0) {
        if ((uint64_t)m->n_rows > SIZE_MAX / sizeof(float) / (uint64_t)m->d) {
            st = gfuse_i_error(GFUSE_ERR_NOMEM, "%s: %lld x %lld values do not fit in memory",
                               path, (long long)m->n_rows, (long long)m->d);
            goto done;
        }
        m->x = gfuse_i_alloc((size_t)m->n_rows * (size_t)m->d, sizeof *m->x);
        m->row_id = gfuse_i_alloc(m->n_rows, sizeof *m->row_id);
        seen = gfuse_i_idmap_new(m->n_rows);
        if (!m->x || !m->row_id || !seen) {
            st = gfuse_i_error(GFUSE_ERR_NOMEM, "%s: out of memory for %lld x %lld values", path,
                               (long long)m->n_rows, (long long)m->d);
            goto done;
        }
    }

    matrix_rows mr = {.path = path, .m = m, .seen = seen, .header = header};
    st = read_rows(r, path, header, n_cols, m->n_rows, matrix_cell, &mr);
done:
    gfuse_i_csv_close(r);
    gfuse_i_idmap_free(seen);
    free(header);
    if (st != GFUSE_OK) gfuse_i_matrix_free(m);
    return st;
}

void gfuse_i_table_free(gfuse_i_table *t)
{
    if (!t) return;
    free(t->header);
    free(t->cell);
    free(t->line);
    gfuse_i_strpool_free(t->pool);
    memset(t, 0, sizeof *t);
}

gfuse_status gfuse_i_read_table(const char *path, int64_t n_cols, const char *what,
                                gfuse_i_table *t)
{
    gfuse_status st;
    gfuse_i_csv *r = NULL;
    gfuse_i_idmap *seen = NULL;
    int64_t n_records = 0;
    int all_numbers;
    memset(t, 0, sizeof *t);

    st = gfuse_i_csv_open(&r, path);
    if (st != GFUSE_OK) goto done;
    st = gfuse_i_csv_count_records(r, &n_records);
    if (st != GFUSE_OK) goto done;
    t->pool = gfuse_i_strpool_new();
    if (!t->pool) {
        st = gfuse_i_nomem("a table");
        goto done;
    }
    st = read_header(r, path, what, t->pool, &t->header, &t->n_cols, &all_numbers);
    if (st != GFUSE_OK) goto done;
    if (n_cols > 0 && t->n_cols != n_cols) {
        st = gfuse_i_error_at(GFUSE_ERR_DATA, path, 1, t->n_cols < n_cols ? t->n_cols + 1 : n_cols + 1,
                              "the header has %lld column%s; expected %s", (long long)t->n_cols,
                              t->n_cols == 1 ? "" : "s", what);
        goto done;
    }
    st = check_header(path, t->header, t->n_cols, all_numbers, what, "column name");
    if (st != GFUSE_OK) goto done;

    t->n_rows = n_records - 1;
    if (t->n_rows > 0) {
        t->cell = gfuse_i_alloc((size_t)t->n_rows * (size_t)t->n_cols, sizeof *t->cell);
        t->line = gfuse_i_alloc(t->n_rows, sizeof *t->line);
        seen = gfuse_i_idmap_new(t->n_rows);
        if (!t->cell || !t->line || !seen) {
            st = gfuse_i_nomem("a table");
            goto done;
        }
    }
    table_rows tr = {.path = path, .t = t, .seen = seen};
    st = read_rows(r, path, t->header, t->n_cols, t->n_rows, table_cell, &tr);
done:
    gfuse_i_csv_close(r);
    gfuse_i_idmap_free(seen);
    if (st != GFUSE_OK) gfuse_i_table_free(t);
    return st;
}
