//! `sidecar wait --window`: returns as soon as a window is mapped, with its
//! id, whether it appears later or is there already, and exits 2 with a
//! message on timeout. The server is Debian's native Xvfb; it says when it
//! is ready through -displayfd, and the client is Debian's xlogo.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{native_xvfb, text, Kill, SIDECAR};

fn wait_for(display: &str, window: &str, timeout: &str) -> Command {
    let mut cmd = Command::new(SIDECAR);
    cmd.args([
        "wait",
        "--display",
        display,
        "--window",
        window,
        "--timeout",
        timeout,
    ]);
    cmd
}

#[test]
fn wait_returns_once_the_window_is_mapped_and_times_out_otherwise() {
    let (_server, display) = native_xvfb();
    let waiter = wait_for(&display, "xlogo", "30")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let _client = Kill(
        Command::new("xlogo")
            .args(["-display", &display])
            .stderr(Stdio::null())
            .spawn()
            .expect("xlogo is installed by scripts/install-deps (x11-apps)"),
    );
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    let id = text(&out.stdout);
    assert!(id.starts_with("0x"), "printed {id:?}");

    // Already there: at once, the same window.
    let again = wait_for(&display, "xlogo", "30").output().unwrap();
    assert!(again.status.success());
    assert_eq!(text(&again.stdout), id);

    // Never there: exit code 2 and one line saying what was missing.
    let start = Instant::now();
    let none = wait_for(&display, "no-such-window", "0.3")
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("no viewable window \"no-such-window\""));
    assert!(start.elapsed() < Duration::from_secs(10));
}
