/* Job control on a PTY, as a shell uses it; the same output natively and
 * in the sidecar. The child is a session leader on the slave (a "shell",
 * ignoring SIGTTOU as shells do); it starts "jobs" in process groups of
 * their own and reports on fd 3 ("r<" lines), as do the jobs:
 *   - a background job: a read with SIGTTIN ignored fails with EIO, with a
 *     handler it raises SIGTTIN and fails with EINTR; writes pass unless
 *     TOSTOP, which raises SIGTTOU; tcsetattr raises SIGTTOU unless it is
 *     ignored; with SIGTTOU ignored it can take the foreground;
 *   - a background job reading with SIGTTIN at its default stops (waitpid
 *     with WUNTRACED);
 *   - a foreground job stopped by ^Z typed on the master (SIGTSTP), after
 *     which the shell takes the foreground back.
 * Usage: pty_jobs SELF */
#include "ptyutil.h"

static volatile sig_atomic_t n_ttin, n_ttou;

static void on_signal(int sig) {
    if (sig == SIGTTIN) n_ttin++;
    if (sig == SIGTTOU) n_ttou++;
}

static void set_handler(int sig, void (*h)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigaction(sig, &sa, NULL);
}

static const char *res(long r) { return r < 0 ? errno_name(errno) : "OK"; }

/* A background job. */
static int job_bg(void) {
    char buf[64];
    say(3, "bg: the foreground is another group: %s\n", tcgetpgrp(0) != getpgrp() ? "yes" : "no");
    set_handler(SIGTTIN, SIG_IGN);
    say(3, "bg: read, SIGTTIN ignored: %s\n", res(read(0, buf, sizeof buf)));
    set_handler(SIGTTIN, on_signal);
    ssize_t r = read(0, buf, sizeof buf);
    say(3, "bg: read, SIGTTIN caught: %s, SIGTTIN %d\n", res(r), (int)n_ttin);
    say(3, "bg: write without TOSTOP: %s\n", res(write(1, "from background\n", 16)));
    struct termios t, tostop;
    tcgetattr(0, &t);
    set_handler(SIGTTOU, SIG_IGN);
    say(3, "bg: tcsetattr, SIGTTOU ignored: %s\n", res(tcsetattr(0, TCSANOW, &t)));
    set_handler(SIGTTOU, on_signal);
    r = tcsetattr(0, TCSANOW, &t);
    say(3, "bg: tcsetattr, SIGTTOU caught: %s, SIGTTOU %d\n", res(r), (int)n_ttou);
    set_handler(SIGTTOU, SIG_IGN);
    tostop = t;
    tostop.c_lflag |= TOSTOP;
    say(3, "bg: set TOSTOP: %s\n", res(tcsetattr(0, TCSANOW, &tostop)));
    set_handler(SIGTTOU, on_signal);
    r = write(1, "x\n", 2);
    say(3, "bg: write with TOSTOP, SIGTTOU caught: %s, SIGTTOU %d\n", res(r), (int)n_ttou);
    set_handler(SIGTTOU, SIG_IGN);
    say(3, "bg: write with TOSTOP, SIGTTOU ignored: %s\n", res(write(1, "ignored TOSTOP\n", 15)));
    say(3, "bg: clear TOSTOP: %s\n", res(tcsetattr(0, TCSANOW, &t)));
    say(3, "bg: take the foreground: %s\n", res(tcsetpgrp(0, getpgrp())));
    say(3, "bg: now in the foreground: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
    say(3, "bg: give it back: %s\n", res(tcsetpgrp(0, getsid(0))));
    return 0;
}

/* A background job that reads with SIGTTIN at its default (stop). */
static int job_bgstop(void) {
    char buf[64];
    set_handler(SIGTTIN, SIG_DFL);
    ssize_t r = read(0, buf, sizeof buf);
    say(3, "bgstop: read returned: %s\n", res(r));
    return 0;
}

/* A foreground job reading until ^Z stops it. It starts once the shell,
 * having handed it the terminal, writes a byte on fd `go`; so the two
 * reports come in one order. */
static int job_fg(int go) {
    char buf[64];
    if (read(go, buf, 1) != 1) return 3;
    close(go);
    say(3, "fg: in the foreground: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
    say(3, "fg: reading in the foreground\n");
    ssize_t r = read(0, buf, sizeof buf);
    say(3, "fg: read returned: %s\n", res(r));
    return 0;
}

static pid_t start_job(const char *self, const char *mode, const char *arg) {
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    char *argv[] = {(char *)self, "child", (char *)mode, (char *)arg, NULL};
    pid_t pid;
    int e = posix_spawn(&pid, self, NULL, &at, argv, environ);
    if (e) {
        say(3, "posix_spawn: %s\n", errno_name(e));
        exit(1);
    }
    return pid;
}

/* waitpid with WUNTRACED, giving up after `ms`; reports what happened. */
static void await_job(const char *what, pid_t pid, long ms) {
    int st;
    for (long end = now_ms() + ms;;) {
        pid_t r = waitpid(pid, &st, WUNTRACED | WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) {
            say(3, "shell: waitpid(%s): %s\n", what, errno_name(errno));
            return;
        }
        if (now_ms() > end) {
            say(3, "shell: %s neither stopped nor exited after %ld ms\n", what, ms);
            return;
        }
        nap_ms(10);
    }
    if (WIFSTOPPED(st))
        say(3, "shell: %s stopped by signal %d\n", what, WSTOPSIG(st));
    else if (WIFSIGNALED(st))
        say(3, "shell: %s killed by signal %d\n", what, WTERMSIG(st));
    else
        say(3, "shell: %s exited %d\n", what, WEXITSTATUS(st));
}

static int shell(const char *self) {
    set_handler(SIGTTOU, SIG_IGN);
    say(3, "shell: in the foreground: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");

    pid_t j = start_job(self, "bg", "-");
    await_job("bg", j, PTY_TIMEOUT_MS);
    say(3, "shell: in the foreground: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
    say(3, "#bg\n");

    j = start_job(self, "bgstop", "-");
    await_job("bgstop", j, 3000);
    kill(j, SIGKILL);
    await_job("bgstop", j, PTY_TIMEOUT_MS);

    int go[2];
    if (pipe(go) < 0) return 1;
    char go_fd[16];
    snprintf(go_fd, sizeof go_fd, "%d", go[0]);
    j = start_job(self, "fg", go_fd);
    close(go[0]);
    say(3, "shell: tcsetpgrp(0, job): %s\n", res(tcsetpgrp(0, j)));
    if (write(go[1], "g", 1) != 1) return 1;
    close(go[1]);
    await_job("fg", j, 5000);
    say(3, "shell: take the foreground back: %s\n", res(tcsetpgrp(0, getpgrp())));
    kill(j, SIGKILL);
    await_job("fg", j, PTY_TIMEOUT_MS);
    say(3, "#end\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "child") == 0) {
        if (strcmp(argv[2], "shell") == 0) return shell(argv[0]);
        if (strcmp(argv[2], "bg") == 0) return job_bg();
        if (strcmp(argv[2], "bgstop") == 0) return job_bgstop();
        if (strcmp(argv[2], "fg") == 0) return job_fg(atoi(argv[3]));
        return 2;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: pty_jobs SELF\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    char slave[64];
    int m = open_master(slave, sizeof slave);
    int p[2];
    if (pipe(p) < 0) pty_fail("pipe");
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = spawn_on_pty(argv[1], "shell", slave, p[1]);
    close(p[1]);
    report_fd = p[0];

    /* The background job's reads must fail at once. If one blocks, say so
     * and type a line for it, so that the rest still runs. */
    expect_line(report_fd, "bg: the foreground is another group: ");
    const char *reads[] = {"bg: read, SIGTTIN ignored: ", "bg: read, SIGTTIN caught: "};
    for (int i = 0; i < 2; i++) {
        if (!arrives_within(report_fd, reads[i], 2000)) {
            printf("background read still blocked after 2 s: typing a line\n");
            send_str(m, "typed\r");
        }
        expect_line(report_fd, reads[i]);
    }
    expect_from(report_fd, "#bg\n");
    expect_from(m, "ignored TOSTOP\r\n");
    /* ^Z stops the foreground group whether or not its read has begun. */
    expect_from(report_fd, "fg: reading in the foreground\n");
    send_str(m, "\x1a");
    expect_from(m, "^Z");
    expect_from(report_fd, "#end\n");
    expect_from(report_fd, NULL);
    reap(pid);
    close(m);
    return finish();
}
