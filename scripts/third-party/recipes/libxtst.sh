# libXtst: XTEST and RECORD client library (xdotool-style input injection).
deps=(xorgproto libx11 libxext libxi)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen)
