/* SPDX-License-Identifier: MIT */
/*
 * efento_config.c - ProtoConfig (POST c) -> configuration facts and client attributes,
 * specs/efento.md 6.6, 7.10, and the split-configuration bookkeeping (3.5, R4(g), section 9).
 *
 * Parts: a configuration may come in parts (payload_split_info #44: 0 whole, -i part i with
 * more to follow, +n the last of n parts). Parts are merged by concatenating their bytes in
 * index order and unpacking once: protobuf's merge rules then apply (scalars: last wins,
 * repeated: appended, sub-messages: merged).
 *
 * Printing follows ThingsBoard's protobuf JsonFormat printer with default values included:
 * every field by its lowerCamelCase JSON name in field-number order; scalars always (0, false,
 * "", first enum name); repeated fields always, as JSON arrays; singular sub-messages only when
 * present, printed the same way inside; uint32 unsigned, enums by name (unknown numbers as
 * numbers), bytes as base64. Top-level values become typed attributes (7.11): numbers LONG,
 * booleans BOOLEAN, strings STRING (type-cast when enabled), arrays and objects JSON text in
 * Gson's compact form. payload_split_info is not an attribute. The printer is driven by the
 * generated descriptors, so a new field in proto/efento/proto_config.proto is printed as well.
 */
#include "efento/efento.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efento/efento_internal.h"

#define SPLIT_INFO_FIELD 44

struct pctx {
    const struct efento_opts *o;
    struct efento_attr *out;
    size_t cap;
    size_t n;
    struct efento_sb sb;
    bool is_full;
};

/*
 * Check the parts' sizes, concatenate them, walk the wire bytes and merge repeated singular
 * sub-messages (*joined: the result, caller frees). Returns: 0, -EINVAL, -ERANGE, -EBADMSG,
 * -ENOMEM.
 */
static int join_parts(const struct efento_part *parts, size_t n_parts, const struct efento_opts *o,
                      uint8_t **joined, size_t *len, char *err, size_t err_len)
{
    size_t i, total = 0, at = 0;
    uint8_t *merged = NULL;
    int rc;

    *joined = NULL;
    *len = 0;
    if (parts == NULL || n_parts == 0) {
        return -EINVAL;
    }
    if (n_parts > EFENTO_SPLIT_PARTS_MAX || n_parts > o->split_parts) {
        efento_errf(err, err_len, "%zu parts exceed %zu", n_parts, o->split_parts);
        return -ERANGE;
    }
    for (i = 0; i < n_parts; i++) {
        if (parts[i].data == NULL && parts[i].len > 0) {
            return -EINVAL;
        }
        if (parts[i].len > o->payload_bytes) {
            efento_errf(err, err_len, "part %zu: %zu bytes exceed %zu", i + 1, parts[i].len,
                        o->payload_bytes);
            return -ERANGE;
        }
        total += parts[i].len;
    }
    if (total > EFENTO_SPLIT_BYTES_MAX || total > o->split_bytes) {
        efento_errf(err, err_len, "configuration of %zu bytes exceeds %zu", total, o->split_bytes);
        return -ERANGE;
    }
    *joined = malloc(total > 0 ? total : 1);
    if (*joined == NULL) {
        return -ENOMEM;
    }
    for (i = 0; i < n_parts; i++) {
        if (parts[i].len > 0) {
            memcpy(*joined + at, parts[i].data, parts[i].len);
            at += parts[i].len;
        }
    }
    rc = efento_wire_check(&proto_config__descriptor, *joined, total, o, err, err_len);
    if (rc == 0) {
        rc = efento_wire_merge(&proto_config__descriptor, *joined, total, &merged, len);
    }
    free(*joined);
    *joined = merged;
    return rc;
}

static void fill_info(struct efento_config_info *info, const ProtoConfig *c)
{
    size_t i;

    efento_hex_upper(c->serial_number.data, c->serial_number.len, info->id.serial,
                     sizeof(info->id.serial));
    (void)snprintf(info->id.cloud_token, sizeof(info->id.cloud_token), "%s", c->cloud_token);
    info->payload_split_info = c->payload_split_info;
    info->configuration_hash = c->configuration_hash;
    for (i = 0; i < c->n_configuration_errors && i < EFENTO_LIST_MAX; i++) {
        info->configuration_errors[i] = c->configuration_errors[i];
    }
    info->n_configuration_errors = i;
}

int efento_config_parse(const struct efento_part *parts, size_t n_parts,
                        const struct efento_opts *opts, struct efento_config_info *info, char *err,
                        size_t err_len)
{
    struct efento_opts o;
    struct efento_alloc a;
    ProtoConfig *c = NULL;
    uint8_t *joined = NULL;
    size_t len = 0;
    int rc;

    if (info == NULL) {
        return -EINVAL;
    }
    memset(info, 0, sizeof(*info));
    efento_opts_resolve(opts, &o);
    rc = join_parts(parts, n_parts, &o, &joined, &len, err, err_len);
    efento_alloc_init(&a, len);
    if (rc != 0) {
        goto out;
    }
    c = proto_config__unpack(&a.base, len, joined);
    if (c == NULL) {
        rc = efento_alloc_unpack_error(&a, "ProtoConfig", err, err_len);
        goto out;
    }
    rc = efento_count_check(&c->base, &o, err, err_len);
    if (rc == 0) {
        fill_info(info, c);
    }
out:
    if (c != NULL) {
        proto_config__free_unpacked(c, &a.base);
    }
    free(joined);
    return rc;
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4; /* int32 kinds, uint32 kinds, bool (protobuf_c_boolean), enum, float */
    }
}

static void json_message(struct efento_sb *sb, const ProtobufCMessage *m);

/* One value of field f stored at p, as JsonFormat prints it. */
static void json_value(struct efento_sb *sb, const ProtobufCFieldDescriptor *f, const void *p)
{
    int32_t i32;
    uint32_t u32;
    uint64_t u64;
    const char *s;
    const ProtobufCMessage *sub;
    ProtobufCBinaryData bin;
    char b64[2 * EFENTO_BYTES_MAX + 8];

    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        memcpy(&i32, p, sizeof(i32));
        efento_sb_printf(sb, "%d", (int)i32);
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        memcpy(&u32, p, sizeof(u32));
        efento_sb_printf(sb, "%u", (unsigned)u32);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        memcpy(&i32, p, sizeof(i32));
        efento_sb_puts(sb, i32 != 0 ? "true" : "false");
        break;
    case PROTOBUF_C_TYPE_ENUM:
        memcpy(&i32, p, sizeof(i32));
        s = efento_enum_name(f->descriptor, (int)i32);
        if (s != NULL) {
            efento_sb_json_string(sb, s, strlen(s));
        } else {
            efento_sb_printf(sb, "%d", (int)i32);
        }
        break;
    case PROTOBUF_C_TYPE_STRING:
        memcpy(&s, p, sizeof(s));
        efento_sb_json_string(sb, s != NULL ? s : "", s != NULL ? strlen(s) : 0);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        memcpy(&bin, p, sizeof(bin));
        (void)efento_base64_encode(bin.data, bin.len, b64, sizeof(b64));
        efento_sb_json_string(sb, b64, strlen(b64));
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        memcpy(&sub, p, sizeof(sub));
        json_message(sb, sub);
        break;
    default:
        /* 64-bit integers print as quoted decimal strings; floats are not in the schema */
        memcpy(&u64, p, sizeof(u64));
        if (f->type == PROTOBUF_C_TYPE_UINT64 || f->type == PROTOBUF_C_TYPE_FIXED64) {
            efento_sb_printf(sb, "\"%llu\"", (unsigned long long)u64);
        } else {
            efento_sb_printf(sb, "\"%lld\"", (long long)(int64_t)u64);
        }
        break;
    }
}

/* A repeated field as a JSON array. */
static void json_array(struct efento_sb *sb, const ProtobufCMessage *m,
                       const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    const char *arr;
    size_t n, i;

    memcpy(&n, base + f->quantifier_offset, sizeof(n));
    memcpy(&arr, base + f->offset, sizeof(arr));
    efento_sb_putc(sb, '[');
    for (i = 0; i < n; i++) {
        if (i > 0) {
            efento_sb_putc(sb, ',');
        }
        json_value(sb, f, arr + i * elem_size(f->type));
    }
    efento_sb_putc(sb, ']');
}

static bool is_absent_message(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const ProtobufCMessage *sub;

    if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE) {
        return false;
    }
    memcpy(&sub, (const char *)m + f->offset, sizeof(sub));
    return sub == NULL;
}

static void json_message(struct efento_sb *sb, const ProtobufCMessage *m)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    char name[EFENTO_KEY_MAX];
    bool is_first = true;
    unsigned i;

    efento_sb_putc(sb, '{');
    for (i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];

        if (is_absent_message(m, f)) {
            continue;
        }
        if (!is_first) {
            efento_sb_putc(sb, ',');
        }
        is_first = false;
        efento_camel(f->name, name, sizeof(name));
        efento_sb_json_string(sb, name, strlen(name));
        efento_sb_putc(sb, ':');
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            json_array(sb, m, f);
        } else {
            json_value(sb, f, (const char *)m + f->offset);
        }
    }
    efento_sb_putc(sb, '}');
}

static struct efento_attr *next_attr(struct pctx *c, const char *field_name)
{
    struct efento_attr *a;

    if (c->n >= c->cap) {
        c->is_full = true;
        return NULL;
    }
    a = &c->out[c->n++];
    memset(a, 0, sizeof(*a));
    efento_camel(field_name, a->key, sizeof(a->key));
    return a;
}

/* A top-level text value (string, base64, enum name), type-cast when enabled. */
static void attr_text(struct pctx *c, struct efento_attr *a, const char *s, bool is_cast)
{
    size_t start = c->sb.len;
    enum efento_type t = EFENTO_STRING;
    int64_t l = 0;
    double d = 0;

    if (is_cast && c->o->is_type_cast) {
        t = efento_cast_string(s, &l, &d);
    }
    a->type = t;
    if (t == EFENTO_LONG) {
        a->v.l = l;
    } else if (t == EFENTO_DOUBLE) {
        a->v.d = d;
    } else {
        efento_sb_puts(&c->sb, s);
        a->s = efento_sb_finish(&c->sb, start);
    }
}

static void attr_scalar(struct pctx *c, struct efento_attr *a, const ProtobufCFieldDescriptor *f,
                        const char *p)
{
    int32_t i32;
    uint32_t u32;
    const char *s;
    ProtobufCBinaryData bin;
    char b64[2 * EFENTO_BYTES_MAX + 8];

    memcpy(&i32, p, sizeof(i32));
    memcpy(&u32, p, sizeof(u32));
    switch (f->type) {
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        a->type = EFENTO_LONG;
        a->v.l = (int64_t)u32;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        a->type = EFENTO_BOOLEAN;
        a->v.b = i32 != 0;
        break;
    case PROTOBUF_C_TYPE_ENUM:
        s = efento_enum_name(f->descriptor, (int)i32);
        if (s != NULL) {
            attr_text(c, a, s, false);
        } else {
            a->type = EFENTO_LONG;
            a->v.l = (int64_t)i32;
        }
        break;
    case PROTOBUF_C_TYPE_STRING:
        memcpy(&s, p, sizeof(s));
        attr_text(c, a, s != NULL ? s : "", true);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        memcpy(&bin, p, sizeof(bin));
        (void)efento_base64_encode(bin.data, bin.len, b64, sizeof(b64));
        attr_text(c, a, b64, true);
        break;
    default: /* int32, sint32, sfixed32 (64-bit kinds are not in the schema) */
        a->type = EFENTO_LONG;
        a->v.l = (int64_t)i32;
        break;
    }
}

static void print_field(struct pctx *c, const ProtobufCMessage *m,
                        const ProtobufCFieldDescriptor *f)
{
    const char *p = (const char *)m + f->offset;
    size_t start = c->sb.len;
    struct efento_attr *a;

    if (f->id == SPLIT_INFO_FIELD || is_absent_message(m, f)) {
        return;
    }
    a = next_attr(c, f->name);
    if (a == NULL) {
        return;
    }
    if (f->label == PROTOBUF_C_LABEL_REPEATED || f->type == PROTOBUF_C_TYPE_MESSAGE) {
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            json_array(&c->sb, m, f);
        } else {
            json_value(&c->sb, f, p);
        }
        a->type = EFENTO_JSON;
        a->s = efento_sb_finish(&c->sb, start);
        return;
    }
    attr_scalar(c, a, f, p);
}

int efento_config_attrs(const struct efento_part *parts, size_t n_parts,
                        const struct efento_opts *opts, struct efento_attr *out, size_t cap,
                        size_t *n_out, char *text, size_t text_cap, char *err, size_t err_len)
{
    struct efento_opts o;
    struct efento_alloc a;
    struct pctx c;
    ProtoConfig *cfg = NULL;
    uint8_t *joined = NULL;
    size_t len = 0;
    unsigned i;
    int rc;

    if (n_out == NULL || (out == NULL && cap > 0)) {
        return -EINVAL;
    }
    *n_out = 0;
    efento_opts_resolve(opts, &o);
    rc = join_parts(parts, n_parts, &o, &joined, &len, err, err_len);
    efento_alloc_init(&a, len);
    if (rc != 0) {
        goto out;
    }
    cfg = proto_config__unpack(&a.base, len, joined);
    if (cfg == NULL) {
        rc = efento_alloc_unpack_error(&a, "ProtoConfig", err, err_len);
        goto out;
    }
    rc = efento_count_check(&cfg->base, &o, err, err_len);
    if (rc != 0) {
        goto out;
    }
    memset(&c, 0, sizeof(c));
    c.o = &o;
    c.out = out;
    c.cap = cap;
    efento_sb_init(&c.sb, text, text_cap);
    for (i = 0; i < proto_config__descriptor.n_fields; i++) {
        print_field(&c, &cfg->base, &proto_config__descriptor.fields[i]);
    }
    if (c.is_full || c.sb.is_overflow) {
        efento_errf(err, err_len, "configuration attributes do not fit the output buffers");
        rc = -ERANGE;
        goto out;
    }
    *n_out = c.n;
out:
    if (cfg != NULL) {
        proto_config__free_unpacked(cfg, &a.base);
    }
    free(joined);
    return rc;
}

void efento_split_init(struct efento_split *s)
{
    memset(s, 0, sizeof(*s));
    s->max_parts = EFENTO_SPLIT_PARTS_MAX;
    s->max_bytes = EFENTO_SPLIT_BYTES_MAX;
    s->ttl_s = EFENTO_SPLIT_TTL_S;
}

void efento_split_limit(struct efento_split *s, const struct efento_opts *opts, int64_t ttl_s)
{
    if (opts->split_parts < s->max_parts) {
        s->max_parts = (uint32_t)opts->split_parts;
    }
    if (opts->split_bytes < s->max_bytes) {
        s->max_bytes = opts->split_bytes;
    }
    if (ttl_s > 0) {
        s->ttl_s = ttl_s;
    }
}

bool efento_split_is_expired(const struct efento_split *s, int64_t now_s)
{
    return s->held_mask != 0 && now_s - s->started_s >= s->ttl_s;
}

/* Drops the held parts, keeping the limits. */
static void split_discard(struct efento_split *s, struct efento_split_step *step,
                          enum efento_split_discard why)
{
    uint32_t max_parts = s->max_parts;
    size_t max_bytes = s->max_bytes;
    int64_t ttl_s = s->ttl_s;

    if (step->discard == EFENTO_SPLIT_KEPT) {
        step->discard = why;
    }
    efento_split_init(s);
    s->max_parts = max_parts;
    s->max_bytes = max_bytes;
    s->ttl_s = ttl_s;
}

static size_t held_bytes_except(const struct efento_split *s, uint32_t index)
{
    size_t total = 0;
    uint32_t i;

    for (i = 1; i <= EFENTO_SPLIT_PARTS_MAX; i++) {
        if (i != index && (s->held_mask & (1u << (i - 1))) != 0) {
            total += s->part_bytes[i - 1];
        }
    }
    return total;
}

int efento_split_add(struct efento_split *s, int32_t split_info, size_t part_len, int64_t now_s,
                     struct efento_split_step *step)
{
    int64_t index = split_info < 0 ? -(int64_t)split_info : (int64_t)split_info;
    uint32_t bit;

    if (s == NULL || step == NULL) {
        return -EINVAL;
    }
    memset(step, 0, sizeof(*step));
    if (split_info == 0) {
        step->is_whole = true;
        return 0;
    }
    if (efento_split_is_expired(s, now_s)) {
        split_discard(s, step, EFENTO_SPLIT_EXPIRED);
    }
    if (index > EFENTO_SPLIT_PARTS_MAX || index > (int64_t)s->max_parts) {
        split_discard(s, step, EFENTO_SPLIT_TOO_BIG);
        return 0;
    }
    bit = 1u << (index - 1);
    if (index == 1 && (s->held_mask & 1u) != 0) {
        split_discard(s, step, EFENTO_SPLIT_RESTARTED);
    }
    if (held_bytes_except(s, (uint32_t)index) + part_len > s->max_bytes) {
        split_discard(s, step, EFENTO_SPLIT_TOO_BIG);
        return 0;
    }
    if (split_info > 0 && s->n_parts != 0 && s->n_parts != (uint32_t)index) {
        split_discard(s, step, EFENTO_SPLIT_INCONSISTENT);
        return 0;
    }
    if (s->held_mask == 0) {
        s->started_s = now_s;
    }
    s->held_mask |= bit;
    s->part_bytes[index - 1] = (uint32_t)part_len;
    if (split_info > 0) {
        s->n_parts = (uint32_t)index;
    }
    if (s->n_parts != 0 && (s->held_mask >> s->n_parts) != 0) {
        split_discard(s, step, EFENTO_SPLIT_INCONSISTENT);
        return 0;
    }
    step->is_store = true;
    step->index = (uint32_t)index;
    if (s->n_parts != 0 && s->held_mask == (1u << s->n_parts) - 1u) {
        step->is_complete = true;
        s->held_mask = 0;
        s->n_parts = 0;
        s->started_s = 0;
        memset(s->part_bytes, 0, sizeof(s->part_bytes));
    }
    return 0;
}
