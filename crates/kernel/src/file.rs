//! The interface of everything that can sit behind a file descriptor.
//!
//! A [`FileDescription`] is Linux's "open file description": the object that
//! `open`, `pipe` or `socket` creates and that `dup` and inheritance share.
//! Its methods never block. Where Linux would block they return
//! [`Errno::EAGAIN`] and the syscall layer parks the call on
//! [`FileDescription::wait_keys`] unless the fd is non-blocking.
//!
//! Per-description status flags (access mode, `O_APPEND`, `O_NONBLOCK`) live in
//! [`OpenFile`], which is what fd tables hold.

use std::any::Any;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use crate::errno::{Errno, KResult};
use crate::wait::WaitKey;

/// Linux poll(2) bits.
pub use sidecar_abi::consts::poll;

/// What kind of object a description is; also the `S_IFMT` of its stat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Unknown,
    BlockDevice,
    CharacterDevice,
    Directory,
    RegularFile,
    SocketDgram,
    SocketStream,
    SymbolicLink,
    Fifo,
}

/// A timestamp in nanoseconds since the Unix epoch.
pub type Timestamp = u64;

/// How `set_times` treats one timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetTime {
    Omit,
    Now,
    At(Timestamp),
}

/// The kernel's stat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub file_type: Option<FileType>,
    /// Permission bits only (`0o7777`).
    pub mode: u32,
    pub nlink: u64,
    pub size: u64,
    pub atime: Timestamp,
    pub mtime: Timestamp,
    pub ctime: Timestamp,
}

/// One directory entry as readdir reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    pub ino: u64,
    pub name: String,
    pub file_type: FileType,
}

/// Where `seek` measures from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whence {
    Set,
    Cur,
    End,
}

/// An object behind a file descriptor. See the module docs for the
/// non-blocking contract.
pub trait FileDescription: Send + Sync + Debug + Any {
    fn file_type(&self) -> FileType;

    /// Reads up to `len` bytes at the description's position. `Ok(empty)`
    /// means end of file.
    fn read(&self, _len: usize) -> KResult<Vec<u8>> {
        Err(Errno::EINVAL)
    }

    /// Writes at the description's position (at the end if `append`).
    fn write(&self, _data: &[u8], _append: bool) -> KResult<usize> {
        Err(Errno::EINVAL)
    }

    fn pread(&self, _len: usize, _offset: u64) -> KResult<Vec<u8>> {
        Err(Errno::ESPIPE)
    }

    fn pwrite(&self, _data: &[u8], _offset: u64) -> KResult<usize> {
        Err(Errno::ESPIPE)
    }

    fn seek(&self, _offset: i64, _whence: Whence) -> KResult<u64> {
        Err(Errno::ESPIPE)
    }

    fn stat(&self) -> KResult<Stat>;

    fn set_size(&self, _size: u64) -> KResult<()> {
        Err(Errno::EINVAL)
    }

    fn set_times(&self, _atime: SetTime, _mtime: SetTime) -> KResult<()> {
        Err(Errno::EPERM)
    }

    fn sync(&self) -> KResult<()> {
        Ok(())
    }

    /// Current readiness as Linux poll bits. Level-triggered.
    fn poll(&self) -> u16 {
        poll::POLLIN | poll::POLLOUT
    }

    /// Queues notified whenever `poll()` may have changed.
    fn wait_keys(&self) -> Vec<WaitKey> {
        Vec::new()
    }

    /// Entries of a directory, `.` and `..` first, then a stable order.
    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        Err(Errno::ENOTDIR)
    }

    /// The absolute VFS path of a directory description; path calls that
    /// name this fd resolve relative to it.
    fn dir_path(&self) -> Option<String> {
        None
    }

    /// The terminal this description is a side of, if any.
    fn is_tty(&self) -> Option<Arc<crate::pty::device::Pty>> {
        None
    }

    /// Bytes ready to read now (FIONREAD).
    fn bytes_readable(&self) -> KResult<usize> {
        Err(Errno::ENOTTY)
    }

    fn as_any(&self) -> &dyn Any;
}

/// Access mode and status flags of an open file description.
pub mod status {
    pub const READ: u32 = 1;
    pub const WRITE: u32 = 2;
    pub const APPEND: u32 = 4;
    pub const NONBLOCK: u32 = 8;
    pub const SYNC: u32 = 16;
}

/// What fd tables hold: a description plus its status flags. Shared by
/// `dup`, `fork`-style inheritance and SCM_RIGHTS, exactly like Linux's
/// `struct file`.
///
/// Invariants: the access mode (`READ`/`WRITE`) is fixed at open, only the
/// status bits change; a charged file holds its place in the VM's file
/// count until its last reference is gone.
#[derive(Debug)]
pub struct OpenFile {
    pub desc: Arc<dyn FileDescription>,
    flags: AtomicU32,
    /// Its place in the VM's count of open files, if it was opened by path.
    _charge: Option<FileCharge>,
}

impl OpenFile {
    pub fn new(desc: Arc<dyn FileDescription>, flags: u32) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            desc,
            flags: AtomicU32::new(flags),
            _charge: None,
        })
    }

    /// A description that counts against a VM-wide limit until its last
    /// reference (fd, inherited copy, SCM_RIGHTS message) is gone.
    pub fn charged(
        desc: Arc<dyn FileDescription>,
        flags: u32,
        charge: FileCharge,
    ) -> Arc<OpenFile> {
        Arc::new(OpenFile {
            desc,
            flags: AtomicU32::new(flags),
            _charge: Some(charge),
        })
    }

    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// Replaces the changeable status flags (APPEND, NONBLOCK, SYNC); the
    /// access mode is fixed at open, as on Linux.
    pub fn set_status(&self, flags: u32) {
        let keep = self.flags() & (status::READ | status::WRITE);
        let change = flags & (status::APPEND | status::NONBLOCK | status::SYNC);
        self.flags.store(keep | change, Ordering::Relaxed);
    }

    pub fn readable(&self) -> bool {
        self.flags() & status::READ != 0
    }

    pub fn writable(&self) -> bool {
        self.flags() & status::WRITE != 0
    }

    pub fn nonblocking(&self) -> bool {
        self.flags() & status::NONBLOCK != 0
    }

    pub fn append(&self) -> bool {
        self.flags() & status::APPEND != 0
    }
}

/// A counter of open files shared by a VM, with its limit (Linux's
/// `fs.file-max`): [`FileCount::charge`] fails with `ENFILE` at the limit.
#[derive(Debug, Clone)]
pub struct FileCount {
    open: Arc<std::sync::atomic::AtomicUsize>,
    limit: usize,
}

impl FileCount {
    pub fn new(limit: usize) -> FileCount {
        FileCount {
            open: Arc::default(),
            limit,
        }
    }

    /// Files open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// One more open file, released when the charge is dropped.
    pub fn charge(&self) -> KResult<FileCharge> {
        self.open
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .map_err(|_| Errno::ENFILE)?;
        Ok(FileCharge(self.open.clone()))
    }
}

/// One file counted by a [`FileCount`].
#[derive(Debug)]
pub struct FileCharge(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for FileCharge {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Nanoseconds since the epoch, now.
pub fn now_ns() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}
