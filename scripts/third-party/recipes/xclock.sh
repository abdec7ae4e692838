# xclock from x11-apps 7.7+9 (a native Debian package: one tarball holds every
# app; only xclock/ is built). Draws its analog face with Xrender (Xft). Its
# app-defaults land at the guest path /usr/share/X11/app-defaults.
src_pkg=x11-apps
src_subdir=xclock
deps=(xorgproto libx11 libxt libxmu libxaw libxrender xft libxkbfile)
configure_flags=(--with-xft --with-xkb --with-appdefaultdir=/usr/share/X11/app-defaults)

do_install() {
    make install DESTDIR="$stage"
    mkdir -p "$stage$tp_sysroot/bin"
    mv "$stage$tp_sysroot/bin/xclock" "$stage$tp_sysroot/bin/xclock.wasm"
}
