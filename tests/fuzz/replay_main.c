/* SPDX-License-Identifier: MIT */
/*
 * replay_main.c - runs a libFuzzer entry point over every file of the given directories once, so
 * `make test` replays each fuzz corpus under ASan/UBSan with gcc and no libFuzzer runtime.
 * Prints one line per corpus and exits non-zero if a directory cannot be read or is empty.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;
    int rc = -1;

    if (f == NULL) {
        goto out;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        goto out;
    }
    buf = malloc((size_t)len + 1);
    if (buf == NULL || fread(buf, 1, (size_t)len, f) != (size_t)len) {
        goto out;
    }
    (void)LLVMFuzzerTestOneInput(buf, (size_t)len);
    rc = 0;
out:
    free(buf);
    if (f != NULL) {
        (void)fclose(f);
    }
    return rc;
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    int n = 0;

    if (d == NULL) {
        fprintf(stderr, "replay: cannot open %s\n", dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.') {
            continue;
        }
        (void)snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (replay_file(path) != 0) {
            fprintf(stderr, "replay: cannot read %s\n", path);
            (void)closedir(d);
            return -1;
        }
        n++;
    }
    (void)closedir(d);
    printf("replay %s: %d inputs\n", dir, n);
    return n > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (replay_dir(argv[i]) != 0) {
            return 1;
        }
    }
    return 0;
}
