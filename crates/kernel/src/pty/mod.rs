//! Pseudo-terminals: termios, the n_tty line discipline, and the pty
//! device built from them.

pub mod device;
pub mod endpoint;
pub mod line_discipline;
pub mod termios;
