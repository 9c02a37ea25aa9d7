/* SPDX-License-Identifier: MIT */
/*
 * powercut.c - LD_PRELOAD shim that lets a test simulate a power cut under a running process.
 *
 * Used by tests/helpers/powercut-selftest.sh and tests/integration/05-powercut.sh, never by
 * nbgate itself. With env POWERCUT_DIR=DIR (an existing directory), every regular file under DIR
 * that the process opens gets a "durable shadow" `<path>.pcshadow`: what a power cut would leave.
 *
 *   first open in this process  file existed: shadow = copy of it (what was on disk is durable)
 *                               file created: marker `<path>.pcabsent` (no durable state yet)
 *   write/pwrite/writev/...     real file only; the written 4 KiB blocks are marked dirty
 *   ftruncate, O_TRUNC          real file only; the smallest size since the last sync is kept
 *   fsync/fdatasync/syncfs/sync after the real call succeeds: shadow is cut to the smallest size,
 *                               set to the real size, and the dirty blocks are copied into it
 *   unlink                      shadow and marker go too (the unlink counts as durable)
 *
 * The power cut itself is SIGKILL followed by tests/helpers/powercut-restore.sh DIR, which
 * moves each shadow over its file, deletes files that never had a durable state and the `-shm`
 * files (SQLite rebuilds them). Writes go to the real file, so the process reads its own data.
 *
 * Invariants: dirty state belongs to a path (not a descriptor), so a sync through any descriptor
 * covers every write to the file; all state is guarded by one mutex, and a write marks its
 * blocks only after it completed, so a sync running at the same time never clears a mark it has
 * not copied. A sync copies whole blocks: any byte of a clean block equals the shadow.
 * dup/dup2/dup3 share the slot. Not modelled: directory entries (a file's name is durable with its
 * first sync, as on ext4), rename, fcntl(F_DUPFD), O_SYNC/O_DSYNC, writes through mmap (only
 * SQLite's -shm, which is dropped), torn sector writes. Descriptors beyond PC_MAX_FD abort the
 * process so a test cannot pass by accident. Real calls go to dlsym(RTLD_NEXT) (the sanitizer
 * interceptors, then libc); before that is resolved, and for the shim's own bookkeeping, raw system
 * calls are used.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PC_BLOCK_BYTES 4096
#define PC_MAX_FILES   64
#define PC_MAX_FD      65536
#define PC_COPY_BYTES  (64 * 1024)
#define PC_SHADOW_SUF  ".pcshadow"
#define PC_ABSENT_SUF  ".pcabsent"
#define PC_TMP_SUF     ".pctmp"

typedef void (*pc_fn)(void);

/* One file under POWERCUT_DIR that this process opened. */
struct pc_file {
    char path[PATH_MAX]; /* absolute path as opened */
    bool is_used;        /* slot holds a file */
    bool is_live;        /* false once the path was unlinked */
    unsigned n_fds;      /* descriptors mapped to this slot */
    off_t min_size;      /* smallest size since the last sync, bytes; -1 = not cut */
    uint64_t *dirty;     /* bit per PC_BLOCK_BYTES block written since the last sync */
    size_t dirty_words;  /* length of dirty, words */
};

static pthread_mutex_t pc_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pc_file pc_files[PC_MAX_FILES];
static int pc_fd_file[PC_MAX_FD]; /* slot index + 1, 0 = untracked; atomic access */
static unsigned char pc_buf[PC_COPY_BYTES];
static char pc_root[2][PATH_MAX]; /* POWERCUT_DIR as given (if absolute) and resolved */
static size_t pc_root_len[2];
static int pc_state; /* 0 = not initialised, 1 = disabled, 2 = enabled; atomic */
static _Thread_local bool pc_in_dlsym;

static void die(const char *what, const char *path)
{
    (void)fprintf(stderr, "powercut: %s: %s: %s\n", what, path, strerror(errno));
    abort();
}

/* The next definition of `name` after this library, or NULL while that cannot be asked yet. */
static pc_fn next_fn(pc_fn *slot, const char *name)
{
    pc_fn fn = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
    void *sym = NULL;

    if (fn != NULL || pc_in_dlsym) {
        goto out;
    }
    pc_in_dlsym = true;
    sym = dlsym(RTLD_NEXT, name);
    pc_in_dlsym = false;
    if (sym != NULL) {
        memcpy(&fn, &sym, sizeof(fn));
        __atomic_store_n(slot, fn, __ATOMIC_RELEASE);
    }
out:
    return fn;
}

#define NEXT(name, type) ((type)next_fn(&next_##name, #name))

static int raw_open(const char *path, int flags, mode_t mode)
{
    return (int)syscall(SYS_openat, AT_FDCWD, path, flags | O_CLOEXEC, mode);
}

static void raw_close(int fd)
{
    (void)syscall(SYS_close, fd);
}

static void raw_unlink(const char *path)
{
    (void)syscall(SYS_unlinkat, AT_FDCWD, path, 0);
}

static void init_once(void)
{
    const char *dir = getenv("POWERCUT_DIR");
    int state = 1;

    if (dir != NULL && dir[0] != '\0' && realpath(dir, pc_root[1]) != NULL) {
        pc_root_len[1] = strlen(pc_root[1]);
        if (dir[0] == '/' && strlen(dir) < PATH_MAX) {
            (void)snprintf(pc_root[0], PATH_MAX, "%s", dir);
            pc_root_len[0] = strlen(pc_root[0]);
            while (pc_root_len[0] > 1 && pc_root[0][pc_root_len[0] - 1] == '/') {
                pc_root[0][--pc_root_len[0]] = '\0';
            }
        }
        state = 2;
    } else if (dir != NULL && dir[0] != '\0') {
        die("POWERCUT_DIR does not resolve", dir);
    }
    __atomic_store_n(&pc_state, state, __ATOMIC_RELEASE);
}

static bool has_suffix(const char *s, size_t len, const char *suf)
{
    size_t n = strlen(suf);

    return len >= n && memcmp(s + len - n, suf, n) == 0;
}

static bool under_root(const char *abs, size_t len, int i)
{
    size_t n = pc_root_len[i];

    return n > 0 && len > n + 1 && memcmp(abs, pc_root[i], n) == 0 && abs[n] == '/';
}

/* Fills abs with the absolute path of (dirfd, path); true when it is a file the shim models. */
static bool resolve(int dirfd, const char *path, char abs[PATH_MAX])
{
    char base[PATH_MAX];
    ssize_t n = 0;
    size_t len = 0;
    int w;

    if (__atomic_load_n(&pc_state, __ATOMIC_ACQUIRE) == 0) {
        init_once();
    }
    if (__atomic_load_n(&pc_state, __ATOMIC_ACQUIRE) != 2 || path == NULL) {
        return false;
    }
    if (path[0] == '/') {
        w = snprintf(abs, PATH_MAX, "%s", path);
    } else {
        if (dirfd == AT_FDCWD) {
            n = getcwd(base, sizeof(base)) != NULL ? (ssize_t)strlen(base) : -1;
        } else {
            char link[64];
            (void)snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
            n = readlink(link, base, sizeof(base) - 1);
        }
        if (n < 0) {
            return false;
        }
        base[n] = '\0';
        w = snprintf(abs, PATH_MAX, "%s/%s", base, path);
    }
    if (w < 0 || (size_t)w + sizeof(PC_SHADOW_SUF) >= PATH_MAX) {
        return false;
    }
    len = (size_t)w;
    return (under_root(abs, len, 0) || under_root(abs, len, 1)) && !has_suffix(abs, len, "-shm") &&
           !has_suffix(abs, len, PC_SHADOW_SUF) && !has_suffix(abs, len, PC_ABSENT_SUF) &&
           !has_suffix(abs, len, PC_TMP_SUF);
}

static void side_path(char out[PATH_MAX], const char *path, const char *suffix)
{
    (void)snprintf(out, PATH_MAX, "%s%s", path, suffix);
}

/* Copies len bytes at off from src to dst; stops early at the end of src. Returns 0 or -errno. */
static int copy_range(int src, int dst, off_t off, off_t len)
{
    while (len > 0) {
        size_t want = len < PC_COPY_BYTES ? (size_t)len : PC_COPY_BYTES;
        ssize_t got = pread(src, pc_buf, want, off);
        ssize_t put = 0;

        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got <= 0) {
            return got < 0 ? -errno : 0;
        }
        put = (ssize_t)syscall(SYS_pwrite64, dst, pc_buf, (size_t)got, off);
        if (put != got) {
            return -EIO;
        }
        off += got;
        len -= got;
    }
    return 0;
}

static int slot_find(const char *abs)
{
    int i;

    for (i = 0; i < PC_MAX_FILES; i++) {
        if (pc_files[i].is_used && pc_files[i].is_live && strcmp(pc_files[i].path, abs) == 0) {
            return i;
        }
    }
    return -1;
}

/* Frees a slot whose path is gone once no descriptor refers to it. */
static void slot_release(int idx)
{
    struct pc_file *f = &pc_files[idx];

    if (f->is_live || f->n_fds > 0) {
        return;
    }
    free(f->dirty);
    memset(f, 0, sizeof(*f));
}

/* Forgets a path's durable state (after an unlink, or an open that failed). */
static void slot_drop(int idx, const char *abs)
{
    char side[PATH_MAX];

    side_path(side, abs, PC_SHADOW_SUF);
    raw_unlink(side);
    side_path(side, abs, PC_ABSENT_SUF);
    raw_unlink(side);
    if (idx >= 0) {
        pc_files[idx].is_live = false;
        slot_release(idx);
    }
}

/* Records the durable state of a file at its first open: a copy of it, or "absent". */
static int shadow_create(const char *abs, int src)
{
    char shadow[PATH_MAX], tmp[PATH_MAX];
    struct stat st;
    int dst = -1;
    int rc = -EIO;

    side_path(shadow, abs, PC_SHADOW_SUF);
    side_path(tmp, abs, PC_TMP_SUF);
    if (fstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    dst = raw_open(tmp, O_WRONLY | O_CREAT | O_TRUNC, st.st_mode & 07777);
    if (dst < 0 || copy_range(src, dst, 0, st.st_size) != 0 || rename(tmp, shadow) != 0) {
        die("cannot create shadow", shadow);
    }
    side_path(tmp, abs, PC_ABSENT_SUF);
    raw_unlink(tmp);
    rc = 0;
out:
    if (dst >= 0) {
        raw_close(dst);
    }
    return rc;
}

/* Takes a slot for abs, or returns -1 when the file is not modelled (missing, not regular). */
static int slot_new(const char *abs, int flags)
{
    char marker[PATH_MAX];
    int src = raw_open(abs, O_RDONLY | O_NONBLOCK, 0);
    int idx = -1;
    int i;

    for (i = 0; i < PC_MAX_FILES && idx < 0; i++) {
        idx = pc_files[i].is_used ? -1 : i;
    }
    if (idx < 0) {
        die("too many files", abs);
    }
    pc_files[idx].min_size = -1;
    if (src >= 0 && shadow_create(abs, src) != 0) {
        idx = -1;
    } else if (src < 0 && (errno != ENOENT || (flags & O_CREAT) == 0)) {
        idx = -1;
    } else if (src < 0) {
        side_path(marker, abs, PC_SHADOW_SUF);
        raw_unlink(marker);
        side_path(marker, abs, PC_ABSENT_SUF);
        i = raw_open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (i < 0) {
            die("cannot create marker", marker);
        }
        raw_close(i);
        pc_files[idx].min_size = 0;
    }
    if (idx >= 0) {
        (void)snprintf(pc_files[idx].path, PATH_MAX, "%s", abs);
        pc_files[idx].is_used = true;
        pc_files[idx].is_live = true;
    }
    if (src >= 0) {
        raw_close(src);
    }
    return idx;
}

static void mark_dirty(struct pc_file *f, off_t off, size_t len)
{
    size_t first = (size_t)off / PC_BLOCK_BYTES;
    size_t last = ((size_t)off + len - 1) / PC_BLOCK_BYTES;
    size_t words = last / 64 + 1;
    size_t b;

    if (words > f->dirty_words) {
        size_t cap = words > 2 * f->dirty_words ? words : 2 * f->dirty_words;
        uint64_t *grown = realloc(f->dirty, cap * sizeof(*grown));

        if (grown == NULL) {
            die("out of memory", f->path);
        }
        memset(grown + f->dirty_words, 0, (cap - f->dirty_words) * sizeof(*grown));
        f->dirty = grown;
        f->dirty_words = cap;
    }
    for (b = first; b <= last; b++) {
        f->dirty[b / 64] |= UINT64_C(1) << (b % 64);
    }
}

/* Copies the dirty blocks below size from src to dst in runs, clearing their marks. */
static void copy_dirty(struct pc_file *f, int src, int dst, off_t size)
{
    size_t nbits = f->dirty_words * 64;
    size_t max_run = PC_COPY_BYTES / PC_BLOCK_BYTES;
    size_t b = 0;

    while (b < nbits) {
        size_t start = b;
        off_t off = (off_t)start * PC_BLOCK_BYTES;
        off_t len = 0;

        if (f->dirty[b / 64] == 0) {
            b = (b / 64 + 1) * 64; /* the next word: b may be inside this one after a run */
            continue;
        }
        if ((f->dirty[b / 64] & (UINT64_C(1) << (b % 64))) == 0) {
            b++;
            continue;
        }
        while (b < nbits && b - start < max_run &&
               (f->dirty[b / 64] & (UINT64_C(1) << (b % 64))) != 0) {
            f->dirty[b / 64] &= ~(UINT64_C(1) << (b % 64));
            b++;
        }
        len = (off_t)(b - start) * PC_BLOCK_BYTES;
        if (off < size && copy_range(src, dst, off, size - off < len ? size - off : len) != 0) {
            die("cannot copy into shadow", f->path);
        }
    }
}

/* What a successful fsync makes durable: the shadow becomes the file's current content. */
static void sync_slot(struct pc_file *f)
{
    char side[PATH_MAX];
    struct stat st;
    int src = -1;
    int dst = -1;

    if (!f->is_used || !f->is_live) {
        return;
    }
    src = raw_open(f->path, O_RDONLY, 0);
    if (src < 0 || fstat(src, &st) != 0) {
        die("cannot read", f->path);
    }
    side_path(side, f->path, PC_SHADOW_SUF);
    dst = raw_open(side, O_WRONLY | O_CREAT, st.st_mode & 07777);
    if (dst < 0 || (f->min_size >= 0 && syscall(SYS_ftruncate, dst, (long)f->min_size) != 0) ||
        syscall(SYS_ftruncate, dst, (long)st.st_size) != 0) {
        die("cannot size shadow", side);
    }
    copy_dirty(f, src, dst, st.st_size);
    f->min_size = -1;
    side_path(side, f->path, PC_ABSENT_SUF);
    raw_unlink(side);
    raw_close(dst);
    raw_close(src);
}

/* Slot index of a descriptor, or -1. */
static int fd_slot(int fd)
{
    if (fd < 0 || fd >= PC_MAX_FD) {
        return -1;
    }
    return __atomic_load_n(&pc_fd_file[fd], __ATOMIC_ACQUIRE) - 1;
}

/* ---- hooks run around the real calls ------------------------------------------------------ */

static void note_write(int fd, off_t off, ssize_t len)
{
    int saved = errno;
    int idx = len > 0 ? fd_slot(fd) : -1;

    if (idx >= 0) {
        (void)pthread_mutex_lock(&pc_lock);
        if (pc_files[idx].is_live) {
            mark_dirty(&pc_files[idx], off, (size_t)len);
        }
        (void)pthread_mutex_unlock(&pc_lock);
    }
    errno = saved;
}

/* For write/writev: the data ended at the descriptor's new position. */
static void note_write_pos(int fd, ssize_t len)
{
    int saved = errno;
    off_t end = len > 0 && fd_slot(fd) >= 0 ? lseek(fd, 0, SEEK_CUR) : -1;

    if (end >= len) {
        note_write(fd, end - len, len);
    }
    errno = saved;
}

static void note_cut(int fd, off_t size, int rc)
{
    int idx = rc == 0 ? fd_slot(fd) : -1;

    if (idx >= 0) {
        (void)pthread_mutex_lock(&pc_lock);
        if (pc_files[idx].min_size < 0 || size < pc_files[idx].min_size) {
            pc_files[idx].min_size = size;
        }
        (void)pthread_mutex_unlock(&pc_lock);
    }
}

/* fd < 0 syncs every file (sync, syncfs). */
static void note_sync(int fd, int rc)
{
    int saved = errno;
    int idx = fd_slot(fd);
    int i;

    if (rc != 0 || (fd >= 0 && idx < 0)) {
        return;
    }
    (void)pthread_mutex_lock(&pc_lock);
    for (i = 0; i < PC_MAX_FILES; i++) {
        if (fd < 0 || i == idx) {
            sync_slot(&pc_files[i]);
        }
    }
    (void)pthread_mutex_unlock(&pc_lock);
    errno = saved;
}

static void note_close(int fd)
{
    int idx = fd_slot(fd);

    if (idx >= 0) {
        (void)pthread_mutex_lock(&pc_lock);
        __atomic_store_n(&pc_fd_file[fd], 0, __ATOMIC_RELEASE);
        pc_files[idx].n_fds--;
        slot_release(idx);
        (void)pthread_mutex_unlock(&pc_lock);
    }
}

/* Maps newfd to oldfd's slot after a successful dup. */
static void note_dup(int oldfd, int newfd)
{
    int idx = newfd >= 0 ? fd_slot(oldfd) : -1;

    if (idx >= 0) {
        (void)pthread_mutex_lock(&pc_lock);
        if (newfd >= PC_MAX_FD) {
            die("descriptor too large to track", pc_files[idx].path);
        }
        __atomic_store_n(&pc_fd_file[newfd], idx + 1, __ATOMIC_RELEASE);
        pc_files[idx].n_fds++;
        (void)pthread_mutex_unlock(&pc_lock);
    }
}

/* ---- open family -------------------------------------------------------------------------- */

enum open_kind { K_OPEN, K_OPEN64, K_OPENAT, K_OPENAT64 };
typedef int (*open_fn)(const char *, int, ...);
typedef int (*openat_fn)(int, const char *, int, ...);
static pc_fn next_open, next_open64, next_openat, next_openat64;

static int call_open(enum open_kind kind, int dirfd, const char *path, int flags, mode_t mode)
{
    open_fn o = NULL;
    openat_fn oa = NULL;

    switch (kind) {
    case K_OPEN:
        o = NEXT(open, open_fn);
        break;
    case K_OPEN64:
        o = NEXT(open64, open_fn);
        break;
    case K_OPENAT:
        oa = NEXT(openat, openat_fn);
        break;
    case K_OPENAT64:
        oa = NEXT(openat64, openat_fn);
        break;
    }
    if (o != NULL) {
        return o(path, flags, mode);
    }
    if (oa != NULL) {
        return oa(dirfd, path, flags, mode);
    }
    return (int)syscall(SYS_openat, dirfd, path, flags, mode);
}

static int open_common(enum open_kind kind, int dirfd, const char *path, int flags, mode_t mode)
{
    char abs[PATH_MAX];
    bool is_new = false;
    int idx = -1;
    int fd = -1;
    int saved = 0;

    if (!resolve(dirfd, path, abs)) {
        return call_open(kind, dirfd, path, flags, mode);
    }
    (void)pthread_mutex_lock(&pc_lock);
    idx = slot_find(abs);
    if (idx < 0) {
        idx = slot_new(abs, flags);
        is_new = idx >= 0;
    }
    fd = call_open(kind, dirfd, path, flags, mode);
    saved = errno;
    if (fd >= PC_MAX_FD && idx >= 0) {
        die("descriptor too large to track", abs);
    }
    if (fd >= 0 && idx >= 0) {
        __atomic_store_n(&pc_fd_file[fd], idx + 1, __ATOMIC_RELEASE);
        pc_files[idx].n_fds++;
        if ((flags & O_TRUNC) != 0) {
            pc_files[idx].min_size = 0;
        }
    } else if (fd < 0 && is_new) {
        slot_drop(idx, abs);
    }
    (void)pthread_mutex_unlock(&pc_lock);
    errno = saved;
    return fd;
}

static mode_t open_mode(int flags, va_list ap)
{
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
        return (mode_t)va_arg(ap, unsigned int);
    }
    return 0;
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    return open_common(K_OPEN, AT_FDCWD, path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    return open_common(K_OPEN64, AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    return open_common(K_OPENAT, dirfd, path, flags, mode);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
    va_list ap;
    mode_t mode;

    va_start(ap, flags);
    mode = open_mode(flags, ap);
    va_end(ap);
    return open_common(K_OPENAT64, dirfd, path, flags, mode);
}

/* creat is open with fixed flags; both go through the next open64. */
int creat(const char *path, mode_t mode)
{
    return open_common(K_OPEN64, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

int creat64(const char *path, mode_t mode)
{
    return open_common(K_OPEN64, AT_FDCWD, path, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

/* ---- writes, truncation, syncs, close, unlink --------------------------------------------- */

typedef ssize_t (*write_fn)(int, const void *, size_t);
typedef ssize_t (*pwrite_fn)(int, const void *, size_t, off_t);
typedef ssize_t (*writev_fn)(int, const struct iovec *, int);
typedef ssize_t (*pwritev_fn)(int, const struct iovec *, int, off_t);
typedef int (*ftruncate_fn)(int, off_t);
typedef int (*fd_fn)(int);
typedef void (*void_fn)(void);
typedef int (*unlinkat_fn)(int, const char *, int);
typedef int (*unlink_fn)(const char *);
static pc_fn next_write, next_pwrite, next_pwrite64, next_writev, next_pwritev, next_pwritev64;
static pc_fn next_ftruncate, next_ftruncate64, next_fsync, next_fdatasync, next_syncfs, next_sync,
    next_close, next_unlink, next_unlinkat;

ssize_t write(int fd, const void *buf, size_t len)
{
    write_fn fn = NEXT(write, write_fn);
    ssize_t rc = fn != NULL ? fn(fd, buf, len) : (ssize_t)syscall(SYS_write, fd, buf, len);

    note_write_pos(fd, rc);
    return rc;
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    pwrite_fn fn = NEXT(pwrite, pwrite_fn);
    ssize_t rc =
        fn != NULL ? fn(fd, buf, len, off) : (ssize_t)syscall(SYS_pwrite64, fd, buf, len, off);

    note_write(fd, off, rc);
    return rc;
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off64_t off)
{
    pwrite_fn fn = NEXT(pwrite64, pwrite_fn);
    ssize_t rc =
        fn != NULL ? fn(fd, buf, len, off) : (ssize_t)syscall(SYS_pwrite64, fd, buf, len, off);

    note_write(fd, off, rc);
    return rc;
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    writev_fn fn = NEXT(writev, writev_fn);
    ssize_t rc = fn != NULL ? fn(fd, iov, n) : (ssize_t)syscall(SYS_writev, fd, iov, n);

    note_write_pos(fd, rc);
    return rc;
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
    pwritev_fn fn = NEXT(pwritev, pwritev_fn);
    ssize_t rc =
        fn != NULL ? fn(fd, iov, n, off) : (ssize_t)syscall(SYS_pwritev, fd, iov, n, off, 0);

    note_write(fd, off, rc);
    return rc;
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off64_t off)
{
    pwritev_fn fn = NEXT(pwritev64, pwritev_fn);
    ssize_t rc =
        fn != NULL ? fn(fd, iov, n, off) : (ssize_t)syscall(SYS_pwritev, fd, iov, n, off, 0);

    note_write(fd, off, rc);
    return rc;
}

int ftruncate(int fd, off_t size)
{
    ftruncate_fn fn = NEXT(ftruncate, ftruncate_fn);
    int rc = fn != NULL ? fn(fd, size) : (int)syscall(SYS_ftruncate, fd, size);

    note_cut(fd, size, rc);
    return rc;
}

int ftruncate64(int fd, off64_t size)
{
    ftruncate_fn fn = NEXT(ftruncate64, ftruncate_fn);
    int rc = fn != NULL ? fn(fd, size) : (int)syscall(SYS_ftruncate, fd, size);

    note_cut(fd, size, rc);
    return rc;
}

int fsync(int fd)
{
    fd_fn fn = NEXT(fsync, fd_fn);
    int rc = fn != NULL ? fn(fd) : (int)syscall(SYS_fsync, fd);

    note_sync(fd, rc);
    return rc;
}

int fdatasync(int fd)
{
    fd_fn fn = NEXT(fdatasync, fd_fn);
    int rc = fn != NULL ? fn(fd) : (int)syscall(SYS_fdatasync, fd);

    note_sync(fd, rc);
    return rc;
}

int syncfs(int fd)
{
    fd_fn fn = NEXT(syncfs, fd_fn);
    int rc = fn != NULL ? fn(fd) : (int)syscall(SYS_syncfs, fd);

    note_sync(-1, rc);
    return rc;
}

void sync(void)
{
    void_fn fn = NEXT(sync, void_fn);

    if (fn != NULL) {
        fn();
    } else {
        (void)syscall(SYS_sync);
    }
    note_sync(-1, 0);
}

int close(int fd)
{
    fd_fn fn = NEXT(close, fd_fn);

    note_close(fd);
    return fn != NULL ? fn(fd) : (int)syscall(SYS_close, fd);
}

typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
static pc_fn next_dup, next_dup2, next_dup3;

int dup(int fd)
{
    fd_fn fn = NEXT(dup, fd_fn);
    int rc = fn != NULL ? fn(fd) : (int)syscall(SYS_dup, fd);

    note_dup(fd, rc);
    return rc;
}

/* dup2 and dup3 close newfd first; dup2 onto itself changes nothing. */
int dup2(int oldfd, int newfd)
{
    dup2_fn fn = NEXT(dup2, dup2_fn);
    int rc = fn != NULL ? fn(oldfd, newfd) : (int)syscall(SYS_dup2, oldfd, newfd);

    if (rc >= 0 && oldfd != newfd) {
        note_close(newfd);
        note_dup(oldfd, newfd);
    }
    return rc;
}

int dup3(int oldfd, int newfd, int flags)
{
    dup3_fn fn = NEXT(dup3, dup3_fn);
    int rc = fn != NULL ? fn(oldfd, newfd, flags) : (int)syscall(SYS_dup3, oldfd, newfd, flags);

    if (rc >= 0) {
        note_close(newfd);
        note_dup(oldfd, newfd);
    }
    return rc;
}

static void note_unlink(int dirfd, const char *path, int flags, int rc)
{
    char abs[PATH_MAX];
    int saved = errno;

    if (rc == 0 && (flags & AT_REMOVEDIR) == 0 && resolve(dirfd, path, abs)) {
        (void)pthread_mutex_lock(&pc_lock);
        slot_drop(slot_find(abs), abs);
        (void)pthread_mutex_unlock(&pc_lock);
    }
    errno = saved;
}

int unlink(const char *path)
{
    unlink_fn fn = NEXT(unlink, unlink_fn);
    int rc = fn != NULL ? fn(path) : (int)syscall(SYS_unlinkat, AT_FDCWD, path, 0);

    note_unlink(AT_FDCWD, path, 0, rc);
    return rc;
}

int unlinkat(int dirfd, const char *path, int flags)
{
    unlinkat_fn fn = NEXT(unlinkat, unlinkat_fn);
    int rc = fn != NULL ? fn(dirfd, path, flags) : (int)syscall(SYS_unlinkat, dirfd, path, flags);

    note_unlink(dirfd, path, flags, rc);
    return rc;
}
