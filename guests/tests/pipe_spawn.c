/* Pipes + posix_spawn of itself: a producer child writes 64 MiB of a
 * deterministic pattern in varying chunk sizes into a pipe; a consumer child
 * reads it to EOF from stdin and reports byte count and FNV-1a 64 checksum on
 * a second pipe; the parent checks both against its own computation, and
 * checks waitpid WNOHANG / ECHILD.
 * Usage: pipe_spawn SELF            (SELF = path of this program)
 *        pipe_spawn SELF producer | consumer */
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define TOTAL (64u << 20)

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
    for (size_t i = 0; i < n; i++) {
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

/* Chunk sizes: 1 byte up to 256 KiB (beyond the pipe capacity), varying. */
static size_t next_chunk(uint64_t *r) {
    *r = *r * 6364136223846793005ULL + 1442695040888963407ULL;
    unsigned sel = (unsigned)(*r >> 60);
    size_t v = (size_t)(*r >> 20);
    if (sel < 4) return 1 + v % 64;
    if (sel < 12) return 1 + v % 8192;
    if (sel < 15) return 1 + v % 65536;
    return 1 + v % (256 * 1024);
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
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(1, buf + off, n - off);
            if (w <= 0) return 3;
            off += (size_t)w;
        }
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
        ssize_t n = read(0, buf, want);
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

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SELF [producer|consumer]\n", argv[0]);
        return 2;
    }
    if (argc > 2 && !strcmp(argv[2], "producer")) return producer();
    if (argc > 2 && !strcmp(argv[2], "consumer")) return consumer();

    const char *self = argv[1];
    int data[2], result[2];
    if (pipe(data) || pipe(result)) die("pipe");

    /* Consumer: stdin = data read end, stdout = result write end. */
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, data[0], 0);
    posix_spawn_file_actions_adddup2(&fa, result[1], 1);
    posix_spawn_file_actions_addclose(&fa, data[0]);
    posix_spawn_file_actions_addclose(&fa, data[1]);
    posix_spawn_file_actions_addclose(&fa, result[0]);
    posix_spawn_file_actions_addclose(&fa, result[1]);
    char *cargv[] = {(char *)self, (char *)self, "consumer", NULL};
    pid_t cons;
    fflush(stdout);
    int err = posix_spawn(&cons, self, &fa, NULL, cargv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        die("spawn consumer");
    }
    printf("spawn consumer: ok\n");

    /* The consumer is blocked reading the pipe: nothing to report yet. */
    int status = -1;
    expect_long("waitpid WNOHANG on blocked consumer", waitpid(cons, &status, WNOHANG), 0);
    expect_long("waitpid WNOHANG any child", waitpid(-1, &status, WNOHANG), 0);

    /* Producer: stdout = data write end. */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, data[1], 1);
    posix_spawn_file_actions_addclose(&fa, data[0]);
    posix_spawn_file_actions_addclose(&fa, data[1]);
    posix_spawn_file_actions_addclose(&fa, result[0]);
    posix_spawn_file_actions_addclose(&fa, result[1]);
    char *pargv[] = {(char *)self, (char *)self, "producer", NULL};
    pid_t prod;
    fflush(stdout);
    err = posix_spawn(&prod, self, &fa, NULL, pargv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        die("spawn producer");
    }
    printf("spawn producer: ok\n");
    close(data[0]);
    close(data[1]);
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

    if (waitpid(prod, &status, 0) != prod) die("waitpid producer");
    describe("producer", status);
    if (waitpid(cons, &status, 0) != cons) die("waitpid consumer");
    describe("consumer", status);

    char got[128];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof got - 1 && (n = read(result[0], got + len, sizeof got - 1 - len)) > 0) len += (size_t)n;
    got[len] = '\0';
    close(result[0]);
    printf("consumer reported: %s", got);
    printf("parent expected:   %s", expected);
    expect_yes("checksums match", !strcmp(got, expected));

    expect_errno("waitpid after reaping all", waitpid(-1, &status, 0), ECHILD);
    expect_errno("waitpid WNOHANG after reaping all", waitpid(-1, &status, WNOHANG), ECHILD);
    return finish();
}
