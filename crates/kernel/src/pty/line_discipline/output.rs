//! Output processing (`OPOST`): program output written to the slave, on
//! its way to the master.

use super::{is_cntrl, is_continuation, Columns, LineDiscipline, BS, OUTPUT_CAPACITY};
use crate::pty::termios::*;

impl LineDiscipline {
    /// Slave wrote `data` (program output). Applies `OPOST` processing and
    /// returns how much of `data` was consumed: less than all of it when the
    /// output queue fills or output is stopped. A byte's whole expansion
    /// (e.g. `\r\n` for `\n` under `ONLCR`) is queued or none of it.
    pub fn slave_write(&mut self, data: &[u8]) -> usize {
        if self.stopped {
            return 0;
        }
        let t = self.termios;
        if !t.oflag(OPOST) {
            let n = data
                .len()
                .min(OUTPUT_CAPACITY.saturating_sub(self.out.len()));
            self.out.extend(&data[..n]);
            return n;
        }
        let mut buf = std::mem::take(&mut self.scratch);
        let mut i = 0;
        while i < data.len() {
            let room = OUTPUT_CAPACITY.saturating_sub(self.out.len());
            if room == 0 {
                break;
            }
            // Printable runs need no translation, only column counting.
            if !t.oflag(OLCUC) {
                let run = data[i..]
                    .iter()
                    .take(room)
                    .take_while(|&&b| !is_cntrl(b))
                    .count();
                if run > 0 {
                    let chunk = &data[i..i + run];
                    self.cols.column += chunk.iter().filter(|&&b| !is_continuation(&t, b)).count();
                    self.out.extend(chunk);
                    i += run;
                    continue;
                }
            }
            buf.clear();
            let mut cols = self.cols;
            put_output(&t, &mut cols, data[i], &mut buf);
            if buf.len() > room {
                break;
            }
            self.out.extend(&buf);
            self.cols = cols;
            i += 1;
        }
        self.scratch = buf;
        i
    }
}

/// Appends `c` after `OPOST` processing, tracking the cursor column.
pub(super) fn put_output(t: &Termios, cols: &mut Columns, c: u8, buf: &mut Vec<u8>) {
    if !t.oflag(OPOST) {
        buf.push(c);
        return;
    }
    match c {
        b'\n' => {
            if t.oflag(ONLRET) {
                cols.column = 0;
            }
            if t.oflag(ONLCR) {
                cols.column = 0;
                cols.canon_column = 0;
                buf.extend(b"\r\n");
                return;
            }
            cols.canon_column = cols.column;
            buf.push(c);
        }
        b'\r' => {
            if t.oflag(ONOCR) && cols.column == 0 {
                return; // already at column 0: nothing to send
            }
            if t.oflag(OCRNL) {
                if t.oflag(ONLRET) {
                    cols.column = 0;
                    cols.canon_column = 0;
                }
                buf.push(b'\n');
                return;
            }
            cols.column = 0;
            cols.canon_column = 0;
            buf.push(c);
        }
        b'\t' => {
            let spaces = 8 - (cols.column & 7);
            cols.column += spaces;
            if t.c_oflag & TABDLY == XTABS {
                buf.extend(std::iter::repeat_n(b' ', spaces));
            } else {
                buf.push(c);
            }
        }
        BS => {
            cols.column = cols.column.saturating_sub(1);
            buf.push(c);
        }
        _ if is_cntrl(c) => buf.push(c),
        _ => {
            if !is_continuation(t, c) {
                cols.column += 1;
            }
            buf.push(if t.oflag(OLCUC) {
                c.to_ascii_uppercase()
            } else {
                c
            });
        }
    }
}
