/* VM memory limit: allocates until malloc fails (1 MiB, then 64 KiB, then
 * 1 KiB at a time), reports its linear memory, then spawns a copy of
 * itself, which cannot get memory for its instance: posix_spawn must fail
 * with ENOMEM, as an exec without memory does on Linux.
 * Usage: mem_limit SELF | mem_limit child */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "testutil.h"

extern char **environ;

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "child") == 0) return 0;
    if (argc != 2) return 2;
    size_t got = 0;
    static const size_t sizes[] = {1 << 20, 1 << 16, 1 << 10};
    void **held = NULL;
    for (int i = 0; i < 3; i++) {
        void **p;
        /* Each block links the previous one, so none can be optimised away. */
        while ((p = malloc(sizes[i]))) {
            *p = held;
            held = p;
            got += sizes[i];
        }
    }
#ifdef __wasm__
    size_t memory_kib = (size_t)__builtin_wasm_memory_size(0) * 64;
#else
    size_t memory_kib = 0;
#endif
    printf("allocated %zu KiB, memory %zu KiB\n", got >> 10, memory_kib);
    char *cargv[] = {"mem_limit", "child", NULL};
    pid_t pid;
    int r = posix_spawn(&pid, argv[1], NULL, NULL, cargv, environ);
    int st = -1;
    if (r == 0) waitpid(pid, &st, 0);
    printf("spawn with the VM's memory full: %s\n", errno_name(r));
    return r == ENOMEM ? 0 : 1;
}
