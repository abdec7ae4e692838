/* Terminal signals and non-canonical reads on a PTY; the same output
 * natively and in the sidecar. The child runs on the slave as a session
 * leader (so its group is the tty's foreground group) and reports through
 * a pipe on its fd 3 ("r<" lines), which keeps working after the tty hangs
 * up; what the master reads is shown as "<" lines.
 *   - ^C typed on the master raises SIGINT in the child, interrupting its
 *     blocked read (EINTR) and echoing "^C";
 *   - non-canonical VMIN/VTIME reads: VMIN=3, a count below VMIN, VMIN=0
 *     VTIME=2 (times out with 0), VMIN=0 VTIME=0, VMIN=2 VTIME=1;
 *   - TIOCSWINSZ on the master: SIGWINCH and the new size; the same size
 *     again sends nothing; a size set from the slave side signals too;
 *   - closing the master hangs the slave up: SIGHUP and SIGCONT, reads
 *     return EOF, writes and termios calls fail with EIO.
 * Usage: pty_signals SELF */
#include "ptyutil.h"

static volatile sig_atomic_t n_int, n_winch, n_hup, n_cont;

/* SIGINT and SIGWINCH say so on fd 3 (they arrive at a known point);
 * SIGHUP and SIGCONT come together and are only counted (Linux runs the
 * handler of the later-numbered one first). */
static void on_signal(int sig) {
    const char *msg = NULL;
    switch (sig) {
    case SIGINT: n_int++; msg = "got SIGINT\n"; break;
    case SIGWINCH: n_winch++; msg = "got SIGWINCH\n"; break;
    case SIGHUP: n_hup++; break;
    case SIGCONT: n_cont++; break;
    default: msg = "got another signal\n";
    }
    if (msg) write(3, msg, strlen(msg));
}

static void catch(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = 0; /* no SA_RESTART: blocked reads fail with EINTR */
    sigaction(sig, &sa, NULL);
}

static char buf[256];

/* One read of stdin, reported on fd 3. */
static ssize_t report_read(const char *what, size_t count) {
    ssize_t r = read(0, buf, count);
    if (r < 0)
        say(3, "%s: %s\n", what, errno_name(errno));
    else
        say(3, "%s %d: %s\n", what, (int)r, esc(buf, r));
    return r;
}

static void set_noncanon(const struct termios *orig, int vmin, int vtime) {
    struct termios t = *orig;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    t.c_cc[VMIN] = (cc_t)vmin;
    t.c_cc[VTIME] = (cc_t)vtime;
    if (tcsetattr(0, TCSANOW, &t) < 0) say(3, "tcsetattr: %s\n", errno_name(errno));
}

static void report_winsize(const char *what) {
    struct winsize ws;
    int r = ioctl(0, TIOCGWINSZ, &ws);
    if (r < 0)
        say(3, "%s: winch %d, TIOCGWINSZ %s\n", what, (int)n_winch, errno_name(errno));
    else
        say(3, "%s: winch %d, size %dx%d\n", what, (int)n_winch, ws.ws_row, ws.ws_col);
}

static int child(void) {
    struct termios orig;
    if (tcgetattr(0, &orig) < 0) {
        say(3, "tcgetattr: %s\n", errno_name(errno));
        return 1;
    }
    catch(SIGINT);
    catch(SIGWINCH);
    catch(SIGHUP);
    catch(SIGCONT);

    /* A: ^C while blocked in a canonical read. */
    say(3, "#A\n");
    report_read("read", sizeof buf);
    report_read("read", sizeof buf);

    /* B: non-canonical reads. */
    set_noncanon(&orig, 3, 0);
    say(3, "#B1\n");
    report_read("VMIN=3 read", sizeof buf);
    say(3, "#B2\n");
    report_read("VMIN=3 read of 2", 2);
    set_noncanon(&orig, 0, 2);
    long t0 = now_ms();
    ssize_t r = read(0, buf, sizeof buf);
    long dt = now_ms() - t0;
    say(3, "timed out: %d\n", (int)r);
    if (dt < 150) say(3, "  FAILED: VTIME=2 returned after %ld ms\n", dt);
    set_noncanon(&orig, 0, 0);
    report_read("VMIN=0 VTIME=0 read", sizeof buf);
    set_noncanon(&orig, 2, 1);
    say(3, "#B3\n");
    report_read("VMIN=2 VTIME=1 read", sizeof buf);

    /* C: window size changes, canonical without echo. Lines from the
     * parent say when to report; EINTR from SIGWINCH is retried. */
    struct termios t = orig;
    t.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(0, TCSANOW, &t);
    say(3, "#C\n");
    for (;;) {
        ssize_t n = read(0, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            say(3, "read: %s\n", n < 0 ? errno_name(errno) : "EOF");
            return 1;
        }
        char what[64];
        snprintf(what, sizeof what, "line %s", esc(buf, n));
        if (strncmp(buf, "set", 3) == 0) {
            struct winsize ws = {40, 120, 0, 0};
            if (ioctl(0, TIOCSWINSZ, &ws) < 0) say(3, "TIOCSWINSZ: %s\n", errno_name(errno));
        }
        report_winsize(what);
        if (strncmp(buf, "next", 4) == 0) break;
    }

    /* D: hangup while blocked in a read. */
    say(3, "#D\n");
    report_read("read at hangup", sizeof buf);
    /* Linux wakes the reader before it finishes the hangup (signals, then
     * hung-up file operations); let it finish. */
    nap_ms(100);
    report_read("read after hangup", sizeof buf);
    say(3, "write after hangup: %s\n", write(1, "x", 1) < 0 ? errno_name(errno) : "OK");
    struct termios t2;
    say(3, "tcgetattr after hangup: %s\n", tcgetattr(0, &t2) < 0 ? errno_name(errno) : "OK");
    struct pollfd p = {0, POLLIN | POLLOUT, 0};
    int pr = poll(&p, 1, 0);
    say(3, "poll after hangup: %d, IN %d OUT %d ERR %d HUP %d\n", pr, !!(p.revents & POLLIN),
        !!(p.revents & POLLOUT), !!(p.revents & POLLERR), !!(p.revents & POLLHUP));
    say(3, "signals: SIGHUP %d SIGCONT %d\n", (int)n_hup, (int)n_cont);
    return 0;
}

static void set_winsize(int m, int rows, int cols) {
    struct winsize ws = {(unsigned short)rows, (unsigned short)cols, 0, 0};
    printf("TIOCSWINSZ(master) %dx%d\n", rows, cols);
    if (ioctl(m, TIOCSWINSZ, &ws) < 0) pty_fail("TIOCSWINSZ");
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "child") == 0) return child();
    if (argc != 2) {
        fprintf(stderr, "usage: pty_signals SELF\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    signal(SIGPIPE, SIG_IGN);
    char slave[64];
    int m = open_master(slave, sizeof slave);
    int p[2];
    if (pipe(p) < 0) pty_fail("pipe");
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = spawn_on_pty(argv[1], "signals", slave, p[1]);
    close(p[1]);
    int rep = report_fd = p[0];

    /* A: the child is blocked in read (give it time to get there). */
    expect_from(rep, "#A\n");
    nap_ms(300);
    send_str(m, "\x03");
    expect_from(m, "^C");
    expect_from(rep, "read: EINTR\n");
    send_str(m, "go\r");
    expect_from(m, "go\r\n");
    expect_from(rep, "read 3: go\\n\n");

    /* B */
    expect_from(rep, "#B1\n");
    send_str(m, "ab");
    nap_ms(100);
    send_str(m, "c");
    expect_from(rep, "read 3: abc\n");
    expect_from(rep, "#B2\n");
    send_str(m, "p");
    nap_ms(100);
    send_str(m, "q");
    expect_from(rep, "read of 2 2: pq\n");
    expect_from(rep, "timed out: 0\n");
    /* VMIN=0 VTIME=0 returns at once. If it blocks, say so and type a byte,
     * so that the rest still runs. */
    if (!readable_within(rep, 2000)) {
        printf("VMIN=0 VTIME=0 read still blocked after 2 s: typing a byte\n");
        send_str(m, "!");
    }
    expect_line(rep, "VMIN=0 VTIME=0 read ");
    expect_from(rep, "#B3\n");
    send_str(m, "z");
    expect_from(rep, "VTIME=1 read 1: z\n");

    /* C */
    expect_from(rep, "#C\n");
    set_winsize(m, 24, 80);
    send_str(m, "a\r");
    expect_line(rep, "line a\\n: ");
    set_winsize(m, 24, 80);
    send_str(m, "b\r");
    expect_line(rep, "line b\\n: ");
    set_winsize(m, 30, 100);
    send_str(m, "c\r");
    expect_line(rep, "line c\\n: ");
    send_str(m, "set\r");
    expect_line(rep, "line set\\n: ");
    struct winsize ws;
    expect_ok("TIOCGWINSZ(master)", ioctl(m, TIOCGWINSZ, &ws));
    printf("master sees %dx%d\n", ws.ws_row, ws.ws_col);
    send_str(m, "next\r");
    expect_line(rep, "line next\\n: ");

    /* D: close the master while the child is blocked in read. */
    expect_from(rep, "#D\n");
    nap_ms(300);
    printf("closing the master\n");
    close(m);
    expect_from(rep, NULL);
    close(rep);
    reap(pid);
    return finish();
}
