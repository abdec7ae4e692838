/* sidecar: <setjmp.h> for FreeType only (found through -I by its recipe).
 *
 * wasi-libc 2022-05 has no setjmp, and LLVM 16's wasm setjmp lowering
 * (-mllvm -wasm-enable-sjlj) emits the legacy exception-handling opcodes
 * (try/catch), which wasmtime 48 does not run. Within the modules we build,
 * FreeType uses setjmp only in the TrueType cmap validator (sfnt/ttcmap.c),
 * which longjmps out when a font's cmap subtable is malformed. Here setjmp
 * always returns 0 and longjmp aborts the process with a message: a broken
 * font file kills the process instead of being skipped. (The smooth
 * rasterizer, which longjmps in normal operation, is left out by the recipe.)
 */
#ifndef SIDECAR_FT_SETJMP_H
#define SIDECAR_FT_SETJMP_H

#include <stdio.h>
#include <stdlib.h>

typedef int jmp_buf[1];

#define setjmp(env) ((void)(env), 0)
#define longjmp(env, val) ((void)(env), (void)(val), sidecar_ft_longjmp())

static inline _Noreturn void sidecar_ft_longjmp(void)
{
    fputs("freetype: malformed font data (validator longjmp is unsupported in sidecar guests)\n",
          stderr);
    abort();
}

#endif
