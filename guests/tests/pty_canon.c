/* Canonical-mode line editing on a PTY; the same output natively and in
 * the sidecar. The parent opens a pair and spawns itself on the slave (a
 * new session, so the slave becomes the child's controlling tty); it types
 * on the master and prints everything the master reads ("<" lines: echo and
 * the child's reports, escaped) next to what it typed (">" lines). The
 * child reads lines and reports them; each of its reports ends with a
 * marker "#N" so the parent knows when a step is complete.
 * Usage: pty_canon SELF */
#include "ptyutil.h"

static char line[512];

/* Child: one read of stdin, reported as "read N: <escaped>". */
static void child_read(void) {
    ssize_t r = read(0, line, sizeof line);
    if (r < 0)
        say(1, "read: %s\n", errno_name(errno));
    else
        say(1, "read %d: %s\n", (int)r, esc(line, r));
}

static void child_termios(const char *who, const struct termios *t) {
    say(1, "%s: iflag %o oflag %o cflag %o lflag %o\n", who, t->c_iflag, t->c_oflag, t->c_cflag,
        t->c_lflag);
    say(1, "%s: cc", who);
    for (int i = 0; i <= VEOL2; i++) say(1, " %02x", t->c_cc[i]);
    say(1, "\n");
}

static int child(const char *slave) {
    struct termios orig, t;
    say(1, "isatty(0) %d isatty(1) %d\n", isatty(0), isatty(1));
    const char *name = ttyname(0);
    say(1, "ttyname(0) is the slave: %s\n", name && strcmp(name, slave) == 0 ? "yes" : "no");
    say(1, "session leader: %s\n", getsid(0) == getpid() ? "yes" : "no");
    say(1, "tcgetsid(0) is me: %s\n", tcgetsid(0) == getpid() ? "yes" : "no");
    say(1, "tcgetpgrp(0) is my group: %s\n", tcgetpgrp(0) == getpgrp() ? "yes" : "no");
    if (tcgetattr(0, &orig) < 0) {
        say(1, "tcgetattr: %s\n", errno_name(errno));
        return 1;
    }
    child_termios("slave", &orig);
    say(1, "speed B38400: out %d in %d\n", cfgetospeed(&orig) == B38400, cfgetispeed(&orig) == B38400);
    struct winsize ws;
    int r = ioctl(0, TIOCGWINSZ, &ws);
    say(1, "winsize: %s %d %d\n", errno_name(r ? errno : 0), ws.ws_row, ws.ws_col);
    say(1, "#0\n");

    /* Every marker is followed by a blocking read, so the parent knows
     * that nothing more is coming until it types. */
    child_read(); /* 1: erase */
    say(1, "#1\n");
    child_read(); /* 2: kill */
    say(1, "#2\n");
    child_read(); /* 3: word erase */
    say(1, "#3\n");
    child_read(); /* 4: a control character echoed as ^A, then erased */
    say(1, "#4\n");
    child_read(); /* 5: two lines in one write, two reads */
    child_read();
    say(1, "#5\n");
    child_read(); /* 6: ^D at the start of a line, then after text */
    say(1, "#6a\n");
    child_read();
    say(1, "#6\n");
    child_read(); /* 7: a line longer than the read leaves the rest */
    child_read();
    /* Next: echo off, set with TCSAFLUSH (a password prompt). */
    t = orig;
    t.c_lflag &= ~(tcflag_t)ECHO;
    if (tcsetattr(0, TCSAFLUSH, &t) < 0) say(1, "tcsetattr: %s\n", errno_name(errno));
    say(1, "#7\n");
    child_read(); /* 8 */
    /* Next: echo back on, ICRNL off: \r stays \r (echoed as ^M) and \n
     * ends the line. */
    t = orig;
    t.c_iflag &= ~(tcflag_t)ICRNL;
    if (tcsetattr(0, TCSANOW, &t) < 0) say(1, "tcsetattr: %s\n", errno_name(errno));
    say(1, "#8\n");
    child_read(); /* 9 */
    /* Next: ONLCR off: the child's \n (and echoed \n) arrive as \n. */
    t = orig;
    t.c_oflag &= ~(tcflag_t)ONLCR;
    if (tcsetattr(0, TCSADRAIN, &t) < 0) say(1, "tcsetattr: %s\n", errno_name(errno));
    say(1, "x\ny\n#9\n");
    child_read(); /* 10 */
    /* Next: ECHONL without ECHO echoes only the newline. */
    t = orig;
    t.c_lflag &= ~(tcflag_t)ECHO;
    t.c_lflag |= ECHONL;
    if (tcsetattr(0, TCSANOW, &t) < 0) say(1, "tcsetattr: %s\n", errno_name(errno));
    say(1, "#10\n");
    child_read(); /* 11 */
    /* Next: ECHOK without ECHOKE echoes the kill character and a newline. */
    t = orig;
    t.c_lflag &= ~(tcflag_t)ECHOKE;
    if (tcsetattr(0, TCSANOW, &t) < 0) say(1, "tcsetattr: %s\n", errno_name(errno));
    say(1, "#11\n");
    child_read(); /* 12 */
    tcsetattr(0, TCSANOW, &orig);
    say(1, "#end\n");
    return 0;
}

static void step(int m, const char *input, const char *marker) {
    send_str(m, input);
    expect_from(m, marker);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "child") == 0) return child(argv[3]);
    if (argc != 2) {
        fprintf(stderr, "usage: pty_canon SELF\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    char slave[64];
    int m = open_master(slave, sizeof slave);
    printf("slave name is /dev/pts/N: %s\n",
           strncmp(slave, "/dev/pts/", 9) == 0 && slave[9] >= '0' && slave[9] <= '9' ? "yes" : "no");
    const char *mname = ttyname(m);
    printf("ttyname(master): %s\n", mname ? mname : errno_name(errno));
    printf("isatty(master) %d\n", isatty(m));
    struct termios mt;
    expect_ok("tcgetattr(master)", tcgetattr(m, &mt));
    printf("master termios: iflag %o oflag %o cflag %o lflag %o\n", mt.c_iflag, mt.c_oflag, mt.c_cflag,
           mt.c_lflag);

    pid_t pid = spawn_on_pty(argv[1], "canon", slave, -1);
    expect_from(m, "#0\r\n");
    printf("tcgetpgrp(master) is the child: %s\n", tcgetpgrp(m) == pid ? "yes" : "no");
    printf("tcgetsid(master) is the child: %s\n", tcgetsid(m) == pid ? "yes" : "no");

    step(m, "abx\x7f" "c\r", "#1\r\n");
    step(m, "junk\x15ok\r", "#2\r\n");
    step(m, "one two \x17three\r", "#3\r\n");
    step(m, "a\x01\x7f\x7f" "b\r", "#4\r\n");
    step(m, "l1\rl2\r", "#5\r\n");
    step(m, "\x04", "#6a\r\n");
    step(m, "partial\x04", "#6\r\n");
    /* The child reads 512 bytes at most: a 600-byte line takes two reads. */
    char big[602];
    for (int i = 0; i < 600; i++) big[i] = (char)('a' + i % 26);
    big[600] = '\r';
    big[601] = '\0';
    step(m, big, "#7\r\n");
    step(m, "secret\r", "#8\r\n");
    step(m, "cr\r\n", "#9\n");
    step(m, "nl\r", "#10\r\n");
    step(m, "quiet\r", "#11\r\n");
    step(m, "xy\x15z\r", "#end\r\n");

    reap(pid);
    /* Everything the slave wrote has been read: now the master sees the
     * hangup of its last slave. */
    struct pollfd p = {m, POLLIN, 0};
    int n = poll(&p, 1, PTY_TIMEOUT_MS);
    printf("poll(master) after the child exited: %d, POLLHUP %s\n", n, p.revents & POLLHUP ? "yes" : "no");
    char c;
    expect_errno("read(master) after the child exited", read(m, &c, 1), EIO);
    close(m);
    return finish();
}
