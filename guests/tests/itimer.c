/* Interval timers (setitimer/getitimer/alarm) and SIGALRM; the same output
 * natively and in the sidecar. Usage: itimer SELF */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t alarms;

static void on_alrm(int sig) { alarms += sig == SIGALRM; }

static void catch_alrm(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alrm;
    sa.sa_flags = flags;
    sigaction(SIGALRM, &sa, NULL);
}

static int arm(long value_us, long interval_us) {
    struct itimerval t = {{interval_us / 1000000, interval_us % 1000000},
                          {value_us / 1000000, value_us % 1000000}};
    return setitimer(ITIMER_REAL, &t, NULL);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const char *err(int r) {
    if (r == 0) return "ok";
    return errno == EINVAL ? "EINVAL" : errno == EINTR ? "EINTR" : "other";
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "die") == 0) {
        /* Default action of SIGALRM: terminate. */
        alarm(1);
        for (;;) pause();
    }
    if (argc != 2) {
        fprintf(stderr, "usage: itimer SELF\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    catch_alrm(0);

    /* One shot: pause() returns after the handler, not before the time. */
    double t0 = now_s();
    arm(50000, 0);
    int r = pause();
    double waited = now_s() - t0;
    printf("one-shot: pause=%s alarms=%d on_time=%d\n", err(r), (int)alarms,
           waited >= 0.045 && waited < 2.0);

    /* getitimer reports the time left and the interval; zero disarms. */
    arm(900000, 200000);
    struct itimerval cur;
    getitimer(ITIMER_REAL, &cur);
    long left_us = cur.it_value.tv_sec * 1000000L + cur.it_value.tv_usec;
    printf("getitimer: interval=%ld.%06ld left_ok=%d\n", (long)cur.it_interval.tv_sec,
           (long)cur.it_interval.tv_usec, left_us > 500000 && left_us <= 900000);
    struct itimerval off = {{0, 0}, {0, 0}}, old;
    setitimer(ITIMER_REAL, &off, &old);
    getitimer(ITIMER_REAL, &cur);
    printf("disarm: old_interval=%ld.%06ld now=%ld.%06ld\n", (long)old.it_interval.tv_sec,
           (long)old.it_interval.tv_usec, (long)cur.it_value.tv_sec,
           (long)cur.it_value.tv_usec);

    /* Periodic: five ticks, waited for race-free with sigsuspend. */
    sigset_t block, orig;
    sigemptyset(&block);
    sigaddset(&block, SIGALRM);
    sigprocmask(SIG_BLOCK, &block, &orig);
    alarms = 0;
    arm(10000, 10000);
    while (alarms < 5) sigsuspend(&orig);
    arm(0, 0);
    sigprocmask(SIG_SETMASK, &orig, NULL);
    printf("periodic: ticks=%d\n", (int)alarms);

    /* alarm(): seconds left, rounded; alarm(0) cancels. */
    printf("alarm: first=%u", alarm(5));
    printf(" second=%u", alarm(0));
    printf(" third=%u\n", alarm(0));

    /* A blocking read without SA_RESTART ends with EINTR. */
    int p[2];
    if (pipe(p) != 0) return 1;
    alarms = 0;
    arm(30000, 0);
    char c;
    ssize_t n = read(p[0], &c, 1);
    printf("read: n=%zd %s alarms=%d\n", n, n < 0 ? err(-1) : "ok", (int)alarms);

    /* Bad settings. */
    struct itimerval bad = {{0, 0}, {0, 1000000}};
    printf("bad usec: %s\n", err(setitimer(ITIMER_REAL, &bad, NULL)));
    printf("bad which: %s\n", err(setitimer(99, &off, NULL)));

    /* Uncaught, SIGALRM terminates (a fresh process: default disposition). */
    char *cargv[] = {argv[1], "die", NULL};
    pid_t pid;
    if (posix_spawn(&pid, argv[1], NULL, NULL, cargv, environ) != 0) return 1;
    int st;
    waitpid(pid, &st, 0);
    printf("child: signaled=%d sig=%d\n", WIFSIGNALED(st), WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    int good = r < 0 && waited >= 0.045 && n < 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGALRM;
    printf("%s\n", good ? "ok" : "FAILED");
    return !good;
}
