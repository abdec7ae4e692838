/* sidecar SDK: <setjmp.h> declarations only (wasi-libc 2022-05 has none).
 *
 * There is no implementation yet: LLVM 16 lowers setjmp/longjmp
 * (-mllvm -wasm-enable-sjlj) to the legacy wasm exception-handling opcodes,
 * which wasmtime 48 does not run. Including this header is fine (FreeType's
 * public headers do, for types its internals use); calling setjmp/longjmp
 * fails at link time with an undefined symbol. Layout follows musl, so code
 * built against it stays compatible with a future implementation. */
#ifndef _SETJMP_H
#define _SETJMP_H

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned long long __jmp_buf[8];

typedef struct __jmp_buf_tag {
    __jmp_buf __jb;
    unsigned long __fl;
    unsigned long __ss[128 / sizeof(long)];
} jmp_buf[1];

typedef jmp_buf sigjmp_buf;

int setjmp(jmp_buf) __attribute__((__returns_twice__));
_Noreturn void longjmp(jmp_buf, int);
int _setjmp(jmp_buf) __attribute__((__returns_twice__));
_Noreturn void _longjmp(jmp_buf, int);
int sigsetjmp(sigjmp_buf, int) __attribute__((__returns_twice__));
_Noreturn void siglongjmp(sigjmp_buf, int);

#ifdef __cplusplus
}
#endif

#endif
