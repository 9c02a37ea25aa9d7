/* SPDX-License-Identifier: MIT */
/*
 * web_json.c - the admin API's pure parts: request bodies in (accounts, devices, credentials,
 * RPC, the telemetry-save checks), ThingsBoard-shaped JSON out (devices, credentials, Rpc), page
 * links, key lists, downlink state names and UUIDs. No I/O, no clock, no log, so the fuzz target
 * (fuzz_web_json.c) drives the same functions the server does.
 *
 * Bodies are JSON read by jansson (size capped by the server before parsing; jansson bounds the
 * nesting depth). Unknown members are ignored and read-only ones (createdTime, tenantId, ...) are
 * not read, as ThingsBoard does. An id object is {"entityType": T, "id": uuid}; when entityType
 * is present it must be T. Typed values (telemetry, attributes) are written by hand through
 * web_buf, because jansson prints doubles with 17 digits and ThingsBoard prints the shortest form.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "web/web_internal.h"

bool web_uuid_ok(const char *s)
{
    size_t i;

    if (s == NULL || strlen(s) != 36) {
        return false;
    }
    for (i = 0; i < 36; i++) {
        char c = s[i];
        bool is_dash = i == 8 || i == 13 || i == 18 || i == 23;
        bool is_hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        if (is_dash ? c != '-' : !is_hex) {
            return false;
        }
    }
    return true;
}

long web_utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;

    while (*p != 0) {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xe0) == 0xc0 ? 2
                     : (*p & 0xf0) == 0xe0 ? 3
                     : (*p & 0xf8) == 0xf0 ? 4
                                           : 0;
        size_t i;
        if (len == 0) {
            return -1;
        }
        for (i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80) {
                return -1;
            }
        }
        p += len;
        n++;
    }
    return n;
}

/* Parses a decimal int in Java's int range, as ThingsBoard's controllers take it. */
static bool parse_int(const char *s, int64_t *out)
{
    char *end = NULL;
    long long v;

    if (s == NULL || s[0] == '\0' || (s[0] != '-' && (s[0] < '0' || s[0] > '9'))) {
        return false;
    }
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < INT32_MIN || v > INT32_MAX) {
        return false;
    }
    *out = (int64_t)v;
    return true;
}

static void sort_list(const char *const *sorts, size_t n, char *buf, size_t len)
{
    size_t i, off = 0;

    buf[0] = '\0';
    for (i = 0; i < n && off < len; i++) {
        int w = snprintf(buf + off, len - off, "%s'%s'", i > 0 ? ", " : "", sorts[i]);
        off += w > 0 ? (size_t)w : 0;
    }
}

/* Spring's messages for a missing or malformed int query parameter. */
static int bad_int(const char *name, const char *value, char *err, size_t err_len)
{
    if (value == NULL) {
        (void)snprintf(err, err_len,
                       "Required request parameter '%s' for method parameter type int is not "
                       "present",
                       name);
    } else {
        (void)snprintf(err, err_len,
                       "Failed to convert value of type 'java.lang.String' to required type 'int';"
                       " For input string: \"%.32s\"",
                       value);
    }
    return -EINVAL;
}

int web_page_parse(const char *page_size, const char *page, const char *sort_property,
                   const char *sort_order, const char *const *sorts, size_t n_sorts,
                   struct web_page *out, char *err, size_t err_len)
{
    char list[256];
    size_t i;

    memset(out, 0, sizeof(*out));
    out->sort = -1;
    if (!parse_int(page_size, &out->page_size)) {
        return bad_int("pageSize", page_size, err, err_len);
    }
    if (!parse_int(page, &out->page)) {
        return bad_int("page", page, err, err_len);
    }
    if (out->page_size < 1) {
        (void)snprintf(err, err_len,
                       "Incorrect page link page size '%lld'. Page size must be "
                       "greater than zero.",
                       (long long)out->page_size);
        return -EINVAL;
    }
    if (out->page < 0) {
        (void)snprintf(err, err_len,
                       "Incorrect page link page '%lld'. Page must be positive "
                       "integer.",
                       (long long)out->page);
        return -EINVAL;
    }
    if (sort_order != NULL && sort_order[0] != '\0') {
        if (strcasecmp(sort_order, "DESC") != 0 && strcasecmp(sort_order, "ASC") != 0) {
            (void)snprintf(err, err_len,
                           "Unsupported sort order '%.64s'! Only 'ASC' or 'DESC' "
                           "types are allowed.",
                           sort_order);
            return -EINVAL;
        }
        out->is_desc = strcasecmp(sort_order, "DESC") == 0;
    }
    if (sort_property == NULL || sort_property[0] == '\0') {
        out->is_desc = false;
        return 0;
    }
    for (i = 0; i < n_sorts; i++) {
        if (strcmp(sort_property, sorts[i]) == 0) {
            out->sort = (int)i;
            return 0;
        }
    }
    sort_list(sorts, n_sorts, list, sizeof(list));
    (void)snprintf(err, err_len, "Unsupported sort property '%.64s'. Only %s are allowed.",
                   sort_property, list);
    return -EINVAL;
}

int web_keys_parse(const char *csv, char *buf, size_t buf_len, const char **keys, size_t cap,
                   size_t *n)
{
    size_t len = strlen(csv);
    char *p = buf;

    *n = 0;
    if (len >= buf_len) {
        return -ERANGE;
    }
    memcpy(buf, csv, len + 1);
    while (p != NULL) {
        char *comma = strchr(p, ',');
        if (comma != NULL) {
            *comma = '\0';
        }
        if (p[0] != '\0') {
            if (*n == cap) {
                return -ERANGE;
            }
            keys[(*n)++] = p;
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    return 0;
}

/* Loads body as a JSON object. */
static int load_object(const char *body, size_t len, json_t **root, char *err, size_t err_len)
{
    json_error_t je;

    *root = json_loadb(body, len, 0, &je);
    if (*root == NULL) {
        (void)snprintf(err, err_len, "Invalid JSON: %s at line %d column %d", je.text, je.line,
                       je.column);
        return -EBADMSG;
    }
    if (!json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        (void)snprintf(err, err_len, "Request is not a JSON object");
        return -EBADMSG;
    }
    return 0;
}

/* A member that must be a string when present (NULL when absent or null). */
static int opt_string(json_t *o, const char *name, const char **out, char *err, size_t err_len)
{
    json_t *v = json_object_get(o, name);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v)) {
        (void)snprintf(err, err_len, "Field '%s' should be a string", name);
        return -EINVAL;
    }
    *out = json_string_value(v);
    return 0;
}

/* Reads the uuid of an id object member; checks entityType when present. */
static int id_member(json_t *o, const char *name, const char *entity_type, const char **out,
                     char *err, size_t err_len)
{
    json_t *v = json_object_get(o, name);
    const char *type;

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_object(v) || !json_is_string(json_object_get(v, "id"))) {
        (void)snprintf(err, err_len, "Field '%s' should be an id object", name);
        return -EINVAL;
    }
    *out = json_string_value(json_object_get(v, "id"));
    if (!web_uuid_ok(*out)) {
        (void)snprintf(err, err_len, "Invalid UUID string: %.64s", *out);
        return -EINVAL;
    }
    type = json_string_value(json_object_get(v, "entityType"));
    if (entity_type != NULL && json_object_get(v, "entityType") != NULL &&
        (type == NULL || strcmp(type, entity_type) != 0)) {
        (void)snprintf(err, err_len, "Field '%s' should have entityType %s", name, entity_type);
        return -EINVAL;
    }
    return 0;
}

static int strings(json_t *root, const char *const *names, const char **out[], size_t n, char *err,
                   size_t err_len)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < n; i++) {
        rc = opt_string(root, names[i], out[i], err, err_len);
    }
    return rc;
}

int web_json_login(const char *body, size_t len, struct web_login_body *out, char *err,
                   size_t err_len)
{
    static const char *const names[] = { "username", "password" };
    const char **dst[] = { &out->username, &out->password };
    int rc = load_object(body, len, &out->root, err, err_len);

    if (rc == 0) {
        rc = strings(out->root, names, dst, 2, err, err_len);
    }
    if (rc == 0 && (out->username == NULL || out->username[0] == '\0' || out->password == NULL ||
                    out->password[0] == '\0')) {
        (void)snprintf(err, err_len, "Authentication failed");
        rc = -EINVAL;
    }
    if (rc != 0) {
        json_decref(out->root);
        out->root = NULL;
    }
    return rc;
}

int web_json_setup(const char *body, size_t len, struct web_setup_body *out, char *err,
                   size_t err_len)
{
    static const char *const names[] = { "setupToken", "username", "password" };
    const char **dst[] = { &out->setup_token, &out->username, &out->password };
    int rc = load_object(body, len, &out->root, err, err_len);

    if (rc == 0) {
        rc = strings(out->root, names, dst, 3, err, err_len);
    }
    if (rc == 0 && (out->setup_token == NULL || out->username == NULL || out->password == NULL)) {
        (void)snprintf(err, err_len, "setupToken, username and password should be specified!");
        rc = -EINVAL;
    }
    if (rc != 0) {
        json_decref(out->root);
        out->root = NULL;
    }
    return rc;
}

int web_json_refresh(const char *body, size_t len, struct web_refresh_body *out, char *err,
                     size_t err_len)
{
    int rc = load_object(body, len, &out->root, err, err_len);

    if (rc == 0) {
        rc = opt_string(out->root, "refreshToken", &out->refresh_token, err, err_len);
    }
    if (rc == 0 && (out->refresh_token == NULL || out->refresh_token[0] == '\0')) {
        (void)snprintf(err, err_len, "Authentication failed");
        rc = -EINVAL;
    }
    if (rc != 0) {
        json_decref(out->root);
        out->root = NULL;
    }
    return rc;
}

int web_json_password(const char *body, size_t len, struct web_password_body *out, char *err,
                      size_t err_len)
{
    static const char *const names[] = { "currentPassword", "newPassword" };
    const char **dst[] = { &out->current_password, &out->new_password };
    int rc = load_object(body, len, &out->root, err, err_len);

    if (rc == 0) {
        rc = strings(out->root, names, dst, 2, err, err_len);
    }
    if (rc == 0 && (out->current_password == NULL || out->new_password == NULL)) {
        (void)snprintf(err, err_len, "currentPassword and newPassword should be specified!");
        rc = -EINVAL;
    }
    if (rc != 0) {
        json_decref(out->root);
        out->root = NULL;
    }
    return rc;
}

/* Checks a name-like field: at most WEB_NAME_MAX bytes of valid UTF-8. */
static int short_text(const char *v, const char *what, char *err, size_t err_len)
{
    if (v != NULL && (strlen(v) > WEB_NAME_MAX || web_utf8_chars(v) < 0)) {
        (void)snprintf(err, err_len, "%s length must be equal or less than %d", what, WEB_NAME_MAX);
        return -EINVAL;
    }
    return 0;
}

/* additionalInfo and deviceData.transportConfiguration as compact JSON text. */
static int device_json_members(struct web_device_body *b, char *err, size_t err_len)
{
    json_t *info = json_object_get(b->root, "additionalInfo");
    json_t *data = json_object_get(b->root, "deviceData");
    json_t *tc = json_is_object(data) ? json_object_get(data, "transportConfiguration") : NULL;

    if (info != NULL && !json_is_null(info)) {
        b->info = json_dumps(info, JSON_COMPACT | JSON_ENCODE_ANY);
        if (b->info == NULL) {
            return -ENOMEM;
        }
    }
    if (tc != NULL && !json_is_null(tc)) {
        if (!json_is_object(tc) || !json_is_string(json_object_get(tc, "type"))) {
            (void)snprintf(err, err_len,
                           "Device transport configuration type should be "
                           "specified!");
            return -EINVAL;
        }
        b->transport = json_dumps(tc, JSON_COMPACT);
        if (b->transport == NULL) {
            return -ENOMEM;
        }
    }
    b->dev.additional_info = b->info;
    b->dev.transport_json = b->transport;
    return 0;
}

static int device_fields(struct web_device_body *b, char *err, size_t err_len)
{
    static const char *const names[] = { "name", "label", "type" };
    const char **dst[] = { &b->dev.name, &b->dev.label, &b->dev.type };
    json_t *version = json_object_get(b->root, "version");
    int rc;

    rc = id_member(b->root, "id", "DEVICE", &b->dev.uuid, err, err_len);
    if (rc == 0) {
        rc = id_member(b->root, "deviceProfileId", "DEVICE_PROFILE", &b->dev.profile_uuid, err,
                       err_len);
    }
    if (rc == 0) {
        rc = strings(b->root, names, dst, 3, err, err_len);
    }
    if (rc == 0 && (b->dev.name == NULL || b->dev.name[0] == '\0')) {
        (void)snprintf(err, err_len, "Device name should be specified!");
        rc = -EINVAL;
    }
    if (rc == 0) {
        rc = short_text(b->dev.name, "Device name", err, err_len);
    }
    if (rc == 0) {
        rc = short_text(b->dev.label, "Device label", err, err_len);
    }
    if (rc == 0) {
        rc = short_text(b->dev.type, "Device type", err, err_len);
    }
    if (rc == 0 && b->dev.type != NULL && b->dev.type[0] == '\0') {
        b->dev.type = NULL;
    }
    if (rc == 0 && version != NULL && !json_is_null(version)) {
        if (!json_is_integer(version)) {
            (void)snprintf(err, err_len, "Field 'version' should be an integer");
            rc = -EINVAL;
        }
        b->has_version = true;
        b->version = (int64_t)json_integer_value(version);
    }
    return rc;
}

int web_json_device(const char *body, size_t len, struct web_device_body *out, char *err,
                    size_t err_len)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = load_object(body, len, &out->root, err, err_len);
    if (rc == 0) {
        rc = device_fields(out, err, err_len);
    }
    if (rc == 0) {
        rc = device_json_members(out, err, err_len);
    }
    if (rc == -ENOMEM) {
        (void)snprintf(err, err_len, "out of memory");
    }
    if (rc != 0) {
        web_device_body_fini(out);
    }
    return rc;
}

void web_device_body_fini(struct web_device_body *b)
{
    json_decref(b->root);
    free(b->info);
    free(b->transport);
    memset(b, 0, sizeof(*b));
}

int web_json_credentials(const char *body, size_t len, struct web_cred_body *out, char *err,
                         size_t err_len)
{
    static const char *const names[] = { "credentialsType", "credentialsId", "credentialsValue" };
    const char **dst[] = { &out->type, &out->credentials_id, &out->value };
    int rc;

    memset(out, 0, sizeof(*out));
    rc = load_object(body, len, &out->root, err, err_len);
    if (rc == 0) {
        rc = id_member(out->root, "deviceId", "DEVICE", &out->device_uuid, err, err_len);
    }
    if (rc == 0) {
        rc = strings(out->root, names, dst, 3, err, err_len);
    }
    if (rc == 0 && out->device_uuid == NULL) {
        (void)snprintf(err, err_len, "Device credentials should be assigned to device!");
        rc = -EINVAL;
    }
    if (rc == 0 && out->type == NULL) {
        (void)snprintf(err, err_len, "Device credentials type should be specified!");
        rc = -EINVAL;
    }
    if (rc != 0) {
        json_decref(out->root);
        out->root = NULL;
    }
    return rc;
}

/* ---- answers ----------------------------------------------------------------------------- */

char *web_json_error(unsigned status, int code, const char *message, int64_t ts_ms)
{
    json_t *o = json_pack("{s:i, s:s, s:i, s:I}", "status", (int)status, "message", message,
                          "errorCode", code, "timestamp", (json_int_t)ts_ms);
    char *text;

    if (o == NULL) {
        /* message was not valid UTF-8: answer without it rather than not at all */
        o = json_pack("{s:i, s:s, s:i, s:I}", "status", (int)status, "message", "Bad request",
                      "errorCode", code, "timestamp", (json_int_t)ts_ms);
    }
    text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

json_t *web_json_id(const char *entity_type, const char *uuid)
{
    return json_pack("{s:s, s:s}", "entityType", entity_type, "id", uuid);
}

/* The device's transportConfiguration: its own object when it fits the profile's transport. */
static json_t *transport_config(const struct gw_api_device *d)
{
    const char *transport = d->profile_transport != NULL ? d->profile_transport : "DEFAULT";
    json_t *tc = NULL;

    if (d->transport_json != NULL) {
        tc = json_loads(d->transport_json, 0, NULL);
        if (!json_is_object(tc) || !json_is_string(json_object_get(tc, "type")) ||
            strcmp(json_string_value(json_object_get(tc, "type")), transport) != 0) {
            json_decref(tc);
            tc = NULL;
        }
    }
    if (tc == NULL && strcmp(transport, "COAP") == 0) {
        tc = json_pack("{s:s, s:n, s:n, s:n, s:n}", "type", "COAP", "powerMode", "psmActivityTimer",
                       "edrxCycle", "pagingTransmissionWindow");
    } else if (tc == NULL) {
        tc = json_pack("{s:s}", "type", transport);
    }
    return tc;
}

static json_t *json_or_null(const char *text)
{
    json_t *v = text != NULL ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;

    return v != NULL ? v : json_null();
}

json_t *web_json_device_out(const struct gw_api_device *d, const char *tenant_id, bool is_info)
{
    json_t *o = json_pack(
        "{s:o, s:I, s:o, s:o, s:s, s:s, s:o, s:o, s:{s:{s:s}, s:o}, s:o, s:o, s:n, s:i, s:o}", "id",
        web_json_id("DEVICE", d->uuid), "createdTime", (json_int_t)d->created_ms, "tenantId",
        web_json_id("TENANT", tenant_id), "customerId", web_json_id("CUSTOMER", WEB_NO_CUSTOMER),
        "name", d->name, "type", d->profile_name, "label",
        d->label != NULL ? json_string(d->label) : json_null(), "deviceProfileId",
        web_json_id("DEVICE_PROFILE", d->profile_uuid), "deviceData", "configuration", "type",
        "DEFAULT", "transportConfiguration", transport_config(d), "firmwareId",
        d->fw_uuid != NULL ? web_json_id("OTA_PACKAGE", d->fw_uuid) : json_null(), "softwareId",
        d->sw_uuid != NULL ? web_json_id("OTA_PACKAGE", d->sw_uuid) : json_null(), "externalId",
        "version", 1, "additionalInfo", json_or_null(d->additional_info));

    if (o != NULL && is_info) {
        (void)json_object_set_new(o, "deviceProfileName", json_string(d->profile_name));
        (void)json_object_set_new(o, "active", json_boolean(d->is_active));
        /* nbgate: the next window in which queued downlinks can reach the device, and why. */
        (void)json_object_set_new(o, "reachability",
                                  d->reachability != NULL ? json_string(d->reachability)
                                                          : json_null());
        (void)json_object_set_new(o, "customerTitle", json_null());
        (void)json_object_set_new(o, "customerIsPublic", json_false());
    }
    return o;
}

json_t *web_json_credentials_out(const struct gw_api_credentials *c)
{
    return json_pack("{s:{s:s}, s:I, s:o, s:s, s:s, s:o, s:i}", "id", "id", c->uuid, "createdTime",
                     (json_int_t)c->created_ms, "deviceId", web_json_id("DEVICE", c->device_uuid),
                     "credentialsType", c->type, "credentialsId", c->credentials_id,
                     "credentialsValue", c->value != NULL ? json_string(c->value) : json_null(),
                     "version", 1);
}

/* ---- RPC --------------------------------------------------------------------------------- */

/* An optional integer member; a JSON real with an integral value is accepted too. */
static int opt_int(json_t *o, const char *name, bool *has, int64_t *out, char *err, size_t err_len)
{
    json_t *v = json_object_get(o, name);
    double d;

    *has = false;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
    } else if (json_is_real(v) && (d = json_real_value(v)) >= -9.2e18 && d <= 9.2e18 &&
               d == (double)(int64_t)d) {
        *out = (int64_t)d;
    } else {
        (void)snprintf(err, err_len, "Field '%s' should be an integer", name);
        return -EINVAL;
    }
    *has = true;
    return 0;
}

/* A member kept as compact JSON text (NULL when absent or null). */
static int json_member_text(json_t *o, const char *name, char **out)
{
    json_t *v = json_object_get(o, name);

    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    return *out != NULL ? 0 : -ENOMEM;
}

static int rpc_fields(struct web_rpc_body *b, char *err, size_t err_len)
{
    json_t *persistent = json_object_get(b->root, "persistent");
    int rc;

    rc = opt_string(b->root, "method", &b->method, err, err_len);
    if (rc == 0 && (b->method == NULL || b->method[0] == '\0')) {
        (void)snprintf(err, err_len, "Field 'method' should be specified!");
        rc = -EINVAL;
    }
    rc = rc == 0 ? opt_string(b->root, "requestUUID", &b->request_uuid, err, err_len) : rc;
    if (rc == 0 && b->request_uuid != NULL && !web_uuid_ok(b->request_uuid)) {
        (void)snprintf(err, err_len, "Invalid UUID string: %.64s", b->request_uuid);
        rc = -EINVAL;
    }
    rc = rc == 0 ? opt_int(b->root, "timeout", &b->has_timeout, &b->timeout_ms, err, err_len) : rc;
    rc = rc == 0 ? opt_int(b->root, "expirationTime", &b->has_expiration, &b->expiration_ms, err,
                           err_len)
                 : rc;
    rc = rc == 0 ? opt_int(b->root, "retries", &b->has_retries, &b->retries, err, err_len) : rc;
    if (rc == 0 && persistent != NULL && !json_is_null(persistent)) {
        if (!json_is_boolean(persistent)) {
            (void)snprintf(err, err_len, "Field 'persistent' should be a boolean");
            rc = -EINVAL;
        }
        b->is_persistent = json_is_true(persistent);
    }
    if (rc == 0 && (json_member_text(b->root, "params", &b->params) != 0 ||
                    json_member_text(b->root, "additionalInfo", &b->additional_info) != 0)) {
        (void)snprintf(err, err_len, "out of memory");
        rc = -ENOMEM;
    }
    return rc;
}

int web_json_rpc(const char *body, size_t len, struct web_rpc_body *out, char *err, size_t err_len)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = load_object(body, len, &out->root, err, err_len);
    if (rc == -EBADMSG) {
        (void)snprintf(err, err_len, "Invalid request body");
    }
    rc = rc == 0 ? rpc_fields(out, err, err_len) : rc;
    if (rc != 0) {
        web_rpc_body_fini(out);
    }
    return rc;
}

void web_rpc_body_fini(struct web_rpc_body *b)
{
    json_decref(b->root);
    free(b->params);
    free(b->additional_info);
    memset(b, 0, sizeof(*b));
}

static const char *const dl_states[] = {
    [GW_DL_QUEUED] = "QUEUED",         [GW_DL_SENT] = "SENT",       [GW_DL_DELIVERED] = "DELIVERED",
    [GW_DL_SUCCESSFUL] = "SUCCESSFUL", [GW_DL_TIMEOUT] = "TIMEOUT", [GW_DL_EXPIRED] = "EXPIRED",
    [GW_DL_FAILED] = "FAILED",
};

const char *web_dl_state_name(enum gw_dl_state s)
{
    return s >= GW_DL_QUEUED && s <= GW_DL_FAILED ? dl_states[s] : "FAILED";
}

int web_dl_state_parse(const char *s)
{
    int i;

    for (i = GW_DL_QUEUED; s != NULL && i <= GW_DL_FAILED; i++) {
        if (strcmp(s, dl_states[i]) == 0) {
            return i;
        }
    }
    return 0;
}

/* The response member: the stored JSON, or ThingsBoard's text for retries used up. */
static json_t *rpc_response(const struct gw_api_rpc *r)
{
    char text[160];

    if (r->response != NULL) {
        return json_or_null(r->response);
    }
    if (r->state == GW_DL_FAILED) {
        (void)snprintf(text, sizeof(text),
                       "There was a Timeout and all retry attempts have been exhausted. Retry "
                       "attempts set: %lld",
                       (long long)r->max_retries);
        return json_pack("{s:s}", "error", text);
    }
    return json_null();
}

json_t *web_json_rpc_out(const struct gw_api_rpc *r, const char *tenant_id)
{
    json_t *request = json_pack(
        "{s:s, s:o, s:o, s:b, s:I, s:{s:s, s:s}, s:b, s:I}", "id", r->uuid, "tenantId",
        web_json_id("TENANT", tenant_id), "deviceId", web_json_id("DEVICE", r->device_uuid),
        "oneway", r->is_oneway, "expirationTime", (json_int_t)r->expiration_ms, "body", "method",
        r->method != NULL ? r->method : "", "params", r->params != NULL ? r->params : "null",
        "persisted", r->is_persistent, "retries", (json_int_t)r->max_retries);

    return json_pack(
        "{s:o, s:I, s:o, s:o, s:I, s:o, s:o, s:s, s:o}", "id", web_json_id("RPC", r->uuid),
        "createdTime", (json_int_t)r->created_ms, "tenantId", web_json_id("TENANT", tenant_id),
        "deviceId", web_json_id("DEVICE", r->device_uuid), "expirationTime",
        (json_int_t)r->expiration_ms, "request", request, "response", rpc_response(r), "status",
        web_dl_state_name(r->state), "additionalInfo", json_or_null(r->additional_info));
}

/* ---- telemetry bodies -------------------------------------------------------------------- */

/* Counts the members of one record set; a null value or a blank key is an error. */
static int kv_members(json_t *o, size_t *n, char *err, size_t err_len)
{
    const char *key;
    json_t *v;

    json_object_foreach(o, key, v)
    {
        if (key[strspn(key, " \t\r\n")] == '\0') {
            (void)snprintf(err, err_len, "Key cannot be blank");
            return -EINVAL;
        }
        if (json_is_null(v)) {
            (void)snprintf(err, err_len, "Value of key '%.64s' can't be null", key);
            return -EINVAL;
        }
        (*n)++;
    }
    return 0;
}

/* One telemetry object: {"ts", "values"} or a flat record set. */
static int ts_group(json_t *o, size_t *n, char *err, size_t err_len)
{
    json_t *values = json_object_get(o, "values");

    if (!json_is_object(o)) {
        (void)snprintf(err, err_len,
                       "Unable to parse time series payload. Invalid JSON body: "
                       "an array element is not an object");
        return -EINVAL;
    }
    if (json_object_get(o, "ts") != NULL && values != NULL) {
        return json_is_object(values) ? kv_members(values, n, err, err_len) : 0;
    }
    return kv_members(o, n, err, err_len);
}

int web_json_ts_check(const char *body, size_t len, char *err, size_t err_len)
{
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, NULL);
    json_t *el;
    size_t i, n = 0;
    int rc = 0;

    if (root == NULL || (!json_is_object(root) && !json_is_array(root))) {
        (void)snprintf(err, err_len, "Unable to parse time series payload: Invalid JSON body!");
        rc = -EBADMSG;
    } else if (json_is_object(root)) {
        rc = ts_group(root, &n, err, err_len);
    } else {
        json_array_foreach(root, i, el)
        {
            rc = ts_group(el, &n, err, err_len);
            if (rc != 0) {
                break;
            }
        }
    }
    if (rc == 0 && n == 0) {
        (void)snprintf(err, err_len, "No time series data found in request body!");
        rc = -ENODATA;
    }
    json_decref(root);
    return rc;
}
