/* SPDX-License-Identifier: MIT */
/*
 * fuzz_web_json.c - libFuzzer entry for the admin API's request parsing (web/web_json.c): every
 * input goes through each body parser (login, setup, refresh, password, device, credentials,
 * RPC), as four page-link lines (pageSize, page, sortProperty, sortOrder), as a keys= list and as a
 * UUID. Besides the sanitizers it aborts on a broken contract: a parsed device whose name is
 * missing or too long, an answer that cannot be built from it, keys that are empty or too many.
 */
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_device(const char *text, size_t len)
{
    struct gw_api_device d = { 0 };
    struct web_device_body b;
    char err[256];
    json_t *o;

    if (web_json_device(text, len, &b, err, sizeof(err)) != 0) {
        return;
    }
    if (b.dev.name == NULL || b.dev.name[0] == '\0' || strlen(b.dev.name) > WEB_NAME_MAX ||
        (b.dev.uuid != NULL && !web_uuid_ok(b.dev.uuid))) {
        abort();
    }
    d.uuid = "5f2c1a40-8e9b-4c1d-9a57-2d3b0c6f7e11";
    d.name = b.dev.name;
    d.label = b.dev.label;
    d.profile_name = b.dev.type != NULL ? b.dev.type : "default";
    d.profile_uuid = d.uuid;
    d.profile_transport = "COAP";
    d.additional_info = b.info;
    d.transport_json = b.transport;
    o = web_json_device_out(&d, d.uuid, true);
    if (o == NULL) {
        abort();
    }
    json_decref(o);
    web_device_body_fini(&b);
}

/* An RPC body: method present, params valid JSON text, and the Rpc answer can be built. */
static void check_rpc(const char *text, size_t len)
{
    struct gw_api_rpc r = { 0 };
    struct web_rpc_body b;
    char err[256];
    json_t *o;

    if (web_json_rpc(text, len, &b, err, sizeof(err)) != 0) {
        return;
    }
    o = b.params != NULL ? json_loads(b.params, JSON_DECODE_ANY, NULL) : NULL;
    if (b.method == NULL || b.method[0] == '\0' || (b.params != NULL && o == NULL) ||
        (b.request_uuid != NULL && !web_uuid_ok(b.request_uuid))) {
        abort();
    }
    json_decref(o);
    r.uuid = r.device_uuid = "5f2c1a40-8e9b-4c1d-9a57-2d3b0c6f7e11";
    r.state = GW_DL_FAILED;
    r.method = b.method;
    r.params = b.params;
    r.additional_info = b.additional_info;
    o = web_json_rpc_out(&r, r.uuid);
    if (o == NULL) {
        abort();
    }
    json_decref(o);
    web_rpc_body_fini(&b);
}

static void check_bodies(const char *text, size_t len)
{
    struct web_login_body l;
    struct web_setup_body s;
    struct web_refresh_body r;
    struct web_password_body p;
    struct web_cred_body c;
    char err[256];

    if (web_json_login(text, len, &l, err, sizeof(err)) == 0) {
        json_decref(l.root);
    }
    if (web_json_setup(text, len, &s, err, sizeof(err)) == 0) {
        json_decref(s.root);
    }
    if (web_json_refresh(text, len, &r, err, sizeof(err)) == 0) {
        json_decref(r.root);
    }
    if (web_json_password(text, len, &p, err, sizeof(err)) == 0) {
        json_decref(p.root);
    }
    if (web_json_credentials(text, len, &c, err, sizeof(err)) == 0) {
        if (c.device_uuid == NULL || !web_uuid_ok(c.device_uuid) || c.type == NULL) {
            abort();
        }
        json_decref(c.root);
    }
    check_device(text, len);
    check_rpc(text, len);
}

static void check_query(char *text)
{
    static const char *const sorts[] = { "createdTime", "name", "label" };
    const char *line[4] = { NULL, NULL, NULL, NULL };
    const char *keys[WEB_MAX_KEYS];
    char buf[WEB_KEYS_MAX], err[256];
    struct web_page pg;
    size_t n = 0, i;
    char *p = text;

    if (web_keys_parse(text, buf, sizeof(buf), keys, WEB_MAX_KEYS, &n) == 0) {
        for (i = 0; i < n; i++) {
            if (keys[i][0] == '\0' || strchr(keys[i], ',') != NULL) {
                abort();
            }
        }
    }
    (void)web_uuid_ok(text);
    for (i = 0; i < 4 && p != NULL; i++) {
        line[i] = p;
        p = strchr(p, '\n');
        if (p != NULL) {
            *p++ = '\0';
        }
    }
    if (web_page_parse(line[0], line[1], line[2], line[3], sorts, 3, &pg, err, sizeof(err)) == 0 &&
        (pg.page_size < 1 || pg.page < 0 || pg.sort >= 3)) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text;

    if (size > 65536) {
        return 0;
    }
    text = malloc(size + 1);
    if (text == NULL) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    check_bodies(text, size);
    check_query(text);
    free(text);
    return 0;
}
