/* SPDX-License-Identifier: MIT */
/*
 * fuzz_web_csv.c - libFuzzer entry for the bulk device import's pure parts (web/web_csv.c): the
 * input as a whole request body ({"file", "mapping"}) and, when it is one, its file with its
 * delimiter; the raw input as CSV with ',' and ';'. Every cell is typed. Besides the sanitizers
 * it aborts on a broken contract: line numbers not counting up from 1, more cells handed over
 * than kept, a typed value that is not what its cell says (a JSON value that does not parse).
 */
#include <stdlib.h>
#include <string.h>

#include "web/web_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_record(void *arg, size_t line, char **cells, size_t n_cells)
{
    size_t *last = arg;
    size_t i, kept = n_cells < WEB_CSV_MAX_COLUMNS ? n_cells : WEB_CSV_MAX_COLUMNS;
    struct profile_value v;
    char *heap = NULL;
    json_t *j;

    if (line != *last + 1 || n_cells == 0) {
        abort();
    }
    *last = line;
    for (i = 0; i < kept; i++) {
        if (strlen(cells[i]) > WEB_CSV_MAX_CELL_BYTES || cells[i][0] == '\0' ||
            web_csv_cell_value(cells[i], &v, &heap) != 0) {
            continue;
        }
        if (v.type == PROFILE_VT_JSON) {
            j = json_loads(v.s, 0, NULL);
            if (j == NULL) {
                abort();
            }
            json_decref(j);
        }
        free(heap);
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct web_csv_request r;
    const char *text = (const char *)data;
    size_t last = 0;
    char err[256];

    if (size > 262144) {
        return 0;
    }
    if (web_csv_request_parse(text, size, &r, err, sizeof(err)) == 0) {
        if (r.n_cols == 0 || r.n_cols > WEB_CSV_MAX_COLUMNS) {
            abort();
        }
        (void)web_csv_parse(r.file, r.file_len, r.delimiter, on_record, &last, err, sizeof(err));
        web_csv_request_fini(&r);
    }
    last = 0;
    (void)web_csv_parse(text, size, ',', on_record, &last, err, sizeof(err));
    last = 0;
    (void)web_csv_parse(text, size, ';', on_record, &last, err, sizeof(err));
    return 0;
}
