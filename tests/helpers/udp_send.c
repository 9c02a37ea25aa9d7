/* SPDX-License-Identifier: MIT */
/*
 * udp_send.c - sends one datagram (given in hex) N times from one socket to 127.0.0.1:PORT and
 * prints each answer in hex, one line per answer (or "timeout"). Used to replay the very same
 * CoAP CON datagram, as a device does when its ACK was lost.
 * Usage: udp_send PORT HEX [COUNT] [TIMEOUT_MS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int unhex(const char *hex, unsigned char *out, size_t cap, size_t *n)
{
    size_t len = strlen(hex);
    size_t i;

    if (len % 2 != 0 || len / 2 > cap) {
        return -1;
    }
    for (i = 0; i < len / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            return -1;
        }
        out[i] = (unsigned char)v;
    }
    *n = len / 2;
    return 0;
}

int main(int argc, char **argv)
{
    unsigned char msg[2048], buf[2048];
    struct sockaddr_in sa;
    size_t len = 0;
    long count, timeout_ms;
    int fd, i;

    if (argc < 3 || unhex(argv[2], msg, sizeof(msg), &len) != 0) {
        fprintf(stderr, "usage: udp_send PORT HEX [COUNT] [TIMEOUT_MS]\n");
        return 2;
    }
    count = argc > 3 ? strtol(argv[3], NULL, 10) : 1;
    timeout_ms = argc > 4 ? strtol(argv[4], NULL, 10) : 2000;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)strtol(argv[1], NULL, 10));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("udp_send");
        return 1;
    }
    for (i = 0; i < count; i++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;
        if (send(fd, msg, len, 0) != (ssize_t)len) {
            perror("send");
            return 1;
        }
        if (poll(&p, 1, (int)timeout_ms) <= 0 || (n = recv(fd, buf, sizeof(buf), 0)) < 0) {
            printf("timeout\n");
            continue;
        }
        for (ssize_t k = 0; k < n; k++) {
            printf("%02x", buf[k]);
        }
        printf("\n");
    }
    (void)close(fd);
    return 0;
}
