/* AF_UNIX socketpair: stream and datagram echo, stream coalescing versus
 * datagram message boundaries (MSG_TRUNC, MSG_PEEK), shutdown(SHUT_WR) as EOF
 * at the peer while the other direction keeps working, read/write on
 * sockets, socket options (SO_TYPE, SO_DOMAIN, SO_ACCEPTCONN, SO_ERROR,
 * SO_SNDBUF doubling), getsockname/getpeername of unnamed sockets (family
 * only, length 2) and the socket() argument errors. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "testutil.h"

static const char *type_name(int t) {
    switch (t) {
    case SOCK_STREAM:
        return "SOCK_STREAM";
    case SOCK_DGRAM:
        return "SOCK_DGRAM";
    }
    return "?";
}

static int opt(int fd, int name) {
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, name, &v, &len)) return -1000 - errno;
    if (len != sizeof v) return -2000 - (int)len;
    return v;
}

/* recv into a NUL-terminated buffer; prints "label: N [text]". */
static void recv_str(const char *label, int fd, size_t cap, int flags, long want,
                     const char *want_text) {
    char buf[256];
    memset(buf, 0, sizeof buf);
    ssize_t n = recv(fd, buf, cap, flags);
    if (n < 0) {
        expect_errno(label, n, 0);
        return;
    }
    char line[320];
    snprintf(line, sizeof line, "%ld [%s]", (long)n, buf);
    char wline[320];
    snprintf(wline, sizeof wline, "%ld [%s]", want, want_text);
    expect_str(label, line, wline);
}

static void names(const char *what, int fd) {
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    char label[128];
    memset(&a, 0x55, sizeof a);
    snprintf(label, sizeof label, "%s getsockname", what);
    expect_ok(label, getsockname(fd, (struct sockaddr *)&a, &len));
    snprintf(label, sizeof label, "%s getsockname len", what);
    expect_long(label, len, 2);
    snprintf(label, sizeof label, "%s getsockname family is AF_UNIX", what);
    expect_yes(label, a.sun_family == AF_UNIX);
    len = sizeof a;
    snprintf(label, sizeof label, "%s getpeername", what);
    expect_ok(label, getpeername(fd, (struct sockaddr *)&a, &len));
    snprintf(label, sizeof label, "%s getpeername len", what);
    expect_long(label, len, 2);
}

int main(void) {
    int sv[2], dv[2];
    char buf[256];

    /* Stream pair. */
    expect_ok("socketpair stream", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    expect_str("SO_TYPE stream", type_name(opt(sv[0], SO_TYPE)), "SOCK_STREAM");
    expect_yes("SO_DOMAIN stream is AF_UNIX", opt(sv[0], SO_DOMAIN) == AF_UNIX);
    expect_long("SO_ACCEPTCONN", opt(sv[0], SO_ACCEPTCONN), 0);
    expect_long("SO_ERROR", opt(sv[0], SO_ERROR), 0);
    expect_long("F_GETFD socketpair", fcntl(sv[0], F_GETFD), 0);
    struct stat st;
    expect_ok("fstat socket", fstat(sv[0], &st));
    expect_yes("fstat S_ISSOCK", S_ISSOCK(st.st_mode));
    names("stream", sv[0]);

    expect_long("send hello", send(sv[0], "hello", 5, 0), 5);
    recv_str("recv hello", sv[1], sizeof buf - 1, 0, 5, "hello");
    expect_long("echo back", send(sv[1], "olleh", 5, 0), 5);
    recv_str("recv echo", sv[0], sizeof buf - 1, 0, 5, "olleh");

    /* write()/read() work on sockets too. */
    expect_long("write", write(sv[0], "via write", 9), 9);
    memset(buf, 0, sizeof buf);
    expect_long("read", read(sv[1], buf, sizeof buf - 1), 9);
    expect_str("read data", buf, "via write");

    /* A stream has no message boundaries: one recv gets all three sends. */
    send(sv[0], "ab", 2, 0);
    send(sv[0], "cd", 2, 0);
    send(sv[0], "ef", 2, 0);
    recv_str("stream coalesces", sv[1], sizeof buf - 1, 0, 6, "abcdef");
    /* Partial reads leave the rest queued. */
    send(sv[0], "0123456789", 10, 0);
    recv_str("stream partial", sv[1], 4, 0, 4, "0123");
    recv_str("stream peek", sv[1], 3, MSG_PEEK, 3, "456");
    recv_str("stream rest", sv[1], sizeof buf - 1, 0, 6, "456789");
    expect_errno("recv MSG_DONTWAIT empty", recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);

    /* MSG_WAITALL collects across sends. */
    send(sv[0], "wa", 2, 0);
    send(sv[0], "it", 2, 0);
    recv_str("MSG_WAITALL 4", sv[1], 4, MSG_WAITALL, 4, "wait");

    /* shutdown(SHUT_WR): the peer reads EOF; the other direction still works. */
    expect_long("send before shutdown", send(sv[0], "last", 4, 0), 4);
    expect_ok("shutdown SHUT_WR", shutdown(sv[0], SHUT_WR));
    recv_str("peer reads queued data", sv[1], sizeof buf - 1, 0, 4, "last");
    expect_long("peer reads EOF", recv(sv[1], buf, sizeof buf, 0), 0);
    expect_long("peer reads EOF again", read(sv[1], buf, sizeof buf), 0);
    expect_errno("send after SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    expect_long("reverse direction send", send(sv[1], "still here", 10, 0), 10);
    recv_str("reverse direction recv", sv[0], sizeof buf - 1, 0, 10, "still here");
    close(sv[1]);
    expect_long("EOF after peer close", recv(sv[0], buf, sizeof buf, 0), 0);
    expect_errno("getpeername after peer close", getpeername(sv[0], (struct sockaddr *)buf,
                                                              &(socklen_t){sizeof buf}), 0);
    close(sv[0]);

    /* Peer close without shutdown. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    send(sv[1], "bye", 3, 0);
    close(sv[1]);
    recv_str("data before close", sv[0], sizeof buf - 1, 0, 3, "bye");
    expect_long("then EOF", recv(sv[0], buf, sizeof buf, 0), 0);
    expect_errno("send to closed peer", send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
    close(sv[0]);

    /* Datagram pair: boundaries are kept. */
    expect_ok("socketpair dgram", socketpair(AF_UNIX, SOCK_DGRAM, 0, dv));
    expect_str("SO_TYPE dgram", type_name(opt(dv[0], SO_TYPE)), "SOCK_DGRAM");
    expect_yes("SO_DOMAIN dgram is AF_UNIX", opt(dv[0], SO_DOMAIN) == AF_UNIX);
    names("dgram", dv[1]);
    expect_long("send one", send(dv[0], "one", 3, 0), 3);
    expect_long("send two", send(dv[0], "two", 3, 0), 3);
    expect_long("send three", send(dv[0], "three", 5, 0), 5);
    expect_long("send empty", send(dv[0], "", 0, 0), 0);
    expect_long("send four", send(dv[0], "four", 4, 0), 4);
    recv_str("dgram 1", dv[1], sizeof buf - 1, 0, 3, "one");
    recv_str("dgram 2 peek", dv[1], sizeof buf - 1, MSG_PEEK, 3, "two");
    recv_str("dgram 2", dv[1], sizeof buf - 1, 0, 3, "two");
    /* A short buffer truncates the datagram; the rest is discarded. */
    struct iovec iov = {buf, 2};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    memset(buf, 0, sizeof buf);
    expect_long("recvmsg truncated", recvmsg(dv[1], &mh, 0), 2);
    expect_str("truncated data", buf, "th");
    expect_yes("MSG_TRUNC in msg_flags", (mh.msg_flags & MSG_TRUNC) != 0);
    expect_long("empty datagram", recv(dv[1], buf, sizeof buf, 0), 0);
    expect_long("recv MSG_TRUNC returns full length", recv(dv[1], buf, 1, MSG_TRUNC), 4);
    expect_errno("dgram queue empty", recv(dv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    /* Echo the other way. */
    expect_long("dgram echo", send(dv[1], "pong", 4, 0), 4);
    recv_str("dgram echo recv", dv[0], sizeof buf - 1, 0, 4, "pong");
    /* Writes are whole datagrams too. */
    write(dv[0], "w1", 2);
    write(dv[0], "w2", 2);
    recv_str("write dgram 1", dv[1], sizeof buf - 1, 0, 2, "w1");
    recv_str("write dgram 2", dv[1], sizeof buf - 1, 0, 2, "w2");
    close(dv[1]);
    expect_errno("dgram send to closed peer", send(dv[0], "x", 1, MSG_NOSIGNAL), ECONNREFUSED);
    close(dv[0]);

    /* Buffer sizes: setsockopt stores double the value. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int v = 65536;
    expect_ok("SO_SNDBUF set", setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
    expect_long("SO_SNDBUF doubled", opt(sv[0], SO_SNDBUF), 131072);
    expect_ok("SO_RCVBUF set", setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
    expect_long("SO_RCVBUF doubled", opt(sv[0], SO_RCVBUF), 131072);
    v = 1;
    expect_ok("SO_REUSEADDR", setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof v));
    expect_errno("unknown option", getsockopt(sv[0], SOL_SOCKET, 9999, &v,
                                              &(socklen_t){sizeof v}), ENOPROTOOPT);
    expect_ok("shutdown SHUT_RDWR", shutdown(sv[0], SHUT_RDWR));
    expect_long("recv after SHUT_RD", recv(sv[0], buf, sizeof buf, 0), 0);
    expect_long("peer sees EOF", recv(sv[1], buf, sizeof buf, 0), 0);
    close(sv[0]);
    close(sv[1]);

    /* socket() argument errors. */
    expect_errno("bad protocol", socket(AF_UNIX, SOCK_STREAM, 7), EPROTONOSUPPORT);
    expect_errno("bad type", socket(AF_UNIX, 99, 0), EINVAL);
    expect_errno("bad type flags", socket(AF_UNIX, SOCK_STREAM | 0x10000, 0), EINVAL);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_yes("socket", s >= 0);
    /* Linux's unix_shutdown() does not check for a peer. */
    expect_ok("shutdown unconnected", shutdown(s, SHUT_WR));
    expect_errno("shutdown bad how", shutdown(s, 3), EINVAL);
    expect_errno("getpeername unconnected",
                 getpeername(s, (struct sockaddr *)buf, &(socklen_t){sizeof buf}), ENOTCONN);
    expect_errno("send unconnected", send(s, "x", 1, MSG_NOSIGNAL), ENOTCONN);
    close(s);
    pipe(sv);
    int t;
    expect_errno("getsockopt on a pipe",
                 getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &t, &(socklen_t){sizeof t}), ENOTSOCK);
    expect_errno("send on a pipe", send(sv[1], "x", 1, 0), ENOTSOCK);
    close(sv[0]);
    close(sv[1]);
    return finish();
}
