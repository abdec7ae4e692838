//! Per-VM limits (`[limits]` in vm.toml) and stopping a VM: a spawn loop
//! ends in EAGAIN at the process limit instead of exhausting the host,
//! memory growth and spawns fail at the VM's memory limit, fuel is the
//! budget of a whole process tree, and SIGTERM ends a VM whose guests
//! ignore it once its `stop_timeout` has passed.

mod common;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{guest_dir, run, text, SIDECAR};

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sidecar-limits-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `sidecar run` on `toml` (after a `root = <guest dir>` line), with
/// `RUST_BACKTRACE` set to `backtrace`; fails the test if it hangs.
fn run_vm(tag: &str, toml: &str, backtrace: &str) -> Output {
    let dir = scratch(tag);
    let config = dir.join("vm.toml");
    std::fs::write(&config, format!("root = {:?}\n{toml}", guest_dir())).unwrap();
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("run").arg(&config).env("RUST_BACKTRACE", backtrace);
    let out = run(cmd, Duration::from_secs(120));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// A VM of an echo server and `spawn_loop`, which spawns sleeping children
/// until spawn fails, kills and reaps them, then asks the echo server.
fn spawn_loop_vm(limits: &str) -> String {
    format!(
        "{limits}\n\
         [[guest]]\n\
         name = \"echo\"\n\
         wasm = \"/wasm/echo_server.wasm\"\n\
         args = [\"echo_server\", \"/tmp/peer.sock\"]\n\
         stdout = \"null\"\n\
         [[guest]]\n\
         name = \"loop\"\n\
         wasm = \"/wasm/spawn_loop.wasm\"\n\
         args = [\"spawn_loop\", \"/wasm/spawn_loop.wasm\", \"/tmp/peer.sock\"]\n\
         main = true\n"
    )
}

fn assert_spawn_loop(out: &Output, children: usize) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    assert_eq!(
        stdout,
        format!(
            "spawned {children}, then EAGAIN\n\
             reaped {children} killed children\n\
             spawn after reaping: OK, status 0\n\
             peer answered: ping\n\
             ok\n"
        ),
        "stderr:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
}

#[test]
fn spawn_loop_gets_eagain_at_the_process_limit() {
    // 64 processes: the echo server, the loop and 62 children.
    for backtrace in ["0", "1"] {
        let out = run_vm(
            &format!("loop64-{backtrace}"),
            &spawn_loop_vm("[limits]\nprocesses = 64"),
            backtrace,
        );
        assert_spawn_loop(&out, 62);
    }
}

#[test]
fn spawn_loop_with_default_limits_neither_aborts_nor_hangs() {
    // The default of 1024 processes fits the host's threads and memory maps
    // (about ten per guest, of vm.max_map_count's 65530).
    for backtrace in ["0", "1"] {
        let out = run_vm(
            &format!("loopdefault-{backtrace}"),
            &spawn_loop_vm(""),
            backtrace,
        );
        assert_spawn_loop(&out, 1022);
    }
}

#[test]
fn vm_memory_limit_fails_growth_then_spawn_with_enomem() {
    let limit_kib = 64 * 1024;
    let out = run_vm(
        "memory",
        &format!(
            "[limits]\nmemory = {}\n\
             [[guest]]\nname = \"hog\"\nwasm = \"/wasm/mem_limit.wasm\"\n\
             args = [\"mem_limit\", \"/wasm/mem_limit.wasm\"]\n",
            limit_kib * 1024
        ),
        "0",
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    let memory: usize = stdout
        .split("memory ")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no memory report:\n{stdout}\n{stderr}"));
    // All of the limit but what its table (counted too) leaves of a page.
    assert!(
        memory <= limit_kib && memory >= limit_kib - 128,
        "memory {memory} KiB for a limit of {limit_kib} KiB"
    );
    assert!(
        stdout.contains("spawn with the VM's memory full: ENOMEM\n"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(out.status.code(), Some(0), "stderr:\n{stderr}");
}

#[test]
fn fuel_budget_is_shared_by_the_process_tree() {
    let fuel = "fuel = 500_000_000\n";
    // Alone, a spinner burns the whole budget, one dot per 65536 rounds.
    let alone = run_vm(
        "fuel-alone",
        &format!(
            "{fuel}[[guest]]\nname = \"spin\"\nwasm = \"/wasm/fuel_tree.wasm\"\n\
             args = [\"fuel_tree\", \"spin\"]\n"
        ),
        "0",
    );
    let dots = text(&alone.stdout).len();
    assert!(dots > 50, "{dots} dots; stderr:\n{}", text(&alone.stderr));
    assert_eq!(alone.status.code(), Some(128 + 24));
    // A tree: 20 children that exit at once (their unburnt fuel comes back
    // to the parent), then 4 spinners at once. Together they burn no more
    // than the one budget (before, each child had a fresh one: 4x).
    let tree = run_vm(
        "fuel-tree",
        &format!(
            "{fuel}[[guest]]\nname = \"tree\"\nwasm = \"/wasm/fuel_tree.wasm\"\n\
             args = [\"fuel_tree\", \"/wasm/fuel_tree.wasm\", \"20\", \"4\"]\n"
        ),
        "0",
    );
    let (stdout, stderr) = (text(&tree.stdout), text(&tree.stderr));
    assert_eq!(tree.status.code(), Some(0), "stderr:\n{stderr}");
    let tree_dots: usize = stdout
        .strip_prefix("dots ")
        .and_then(|s| s.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no dot count:\n{stdout}\n{stderr}"));
    assert!(stdout.ends_with(", SIGXCPU 4 of 4\n"), "{stdout}");
    assert!(
        tree_dots <= dots + dots / 20 + 2,
        "the tree burned {tree_dots} dots, more than the budget's {dots}"
    );
    assert!(
        tree_dots >= dots / 2,
        "the tree burned {tree_dots} dots of {dots}: fuel was lost"
    );
}

/// Waits for `child` to exit, at most `limit`; kills it and fails if not.
fn wait_within(mut child: std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    match rx.recv_timeout(limit) {
        Ok(status) => status.unwrap(),
        Err(_) => {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(pid.to_string())
                .status();
            panic!("the sidecar did not exit within {limit:?}");
        }
    }
}

#[test]
fn sigterm_ends_a_vm_whose_guests_ignore_it_after_stop_timeout() {
    let dir = scratch("term");
    let config = dir.join("vm.toml");
    std::fs::write(
        &config,
        format!(
            "root = {:?}\nstop_timeout = 1\n\
             [[guest]]\nname = \"sleeper\"\nwasm = \"/wasm/ignore_term.wasm\"\n\
             [[guest]]\nname = \"spinner\"\nwasm = \"/wasm/ignore_term.wasm\"\n\
             args = [\"ignore_term\", \"spin\"]\n",
            guest_dir()
        ),
    )
    .unwrap();
    let mut vm = Command::new(SIDECAR)
        .arg("run")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(vm.stdout.take().unwrap());
    let mut stderr = vm.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    // Both guests have ignored SIGTERM by the time they say so.
    for _ in 0..2 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
    }
    let sent = Instant::now();
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(vm.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_within(vm, Duration::from_secs(30));
    let took = sent.elapsed();
    let stderr = errors.join().unwrap();
    assert_eq!(status.code(), Some(128 + 9), "stderr:\n{stderr}");
    assert!(
        took >= Duration::from_millis(950) && took < Duration::from_secs(4),
        "the VM ended {took:?} after SIGTERM, with a stop_timeout of 1 s"
    );
    assert!(
        stderr.contains("guests still running 1.0 s after signal 15; killing them"),
        "stderr:\n{stderr}"
    );
    eprintln!("VM ended {took:?} after SIGTERM");
    let _ = std::fs::remove_dir_all(&dir);
}
