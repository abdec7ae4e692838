/* Signal dispositions, masks and delivery; the same output natively and in
 * the sidecar. Usage: signals SELF */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t usr1, chld;

static void on_usr1(int sig) { usr1 += sig == SIGUSR1; }
static void on_chld(int sig) { chld += sig == SIGCHLD; }

static void nap_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

static pid_t spawn(const char *self, char *mode, char *arg) {
    char *argv[] = {(char *)self, mode, arg, NULL};
    pid_t pid;
    if (posix_spawn(&pid, self, NULL, NULL, argv, environ) != 0) {
        perror("spawn");
        exit(1);
    }
    return pid;
}

static void catch_usr1(int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = flags;
    sigaction(SIGUSR1, &sa, NULL);
}

static const char *err(int r) { return r < 0 ? (errno == EINTR ? "EINTR" : errno == EPIPE ? "EPIPE" : "other") : "ok"; }

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "kick") == 0) {
        /* Signal the parent once it is blocked, then write to its pipe. */
        nap_ms(150);
        kill(getppid(), SIGUSR1);
        nap_ms(150);
        int fd = atoi(argv[2]);
        if (fd >= 0) write(fd, "x", 1);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: signals SELF\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);

    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    printf("handler ran before raise returned: %d\n", usr1);

    /* SA_RESETHAND puts the default back after one delivery. */
    catch_usr1(SA_RESETHAND);
    raise(SIGUSR1);
    struct sigaction cur;
    sigaction(SIGUSR1, NULL, &cur);
    printf("after SA_RESETHAND: count %d, default again %d\n", usr1, cur.sa_handler == SIG_DFL);

    /* A blocked signal waits in the pending set and runs on unblock. */
    catch_usr1(0);
    sigset_t set, pend, old;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, &old);
    raise(SIGUSR1);
    sigpending(&pend);
    printf("blocked: count %d, pending %d\n", usr1, sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: count %d\n", usr1);

    /* An ignored SIGPIPE leaves EPIPE. */
    signal(SIGPIPE, SIG_IGN);
    int p[2];
    pipe(p);
    close(p[0]);
    printf("write to a broken pipe: %s\n", err((int)write(p[1], "x", 1)));
    close(p[1]);

    /* A blocked default-fatal signal does not kill; ignoring discards it. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    kill(getpid(), SIGTERM);
    sigpending(&pend);
    printf("blocked SIGTERM pending: %d\n", sigismember(&pend, SIGTERM));
    signal(SIGTERM, SIG_IGN);
    sigpending(&pend);
    printf("after SIG_IGN pending: %d\n", sigismember(&pend, SIGTERM));
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    signal(SIGTERM, SIG_DFL);
    printf("still alive\n");

    /* SIGCHLD arrives when a child exits. */
    signal(SIGCHLD, on_chld);
    pid_t c = spawn(argv[0], "kick", "-1");
    /* The kick child signals us too; keep that from interrupting waitpid. */
    catch_usr1(SA_RESTART);
    waitpid(c, NULL, 0);
    printf("SIGCHLD handled: %d\n", chld > 0);

    /* Without SA_RESTART a blocked read fails with EINTR... */
    usr1 = 0;
    catch_usr1(0);
    pipe(p);
    char fdarg[16];
    snprintf(fdarg, sizeof fdarg, "%d", p[1]);
    c = spawn(argv[0], "kick", fdarg);
    char b;
    int r = (int)read(p[0], &b, 1);
    printf("read without SA_RESTART: %s, handler %d\n", err(r), usr1);
    waitpid(c, NULL, 0);
    close(p[0]);
    close(p[1]);

    /* ...and with it, the read goes on and gets the byte. */
    usr1 = 0;
    catch_usr1(SA_RESTART);
    pipe(p);
    snprintf(fdarg, sizeof fdarg, "%d", p[1]);
    c = spawn(argv[0], "kick", fdarg);
    r = (int)read(p[0], &b, 1);
    printf("read with SA_RESTART: %s %c, handler %d\n", err(r), r == 1 ? b : '-', usr1);
    waitpid(c, NULL, 0);
    close(p[0]);
    close(p[1]);

    /* sigsuspend waits with a temporary mask and restores it. */
    usr1 = 0;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigprocmask(SIG_BLOCK, &set, NULL);
    c = spawn(argv[0], "kick", "-1");
    sigset_t none;
    sigemptyset(&none);
    r = sigsuspend(&none);
    sigprocmask(SIG_BLOCK, NULL, &cur.sa_mask);
    printf("sigsuspend: %s, handler %d, mask restored %d\n", err(r), usr1,
           sigismember(&cur.sa_mask, SIGUSR1));
    waitpid(c, NULL, 0);
    printf("ok\n");
    return 0;
}
