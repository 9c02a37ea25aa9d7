/* SPDX-License-Identifier: MIT */
/*
 * web_multipart.c - a streaming reader of multipart/form-data bodies (RFC 7578, RFC 2046 5.1)
 * for OTA package uploads: parts are found as the body arrives, through a fixed window of
 * MP_WINDOW bytes, so a package of any size never sits in memory whole.
 *
 *   body      = preamble "--" boundary *(part) "--" epilogue
 *   delimiter = CRLF "--" boundary       (the first one may start the body without the CRLF)
 *   part      = [spaces] CRLF headers CRLF data delimiter
 *
 * Headers of a part are at most WEB_MP_HEADER_MAX bytes; Content-Disposition parameters are read
 * quoted or bare (ThingsBoard's Java client sends `name=file; filename=x.bin` without quotes).
 * Data bytes are handed on except the last delimiter-length - 1 bytes of the window, which may
 * be the start of the next delimiter. Pure: no I/O, no log.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "web/web_internal.h"

/* Reads parameter name of a header value ("a; name=v; name2=\"w\""), case-insensitive. */
static bool header_param(const char *v, const char *name, char *out, size_t out_len)
{
    size_t nlen = strlen(name), i = 0;
    const char *p = v;

    while ((p = strchr(p, ';')) != NULL) {
        p++;
        p += strspn(p, " \t");
        if (strncasecmp(p, name, nlen) != 0 || p[nlen] != '=') {
            continue;
        }
        p += nlen + 1;
        if (*p == '"') {
            for (p++; *p != '\0' && *p != '"' && i + 1 < out_len; p++) {
                if (*p == '\\' && p[1] != '\0') {
                    p++;
                }
                out[i++] = *p;
            }
        } else {
            for (; *p != '\0' && *p != ';' && *p != ' ' && *p != '\t' && i + 1 < out_len; p++) {
                out[i++] = *p;
            }
        }
        out[i] = '\0';
        return true;
    }
    return false;
}

int web_mp_boundary(const char *content_type, char *out, size_t out_len)
{
    if (content_type == NULL || strncasecmp(content_type, "multipart/form-data", 19) != 0 ||
        !header_param(content_type, "boundary", out, out_len) || out[0] == '\0' ||
        strlen(out) > WEB_MP_BOUNDARY_MAX) {
        return -EINVAL;
    }
    return 0;
}

int web_mp_init(struct web_mp *mp, const char *boundary, const struct web_mp_fns *fns, void *arg)
{
    memset(mp, 0, sizeof(*mp));
    if (boundary == NULL || boundary[0] == '\0' || strlen(boundary) > WEB_MP_BOUNDARY_MAX) {
        return -EINVAL;
    }
    mp->delim_len = (size_t)snprintf(mp->delim, sizeof(mp->delim), "\r\n--%s", boundary);
    mp->fns = fns;
    mp->arg = arg;
    memcpy(mp->win, "\r\n", 2); /* so that a boundary at the very start is a delimiter too */
    mp->len = 2;
    return 0;
}

/* The first occurrence of needle (starting with '\r') in hay, or NULL. */
static char *find(char *hay, size_t len, const char *needle, size_t nlen)
{
    char *p = hay, *end = hay + len;

    while (p < end && (p = memchr(p, needle[0], (size_t)(end - p))) != NULL) {
        if ((size_t)(end - p) < nlen) {
            return NULL;
        }
        if (memcmp(p, needle, nlen) == 0) {
            return p;
        }
        p++;
    }
    return NULL;
}

static void consume(struct web_mp *mp, size_t n)
{
    memmove(mp->win, mp->win + n, mp->len - n);
    mp->len -= n;
}

static int fail(struct web_mp *mp, const char *why)
{
    (void)snprintf(mp->err, sizeof(mp->err), "%s", why);
    mp->state = WEB_MP_ERROR;
    return -EBADMSG;
}

/* One header line of a part. */
static void header_line(struct web_mp_part *p, char *line)
{
    char *colon = strchr(line, ':');
    char *v, *slash;

    if (colon == NULL) {
        return;
    }
    *colon = '\0';
    v = colon + 1 + strspn(colon + 1, " \t");
    if (strcasecmp(line, "Content-Disposition") == 0) {
        (void)header_param(v, "name", p->name, sizeof(p->name));
        p->has_filename = header_param(v, "filename", p->filename, sizeof(p->filename));
        slash = strrchr(p->filename, '/');
        slash = slash != NULL ? slash : strrchr(p->filename, '\\');
        if (slash != NULL) {
            memmove(p->filename, slash + 1, strlen(slash + 1) + 1);
        }
    } else if (strcasecmp(line, "Content-Type") == 0) {
        (void)snprintf(p->content_type, sizeof(p->content_type), "%s", v);
    }
}

/* The header block of a part: end bytes of header lines, then skip bytes of line ends. */
static int headers(struct web_mp *mp, size_t end, size_t skip)
{
    struct web_mp_part p;
    char *line = mp->win, *next;

    memset(&p, 0, sizeof(p));
    mp->win[end] = '\0';
    while (line != NULL && *line != '\0') {
        next = strstr(line, "\r\n");
        if (next != NULL) {
            *next = '\0';
            next += 2;
        }
        header_line(&p, line);
        line = next;
    }
    consume(mp, end + skip);
    mp->state = WEB_MP_DATA;
    return mp->fns->begin(mp->arg, &p);
}

/* Runs the state machine over the window until it needs more bytes. */
static int process(struct web_mp *mp)
{
    char *hit;
    size_t keep;
    int rc = 0;

    while (rc == 0) {
        if (mp->state == WEB_MP_PREAMBLE || mp->state == WEB_MP_DATA) {
            hit = find(mp->win, mp->len, mp->delim, mp->delim_len);
            keep = hit != NULL ? 0 : mp->len < mp->delim_len ? mp->len : mp->delim_len - 1;
            if (mp->state == WEB_MP_DATA) {
                size_t n = hit != NULL ? (size_t)(hit - mp->win) : mp->len - keep;
                rc = n > 0 ? mp->fns->data(mp->arg, mp->win, n) : 0;
                rc = rc == 0 && hit != NULL ? mp->fns->end(mp->arg) : rc;
            }
            if (hit == NULL) {
                consume(mp, mp->len - keep);
                return rc;
            }
            consume(mp, (size_t)(hit - mp->win) + mp->delim_len);
            mp->state = WEB_MP_AFTER;
        } else if (mp->state == WEB_MP_AFTER) {
            size_t sp = 0;
            while (sp < mp->len && (mp->win[sp] == ' ' || mp->win[sp] == '\t')) {
                sp++;
            }
            if (mp->len - sp < 2) {
                return 0;
            }
            if (memcmp(mp->win + sp, "--", 2) == 0) {
                mp->state = WEB_MP_DONE;
            } else if (memcmp(mp->win + sp, "\r\n", 2) == 0) {
                consume(mp, sp + 2);
                mp->state = WEB_MP_HEADERS;
            } else {
                return fail(mp, "malformed multipart boundary line");
            }
        } else if (mp->state == WEB_MP_HEADERS) {
            if (mp->len >= 2 && memcmp(mp->win, "\r\n", 2) == 0) {
                rc = headers(mp, 0, 2); /* a part without headers */
                continue;
            }
            hit = find(mp->win, mp->len, "\r\n\r\n", 4);
            if (hit == NULL) {
                return mp->len >= WEB_MP_HEADER_MAX ? fail(mp, "multipart part headers too long")
                                                    : 0;
            }
            rc = headers(mp, (size_t)(hit - mp->win), 4);
        } else {
            mp->len = 0; /* the epilogue, or after an error */
            return mp->state == WEB_MP_ERROR ? -EBADMSG : 0;
        }
    }
    return rc;
}

int web_mp_feed(struct web_mp *mp, const char *data, size_t len)
{
    size_t take;
    int rc = mp->state == WEB_MP_ERROR ? -EBADMSG : 0;

    while (rc == 0 && len > 0) {
        take = sizeof(mp->win) - 1 - mp->len < len ? sizeof(mp->win) - 1 - mp->len : len;
        memcpy(mp->win + mp->len, data, take);
        mp->len += take;
        data += take;
        len -= take;
        rc = process(mp);
        if (rc == 0 && mp->len >= sizeof(mp->win) - 1) {
            rc = fail(mp, "multipart part headers too long");
        }
    }
    return rc;
}

int web_mp_finish(struct web_mp *mp)
{
    return mp->state == WEB_MP_DONE ? 0
                                    : fail(mp, "the multipart body ends before its last "
                                               "boundary");
}
