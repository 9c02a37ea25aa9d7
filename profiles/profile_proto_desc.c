/* SPDX-License-Identifier: MIT */
/*
 * profile_proto_desc.c - reads a compiled schema: a google.protobuf.FileDescriptorSet as
 * `protoc --descriptor_set_out --include_imports` writes it, into struct profile_proto_schema
 * (message types with their fields sorted by number, enums), then checks ThingsBoard's rules for
 * a device-profile schema (specs/coap-device-api.md 14.2). Called when a profile is saved (after
 * protoc) and when a stored profile is loaded.
 *
 * Debian ships no descriptor.proto (nor protobuf-c bindings for it), so the set is read with the
 * module's own bounded wire reader; only the members nbgate needs are looked at, by the field
 * numbers of descriptor.proto:
 *   FileDescriptorSet   file = 1
 *   FileDescriptorProto name 1, package 2, dependency 3, message_type 4, enum_type 5,
 *                       extension 7, options 8, public_dependency 10, weak_dependency 11, syntax 12
 *   DescriptorProto     name 1, field 2, nested_type 3, enum_type 4, extension_range 5,
 *                       extension 6, options 7 (map_entry 7), oneof_decl 8, reserved 9 and 10
 *   FieldDescriptorProto name 1, number 3, label 4, type 5, type_name 6, default_value 7,
 *                       options 8 (packed 2), oneof_index 9, json_name 10, proto3_optional 17
 *   EnumDescriptorProto name 1, value 2 (name 1, number 2), options 3
 * The set comes from protoc, but it is stored and read back, so it is parsed as untrusted: size,
 * counts and declaration nesting are capped and every type reference must resolve.
 */
#include "profiles/profile_proto_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TYPES      4096 /* messages or enums in one schema */
#define MAX_MEMBERS    8192 /* fields of one message, values of one enum */
#define MAX_DECL_DEPTH 32   /* nested message declarations */
#define MAX_NAME       1024 /* bytes of one name */

struct name_ix;

struct dctx {
    struct profile_proto_schema *s;
    size_t cap_msgs;
    size_t cap_enums;
    size_t n_files;
    struct name_ix *msg_ix;  /* messages by full name, for type resolution */
    struct name_ix *enum_ix; /* enums by full name */
    char *err;
    size_t err_len;
};

static int malformed(struct dctx *c)
{
    (void)profile_pb_fail(c->err, c->err_len, "descriptor set is malformed");
    return -EINVAL;
}

/* A heap copy of a name: 1..MAX_NAME bytes of UTF-8 without NUL. */
static int dup_name(struct dctx *c, const uint8_t *p, size_t len, char **out)
{
    if (len == 0 || len > MAX_NAME || memchr(p, '\0', len) != NULL || !profile_pb_utf8_ok(p, len)) {
        return malformed(c);
    }
    free(*out);
    *out = malloc(len + 1);
    if (*out == NULL) {
        return -ENOMEM;
    }
    memcpy(*out, p, len);
    (*out)[len] = '\0';
    return 0;
}

/* prefix + "." + name, heap. */
static char *join_name(const char *prefix, const char *name)
{
    size_t a = strlen(prefix), b = strlen(name);
    char *s = malloc(a + b + 2);

    if (s != NULL) {
        memcpy(s, prefix, a);
        s[a] = '.';
        memcpy(s + a + 1, name, b + 1);
    }
    return s;
}

/* The next field of r; *done at the end. LEN values in *p and *len, others in *v. */
static int next_field(struct dctx *c, struct profile_pb_reader *r, bool *done, uint32_t *f,
                      uint32_t *wt, uint64_t *v, const uint8_t **p, size_t *len)
{
    *done = r->p >= r->end;
    if (*done) {
        return 0;
    }
    if (profile_pb_read_tag(r, f, wt) != 0) {
        return malformed(c);
    }
    if (*wt == PROFILE_PB_WT_SGROUP || *wt == PROFILE_PB_WT_EGROUP) {
        return profile_pb_skip(r, *f, *wt) == 0 ? 0 : malformed(c);
    }
    return profile_pb_read_value(r, *wt, v, p, len) == 0 ? 0 : malformed(c);
}

/* True when a bool field (field number want) of a sub-message is set to value. */
static bool has_bool(const uint8_t *p, size_t len, uint32_t want, bool value)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    const uint8_t *q;
    uint32_t f, wt;
    uint64_t v;
    size_t n;
    bool is_set = false;

    while (r.p < r.end && profile_pb_read_tag(&r, &f, &wt) == 0) {
        if (wt == PROFILE_PB_WT_SGROUP || wt == PROFILE_PB_WT_EGROUP ||
            profile_pb_read_value(&r, wt, &v, &q, &n) != 0) {
            break;
        }
        if (f == want && wt == PROFILE_PB_WT_VARINT) {
            is_set = (v != 0) == value;
        }
    }
    return is_set;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
    size_t new_cap;
    void *p;

    if (n < *cap) {
        return 0;
    }
    new_cap = *cap == 0 ? 16 : *cap * 2;
    p = realloc(*arr, new_cap * size);
    if (p == NULL) {
        return -ENOMEM;
    }
    memset((char *)p + *cap * size, 0, (new_cap - *cap) * size);
    *arr = p;
    *cap = new_cap;
    return 0;
}

/* ---- enums ------------------------------------------------------------------------------------
 */

static int parse_enum_value(struct dctx *c, struct profile_pb_enum *e, const uint8_t *p, size_t len,
                            size_t *cap)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    struct profile_pb_enum_value *ev;
    const uint8_t *q;
    uint32_t f, wt;
    uint64_t v;
    size_t n;
    bool done;
    int rc;

    if (e->n_values >= MAX_MEMBERS) {
        return malformed(c);
    }
    rc = grow((void **)&e->values, cap, e->n_values, sizeof(*e->values));
    if (rc != 0) {
        return rc;
    }
    ev = &e->values[e->n_values++];
    while ((rc = next_field(c, &r, &done, &f, &wt, &v, &q, &n)) == 0 && !done) {
        if (f == 1 && wt == PROFILE_PB_WT_LEN) {
            rc = dup_name(c, q, n, &ev->name);
        } else if (f == 2 && wt == PROFILE_PB_WT_VARINT) {
            ev->number = (int32_t)(uint32_t)v;
        }
        if (rc != 0) {
            return rc;
        }
    }
    return rc == 0 && ev->name == NULL ? malformed(c) : rc;
}

static int parse_enum(struct dctx *c, const char *prefix, const uint8_t *p, size_t len)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    struct profile_pb_enum *e;
    char *name = NULL;
    const uint8_t *q;
    size_t n, cap = 0;
    uint32_t f, wt;
    uint64_t v;
    bool done, has_options = false;
    int rc;

    if (c->s->n_enums >= MAX_TYPES) {
        return malformed(c);
    }
    rc = grow((void **)&c->s->enums, &c->cap_enums, c->s->n_enums, sizeof(*c->s->enums));
    if (rc != 0) {
        return rc;
    }
    e = &c->s->enums[c->s->n_enums++];
    while ((rc = next_field(c, &r, &done, &f, &wt, &v, &q, &n)) == 0 && !done) {
        if (f == 1 && wt == PROFILE_PB_WT_LEN) {
            rc = dup_name(c, q, n, &name);
        } else if (f == 2 && wt == PROFILE_PB_WT_LEN) {
            rc = parse_enum_value(c, e, q, n, &cap);
        }
        has_options |= f == 3;
        if (rc != 0) {
            goto out;
        }
    }
    if (rc == 0 && name == NULL) {
        rc = malformed(c);
    } else if (rc == 0 && has_options) {
        (void)profile_pb_fail(c->err, c->err_len, "enum %s: options are not supported", name);
        rc = -EINVAL;
    } else if (rc == 0) {
        e->full_name = join_name(prefix, name);
        rc = e->full_name == NULL ? -ENOMEM : 0;
    }
out:
    free(name);
    return rc;
}

/* ---- messages ---------------------------------------------------------------------------------
 */

static int parse_field(struct dctx *c, struct profile_pb_field *fd, const uint8_t *p, size_t len)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    const uint8_t *q;
    uint32_t f, wt;
    uint64_t v;
    size_t n;
    bool done;
    int rc;

    fd->oneof = -1;
    while ((rc = next_field(c, &r, &done, &f, &wt, &v, &q, &n)) == 0 && !done) {
        if (wt == PROFILE_PB_WT_LEN && (f == 1 || f == 6 || f == 10)) {
            rc = dup_name(c, q, n, f == 1 ? &fd->name : f == 6 ? &fd->type_name : &fd->json_name);
        } else if (wt == PROFILE_PB_WT_VARINT && f == 3) {
            fd->number = (int32_t)(uint32_t)v;
        } else if (wt == PROFILE_PB_WT_VARINT && f == 4) {
            fd->label = (uint8_t)(v <= 3 ? v : 0);
        } else if (wt == PROFILE_PB_WT_VARINT && f == 5) {
            fd->type = (uint8_t)(v <= PROFILE_PB_T_SINT64 ? v : 0);
        } else if (f == 7) {
            fd->has_default = true;
        } else if (f == 8 && wt == PROFILE_PB_WT_LEN) {
            fd->is_unpacked = has_bool(q, n, 2, false);
        } else if (f == 9 && wt == PROFILE_PB_WT_VARINT) {
            fd->oneof = v <= MAX_MEMBERS ? (int32_t)v : MAX_MEMBERS;
        } else if (f == 17 && wt == PROFILE_PB_WT_VARINT) {
            fd->is_proto3_optional = v != 0;
        }
        if (rc != 0) {
            return rc;
        }
    }
    if (fd->name == NULL || fd->number <= 0 || fd->number > 536870911 || fd->type == 0 ||
        fd->label == 0 ||
        ((fd->type == PROFILE_PB_T_MESSAGE || fd->type == PROFILE_PB_T_ENUM ||
          fd->type == PROFILE_PB_T_GROUP) &&
         fd->type_name == NULL)) {
        return malformed(c);
    }
    return 0;
}

static int cmp_field(const void *a, const void *b)
{
    const struct profile_pb_field *x = a, *y = b;
    return x->number < y->number ? -1 : x->number > y->number;
}

/* First pass over a DescriptorProto: its name and the flags the rules need. */
static int message_head(struct dctx *c, const uint8_t *p, size_t len, struct profile_pb_msg *m,
                        char **name)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    const uint8_t *q;
    uint32_t f, wt;
    uint64_t v;
    size_t n;
    bool done;
    int rc;

    while ((rc = next_field(c, &r, &done, &f, &wt, &v, &q, &n)) == 0 && !done) {
        if (f == 1 && wt == PROFILE_PB_WT_LEN) {
            rc = dup_name(c, q, n, name);
        } else if (f == 7 && wt == PROFILE_PB_WT_LEN) {
            m->is_map_entry = has_bool(q, n, 7, true);
            m->has_options = true;
        }
        m->has_ext_range |= f == 5;
        m->has_extension |= f == 6;
        m->n_oneofs += f == 8 ? 1 : 0;
        m->has_reserved |= f == 9 || f == 10;
        if (rc != 0) {
            return rc;
        }
    }
    return *name == NULL ? malformed(c) : 0;
}

static int parse_message(struct dctx *c, const char *prefix, const uint8_t *p, size_t len,
                         size_t depth, bool is_top_level);

/* Second pass: fields, nested messages and enums of message idx. */
static int message_body(struct dctx *c, size_t idx, const uint8_t *p, size_t len, size_t depth)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    struct profile_pb_field *fields = NULL;
    size_t n_fields = 0, cap = 0, n, i;
    const uint8_t *q;
    uint32_t f, wt;
    uint64_t v;
    bool done;
    int rc;

    while ((rc = next_field(c, &r, &done, &f, &wt, &v, &q, &n)) == 0 && !done) {
        if (f == 2 && wt == PROFILE_PB_WT_LEN) {
            rc = n_fields >= MAX_MEMBERS ? malformed(c)
                                         : grow((void **)&fields, &cap, n_fields, sizeof(*fields));
            rc = rc == 0 ? parse_field(c, &fields[n_fields++], q, n) : rc;
        } else if (f == 3 && wt == PROFILE_PB_WT_LEN) {
            rc = parse_message(c, c->s->msgs[idx].full_name, q, n, depth + 1, false);
        } else if (f == 4 && wt == PROFILE_PB_WT_LEN) {
            rc = parse_enum(c, c->s->msgs[idx].full_name, q, n);
        }
        if (rc != 0) {
            break;
        }
    }
    if (rc == 0 && n_fields > 1) {
        qsort(fields, n_fields, sizeof(*fields), cmp_field);
        for (i = 1; rc == 0 && i < n_fields; i++) {
            rc = fields[i].number == fields[i - 1].number ? malformed(c) : 0;
        }
    }
    for (i = 0; rc == 0 && i < n_fields; i++) {
        rc = fields[i].oneof >= 0 && (size_t)fields[i].oneof >= c->s->msgs[idx].n_oneofs
                 ? malformed(c)
                 : 0;
    }
    c->s->msgs[idx].fields = fields; /* freed with the schema, even on error */
    c->s->msgs[idx].n_fields = n_fields;
    return rc;
}

static int parse_message(struct dctx *c, const char *prefix, const uint8_t *p, size_t len,
                         size_t depth, bool is_top_level)
{
    struct profile_pb_msg *m;
    char *name = NULL;
    size_t idx;
    int rc;

    if (depth > MAX_DECL_DEPTH || c->s->n_msgs >= MAX_TYPES) {
        return malformed(c);
    }
    rc = grow((void **)&c->s->msgs, &c->cap_msgs, c->s->n_msgs, sizeof(*c->s->msgs));
    if (rc != 0) {
        return rc;
    }
    idx = c->s->n_msgs++;
    m = &c->s->msgs[idx];
    m->file = c->n_files - 1;
    m->is_top_level = is_top_level;
    rc = message_head(c, p, len, m, &name);
    if (rc == 0) {
        m->full_name = join_name(prefix, name);
        rc = m->full_name == NULL ? -ENOMEM : 0;
    }
    free(name);
    return rc == 0 ? message_body(c, idx, p, len, depth) : rc; /* m may move from here on */
}

/* ---- files ------------------------------------------------------------------------------------
 */

/* The file-level rules of spec 14.2: proto3, no options, imports or extend. */
static int parse_file(struct dctx *c, const uint8_t *p, size_t len)
{
    struct profile_pb_reader r = profile_pb_reader_of(p, len);
    char *package = NULL, *syntax = NULL, *prefix = NULL;
    bool has_options = false, has_imports = false, has_extend = false;
    const uint8_t *q;
    uint32_t f, wt;
    uint64_t v;
    size_t n;
    bool done;
    int rc;

    c->n_files++;
    while ((rc = next_field(c, &r, &done, &f, &wt, &v, &q, &n)) == 0 && !done) {
        if (f == 2 && wt == PROFILE_PB_WT_LEN) {
            rc = dup_name(c, q, n, &package);
        } else if (f == 12 && wt == PROFILE_PB_WT_LEN) {
            rc = dup_name(c, q, n, &syntax);
        }
        has_imports |= f == 3 || f == 10 || f == 11;
        has_extend |= f == 7;
        has_options |= f == 8;
        if (rc != 0) {
            goto out;
        }
    }
    if (rc != 0) {
        goto out;
    }
    if (syntax == NULL || strcmp(syntax, "proto3") != 0) {
        rc = profile_pb_fail(c->err, c->err_len,
                             "schema must use proto3 syntax (syntax = \"proto3\";)");
    } else if (has_options) {
        rc = profile_pb_fail(c->err, c->err_len, "schema options are not supported");
    } else if (has_imports) {
        rc = profile_pb_fail(c->err, c->err_len, "schema imports are not supported");
    } else if (has_extend) {
        rc = profile_pb_fail(c->err, c->err_len, "schema extend declarations are not supported");
    }
    if (rc != 0) {
        rc = -EINVAL;
        goto out;
    }
    prefix = package != NULL ? join_name("", package) : calloc(1, 1);
    if (prefix == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    r = profile_pb_reader_of(p, len);
    while ((rc = next_field(c, &r, &done, &f, &wt, &v, &q, &n)) == 0 && !done) {
        if (f == 4 && wt == PROFILE_PB_WT_LEN) {
            rc = parse_message(c, prefix, q, n, 0, true);
        } else if (f == 5 && wt == PROFILE_PB_WT_LEN) {
            rc = parse_enum(c, prefix, q, n);
        }
        if (rc != 0) {
            break;
        }
    }
out:
    free(prefix);
    free(syntax);
    free(package);
    return rc;
}

/* ---- resolution and rules ---------------------------------------------------------------------
 */

/* A name and its index, sorted by name for type resolution. */
struct name_ix {
    const char *name;
    size_t idx;
};

static int cmp_name_ix(const void *a, const void *b)
{
    return strcmp(((const struct name_ix *)a)->name, ((const struct name_ix *)b)->name);
}

static size_t find_type(const struct name_ix *ix, size_t n, const char *name)
{
    struct name_ix key = { name, 0 };
    const struct name_ix *hit = n > 0 ? bsearch(&key, ix, n, sizeof(*ix), cmp_name_ix) : NULL;

    return hit != NULL ? hit->idx : PROFILE_PB_NONE;
}

/* Sorted name indexes of the messages and enums (c->msg_ix, c->enum_ix). */
static int index_types(struct dctx *c)
{
    size_t i;

    c->msg_ix = calloc(c->s->n_msgs + 1, sizeof(*c->msg_ix));
    c->enum_ix = calloc(c->s->n_enums + 1, sizeof(*c->enum_ix));
    if (c->msg_ix == NULL || c->enum_ix == NULL) {
        return -ENOMEM;
    }
    for (i = 0; i < c->s->n_msgs; i++) {
        c->msg_ix[i].name = c->s->msgs[i].full_name;
        c->msg_ix[i].idx = i;
    }
    for (i = 0; i < c->s->n_enums; i++) {
        c->enum_ix[i].name = c->s->enums[i].full_name;
        c->enum_ix[i].idx = i;
    }
    qsort(c->msg_ix, c->s->n_msgs, sizeof(*c->msg_ix), cmp_name_ix);
    qsort(c->enum_ix, c->s->n_enums, sizeof(*c->enum_ix), cmp_name_ix);
    return 0;
}

/* A map entry has exactly key = 1 (an integral, bool or string type) and value = 2. */
static bool map_entry_ok(const struct profile_pb_msg *m)
{
    uint8_t kt = m->n_fields == 2 ? m->fields[0].type : 0;

    return m->n_fields == 2 && m->fields[0].number == 1 && m->fields[1].number == 2 &&
           m->fields[0].label != PROFILE_PB_LABEL_REPEATED &&
           m->fields[1].label != PROFILE_PB_LABEL_REPEATED && kt != 0 &&
           kt != PROFILE_PB_T_DOUBLE && kt != PROFILE_PB_T_FLOAT && kt != PROFILE_PB_T_BYTES &&
           kt != PROFILE_PB_T_MESSAGE && kt != PROFILE_PB_T_ENUM && kt != PROFILE_PB_T_GROUP;
}

/* The message-level rules of spec 14.2 and the type references of its fields. */
static int check_message(struct dctx *c, struct profile_pb_msg *m)
{
    const char *short_name = strrchr(m->full_name, '.') + 1;
    struct profile_pb_field *fd;
    size_t i;

    if (m->is_map_entry && !map_entry_ok(m)) {
        return malformed(c);
    }
    if (m->has_options && !m->is_map_entry) {
        return profile_pb_fail(c->err, c->err_len, "message %s: options are not supported",
                               short_name);
    }
    if (m->has_ext_range || m->has_extension) {
        return profile_pb_fail(c->err, c->err_len, "message %s: extensions are not supported",
                               short_name);
    }
    if (m->has_reserved) {
        return profile_pb_fail(c->err, c->err_len, "message %s: reserved is not supported",
                               short_name);
    }
    for (i = 0; i < m->n_fields; i++) {
        fd = &m->fields[i];
        if (fd->label == PROFILE_PB_LABEL_REQUIRED || fd->has_default ||
            fd->type == PROFILE_PB_T_GROUP) {
            return profile_pb_fail(c->err, c->err_len, "field %s.%s: %s are not supported",
                                   short_name, fd->name,
                                   fd->type == PROFILE_PB_T_GROUP ? "groups"
                                   : fd->has_default              ? "default values"
                                                                  : "required fields");
        }
        if (fd->type == PROFILE_PB_T_MESSAGE || fd->type == PROFILE_PB_T_ENUM) {
            fd->ref = fd->type == PROFILE_PB_T_MESSAGE
                          ? find_type(c->msg_ix, c->s->n_msgs, fd->type_name)
                          : find_type(c->enum_ix, c->s->n_enums, fd->type_name);
            if (fd->ref == PROFILE_PB_NONE) {
                return profile_pb_fail(c->err, c->err_len, "field %s.%s: unknown type %s",
                                       short_name, fd->name, fd->type_name);
            }
        }
        if (fd->json_name == NULL) {
            return malformed(c); /* protoc always writes json_name */
        }
    }
    return 0;
}

static const struct profile_pb_field *field_named(const struct profile_pb_msg *m, const char *name)
{
    size_t i;

    for (i = 0; i < m->n_fields; i++) {
        if (strcmp(m->fields[i].name, name) == 0) {
            return &m->fields[i];
        }
    }
    return NULL;
}

/* The telemetry ts/values rule and the RPC-request rule of spec 14.2. */
static int check_role(struct dctx *c, enum profile_schema_role role)
{
    const struct profile_pb_msg *m = &c->s->msgs[c->s->root];
    const struct profile_pb_field *ts = field_named(m, "ts"), *values = field_named(m, "values");
    const struct profile_pb_field *method = field_named(m, "method"),
                                  *id = field_named(m, "requestId");
    const struct profile_pb_field *params = field_named(m, "params");

    if (role == PROFILE_SCHEMA_TELEMETRY && m->n_fields == 2 && ts != NULL && values != NULL) {
        if (values->type != PROFILE_PB_T_MESSAGE) {
            return profile_pb_fail(c->err, c->err_len,
                                   "telemetry with ts and values: values must be a "
                                   "message type");
        }
        if (ts->type != PROFILE_PB_T_INT64 || !ts->is_proto3_optional) {
            return profile_pb_fail(c->err, c->err_len,
                                   "telemetry with ts and values: ts must be "
                                   "optional int64");
        }
    }
    if (role == PROFILE_SCHEMA_RPC_REQUEST) {
        if (m->n_fields != 3 || method == NULL || id == NULL || params == NULL) {
            return profile_pb_fail(c->err, c->err_len,
                                   "RPC request message must have exactly the "
                                   "fields method, requestId and params");
        }
        if (method->type != PROFILE_PB_T_STRING || method->label == PROFILE_PB_LABEL_REPEATED ||
            id->type != PROFILE_PB_T_INT32 || id->label == PROFILE_PB_LABEL_REPEATED ||
            params->label == PROFILE_PB_LABEL_REPEATED) {
            return profile_pb_fail(c->err, c->err_len,
                                   "RPC request message: method must be a string, "
                                   "requestId an int32, none of the three repeated");
        }
    }
    return 0;
}

static int load(struct dctx *c, const uint8_t *fds, size_t len, enum profile_schema_role role)
{
    struct profile_pb_reader r = profile_pb_reader_of(fds, len);
    const uint8_t *q;
    uint32_t f, wt;
    uint64_t v;
    size_t n, i;
    bool done;
    int rc;

    if (len > PROFILE_PROTO_MAX_DESC_BYTES) {
        return malformed(c);
    }
    while ((rc = next_field(c, &r, &done, &f, &wt, &v, &q, &n)) == 0 && !done) {
        rc = f == 1 && wt == PROFILE_PB_WT_LEN ? parse_file(c, q, n) : 0;
        if (rc != 0) {
            return rc;
        }
    }
    for (i = 0; rc == 0 && i < c->s->n_enums; i++) {
        if (c->s->enums[i].n_values == 0) {
            rc = malformed(c);
        }
    }
    rc = rc == 0 ? index_types(c) : rc;
    for (i = 0; rc == 0 && i < c->s->n_msgs; i++) {
        rc = check_message(c, &c->s->msgs[i]) != 0 ? -EINVAL : 0;
    }
    c->s->root = PROFILE_PB_NONE;
    for (i = 0; rc == 0 && i < c->s->n_msgs; i++) {
        if (c->s->msgs[i].is_top_level && c->s->msgs[i].file + 1 == c->n_files) {
            c->s->root = i; /* the last top-level message of the schema's own file */
        }
    }
    if (rc == 0 && c->s->root == PROFILE_PB_NONE) {
        rc = profile_pb_fail(c->err, c->err_len, "schema has no message");
    }
    if (rc == 0) {
        rc = check_role(c, role);
    }
    return rc == -EBADMSG ? -EINVAL : rc;
}

int profile_proto_schema_load(const uint8_t *fds, size_t len, enum profile_schema_role role,
                              struct profile_proto_schema **out, char *err, size_t err_len)
{
    struct dctx c;
    int rc;

    *out = NULL;
    memset(&c, 0, sizeof(c));
    c.err = err;
    c.err_len = err_len;
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    c.s = calloc(1, sizeof(*c.s));
    if (c.s == NULL) {
        return -ENOMEM;
    }
    rc = load(&c, fds != NULL ? fds : (const uint8_t *)"", fds != NULL ? len : 0, role);
    free(c.msg_ix);
    free(c.enum_ix);
    if (rc == -ENOMEM) {
        (void)profile_pb_fail(err, err_len, "out of memory");
    }
    if (rc != 0) {
        profile_proto_schema_free(c.s);
        return rc;
    }
    *out = c.s;
    return 0;
}

void profile_proto_schema_free(struct profile_proto_schema *s)
{
    size_t i, k;

    if (s == NULL) {
        return;
    }
    for (i = 0; i < s->n_msgs; i++) {
        for (k = 0; k < s->msgs[i].n_fields; k++) {
            free(s->msgs[i].fields[k].name);
            free(s->msgs[i].fields[k].json_name);
            free(s->msgs[i].fields[k].type_name);
        }
        free(s->msgs[i].fields);
        free(s->msgs[i].full_name);
    }
    for (i = 0; i < s->n_enums; i++) {
        for (k = 0; k < s->enums[i].n_values; k++) {
            free(s->enums[i].values[k].name);
        }
        free(s->enums[i].values);
        free(s->enums[i].full_name);
    }
    free(s->msgs);
    free(s->enums);
    free(s);
}

const char *profile_proto_schema_message(const struct profile_proto_schema *s)
{
    return s->msgs[s->root].full_name;
}
