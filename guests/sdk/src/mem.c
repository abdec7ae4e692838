/* memcpy, memmove and memset as single bulk-memory instructions, which the
 * runtime executes as native memmove/memset. wasi-libc's own are byte and
 * word loops in wasm; the shim is linked first, so these replace them for
 * every caller, libc's internal ones included. Built with -mbulk-memory
 * (sidecar-cc), so the builtins lower to memory.copy/memory.fill instead
 * of calling back here. */
#include <string.h>

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    return __builtin_memcpy(dst, src, n);
}

void *memmove(void *dst, const void *src, size_t n) { return __builtin_memmove(dst, src, n); }

void *memset(void *dst, int c, size_t n) { return __builtin_memset(dst, c, n); }
