/* SPDX-License-Identifier: MIT */
/*
 * profile_proto.c - the Default-Protobuf adaptor: a payload decoded against a profile's compiled
 * schema (profile_proto_desc.c) into the same records as the JSON adaptor, or printed as JSON
 * (RPC responses). Called through the dispatch in profile_model.c.
 *
 * ThingsBoard parses the bytes into a DynamicMessage, prints it with protobuf-java's
 * JsonFormat.printer().includingDefaultValueFields() and feeds that JSON to its JSON converter
 * (specs/coap-device-api.md 14.3). nbgate gives the same records without printing the top level:
 *   1. Validate (profile_proto_msg.c): the whole payload is walked once against the schema, as
 * protobuf-java parses it: malformed varints, truncated values, bad tags, stray end-group tags,
 * invalid UTF-8 in a string field and nesting deeper than PROFILE_PROTO_MAX_DEPTH are errors
 * (4.00); unknown fields and known fields with an unexpected wire type are skipped (unknown to Java
 * too).
 *   2. Group (profile_proto_msg.c): a message's occurrences are sorted by (field, wire order). A
 * singular scalar takes its last occurrence, a singular message merges all of them (parsing the
 * concatenation is merging), repeated scalars accept packed and unpacked runs, a oneof keeps only
 * its last set member (and for a message member, the occurrences after the other members' last
 * one).
 *   3. Print (profile_proto_print.c): fields in number order under their JSON names; a field
 * without presence prints its default; int64 kinds as strings, floats with Java's toString, enums
 * by name (unknown values as numbers), bytes as Base64, maps as objects (first position, last value
 * per key).
 *   4. Convert (this file): top-level members are typed like JSON members (profile_number_type);
 * nested messages, repeated fields and maps become one JSON value in compact text; a telemetry
 *      message printing both "ts" and "values" gives the {ts, values} form.
 * Work and text are charged to a budget (64 bytes per payload byte, at least 64 KiB, at most
 * PROFILE_PROTO_MAX_TEXT_BYTES), so default-printing schemas cannot blow up memory or time.
 */
#include "profiles/profile_model.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profiles/profile_proto_internal.h"

#define KEY_SHOWN  64           /* bytes of a key quoted in a diagnostic */
#define MIN_BUDGET (64u * 1024) /* work units any payload may use */

/* ---- 4. conversion to records -----------------------------------------------------------------
 */

static void key_for_diag(const char *key, size_t key_len, char out[KEY_SHOWN + 4])
{
    size_t n = key_len;

    if (n > KEY_SHOWN) {
        n = KEY_SHOWN;
        while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    memcpy(out, key, n);
    memcpy(out + n, n < key_len ? "..." : "", n < key_len ? 4 : 1);
}

static int fail_value(struct profile_pd_ctx *c, const char *key, size_t key_len,
                      enum profile_number_err why)
{
    char shown[KEY_SHOWN + 4];

    key_for_diag(key, key_len, shown);
    return profile_pb_fail(c->err, c->err_len, "value of \"%s\" %s", shown,
                           why == PROFILE_NUMBER_BIG_INTEGER ? "is an integer outside 64 bits"
                           : why == PROFILE_NUMBER_BIG_SCALE ? "has more than 16 decimal places"
                                                             : "is a number out of range");
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t i, chars = 0;

    for (i = 0; i < n; i++) {
        chars += ((unsigned char)s[i] & 0xc0) != 0x80 ? 1 : 0;
    }
    return chars;
}

/* A printed scalar typed as the JSON converter types a member value (spec 13.2). */
static int type_token(struct profile_pd_ctx *c, const char *key, size_t key_len,
                      const struct profile_pd_tok *t, struct profile_value *v)
{
    enum profile_number_err why = PROFILE_NUMBER_OK;
    char shown[KEY_SHOWN + 4];
    int rc = -EINVAL;

    memset(v, 0, sizeof(*v));
    if (t->kind == PROFILE_TK_BOOL) {
        v->type = PROFILE_VT_BOOLEAN;
        v->b = t->b;
        return 0;
    }
    if (t->kind == PROFILE_TK_NUM) {
        rc = profile_number_type(t->s, t->n, false, c->lim->type_cast, v, &why);
        return rc == -EINVAL ? fail_value(c, key, key_len, why) : rc;
    }
    if (c->lim->max_string_len > 0 && utf8_chars(t->s, t->n) > c->lim->max_string_len) {
        key_for_diag(key, key_len, shown);
        return profile_pb_fail(c->err, c->err_len, "value of \"%s\" longer than %zu characters",
                               shown, c->lim->max_string_len);
    }
    if (c->lim->type_cast) {
        rc = profile_number_type(t->s, t->n, true, true, v, &why);
    }
    if (rc == -EINVAL) {
        v->type = PROFILE_VT_STRING;
        v->s = malloc(t->n + 1);
        if (v->s == NULL) {
            return -ENOMEM;
        }
        memcpy(v->s, t->s, t->n);
        v->s[t->n] = '\0';
        v->s_len = t->n;
        rc = 0;
    }
    return rc;
}

static int add_record(struct profile_pd_ctx *c, int64_t ts_ms, const char *key, size_t key_len,
                      struct profile_value *v)
{
    size_t max_keys = c->lim->max_keys;
    int rc;

    if (max_keys > 0 && c->n_added >= max_keys) {
        free(v->s);
        v->s = NULL;
        return profile_pb_fail(c->err, c->err_len, "too many keys (limit %zu)", max_keys);
    }
    rc = profile_batch_add(c->out, ts_ms, key, key_len, v);
    c->n_added += rc == 0 ? 1 : 0;
    return rc == -ERANGE
               ? profile_pb_fail(c->err, c->err_len, "too many keys (limit %zu)", c->out->cap)
               : rc;
}

/* A composite value (message, repeated, map) as one JSON record. */
static int add_json(struct profile_pd_ctx *c, int64_t ts_ms, const char *key, size_t key_len,
                    struct profile_buf *b)
{
    struct profile_value v;

    memset(&v, 0, sizeof(v));
    v.type = PROFILE_VT_JSON;
    v.s_len = b->len;
    v.s = profile_buf_take(b);
    if (v.s == NULL) {
        return -ENOMEM;
    }
    return add_record(c, ts_ms, key, key_len, &v);
}

/* One member: field fd of a message (occurrences occ), or a map entry's value field. */
static int add_member(struct profile_pd_ctx *c, int64_t ts_ms, const char *key, size_t key_len,
                      const struct profile_pb_field *fd, const struct profile_pd_occ *occ, size_t n)
{
    struct profile_value v;
    struct profile_buf b;
    struct profile_pd_elem e = { 0 };
    struct profile_pd_tok t;
    int rc;

    if (fd->label == PROFILE_PB_LABEL_REPEATED || fd->type == PROFILE_PB_T_MESSAGE) {
        profile_buf_init_heap(&b);
        rc = profile_pd_render_field(c, &b, fd, occ, n);
        rc = rc == 0 ? add_json(c, ts_ms, key, key_len, &b) : rc;
        profile_buf_fini(&b);
        return rc;
    }
    if (n > 0) {
        e.v = occ[n - 1].v;
        e.p = occ[n - 1].p;
        e.len = occ[n - 1].len;
    }
    rc = profile_pd_token(c, fd, n > 0 ? &e : NULL, &t);
    if (rc == 0) {
        rc = type_token(c, key, key_len, &t, &v);
    }
    if (rc == 0) {
        rc = add_record(c, ts_ms, key, key_len, &v);
    }
    free(t.heap);
    return rc;
}

static int add_message_members(struct profile_pd_ctx *c, const struct profile_pd_msg *m,
                               int64_t ts_ms)
{
    const struct profile_pb_field *fd;
    const struct profile_pd_occ *occ;
    size_t i, n;
    int rc = 0;

    for (i = 0; rc == 0 && i < m->type->n_fields; i++) {
        fd = &m->type->fields[i];
        if (profile_pd_printed(c, m, i, &occ, &n)) {
            rc = add_member(c, ts_ms, fd->json_name, strlen(fd->json_name), fd, occ, n);
        }
    }
    return rc;
}

/* A map printed as an object whose members become records. */
static int add_map_members(struct profile_pd_ctx *c, const struct profile_pb_field *fd,
                           const struct profile_pd_occ *occ, size_t n, int64_t ts_ms)
{
    const struct profile_pb_msg *et = &c->s->msgs[fd->ref];
    const struct profile_pd_occ *vo;
    struct profile_pd_entry *e = NULL;
    struct profile_pd_msg m;
    size_t n_e = 0, i, n_vo;
    int rc;

    rc = profile_pd_map_entries(c, fd, occ, n, &e, &n_e);
    for (i = 0; rc == 0 && i < n_e; i++) {
        rc = profile_pd_msg_build(c, et, &e[i].seg, 1, &m);
        if (rc == 0) {
            (void)profile_pd_printed(c, &m, 1, &vo, &n_vo);
            rc = add_member(c, ts_ms, e[i].key, e[i].key_len, &et->fields[1], vo, n_vo);
            profile_pd_msg_fini(&m);
        }
    }
    profile_pd_entries_free(e, n_e);
    return rc;
}

/* A string of decimal digits with an optional sign that fits in 64 bits (a string "ts"). */
static int parse_i64_text(const char *s, size_t n, int64_t *out)
{
    size_t i = n > 0 && (s[0] == '+' || s[0] == '-') ? 1 : 0;
    bool is_neg = n > 0 && s[0] == '-';
    uint64_t lim = is_neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX, acc = 0, dg;

    if (i >= n) {
        return -ERANGE;
    }
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -ERANGE;
        }
        dg = (uint64_t)(s[i] - '0');
        if (acc > (lim - dg) / 10) {
            return -ERANGE;
        }
        acc = acc * 10 + dg;
    }
    *out = !is_neg ? (int64_t)acc : acc > (uint64_t)INT64_MAX ? INT64_MIN : -(int64_t)acc;
    return 0;
}

/* "ts" as the JSON converter reads it: a number truncated, or a decimal string. */
static int parse_ts(struct profile_pd_ctx *c, const struct profile_pb_field *fd,
                    const struct profile_pd_occ *occ, size_t n, int64_t *ts_ms)
{
    struct profile_pd_elem e = { 0 };
    struct profile_pd_tok t;
    int rc;

    if (fd->label == PROFILE_PB_LABEL_REPEATED || fd->type == PROFILE_PB_T_MESSAGE) {
        return profile_pd_fail(c, "ts must be an integer");
    }
    if (n > 0) {
        e.v = occ[n - 1].v;
        e.p = occ[n - 1].p;
        e.len = occ[n - 1].len;
    }
    rc = profile_pd_token(c, fd, n > 0 ? &e : NULL, &t);
    if (rc == 0) {
        rc = t.kind == PROFILE_TK_NUM   ? profile_number_trunc(t.s, t.n, ts_ms)
             : t.kind == PROFILE_TK_STR ? parse_i64_text(t.s, t.n, ts_ms)
                                        : -ERANGE;
    }
    free(t.heap);
    return rc == -ERANGE ? profile_pd_fail(c, "ts must be an integer") : rc;
}

static size_t field_by_json_name(const struct profile_pb_msg *type, const char *name)
{
    size_t i;

    for (i = 0; i < type->n_fields; i++) {
        if (strcmp(type->fields[i].json_name, name) == 0) {
            return i;
        }
    }
    return PROFILE_PB_NONE;
}

/* The {ts, values} form: values (a message or a map) printed at ts. */
static int add_ts_values(struct profile_pd_ctx *c, const struct profile_pd_msg *m, size_t ts_i,
                         size_t values_i)
{
    const struct profile_pb_field *vf = &m->type->fields[values_i];
    const struct profile_pd_occ *occ, *vocc;
    struct profile_pd_msg vm;
    struct profile_pd_seg *segs = NULL;
    int64_t ts_ms = 0;
    size_t n, vn, i;
    int rc;

    (void)profile_pd_printed(c, m, ts_i, &occ, &n);
    rc = parse_ts(c, &m->type->fields[ts_i], occ, n, &ts_ms);
    (void)profile_pd_printed(c, m, values_i, &vocc, &vn);
    if (rc == 0 && profile_pd_is_map(c, vf)) {
        return add_map_members(c, vf, vocc, vn, ts_ms);
    }
    if (rc != 0 || vf->type != PROFILE_PB_T_MESSAGE || vf->label == PROFILE_PB_LABEL_REPEATED) {
        return rc != 0 ? rc : profile_pd_fail(c, "values must be a JSON object");
    }
    segs = calloc(vn + 1, sizeof(*segs));
    if (segs == NULL) {
        return -ENOMEM;
    }
    for (i = 0; i < vn; i++) {
        segs[i].p = vocc[i].p;
        segs[i].len = vocc[i].len;
    }
    rc = profile_pd_msg_build(c, &c->s->msgs[vf->ref], segs, vn, &vm);
    if (rc == 0) {
        rc = add_message_members(c, &vm, ts_ms);
        profile_pd_msg_fini(&vm);
    }
    free(segs);
    return rc;
}

static int convert(struct profile_pd_ctx *c, const uint8_t *data, size_t len, bool is_telemetry,
                   int64_t now_ms)
{
    const struct profile_pb_msg *root = &c->s->msgs[c->s->root];
    struct profile_pd_seg seg = { data, len };
    const struct profile_pd_occ *occ;
    struct profile_pd_msg m;
    size_t ts_i, values_i, n;
    int rc;

    rc = profile_pd_msg_build(c, root, &seg, 1, &m);
    if (rc != 0) {
        return rc;
    }
    ts_i = is_telemetry ? field_by_json_name(root, "ts") : PROFILE_PB_NONE;
    values_i = is_telemetry ? field_by_json_name(root, "values") : PROFILE_PB_NONE;
    if (ts_i != PROFILE_PB_NONE && values_i != PROFILE_PB_NONE &&
        profile_pd_printed(c, &m, ts_i, &occ, &n) &&
        profile_pd_printed(c, &m, values_i, &occ, &n)) {
        rc = add_ts_values(c, &m, ts_i, values_i);
    } else {
        rc = add_message_members(c, &m, is_telemetry ? now_ms : 0);
    }
    profile_pd_msg_fini(&m);
    return rc;
}

/* ---- entry points -----------------------------------------------------------------------------
 */

enum pd_mode { PD_TELEMETRY, PD_ATTRIBUTES, PD_JSON };

static int run(const struct profile_proto_schema *s, const uint8_t *data, size_t len,
               enum pd_mode mode, int64_t now_ms, const struct profile_limits *lim,
               struct profile_batch *out, struct profile_buf *json, char *err, size_t err_len)
{
    struct profile_pd_ctx c;
    struct profile_pd_seg seg;
    int rc;

    memset(&c, 0, sizeof(c));
    c.s = s;
    c.base = data != NULL ? data : (const uint8_t *)"";
    c.lim = lim;
    c.out = out;
    c.err = err;
    c.err_len = err_len;
    c.budget = len > PROFILE_PROTO_MAX_TEXT_BYTES / 64 ? PROFILE_PROTO_MAX_TEXT_BYTES : len * 64;
    c.budget = c.budget < MIN_BUDGET ? MIN_BUDGET : c.budget;
    if (err != NULL && err_len > 0) {
        err[0] = '\0';
    }
    if (len > PROFILE_PROTO_MAX_BYTES) {
        rc = profile_pb_fail(err, err_len, "payload larger than %u bytes", PROFILE_PROTO_MAX_BYTES);
        goto out;
    }
    len = data != NULL ? len : 0;
    rc = profile_pd_validate(&c, &s->msgs[s->root], c.base, len, 0);
    if (rc == 0 && mode == PD_JSON) {
        seg.p = c.base;
        seg.len = len;
        rc = profile_pd_render_message(&c, json, &s->msgs[s->root], &seg, 1);
    } else if (rc == 0) {
        rc = convert(&c, c.base, len, mode == PD_TELEMETRY, now_ms);
    }
out:
    if (rc == -ENOMEM) {
        (void)profile_pb_fail(err, err_len, "out of memory");
    }
    if (rc != 0 && out != NULL) {
        profile_batch_clear(out);
    }
    return rc;
}

int profile_proto_telemetry(const struct profile_proto_schema *s, const uint8_t *data, size_t len,
                            int64_t now_ms, const struct profile_limits *lim,
                            struct profile_batch *out, char *err, size_t err_len)
{
    return run(s, data, len, PD_TELEMETRY, now_ms, lim, out, NULL, err, err_len);
}

int profile_proto_attributes(const struct profile_proto_schema *s, const uint8_t *data, size_t len,
                             const struct profile_limits *lim, struct profile_batch *out, char *err,
                             size_t err_len)
{
    return run(s, data, len, PD_ATTRIBUTES, 0, lim, out, NULL, err, err_len);
}

int profile_proto_to_json(const struct profile_proto_schema *s, const uint8_t *data, size_t len,
                          char **json, size_t *json_len, char *err, size_t err_len)
{
    static const struct profile_limits lim = { 0, 0, true };
    struct profile_buf b;
    int rc;

    *json = NULL;
    *json_len = 0;
    profile_buf_init_heap(&b);
    rc = run(s, data, len, PD_JSON, 0, &lim, NULL, &b, err, err_len);
    if (rc == 0) {
        *json_len = b.len;
        *json = profile_buf_take(&b);
        rc = *json == NULL ? -ENOMEM : 0;
    }
    profile_buf_fini(&b);
    return rc;
}
