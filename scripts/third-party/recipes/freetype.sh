# FreeType: scalable fonts for libXfont2 (and later Xft). Modules that need
# setjmp/longjmp in normal operation are left out (see freetype.files/include/
# setjmp.h): the smooth (anti-aliasing) rasterizer and sdf, which builds on it.
# The X server renders core fonts with the monochrome rasterizer.
deps=(zlib)
build_system=meson
extra_cflags="-I$recipes/freetype.files/include"
meson_flags=(-Dzlib=system -Dbzip2=disabled -Dpng=disabled -Dharfbuzz=disabled
    -Dbrotli=disabled -Dmmap=disabled -Dtests=disabled)

# Meson compiles the modules listed in modules.cfg, but ftinit.c registers
# those in include/freetype/config/ftmodule.h, so both are edited.
pre_configure() {
    sed -i -e 's/^RASTER_MODULES += smooth$/# & (sidecar: needs setjmp)/' \
        -e 's/^RASTER_MODULES += sdf$/# & (sidecar: needs smooth)/' modules.cfg
    sed -i -e '/ft_smooth_renderer_class\|ft_sdf_renderer_class\|ft_bitmap_sdf_renderer_class/d' \
        include/freetype/config/ftmodule.h
}
