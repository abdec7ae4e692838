/* Benchmark (scripts/bench/fork), natively and in the sidecar:
 *
 *   bench_fork SELF loop N      N rounds each of fork+_exit+wait,
 *                               fork+exec(SELF true)+wait and
 *                               posix_spawn(SELF true)+wait; prints
 *                               "name median_us p99_us" per kind
 *   bench_fork SELF mem MIB K   touches MIB MiB, prints "ready", waits for
 *                               a line on stdin; forks K children (timed),
 *                               then lets them each read all of it and
 *                               stay; prints "forked median_us max_us",
 *                               waits for a line, then ends them. The
 *                               children start reading only once all are
 *                               forked, so no fork is timed against them
 *   bench_fork true             exits 0 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void summary(const char *name, double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp);
    printf("%s %.1f %.1f\n", name, t[n / 2], t[n * 99 / 100]);
}

static void reap(pid_t pid) {
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "bench_fork: a child failed\n");
        exit(1);
    }
}

static int loop(const char *self, int n) {
    double *t = malloc(sizeof *t * (size_t)n);
    char *args[] = {(char *)self, "true", NULL};
    for (int i = 0; i < n; i++) {
        double s = now_us();
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        reap(pid);
        t[i] = now_us() - s;
    }
    summary("fork+_exit+wait", t, n);
    for (int i = 0; i < n; i++) {
        double s = now_us();
        pid_t pid = fork();
        if (pid == 0) {
            execv(self, args);
            _exit(127);
        }
        reap(pid);
        t[i] = now_us() - s;
    }
    summary("fork+exec(true)+wait", t, n);
    for (int i = 0; i < n; i++) {
        double s = now_us();
        pid_t pid;
        if (posix_spawn(&pid, self, NULL, NULL, args, environ) != 0) return 1;
        reap(pid);
        t[i] = now_us() - s;
    }
    summary("posix_spawn(true)+wait", t, n);
    return 0;
}

static int mem(long mib, int k) {
    size_t size = (size_t)mib << 20;
    unsigned char *p = malloc(size);
    if (!p) return 1;
    for (size_t i = 0; i < size; i += 4096) p[i] = (unsigned char)(1 + (i >> 12));
    char line[16];
    printf("ready\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) return 1;
    int hold[2], done[2], start[2];
    if (pipe(hold) || pipe(done) || pipe(start)) return 1;
    double *t = malloc(sizeof *t * (size_t)k);
    pid_t *pids = malloc(sizeof *pids * (size_t)k);
    for (int i = 0; i < k; i++) {
        double s = now_us();
        pid_t pid = fork();
        if (pid == 0) {
            close(hold[1]);
            char go;
            if (read(start[0], &go, 1) != 1) _exit(1);
            unsigned sum = 0;
            for (size_t j = 0; j < size; j += 4096) sum += p[j];
            char c = (char)sum;
            if (write(done[1], &c, 1) != 1) _exit(1);
            _exit(read(hold[0], &c, 1) == 0 ? 0 : 1);
        }
        t[i] = now_us() - s;
        pids[i] = pid;
    }
    for (int i = 0; i < k; i++)
        if (write(start[1], "g", 1) != 1) return 1;
    for (int i = 0; i < k; i++) {
        char c;
        if (read(done[0], &c, 1) != 1) return 1;
    }
    qsort(t, (size_t)k, sizeof *t, cmp);
    printf("forked %.1f %.1f\n", t[k / 2], t[k - 1]);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) return 1;
    close(hold[1]);
    for (int i = 0; i < k; i++) reap(pids[i]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "true") == 0) return 0;
    if (argc == 4 && strcmp(argv[2], "loop") == 0) return loop(argv[1], atoi(argv[3]));
    if (argc == 5 && strcmp(argv[2], "mem") == 0) return mem(atol(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: bench_fork SELF loop N | SELF mem MIB K | true\n");
    return 2;
}
