/* SPDX-License-Identifier: MIT */
/*
 * profile_proto_internal.h - what the dynamic Protobuf files of profiles/ share and nobody else
 * sees: the in-memory schema read from a descriptor set (profile_proto_desc.c), the wire-format
 * reader and writer, and the Java-compatible number printing.
 *
 * Wire format (protobuf encoding): a message is a sequence of (tag, value); tag = varint of
 * field_number << 3 | wire_type; wire types 0 varint (at most 10 bytes), 1 fixed 64-bit little
 * endian, 2 varint length + bytes, 3/4 group start/end (deprecated), 5 fixed 32-bit.
 */
#ifndef PROFILE_PROTO_INTERNAL_H
#define PROFILE_PROTO_INTERNAL_H

#include "profiles/profile_model.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profiles/profile_internal.h"

/* Wire types. */
enum profile_pb_wire {
    PROFILE_PB_WT_VARINT = 0,
    PROFILE_PB_WT_I64 = 1,
    PROFILE_PB_WT_LEN = 2,
    PROFILE_PB_WT_SGROUP = 3,
    PROFILE_PB_WT_EGROUP = 4,
    PROFILE_PB_WT_I32 = 5,
};

/* google.protobuf.FieldDescriptorProto.Type numbers. */
enum profile_pb_type {
    PROFILE_PB_T_DOUBLE = 1,
    PROFILE_PB_T_FLOAT = 2,
    PROFILE_PB_T_INT64 = 3,
    PROFILE_PB_T_UINT64 = 4,
    PROFILE_PB_T_INT32 = 5,
    PROFILE_PB_T_FIXED64 = 6,
    PROFILE_PB_T_FIXED32 = 7,
    PROFILE_PB_T_BOOL = 8,
    PROFILE_PB_T_STRING = 9,
    PROFILE_PB_T_GROUP = 10,
    PROFILE_PB_T_MESSAGE = 11,
    PROFILE_PB_T_BYTES = 12,
    PROFILE_PB_T_UINT32 = 13,
    PROFILE_PB_T_ENUM = 14,
    PROFILE_PB_T_SFIXED32 = 15,
    PROFILE_PB_T_SFIXED64 = 16,
    PROFILE_PB_T_SINT32 = 17,
    PROFILE_PB_T_SINT64 = 18,
};

#define PROFILE_PB_LABEL_REQUIRED 2
#define PROFILE_PB_LABEL_REPEATED 3
#define PROFILE_PB_NONE           SIZE_MAX

struct profile_pb_enum_value {
    char *name;
    int32_t number;
};

struct profile_pb_enum {
    char *full_name;                      /* ".pkg.Outer.Enum" */
    struct profile_pb_enum_value *values; /* declaration order */
    size_t n_values;
};

struct profile_pb_field {
    char *name;      /* as declared */
    char *json_name; /* lowerCamelCase, from the descriptor */
    char *type_name; /* ".pkg.Msg" for message and enum fields, else NULL */
    int32_t number;
    uint8_t type;  /* enum profile_pb_type */
    uint8_t label; /* 1 optional, 2 required, 3 repeated */
    int32_t oneof; /* index of the containing oneof (real or synthetic), -1 none */
    bool is_proto3_optional;
    bool has_default;
    bool is_unpacked; /* [packed = false] */
    size_t ref;       /* index into msgs (MESSAGE) or enums (ENUM), resolved at load */
};

struct profile_pb_msg {
    char *full_name;
    struct profile_pb_field *fields; /* sorted by number */
    size_t n_fields;
    size_t n_oneofs;
    size_t file;       /* index of its file in the set */
    bool is_top_level; /* declared at file level */
    bool is_map_entry; /* MessageOptions.map_entry: a map's synthesised entry type */
    bool has_options, has_ext_range, has_extension, has_reserved;
};

struct profile_proto_schema {
    struct profile_pb_msg *msgs; /* declaration order, nested after their parent */
    size_t n_msgs;
    struct profile_pb_enum *enums;
    size_t n_enums;
    size_t root; /* the message payloads are decoded as */
};

/* A bounded reader over bytes. */
struct profile_pb_reader {
    const uint8_t *p;
    const uint8_t *end;
};

/* Reads a varint (at most 10 bytes). Returns: 0, -EBADMSG (truncated or too long). */
int profile_pb_read_varint(struct profile_pb_reader *r, uint64_t *v);

/* Reads a tag; field 0 and wire types 6 and 7 are errors. Returns: 0, -EBADMSG. */
int profile_pb_read_tag(struct profile_pb_reader *r, uint32_t *field, uint32_t *wt);

/*
 * Reads the value of wire type wt: *v for varint and fixed, *p and *len for LEN.
 * Returns: 0, -EBADMSG.
 */
int profile_pb_read_value(struct profile_pb_reader *r, uint32_t wt, uint64_t *v, const uint8_t **p,
                          size_t *len);

/*
 * Skips the value of a field with wire type wt (a group up to its matching end tag, nested at
 * most PROFILE_PROTO_MAX_DEPTH deep). Returns: 0, -EBADMSG.
 */
int profile_pb_skip(struct profile_pb_reader *r, uint32_t field, uint32_t wt);

/* The wire type a field of profile_pb_type t is sent with when not packed. */
uint32_t profile_pb_wire_of(uint8_t t);

/* True for scalar numeric types that a repeated field may pack. */
bool profile_pb_is_packable(uint8_t t);

/* The field of m with this number, or NULL. */
const struct profile_pb_field *profile_pb_field_by_number(const struct profile_pb_msg *m,
                                                          int32_t number);

/* True when s[0, n) is well-formed UTF-8 (no surrogates, no overlongs). */
bool profile_pb_utf8_ok(const uint8_t *s, size_t n);

/*
 * Java's Double.toString (is_float false) or Float.toString (is_float true) of a finite value:
 * the shortest digits that read back as the same value, plain for 1e-3 <= |d| < 1e7 ("3.0",
 * "0.001"), otherwise "d.dddE[-]n" ("1.0E7"). Returns: the length written (out holds 32 bytes).
 */
size_t profile_pb_java_double(double d, bool is_float, char out[32]);

/* A growable byte buffer for the encoder. */
struct profile_pb_wbuf {
    uint8_t *p;
    size_t len;
    size_t cap;
    bool has_failed; /* an allocation failed; later writes are dropped */
};

void profile_pb_wbuf_put(struct profile_pb_wbuf *w, const void *s, size_t n);
void profile_pb_wbuf_varint(struct profile_pb_wbuf *w, uint64_t v);
void profile_pb_wbuf_tag(struct profile_pb_wbuf *w, uint32_t field, uint32_t wt);
/* Appends field as a LEN value: tag, length, bytes. */
void profile_pb_wbuf_bytes(struct profile_pb_wbuf *w, uint32_t field, const void *s, size_t n);
void profile_pb_wbuf_fixed64(struct profile_pb_wbuf *w, uint64_t v);
void profile_pb_wbuf_fixed32(struct profile_pb_wbuf *w, uint32_t v);

/*
 * Hands the bytes to the caller (a 1-byte allocation when empty).
 * Returns: 0, -ENOMEM (the buffer is released either way).
 */
int profile_pb_wbuf_take(struct profile_pb_wbuf *w, uint8_t **out, size_t *out_len);

/* Copies a one-line diagnostic (printf format) into err; returns -EBADMSG. */
__attribute__((format(printf, 3, 4))) int profile_pb_fail(char *err, size_t err_len,
                                                          const char *fmt, ...);

/* ---- the decoder (profile_proto.c, profile_proto_msg.c, profile_proto_print.c) -------------- */

/* A reader over p[0, len). */
static inline struct profile_pb_reader profile_pb_reader_of(const uint8_t *p, size_t len)
{
    struct profile_pb_reader r = { p, p + len };
    return r;
}

/* One decoding call: the schema, limits, output and the work budget. */
struct profile_pd_ctx {
    const struct profile_proto_schema *s;
    const uint8_t *base; /* the payload, for offsets in diagnostics */
    const struct profile_limits *lim;
    struct profile_batch *out;
    size_t n_added; /* records this call added */
    size_t budget;  /* work units and text bytes left */
    char *err;
    size_t err_len;
};

struct profile_pd_seg {
    const uint8_t *p;
    size_t len;
};

/* One occurrence of a known field with an accepted wire type. */
struct profile_pd_occ {
    const uint8_t *p; /* LEN value */
    size_t len;
    uint64_t v;     /* varint or fixed value */
    uint32_t field; /* index into the message type's fields */
    uint32_t seq;   /* wire order */
    uint8_t wt;
};

/* A decoded message: its occurrences grouped by field, and each oneof's outcome. */
struct profile_pd_msg {
    const struct profile_pb_msg *type;
    struct profile_pd_occ *occ; /* sorted by (field, seq) */
    size_t n_occ;
    size_t *oneof_win;   /* per oneof: the field index that is set, or PROFILE_PB_NONE */
    uint32_t *oneof_cut; /* per oneof: the winner's occurrences with seq > cut count */
};

/* One element of a field: a value (varint, fixed) or bytes (LEN). */
struct profile_pd_elem {
    uint64_t v;
    const uint8_t *p;
    size_t len;
};

enum profile_pd_tok_kind { PROFILE_TK_NUM, PROFILE_TK_STR, PROFILE_TK_BOOL };

/* A scalar as JsonFormat prints it: a number lexeme, a string (unescaped bytes) or a boolean. */
struct profile_pd_tok {
    enum profile_pd_tok_kind kind;
    const char *s;
    size_t n;
    bool b;
    char buf[40];
    char *heap; /* Base64 text, freed with the token */
};

/* A map entry after de-duplication: key text and the segment of the last entry with it. */
struct profile_pd_entry {
    char *key;
    size_t key_len;
    size_t first; /* position of the key's first entry */
    size_t pos;   /* position of this entry */
    struct profile_pd_seg seg;
};

/* Iterates the elements of a field's occurrences, unpacking packed runs. */
struct profile_pd_iter {
    const struct profile_pd_occ *occ;
    size_t n;
    size_t i;
    uint8_t type;
    bool is_packed;
    struct profile_pb_reader packed;
};

/* Sets a one-line diagnostic; returns -EBADMSG. */
int profile_pd_fail(struct profile_pd_ctx *c, const char *msg);

/* Takes n units from the budget; false (budget emptied) when there are not that many left. */
bool profile_pd_charge(struct profile_pd_ctx *c, size_t n);

/* The diagnostic for an exhausted budget; returns -EBADMSG. */
int profile_pd_over_budget(struct profile_pd_ctx *c);

/* True when fd is a map field (repeated entries of a map_entry message). */
bool profile_pd_is_map(const struct profile_pd_ctx *c, const struct profile_pb_field *fd);

/*
 * Walks a payload of message type m as protobuf-java parses it, nested messages included
 * (depth 0 at the top). Returns: 0, -EBADMSG (diagnostic set).
 */
int profile_pd_validate(struct profile_pd_ctx *c, const struct profile_pb_msg *m, const uint8_t *p,
                        size_t len, size_t depth);

/*
 * Groups the occurrences of the validated segments segs[0, n_segs) of one message of type (several
 * segments merge, as protobuf does) and resolves its oneofs.
 * Returns: 0, -EBADMSG (budget), -ENOMEM. Ownership: release m with profile_pd_msg_fini().
 */
int profile_pd_msg_build(struct profile_pd_ctx *c, const struct profile_pb_msg *type,
                         const struct profile_pd_seg *segs, size_t n_segs,
                         struct profile_pd_msg *m);

void profile_pd_msg_fini(struct profile_pd_msg *m);

/*
 * The occurrences of field idx of m that count (*occ, *n; borrowed from m).
 * Returns: whether JsonFormat with default values prints the field.
 */
bool profile_pd_printed(const struct profile_pd_ctx *c, const struct profile_pd_msg *m, size_t idx,
                        const struct profile_pd_occ **occ, size_t *n);

/* The next element of an iterator over a field's occurrences; false at the end. */
bool profile_pd_next_elem(struct profile_pd_iter *it, struct profile_pd_elem *e);

/*
 * The JSON token of one element of scalar field fd (e NULL: the field's default).
 * Returns: 0, -EBADMSG (NUL in a string, budget), -ENOMEM. Ownership: free t->heap.
 */
int profile_pd_token(struct profile_pd_ctx *c, const struct profile_pb_field *fd,
                     const struct profile_pd_elem *e, struct profile_pd_tok *t);

/* Appends the printed value of field fd (occurrences occ[0, n)) to b. Returns: as above. */
int profile_pd_render_field(struct profile_pd_ctx *c, struct profile_buf *b,
                            const struct profile_pb_field *fd, const struct profile_pd_occ *occ,
                            size_t n);

/* Appends a message of type (segments merged) as a JSON object to b. Returns: as above. */
int profile_pd_render_message(struct profile_pd_ctx *c, struct profile_buf *b,
                              const struct profile_pb_msg *type, const struct profile_pd_seg *segs,
                              size_t n_segs);

/*
 * The entries of map field fd, one per key (first position, last value) in first-key order.
 * Returns: 0, -EBADMSG, -ENOMEM. Ownership: release with profile_pd_entries_free(*out, *n_out).
 */
int profile_pd_map_entries(struct profile_pd_ctx *c, const struct profile_pb_field *fd,
                           const struct profile_pd_occ *occ, size_t n,
                           struct profile_pd_entry **out, size_t *n_out);

void profile_pd_entries_free(struct profile_pd_entry *e, size_t n);

#endif /* PROFILE_PROTO_INTERNAL_H */
