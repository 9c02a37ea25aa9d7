/* SPDX-License-Identifier: MIT */
/*
 * efento_wire.c - the guards in front of protobuf-c (specs/efento.md section 9, platform.md):
 * option defaults, a byte-budget allocator for unpack, and a walk over the raw wire bytes that
 * enforces the bounds before anything is unpacked.
 *
 * Wire format walked (protobuf encoding): a message is a sequence of (key, value) with
 * key = varint (field number << 3 | wire type); wire type 0 varint, 1 eight bytes, 2 a varint
 * length + that many bytes (string, bytes, sub-message or packed repeated scalars), 5 four
 * bytes; 3 and 4 (groups) are not used by Efento and are rejected. The schema comes from the
 * generated descriptors, so unknown fields (newer firmware) are skipped, and string fields are
 * checked here because protobuf-c neither validates UTF-8 nor keeps bytes after a NUL.
 * Repeated items are counted per message instance; efento_count_check recounts after unpacking,
 * since a singular sub-message sent twice is merged.
 */
#include "efento/efento_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WALK_DEPTH_MAX  8  /* Efento schemas nest 3 deep */
#define WALK_FIELDS_MAX 80 /* ProtoConfig has 63 fields */

struct walk {
    const struct efento_opts *o;
    const uint8_t *base; /* start of the frame, for offsets in messages */
    size_t samples;      /* sample offsets so far, all channels */
    char *err;
    size_t err_len;
};

union alloc_hdr {
    size_t n;
    max_align_t align;
};

void efento_opts_init(struct efento_opts *o)
{
    o->payload_bytes = EFENTO_PAYLOAD_MAX;
    o->channels = EFENTO_CHANNELS_MAX;
    o->samples = EFENTO_SAMPLES_MAX;
    o->list_items = EFENTO_LIST_MAX;
    o->string_bytes = EFENTO_STRING_MAX;
    o->bytes_bytes = EFENTO_BYTES_MAX;
    o->split_parts = EFENTO_SPLIT_PARTS_MAX;
    o->split_bytes = EFENTO_SPLIT_BYTES_MAX;
    o->is_type_cast = true;
}

static size_t clamp(size_t v, size_t max)
{
    return v < max ? v : max;
}

void efento_opts_resolve(const struct efento_opts *in, struct efento_opts *out)
{
    efento_opts_init(out);
    if (in == NULL) {
        return;
    }
    out->payload_bytes = clamp(in->payload_bytes, EFENTO_PAYLOAD_MAX);
    out->channels = clamp(in->channels, EFENTO_CHANNELS_MAX);
    out->samples = clamp(in->samples, EFENTO_SAMPLES_MAX);
    out->list_items = clamp(in->list_items, EFENTO_LIST_MAX);
    out->string_bytes = clamp(in->string_bytes, EFENTO_STRING_MAX);
    out->bytes_bytes = clamp(in->bytes_bytes, EFENTO_BYTES_MAX);
    out->is_type_cast = in->is_type_cast;
}

static void *budget_alloc(void *data, size_t size)
{
    struct efento_alloc *a = data;
    union alloc_hdr *h;

    if (size > a->budget_bytes - a->used_bytes) {
        a->is_exhausted = true;
        return NULL;
    }
    h = malloc(sizeof(*h) + size);
    if (h == NULL) {
        a->is_oom = true;
        return NULL;
    }
    h->n = size;
    a->used_bytes += size;
    return h + 1;
}

static void budget_free(void *data, void *p)
{
    struct efento_alloc *a = data;
    union alloc_hdr *h;

    if (p == NULL) {
        return;
    }
    h = (union alloc_hdr *)p - 1;
    if (h->n <= a->used_bytes) {
        a->used_bytes -= h->n;
    }
    free(h);
}

void efento_alloc_init(struct efento_alloc *a, size_t len_bytes)
{
    memset(a, 0, sizeof(*a));
    a->base.alloc = budget_alloc;
    a->base.free = budget_free;
    a->base.allocator_data = a;
    a->budget_bytes = EFENTO_ALLOC_BASE_BYTES + EFENTO_ALLOC_PER_BYTE * len_bytes;
}

int efento_alloc_unpack_error(const struct efento_alloc *a, const char *what, char *err,
                              size_t err_len)
{
    if (a->is_oom) {
        efento_errf(err, err_len, "out of memory unpacking %s", what);
        return -ENOMEM;
    }
    if (a->is_exhausted) {
        efento_errf(err, err_len, "%s needs more than %zu bytes of memory", what, a->budget_bytes);
        return -EBADMSG;
    }
    efento_errf(err, err_len, "not a parseable %s", what);
    return -EBADMSG;
}

static int rd_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
    uint64_t r = 0;
    unsigned shift;

    for (shift = 0; shift < 64 && *pos < len; shift += 7) {
        uint8_t c = p[*pos];
        (*pos)++;
        r |= (uint64_t)(c & 0x7fu) << shift;
        if (c < 0x80u) {
            *v = r;
            return 0;
        }
    }
    return -EBADMSG;
}

static bool is_samples_field(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f)
{
    return d == &proto_channel__descriptor && f->id == 5;
}

static size_t list_limit(const struct efento_opts *o, const ProtobufCMessageDescriptor *d,
                         const ProtobufCFieldDescriptor *f)
{
    if (d == &proto_measurements__descriptor && f->id == 4) {
        return o->channels;
    }
    return o->list_items;
}

/* Add `add` items to repeated field f of the message instance whose counters are `counts`. */
static int count_add(struct walk *w, const ProtobufCMessageDescriptor *d,
                     const ProtobufCFieldDescriptor *f, size_t *counts, size_t add, size_t off)
{
    size_t i = (size_t)(f - d->fields);

    if (is_samples_field(d, f)) {
        w->samples += add;
        if (w->samples > w->o->samples) {
            efento_errf(w->err, w->err_len, "offset %zu: more than %zu sample offsets", off,
                        w->o->samples);
            return -EBADMSG;
        }
        return 0;
    }
    counts[i] += add;
    if (counts[i] > list_limit(w->o, d, f)) {
        efento_errf(w->err, w->err_len, "offset %zu: %s.%s has more than %zu items", off, d->name,
                    f->name, list_limit(w->o, d, f));
        return -EBADMSG;
    }
    return 0;
}

/* Number of elements in a packed repeated scalar blob. */
static size_t packed_count(ProtobufCType t, const uint8_t *p, size_t n)
{
    size_t i, c = 0;

    switch (t) {
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
        return n / 4;
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return n / 8;
    default:
        for (i = 0; i < n; i++) {
            c += p[i] < 0x80u ? 1u : 0u;
        }
        return c;
    }
}

static int walk_msg(struct walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                    size_t len, unsigned depth);

/* A length-delimited value of field f (NULL: unknown field, skipped). */
static int walk_ld(struct walk *w, const ProtobufCMessageDescriptor *d,
                   const ProtobufCFieldDescriptor *f, const uint8_t *p, size_t n, size_t *counts,
                   unsigned depth)
{
    size_t off = (size_t)(p - w->base);
    int rc = 0;

    if (f == NULL) {
        return 0;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        if (n > w->o->string_bytes) {
            efento_errf(w->err, w->err_len, "offset %zu: %s longer than %zu bytes", off, f->name,
                        w->o->string_bytes);
            return -EBADMSG;
        }
        if (memchr(p, 0, n) != NULL || !efento_utf8_is_valid(p, n)) {
            efento_errf(w->err, w->err_len, "offset %zu: %s is not UTF-8 text without NUL", off,
                        f->name);
            return -EBADMSG;
        }
        break;
    case PROTOBUF_C_TYPE_BYTES:
        if (n > w->o->bytes_bytes) {
            efento_errf(w->err, w->err_len, "offset %zu: %s longer than %zu bytes", off, f->name,
                        w->o->bytes_bytes);
            return -EBADMSG;
        }
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        rc = walk_msg(w, f->descriptor, p, n, depth + 1);
        break;
    default:
        if (f->label != PROTOBUF_C_LABEL_REPEATED) {
            return 0; /* wrong wire type: protobuf-c rejects it */
        }
        return count_add(w, d, f, counts, packed_count(f->type, p, n), off);
    }
    if (rc == 0 && f->label == PROTOBUF_C_LABEL_REPEATED) {
        rc = count_add(w, d, f, counts, 1, off);
    }
    return rc;
}

/* Skip or check one value of wire type wt at *pos. */
static int walk_value(struct walk *w, const ProtobufCMessageDescriptor *d,
                      const ProtobufCFieldDescriptor *f, unsigned wt, const uint8_t *p, size_t len,
                      size_t *pos, size_t *counts, unsigned depth)
{
    size_t off = (size_t)(p - w->base) + *pos;
    size_t width = wt == 1 ? 8 : 4;
    uint64_t v;
    int rc = 0;

    switch (wt) {
    case 0:
        if (rd_varint(p, len, pos, &v) != 0) {
            efento_errf(w->err, w->err_len, "offset %zu: truncated varint", off);
            return -EBADMSG;
        }
        break;
    case 1:
    case 5:
        if (len - *pos < width) {
            efento_errf(w->err, w->err_len, "offset %zu: truncated fixed value", off);
            return -EBADMSG;
        }
        *pos += width;
        break;
    case 2:
        if (rd_varint(p, len, pos, &v) != 0 || v > len - *pos) {
            efento_errf(w->err, w->err_len, "offset %zu: length beyond the end", off);
            return -EBADMSG;
        }
        rc = walk_ld(w, d, f, p + *pos, (size_t)v, counts, depth);
        *pos += (size_t)v;
        return rc;
    default:
        efento_errf(w->err, w->err_len, "offset %zu: unsupported wire type %u", off, wt);
        return -EBADMSG;
    }
    if (f != NULL && f->label == PROTOBUF_C_LABEL_REPEATED) {
        rc = count_add(w, d, f, counts, 1, off);
    }
    return rc;
}

static int walk_msg(struct walk *w, const ProtobufCMessageDescriptor *d, const uint8_t *p,
                    size_t len, unsigned depth)
{
    size_t counts[WALK_FIELDS_MAX] = { 0 };
    size_t pos = 0;
    uint64_t key;
    int rc = 0;

    if (depth > WALK_DEPTH_MAX || d->n_fields > WALK_FIELDS_MAX) {
        efento_errf(w->err, w->err_len, "offset %zu: nested too deeply", (size_t)(p - w->base));
        return -EBADMSG;
    }
    while (rc == 0 && pos < len) {
        size_t off = (size_t)(p - w->base) + pos;
        const ProtobufCFieldDescriptor *f;

        if (rd_varint(p, len, &pos, &key) != 0 || (key >> 3) == 0 || (key >> 3) > 536870911u) {
            efento_errf(w->err, w->err_len, "offset %zu: invalid field key", off);
            return -EBADMSG;
        }
        f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
        rc = walk_value(w, d, f, (unsigned)(key & 7u), p, len, &pos, counts, depth);
    }
    return rc;
}

int efento_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                      const struct efento_opts *o, char *err, size_t err_len)
{
    struct walk w = { o, buf, 0, err, err_len };

    if (len == 0) {
        return 0;
    }
    return walk_msg(&w, d, buf, len, 0);
}

static int count_msg(const ProtobufCMessage *m, const struct efento_opts *o, size_t *samples,
                     char *err, size_t err_len);

static int count_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                       const struct efento_opts *o, size_t *samples, char *err, size_t err_len)
{
    const char *base = (const char *)m;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    ProtobufCMessage *const *items;
    const ProtobufCMessage *sub;
    size_t n, i;
    int rc = 0;

    if (f->label != PROTOBUF_C_LABEL_REPEATED) {
        if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
            return 0;
        }
        memcpy(&sub, base + f->offset, sizeof(sub));
        return sub != NULL ? count_msg(sub, o, samples, err, err_len) : 0;
    }
    memcpy(&n, base + f->quantifier_offset, sizeof(n));
    if (is_samples_field(d, f)) {
        *samples += n;
        if (*samples > o->samples) {
            efento_errf(err, err_len, "more than %zu sample offsets", o->samples);
            return -EBADMSG;
        }
    } else if (n > list_limit(o, d, f)) {
        efento_errf(err, err_len, "%s.%s has more than %zu items", d->name, f->name,
                    list_limit(o, d, f));
        return -EBADMSG;
    }
    if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
        memcpy(&items, base + f->offset, sizeof(items));
        for (i = 0; rc == 0 && i < n; i++) {
            rc = count_msg(items[i], o, samples, err, err_len);
        }
    }
    return rc;
}

static int count_msg(const ProtobufCMessage *m, const struct efento_opts *o, size_t *samples,
                     char *err, size_t err_len)
{
    unsigned i;
    int rc = 0;

    for (i = 0; rc == 0 && i < m->descriptor->n_fields; i++) {
        rc = count_field(m, &m->descriptor->fields[i], o, samples, err, err_len);
    }
    return rc;
}

int efento_count_check(const ProtobufCMessage *m, const struct efento_opts *o, char *err,
                       size_t err_len)
{
    size_t samples = 0;

    return count_msg(m, o, &samples, err, err_len);
}

/* The value span of the field whose key starts at *pos (wire syntax already checked). */
static int next_field(const uint8_t *p, size_t len, size_t *pos, uint32_t *num, unsigned *wt,
                      size_t *vs, size_t *ve)
{
    uint64_t key, v;

    if (rd_varint(p, len, pos, &key) != 0) {
        return -EBADMSG;
    }
    *num = (uint32_t)(key >> 3);
    *wt = (unsigned)(key & 7u);
    switch (*wt) {
    case 0:
        *vs = *pos;
        if (rd_varint(p, len, pos, &v) != 0) {
            return -EBADMSG;
        }
        break;
    case 1:
    case 5:
        v = *wt == 1 ? 8 : 4;
        if (len - *pos < v) {
            return -EBADMSG;
        }
        *vs = *pos;
        *pos += (size_t)v;
        break;
    case 2:
        if (rd_varint(p, len, pos, &v) != 0 || v > len - *pos) {
            return -EBADMSG;
        }
        *vs = *pos;
        *pos += (size_t)v;
        break;
    default:
        return -EBADMSG;
    }
    *ve = *pos;
    return 0;
}

static void put_varint(uint8_t *out, size_t *o, uint64_t v)
{
    while (v >= 0x80u) {
        out[(*o)++] = (uint8_t)(v | 0x80u);
        v >>= 7;
    }
    out[(*o)++] = (uint8_t)v;
}

static int merge_msg(const ProtobufCMessageDescriptor *d, const uint8_t *in, size_t n, uint8_t *out,
                     size_t *o, unsigned depth);

/*
 * Emit field f (message type) once, with the content of the occurrences from in[start..n):
 * every occurrence for a singular field (protobuf merges them), only the one at start for a
 * repeated field. The content is merged recursively.
 */
static int emit_message(const ProtobufCFieldDescriptor *f, const uint8_t *in, size_t n,
                        size_t start, uint8_t *out, size_t *o, unsigned depth)
{
    bool is_single = f->label != PROTOBUF_C_LABEL_REPEATED;
    size_t pos = start, vs, ve, total = 0, sub_len = 0;
    uint8_t *tmp = NULL, *sub = NULL;
    uint32_t num;
    unsigned wt;
    int rc = 0;

    tmp = malloc(n - start + 1);
    sub = malloc(n - start + 1);
    if (tmp == NULL || sub == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    while (rc == 0 && pos < n) {
        rc = next_field(in, n, &pos, &num, &wt, &vs, &ve);
        if (rc == 0 && num == f->id && wt == 2) {
            memcpy(tmp + total, in + vs, ve - vs);
            total += ve - vs;
            if (!is_single) {
                break;
            }
        }
    }
    if (rc == 0) {
        rc = merge_msg(f->descriptor, tmp, total, sub, &sub_len, depth + 1);
    }
    if (rc == 0) {
        put_varint(out, o, (uint64_t)f->id << 3 | 2u);
        put_varint(out, o, sub_len);
        memcpy(out + *o, sub, sub_len);
        *o += sub_len;
    }
out:
    free(tmp);
    free(sub);
    return rc;
}

static int merge_msg(const ProtobufCMessageDescriptor *d, const uint8_t *in, size_t n, uint8_t *out,
                     size_t *o, unsigned depth)
{
    bool done[WALK_FIELDS_MAX] = { false };
    size_t pos = 0, start, vs, ve, i;
    uint32_t num;
    unsigned wt;
    int rc = 0;

    if (depth > WALK_DEPTH_MAX || d->n_fields > WALK_FIELDS_MAX) {
        return -EBADMSG;
    }
    while (rc == 0 && pos < n) {
        const ProtobufCFieldDescriptor *f;

        start = pos;
        rc = next_field(in, n, &pos, &num, &wt, &vs, &ve);
        f = rc == 0 ? protobuf_c_message_descriptor_get_field(d, num) : NULL;
        if (f == NULL || f->type != PROTOBUF_C_TYPE_MESSAGE || wt != 2) {
            memcpy(out + *o, in + start, pos - start);
            *o += pos - start;
            continue;
        }
        i = (size_t)(f - d->fields);
        if (f->label == PROTOBUF_C_LABEL_REPEATED || !done[i]) {
            done[i] = true;
            rc = emit_message(f, in, n, start, out, o, depth);
        }
    }
    return rc;
}

int efento_wire_merge(const ProtobufCMessageDescriptor *d, const uint8_t *buf, size_t len,
                      uint8_t **out, size_t *out_len)
{
    int rc;

    *out_len = 0;
    *out = malloc(len > 0 ? len : 1);
    if (*out == NULL) {
        return -ENOMEM;
    }
    rc = merge_msg(d, buf, len, *out, out_len, 0);
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *out_len = 0;
    }
    return rc;
}
