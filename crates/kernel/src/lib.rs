//! The sidecar kernel: a Linux-like process, file and IPC model for wasm
//! guests, written as plain Rust over queues. It knows nothing of wasm; the
//! runtime crate drives it from its service thread.
#![forbid(unsafe_code)]

pub mod action;
pub mod errno;
pub mod fd_table;
pub mod file;
pub mod host;
pub mod kernel;
pub mod pipe;
pub mod process;
pub mod signal;
pub mod syscall;
pub mod timer;
pub mod unix;
pub mod vfs;
pub mod wait;

pub use action::Action;
pub use errno::{Errno, KResult};
pub use kernel::{InitSpec, Kernel, Stdio};
pub use process::{Pid, WaitStatus};
pub use syscall::{Outcome, Ret, Syscall};
pub mod pty;

#[cfg(test)]
mod fuzz_tests;
