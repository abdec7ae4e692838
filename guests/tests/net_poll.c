/* poll() and select() readiness on sockets and pipes: a stream socketpair
 * through write, shutdown and close (POLLIN/POLLOUT/POLLHUP/POLLRDHUP), a
 * datagram pair, a pipe's ends (POLLHUP at the reader, POLLERR at the
 * writer), POLLNVAL, negative fds, a listener with a pending connection,
 * timeouts (0 and 50 ms), a blocking poll/select woken by another process,
 * and select() agreeing with poll() in each state.
 * Usage: net_poll SELF             (SELF = path of this program)
 *        net_poll SELF writer      (sleeps 100 ms, writes "x" to fd 0) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

#define PATH "/tmp/sidecar_net_poll.sock"

extern char **environ;

/* revents as "|"-joined names in alphabetical order, or "0". */
static const char *bits(int revents) {
    static const struct {
        int bit;
        const char *name;
    } names[] = {
        {POLLERR, "POLLERR"},       {POLLHUP, "POLLHUP"},       {POLLIN, "POLLIN"},
        {POLLNVAL, "POLLNVAL"},     {POLLOUT, "POLLOUT"},       {POLLPRI, "POLLPRI"},
        {POLLRDBAND, "POLLRDBAND"}, {POLLRDHUP, "POLLRDHUP"},   {POLLRDNORM, "POLLRDNORM"},
        {POLLWRBAND, "POLLWRBAND"}, {POLLWRNORM, "POLLWRNORM"},
    };
    static char out[256];
    out[0] = '\0';
    int rest = revents;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (revents & names[i].bit) {
            if (out[0]) strcat(out, "|");
            strcat(out, names[i].name);
            rest &= ~names[i].bit;
        }
    }
    if (rest) snprintf(out + strlen(out), sizeof out - strlen(out), "%s0x%x", out[0] ? "|" : "",
                       rest);
    if (!out[0]) strcpy(out, "0");
    return out;
}

/* poll(fd, events, timeout 0): prints the revents and the return value,
 * and returns revents. */
static int poll1(const char *label, int fd, short events, const char *want) {
    struct pollfd p = {fd, events, 0};
    int n = poll(&p, 1, 0);
    char got[300];
    snprintf(got, sizeof got, "%s (returned %d)", bits(p.revents), n);
    char exp[300];
    snprintf(exp, sizeof exp, "%s (returned %d)", want, strcmp(want, "0") ? 1 : 0);
    expect_str(label, got, exp);
    return p.revents;
}

/* select() on one fd in all three sets, timeout 0: "r w x" flags or the
 * errno, compared with what poll reported. */
static void select1(const char *label, int fd, int revents) {
    fd_set r, w, x;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    FD_SET(fd, &r);
    FD_SET(fd, &w);
    FD_SET(fd, &x);
    struct timeval tv = {0, 0};
    int n = select(fd + 1, &r, &w, &x, &tv);
    char got[64], want[64];
    if (n < 0)
        snprintf(got, sizeof got, "%s", errno_name(errno));
    else
        snprintf(got, sizeof got, "r%d w%d x%d (returned %d)", FD_ISSET(fd, &r) ? 1 : 0,
                 FD_ISSET(fd, &w) ? 1 : 0, FD_ISSET(fd, &x) ? 1 : 0, n);
    if (revents & POLLNVAL) {
        snprintf(want, sizeof want, "EBADF");
    } else {
        int rr = (revents & (POLLIN | POLLHUP | POLLERR)) != 0;
        int ww = (revents & (POLLOUT | POLLERR)) != 0;
        int xx = (revents & POLLPRI) != 0;
        snprintf(want, sizeof want, "r%d w%d x%d (returned %d)", rr, ww, xx, rr + ww + xx);
    }
    char l[128];
    snprintf(l, sizeof l, "  select %s", label);
    expect_str(l, got, want);
}

/* Both, for a state: poll with POLLIN|POLLOUT, then select. */
static void state(const char *label, int fd, const char *want) {
    int re = poll1(label, fd, POLLIN | POLLOUT, want);
    select1(label, fd, re);
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static pid_t spawn_writer(const char *self, int fd) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 0);
    char *argv[] = {(char *)self, (char *)self, "writer", NULL};
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        die("posix_spawn");
    }
    return pid;
}

static void reap(const char *label, pid_t pid) {
    int status = -1;
    waitpid(pid, &status, 0);
    expect_yes(label, WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int writer(void) {
    struct timespec ts = {0, 100 * 1000000L};
    nanosleep(&ts, NULL);
    return write(0, "x", 1) == 1 ? 0 : 3;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SELF [writer]\n", argv[0]);
        return 2;
    }
    if (argc > 2 && !strcmp(argv[2], "writer")) return writer();
    const char *self = argv[1];
    int sv[2], p[2];
    char buf[64];

    /* Stream socketpair. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    state("fresh socket", sv[0], "POLLOUT");
    poll1("fresh socket, POLLIN only", sv[0], POLLIN, "0");
    write(sv[1], "abc", 3);
    state("after peer write", sv[0], "POLLIN|POLLOUT");
    poll1("after peer write, POLLIN only", sv[0], POLLIN, "POLLIN");
    poll1("after peer write, RDNORM", sv[0], POLLRDNORM, "POLLRDNORM");
    read(sv[0], buf, sizeof buf);
    state("after reading it", sv[0], "POLLOUT");
    shutdown(sv[1], SHUT_WR);
    state("after peer SHUT_WR", sv[0], "POLLIN|POLLOUT");
    poll1("after peer SHUT_WR, RDHUP", sv[0], POLLIN | POLLRDHUP, "POLLIN|POLLRDHUP");
    state("own side after SHUT_WR", sv[1], "POLLOUT");
    close(sv[1]);
    state("after peer close", sv[0], "POLLHUP|POLLIN|POLLOUT");
    poll1("after peer close, no events", sv[0], 0, "POLLHUP");
    close(sv[0]);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    write(sv[1], "data", 4);
    close(sv[1]);
    state("data then peer close", sv[0], "POLLHUP|POLLIN|POLLOUT");
    close(sv[0]);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    shutdown(sv[0], SHUT_RDWR);
    state("own SHUT_RDWR", sv[0], "POLLHUP|POLLIN|POLLOUT");
    close(sv[0]);
    close(sv[1]);

    /* Datagram socketpair. */
    socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
    state("dgram fresh", sv[0], "POLLOUT");
    send(sv[1], "d", 1, 0);
    state("dgram after peer send", sv[0], "POLLIN|POLLOUT");
    close(sv[0]);
    close(sv[1]);

    /* Pipe. */
    pipe(p);
    state("pipe read end fresh", p[0], "0");
    state("pipe write end fresh", p[1], "POLLOUT");
    write(p[1], "x", 1);
    state("pipe read end with data", p[0], "POLLIN");
    close(p[1]);
    state("pipe read end, data, writer closed", p[0], "POLLHUP|POLLIN");
    read(p[0], buf, sizeof buf);
    state("pipe read end, empty, writer closed", p[0], "POLLHUP");
    close(p[0]);
    pipe(p);
    close(p[0]);
    state("pipe write end, reader closed", p[1], "POLLERR|POLLOUT");
    close(p[1]);

    /* Bad and negative fds. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    int closed = sv[1];
    close(sv[1]);
    close(sv[0]);
    state("closed fd", closed, "POLLNVAL");
    struct pollfd set[3] = {{-1, POLLIN, 0x7f}, {closed, POLLIN, 0}, {-5, POLLOUT, 0}};
    expect_long("poll with negative fds", poll(set, 3, 0), 1);
    expect_str("negative fd revents", bits(set[0].revents), "0");
    expect_str("closed fd revents", bits(set[1].revents), "POLLNVAL");

    /* Several fds: the count is of fds with events. */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pipe(p);
    write(sv[1], "y", 1);
    struct pollfd many[4] = {
        {sv[0], POLLIN, 0}, {sv[1], POLLIN, 0}, {p[0], POLLIN, 0}, {p[1], POLLOUT, 0}};
    expect_long("poll four fds", poll(many, 4, 0), 2);
    expect_str("  sv[0]", bits(many[0].revents), "POLLIN");
    expect_str("  sv[1]", bits(many[1].revents), "0");
    expect_str("  pipe read", bits(many[2].revents), "0");
    expect_str("  pipe write", bits(many[3].revents), "POLLOUT");
    /* select over several fds. */
    fd_set r, w;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_SET(sv[0], &r);
    FD_SET(sv[1], &r);
    FD_SET(p[0], &r);
    FD_SET(p[1], &w);
    FD_SET(sv[1], &w);
    int maxfd = sv[0];
    if (sv[1] > maxfd) maxfd = sv[1];
    if (p[0] > maxfd) maxfd = p[0];
    if (p[1] > maxfd) maxfd = p[1];
    struct timeval tv = {0, 0};
    expect_long("select four fds", select(maxfd + 1, &r, &w, NULL, &tv), 3);
    expect_yes("  read set", FD_ISSET(sv[0], &r) && !FD_ISSET(sv[1], &r) && !FD_ISSET(p[0], &r));
    expect_yes("  write set", FD_ISSET(p[1], &w) && FD_ISSET(sv[1], &w));
    /* An fd at or above nfds is ignored. */
    FD_ZERO(&r);
    FD_SET(sv[0], &r);
    tv.tv_sec = 0;
    tv.tv_usec = 0;
    expect_long("select fd >= nfds ignored", select(sv[0], &r, NULL, NULL, &tv), 0);
    expect_errno("select negative nfds", select(-1, NULL, NULL, NULL, &tv), EINVAL);
    tv.tv_sec = -1;
    expect_errno("select negative timeout", select(1, NULL, NULL, NULL, &tv), EINVAL);
    close(p[0]);
    close(p[1]);

    /* Timeouts. */
    read(sv[0], buf, sizeof buf);
    struct pollfd one = {sv[0], POLLIN, 0};
    expect_long("poll timeout 0", poll(&one, 1, 0), 0);
    int64_t t0 = now_ms();
    expect_long("poll timeout 50 ms", poll(&one, 1, 50), 0);
    int64_t dt = now_ms() - t0;
    expect_yes("waited >= 50 ms", dt >= 50);
    expect_yes("waited < 2 s", dt < 2000);
    t0 = now_ms();
    expect_long("poll no fds 30 ms", poll(NULL, 0, 30), 0);
    expect_yes("waited >= 30 ms", now_ms() - t0 >= 30);
    FD_ZERO(&r);
    FD_SET(sv[0], &r);
    tv.tv_sec = 0;
    tv.tv_usec = 50000;
    t0 = now_ms();
    expect_long("select timeout 50 ms", select(sv[0] + 1, &r, NULL, NULL, &tv), 0);
    expect_yes("select waited >= 50 ms", now_ms() - t0 >= 50);
    expect_yes("select cleared the set", !FD_ISSET(sv[0], &r));
    struct timespec ts = {0, 20 * 1000000L};
    t0 = now_ms();
    expect_long("ppoll timeout 20 ms", ppoll(&one, 1, &ts, NULL), 0);
    expect_yes("ppoll waited >= 20 ms", now_ms() - t0 >= 20);
    FD_ZERO(&r);
    FD_SET(sv[0], &r);
    t0 = now_ms();
    expect_long("pselect timeout 20 ms", pselect(sv[0] + 1, &r, NULL, NULL, &ts, NULL), 0);
    expect_yes("pselect waited >= 20 ms", now_ms() - t0 >= 20);

    /* Blocking poll/select woken by another process's write. */
    pid_t pid = spawn_writer(self, sv[1]);
    one.revents = 0;
    t0 = now_ms();
    expect_long("blocking poll woken", poll(&one, 1, -1), 1);
    expect_str("  revents", bits(one.revents), "POLLIN");
    expect_yes("  after the writer slept", now_ms() - t0 >= 90);
    reap("writer 1 exited 0", pid);
    read(sv[0], buf, sizeof buf);
    pid = spawn_writer(self, sv[1]);
    FD_ZERO(&r);
    FD_SET(sv[0], &r);
    expect_long("blocking select woken", select(sv[0] + 1, &r, NULL, NULL, NULL), 1);
    expect_yes("  readable", FD_ISSET(sv[0], &r));
    reap("writer 2 exited 0", pid);
    read(sv[0], buf, sizeof buf);
    close(sv[0]);
    close(sv[1]);

    /* A listener is readable when a connection is pending. */
    unlink(PATH);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, PATH);
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    bind(srv, (struct sockaddr *)&a, sizeof a);
    listen(srv, 4);
    state("listener, nothing pending", srv, "0");
    int c = socket(AF_UNIX, SOCK_STREAM, 0);
    state("unconnected socket", c, "POLLHUP|POLLOUT");
    connect(c, (struct sockaddr *)&a, sizeof a);
    state("listener, connection pending", srv, "POLLIN");
    state("connected client", c, "POLLOUT");
    int s = accept(srv, NULL, NULL);
    state("listener after accept", srv, "0");
    state("accepted socket", s, "POLLOUT");
    close(s);
    close(c);
    close(srv);
    unlink(PATH);
    return finish();
}
