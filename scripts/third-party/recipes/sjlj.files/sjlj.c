/* setjmp/longjmp for a guest, over Binaryen's Asyncify (no wasm exception
 * handling needed: LLVM 16 lowers setjmp only to the legacy EH opcodes,
 * which wasmtime 48 does not run).
 *
 * This file's __main_void() replaces wasi-libc's (which _start calls) and
 * drives the program's main(int, char **). setjmp() unwinds the whole wasm
 * stack into the Asyncify buffer, the driver copies that (the wasm locals of
 * every frame between it and the setjmp) as the jmp_buf's snapshot and
 * rewinds at once, so setjmp returns 0. longjmp() unwinds too (the frames
 * are dropped); the driver puts the snapshot back and rewinds into it, so
 * setjmp returns again: wasm locals as they were at setjmp (like
 * registers), memory as it is now, the shadow stack pointer reset to
 * setjmp's. Programs whose main takes no arguments cannot use this.
 *
 * asyncify-sjlj (next to this file) instruments the linked module and
 * defines the sidecar_sjlj imports below in terms of what Asyncify adds.
 * Constraints: only functions that run in main's call tree may call
 * setjmp/longjmp; a signal handler (called by the host at a kernel-call
 * boundary) must not longjmp. Snapshots live on a stack of their own,
 * dropped when their frame is gone (its shadow stack pointer is below the
 * current one) or when a longjmp goes past them.
 *
 * fork goes through the driver too (the SDK's fork() calls __sjlj_fork when
 * it is linked): it unwinds, the driver has the host copy the process as it
 * stands (__sidecar_fork_here, whose child starts in fork_child below) and
 * both rewind, fork returning the pid in the parent and 0 in the child. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>
#include <errno.h>
#include <sys/types.h>

#define SJ(name) __attribute__((import_module("sidecar_sjlj"), import_name(name)))
SJ("suspend") void __sjlj_suspend(void *data);
SJ("stop_unwind") void __sjlj_stop_unwind(void);
SJ("start_rewind") void __sjlj_start_rewind(void *data);
SJ("get_state") int __sjlj_get_state(void);
SJ("get_sp") uintptr_t __sjlj_get_sp(void);
SJ("set_sp") void __sjlj_set_sp(uintptr_t);

#define AZ_SIZE (1024 * 1024) /* saved wasm locals of one whole stack */

struct az {
    uintptr_t cur, end;
};
static struct az *az;

struct snap {
    struct snap *prev;
    const void *env;
    uintptr_t sp;
    size_t len;
    char data[];
};
static struct snap *top;

static enum { SETJMP = 1, LONGJMP, FORK } op;
static const void *op_env;
static uintptr_t op_sp;
static int op_val, ret_val;
static pid_t fork_ret;
static int fork_errno;
static int main_argc;
static char **main_argv;

int __sidecar_fork_here(void (*entry)(void), pid_t *pid);

/* No shadow stack frame of its own, so its stack pointer is its caller's. */
int setjmp(jmp_buf env) {
    op = SETJMP;
    op_env = env;
    op_sp = __sjlj_get_sp();
    __sjlj_suspend(az);
    return ret_val;
}
int _setjmp(jmp_buf) __attribute__((alias("setjmp")));

/* setjmp, plus the signal mask in env when savemask is set (musl's
 * layout: __fl says whether __ss holds one), which siglongjmp puts back.
 * The same body as setjmp rather than a call to it, so that this function
 * too has no shadow stack frame. */
int sigsetjmp(sigjmp_buf env, int savemask) {
    env->__fl = savemask != 0;
    if (savemask) sigprocmask(SIG_BLOCK, NULL, (sigset_t *)env->__ss);
    op = SETJMP;
    op_env = env;
    op_sp = __sjlj_get_sp();
    __sjlj_suspend(az);
    return ret_val;
}

_Noreturn void siglongjmp(sigjmp_buf env, int val) {
    if (env->__fl) sigprocmask(SIG_SETMASK, (sigset_t *)env->__ss, NULL);
    longjmp(env, val);
}

_Noreturn void longjmp(jmp_buf env, int val) {
    op = LONGJMP;
    op_env = env;
    op_val = val;
    __sjlj_suspend(az);
    __builtin_unreachable();
}
_Noreturn void _longjmp(jmp_buf, int) __attribute__((alias("longjmp")));

pid_t __sjlj_fork(void) {
    op = FORK;
    __sjlj_suspend(az);
    if (fork_ret < 0) errno = fork_errno;
    return fork_ret;
}

static _Noreturn void die(const char *m) {
    write(2, m, strlen(m));
    abort();
}

static void pop(void) {
    struct snap *s = top;
    top = s->prev;
    free(s);
}

int __main_argc_argv(int, char **);

int __sjlj_drive(void);

/* Where a forked child starts: its memory is the parent's as the driver
 * left it, mid-fork; rewind into __sjlj_fork, then drive main as the
 * parent does, and end as _start would. */
void __sjlj_fork_child(void) {
    fork_ret = 0;
    __sjlj_start_rewind(az);
    exit(__sjlj_drive());
}

/* As wasi-libc's __main_void: the arguments, then main in a loop. */
int __main_void(void) {
    __wasi_size_t argc, size;
    if (__wasi_args_sizes_get(&argc, &size)) _Exit(71);
    char **argv = calloc(argc + 1, sizeof *argv);
    char *buf = malloc(size);
    if (!argv || !buf || __wasi_args_get((uint8_t **)argv, (uint8_t *)buf)) _Exit(71);

    az = malloc(sizeof *az + AZ_SIZE);
    if (!az) die("sjlj: out of memory\n");
    uintptr_t base = (uintptr_t)(az + 1);
    az->cur = base;
    az->end = base + AZ_SIZE;
    main_argc = (int)argc;
    main_argv = argv;
    return __sjlj_drive();
}

/* Runs main, and again after each unwind (setjmp, longjmp, fork), rewinding
 * into it, until it really returns. Like __main_void and __sjlj_fork_child,
 * it is left out of the instrumentation (asyncify-sjlj), so an unwind stops
 * here. */
int __sjlj_drive(void) {
    uintptr_t base = (uintptr_t)(az + 1);
    for (;;) {
        int r = __main_argc_argv(main_argc, main_argv);
        if (__sjlj_get_state() != 1) return r; /* a real return */
        __sjlj_stop_unwind();
        if (op == SETJMP) {
            size_t len = az->cur - base;
            while (top && (top->sp < op_sp || top->env == op_env)) pop();
            struct snap *s = malloc(sizeof *s + len);
            if (!s) die("setjmp: out of memory\n");
            s->prev = top;
            s->env = op_env;
            s->sp = op_sp;
            s->len = len;
            memcpy(s->data, (void *)base, len);
            top = s;
            ret_val = 0;
        } else if (op == FORK) {
            /* The child's copy is made here, with the stack in az. */
            if (__sidecar_fork_here(__sjlj_fork_child, &fork_ret) < 0) {
                fork_ret = -1;
                fork_errno = errno;
            }
        } else {
            while (top && top->env != op_env) pop();
            if (!top) die("longjmp: no live setjmp for this jmp_buf\n");
            memcpy((void *)base, top->data, top->len);
            az->cur = base + top->len;
            ret_val = op_val ? op_val : 1;
            __sjlj_set_sp(top->sp);
        }
        __sjlj_start_rewind(az); /* rewinding ends inside __sjlj_suspend */
    }
}
