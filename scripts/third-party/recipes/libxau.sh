# libXau: X authority file handling. No thread-safe variants (no threads).
deps=(xorgproto)
configure_flags=(--disable-xthreads)
