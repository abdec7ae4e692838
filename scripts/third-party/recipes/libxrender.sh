# libXrender: X client extension library.
deps=(xorgproto libx11)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen)
