# libXdmcp: XDMCP protocol helpers (libxcb links it for authorization).
deps=(xorgproto)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen)
