# pthread-stubs: a single-threaded <pthread.h> and libpthread-stubs.a (our own
# code in pthread-stubs.files/), plus the pthread-stubs.pc that libxcb asks
# for. wasm32-wasip1 has no threads; see pthread-stubs.files/pthread.h.
build_system=none
version=0.4+sidecar1
src_pkg=none

do_build() {
    local out="$stage$tp_sysroot"
    mkdir -p "$out/include" "$out/lib/pkgconfig"
    cp "$files/pthread.h" "$out/include/"
    "$CC" -O2 -Wall -Wextra -I"$files" -c "$files/pthread-stubs.c" -o "$bdir/pthread-stubs.o"
    "$AR" rcs "$out/lib/libpthread-stubs.a" "$bdir/pthread-stubs.o"
    cat >"$out/lib/pkgconfig/pthread-stubs.pc" <<PC
prefix=$tp_sysroot
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: pthread stubs
Description: single-threaded pthread API for sidecar guests
Version: 0.4
Cflags: -I\${includedir}
Libs: -L\${libdir} -lpthread-stubs
PC
}
