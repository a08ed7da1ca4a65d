/* json_read.c: a strict JSON reader (RFC 8259) for the files gfuse writes and reads back
 * (`gfuse report --cv` reads what `gfuse cv --out` wrote): a tree of cli_jv values, each with
 * the line and column it starts at, so that a file that does not fit says where. */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len, pos;
    int line, column;
    char *err;
    size_t err_size;
    int nomem;
} parser;

static int fail_at(parser *p, int line, int column, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail_at(parser *p, int line, int column, const char *fmt, ...)
{
    int n = snprintf(p->err, p->err_size, "%d:%d: ", line, column);
    if (n < 0 || (size_t)n >= p->err_size) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static int out_of_memory(parser *p)
{
    p->nomem = 1;
    snprintf(p->err, p->err_size, "out of memory");
    return -1;
}

static int peek(const parser *p) { return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1; }

static void advance(parser *p)
{
    if (p->s[p->pos] == '\n') {
        p->line++;
        p->column = 1;
    } else if (((unsigned char)p->s[p->pos] & 0xC0) != 0x80) {
        p->column++; /* columns count characters, not UTF-8 continuation bytes */
    }
    p->pos++;
}

static void skip_space(parser *p)
{
    int c;
    while ((c = peek(p)) == ' ' || c == '\t' || c == '\n' || c == '\r') advance(p);
}

/* What is at the current position, for a message: "'x'" or "the end of the file". */
static const char *found(const parser *p, char *buf, size_t size)
{
    int c = peek(p);
    if (c < 0) return "the end of the file";
    if (c >= 0x20 && c < 0x7F) snprintf(buf, size, "'%c'", c);
    else snprintf(buf, size, "byte 0x%02X", (unsigned)c);
    return buf;
}

static int expect_literal(parser *p, const char *word)
{
    int line = p->line, column = p->column;
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail_at(p, line, column, "expected a JSON value");
    for (size_t k = 0; k < n; k++) advance(p);
    return 0;
}

static int hex4(parser *p, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int c = peek(p);
        int d = c >= '0' && c <= '9' ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return fail_at(p, p->line, p->column, "expected 4 hex digits after \\u");
        v = v * 16 + (unsigned)d;
        advance(p);
    }
    *out = v;
    return 0;
}

static void put_utf8(char *buf, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        buf[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        buf[(*n)++] = (char)(0xC0 | (cp >> 6));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        buf[(*n)++] = (char)(0xE0 | (cp >> 12));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        buf[(*n)++] = (char)(0xF0 | (cp >> 18));
        buf[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
        buf[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        buf[(*n)++] = (char)(0x80 | (cp & 0x3F));
    }
}

/* A string at the opening quote; *out malloc-ed. The decoded text is never longer than the
 * source, so one buffer of the source's length holds it. */
static int parse_string(parser *p, char **out)
{
    int line = p->line, column = p->column;
    advance(p); /* the quote */
    size_t start = p->pos, end = start;
    while (end < p->len && p->s[end] != '"') end += p->s[end] == '\\' ? 2 : 1;
    char *buf = malloc(end - start + 1);
    if (!buf) return out_of_memory(p);
    size_t n = 0;
    while (1) {
        int c = peek(p);
        if (c < 0) {
            free(buf);
            return fail_at(p, line, column, "string not closed");
        }
        if (c == '"') {
            advance(p);
            break;
        }
        if (c < 0x20) {
            free(buf);
            return fail_at(p, p->line, p->column, "control character in a string");
        }
        if (c == '\\') {
            advance(p);
            int e = peek(p);
            const char *simple = "\"\\/bfnrt", *value = "\"\\/\b\f\n\r\t";
            const char *hit = e > 0 ? strchr(simple, e) : NULL;
            if (hit) {
                buf[n++] = value[hit - simple];
                advance(p);
                continue;
            }
            if (e != 'u') {
                free(buf);
                return fail_at(p, p->line, p->column, "unknown escape in a string");
            }
            int el = p->line, ec = p->column - 1;
            advance(p);
            unsigned cp, low;
            if (hex4(p, &cp) != 0) {
                free(buf);
                return -1;
            }
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (peek(p) != '\\' || p->pos + 1 >= p->len || p->s[p->pos + 1] != 'u') {
                    free(buf);
                    return fail_at(p, el, ec, "\\u escape of a lone UTF-16 surrogate");
                }
                advance(p);
                advance(p);
                if (hex4(p, &low) != 0) {
                    free(buf);
                    return -1;
                }
                if (low < 0xDC00 || low > 0xDFFF) {
                    free(buf);
                    return fail_at(p, el, ec, "\\u escape of a lone UTF-16 surrogate");
                }
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                free(buf);
                return fail_at(p, el, ec, "\\u escape of a lone UTF-16 surrogate");
            }
            if (cp == 0) {
                free(buf);
                return fail_at(p, el, ec, "\\u0000 in a string is not supported");
            }
            put_utf8(buf, &n, cp);
            continue;
        }
        int k = cli_utf8_length(p->s + p->pos, p->len - p->pos);
        if (k == 0) {
            free(buf);
            return fail_at(p, p->line, p->column, "invalid UTF-8 in a string");
        }
        for (int b = 0; b < k; b++) {
            buf[n++] = p->s[p->pos];
            advance(p);
        }
    }
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static int parse_number(parser *p, double *out)
{
    int line = p->line, column = p->column;
    size_t start = p->pos;
    if (peek(p) == '-') advance(p);
    if (peek(p) == '0') {
        advance(p);
        if (peek(p) >= '0' && peek(p) <= '9')
            return fail_at(p, line, column, "a number with a leading zero");
    } else if (peek(p) >= '1' && peek(p) <= '9') {
        while (peek(p) >= '0' && peek(p) <= '9') advance(p);
    } else {
        return fail_at(p, line, column, "expected a JSON value");
    }
    if (peek(p) == '.') {
        advance(p);
        if (!(peek(p) >= '0' && peek(p) <= '9'))
            return fail_at(p, p->line, p->column, "expected a digit after the decimal point");
        while (peek(p) >= '0' && peek(p) <= '9') advance(p);
    }
    if (peek(p) == 'e' || peek(p) == 'E') {
        advance(p);
        if (peek(p) == '+' || peek(p) == '-') advance(p);
        if (!(peek(p) >= '0' && peek(p) <= '9'))
            return fail_at(p, p->line, p->column, "expected a digit in the exponent");
        while (peek(p) >= '0' && peek(p) <= '9') advance(p);
    }
    char small[64];
    size_t n = p->pos - start;
    char *text = n < sizeof small ? small : malloc(n + 1);
    if (!text) return out_of_memory(p);
    memcpy(text, p->s + start, n);
    text[n] = '\0';
    errno = 0;
    *out = strtod(text, NULL);
    int range = errno == ERANGE && (*out > 1 || *out < -1);
    if (text != small) free(text);
    if (range) return fail_at(p, line, column, "number out of range");
    return 0;
}

static int parse_value(parser *p, cli_jv *v, int depth);

/* Appends one slot to v's items (and keys); returns the slot or NULL. */
static cli_jv *grow(parser *p, cli_jv *v, int64_t *cap)
{
    if (v->n == *cap) {
        int64_t nc = *cap ? *cap * 2 : 4;
        cli_jv *items = realloc(v->items, (size_t)nc * sizeof *items);
        if (!items) return NULL;
        v->items = items;
        if (v->kind == CLI_JV_OBJECT) {
            char **keys = realloc(v->keys, (size_t)nc * sizeof *keys);
            if (!keys) return NULL;
            v->keys = keys;
        }
        *cap = nc;
    }
    (void)p;
    cli_jv *slot = &v->items[v->n];
    memset(slot, 0, sizeof *slot);
    return slot;
}

static int parse_container(parser *p, cli_jv *v, int depth)
{
    int object = peek(p) == '{';
    char close = object ? '}' : ']';
    char buf[24];
    v->kind = object ? CLI_JV_OBJECT : CLI_JV_ARRAY;
    if (depth >= CLI_JSON_READ_MAX_DEPTH)
        return fail_at(p, p->line, p->column, "nested deeper than %d levels",
                       CLI_JSON_READ_MAX_DEPTH);
    advance(p);
    skip_space(p);
    int64_t cap = 0;
    if (peek(p) == close) {
        advance(p);
        return 0;
    }
    while (1) {
        char *key = NULL;
        int kl = 0, kc = 0;
        if (object) {
            skip_space(p);
            kl = p->line, kc = p->column;
            if (peek(p) != '"')
                return fail_at(p, p->line, p->column, "expected a key string, found %s",
                               found(p, buf, sizeof buf));
            if (parse_string(p, &key) != 0) return -1;
            for (int64_t k = 0; k < v->n; k++)
                if (strcmp(v->keys[k], key) == 0) {
                    free(key);
                    return fail_at(p, kl, kc, "duplicate key \"%s\"", v->keys[k]);
                }
            skip_space(p);
            if (peek(p) != ':') {
                free(key);
                return fail_at(p, p->line, p->column, "expected ':', found %s",
                               found(p, buf, sizeof buf));
            }
            advance(p);
        }
        cli_jv *slot = grow(p, v, &cap);
        if (!slot) {
            free(key);
            return out_of_memory(p);
        }
        if (object) v->keys[v->n] = key;
        v->n++; /* counted before parsing, so that a failure frees what was read */
        if (parse_value(p, slot, depth + 1) != 0) return -1;
        skip_space(p);
        if (peek(p) == ',') {
            advance(p);
            skip_space(p);
            if (peek(p) == close)
                return fail_at(p, p->line, p->column, "trailing comma before '%c'", close);
            continue;
        }
        if (peek(p) == close) {
            advance(p);
            return 0;
        }
        return fail_at(p, p->line, p->column, "expected ',' or '%c', found %s", close,
                       found(p, buf, sizeof buf));
    }
}

static int parse_value(parser *p, cli_jv *v, int depth)
{
    skip_space(p);
    memset(v, 0, sizeof *v);
    v->line = p->line;
    v->column = p->column;
    int c = peek(p);
    char buf[24];
    switch (c) {
    case '{':
    case '[': return parse_container(p, v, depth);
    case '"': v->kind = CLI_JV_STRING; return parse_string(p, &v->string);
    case 't': v->kind = CLI_JV_BOOL; v->boolean = 1; return expect_literal(p, "true");
    case 'f': v->kind = CLI_JV_BOOL; return expect_literal(p, "false");
    case 'n': v->kind = CLI_JV_NULL; return expect_literal(p, "null");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            v->kind = CLI_JV_NUMBER;
            return parse_number(p, &v->number);
        }
        return fail_at(p, p->line, p->column, "expected a JSON value, found %s",
                       found(p, buf, sizeof buf));
    }
}

int cli_json_parse(const char *text, size_t len, cli_jv *out, char *err, size_t err_size)
{
    parser p = {.s = text, .len = len, .line = 1, .column = 1, .err = err,
                .err_size = err_size};
    memset(out, 0, sizeof *out);
    if (err_size) err[0] = '\0';
    /* A UTF-8 byte-order mark is tolerated, as RFC 8259 allows a parser to. */
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) p.pos = 3;
    int rc = parse_value(&p, out, 0);
    if (rc == 0) {
        skip_space(&p);
        char buf[24];
        if (p.pos < p.len)
            rc = fail_at(&p, p.line, p.column, "unexpected %s after the JSON value",
                         found(&p, buf, sizeof buf));
    }
    if (rc != 0) {
        cli_jv_free(out);
        return p.nomem ? -2 : -1;
    }
    return 0;
}

int cli_json_read_file(const char *path, cli_jv *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
        return -3;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *bigger = cap < ((size_t)1 << 30) ? realloc(buf, cap * 2) : NULL;
        if (!bigger) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!buf) {
        snprintf(err, err_size, "%s: out of memory reading it (or larger than 1 GiB)", path);
        return -2;
    }
    if (read_error) {
        free(buf);
        snprintf(err, err_size, "%s: read error", path);
        return -3;
    }
    char msg[512];
    int rc = cli_json_parse(buf, n, out, msg, sizeof msg);
    free(buf);
    if (rc != 0) snprintf(err, err_size, "%s:%s", path, msg);
    return rc;
}

void cli_jv_free(cli_jv *v)
{
    if (!v) return;
    for (int64_t k = 0; k < v->n; k++) {
        cli_jv_free(&v->items[k]);
        if (v->keys) free(v->keys[k]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    memset(v, 0, sizeof *v);
}

const cli_jv *cli_jv_get(const cli_jv *v, const char *key)
{
    if (!v || v->kind != CLI_JV_OBJECT) return NULL;
    for (int64_t k = 0; k < v->n; k++)
        if (strcmp(v->keys[k], key) == 0) return &v->items[k];
    return NULL;
}
