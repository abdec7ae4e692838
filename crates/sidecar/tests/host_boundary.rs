//! The host boundary: `expose` publishes a guest listener on the host, and
//! `connect-out` lets a guest reach one listed host socket.

mod common;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{guest_dir, SIDECAR};

const MIB: usize = 1 << 20;

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sidecar-hb-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn pattern(i: usize) -> u8 {
    (i * 131 % 251) as u8
}

/// Writes `dir/vm.toml`: one test guest (its `[[guest]]` lines) and an
/// `expose` of its socket `guest_sock` at `host_sock`.
fn expose_vm(dir: &Path, guest: &str, guest_sock: &str, host_sock: &Path) -> PathBuf {
    let config = dir.join("vm.toml");
    let toml = format!(
        "root = {:?}\n[[guest]]\n{guest}\n[[expose]]\nguest = {guest_sock:?}\nhost = {host_sock:?}\n",
        guest_dir()
    );
    std::fs::write(&config, toml).unwrap();
    config
}

const ECHO_GUEST: &str =
    "name = \"echo\"\nwasm = \"wasm/echo_server.wasm\"\nargs = [\"echo_server\", \"/tmp/echo.sock\"]";

#[test]
fn native_client_reaches_guest_listener_through_expose() {
    let dir = scratch("expose");
    let host_sock = dir.join("echo.sock");
    let config = expose_vm(&dir, ECHO_GUEST, "/tmp/echo.sock", &host_sock);
    let vm = Command::new(SIDECAR)
        .arg("run")
        .arg(&config)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    // The guest binds shortly after boot; until then the bridge refuses.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut conn = loop {
        if let Ok(mut s) = UnixStream::connect(&host_sock) {
            // A refused bridge closes at once; a live one echoes.
            s.write_all(&[pattern(0)]).unwrap();
            let mut b = [0u8; 1];
            if s.read(&mut b).unwrap_or(0) == 1 {
                assert_eq!(b[0], pattern(0));
                break s;
            }
        }
        assert!(Instant::now() < deadline, "exposed socket never answered");
        std::thread::sleep(Duration::from_millis(20));
    };

    let mut writer = conn.try_clone().unwrap();
    let sender = std::thread::spawn(move || {
        let data: Vec<u8> = (1..=MIB).map(pattern).collect();
        for chunk in data.chunks(10_000) {
            writer.write_all(chunk).unwrap();
        }
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    conn.read_to_end(&mut back).unwrap();
    sender.join().unwrap();
    assert_eq!(back.len(), MIB, "echo length");
    assert!(
        back.iter().enumerate().all(|(i, b)| *b == pattern(i + 1)),
        "echo content"
    );

    let out = vm.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("echoed {} bytes\n", MIB + 1)
    );
    assert!(!host_sock.exists(), "the exposed socket outlived the VM");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `expose` never takes a host path from a live server, and replaces a
/// socket file nobody listens on.
#[test]
fn expose_refuses_a_live_host_socket_and_replaces_a_stale_one() {
    let dir = scratch("expose-live");
    let host_sock = dir.join("x.sock");
    let hello = "name = \"hello\"\nwasm = \"wasm/hello.wasm\"\nstdout = \"null\"";
    let config = expose_vm(&dir, hello, "/tmp/x.sock", &host_sock);
    let run = || {
        Command::new(SIDECAR)
            .arg("run")
            .arg(&config)
            .output()
            .unwrap()
    };

    let live = UnixListener::bind(&host_sock).unwrap();
    let out = run();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expose took a live socket");
    assert!(err.contains("a live server is listening there"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "not one line: {err}");
    assert!(
        UnixStream::connect(&host_sock).is_ok(),
        "the live socket was disturbed"
    );

    drop(live); // its file stays behind, stale
    assert!(host_sock.exists());
    let out = run();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!host_sock.exists(), "the exposed socket outlived the VM");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn guest_reaches_listed_host_socket_through_connect_out() {
    let dir = scratch("out");
    let host_sock = dir.join("host.sock");
    let listener = UnixListener::bind(&host_sock).unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 65536];
        let mut total = 0;
        loop {
            let n = s.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            s.write_all(&buf[..n]).unwrap();
            total += n;
        }
        total
    });
    let config = dir.join("vm.toml");
    std::fs::write(
        &config,
        format!(
            "root = {:?}\n[[guest]]\nname = \"client\"\nwasm = \"wasm/echo_client.wasm\"\nargs = [\"echo_client\", \"/tmp/run/host.sock\", \"{MIB}\"]\n[[connect-out]]\nguest = \"/tmp/run/host.sock\"\nhost = {:?}\n",
            guest_dir(),
            host_sock
        ),
    )
    .unwrap();
    let out = common::run(
        {
            let mut c = Command::new(SIDECAR);
            c.arg("run").arg(&config);
            c
        },
        Duration::from_secs(60),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("sent {MIB}, echoed {MIB}, mismatches 0\n"),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
    assert_eq!(server.join().unwrap(), MIB);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unlisted_host_paths_are_not_reachable() {
    // The guest's root is the guest dir; a host socket elsewhere has no path
    // in the VM, so the connect fails inside the sandbox.
    let dir = scratch("unlisted");
    let host_sock = dir.join("host.sock");
    let _listener = UnixListener::bind(&host_sock).unwrap();
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("exec")
        .arg(guest_dir().join("wasm/echo_client.wasm"))
        .arg(&host_sock)
        .arg("10")
        .current_dir(guest_dir());
    let out = common::run(cmd, Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("connect"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn host_sigterm_reaches_guests_for_a_clean_shutdown() {
    use std::io::BufRead;
    let mut vm = Command::new(SIDECAR)
        .arg("exec")
        .arg("wasm/sigterm_wait.wasm")
        .current_dir(guest_dir())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(vm.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(vm.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "clean shutdown\n");
    assert!(vm.wait().unwrap().success());
}

/// CPU time (utime + stime, in clock ticks) of process `pid` so far.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the line.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// An idle VM (a guest blocked in accept, an exposed socket, the kernel
/// thread waiting) uses no CPU: nothing polls, and the RPC spin is bounded.
#[test]
fn idle_vm_uses_no_cpu() {
    let dir = scratch("idle");
    let config = expose_vm(&dir, ECHO_GUEST, "/tmp/echo.sock", &dir.join("echo.sock"));
    let mut vm = Command::new(SIDECAR)
        .arg("run")
        .arg(&config)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let before = cpu_ticks(vm.id());
    std::thread::sleep(Duration::from_secs(3));
    let used = cpu_ticks(vm.id()) - before;
    let _ = vm.kill();
    let _ = vm.wait();
    let _ = std::fs::remove_dir_all(&dir);
    // 1 tick of slack (10 ms in 3 s) for the kernel's own accounting.
    assert!(used <= 1, "an idle VM used {used} clock ticks in 3 s");
}
