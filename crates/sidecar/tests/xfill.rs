//! A libX11 client guest draws into the Xvfb guest: runs
//! `examples/xfill-check.sh` exactly as a user would, on a display of its
//! own, and requires its PASS line (exact pixel counts inside and outside
//! xfill's window, then a clean SIGTERM shutdown).
//!
//! HEAVY on a fresh checkout: the script runs `scripts/xvfb-root`, which
//! cross-builds the X libraries and Xvfb (several minutes) and xfill.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{repo_root, run, text, SIDECAR};

/// Covers a cold build of the X stack; a warm run takes a few seconds.
const TIMEOUT: Duration = Duration::from_secs(3600);

#[test]
fn xfill_window_pixels_are_in_the_framebuffer() {
    // A display no other server (or test run) holds.
    let n = common::free_display(400);
    let mut cmd = Command::new(repo_root().join("examples/xfill-check.sh"));
    cmd.args(["--display", &format!(":{n}")])
        .env("SIDECAR", SIDECAR);
    let out = run(cmd, TIMEOUT);
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "xfill-check.sh: {}\n{stdout}\n{}",
        out.status,
        text(&out.stderr)
    );
    let want = "xfill-check: PASS: 30000 of the 200x150 pixels inside the window are #c0ffee, \
                0 outside it";
    assert!(stdout.starts_with(want), "xfill-check.sh said:\n{stdout}");
}
