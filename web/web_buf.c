/* SPDX-License-Identifier: MIT */
/*
 * web_buf.c - the growable text buffer the admin API writes its hand-made answers with (typed
 * values, where jansson would print doubles with 17 digits and ThingsBoard prints the shortest
 * form; Prometheus text). An allocation failure is remembered (is_oom) and later appends do
 * nothing, so a writer checks once at the end. Pure: no I/O.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

void web_buf_add(struct web_buf *b, const char *s, size_t len)
{
    if (b->is_oom) {
        return;
    }
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap < 256 ? 256 : b->cap;
        char *p;
        while (cap < b->len + len + 1) {
            cap *= 2;
        }
        p = realloc(b->p, cap);
        if (p == NULL) {
            b->is_oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void web_buf_addf(struct web_buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        b->is_oom = true; /* callers format numbers only */
        return;
    }
    web_buf_add(b, tmp, (size_t)n);
}

void web_buf_str(struct web_buf *b, const char *s, size_t len)
{
    json_t *j = json_stringn(s, len);
    char *text = j != NULL ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

    if (text != NULL) {
        web_buf_add(b, text, strlen(text));
    } else {
        web_buf_add(b, "\"\\ufffd\"", 8); /* not UTF-8: never emit invalid JSON */
    }
    free(text);
    json_decref(j);
}

void web_buf_value(struct web_buf *b, const struct profile_value *v, bool is_strict)
{
    char small[64];
    char *big = NULL;
    size_t need;

    if (v->type == PROFILE_VT_STRING) {
        web_buf_str(b, v->s, v->s_len);
        return;
    }
    if (is_strict && v->type == PROFILE_VT_JSON) {
        web_buf_add(b, v->s, v->s_len);
        return;
    }
    need = profile_value_to_json(v, small, sizeof(small));
    if (need >= sizeof(small)) {
        big = malloc(need + 1);
        if (big == NULL) {
            b->is_oom = true;
            return;
        }
        (void)profile_value_to_json(v, big, need + 1);
    }
    if (is_strict) {
        web_buf_add(b, big != NULL ? big : small, need);
    } else {
        web_buf_str(b, big != NULL ? big : small, need);
    }
    free(big);
}

void web_buf_fini(struct web_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}
