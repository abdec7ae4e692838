/* Fuel is the budget of a process tree: spawned children draw on the
 * budget of the guest at its root instead of getting a fresh one.
 * Usage: fuel_tree spin               (computes, writing a dot to stdout
 *                                      every 65536 rounds, until killed)
 *        fuel_tree SELF QUICK N       (spawns QUICK children that exit at
 *                                      once, one after the other, then N
 *                                      spinners at once, and counts their
 *                                      dots until all were killed)
 * Prints "dots D, SIGXCPU K of N". */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

extern char **environ;

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "spin") == 0) {
        volatile unsigned long counter = 0;
        for (;;) {
            for (int i = 0; i < 65536; i++) counter++;
            if (write(1, ".", 1) != 1) return 1;
        }
    }
    if (argc == 2 && strcmp(argv[1], "exit") == 0) return 0;
    if (argc != 4) return 2;
    const char *self = argv[1];
    int quick = atoi(argv[2]), n = atoi(argv[3]);
    for (int i = 0; i < quick; i++) {
        char *cargv[] = {"fuel_tree", "exit", NULL};
        pid_t pid;
        int st;
        if (posix_spawn(&pid, self, NULL, NULL, cargv, environ) != 0) return 3;
        if (waitpid(pid, &st, 0) != pid || st != 0) return 4;
    }
    int p[2];
    if (pipe(p) != 0) return 5;
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    for (int i = 0; i < n; i++) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
        posix_spawn_file_actions_addclose(&fa, p[0]);
        char *cargv[] = {"fuel_tree", "spin", NULL};
        int r = posix_spawn(&pids[i], self, &fa, NULL, cargv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r) {
            printf("spawn: %s\n", errno_name(r));
            return 6;
        }
    }
    close(p[1]);
    long dots = 0;
    char buf[4096];
    ssize_t got;
    while ((got = read(p[0], buf, sizeof buf)) > 0) dots += got;
    int xcpu = 0;
    for (int i = 0; i < n; i++) {
        int st;
        if (waitpid(pids[i], &st, 0) == pids[i] && WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU)
            xcpu++;
    }
    printf("dots %ld, SIGXCPU %d of %d\n", dots, xcpu, n);
    return 0;
}
