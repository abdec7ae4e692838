# ncurses 6.4: the curses and terminfo library (one libncurses, where
# xterm's configure looks for tgetent) for xterm and for
# programs run in the shell, and the terminfo entries they read at the guest
# path /usr/share/terminfo: ncurses' install compiles its whole
# misc/terminfo.src there with the build machine's tic (ncurses-bin is
# Essential), since the wasm tic and the other programs are not built.
deps=()
configure_flags=(--without-shared --without-debug --without-ada --without-cxx
    --without-cxx-binding --without-progs --without-tests --without-manpages
    --without-gpm --without-dlsym --disable-widec
    --disable-home-terminfo --disable-termcap --enable-pc-files
    --with-pkg-config-libdir="$tp_sysroot/lib/pkgconfig"
    --with-default-terminfo-dir=/usr/share/terminfo
    --with-terminfo-dirs=/usr/share/terminfo
    --with-build-cc=gcc --with-build-cflags=-O2)

