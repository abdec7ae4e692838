//! Pseudo-terminals with the C guest programs `guests/tests/pty_*.c`, run
//! natively (real Linux PTYs) and under `sidecar exec`; stdout and the exit
//! status must be identical (see `common`). Each program opens a pair,
//! spawns itself onto the slave in a new session (so the slave is the
//! child's controlling tty), drives the master and prints every byte it
//! reads, escaped.
//!
//! * `pty_canon`: canonical editing (erase, kill, word erase, ^D), echo and
//!   its variants, ICRNL/ONLCR, long lines.
//! * `pty_signals`: ^C and SIGINT, VMIN/VTIME reads, TIOCSWINSZ and
//!   SIGWINCH, hangup on the last master close.
//! * `pty_bulk`: 16 MiB each way at once in raw mode, every byte checked.
//! * `pty_ioctl`: errors on non-ttys, the slave lock, names, queue sizes
//!   and flushes, tcsetpgrp, TIOCNOTTY/TIOCSCTTY, drains, openpty and
//!   login_tty, O_NOCTTY, the controlling process exiting.
//! * `pty_jobs`: job control: background reads and writes (SIGTTIN,
//!   SIGTTOU, TOSTOP), stops (WUNTRACED) and ^Z.
//!
//! Where the sidecar would block for good (a read or drain that Linux
//! returns from at once), the programs wait two seconds, say so and unblock
//! it, so one run shows every difference.

mod common;

use common::{differential_ok, SELF};

#[test]
fn pty_canon() {
    differential_ok("pty_canon", &[SELF]);
}

#[test]
fn pty_signals() {
    differential_ok("pty_signals", &[SELF]);
}

#[test]
fn pty_bulk() {
    differential_ok("pty_bulk", &[SELF]);
}

#[test]
fn pty_ioctl() {
    differential_ok("pty_ioctl", &[SELF]);
}

#[test]
fn pty_jobs() {
    differential_ok("pty_jobs", &[SELF]);
}
