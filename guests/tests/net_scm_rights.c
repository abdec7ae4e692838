/* SCM_RIGHTS over a stream socketpair: pass a pipe's read end, write into
 * the pipe and read through the received fd; the control message layout;
 * MSG_CMSG_CLOEXEC; several fds in one message; MSG_CTRUNC (and the dropped
 * fds closed) when the control buffer has room for fewer fds or none; two
 * messages with fds never merged into one recvmsg; EBADF for a bad fd;
 * SCM_RIGHTS on a datagram pair; passing a socket. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "testutil.h"

/* Sends `data` with the fds as one SCM_RIGHTS message. */
static ssize_t send_fds(int sock, const char *data, const int *fds, int n) {
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(8 * sizeof(int))];
    } u;
    struct iovec iov = {(void *)data, strlen(data)};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    memset(&u, 0, sizeof u);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (n > 0) {
        mh.msg_control = u.buf;
        mh.msg_controllen = CMSG_SPACE(n * sizeof(int));
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(n * sizeof(int));
        memcpy(CMSG_DATA(c), fds, n * sizeof(int));
    }
    return sendmsg(sock, &mh, 0);
}

struct received {
    ssize_t bytes;
    char data[64];
    int nfds;
    int fds[8];
    int flags;
    int layout_ok; /* cmsg_len/level/type and msg_controllen as expected */
};

/* recvmsg with a control buffer of `ctl_len` bytes (0 = no buffer). */
static struct received recv_fds(int sock, size_t ctl_len, int flags) {
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(8 * sizeof(int))];
    } u;
    struct received r;
    memset(&r, 0, sizeof r);
    memset(&u, 0, sizeof u);
    struct iovec iov = {r.data, sizeof r.data - 1};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (ctl_len) {
        mh.msg_control = u.buf;
        mh.msg_controllen = ctl_len;
    }
    r.bytes = recvmsg(sock, &mh, flags);
    if (r.bytes < 0) return r;
    r.flags = mh.msg_flags;
    r.layout_ok = 1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
            r.layout_ok = 0;
            continue;
        }
        int n = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        if (c->cmsg_len != CMSG_LEN(n * sizeof(int))) r.layout_ok = 0;
        if (mh.msg_controllen != CMSG_SPACE(n * sizeof(int)) && mh.msg_controllen != ctl_len)
            r.layout_ok = 0;
        memcpy(r.fds + r.nfds, CMSG_DATA(c), n * sizeof(int));
        r.nfds += n;
    }
    if (r.nfds == 0 && mh.msg_controllen != 0) r.layout_ok = 0;
    return r;
}

static void show(const char *label, struct received r) {
    if (r.bytes < 0) {
        expect_errno(label, -1, 0);
        return;
    }
    printf("%s: %ld bytes [%s], %d fds, flags%s%s, layout %s\n", label, (long)r.bytes, r.data,
           r.nfds, r.flags & MSG_CTRUNC ? " MSG_CTRUNC" : "",
           r.flags & MSG_TRUNC ? " MSG_TRUNC" : "", r.layout_ok ? "ok" : "BAD");
    if (!r.layout_ok) failures++;
}

/* Whether the pipe whose write end is `wfd` has no reader left. */
static int no_readers(int wfd) {
    struct pollfd p = {wfd, POLLOUT, 0};
    poll(&p, 1, 0);
    return (p.revents & POLLERR) != 0;
}

int main(void) {
    int sv[2], p[2];
    char buf[64];

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);

    /* Pass a pipe's read end; the original is closed before use. */
    pipe(p);
    expect_long("sendmsg with fd", send_fds(sv[0], "F", &p[0], 1), 1);
    close(p[0]);
    struct received r = recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0);
    show("recvmsg", r);
    expect_yes("got one fd", r.nfds == 1);
    int got = r.nfds == 1 ? r.fds[0] : -1;
    expect_long("received fd not close-on-exec", fcntl(got, F_GETFD), 0);
    expect_long("write into pipe", write(p[1], "through the pipe", 16), 16);
    memset(buf, 0, sizeof buf);
    expect_long("read via received fd", read(got, buf, sizeof buf - 1), 16);
    expect_str("data", buf, "through the pipe");
    expect_yes("pipe has a reader", !no_readers(p[1]));
    close(got);
    expect_yes("last reader closed", no_readers(p[1]));
    close(p[1]);

    /* MSG_CMSG_CLOEXEC. */
    pipe(p);
    send_fds(sv[0], "C", &p[0], 1);
    r = recv_fds(sv[1], CMSG_SPACE(sizeof(int)), MSG_CMSG_CLOEXEC);
    show("recvmsg MSG_CMSG_CLOEXEC", r);
    expect_long("received fd close-on-exec", r.nfds ? fcntl(r.fds[0], F_GETFD) : -1, FD_CLOEXEC);
    if (r.nfds) close(r.fds[0]);
    close(p[0]);
    close(p[1]);

    /* Three fds in one message. */
    int three[3];
    int pipes[3][2];
    for (int i = 0; i < 3; i++) {
        pipe(pipes[i]);
        three[i] = pipes[i][0];
    }
    expect_long("sendmsg 3 fds", send_fds(sv[0], "3", three, 3), 1);
    for (int i = 0; i < 3; i++) close(pipes[i][0]);
    r = recv_fds(sv[1], CMSG_SPACE(3 * sizeof(int)), 0);
    show("recvmsg 3 fds", r);
    int order_ok = r.nfds == 3;
    for (int i = 0; i < r.nfds && i < 3; i++) {
        write(pipes[i][1], "k", 1);
        memset(buf, 0, sizeof buf);
        if (read(r.fds[i], buf, 1) != 1 || buf[0] != 'k') order_ok = 0;
        /* Each received fd reads its own pipe only. */
        close(r.fds[i]);
    }
    expect_yes("fds arrive in order", order_ok);
    for (int i = 0; i < 3; i++) close(pipes[i][1]);

    /* Room for one of three: MSG_CTRUNC, the others are closed. */
    for (int i = 0; i < 3; i++) {
        pipe(pipes[i]);
        three[i] = pipes[i][0];
    }
    send_fds(sv[0], "t", three, 3);
    for (int i = 0; i < 3; i++) close(pipes[i][0]);
    r = recv_fds(sv[1], CMSG_LEN(sizeof(int)), 0);
    show("recvmsg room for 1 of 3", r);
    expect_yes("first fd kept", r.nfds == 1 && !no_readers(pipes[0][1]));
    expect_yes("others closed", no_readers(pipes[1][1]) && no_readers(pipes[2][1]));
    if (r.nfds) close(r.fds[0]);
    for (int i = 0; i < 3; i++) close(pipes[i][1]);

    /* Room for no fd at all: MSG_CTRUNC, the fd is closed, data arrives. */
    pipe(p);
    send_fds(sv[0], "Z", &p[0], 1);
    close(p[0]);
    r = recv_fds(sv[1], CMSG_LEN(0), 0);
    show("recvmsg room for 0 fds", r);
    expect_yes("dropped fd closed", no_readers(p[1]));
    close(p[1]);
    pipe(p);
    send_fds(sv[0], "N", &p[0], 1);
    close(p[0]);
    r = recv_fds(sv[1], 0, 0);
    show("recvmsg without control buffer", r);
    expect_yes("dropped fd closed (no buffer)", no_readers(p[1]));
    close(p[1]);

    /* Two messages with fds are not merged. */
    int pa[2], pb[2];
    pipe(pa);
    pipe(pb);
    send_fds(sv[0], "A", &pa[0], 1);
    send_fds(sv[0], "B", &pb[0], 1);
    close(pa[0]);
    close(pb[0]);
    r = recv_fds(sv[1], CMSG_SPACE(8 * sizeof(int)), 0);
    show("first of two", r);
    expect_yes("first carries pipe A", r.nfds == 1 && write(pa[1], "a", 1) == 1 &&
                                           read(r.fds[0], buf, 1) == 1 && buf[0] == 'a');
    if (r.nfds) close(r.fds[0]);
    r = recv_fds(sv[1], CMSG_SPACE(8 * sizeof(int)), 0);
    show("second of two", r);
    expect_yes("second carries pipe B", r.nfds == 1 && write(pb[1], "b", 1) == 1 &&
                                            read(r.fds[0], buf, 1) == 1 && buf[0] == 'b');
    if (r.nfds) close(r.fds[0]);
    close(pa[1]);
    close(pb[1]);

    /* Plain data after a message with fds is not read with it. */
    pipe(p);
    send_fds(sv[0], "fd", &p[0], 1);
    send(sv[0], "plain", 5, 0);
    close(p[0]);
    r = recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0);
    show("fd message then plain data", r);
    if (r.nfds) close(r.fds[0]);
    r = recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0);
    show("the plain data", r);
    close(p[1]);

    /* Plain data, then a message with fds. */
    pipe(p);
    send(sv[0], "plain", 5, 0);
    send_fds(sv[0], "fd", &p[0], 1);
    close(p[0]);
    r = recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0);
    show("plain data then fd message", r);
    if (r.nfds) close(r.fds[0]);
    if (r.bytes == 5) {
        r = recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0);
        show("the fd message", r);
        if (r.nfds) close(r.fds[0]);
    }
    close(p[1]);

    /* Peeking does not install fds... nor consume them. */
    pipe(p);
    send_fds(sv[0], "P", &p[0], 1);
    close(p[0]);
    r = recv_fds(sv[1], CMSG_SPACE(sizeof(int)), MSG_PEEK);
    expect_long("peek bytes", r.bytes, 1);
    if (r.nfds) close(r.fds[0]);
    r = recv_fds(sv[1], CMSG_SPACE(sizeof(int)), 0);
    show("after peek", r);
    if (r.nfds) close(r.fds[0]);
    close(p[1]);

    /* Errors. */
    int bad = 99;
    expect_errno("sendmsg bad fd", send_fds(sv[0], "x", &bad, 1), EBADF);
    expect_errno("nothing queued by the failed send",
                 recv(sv[1], buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    struct msghdr mh;
    struct iovec iov = {"x", 1};
    union {
        struct cmsghdr align;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&mh, 0, sizeof mh);
    memset(&u, 0, sizeof u);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = u.buf;
    mh.msg_controllen = sizeof u.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = 99;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    expect_errno("unknown cmsg type", sendmsg(sv[0], &mh, 0), EINVAL);
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = sizeof u.buf + 4;
    expect_errno("cmsg_len too long", sendmsg(sv[0], &mh, 0), EINVAL);
    close(sv[0]);
    close(sv[1]);

    /* Datagram pair; passing a socket. */
    int dv[2], inner[2];
    socketpair(AF_UNIX, SOCK_DGRAM, 0, dv);
    socketpair(AF_UNIX, SOCK_STREAM, 0, inner);
    expect_long("dgram sendmsg socket fd", send_fds(dv[0], "sock", &inner[1], 1), 4);
    close(inner[1]);
    r = recv_fds(dv[1], CMSG_SPACE(sizeof(int)), 0);
    show("dgram recvmsg", r);
    if (r.nfds == 1) {
        send(r.fds[0], "via passed socket", 17, 0);
        memset(buf, 0, sizeof buf);
        recv(inner[0], buf, sizeof buf - 1, 0);
        expect_str("passed socket works", buf, "via passed socket");
        close(r.fds[0]);
    }
    expect_long("EOF once the passed socket is closed", recv(inner[0], buf, sizeof buf, 0), 0);
    close(inner[0]);
    close(dv[0]);
    close(dv[1]);
    return finish();
}
