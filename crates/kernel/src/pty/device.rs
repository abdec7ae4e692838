//! PTY pairs: a master and a slave around one line discipline.
//!
//! The master is what a terminal emulator holds; the slave is the terminal a
//! shell runs on. Signals the line discipline raises (^C), window changes and
//! hangups are queued as [`TtyEvent`]s for the kernel, which owns the
//! process table and delivers them after the call that caused them.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use sidecar_abi::consts::tty_arg::{TCIFLUSH, TCIOFF, TCIOFLUSH, TCION, TCOFLUSH, TCOOFF, TCOON};

use super::line_discipline::LineDiscipline;
use super::termios::{Termios, Winsize};
use crate::errno::{Errno, KResult};
use crate::file::{poll, FileDescription, FileType, Stat};
use crate::process::Pid;
use crate::wait::{Notifier, WaitKey, WaitQueue};

/// Something the kernel must do on a pty's behalf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TtyEvent {
    /// Send `sig` to process group `pgrp`.
    Signal { pgrp: Pid, sig: i32 },
    /// The master closed: hang up session `sid` (foreground group `pgrp`).
    Hangup { sid: Pid, pgrp: Option<Pid> },
}

/// Events from every pty, drained by the kernel after each call.
pub type TtyEvents = Arc<Mutex<Vec<TtyEvent>>>;

#[derive(Debug)]
struct State {
    ld: LineDiscipline,
    winsize: Winsize,
    master_open: bool,
    /// Open slave descriptions.
    slaves: usize,
    slave_ever_opened: bool,
    locked: bool,
    /// The session this is the controlling tty of.
    session: Option<Pid>,
    foreground: Option<Pid>,
}

/// One pseudo-terminal pair: the line discipline between a master and its
/// slaves.
///
/// Invariants: once the master has closed, the tty is hung up for good
/// (slave reads see end of file, writes fail with `EIO`, no slave opens);
/// `foreground` is cleared whenever `session` is; the pty never signals a
/// process itself but queues a [`TtyEvent`] for the kernel.
///
/// Lock order: the pty's `state`, then the tty events, then the notifier.
#[derive(Debug)]
pub struct Pty {
    index: u32,
    state: Mutex<State>,
    /// Notified on anything the master side may wait for.
    master_q: WaitQueue,
    /// Notified on anything the slave side may wait for.
    slave_q: WaitQueue,
    events: TtyEvents,
    ino: u64,
}

/// The open registry of pairs: `/dev/pts/N` looks them up here.
#[derive(Debug, Default)]
pub struct PtyTable {
    ptys: Vec<Weak<Pty>>,
}

impl PtyTable {
    /// A new pair; returns its master.
    pub fn open_master(&mut self, notifier: &Notifier, events: &TtyEvents) -> Arc<PtyMaster> {
        let index = self
            .ptys
            .iter()
            .position(|w| w.strong_count() == 0)
            .unwrap_or(self.ptys.len());
        static INO: AtomicU64 = AtomicU64::new(1);
        let pty = Arc::new(Pty {
            index: index as u32,
            state: Mutex::new(State {
                ld: LineDiscipline::new(),
                winsize: Winsize::default(),
                master_open: true,
                slaves: 0,
                slave_ever_opened: false,
                locked: true,
                session: None,
                foreground: None,
            }),
            master_q: WaitQueue::new(notifier),
            slave_q: WaitQueue::new(notifier),
            events: events.clone(),
            ino: INO.fetch_add(1, Ordering::Relaxed),
        });
        if index == self.ptys.len() {
            self.ptys.push(Arc::downgrade(&pty));
        } else {
            self.ptys[index] = Arc::downgrade(&pty);
        }
        Arc::new(PtyMaster(pty))
    }

    pub fn get(&self, index: u32) -> Option<Arc<Pty>> {
        self.ptys.get(index as usize)?.upgrade()
    }
}

impl Pty {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    pub fn index(&self) -> u32 {
        self.index
    }

    fn notify_both(&self) {
        self.master_q.notify();
        self.slave_q.notify();
    }

    /// Opens a slave; `EIO` while locked or after hangup.
    pub fn open_slave(self: &Arc<Self>) -> KResult<Arc<PtySlave>> {
        let mut s = self.lock();
        if s.locked || !s.master_open {
            return Err(Errno::EIO);
        }
        s.slaves += 1;
        s.slave_ever_opened = true;
        drop(s);
        self.notify_both();
        Ok(Arc::new(PtySlave(self.clone())))
    }

    pub fn session(&self) -> Option<Pid> {
        self.lock().session
    }

    /// Makes this the controlling tty of `sid`, with `pgrp` in front.
    pub fn attach(&self, sid: Pid, pgrp: Pid) {
        let mut s = self.lock();
        s.session = Some(sid);
        s.foreground = Some(pgrp);
    }

    pub fn detach(&self) {
        let mut s = self.lock();
        s.session = None;
        s.foreground = None;
    }

    pub fn foreground(&self) -> Option<Pid> {
        self.lock().foreground
    }

    pub fn set_foreground(&self, pgrp: Pid) {
        self.lock().foreground = Some(pgrp);
    }

    pub fn termios(&self) -> Termios {
        *self.lock().ld.termios()
    }

    pub fn set_termios(&self, t: Termios, flush_input: bool) {
        let mut s = self.lock();
        if flush_input {
            s.ld.flush_input();
        }
        s.ld.set_termios(t);
        drop(s);
        self.notify_both();
    }

    pub fn winsize(&self) -> Winsize {
        self.lock().winsize
    }

    /// Sets the window size; SIGWINCH to the foreground group if it changed.
    pub fn set_winsize(&self, w: Winsize) {
        let mut s = self.lock();
        if s.winsize == w {
            return;
        }
        s.winsize = w;
        if let Some(pgrp) = s.foreground {
            self.events.lock().unwrap().push(TtyEvent::Signal {
                pgrp,
                sig: crate::signal::SIGWINCH,
            });
        }
    }

    pub fn flush(&self, queue: i32) -> KResult<()> {
        let mut s = self.lock();
        match queue {
            TCIFLUSH => s.ld.flush_input(),
            TCOFLUSH => s.ld.flush_output(),
            TCIOFLUSH => {
                s.ld.flush_input();
                s.ld.flush_output();
            }
            _ => return Err(Errno::EINVAL),
        }
        drop(s);
        self.notify_both();
        Ok(())
    }

    pub fn flow(&self, action: i32) -> KResult<()> {
        let mut s = self.lock();
        match action {
            TCOOFF => s.ld.stop_output(),
            TCOON => s.ld.start_output(),
            // Input flow control has nothing to stop on a pty.
            TCIOFF | TCION => {}
            _ => return Err(Errno::EINVAL),
        }
        drop(s);
        self.notify_both();
        Ok(())
    }

    pub fn locked(&self) -> bool {
        self.lock().locked
    }

    /// The master has closed.
    pub fn hung_up(&self) -> bool {
        !self.lock().master_open
    }

    pub fn set_locked(&self, locked: bool) {
        self.lock().locked = locked;
    }

    /// Bytes the slave has written that the master has not read.
    pub fn output_queued(&self) -> usize {
        self.lock().ld.master_readable()
    }

    pub fn input_queued(&self) -> usize {
        self.lock().ld.slave_inq()
    }

    /// Reads whatever is queued for the slave now, ignoring VMIN (a VTIME
    /// timer ran out).
    pub fn read_available(&self, len: usize) -> KResult<Vec<u8>> {
        let mut s = self.lock();
        if s.ld.slave_readable() == 0 {
            return Ok(Vec::new());
        }
        let r = s.ld.slave_read(len);
        drop(s);
        self.notify_both();
        r
    }

    /// The slave's non-canonical read settings, if they need a timer.
    pub fn vmin_vtime(&self) -> (u8, u8) {
        self.lock().ld.vmin_vtime()
    }

    fn stat(&self, rdev_minor: u32) -> Stat {
        let now = crate::file::now_ns();
        Stat {
            dev: 0x7074_7300 + u64::from(rdev_minor),
            ino: self.ino,
            file_type: Some(FileType::CharacterDevice),
            mode: 0o620,
            nlink: 1,
            size: 0,
            atime: now,
            mtime: now,
            ctime: now,
        }
    }
}

/// The master side.
#[derive(Debug)]
pub struct PtyMaster(pub Arc<Pty>);

/// One open of the slave side.
#[derive(Debug)]
pub struct PtySlave(pub Arc<Pty>);

impl FileDescription for PtyMaster {
    fn file_type(&self) -> FileType {
        FileType::CharacterDevice
    }

    fn read(&self, len: usize) -> KResult<Vec<u8>> {
        let mut s = self.0.lock();
        let out = s.ld.master_read(len);
        if out.is_empty() && len > 0 {
            return Err(if s.slave_ever_opened && s.slaves == 0 {
                Errno::EIO
            } else {
                Errno::EAGAIN
            });
        }
        drop(s);
        self.0.notify_both();
        Ok(out)
    }

    fn write(&self, data: &[u8], _append: bool) -> KResult<usize> {
        let mut s = self.0.lock();
        let outcome = s.ld.master_write(data);
        if outcome.consumed == 0 && !data.is_empty() && outcome.signals.is_empty() {
            return Err(Errno::EAGAIN);
        }
        if let Some(pgrp) = s.foreground {
            let mut ev = self.0.events.lock().unwrap();
            for sig in outcome.signals {
                ev.push(TtyEvent::Signal {
                    pgrp,
                    sig: sig.signo(),
                });
            }
        }
        drop(s);
        self.0.notify_both();
        Ok(outcome.consumed)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(self.0.stat(2))
    }

    fn poll(&self) -> u16 {
        let s = self.0.lock();
        let mut m = 0;
        if s.ld.master_readable() > 0 {
            m |= poll::POLLIN;
        }
        if s.ld.master_writable() {
            m |= poll::POLLOUT;
        }
        if s.slave_ever_opened && s.slaves == 0 {
            m |= poll::POLLHUP;
        }
        m
    }

    fn wait_keys(&self) -> Vec<WaitKey> {
        vec![self.0.master_q.key()]
    }

    fn bytes_readable(&self) -> KResult<usize> {
        Ok(self.0.output_queued())
    }

    fn is_tty(&self) -> Option<Arc<Pty>> {
        Some(self.0.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for PtyMaster {
    fn drop(&mut self) {
        let mut s = self.0.lock();
        s.master_open = false;
        if let Some(sid) = s.session {
            self.0.events.lock().unwrap().push(TtyEvent::Hangup {
                sid,
                pgrp: s.foreground,
            });
        }
        drop(s);
        self.0.notify_both();
    }
}

impl FileDescription for PtySlave {
    fn file_type(&self) -> FileType {
        FileType::CharacterDevice
    }

    /// Non-canonical VMIN/VTIME timing is applied by the syscall layer; this
    /// is the attempt itself.
    fn read(&self, len: usize) -> KResult<Vec<u8>> {
        let mut s = self.0.lock();
        if !s.master_open {
            return Ok(Vec::new());
        }
        let canonical = s.ld.termios().lflag(super::termios::ICANON);
        if !canonical {
            let (vmin, vtime) = s.ld.vmin_vtime();
            let avail = s.ld.slave_readable();
            // VMIN=0, VTIME=0 is a poll: whatever is there, even nothing.
            if vmin == 0 && vtime == 0 && avail == 0 {
                return Ok(Vec::new());
            }
            let want = usize::from(vmin).min(len).max(1);
            if avail < want {
                return Err(Errno::EAGAIN);
            }
        }
        let r = s.ld.slave_read(len);
        drop(s);
        if r.is_ok() {
            self.0.notify_both();
        }
        r
    }

    fn write(&self, data: &[u8], _append: bool) -> KResult<usize> {
        let mut s = self.0.lock();
        if !s.master_open {
            return Err(Errno::EIO);
        }
        let n = s.ld.slave_write(data);
        if n == 0 && !data.is_empty() {
            return Err(Errno::EAGAIN);
        }
        drop(s);
        self.0.notify_both();
        Ok(n)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(self.0.stat(3))
    }

    fn poll(&self) -> u16 {
        let s = self.0.lock();
        if !s.master_open {
            return poll::POLLIN | poll::POLLOUT | poll::POLLERR | poll::POLLHUP;
        }
        let mut m = 0;
        if s.ld.slave_readable() > 0 {
            m |= poll::POLLIN;
        }
        if s.ld.slave_writable() {
            m |= poll::POLLOUT;
        }
        m
    }

    fn wait_keys(&self) -> Vec<WaitKey> {
        vec![self.0.slave_q.key()]
    }

    fn bytes_readable(&self) -> KResult<usize> {
        Ok(self.0.input_queued())
    }

    fn is_tty(&self) -> Option<Arc<Pty>> {
        Some(self.0.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for PtySlave {
    fn drop(&mut self) {
        self.0.lock().slaves -= 1;
        self.0.notify_both();
    }
}
