# libXft: client-side anti-aliased fonts on Xrender (xterm's -fa, xclock's
# render mode), with fontconfig and freetype.
deps=(xorgproto libx11 libxrender fontconfig freetype)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen --without-lint)
