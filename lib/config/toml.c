/* TOML reader; see toml.h for the subset and the caps.
 *
 * A hand-written recursive-descent parser over the input bytes. Recursion
 * happens only for arrays and inline tables and is bounded by
 * NL_TOML_MAX_DEPTH. The rules of TOML 1.0 about which tables may be
 * extended (a [header] twice, dotted keys into a table defined elsewhere,
 * [[x]] on a static array, anything into an inline table) are enforced with
 * per-table flags, because a file neolink itself would refuse should not be
 * imported as if it meant something. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/toml.h"
#include "core/hex.h"
#include "neolink/error.h"

/* How a table came to be (nl__toml_value.flags). */
enum {
    F_DEFINED = 1u << 0,  /* by a [header], or the root */
    F_IMPLICIT = 1u << 1, /* as a parent in a [a.b] header: may still get its own header */
    F_DOTTED = 1u << 2,   /* by a dotted key a.b = 1: only dotted keys may add to it */
    F_INLINE = 1u << 3,   /* { inline }: sealed once closed */
    F_AOT = 1u << 4,      /* an array made by [[header]]s (static arrays are sealed) */
};

typedef struct parser {
    const char *p, *end;
    int line;
    nl_arena *a;
    nl__toml_error *err;
    int rc; /* first failure, 0 while all is well */
    size_t nodes;
    nl__toml_value *root;
    nl__toml_value *cur; /* table that key = value lines go to */
} parser;

typedef struct keypath {
    const char *part[NL_TOML_MAX_DEPTH];
    int n;
    int line;
} keypath;

static int fail_at(parser *ps, int line, const char *fmt, ...) NL_PRINTF(3, 4);

static int fail_at(parser *ps, int line, const char *fmt, ...)
{
    if (ps->rc)
        return ps->rc;
    ps->rc = NL_ECONFIG;
    ps->err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->err->msg, sizeof ps->err->msg, fmt, ap);
    va_end(ap);
    return ps->rc;
}

#define fail(ps, ...) fail_at((ps), (ps)->line, __VA_ARGS__)

static int oom(parser *ps)
{
    if (ps->rc)
        return ps->rc;
    ps->rc = NL_ENOMEM;
    ps->err->line = ps->line;
    snprintf(ps->err->msg, sizeof ps->err->msg, "out of memory");
    return ps->rc;
}

/* ------------------------------------------------------------ characters */

static int at_end(const parser *ps)
{
    return ps->p >= ps->end;
}

static int peek(const parser *ps, size_t off)
{
    return ps->p + off < ps->end ? (unsigned char)ps->p[off] : -1;
}

static int is_bare(int c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

static int is_ctrl(int c)
{
    return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* A newline at the cursor: 1 for "\n", 2 for "\r\n", else 0. */
static int newline_len(const parser *ps)
{
    if (peek(ps, 0) == '\n')
        return 1;
    if (peek(ps, 0) == '\r' && peek(ps, 1) == '\n')
        return 2;
    return 0;
}

static void skip_ws(parser *ps)
{
    while (!at_end(ps) && (*ps->p == ' ' || *ps->p == '\t'))
        ps->p++;
}

/* Skips a comment up to (not including) its newline. */
static int skip_comment(parser *ps)
{
    if (peek(ps, 0) != '#')
        return 0;
    for (ps->p++; !at_end(ps) && !newline_len(ps); ps->p++)
        if (is_ctrl((unsigned char)*ps->p))
            return fail(ps, "control character in a comment");
    return 0;
}

/* Blanks, comments and newlines, as allowed between array elements. */
static int skip_ws_nl(parser *ps)
{
    for (;;) {
        skip_ws(ps);
        if (skip_comment(ps))
            return ps->rc;
        int n = newline_len(ps);
        if (!n)
            return 0;
        ps->p += n;
        ps->line++;
    }
}

/* The rest of a line after a value or header: blanks, a comment, the end. */
static int end_of_line(parser *ps, const char *after)
{
    skip_ws(ps);
    if (skip_comment(ps))
        return ps->rc;
    if (at_end(ps))
        return 0;
    int n = newline_len(ps);
    if (!n)
        return fail(ps, "expected the end of the line after %s", after);
    ps->p += n;
    ps->line++;
    return 0;
}

/* Whole input must be UTF-8 (TOML requires it, and the YAML we write from it
 * must be too). Overlong forms, surrogates and values above U+10FFFF are
 * refused. */
static int check_utf8(parser *ps)
{
    int line = 1;
    const unsigned char *s = (const unsigned char *)ps->p, *e = (const unsigned char *)ps->end;
    while (s < e) {
        unsigned c = *s;
        if (c < 0x80) {
            line += c == '\n';
            s++;
            continue;
        }
        size_t n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
        if (c > 0xf4 || n == 0 || (size_t)(e - s) <= n)
            return fail_at(ps, line, "not valid UTF-8 text");
        unsigned cp = c & (0x3f >> n);
        for (size_t i = 1; i <= n; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return fail_at(ps, line, "not valid UTF-8 text");
            cp = (cp << 6) | (s[i] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return fail_at(ps, line, "not valid UTF-8 text");
        s += n + 1;
    }
    return 0;
}

/* ------------------------------------------------------------ tree */

static nl__toml_value *new_node(parser *ps, nl__toml_type type, int line)
{
    if (ps->nodes >= NL_TOML_MAX_NODES) {
        fail(ps, "too many values (at most %d)", NL_TOML_MAX_NODES);
        return NULL;
    }
    nl__toml_value *v = nl_arena_alloc(ps->a, sizeof *v);
    if (!v) {
        oom(ps);
        return NULL;
    }
    ps->nodes++;
    v->type = type;
    v->line = line;
    return v;
}

static nl__toml_value *find(const nl__toml_value *t, const char *key)
{
    for (nl__toml_value *v = t->u.kids.first; v; v = v->next)
        if (v->key && !strcmp(v->key, key))
            return v;
    return NULL;
}

static void append(nl__toml_value *parent, nl__toml_value *v)
{
    if (parent->u.kids.last)
        parent->u.kids.last->next = v;
    else
        parent->u.kids.first = v;
    parent->u.kids.last = v;
    parent->u.kids.count++;
}

static int add_key(parser *ps, nl__toml_value *t, const char *key, nl__toml_value *v, int line)
{
    if (t->u.kids.count >= NL_TOML_MAX_TABLE_KEYS)
        return fail_at(ps, line, "too many keys in one table (at most %d)", NL_TOML_MAX_TABLE_KEYS);
    v->key = key;
    append(t, v);
    return 0;
}

/* "a.b.c" for messages (parts up to and including index last). */
static const char *path_text(const keypath *k, int last, char *buf, size_t cap)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i <= last && i < k->n; i++) {
        int n = snprintf(buf + o, cap - o, "%s%s", i ? "." : "", k->part[i]);
        if (n < 0 || (size_t)n >= cap - o)
            break;
        o += (size_t)n;
    }
    return buf;
}

/* ------------------------------------------------------------ strings */

static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* Decodes the escape after a backslash at ps->p (which points past the
 * backslash) into out; returns bytes written or -1 after failing. */
static int escape(parser *ps, char *out)
{
    int c = peek(ps, 0);
    const char *simple = "b\bt\tn\nf\fr\r\"\"\\\\";
    for (const char *s = simple; *s; s += 2)
        if (c == *s) {
            ps->p++;
            out[0] = s[1];
            return 1;
        }
    if (c == 'u' || c == 'U') {
        int digits = c == 'u' ? 4 : 8;
        unsigned cp = 0;
        for (int i = 1; i <= digits; i++) {
            int h = nl__hex_digit(peek(ps, (size_t)i));
            if (h < 0) {
                fail(ps, "\\%c needs %d hex digits", c, digits);
                return -1;
            }
            cp = (cp << 4) | (unsigned)h;
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
            fail(ps, "\\%c escape is not a Unicode scalar value", c);
            return -1;
        }
        if (cp == 0) {
            fail(ps, "NUL characters (\\u0000) are not supported");
            return -1;
        }
        ps->p += digits + 1;
        return (int)put_utf8(out, cp);
    }
    fail(ps, "invalid escape sequence (write a backslash as \\\\, or use a 'literal string')");
    return -1;
}

/* Finds where a string's body ends without decoding it, so the decoded text
 * can be allocated once at its final size (never larger than the body).
 * Returns the body length, or -1 when the string is not terminated. */
static long body_length(const parser *ps, char q, int multi)
{
    for (const char *s = ps->p; s < ps->end; s++) {
        if (q == '"' && *s == '\\') {
            s++;
            continue;
        }
        if (!multi && (*s == '\n' || *s == '\r'))
            return -1;
        if (*s == q && (!multi || (ps->end - s >= 3 && s[1] == q && s[2] == q)))
            return (long)(s - ps->p);
    }
    return -1;
}

/* Parses a string of any of the four kinds at the cursor into a new
 * NUL-terminated arena copy. allow_multi is 0 for keys. */
static int parse_string(parser *ps, int allow_multi, const char **out)
{
    char q = *ps->p;
    int start_line = ps->line;
    int multi = peek(ps, 1) == q && peek(ps, 2) == q;
    if (multi && !allow_multi)
        return fail(ps, "a key cannot be a multi-line string");
    ps->p += multi ? 3 : 1;
    if (multi) {
        int n = newline_len(ps); /* a newline right after the opening quotes is dropped */
        ps->p += n;
        ps->line += n > 0;
    }
    long blen = body_length(ps, q, multi);
    if (blen < 0) {
        if (!multi)
            for (const char *s = ps->p; s < ps->end && *s != q; s++)
                if (*s == '\n' || *s == '\r')
                    return fail_at(ps, start_line,
                                   "newline in a single-line string "
                                   "(use %c%c%c for text over several lines)",
                                   q, q, q);
        return fail_at(ps, start_line, "unterminated string");
    }
    /* Up to two quotes right before the closing ones belong to the text. */
    size_t extra = 0;
    if (multi)
        while (extra < 3 && ps->p + blen + 3 + extra < ps->end && ps->p[blen + 3 + extra] == q)
            extra++;
    if (extra > 2)
        return fail(ps, "too many quotes at the end of a multi-line string");
    char *buf = nl_arena_alloc(ps->a, (size_t)blen + extra + 1);
    if (!buf)
        return oom(ps);
    const char *stop = ps->p + blen;
    size_t o = 0;
    while (ps->p < stop) {
        int c = (unsigned char)*ps->p;
        int nl = newline_len(ps);
        if (nl && multi) {
            ps->p += nl;
            ps->line++;
            buf[o++] = '\n';
            continue;
        }
        if (is_ctrl(c))
            return fail(ps, "control character in a string (write it as an escape)");
        if (c != '\\' || q == '\'') {
            buf[o++] = (char)c;
            ps->p++;
            continue;
        }
        ps->p++;
        /* Line-ending backslash: drop it and all blanks and newlines after. */
        const char *save = ps->p;
        int save_line = ps->line;
        if (multi) {
            skip_ws(ps);
            if (newline_len(ps)) {
                while (ps->p < stop && (*ps->p == ' ' || *ps->p == '\t' || newline_len(ps))) {
                    int n = newline_len(ps);
                    ps->line += n > 0;
                    ps->p += n ? n : 1;
                }
                continue;
            }
            ps->p = save;
            ps->line = save_line;
        }
        int n = escape(ps, buf + o);
        if (n < 0)
            return ps->rc;
        o += (size_t)n;
    }
    for (size_t i = 0; i < extra; i++)
        buf[o++] = q;
    buf[o] = '\0';
    ps->p = stop + (multi ? 3 + extra : 1);
    *out = buf;
    return 0;
}

/* ------------------------------------------------------------ keys */

static int parse_key(parser *ps, keypath *k)
{
    k->n = 0;
    k->line = ps->line;
    for (;;) {
        skip_ws(ps);
        if (k->n == NL_TOML_MAX_DEPTH)
            return fail(ps, "key has more than %d dotted parts", NL_TOML_MAX_DEPTH);
        int c = peek(ps, 0);
        const char *part;
        if (c == '"' || c == '\'') {
            if (parse_string(ps, 0, &part))
                return ps->rc;
        } else if (c >= 0 && is_bare(c)) {
            const char *s = ps->p;
            while (!at_end(ps) && is_bare((unsigned char)*ps->p))
                ps->p++;
            part = nl_arena_strndup(ps->a, s, (size_t)(ps->p - s));
            if (!part)
                return oom(ps);
        } else {
            return fail(ps, "expected a key");
        }
        if (strlen(part) > NL_TOML_MAX_KEY)
            return fail(ps, "key longer than %d bytes", NL_TOML_MAX_KEY);
        k->part[k->n++] = part;
        skip_ws(ps);
        if (peek(ps, 0) != '.')
            return 0;
        ps->p++;
    }
}

/* ------------------------------------------------------------ numbers */

/* Copies the digits of a run like 1_000 into out (underscores dropped);
 * each underscore must sit between two digits. Returns the digit count, or
 * -1 for a misplaced underscore. */
static int digit_run(const char *s, size_t n, size_t *i, int (*isdig)(int), char *out, size_t *o,
                     size_t cap)
{
    int count = 0;
    while (*i < n) {
        int c = (unsigned char)s[*i];
        if (c == '_') {
            if (!count || *i + 1 >= n || !isdig((unsigned char)s[*i + 1]))
                return -1;
            (*i)++;
            continue;
        }
        if (!isdig(c))
            break;
        if (*o + 1 < cap)
            out[(*o)++] = (char)c;
        count++;
        (*i)++;
    }
    return count;
}

static int is_dec(int c)
{
    return c >= '0' && c <= '9';
}
static int is_hex(int c)
{
    return nl__hex_digit(c) >= 0;
}
static int is_oct(int c)
{
    return c >= '0' && c <= '7';
}
static int is_bin(int c)
{
    return c == '0' || c == '1';
}

/* Digit string (no sign) to int64 magnitude check; neg allows INT64_MIN. */
static int digits_to_int(const char *d, size_t nd, unsigned base, int neg, int64_t *out)
{
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    for (size_t i = 0; i < nd; i++) {
        unsigned dv = (unsigned)nl__hex_digit((unsigned char)d[i]);
        if (v > (limit - dv) / base)
            return -1;
        v = v * base + dv;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

/* Decimal mantissa digits and a power of ten to the nearest double (within
 * a few units in the last place: ample for configuration values). */
static double decimal_to_double(const char *d, size_t nd, long exp10)
{
    uint64_t m = 0;
    size_t used = 0;
    for (size_t i = 0; i < nd; i++) {
        if (used == 19) { /* more digits than uint64 holds: scale instead */
            exp10++;
            continue;
        }
        if (m || d[i] != '0')
            used++;
        m = m * 10 + (uint64_t)(d[i] - '0');
    }
    if (m == 0)
        return 0.0;
    if (exp10 < -400)
        return 0.0;
    if (exp10 > 400)
        return HUGE_VAL;
    double v = (double)m;
    /* Dividing by an exact power of ten rounds once, so "1.5" is exact. */
    if (exp10 < 0 && exp10 >= -22)
        return v / pow(10.0, (double)-exp10);
    return v * pow(10.0, (double)exp10);
}

/* Messages about a malformed value never quote it: an unquoted password
 * must not end up on the terminal. */
static int number(parser *ps, const char *s, size_t n, nl__toml_value *v)
{
    char digits[80], frac[80];
    size_t i = 0, nd = 0, nf = 0;
    int neg = 0, sign = 0;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        sign = 1;
        i = 1;
    }
    const char *rest = s + i;
    size_t rn = n - i;
    if ((rn == 3 && !memcmp(rest, "inf", 3)) || (rn == 3 && !memcmp(rest, "nan", 3))) {
        v->type = NL_TOML_FLOAT;
        v->u.f = rest[0] == 'i' ? (neg ? -HUGE_VAL : HUGE_VAL) : (neg ? -NAN : NAN);
        return 0;
    }
    if (rn > 2 && rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'o' || rest[1] == 'b')) {
        if (sign)
            return fail(ps, "hexadecimal, octal and binary numbers cannot have a sign");
        unsigned base = rest[1] == 'x' ? 16 : rest[1] == 'o' ? 8 : 2;
        int (*isdig)(int) = base == 16 ? is_hex : base == 8 ? is_oct : is_bin;
        i += 2;
        int cnt = digit_run(s, n, &i, isdig, digits, &nd, sizeof digits);
        if (cnt <= 0 || i != n)
            return fail(ps, "invalid number");
        /* Leading zeros are harmless in these bases; drop them before the
         * overflow check counts digits. */
        size_t z = 0;
        while (z + 1 < nd && digits[z] == '0')
            z++;
        if (cnt > 64 || digits_to_int(digits + z, nd - z, base, 0, &v->u.i))
            return fail(ps, "integer out of range");
        v->type = NL_TOML_INT;
        return 0;
    }
    int cnt = digit_run(s, n, &i, is_dec, digits, &nd, sizeof digits);
    if (cnt <= 0)
        return fail(ps, "invalid number");
    if (cnt > 1 && digits[0] == '0')
        return fail(ps, "leading zeros are not allowed in numbers");
    int is_float = 0;
    long exp10 = 0;
    if (i < n && s[i] == '.') {
        i++;
        int fc = digit_run(s, n, &i, is_dec, frac, &nf, sizeof frac);
        if (fc <= 0)
            return fail(ps, "a decimal point needs digits on both sides");
        is_float = 1;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        char ed[16];
        size_t ne = 0;
        int ec = digit_run(s, n, &i, is_dec, ed, &ne, sizeof ed);
        if (ec <= 0 || ec > 6)
            return fail(ps, "invalid exponent");
        for (size_t k = 0; k < ne; k++)
            exp10 = exp10 * 10 + (ed[k] - '0');
        if (eneg)
            exp10 = -exp10;
        is_float = 1;
    }
    if (i != n)
        return fail(ps, "invalid number");
    if (!is_float) {
        if (cnt > 19 || digits_to_int(digits, nd, 10, neg, &v->u.i))
            return fail(ps, "integer out of range");
        v->type = NL_TOML_INT;
        return 0;
    }
    if (cnt + (int)nf > 60)
        return fail(ps, "float with too many digits");
    char all[128];
    memcpy(all, digits, nd);
    memcpy(all + nd, frac, nf);
    double d = decimal_to_double(all, nd + nf, exp10 - (long)nf);
    if (isinf(d))
        return fail(ps, "float out of range");
    v->type = NL_TOML_FLOAT;
    v->u.f = neg ? -d : d;
    return 0;
}

/* A number, boolean or (refused) date: the token runs to the next blank,
 * comma, bracket, brace, comment or line end. */
static int scalar(parser *ps, nl__toml_value *v)
{
    const char *s = ps->p;
    while (!at_end(ps)) {
        int c = (unsigned char)*ps->p;
        if (!(is_bare(c) || c == '+' || c == '.' || c == ':'))
            break;
        ps->p++;
    }
    size_t n = (size_t)(ps->p - s);
    if (n == 0) {
        int c = peek(ps, 0);
        /* No quoting of what was found instead: it may be part of a password. */
        if (c < 0 || newline_len(ps) || c == '#')
            return fail(ps, "expected a value");
        return fail(ps, "expected a value (a \"string\", number, true/false, [array] or "
                        "{table})");
    }
    if ((n == 4 && !memcmp(s, "true", 4)) || (n == 5 && !memcmp(s, "false", 5))) {
        v->type = NL_TOML_BOOL;
        v->u.b = n == 4;
        return 0;
    }
    /* 1979-05-27 or 07:32:00: dates and times. */
    if (memchr(s, ':', n) ||
        (n >= 5 && is_dec(s[0]) && is_dec(s[1]) && is_dec(s[2]) && is_dec(s[3]) && s[4] == '-'))
        return fail(ps, "dates and times are not supported");
    int special = n == 3 && (!memcmp(s, "inf", 3) || !memcmp(s, "nan", 3));
    if (!is_dec((unsigned char)s[0]) && s[0] != '+' && s[0] != '-' && !special)
        return fail(ps, "invalid value (strings need quotes)");
    return number(ps, s, n, v);
}

/* ------------------------------------------------------------ values */

static int parse_value(parser *ps, int depth, nl__toml_value **out);
static int insert_keyval(parser *ps, nl__toml_value *t, const keypath *k, nl__toml_value *v);

static int parse_array(parser *ps, int depth, nl__toml_value *arr)
{
    ps->p++; /* [ */
    for (;;) {
        if (skip_ws_nl(ps))
            return ps->rc;
        if (peek(ps, 0) == ']')
            break;
        if (arr->u.kids.count >= NL_TOML_MAX_ARRAY)
            return fail(ps, "array longer than %d elements", NL_TOML_MAX_ARRAY);
        nl__toml_value *e = NULL;
        if (parse_value(ps, depth + 1, &e))
            return ps->rc;
        append(arr, e);
        if (skip_ws_nl(ps))
            return ps->rc;
        if (peek(ps, 0) == ',') {
            ps->p++;
            continue;
        }
        if (peek(ps, 0) == ']')
            break;
        if (at_end(ps))
            return fail_at(ps, arr->line, "unterminated array");
        return fail(ps, "expected ',' or ']' in the array");
    }
    ps->p++; /* ] */
    return 0;
}

static int parse_key_value(parser *ps, nl__toml_value *t, int depth);

static int parse_inline_table(parser *ps, int depth, nl__toml_value *t)
{
    ps->p++; /* { */
    skip_ws(ps);
    if (peek(ps, 0) == '}') {
        ps->p++;
        t->flags = F_INLINE;
        return 0;
    }
    for (;;) {
        if (parse_key_value(ps, t, depth))
            return ps->rc;
        skip_ws(ps);
        int c = peek(ps, 0);
        if (c == ',') {
            ps->p++;
            skip_ws(ps);
            if (peek(ps, 0) == '}')
                return fail(ps, "trailing comma in an inline table");
            continue;
        }
        if (c == '}')
            break;
        if (c < 0 || newline_len(ps) || c == '\r')
            return fail(ps, "an inline table must end on the line it starts ('}' missing)");
        return fail(ps, "expected ',' or '}' in the inline table");
    }
    ps->p++; /* } */
    t->flags = F_INLINE;
    return 0;
}

static int parse_value(parser *ps, int depth, nl__toml_value **out)
{
    if (depth > NL_TOML_MAX_DEPTH)
        return fail(ps, "values nested deeper than %d levels", NL_TOML_MAX_DEPTH);
    nl__toml_value *v = new_node(ps, NL_TOML_STRING, ps->line);
    if (!v)
        return ps->rc;
    int c = peek(ps, 0);
    int rc;
    if (c == '"' || c == '\'') {
        rc = parse_string(ps, 1, &v->u.str);
    } else if (c == '[') {
        v->type = NL_TOML_ARRAY;
        rc = parse_array(ps, depth, v);
    } else if (c == '{') {
        v->type = NL_TOML_TABLE;
        rc = parse_inline_table(ps, depth, v);
    } else {
        rc = scalar(ps, v);
    }
    if (rc)
        return rc;
    *out = v;
    return 0;
}

/* key = value, into table t (the current [table] or an inline table). */
static int parse_key_value(parser *ps, nl__toml_value *t, int depth)
{
    keypath k;
    if (parse_key(ps, &k))
        return ps->rc;
    if (peek(ps, 0) != '=') {
        /* "storage shed = 1": a second word where '=' belongs. */
        if (peek(ps, 0) >= 0 && is_bare(peek(ps, 0)))
            return fail(ps, "expected '=' after key (a key with blanks needs quotes)");
        return fail(ps, "expected '=' after key");
    }
    ps->p++;
    skip_ws(ps);
    nl__toml_value *v = NULL;
    if (parse_value(ps, depth + 1, &v))
        return ps->rc;
    v->line = k.line;
    return insert_keyval(ps, t, &k, v);
}

static int insert_keyval(parser *ps, nl__toml_value *t, const keypath *k, nl__toml_value *v)
{
    char buf[300];
    for (int i = 0; i < k->n - 1; i++) {
        nl__toml_value *c = find(t, k->part[i]);
        if (!c) {
            c = new_node(ps, NL_TOML_TABLE, k->line);
            if (!c || add_key(ps, t, k->part[i], c, k->line))
                return ps->rc;
            c->flags = F_DOTTED;
        } else if (c->type != NL_TOML_TABLE || !(c->flags & F_DOTTED) || (c->flags & F_INLINE)) {
            return fail_at(ps, k->line, "cannot add keys to '%s': it is defined on line %d",
                           path_text(k, i, buf, sizeof buf), c->line);
        }
        t = c;
    }
    nl__toml_value *dup = find(t, k->part[k->n - 1]);
    if (dup)
        return fail_at(ps, k->line, "duplicate key '%s' (first defined on line %d)",
                       path_text(k, k->n - 1, buf, sizeof buf), dup->line);
    return add_key(ps, t, k->part[k->n - 1], v, k->line);
}

/* ------------------------------------------------------------ headers */

/* [a.b.c] or [[a.b.c]] at the cursor: makes its table the current one. */
static int header(parser *ps)
{
    int line = ps->line;
    int aot = peek(ps, 1) == '[';
    ps->p += aot ? 2 : 1;
    keypath k;
    if (parse_key(ps, &k))
        return ps->rc;
    if (peek(ps, 0) != ']' || (aot && peek(ps, 1) != ']'))
        return fail(ps, aot ? "expected ']]' after the table name"
                            : "expected ']' after the table name");
    ps->p += aot ? 2 : 1;
    if (end_of_line(ps, "a table header"))
        return ps->rc;

    char buf[300];
    nl__toml_value *t = ps->root;
    for (int i = 0; i < k.n - 1; i++) {
        nl__toml_value *c = find(t, k.part[i]);
        if (!c) {
            c = new_node(ps, NL_TOML_TABLE, line);
            if (!c || add_key(ps, t, k.part[i], c, line))
                return ps->rc;
            c->flags = F_IMPLICIT;
        } else if (c->type == NL_TOML_ARRAY && (c->flags & F_AOT)) {
            c = c->u.kids.last;
        } else if (c->type != NL_TOML_TABLE) {
            return fail_at(ps, line, "'%s' is already defined on line %d and is not a table",
                           path_text(&k, i, buf, sizeof buf), c->line);
        } else if (c->flags & F_INLINE) {
            return fail_at(ps, line, "cannot add to the inline table '%s' (line %d)",
                           path_text(&k, i, buf, sizeof buf), c->line);
        }
        t = c;
    }
    const char *last = k.part[k.n - 1];
    nl__toml_value *c = find(t, last);
    path_text(&k, k.n - 1, buf, sizeof buf);
    if (aot) {
        if (!c) {
            c = new_node(ps, NL_TOML_ARRAY, line);
            if (!c || add_key(ps, t, last, c, line))
                return ps->rc;
            c->flags = F_AOT;
        } else if (c->type != NL_TOML_ARRAY || !(c->flags & F_AOT)) {
            return fail_at(ps, line, "[[%s]]: '%s' is already defined on line %d as %s %s", buf,
                           buf, c->line, c->type == NL_TOML_ARRAY ? "an" : "a",
                           nl__toml_type_name(c->type));
        }
        if (c->u.kids.count >= NL_TOML_MAX_ARRAY)
            return fail_at(ps, line, "more than %d [[%s]] tables", NL_TOML_MAX_ARRAY, buf);
        nl__toml_value *e = new_node(ps, NL_TOML_TABLE, line);
        if (!e)
            return ps->rc;
        e->flags = F_DEFINED;
        append(c, e);
        ps->cur = e;
        return 0;
    }
    if (!c) {
        c = new_node(ps, NL_TOML_TABLE, line);
        if (!c || add_key(ps, t, last, c, line))
            return ps->rc;
    } else if (c->type != NL_TOML_TABLE || c->flags != F_IMPLICIT) {
        if (c->type == NL_TOML_TABLE)
            return fail_at(ps, line, "table [%s] is defined twice (first on line %d)", buf,
                           c->line);
        return fail_at(ps, line, "[%s]: '%s' is already defined on line %d as %s %s", buf, buf,
                       c->line, c->type == NL_TOML_ARRAY || c->type == NL_TOML_INT ? "an" : "a",
                       nl__toml_type_name(c->type));
    }
    c->flags = F_DEFINED;
    c->line = line;
    ps->cur = c;
    return 0;
}

/* ------------------------------------------------------------ document */

int nl__toml_parse(nl_arena *a, const char *text, size_t len, nl__toml_value **root,
                   nl__toml_error *err)
{
    *root = NULL;
    err->line = 0;
    err->msg[0] = '\0';
    if (len > NL_TOML_MAX_SIZE) {
        snprintf(err->msg, sizeof err->msg, "file larger than %d bytes", NL_TOML_MAX_SIZE);
        return NL_ETOOBIG;
    }
    parser ps = {.p = text, .end = text + len, .line = 1, .a = a, .err = err};
    if (check_utf8(&ps))
        return ps.rc;
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        ps.p += 3; /* a byte order mark, as some editors write */
    ps.root = new_node(&ps, NL_TOML_TABLE, 1);
    if (!ps.root)
        return ps.rc;
    ps.root->flags = F_DEFINED;
    ps.cur = ps.root;
    while (!ps.rc) {
        skip_ws(&ps);
        if (at_end(&ps))
            break;
        int c = peek(&ps, 0);
        if (c == '#' || c == '\n' || c == '\r')
            end_of_line(&ps, "a comment");
        else if (c == '[')
            header(&ps);
        else if (!parse_key_value(&ps, ps.cur, 0))
            end_of_line(&ps, "the value");
    }
    if (ps.rc)
        return ps.rc;
    *root = ps.root;
    return 0;
}

const nl__toml_value *nl__toml_get(const nl__toml_value *t, const char *key)
{
    if (!t || t->type != NL_TOML_TABLE || !key)
        return NULL;
    return find(t, key);
}

const char *nl__toml_type_name(nl__toml_type type)
{
    switch (type) {
    case NL_TOML_TABLE:
        return "table";
    case NL_TOML_ARRAY:
        return "array";
    case NL_TOML_STRING:
        return "string";
    case NL_TOML_INT:
        return "integer";
    case NL_TOML_FLOAT:
        return "float";
    case NL_TOML_BOOL:
        return "boolean";
    }
    return "value";
}
