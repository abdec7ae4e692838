/* File-descriptor operations: pipe/pipe2, dup/dup2/dup3, fcntl
 * (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/F_SETFD, F_GETFL/F_SETFL), non-blocking
 * pipes, pipe capacity, EOF, shared offsets. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define FILE_PATH "/tmp/sidecar_fd_ops.txt"

static const char *accmode(int fl) {
    switch (fl & O_ACCMODE) {
    case O_RDONLY:
        return "O_RDONLY";
    case O_WRONLY:
        return "O_WRONLY";
    case O_RDWR:
        return "O_RDWR";
    }
    return "?";
}

int main(void) {
    int p[2], q[2];
    char buf[64];

    /* pipe: data flows, EOF after the write end closes. */
    expect_ok("pipe", pipe(p));
    expect_long("F_GETFD plain pipe", fcntl(p[0], F_GETFD), 0);
    expect_str("read end F_GETFL", accmode(fcntl(p[0], F_GETFL)), "O_RDONLY");
    expect_str("write end F_GETFL", accmode(fcntl(p[1], F_GETFL)), "O_WRONLY");
    expect_long("write 5", write(p[1], "hello", 5), 5);
    memset(buf, 0, sizeof buf);
    expect_long("read 5", read(p[0], buf, sizeof buf), 5);
    expect_str("pipe data", buf, "hello");
    close(p[1]);
    expect_long("read at EOF", read(p[0], buf, sizeof buf), 0);
    close(p[0]);
    expect_errno("F_GETFD closed fd", fcntl(p[0], F_GETFD), EBADF);
    expect_errno("close closed fd", close(p[0]), EBADF);

    /* pipe2 flags. */
    expect_ok("pipe2 O_CLOEXEC", pipe2(q, O_CLOEXEC));
    expect_long("cloexec read end", fcntl(q[0], F_GETFD), FD_CLOEXEC);
    expect_long("cloexec write end", fcntl(q[1], F_GETFD), FD_CLOEXEC);
    expect_ok("F_SETFD 0", fcntl(q[0], F_SETFD, 0));
    expect_long("F_GETFD after clear", fcntl(q[0], F_GETFD), 0);
    close(q[0]);
    close(q[1]);
    expect_errno("pipe2 bad flags", pipe2(q, O_TRUNC), EINVAL);

    expect_ok("pipe2 O_NONBLOCK", pipe2(q, O_NONBLOCK));
    expect_yes("F_GETFL has O_NONBLOCK", (fcntl(q[0], F_GETFL) & O_NONBLOCK) != 0);
    expect_errno("read empty non-blocking pipe", read(q[0], buf, sizeof buf), EAGAIN);
    /* Capacity: 4096-byte (atomic) writes until EAGAIN. */
    static char page[4096];
    memset(page, 'x', sizeof page);
    long total = 0;
    ssize_t w;
    while ((w = write(q[1], page, sizeof page)) > 0) total += w;
    expect_errno("write to full pipe", w, EAGAIN);
    expect_long("pipe capacity", total, 65536);
    long drained = 0;
    ssize_t r;
    while ((r = read(q[0], buf, sizeof buf)) > 0) drained += r;
    expect_long("drained", drained, 65536);
    close(q[0]);
    close(q[1]);

    /* F_SETFL toggles O_NONBLOCK on a blocking pipe. */
    pipe(p);
    int fl = fcntl(p[0], F_GETFL);
    expect_yes("blocking by default", (fl & O_NONBLOCK) == 0);
    expect_ok("F_SETFL O_NONBLOCK", fcntl(p[0], F_SETFL, fl | O_NONBLOCK));
    expect_yes("F_GETFL after F_SETFL", (fcntl(p[0], F_GETFL) & O_NONBLOCK) != 0);
    expect_str("access mode unchanged", accmode(fcntl(p[0], F_GETFL)), "O_RDONLY");
    expect_errno("read now EAGAIN", read(p[0], buf, sizeof buf), EAGAIN);
    expect_ok("F_SETFL clear", fcntl(p[0], F_SETFL, fl & ~O_NONBLOCK));
    expect_yes("O_NONBLOCK cleared", (fcntl(p[0], F_GETFL) & O_NONBLOCK) == 0);

    /* dup family. */
    int d = dup(p[1]);
    expect_yes("dup returns a new fd", d >= 0 && d != p[1]);
    expect_long("write via dup", write(d, "abc", 3), 3);
    close(d);
    memset(buf, 0, sizeof buf);
    expect_long("read what dup wrote", read(p[0], buf, sizeof buf), 3);
    expect_str("dup data", buf, "abc");
    expect_yes("dup2 same fd returns it", dup2(p[1], p[1]) == p[1]);
    expect_errno("dup2 same bad fd", dup2(900, 900), EBADF);
    expect_errno("dup2 bad oldfd", dup2(900, 901), EBADF);
    expect_errno("dup3 same fd", dup3(p[1], p[1], 0), EINVAL);
    expect_errno("dup3 bad flags", dup3(p[1], 60, O_TRUNC), EINVAL);
    expect_long("dup2 onto 60", dup2(p[1], 60), 60);
    expect_long("dup2 result not cloexec", fcntl(60, F_GETFD), 0);
    expect_long("dup3 O_CLOEXEC onto 61", dup3(p[1], 61, O_CLOEXEC), 61);
    expect_long("dup3 result cloexec", fcntl(61, F_GETFD), FD_CLOEXEC);
    expect_long("dup2 over open fd", dup2(p[0], 61), 61);
    expect_long("replaced fd not cloexec", fcntl(61, F_GETFD), 0);
    expect_str("replaced fd is the read end", accmode(fcntl(61, F_GETFL)), "O_RDONLY");
    close(60);
    close(61);
    int hi = fcntl(p[1], F_DUPFD, 100);
    expect_yes("F_DUPFD >= 100", hi >= 100);
    expect_long("F_DUPFD not cloexec", fcntl(hi, F_GETFD), 0);
    int hic = fcntl(p[1], F_DUPFD_CLOEXEC, 100);
    expect_yes("F_DUPFD_CLOEXEC >= 100, new", hic >= 100 && hic != hi);
    expect_long("F_DUPFD_CLOEXEC cloexec", fcntl(hic, F_GETFD), FD_CLOEXEC);
    close(hi);
    close(hic);
    expect_errno("fcntl bad cmd", fcntl(p[0], 12345), EINVAL);
    close(p[0]);
    close(p[1]);

    /* Files: F_GETFL access modes and O_APPEND; dup'd fds share the offset. */
    int f = open(FILE_PATH, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (f < 0) die("open");
    fl = fcntl(f, F_GETFL);
    expect_str("file F_GETFL access", accmode(fl), "O_WRONLY");
    expect_yes("file F_GETFL O_APPEND", (fl & O_APPEND) != 0);
    expect_ok("F_SETFL drop O_APPEND", fcntl(f, F_SETFL, fl & ~O_APPEND));
    expect_yes("O_APPEND dropped", (fcntl(f, F_GETFL) & O_APPEND) == 0);
    close(f);
    f = open(FILE_PATH, O_RDWR);
    expect_str("O_RDWR F_GETFL", accmode(fcntl(f, F_GETFL)), "O_RDWR");
    int g = dup(f);
    write(f, "0123456789", 10);
    expect_long("dup shares offset", lseek(g, 0, SEEK_CUR), 10);
    lseek(g, 2, SEEK_SET);
    memset(buf, 0, sizeof buf);
    read(f, buf, 3);
    expect_str("read at shared offset", buf, "234");
    close(f);
    close(g);
    f = open(FILE_PATH, O_RDONLY);
    expect_str("O_RDONLY F_GETFL", accmode(fcntl(f, F_GETFL)), "O_RDONLY");
    expect_errno("write to O_RDONLY fd", write(f, "x", 1), EBADF);
    close(f);
    unlink(FILE_PATH);
    return finish();
}
