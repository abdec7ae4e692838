//! `sidecar screenshot` reads the root window over the X protocol and must
//! agree pixel for pixel with `xwd -root`. The server here is Debian's
//! native Xvfb, with `-retro` so the root is a pattern, not one colour.

use std::os::unix::net::UnixStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{assert_png_matches_xwd, SIDECAR};

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        // SIGTERM, so that Xvfb removes its socket and lock file: a stale
        // socket would fool the next run that picks this display.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
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
    // Wait for a server that accepts, not for the path: a socket file left
    // by an earlier killed server exists before this one listens.
    while UnixStream::connect(&socket).is_err() {
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

    assert_png_matches_xwd(&png_path, &xwd.stdout, (320, 200));
    let _ = std::fs::remove_dir_all(&dir);
}
