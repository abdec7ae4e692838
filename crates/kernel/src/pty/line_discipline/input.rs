//! Input processing: what keystrokes written to the master do, from input
//! mapping and signal characters to canonical line editing.

use super::{
    is_continuation, EraseKind, InputOutcome, LineDiscipline, Signal, BEL, BS, INPUT_CAPACITY,
};
use crate::pty::termios::*;

/// What one input character does once flow control, signals and CR/NL
/// mapping are done with it.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// Queue it (onto the edit line in canonical mode). `raw_nl_echo`: a
    /// newline that n_tty echoes as a newline rather than `^J`.
    Store {
        c: u8,
        raw_nl_echo: bool,
    },
    /// `\n`, `VEOL` or `VEOL2` in canonical mode: queue it and end the line.
    Terminate(u8),
    /// `VEOF` in canonical mode: end the line without queueing anything.
    Eof,
    Erase(u8, EraseKind),
    LiteralNext,
    Reprint(u8),
    /// `\r` under `IGNCR`.
    Ignore,
}

/// The input queue has no room for this byte; stop consuming.
struct Full;

impl LineDiscipline {
    /// Master wrote `data` (keyboard input). Processes the longest prefix
    /// that fits: input mapping, signal characters, canonical editing, echo.
    /// Signal characters flush both queues unless `NOFLSH`.
    pub fn master_write(&mut self, data: &[u8]) -> InputOutcome {
        let mut outcome = InputOutcome::default();
        if self.passes_input_raw() {
            let n = data.len().min(INPUT_CAPACITY - self.used());
            self.ready.extend(&data[..n]);
            outcome.consumed = n;
            return outcome;
        }
        for &b in data {
            match self.receive(b) {
                Ok(Some(sig)) => outcome.signals.push(sig),
                Ok(None) => {}
                Err(Full) => break,
            }
            outcome.consumed += 1;
        }
        outcome
    }

    /// No input flag would touch any byte (n_tty's "raw" mode), so input can
    /// be copied in bulk.
    fn passes_input_raw(&self) -> bool {
        let t = &self.termios;
        let touches = t.iflag(ISTRIP | IGNCR | ICRNL | INLCR | IXON | PARMRK)
            || (t.iflag(IUCLC) && t.lflag(IEXTEN))
            || t.lflag(ICANON | ISIG | ECHO | EXTPROC);
        !touches && !self.lnext
    }

    fn restart_on_any(&mut self) {
        if self.stopped && self.termios.iflag(IXON) && self.termios.iflag(IXANY) {
            self.restart_output();
        }
    }

    /// Processes one input byte. On `Err(Full)` nothing has changed.
    fn receive(&mut self, raw: u8) -> Result<Option<Signal>, Full> {
        let t = self.termios;
        let mut c = raw;
        if t.iflag(ISTRIP) {
            c &= 0x7f;
        }
        if t.iflag(IUCLC) && t.lflag(IEXTEN) {
            c = c.to_ascii_lowercase();
        }
        if self.lnext {
            // Literal: no flow control, signals, mapping or editing.
            self.apply(Action::Store {
                c,
                raw_nl_echo: false,
            })?;
            self.lnext = false;
            return Ok(None);
        }
        if t.lflag(EXTPROC) {
            // The other end does the editing; only ISTRIP/IUCLC apply.
            if self.used() >= INPUT_CAPACITY {
                return Err(Full);
            }
            self.ready.push_back(c);
            return Ok(None);
        }
        if t.iflag(IXON) {
            if t.is_cc(c, VSTART) {
                self.restart_output();
                return Ok(None);
            }
            if t.is_cc(c, VSTOP) {
                self.stopped = true;
                return Ok(None);
            }
        }
        if t.lflag(ISIG) {
            let sig = if t.is_cc(c, VINTR) {
                Some(Signal::Int)
            } else if t.is_cc(c, VQUIT) {
                Some(Signal::Quit)
            } else if t.is_cc(c, VSUSP) {
                Some(Signal::Tstp)
            } else {
                None
            };
            if let Some(sig) = sig {
                self.signal_char(c);
                return Ok(Some(sig));
            }
        }
        let mut action = Action::Store {
            c,
            raw_nl_echo: false,
        };
        if c == b'\r' {
            if t.iflag(IGNCR) {
                action = Action::Ignore;
            } else if t.iflag(ICRNL) {
                c = b'\n';
                // A mapped CR takes n_tty's special path, which echoes a
                // plain newline even where a literal ^J would echo as "^J".
                action = Action::Store {
                    c,
                    raw_nl_echo: true,
                };
            }
        } else if c == b'\n' && t.iflag(INLCR) {
            c = b'\r';
            action = Action::Store {
                c,
                raw_nl_echo: false,
            };
        }
        if self.canonical() && !matches!(action, Action::Ignore) {
            action = classify_canonical(&t, c).unwrap_or(action);
        }
        self.apply(action)?;
        Ok(None)
    }

    /// Carries out `action`, or returns `Full` having changed nothing.
    fn apply(&mut self, action: Action) -> Result<(), Full> {
        let echo = self.termios.lflag(ECHO);
        match action {
            Action::Store { c, raw_nl_echo } => {
                let cost = if c == 0xff && self.termios.iflag(PARMRK) {
                    2
                } else {
                    1
                };
                let canon = self.canonical();
                // Canonical lines keep one byte back for their terminator.
                let limit = if canon {
                    INPUT_CAPACITY - 1
                } else {
                    INPUT_CAPACITY
                };
                if self.used() + cost > limit {
                    if !(canon && self.lines.is_empty()) {
                        return Err(Full);
                    }
                    // Only this unfinished line fills the buffer and nobody
                    // can drain it: discard, as n_tty does.
                    self.restart_on_any();
                    if echo {
                        self.echo_raw(&[BEL]);
                    }
                    return Ok(());
                }
                self.restart_on_any();
                if echo {
                    self.finish_erasing();
                    if raw_nl_echo && c == b'\n' {
                        self.echo_raw(b"\n");
                    } else {
                        if canon && self.line.is_empty() {
                            self.cols.canon_column = self.cols.column;
                        }
                        self.echo_char(c);
                    }
                }
                for _ in 0..cost {
                    if canon {
                        self.line.push(c);
                    } else {
                        self.ready.push_back(c);
                    }
                }
            }
            Action::Terminate(c) => {
                if self.used() + 1 > INPUT_CAPACITY {
                    debug_assert!(!self.lines.is_empty(), "terminator room is reserved");
                    return Err(Full);
                }
                self.restart_on_any();
                if c == b'\n' {
                    if echo || self.termios.lflag(ECHONL) {
                        self.echo_raw(b"\n");
                    }
                } else if echo {
                    if self.line.is_empty() {
                        self.cols.canon_column = self.cols.column;
                    }
                    self.echo_char(c);
                }
                self.line.push(c);
                self.end_line();
            }
            Action::Eof => {
                if self.line.is_empty() && self.used() + 1 > INPUT_CAPACITY {
                    return Err(Full);
                }
                self.restart_on_any();
                self.end_line();
            }
            Action::Erase(c, kind) => {
                self.restart_on_any();
                self.erase(c, kind);
            }
            Action::LiteralNext => {
                self.restart_on_any();
                self.lnext = true;
                if echo {
                    self.finish_erasing();
                    if self.termios.lflag(ECHOCTL) {
                        // A placeholder the literal character's echo covers.
                        self.echo_raw(&[b'^', BS]);
                    }
                }
            }
            Action::Reprint(c) => {
                self.restart_on_any();
                self.finish_erasing();
                self.echo_char(c);
                self.echo_raw(b"\n");
                let line = std::mem::take(&mut self.line);
                for &b in &line {
                    self.echo_char(b);
                }
                self.line = line;
            }
            Action::Ignore => self.restart_on_any(),
        }
        Ok(())
    }

    /// Moves the edit line to the readable queue as one complete line (an
    /// empty one is an end-of-file mark).
    fn end_line(&mut self) {
        let n = self.line.len();
        self.ready.extend(self.line.drain(..));
        self.lines.push_back(n);
        if n == 0 {
            self.eofs += 1;
        }
    }

    /// `VINTR`/`VQUIT`/`VSUSP`: flush unless `NOFLSH`, then echo the
    /// character so the user sees it after the flush.
    fn signal_char(&mut self, c: u8) {
        if !self.termios.lflag(NOFLSH) {
            self.flush_input();
            self.flush_output();
        }
        if self.termios.iflag(IXON) {
            self.restart_output();
        }
        if self.termios.lflag(ECHO) {
            self.echo_char(c);
        }
    }

    /// `VERASE`, `VWERASE`, `VKILL` on the edit line, with their echo.
    fn erase(&mut self, c: u8, kind: EraseKind) {
        if self.line.is_empty() {
            return;
        }
        let t = self.termios;
        let echo = t.lflag(ECHO);
        if kind == EraseKind::Line {
            if !echo {
                self.line.clear();
                return;
            }
            if !(t.lflag(ECHOK) && t.lflag(ECHOKE) && t.lflag(ECHOE)) {
                // Not erasing visually: show the kill character instead.
                self.line.clear();
                self.finish_erasing();
                self.echo_char(c);
                if t.lflag(ECHOK) {
                    self.echo_raw(b"\n");
                }
                return;
            }
        }
        let mut seen_word = false;
        while !self.line.is_empty() {
            let mut start = self.line.len() - 1;
            while start > 0 && is_continuation(&t, self.line[start]) {
                start -= 1;
            }
            let lead = self.line[start];
            if is_continuation(&t, lead) {
                break; // never erase part of a character
            }
            if kind == EraseKind::Word {
                if is_word_byte(lead) {
                    seen_word = true;
                } else if seen_word {
                    break;
                }
            }
            let erased = self.line.split_off(start);
            if echo {
                self.echo_erased(c, kind, &erased);
            }
            if kind == EraseKind::Char {
                break;
            }
        }
        if self.line.is_empty() && echo {
            self.finish_erasing();
        }
    }
}

/// Which special character `c` is in canonical mode, if any. Precedence is
/// n_tty's.
fn classify_canonical(t: &Termios, c: u8) -> Option<Action> {
    let iexten = t.lflag(IEXTEN);
    let action = if t.is_cc(c, VERASE) {
        Action::Erase(c, EraseKind::Char)
    } else if t.is_cc(c, VKILL) {
        Action::Erase(c, EraseKind::Line)
    } else if iexten && t.is_cc(c, VWERASE) {
        Action::Erase(c, EraseKind::Word)
    } else if iexten && t.is_cc(c, VLNEXT) {
        Action::LiteralNext
    } else if iexten && t.lflag(ECHO) && t.is_cc(c, VREPRINT) {
        Action::Reprint(c)
    } else if c == b'\n' {
        Action::Terminate(c)
    } else if t.is_cc(c, VEOF) {
        Action::Eof
    } else if t.is_cc(c, VEOL) || (iexten && t.is_cc(c, VEOL2)) {
        Action::Terminate(c)
    } else {
        return None;
    };
    Some(action)
}

/// Part of a word for `VWERASE`.
fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}
