//! Echo: how input shows up in the output queue, including the visual
//! erase of edited characters.

use super::output::put_output;
use super::{
    is_cntrl, is_continuation, Columns, EraseKind, LineDiscipline, BS, ECHO_RESERVE,
    OUTPUT_CAPACITY,
};
use crate::pty::termios::*;

impl LineDiscipline {
    /// Echo for one erased character (`erased` is its bytes; the edit line
    /// has already lost them).
    pub(super) fn echo_erased(&mut self, erase_char: u8, kind: EraseKind, erased: &[u8]) {
        let t = self.termios;
        let lead = erased[0];
        if t.lflag(ECHOPRT) {
            let opening = !self.erasing;
            self.erasing = true;
            self.echo_unit(|t, cols, buf| {
                if opening {
                    put_output(t, cols, b'\\', buf);
                }
                put_echo_char(t, cols, lead, buf);
                for &b in &erased[1..] {
                    put_output(t, cols, b, buf);
                }
            });
        } else if kind == EraseKind::Char && !t.lflag(ECHOE) {
            self.echo_char(erase_char);
        } else if lead == b'\t' {
            // Back up to where the tab started: replay the line's widths.
            let mut col = self.cols.canon_column;
            for &b in &self.line {
                if b == b'\t' {
                    col = (col | 7) + 1;
                } else if is_cntrl(b) {
                    if t.lflag(ECHOCTL) {
                        col += 2;
                    }
                } else if !is_continuation(&t, b) {
                    col += 1;
                }
            }
            let n = 8 - (col & 7);
            self.echo_unit(|t, cols, buf| {
                for _ in 0..n {
                    put_output(t, cols, BS, buf);
                }
            });
        } else {
            // One "\b \b" per column the character's echo took.
            let width = match (is_cntrl(lead), t.lflag(ECHOCTL)) {
                (true, true) => 2,
                (true, false) => 0,
                (false, _) => 1,
            };
            self.echo_unit(|t, cols, buf| {
                for _ in 0..width {
                    for b in [BS, b' ', BS] {
                        put_output(t, cols, b, buf);
                    }
                }
            });
        }
    }

    /// Closes an `ECHOPRT` erase run.
    pub(super) fn finish_erasing(&mut self) {
        if self.erasing {
            self.erasing = false;
            self.echo_raw(b"/");
        }
    }

    /// Echoes `c`, as `^X` if it is a control character under `ECHOCTL`.
    pub(super) fn echo_char(&mut self, c: u8) {
        self.echo_unit(|t, cols, buf| put_echo_char(t, cols, c, buf));
    }

    /// Echoes `bytes` through output processing only.
    pub(super) fn echo_raw(&mut self, bytes: &[u8]) {
        self.echo_unit(|t, cols, buf| {
            for &b in bytes {
                put_output(t, cols, b, buf);
            }
        });
    }

    /// Renders one echo unit and queues all of it, or (past the echo
    /// reserve) none of it.
    fn echo_unit(&mut self, render: impl FnOnce(&Termios, &mut Columns, &mut Vec<u8>)) {
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        let mut cols = self.cols;
        render(&self.termios, &mut cols, &mut buf);
        if self.out.len() + buf.len() <= OUTPUT_CAPACITY + ECHO_RESERVE {
            self.out.extend(&buf);
            self.cols = cols;
        }
        self.scratch = buf;
    }
}

/// Appends `c` as an echo would show it: `^X` for control characters other
/// than tab under `ECHOCTL`, otherwise through output processing.
fn put_echo_char(t: &Termios, cols: &mut Columns, c: u8, buf: &mut Vec<u8>) {
    if t.lflag(ECHOCTL) && is_cntrl(c) && c != b'\t' {
        buf.extend([b'^', c ^ 0x40]);
        cols.column += 2;
    } else {
        put_output(t, cols, c, buf);
    }
}
