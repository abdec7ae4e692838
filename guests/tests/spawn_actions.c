/* posix_spawn file actions and attributes, spawning itself: open onto fd 1,
 * dup2/close, addchdir_np, FD_CLOEXEC, argv/envp passing, exit statuses,
 * kill(SIGTERM) of a blocked child, setpgroup, posix_spawnp PATH search and
 * spawn errors.
 * Usage: spawn_actions SELF         (SELF = path of this program)
 *        spawn_actions SELF MODE ARGS...   (child modes, see child()) */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define DIR_PATH "/tmp/sidecar_spawn_actions"

extern char **environ;

/* Exit codes of the check-fd child. */
#define FD_IS_BADF 10
#define FD_IS_OPEN 11

static int child(int argc, char **argv) {
    const char *mode = argv[2];
    if (!strcmp(mode, "write-stdout")) {
        fputs("written by child\n", stdout);
        return 0;
    }
    if (!strcmp(mode, "upper")) {
        int c;
        while ((c = getchar()) != EOF) putchar(c >= 'a' && c <= 'z' ? c - 32 : c);
        return 0;
    }
    if (!strcmp(mode, "check-fd") && argc > 3) {
        if (fcntl(atoi(argv[3]), F_GETFD) != -1) return FD_IS_OPEN;
        return errno == EBADF ? FD_IS_BADF : 12;
    }
    if (!strcmp(mode, "exit") && argc > 3) return atoi(argv[3]);
    if (!strcmp(mode, "block-read")) {
        char c;
        read(0, &c, 1);
        return 5;
    }
    if (!strcmp(mode, "pgid")) return getpgid(0) == getpid() && getpgrp() == getpid() ? 0 : 1;
    if (!strcmp(mode, "cwd")) {
        char buf[1024];
        if (!getcwd(buf, sizeof buf)) return 1;
        printf("%s\n", buf);
        return 0;
    }
    if (!strcmp(mode, "args")) {
        printf("argc=%d", argc);
        for (int i = 3; i < argc; i++) printf(" [%s]", argv[i]);
        const char *v = getenv("SPAWN_VAR");
        printf(" SPAWN_VAR=%s", v ? v : "(unset)");
        int n = 0;
        for (char **e = environ; *e; e++) n++;
        printf(" nenv=%d\n", n);
        return 0;
    }
    return 99;
}

static char self[1024];

/* Spawns SELF SELF mode [arg] and waits; returns the wait status, or -1 with
 * errno set if posix_spawn failed. */
static int run(const char *mode, const char *arg, const posix_spawn_file_actions_t *fa,
               const posix_spawnattr_t *attr) {
    char *argv[] = {self, self, (char *)mode, (char *)arg, NULL};
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self, fa, attr, argv, environ);
    if (err) {
        errno = err;
        return -1;
    }
    int status;
    if (waitpid(pid, &status, 0) != pid) die("waitpid");
    return status;
}

static void expect_exit(const char *label, int status, int code) {
    char buf[64];
    if (status == -1)
        snprintf(buf, sizeof buf, "spawn failed %s", errno_name(errno));
    else if (WIFEXITED(status))
        snprintf(buf, sizeof buf, "exited %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, sizeof buf, "signal %d", WTERMSIG(status));
    else
        snprintf(buf, sizeof buf, "status %#x", status);
    char want[32];
    snprintf(want, sizeof want, "exited %d", code);
    expect_str(label, buf, want);
}

static const char *fd_state(int status) {
    if (status != -1 && WIFEXITED(status)) {
        if (WEXITSTATUS(status) == FD_IS_BADF) return "EBADF";
        if (WEXITSTATUS(status) == FD_IS_OPEN) return "open";
    }
    return "error";
}

static void check_fd_in_child(const char *label, int fd, const posix_spawn_file_actions_t *fa,
                              const char *want) {
    char num[16];
    snprintf(num, sizeof num, "%d", fd);
    expect_str(label, fd_state(run("check-fd", num, fa, NULL)), want);
}

static size_t read_all(int fd, char *buf, size_t cap) {
    size_t len = 0;
    ssize_t n;
    while (len < cap - 1 && (n = read(fd, buf + len, cap - 1 - len)) > 0) len += (size_t)n;
    buf[len] = '\0';
    return len;
}

static void read_file(const char *path, char *buf, size_t cap) {
    int fd = open(path, O_RDONLY);
    buf[0] = '\0';
    if (fd < 0) return;
    read_all(fd, buf, cap);
    close(fd);
}

static void test_open_action(void) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, DIR_PATH "/out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    expect_exit("open action child", run("write-stdout", NULL, &fa, NULL), 0);
    posix_spawn_file_actions_destroy(&fa);
    char buf[128];
    read_file(DIR_PATH "/out.txt", buf, sizeof buf);
    expect_str("file written via fd 1", buf, "written by child\n");

    /* An open action that fails makes posix_spawn fail. */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, DIR_PATH "/missing/x", O_RDONLY, 0);
    expect_errno("failing open action", run("write-stdout", NULL, &fa, NULL), ENOENT);
    posix_spawn_file_actions_destroy(&fa);
}

static void test_dup2_close(void) {
    int in[2], out[2];
    if (pipe(in) || pipe(out)) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, in[0]);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    char *argv[] = {self, self, "upper", NULL};
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        die("spawn upper");
    }
    close(in[0]);
    close(out[1]);
    const char *msg = "ping pong\n";
    write(in[1], msg, strlen(msg));
    close(in[1]);
    char buf[128];
    read_all(out[0], buf, sizeof buf);
    close(out[0]);
    int status;
    waitpid(pid, &status, 0);
    expect_exit("dup2 child", status, 0);
    expect_str("through dup2'd pipes", buf, "PING PONG\n");

    /* A close action on a bad fd makes posix_spawn fail with EBADF. */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, 1000, 5);
    expect_errno("dup2 action from bad fd", run("exit", "0", &fa, NULL), EBADF);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawn_file_actions_init(&fa);
    expect_str("addclose(-1)", errno_name(posix_spawn_file_actions_addclose(&fa, -1)), "EBADF");
    posix_spawn_file_actions_destroy(&fa);
}

static void test_cloexec(void) {
    int plain = open(DIR_PATH "/out.txt", O_RDONLY);
    if (plain < 0) die("open");
    check_fd_in_child("plain fd in child", plain, NULL, "open");

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addclose(&fa, plain);
    check_fd_in_child("fd closed by action", plain, &fa, "EBADF");
    posix_spawn_file_actions_destroy(&fa);

    expect_ok("F_SETFD FD_CLOEXEC", fcntl(plain, F_SETFD, FD_CLOEXEC));
    expect_long("F_GETFD", fcntl(plain, F_GETFD), FD_CLOEXEC);
    check_fd_in_child("FD_CLOEXEC fd in child", plain, NULL, "EBADF");

    /* dup2 onto another number clears close-on-exec for the copy. */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, plain, 50);
    check_fd_in_child("dup2 of cloexec fd in child", 50, &fa, "open");
    posix_spawn_file_actions_destroy(&fa);
    close(plain);

    int oc = open(DIR_PATH "/out.txt", O_RDONLY | O_CLOEXEC);
    if (oc < 0) die("open O_CLOEXEC");
    expect_long("open O_CLOEXEC F_GETFD", fcntl(oc, F_GETFD), FD_CLOEXEC);
    check_fd_in_child("O_CLOEXEC fd in child", oc, NULL, "EBADF");
    int dc = fcntl(oc, F_DUPFD_CLOEXEC, 0);
    expect_long("F_DUPFD_CLOEXEC F_GETFD", fcntl(dc, F_GETFD), FD_CLOEXEC);
    check_fd_in_child("F_DUPFD_CLOEXEC fd in child", dc, NULL, "EBADF");
    int d = dup(oc);
    expect_long("dup of cloexec fd F_GETFD", fcntl(d, F_GETFD), 0);
    check_fd_in_child("dup of cloexec fd in child", d, NULL, "open");
    close(oc);
    close(dc);
    close(d);

    int p[2];
    if (pipe2(p, O_CLOEXEC)) die("pipe2");
    check_fd_in_child("pipe2 O_CLOEXEC read end in child", p[0], NULL, "EBADF");
    check_fd_in_child("pipe2 O_CLOEXEC write end in child", p[1], NULL, "EBADF");
    close(p[0]);
    close(p[1]);
}

static void test_args_env(void) {
    int out[2];
    if (pipe(out)) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    char *argv[] = {self, self, "args", "", "a b", "  x\ty  ", NULL};
    char *envp[] = {"SPAWN_VAR=v=1 2", "OTHER=", NULL};
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self, &fa, NULL, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        die("spawn args");
    }
    close(out[1]);
    char buf[256];
    read_all(out[0], buf, sizeof buf);
    close(out[0]);
    int status;
    waitpid(pid, &status, 0);
    expect_exit("args child", status, 0);
    expect_str("child argv/envp", buf, "argc=6 [] [a b] [  x\ty  ] SPAWN_VAR=v=1 2 nenv=2\n");
}

static void test_chdir(void) {
    char mycwd[1024];
    if (!getcwd(mycwd, sizeof mycwd)) die("getcwd");
    int out[2];
    if (pipe(out)) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    expect_exit("cwd child", run("cwd", NULL, &fa, NULL), 0);
    close(out[1]);
    char buf[1100];
    read_all(out[0], buf, sizeof buf);
    close(out[0]);
    size_t n = strlen(buf);
    if (n && buf[n - 1] == '\n') buf[n - 1] = '\0';
    expect_yes("child inherits cwd", !strcmp(buf, mycwd));

    if (pipe(out)) die("pipe");
    posix_spawn_file_actions_destroy(&fa);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    posix_spawn_file_actions_addclose(&fa, out[1]);
    posix_spawn_file_actions_addchdir_np(&fa, DIR_PATH);
    expect_exit("addchdir_np child", run("cwd", NULL, &fa, NULL), 0);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    read_all(out[0], buf, sizeof buf);
    close(out[0]);
    expect_str("cwd after addchdir_np", buf, DIR_PATH "\n");

    /* A relative open action resolves against the directory chdir'd to. */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addchdir_np(&fa, DIR_PATH);
    posix_spawn_file_actions_addopen(&fa, 1, "rel.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    expect_exit("relative open child", run("write-stdout", NULL, &fa, NULL), 0);
    posix_spawn_file_actions_destroy(&fa);
    read_file(DIR_PATH "/rel.txt", buf, sizeof buf);
    expect_str("relative open after chdir", buf, "written by child\n");
}

static void test_statuses_and_kill(void) {
    expect_exit("exit 0", run("exit", "0", NULL, NULL), 0);
    expect_exit("exit 3", run("exit", "3", NULL, NULL), 3);
    expect_exit("exit 42", run("exit", "42", NULL, NULL), 42);

    int k[2];
    if (pipe(k)) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, k[0], 0);
    posix_spawn_file_actions_addclose(&fa, k[0]);
    posix_spawn_file_actions_addclose(&fa, k[1]);
    char *argv[] = {self, self, "block-read", NULL};
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (err) {
        errno = err;
        die("spawn block-read");
    }
    close(k[0]);
    int status = 0;
    expect_long("WNOHANG on blocked child", waitpid(pid, &status, WNOHANG), 0);
    expect_ok("kill(pid, 0)", kill(pid, 0));
    expect_errno("kill bad signal", kill(pid, 9999), EINVAL);
    expect_ok("kill(pid, SIGTERM)", kill(pid, SIGTERM));
    expect_yes("waitpid killed child", waitpid(pid, &status, 0) == pid);
    expect_yes("WIFSIGNALED", WIFSIGNALED(status));
    expect_yes("not WIFEXITED", !WIFEXITED(status));
    expect_long("WTERMSIG", WTERMSIG(status), SIGTERM);
    close(k[1]);
    expect_errno("kill reaped child", kill(pid, 0), ESRCH);
}

static void test_pgroup(void) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    expect_long("setflags SETPGROUP", posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP), 0);
    expect_long("setpgroup 0", posix_spawnattr_setpgroup(&attr, 0), 0);
    short flags = 0;
    posix_spawnattr_getflags(&attr, &flags);
    expect_long("getflags", flags, POSIX_SPAWN_SETPGROUP);
    expect_str("setflags invalid", errno_name(posix_spawnattr_setflags(&attr, 0x4000)), "EINVAL");
    char *argv[] = {self, self, "block-read", NULL};
    int k[2];
    if (pipe(k)) die("pipe");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, k[0], 0);
    posix_spawn_file_actions_addclose(&fa, k[0]);
    posix_spawn_file_actions_addclose(&fa, k[1]);
    pid_t pid;
    fflush(stdout);
    int err = posix_spawn(&pid, self, &fa, &attr, argv, environ);
    if (err) {
        errno = err;
        die("spawn pgroup");
    }
    close(k[0]);
    expect_yes("getpgid(child) == child", getpgid(pid) == pid);
    expect_yes("child group differs from ours", getpgid(pid) != getpgrp());
    expect_ok("killpg(child group, SIGKILL)", killpg(pid, SIGKILL));
    int status;
    waitpid(pid, &status, 0);
    expect_yes("killed via group", WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    close(k[1]);
    posix_spawn_file_actions_destroy(&fa);

    expect_exit("child in own group", run("pgid", NULL, NULL, &attr), 0);
    posix_spawnattr_destroy(&attr);
    expect_exit("child in our group", run("pgid", NULL, NULL, NULL), 1);
}

static void test_spawnp_and_errors(void) {
    char dir[1024];
    strcpy(dir, self);
    char *slash = strrchr(dir, '/');
    *slash = '\0';
    const char *base = slash + 1;
    char path[1100];
    snprintf(path, sizeof path, "/nonexistent-dir:%s", dir);
    setenv("PATH", path, 1);
    char *argv[] = {(char *)base, self, "exit", "7", NULL};
    pid_t pid;
    fflush(stdout);
    int err = posix_spawnp(&pid, base, NULL, NULL, argv, environ);
    expect_str("posix_spawnp via PATH", errno_name(err), "OK");
    if (!err) {
        int status;
        waitpid(pid, &status, 0);
        expect_exit("posix_spawnp child", status, 7);
    }
    err = posix_spawnp(&pid, "no-such-program-sidecar", NULL, NULL, argv, environ);
    expect_str("posix_spawnp missing", errno_name(err), "ENOENT");
    err = posix_spawn(&pid, DIR_PATH "/no-such-file", NULL, NULL, argv, environ);
    expect_str("posix_spawn missing", errno_name(err), "ENOENT");
    err = posix_spawn(&pid, DIR_PATH, NULL, NULL, argv, environ);
    expect_str("posix_spawn directory", errno_name(err), "EACCES");
    int fd = open(DIR_PATH "/not-a-program", O_WRONLY | O_CREAT | O_TRUNC, 0755);
    write(fd, "just text\n", 10);
    close(fd);
    err = posix_spawn(&pid, DIR_PATH "/not-a-program", NULL, NULL, argv, environ);
    expect_str("posix_spawn text file", errno_name(err), "ENOEXEC");
    int status;
    expect_errno("no children left", waitpid(-1, &status, WNOHANG), ECHILD);
}

static void rm_dir(void) {
    const char *files[] = {"out.txt", "rel.txt", "not-a-program"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", DIR_PATH, files[i]);
        unlink(p);
    }
    rmdir(DIR_PATH);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SELF [MODE ARGS...]\n", argv[0]);
        return 2;
    }
    if (argc > 2) return child(argc, argv);

    /* Make SELF absolute: it must survive the addchdir_np test. */
    if (argv[1][0] == '/') {
        snprintf(self, sizeof self, "%s", argv[1]);
    } else {
        char cwd[512];
        if (!getcwd(cwd, sizeof cwd)) die("getcwd");
        snprintf(self, sizeof self, "%s/%s", strcmp(cwd, "/") ? cwd : "", argv[1]);
    }

    rm_dir();
    if (mkdir(DIR_PATH, 0755)) die("mkdir");
    test_open_action();
    test_dup2_close();
    test_cloexec();
    test_args_env();
    test_chdir();
    test_statuses_and_kill();
    test_pgroup();
    test_spawnp_and_errors();
    rm_dir();
    return finish();
}
