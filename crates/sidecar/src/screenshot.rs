//! `sidecar screenshot`: the root window as a PNG, read over the X protocol
//! (GetImage) from outside the guests, so the server needs no changes.
//! `grab` is also what `sidecar pixels` counts in.

use std::path::Path;

use anyhow::{bail, Context};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt, ImageFormat};

/// The contents of a root window, 8-bit RGB, row by row.
pub struct Rgb {
    pub width: u16,
    pub height: u16,
    pub data: Vec<u8>,
}

impl Rgb {
    /// The pixel at (`x`, `y`).
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * usize::from(self.width) + x) * 3;
        [self.data[i], self.data[i + 1], self.data[i + 2]]
    }
}

/// Captures the root window of `display` (e.g. `:99`) into `out`.
pub fn capture(display: &str, out: &Path) -> anyhow::Result<(u16, u16)> {
    let image = grab(display)?;
    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut enc = png::Encoder::new(
        std::io::BufWriter::new(file),
        u32::from(image.width),
        u32::from(image.height),
    );
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(&image.data)?;
    Ok((image.width, image.height))
}

/// Reads the root window of `display` with GetImage.
pub fn grab(display: &str) -> anyhow::Result<Rgb> {
    let (conn, screen_num) = x11rb::connect(Some(display))
        .with_context(|| format!("cannot connect to X display {display}"))?;
    grab_from(&conn, screen_num)
}

/// Reads the root window of screen `screen_num` over `conn`.
pub fn grab_from(conn: &impl Connection, screen_num: usize) -> anyhow::Result<Rgb> {
    let screen = &conn.setup().roots[screen_num];
    let (w, h) = (screen.width_in_pixels, screen.height_in_pixels);
    grab_rect(conn, screen_num, (0, 0, w, h))
}

/// Reads the rectangle (x, y, width, height) of the root window of screen
/// `screen_num`, which must lie on the screen.
pub fn grab_rect(
    conn: &impl Connection,
    screen_num: usize,
    (x, y, w, h): (i16, i16, u16, u16),
) -> anyhow::Result<Rgb> {
    let screen = &conn.setup().roots[screen_num];
    let image = conn
        .get_image(ImageFormat::Z_PIXMAP, screen.root, x, y, w, h, !0)?
        .reply()
        .context("GetImage on the root window")?;
    let format = conn
        .setup()
        .pixmap_formats
        .iter()
        .find(|f| f.depth == image.depth)
        .with_context(|| format!("no pixmap format for depth {}", image.depth))?;
    if format.bits_per_pixel != 32 || image.depth < 24 {
        bail!(
            "unsupported root format: depth {} at {} bits per pixel",
            image.depth,
            format.bits_per_pixel
        );
    }
    let visual = screen
        .allowed_depths
        .iter()
        .flat_map(|d| d.visuals.iter())
        .find(|v| v.visual_id == image.visual)
        .context("root visual not found")?;
    let shift = |mask: u32| mask.trailing_zeros();
    let (rs, gs, bs) = (
        shift(visual.red_mask),
        shift(visual.green_mask),
        shift(visual.blue_mask),
    );
    let big_endian =
        conn.setup().image_byte_order == x11rb::protocol::xproto::ImageOrder::MSB_FIRST;
    let stride = (usize::from(w) * 32).div_ceil(usize::from(format.scanline_pad))
        * usize::from(format.scanline_pad)
        / 8;
    let mut rgb = Vec::with_capacity(usize::from(w) * usize::from(h) * 3);
    for y in 0..usize::from(h) {
        let row = &image.data[y * stride..];
        for x in 0..usize::from(w) {
            let b: [u8; 4] = row[x * 4..x * 4 + 4].try_into().unwrap();
            let px = if big_endian {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            };
            rgb.extend_from_slice(&[(px >> rs) as u8, (px >> gs) as u8, (px >> bs) as u8]);
        }
    }
    Ok(Rgb {
        width: w,
        height: h,
        data: rgb,
    })
}
