//! The desktop milestone: `examples/desktop.toml` (Xvfb, ctwm, xterm running
//! dash, xclock, all guests) booted as users boot it, driven from the host
//! with `sidecar input` and native `xdotool`, and checked on the framebuffer
//! with `sidecar wait`/`pixels`, `xwininfo` and `xdotool`. Each test boots
//! its own VM on a display of its own; one at a time (the machine has two
//! cores, and typing tests should not race other VMs for them).
//!
//! Keys typed into xterm go through X, xterm, the PTY's line discipline
//! and dash, which starts `xfill` (an X client guest) to draw a rectangle of
//! an exact colour and size; the tests wait for exactly that many pixels.
//! Every wait is for an event (DAMAGE, a mapped window), never a sleep.
//!
//! HEAVY on a fresh checkout: `scripts/desktop-root` cross-builds the X
//! stack, ctwm, xterm and xclock (several minutes).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::{repo_root, text, Kill, SIDECAR};

/// xterm's window, dash's prompt (a green `$`, from PS1) and the like.
const UP: &str = "120";
/// One command's drawing.
const DRAWN: &str = "60";

/// The staged VM root (`scripts/desktop-root`, built once per run).
fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| common::build_script("scripts/desktop-root"))
}

/// A booted desktop, stopped when dropped.
struct Desktop {
    vm: Kill,
    display: String,
    log: PathBuf,
    _serial: std::sync::MutexGuard<'static, ()>,
}

impl Desktop {
    /// Boots examples/desktop.toml on a free display; returns once ctwm
    /// has decorated xterm and xclock and dash has printed its prompt.
    fn boot() -> Desktop {
        static SERIAL: Mutex<()> = Mutex::new(());
        let root = root();
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let n = common::free_display(500);
        let dir = std::env::temp_dir().join(format!("sidecar-desktop-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let toml = std::fs::read_to_string(repo_root().join("examples/desktop.toml")).unwrap();
        let toml = toml
            .replace(
                "root = \"desktop-root\"",
                &format!("root = \"{}\"", root.display()),
            )
            .replace(
                "host = \"/tmp/.X11-unix/X99\"",
                &format!("host = \"/tmp/.X11-unix/X{n}\""),
            );
        let config = dir.join("desktop.toml");
        std::fs::write(&config, toml).unwrap();
        let log = dir.join("vm.log");
        let vm = Command::new(SIDECAR)
            .arg("run")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.join("vm.err")).unwrap())
            .spawn()
            .unwrap();
        let d = Desktop {
            vm: Kill(vm),
            display: format!(":{n}"),
            log: dir,
            _serial: serial,
        };
        // Up means decorated by ctwm (which may adopt them after they map:
        // the guests start together), and dash's prompt drawn.
        d.ok(&["wait", "--window", "xterm", "--managed", "--timeout", UP]);
        d.ok(&["wait", "--window", "xclock", "--managed", "--timeout", UP]);
        d.ok(&["wait", "--color", "#00cd00", "--timeout", UP]);
        d
    }

    /// `sidecar ARGS[0] --display D ARGS[1..]`.
    fn sidecar(&self, args: &[&str]) -> Output {
        Command::new(SIDECAR)
            .arg(args[0])
            .args(["--display", &self.display])
            .args(&args[1..])
            .output()
            .unwrap()
    }

    /// Like `sidecar`, failing the test (with the VM's log) unless it
    /// succeeds; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.sidecar(args);
        if !out.status.success() {
            self.fail(&format!(
                "sidecar {args:?}: {}: {}",
                out.status,
                text(&out.stderr)
            ));
        }
        text(&out.stdout).trim().to_owned()
    }

    fn fail(&self, what: &str) -> ! {
        let _ = self.sidecar(&[
            "screenshot",
            "-o",
            &self.log.join("screen.png").to_string_lossy(),
        ]);
        let log = |f: &str| std::fs::read_to_string(self.log.join(f)).unwrap_or_default();
        panic!(
            "{what}\n(screenshot in {})\n---- VM stderr ----\n{}\n---- VM stdout ----\n{}",
            self.log.display(),
            log("vm.err"),
            log("vm.log")
        );
    }

    /// Types `line` and Return into the focused window (xterm).
    fn type_line(&self, line: &str) {
        self.ok(&["input", "type", &format!("{line}\n")]);
    }

    /// Waits until exactly `count` pixels of `color` are on the screen.
    fn wait_pixels(&self, color: &str, count: u64) {
        self.ok(&[
            "wait",
            "--color",
            color,
            "--count",
            &count.to_string(),
            "--timeout",
            DRAWN,
        ]);
    }

    fn native(&self, program: &str, args: &[&str]) -> String {
        let out = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .unwrap_or_else(|e| panic!("{program} (scripts/install-deps installs it): {e}"));
        if !out.status.success() {
            self.fail(&format!(
                "{program} {args:?}: {}: {}",
                out.status,
                text(&out.stderr)
            ));
        }
        text(&out.stdout)
    }

    fn still_running(&mut self) {
        if let Some(status) = self.vm.0.try_wait().unwrap() {
            self.fail(&format!("the VM exited: {status}"));
        }
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        // SIGTERM, as a user stops it; Kill reaps it (and SIGKILLs it if
        // it is still there).
        let _ = rustix::process::kill_process(
            rustix::process::Pid::from_raw(self.vm.0.id() as i32).unwrap(),
            rustix::process::Signal::TERM,
        );
        let _ = self.vm.0.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.log);
        }
    }
}

/// A client window's line in `xwininfo -root -tree`: its indentation (depth
/// in the tree) and its absolute geometry (x, y, width, height).
fn tree_entry(tree: &str, class: &str) -> (usize, (u32, u32, u32, u32)) {
    let line = tree
        .lines()
        .find(|l| l.contains(class))
        .unwrap_or_else(|| panic!("no {class} window in\n{tree}"));
    let indent = line.len() - line.trim_start().len();
    // "...  484x316+0+0  +62+140": size from the first field, position from
    // the last (absolute).
    let fields: Vec<&str> = line.split_whitespace().collect();
    let size = fields[fields.len() - 2];
    let (w, rest) = size.split_once('x').unwrap();
    let h = rest.split(['+', '-']).next().unwrap();
    let abs = fields[fields.len() - 1].trim_start_matches('+');
    let (x, y) = abs.split_once('+').unwrap();
    let num = |s: &str| s.parse::<u32>().unwrap();
    (indent, (num(x), num(y), num(w), num(h)))
}

#[test]
fn ctwm_decorates_xterm_and_xclock() {
    let d = Desktop::boot();
    let tree = d.native("xwininfo", &["-root", "-tree"]);
    // Children of the root are the least indented window lines.
    let top = tree
        .lines()
        .filter(|l| l.trim_start().starts_with("0x"))
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap();
    for (class, what) in [
        ("(\"xterm\" \"XTerm\")", "xterm"),
        ("(\"xclock\" \"XClock\")", "xclock"),
    ] {
        let (indent, (x, y, w, _)) = tree_entry(&tree, class);
        assert!(
            indent > top,
            "{what} is not reparented (it is a child of the root):\n{tree}"
        );
        // The title bar: a band of TitleBackground above the client (the
        // focused window's also has ctwm's hatched highlight, so about
        // half of the band is that colour; natively 56 % for xterm).
        let band = format!("{w}x6+{x}+{}", y - 12);
        let n: u64 = d
            .ok(&["pixels", "--color", "#3465a4", "--region", &band])
            .parse()
            .unwrap();
        assert!(
            n >= u64::from(w) * 6 / 4,
            "{what}'s title bar: only {n} of the {band} pixels above it are #3465a4"
        );
    }
    // The clock face: xclock draws black tick marks and hands on white.
    let (_, (x, y, w, h)) = tree_entry(&tree, "(\"xclock\" \"XClock\")");
    let face = format!("{w}x{h}+{x}+{y}");
    let black: u64 = d
        .ok(&["pixels", "--color", "#000000", "--region", &face])
        .parse()
        .unwrap();
    let white: u64 = d
        .ok(&["pixels", "--color", "#ffffff", "--region", &face])
        .parse()
        .unwrap();
    assert!(
        black >= 150 && white >= u64::from(w * h) / 2,
        "xclock's face {face}: {black} black and {white} white pixels"
    );
}

#[test]
fn typing_reaches_dash_in_ten_boots_of_ten() {
    for boot in 1..=10 {
        let d = Desktop::boot();
        d.type_line("xfill 60x40+700+500 \"#ff00ff\" &");
        let out = d.sidecar(&[
            "wait",
            "--color",
            "#ff00ff",
            "--count",
            "2400",
            "--timeout",
            DRAWN,
        ]);
        if !out.status.success() {
            d.fail(&format!("boot {boot} of 10: {}", text(&out.stderr)));
        }
    }
}

#[test]
fn native_xdotool_types_into_xterm() {
    let d = Desktop::boot();
    d.native("xdotool", &["type", "xfill 50x20+700+600 \"#00ffff\" &"]);
    d.native("xdotool", &["key", "Return"]);
    d.wait_pixels("#00ffff", 1000);
}

#[test]
fn two_hundred_characters_typed_without_delay_arrive_intact() {
    let d = Desktop::boot();
    // 200 characters, Shift on half of them (no quote, no backslash).
    let unit = "aZ3!bY4@cX5#dW6$eV7%fU8^gT9&hS0*iR-(jQ=)kP_+lO[{mN]}";
    let payload: String = unit.chars().cycle().take(200).collect();
    assert_eq!(payload.len(), 200);
    // The rectangle is as wide as the characters dash received.
    d.type_line(&format!(
        "s='{payload}'; xfill $(printf %s \"$s\" | wc -c)x10+10+620 \"#ffff00\" &"
    ));
    d.wait_pixels("#ffff00", 2000);
}

#[test]
fn ctrl_c_interrupts_a_foreground_sleep() {
    let d = Desktop::boot();
    // `sleep 30` is the foreground job ctrl+c must stop, not a wait: the
    // blue square says the line is running.
    d.type_line("xfill 10x10+900+300 \"#0000ff\" & sleep 30");
    d.wait_pixels("#0000ff", 100);
    let start = Instant::now();
    d.ok(&["input", "key", "ctrl+c"]);
    d.type_line("xfill 20x20+900+330 \"#00ff00\" &");
    d.wait_pixels("#00ff00", 400);
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "the next command ran only after {:?}: ctrl+c did not stop sleep 30",
        start.elapsed()
    );
}

#[test]
fn resizing_xterm_reaches_dash() {
    let d = Desktop::boot();
    let id = d.ok(&["wait", "--window", "xterm"]);
    let id = u32::from_str_radix(id.trim_start_matches("0x"), 16).unwrap();
    // xterm's client window is 484x316 at 80x24 (6x13 cells, 2-pixel
    // inner border); at 100x30 it is 604x394.
    d.native(
        "xdotool",
        &["windowsize", "--usehints", &id.to_string(), "100", "30"],
    );
    let tree = d.native("xwininfo", &["-root", "-tree"]);
    let (_, (x, y, _, _)) = tree_entry(&tree, "(\"xterm\" \"XTerm\")");
    // Resized (and redrawn) once its whole new area is xterm's white.
    d.ok(&[
        "wait",
        "--color",
        "#ffffff",
        "--region",
        &format!("600x8+{x}+{}", y + 380),
        "--count",
        "4800",
        "--timeout",
        DRAWN,
    ]);
    d.type_line("[ \"$(stty size)\" = \"30 100\" ] && xfill 30x30+900+400 \"#ff8000\" &");
    d.wait_pixels("#ff8000", 900);
}

#[test]
fn exit_closes_xterm_and_the_rest_keeps_running() {
    let mut d = Desktop::boot();
    d.type_line("exit");
    d.ok(&["wait", "--window", "xterm", "--gone", "--timeout", DRAWN]);
    d.still_running();
    // ctwm and xclock are still there: xclock is mapped and decorated.
    d.ok(&["wait", "--window", "xclock", "--timeout", "1"]);
    let tree = d.native("xwininfo", &["-root", "-tree"]);
    assert!(!tree.contains("(\"xterm\" \"XTerm\")"), "{tree}");
    let (_, (x, y, w, _)) = tree_entry(&tree, "(\"xclock\" \"XClock\")");
    let n: u64 = d
        .ok(&[
            "pixels",
            "--color",
            "#3465a4",
            "--region",
            &format!("{w}x6+{x}+{}", y - 12),
        ])
        .parse()
        .unwrap();
    assert!(n > 0, "xclock lost its title bar");
    d.still_running();
}
