/* Shared helpers for the guest test programs (header only; not a program).
 * Errors are printed by NAME because wasi-libc's errno numbers differ from
 * Linux's. */
#ifndef SIDECAR_TESTUTIL_H
#define SIDECAR_TESTUTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *errno_name(int e) {
    static const struct {
        int num;
        const char *name;
    } names[] = {
        {0, "OK"},
        {EPERM, "EPERM"},
        {ENOENT, "ENOENT"},
        {ESRCH, "ESRCH"},
        {EINTR, "EINTR"},
        {EIO, "EIO"},
        {E2BIG, "E2BIG"},
        {ENOEXEC, "ENOEXEC"},
        {EBADF, "EBADF"},
        {ECHILD, "ECHILD"},
        {EAGAIN, "EAGAIN"},
        {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"},
        {EFAULT, "EFAULT"},
        {EBUSY, "EBUSY"},
        {EEXIST, "EEXIST"},
        {EXDEV, "EXDEV"},
        {ENOTDIR, "ENOTDIR"},
        {EISDIR, "EISDIR"},
        {EINVAL, "EINVAL"},
        {EMFILE, "EMFILE"},
        {ENFILE, "ENFILE"},
        {ENOSPC, "ENOSPC"},
        {ESPIPE, "ESPIPE"},
        {EROFS, "EROFS"},
        {EPIPE, "EPIPE"},
        {ERANGE, "ERANGE"},
        {ENAMETOOLONG, "ENAMETOOLONG"},
        {ENOSYS, "ENOSYS"},
        {ENOTEMPTY, "ENOTEMPTY"},
        {ELOOP, "ELOOP"},
        {ENOTSUP, "ENOTSUP"},
        {ENOTTY, "ENOTTY"},
        {ENOTSOCK, "ENOTSOCK"},
        {EDESTADDRREQ, "EDESTADDRREQ"},
        {EMSGSIZE, "EMSGSIZE"},
        {EPROTOTYPE, "EPROTOTYPE"},
        {ENOPROTOOPT, "ENOPROTOOPT"},
        {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
        {EAFNOSUPPORT, "EAFNOSUPPORT"},
        {EADDRINUSE, "EADDRINUSE"},
        {EADDRNOTAVAIL, "EADDRNOTAVAIL"},
        {ECONNRESET, "ECONNRESET"},
        {ECONNABORTED, "ECONNABORTED"},
        {ENOBUFS, "ENOBUFS"},
        {EISCONN, "EISCONN"},
        {ENOTCONN, "ENOTCONN"},
        {ECONNREFUSED, "ECONNREFUSED"},
        {EINPROGRESS, "EINPROGRESS"},
        {EALREADY, "EALREADY"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].num == e) return names[i].name;
    return "E?";
}

static int failures;

/* Print "label: value" and count a failure when value != expected. */
static void expect_str(const char *label, const char *got, const char *want) {
    printf("%s: %s\n", label, got);
    if (strcmp(got, want) != 0) {
        printf("  FAILED (expected %s)\n", want);
        failures++;
    }
}

static void expect_long(const char *label, long got, long want) {
    printf("%s: %ld\n", label, got);
    if (got != want) {
        printf("  FAILED (expected %ld)\n", want);
        failures++;
    }
}

/* Print the errno name of a call that returned `ret` (-1 = error). */
static void expect_errno(const char *label, long ret, int want) {
    const char *got = ret == -1 ? errno_name(errno) : "OK";
    expect_str(label, got, errno_name(want));
}

/* A call that returns 0 or -1/errno: prints OK or the errno name. */
static void expect_ok(const char *label, long ret) { expect_errno(label, ret, 0); }

static void expect_yes(const char *label, int cond) { expect_str(label, cond ? "yes" : "no", "yes"); }

static _Noreturn void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fflush(stdout);
    fprintf(stderr, "fatal: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (%s)\n", errno_name(errno));
    va_end(ap);
    exit(100);
}

static int finish(void) {
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}

#endif
