/* SPDX-License-Identifier: MIT */
/*
 * profile_proto_print.c - step 3 of the Protobuf adaptor (see profile_proto.c): a decoded message
 * printed as compact JSON the way protobuf-java's
 * JsonFormat.printer().includingDefaultValueFields() prints it, re-serialised as ThingsBoard's Gson
 * does (specs/coap-device-api.md 14.3):
 *   - fields in number order under their JSON names; a field without presence prints its default
 *     (0, 0.0, "", false, the enum's zero name, [] and {}), one with presence only when set;
 *   - int32 kinds as numbers, int64 kinds as strings, float and double with Java's toString and
 *     "NaN"/"Infinity"/"-Infinity" as strings, bytes as Base64, enums by name (an unknown value as
 *     its number), nested messages as objects, maps as objects keyed by the key's text;
 *   - a map key seen twice keeps its first position and its last value (what Gson makes of
 *     JsonFormat's duplicate members); a map entry without a value prints the value's default.
 * Strings are escaped as Gson writes them (profile_buf_put_json_string). Every token and name is
 * charged to the call's budget.
 */
#include "profiles/profile_proto_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 3. printing ------------------------------------------------------------------------------
 */

static void base64(const uint8_t *p, size_t n, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i, o = 0;
    uint32_t x;

    for (i = 0; i + 2 < n; i += 3) {
        x = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = a[x >> 18];
        out[o++] = a[(x >> 12) & 63];
        out[o++] = a[(x >> 6) & 63];
        out[o++] = a[x & 63];
    }
    if (i < n) {
        x = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = a[x >> 18];
        out[o++] = a[(x >> 12) & 63];
        out[o++] = i + 1 < n ? a[(x >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
}

static void tok_num(struct profile_pd_tok *t, int n)
{
    t->kind = PROFILE_TK_NUM;
    t->s = t->buf;
    t->n = n > 0 ? (size_t)n : 0;
}

/* Number kinds: int32 family as numbers, 64-bit kinds as strings, floats via Java's toString. */
static void tok_number(struct profile_pd_tok *t, uint8_t type, uint64_t v)
{
    uint32_t u32 = (uint32_t)v;
    float f;
    double d;

    switch (type) {
    case PROFILE_PB_T_INT32:
    case PROFILE_PB_T_SFIXED32:
        tok_num(t, snprintf(t->buf, sizeof(t->buf), "%" PRId32, (int32_t)u32));
        break;
    case PROFILE_PB_T_SINT32:
        tok_num(t, snprintf(t->buf, sizeof(t->buf), "%" PRId32,
                            (int32_t)((u32 >> 1) ^ (0u - (u32 & 1u)))));
        break;
    case PROFILE_PB_T_UINT32:
    case PROFILE_PB_T_FIXED32:
        tok_num(t, snprintf(t->buf, sizeof(t->buf), "%" PRIu32, u32));
        break;
    case PROFILE_PB_T_INT64:
    case PROFILE_PB_T_SFIXED64:
    case PROFILE_PB_T_SINT64:
        v = type == PROFILE_PB_T_SINT64 ? (v >> 1) ^ (0u - (v & 1u)) : v;
        tok_num(t, snprintf(t->buf, sizeof(t->buf), "%" PRId64, (int64_t)v));
        t->kind = PROFILE_TK_STR;
        break;
    case PROFILE_PB_T_UINT64:
    case PROFILE_PB_T_FIXED64:
        tok_num(t, snprintf(t->buf, sizeof(t->buf), "%" PRIu64, v));
        t->kind = PROFILE_TK_STR;
        break;
    default: /* FLOAT, DOUBLE */
        if (type == PROFILE_PB_T_FLOAT) {
            memcpy(&f, &u32, sizeof(f));
            d = f;
        } else {
            memcpy(&d, &v, sizeof(d));
        }
        if (isnan(d) || isinf(d)) {
            t->kind = PROFILE_TK_STR;
            t->s = isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
            t->n = strlen(t->s);
        } else {
            tok_num(t, (int)profile_pb_java_double(d, type == PROFILE_PB_T_FLOAT, t->buf));
        }
        break;
    }
}

/* The token of one element of scalar field fd (e NULL: the field's default). */
int profile_pd_token(struct profile_pd_ctx *c, const struct profile_pb_field *fd,
                     const struct profile_pd_elem *e, struct profile_pd_tok *t)
{
    static const struct profile_pd_elem zero = { 0, (const uint8_t *)"", 0 };
    const struct profile_pb_enum *en;
    size_t i;

    memset(t, 0, sizeof(*t));
    e = e != NULL ? e : &zero;
    switch (fd->type) {
    case PROFILE_PB_T_BOOL:
        t->kind = PROFILE_TK_BOOL;
        t->b = e->v != 0;
        break;
    case PROFILE_PB_T_STRING:
        if (memchr(e->p, '\0', e->len) != NULL) {
            return profile_pd_fail(c, "NUL characters are not supported");
        }
        t->kind = PROFILE_TK_STR;
        t->s = (const char *)e->p;
        t->n = e->len;
        break;
    case PROFILE_PB_T_BYTES:
        t->heap = malloc(e->len / 3 * 4 + 5);
        if (t->heap == NULL) {
            return -ENOMEM;
        }
        base64(e->p, e->len, t->heap);
        t->kind = PROFILE_TK_STR;
        t->s = t->heap;
        t->n = strlen(t->heap);
        break;
    case PROFILE_PB_T_ENUM:
        en = &c->s->enums[fd->ref];
        tok_number(t, PROFILE_PB_T_INT32, e->v);
        for (i = 0; i < en->n_values; i++) {
            if (en->values[i].number == (int32_t)(uint32_t)e->v) {
                t->kind = PROFILE_TK_STR;
                t->s = en->values[i].name;
                t->n = strlen(t->s);
                break;
            }
        }
        break;
    default:
        tok_number(t, fd->type, e->v);
        break;
    }
    return profile_pd_charge(c, t->n + 8) ? 0 : profile_pd_over_budget(c);
}

static void put_tok(struct profile_buf *b, const struct profile_pd_tok *t)
{
    if (t->kind == PROFILE_TK_BOOL) {
        profile_buf_put(b, t->b ? "true" : "false", t->b ? 4 : 5);
    } else if (t->kind == PROFILE_TK_NUM) {
        profile_buf_put(b, t->s, t->n);
    } else {
        profile_buf_put_json_string(b, t->s, t->n);
    }
}

/* Renders a singular message field from all its occurrences (merged). */
static int render_merged(struct profile_pd_ctx *c, struct profile_buf *b,
                         const struct profile_pb_field *fd, const struct profile_pd_occ *occ,
                         size_t n)
{
    struct profile_pd_seg *segs = n > 0 ? calloc(n, sizeof(*segs)) : NULL;
    size_t i;
    int rc;

    if (n > 0 && segs == NULL) {
        return -ENOMEM;
    }
    for (i = 0; i < n; i++) {
        segs[i].p = occ[i].p;
        segs[i].len = occ[i].len;
    }
    rc = profile_pd_render_message(c, b, &c->s->msgs[fd->ref], segs, n);
    free(segs);
    return rc;
}

/* One element of fd: a message (its bytes) or a scalar token. */
static int render_elem(struct profile_pd_ctx *c, struct profile_buf *b,
                       const struct profile_pb_field *fd, const struct profile_pd_elem *e)
{
    struct profile_pd_seg seg;
    struct profile_pd_tok t;
    int rc;

    if (fd->type == PROFILE_PB_T_MESSAGE) {
        seg.p = e->p;
        seg.len = e->len;
        return profile_pd_render_message(c, b, &c->s->msgs[fd->ref], &seg, 1);
    }
    rc = profile_pd_token(c, fd, e, &t);
    if (rc == 0) {
        put_tok(b, &t);
    }
    free(t.heap);
    return rc;
}

static int cmp_entry_key(const void *a, const void *b)
{
    const struct profile_pd_entry *x = a, *y = b;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int d = memcmp(x->key, y->key, n);

    if (d != 0 || x->key_len != y->key_len) {
        return d != 0 ? d : x->key_len < y->key_len ? -1 : 1;
    }
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int cmp_entry_first(const void *a, const void *b)
{
    const struct profile_pd_entry *x = a, *y = b;
    return x->first < y->first ? -1 : x->first > y->first;
}

void profile_pd_entries_free(struct profile_pd_entry *e, size_t n)
{
    size_t i;

    for (i = 0; e != NULL && i < n; i++) {
        free(e[i].key);
    }
    free(e);
}

/* The key text of one map entry (the key field's last value, or its default). */
static int entry_key(struct profile_pd_ctx *c, const struct profile_pb_msg *et,
                     struct profile_pd_seg seg, struct profile_pd_entry *out)
{
    const struct profile_pd_occ *occ = NULL;
    struct profile_pd_elem e = { 0 };
    struct profile_pd_msg m;
    struct profile_pd_tok t;
    size_t n = 0;
    int rc;

    rc = profile_pd_msg_build(c, et, &seg, 1, &m);
    if (rc != 0) {
        return rc;
    }
    (void)profile_pd_printed(c, &m, 0, &occ, &n);
    if (n > 0) {
        e.v = occ[n - 1].v;
        e.p = occ[n - 1].p;
        e.len = occ[n - 1].len;
    }
    rc = profile_pd_token(c, &et->fields[0], n > 0 ? &e : NULL, &t);
    if (rc == 0) {
        if (t.kind == PROFILE_TK_BOOL) {
            t.s = t.b ? "true" : "false";
            t.n = strlen(t.s);
        }
        out->key = malloc(t.n + 1);
        rc = out->key == NULL ? -ENOMEM : 0;
        if (rc == 0) {
            memcpy(out->key, t.s, t.n);
            out->key[t.n] = '\0';
            out->key_len = t.n;
        }
    }
    free(t.heap);
    profile_pd_msg_fini(&m);
    return rc;
}

/* The entries of a map field, one per key (first position, last value), in first-key order. */
int profile_pd_map_entries(struct profile_pd_ctx *c, const struct profile_pb_field *fd,
                           const struct profile_pd_occ *occ, size_t n,
                           struct profile_pd_entry **out, size_t *n_out)
{
    const struct profile_pb_msg *et = &c->s->msgs[fd->ref];
    struct profile_pd_entry *e = n > 0 ? calloc(n, sizeof(*e)) : NULL;
    size_t i, j, k = 0, g;
    int rc = 0;

    *out = NULL;
    *n_out = 0;
    if (n > 0 && e == NULL) {
        return -ENOMEM;
    }
    for (i = 0; rc == 0 && i < n; i++) {
        e[i].pos = i;
        e[i].seg.p = occ[i].p;
        e[i].seg.len = occ[i].len;
        rc = entry_key(c, et, e[i].seg, &e[i]);
    }
    if (rc != 0) {
        profile_pd_entries_free(e, n);
        return rc;
    }
    if (n > 1) {
        qsort(e, n, sizeof(*e), cmp_entry_key);
    }
    for (i = 0; i < n; i = g) {
        struct profile_pd_entry keep = e[i];
        for (g = i + 1;
             g < n && e[g].key_len == e[i].key_len && memcmp(e[g].key, e[i].key, e[i].key_len) == 0;
             g++) {
        }
        keep.first = e[i].pos;   /* the first entry's place ... */
        keep.seg = e[g - 1].seg; /* ... with the last entry's value */
        for (j = i + 1; j < g; j++) {
            free(e[j].key);
        }
        e[k++] = keep;
    }
    if (k > 1) {
        qsort(e, k, sizeof(*e), cmp_entry_first);
    }
    *out = e;
    *n_out = k;
    return 0;
}

/* The value of a map entry: the value field's last value, or its default (a message: empty). */
static int render_entry_value(struct profile_pd_ctx *c, struct profile_buf *b,
                              const struct profile_pb_msg *et, struct profile_pd_seg seg)
{
    const struct profile_pb_field *vf = &et->fields[1];
    const struct profile_pd_occ *occ = NULL;
    struct profile_pd_elem e = { 0 };
    struct profile_pd_msg m;
    size_t n = 0;
    int rc;

    rc = profile_pd_msg_build(c, et, &seg, 1, &m);
    if (rc != 0) {
        return rc;
    }
    (void)profile_pd_printed(c, &m, 1, &occ, &n);
    if (vf->type == PROFILE_PB_T_MESSAGE) {
        rc = render_merged(c, b, vf, occ, n);
    } else if (n > 0) {
        e.v = occ[n - 1].v;
        e.p = occ[n - 1].p;
        e.len = occ[n - 1].len;
        rc = render_elem(c, b, vf, &e);
    } else {
        rc = render_elem(c, b, vf, NULL);
    }
    profile_pd_msg_fini(&m);
    return rc;
}

static int render_map(struct profile_pd_ctx *c, struct profile_buf *b,
                      const struct profile_pb_field *fd, const struct profile_pd_occ *occ, size_t n)
{
    struct profile_pd_entry *e = NULL;
    size_t n_e = 0, i;
    int rc;

    rc = profile_pd_map_entries(c, fd, occ, n, &e, &n_e);
    profile_buf_putc(b, '{');
    for (i = 0; rc == 0 && i < n_e; i++) {
        profile_buf_put(b, ",", i > 0 ? 1 : 0);
        profile_buf_put_json_string(b, e[i].key, e[i].key_len);
        profile_buf_putc(b, ':');
        rc = render_entry_value(c, b, &c->s->msgs[fd->ref], e[i].seg);
    }
    profile_buf_putc(b, '}');
    profile_pd_entries_free(e, n_e);
    return rc;
}

/* The printed value of field fd (occurrences occ[0, n)): array, map, message or scalar. */
int profile_pd_render_field(struct profile_pd_ctx *c, struct profile_buf *b,
                            const struct profile_pb_field *fd, const struct profile_pd_occ *occ,
                            size_t n)
{
    struct profile_pd_iter it = { occ, n, 0, fd->type, false, { NULL, NULL } };
    struct profile_pd_elem e = { 0 };
    bool is_first = true;
    int rc = 0;

    if (profile_pd_is_map(c, fd)) {
        return render_map(c, b, fd, occ, n);
    }
    if (fd->label == PROFILE_PB_LABEL_REPEATED) {
        profile_buf_putc(b, '[');
        while (rc == 0 && profile_pd_next_elem(&it, &e)) {
            profile_buf_put(b, ",", is_first ? 0 : 1);
            is_first = false;
            rc = render_elem(c, b, fd, &e);
        }
        profile_buf_putc(b, ']');
        return rc;
    }
    if (fd->type == PROFILE_PB_T_MESSAGE) {
        return render_merged(c, b, fd, occ, n);
    }
    if (n > 0) {
        e.v = occ[n - 1].v;
        e.p = occ[n - 1].p;
        e.len = occ[n - 1].len;
    }
    return render_elem(c, b, fd, n > 0 ? &e : NULL);
}

int profile_pd_render_message(struct profile_pd_ctx *c, struct profile_buf *b,
                              const struct profile_pb_msg *type, const struct profile_pd_seg *segs,
                              size_t n_segs)
{
    const struct profile_pd_occ *occ;
    struct profile_pd_msg m;
    bool is_first = true;
    size_t i, n;
    int rc;

    rc = profile_pd_msg_build(c, type, segs, n_segs, &m);
    if (rc != 0) {
        return rc;
    }
    profile_buf_putc(b, '{');
    for (i = 0; rc == 0 && i < type->n_fields; i++) {
        if (!profile_pd_printed(c, &m, i, &occ, &n)) {
            continue;
        }
        profile_buf_put(b, ",", is_first ? 0 : 1);
        is_first = false;
        if (!profile_pd_charge(c, strlen(type->fields[i].json_name) + 4)) {
            rc = profile_pd_over_budget(c);
            break;
        }
        profile_buf_put_json_string(b, type->fields[i].json_name,
                                    strlen(type->fields[i].json_name));
        profile_buf_putc(b, ':');
        rc = profile_pd_render_field(c, b, &type->fields[i], occ, n);
    }
    profile_buf_putc(b, '}');
    profile_pd_msg_fini(&m);
    if (rc == 0 && (b->has_failed || !profile_pd_charge(c, 2))) {
        rc = b->has_failed ? -ENOMEM : profile_pd_over_budget(c);
    }
    return rc;
}
