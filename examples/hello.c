/* The smallest guest: says hello. Built to examples/hello.wasm by scripts/build-guests. */
#include <stdio.h>

int main(void) {
    puts("hello from wasm");
    return 0;
}
