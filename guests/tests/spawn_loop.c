/* Process limit: spawns sleeping copies of itself until posix_spawn fails,
 * then kills and reaps every one, spawns once more (the limit frees up
 * again), and asks another guest (an echo_server) for an answer.
 * Usage: spawn_loop SELF SOCK     (SOCK: an echo_server's path, or "-")
 *        spawn_loop sleeper       (sleeps until killed)
 *        spawn_loop exit          (exits 0 at once)
 * Prints "spawned N, then ERRNO" and exits 0 if the failure was EAGAIN,
 * every child was reaped as killed by SIGKILL and the peer answered. */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

static int spawn_self(const char *self, const char *mode, pid_t *pid) {
    char *argv[] = {"spawn_loop", (char *)mode, NULL};
    return posix_spawn(pid, self, NULL, NULL, argv, environ);
}

/* Connects to the echo server at `path` (retrying while it starts), sends
 * "ping" and returns 1 if it comes back. */
static int ask_peer(const char *path) {
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    int s = -1;
    for (int tries = 0; tries < 500; tries++) {
        s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (s < 0) return 0;
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) break;
        close(s);
        s = -1;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    if (s < 0) {
        printf("peer: cannot connect: %s\n", errno_name(errno));
        return 0;
    }
    if (write(s, "ping", 4) != 4) return 0;
    shutdown(s, SHUT_WR);
    char buf[16];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof buf && (n = read(s, buf + got, sizeof buf - got)) > 0) got += (size_t)n;
    close(s);
    printf("peer answered: %.*s\n", (int)got, buf);
    return got == 4 && memcmp(buf, "ping", 4) == 0;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "sleeper") == 0) {
        for (;;) sleep(1000);
    }
    if (argc == 2 && strcmp(argv[1], "exit") == 0) return 0;
    if (argc != 3) {
        fprintf(stderr, "usage: spawn_loop SELF SOCK\n");
        return 2;
    }
    const char *self = argv[1];
    size_t cap = 1024, n = 0;
    pid_t *pids = malloc(cap * sizeof *pids);
    int err = 0;
    for (;;) {
        if (n == cap) {
            cap *= 2;
            pids = realloc(pids, cap * sizeof *pids);
            if (!pids) return 3;
        }
        err = spawn_self(self, "sleeper", &pids[n]);
        if (err) break;
        n++;
    }
    printf("spawned %zu, then %s\n", n, errno_name(err));
    fflush(stdout);
    for (size_t i = 0; i < n; i++) kill(pids[i], SIGKILL);
    size_t reaped = 0;
    for (size_t i = 0; i < n; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) == pids[i] && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
            reaped++;
    }
    printf("reaped %zu killed children\n", reaped);
    pid_t again;
    int st = -1;
    int r = spawn_self(self, "exit", &again);
    if (r == 0) waitpid(again, &st, 0);
    printf("spawn after reaping: %s, status %d\n", errno_name(r), st);
    int peer = strcmp(argv[2], "-") == 0 || ask_peer(argv[2]);
    int ok = err == EAGAIN && reaped == n && r == 0 && st == 0 && peer;
    printf("%s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
