/* SPDX-License-Identifier: MIT */
/*
 * web_csv.c - the pure parts of the bulk device import (specs/rest-api.md 4.8): the request body
 * {"file": CSV text, "mapping": {...}}, an RFC 4180 record reader, and ThingsBoard's typing of
 * key-value cells. No I/O, no clock, no log; fuzzed by tests/fuzz/fuzz_web_csv.c.
 *
 * Wire format of "file" (RFC 4180, as ThingsBoard's Commons CSV reads it):
 *   record  = field *(DELIM field) (CRLF | LF | CR | end of text)
 *   field   = quoted | bare;  quoted = '"' *(any but '"' | '""') '"';  bare = *(any but DELIM, CR,
 * LF) A quote inside a bare field is taken literally; text after a closing quote up to the next
 * delimiter is appended (lenient). An unterminated quoted field is an error of the whole file.
 * Empty lines are skipped and not counted: line numbers count records from 1, header included.
 * Caps: WEB_CSV_MAX_COLUMNS cells are kept per record (more are counted, so the caller can
 * refuse the line), WEB_CSV_MAX_CELL_BYTES per cell; the body itself is capped by the server.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web/web_internal.h"

static const struct {
    const char *name;
    enum web_csv_col col;
} col_names[] = {
    { "NAME", WEB_CSV_NAME },
    { "TYPE", WEB_CSV_TYPE },
    { "LABEL", WEB_CSV_LABEL },
    { "DESCRIPTION", WEB_CSV_DESCRIPTION },
    { "IS_GATEWAY", WEB_CSV_IS_GATEWAY },
    { "ACCESS_TOKEN", WEB_CSV_ACCESS_TOKEN },
    { "X509", WEB_CSV_X509 },
    { "SHARED_ATTRIBUTE", WEB_CSV_SHARED_ATTRIBUTE },
    { "SERVER_ATTRIBUTE", WEB_CSV_SERVER_ATTRIBUTE },
    { "TIMESERIES", WEB_CSV_TIMESERIES },
};

/* ---- the request ------------------------------------------------------------------------- */

static int parse_column(json_t *c, struct web_csv_column *out, char *err, size_t err_len)
{
    const char *type = json_string_value(json_object_get(c, "type"));
    const char *key = json_string_value(json_object_get(c, "key"));
    size_t i;

    if (!json_is_object(c) || type == NULL) {
        (void)snprintf(err, err_len, "Column type should be specified!");
        return -EINVAL;
    }
    for (i = 0; i < sizeof(col_names) / sizeof(col_names[0]); i++) {
        if (strcmp(type, col_names[i].name) == 0) {
            out->type = col_names[i].col;
            break;
        }
    }
    if (out->type == 0) {
        (void)snprintf(err, err_len, "Unsupported column type: %.40s", type);
        return -EINVAL;
    }
    out->key = key;
    if (out->type >= WEB_CSV_SHARED_ATTRIBUTE && (key == NULL || key[strspn(key, " \t")] == '\0')) {
        (void)snprintf(err, err_len, "Key of a %s column should be specified!", type);
        return -EINVAL;
    }
    return 0;
}

static int parse_mapping(json_t *m, struct web_csv_request *out, char *err, size_t err_len)
{
    json_t *cols = json_object_get(m, "columns");
    const char *delim = json_string_value(json_object_get(m, "delimiter"));
    json_t *c;
    size_t i;
    int rc = 0;

    if (!json_is_object(m) || !json_is_array(cols) || json_array_size(cols) == 0) {
        (void)snprintf(err, err_len, "Mapping columns should be specified!");
        return -EINVAL;
    }
    if (json_array_size(cols) > WEB_CSV_MAX_COLUMNS) {
        (void)snprintf(err, err_len, "At most %d columns", WEB_CSV_MAX_COLUMNS);
        return -EINVAL;
    }
    json_array_foreach(cols, i, c)
    {
        rc = parse_column(c, &out->cols[i], err, err_len);
        if (rc != 0) {
            return rc;
        }
    }
    out->n_cols = json_array_size(cols);
    if (delim != NULL && strlen(delim) != 1) {
        (void)snprintf(err, err_len, "Delimiter should be one character");
        return -EINVAL;
    }
    out->delimiter = delim != NULL ? delim[0] : ',';
    if (out->delimiter == '"' || out->delimiter == '\r' || out->delimiter == '\n') {
        (void)snprintf(err, err_len, "Delimiter should not be a quote or a line end");
        return -EINVAL;
    }
    out->has_header = json_is_true(json_object_get(m, "header"));
    out->is_update = json_is_true(json_object_get(m, "update"));
    return 0;
}

int web_csv_request_parse(const char *body, size_t len, struct web_csv_request *out, char *err,
                          size_t err_len)
{
    json_error_t je;
    json_t *file;
    int rc;

    memset(out, 0, sizeof(*out));
    out->root = json_loadb(body, len, 0, &je);
    if (!json_is_object(out->root)) {
        (void)snprintf(err, err_len, "Invalid JSON: %s",
                       out->root == NULL ? je.text : "not an object");
        rc = -EBADMSG;
        goto out;
    }
    file = json_object_get(out->root, "file");
    if (!json_is_string(file)) {
        (void)snprintf(err, err_len, "File content should be specified!");
        rc = -EINVAL;
        goto out;
    }
    out->file = json_string_value(file);
    out->file_len = json_string_length(file);
    rc = parse_mapping(json_object_get(out->root, "mapping"), out, err, err_len);
out:
    if (rc != 0) {
        web_csv_request_fini(out);
    }
    return rc;
}

void web_csv_request_fini(struct web_csv_request *r)
{
    json_decref(r->root);
    memset(r, 0, sizeof(*r));
}

/* ---- records ----------------------------------------------------------------------------- */

struct csv_rec {
    char *buf; /* the record's cells, each NUL-terminated */
    size_t len, cap;
    size_t starts[WEB_CSV_MAX_COLUMNS];
    size_t n;        /* cells seen (may exceed WEB_CSV_MAX_COLUMNS) */
    size_t cell_len; /* bytes of the current cell */
};

static int rec_put(struct csv_rec *r, char ch)
{
    char *p;

    if (r->n >= WEB_CSV_MAX_COLUMNS) {
        return 0; /* counted, not kept */
    }
    if (++r->cell_len > WEB_CSV_MAX_CELL_BYTES) {
        return -E2BIG;
    }
    if (r->len + 1 >= r->cap) {
        p = realloc(r->buf, r->cap < 256 ? 256 : r->cap * 2);
        if (p == NULL) {
            return -ENOMEM;
        }
        r->buf = p;
        r->cap = r->cap < 256 ? 256 : r->cap * 2;
    }
    r->buf[r->len++] = ch;
    return 0;
}

/* Ends the current cell. */
static int rec_cell(struct csv_rec *r)
{
    int rc = 0;

    if (r->n < WEB_CSV_MAX_COLUMNS) {
        r->cell_len = 0;
        rc = rec_put(r, '\0');
        if (rc == 0 && r->n + 1 < WEB_CSV_MAX_COLUMNS) {
            r->starts[r->n + 1] = r->len;
        }
    }
    r->n++;
    r->cell_len = 0;
    return rc;
}

/* Hands a finished record to fn (unless it is an empty line) and resets r. */
static int rec_end(struct csv_rec *r, size_t *line, web_csv_record_fn fn, void *arg)
{
    char *cells[WEB_CSV_MAX_COLUMNS];
    size_t i, kept;
    int rc = rec_cell(r);

    if (rc == 0 && !(r->n == 1 && r->buf[0] == '\0')) {
        kept = r->n < WEB_CSV_MAX_COLUMNS ? r->n : WEB_CSV_MAX_COLUMNS;
        for (i = 0; i < kept; i++) {
            cells[i] = r->buf + r->starts[i];
        }
        (*line)++;
        rc = fn(arg, *line, cells, r->n);
    }
    r->len = 0;
    r->n = 0;
    r->cell_len = 0;
    r->starts[0] = 0;
    return rc;
}

/* Where the reader is inside a record. */
struct csv_pos {
    bool is_quoted;      /* inside "..." */
    bool is_after_quote; /* the cell's quoted part has ended */
    bool has_data;       /* the record has a character or a delimiter */
    size_t cell_chars;   /* characters of the current cell so far */
};

/* One character outside a quoted part. Returns: 0, or an error of rec_*() or fn. */
static int bare_char(struct csv_rec *r, struct csv_pos *ps, const char *text, size_t len, size_t *i,
                     char delim, size_t *line, web_csv_record_fn fn, void *arg)
{
    char ch = text[*i];
    int rc = 0;

    if (ch == delim) {
        rc = rec_cell(r);
        ps->is_after_quote = false;
        ps->has_data = true;
        ps->cell_chars = 0;
    } else if (ch == '\r' || ch == '\n') {
        rc = ps->has_data ? rec_end(r, line, fn, arg) : 0;
        *i += ch == '\r' && *i + 1 < len && text[*i + 1] == '\n' ? 1 : 0;
        memset(ps, 0, sizeof(*ps));
    } else if (ch == '"' && ps->cell_chars == 0 && !ps->is_after_quote) {
        ps->is_quoted = true;
        ps->has_data = true;
    } else {
        rc = rec_put(r, ch);
        ps->has_data = true;
        ps->cell_chars++;
    }
    return rc;
}

int web_csv_parse(const char *text, size_t len, char delim, web_csv_record_fn fn, void *arg,
                  char *err, size_t err_len)
{
    struct csv_pos ps = { false, false, false, 0 };
    struct csv_rec r;
    size_t i, line = 0;
    int rc = 0;

    memset(&r, 0, sizeof(r));
    for (i = 0; rc == 0 && i < len; i++) {
        if (!ps.is_quoted) {
            rc = bare_char(&r, &ps, text, len, &i, delim, &line, fn, arg);
        } else if (text[i] == '"' && i + 1 < len && text[i + 1] == '"') {
            rc = rec_put(&r, '"');
            i++;
        } else if (text[i] == '"') {
            ps.is_quoted = false;
            ps.is_after_quote = true;
        } else {
            rc = rec_put(&r, text[i]);
        }
    }
    if (rc == 0 && ps.is_quoted) {
        (void)snprintf(err, err_len, "Line %zu: unterminated quoted value", line + 1);
        rc = -EBADMSG;
    } else if (rc == 0 && ps.has_data) {
        rc = rec_end(&r, &line, fn, arg);
    }
    if (rc == -E2BIG) {
        (void)snprintf(err, err_len, "Line %zu: a value is longer than %d bytes", line + 1,
                       WEB_CSV_MAX_CELL_BYTES);
        rc = -EBADMSG;
    }
    free(r.buf);
    return rc;
}

/* ---- typing ------------------------------------------------------------------------------ */

/* A decimal number as BigDecimal reads it ("," taken as "."): its digits and scale. */
struct csv_num {
    char digits[40]; /* unscaled value without sign and leading zeros, "" for zero */
    bool is_negative, has_point, has_exponent;
    long scale; /* digits after the point minus the exponent */
};

static bool scan_exponent(const char *p, long *exp)
{
    char *end = NULL;
    long v;

    if (!(*p == '+' || *p == '-' || (*p >= '0' && *p <= '9'))) {
        return false;
    }
    v = strtol(p, &end, 10);
    if (*end != '\0' || end == p || v > 100000 || v < -100000) {
        return false;
    }
    *exp = v;
    return true;
}

static bool scan_number(const char *s, struct csv_num *n)
{
    size_t nd = 0, seen = 0;
    long exp = 0;

    memset(n, 0, sizeof(*n));
    n->is_negative = *s == '-';
    s += *s == '-' || *s == '+' ? 1 : 0;
    for (; *s != '\0'; s++) {
        if (*s >= '0' && *s <= '9') {
            seen++;
            n->scale += n->has_point ? 1 : 0;
            if (nd > 0 || *s != '0') {
                if (nd + 1 >= sizeof(n->digits)) {
                    return false; /* beyond a double or a long anyway: a string */
                }
                n->digits[nd++] = *s;
            }
        } else if ((*s == '.' || *s == ',') && !n->has_point) {
            n->has_point = true;
        } else if ((*s == 'e' || *s == 'E') && seen > 0) {
            n->has_exponent = true;
            if (!scan_exponent(s + 1, &exp)) {
                return false;
            }
            break;
        } else {
            return false;
        }
    }
    n->scale -= exp;
    return seen > 0;
}

/* The LONG value of n when its stripped scale is <= 0; false when out of range. */
static bool number_long(const struct csv_num *n, size_t tz, int64_t *out)
{
    size_t len = strlen(n->digits) - tz;
    long zeros = -(n->scale - (long)tz);
    uint64_t v = 0, limit = n->is_negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    size_t i;

    for (i = 0; i < len; i++) {
        uint64_t d = (uint64_t)(n->digits[i] - '0');
        if (v > (limit - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    for (; zeros > 0; zeros--) {
        if (v > limit / 10) {
            return false;
        }
        v *= 10;
    }
    *out = n->is_negative ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool type_number(const char *cell, struct profile_value *v)
{
    struct csv_num n;
    size_t tz = 0, nd;
    char tmp[64];
    size_t i;

    if (strlen(cell) >= sizeof(tmp) || !scan_number(cell, &n)) {
        return false;
    }
    nd = strlen(n.digits);
    while (tz < nd && n.digits[nd - 1 - tz] == '0') {
        tz++;
    }
    if ((nd > 0 && n.scale - (long)tz > 0) || (n.has_point && !n.has_exponent)) {
        if (n.scale > 16) {
            return false;
        }
        for (i = 0; cell[i] != '\0'; i++) {
            tmp[i] = cell[i] == ',' ? '.' : cell[i];
        }
        tmp[i] = '\0';
        v->type = PROFILE_VT_DOUBLE;
        v->d = strtod(tmp, NULL);
        return true;
    }
    v->type = PROFILE_VT_LONG;
    return nd == 0 ? (v->l = 0, true) : number_long(&n, tz, &v->l);
}

int web_csv_cell_value(const char *cell, struct profile_value *v, char **heap)
{
    size_t len = strlen(cell);
    json_t *j;

    memset(v, 0, sizeof(*v));
    *heap = NULL;
    if (type_number(cell, v)) {
        return 0;
    }
    memset(v, 0, sizeof(*v));
    if (strcasecmp(cell, "true") == 0 || strcasecmp(cell, "false") == 0) {
        v->type = PROFILE_VT_BOOLEAN;
        v->b = strcasecmp(cell, "true") == 0;
        return 0;
    }
    if (len >= 2 &&
        ((cell[0] == '{' && cell[len - 1] == '}') || (cell[0] == '[' && cell[len - 1] == ']'))) {
        j = json_loadb(cell, len, 0, NULL);
        *heap = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (*heap != NULL) {
            v->type = PROFILE_VT_JSON;
            v->s = *heap;
            v->s_len = strlen(*heap);
            return 0;
        }
        if (j != NULL) {
            return -ENOMEM;
        }
    }
    v->type = PROFILE_VT_STRING;
    v->s = (char *)(uintptr_t)cell;
    v->s_len = len;
    return 0;
}
