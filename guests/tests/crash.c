/* A child that crashes: its parent sees what it wrote, then EOF, and a
 * death by signal (abort -> SIGABRT, a wild store -> SIGSEGV). */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <stdint.h>
#include <unistd.h>

extern char **environ;

static void crash(const char *how) {
    fputs("partial output\n", stdout);
    fflush(stdout);
    if (strcmp(how, "abort") == 0)
        abort();
    *(volatile int *)(uintptr_t)0xfffffff0u = 1;
}

static void run(const char *self, const char *how) {
    int p[2];
    if (pipe(p) != 0) {
        perror("pipe");
        exit(1);
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    posix_spawn_file_actions_addclose(&fa, p[0]);
    posix_spawn_file_actions_addclose(&fa, p[1]);
    char *argv[] = {(char *)self, "child", (char *)how, NULL};
    pid_t pid;
    if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) {
        perror("spawn");
        exit(1);
    }
    close(p[1]);
    char buf[256];
    size_t total = 0;
    ssize_t n;
    while ((n = read(p[0], buf + total, sizeof buf - 1 - total)) > 0)
        total += (size_t)n;
    buf[total] = 0;
    printf("%s: read until EOF: %s", how, buf);
    int st;
    waitpid(pid, &st, 0);
    printf("%s: signaled %d, signal %s\n", how, WIFSIGNALED(st),
           WTERMSIG(st) == SIGABRT ? "SIGABRT" : WTERMSIG(st) == SIGSEGV ? "SIGSEGV" : "other");
    close(p[0]);
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "child") == 0) {
        crash(argv[2]);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: crash SELF\n");
        return 2;
    }
    run(argv[1], "abort");
    run(argv[1], "segv");
    return 0;
}
