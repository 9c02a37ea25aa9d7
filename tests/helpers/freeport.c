/* SPDX-License-Identifier: MIT */
/*
 * freeport.c - prints a UDP port on 127.0.0.1 that is free right now (the kernel picks it), for
 * integration tests that start the daemon on loopback. Usage: freeport [udp|tcp].
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int type = (argc > 1 && strcmp(argv[1], "tcp") == 0) ? SOCK_STREAM : SOCK_DGRAM;
    int fd = socket(AF_INET, type, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        perror("freeport");
        return 1;
    }
    printf("%u\n", (unsigned)ntohs(sa.sin_port));
    (void)close(fd);
    return 0;
}
