/* Connects to argv[1], sends argv[2] bytes of a pattern while reading the
 * echo back, checks it, and reports. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: echo_client PATH BYTES\n");
        return 2;
    }
    long want = atol(argv[2]);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
        perror("connect");
        return 1;
    }
    long sent = 0, got = 0, bad = 0;
    char out[8192], in[8192];
    while (got < want) {
        struct pollfd p = {.fd = s, .events = POLLIN | (sent < want ? POLLOUT : 0)};
        if (poll(&p, 1, -1) < 0) {
            perror("poll");
            return 1;
        }
        if ((p.revents & POLLOUT) && sent < want) {
            size_t n = sizeof out;
            if ((long)n > want - sent) n = (size_t)(want - sent);
            for (size_t i = 0; i < n; i++) out[i] = (char)((sent + (long)i) * 7);
            ssize_t w = write(s, out, n);
            if (w < 0) {
                perror("write");
                return 1;
            }
            sent += w;
            if (sent == want) shutdown(s, SHUT_WR);
        }
        if (p.revents & (POLLIN | POLLHUP)) {
            ssize_t r = read(s, in, sizeof in);
            if (r <= 0) break;
            for (ssize_t i = 0; i < r; i++)
                if (in[i] != (char)((got + i) * 7)) bad++;
            got += r;
        }
    }
    printf("sent %ld, echoed %ld, mismatches %ld\n", sent, got, bad);
    return got == want && bad == 0 ? 0 : 1;
}
