//! X.Org's Xvfb as a guest (`examples/xvfb.toml`'s setup), checked with
//! Debian's native X clients over the exposed socket: `xdpyinfo` sees the
//! screen, `xwininfo` the root window, `xdotool` moves the pointer through
//! XTEST, and `sidecar screenshot` agrees pixel for pixel with `xwd -root`.
//!
//! The VM root comes from `SIDECAR_TEST_XVFB_ROOT`, else
//! `examples/xvfb-root` when it holds `usr/bin/Xvfb`, else
//! `scripts/xvfb-root` is run once. HEAVY: on a fresh checkout that script
//! cross-builds the X libraries and the server (several minutes, see
//! `scripts/third-party/build`). The first start of a new Xvfb.wasm also
//! compiles it (a few seconds; cached afterwards).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{assert_png_matches_xwd, repo_root, run, text, SIDECAR};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

fn xvfb_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        if let Some(dir) = std::env::var_os("SIDECAR_TEST_XVFB_ROOT").filter(|d| !d.is_empty()) {
            return PathBuf::from(dir);
        }
        let root = repo_root();
        let example = root.join("examples/xvfb-root");
        if example.join("usr/bin/Xvfb").is_file() {
            return example;
        }
        // HEAVY: builds the X stack and Xvfb if the sysroot lacks them.
        let out = Command::new(root.join("scripts/xvfb-root"))
            .current_dir(&root)
            .stderr(Stdio::inherit())
            .output()
            .expect("failed to run scripts/xvfb-root");
        assert!(
            out.status.success(),
            "scripts/xvfb-root failed: {}",
            out.status
        );
        let stdout = text(&out.stdout);
        PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("xvfb-root printed nothing")
                .trim(),
        )
    })
}

/// A running `sidecar run` of the Xvfb VM; killed on drop, and its host
/// socket removed (a killed sidecar leaves it behind).
struct Vm {
    child: Child,
    dir: PathBuf,
    socket: PathBuf,
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Boots Xvfb (display :0 in the VM) exposed as host display `:n`, and
/// waits until an X client gets through.
fn start_xvfb(n: u32, extra_args: &[&str]) -> Vm {
    let dir = std::env::temp_dir().join(format!("sidecar-xvfb-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut args = vec!["Xvfb", ":0", "-screen", "0", "1024x768x24"];
    args.extend_from_slice(extra_args);
    let toml = format!(
        "root = {root:?}\nfuel = \"unlimited\"\n\n[[guest]]\nname = \"Xvfb\"\n\
         wasm = \"/usr/bin/Xvfb\"\nargs = {args:?}\nstderr = {{ file = {log:?} }}\n\n\
         [[expose]]\nguest = \"/tmp/.X11-unix/X0\"\nhost = \"/tmp/.X11-unix/X{n}\"\n",
        root = xvfb_root().canonicalize().unwrap().display().to_string(),
        log = dir.join("Xvfb.log").display().to_string(),
    );
    let vm_toml = dir.join("vm.toml");
    std::fs::write(&vm_toml, toml).unwrap();
    let child = Command::new(SIDECAR)
        .arg("run")
        .arg(&vm_toml)
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sidecar run");
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{n}"));
    let mut vm = Vm { child, dir, socket };
    let display = format!(":{n}");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let ok = Command::new("xdpyinfo")
            .args(["-display", &display])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("xdpyinfo (x11-utils) is installed by scripts/install-deps")
            .success();
        if ok {
            return vm;
        }
        if let Some(status) = vm.child.try_wait().unwrap() {
            let log = std::fs::read_to_string(vm.dir.join("Xvfb.log")).unwrap_or_default();
            panic!("the Xvfb VM exited ({status}) before serving clients:\n{log}");
        }
        assert!(
            Instant::now() < deadline,
            "Xvfb did not serve clients within 120 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn client(prog: &str, args: &[&str], display: &str) -> Output {
    let mut cmd = Command::new(prog);
    cmd.args(args).env("DISPLAY", display);
    let out = run(cmd, CLIENT_TIMEOUT);
    assert!(
        out.status.success(),
        "{prog} {args:?}: {}\n{}",
        out.status,
        text(&out.stderr)
    );
    out
}

#[test]
fn xvfb_guest_serves_native_clients() {
    let n = 250 + std::process::id() % 100;
    let display = format!(":{n}");
    // -retro: the root is a pattern, so the pixel comparison sees content.
    let _vm = start_xvfb(n, &["-retro"]);

    let info = text(&client("xdpyinfo", &[], &display).stdout);
    assert!(info.contains("screen #0"), "xdpyinfo:\n{info}");
    assert!(
        info.contains("dimensions:    1024x768"),
        "xdpyinfo:\n{info}"
    );
    assert!(
        info.contains("vendor string:    The X.Org Foundation"),
        "xdpyinfo:\n{info}"
    );
    for ext in ["RENDER", "XKEYBOARD", "XTEST", "RANDR", "XInputExtension"] {
        assert!(
            info.contains(&format!("    {ext}\n")),
            "no {ext} in xdpyinfo:\n{info}"
        );
    }

    let tree = text(&client("xwininfo", &["-root", "-tree"], &display).stdout);
    assert!(tree.contains("(the root window)"), "xwininfo:\n{tree}");
    assert!(tree.contains("0 children."), "xwininfo:\n{tree}");

    // One connection: the server resets (pointer back to the centre) when
    // its last client leaves, as any X server without -noreset.
    let loc = text(
        &client(
            "xdotool",
            &["mousemove", "--sync", "100", "100", "getmouselocation"],
            &display,
        )
        .stdout,
    );
    assert!(loc.starts_with("x:100 y:100 screen:0"), "xdotool: {loc}");

    let dir = std::env::temp_dir().join(format!("sidecar-xvfb-shot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let png_path = dir.join("root.png");
    let mut cmd = Command::new(SIDECAR);
    cmd.args(["screenshot", "--display", &display, "-o"])
        .arg(&png_path);
    let out = run(cmd, CLIENT_TIMEOUT);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let xwd = client("xwd", &["-root", "-silent", "-display", &display], &display);

    assert_png_matches_xwd(&png_path, &xwd.stdout, (1024, 768));
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM to the sidecar reaches Xvfb, which shuts down as it does
/// natively: its clients see the connection close, the VM exits 0, and
/// the exposed socket is gone.
#[test]
fn xvfb_shuts_down_cleanly_on_sigterm() {
    use std::io::Read;
    use std::os::unix::net::UnixStream;
    let n = 350 + std::process::id() % 100;
    let mut vm = start_xvfb(n, &[]);
    // A connected client, to see the server close it.
    let mut client = UnixStream::connect(&vm.socket).expect("connect to the exposed socket");
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(vm.child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = vm.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the Xvfb VM ignored SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = std::fs::read_to_string(vm.dir.join("Xvfb.log")).unwrap_or_default();
    assert!(status.success(), "VM exit {status}; Xvfb log:\n{log}");
    assert!(!log.contains("Fatal server error"), "Xvfb log:\n{log}");
    // The server closed its end: the client reads EOF, not a timeout.
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut rest = Vec::new();
    client
        .read_to_end(&mut rest)
        .expect("EOF from the closed server");
    assert!(!vm.socket.exists(), "the exposed socket outlived the VM");
}
