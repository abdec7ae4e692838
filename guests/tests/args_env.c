/* Prints argc, argv (argv[0] reduced to its base name without ".wasm") and
 * the SIDECAR_TEST_VAR environment variable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    printf("argc: %d\n", argc);
    if (argc > 0) {
        const char *base = strrchr(argv[0], '/');
        base = base ? base + 1 : argv[0];
        size_t n = strlen(base);
        if (n > 5 && strcmp(base + n - 5, ".wasm") == 0) n -= 5;
        printf("argv[0]: %.*s\n", (int)n, base);
    }
    for (int i = 1; i < argc; i++) printf("argv[%d]: [%s]\n", i, argv[i]);
    const char *v = getenv("SIDECAR_TEST_VAR");
    printf("SIDECAR_TEST_VAR: %s\n", v ? v : "(unset)");
    return 0;
}
