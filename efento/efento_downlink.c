/* SPDX-License-Identifier: MIT */
/*
 * efento_downlink.c - builds the ProtoConfig that nbgate puts into the 2.01 answer to a CON
 * measurement frame (specs/efento.md 3.4, 8.1-8.4): requests (current_time,
 * device_info_request, configuration_request, ...) and the admin's queued settings.
 *
 * Fields are addressed by their attribute names (lowerCamelCase of the field name, table 6.6),
 * found through the generated descriptor, and validated against the ranges of table 6.6 kept in
 * SETTABLE[] below; only direction S and B fields are there. proto3 does not encode zero values,
 * so every settable scalar range excludes 0 and a bool set to 0 means "not sent". The message is
 * built with malloc'd members only, so protobuf-c's free_unpacked with the default allocator
 * releases it.
 */
#include "efento/efento.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "efento/efento_internal.h"

enum dkind {
    D_U32,     /* uint32 scalar in [min, max] or == alt */
    D_BOOL,    /* bool */
    D_ENUM,    /* enum number in [min, max] */
    D_STR,     /* string of 1..max bytes */
    D_BYTES,   /* bytes of 1..max, given as base64 */
    D_U32S,    /* repeated uint32, 1..max items each <= alt */
    D_SPECIAL, /* message kinds with their own setter */
};

struct dfield {
    uint32_t id;
    enum dkind kind;
    uint32_t min;
    uint32_t max;
    uint32_t alt; /* D_U32: extra allowed value (0 = none); D_U32S: item maximum */
};

#define U32_MAX_ UINT32_MAX

/* Table 6.6, fields with direction S or B (8.4). */
static const struct dfield SETTABLE[] = {
    { 2, D_U32, 1, 65535, 0 },             /* measurementPeriodBase */
    { 3, D_U32, 60, 604800, 0 },           /* transmissionInterval */
    { 4, D_U32, 60, 604800, U32_MAX_ },    /* bleTurnoffTime */
    { 5, D_U32, 180, 2592000, U32_MAX_ },  /* ackInterval */
    { 6, D_BOOL, 0, 1, 0 },                /* deviceInfoRequest */
    { 7, D_BOOL, 0, 1, 0 },                /* updateSoftwareRequest */
    { 8, D_U32, 1, U32_MAX_, 0 },          /* currentTime */
    { 9, D_U32, 1, 65535, 0 },             /* transferLimit */
    { 10, D_U32, 1, 65535, 0 },            /* transferLimitTimer */
    { 11, D_STR, 1, 31, 0 },               /* dataServerIp */
    { 12, D_U32, 1, 65535, 0 },            /* dataServerPort */
    { 13, D_STR, 1, 31, 0 },               /* updateServerIp */
    { 14, D_U32, 1, 65535, 0 },            /* updateServerPortUdp */
    { 15, D_U32, 1, 65535, 0 },            /* updateServerPortCoap */
    { 16, D_STR, 1, 49, 0 },               /* apn */
    { 17, D_U32, 100, 1000000, U32_MAX_ }, /* plmnSelection */
    { 18, D_U32, 60, 604800, 0 },          /* disableModemRequest */
    { 19, D_BOOL, 0, 1, 0 },               /* configurationRequest */
    { 22, D_BOOL, 0, 1, 0 },               /* acceptWithoutTestingRequest */
    { 23, D_U32, 1, 2, 255 },              /* cloudTokenConfig */
    { 24, D_STR, 1, 36, 0 },               /* cloudToken */
    { 26, D_U32, 1, 65535, 0 },            /* measurementPeriodFactor */
    { 28, D_SPECIAL, 0, 16, 0 },           /* rules */
    { 29, D_U32, 180, 604800, U32_MAX_ },  /* supervisionPeriod */
    { 30, D_BOOL, 0, 1, 0 },               /* resetMemoryRequest */
    { 31, D_U32, 1, 0x7ffff, 0 },          /* modemBandsMask */
    { 32, D_STR, 1, 11, 0 },               /* dataEndpoint */
    { 33, D_STR, 1, 11, 0 },               /* configurationEndpoint */
    { 34, D_STR, 1, 11, 0 },               /* deviceInfoEndpoint */
    { 35, D_STR, 1, 11, 0 },               /* timeEndpoint */
    { 36, D_U32, 1, 4, 0 },                /* bleTxPowerLevel */
    { 37, D_BOOL, 0, 1, 0 },               /* clearRuntimeErrorsRequest */
    { 40, D_U32, 1, 65000, 0 },            /* cloudTokenCoapOption */
    { 41, D_U32, 1, 65000, 0 },            /* payloadSignatureCoapOption */
    { 42, D_U32S, 1, 4, 255 },             /* dnsServerIp */
    { 43, D_U32, 1, 864002, 0 },           /* dnsTtlConfig */
    { 45, D_STR, 1, 48, 0 },               /* updateModemRequest */
    { 46, D_U32S, 1, 16, U32_MAX_ },       /* cellularConfigParams */
    { 47, D_SPECIAL, 0, 6, 0 },            /* calendars */
    { 50, D_U32S, 1, 9, 255 },             /* ledConfig */
    { 51, D_U32, 1, 2, 0 },                /* networkTroubleshooting */
    { 52, D_U32, 1, 65000, 0 },            /* modemIdentificationCoapOption */
    { 53, D_BYTES, 1, 16, 0 },             /* networkKey */
    { 54, D_BYTES, 1, 16, 0 },             /* encryptionKey */
    { 55, D_STR, 1, 31, 0 },               /* apnUsername */
    { 56, D_STR, 1, 31, 0 },               /* apnPassword */
    { 57, D_SPECIAL, 0, 0, 0 },            /* networkSearch */
    { 58, D_SPECIAL, 0, 3, 0 },            /* setOutputControlStateRequest */
    { 59, D_SPECIAL, 0, 0, 0 },            /* bleAdvertisingPeriod */
    { 60, D_ENUM, 1, 2, 0 },               /* advertisementManufacturerDataFormat */
    { 62, D_U32, 127, 127, 0 },            /* nvmStatus: 0x7F clears */
    { 64, D_BOOL, 0, 1, 0 },               /* restartMemoryStatsRequest */
    { 65, D_U32, 1, U32_MAX_, 0 },         /* dataTransferStartTimestampRequest */
};

struct efento_downlink {
    ProtoConfig *cfg;
};

static const struct {
    const char *name;
    const ProtobufCEnumDescriptor *d;
} ENUMS[] = {
    { "MeasurementType", &measurement_type__descriptor },
    { "ModemType", &modem_type__descriptor },
    { "ModemFirmwareVersion", &modem_firmware_version__descriptor },
    { "Condition", &condition__descriptor },
    { "LogicOperator", &logic_operator__descriptor },
    { "Action", &action__descriptor },
    { "CalendarType", &calendar_type__descriptor },
    { "BleAdvertisingPeriodMode", &ble_advertising_period_mode__descriptor },
    { "AdvertisementManufacturerDataFormat", &advertisement_manufacturer_data_format__descriptor },
};

int efento_enum_value(const char *enum_name, const char *value_name, int32_t *out)
{
    const ProtobufCEnumValue *v;
    size_t i;

    for (i = 0; i < sizeof(ENUMS) / sizeof(ENUMS[0]); i++) {
        if (strcmp(ENUMS[i].name, enum_name) == 0) {
            v = protobuf_c_enum_descriptor_get_value_by_name(ENUMS[i].d, value_name);
            if (v == NULL) {
                return -ENOENT;
            }
            *out = (int32_t)v->value;
            return 0;
        }
    }
    return -ENOENT;
}

int efento_downlink_new(struct efento_downlink **out)
{
    struct efento_downlink *dl = calloc(1, sizeof(*dl));

    *out = NULL;
    if (dl == NULL) {
        return -ENOMEM;
    }
    dl->cfg = malloc(sizeof(*dl->cfg));
    if (dl->cfg == NULL) {
        free(dl);
        return -ENOMEM;
    }
    proto_config__init(dl->cfg);
    *out = dl;
    return 0;
}

void efento_downlink_free(struct efento_downlink *dl)
{
    if (dl == NULL) {
        return;
    }
    proto_config__free_unpacked(dl->cfg, NULL);
    free(dl);
}

/* The descriptor and table entry of an attribute name; NULL when not settable. */
static const ProtobufCFieldDescriptor *lookup(const char *attr, const struct dfield **df, char *err,
                                              size_t err_len)
{
    const ProtobufCMessageDescriptor *d = &proto_config__descriptor;
    char name[EFENTO_KEY_MAX];
    unsigned i;
    size_t k;

    for (i = 0; attr != NULL && i < d->n_fields; i++) {
        efento_camel(d->fields[i].name, name, sizeof(name));
        if (strcmp(name, attr) != 0) {
            continue;
        }
        for (k = 0; k < sizeof(SETTABLE) / sizeof(SETTABLE[0]); k++) {
            if (SETTABLE[k].id == d->fields[i].id) {
                *df = &SETTABLE[k];
                return &d->fields[i];
            }
        }
    }
    efento_errf(err, err_len, "%s: not a settable configuration field", attr ? attr : "(null)");
    return NULL;
}

static void *member(struct efento_downlink *dl, const ProtobufCFieldDescriptor *f)
{
    return (char *)dl->cfg + f->offset;
}

int efento_downlink_set_uint(struct efento_downlink *dl, const char *attr, uint64_t value,
                             char *err, size_t err_len)
{
    const struct dfield *df = NULL;
    const ProtobufCFieldDescriptor *f = lookup(attr, &df, err, err_len);
    uint32_t v = (uint32_t)value;
    int32_t i = (int32_t)value;

    if (dl == NULL || f == NULL) {
        return dl == NULL ? -EINVAL : -ENOENT;
    }
    if (df->kind != D_U32 && df->kind != D_BOOL && df->kind != D_ENUM) {
        efento_errf(err, err_len, "%s: not a number field", attr);
        return -EINVAL;
    }
    if (value > UINT32_MAX || ((v < df->min || v > df->max) && (df->alt == 0 || v != df->alt))) {
        efento_errf(err, err_len, "%s: %llu outside %u..%u", attr, (unsigned long long)value,
                    (unsigned)df->min, (unsigned)df->max);
        return -ERANGE;
    }
    if (df->kind == D_U32) {
        memcpy(member(dl, f), &v, sizeof(v));
    } else {
        memcpy(member(dl, f), &i, sizeof(i)); /* protobuf_c_boolean and enums are int */
    }
    return 0;
}

static int set_str(struct efento_downlink *dl, const ProtobufCFieldDescriptor *f,
                   const struct dfield *df, const char *value, char *err, size_t err_len)
{
    size_t n = strlen(value);
    char **slot = member(dl, f);
    char *copy;

    if (n < df->min || n > df->max || !efento_utf8_is_valid((const uint8_t *)value, n)) {
        efento_errf(err, err_len, "%s: needs %u..%u bytes of UTF-8", f->name, (unsigned)df->min,
                    (unsigned)df->max);
        return -ERANGE;
    }
    copy = malloc(n + 1);
    if (copy == NULL) {
        return -ENOMEM;
    }
    memcpy(copy, value, n + 1);
    if (*slot != protobuf_c_empty_string) {
        free(*slot);
    }
    *slot = copy;
    return 0;
}

static int set_bytes(struct efento_downlink *dl, const ProtobufCFieldDescriptor *f,
                     const struct dfield *df, const char *value, char *err, size_t err_len)
{
    ProtobufCBinaryData *bin = member(dl, f);
    uint8_t tmp[EFENTO_BYTES_MAX];
    size_t n = 0;

    if (efento_base64_decode(value, tmp, df->max, &n) != 0 || n < df->min) {
        efento_errf(err, err_len, "%s: needs base64 of %u..%u bytes", f->name, (unsigned)df->min,
                    (unsigned)df->max);
        return -ERANGE;
    }
    free(bin->data);
    bin->len = 0;
    bin->data = malloc(n);
    if (bin->data == NULL) {
        return -ENOMEM;
    }
    memcpy(bin->data, tmp, n);
    bin->len = n;
    return 0;
}

int efento_downlink_set_string(struct efento_downlink *dl, const char *attr, const char *value,
                               char *err, size_t err_len)
{
    const struct dfield *df = NULL;
    const ProtobufCFieldDescriptor *f = lookup(attr, &df, err, err_len);
    const ProtobufCEnumValue *ev;

    if (dl == NULL || value == NULL || f == NULL) {
        return f == NULL ? -ENOENT : -EINVAL;
    }
    switch (df->kind) {
    case D_STR:
        return set_str(dl, f, df, value, err, err_len);
    case D_BYTES:
        return set_bytes(dl, f, df, value, err, err_len);
    case D_ENUM:
        ev = protobuf_c_enum_descriptor_get_value_by_name(f->descriptor, value);
        if (ev == NULL) {
            efento_errf(err, err_len, "%s: unknown value %s", attr, value);
            return -ERANGE;
        }
        return efento_downlink_set_uint(dl, attr, (uint64_t)(uint32_t)ev->value, err, err_len);
    default:
        efento_errf(err, err_len, "%s: not a text field", attr);
        return -EINVAL;
    }
}

int efento_downlink_set_uints(struct efento_downlink *dl, const char *attr, const uint32_t *v,
                              size_t n, char *err, size_t err_len)
{
    const struct dfield *df = NULL;
    const ProtobufCFieldDescriptor *f = lookup(attr, &df, err, err_len);
    uint32_t *arr, **slot;
    size_t *count;
    size_t i;

    if (dl == NULL || (v == NULL && n > 0) || f == NULL) {
        return f == NULL ? -ENOENT : -EINVAL;
    }
    if (df->kind != D_U32S) {
        efento_errf(err, err_len, "%s: not a number list", attr);
        return -EINVAL;
    }
    if (n < df->min || n > df->max) {
        efento_errf(err, err_len, "%s: needs %u..%u items", attr, (unsigned)df->min,
                    (unsigned)df->max);
        return -ERANGE;
    }
    for (i = 0; i < n; i++) {
        if (v[i] > df->alt) {
            efento_errf(err, err_len, "%s: item %zu above %u", attr, i, (unsigned)df->alt);
            return -ERANGE;
        }
    }
    arr = malloc(n * sizeof(*arr));
    if (arr == NULL) {
        return -ENOMEM;
    }
    memcpy(arr, v, n * sizeof(*arr));
    slot = member(dl, f);
    count = (void *)((char *)dl->cfg + f->quantifier_offset);
    free(*slot);
    *slot = arr;
    *count = n;
    return 0;
}

static int32_t *copy_params(const int32_t *p, size_t n)
{
    int32_t *c = malloc(n > 0 ? n * sizeof(*c) : 1);

    if (c != NULL && n > 0) {
        memcpy(c, p, n * sizeof(*c));
    }
    return c;
}

static void free_rules(ProtoRule **arr, size_t n)
{
    size_t i;

    for (i = 0; arr != NULL && i < n; i++) {
        if (arr[i] != NULL) {
            proto_rule__free_unpacked(arr[i], NULL);
        }
    }
    free(arr);
}

static int check_rule(const struct efento_rule *r, size_t i, char *err, size_t err_len)
{
    if (r->condition < 1 || r->condition > 8 || r->action < 0 || r->action > 4 ||
        r->n_parameters > sizeof(r->parameters) / sizeof(r->parameters[0])) {
        efento_errf(err, err_len, "rules[%zu]: condition 1..8, action 0..4, <= 8 parameters", i);
        return -ERANGE;
    }
    return 0;
}

int efento_downlink_set_rules(struct efento_downlink *dl, const struct efento_rule *rules, size_t n,
                              char *err, size_t err_len)
{
    ProtoRule **arr = NULL;
    size_t i;
    int rc = 0;

    if (dl == NULL || (rules == NULL && n > 0)) {
        return -EINVAL;
    }
    if (n > 16) {
        efento_errf(err, err_len, "rules: at most 16");
        return -ERANGE;
    }
    for (i = 0; rc == 0 && i < n; i++) {
        rc = check_rule(&rules[i], i, err, err_len);
    }
    arr = rc == 0 ? calloc(n > 0 ? n : 1, sizeof(*arr)) : NULL;
    if (rc == 0 && arr == NULL) {
        rc = -ENOMEM;
    }
    for (i = 0; rc == 0 && i < n; i++) {
        arr[i] = malloc(sizeof(*arr[i]));
        if (arr[i] == NULL) {
            rc = -ENOMEM;
            break;
        }
        proto_rule__init(arr[i]);
        arr[i]->channel_mask = rules[i].channel_mask;
        arr[i]->condition = (Condition)rules[i].condition;
        arr[i]->action = (Action)rules[i].action;
        arr[i]->parameters = copy_params(rules[i].parameters, rules[i].n_parameters);
        arr[i]->n_parameters = arr[i]->parameters != NULL ? rules[i].n_parameters : 0;
        rc = arr[i]->parameters != NULL ? 0 : -ENOMEM;
    }
    if (rc != 0) {
        free_rules(arr, n);
        return rc;
    }
    free_rules(dl->cfg->rules, dl->cfg->n_rules);
    dl->cfg->rules = arr;
    dl->cfg->n_rules = n;
    return 0;
}

static void free_calendars(ProtoCalendar **arr, size_t n)
{
    size_t i;

    for (i = 0; arr != NULL && i < n; i++) {
        if (arr[i] != NULL) {
            proto_calendar__free_unpacked(arr[i], NULL);
        }
    }
    free(arr);
}

int efento_downlink_set_calendars(struct efento_downlink *dl, const struct efento_calendar *cals,
                                  size_t n, char *err, size_t err_len)
{
    ProtoCalendar **arr = NULL;
    size_t i;
    int rc = 0;

    if (dl == NULL || (cals == NULL && n > 0)) {
        return -EINVAL;
    }
    for (i = 0; i < n; i++) {
        if (cals[i].type < 1 || cals[i].type > 2 || cals[i].n_parameters > 8) {
            efento_errf(err, err_len, "calendars[%zu]: type 1..2, <= 8 parameters", i);
            return -ERANGE;
        }
    }
    if (n > 6) {
        efento_errf(err, err_len, "calendars: at most 6");
        return -ERANGE;
    }
    arr = calloc(n > 0 ? n : 1, sizeof(*arr));
    rc = arr != NULL ? 0 : -ENOMEM;
    for (i = 0; rc == 0 && i < n; i++) {
        arr[i] = malloc(sizeof(*arr[i]));
        if (arr[i] == NULL) {
            rc = -ENOMEM;
            break;
        }
        proto_calendar__init(arr[i]);
        arr[i]->rule_mask = cals[i].rule_mask;
        arr[i]->type = (CalendarType)cals[i].type;
        arr[i]->parameters = copy_params(cals[i].parameters, cals[i].n_parameters);
        arr[i]->n_parameters = arr[i]->parameters != NULL ? cals[i].n_parameters : 0;
        rc = arr[i]->parameters != NULL ? 0 : -ENOMEM;
    }
    if (rc != 0) {
        free_calendars(arr, n);
        return rc;
    }
    free_calendars(dl->cfg->calendars, dl->cfg->n_calendars);
    dl->cfg->calendars = arr;
    dl->cfg->n_calendars = n;
    return 0;
}

static void free_outputs(ProtoOutputControlState **arr, size_t n)
{
    size_t i;

    for (i = 0; arr != NULL && i < n; i++) {
        if (arr[i] != NULL) {
            proto_output_control_state__free_unpacked(arr[i], NULL);
        }
    }
    free(arr);
}

int efento_downlink_set_output_control(struct efento_downlink *dl, const uint32_t *channel_index,
                                       const uint32_t *channel_state, size_t n, char *err,
                                       size_t err_len)
{
    ProtoOutputControlState **arr;
    size_t i;
    int rc;

    if (dl == NULL || ((channel_index == NULL || channel_state == NULL) && n > 0)) {
        return -EINVAL;
    }
    for (i = 0; i < n; i++) {
        if (channel_index[i] > 5 || channel_state[i] < 1 || channel_state[i] > 2) {
            efento_errf(err, err_len, "setOutputControlStateRequest[%zu]: index 0..5, state 1..2",
                        i);
            return -ERANGE;
        }
    }
    if (n > 3) {
        efento_errf(err, err_len, "setOutputControlStateRequest: at most 3 items");
        return -ERANGE;
    }
    arr = calloc(n > 0 ? n : 1, sizeof(*arr));
    rc = arr != NULL ? 0 : -ENOMEM;
    for (i = 0; rc == 0 && i < n; i++) {
        arr[i] = malloc(sizeof(*arr[i]));
        if (arr[i] == NULL) {
            rc = -ENOMEM;
            break;
        }
        proto_output_control_state__init(arr[i]);
        arr[i]->channel_index = channel_index[i];
        arr[i]->channel_state = channel_state[i];
    }
    if (rc != 0) {
        free_outputs(arr, n);
        return rc;
    }
    free_outputs(dl->cfg->set_output_control_state_request,
                 dl->cfg->n_set_output_control_state_request);
    dl->cfg->set_output_control_state_request = arr;
    dl->cfg->n_set_output_control_state_request = n;
    return 0;
}

static bool minutes_ok(const uint32_t *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (v[i] < 1 || v[i] > 255) {
            return false;
        }
    }
    return n <= 6;
}

static uint32_t *copy_u32(const uint32_t *v, size_t n)
{
    uint32_t *c = malloc(n > 0 ? n * sizeof(*c) : 1);

    if (c != NULL && n > 0) {
        memcpy(c, v, n * sizeof(*c));
    }
    return c;
}

int efento_downlink_set_network_search(struct efento_downlink *dl,
                                       const struct efento_network_search *ns, char *err,
                                       size_t err_len)
{
    ProtoNetworkSearch *m;

    if (dl == NULL || ns == NULL) {
        return -EINVAL;
    }
    if (!minutes_ok(ns->ok_min, ns->n_ok) || !minutes_ok(ns->not_ok_min, ns->n_not_ok)) {
        efento_errf(err, err_len, "networkSearch: at most 6 times of 1..255 minutes per schema");
        return -ERANGE;
    }
    m = malloc(sizeof(*m));
    if (m == NULL) {
        return -ENOMEM;
    }
    proto_network_search__init(m);
    m->time_schema_last_registration_ok = copy_u32(ns->ok_min, ns->n_ok);
    m->time_schema_last_registration_not_ok = copy_u32(ns->not_ok_min, ns->n_not_ok);
    m->n_time_schema_last_registration_ok = m->time_schema_last_registration_ok ? ns->n_ok : 0;
    m->n_time_schema_last_registration_not_ok =
        m->time_schema_last_registration_not_ok ? ns->n_not_ok : 0;
    m->disable_period_base = ns->disable_period_base_min;
    m->counter_max = ns->counter_max;
    if (m->time_schema_last_registration_ok == NULL ||
        m->time_schema_last_registration_not_ok == NULL) {
        proto_network_search__free_unpacked(m, NULL);
        return -ENOMEM;
    }
    if (dl->cfg->network_search != NULL) {
        proto_network_search__free_unpacked(dl->cfg->network_search, NULL);
    }
    dl->cfg->network_search = m;
    return 0;
}

int efento_downlink_set_ble_advertising_period(struct efento_downlink *dl, uint32_t mode,
                                               uint32_t normal, uint32_t fast, char *err,
                                               size_t err_len)
{
    ProtoBleAdvertisingPeriod *m;

    if (dl == NULL) {
        return -EINVAL;
    }
    if (mode < 1 || mode > 3 || normal < 32 || normal > 16384 || fast < 32 || fast > 16384) {
        efento_errf(err, err_len, "bleAdvertisingPeriod: mode 1..3, normal and fast 32..16384");
        return -ERANGE;
    }
    m = malloc(sizeof(*m));
    if (m == NULL) {
        return -ENOMEM;
    }
    proto_ble_advertising_period__init(m);
    m->mode = (BleAdvertisingPeriodMode)mode;
    m->normal = normal;
    m->fast = fast;
    if (dl->cfg->ble_advertising_period != NULL) {
        proto_ble_advertising_period__free_unpacked(dl->cfg->ble_advertising_period, NULL);
    }
    dl->cfg->ble_advertising_period = m;
    return 0;
}

bool efento_downlink_is_empty(const struct efento_downlink *dl)
{
    return efento_downlink_size(dl) == 0;
}

size_t efento_downlink_size(const struct efento_downlink *dl)
{
    return dl != NULL ? proto_config__get_packed_size(dl->cfg) : 0;
}

int efento_downlink_encode(const struct efento_downlink *dl, uint8_t *buf, size_t cap,
                           size_t *len_out)
{
    size_t n;

    if (dl == NULL || len_out == NULL || (buf == NULL && cap > 0)) {
        return -EINVAL;
    }
    *len_out = 0;
    n = proto_config__get_packed_size(dl->cfg);
    if (n > cap) {
        return -ERANGE;
    }
    *len_out = proto_config__pack(dl->cfg, buf);
    return 0;
}
