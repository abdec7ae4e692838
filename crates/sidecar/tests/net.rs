//! AF_UNIX sockets and poll (`host_net`) with the C guest programs
//! `guests/tests/net_*.c`.
//!
//! * Differential tests run each program natively and under `sidecar exec`
//!   and require identical stdout and exit status (see `common`).
//! * `net_fairness` is not differential: it checks that a one-byte ping-pong
//!   between two guests completes while two other guests flood a socketpair,
//!   and prints the latency percentiles (`cargo test -- --nocapture`).

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{differential_ok, guest_dir, run, text, SELF, SIDECAR};

#[test]
fn net_socketpair() {
    differential_ok("net_socketpair", &[]);
}

#[test]
fn net_listen() {
    differential_ok("net_listen", &[SELF]);
}

#[test]
fn net_nonblock() {
    differential_ok("net_nonblock", &[]);
}

#[test]
fn net_poll() {
    differential_ok("net_poll", &[SELF]);
}

#[test]
fn net_scm_rights() {
    differential_ok("net_scm_rights", &[]);
}

#[test]
fn net_transfer() {
    differential_ok("net_transfer", &[SELF]);
}

/// The value of a `key: value` line of the fairness program's output.
fn field(out: &str, key: &str) -> Option<u64> {
    out.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(": ")?.trim().parse().ok())
}

/// Ping-pong under a flood: 10,000 one-byte round trips must finish within
/// a generous timeout while a flooder and a drain keep a socketpair busy.
#[test]
fn net_fairness() {
    const ROUNDS: u64 = 10_000;
    let timeout = Duration::from_secs(300);
    let rel = "wasm/net_fairness.wasm";
    let mut cmd = Command::new(SIDECAR);
    cmd.args(["exec", rel, rel]).current_dir(guest_dir());
    let start = Instant::now();
    let out = run(cmd, timeout);
    let wall = start.elapsed();
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(
        out.status.success(),
        "net_fairness failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    assert_eq!(
        field(&stdout, "pingpong done"),
        Some(ROUNDS),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let p50 = field(&stdout, "p50_us").expect("p50_us line");
    let p99 = field(&stdout, "p99_us").expect("p99_us line");
    let max = field(&stdout, "max_us").expect("max_us line");
    let flood = field(&stdout, "flood_mib").unwrap_or(0);
    let rate = field(&stdout, "flood_mib_per_s").unwrap_or(0);
    eprintln!(
        "net_fairness (sidecar): {ROUNDS} round trips in {wall:.2?}; p50 {p50} us, \
         p99 {p99} us, max {max} us; flood {flood} MiB ({rate} MiB/s)"
    );

    // For comparison only: the same program natively.
    let native = guest_dir().join("native/net_fairness");
    let mut cmd = Command::new(&native);
    cmd.args(["native/net_fairness"]).current_dir(guest_dir());
    let out = run(cmd, timeout);
    let n = text(&out.stdout);
    if let (Some(p50), Some(p99)) = (field(&n, "p50_us"), field(&n, "p99_us")) {
        eprintln!("net_fairness (native): p50 {p50} us, p99 {p99} us");
    }
}
