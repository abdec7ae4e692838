# xtrans: the X transport layer, shipped as C sources that libX11, libXfont2
# and the server compile in; installing it is copying headers and a .pc.
deps=(xorgproto)
configure_flags=(--disable-specs --without-xmlto --without-fop --without-xsltproc --disable-devel-docs --disable-docs --without-doxygen)
