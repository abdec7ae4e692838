# dash 0.5.12, Debian's /bin/sh, as a guest: it forks and execs as upstream
# does (the SDK's fork goes through the sjlj driver), and setjmp/longjmp
# (dash's error handling) come from the sjlj recipe. patches/dash/0001
# keeps longjmp out of the SIGINT handler. dash.files/compat.c stubs the user ids and umask, which the
# SDK lacks. Installs bin/dash.wasm; scripts/build-shell-root puts it into
# a VM root as /bin/sh and /bin/dash.
deps=(sjlj)
# --disable-static: dash's static build adds -Wl,--fatal-warnings, which
# breaks configure's function checks. No libedit (SMALL): no line editing.
configure_flags=(--disable-static --without-libedit)

pre_configure() {
    # Link at -O0: at -O2 clang runs wasm-opt, which drops the name section
    # asyncify-sjlj needs (compilation keeps CFLAGS' -O2).
    export LDFLAGS="$LDFLAGS -O0"
}

do_compile() {
    # An archive after the SDK's: an SDK definition, once there, wins.
    "$CC" $CFLAGS -c "$files/compat.c" -o compat.o
    "$AR" rcs libdashcompat.a compat.o
    make LIBS="$PWD/libdashcompat.a -lsidecar-sjlj"
}

do_install() {
    mkdir -p "$stage$tp_sysroot/bin"
    "$tp_sysroot/native/bin/asyncify-sjlj" src/dash "$stage$tp_sysroot/bin/dash.wasm"
}
