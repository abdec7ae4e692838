//! `sidecar screenshot` reads the root window over the X protocol and must
//! agree pixel for pixel with `xwd -root`. The server here is Debian's
//! native Xvfb, with `-retro` so the root is a pattern, not one colour.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SIDECAR: &str = env!("CARGO_BIN_EXE_sidecar");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Decodes an XWD dump of a 24/32-bit TrueColor window into RGB.
fn xwd_rgb(d: &[u8]) -> (u32, u32, Vec<u8>) {
    let f = |i: usize| u32::from_be_bytes(d[i * 4..i * 4 + 4].try_into().unwrap());
    let (hsize, w, h, byte_order, bpp, bpl, ncolors) =
        (f(0), f(4), f(5), f(7), f(11), f(12), f(19));
    let (rm, gm, bm) = (f(14), f(15), f(16));
    assert_eq!(bpp, 32, "test expects a 32-bit framebuffer");
    let data = &d[(hsize + ncolors * 12) as usize..];
    let mut rgb = Vec::new();
    for y in 0..h as usize {
        for x in 0..w as usize {
            let b: [u8; 4] = data[y * bpl as usize + x * 4..][..4].try_into().unwrap();
            let px = if byte_order == 1 {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            };
            let c = |m: u32| ((px & m) >> m.trailing_zeros()) as u8;
            rgb.extend_from_slice(&[c(rm), c(gm), c(bm)]);
        }
    }
    (w, h, rgb)
}

#[test]
fn screenshot_matches_xwd_pixel_for_pixel() {
    let n = 150 + std::process::id() % 100;
    let display = format!(":{n}");
    let socket = format!("/tmp/.X11-unix/X{n}");
    let _server = Server(
        Command::new("Xvfb")
            .args([
                &display,
                "-screen",
                "0",
                "320x200x24",
                "-retro",
                "-nolisten",
                "tcp",
            ])
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb is installed by scripts/install-deps"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !Path::new(&socket).exists() {
        assert!(Instant::now() < deadline, "Xvfb did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let dir = std::env::temp_dir().join(format!("sidecar-shot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png_path = dir.join("root.png");
    let out = Command::new(SIDECAR)
        .args(["screenshot", "--display", &display, "-o"])
        .arg(&png_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let xwd = Command::new("xwd")
        .args(["-root", "-silent", "-display", &display])
        .output()
        .expect("xwd (x11-apps) is installed by scripts/install-deps");
    assert!(xwd.status.success());

    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let (w, h, rgb) = xwd_rgb(&xwd.stdout);
    assert_eq!((info.width, info.height), (w, h));
    assert_eq!((w, h), (320, 200));
    assert_eq!(buf.len(), rgb.len());
    let differing = buf
        .chunks(3)
        .zip(rgb.chunks(3))
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 0, "pixels that differ from xwd");
    // The retro pattern is not a flat fill: the comparison saw real content.
    assert!(buf.chunks(3).any(|p| p != &buf[..3]));
    let _ = std::fs::remove_dir_all(&dir);
}
