/* Scheduling fairness under socket load (not a differential test: the
 * latencies are the result). A flooder process writes into a stream
 * socketpair as fast as it can while a drain process reads the other end;
 * meanwhile this process does 10,000 one-byte round trips with a ponger
 * process over a second socketpair, timing each with CLOCK_MONOTONIC.
 * Prints "pingpong done: N", then "p50_us: X", "p99_us: Y", "max_us: Z",
 * and the flood volume; kills the flooder and reaps all children.
 * Usage: net_fairness SELF [ROUNDS]
 *        net_fairness SELF flooder | drain | ponger */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

static int flooder(void) {
    static char buf[65536];
    memset(buf, 'f', sizeof buf);
    for (;;)
        if (write(1, buf, sizeof buf) < 0) return 3;
}

static int drain(void) {
    static char buf[65536];
    uint64_t total = 0;
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0) total += (uint64_t)n;
    if (n < 0) return 3;
    char line[64];
    int len = snprintf(line, sizeof line, "%llu\n", (unsigned long long)total);
    return write(1, line, (size_t)len) == len ? 0 : 4;
}

static int ponger(void) {
    char c;
    ssize_t n;
    while ((n = read(0, &c, 1)) == 1)
        if (write(0, &c, 1) != 1) return 3;
    return n == 0 ? 0 : 4;
}

static pid_t spawn_mode(const char *self, const char *mode, int in, int out) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in >= 0) posix_spawn_file_actions_adddup2(&fa, in, 0);
    if (out >= 0) posix_spawn_file_actions_adddup2(&fa, out, 1);
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

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void describe(const char *who, int status) {
    if (WIFEXITED(status))
        printf("%s: exited %d\n", who, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", who, WTERMSIG(status));
    else
        printf("%s: status %#x\n", who, status);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SELF [ROUNDS | flooder | drain | ponger]\n", argv[0]);
        return 2;
    }
    if (argc > 2 && !strcmp(argv[2], "flooder")) return flooder();
    if (argc > 2 && !strcmp(argv[2], "drain")) return drain();
    if (argc > 2 && !strcmp(argv[2], "ponger")) return ponger();
    const char *self = argv[1];
    int rounds = argc > 2 ? atoi(argv[2]) : 10000;
    if (rounds <= 0) rounds = 10000;

    int flood[2], pp[2], result[2];
    /* Close-on-exec, so that each child holds only what it is given. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, flood) ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pp) || pipe2(result, O_CLOEXEC))
        die("socketpair/pipe");
    pid_t drainer = spawn_mode(self, "drain", flood[1], result[1]);
    pid_t flood_pid = spawn_mode(self, "flooder", -1, flood[0]);
    pid_t pong = spawn_mode(self, "ponger", pp[1], -1);
    close(flood[0]);
    close(flood[1]);
    close(result[1]);
    close(pp[1]);

    /* Let the flood get going. */
    struct timespec ts = {0, 200 * 1000000L};
    nanosleep(&ts, NULL);

    int64_t *lat = malloc(sizeof *lat * (size_t)rounds);
    if (!lat) die("malloc");
    int done = 0;
    int64_t start = now_ns();
    for (int i = 0; i < rounds; i++) {
        char c = (char)i, back = 0;
        int64_t t0 = now_ns();
        if (write(pp[0], &c, 1) != 1) break;
        if (read(pp[0], &back, 1) != 1 || back != c) break;
        lat[i] = now_ns() - t0;
        done++;
    }
    int64_t elapsed = now_ns() - start;
    printf("pingpong done: %d\n", done);
    if (done > 0) {
        qsort(lat, (size_t)done, sizeof *lat, cmp64);
        printf("p50_us: %lld\n", (long long)(lat[done / 2] / 1000));
        printf("p99_us: %lld\n", (long long)(lat[(size_t)done * 99 / 100] / 1000));
        printf("max_us: %lld\n", (long long)(lat[done - 1] / 1000));
        printf("total_ms: %lld\n", (long long)(elapsed / 1000000));
    }

    /* Stop: the ponger sees EOF, the flooder is killed, the drain then sees
     * EOF and reports how much it read. */
    close(pp[0]);
    int status;
    if (waitpid(pong, &status, 0) != pong) die("waitpid ponger");
    describe("ponger", status);
    expect_ok("kill flooder", kill(flood_pid, SIGKILL));
    if (waitpid(flood_pid, &status, 0) != flood_pid) die("waitpid flooder");
    describe("flooder", status);
    char got[64];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof got - 1 && (n = read(result[0], got + len, sizeof got - 1 - len)) > 0)
        len += (size_t)n;
    got[len] = '\0';
    close(result[0]);
    unsigned long long flooded = strtoull(got, NULL, 10);
    /* In case it is still running (it should not be). */
    kill(drainer, SIGKILL);
    if (waitpid(drainer, &status, 0) != drainer) die("waitpid drain");
    describe("drain", status);
    printf("flood_mib: %llu\n", flooded >> 20);
    printf("flood_mib_per_s: %llu\n",
           elapsed > 0 ? (unsigned long long)((double)flooded / (1 << 20) / ((double)elapsed / 1e9))
                       : 0);
    expect_yes("flood ran", flooded > 0);
    expect_yes("all round trips", done == rounds);
    free(lat);
    return finish();
}
