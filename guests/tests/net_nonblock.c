/* Non-blocking sockets: EAGAIN on an empty recv, filling a stream socket
 * until send says EAGAIN and draining every byte, MSG_DONTWAIT on blocking
 * sockets, accept on a listener with nothing pending, O_NONBLOCK through
 * fcntl and FIONBIO, FIONREAD counts (stream, datagram, pipe) and EMSGSIZE
 * for an oversized datagram. Buffer sizes differ between kernels, so only
 * "filled"/"drained all" are printed, never byte counts of a full buffer. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"

#define PATH "/tmp/sidecar_net_nonblock.sock"

static int inq(int fd) {
    int n = -1;
    if (ioctl(fd, FIONREAD, &n)) return -1000 - errno;
    return n;
}

/* Sends `chunk`-byte pieces until EAGAIN; returns the total (-1 on another
 * error). */
static long fill(int fd, size_t chunk, int flags) {
    static char data[65536];
    memset(data, 'f', sizeof data);
    long total = 0;
    for (;;) {
        ssize_t n = send(fd, data, chunk, flags);
        if (n < 0) return errno == EAGAIN ? total : -1;
        total += n;
        if (total > (64L << 20)) return -2; /* never fills */
    }
}

static long drain(int fd) {
    static char buf[65536];
    long total = 0;
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 0) return errno == EAGAIN ? total : -1;
        if (n == 0) return total;
        total += n;
    }
}

int main(void) {
    int sv[2];
    char buf[256];

    /* SOCK_NONBLOCK socketpair. */
    expect_ok("socketpair SOCK_NONBLOCK", socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));
    expect_yes("O_NONBLOCK set", (fcntl(sv[0], F_GETFL) & O_NONBLOCK) != 0);
    expect_errno("recv empty", recv(sv[0], buf, sizeof buf, 0), EAGAIN);
    expect_errno("read empty", read(sv[0], buf, sizeof buf), EAGAIN);
    expect_long("FIONREAD empty", inq(sv[0]), 0);

    /* Fill one direction until EAGAIN, then drain it all. */
    long sent = fill(sv[0], 4096, 0);
    expect_yes("filled", sent > 0);
    expect_errno("send when full", send(sv[0], "x", 1, 0), EAGAIN);
    expect_errno("write when full", write(sv[0], "x", 1), EAGAIN);
    expect_yes("FIONREAD when full", inq(sv[1]) == sent);
    /* The other direction is independent. */
    expect_long("reverse send while full", send(sv[1], "rev", 3, 0), 3);
    expect_long("reverse recv", recv(sv[0], buf, sizeof buf, 0), 3);
    long got = drain(sv[1]);
    expect_yes("drained all", got == sent);
    expect_long("send after drain", send(sv[0], "again", 5, 0), 5);
    expect_long("recv after drain", recv(sv[1], buf, sizeof buf, 0), 5);
    /* With big writes: partial sends, still nothing lost. */
    sent = fill(sv[0], 65536, 0);
    expect_yes("filled with 64 KiB sends", sent > 0);
    expect_yes("drained all again", drain(sv[1]) == sent);
    close(sv[0]);
    close(sv[1]);

    /* MSG_DONTWAIT on a blocking pair. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    expect_yes("blocking by default", (fcntl(sv[0], F_GETFL) & O_NONBLOCK) == 0);
    expect_errno("recv MSG_DONTWAIT", recv(sv[0], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    sent = fill(sv[0], 1000, MSG_DONTWAIT);
    expect_yes("filled with MSG_DONTWAIT", sent > 0);
    expect_yes("still blocking", (fcntl(sv[0], F_GETFL) & O_NONBLOCK) == 0);
    expect_yes("drained all (MSG_DONTWAIT)", drain(sv[1]) == sent);

    /* FIONREAD counts. */
    expect_long("send 100", send(sv[0], buf, 100, 0), 100);
    expect_long("FIONREAD 100", inq(sv[1]), 100);
    expect_long("FIONREAD sender side", inq(sv[0]), 0);
    expect_long("recv 30", recv(sv[1], buf, 30, 0), 30);
    expect_long("FIONREAD 70", inq(sv[1]), 70);
    expect_long("send 5 more", send(sv[0], buf, 5, 0), 5);
    expect_long("FIONREAD 75", inq(sv[1]), 75);
    expect_long("recv rest", recv(sv[1], buf, sizeof buf, 0), 75);
    expect_long("FIONREAD 0", inq(sv[1]), 0);

    /* FIONBIO and F_SETFL. */
    int on = 1, off = 0;
    expect_ok("FIONBIO on", ioctl(sv[1], FIONBIO, &on));
    expect_yes("F_GETFL after FIONBIO", (fcntl(sv[1], F_GETFL) & O_NONBLOCK) != 0);
    expect_errno("recv after FIONBIO", recv(sv[1], buf, sizeof buf, 0), EAGAIN);
    expect_ok("FIONBIO off", ioctl(sv[1], FIONBIO, &off));
    expect_yes("F_GETFL after FIONBIO off", (fcntl(sv[1], F_GETFL) & O_NONBLOCK) == 0);
    expect_ok("F_SETFL O_NONBLOCK", fcntl(sv[1], F_SETFL, O_NONBLOCK));
    expect_errno("recv after F_SETFL", recv(sv[1], buf, sizeof buf, 0), EAGAIN);
    expect_errno("unknown ioctl", ioctl(sv[1], 0x5401 /* TCGETS */, buf), ENOTTY);
    expect_errno("FIONREAD bad fd", ioctl(99, FIONREAD, &on), EBADF);
    close(sv[0]);
    close(sv[1]);

    /* Datagrams: FIONREAD is the size of the next datagram. */
    socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv);
    expect_errno("dgram recv empty", recv(sv[1], buf, sizeof buf, 0), EAGAIN);
    send(sv[0], buf, 10, 0);
    send(sv[0], buf, 20, 0);
    expect_long("dgram FIONREAD first", inq(sv[1]), 10);
    recv(sv[1], buf, sizeof buf, 0);
    expect_long("dgram FIONREAD second", inq(sv[1]), 20);
    recv(sv[1], buf, sizeof buf, 0);
    static char big[300000];
    expect_errno("oversized datagram", send(sv[0], big, sizeof big, 0), EMSGSIZE);
    sent = fill(sv[0], 1000, 0);
    expect_yes("dgram filled", sent > 0);
    expect_yes("dgram drained all", drain(sv[1]) == sent);
    close(sv[0]);
    close(sv[1]);

    /* A pipe's FIONREAD. */
    int p[2];
    pipe(p);
    write(p[1], "12345", 5);
    expect_long("pipe FIONREAD", inq(p[0]), 5);
    close(p[0]);
    close(p[1]);

    /* Listener with nothing pending. */
    unlink(PATH);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, PATH);
    int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    expect_ok("bind", bind(srv, (struct sockaddr *)&a, sizeof a));
    expect_ok("listen", listen(srv, 4));
    expect_errno("accept nothing pending", accept(srv, NULL, NULL), EAGAIN);
    expect_errno("FIONREAD on listener", ioctl(srv, FIONREAD, &on), EINVAL);
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_ok("connect", connect(c, (struct sockaddr *)&a, sizeof a));
    int s = accept(srv, NULL, NULL);
    expect_yes("accept after connect", s >= 0);
    expect_yes("accepted socket is blocking", (fcntl(s, F_GETFL) & O_NONBLOCK) == 0);
    expect_errno("accept again", accept(srv, NULL, NULL), EAGAIN);
    close(s);
    close(c);
    /* An autobound blocking listener made non-blocking with F_SETFL. */
    int srv2 = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    expect_ok("autobind listener", bind(srv2, (struct sockaddr *)&a, 2));
    expect_ok("listen autobound", listen(srv2, 1));
    fcntl(srv2, F_SETFL, O_NONBLOCK);
    expect_errno("accept after F_SETFL", accept(srv2, NULL, NULL), EAGAIN);
    close(srv2);
    close(srv);
    unlink(PATH);
    return finish();
}
