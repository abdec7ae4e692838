/* PTY calls and tty ioctls outside the line discipline proper; the same
 * output natively and in the sidecar: errors on non-ttys, the slave lock,
 * names, termios through the master (a pty forces CS8), queue sizes
 * (FIONREAD, TIOCOUTQ), flushing each queue, the foreground group
 * (tcsetpgrp errors), giving up and re-acquiring the controlling tty
 * (TIOCNOTTY, TIOCSCTTY), a new session leader opening the slave with
 * O_NOCTTY and after the old session ended, draining output nobody reads
 * (tcdrain, TCSADRAIN), openpty and login_tty, and the controlling process
 * exiting (SIGHUP to the foreground group). The main child runs commands
 * the parent sends on its fd 4 and reports on its fd 3 ("r<" lines).
 * Usage: pty_ioctl SELF */
#include "ptyutil.h"

#include <pty.h>
#ifndef __wasi__
#include <utmp.h> /* glibc declares login_tty() here, the SDK in <pty.h> */
#endif

/* ---- child ---- */

static int cmd_line(char *buf, size_t cap) {
    size_t n = 0;
    while (n + 1 < cap) {
        char c;
        ssize_t r = read(4, &c, 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        if (c == '\n') break;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return 0;
}

static const char *res(long r) { return r < 0 ? errno_name(errno) : "OK"; }

static void child_pgrp(void) {
    say(3, "tcgetpgrp(0) is my group: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
    say(3, "tcsetpgrp(0, my group): %s\n", res(tcsetpgrp(0, getpgrp())));
    say(3, "tcsetpgrp(0, -1): %s\n", res(tcsetpgrp(0, -1)));
    /* The parent's group exists but is in another session. */
    say(3, "tcsetpgrp(0, parent's group): %s\n", res(tcsetpgrp(0, getpgid(getppid()))));
    /* No process has this id (pid_max is at most 4194304). */
    say(3, "tcsetpgrp(0, no such group): %s\n", res(tcsetpgrp(0, 4194305)));
}

static void child_sctty(void) {
    signal(SIGHUP, SIG_IGN); /* TIOCNOTTY by a session leader hangs up its group */
    say(3, "TIOCSCTTY when already the controlling tty: %s\n", res(ioctl(0, TIOCSCTTY, 0)));
    say(3, "TIOCNOTTY: %s\n", res(ioctl(0, TIOCNOTTY)));
    pid_t sid = tcgetsid(0);
    say(3, "tcgetsid(0) after TIOCNOTTY: %s\n", sid < 0 ? errno_name(errno) : "a session");
    pid_t pg = tcgetpgrp(0);
    say(3, "tcgetpgrp(0) after TIOCNOTTY: %s\n", pg < 0 ? errno_name(errno) : "a group");
    say(3, "TIOCNOTTY again: %s\n", res(ioctl(0, TIOCNOTTY)));
    say(3, "TIOCSCTTY: %s\n", res(ioctl(0, TIOCSCTTY, 0)));
    say(3, "tcgetsid(0) is me: %s\n", tcgetsid(0) == getpid() ? "yes" : "no");
    say(3, "tcgetpgrp(0) is my group: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
    signal(SIGHUP, SIG_DFL);
}

static int child_cmd(void) {
    char cmd[128], buf[256];
    while (cmd_line(cmd, sizeof cmd) == 0) {
        if (strncmp(cmd, "write ", 6) == 0) {
            say(1, "%s\n", cmd + 6);
            say(3, "wrote %s\n", cmd + 6);
        } else if (strcmp(cmd, "fionread") == 0) {
            int n = -1;
            int r = ioctl(0, FIONREAD, &n);
            say(3, "FIONREAD(slave): %s %d\n", res(r), n);
        } else if (strcmp(cmd, "outq") == 0) {
            int n = -1;
            int r = ioctl(0, TIOCOUTQ, &n);
            say(3, "TIOCOUTQ(slave): %s %d\n", res(r), n);
        } else if (strcmp(cmd, "iflush") == 0) {
            say(3, "tcflush(0, TCIFLUSH): %s\n", res(tcflush(0, TCIFLUSH)));
        } else if (strcmp(cmd, "read") == 0) {
            ssize_t r = read(0, buf, sizeof buf);
            say(3, "read %d: %s\n", (int)r, r < 0 ? errno_name(errno) : esc(buf, r));
        } else if (strcmp(cmd, "pgrp") == 0) {
            child_pgrp();
        } else if (strcmp(cmd, "sctty") == 0) {
            child_sctty();
        } else if (strcmp(cmd, "drain") == 0) {
            /* Output the master has not read does not hold up a drain: a
             * pty has no transmitter to wait for. */
            say(1, "pending\n");
            say(3, "tcdrain: %s\n", res(tcdrain(0)));
            struct termios t;
            tcgetattr(0, &t);
            say(3, "tcsetattr(TCSADRAIN): %s\n", res(tcsetattr(0, TCSADRAIN, &t)));
        } else if (strcmp(cmd, "exit") == 0) {
            return 0;
        } else {
            say(3, "unknown command %s\n", cmd);
        }
        say(3, "done\n");
    }
    return 1;
}

/* A new session leader opens the slave with O_NOCTTY (no controlling tty),
 * then takes it with TIOCSCTTY: the first session has ended. It reports on
 * fd 4, as replacing fd 3 would take wasi-libc's preopened root (and with
 * it every path) away in the sidecar. */
static int child_noctty(const char *slave) {
    int fd = open(slave, O_RDWR | O_NOCTTY);
    if (fd < 0) {
        say(4, "open slave: %s\n", errno_name(errno));
        return 1;
    }
    pid_t sid = tcgetsid(fd);
    say(4, "tcgetsid after open with O_NOCTTY: %s\n", sid < 0 ? errno_name(errno) : sid == getpid() ? "me" : "other");
    say(4, "TIOCSCTTY: %s\n", res(ioctl(fd, TIOCSCTTY, 0)));
    say(4, "tcgetsid is me: %s\n", tcgetsid(fd) == getpid() ? "yes" : "no");
    say(4, "tcgetpgrp is my group: %s\n", tcgetpgrp(fd) == getpgrp() ? "yes" : "no");
    close(fd);
    return 0;
}

/* openpty() with a size, then login_tty() onto its slave (which makes this
 * process a session leader with the slave as its controlling tty and its
 * stdin/stdout/stderr). Reports on fd 4. */
static int child_login(void) {
    int m, s;
    char name[64];
    struct winsize ws = {33, 99, 0, 0};
    if (openpty(&m, &s, name, NULL, &ws) < 0) {
        say(4, "openpty: %s\n", errno_name(errno));
        return 1;
    }
    say(4, "openpty name is /dev/pts/N: %s\n", strncmp(name, "/dev/pts/", 9) == 0 ? "yes" : "no");
    const char *tn = ttyname(s);
    say(4, "ttyname(slave) is that name: %s\n", tn && strcmp(tn, name) == 0 ? "yes" : "no");
    struct winsize got = {0, 0, 0, 0};
    ioctl(m, TIOCGWINSZ, &got);
    say(4, "size from openpty: %dx%d\n", got.ws_row, got.ws_col);
    pid_t sid = tcgetsid(s);
    say(4, "tcgetsid(slave) before login_tty: %s\n", sid < 0 ? errno_name(errno) : "a session");
    say(4, "login_tty: %s\n", res(login_tty(s)));
    say(4, "session leader: %s\n", getsid(0) == getpid() ? "yes" : "no");
    say(4, "tcgetsid(0) is me: %s\n", tcgetsid(0) == getpid() ? "yes" : "no");
    say(4, "isatty 0 1 2: %d %d %d\n", isatty(0), isatty(1), isatty(2));
    say(1, "hello\n");
    char buf[64];
    size_t n = 0;
    while (n < 7) {
        struct pollfd p = {m, POLLIN, 0};
        if (poll(&p, 1, PTY_TIMEOUT_MS) != 1) break;
        ssize_t r = read(m, buf + n, sizeof buf - n);
        if (r <= 0) break;
        n += (size_t)r;
    }
    say(4, "master read: %s\n", esc(buf, (ssize_t)n));
    return 0;
}

/* The controlling process exits: the tty's foreground group (here a
 * grandchild in a group of its own) gets SIGHUP (a pty is not hung up, so
 * no SIGCONT) and the tty no longer belongs to the session. */
static volatile sig_atomic_t n_hup, n_cont;

static void count_signal(int sig) {
    if (sig == SIGHUP) n_hup++;
    if (sig == SIGCONT) n_cont++;
}

static int child_foreground(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = count_signal;
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCONT, &sa, NULL);
    say(3, "ready\n");
    for (long end = now_ms() + 3000; !n_hup && now_ms() < end;) nap_ms(20);
    nap_ms(50); /* a SIGCONT would follow at once */
    say(3, "after the controlling process exited: SIGHUP %d SIGCONT %d\n", (int)n_hup, (int)n_cont);
    pid_t pg = tcgetpgrp(0);
    say(3, "tcgetpgrp(0): %s\n", pg < 0 ? errno_name(errno) : "a group");
    return 0;
}

static int child_leader(const char *self) {
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&at, 0);
    char *argv[] = {(char *)self, "child", "fg", "-", NULL};
    pid_t g;
    int e = posix_spawn(&g, self, NULL, &at, argv, environ);
    if (e) {
        say(3, "posix_spawn: %s\n", errno_name(e));
        return 1;
    }
    char cmd[16];
    if (cmd_line(cmd, sizeof cmd) < 0) return 1;
    say(3, "tcsetpgrp(0, grandchild's group): %s\n", res(tcsetpgrp(0, g)));
    return 0;
}

/* ---- parent ---- */

static int cmd_fd = -1;

static void command(const char *c) {
    printf("command: %s\n", c);
    size_t n = strlen(c);
    if (write(cmd_fd, c, n) != (ssize_t)n || write(cmd_fd, "\n", 1) != 1) pty_fail("command pipe");
    expect_from(report_fd, "done\n");
}

/* Waits until the master has something to read. */
static void await_master(int m) {
    if (!readable_within(m, PTY_TIMEOUT_MS)) pty_fail("nothing to read on the master");
}

static void not_a_tty(void) {
    int p[2];
    if (pipe(p) < 0) pty_fail("pipe");
    errno = 0;
    int r = isatty(p[0]);
    printf("isatty(pipe): %d %s\n", r, errno_name(errno));
    errno = 0;
    r = isatty(99);
    printf("isatty(bad fd): %d %s\n", r, errno_name(errno));
    struct termios t;
    expect_errno("tcgetattr(pipe)", tcgetattr(p[0], &t), ENOTTY);
    errno = 0;
    const char *name = ttyname(p[0]);
    printf("ttyname(pipe): %s %s\n", name ? "a name" : "NULL", errno_name(errno));
    errno = 0;
    name = ptsname(p[0]);
    printf("ptsname(pipe): %s %s\n", name ? "a name" : "NULL", errno_name(errno));
    char buf[64];
    printf("ptsname_r(pipe): %s\n", errno_name(ptsname_r(p[0], buf, sizeof buf)));
    printf("ttyname_r(pipe): %s\n", errno_name(ttyname_r(p[0], buf, sizeof buf)));
    expect_errno("grantpt(pipe)", grantpt(p[0]), EINVAL);
    expect_errno("unlockpt(pipe)", unlockpt(p[0]), EINVAL);
    expect_errno("tcgetpgrp(pipe)", tcgetpgrp(p[0]), ENOTTY);
    expect_errno("tcsetattr(pipe)", tcsetattr(p[0], TCSANOW, &t), ENOTTY);
    close(p[0]);
    close(p[1]);
}

static void termios_calls(int m) {
    struct termios t, u;
    expect_ok("tcgetattr(master)", tcgetattr(m, &t));
    u = t;
    expect_errno("tcsetattr(master, 99)", tcsetattr(m, 99, &u), EINVAL);
    expect_errno("cfsetospeed(12345)", cfsetospeed(&u, 12345), EINVAL);
    expect_ok("cfsetspeed(B9600)", cfsetspeed(&u, B9600));
    printf("cfgetospeed B9600 %d, cfgetispeed B9600 %d\n", cfgetospeed(&u) == B9600, cfgetispeed(&u) == B9600);
    u.c_cflag = (u.c_cflag & ~(tcflag_t)CSIZE) | CS7 | PARENB;
    expect_ok("tcsetattr(master, CS7|PARENB|B9600)", tcsetattr(m, TCSANOW, &u));
    expect_ok("tcgetattr(master)", tcgetattr(m, &u));
    printf("cflag %o (a pty forces CS8, no PARENB), speed B9600 %d\n", u.c_cflag, cfgetospeed(&u) == B9600);
    struct termios raw = t;
    cfmakeraw(&raw);
    printf("cfmakeraw: iflag %o oflag %o cflag %o lflag %o VMIN %d VTIME %d\n", raw.c_iflag, raw.c_oflag,
           raw.c_cflag, raw.c_lflag, raw.c_cc[VMIN], raw.c_cc[VTIME]);
    expect_ok("tcsetattr(master, original)", tcsetattr(m, TCSANOW, &t));
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "child") == 0) {
        if (strcmp(argv[2], "cmd") == 0) return child_cmd();
        if (strcmp(argv[2], "login") == 0) return child_login();
        if (strcmp(argv[2], "leader") == 0) return child_leader(argv[0]);
        if (strcmp(argv[2], "fg") == 0) return child_foreground();
        return child_noctty(argv[3]);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: pty_ioctl SELF\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    not_a_tty();

    /* The slave stays locked until unlockpt. */
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) pty_fail("posix_openpt");
    fcntl(m, F_SETFD, FD_CLOEXEC);
    expect_ok("grantpt", grantpt(m));
    char slave[64];
    printf("ptsname_r: %s\n", errno_name(ptsname_r(m, slave, sizeof slave)));
    printf("ptsname_r(master, 5-byte buffer): %s\n", errno_name(ptsname_r(m, slave + 32, 5)));
    expect_errno("open(locked slave)", open(slave, O_RDWR | O_NOCTTY), EIO);
    expect_ok("unlockpt", unlockpt(m));
    printf("ttyname(master): %s\n", ttyname(m) ? ttyname(m) : errno_name(errno));
    char name[64];
    printf("ttyname_r(master, 4-byte buffer): %s\n", errno_name(ttyname_r(m, name, 4)));
    struct winsize ws;
    expect_ok("TIOCGWINSZ(master)", ioctl(m, TIOCGWINSZ, &ws));
    printf("initial size %dx%d\n", ws.ws_row, ws.ws_col);
    printf("tcgetpgrp(master) without a session: %d\n", (int)tcgetpgrp(m));
    expect_errno("tcgetsid(master) without a session", tcgetsid(m), ENOTTY);
    termios_calls(m);

    int rp[2], cp[2];
    if (pipe(rp) < 0 || pipe(cp) < 0) pty_fail("pipe");
    for (int i = 0; i < 2; i++) {
        fcntl(rp[i], F_SETFD, FD_CLOEXEC);
        fcntl(cp[i], F_SETFD, FD_CLOEXEC);
    }
    pid_t pid = spawn_child(argv[1], "cmd", slave, 1, rp[1], cp[0]);
    close(rp[1]);
    close(cp[0]);
    report_fd = rp[0];
    cmd_fd = cp[1];

    /* Queue sizes: the slave's output waits on the master. */
    command("write abc");
    await_master(m);
    int n = -1;
    expect_ok("FIONREAD(master)", ioctl(m, FIONREAD, &n));
    printf("  %d\n", n);
    command("outq");
    expect_from(m, "abc\r\n");

    /* TCIFLUSH on the master discards what the slave wrote. */
    command("write discarded");
    await_master(m);
    expect_ok("tcflush(master, TCIFLUSH)", tcflush(m, TCIFLUSH));
    command("write after");
    expect_from(m, "after\r\n");

    /* Typed input: a partial line is not readable in canonical mode. */
    send_str(m, "ab");
    expect_from(m, "ab");
    command("fionread");
    send_str(m, "c\r");
    expect_from(m, "c\r\n");
    command("fionread");
    n = -1;
    expect_ok("TIOCOUTQ(master)", ioctl(m, TIOCOUTQ, &n));
    printf("  %d\n", n);
    command("iflush");
    command("fionread");
    send_str(m, "kept\r");
    expect_from(m, "kept\r\n");
    command("read");

    command("pgrp");
    command("sctty");
    printf("tcgetsid(master) is the child: %s\n", tcgetsid(m) == pid ? "yes" : "no");
    printf("tcgetpgrp(master) is the child: %s\n", tcgetpgrp(m) == pid ? "yes" : "no");

    /* Draining does not wait for the master to read. If it does, say so
     * and read, so that the rest still runs. */
    printf("command: drain\n");
    if (write(cmd_fd, "drain\n", 6) != 6) pty_fail("command pipe");
    if (!readable_within(report_fd, 2000)) {
        printf("drain still blocked after 2 s: reading the master\n");
        expect_from(m, "pending\r\n");
        expect_from(report_fd, "done\n");
    } else {
        expect_from(report_fd, "done\n");
        expect_from(m, "pending\r\n");
    }
    printf("command: exit\n");
    if (write(cmd_fd, "exit\n", 5) != 5) pty_fail("command pipe");
    reap(pid);
    close(cmd_fd);
    expect_from(report_fd, NULL);
    close(report_fd);

    /* The session ended with its leader: the tty is free for another. */
    expect_errno("tcgetsid(master) after the session ended", tcgetsid(m), ENOTTY);
    if (pipe(rp) < 0) pty_fail("pipe");
    fcntl(rp[0], F_SETFD, FD_CLOEXEC);
    fcntl(rp[1], F_SETFD, FD_CLOEXEC);
    pid = spawn_child(argv[1], "noctty", slave, 0, -1, rp[1]);
    close(rp[1]);
    report_fd = rp[0];
    expect_from(report_fd, NULL);
    reap(pid);
    close(report_fd);

    /* openpty and login_tty, in a child of this session (login_tty makes
     * its own). */
    if (pipe(rp) < 0) pty_fail("pipe");
    fcntl(rp[0], F_SETFD, FD_CLOEXEC);
    fcntl(rp[1], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, rp[1], 4);
    char *cargv[] = {argv[1], "child", "login", "-", NULL};
    int e = posix_spawn(&pid, argv[1], &fa, NULL, cargv, environ);
    if (e) {
        errno = e;
        pty_fail("posix_spawn");
    }
    posix_spawn_file_actions_destroy(&fa);
    pty_child = pid;
    close(rp[1]);
    report_fd = rp[0];
    expect_from(report_fd, NULL);
    reap(pid);
    close(report_fd);

    /* A session leader on a new pty makes a grandchild's group the
     * foreground and exits. */
    char slave2[64];
    int m2 = open_master(slave2, sizeof slave2);
    if (pipe(rp) < 0 || pipe(cp) < 0) pty_fail("pipe");
    for (int i = 0; i < 2; i++) {
        fcntl(rp[i], F_SETFD, FD_CLOEXEC);
        fcntl(cp[i], F_SETFD, FD_CLOEXEC);
    }
    pid = spawn_child(argv[1], "leader", slave2, 1, rp[1], cp[0]);
    close(rp[1]);
    close(cp[0]);
    report_fd = rp[0];
    cmd_fd = cp[1];
    expect_from(report_fd, "ready\n");
    printf("command: go\n");
    if (write(cmd_fd, "go\n", 3) != 3) pty_fail("command pipe");
    reap(pid);
    expect_from(report_fd, NULL);
    close(report_fd);
    close(cmd_fd);
    expect_errno("tcgetsid(second master)", tcgetsid(m2), ENOTTY);
    close(m2);

    /* Last: in the sidecar this process is a session leader without a
     * controlling tty, which O_NOCTTY must keep it from acquiring. */
    int om, os;
    expect_ok("openpty", openpty(&om, &os, NULL, NULL, NULL));
    pid_t osid = tcgetsid(os);
    printf("tcgetsid(openpty's slave): %s\n", osid < 0 ? errno_name(errno) : "a session");
    close(os);
    close(om);
    close(m);
    return finish();
}
