//! `sidecar pixels`: how many pixels of an X display's root window have one
//! colour, on the whole screen or in a rectangle; a framebuffer assertion
//! for scripts (`examples/xfill-check.sh`).

use std::str::FromStr;

use anyhow::{bail, Context};

use crate::screenshot::Rgb;

/// An exact 24-bit colour, written `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color(pub [u8; 3]);

impl FromStr for Color {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Color> {
        let hex = s
            .strip_prefix('#')
            .filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .with_context(|| format!("bad colour {s:?}: want #rrggbb"))?;
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex");
        Ok(Color([byte(0), byte(2), byte(4)]))
    }
}

impl std::fmt::Display for Color {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [r, g, b] = self.0;
        write!(f, "#{r:02x}{g:02x}{b:02x}")
    }
}

/// A rectangle, written as an X geometry `WxH+X+Y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub width: u32,
    pub height: u32,
    pub x: u32,
    pub y: u32,
}

impl FromStr for Region {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Region> {
        let parse = || -> Option<Region> {
            let (w, rest) = s.split_once('x')?;
            let (h, rest) = rest.split_once('+')?;
            let (x, y) = rest.split_once('+')?;
            let num = |t: &str| {
                t.bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| t.parse().ok())
                    .flatten()
            };
            Some(Region {
                width: num(w)?,
                height: num(h)?,
                x: num(x)?,
                y: num(y)?,
            })
        };
        parse().with_context(|| format!("bad region {s:?}: want WxH+X+Y"))
    }
}

impl Region {
    /// `region`, or the whole `sw`x`sh` screen; an error if it leaves it.
    pub fn on_screen(region: Option<Region>, sw: u32, sh: u32) -> anyhow::Result<Region> {
        let r = region.unwrap_or(Region {
            width: sw,
            height: sh,
            x: 0,
            y: 0,
        });
        if u64::from(r.x) + u64::from(r.width) > u64::from(sw)
            || u64::from(r.y) + u64::from(r.height) > u64::from(sh)
        {
            bail!(
                "region {}x{}+{}+{} leaves the {sw}x{sh} screen",
                r.width,
                r.height,
                r.x,
                r.y
            );
        }
        Ok(r)
    }
}

/// Counts the pixels of `image` equal to `color`, inside `region` if given.
pub fn count(image: &Rgb, color: Color, region: Option<Region>) -> anyhow::Result<u64> {
    let r = Region::on_screen(region, u32::from(image.width), u32::from(image.height))?;
    let mut n = 0;
    for y in r.y..r.y + r.height {
        for x in r.x..r.x + r.width {
            if image.pixel(x as usize, y as usize) == color.0 {
                n += 1;
            }
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_colours_and_regions() {
        assert_eq!(
            "#C0ffee".parse::<Color>().unwrap(),
            Color([0xc0, 0xff, 0xee])
        );
        for bad in ["c0ffee", "#c0ffe", "#c0ffeeee", "#c0ffeg", "#+0ffee"] {
            let e = bad.parse::<Color>().unwrap_err().to_string();
            assert!(e.contains("#rrggbb"), "{bad}: {e}");
        }
        assert_eq!(
            "200x150+100+80".parse::<Region>().unwrap(),
            Region {
                width: 200,
                height: 150,
                x: 100,
                y: 80
            }
        );
        for bad in [
            "200x150",
            "200x150+1",
            "200x150-1-1",
            "200x150+1+1+1",
            "x1+1+1",
            "2x+1+1",
        ] {
            let e = bad.parse::<Region>().unwrap_err().to_string();
            assert!(e.contains("WxH+X+Y"), "{bad}: {e}");
        }
    }

    #[test]
    fn counts_inside_and_outside_a_region() {
        // 4x3, black, with a 2x2 square of one colour at +1+1.
        let mut image = Rgb {
            width: 4,
            height: 3,
            data: vec![0; 4 * 3 * 3],
        };
        for (x, y) in [(1, 1), (2, 1), (1, 2), (2, 2)] {
            let i = (y * 4 + x) * 3;
            image.data[i..i + 3].copy_from_slice(&[1, 2, 3]);
        }
        let c = Color([1, 2, 3]);
        let r = |s: &str| Some(s.parse::<Region>().unwrap());
        assert_eq!(count(&image, c, None).unwrap(), 4);
        assert_eq!(count(&image, c, r("2x2+1+1")).unwrap(), 4);
        assert_eq!(count(&image, c, r("1x3+0+0")).unwrap(), 0);
        assert_eq!(count(&image, c, r("4x1+0+2")).unwrap(), 2);
        assert_eq!(count(&image, Color([0; 3]), None).unwrap(), 8);
        assert_eq!(count(&image, c, r("0x0+4+3")).unwrap(), 0);
        let e = count(&image, c, r("2x2+3+0")).unwrap_err().to_string();
        assert_eq!(e, "region 2x2+3+0 leaves the 4x3 screen");
    }
}
