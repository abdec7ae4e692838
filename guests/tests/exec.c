/* execve and its family without fork: a spawned child sets up state (a
 * close-on-exec fd and a plain one, a caught, an ignored and a blocked
 * signal, a pending signal, an interval timer, a cwd) and execs this program
 * in "check" mode, which reports what survived; exec failures (ENOENT,
 * EACCES, ENOEXEC, E2BIG, a missing #! interpreter) leave the caller
 * running; #! scripts run their interpreter with Linux's argv, through
 * execv and through execlp's PATH search; execl/execle pass argv and envp.
 * Usage: exec SELF                 (SELF = path of this program)
 *        exec SELF MODE ARGS...    (child modes, see main()) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

static void on_usr1(int sig) { (void)sig; }

static const char *base(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* Spawns SELF MODE A B and waits; prints how it ended. */
static void run(const char *self, const char *mode, const char *a, const char *b) {
    char *argv[] = {(char *)self, (char *)self, (char *)mode, (char *)a, (char *)b, NULL};
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self, NULL, NULL, argv, environ);
    if (err) {
        errno = err;
        die("posix_spawn %s", mode);
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) die("waitpid");
    char label[64];
    snprintf(label, sizeof label, "%s child exit", mode);
    expect_long(label, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), 0);
}

/* The state an exec must keep or reset, then exec into "check". */
static int setup(const char *abs_self, const char *dir) {
    int fdc = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int fdo = open("/dev/null", O_RDONLY);
    if (fdc < 0 || fdo < 0) die("open /dev/null");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGUSR2, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGTERM); /* stays pending */
    struct itimerval it = {{0, 0}, {100, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
    if (chdir(dir) != 0) die("chdir");
    setenv("SETUP_VAR", "lost", 1);
    char pid[16], ppid[16], c[16], o[16];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    snprintf(ppid, sizeof ppid, "%d", (int)getppid());
    snprintf(c, sizeof c, "%d", fdc);
    snprintf(o, sizeof o, "%d", fdo);
    char *argv[] = {(char *)abs_self, (char *)abs_self, "check", pid, ppid, c, o, (char *)dir, NULL};
    char *envp[] = {"EXEC_VAR=from-exec", NULL};
    execve(abs_self, argv, envp);
    printf("setup: execve failed: %s\n", errno_name(errno));
    return 2;
}

static int check(int argc, char **argv) {
    expect_long("check argc", argc, 8);
    if (argc != 8) return 3;
    expect_yes("pid kept", getpid() == atoi(argv[3]));
    expect_yes("ppid kept", getppid() == atoi(argv[4]));
    expect_errno("cloexec fd closed", fcntl(atoi(argv[5]), F_GETFD), EBADF);
    expect_ok("plain fd open", fcntl(atoi(argv[6]), F_GETFD));
    struct sigaction sa;
    sigaction(SIGUSR1, NULL, &sa);
    expect_yes("caught SIGUSR1 now SIG_DFL", sa.sa_handler == SIG_DFL);
    sigaction(SIGUSR2, NULL, &sa);
    expect_yes("ignored SIGUSR2 still SIG_IGN", sa.sa_handler == SIG_IGN);
    sigset_t set;
    sigprocmask(SIG_BLOCK, NULL, &set);
    expect_yes("SIGTERM still blocked", sigismember(&set, SIGTERM) == 1);
    sigpending(&set);
    expect_yes("SIGTERM still pending", sigismember(&set, SIGTERM) == 1);
    struct itimerval it;
    getitimer(ITIMER_REAL, &it);
    expect_yes("itimer kept", it.it_value.tv_sec > 0 && it.it_value.tv_sec <= 100);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    char cwd[PATH_MAX];
    expect_yes("cwd kept", getcwd(cwd, sizeof cwd) && !strcmp(cwd, argv[7]));
    const char *v = getenv("EXEC_VAR");
    expect_str("EXEC_VAR", v ? v : "(unset)", "from-exec");
    v = getenv("SETUP_VAR");
    expect_str("SETUP_VAR", v ? v : "(unset)", "(unset)");
    expect_str("argv[2]", argv[2], "check");
    fflush(stdout);
    return failures ? 3 : 0;
}

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
    if (fd < 0) die("create %s", path);
    if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die("write %s", path);
    close(fd);
    chmod(path, 0755);
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOFBF, 0);
    if (argc >= 2 && !strcmp(argv[1], "script-mode")) {
        /* argv: interp script-mode SCRIPT args... */
        printf("script: argc=%d argv0 absolute=%s script=%s", argc, argv[0][0] == '/' ? "yes" : "no",
               argc > 2 ? base(argv[2]) : "?");
        for (int i = 3; i < argc; i++) printf(" [%s]", argv[i]);
        printf("\n");
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: exec SELF\n");
        return 2;
    }
    const char *self = argv[1];
    if (argc >= 3) {
        const char *mode = argv[2];
        if (!strcmp(mode, "setup") && argc == 5) return setup(argv[3], argv[4]);
        if (!strcmp(mode, "check")) return check(argc, argv);
        if (!strcmp(mode, "args")) {
            printf("args:");
            for (int i = 3; i < argc; i++) printf(" [%s]", argv[i]);
            const char *v = getenv("EXEC_VAR");
            printf(" EXEC_VAR=%s\n", v ? v : "(unset)");
            return 0;
        }
        if (!strcmp(mode, "execl") && argc == 4) {
            execl(argv[3], argv[3], argv[3], "args", "x", "y z", (char *)NULL);
            return 2;
        }
        if (!strcmp(mode, "execle") && argc == 4) {
            char *envp[] = {"EXEC_VAR=le", NULL};
            execle(argv[3], argv[3], argv[3], "args", "e", (char *)NULL, envp);
            return 2;
        }
        if (!strcmp(mode, "run-script") && argc == 4) {
            char *args[] = {argv[3], "a1", "a 2", NULL};
            execv(argv[3], args);
            return 2;
        }
        if (!strcmp(mode, "run-scriptp") && argc == 5) {
            setenv("PATH", argv[3], 1);
            execlp(argv[4], argv[4], "p1", (char *)NULL);
            return 2;
        }
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }

    char abs_self[PATH_MAX];
    if (!realpath(self, abs_self)) die("realpath %s", self);
    char dir[64], path[PATH_MAX], text[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "/tmp/sidecar_exec_%d", (int)getpid());
    if (mkdir(dir, 0755) != 0) die("mkdir %s", dir);

    /* Failures return, and the caller goes on unchanged. */
    pid_t me = getpid();
    char *args[] = {(char *)self, (char *)self, "args", NULL};
    snprintf(path, sizeof path, "%s/missing", dir);
    expect_errno("execve missing file", execve(path, args, environ), ENOENT);
    expect_errno("execve directory", execve(dir, args, environ), EACCES);
    snprintf(path, sizeof path, "%s/text", dir);
    write_file(path, "just some text\n");
    expect_errno("execve text file", execve(path, args, environ), ENOEXEC);
    snprintf(path, sizeof path, "%s/badinterp", dir);
    snprintf(text, sizeof text, "#!%s/no-such-interpreter\n", dir);
    write_file(path, text);
    expect_errno("execve script with missing interpreter", execve(path, args, environ), ENOENT);
    size_t big = 200 * 1024;
    char *huge = malloc(big + 1);
    memset(huge, 'x', big);
    huge[big] = '\0';
    char *bigargs[] = {(char *)self, (char *)self, "args", huge, NULL};
    expect_errno("execv 200 KiB argument", execv(abs_self, bigargs), E2BIG);
    free(huge);
    char *saved_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", dir, 1);
    expect_errno("execvp not in PATH", execvp("sidecar-exec-no-such-program", args), ENOENT);
    expect_errno("execvp empty name", execvp("", args), ENOENT);
    if (saved_path) setenv("PATH", saved_path, 1);
    else unsetenv("PATH");
    expect_yes("caller continues", getpid() == me);

    /* What an exec keeps and resets. */
    run(self, "setup", abs_self, dir);

    /* execl and execle. */
    run(self, "execl", abs_self, NULL);
    run(self, "execle", abs_self, NULL);

    /* #! scripts, by path and through execlp's PATH search. */
    snprintf(path, sizeof path, "%s/script", dir);
    snprintf(text, sizeof text, "#!%s script-mode\nignored\n", abs_self);
    write_file(path, text);
    run(self, "run-script", path, NULL);
    run(self, "run-scriptp", dir, "script");

    snprintf(path, sizeof path, "%s/text", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/badinterp", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/script", dir);
    unlink(path);
    rmdir(dir);
    return finish();
}
