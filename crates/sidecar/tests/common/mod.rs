//! Helpers shared by the integration tests that run the C guest programs of
//! `guests/tests` (`guests.rs`, `net.rs`): building the guests, running a
//! command with a timeout, and native-versus-wasm differential runs.
//!
//! The guest binaries come from `scripts/build-guests`: its output directory
//! (holding `wasm/NAME.wasm` and `native/NAME`) is taken from the
//! `SIDECAR_TEST_GUESTS` environment variable, or the script is run once.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

pub const SIDECAR: &str = env!("CARGO_BIN_EXE_sidecar");
pub const TIMEOUT: Duration = Duration::from_secs(180);

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

pub fn run_build_guests() -> PathBuf {
    build_script("scripts/build-guests")
}

/// Runs a build script of the repository (stderr shown) and returns the
/// path it prints last: where it put what it built.
pub fn build_script(script: &str) -> PathBuf {
    let root = repo_root();
    let out = Command::new(root.join(script))
        .current_dir(&root)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("failed to run {script}: {e}"));
    assert!(out.status.success(), "{script} failed: {}", out.status);
    let stdout = String::from_utf8(out.stdout).expect("build script output is UTF-8");
    let last = stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("{script} printed nothing"));
    PathBuf::from(last.trim())
}

/// A display number in `first..first + 100` that no X server (or other
/// test run) holds: neither its socket nor its lock file exists.
pub fn free_display(first: u32) -> u32 {
    (0..100)
        .map(|i| first + (std::process::id() + i) % 100)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .unwrap_or_else(|| panic!("no free display in :{first}..:{}", first + 99))
}

/// The directory holding `wasm/` and `native/` guest builds.
pub fn guest_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match std::env::var_os("SIDECAR_TEST_GUESTS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => run_build_guests(),
    })
}

/// Runs `cmd` with stdin from /dev/null, capturing stdout and stderr; kills
/// it and fails the test if it takes longer than `timeout`.
pub fn run(mut cmd: Command, timeout: Duration) -> Output {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let what = format!("{cmd:?}");
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what}: {e}"));
    let mut stdout = child.stdout.take().expect("stdout pipe");
    let mut stderr = child.stderr.take().expect("stderr pipe");
    let out_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let err_reader = thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stderr.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("timed out after {timeout:?}: {what}");
        }
        thread::sleep(Duration::from_millis(10));
    };
    Output {
        status,
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Placeholder in argument lists, replaced by the program's own path
/// (relative to the guest dir) for programs that spawn themselves.
pub const SELF: &str = "{self}";

pub fn native(name: &str, args: &[&str]) -> Output {
    let rel = format!("native/{name}");
    let mut cmd = Command::new(guest_dir().join(&rel));
    cmd.args(
        args.iter()
            .map(|a| if *a == SELF { rel.as_str() } else { a }),
    )
    .current_dir(guest_dir())
    .env_remove("SIDECAR_TEST_VAR");
    run(cmd, TIMEOUT)
}

pub fn exec_wasm(name: &str, args: &[&str]) -> Output {
    // Paths inside the VM are relative to the host cwd, which is its "/".
    let rel = format!("wasm/{name}.wasm");
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("exec")
        .arg(&rel)
        .args(
            args.iter()
                .map(|a| if *a == SELF { rel.as_str() } else { a }),
        )
        .current_dir(guest_dir())
        .env_remove("SIDECAR_TEST_VAR");
    run(cmd, TIMEOUT)
}

/// The lines where `native` and `wasm` differ (at most 20), for messages.
pub fn line_diff(native: &str, wasm: &str) -> String {
    let (n, w): (Vec<&str>, Vec<&str>) = (native.lines().collect(), wasm.lines().collect());
    let mut out = String::new();
    let mut shown = 0;
    for i in 0..n.len().max(w.len()) {
        let (a, b) = (n.get(i), w.get(i));
        if a != b && shown < 20 {
            shown += 1;
            out.push_str(&format!(
                "  line {}:\n    native: {}\n    wasm:   {}\n",
                i + 1,
                a.map_or("<none>".to_string(), |l| format!("{l:?}")),
                b.map_or("<none>".to_string(), |l| format!("{l:?}")),
            ));
        }
    }
    if native.ends_with('\n') != wasm.ends_with('\n') {
        out.push_str("  (trailing newline differs)\n");
    }
    out
}

/// Runs `name` natively and under `sidecar exec`; both must agree on stdout
/// and exit status. Returns the (common) stdout.
pub fn differential(name: &str, args: &[&str]) -> String {
    let n = native(name, args);
    let w = exec_wasm(name, args);
    let (n_out, w_out) = (text(&n.stdout), text(&w.stdout));
    assert!(
        n_out == w_out,
        "{name} {args:?}: stdout differs between native and wasm:\n{}\nwasm stderr:\n{}",
        line_diff(&n_out, &w_out),
        text(&w.stderr)
    );
    assert_eq!(
        n.status.code(),
        w.status.code(),
        "{name} {args:?}: exit status differs (native {}, wasm {})\nwasm stderr:\n{}",
        n.status,
        w.status,
        text(&w.stderr)
    );
    n_out
}

/// Differential run of a self-checking program: it must also succeed.
pub fn differential_ok(name: &str, args: &[&str]) {
    let out = differential(name, args);
    assert!(
        out.ends_with("ok\n"),
        "{name} reported failures natively:\n{out}"
    );
}

/// A tmux server of its own running one session, `t`, at 80x24: the way a
/// test types into a terminal program and reads its screen.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in a new session.
    pub fn start(tag: &str, command: &str) -> Tmux {
        let t = Tmux {
            socket: format!("sidecar-test-{}-{tag}", std::process::id()),
        };
        t.run(&[
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            "80",
            "-y",
            "24",
            command,
        ]);
        t
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed by scripts/install-deps");
        text(&out.stdout)
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits until the screen shows `what` at least `count` times.
    pub fn wait_for(&self, what: &str, count: usize, within: Duration) -> String {
        let deadline = std::time::Instant::now() + within;
        loop {
            let s = self.screen();
            if s.matches(what).count() >= count {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "never saw {what:?} x{count}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
    }
}

/// Decodes an `xwd` dump of a 32-bit TrueColor window into RGB bytes.
pub fn xwd_rgb(d: &[u8]) -> (u32, u32, Vec<u8>) {
    let f = |i: usize| u32::from_be_bytes(d[i * 4..i * 4 + 4].try_into().unwrap());
    let (hsize, w, h, byte_order, bpp, bpl, ncolors) =
        (f(0), f(4), f(5), f(7), f(11), f(12), f(19));
    let (rm, gm, bm) = (f(14), f(15), f(16));
    assert_eq!(bpp, 32, "test expects a 32-bit framebuffer");
    let data = &d[(hsize + ncolors * 12) as usize..];
    let mut rgb = Vec::with_capacity((w * h * 3) as usize);
    for y in 0..h as usize {
        for x in 0..w as usize {
            let b: [u8; 4] = data[y * bpl as usize + x * 4..][..4].try_into().unwrap();
            let px = if byte_order == 1 {
                u32::from_be_bytes(b)
            } else {
                u32::from_le_bytes(b)
            };
            let c = |m: u32| ((px & m) >> m.trailing_zeros()) as u8;
            rgb.extend_from_slice(&[c(rm), c(gm), c(bm)]);
        }
    }
    (w, h, rgb)
}

/// Asserts that the PNG at `png` (from `sidecar screenshot`) is `size` and
/// equals the `xwd` dump pixel for pixel, and that the screen is not one
/// flat colour (so the comparison saw real content).
pub fn assert_png_matches_xwd(png: &Path, xwd: &[u8], size: (u32, u32)) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let (w, h, rgb) = xwd_rgb(xwd);
    assert_eq!((info.width, info.height), (w, h));
    assert_eq!((w, h), size);
    assert_eq!(buf.len(), rgb.len());
    let differing = buf
        .chunks(3)
        .zip(rgb.chunks(3))
        .filter(|(a, b)| a != b)
        .count();
    assert_eq!(differing, 0, "pixels that differ from xwd");
    assert!(
        buf.chunks(3).any(|p| p != &buf[..3]),
        "the screen is one flat colour"
    );
}

/// A child process killed (and reaped) when dropped.
pub struct Kill(pub std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Debian's native Xvfb on a display it picks, returned once it accepts
/// clients (it says so through -displayfd); the display as in DISPLAY.
pub fn native_xvfb() -> (Kill, String) {
    use std::io::{BufRead, BufReader};
    let mut server = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "320x200x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb is installed by scripts/install-deps");
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Kill(server), format!(":{}", line.trim()))
}
