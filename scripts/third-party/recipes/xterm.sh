# xterm 379 (bookworm's), the terminal of the desktop, standing in for st
# (whose source the pool lacks). It starts its shell as upstream does:
# fork, then setsid and TIOCSCTTY on the PTY in the child, then exec.
# setjmp/longjmp (its parser's reset, the /dev/tty probe) and fork come from
# the sjlj recipe, linked like dash. Resource files are at the guest path
# /usr/share/X11/app-defaults. No setuid, no utmp, no Tek 4014, no luit
# (which it would exec for non-UTF-8 locales), no session management.
# --disable-narrowproto: the X libraries were built with wide prototypes
# (their default), and the two must agree: XawScrollbarSetThumb's floats
# are doubles then, and a mismatched call traps in wasm.
deps=(sjlj xorgproto libx11 libxext libxt libxmu libxaw libxpm libxrender xft fontconfig freetype ncurses)
configure_flags=(--disable-setuid --disable-setgid --without-utempter --disable-tek4014
    --disable-luit --disable-regis-graphics --disable-sixel-graphics --disable-print-graphics
    --disable-session-mgt --disable-desktop --disable-imake --disable-rpath-hack
    --disable-narrowproto
    --with-app-defaults=/usr/share/X11/app-defaults --with-terminal-type=xterm
    --with-tty-group=root)
# Our kernel is Linux to its guests: xterm picks its PTY and termios code by
# that macro, its configure adds _GNU_SOURCE on Linux hosts, and glibc's
# <features.h> then defines _POSIX_SOURCE, by which the shell's child calls
# setsid() (wasi-libc's, musl's, does not).
extra_cflags="-Dlinux -D_GNU_SOURCE -D_POSIX_SOURCE"

pre_configure() {
    # Link at -O0: at -O2 clang runs wasm-opt, which drops the name section
    # asyncify-sjlj needs (compilation keeps CFLAGS' -O2).
    export LDFLAGS="$LDFLAGS -O0"
    export LIBS="-lsidecar-sjlj"
}

do_install() {
    mkdir -p "$stage$tp_sysroot/bin" "$stage/usr/share/X11/app-defaults"
    "$tp_sysroot/native/bin/asyncify-sjlj" xterm "$stage$tp_sysroot/bin/xterm.wasm"
    make install-app DESTDIR="$stage"
}
