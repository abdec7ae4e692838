# XCB's protocol XML and the xcbgen Python package (build-time inputs of
# libxcb), from Debian's xcb-proto and python3-xcbgen binary packages.
build_system=none
src_pkg=xcb-proto
debs=(xcb-proto python3-xcbgen)
version="$(tp_deb_version xcb-proto)"

do_build() {
    local x="$bdir/deb" out="$stage$tp_sysroot"
    dpkg -x "$(deb_archive xcb-proto)" "$x"
    dpkg -x "$(deb_archive python3-xcbgen)" "$x"
    mkdir -p "$out/share/xcb" "$out/share/pkgconfig" "$out/native/python"
    cp -a "$x/usr/share/xcb/." "$out/share/xcb/"
    cp -a "$x/usr/lib/python3/dist-packages/xcbgen" "$out/native/python/"
    sed -e "s|^prefix=/usr\$|prefix=$tp_sysroot|" \
        -e "s|^xcbincludedir=.*|xcbincludedir=\${datadir}/xcb|" \
        -e "s|^pythondir=.*|pythondir=\${prefix}/native/python|" \
        "$x/usr/share/pkgconfig/xcb-proto.pc" >"$out/share/pkgconfig/xcb-proto.pc"
}
