//! End-to-end tests with the C guest programs of `guests/tests`.
//!
//! * Differential tests run each program natively and under `sidecar exec`
//!   from the same directory with the same arguments, and require identical
//!   stdout and exit status.
//! * `sidecar run` tests write a `vm.toml` (fuel budgets, exit statuses,
//!   env/args, stdio) and check the VM's behaviour.
//! * Configuration and module errors must produce exactly one line on stderr
//!   naming the problem, a non-zero exit and no panic.
//!
//! The guest binaries come from `scripts/build-guests`: its output directory
//! (holding `wasm/NAME.wasm` and `native/NAME`) is taken from the
//! `SIDECAR_TEST_GUESTS` environment variable, or the script is run once.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{
    differential, differential_ok, guest_dir, repo_root, run, run_build_guests, text, SELF,
    SIDECAR, TIMEOUT,
};

#[test]
fn hello() {
    let out = differential("hello", &[]);
    assert_eq!(out, "hello from wasm\n");
}

#[test]
fn args_env() {
    let out = differential("args_env", &["one", "two words", "", "ünïcödé", "--flag=x"]);
    assert!(out.starts_with("argc: 6\nargv[0]: args_env\n"), "{out}");
    assert!(out.ends_with("SIDECAR_TEST_VAR: (unset)\n"), "{out}");
}

#[test]
fn fs_semantics() {
    differential_ok("fs_semantics", &[]);
}

#[test]
fn fd_ops() {
    differential_ok("fd_ops", &[]);
}

#[test]
fn pipe_spawn() {
    differential_ok("pipe_spawn", &[SELF]);
}

#[test]
fn spawn_actions() {
    differential_ok("spawn_actions", &[SELF]);
}

/// execve in place: pid, parent, fds without FD_CLOEXEC, ignored and
/// blocked and pending signals, timers and cwd survive, caught signals
/// revert; failures leave the caller running; `#!` scripts; the exec family.
#[test]
fn exec() {
    differential_ok("exec", &[SELF]);
}

/// fork as Linux does it: statuses, copied memory, pipes both ways, a
/// shared offset, signal state, grandchildren, 50 forks, SIGKILL, exec after
/// fork and vfork (see guests/tests/fork.c).
#[test]
fn fork() {
    differential_ok("fork", &[SELF]);
}

/// Handlers, masks, pending sets, SIGCHLD, EINTR and SA_RESTART, sigsuspend.
#[test]
fn signals() {
    differential_ok("signals", &[SELF]);
}

/// setitimer/getitimer/alarm: SIGALRM on time, periodic reloads, EINTR,
/// and the default action.
#[test]
fn itimer() {
    differential_ok("itimer", &[SELF]);
}

/// A crashing child's output reaches its parent, then EOF, then a death by
/// the signal Linux would give (abort -> SIGABRT, wild store -> SIGSEGV).
#[test]
fn crashing_child_is_reaped_and_peers_see_eof() {
    let out = differential("crash", &[SELF]);
    assert!(out.contains("abort: signaled 1, signal SIGABRT"), "{out}");
    assert!(out.contains("segv: signaled 1, signal SIGSEGV"), "{out}");
}

#[test]
fn clocks() {
    let out = differential("clocks", &[]);
    assert!(out.contains("realtime advanced: yes\n"), "{out}");
    assert!(out.contains("monotonic advanced: yes\n"), "{out}");
}

#[test]
fn exit_code() {
    for code in ["0", "1", "3", "42", "255"] {
        differential("exit_code", &[code]);
    }
}

#[test]
fn cpu_bench_checksum() {
    let out = differential("cpu_bench", &["4"]);
    assert!(out.contains("checksum"), "{out}");
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("sidecar-test-{}-{tag}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, contents).expect("write scratch file");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A TOML basic string.
fn toml_str(s: impl AsRef<OsStr>) -> String {
    let s = s.as_ref().to_str().expect("UTF-8 path");
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `root = <guest dir>` so that guests are at /wasm/NAME.wasm.
fn guest_root_line() -> String {
    format!("root = {}\n", toml_str(guest_dir()))
}

fn sidecar_run(config: &Path) -> Output {
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("run").arg(config);
    run(cmd, TIMEOUT)
}

#[test]
fn fuel_budget_kills_only_the_spinning_guest() {
    let scratch = Scratch::new("budget");
    let config = scratch.write(
        "vm.toml",
        format!(
            "{}\
             [[guest]]\n\
             name = \"spinner\"\n\
             wasm = \"/wasm/busy.wasm\"\n\
             args = [\"busy\"]\n\
             fuel = 100_000_000\n\
             \n\
             [[guest]]\n\
             name = \"greeter\"\n\
             wasm = \"/wasm/hello.wasm\"\n\
             args = [\"hello\"]\n",
            guest_root_line()
        ),
    );
    let out = sidecar_run(&config);
    let stderr = text(&out.stderr);
    assert!(
        text(&out.stdout).contains("hello from wasm\n"),
        "sibling output missing; stdout: {:?}, stderr: {stderr}",
        text(&out.stdout)
    );
    let report = stderr
        .lines()
        .find(|l| l.contains("fuel budget exhausted"))
        .unwrap_or_else(|| panic!("no fuel report on stderr:\n{stderr}"));
    assert!(
        report.contains("spinner"),
        "report does not name the guest: {report}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(128 + 24), "stderr:\n{stderr}");
}

#[test]
fn vm_exit_status_is_first_nonzero_in_config_order() {
    let scratch = Scratch::new("status");
    let mut config = guest_root_line();
    for (name, code) in [("a", "0"), ("b", "3"), ("c", "5"), ("d", "0")] {
        config.push_str(&format!(
            "[[guest]]\nname = \"{name}\"\nwasm = \"/wasm/exit_code.wasm\"\nargs = [\"exit_code\", \"{code}\"]\n"
        ));
    }
    let out = sidecar_run(&scratch.write("vm.toml", config));
    assert_eq!(out.status.code(), Some(3), "stderr:\n{}", text(&out.stderr));

    let all_zero = format!(
        "{}[[guest]]\nname = \"a\"\nwasm = \"/wasm/exit_code.wasm\"\nargs = [\"exit_code\", \"0\"]\n",
        guest_root_line()
    );
    let out = sidecar_run(&scratch.write("zero.toml", all_zero));
    assert_eq!(out.status.code(), Some(0), "stderr:\n{}", text(&out.stderr));
}

#[test]
fn run_passes_args_and_env() {
    let scratch = Scratch::new("argsenv");
    let config = scratch.write(
        "vm.toml",
        format!(
            "{}[[guest]]\n\
             name = \"args\"\n\
             wasm = \"/wasm/args_env.wasm\"\n\
             args = [\"args_env\", \"x y\", \"\"]\n\
             env = {{ SIDECAR_TEST_VAR = \"from toml\" }}\n",
            guest_root_line()
        ),
    );
    let out = sidecar_run(&config);
    assert_eq!(
        text(&out.stdout),
        "argc: 3\nargv[0]: args_env\nargv[1]: [x y]\nargv[2]: []\nSIDECAR_TEST_VAR: from toml\n",
        "stderr:\n{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn run_stdout_null() {
    let scratch = Scratch::new("null");
    let config = scratch.write(
        "vm.toml",
        format!(
            "{}[[guest]]\n\
             name = \"quiet\"\n\
             wasm = \"/wasm/hello.wasm\"\n\
             stdout = \"null\"\n\
             [[guest]]\n\
             name = \"loud\"\n\
             wasm = \"/wasm/hello.wasm\"\n\
             stdout = \"inherit\"\n",
            guest_root_line()
        ),
    );
    let out = sidecar_run(&config);
    assert_eq!(
        text(&out.stdout),
        "hello from wasm\n",
        "stderr:\n{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn example_hello_toml() {
    let root = repo_root();
    if !root.join("examples/hello.wasm").exists() {
        run_build_guests();
    }
    let mut cmd = Command::new(SIDECAR);
    cmd.args(["run", "examples/hello.toml"]).current_dir(&root);
    let out = run(cmd, TIMEOUT);
    assert_eq!(
        text(&out.stdout),
        "hello from wasm\n",
        "stderr:\n{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

/// `sidecar run` on `config` must fail with exactly one stderr line that
/// contains `needle` and does not mention a panic.
fn assert_config_error(scratch: &Scratch, config: &str, needle: &str) {
    let path = scratch.write("vm.toml", config);
    let out = sidecar_run(&path);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "expected failure for config:\n{config}\nstderr:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected exactly one stderr line, got:\n{stderr}"
    );
    assert!(
        lines[0].contains(needle),
        "error line does not mention {needle:?}: {}",
        lines[0]
    );
}

#[test]
fn config_syntax_error() {
    let scratch = Scratch::new("syntax");
    assert_config_error(
        &scratch,
        "root = \".\"\n[[guest]\nname = \"x\"\nwasm = \"/x.wasm\"\n",
        "vm.toml",
    );
}

#[test]
fn config_wrong_type() {
    let scratch = Scratch::new("wrongtype");
    let config = format!(
        "{}[[guest]]\nname = \"h\"\nwasm = \"/wasm/hello.wasm\"\nfuel = \"lots\"\n",
        guest_root_line()
    );
    assert_config_error(&scratch, &config, "fuel");
}

#[test]
fn config_unknown_field() {
    let scratch = Scratch::new("unknown");
    let config = format!(
        "{}[[guest]]\nname = \"h\"\nwasm = \"/wasm/hello.wasm\"\ncolour = \"blue\"\n",
        guest_root_line()
    );
    assert_config_error(&scratch, &config, "colour");
}

#[test]
fn config_missing_wasm() {
    let scratch = Scratch::new("missing");
    let config = format!(
        "{}[[guest]]\nname = \"h\"\nwasm = \"/wasm/does-not-exist.wasm\"\n",
        guest_root_line()
    );
    assert_config_error(&scratch, &config, "does-not-exist.wasm");
}

#[test]
fn config_invalid_wasm() {
    let scratch = Scratch::new("invalid");
    scratch.write("not-a-module.wasm", "this is plain text, not wasm\n");
    let config = format!(
        "root = {}\n[[guest]]\nname = \"h\"\nwasm = \"/not-a-module.wasm\"\n",
        toml_str(scratch.path())
    );
    assert_config_error(&scratch, &config, "not-a-module.wasm");
}

/// A valid module that exports `memory` and `_start` but imports `env.nope`.
fn module_with_unknown_import() -> Vec<u8> {
    let mut m = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    // Type section: one type, () -> ().
    m.extend([0x01, 0x04, 0x01, 0x60, 0x00, 0x00]);
    // Import section: "env" "nope", function of type 0.
    m.extend([0x02, 0x0c, 0x01, 0x03]);
    m.extend(b"env");
    m.push(0x04);
    m.extend(b"nope");
    m.extend([0x00, 0x00]);
    // Function section: one function of type 0 (index 1, after the import).
    m.extend([0x03, 0x02, 0x01, 0x00]);
    // Memory section: one memory, min 1 page.
    m.extend([0x05, 0x03, 0x01, 0x00, 0x01]);
    // Export section: "memory" (memory 0), "_start" (function 1).
    m.extend([0x07, 0x13, 0x02, 0x06]);
    m.extend(b"memory");
    m.extend([0x02, 0x00, 0x06]);
    m.extend(b"_start");
    m.extend([0x00, 0x01]);
    // Code section: one empty body.
    m.extend([0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
    m
}

#[test]
fn config_unknown_import() {
    let scratch = Scratch::new("import");
    scratch.write("unknown-import.wasm", module_with_unknown_import());
    let config = format!(
        "root = {}\n[[guest]]\nname = \"h\"\nwasm = \"/unknown-import.wasm\"\n",
        toml_str(scratch.path())
    );
    assert_config_error(&scratch, &config, "nope");
}
