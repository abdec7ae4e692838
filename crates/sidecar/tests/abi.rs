//! ABI robustness: guests handing the host bad pointers get EFAULT, and the
//! host neither panics nor performs half a call.

use std::process::Command;

const SIDECAR: &str = env!("CARGO_BIN_EXE_sidecar");

/// Runs a WebAssembly-text guest with `sidecar exec`; returns (status, stdout, stderr).
fn exec_wat(name: &str, wat: &str) -> (i32, String, String) {
    let dir = std::env::temp_dir().join(format!("sidecar-abi-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.wat"));
    std::fs::write(&path, wat).unwrap();
    let out = Command::new(SIDECAR)
        .arg("exec")
        .arg(&path)
        .current_dir(&dir)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each check calls an import with one bad pointer and exits with the check's
/// number unless the call returned WASI EFAULT (21).
const BAD_POINTERS: &str = r#"
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "path_open"
    (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args_get (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "host_proc" "pipe2" (func $pipe2 (param i32 i32) (result i32)))
  (import "host_proc" "spawn"
    (func $spawn (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hello\n")
  (func $check (param $got i32) (param $n i32)
    (if (i32.ne (local.get $got) (i32.const 21)) (then (call $exit (local.get $n)))))
  (func (export "_start")
    ;; iovec table outside memory
    (call $check (call $fd_write (i32.const 1) (i32.const 0xfffffff0) (i32.const 1) (i32.const 16)) (i32.const 1))
    ;; iovec buffer running off the end of memory
    (i32.store (i32.const 0) (i32.const 65530))
    (i32.store (i32.const 4) (i32.const 100))
    (call $check (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)) (i32.const 2))
    ;; a valid write whose result pointer is bad must not write anything
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 6))
    (call $check (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 65534)) (i32.const 3))
    (call $check (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const -1)) (i32.const 4))
    ;; path pointer outside memory
    (call $check (call $path_open (i32.const 3) (i32.const 0) (i32.const 70000) (i32.const 4)
      (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)) (i32.const 5))
    (call $check (call $args_get (i32.const 65535) (i32.const 65535)) (i32.const 6))
    ;; 2^27 subscriptions: the size computation itself must not wrap
    (call $check (call $poll (i32.const 0) (i32.const 0) (i32.const 0x8000000) (i32.const 16)) (i32.const 7))
    (call $check (call $clock (i32.const 0) (i64.const 0) (i32.const 65533)) (i32.const 8))
    (call $check (call $pipe2 (i32.const 65532) (i32.const 0)) (i32.const 9))
    (call $check (call $spawn (i32.const 100) (i32.const 0x7fffffff) (i32.const 0) (i32.const 0)
      (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 200)) (i32.const 10))
    (call $exit (i32.const 0))))
"#;

#[test]
fn bad_guest_pointers_get_efault() {
    let (code, stdout, stderr) = exec_wat("efault", BAD_POINTERS);
    assert_eq!(code, 0, "check {code} did not get EFAULT; stderr: {stderr}");
    assert_eq!(stdout, "", "a call that failed with EFAULT still wrote");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn guest_without_memory_export_is_refused() {
    let (code, _, stderr) = exec_wat("nomem", r#"(module (func (export "_start")))"#);
    assert_ne!(code, 0);
    assert!(stderr.contains("does not export `memory`"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
