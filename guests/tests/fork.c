/* fork(2) as Linux does it; the same output natively and in the sidecar:
 * exit statuses, copied (not shared) memory, pipes both ways, a shared file
 * offset, inherited handlers and mask, no inherited pending signals,
 * grandchildren, 50 forks in a row, a child killed by SIGKILL, vfork +
 * exec, and exec after fork: same pid, close-on-exec fds closed, caught
 * signals reset and ignored ones kept, ENOENT leaving the child running, a
 * #! script.
 * Usage: fork SELF                (SELF = path of this program)
 *        fork SELF check ARGS...  (the exec'd image, see check())
 *        fork SELF shell          (system and popen; needs /bin/sh) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

static int global = 1;
static volatile sig_atomic_t got_usr1;
static void on_usr1(int sig) {
    (void)sig;
    got_usr1++;
}

/* How `pid` ended, as a line. */
static void report(const char *what, pid_t pid) {
    int st;
    pid_t r;
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
    }
    if (r != pid)
        printf("%s: waitpid %s\n", what, errno_name(errno));
    else if (WIFEXITED(st))
        printf("%s: exited %d\n", what, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        printf("%s: killed by signal %d\n", what, WTERMSIG(st));
    else
        printf("%s: status %#x\n", what, st);
}

/* Forks; the child runs `body` and exits with its value. */
static pid_t child(int (*body)(void *), void *arg) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", errno_name(errno));
    if (pid == 0) {
        int rc = body(arg);
        fflush(stdout);
        _exit(rc);
    }
    return pid;
}

static int exit_with(void *arg) { return (int)(long)arg; }

static int write_global(void *arg) {
    (void)arg;
    global = 42;
    printf("child: global %d\n", global);
    return 0;
}

static void statuses_and_memory(void) {
    report("exit 0", child(exit_with, (void *)0L));
    report("exit 7", child(exit_with, (void *)7L));
    report("exit 255", child(exit_with, (void *)255L));
    report("writes a global", child(write_global, NULL));
    printf("parent: global %d\n", global);
    pid_t me = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(getppid() == me && getpid() != me ? 0 : 1);
    report("getppid is the parent", pid);
}

/* The child's memory is the parent's as it was at the fork, whatever
 * either writes afterwards; again for a second fork after the parent
 * wrote (a different path in a copy-on-write implementation). */
static char big[1 << 20];

static void snapshots(void) {
    for (int round = 0; round < 3; round++) {
        char before = (char)('a' + round), after = (char)('x' + round);
        memset(big, before, sizeof big);
        global = 10 + round;
        int go[2];
        if (pipe(go)) die("pipe");
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            char c;
            if (read(go[0], &c, 1) != 1) _exit(2);
            int same = global == 10 + round && big[0] == before && big[sizeof big - 1] == before &&
                       big[sizeof big / 2] == before;
            memset(big, 'z', sizeof big);
            _exit(same ? 0 : 1);
        }
        memset(big, after, sizeof big);
        global = 99;
        if (write(go[1], "g", 1) != 1) die("write");
        close(go[0]);
        close(go[1]);
        char what[64];
        snprintf(what, sizeof what, "fork %d: the child sees the memory at the fork", round + 1);
        report(what, pid);
        printf("fork %d: the parent keeps its own: %s\n", round + 1,
               big[0] == after && big[sizeof big - 1] == after ? "yes" : "no");
    }
    global = 1;
}

/* A request down one pipe, the answer up the other. */
static void pipes_both_ways(void) {
    int down[2], up[2];
    if (pipe(down) || pipe(up)) die("pipe");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(down[1]);
        close(up[0]);
        char buf[64];
        ssize_t n = read(down[0], buf, sizeof buf);
        for (ssize_t i = 0; i < n; i++) buf[i] = (char)(buf[i] >= 'a' && buf[i] <= 'z' ? buf[i] - 32 : buf[i]);
        if (write(up[1], buf, (size_t)n) != n) _exit(2);
        /* EOF once the parent closes its end. */
        _exit(read(down[0], buf, sizeof buf) == 0 ? 0 : 3);
    }
    close(down[0]);
    close(up[1]);
    if (write(down[1], "ping", 4) != 4) die("write");
    char buf[64] = {0};
    ssize_t n = read(up[0], buf, sizeof buf - 1);
    printf("pipe answer: %.*s\n", (int)n, buf);
    close(down[1]);
    printf("pipe: EOF after the child: %s\n", read(up[0], buf, sizeof buf) == 0 ? "yes" : "no");
    close(up[0]);
    report("pipe child", pid);
}

/* Parent and child share one open file description: one offset. */
static void shared_offset(void) {
    const char *path = "/tmp/sidecar_fork_offset";
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) die("open %s", path);
    if (write(fd, "ab", 2) != 2) die("write");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(write(fd, "cd", 2) == 2 ? 0 : 1);
    report("offset child", pid);
    printf("offset after the child wrote: %ld\n", (long)lseek(fd, 0, SEEK_CUR));
    if (write(fd, "ef", 2) != 2) die("write");
    char buf[16] = {0};
    pread(fd, buf, sizeof buf - 1, 0);
    printf("file: %s\n", buf);
    close(fd);
    unlink(path);
}

static int signal_state(void *arg) {
    (void)arg;
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    printf("child: SIGUSR1 handler inherited: %s\n", sa.sa_handler == on_usr1 ? "yes" : "no");
    sigset_t mask, pending;
    sigprocmask(SIG_SETMASK, NULL, &mask);
    printf("child: SIGUSR2 blocked: %s\n", sigismember(&mask, SIGUSR2) ? "yes" : "no");
    sigpending(&pending);
    printf("child: SIGUSR2 pending: %s\n", sigismember(&pending, SIGUSR2) ? "yes" : "no");
    raise(SIGUSR1);
    printf("child: handler ran: %d\n", (int)got_usr1);
    return 0;
}

static void signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    sigprocmask(SIG_BLOCK, &usr2, NULL);
    raise(SIGUSR2);
    report("signal child", child(signal_state, NULL));
    sigset_t pending;
    sigpending(&pending);
    printf("parent: SIGUSR2 still pending: %s\n", sigismember(&pending, SIGUSR2) ? "yes" : "no");
    signal(SIGUSR2, SIG_IGN);
    sigprocmask(SIG_UNBLOCK, &usr2, NULL);
    signal(SIGUSR2, SIG_DFL);
    printf("parent: handler ran: %d\n", (int)got_usr1);
}

static int grandchild(void *arg) {
    (void)arg;
    pid_t me = getpid();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) _exit(getppid() == me ? 5 : 6);
    report("grandchild", pid);
    return 9;
}

static void grandchildren_and_many(void) {
    report("child of the grandchild", child(grandchild, NULL));
    int ok = 0;
    for (int i = 0; i < 50; i++) {
        pid_t pid = fork();
        if (pid < 0) die("fork %d: %s", i, errno_name(errno));
        if (pid == 0) _exit(i % 100);
        int st;
        if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == i) ok++;
    }
    printf("50 forks in a row: %d exited as told\n", ok);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        for (;;) pause();
    }
    kill(pid, SIGKILL);
    report("SIGKILLed child", pid);
}

/* The exec'd image: reports what survived the exec. */
static int check(char **argv) {
    pid_t want = (pid_t)atol(argv[3]);
    int cloexec_fd = atoi(argv[4]), plain_fd = atoi(argv[5]);
    printf("exec: same pid: %s\n", getpid() == want ? "yes" : "no");
    printf("exec: close-on-exec fd open: %s\n", fcntl(cloexec_fd, F_GETFD) >= 0 ? "yes" : "no");
    printf("exec: plain fd open: %s\n", fcntl(plain_fd, F_GETFD) >= 0 ? "yes" : "no");
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    printf("exec: caught SIGUSR1 now: %s\n", sa.sa_handler == SIG_DFL ? "SIG_DFL" : "other");
    sigaction(SIGUSR2, NULL, &sa);
    printf("exec: ignored SIGUSR2 now: %s\n", sa.sa_handler == SIG_IGN ? "SIG_IGN" : "other");
    fflush(stdout);
    return 3;
}

static void exec_after_fork(const char *self) {
    int cl = open("/dev/null", O_RDONLY | O_CLOEXEC), plain = open("/dev/null", O_RDONLY);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGUSR2, SIG_IGN);
        errno = 0;
        char *none[] = {"nope", NULL};
        int r = execv("/no/such/program", none);
        printf("exec of a missing file: %d %s, still running\n", r, errno_name(errno));
        char p[16], c[16], o[16];
        snprintf(p, sizeof p, "%ld", (long)getpid());
        snprintf(c, sizeof c, "%d", cl);
        snprintf(o, sizeof o, "%d", plain);
        char *args[] = {(char *)self, (char *)self, "check", p, c, o, NULL};
        fflush(stdout);
        execv(self, args);
        _exit(99);
    }
    report("exec child", pid);
    close(cl);
    close(plain);

    /* vfork + exec of a #! script whose interpreter is this program. */
    char script[] = "/tmp/sidecar_fork_script";
    int fd = open(script, O_WRONLY | O_CREAT | O_TRUNC, 0700);
    char text[PATH_MAX + 32];
    int n = snprintf(text, sizeof text, "#!%s script\n", self);
    if (fd < 0 || write(fd, text, (size_t)n) != n) die("script");
    fchmod(fd, 0755);
    close(fd);
    fflush(stdout);
    pid = vfork();
    if (pid == 0) {
        char *args[] = {script, "arg", NULL};
        execv(script, args);
        _exit(98);
    }
    report("#! script child", pid);
    unlink(script);
}

static void shell(void) {
    printf("system: %#x\n", system("echo from system; exit 3"));
    printf("system(NULL): %d\n", system(NULL));
    fflush(stdout);
    FILE *f = popen("echo one; echo two", "r");
    char line[64];
    while (f && fgets(line, sizeof line, f)) printf("popen r: %s", line);
    printf("pclose r: %#x\n", f ? pclose(f) : -1);
    f = popen("read a; read b; echo \"got $b $a\"; exit 4", "w");
    if (f) {
        fputs("first\nsecond\n", f);
        fflush(stdout);
        printf("pclose w: %#x\n", pclose(f));
    }
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 6 && strcmp(argv[2], "check") == 0) return check(argv);
    if (argc >= 2 && strcmp(argv[1], "script") == 0) {
        /* As the interpreter of a #! script: argv is SELF "script" SCRIPT arg. */
        printf("#! interpreter got %d args, last: %s\n", argc, argv[argc - 1]);
        return 4;
    }
    if (argc == 3 && strcmp(argv[2], "shell") == 0) {
        shell();
        return finish();
    }
    if (argc != 2) {
        fprintf(stderr, "usage: fork SELF\n");
        return 2;
    }
    char self[PATH_MAX];
    if (!realpath(argv[1], self)) die("realpath %s", argv[1]);
    statuses_and_memory();
    snapshots();
    pipes_both_ways();
    shared_offset();
    signals();
    grandchildren_and_many();
    exec_after_fork(self);
    return finish();
}
