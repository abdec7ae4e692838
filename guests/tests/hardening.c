/* Small hardening checks (issue #9).
 *
 *   hardening iov          readv/writev/preadv/pwritev and sendmsg/recvmsg
 *                          take at most IOV_MAX (1024) iovecs: more is
 *                          EINVAL (EMSGSIZE for the socket calls)
 *   hardening cat FILE     prints FILE
 *   hardening spawn PATH.. posix_spawns each PATH and prints the errno, or
 *                          how the child ended */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

#define MAX_IOV 1024

static struct iovec iov[MAX_IOV + 1];
static char bytes[MAX_IOV + 1];
/* Far more than the table holds: the count is refused before it is read. */
static volatile int a_million = 1000000;

static void point_iovecs(void) {
    for (int i = 0; i <= MAX_IOV; i++) {
        iov[i].iov_base = &bytes[i];
        iov[i].iov_len = 1;
    }
}

static int test_iov(void) {
    point_iovecs();
    int null = open("/dev/null", O_RDWR);
    if (null < 0) die("open /dev/null");
    expect_long("writev 1024 iovecs", writev(null, iov, MAX_IOV), MAX_IOV);
    expect_errno("writev 1025 iovecs", writev(null, iov, MAX_IOV + 1), EINVAL);
    expect_errno("writev a million iovecs", writev(null, iov, a_million), EINVAL);
    expect_errno("readv 1025 iovecs", readv(null, iov, MAX_IOV + 1), EINVAL);

    char path[64];
    snprintf(path, sizeof path, "/tmp/sidecar-hardening-%d", (int)getpid());
    int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (f < 0) die("open %s", path);
    expect_long("pwritev 1024 iovecs", pwritev(f, iov, MAX_IOV, 0), MAX_IOV);
    expect_errno("pwritev 1025 iovecs", pwritev(f, iov, MAX_IOV + 1, 0), EINVAL);
    expect_long("preadv 1024 iovecs", preadv(f, iov, MAX_IOV, 0), MAX_IOV);
    expect_errno("preadv 1025 iovecs", preadv(f, iov, MAX_IOV + 1, 0), EINVAL);
    expect_ok("close", close(f));
    expect_ok("unlink", unlink(path));

    int p[2];
    if (pipe(p)) die("pipe");
    memset(bytes, 'x', sizeof bytes);
    expect_long("writev 1024 to a pipe", writev(p[1], iov, MAX_IOV), MAX_IOV);
    memset(bytes, 0, sizeof bytes);
    expect_errno("readv 1025 from a pipe", readv(p[0], iov, MAX_IOV + 1), EINVAL);
    expect_long("readv 1024 from a pipe", readv(p[0], iov, MAX_IOV), MAX_IOV);
    expect_yes("bytes arrived", bytes[0] == 'x' && bytes[MAX_IOV - 1] == 'x');

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv)) die("socketpair");
    struct msghdr msg = {0};
    msg.msg_iov = iov;
    msg.msg_iovlen = MAX_IOV + 1;
    expect_errno("sendmsg 1025 iovecs", sendmsg(sv[0], &msg, 0), EMSGSIZE);
    msg.msg_iovlen = MAX_IOV;
    expect_long("sendmsg 1024 iovecs", sendmsg(sv[0], &msg, 0), MAX_IOV);
    msg.msg_iovlen = MAX_IOV + 1;
    expect_errno("recvmsg 1025 iovecs", recvmsg(sv[1], &msg, 0), EMSGSIZE);
    msg.msg_iovlen = MAX_IOV;
    expect_long("recvmsg 1024 iovecs", recvmsg(sv[1], &msg, 0), MAX_IOV);
    return finish();
}

static int cat(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        printf("%s: %s\n", path, errno_name(errno));
        return 1;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) fwrite(buf, 1, (size_t)n, stdout);
    close(fd);
    return 0;
}

static int spawn_each(int n, char **paths) {
    for (int i = 0; i < n; i++) {
        char *argv[] = {paths[i], NULL};
        pid_t pid;
        int err = posix_spawn(&pid, paths[i], NULL, NULL, argv, environ);
        if (err) {
            printf("%s: %s\n", paths[i], errno_name(err));
            continue;
        }
        int status;
        if (waitpid(pid, &status, 0) != pid) die("waitpid");
        if (WIFEXITED(status))
            printf("%s: exit %d\n", paths[i], WEXITSTATUS(status));
        else
            printf("%s: signal %d\n", paths[i], WTERMSIG(status));
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "iov") == 0) return test_iov();
    if (argc == 3 && strcmp(argv[1], "cat") == 0) return cat(argv[2]);
    if (argc >= 2 && strcmp(argv[1], "spawn") == 0) return spawn_each(argc - 2, argv + 2);
    fprintf(stderr, "usage: %s iov | cat FILE | spawn PATH...\n", argv[0]);
    return 2;
}
