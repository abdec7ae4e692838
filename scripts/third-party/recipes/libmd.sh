# libmd: message digests; provides the X server's SHA1 (render glyph cache).
# Built in the source tree: its libmd.sym rule reads libmd.map from the
# current directory.
in_tree=1
