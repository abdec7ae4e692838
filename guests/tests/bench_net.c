/* Benchmark (not a test): AF_UNIX round trips and throughput between two
 * processes. Prints "rtt_p50_us", "rtt_p99_us" and "throughput_mib_s".
 * Usage: bench_net SELF [ROUNDS [MIB]] */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static pid_t spawn_on(const char *self, const char *mode, int fd, int other) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 0);
    posix_spawn_file_actions_addclose(&fa, fd);
    posix_spawn_file_actions_addclose(&fa, other);
    char *argv[] = {(char *)self, (char *)mode, NULL};
    pid_t pid;
    if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) {
        perror("spawn");
        exit(1);
    }
    posix_spawn_file_actions_destroy(&fa);
    return pid;
}

int main(int argc, char **argv) {
    static char buf[1 << 16];
    if (argc == 2 && strcmp(argv[1], "echo") == 0) {
        char c;
        while (read(0, &c, 1) == 1)
            if (write(0, &c, 1) != 1) return 1;
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "sink") == 0) {
        while (read(0, buf, sizeof buf) > 0) {
        }
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: bench_net SELF [ROUNDS [MIB]]\n");
        return 2;
    }
    int rounds = argc > 2 ? atoi(argv[2]) : 20000;
    long mib = argc > 3 ? atol(argv[3]) : 1024;

    int sv[2];
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t echo = spawn_on(argv[1], "echo", sv[1], sv[0]);
    close(sv[1]);
    double *t = malloc(sizeof(double) * (size_t)rounds);
    for (int i = 0; i < rounds; i++) {
        char c = (char)i;
        double s = now_us();
        if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1) return 1;
        t[i] = now_us() - s;
    }
    close(sv[0]);
    waitpid(echo, NULL, 0);
    qsort(t, (size_t)rounds, sizeof *t, cmp);
    printf("rtt_p50_us %.1f\nrtt_p99_us %.1f\n", t[rounds / 2], t[rounds * 99 / 100]);

    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    pid_t sink = spawn_on(argv[1], "sink", sv[1], sv[0]);
    close(sv[1]);
    memset(buf, 'x', sizeof buf);
    double s = now_us();
    for (long done = 0; done < mib << 20;) {
        ssize_t w = write(sv[0], buf, sizeof buf);
        if (w <= 0) return 1;
        done += w;
    }
    close(sv[0]);
    waitpid(sink, NULL, 0);
    printf("throughput_mib_s %.0f\n", (double)mib / ((now_us() - s) / 1e6));
    return 0;
}
