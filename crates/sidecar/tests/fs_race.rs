//! The VM root under attack from the host side: a native thread swaps a
//! directory of the root with a symlink that leads outside it, while a guest
//! keeps appending, reading, creating, unlinking and making directories
//! through that name. Nothing outside the root may change or be read, and
//! the same operations must still work on the real directory afterwards.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;

use common::{guest_dir, run, text, SIDECAR, TIMEOUT};

/// Iterations of the guest loop; the unfixed VFS escaped hundreds of times
/// in 30,000.
const ITERATIONS: &str = "30000";

fn counts(out: &str) -> std::collections::HashMap<String, u64> {
    out.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.trim().parse().expect("count")))
        .collect()
}

/// Every file below `dir` with its contents (directories as "<dir>").
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let body = if e.file_type().unwrap().is_dir() {
            "<dir>".to_string()
        } else {
            fs::read_to_string(e.path()).unwrap()
        };
        out.push((name, body));
    }
    out.sort();
    out
}

fn exec_in(root: &Path, args: &[&str]) -> String {
    let wasm = guest_dir().join("wasm/symlink_race.wasm");
    let mut cmd = Command::new(SIDECAR);
    cmd.arg("exec").arg(&wasm).args(args).current_dir(root);
    let out = run(cmd, TIMEOUT);
    assert!(
        out.status.success(),
        "symlink_race failed: {}\n{}",
        out.status,
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn symlink_swap_race_cannot_escape_the_root() {
    let base = tempfile_dir("race");
    let root = base.join("root");
    let outside = base.join("outside");
    fs::create_dir_all(root.join("dirA")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("victim.txt"), "ORIGINAL\n").unwrap();
    fs::write(outside.join("secret"), "OUTSIDE SECRET\n").unwrap();
    fs::write(outside.join("keep"), "OUTSIDE KEEP\n").unwrap();
    fs::write(root.join("dirA/victim.txt"), "").unwrap();
    fs::write(root.join("dirA/secret"), "INSIDE\n").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("linkB")).unwrap();
    let before = snapshot(&outside);

    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (stop, swaps, root) = (stop.clone(), swaps.clone(), root.clone());
        thread::spawn(move || {
            let (a, b, sub) = (root.join("dirA"), root.join("linkB"), root.join("sub"));
            while !stop.load(Ordering::Relaxed) {
                let _ = fs::rename(&a, &sub);
                let _ = fs::rename(&sub, &a);
                let _ = fs::rename(&b, &sub);
                let _ = fs::rename(&sub, &b);
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let raced = counts(&exec_in(&root, &["/sub", ITERATIONS]));
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();

    assert!(
        swaps.load(Ordering::Relaxed) > 100,
        "the swapper barely ran"
    );
    assert_eq!(raced["outside_reads"], 0, "read a file outside the root");
    assert_eq!(
        snapshot(&outside),
        before,
        "something outside the root changed"
    );
    // The swap did let operations through while dirA was in place.
    assert!(raced["appends"] > 0 && raced["reads"] > 0, "{raced:?}");
    let appended = fs::read_to_string(root.join("dirA/victim.txt")).unwrap();
    assert_eq!(appended.lines().count() as u64, raced["appends"]);

    // Without the swapper, the same operations simply work.
    let calm = counts(&exec_in(&root, &["/dirA", "10"]));
    assert_eq!(calm["appends"], 10, "{calm:?}");
    assert_eq!(calm["reads"], 10, "{calm:?}");
    assert_eq!(calm["unlinks"], 10, "{calm:?}");
    assert_eq!(calm["outside_reads"], 0);
    assert!(root.join("dirA/made").is_dir());
    assert_eq!(snapshot(&outside), before);
    // The symlink itself still leads nowhere from inside the VM: the VFS
    // resolves it in VM space, where the host path does not exist.
    let via_link = counts(&exec_in(&root, &["/linkB", "3"]));
    assert_eq!(via_link["reads"], 0, "{via_link:?}");
    assert_eq!(snapshot(&outside), before);
    fs::remove_dir_all(&base).unwrap();
}

/// A fresh directory under the system temp dir, unique to this test run.
fn tempfile_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sidecar-{tag}-{}-{:?}",
        std::process::id(),
        thread::current().id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}
