# libxcb: X protocol C bindings, generated at build time by xcbgen (Python)
# from the XML of Debian's xcb-proto (see xcb-proto.sh).
deps=(xcb-proto xorgproto pthread-stubs libxau libxdmcp)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen --disable-selinux --disable-xevie --disable-xprint)
