/* SPDX-License-Identifier: MIT */
/*
 * gw_protoc.c - runs protoc on a profile's schemas (DESIGN.md "Dynamic Protobuf": nbgate has no
 * .proto grammar of its own). Called when a profile is saved: by the CLI and the admin API.
 *
 * One run:
 *   mkdtemp $TMPDIR/nbgate-protoc-XXXXXX (0700) -> FILE.proto written with O_EXCL, mode 0600
 *   fork -> child: chdir(dir), stdin /dev/null, stdout+stderr -> pipe, other descriptors closed,
 *           execv(protoc, {--proto_path=., --descriptor_set_out=out.pb, --include_imports, FILE})
 *   parent: reads the pipe (at most OUTPUT_MAX bytes kept) until EOF or GW_PROTOC_TIMEOUT_MS
 *           (then SIGKILL), waitpid, reads out.pb (at most PROFILE_PROTO_MAX_DESC_BYTES),
 *           removes the directory.
 * Never a shell (system/popen are banned): the schema text is only ever file content. The
 * program is looked up on PATH in the parent, so that the child calls nothing but
 * async-signal-safe functions between fork and exec (the daemon is multi-threaded). Running
 * protoc in the schema's own directory makes its messages read "telemetry.proto:3:5: ...".
 */
#include "gateway/gw_protoc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define OUTPUT_MAX 8192 /* bytes of protoc's messages kept */

static const char *const schema_files[PROFILE_SCHEMA_COUNT] = {
    "telemetry.proto",
    "attributes.proto",
    "rpc_request.proto",
    "rpc_response.proto",
};

/* The program to run: protoc as given when it has a '/', else the first match on PATH. */
static int find_program(const char *name, char *out, size_t out_len)
{
    const char *path = getenv("PATH"), *p, *colon;
    size_t dir_len;
    int n;

    if (strchr(name, '/') != NULL) {
        n = snprintf(out, out_len, "%s", name);
        return n > 0 && (size_t)n < out_len ? 0 : -ENAMETOOLONG;
    }
    for (p = path != NULL ? path : "/usr/local/bin:/usr/bin:/bin"; *p != '\0'; p = colon + 1) {
        colon = strchr(p, ':');
        colon = colon != NULL ? colon : p + strlen(p);
        dir_len = (size_t)(colon - p);
        n = snprintf(out, out_len, "%.*s/%s", (int)dir_len, dir_len > 0 ? p : ".", name);
        if (n > 0 && (size_t)n < out_len && access(out, X_OK) == 0) {
            return 0;
        }
        if (*colon == '\0') {
            break;
        }
    }
    return -ENOENT;
}

static int write_file(const char *path, const char *text, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    size_t done = 0;
    ssize_t n;
    int rc = 0;

    if (fd < 0) {
        return -errno;
    }
    while (rc == 0 && done < len) {
        n = write(fd, text + done, len - done);
        if (n < 0 && errno != EINTR) {
            rc = -errno;
        } else if (n > 0) {
            done += (size_t)n;
        }
    }
    if (close(fd) != 0 && rc == 0) {
        rc = -errno;
    }
    return rc;
}

/* Reads a whole file of at most max bytes into a heap buffer. */
static int read_file(const char *path, size_t max, uint8_t **out, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    size_t done = 0;
    ssize_t n;
    int rc = 0;

    *out = NULL;
    *out_len = 0;
    if (fd < 0) {
        return -errno;
    }
    if (fstat(fd, &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > max) {
        rc = -EFBIG;
        goto out;
    }
    *out = malloc((size_t)st.st_size + 1);
    if (*out == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    while (rc == 0 && done < (size_t)st.st_size) {
        n = read(fd, *out + done, (size_t)st.st_size - done);
        if (n < 0 && errno != EINTR) {
            rc = -errno;
        } else if (n == 0) {
            break;
        } else if (n > 0) {
            done += (size_t)n;
        }
    }
    *out_len = done;
out:
    (void)close(fd);
    if (rc != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* In the child: only async-signal-safe calls, then exec. Never returns. */
static void child(const char *dir, const char *program, const char *file, int out_fd)
{
    char *const argv[] = { (char *)(uintptr_t) "protoc",
                           (char *)(uintptr_t) "--proto_path=.",
                           (char *)(uintptr_t) "--descriptor_set_out=out.pb",
                           (char *)(uintptr_t) "--include_imports",
                           (char *)(uintptr_t)file,
                           NULL };
    int devnull = open("/dev/null", O_RDONLY);
    int fd;

    if (chdir(dir) != 0 || devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_fd, 1) < 0 ||
        dup2(out_fd, 2) < 0) {
        _exit(126);
    }
    if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
        for (fd = 3; fd < 1024; fd++) {
            (void)close(fd);
        }
    }
    execv(program, argv);
    _exit(127);
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Collects the child's output until EOF or the deadline; returns -ETIMEDOUT on the latter. */
static int collect_output(int fd, char *buf, size_t cap, size_t *len)
{
    int64_t deadline = mono_ms() + GW_PROTOC_TIMEOUT_MS, left;
    struct pollfd pfd = { fd, POLLIN, 0 };
    char scratch[1024];
    ssize_t n;

    *len = 0;
    for (;;) {
        left = deadline - mono_ms();
        if (left <= 0) {
            return -ETIMEDOUT;
        }
        if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
            return -EIO;
        }
        n = read(fd, scratch, sizeof(scratch));
        if (n == 0) {
            return 0;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                continue;
            }
            return -EIO;
        }
        if (*len < cap) {
            size_t k = (size_t)n < cap - *len ? (size_t)n : cap - *len;
            memcpy(buf + *len, scratch, k);
            *len += k;
        }
    }
}

/* Runs protoc in dir on file; *status is the wait status. Output goes to out (NUL-terminated). */
static int run_protoc(const char *program, const char *dir, const char *file, int *status,
                      char *out, size_t out_cap)
{
    int fds[2] = { -1, -1 };
    size_t out_len = 0;
    pid_t pid;
    int rc;

    if (pipe(fds) != 0) {
        return -errno;
    }
    (void)fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    (void)fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid = fork();
    if (pid == 0) {
        child(dir, program, file, fds[1]);
    }
    (void)close(fds[1]);
    if (pid < 0) {
        rc = -errno;
        (void)close(fds[0]);
        return rc;
    }
    rc = collect_output(fds[0], out, out_cap - 1, &out_len);
    out[out_len] = '\0';
    (void)close(fds[0]);
    if (rc != 0) {
        (void)kill(pid, SIGKILL);
    }
    while (waitpid(pid, status, 0) < 0) {
        if (errno != EINTR) {
            return rc != 0 ? rc : -EIO;
        }
    }
    return rc;
}

/* protoc's messages without trailing newlines, into err. */
static void copy_output(const char *out, char *err, size_t err_len)
{
    size_t n = strlen(out);

    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r')) {
        n--;
    }
    (void)snprintf(err, err_len, "%.*s", (int)n, out);
}

static int compile_in(const char *program, const char *dir, const char *file_name, const char *text,
                      size_t len, uint8_t **fds, size_t *fds_len, char *err, size_t err_len)
{
    char path[PATH_MAX], out[OUTPUT_MAX + 1];
    int status = 0, rc;

    (void)snprintf(path, sizeof(path), "%s/%s", dir, file_name);
    rc = write_file(path, text, len);
    if (rc != 0) {
        (void)snprintf(err, err_len, "cannot write %s: %s", path, strerror(-rc));
        return -EIO;
    }
    rc = run_protoc(program, dir, file_name, &status, out, sizeof(out));
    if (rc != 0) {
        (void)snprintf(err, err_len, "protoc %s",
                       rc == -ETIMEDOUT ? "took too long and was stopped" : "could not be run");
        return rc == -ETIMEDOUT ? rc : -EIO;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) >= 126) {
        (void)snprintf(err, err_len, "cannot run %s (exit status %d)", program,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -EIO;
    }
    if (WEXITSTATUS(status) != 0) {
        copy_output(out[0] != '\0' ? out : "protoc failed without a message", err, err_len);
        return -EINVAL;
    }
    (void)snprintf(path, sizeof(path), "%s/out.pb", dir);
    rc = read_file(path, PROFILE_PROTO_MAX_DESC_BYTES, fds, fds_len);
    if (rc != 0) {
        (void)snprintf(err, err_len, "cannot read protoc's descriptor set: %s", strerror(-rc));
        return rc == -ENOMEM ? rc : -EIO;
    }
    return 0;
}

int gw_protoc_compile(const char *protoc, const char *file_name, const char *text, size_t len,
                      uint8_t **fds, size_t *fds_len, char *err, size_t err_len)
{
    char program[PATH_MAX], dir[PATH_MAX / 2], path[PATH_MAX];
    const char *tmp = getenv("TMPDIR");
    int rc;

    *fds = NULL;
    *fds_len = 0;
    if (strchr(file_name, '/') != NULL || file_name[0] == '.') {
        (void)snprintf(err, err_len, "invalid schema file name");
        return -EINVAL;
    }
    if (find_program(protoc != NULL ? protoc : "protoc", program, sizeof(program)) != 0) {
        (void)snprintf(err, err_len, "cannot run %s: not found (install protobuf-compiler)",
                       protoc != NULL ? protoc : "protoc");
        return -EIO;
    }
    rc = snprintf(dir, sizeof(dir), "%s/nbgate-protoc-XXXXXX",
                  tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
    if (rc < 0 || (size_t)rc >= sizeof(dir) - 32 || mkdtemp(dir) == NULL) {
        (void)snprintf(err, err_len, "cannot create a temporary directory: %s", strerror(errno));
        return -EIO;
    }
    rc = compile_in(program, dir, file_name, text, len, fds, fds_len, err, err_len);
    (void)snprintf(path, sizeof(path), "%s/%s", dir, file_name);
    (void)unlink(path);
    (void)snprintf(path, sizeof(path), "%s/out.pb", dir);
    (void)unlink(path);
    (void)rmdir(dir);
    return rc;
}

int gw_protoc_profile(const char *protoc, const struct profile_config *p, uint8_t **blob,
                      size_t *blob_len, char *err, size_t err_len)
{
    uint8_t *sets[PROFILE_SCHEMA_COUNT] = { NULL };
    size_t lens[PROFILE_SCHEMA_COUNT] = { 0 };
    struct profile_proto_schema *s = NULL;
    char why[1024];
    int i, rc = 0;

    *blob = NULL;
    *blob_len = 0;
    if (p->payload_type != PROFILE_PAYLOAD_PROTOBUF || p->device_type != PROFILE_DEVICE_DEFAULT) {
        return 0;
    }
    for (i = 0; rc == 0 && i < PROFILE_SCHEMA_COUNT; i++) {
        enum profile_schema_role role = (enum profile_schema_role)i;
        rc = gw_protoc_compile(protoc, schema_files[i], p->schema[i], strlen(p->schema[i]),
                               &sets[i], &lens[i], why, sizeof(why));
        if (rc == 0) {
            rc = profile_proto_schema_load(sets[i], lens[i], role, &s, why, sizeof(why));
            profile_proto_schema_free(s);
            s = NULL;
        }
        if (rc != 0) {
            (void)snprintf(err, err_len, "%s: %s", profile_schema_member(role), why);
        }
    }
    if (rc == 0) {
        rc = profile_schemas_pack((const uint8_t *const *)sets, lens, blob, blob_len);
    }
    for (i = 0; i < PROFILE_SCHEMA_COUNT; i++) {
        free(sets[i]);
    }
    return rc;
}
