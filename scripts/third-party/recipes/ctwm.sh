# ctwm 4.1.0 (trixie's), the desktop's window manager, standing in for twm
# (whose source the pool lacks): twm's direct descendant, same configuration
# language and look. Upstream's CMake build, with the parser and lexer it
# ships pregenerated (no bison or flex needed; named explicitly, since the
# search for them would look in the sysroot). No m4 (it would run m4 on the
# config file), no JPEG, no Xrandr, no XSMP; XPM icons and EWMH are on.
# f.exec and friends run commands through system() (posix_spawn in the SDK).
# The system-wide config is looked up at the guest path /etc/ctwm.
deps=(xorgproto libx11 libxext libxt libxmu libxpm libsm libice)
build_system=custom

do_build() {
    local libs
    # Static archives: CMake's FindX11 finds the top ones; the rest of the
    # link line comes from pkg-config.
    libs="$("$PKG_CONFIG" --static --libs xmu xt xext xpm sm ice x11)"
    # "Linux": CMake's FindX11 only looks on Unix systems. The sysroot is
    # the only place searched for headers and libraries.
    cat >"$bdir/toolchain.cmake" <<CMAKE
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(CMAKE_C_COMPILER "$CC")
set(CMAKE_AR "$(command -v "$AR")")
set(CMAKE_RANLIB "$(command -v "$RANLIB")")
set(CMAKE_FIND_ROOT_PATH "$tp_sysroot")
set(CMAKE_PREFIX_PATH "/")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
set(CMAKE_C_STANDARD_LIBRARIES "$libs")
CMAKE
    cmake -S "$srcdir" -B "$bdir/obj" -DCMAKE_TOOLCHAIN_FILE="$bdir/toolchain.cmake" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$CFLAGS $CPPFLAGS" \
        -DCMAKE_INSTALL_PREFIX=/usr -DETCDIR=/etc/ctwm -DMANDIR=/usr/share/man \
        -DFORCE_PREGEN_FILES=ON -DLEX_C="$srcdir/gen/lex.c" \
        -DGRAM_C="$srcdir/gen/gram.tab.c" -DGRAM_H="$srcdir/gen/gram.tab.h" \
        -DUSE_M4=OFF -DUSE_JPEG=OFF -DUSE_XRANDR=OFF -DUSE_SESSION=OFF -DUSE_RPLAY=OFF \
        -DUSE_XPM=ON -DUSE_EWMH=ON
    cmake --build "$bdir/obj" --target ctwm -j"$jobs"
    mkdir -p "$stage$tp_sysroot/bin"
    cp "$bdir/obj/ctwm" "$stage$tp_sysroot/bin/ctwm.wasm"
}
