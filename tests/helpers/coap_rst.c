/* SPDX-License-Identifier: MIT */
/*
 * coap_rst.c - a device that refuses notifications: sends one request (hex) to 127.0.0.1:PORT,
 * prints the answer in hex, then answers the next CON message it gets with an RST of the same
 * message id and prints "rst MID". Used to test that an RST ends an observation.
 * Usage: coap_rst PORT HEX [TIMEOUT_MS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int wait_recv(int fd, unsigned char *buf, size_t cap, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    if (poll(&p, 1, timeout_ms) <= 0) {
        return -1;
    }
    return (int)recv(fd, buf, cap, 0);
}

int main(int argc, char **argv)
{
    unsigned char msg[1024], buf[2048], rst[4];
    struct sockaddr_in sa;
    size_t len = 0, i;
    int fd, n, timeout_ms = argc > 3 ? (int)strtol(argv[3], NULL, 10) : 10000;

    if (argc < 3 || strlen(argv[2]) % 2 != 0 || strlen(argv[2]) / 2 > sizeof(msg)) {
        fprintf(stderr, "usage: coap_rst PORT HEX [TIMEOUT_MS]\n");
        return 2;
    }
    for (i = 0; i < strlen(argv[2]) / 2; i++) {
        unsigned v;
        if (sscanf(argv[2] + 2 * i, "%2x", &v) != 1) {
            return 2;
        }
        msg[len++] = (unsigned char)v;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)strtol(argv[1], NULL, 10));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        send(fd, msg, len, 0) != (ssize_t)len) {
        perror("coap_rst");
        return 1;
    }
    n = wait_recv(fd, buf, sizeof(buf), timeout_ms);
    if (n < 4) {
        printf("timeout\n");
        return 1;
    }
    for (i = 0; i < (size_t)n; i++) {
        printf("%02x", buf[i]);
    }
    printf("\n");
    fflush(stdout);
    for (;;) {
        n = wait_recv(fd, buf, sizeof(buf), timeout_ms);
        if (n < 4) {
            printf("timeout\n");
            return 1;
        }
        if ((buf[0] & 0x30) == 0x00) { /* CON */
            rst[0] = 0x70;             /* version 1, RST, no token */
            rst[1] = 0x00;
            rst[2] = buf[2];
            rst[3] = buf[3];
            if (send(fd, rst, sizeof(rst), 0) != (ssize_t)sizeof(rst)) {
                return 1;
            }
            printf("rst %u\n", (unsigned)(buf[2] << 8 | buf[3]));
            return 0;
        }
    }
}
