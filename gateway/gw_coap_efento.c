/* SPDX-License-Identifier: MIT */
/* gw_coap_efento.c - Efento sensors' resources (issue #6): not served yet. */
#include "gateway/gw_coap_internal.h"

void gw_coap_efento(struct gw_req *r, struct gw_answer *a)
{
    (void)r;
    /* TODO(#6): measurements, device info, configuration and time. */
    gw_coap_answer(a, COAP_RESPONSE_CODE_NOT_FOUND, "Efento resources are not served yet");
}
