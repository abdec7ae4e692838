/* Bulk transfer over a stream socketpair between two spawned processes: a
 * producer sends 256 MiB of a deterministic pattern in random chunk sizes
 * (1 byte to 256 KiB, beyond the socket buffer) through send, write and
 * two-iovec sendmsg; a consumer receives it in random sizes through recv,
 * read and two-iovec recvmsg (some with MSG_WAITALL) and reports byte count
 * and FNV-1a 64 checksum on a pipe; the parent compares with its own
 * computation.
 * Usage: net_transfer SELF          (SELF = path of this program)
 *        net_transfer SELF producer | consumer */
#define _GNU_SOURCE
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define TOTAL (256u << 20)

extern char **environ;

/* The data stream: successive xorshift64* outputs, little-endian. */
struct stream {
    uint64_t state;
    unsigned char buf[8];
    unsigned pos;
};

static void stream_init(struct stream *s) {
    s->state = 0x9E3779B97F4A7C15ULL;
    s->pos = 8;
}

static void stream_fill(struct stream *s, unsigned char *out, size_t n) {
    size_t i = 0;
    while (i < n && s->pos < 8) out[i++] = s->buf[s->pos++];
    for (; i + 8 <= n; i += 8) {
        s->state ^= s->state >> 12;
        s->state ^= s->state << 25;
        s->state ^= s->state >> 27;
        uint64_t v = s->state * 2685821657736338717ULL;
        for (int k = 0; k < 8; k++) out[i + k] = (unsigned char)(v >> (8 * k));
    }
    for (; i < n; i++) {
        if (s->pos == 8) {
            s->state ^= s->state >> 12;
            s->state ^= s->state << 25;
            s->state ^= s->state >> 27;
            uint64_t v = s->state * 2685821657736338717ULL;
            for (int k = 0; k < 8; k++) s->buf[k] = (unsigned char)(v >> (8 * k));
            s->pos = 0;
        }
        out[i] = s->buf[s->pos++];
    }
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

#define FNV_INIT 14695981039346656037ULL

static uint64_t next(uint64_t *r) {
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    return *r;
}

/* Chunk sizes: 1 byte up to 256 KiB, varying. */
static size_t next_chunk(uint64_t *r) {
    uint64_t x = next(r);
    unsigned sel = (unsigned)(x >> 60);
    size_t v = (size_t)(x >> 20);
    if (sel < 4) return 1 + v % 64;
    if (sel < 12) return 1 + v % 8192;
    if (sel < 15) return 1 + v % 65536;
    return 1 + v % (256 * 1024);
}

/* Sends all of buf[0..n) on fd 1 with a call chosen by `how`. */
static int send_all(const unsigned char *buf, size_t n, unsigned how) {
    size_t off = 0;
    while (off < n) {
        ssize_t w;
        size_t left = n - off;
        if (how == 0) {
            w = send(1, buf + off, left, 0);
        } else if (how == 1) {
            w = write(1, buf + off, left);
        } else {
            size_t first = left / 3;
            struct iovec iov[2] = {{(void *)(buf + off), first},
                                   {(void *)(buf + off + first), left - first}};
            struct msghdr mh;
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = iov;
            mh.msg_iovlen = 2;
            w = sendmsg(1, &mh, MSG_NOSIGNAL);
        }
        if (w <= 0) return -1;
        off += (size_t)w;
    }
    return 0;
}

static int producer(void) {
    static unsigned char buf[256 * 1024];
    struct stream s;
    stream_init(&s);
    uint64_t r = 42;
    size_t left = TOTAL;
    while (left) {
        size_t n = next_chunk(&r);
        if (n > left) n = left;
        stream_fill(&s, buf, n);
        if (send_all(buf, n, (unsigned)(next(&r) >> 61) % 3)) return 3;
        left -= n;
    }
    return 0;
}

static int consumer(void) {
    static unsigned char buf[100000];
    uint64_t h = FNV_INIT, total = 0, r = 7;
    for (;;) {
        size_t want = next_chunk(&r);
        if (want > sizeof buf) want = sizeof buf;
        unsigned how = (unsigned)(next(&r) >> 60) % 4;
        ssize_t n;
        if (how == 0) {
            n = recv(0, buf, want, 0);
        } else if (how == 1) {
            n = read(0, buf, want);
        } else {
            size_t first = want / 2;
            struct iovec iov[2] = {{buf, first}, {buf + first, want - first}};
            struct msghdr mh;
            memset(&mh, 0, sizeof mh);
            mh.msg_iov = iov;
            mh.msg_iovlen = 2;
            n = recvmsg(0, &mh, how == 3 ? MSG_WAITALL : 0);
            if (n > 0 && how == 3 && (size_t)n != want && total + (uint64_t)n != TOTAL)
                return 5; /* MSG_WAITALL returned short before EOF */
        }
        if (n < 0) return 3;
        if (n == 0) break;
        h = fnv1a(h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    char line[64];
    int len = snprintf(line, sizeof line, "bytes=%llu fnv=%016llx\n", (unsigned long long)total,
                       (unsigned long long)h);
    return write(1, line, (size_t)len) == len ? 0 : 4;
}

static void describe(const char *who, int status) {
    if (WIFEXITED(status))
        printf("%s: exited %d\n", who, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", who, WTERMSIG(status));
    else
        printf("%s: status %#x\n", who, status);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures++;
}

static pid_t spawn_mode(const char *self, const char *mode, int in, int out, const int *closes,
                        int nclose) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in >= 0) posix_spawn_file_actions_adddup2(&fa, in, 0);
    if (out >= 0) posix_spawn_file_actions_adddup2(&fa, out, 1);
    for (int i = 0; i < nclose; i++) posix_spawn_file_actions_addclose(&fa, closes[i]);
    char *argv[] = {(char *)self, (char *)self, (char *)mode, NULL};
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        die("spawn %s", mode);
    }
    return pid;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SELF [producer|consumer]\n", argv[0]);
        return 2;
    }
    if (argc > 2 && !strcmp(argv[2], "producer")) return producer();
    if (argc > 2 && !strcmp(argv[2], "consumer")) return consumer();

    const char *self = argv[1];
    int sv[2], result[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || pipe(result)) die("socketpair/pipe");
    int all[4] = {sv[0], sv[1], result[0], result[1]};
    pid_t cons = spawn_mode(self, "consumer", sv[1], result[1], all, 4);
    pid_t prod = spawn_mode(self, "producer", -1, sv[0], all, 4);
    printf("spawned producer and consumer\n");
    close(sv[0]);
    close(sv[1]);
    close(result[1]);

    /* Expected values, computed while the children run. */
    static unsigned char buf[65536];
    struct stream s;
    stream_init(&s);
    uint64_t h = FNV_INIT;
    for (size_t left = TOTAL; left;) {
        size_t n = left < sizeof buf ? left : sizeof buf;
        stream_fill(&s, buf, n);
        h = fnv1a(h, buf, n);
        left -= n;
    }
    char expected[64];
    snprintf(expected, sizeof expected, "bytes=%u fnv=%016llx\n", TOTAL, (unsigned long long)h);

    int status = -1;
    if (waitpid(prod, &status, 0) != prod) die("waitpid producer");
    describe("producer", status);
    if (waitpid(cons, &status, 0) != cons) die("waitpid consumer");
    describe("consumer", status);

    char got[128];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof got - 1 && (n = read(result[0], got + len, sizeof got - 1 - len)) > 0)
        len += (size_t)n;
    got[len] = '\0';
    close(result[0]);
    printf("consumer reported: %s", got);
    printf("parent expected:   %s", expected);
    expect_yes("checksums match", !strcmp(got, expected));
    return finish();
}
