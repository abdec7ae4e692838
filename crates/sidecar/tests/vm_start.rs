//! `after = { listening = PATH }` in vm.toml: a guest starts once a socket
//! listens at PATH, so a client that connects once, with no retry, always
//! finds its server; a path nobody listens at ends the start with one line
//! naming the field.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use common::{guest_dir, run, text, SIDECAR, TIMEOUT};

/// A VM root with the echo server and client, and `vm.toml` with `guests`.
fn vm(tag: &str, guests: &str) -> (PathBuf, Output) {
    let dir = std::env::temp_dir().join(format!("sidecar-vm-start-{}-{tag}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    for g in ["echo_server", "echo_client"] {
        fs::copy(
            guest_dir().join(format!("wasm/{g}.wasm")),
            dir.join(format!("{g}.wasm")),
        )
        .unwrap();
    }
    let config = dir.join("vm.toml");
    fs::write(&config, format!("root = {dir:?}\n{guests}")).unwrap();
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("run").arg(&config);
    (dir, run(cmd, TIMEOUT))
}

const SERVER: &str = r#"
[[guest]]
name = "server"
wasm = "/echo_server.wasm"
args = ["echo_server", "/tmp/echo"]
"#;

#[test]
fn a_client_started_after_its_server_listens_connects_at_once() {
    // The client connects once: without `after` it would race the server.
    // Odd rounds list it first: a waiting guest does not hold back the
    // guests listed after it (here, its own server).
    const CLIENT: &str = r#"
[[guest]]
name = "client"
wasm = "/echo_client.wasm"
args = ["echo_client", "/tmp/echo", "100000"]
main = true
after = { listening = "/tmp/echo" }
"#;
    for round in 0..10 {
        let guests = match round % 2 {
            0 => format!("{SERVER}{CLIENT}"),
            _ => format!("{CLIENT}{SERVER}"),
        };
        let (dir, out) = vm(&format!("ok{round}"), &guests);
        let _ = fs::remove_dir_all(dir);
        assert!(
            out.status.success(),
            "round {round}: {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

/// Runs a VM that must fail to start (exit code 1); its stderr.
fn fails(name: &str, guests: &str) -> String {
    let (dir, out) = vm(name, guests);
    let _ = fs::remove_dir_all(dir);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    stderr
}

#[test]
fn a_path_nobody_listens_at_fails_the_start_naming_the_field() {
    let stderr = fails(
        "never",
        r#"
[[guest]]
name = "client"
wasm = "/echo_client.wasm"
args = ["echo_client", "/tmp/never", "1"]
after = { listening = "/tmp/never", timeout = 0.2 }
"#,
    );
    assert!(
        stderr.contains("client")
            && stderr.contains("/tmp/never")
            && stderr.contains("after.listening"),
        "{stderr}"
    );

    let stderr = fails(
        "relative",
        r#"
[[guest]]
name = "client"
wasm = "/echo_client.wasm"
after = { listening = "tmp/echo" }
"#,
    );
    assert!(stderr.contains("guest[0].after.listening"), "{stderr}");
}
