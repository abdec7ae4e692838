//! Pipes: a bounded byte queue with one read end and one write end.
//!
//! Each end is its own description; when the last fd referring to an end is
//! closed the end is dropped, which is what gives the peer EOF (reader) or
//! EPIPE/POLLERR (writer). Lock order: the pipe's state mutex is a leaf,
//! except that it may be held while notifying (the notifier lock is the
//! innermost lock of the kernel).

use std::any::Any;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use sidecar_abi::consts::limits;

use crate::errno::{Errno, KResult};
use crate::file::{poll, FileDescription, FileType, OpenFile, Stat};
use crate::wait::{Notifier, WaitKey, WaitQueue};

/// Writes of at most this many bytes are atomic.
pub const PIPE_BUF: usize = limits::PIPE_BUF as usize;
/// Linux's default pipe capacity.
pub const PIPE_CAPACITY: usize = 65536;

#[derive(Debug)]
struct State {
    buf: VecDeque<u8>,
    capacity: usize,
    reader_open: bool,
    writer_open: bool,
}

#[derive(Debug)]
struct Pipe {
    state: Mutex<State>,
    /// Readers wait here: notified on data and on writer close.
    readq: WaitQueue,
    /// Writers wait here: notified on room and on reader close.
    writeq: WaitQueue,
    ino: u64,
}

#[derive(Debug)]
pub struct PipeReader(Arc<Pipe>);

#[derive(Debug)]
pub struct PipeWriter(Arc<Pipe>);

/// A new pipe; returns its read and write ends as open files.
pub fn pipe(notifier: &Notifier) -> (Arc<OpenFile>, Arc<OpenFile>) {
    let (r, w) = pipe_ends(notifier, PIPE_CAPACITY);
    (
        OpenFile::new(r, crate::file::status::READ),
        OpenFile::new(w, crate::file::status::WRITE),
    )
}

/// The two ends as bare descriptions.
pub fn pipe_ends(notifier: &Notifier, capacity: usize) -> (Arc<PipeReader>, Arc<PipeWriter>) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static INO: AtomicU64 = AtomicU64::new(1);
    let p = Arc::new(Pipe {
        state: Mutex::new(State {
            buf: VecDeque::new(),
            capacity,
            reader_open: true,
            writer_open: true,
        }),
        readq: WaitQueue::new(notifier),
        writeq: WaitQueue::new(notifier),
        ino: INO.fetch_add(1, Ordering::Relaxed),
    });
    (Arc::new(PipeReader(p.clone())), Arc::new(PipeWriter(p)))
}

fn pipe_stat(p: &Pipe) -> Stat {
    let now = crate::file::now_ns();
    Stat {
        dev: PIPEFS_DEV,
        ino: p.ino,
        file_type: Some(FileType::Fifo),
        mode: 0o600,
        nlink: 1,
        size: 0,
        atime: now,
        mtime: now,
        ctime: now,
    }
}

const PIPEFS_DEV: u64 = 0x5049_5045;

impl FileDescription for PipeReader {
    fn file_type(&self) -> FileType {
        FileType::Fifo
    }

    fn read(&self, len: usize) -> KResult<Vec<u8>> {
        let mut s = self.0.state.lock().unwrap();
        if s.buf.is_empty() {
            return if s.writer_open {
                Err(Errno::EAGAIN)
            } else {
                Ok(Vec::new())
            };
        }
        let n = len.min(s.buf.len());
        let out: Vec<u8> = s.buf.drain(..n).collect();
        self.0.writeq.notify();
        Ok(out)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(pipe_stat(&self.0))
    }

    fn poll(&self) -> u16 {
        let s = self.0.state.lock().unwrap();
        let mut m = 0;
        if !s.buf.is_empty() {
            m |= poll::POLLIN;
        }
        if !s.writer_open {
            m |= poll::POLLHUP;
        }
        m
    }

    fn wait_keys(&self) -> Vec<WaitKey> {
        vec![self.0.readq.key()]
    }

    fn bytes_readable(&self) -> KResult<usize> {
        Ok(self.0.state.lock().unwrap().buf.len())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl FileDescription for PipeWriter {
    fn file_type(&self) -> FileType {
        FileType::Fifo
    }

    fn write(&self, data: &[u8], _append: bool) -> KResult<usize> {
        let mut s = self.0.state.lock().unwrap();
        if !s.reader_open {
            return Err(Errno::EPIPE);
        }
        let room = s.capacity - s.buf.len();
        let n = if data.len() <= PIPE_BUF {
            if room < data.len() {
                return Err(Errno::EAGAIN);
            }
            data.len()
        } else {
            if room == 0 {
                return Err(Errno::EAGAIN);
            }
            room.min(data.len())
        };
        s.buf.extend(&data[..n]);
        if n > 0 {
            self.0.readq.notify();
        }
        Ok(n)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(pipe_stat(&self.0))
    }

    fn poll(&self) -> u16 {
        // Linux's pipe_poll: room and a missing reader are reported apart.
        let s = self.0.state.lock().unwrap();
        let mut m = 0;
        if s.capacity - s.buf.len() >= PIPE_BUF.min(s.capacity) {
            m |= poll::POLLOUT;
        }
        if !s.reader_open {
            m |= poll::POLLERR;
        }
        m
    }

    fn wait_keys(&self) -> Vec<WaitKey> {
        vec![self.0.writeq.key()]
    }

    fn bytes_readable(&self) -> KResult<usize> {
        Ok(self.0.state.lock().unwrap().buf.len())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for PipeReader {
    fn drop(&mut self) {
        let mut s = self.0.state.lock().unwrap();
        s.reader_open = false;
        // Nobody can read what is buffered any more.
        s.buf.clear();
        self.0.writeq.notify();
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        self.0.state.lock().unwrap().writer_open = false;
        self.0.readq.notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_write_eof_and_epipe() {
        let n = Notifier::new();
        let (r, w) = pipe_ends(&n, PIPE_CAPACITY);
        assert_eq!(r.read(10).unwrap_err(), Errno::EAGAIN);
        assert_eq!(w.write(b"hello", false).unwrap(), 5);
        assert_eq!(r.poll(), poll::POLLIN);
        assert_eq!(r.read(3).unwrap(), b"hel");
        assert_eq!(r.read(10).unwrap(), b"lo");
        drop(w);
        assert_eq!(r.poll(), poll::POLLHUP);
        assert!(r.read(10).unwrap().is_empty());

        let (r, w) = pipe_ends(&n, PIPE_CAPACITY);
        drop(r);
        assert_eq!(w.write(b"x", false).unwrap_err(), Errno::EPIPE);
        assert_eq!(w.poll(), poll::POLLERR | poll::POLLOUT);
    }

    #[test]
    fn small_writes_are_atomic_and_big_ones_partial() {
        let n = Notifier::new();
        let (r, w) = pipe_ends(&n, 8192);
        assert_eq!(w.write(&[1; 6000], false).unwrap(), 6000);
        // 2192 bytes of room: an atomic 4096-byte write must not split.
        assert_eq!(w.write(&[2; 4096], false).unwrap_err(), Errno::EAGAIN);
        assert_eq!(w.write(&[3; 5000], false).unwrap(), 2192);
        assert_eq!(w.poll(), 0);
        assert_eq!(r.read(8192).unwrap().len(), 8192);
        assert_eq!(w.poll(), poll::POLLOUT);
    }

    #[test]
    fn state_changes_notify_the_right_queue() {
        let n = Notifier::new();
        let (r, w) = pipe_ends(&n, PIPE_CAPACITY);
        n.drain();
        w.write(b"a", false).unwrap();
        assert_eq!(n.drain().into_iter().collect::<Vec<_>>(), r.wait_keys());
        r.read(1).unwrap();
        assert_eq!(n.drain().into_iter().collect::<Vec<_>>(), w.wait_keys());
    }
}
