//! Smaller defects of issue #9: mount points, load errors that looked like
//! crashes, errors that did not name their field, the vm.toml size, files
//! left on the host, and the iovec count limit.
//!
//! Every refused configuration must give exit status 1 and exactly one
//! line on stderr naming the problem.

mod common;

use std::fs;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{differential_ok, guest_dir, run, text, SIDECAR, TIMEOUT};

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "sidecar-hardening-{}-{tag}-{n}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, contents).unwrap();
        path
    }

    /// Writes `vm.toml` (root = this directory, then `rest`) and runs it.
    fn run_vm(&self, rest: &str) -> Output {
        let config = self.write("vm.toml", format!("root = {:?}\n{rest}", self.0));
        sidecar_run(&config)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn sidecar_run(config: &Path) -> Output {
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("run").arg(config);
    run(cmd, TIMEOUT)
}

/// The one stderr line of a refused start (exit status 1, no panic).
fn refused(out: &Output) -> String {
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "expected one stderr line:\n{stderr}");
    lines[0].to_owned()
}

fn assert_mentions(line: &str, needles: &[&str]) {
    for n in needles {
        assert!(line.contains(n), "{n:?} missing from: {line}");
    }
}

/// A guest running the `hardening` test program (the guest dir is mounted
/// at /g).
fn hardening_guest(args: &[&str]) -> String {
    let mut argv = vec!["\"hardening\"".to_owned()];
    argv.extend(args.iter().map(|a| format!("{a:?}")));
    format!(
        "[[mounts]]\nhost = {:?}\nguest = \"/g\"\n\
         [[guest]]\nname = \"probe\"\nwasm = \"/g/wasm/hardening.wasm\"\nargs = [{}]\n",
        guest_dir(),
        argv.join(", ")
    )
}

/// A module that runs and exits 0.
const OK_WAT: &str = "(module (memory (export \"memory\") 1) (func (export \"_start\")))";

/// Modules that cannot start, and what the error must say.
const BAD_MODULES: &[(&str, &str, &[&str])] = &[
    (
        "big.wat",
        "(module (memory (export \"memory\") 512) (func (export \"_start\")))",
        &["33554432 bytes of memory", "limit of 16777216"],
    ),
    (
        "global.wat",
        "(module (memory (export \"memory\") 1) (global (export \"_start\") i32 (i32.const 0)))",
        &["`_start` as a global"],
    ),
    (
        "param.wat",
        "(module (memory (export \"memory\") 1) (func (export \"_start\") (param i32)))",
        &["`_start` as a function (i32) -> ()"],
    ),
    (
        "result.wat",
        "(module (memory (export \"memory\") 1) (func (export \"_start\") (result i32) i32.const 7))",
        &["`_start` as a function () -> (i32)"],
    ),
    (
        "memfunc.wat",
        "(module (memory 1) (func (export \"memory\")) (func (export \"_start\")))",
        &["`memory` as a function"],
    ),
];

#[test]
fn more_than_iov_max_iovecs_is_einval_as_on_linux() {
    differential_ok("hardening", &["iov"]);
}

#[test]
fn mount_points_naming_the_root_are_refused() {
    let s = Scratch::new("mount-root");
    for point in ["/..", "/.", "/x/..", "//"] {
        let out = s.run_vm(&format!(
            "[[mounts]]\nhost = \".\"\nguest = {point:?}\n\
             [[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n"
        ));
        let line = refused(&out);
        assert_mentions(&line, &["field `mounts[0].guest`", "is / itself"]);
    }
}

#[test]
fn a_second_mount_at_the_same_point_is_refused() {
    let s = Scratch::new("mount-twice");
    fs::create_dir(s.path().join("d")).unwrap();
    let out = s.run_vm(
        "[[mounts]]\nhost = \"d\"\nguest = \"/data\"\n\
         [[mounts]]\nhost = \"d\"\nguest = \"/x/../data/.\"\n\
         [[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n",
    );
    let line = refused(&out);
    assert_mentions(
        &line,
        &[
            "field `mounts[1].guest`",
            "/data is already mounted by mounts[0]",
        ],
    );
}

#[test]
fn a_mount_at_dev_is_refused() {
    let s = Scratch::new("mount-dev");
    let out = s.run_vm(
        "[[mounts]]\nhost = \".\"\nguest = \"/dev/\"\n\
         [[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n",
    );
    let line = refused(&out);
    assert_mentions(&line, &["field `mounts[0].guest`", "/dev", "device"]);
}

#[test]
fn a_mount_at_tmp_replaces_the_fresh_tmp() {
    let s = Scratch::new("mount-tmp");
    fs::create_dir(s.path().join("shared")).unwrap();
    s.write("shared/marker.txt", "from the host\n");
    let out = s.run_vm(&format!(
        "[[mounts]]\nhost = \"shared\"\nguest = \"/tmp/\"\nmode = \"rw\"\n{}",
        hardening_guest(&["cat", "/tmp/marker.txt"])
    ));
    assert_eq!(
        text(&out.stdout),
        "from the host\n",
        "stderr:\n{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn unloadable_modules_are_load_errors_not_crashes() {
    let s = Scratch::new("load");
    s.write("ok.wat", OK_WAT);
    let out = s.run_vm("[[guest]]\nname = \"fine\"\nwasm = \"ok.wat\"\nmemory = 16777216\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for (file, wat, says) in BAD_MODULES {
        s.write(file, wat);
        let out = s.run_vm(&format!(
            "[[guest]]\nname = \"bad-{file}\"\nwasm = \"/{file}\"\nmemory = 16777216\n"
        ));
        let line = refused(&out);
        assert_mentions(&line, &[format!("guest bad-{file}:").as_str(), file]);
        assert_mentions(&line, says);
    }
}

#[test]
fn spawning_an_unloadable_module_is_enoexec() {
    let s = Scratch::new("spawn");
    s.write("ok.wat", OK_WAT);
    let mut paths = vec!["/ok.wat".to_owned()];
    for (file, wat, _) in BAD_MODULES {
        s.write(file, wat);
        paths.push(format!("/{file}"));
    }
    let mut args = vec!["spawn"];
    args.extend(paths.iter().map(String::as_str));
    let out = s.run_vm(&format!("memory = 16777216\n{}", hardening_guest(&args)));
    let mut want = String::from("/ok.wat: exit 0\n");
    for (file, _, _) in BAD_MODULES {
        want.push_str(&format!("/{file}: ENOEXEC\n"));
    }
    assert_eq!(text(&out.stdout), want, "stderr:\n{}", text(&out.stderr));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_missing_cwd_names_the_field() {
    let s = Scratch::new("cwd");
    s.write("ok.wat", OK_WAT);
    let out = s.run_vm(
        "[[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n\
         [[guest]]\nname = \"b\"\nwasm = \"ok.wat\"\ncwd = \"/nope\"\n",
    );
    let line = refused(&out);
    assert_mentions(
        &line,
        &["field `guest[1].cwd`: /nope: no such file or directory"],
    );
}

#[test]
fn missing_stdio_files_name_the_field() {
    let s = Scratch::new("stdio");
    s.write("ok.wat", OK_WAT);
    let cases = [
        (
            "stdin = { file = \"missing.txt\" }",
            "guest[0].stdin",
            "missing.txt",
        ),
        (
            "stdout = { file = \"nodir/out.txt\" }",
            "guest[0].stdout",
            "nodir/out.txt",
        ),
        (
            "stderr = { file = \"ok.wat/err.txt\" }",
            "guest[0].stderr",
            "not a directory",
        ),
    ];
    for (setting, field, detail) in cases {
        let out = s.run_vm(&format!(
            "[[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n{setting}\n"
        ));
        let line = refused(&out);
        assert_mentions(&line, &[format!("field `{field}`").as_str(), detail]);
    }
    assert!(!s.path().join("nodir").exists());
}

#[test]
fn the_config_file_size_is_capped() {
    let out = sidecar_run(Path::new("/dev/zero"));
    let line = refused(&out);
    assert_mentions(&line, &["/dev/zero", "larger than 1048576 bytes"]);

    let s = Scratch::new("size");
    s.write("ok.wat", OK_WAT);
    let vm = format!(
        "root = {:?}\n[[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n",
        s.path()
    );
    // Padded to the limit with a comment: still read.
    let pad = 1024 * 1024 - vm.len() - 2;
    let fits = s.write("fits.toml", format!("{vm}#{}\n", "x".repeat(pad)));
    assert_eq!(fs::metadata(&fits).unwrap().len(), 1024 * 1024);
    let out = sidecar_run(&fits);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let over = s.write("over.toml", format!("{vm}#{}\n", "x".repeat(pad + 1)));
    let line = refused(&sidecar_run(&over));
    assert_mentions(&line, &["over.toml", "larger than"]);
}

#[test]
fn connect_out_removes_its_socket_and_the_folders_it_made() {
    let s = Scratch::new("connect-out");
    s.write("ok.wat", OK_WAT);
    fs::create_dir(s.path().join("keep")).unwrap();
    s.write("keep/other", "stays");
    let host_sock = s.path().join("host.sock");
    let _listener = UnixListener::bind(&host_sock).unwrap();
    let out = s.run_vm(&format!(
        "[[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n\
         [[connect-out]]\nguest = \"/run/sub/host.sock\"\nhost = {host_sock:?}\n\
         [[connect-out]]\nguest = \"/keep/host.sock\"\nhost = {host_sock:?}\n"
    ));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !s.path().join("run").exists(),
        "folders made for connect-out stayed"
    );
    assert!(
        !s.path().join("keep/host.sock").exists(),
        "the socket stayed"
    );
    assert_eq!(
        fs::read_to_string(s.path().join("keep/other")).unwrap(),
        "stays"
    );
    assert!(host_sock.exists(), "the host's own socket was removed");
}

#[test]
fn expose_removes_the_folders_it_made() {
    let s = Scratch::new("expose");
    s.write("ok.wat", OK_WAT);
    let host_sock = s.path().join("made/deeper/x.sock");
    let out = s.run_vm(&format!(
        "[[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n\
         [[expose]]\nguest = \"/tmp/x.sock\"\nhost = {host_sock:?}\n"
    ));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !s.path().join("made").exists(),
        "folders made for expose stayed"
    );
}

/// A start that fails after the kernel thread began (here: `expose` onto a
/// regular file) still removes what `connect-out` made.
#[test]
fn a_failed_start_leaves_nothing_behind() {
    let s = Scratch::new("failed");
    s.write("ok.wat", OK_WAT);
    let taken = s.write("taken", "a regular file");
    let out = s.run_vm(&format!(
        "[[guest]]\nname = \"a\"\nwasm = \"ok.wat\"\n\
         [[connect-out]]\nguest = \"/run/host.sock\"\nhost = \"/nonexistent.sock\"\n\
         [[expose]]\nguest = \"/tmp/x.sock\"\nhost = {taken:?}\n"
    ));
    let line = refused(&out);
    assert_mentions(&line, &["expose", "not a socket"]);
    assert!(
        !s.path().join("run").exists(),
        "connect-out left files behind"
    );
    assert_eq!(fs::read_to_string(&taken).unwrap(), "a regular file");
}
