/* Named AF_UNIX sockets: bind/listen/connect/accept on a path under /tmp
 * (the socket file: stat S_ISSOCK, readdir, unlink), connect before accept,
 * getsockname/getpeername, the connect and bind errors (ENOENT,
 * ECONNREFUSED, EADDRINUSE, EINVAL, EISCONN), abstract names, autobind,
 * accept4 flags, a listen backlog of 0, SO_PEERCRED from a spawned client
 * process, and datagram sockets on paths (sendto/recvfrom/recvmsg
 * addresses).
 * Usage: net_listen SELF           (SELF = path of this program)
 *        net_listen SELF client PATH */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define DIR_PATH "/tmp"
#define NAME "sidecar_net_listen.sock"
#define PATH DIR_PATH "/" NAME
#define PATH2 DIR_PATH "/sidecar_net_listen2.sock"
#define FILE_PATH DIR_PATH "/sidecar_net_listen.txt"
#define ABSTRACT "sidecar-net-listen-abstract"

extern char **environ;

/* wasi-libc has no DT_SOCK: WASI reports sockets as SOCKET_STREAM, which
 * wasi-libc's <dirent.h> calls DT_FIFO. */
#ifndef DT_SOCK
#define DT_SOCK DT_FIFO
#endif

static socklen_t path_addr(struct sockaddr_un *a, const char *path) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    strcpy(a->sun_path, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name) {
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    memcpy(a->sun_path + 1, name, strlen(name));
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

/* Prints an address: "len N path P" / "len N abstract A" / "len 2 unnamed". */
static void show_addr(const char *label, const struct sockaddr_un *a, socklen_t len) {
    char out[300];
    size_t plen = len > 2 ? len - 2 : 0;
    if (a->sun_family != AF_UNIX)
        snprintf(out, sizeof out, "family %d", a->sun_family);
    else if (len <= 2)
        snprintf(out, sizeof out, "len %u unnamed", (unsigned)len);
    else if (a->sun_path[0] == '\0')
        snprintf(out, sizeof out, "len %u abstract %.*s", (unsigned)len, (int)plen - 1,
                 a->sun_path + 1);
    else
        snprintf(out, sizeof out, "len %u path %s", (unsigned)len, a->sun_path);
    printf("%s: %s\n", label, out);
}

static void sockname(const char *label, int fd) {
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    if (getsockname(fd, (struct sockaddr *)&a, &len)) {
        expect_errno(label, -1, 0);
        return;
    }
    show_addr(label, &a, len);
}

static void peername(const char *label, int fd) {
    struct sockaddr_un a;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    if (getpeername(fd, (struct sockaddr *)&a, &len)) {
        expect_errno(label, -1, 0);
        return;
    }
    show_addr(label, &a, len);
}

static int connect_path(const char *path) {
    struct sockaddr_un a;
    socklen_t len = path_addr(&a, path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    if (connect(s, (struct sockaddr *)&a, len)) {
        int e = errno;
        close(s);
        errno = e;
        return -1;
    }
    return s;
}

static int in_dir(const char *dir, const char *name, int *is_sock) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int found = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, name)) {
            found = 1;
            *is_sock = e->d_type == DT_SOCK;
        }
    }
    closedir(d);
    return found;
}

static void recv_expect(const char *label, int fd, const char *want) {
    char buf[64];
    memset(buf, 0, sizeof buf);
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        expect_errno(label, -1, 0);
        return;
    }
    expect_str(label, buf, want);
}

/* Client process: connect, send our pid, wait for the reply. */
static int client(const char *path) {
    int s = connect_path(path);
    if (s < 0) return 3;
    char msg[32];
    int len = snprintf(msg, sizeof msg, "%ld", (long)getpid());
    if (send(s, msg, (size_t)len, 0) != len) return 4;
    char buf[8];
    if (recv(s, buf, sizeof buf, 0) != 2 || memcmp(buf, "ok", 2)) return 5;
    close(s);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SELF [client PATH]\n", argv[0]);
        return 2;
    }
    if (argc > 3 && !strcmp(argv[2], "client")) return client(argv[3]);
    const char *self = argv[1];

    struct sockaddr_un a;
    socklen_t alen;
    struct stat st;
    char buf[64];
    unlink(PATH);
    unlink(PATH2);
    unlink(FILE_PATH);

    /* Bind creates the socket file. */
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_yes("socket", srv >= 0);
    alen = path_addr(&a, PATH);
    expect_ok("bind", bind(srv, (struct sockaddr *)&a, alen));
    expect_ok("stat socket file", stat(PATH, &st));
    expect_yes("S_ISSOCK", S_ISSOCK(st.st_mode));
    int is_sock = 0;
    expect_yes("readdir shows it", in_dir(DIR_PATH, NAME, &is_sock));
    expect_yes("readdir d_type DT_SOCK", is_sock);
    sockname("listener getsockname", srv);
    /* Linux creates the file before it looks at the socket: the path wins. */
    expect_errno("bind again same path", bind(srv, (struct sockaddr *)&a, alen), EADDRINUSE);
    alen = path_addr(&a, PATH2);
    expect_errno("bind again other path", bind(srv, (struct sockaddr *)&a, alen), EINVAL);
    expect_errno("no file left behind", stat(PATH2, &st), ENOENT);
    alen = path_addr(&a, PATH);
    int other = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_errno("bind same path", bind(other, (struct sockaddr *)&a, alen), EADDRINUSE);
    close(other);

    /* Bound but not listening: refused. */
    expect_errno("connect to non-listening socket", connect_path(PATH), ECONNREFUSED);
    expect_errno("connect to missing path", connect_path(DIR_PATH "/sidecar_no_such.sock"),
                 ENOENT);
    int fd = open(FILE_PATH, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    close(fd);
    expect_errno("connect to regular file", connect_path(FILE_PATH), ECONNREFUSED);
    unlink(FILE_PATH);
    other = socket(AF_UNIX, SOCK_STREAM, 0);
    alen = path_addr(&a, DIR_PATH "/sidecar_no_such_dir/x.sock");
    expect_errno("bind in missing dir", bind(other, (struct sockaddr *)&a, alen), ENOENT);
    expect_errno("listen unbound", listen(other, 5), EINVAL);
    close(other);

    expect_ok("listen", listen(srv, 5));
    int v = -1;
    socklen_t vlen = sizeof v;
    getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &v, &vlen);
    expect_long("SO_ACCEPTCONN", v, 1);

    /* Connect completes before accept; data sent early is there. */
    int c = connect_path(PATH);
    expect_yes("connect", c >= 0);
    expect_long("send before accept", send(c, "early", 5, 0), 5);
    alen = sizeof a;
    memset(&a, 0, sizeof a);
    int s = accept(srv, (struct sockaddr *)&a, &alen);
    expect_yes("accept", s >= 0);
    show_addr("accept address", &a, alen);
    recv_expect("recv early data", s, "early");
    expect_long("reply", send(s, "hi", 2, 0), 2);
    recv_expect("client recv", c, "hi");
    sockname("client getsockname", c);
    peername("client getpeername", c);
    sockname("accepted getsockname", s);
    peername("accepted getpeername", s);
    expect_long("F_GETFD accepted", fcntl(s, F_GETFD), 0);
    alen = path_addr(&a, PATH);
    expect_errno("connect again", connect(c, (struct sockaddr *)&a, alen), EISCONN);
    /* A truncated address buffer: the full length is reported. */
    struct sockaddr_un small;
    memset(&small, 0, sizeof small);
    alen = 6;
    expect_ok("getpeername short buffer", getpeername(c, (struct sockaddr *)&small, &alen));
    expect_long("full length reported", alen, (long)(2 + strlen(PATH) + 1));
    expect_str("truncated copy", small.sun_path, "/tmp");
    close(s);
    close(c);

    /* accept4 flags. */
    c = connect_path(PATH);
    s = accept4(srv, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    expect_yes("accept4", s >= 0);
    expect_long("accept4 SOCK_CLOEXEC", fcntl(s, F_GETFD), FD_CLOEXEC);
    expect_yes("accept4 SOCK_NONBLOCK", (fcntl(s, F_GETFL) & O_NONBLOCK) != 0);
    expect_errno("accepted recv non-blocking", recv(s, buf, sizeof buf, 0), EAGAIN);
    close(s);
    close(c);
    expect_errno("accept4 bad flags", accept4(srv, NULL, NULL, 0x10), EINVAL);

    /* SO_PEERCRED: the pid of a spawned client. */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclose(&fa, srv);
    char *cargv[] = {(char *)self, (char *)self, "client", PATH, NULL};
    pid_t child;
    fflush(stdout);
    int err = posix_spawn(&child, self, &fa, NULL, cargv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        die("posix_spawn");
    }
    s = accept(srv, NULL, NULL);
    expect_yes("accept from child", s >= 0);
    struct ucred cred;
    memset(&cred, 0, sizeof cred);
    vlen = sizeof cred;
    expect_ok("SO_PEERCRED", getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &vlen));
    expect_long("SO_PEERCRED len", vlen, (long)sizeof cred);
    memset(buf, 0, sizeof buf);
    ssize_t n = recv(s, buf, sizeof buf - 1, 0);
    expect_yes("child sent its pid", n > 0);
    expect_yes("peercred pid matches", cred.pid == child && atol(buf) == (long)child);
    send(s, "ok", 2, 0);
    int status = -1;
    waitpid(child, &status, 0);
    expect_yes("client exited 0", WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(s);
    /* The client's view: the listener's credentials. */
    c = connect_path(PATH);
    memset(&cred, 0, sizeof cred);
    vlen = sizeof cred;
    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &vlen);
    expect_yes("client sees listener pid", cred.pid == getpid());
    s = accept(srv, NULL, NULL);
    close(s);
    close(c);

    /* unlink removes the name; connected sockets and the listener live on. */
    c = connect_path(PATH);
    expect_ok("unlink", unlink(PATH));
    expect_errno("stat after unlink", stat(PATH, &st), ENOENT);
    expect_errno("connect after unlink", connect_path(PATH), ENOENT);
    s = accept(srv, NULL, NULL);
    expect_yes("accept pending after unlink", s >= 0);
    send(c, "alive", 5, 0);
    recv_expect("still connected", s, "alive");
    sockname("listener name after unlink", srv);
    close(s);
    close(c);

    /* A closed listener whose file remains: refused; the path stays in use. */
    int srv2 = socket(AF_UNIX, SOCK_STREAM, 0);
    alen = path_addr(&a, PATH2);
    bind(srv2, (struct sockaddr *)&a, alen);
    listen(srv2, 1);
    close(srv2);
    expect_errno("connect to closed listener", connect_path(PATH2), ECONNREFUSED);
    other = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_errno("bind over stale socket file", bind(other, (struct sockaddr *)&a, alen),
                 EADDRINUSE);
    close(other);
    unlink(PATH2);

    /* Backlog 0 means one pending connection; the next would block. */
    srv2 = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(srv2, (struct sockaddr *)&a, alen);
    expect_ok("listen backlog 0", listen(srv2, 0));
    c = connect_path(PATH2);
    expect_yes("first connect", c >= 0);
    other = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
    expect_errno("second connect non-blocking", connect(other, (struct sockaddr *)&a, alen),
                 EAGAIN);
    close(other);
    close(c);
    close(srv2);
    unlink(PATH2);

    /* Abstract names: no file; the length is exact. */
    int as = socket(AF_UNIX, SOCK_STREAM, 0);
    alen = abstract_addr(&a, ABSTRACT);
    expect_ok("bind abstract", bind(as, (struct sockaddr *)&a, alen));
    expect_ok("listen abstract", listen(as, 5));
    sockname("abstract getsockname", as);
    int ac = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_ok("connect abstract", connect(ac, (struct sockaddr *)&a, alen));
    int aa = accept(as, NULL, NULL);
    expect_yes("accept abstract", aa >= 0);
    send(ac, "abs", 3, 0);
    recv_expect("abstract data", aa, "abs");
    peername("abstract client getpeername", ac);
    /* A trailing NUL is part of an abstract name. */
    int ac2 = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_errno("abstract name plus NUL", connect(ac2, (struct sockaddr *)&a, alen + 1),
                 ECONNREFUSED);
    close(ac2);
    other = socket(AF_UNIX, SOCK_STREAM, 0);
    expect_errno("bind abstract in use", bind(other, (struct sockaddr *)&a, alen), EADDRINUSE);
    close(other);
    close(aa);
    close(ac);
    close(as);

    /* Autobind: an address of length 2. */
    int ab = socket(AF_UNIX, SOCK_DGRAM, 0);
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    expect_ok("autobind", bind(ab, (struct sockaddr *)&a, 2));
    alen = sizeof a;
    getsockname(ab, (struct sockaddr *)&a, &alen);
    expect_long("autobind len", alen, 8);
    expect_yes("autobind abstract", a.sun_path[0] == '\0');
    close(ab);

    /* Datagram sockets on paths: sendto/recvfrom/recvmsg addresses. */
    unlink(PATH2);
    unlink(FILE_PATH);
    int ds = socket(AF_UNIX, SOCK_DGRAM, 0);
    alen = path_addr(&a, PATH2);
    expect_ok("bind dgram", bind(ds, (struct sockaddr *)&a, alen));
    int dc = socket(AF_UNIX, SOCK_DGRAM, 0);
    expect_long("sendto from unbound", sendto(dc, "u", 1, 0, (struct sockaddr *)&a, alen), 1);
    struct sockaddr_un from;
    memset(&from, 0x41, sizeof from);
    socklen_t flen = sizeof from;
    expect_long("recvfrom", recvfrom(ds, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen), 1);
    expect_long("unbound sender address length", flen, 0);
    struct sockaddr_un ca;
    socklen_t calen = path_addr(&ca, FILE_PATH);
    expect_ok("bind dgram client", bind(dc, (struct sockaddr *)&ca, calen));
    expect_long("sendto from bound", sendto(dc, "b", 1, 0, (struct sockaddr *)&a, alen), 1);
    flen = sizeof from;
    memset(&from, 0, sizeof from);
    recvfrom(ds, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
    show_addr("recvfrom bound sender", &from, flen);
    expect_errno("send unconnected dgram", send(dc, "x", 1, 0), ENOTCONN);
    expect_ok("connect dgram", connect(dc, (struct sockaddr *)&a, alen));
    peername("dgram getpeername", dc);
    expect_long("send connected dgram", send(dc, "abc", 3, 0), 3);
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    memset(&from, 0, sizeof from);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    expect_long("recvmsg dgram", recvmsg(ds, &mh, 0), 3);
    show_addr("recvmsg sender", &from, mh.msg_namelen);
    expect_long("reply with sendto", sendto(ds, "r", 1, 0, (struct sockaddr *)&from, mh.msg_namelen),
                1);
    recv_expect("reply arrives", dc, "r");
    alen = path_addr(&a, DIR_PATH "/sidecar_no_such.sock");
    expect_errno("sendto missing path", sendto(ds, "r", 1, 0, (struct sockaddr *)&a, alen), ENOENT);
    close(dc);
    close(ds);
    unlink(PATH2);
    unlink(FILE_PATH);
    /* recvfrom on a stream socket reports no address. */
    int pv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, pv);
    send(pv[0], "q", 1, 0);
    flen = sizeof from;
    memset(&from, 0x41, sizeof from);
    expect_long("recvfrom stream", recvfrom(pv[1], buf, sizeof buf, 0, (struct sockaddr *)&from,
                                            &flen), 1);
    expect_long("stream address length", flen, 0);
    alen = path_addr(&a, PATH);
    expect_errno("sendto on connected stream", sendto(pv[0], "x", 1, 0, (struct sockaddr *)&a, alen),
                 EISCONN);
    close(pv[0]);
    close(pv[1]);

    /* Bad addresses. */
    other = socket(AF_UNIX, SOCK_STREAM, 0);
    alen = path_addr(&a, PATH);
    a.sun_family = AF_INET;
    expect_errno("bind wrong family", bind(other, (struct sockaddr *)&a, alen), EINVAL);
    a.sun_family = AF_UNIX;
    expect_errno("bind length too long", bind(other, (struct sockaddr *)&a, sizeof a + 1),
                 EINVAL);
    expect_errno("connect length 1", connect(other, (struct sockaddr *)&a, 1), EINVAL);
    close(other);

    close(srv);
    return finish();
}
