# zlib: its own configure script (not autoconf); static only.
build_system=custom

do_build() {
    cd "$srcdir"
    CHOST=wasm32-wasi ./configure --static --prefix="$tp_sysroot"
    make libz.a
    make install DESTDIR="$stage"
}
