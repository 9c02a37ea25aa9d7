/* SPDX-License-Identifier: MIT */
/*
 * efento_devinfo.c - ProtoDeviceInfo (POST i) -> one set of telemetry values at the receive
 * time, specs/efento.md 7.9, with ThingsBoard's key names in ThingsBoard's order:
 *   sw_version; memory_statistics by index (22 keys, 7 of them dates); modem type, SIM, modem
 *   firmware, modem identification, modem_statistics (4); modem parameters by the layout of the
 *   modem type (BC660: 22, SHARED_MODEM: 4, anything else the BC66 layout: 34); runtime info.
 * nbgate's differences (R4(d), (e)): in the BC66 layout item 0 is sc_EARFCN and item 1
 * sc_EARNFCN_offset (ThingsBoard swaps them; the key names stay ThingsBoard's); every list is
 * decoded as far as it is present, extra items ignored, a missing modem or runtime sub-message
 * just omits its keys; dates are UTC with English month names. All values are LONG except dates
 * and names (STRING, type-cast per 7.11 when enabled).
 */
#include "efento/efento.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "efento/efento_internal.h"

/* memory_statistics keys; a leading '@' marks a date. */
static const char *const MEM_KEYS[] = {
    "nv_storage_status",
    "@timestamp_of_the_end_of_collecting_statistics",
    "capacity_of_memory_in_bytes",
    "used_space_in_bytes",
    "size_of_invalid_packets_in_bytes",
    "size_of_corrupted_packets_in_bytes",
    "number_of_valid_packets",
    "number_of_invalid_packets",
    "number_of_corrupted_packets",
    "number_of_all_samples_for_channel_1",
    "number_of_all_samples_for_channel_2",
    "number_of_all_samples_for_channel_3",
    "number_of_all_samples_for_channel_4",
    "number_of_all_samples_for_channel_5",
    "number_of_all_samples_for_channel_6",
    "@timestamp_of_the_first_binary_measurement",
    "@timestamp_of_the_last_binary_measurement",
    "@timestamp_of_the_first_binary_measurement_sent",
    "@timestamp_of_the_first_continuous_measurement",
    "@timestamp_of_the_last_continuous_measurement",
    "@timestamp_of_the_last_continuous_measurement_sent",
    "nvm_write_counter",
};

/* BC66 / BC66-NA and unknown modem types, in Efento's item order (R4(d)). */
static const char *const BC66_KEYS[] = {
    "sc_EARFCN",
    "sc_EARNFCN_offset",
    "sc_PCI",
    "sc_Cell_id",
    "sc_RSRP",
    "sc_RSRQ",
    "sc_RSSI",
    "sc_SINR",
    "sc_Band",
    "sc_TAC",
    "sc_ECL",
    "sc_TX_PWR",
    "op_mode",
    "nc_EARFCN",
    "nc_EARNFCN_offset",
    "nc_PCI",
    "nc_RSRP",
    "RLC_UL_BLER",
    "RLC_DL_BLER",
    "MAC_UL_BLER",
    "MAC_DL_BLER",
    "MAC_UL_TOTAL_BYTES",
    "MAC_DL_TOTAL_BYTES",
    "MAC_UL_total_HARQ_Tx",
    "MAC_DL_total_HARQ_Tx",
    "MAC_UL_HARQ_re_Tx",
    "MAC_DL_HARQ_re_Tx",
    "RLC_UL_tput",
    "RLC_DL_tput",
    "MAC_UL_tput",
    "MAC_DL_tput",
    "sleep_duration",
    "rx_time",
    "tx_time",
};

static const char *const BC660_KEYS[] = {
    "sc_EARFCN", "sc_EARNFCN_offset", "sc_PCI",     "sc_Cell_id",  "sc_RSRP", "sc_RSRQ",
    "sc_RSSI",   "sc_SINR",           "sc_Band",    "sc_TAC",      "sc_ECL",  "sc_TX_PWR",
    "op_mode",   "nc_EARFCN",         "nc_PCI",     "nc_RSRP",     "nc_RSRQ", "sleep_duration",
    "rx_time",   "tx_time",           "PLMN_state", "select_PLMN",
};

static const char *const SHARED_KEYS[] = { "RSRP", "RSRQ", "RSSI", "SINR" };

static const char *const MODEM_STAT_KEYS[] = { "modem_transmissions_count",
                                               "modem_time_since_last_devinfo",
                                               "modem_total_psm_time", "modem_total_active_time" };

static const char *const COUNTER_KEYS[] = { "counter_of_confirmable_messages_attempts",
                                            "counter_of_non_confirmable_messages_attempts",
                                            "counter_of_succeeded_messages" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

struct dctx {
    struct efento_reading *out;
    size_t cap;
    size_t n;
    int64_t rx_ms;
    bool is_cast;
    bool is_full;
};

static struct efento_reading *next(struct dctx *c, const char *key)
{
    struct efento_reading *r;

    if (c->n >= c->cap) {
        c->is_full = true;
        return NULL;
    }
    r = &c->out[c->n++];
    memset(r, 0, sizeof(*r));
    r->ts_ms = c->rx_ms;
    (void)snprintf(r->key, sizeof(r->key), "%s", key);
    return r;
}

static void add_long(struct dctx *c, const char *key, int64_t v)
{
    struct efento_reading *r = next(c, key);

    if (r != NULL) {
        r->type = EFENTO_LONG;
        r->v.l = v;
    }
}

static void add_str(struct dctx *c, const char *key, const char *v)
{
    struct efento_reading *r = next(c, key);

    if (r != NULL) {
        efento_reading_set_str(r, v, c->is_cast);
    }
}

static void add_date(struct dctx *c, const char *key, uint32_t v)
{
    char date[40];

    efento_fmt_date(v, date, sizeof(date));
    add_str(c, key, date);
}

/* A uint32 list by a key table: '@' keys are dates. */
static void add_u32_list(struct dctx *c, const char *const *keys, size_t n_keys, const uint32_t *v,
                         size_t n)
{
    size_t i;

    for (i = 0; i < n && i < n_keys; i++) {
        if (keys[i][0] == '@') {
            add_date(c, keys[i] + 1, v[i]);
        } else {
            add_long(c, keys[i], (int64_t)v[i]);
        }
    }
}

static void add_enum(struct dctx *c, const char *key, const ProtobufCEnumDescriptor *ed, int v)
{
    const char *name = efento_enum_name(ed, v);

    add_str(c, key, name != NULL ? name : "UNRECOGNIZED");
}

static void add_modem(struct dctx *c, const ProtoModem *md)
{
    const char *const *keys = BC66_KEYS;
    size_t n_keys = COUNT(BC66_KEYS), i;

    add_enum(c, "modem_types", &modem_type__descriptor, (int)md->type);
    add_str(c, "sim_card_identification", md->sim_card_identification);
    add_enum(c, "firmware_version", &modem_firmware_version__descriptor, (int)md->firmware_version);
    add_str(c, "modem_identification", md->modem_identification);
    add_u32_list(c, MODEM_STAT_KEYS, COUNT(MODEM_STAT_KEYS), md->modem_statistics,
                 md->n_modem_statistics);
    if (md->type == MODEM_TYPE__MODEM_TYPE_BC660) {
        keys = BC660_KEYS;
        n_keys = COUNT(BC660_KEYS);
    } else if (md->type == MODEM_TYPE__MODEM_TYPE_SHARED_MODEM) {
        keys = SHARED_KEYS;
        n_keys = COUNT(SHARED_KEYS);
    }
    for (i = 0; i < md->n_parameters && i < n_keys; i++) {
        add_long(c, keys[i], (int64_t)md->parameters[i]);
    }
}

static void add_runtime(struct dctx *c, const ProtoRuntime *rt)
{
    add_date(c, "battery_reset_timestamp", rt->battery_reset_timestamp);
    add_long(c, "max_mcu_temp", (int64_t)rt->max_mcu_temperature);
    add_long(c, "mcu_temp", (int64_t)rt->mcu_temperature);
    add_u32_list(c, COUNTER_KEYS, COUNT(COUNTER_KEYS), rt->message_counters,
                 rt->n_message_counters);
    add_long(c, "min_battery_mcu_temp", (int64_t)rt->min_battery_mcu_temperature);
    add_long(c, "min_battery_voltage", (int64_t)rt->battery_voltage);
    add_long(c, "min_mcu_temp", (int64_t)rt->min_mcu_temperature);
    add_long(c, "runtime_errors", (int64_t)rt->n_runtime_errors);
    add_long(c, "up_time", (int64_t)rt->up_time);
}

static void add_all(struct dctx *c, const ProtoDeviceInfo *di)
{
    add_long(c, "sw_version", (int64_t)di->sw_version);
    add_u32_list(c, MEM_KEYS, COUNT(MEM_KEYS), di->memory_statistics, di->n_memory_statistics);
    if (di->modem != NULL) {
        add_modem(c, di->modem);
    }
    if (di->runtime_info != NULL) {
        add_runtime(c, di->runtime_info);
    }
}

int efento_device_info_decode(const uint8_t *buf, size_t len, const struct efento_opts *opts,
                              int64_t rx_ms, struct efento_ident *id, struct efento_reading *out,
                              size_t cap, size_t *n_out, char *err, size_t err_len)
{
    struct efento_opts o;
    struct efento_alloc a;
    ProtoDeviceInfo *di = NULL;
    uint8_t *merged = NULL;
    struct dctx c = { out, cap, 0, rx_ms, false, false };
    int rc;

    if ((buf == NULL && len > 0) || id == NULL || n_out == NULL || (out == NULL && cap > 0)) {
        return -EINVAL;
    }
    *n_out = 0;
    memset(id, 0, sizeof(*id));
    efento_opts_resolve(opts, &o);
    c.is_cast = o.is_type_cast;
    efento_alloc_init(&a, len);
    if (len > o.payload_bytes) {
        efento_errf(err, err_len, "payload of %zu bytes exceeds %zu", len, o.payload_bytes);
        rc = -ERANGE;
        goto out;
    }
    rc = efento_wire_check(&proto_device_info__descriptor, buf, len, &o, err, err_len);
    if (rc == 0) {
        rc = efento_wire_merge(&proto_device_info__descriptor, buf, len, &merged, &len);
    }
    if (rc != 0) {
        goto out;
    }
    di = proto_device_info__unpack(&a.base, len, merged);
    if (di == NULL) {
        rc = efento_alloc_unpack_error(&a, "ProtoDeviceInfo", err, err_len);
        goto out;
    }
    rc = efento_count_check(&di->base, &o, err, err_len);
    if (rc != 0) {
        goto out;
    }
    efento_hex_upper(di->serial_number.data, di->serial_number.len, id->serial, sizeof(id->serial));
    (void)snprintf(id->cloud_token, sizeof(id->cloud_token), "%s", di->cloud_token);
    add_all(&c, di);
    if (c.is_full) {
        efento_errf(err, err_len, "device info does not fit the array of %zu", cap);
        rc = -ERANGE;
        goto out;
    }
    *n_out = c.n;
out:
    if (di != NULL) {
        proto_device_info__free_unpacked(di, &a.base);
    }
    free(merged);
    return rc;
}
