//! The terminal line discipline: Linux `n_tty` semantics as pure state.
//!
//! Two byte streams pass through it. Input (master writes, i.e. keystrokes)
//! is mapped by the input flags, may raise signals, is edited into lines in
//! canonical mode, is echoed, and is queued for the slave to read. Output
//! (slave writes, i.e. program output) is post-processed and queued for the
//! master to read. Echo joins the output queue, so it interleaves with
//! program output in the order things happened.
//!
//! Nothing here blocks, wakes or signals: calls report what happened
//! (bytes consumed, signals to raise, `EAGAIN`) and the PTY device turns that
//! into waits, wakeups and `kill_pgrp`.
//!
//! The queues and modes are here; `input` processes keystrokes and edits
//! lines, `echo` renders them back, `output` post-processes program output.
//!
//! Choices where Linux leaves room or where this differs from it:
//! - Capacity: input holds [`INPUT_CAPACITY`] bytes (Linux's
//!   `N_TTY_BUF_SIZE`), counting complete lines, the line being edited, and
//!   one byte per pending end-of-file mark. Output holds
//!   [`OUTPUT_CAPACITY`] bytes of program output.
//! - Backpressure: `master_write` consumes a prefix of its data and stops at
//!   the first byte that needs input room that is not there; nothing is
//!   dropped while a reader could still make room. Bytes that need no room
//!   (signal, flow-control and editing characters) are processed even when
//!   the queue is full. The one exception is n_tty's: in canonical mode, when
//!   the line being edited fills the buffer on its own (no complete line for
//!   a reader to drain), further ordinary characters are discarded with a
//!   BEL echo (Linux acts as if `IMAXBEL` were always set), while editing
//!   characters, line terminators and signals still work. One byte of room is
//!   always kept for the terminator so such a line can be finished.
//! - Echo never waits: it may push the output queue past `OUTPUT_CAPACITY` by
//!   up to [`ECHO_RESERVE`] bytes (n_tty's separate echo buffer has the same
//!   size). Echo that would go beyond that is discarded, one whole unit
//!   (e.g. `^C` or `\b \b`) at a time so the terminal never sees half of one.
//! - Columns are tracked as n_tty does (shared by output and echo), so
//!   erasing a tab backs up the right number of columns.
//! - `VSTOP`/`VSTART` (with `IXON`) stop and restart slave writes; echo
//!   still flows while output is stopped (Linux holds it back).
//! - Switching to non-canonical mode makes all queued input, including the
//!   line being edited, readable; pending end-of-file marks are dropped
//!   (Linux would leave NUL bytes in their place). Switching to canonical
//!   mode turns whatever is queued into one complete line, as Linux does.
//! - A canonical read that consumes exactly the text of a line ended by
//!   `VEOF` also consumes the mark (Linux would report a spurious 0-length
//!   read next if the buffer was exactly the line's length).
//! - Not implemented, as in Linux's n_tty: `VDISCARD`/`FLUSHO`, `XCASE`,
//!   output delays and fill characters (`OFILL`, `OFDEL`, `*DLY` other than
//!   `XTABS` expansion), `VSWTC`, `PENDIN`. Parity, framing and break
//!   conditions cannot occur on a pty, so `PARMRK` only does its `\377`
//!   doubling (for ordinary characters, not line terminators). Flow-control
//!   characters are not looked ahead of a full input queue.
//! - Case mapping (`IUCLC`, `OLCUC`) and word erase classify ASCII only; any
//!   byte >= 0x80 counts as part of a word, so UTF-8 text erases by words.

use std::collections::VecDeque;

use super::termios::*;
use crate::errno::Errno;
use crate::signal;

mod echo;
mod input;
mod output;

/// Input queue size (Linux `N_TTY_BUF_SIZE`).
pub const INPUT_CAPACITY: usize = 4096;
/// Program output the output queue holds before slave writes stop (the
/// default pipe capacity).
pub const OUTPUT_CAPACITY: usize = 65536;
/// How far echo may push the output queue beyond `OUTPUT_CAPACITY`.
pub const ECHO_RESERVE: usize = 4096;
/// Largest output one byte expands to: a tab under `XTABS`.
const MAX_EXPANSION: usize = 8;

const BS: u8 = 0x08;
const BEL: u8 = 0x07;

/// A job-control signal the caller must send to the foreground process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// `VINTR`: SIGINT.
    Int,
    /// `VQUIT`: SIGQUIT.
    Quit,
    /// `VSUSP`: SIGTSTP.
    Tstp,
}

impl Signal {
    /// The Linux signal number.
    pub fn signo(self) -> i32 {
        match self {
            Signal::Int => signal::SIGINT,
            Signal::Quit => signal::SIGQUIT,
            Signal::Tstp => signal::SIGTSTP,
        }
    }
}

/// What `master_write` did with its data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputOutcome {
    /// Length of the prefix of the data that was processed; the rest must be
    /// offered again once `master_writable` says so.
    pub consumed: usize,
    /// Signals raised, in input order.
    pub signals: Vec<Signal>,
}

/// Cursor tracking shared by program output and echo.
#[derive(Debug, Clone, Copy, Default)]
struct Columns {
    /// Where the cursor is, as far as the bytes sent so far tell.
    column: usize,
    /// Column at which the current input line's echo began; erasing a tab
    /// measures from here.
    canon_column: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EraseKind {
    Char,
    Word,
    Line,
}

/// A pty's line discipline.
///
/// Invariants:
/// - Canonical mode (`ICANON` without `EXTPROC`): `ready` holds exactly the
///   bytes of the complete lines, `lines` their remaining lengths in order
///   (0 = an end-of-file mark, counted by `eofs`), and `line` the line being
///   edited. When `lines` is empty, `line.len() < INPUT_CAPACITY`, so a
///   terminator always fits.
/// - Non-canonical mode: `lines` and `line` are empty, `eofs` is 0, and
///   `ready` is the input queue.
/// - `ready.len() + line.len() + eofs <= INPUT_CAPACITY`.
/// - `out.len() <= OUTPUT_CAPACITY + ECHO_RESERVE`; slave writes only add
///   while it is below `OUTPUT_CAPACITY`.
/// - `tco_stopped` implies `stopped`.
#[derive(Debug)]
pub struct LineDiscipline {
    termios: Termios,
    ready: VecDeque<u8>,
    lines: VecDeque<usize>,
    eofs: usize,
    line: Vec<u8>,
    /// The previous input byte was `VLNEXT`: take the next one literally.
    lnext: bool,
    /// Inside an `ECHOPRT` `\...` erase run, which the next echo closes
    /// with `/`.
    erasing: bool,
    out: VecDeque<u8>,
    cols: Columns,
    /// Slave writes are held (by `VSTOP` or by `tcflow`).
    stopped: bool,
    /// Held by `tcflow(TCOOFF)`, which only `tcflow(TCOON)` undoes.
    tco_stopped: bool,
    /// Reused buffer for expanding one output byte or echo unit.
    scratch: Vec<u8>,
}

impl Default for LineDiscipline {
    fn default() -> Self {
        Self::new()
    }
}

impl LineDiscipline {
    pub fn new() -> Self {
        LineDiscipline {
            termios: Termios::default(),
            ready: VecDeque::new(),
            lines: VecDeque::new(),
            eofs: 0,
            line: Vec::new(),
            lnext: false,
            erasing: false,
            out: VecDeque::new(),
            cols: Columns::default(),
            stopped: false,
            tco_stopped: false,
            scratch: Vec::new(),
        }
    }

    pub fn termios(&self) -> &Termios {
        &self.termios
    }

    /// Installs new attributes (all of `TCSETS*`; draining or flushing first
    /// is the caller's business). As on a Linux pty, the character size is
    /// forced to `CS8` with `CREAD` and without `PARENB`.
    pub fn set_termios(&mut self, mut t: Termios) {
        t.c_cflag = (t.c_cflag & !(CSIZE | PARENB)) | CS8 | CREAD;
        let was_canon = self.canonical();
        let had_ixon = self.termios.iflag(IXON);
        self.termios = t;
        let canon = self.canonical();
        if was_canon != canon {
            if canon {
                // Everything typed so far becomes one line (n_tty's push).
                if !self.ready.is_empty() {
                    self.lines.push_back(self.ready.len());
                }
            } else {
                self.ready.extend(self.line.drain(..));
                self.lines.clear();
                self.eofs = 0;
            }
            self.lnext = false;
            self.erasing = false;
        }
        if had_ixon && !t.iflag(IXON) && !self.tco_stopped {
            self.stopped = false;
        }
    }

    /// Slave reads up to `len` bytes. Canonical: at most one line (the rest
    /// of it stays for the next read); an end-of-file mark reads as `Ok`
    /// empty. Non-canonical: whatever is queued. `Err(EAGAIN)` when there is
    /// nothing to return; `len == 0` returns `Ok` empty without consuming.
    pub fn slave_read(&mut self, len: usize) -> Result<Vec<u8>, Errno> {
        if len == 0 {
            return Ok(Vec::new());
        }
        let n = if self.canonical() {
            let front = self.lines.front_mut().ok_or(Errno::EAGAIN)?;
            if *front == 0 {
                self.lines.pop_front();
                self.eofs -= 1;
                return Ok(Vec::new());
            }
            let n = len.min(*front);
            *front -= n;
            if *front == 0 {
                self.lines.pop_front();
            }
            n
        } else {
            if self.ready.is_empty() {
                return Err(Errno::EAGAIN);
            }
            len.min(self.ready.len())
        };
        Ok(self.ready.drain(..n).collect())
    }

    /// Nonzero iff `slave_read` would succeed. Canonical: the bytes of
    /// complete lines, or 1 when only end-of-file marks are pending.
    /// Non-canonical: queued bytes (compare against `VMIN`).
    pub fn slave_readable(&self) -> usize {
        if self.ready.is_empty() && self.eofs > 0 {
            1
        } else {
            self.ready.len()
        }
    }

    /// Bytes a read could return, for `FIONREAD`/`TIOCINQ` (end-of-file
    /// marks and the line being edited do not count).
    pub fn slave_inq(&self) -> usize {
        self.ready.len()
    }

    /// `(c_cc[VMIN], c_cc[VTIME])`, for the caller's non-canonical read
    /// policy.
    pub fn vmin_vtime(&self) -> (u8, u8) {
        (self.termios.c_cc[VMIN], self.termios.c_cc[VTIME])
    }

    /// Master reads up to `len` bytes of output and echo.
    pub fn master_read(&mut self, len: usize) -> Vec<u8> {
        let n = len.min(self.out.len());
        self.out.drain(..n).collect()
    }

    pub fn master_readable(&self) -> usize {
        self.out.len()
    }

    /// Whether `master_write` would consume at least one byte of any data.
    pub fn master_writable(&self) -> bool {
        let cost = if self.termios.iflag(PARMRK) { 2 } else { 1 };
        if self.canonical() {
            self.lines.is_empty() || self.used() + cost < INPUT_CAPACITY
        } else {
            self.used() + cost <= INPUT_CAPACITY
        }
    }

    /// Whether `slave_write` would consume at least one byte of any data.
    pub fn slave_writable(&self) -> bool {
        !self.stopped && self.out.len() + MAX_EXPANSION <= OUTPUT_CAPACITY
    }

    /// `tcflush(TCIFLUSH)`: discards all input, including the line being
    /// edited.
    pub fn flush_input(&mut self) {
        self.ready.clear();
        self.lines.clear();
        self.eofs = 0;
        self.line.clear();
        self.lnext = false;
        self.erasing = false;
    }

    /// `tcflush(TCOFLUSH)`: discards output (and echo) the master has not
    /// read.
    pub fn flush_output(&mut self) {
        self.out.clear();
    }

    /// Whether the master has read everything (`TCSADRAIN`, `tcdrain`).
    pub fn output_drained(&self) -> bool {
        self.out.is_empty()
    }

    /// Whether slave writes are held by `VSTOP` or `tcflow(TCOOFF)`.
    pub fn output_stopped(&self) -> bool {
        self.stopped
    }

    /// `tcflow(TCOOFF)`: holds slave writes until `start_output`.
    pub fn stop_output(&mut self) {
        self.stopped = true;
        self.tco_stopped = true;
    }

    /// `tcflow(TCOON)`: releases slave writes, whatever held them.
    pub fn start_output(&mut self) {
        self.stopped = false;
        self.tco_stopped = false;
    }

    fn canonical(&self) -> bool {
        self.termios.lflag(ICANON) && !self.termios.lflag(EXTPROC)
    }

    /// Input room in use.
    fn used(&self) -> usize {
        self.ready.len() + self.line.len() + self.eofs
    }

    /// `VSTART` or, under `IXANY`, any consumed character restarts output
    /// stopped by `VSTOP` (but not by `tcflow`).
    fn restart_output(&mut self) {
        if !self.tco_stopped {
            self.stopped = false;
        }
    }
}

/// Control characters as the kernel's ctype sees them (C0 and DEL; bytes
/// >= 0x80 are not).
fn is_cntrl(c: u8) -> bool {
    c < 0x20 || c == 0x7f
}

/// A UTF-8 continuation byte, when the terminal is in UTF-8 mode.
fn is_continuation(t: &Termios, c: u8) -> bool {
    t.iflag(IUTF8) && c & 0xc0 == 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ld_with(f: impl FnOnce(&mut Termios)) -> LineDiscipline {
        let mut ld = LineDiscipline::new();
        let mut t = *ld.termios();
        f(&mut t);
        ld.set_termios(t);
        ld
    }

    /// cfmakeraw(3).
    fn make_raw(t: &mut Termios) {
        t.c_iflag &= !(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
        t.c_oflag &= !OPOST;
        t.c_lflag &= !(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
        t.c_cflag &= !(CSIZE | PARENB);
        t.c_cflag |= CS8;
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
    }

    fn write_all(ld: &mut LineDiscipline, data: &[u8]) -> Vec<Signal> {
        let o = ld.master_write(data);
        assert_eq!(o.consumed, data.len(), "input unexpectedly full");
        o.signals
    }

    fn read(ld: &mut LineDiscipline) -> Vec<u8> {
        ld.slave_read(1 << 20).unwrap()
    }

    fn echoed(ld: &mut LineDiscipline) -> Vec<u8> {
        ld.master_read(1 << 20)
    }

    /// A deterministic byte stream (xorshift).
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 24) as u8
            })
            .collect()
    }

    #[test]
    fn canonical_read_waits_for_newline_and_returns_one_line() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"hello");
        assert_eq!(ld.slave_readable(), 0);
        assert_eq!(ld.slave_read(100), Err(Errno::EAGAIN));
        write_all(&mut ld, b"\nworld\n");
        assert_eq!(ld.slave_readable(), 12);
        assert_eq!(read(&mut ld), b"hello\n");
        assert_eq!(ld.slave_read(3).unwrap(), b"wor");
        assert_eq!(read(&mut ld), b"ld\n");
        assert_eq!(ld.slave_read(1), Err(Errno::EAGAIN));
        assert_eq!(ld.slave_read(0), Ok(vec![]));
    }

    #[test]
    fn erase_and_kill() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"abx\x7fc\n");
        assert_eq!(read(&mut ld), b"abc\n");
        assert_eq!(echoed(&mut ld), b"abx\x08 \x08c\r\n");

        write_all(&mut ld, b"junk\x15ok\n");
        assert_eq!(read(&mut ld), b"ok\n");
        // ECHOKE: the killed line is wiped character by character.
        assert_eq!(
            echoed(&mut ld),
            b"junk\x08 \x08\x08 \x08\x08 \x08\x08 \x08ok\r\n"
        );

        // Erase on an empty line does nothing, and echoes nothing.
        write_all(&mut ld, b"\x7f\x15\n");
        assert_eq!(read(&mut ld), b"\n");
        assert_eq!(echoed(&mut ld), b"\r\n");
    }

    #[test]
    fn kill_without_echoke_shows_kill_char_and_newline() {
        let mut ld = ld_with(|t| t.c_lflag &= !ECHOKE);
        write_all(&mut ld, b"junk\x15");
        assert_eq!(echoed(&mut ld), b"junk^U\r\n");
        write_all(&mut ld, b"x\n");
        assert_eq!(read(&mut ld), b"x\n");
    }

    #[test]
    fn erase_without_echoe_echoes_erase_char() {
        let mut ld = ld_with(|t| t.c_lflag &= !ECHOE);
        write_all(&mut ld, b"ab\x7f");
        assert_eq!(echoed(&mut ld), b"ab^?");
    }

    #[test]
    fn echoprt_shows_erased_characters() {
        let mut ld = ld_with(|t| t.c_lflag |= ECHOPRT);
        write_all(&mut ld, b"abc\x7f\x7fd\n");
        assert_eq!(read(&mut ld), b"ad\n");
        assert_eq!(echoed(&mut ld), b"abc\\cb/d\r\n");
    }

    #[test]
    fn word_erase() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"foo bar  \x17baz\n");
        assert_eq!(read(&mut ld), b"foo baz\n");
        write_all(&mut ld, b"path/to_x\x17y\n");
        assert_eq!(
            read(&mut ld),
            b"path/y\n",
            "punctuation ends a word, _ does not"
        );
        write_all(&mut ld, b"path/\x17y\n");
        assert_eq!(
            read(&mut ld),
            b"y\n",
            "trailing punctuation goes with the word"
        );
        write_all(&mut ld, b"one\x17\x17\n");
        assert_eq!(read(&mut ld), b"\n");
        // Without IEXTEN ^W is an ordinary character.
        let mut ld = ld_with(|t| t.c_lflag &= !IEXTEN);
        write_all(&mut ld, b"a b\x17\n");
        assert_eq!(read(&mut ld), b"a b\x17\n");
    }

    #[test]
    fn echo_on_and_off() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"hi\n");
        assert_eq!(echoed(&mut ld), b"hi\r\n");
        let mut ld = ld_with(|t| t.c_lflag &= !ECHO);
        write_all(&mut ld, b"secret\x7f\n");
        assert_eq!(ld.master_readable(), 0);
        assert_eq!(read(&mut ld), b"secre\n");
        // ECHONL echoes just the newline.
        let mut ld = ld_with(|t| t.c_lflag = (t.c_lflag & !ECHO) | ECHONL);
        write_all(&mut ld, b"pw\n");
        assert_eq!(echoed(&mut ld), b"\r\n");
    }

    #[test]
    fn echoctl_renders_caret_notation() {
        let mut ld = LineDiscipline::new();
        let sigs = write_all(&mut ld, b"\x03");
        assert_eq!(sigs, vec![Signal::Int]);
        assert_eq!(echoed(&mut ld), b"^C");
        write_all(&mut ld, b"a\x01\x1b\tb");
        assert_eq!(echoed(&mut ld), b"a^A^[\tb", "tab is not caret-rendered");
        // Erasing a control character wipes both columns of its echo.
        write_all(&mut ld, b"\x7f\x7f\x7f");
        // "b", then the tab (one column back to 7), then "^[".
        assert_eq!(echoed(&mut ld), b"\x08 \x08\x08\x08 \x08\x08 \x08");
        let mut ld = ld_with(|t| t.c_lflag &= !ECHOCTL);
        write_all(&mut ld, b"\x01");
        assert_eq!(echoed(&mut ld), b"\x01");
    }

    #[test]
    fn erasing_a_tab_backs_up_to_its_start() {
        let mut ld = LineDiscipline::new();
        ld.slave_write(b"$ ");
        echoed(&mut ld);
        write_all(&mut ld, b"ab\t\x7f");
        // Prompt at 0..2, "ab" at 2..4, tab to 8: four backspaces.
        assert_eq!(echoed(&mut ld), b"ab\t\x08\x08\x08\x08");
        write_all(&mut ld, b"\t\t\x7f");
        assert_eq!(echoed(&mut ld), b"\t\t\x08\x08\x08\x08\x08\x08\x08\x08");
    }

    #[test]
    fn input_cr_nl_mapping() {
        let mut ld = LineDiscipline::new(); // ICRNL
        write_all(&mut ld, b"a\r");
        assert_eq!(read(&mut ld), b"a\n");
        let mut ld = ld_with(|t| t.c_iflag = (t.c_iflag & !ICRNL) | IGNCR);
        write_all(&mut ld, b"a\rb\n");
        assert_eq!(read(&mut ld), b"ab\n");
        let mut ld = ld_with(|t| {
            make_raw(t);
            t.c_iflag |= INLCR;
        });
        write_all(&mut ld, b"a\nb\r");
        assert_eq!(read(&mut ld), b"a\rb\r");
        // Without ICRNL a CR is an ordinary character in canonical mode.
        let mut ld = ld_with(|t| t.c_iflag &= !ICRNL);
        write_all(&mut ld, b"a\r");
        assert_eq!(ld.slave_readable(), 0);
        assert_eq!(echoed(&mut ld), b"a^M");
    }

    #[test]
    fn istrip_and_iuclc() {
        let mut ld = ld_with(|t| {
            make_raw(t);
            t.c_iflag |= ISTRIP | IUCLC;
            t.c_lflag |= IEXTEN;
        });
        write_all(&mut ld, &[b'A' | 0x80, b'B']);
        assert_eq!(read(&mut ld), b"ab");
    }

    #[test]
    fn output_nl_cr_mapping() {
        let mut ld = LineDiscipline::new(); // ONLCR
        assert_eq!(ld.slave_write(b"a\nb\r\n"), 5);
        assert_eq!(echoed(&mut ld), b"a\r\nb\r\r\n");
        let mut ld = ld_with(|t| t.c_oflag = OPOST | OCRNL);
        ld.slave_write(b"a\rb\n");
        assert_eq!(echoed(&mut ld), b"a\nb\n");
        let mut ld = ld_with(|t| t.c_oflag = OPOST | ONOCR);
        assert_eq!(ld.slave_write(b"\rab\r"), 4);
        assert_eq!(echoed(&mut ld), b"ab\r", "CR at column 0 is dropped");
        let mut ld = ld_with(|t| t.c_oflag = OPOST | OLCUC | XTABS);
        ld.slave_write(b"ab\tc");
        assert_eq!(echoed(&mut ld), b"AB      C");
        let mut ld = ld_with(|t| t.c_oflag = ONLCR); // no OPOST: untouched
        ld.slave_write(b"a\n");
        assert_eq!(echoed(&mut ld), b"a\n");
    }

    #[test]
    fn isig_flushes_and_signals() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"done\npartial");
        ld.slave_write(b"unread output");
        let sigs = write_all(&mut ld, b"\x1c");
        assert_eq!(sigs, vec![Signal::Quit]);
        assert_eq!(ld.slave_readable(), 0);
        assert_eq!(ld.slave_read(10), Err(Errno::EAGAIN));
        // Both queues flushed, then the ^\ echoed.
        assert_eq!(echoed(&mut ld), b"^\\");
        write_all(&mut ld, b"x\n");
        assert_eq!(read(&mut ld), b"x\n");
        assert_eq!(
            ld.master_write(b"\x03\x1a").signals,
            vec![Signal::Int, Signal::Tstp]
        );
        assert_eq!(Signal::Int.signo(), signal::SIGINT);
        assert_eq!(Signal::Tstp.signo(), signal::SIGTSTP);
    }

    #[test]
    fn noflsh_keeps_data() {
        let mut ld = ld_with(|t| t.c_lflag |= NOFLSH);
        write_all(&mut ld, b"done\npart");
        ld.slave_write(b"out");
        assert_eq!(write_all(&mut ld, b"\x03"), vec![Signal::Int]);
        assert_eq!(echoed(&mut ld), b"done\r\npartout^C");
        write_all(&mut ld, b"ial\n");
        assert_eq!(read(&mut ld), b"done\n");
        assert_eq!(read(&mut ld), b"partial\n");
    }

    #[test]
    fn isig_off_passes_control_chars() {
        let mut ld = ld_with(|t| t.c_lflag &= !ISIG);
        assert!(write_all(&mut ld, b"\x03\n").is_empty());
        assert_eq!(read(&mut ld), b"\x03\n");
    }

    #[test]
    fn veof_at_line_start_is_eof_mid_line_pushes() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"abc\x04");
        assert_eq!(ld.slave_readable(), 3);
        assert_eq!(read(&mut ld), b"abc");
        assert_eq!(
            ld.slave_read(10),
            Err(Errno::EAGAIN),
            "the EOF went with the line"
        );
        write_all(&mut ld, b"\x04");
        assert_eq!(ld.slave_readable(), 1);
        assert_eq!(ld.slave_read(10), Ok(vec![]));
        assert_eq!(ld.slave_read(10), Err(Errno::EAGAIN));
        // Not echoed.
        assert_eq!(echoed(&mut ld), b"abc");
        // Two EOFs are two zero-length reads; lines around them keep order.
        write_all(&mut ld, b"\x04\x04x\n");
        assert_eq!(ld.slave_read(10), Ok(vec![]));
        assert_eq!(ld.slave_read(10), Ok(vec![]));
        assert_eq!(read(&mut ld), b"x\n");
        // Partial read of an EOF-terminated line.
        write_all(&mut ld, b"abcd\x04");
        assert_eq!(ld.slave_read(2).unwrap(), b"ab");
        assert_eq!(ld.slave_read(2).unwrap(), b"cd");
        assert_eq!(ld.slave_read(2), Err(Errno::EAGAIN));
    }

    #[test]
    fn veol_and_veol2_end_lines() {
        let mut ld = ld_with(|t| {
            t.c_cc[VEOL] = b';';
            t.c_cc[VEOL2] = b'|';
        });
        write_all(&mut ld, b"a;b|c");
        assert_eq!(read(&mut ld), b"a;");
        assert_eq!(read(&mut ld), b"b|");
        assert_eq!(ld.slave_read(10), Err(Errno::EAGAIN));
        assert_eq!(echoed(&mut ld), b"a;b|c");
    }

    #[test]
    fn lnext_quotes_the_next_char() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"a\x16\x03\x16\x7f\x16\n\n");
        assert_eq!(read(&mut ld), b"a\x03\x7f\n\n");
        assert_eq!(echoed(&mut ld), b"a^\x08^C^\x08^?^\x08^J\r\n");
    }

    #[test]
    fn reprint_redraws_the_line() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"ab\x01\x12");
        assert_eq!(echoed(&mut ld), b"ab^A^R\r\nab^A");
        write_all(&mut ld, b"\n");
        assert_eq!(read(&mut ld), b"ab\x01\n");
    }

    #[test]
    fn non_canonical_returns_bytes_immediately() {
        let mut ld = ld_with(make_raw);
        assert_eq!(ld.vmin_vtime(), (1, 0));
        assert_eq!(ld.slave_read(10), Err(Errno::EAGAIN));
        write_all(&mut ld, b"a\x03\x7f\x04\n");
        assert_eq!(ld.slave_readable(), 5);
        assert_eq!(ld.slave_read(2).unwrap(), b"a\x03");
        assert_eq!(read(&mut ld), b"\x7f\x04\n");
        assert_eq!(ld.master_readable(), 0, "raw: no echo");
        // Non-canonical with echo and signals, like a readline-style editor.
        let mut ld = ld_with(|t| t.c_lflag &= !ICANON);
        assert_eq!(write_all(&mut ld, b"x\r\x03y"), vec![Signal::Int]);
        assert_eq!(read(&mut ld), b"y");
        assert_eq!(echoed(&mut ld), b"^Cy");
    }

    #[test]
    fn switching_canonical_off_and_on_moves_pending_data() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"line\npart");
        let mut t = *ld.termios();
        t.c_lflag &= !ICANON;
        ld.set_termios(t);
        assert_eq!(ld.slave_readable(), 9);
        assert_eq!(ld.slave_read(5).unwrap(), b"line\n");
        write_all(&mut ld, b"ial");
        t.c_lflag |= ICANON;
        ld.set_termios(t);
        // What was queued becomes one line.
        assert_eq!(read(&mut ld), b"partial");
        assert_eq!(ld.slave_read(10), Err(Errno::EAGAIN));
    }

    #[test]
    fn iutf8_erase_removes_whole_character() {
        let mut ld = ld_with(|t| t.c_iflag |= IUTF8);
        write_all(&mut ld, "aé€😀".as_bytes());
        echoed(&mut ld);
        write_all(&mut ld, b"\x7f\x7f");
        // One column each: one "\b \b" per character, not per byte.
        assert_eq!(echoed(&mut ld), b"\x08 \x08\x08 \x08");
        write_all(&mut ld, b"\n");
        assert_eq!(read(&mut ld), "aé\n".as_bytes());
        // Without IUTF8 erase takes one byte.
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, "é\x7f\n".as_bytes());
        assert_eq!(read(&mut ld), &[0xc3, b'\n']);
        // Word erase treats UTF-8 letters as word characters.
        let mut ld = ld_with(|t| t.c_iflag |= IUTF8);
        write_all(&mut ld, "x née\x17\n".as_bytes());
        assert_eq!(read(&mut ld), b"x \n");
    }

    #[test]
    fn ixon_stops_and_starts_output() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"\x13");
        assert!(ld.output_stopped());
        assert!(!ld.slave_writable());
        assert_eq!(ld.slave_write(b"x"), 0);
        write_all(&mut ld, b"a");
        assert!(ld.output_stopped(), "no IXANY: only VSTART restarts");
        write_all(&mut ld, b"\x11");
        assert!(!ld.output_stopped());
        assert_eq!(ld.slave_write(b"x"), 1);
        write_all(&mut ld, b"\n");
        assert_eq!(read(&mut ld), b"a\n", "flow characters are not input");

        let mut ld = ld_with(|t| t.c_iflag |= IXANY);
        write_all(&mut ld, b"\x13b");
        assert!(!ld.output_stopped());
        ld.stop_output();
        write_all(&mut ld, b"c\x11");
        assert!(ld.output_stopped(), "tcflow(TCOOFF) outranks the keyboard");
        ld.start_output();
        assert!(ld.slave_writable());
    }

    #[test]
    fn backpressure_non_canonical() {
        let mut ld = ld_with(make_raw);
        let data = noise(INPUT_CAPACITY + 100, 7);
        let o = ld.master_write(&data);
        assert_eq!(o.consumed, INPUT_CAPACITY);
        assert!(!ld.master_writable());
        assert_eq!(ld.master_write(&data[o.consumed..]).consumed, 0);
        assert_eq!(ld.slave_read(50).unwrap(), &data[..50]);
        assert!(ld.master_writable());
        assert_eq!(ld.master_write(&data[o.consumed..]).consumed, 50);
        let mut got = Vec::new();
        while let Ok(b) = ld.slave_read(1000) {
            got.extend(b);
        }
        assert_eq!(got, &data[50..INPUT_CAPACITY + 50]);

        // The processed path (ISIG on) stops at the same place, and a signal
        // character still gets through a full queue.
        let mut ld = ld_with(|t| {
            make_raw(t);
            t.c_lflag |= ISIG;
        });
        let fill = vec![b'x'; INPUT_CAPACITY + 10];
        assert_eq!(ld.master_write(&fill).consumed, INPUT_CAPACITY);
        let o = ld.master_write(b"\x03zz");
        assert_eq!((o.consumed, o.signals), (3, vec![Signal::Int]));
        assert_eq!(read(&mut ld), b"zz");
    }

    #[test]
    fn backpressure_canonical_keeps_complete_lines() {
        let mut ld = ld_with(|t| t.c_lflag &= !ECHO);
        let line = [b"y".repeat(99), b"\n".to_vec()].concat();
        let mut written = 0;
        let stream = line.repeat(50);
        loop {
            let o = ld.master_write(&stream[written..]);
            written += o.consumed;
            if o.consumed == 0 {
                break;
            }
        }
        assert!(written < stream.len());
        assert!(written >= INPUT_CAPACITY - 1);
        assert!(!ld.master_writable());
        let mut got = Vec::new();
        while written < stream.len() || ld.slave_readable() > 0 {
            if let Ok(b) = ld.slave_read(line.len()) {
                assert_eq!(b, line, "whole lines, one per read");
                got.extend(b);
            }
            written += ld.master_write(&stream[written..]).consumed;
        }
        assert_eq!(got, stream);
    }

    #[test]
    fn overlong_canonical_line_discards_but_stays_editable() {
        let mut ld = LineDiscipline::new();
        let o = ld.master_write(&vec![b'z'; INPUT_CAPACITY + 50]);
        assert_eq!(
            o.consumed,
            INPUT_CAPACITY + 50,
            "nobody could drain it: discard"
        );
        assert!(ld.master_writable());
        let echo = echoed(&mut ld);
        assert_eq!(echo.iter().filter(|&&b| b == BEL).count(), 51);
        write_all(&mut ld, b"\x7f\n");
        let got = read(&mut ld);
        assert_eq!(got.len(), INPUT_CAPACITY - 1);
        assert_eq!(got.last(), Some(&b'\n'));
    }

    #[test]
    fn output_backpressure_and_echo_reserve() {
        let mut ld = LineDiscipline::new();
        let data = vec![b'o'; OUTPUT_CAPACITY + 10];
        assert_eq!(ld.slave_write(&data), OUTPUT_CAPACITY);
        assert!(!ld.slave_writable());
        assert_eq!(ld.slave_write(b"more"), 0);
        // Typing still works and echoes past the cap...
        write_all(&mut ld, b"ls\n");
        assert_eq!(read(&mut ld), b"ls\n");
        assert_eq!(ld.master_readable(), OUTPUT_CAPACITY + 4);
        // ...up to the reserve, then echo is dropped but input is not.
        let typed = [vec![b'k'; 3000], b"\n".to_vec()].concat();
        for _ in 0..2 {
            write_all(&mut ld, &typed);
            assert_eq!(read(&mut ld), typed);
        }
        assert_eq!(ld.master_readable(), OUTPUT_CAPACITY + ECHO_RESERVE);
        // A partial unit is never queued: "\r\n" needs 2 bytes.
        ld.master_read(OUTPUT_CAPACITY + ECHO_RESERVE);
        assert_eq!(
            ld.slave_write(&vec![b'o'; OUTPUT_CAPACITY - 1]),
            OUTPUT_CAPACITY - 1
        );
        assert_eq!(ld.slave_write(b"\n"), 0);
        assert_eq!(ld.slave_write(b"x\n"), 1);
        assert!(!ld.output_drained());
        ld.flush_output();
        assert!(ld.output_drained());
    }

    #[test]
    fn tcflush_input() {
        let mut ld = LineDiscipline::new();
        write_all(&mut ld, b"a\nb");
        ld.flush_input();
        assert_eq!(ld.slave_readable(), 0);
        write_all(&mut ld, b"c\n");
        assert_eq!(read(&mut ld), b"c\n");
    }

    #[test]
    fn pty_forces_cs8_cread() {
        let ld = ld_with(|t| t.c_cflag = CS7 | PARENB);
        assert_eq!(ld.termios().c_cflag, CS8 | CREAD);
    }

    #[test]
    fn bulk_input_raw_arrives_intact() {
        let mut ld = ld_with(make_raw);
        let data = noise(16 << 20, 42);
        let (mut sent, mut got) = (0, Vec::with_capacity(data.len()));
        let mut chunk = 1;
        while got.len() < data.len() {
            let end = (sent + chunk).min(data.len());
            sent += ld.master_write(&data[sent..end]).consumed;
            if let Ok(b) = ld.slave_read(chunk / 2 + 1) {
                got.extend(b);
            }
            chunk = chunk % 9000 + 777;
        }
        assert!(got == data, "input stream corrupted");
    }

    #[test]
    fn bulk_input_canonical_with_echo_arrives_intact() {
        let mut ld = LineDiscipline::new();
        // Printable lines: ordinary characters only, so input == output.
        let mut data: Vec<u8> = noise(16 << 20, 9)
            .into_iter()
            .enumerate()
            .map(|(i, b)| if i % 97 == 96 { b'\n' } else { b' ' + b % 94 })
            .collect();
        *data.last_mut().unwrap() = b'\n'; // a partial last line never reads
        let (mut sent, mut got, mut echo) = (0, Vec::new(), Vec::new());
        let mut chunk = 3;
        while got.len() < data.len() {
            let end = (sent + chunk).min(data.len());
            sent += ld.master_write(&data[sent..end]).consumed;
            while let Ok(b) = ld.slave_read(4096) {
                got.extend(b);
            }
            echo.extend(ld.master_read(chunk * 2));
            chunk = chunk % 5000 + 1231;
        }
        echo.extend(ld.master_read(usize::MAX));
        assert!(got == data, "input stream corrupted");
        let expect_echo: Vec<u8> = data
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    b"\r\n".to_vec()
                } else {
                    vec![b]
                }
            })
            .collect();
        assert!(echo == expect_echo, "echo stream corrupted");
    }

    #[test]
    fn bulk_output_arrives_intact() {
        let mut ld = LineDiscipline::new(); // OPOST|ONLCR
        let data = noise(16 << 20, 3);
        let expect: Vec<u8> = data
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    b"\r\n".to_vec()
                } else {
                    vec![b]
                }
            })
            .collect();
        let (mut sent, mut got) = (0, Vec::with_capacity(expect.len()));
        let mut chunk = 1;
        while sent < data.len() || ld.master_readable() > 0 {
            let end = (sent + chunk).min(data.len());
            sent += ld.slave_write(&data[sent..end]);
            got.extend(ld.master_read(chunk * 2 / 3 + 1));
            chunk = chunk % 70000 + 4099;
        }
        assert!(got == expect, "output stream corrupted");
        // And unprocessed.
        let mut ld = ld_with(make_raw);
        let (mut sent, mut got) = (0, Vec::with_capacity(data.len()));
        while sent < data.len() || ld.master_readable() > 0 {
            sent += ld.slave_write(&data[sent..(sent + 50_000).min(data.len())]);
            got.extend(ld.master_read(30_000));
        }
        assert!(got == data, "raw output stream corrupted");
    }
}
