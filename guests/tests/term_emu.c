/* A minimal terminal emulator: runs a shell on a new PTY, types a command
 * into the master and reads the screen output back.
 * Usage: term_emu SHELL COMMAND EXPECT */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Reads the master until `want` has appeared; returns 0 on success. */
static int read_until(int m, const char *want, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = 0;
    while (!strstr(buf, want)) {
        struct pollfd p = {.fd = m, .events = POLLIN};
        if (poll(&p, 1, 20000) <= 0 || len + 1 >= cap) return -1;
        ssize_t n = read(m, buf + len, cap - 1 - len);
        if (n <= 0) return -1;
        len += (size_t)n;
        buf[len] = 0;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: term_emu SHELL COMMAND EXPECT\n");
        return 2;
    }
    int m, s;
    char name[64];
    if (openpty(&m, &s, name, NULL, NULL) != 0) {
        perror("openpty");
        return 1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, name, O_RDWR, 0);
    posix_spawn_file_actions_adddup2(&fa, 0, 1);
    posix_spawn_file_actions_adddup2(&fa, 0, 2);
    posix_spawn_file_actions_addclose(&fa, m);
    posix_spawn_file_actions_addclose(&fa, s);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID);
    char *av[] = {argv[1], "-i", NULL};
    char *env[] = {"PS1=emu$ ", "PATH=/bin:/usr/bin", NULL};
    pid_t pid;
    if (posix_spawn(&pid, argv[1], &fa, &at, av, env) != 0) {
        perror("posix_spawn");
        return 1;
    }
    close(s);
    static char screen[1 << 16];
    if (read_until(m, "emu$ ", screen, sizeof screen) != 0) {
        fprintf(stderr, "no prompt: %s\n", screen);
        return 1;
    }
    dprintf(m, "%s\r", argv[2]);
    /* The echo of the command contains the expression, not its value. */
    char want[128];
    snprintf(want, sizeof want, "\r\n%s\r\n", argv[3]);
    if (read_until(m, want, screen, sizeof screen) != 0) {
        fprintf(stderr, "did not see %s: %s\n", argv[3], screen);
        return 1;
    }
    printf("shell answered %s\n", argv[3]);
    dprintf(m, "exit\r");
    int st;
    waitpid(pid, &st, 0);
    printf("shell exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
