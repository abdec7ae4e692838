//! A host directory mapped into the VFS.
//!
//! The VFS only hands this backend paths whose intermediate components it has
//! just lstat'ed as real directories, and the final component is never
//! followed: stats use `symlink_metadata`, opens use `O_NOFOLLOW`, and
//! namespace calls (`unlink`, `rename`, `link`, ...) do not follow by nature.
//! The kernel serializes VFS calls, so guests cannot race a swap between the
//! walk and the host call; only other host processes could.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::fs::{File, FileTimes, Metadata, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{
    DirBuilderExt, DirEntryExt, FileExt, FileTypeExt, MetadataExt, OpenOptionsExt,
};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{lock, Backend, DirHandle, OpenFlags, Program, SocketEndpoint};
use crate::errno::{Errno, KResult};
use crate::file::{DirEntry, FileDescription, FileType, SetTime, Stat, Timestamp, Whence};

/// Upper bound of one read; bigger requests get a short read.
const MAX_READ: usize = 16 << 20;

fn io(e: std::io::Error) -> Errno {
    Errno::from_io(&e)
}

fn time_ns(secs: i64, nsec: i64) -> Timestamp {
    (secs as i128 * 1_000_000_000 + nsec as i128).clamp(0, u64::MAX as i128) as u64
}

fn file_type_of(mode: u32) -> FileType {
    match mode & libc::S_IFMT {
        libc::S_IFREG => FileType::RegularFile,
        libc::S_IFDIR => FileType::Directory,
        libc::S_IFLNK => FileType::SymbolicLink,
        libc::S_IFCHR => FileType::CharacterDevice,
        libc::S_IFBLK => FileType::BlockDevice,
        libc::S_IFIFO => FileType::Fifo,
        libc::S_IFSOCK => FileType::SocketStream,
        _ => FileType::Unknown,
    }
}

pub(crate) fn stat_of(m: &Metadata) -> Stat {
    Stat {
        dev: m.dev(),
        ino: m.ino(),
        file_type: Some(file_type_of(m.mode())),
        mode: m.mode() & 0o7777,
        nlink: m.nlink(),
        size: m.size(),
        atime: time_ns(m.atime(), m.atime_nsec()),
        mtime: time_ns(m.mtime(), m.mtime_nsec()),
        ctime: time_ns(m.ctime(), m.ctime_nsec()),
    }
}

fn file_times(atime: SetTime, mtime: SetTime) -> FileTimes {
    let conv = |t: SetTime| match t {
        SetTime::Omit => None,
        SetTime::Now => Some(SystemTime::now()),
        SetTime::At(ns) => Some(UNIX_EPOCH + Duration::from_nanos(ns)),
    };
    let mut times = FileTimes::new();
    if let Some(a) = conv(atime) {
        times = times.set_accessed(a);
    }
    if let Some(m) = conv(mtime) {
        times = times.set_modified(m);
    }
    times
}

/// Opens a walked, non-symlink path for its metadata or times. Never blocks
/// (O_NONBLOCK) and never follows (O_NOFOLLOW).
fn open_nofollow(path: &PathBuf, write: bool, extra: i32) -> KResult<File> {
    OpenOptions::new()
        .read(!write)
        .write(write)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY | extra)
        .open(path)
        .map_err(io)
}

pub(crate) struct HostFs {
    root: PathBuf,
    readonly: bool,
    /// Endpoints bound at host socket files, by (dev, ino).
    sockets: Mutex<HashMap<(u64, u64), SocketEndpoint>>,
}

impl fmt::Debug for HostFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostFs")
            .field("root", &self.root)
            .field("readonly", &self.readonly)
            .finish()
    }
}

impl HostFs {
    pub(crate) fn new(host_dir: PathBuf, readonly: bool) -> KResult<HostFs> {
        // The mount source is trusted configuration: follow links to it once.
        let root = std::fs::canonicalize(&host_dir).map_err(io)?;
        if !std::fs::metadata(&root).map_err(io)?.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(HostFs {
            root,
            readonly,
            sockets: Mutex::new(HashMap::new()),
        })
    }

    fn host(&self, rel: &[String]) -> PathBuf {
        let mut p = self.root.clone();
        for c in rel {
            debug_assert!(!c.is_empty() && c != "." && c != ".." && !c.contains('/'));
            p.push(c);
        }
        p
    }

    fn lmeta(&self, rel: &[String]) -> KResult<Metadata> {
        std::fs::symlink_metadata(self.host(rel)).map_err(io)
    }

    fn check_writable(&self) -> KResult<()> {
        if self.readonly {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    /// Forgets the endpoint of a socket file about to lose its last link.
    fn forget_socket(&self, meta: &Metadata) {
        if meta.file_type().is_socket() && meta.nlink() <= 1 {
            lock(&self.sockets).remove(&(meta.dev(), meta.ino()));
        }
    }
}

impl Backend for HostFs {
    fn readonly(&self) -> bool {
        self.readonly
    }

    fn lstat(&self, rel: &[String]) -> KResult<Stat> {
        Ok(stat_of(&self.lmeta(rel)?))
    }

    fn readlink(&self, rel: &[String]) -> KResult<String> {
        let target = std::fs::read_link(self.host(rel)).map_err(io)?;
        Ok(target.to_string_lossy().into_owned())
    }

    fn open_file(
        &self,
        rel: &[String],
        flags: OpenFlags,
        mode: u32,
    ) -> KResult<Arc<dyn FileDescription>> {
        if self.readonly && (flags.write || flags.truncate) {
            return Err(Errno::EROFS);
        }
        // Check the type first: even a non-blocking open of a host FIFO or
        // device has side effects.
        match self.lmeta(rel) {
            Ok(m) => match file_type_of(m.mode()) {
                FileType::RegularFile => {}
                FileType::Directory => return Err(Errno::EISDIR),
                FileType::SymbolicLink => return Err(Errno::ELOOP),
                _ => return Err(Errno::ENXIO),
            },
            Err(Errno::ENOENT) if flags.create => {}
            Err(e) => return Err(e),
        }
        // Creation flags go through custom_flags so that O_RDONLY|O_CREAT
        // works as on Linux (std insists on write access for create()).
        let mut extra = libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY;
        if flags.create && !self.readonly {
            extra |= libc::O_CREAT;
            if flags.excl {
                extra |= libc::O_EXCL;
            }
        }
        if flags.truncate {
            extra |= libc::O_TRUNC;
        }
        let file = OpenOptions::new()
            .read(flags.read || !flags.write)
            .write(flags.write)
            .mode(mode & 0o7777)
            .custom_flags(extra)
            .open(self.host(rel))
            .map_err(io)?;
        let meta = file.metadata().map_err(io)?;
        match file_type_of(meta.mode()) {
            FileType::RegularFile => {}
            FileType::Directory => return Err(Errno::EISDIR),
            // Host devices, FIFOs and sockets are not exposed.
            _ => return Err(Errno::ENXIO),
        }
        Ok(Arc::new(HostFile {
            file,
            pos: Mutex::new(0),
            readonly: self.readonly,
        }))
    }

    fn open_dir(&self, rel: &[String]) -> KResult<Box<dyn DirHandle>> {
        let path = self.host(rel);
        let file = open_nofollow(&path, false, libc::O_DIRECTORY)?;
        Ok(Box::new(HostDir {
            file,
            path,
            readonly: self.readonly,
        }))
    }

    fn mkdir(&self, rel: &[String], mode: u32) -> KResult<()> {
        self.check_writable()?;
        std::fs::DirBuilder::new()
            .mode(mode & 0o7777)
            .create(self.host(rel))
            .map_err(io)
    }

    fn rmdir(&self, rel: &[String]) -> KResult<()> {
        self.check_writable()?;
        if rel.is_empty() {
            return Err(Errno::EBUSY);
        }
        std::fs::remove_dir(self.host(rel)).map_err(io)
    }

    fn unlink(&self, rel: &[String]) -> KResult<()> {
        self.check_writable()?;
        let meta = self.lmeta(rel)?;
        if meta.is_dir() {
            return Err(Errno::EISDIR);
        }
        std::fs::remove_file(self.host(rel)).map_err(io)?;
        self.forget_socket(&meta);
        Ok(())
    }

    fn rename(&self, from: &[String], to: &[String]) -> KResult<()> {
        self.check_writable()?;
        if from.is_empty() || to.is_empty() {
            return Err(Errno::EBUSY);
        }
        let replaced = self.lmeta(to).ok();
        std::fs::rename(self.host(from), self.host(to)).map_err(io)?;
        if let Some(meta) = replaced {
            self.forget_socket(&meta);
        }
        Ok(())
    }

    fn link(&self, from: &[String], to: &[String]) -> KResult<()> {
        self.check_writable()?;
        // linkat without AT_SYMLINK_FOLLOW: links the entry itself.
        std::fs::hard_link(self.host(from), self.host(to)).map_err(io)
    }

    fn symlink(&self, target: &str, rel: &[String]) -> KResult<()> {
        self.check_writable()?;
        // The target is stored verbatim; only the VFS ever interprets it.
        std::os::unix::fs::symlink(target, self.host(rel)).map_err(io)
    }

    fn set_times(&self, rel: &[String], atime: SetTime, mtime: SetTime) -> KResult<()> {
        self.check_writable()?;
        let path = self.host(rel);
        let extra = match file_type_of(self.lmeta(rel)?.mode()) {
            FileType::RegularFile => 0,
            FileType::Directory => libc::O_DIRECTORY,
            // Stable std has no lutimes/utimensat without opening the file,
            // and opening anything else could have side effects.
            _ => return Err(Errno::EOPNOTSUPP),
        };
        let file = match open_nofollow(&path, false, extra) {
            Err(Errno::EACCES) if extra == 0 => open_nofollow(&path, true, 0)?,
            r => r?,
        };
        file.set_times(file_times(atime, mtime)).map_err(io)
    }

    fn truncate(&self, rel: &[String], size: u64) -> KResult<()> {
        self.check_writable()?;
        let file = open_nofollow(&self.host(rel), true, 0)?;
        if !file.metadata().map_err(io)?.is_file() {
            return Err(Errno::EINVAL);
        }
        file.set_len(size).map_err(io)
    }

    fn program(&self, rel: &[String]) -> KResult<Program> {
        if !self.lmeta(rel)?.is_file() {
            return Err(Errno::EACCES);
        }
        Ok(Program::Host(self.host(rel)))
    }

    fn bind_socket(&self, rel: &[String], endpoint: SocketEndpoint) -> KResult<()> {
        self.check_writable()?;
        let path = self.host(rel);
        // A real (immediately closed) host socket gives the file S_IFSOCK.
        match std::os::unix::net::UnixListener::bind(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return Err(Errno::ENAMETOOLONG)
            }
            Err(e) => return Err(io(e)),
        }
        let meta = self.lmeta(rel)?;
        lock(&self.sockets).insert((meta.dev(), meta.ino()), endpoint);
        Ok(())
    }

    fn lookup_socket(&self, rel: &[String]) -> KResult<SocketEndpoint> {
        let meta = self.lmeta(rel)?;
        lock(&self.sockets)
            .get(&(meta.dev(), meta.ino()))
            .cloned()
            .ok_or(Errno::ECONNREFUSED)
    }
}

/// An open host regular file; the position is ours, I/O is positional.
#[derive(Debug)]
pub(crate) struct HostFile {
    file: File,
    pos: Mutex<u64>,
    readonly: bool,
}

impl HostFile {
    fn read_at(&self, off: u64, len: usize) -> KResult<Vec<u8>> {
        let size = self.file.metadata().map_err(io)?.len();
        let mut want = len.min(MAX_READ);
        if size > off {
            want = want.min(usize::try_from(size - off).unwrap_or(usize::MAX));
        } else {
            // Probably EOF; a file that only looks empty (procfs) still reads.
            want = want.min(4096);
        }
        let mut buf = vec![0; want];
        let mut got = 0;
        while got < want {
            match self.file.read_at(&mut buf[got..], off + got as u64) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if got > 0 => {
                    tracing::debug!(error = %e, "short host read");
                    break;
                }
                Err(e) => return Err(io(e)),
            }
        }
        buf.truncate(got);
        Ok(buf)
    }

    fn write_at(&self, off: u64, data: &[u8]) -> KResult<()> {
        if self.readonly {
            return Err(Errno::EROFS);
        }
        off.checked_add(data.len() as u64)
            .filter(|end| *end <= i64::MAX as u64)
            .ok_or(Errno::EFBIG)?;
        self.file.write_all_at(data, off).map_err(io)
    }
}

impl FileDescription for HostFile {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }

    fn read(&self, len: usize) -> KResult<Vec<u8>> {
        let mut pos = lock(&self.pos);
        let data = self.read_at(*pos, len)?;
        *pos += data.len() as u64;
        Ok(data)
    }

    fn write(&self, data: &[u8], append: bool) -> KResult<usize> {
        let mut pos = lock(&self.pos);
        let off = if append {
            self.file.metadata().map_err(io)?.len()
        } else {
            *pos
        };
        if !data.is_empty() {
            self.write_at(off, data)?;
        }
        *pos = off + data.len() as u64;
        Ok(data.len())
    }

    fn pread(&self, len: usize, offset: u64) -> KResult<Vec<u8>> {
        self.read_at(offset, len)
    }

    fn pwrite(&self, data: &[u8], offset: u64) -> KResult<usize> {
        if !data.is_empty() {
            self.write_at(offset, data)?;
        }
        Ok(data.len())
    }

    fn seek(&self, offset: i64, whence: Whence) -> KResult<u64> {
        let mut pos = lock(&self.pos);
        let from = match whence {
            Whence::Set => 0,
            Whence::Cur => *pos as i64,
            Whence::End => self.file.metadata().map_err(io)?.len() as i64,
        };
        let new = from.checked_add(offset).ok_or(Errno::EINVAL)?;
        if new < 0 {
            return Err(Errno::EINVAL);
        }
        *pos = new as u64;
        Ok(*pos)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(stat_of(&self.file.metadata().map_err(io)?))
    }

    fn set_size(&self, size: u64) -> KResult<()> {
        if self.readonly {
            return Err(Errno::EROFS);
        }
        self.file.set_len(size).map_err(io)
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) -> KResult<()> {
        if self.readonly {
            return Err(Errno::EROFS);
        }
        self.file.set_times(file_times(atime, mtime)).map_err(io)
    }

    fn sync(&self) -> KResult<()> {
        self.file.sync_all().map_err(io)
    }

    fn bytes_readable(&self) -> KResult<usize> {
        let size = self.file.metadata().map_err(io)?.len();
        Ok(size.saturating_sub(*lock(&self.pos)) as usize)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// An open host directory. Listing goes through the held descriptor, so a
/// directory renamed away and replaced by a symlink still lists itself.
#[derive(Debug)]
struct HostDir {
    file: File,
    path: PathBuf,
    readonly: bool,
}

impl HostDir {
    fn read_dir(&self) -> KResult<std::fs::ReadDir> {
        let by_fd = PathBuf::from(format!("/proc/self/fd/{}", self.file.as_raw_fd()));
        if let Ok(rd) = std::fs::read_dir(by_fd) {
            return Ok(rd);
        }
        // No /proc: use the path, but only if it still names this directory.
        let held = self.file.metadata().map_err(io)?;
        let now = std::fs::symlink_metadata(&self.path).map_err(io)?;
        if !now.is_dir() || now.dev() != held.dev() || now.ino() != held.ino() {
            return Err(Errno::ENOENT);
        }
        std::fs::read_dir(&self.path).map_err(io)
    }
}

impl DirHandle for HostDir {
    fn stat(&self) -> KResult<Stat> {
        Ok(stat_of(&self.file.metadata().map_err(io)?))
    }

    fn list(&self) -> KResult<Vec<DirEntry>> {
        let mut out = Vec::new();
        for entry in self.read_dir()? {
            let entry = entry.map_err(io)?;
            let ft = entry.file_type().map_err(io)?;
            let file_type = if ft.is_dir() {
                FileType::Directory
            } else if ft.is_file() {
                FileType::RegularFile
            } else if ft.is_symlink() {
                FileType::SymbolicLink
            } else if ft.is_socket() {
                FileType::SocketStream
            } else if ft.is_fifo() {
                FileType::Fifo
            } else if ft.is_char_device() {
                FileType::CharacterDevice
            } else if ft.is_block_device() {
                FileType::BlockDevice
            } else {
                FileType::Unknown
            };
            out.push(DirEntry {
                ino: entry.ino(),
                name: entry.file_name().to_string_lossy().into_owned(),
                file_type,
            });
        }
        Ok(out)
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) -> KResult<()> {
        if self.readonly {
            return Err(Errno::EROFS);
        }
        self.file.set_times(file_times(atime, mtime)).map_err(io)
    }

    fn sync(&self) -> KResult<()> {
        self.file.sync_all().map_err(io)
    }
}
