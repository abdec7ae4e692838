//! `sidecar wait --window`: returns as soon as a window is mapped, with its
//! id, whether it appears later or is there already, and exits 2 with a
//! message on timeout; `--managed` holds out for a window manager's
//! reparenting, `--gone` for the window to go; `--color` returns once the
//! pixels are drawn. The server is Debian's native Xvfb; it says when it is
//! ready through -displayfd, and the client is Debian's xlogo (or this
//! test, drawing on the root).

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

/// `sidecar wait ARGS` on `display`.
fn wait_cmd(display: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(SIDECAR);
    cmd.args(["wait", "--display", display]).args(args);
    cmd
}

#[test]
fn wait_for_pixels_returns_once_they_are_drawn() {
    use x11rb::connection::Connection;
    use x11rb::protocol::xproto::{ChangeGCAux, ConnectionExt, Rectangle};
    let (_server, display) = native_xvfb();
    let waiter = wait_cmd(&display, &["--color", "#ff0000", "--count", "200"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Nothing red yet: the waiter must block until the fill below.
    let (conn, screen) = x11rb::connect(Some(&display)).unwrap();
    let root = conn.setup().roots[screen].root;
    let gc = conn.generate_id().unwrap();
    conn.create_gc(gc, root, &Default::default()).unwrap();
    // Xvfb's 24-bit TrueColor visual: the pixel is 0xRRGGBB.
    conn.change_gc(gc, &ChangeGCAux::new().foreground(0xff0000))
        .unwrap();
    let rect = Rectangle {
        x: 10,
        y: 10,
        width: 20,
        height: 10,
    };
    conn.poly_fill_rectangle(root, gc, &[rect]).unwrap();
    conn.flush().unwrap();
    let out = waiter.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(text(&out.stdout).trim(), "200");

    // A count that is not met: exit code 2 and what was missing.
    let none = wait_cmd(
        &display,
        &["--color", "#ff0000", "--count", "3", "--timeout", "0.3"],
    )
    .output()
    .unwrap();
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("not exactly 3 pixels of #ff0000"));
}

#[test]
fn wait_gone_returns_once_the_window_is_unmapped() {
    let (_server, display) = native_xvfb();
    // Held open so that xlogo is not the last client: the server resets
    // when that one leaves, and a waiter connecting then would be refused.
    let _keep = x11rb::connect(Some(&display)).unwrap();
    let mut client = Kill(
        Command::new("xlogo")
            .args(["-display", &display])
            .stderr(Stdio::null())
            .spawn()
            .expect("xlogo is installed by scripts/install-deps (x11-apps)"),
    );
    assert!(wait_for(&display, "xlogo", "30")
        .output()
        .unwrap()
        .status
        .success());
    // Not managed: no window manager runs, so nothing reparents it.
    let managed = wait_cmd(
        &display,
        &["--window", "xlogo", "--managed", "--timeout", "0.3"],
    )
    .output()
    .unwrap();
    assert_eq!(managed.status.code(), Some(2));
    let waiter = wait_cmd(
        &display,
        &["--window", "xlogo", "--gone", "--timeout", "30"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let _ = client.0.kill();
    let out = waiter.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout).trim(), "gone");
}

#[test]
fn a_dead_servers_socket_is_waited_out_not_an_error() {
    // What a killed server leaves: a socket file nobody accepts on.
    let n = common::free_display(800);
    let path = format!("/tmp/.X11-unix/X{n}");
    std::fs::create_dir_all("/tmp/.X11-unix").unwrap();
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let out = wait_cmd(&format!(":{n}"), &["--window", "x", "--timeout", "0.3"])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}
