/* Benchmark (scripts/bench/deep-path): how much one guest walking a very
 * deep path slows another guest's kernel calls.
 *
 *   bench_deep_path busy SELF DIR N   spawn a walker that stats a 4,000-byte
 *                                     path under DIR without pause, and
 *                                     meanwhile time N stat("/") calls
 *   bench_deep_path idle SELF DIR N   the same N calls, no walker
 *   bench_deep_path walk DIR          (the walker; runs until killed)
 *
 * The walker makes no other call, so that only the walk competes with the
 * timed calls. Prints "median_us p99_us max_us" of their latencies. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEPTH_BYTES 4000

static char deep[DEPTH_BYTES + 64];

/* DIR/d/d/d/... up to DEPTH_BYTES bytes, each level made on the way. */
static void make_chain(const char *dir) {
    size_t n = (size_t)snprintf(deep, sizeof deep, "%s", dir);
    mkdir(deep, 0755);
    while (n + 2 < DEPTH_BYTES) {
        deep[n++] = '/';
        deep[n++] = 'd';
        deep[n] = 0;
        if (mkdir(deep, 0755) != 0 && errno != EEXIST) {
            perror("mkdir");
            exit(1);
        }
    }
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int walk(const char *dir) {
    make_chain(dir);
    if (write(1, "R", 1) != 1)
        return 1;
    for (;;) {
        struct stat st;
        if (stat(deep, &st) != 0) {
            perror("stat deep");
            return 1;
        }
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "walk") == 0)
        return walk(argv[2]);
    if (argc != 5) {
        fprintf(stderr, "usage: bench_deep_path busy|idle SELF DIR N\n");
        return 2;
    }
    int busy = strcmp(argv[1], "busy") == 0;
    long n = atol(argv[4]);
    int from_child[2];
    pid_t pid = 0;
    if (busy) {
        if (pipe(from_child))
            return 1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, from_child[1], 1);
        posix_spawn_file_actions_addclose(&fa, from_child[0]);
        char *args[] = {argv[2], "walk", argv[3], NULL};
        if (posix_spawn(&pid, argv[2], &fa, NULL, args, NULL) != 0) {
            perror("posix_spawn");
            return 1;
        }
        close(from_child[1]);
        char c;
        if (read(from_child[0], &c, 1) != 1)
            return 1;
    }
    double *lat = malloc(sizeof(double) * (size_t)n);
    for (long i = 0; i < n; i++) {
        struct stat st;
        double t = now_us();
        if (stat("/", &st) != 0)
            return 1;
        lat[i] = now_us() - t;
    }
    if (busy) {
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
            return 1;
    }
    qsort(lat, (size_t)n, sizeof(double), cmp);
    printf("%.1f %.1f %.1f\n", lat[n / 2], lat[n * 99 / 100], lat[n - 1]);
    return 0;
}
