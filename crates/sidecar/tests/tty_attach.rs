//! Host terminal attach, driven the way a person would: tmux runs
//! `sidecar run` on a guest with `stdio = "tty"`, send-keys types, and
//! capture-pane reads the screen.

mod common;

use std::time::{Duration, Instant};

use common::{guest_dir, Tmux, SIDECAR};

#[test]
fn terminal_attach_echo_resize_interrupt_and_exit() {
    let dir = std::env::temp_dir().join(format!("sidecar-tty-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("vm.toml");
    std::fs::write(
        &config,
        format!(
            "root = {:?}\n[[guest]]\nname = \"probe\"\nwasm = \"wasm/tty_probe.wasm\"\nstdio = \"tty\"\n",
            guest_dir()
        ),
    )
    .unwrap();
    let status = dir.join("status");
    let (stty_before, stty_after) = (dir.join("stty.before"), dir.join("stty.after"));
    let cmd = format!(
        "stty -g > {b}; {SIDECAR} run {c}; echo \"exit=$?\" > {s}.tmp; stty -g > {a}; mv {s}.tmp {s}; sleep 30",
        b = stty_before.display(),
        a = stty_after.display(),
        c = config.display(),
        s = status.display()
    );
    let t = Tmux::start("attach", &cmd);
    t.wait_for("probe$", 1, Duration::from_secs(30));

    t.keys(&["hello there", "Enter"]);
    t.wait_for("echo: hello there", 1, Duration::from_secs(10));

    t.keys(&["size", "Enter"]);
    t.wait_for("rows 24 cols 80", 1, Duration::from_secs(10));

    // A host resize reaches the guest at once, with SIGWINCH.
    t.run(&["resize-window", "-t", "t", "-x", "100", "-y", "30"]);
    t.keys(&["size", "Enter"]);
    let s = t.wait_for("rows 30 cols 100", 1, Duration::from_secs(10));
    t.keys(&["Enter"]);
    t.wait_for("[winch]", 1, Duration::from_secs(10));
    assert!(!s.contains("panicked"));

    // ^C interrupts the foreground sleep within a second.
    t.keys(&["sleep", "Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    let before = Instant::now();
    t.keys(&["C-c"]);
    t.wait_for("[interrupted]", 1, Duration::from_secs(10));
    assert!(
        before.elapsed() < Duration::from_secs(1),
        "^C took {:?}",
        before.elapsed()
    );

    t.keys(&["exit", "Enter"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !status.exists() {
        assert!(
            Instant::now() < deadline,
            "sidecar did not exit; screen:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(std::fs::read_to_string(&status).unwrap().trim(), "exit=0");
    // Raw mode is undone on exit.
    assert_eq!(
        std::fs::read_to_string(&stty_before).unwrap(),
        std::fs::read_to_string(&stty_after).unwrap()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
