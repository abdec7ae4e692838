# expat: XML parser for fontconfig's configuration files. Debian's orig
# tarball is a git export (no configure), so autoreconf first.
src_subdir=expat
configure_flags=(--without-docbook --without-examples --without-tests --without-xmlwf)

pre_configure() {
    ./buildconf.sh
}
