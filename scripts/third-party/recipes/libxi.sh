# libXi: X Input extension client library.
deps=(xorgproto libx11 libxext libxfixes)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen)
