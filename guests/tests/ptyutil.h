/* Shared helpers for the PTY test programs (header only; not a program):
 * opening a pair, spawning a child onto the slave, reading the master up to
 * a marker with a timeout, and printing bytes escaped. The same source runs
 * on real Linux PTYs and in the sidecar. */
#ifndef SIDECAR_PTYUTIL_H
#define SIDECAR_PTYUTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* Not every program uses every helper. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "testutil.h"

#ifndef O_NOCTTY
#define O_NOCTTY 0
#endif

extern char **environ;

/* Every wait for the other side gives up after this long. */
#define PTY_TIMEOUT_MS 30000

static pid_t pty_child = -1;
/* The parent's end of the pipe the child reports on (its fd 3), if any. */
static int report_fd = -1;

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void nap_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) == -1 && errno == EINTR) {
    }
}

/* Bytes as a C string literal body: \r \n \t \b \\ \" and \xNN. */
static void put_escaped(FILE *f, const char *buf, size_t len) {
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        switch (c) {
        case '\r': fputs("\\r", f); break;
        case '\n': fputs("\\n", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\\': fputs("\\\\", f); break;
        case '"': fputs("\\\"", f); break;
        default:
            if (c < 0x20 || c >= 0x7f)
                fprintf(f, "\\x%02x", c);
            else
                fputc(c, f);
        }
    }
}

/* Prints `prefix"..."` per line of buf, splitting after each '\n'. */
static void print_lines(const char *prefix, const char *buf, size_t len) {
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n' || i + 1 == len) {
            printf("%s\"", prefix);
            put_escaped(stdout, buf + start, i + 1 - start);
            printf("\"\n");
            start = i + 1;
        }
    }
    if (len == 0) printf("%s\"\"\n", prefix);
}

static _Noreturn void pty_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    printf("FATAL: ");
    vprintf(fmt, ap);
    printf(" (errno %s)\n", errno_name(errno));
    va_end(ap);
    fflush(stdout);
    if (pty_child > 0) kill(pty_child, SIGKILL);
    exit(1);
}

static void *memmem_(const void *h, size_t hl, const void *n, size_t nl) {
    if (nl == 0) return (void *)h;
    for (size_t i = 0; i + nl <= hl; i++)
        if (memcmp((const char *)h + i, n, nl) == 0) return (char *)h + i;
    return NULL;
}

/* Bytes read past a marker, kept for the next read_until() on that fd, so
 * that what each call returns does not depend on how the data was split
 * into reads. */
#define PTY_MAX_FD 64
static char *pending[PTY_MAX_FD];
static size_t pending_len[PTY_MAX_FD];

/* Where the awaited data ends in buf[0..n), or 0 if it has not all come:
 * just past `marker`, or (line mode) past the '\n' that follows it. */
static size_t marker_end(const char *buf, size_t n, const char *marker, int line) {
    const char *hit = memmem_(buf, n, marker, strlen(marker));
    if (!hit) return 0;
    size_t end = (size_t)(hit - buf) + strlen(marker);
    if (!line) return end;
    const char *nl = memchr(buf + end, '\n', n - end);
    return nl ? (size_t)(nl - buf) + 1 : 0;
}

/* Reads fd (polling, with a timeout) until `marker` has arrived (and, in
 * line mode, the rest of its line), or until EOF/EIO when marker is NULL.
 * Returns the bytes up to there (malloc'd, NUL-terminated) and their count
 * in *len. Dies loudly on a timeout or an early EOF. */
static char *read_until_(int fd, const char *marker, int line, size_t *len) {
    if (fd < 0 || fd >= PTY_MAX_FD) pty_fail("fd %d out of range", fd);
    size_t cap = 4096 + pending_len[fd], n = pending_len[fd], end = 0;
    char *buf = malloc(cap + 1);
    if (n) memcpy(buf, pending[fd], n);
    free(pending[fd]);
    pending[fd] = NULL;
    pending_len[fd] = 0;
    long deadline = now_ms() + PTY_TIMEOUT_MS;
    for (;;) {
        if (marker && (end = marker_end(buf, n, marker, line)) > 0) break;
        long left = deadline - now_ms();
        if (left <= 0) {
            printf("TIMEOUT waiting for \"");
            if (marker) put_escaped(stdout, marker, strlen(marker));
            else printf("<EOF>");
            printf("\"; got so far:\n");
            print_lines("  ", buf, n);
            pty_fail("timed out");
        }
        struct pollfd p = {fd, POLLIN, 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) pty_fail("poll");
        if (r == 0) continue;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
        ssize_t got = read(fd, buf + n, cap - n);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got <= 0) {
            if (marker) {
                printf("EOF (%s) waiting for \"", got < 0 ? errno_name(errno) : "0");
                put_escaped(stdout, marker, strlen(marker));
                printf("\"; got so far:\n");
                print_lines("  ", buf, n);
                pty_fail("early EOF");
            }
            end = n;
            break;
        }
        n += (size_t)got;
    }
    if (end < n) {
        pending_len[fd] = n - end;
        pending[fd] = malloc(n - end);
        memcpy(pending[fd], buf + end, n - end);
    }
    buf[end] = '\0';
    *len = end;
    return buf;
}

/* Whether fd has data within `ms` (counting bytes already read past a
 * marker). */
static int readable_within(int fd, int ms) {
    if (fd >= 0 && fd < PTY_MAX_FD && pending_len[fd] > 0) return 1;
    struct pollfd p = {fd, POLLIN, 0};
    return poll(&p, 1, ms) == 1;
}

/* Reads fd into its pending buffer until the line holding `marker` is
 * there or `ms` have passed; returns whether it came. Nothing is printed. */
static int arrives_within(int fd, const char *marker, long ms) {
    long end = now_ms() + ms;
    for (;;) {
        if (pending[fd] && marker_end(pending[fd], pending_len[fd], marker, 1)) return 1;
        long left = end - now_ms();
        if (left <= 0) return 0;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0) continue;
        char buf[4096];
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (r <= 0) return 0;
        pending[fd] = realloc(pending[fd], pending_len[fd] + (size_t)r);
        memcpy(pending[fd] + pending_len[fd], buf, (size_t)r);
        pending_len[fd] += (size_t)r;
    }
}

static char *read_until(int fd, const char *marker, size_t *len) {
    return read_until_(fd, marker, 0, len);
}

/* Reads up to `marker` and prints what came, one "< " line per line (the
 * child's reports, read from report_fd, as "r< "). */
static void expect_from(int fd, const char *marker) {
    size_t n;
    char *b = read_until(fd, marker, &n);
    print_lines(fd == report_fd ? "r< " : "< ", b, n);
    free(b);
}

/* The same, through the end of the line that holds `marker`. */
static void expect_line(int fd, const char *marker) {
    size_t n;
    char *b = read_until_(fd, marker, 1, &n);
    print_lines(fd == report_fd ? "r< " : "< ", b, n);
    free(b);
}

/* Writes all of s to the master and shows it as a "> " line. */
static void send_str(int fd, const char *s) {
    size_t len = strlen(s), off = 0;
    printf("> \"");
    put_escaped(stdout, s, len);
    printf("\"\n");
    while (off < len) {
        ssize_t w = write(fd, s + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {fd, POLLOUT, 0};
            poll(&p, 1, 1000);
            continue;
        }
        if (w <= 0) pty_fail("write to master");
        off += (size_t)w;
    }
}

/* posix_openpt + grantpt + unlockpt + ptsname; the master is close-on-exec
 * so that children do not hold it (closing it must hang the tty up). */
static int open_master(char *slave, size_t cap) {
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) pty_fail("posix_openpt");
    if (fcntl(m, F_SETFD, FD_CLOEXEC) < 0) pty_fail("FD_CLOEXEC");
    if (grantpt(m) < 0) pty_fail("grantpt");
    if (unlockpt(m) < 0) pty_fail("unlockpt");
    const char *name = ptsname(m);
    if (!name) pty_fail("ptsname");
    if (strlen(name) >= cap) pty_fail("slave name too long");
    strcpy(slave, name);
    return m;
}

/* Spawns `self child MODE SLAVE` in a new session, with the slave as its
 * stdin/stdout/stderr (and so its controlling tty) if `on_pty`; `fd3` and
 * `fd4` (if >= 0) become the child's fds 3 and 4. */
static pid_t spawn_child(const char *self, const char *mode, const char *slave, int on_pty, int fd3,
                         int fd4) {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
    if (on_pty) {
        posix_spawn_file_actions_addopen(&fa, 0, slave, O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&fa, 0, 1);
        posix_spawn_file_actions_adddup2(&fa, 0, 2);
    }
    if (fd3 >= 0) posix_spawn_file_actions_adddup2(&fa, fd3, 3);
    if (fd4 >= 0) posix_spawn_file_actions_adddup2(&fa, fd4, 4);
    char *argv[] = {(char *)self, "child", (char *)mode, (char *)slave, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, self, &fa, &at, argv, environ);
    if (e) {
        errno = e;
        pty_fail("posix_spawn");
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    pty_child = pid;
    return pid;
}

static pid_t spawn_on_pty(const char *self, const char *mode, const char *slave, int fd3) {
    return spawn_child(self, mode, slave, 1, fd3, -1);
}

/* Waits for the child (with the usual timeout) and prints its status. */
static void reap(pid_t pid) {
    long deadline = now_ms() + PTY_TIMEOUT_MS;
    int st;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) pty_fail("waitpid");
        if (now_ms() > deadline) pty_fail("child did not exit");
        nap_ms(5);
    }
    pty_child = -1;
    if (WIFEXITED(st))
        printf("child exited %d\n", WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("child killed by signal %d\n", WTERMSIG(st));
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) failures++;
}

/* Child side: printf to an fd without stdio buffering. */
static void say(int fd, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof buf - 1) n = sizeof buf - 1;
    for (int off = 0; off < n;) {
        ssize_t w = write(fd, buf + off, (size_t)(n - off));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += (int)w;
    }
}

/* Child side: buf escaped into a static string, for say(). */
static const char *esc(const char *buf, ssize_t len) {
    static char out[1024];
    size_t o = 0;
    for (ssize_t i = 0; i < len && o + 5 < sizeof out; i++) {
        unsigned char c = (unsigned char)buf[i];
        const char *s = c == '\r' ? "\\r" : c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\\' ? "\\\\" : NULL;
        if (s)
            o += (size_t)snprintf(out + o, sizeof out - o, "%s", s);
        else if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, sizeof out - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
    return out;
}

#endif
