/* Bulk data through a PTY in raw mode, both directions at once; the same
 * output natively and in the sidecar. The child puts its tty into raw mode
 * (cfmakeraw: no ICRNL/IXON/ISIG/ICANON/ECHO, no OPOST) and then, like the
 * parent on the master, polls both ways: it sends a 16 MiB pseudo-random
 * stream to the master while receiving another 16 MiB stream from it. Both
 * sides check every byte against the expected stream and print a checksum.
 * The child reports on its fd 3 (a pipe; "r<" lines).
 * Usage: pty_bulk SELF [MiB] */
#include "ptyutil.h"

#include <stdint.h>

#define CHUNK 65536

static size_t total = 16u << 20;

/* A deterministic byte stream (xorshift32), all 256 byte values. */
struct stream {
    uint32_t state;
    unsigned char buf[CHUNK];
    size_t off, len; /* unconsumed part of buf */
};

static void stream_init(struct stream *s, uint32_t seed) {
    s->state = seed;
    s->off = s->len = 0;
}

static void stream_fill(struct stream *s) {
    for (size_t i = 0; i < CHUNK; i += 4) {
        uint32_t x = s->state;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        s->state = x;
        memcpy(s->buf + i, &x, 4);
    }
    s->off = 0;
    s->len = CHUNK;
}

struct side {
    struct stream out, expect;
    size_t sent, received;
    long mismatch; /* offset of the first wrong byte, or -1 */
    uint64_t fnv;
};

static void side_init(struct side *s, uint32_t out_seed, uint32_t in_seed) {
    stream_init(&s->out, out_seed);
    stream_init(&s->expect, in_seed);
    s->sent = s->received = 0;
    s->mismatch = -1;
    s->fnv = 1469598103934665603ull;
}

/* Writes what it can of the outgoing stream. Returns -1 on an error. */
static int side_send(struct side *s, int fd) {
    while (s->sent < total) {
        if (s->out.len == 0) stream_fill(&s->out);
        size_t n = s->out.len;
        if (n > total - s->sent) n = total - s->sent;
        ssize_t w = write(fd, s->out.buf + s->out.off, n);
        if (w < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        s->out.off += (size_t)w;
        s->out.len -= (size_t)w;
        s->sent += (size_t)w;
    }
    return 0;
}

/* Reads what is there and checks it. Returns -1 on an error or EOF. */
static int side_recv(struct side *s, int fd) {
    static unsigned char in[CHUNK];
    while (s->received < total) {
        ssize_t r = read(fd, in, sizeof in);
        if (r < 0) return errno == EAGAIN || errno == EINTR ? 0 : -1;
        if (r == 0) return -1;
        for (ssize_t i = 0; i < r; i++) {
            if (s->expect.len == 0) stream_fill(&s->expect);
            unsigned char want = s->expect.buf[s->expect.off++];
            s->expect.len--;
            if (in[i] != want && s->mismatch < 0) s->mismatch = (long)(s->received + (size_t)i);
            s->fnv = (s->fnv ^ in[i]) * 1099511628211ull;
        }
        s->received += (size_t)r;
    }
    return 0;
}

/* Polls fd (or fd and fd2 for the child's stdin/stdout) until both streams
 * are complete. */
static const char *pump(struct side *s, int rfd, int wfd) {
    long last = now_ms();
    while (s->sent < total || s->received < total) {
        struct pollfd p[2] = {{rfd, 0, 0}, {wfd, 0, 0}};
        if (s->received < total) p[0].events |= POLLIN;
        if (s->sent < total) p[1].events |= POLLOUT;
        int r = poll(p, 2, 1000);
        if (r < 0 && errno != EINTR) return "poll";
        if (r > 0) last = now_ms();
        if (now_ms() - last > PTY_TIMEOUT_MS) return "no progress";
        if ((p[1].revents & (POLLOUT | POLLERR | POLLHUP)) && side_send(s, wfd) < 0) return "write";
        if ((p[0].revents & (POLLIN | POLLERR | POLLHUP)) && side_recv(s, rfd) < 0) return "read";
    }
    return NULL;
}

static int child(void) {
    struct termios t;
    if (tcgetattr(0, &t) < 0) {
        say(3, "tcgetattr: %s\n", errno_name(errno));
        return 1;
    }
    cfmakeraw(&t);
    if (tcsetattr(0, TCSANOW, &t) < 0) {
        say(3, "tcsetattr: %s\n", errno_name(errno));
        return 1;
    }
    /* stdin and stdout share one open file description. */
    fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
    say(3, "raw\n");
    struct side s;
    side_init(&s, 0x2545F491u, 0x9E3779B9u);
    const char *err = pump(&s, 0, 1);
    if (err) say(3, "child: %s failed (%s) after sending %zu, receiving %zu\n", err, errno_name(errno), s.sent, s.received);
    say(3, "child received %zu bytes, fnv1a %016llx, first mismatch %ld\n", s.received,
        (unsigned long long)s.fnv, s.mismatch);
    return err || s.received != total || s.mismatch >= 0 ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && strcmp(argv[1], "child") == 0) {
        if (argc == 5) total = (size_t)atoi(argv[4]) << 20;
        return child();
    }
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: pty_bulk SELF [MiB]\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 3) total = (size_t)atoi(argv[2]) << 20;
    char slave[64];
    int m = open_master(slave, sizeof slave);
    int p[2];
    if (pipe(p) < 0) pty_fail("pipe");
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    /* The size travels as a fifth argument when not the default. */
    pid_t pid;
    if (argc == 3) {
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
        posix_spawn_file_actions_addopen(&fa, 0, slave, O_RDWR, 0);
        posix_spawn_file_actions_adddup2(&fa, 0, 1);
        posix_spawn_file_actions_adddup2(&fa, 0, 2);
        posix_spawn_file_actions_adddup2(&fa, p[1], 3);
        char *cargv[] = {argv[1], "child", "bulk", slave, argv[2], NULL};
        int e = posix_spawn(&pid, argv[1], &fa, &at, cargv, environ);
        if (e) {
            errno = e;
            pty_fail("posix_spawn");
        }
        pty_child = pid;
    } else {
        pid = spawn_on_pty(argv[1], "bulk", slave, p[1]);
    }
    close(p[1]);
    report_fd = p[0];
    expect_from(report_fd, "raw\n");

    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    struct side s;
    side_init(&s, 0x9E3779B9u, 0x2545F491u);
    long t0 = now_ms();
    const char *err = pump(&s, m, m);
    long dt = now_ms() - t0;
    if (err) {
        printf("parent: %s failed after sending %zu, receiving %zu\n", err, s.sent, s.received);
        expect_from(report_fd, NULL);
        pty_fail("transfer");
    }
    printf("parent sent %zu bytes\n", s.sent);
    printf("parent received %zu bytes, fnv1a %016llx, first mismatch %ld\n", s.received,
           (unsigned long long)s.fnv, s.mismatch);
    if (s.received != total || s.mismatch >= 0) failures++;
    expect_from(report_fd, NULL);
    reap(pid);
    fprintf(stderr, "pty_bulk: %zu MiB each way in %ld ms\n", total >> 20, dt);
    close(m);
    return finish();
}
