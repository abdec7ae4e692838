# X11 protocol headers and their .pc files, from Debian's x11proto-dev
# (xorgproto has no reachable source tarball; see /work/shared/SOURCES.md).
build_system=none
src_pkg=x11proto-dev
debs=(x11proto-dev)
version="$(tp_deb_version x11proto-dev)"

do_build() {
    local x="$bdir/deb" out="$stage$tp_sysroot" pc
    dpkg -x "$(deb_archive x11proto-dev)" "$x"
    mkdir -p "$out/include" "$out/share/pkgconfig"
    cp -a "$x/usr/include/." "$out/include/"
    for pc in "$x"/usr/share/pkgconfig/*.pc; do
        sed "s|^prefix=/usr\$|prefix=$tp_sysroot|" "$pc" >"$out/share/pkgconfig/${pc##*/}"
    done
}
