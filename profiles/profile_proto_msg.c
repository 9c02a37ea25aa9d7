/* SPDX-License-Identifier: MIT */
/*
 * profile_proto_msg.c - steps 1 and 2 of the Protobuf adaptor (see profile_proto.c): the payload
 * validated against the schema as protobuf-java parses it, and one message's occurrences grouped
 * by field with its oneofs resolved, for printing (profile_proto_print.c) and conversion.
 *
 * Wire rules followed: malformed varints, truncated values, tags with field 0 or wire type 6/7,
 * stray end-group tags, invalid UTF-8 in a string field and nesting deeper than
 * PROFILE_PROTO_MAX_DEPTH are errors; unknown fields, groups and known fields with an unexpected
 * wire type are skipped; repeated scalars accept packed and unpacked runs in any mix.
 * Grouping allocates one occurrence per accepted field, charged to the call's budget.
 */
#include "profiles/profile_proto_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int profile_pd_fail(struct profile_pd_ctx *c, const char *msg)
{
    return profile_pb_fail(c->err, c->err_len, "%s", msg);
}

bool profile_pd_charge(struct profile_pd_ctx *c, size_t n)
{
    if (n > c->budget) {
        c->budget = 0;
        return false;
    }
    c->budget -= n;
    return true;
}

int profile_pd_over_budget(struct profile_pd_ctx *c)
{
    return profile_pb_fail(c->err, c->err_len, "decoded message too large");
}

bool profile_pd_is_map(const struct profile_pd_ctx *c, const struct profile_pb_field *fd)
{
    return fd->label == PROFILE_PB_LABEL_REPEATED && fd->type == PROFILE_PB_T_MESSAGE &&
           c->s->msgs[fd->ref].is_map_entry;
}

/* ---- 1. validation ----------------------------------------------------------------------------
 */

static int profile_pd_bad_wire(struct profile_pd_ctx *c, const uint8_t *at)
{
    return profile_pb_fail(c->err, c->err_len,
                           "invalid Protobuf at byte %zu: malformed or truncated",
                           (size_t)(at - c->base));
}

static int validate_packed(struct profile_pd_ctx *c, const struct profile_pb_field *fd,
                           const uint8_t *p, size_t len)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    uint32_t wt = profile_pb_wire_of(fd->type);
    const uint8_t *q;
    uint64_t v;
    size_t n;

    while (r.p < r.end) {
        if (profile_pb_read_value(&r, wt, &v, &q, &n) != 0) {
            return profile_pd_bad_wire(c, r.p);
        }
    }
    return 0;
}

int profile_pd_validate(struct profile_pd_ctx *c, const struct profile_pb_msg *m, const uint8_t *p,
                        size_t len, size_t depth)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    const struct profile_pb_field *fd;
    const uint8_t *at, *q;
    uint32_t f, wt;
    uint64_t v;
    size_t n;
    int rc = 0;

    if (depth > PROFILE_PROTO_MAX_DEPTH) {
        return profile_pb_fail(c->err, c->err_len,
                               "invalid Protobuf: messages nested deeper than %d",
                               PROFILE_PROTO_MAX_DEPTH);
    }
    while (rc == 0 && r.p < r.end) {
        at = r.p;
        if (!profile_pd_charge(c, 1)) {
            return profile_pd_over_budget(c);
        }
        if (profile_pb_read_tag(&r, &f, &wt) != 0 ||
            (wt == PROFILE_PB_WT_SGROUP || wt == PROFILE_PB_WT_EGROUP
                 ? profile_pb_skip(&r, f, wt)
                 : profile_pb_read_value(&r, wt, &v, &q, &n)) != 0) {
            return profile_pd_bad_wire(c, at);
        }
        fd = wt == PROFILE_PB_WT_SGROUP ? NULL : profile_pb_field_by_number(m, (int32_t)f);
        if (fd == NULL) {
            continue; /* unknown field: ignored */
        }
        if (wt == profile_pb_wire_of(fd->type) && fd->type == PROFILE_PB_T_STRING &&
            !profile_pb_utf8_ok(q, n)) {
            rc = profile_pb_fail(c->err, c->err_len,
                                 "invalid Protobuf: field %s is not valid UTF-8", fd->name);
        } else if (wt == profile_pb_wire_of(fd->type) && fd->type == PROFILE_PB_T_MESSAGE) {
            rc = profile_pd_validate(c, &c->s->msgs[fd->ref], q, n, depth + 1);
        } else if (wt == PROFILE_PB_WT_LEN && fd->label == PROFILE_PB_LABEL_REPEATED &&
                   profile_pb_is_packable(fd->type)) {
            rc = validate_packed(c, fd, q, n);
        }
    }
    return rc;
}

/* ---- 2. grouping ------------------------------------------------------------------------------
 */

static int cmp_occ(const void *a, const void *b)
{
    const struct profile_pd_occ *x = a, *y = b;

    if (x->field != y->field) {
        return x->field < y->field ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void profile_pd_msg_fini(struct profile_pd_msg *m)
{
    free(m->occ);
    free(m->oneof_win);
    free(m->oneof_cut);
    memset(m, 0, sizeof(*m));
}

/* Appends the accepted occurrences of one segment (already validated). */
static int collect(struct profile_pd_ctx *c, struct profile_pd_msg *m, struct profile_pd_seg seg,
                   size_t *cap, uint32_t *seq)
{
    struct profile_pb_reader r = profile_pb_reader_of(seg.p, seg.len);
    const struct profile_pb_field *fd;
    struct profile_pd_occ o, *p;
    uint32_t f, wt;

    while (r.p < r.end) {
        memset(&o, 0, sizeof(o));
        if (profile_pb_read_tag(&r, &f, &wt) != 0 ||
            (wt == PROFILE_PB_WT_SGROUP || wt == PROFILE_PB_WT_EGROUP
                 ? profile_pb_skip(&r, f, wt)
                 : profile_pb_read_value(&r, wt, &o.v, &o.p, &o.len)) != 0) {
            return profile_pd_bad_wire(c, r.p);
        }
        fd = wt == PROFILE_PB_WT_SGROUP ? NULL : profile_pb_field_by_number(m->type, (int32_t)f);
        if (fd == NULL || (wt != profile_pb_wire_of(fd->type) &&
                           !(wt == PROFILE_PB_WT_LEN && fd->label == PROFILE_PB_LABEL_REPEATED &&
                             profile_pb_is_packable(fd->type)))) {
            continue;
        }
        if (!profile_pd_charge(c, sizeof(o))) {
            return profile_pd_over_budget(c);
        }
        if (m->n_occ == *cap) {
            *cap = *cap == 0 ? 16 : *cap * 2;
            p = realloc(m->occ, *cap * sizeof(*p));
            if (p == NULL) {
                return -ENOMEM;
            }
            m->occ = p;
        }
        o.field = (uint32_t)(fd - m->type->fields);
        o.seq = ++*seq;
        o.wt = (uint8_t)wt;
        m->occ[m->n_occ++] = o;
    }
    return 0;
}

/* Which member of each oneof is set: the one set last; cut = the others' last occurrence. */
static void resolve_oneofs(struct profile_pd_msg *m)
{
    const struct profile_pb_field *fd;
    uint32_t *win_seq = m->oneof_cut + m->type->n_oneofs; /* second half of the array */
    size_t i;
    int32_t o;

    for (i = 0; i < m->n_occ; i++) {
        fd = &m->type->fields[m->occ[i].field];
        o = fd->oneof;
        if (o < 0 || (i + 1 < m->n_occ && m->occ[i + 1].field == m->occ[i].field)) {
            continue; /* not in a oneof, or not the field's last occurrence */
        }
        if (m->occ[i].seq > win_seq[o]) {
            m->oneof_cut[o] = win_seq[o] > m->oneof_cut[o] ? win_seq[o] : m->oneof_cut[o];
            m->oneof_win[o] = m->occ[i].field;
            win_seq[o] = m->occ[i].seq;
        } else if (m->occ[i].seq > m->oneof_cut[o]) {
            m->oneof_cut[o] = m->occ[i].seq;
        }
    }
}

int profile_pd_msg_build(struct profile_pd_ctx *c, const struct profile_pb_msg *type,
                         const struct profile_pd_seg *segs, size_t n_segs, struct profile_pd_msg *m)
{
    size_t cap = 0, i, n_oneofs = type->n_oneofs;
    uint32_t seq = 0;
    int rc = 0;

    memset(m, 0, sizeof(*m));
    m->type = type;
    if (!profile_pd_charge(c, type->n_fields + n_oneofs + 1)) {
        return profile_pd_over_budget(c);
    }
    if (n_oneofs > 0) {
        m->oneof_win = malloc(n_oneofs * sizeof(*m->oneof_win));
        m->oneof_cut = calloc(2 * n_oneofs, sizeof(*m->oneof_cut));
        if (m->oneof_win == NULL || m->oneof_cut == NULL) {
            rc = -ENOMEM;
            goto out;
        }
        for (i = 0; i < n_oneofs; i++) {
            m->oneof_win[i] = PROFILE_PB_NONE;
        }
    }
    for (i = 0; rc == 0 && i < n_segs; i++) {
        rc = collect(c, m, segs[i], &cap, &seq);
    }
    if (rc == 0 && m->n_occ > 1) {
        qsort(m->occ, m->n_occ, sizeof(*m->occ), cmp_occ);
    }
    if (rc == 0 && n_oneofs > 0) {
        resolve_oneofs(m);
    }
out:
    if (rc != 0) {
        profile_pd_msg_fini(m);
    }
    return rc;
}

/* The occurrences of field idx that count; returns whether the field is printed. */
bool profile_pd_printed(const struct profile_pd_ctx *c, const struct profile_pd_msg *m, size_t idx,
                        const struct profile_pd_occ **occ, size_t *n)
{
    const struct profile_pb_field *fd = &m->type->fields[idx];
    size_t lo = 0, hi = m->n_occ, mid, end;

    (void)c;
    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (m->occ[mid].field < idx) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    for (end = lo; end < m->n_occ && m->occ[end].field == idx; end++) {
    }
    if (fd->oneof >= 0) {
        if (m->oneof_win[fd->oneof] != idx) {
            return false;
        }
        while (lo < end && m->occ[lo].seq <= m->oneof_cut[fd->oneof]) {
            lo++;
        }
    }
    *occ = m->occ != NULL ? m->occ + lo : NULL; /* no arithmetic on NULL */
    *n = end - lo;
    if (fd->label == PROFILE_PB_LABEL_REPEATED) {
        return true;
    }
    return fd->type == PROFILE_PB_T_MESSAGE || fd->oneof >= 0 ? *n > 0 : true;
}

bool profile_pd_next_elem(struct profile_pd_iter *it, struct profile_pd_elem *e)
{
    const struct profile_pd_occ *o;

    for (;;) {
        if (it->is_packed && it->packed.p < it->packed.end) {
            return profile_pb_read_value(&it->packed, profile_pb_wire_of(it->type), &e->v, &e->p,
                                         &e->len) == 0;
        }
        it->is_packed = false;
        if (it->i >= it->n) {
            return false;
        }
        o = &it->occ[it->i++];
        if (o->wt == PROFILE_PB_WT_LEN && profile_pb_is_packable(it->type)) {
            it->packed = profile_pb_reader_of(o->p, o->len);
            it->is_packed = true;
            continue;
        }
        e->v = o->v;
        e->p = o->p;
        e->len = o->len;
        return true;
    }
}
