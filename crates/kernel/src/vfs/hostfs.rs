//! A host directory mapped into the VFS.
//!
//! Host processes may change the tree under a running VM at any moment (a
//! user's tools, a second VM sharing a read-write mount), so no host path is
//! ever handed to the host kernel whole. Every operation resolves its
//! directory from a descriptor of the mount root that we hold, with
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)`,
//! and then acts on one name relative to that directory (`*at` calls with
//! `AT_SYMLINK_NOFOLLOW`, `O_NOFOLLOW`). A symlink swapped in at any moment
//! makes the call fail (`ELOOP`); it can never be followed out of the root.
//! Where `openat2` is missing the same walk is done one component at a time
//! with `O_NOFOLLOW`.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::fs::{File, FileTimes, Metadata};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags, Timespec, Timestamps};

use super::{lock, Backend, DirHandle, Name, OpenFlags, Program, SocketEndpoint};
use crate::errno::{Errno, KResult};
use crate::file::{DirEntry, FileDescription, FileType, SetTime, Stat, Timestamp, Whence};

/// Upper bound of one read; bigger requests get a short read.
const MAX_READ: usize = 16 << 20;

/// How every host path below a root is resolved.
const RESOLVE: ResolveFlags = ResolveFlags::BENEATH
    .union(ResolveFlags::NO_SYMLINKS)
    .union(ResolveFlags::NO_MAGICLINKS);

fn io(e: std::io::Error) -> Errno {
    Errno::from_io(&e)
}

fn sys(e: rustix::io::Errno) -> Errno {
    Errno::from_raw(e.raw_os_error()).unwrap_or(Errno::EIO)
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

// The raw field types differ between architectures.
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
fn stat_of_raw(s: &rustix::fs::Stat) -> Stat {
    Stat {
        dev: s.st_dev as u64,
        ino: s.st_ino as u64,
        file_type: Some(file_type_of(s.st_mode as u32)),
        mode: s.st_mode as u32 & 0o7777,
        nlink: s.st_nlink as u64,
        size: s.st_size as u64,
        atime: time_ns(s.st_atime as i64, s.st_atime_nsec as i64),
        mtime: time_ns(s.st_mtime as i64, s.st_mtime_nsec as i64),
        ctime: time_ns(s.st_ctime as i64, s.st_ctime_nsec as i64),
    }
}

#[allow(clippy::unnecessary_cast)]
fn kind(s: &rustix::fs::Stat) -> FileType {
    file_type_of(s.st_mode as u32)
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

fn timestamps(atime: SetTime, mtime: SetTime) -> Timestamps {
    let conv = |t: SetTime| match t {
        SetTime::Omit => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_OMIT,
        },
        SetTime::Now => Timespec {
            tv_sec: 0,
            tv_nsec: rustix::fs::UTIME_NOW,
        },
        SetTime::At(ns) => Timespec {
            tv_sec: (ns / 1_000_000_000) as i64,
            tv_nsec: (ns % 1_000_000_000) as _,
        },
    };
    Timestamps {
        last_access: conv(atime),
        last_modification: conv(mtime),
    }
}

/// Flags of an open that must neither block, follow a link, nor acquire a
/// controlling terminal.
fn quiet(flags: OFlags) -> OFlags {
    let flags = flags | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    // openat2 refuses any other flag beside O_PATH.
    if flags.contains(OFlags::PATH) {
        flags
    } else {
        flags | OFlags::NONBLOCK | OFlags::NOCTTY
    }
}

/// Directory search handle.
const DIR_PATH: OFlags = OFlags::PATH.union(OFlags::DIRECTORY);

/// A host directory mounted in the VFS.
///
/// Invariant: every host call names either `root` itself or one component
/// relative to a directory descriptor opened beneath `root` by
/// [`HostFs::open_beneath`]; no host path string leaves this type.
pub(crate) struct HostFs {
    /// `O_PATH` descriptor of the mount source, opened once at mount time.
    root: OwnedFd,
    /// Where the root was when mounted; for logs and module-cache keys only.
    root_path: PathBuf,
    readonly: bool,
    /// Endpoints bound at host socket files, by (dev, ino).
    sockets: Mutex<HashMap<(u64, u64), SocketEndpoint>>,
    /// The directory the current lookup resolved last, by its relative
    /// path, so that one kernel call walks a deep chain on the host once.
    /// Cleared when a new lookup starts ([`Backend::forget_lookup`]): across
    /// calls the host may have moved it.
    last_dir: Mutex<Option<(String, Arc<OwnedFd>)>>,
}

impl fmt::Debug for HostFs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostFs")
            .field("root", &self.root_path)
            .field("readonly", &self.readonly)
            .finish()
    }
}

impl HostFs {
    pub(crate) fn new(host_dir: PathBuf, readonly: bool) -> KResult<HostFs> {
        // The mount source is trusted configuration: follow links to it once.
        let root_path = std::fs::canonicalize(&host_dir).map_err(io)?;
        let root =
            rustix::fs::open(&root_path, DIR_PATH | OFlags::CLOEXEC, Mode::empty()).map_err(sys)?;
        Ok(HostFs {
            root,
            root_path,
            readonly,
            sockets: Mutex::new(HashMap::new()),
            last_dir: Mutex::new(None),
        })
    }

    /// The directory `rel`, opened beneath the root (from the lookup cache
    /// when this call already resolved it).
    fn dir(&self, rel: &[Name]) -> KResult<Arc<OwnedFd>> {
        let key = rel.join("/");
        if let Some((k, fd)) = lock(&self.last_dir).as_ref() {
            if *k == key {
                return Ok(fd.clone());
            }
        }
        let fd = Arc::new(self.open_beneath(rel, DIR_PATH, Mode::empty())?);
        *lock(&self.last_dir) = Some((key, fd.clone()));
        Ok(fd)
    }

    /// Opens `rel` beneath the root. No component, the last included, may
    /// be a symlink; `..` cannot occur (the VFS hands plain names only).
    fn open_beneath(&self, rel: &[Name], flags: OFlags, mode: Mode) -> KResult<OwnedFd> {
        debug_assert!(rel
            .iter()
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('/')));
        let flags = quiet(flags);
        // openat2 insists on a zero mode unless it creates.
        let mode = if flags.contains(OFlags::CREATE) {
            mode
        } else {
            Mode::empty()
        };
        if rel.is_empty() {
            return rustix::fs::openat(&self.root, ".", flags, mode).map_err(sys);
        }
        match rustix::fs::openat2(&self.root, rel.join("/"), flags, mode, RESOLVE) {
            // EAGAIN: a rename elsewhere raced the lookup; ENOSYS: an old
            // kernel. Either way, walk one component at a time instead.
            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::NOSYS) => {
                self.open_stepwise(rel, flags, mode)
            }
            r => r.map_err(sys),
        }
    }

    fn open_stepwise(&self, rel: &[Name], flags: OFlags, mode: Mode) -> KResult<OwnedFd> {
        let (last, dirs) = rel.split_last().ok_or(Errno::ENOENT)?;
        let dir = self.walk_dirs(dirs)?;
        let fd = rustix::fs::openat(&dir, last.as_str(), flags, mode).map_err(sys)?;
        // With O_PATH, O_NOFOLLOW hands back the symlink itself; refuse it
        // as openat2's RESOLVE_NO_SYMLINKS does.
        if flags.contains(OFlags::PATH) {
            let st = rustix::fs::fstat(&fd).map_err(sys)?;
            if kind(&st) == FileType::SymbolicLink {
                return Err(Errno::ELOOP);
            }
        }
        Ok(fd)
    }

    /// Opens the chain `dirs` below the root, one `O_NOFOLLOW` step each.
    fn walk_dirs(&self, dirs: &[Name]) -> KResult<OwnedFd> {
        let mut dir =
            rustix::fs::openat(&self.root, ".", DIR_PATH | OFlags::CLOEXEC, Mode::empty())
                .map_err(sys)?;
        for c in dirs {
            dir = rustix::fs::openat(&dir, c.as_str(), quiet(DIR_PATH), Mode::empty())
                .map_err(sys)?;
        }
        Ok(dir)
    }

    /// The directory holding `rel` and its final name.
    fn parent<'a>(&self, rel: &'a [Name]) -> KResult<(Arc<OwnedFd>, &'a str)> {
        let (name, dirs) = rel.split_last().ok_or(Errno::EBUSY)?;
        Ok((self.dir(dirs)?, name))
    }

    fn lstat_raw(&self, rel: &[Name]) -> KResult<Stat> {
        if rel.is_empty() {
            return Ok(stat_of_raw(&rustix::fs::fstat(&self.root).map_err(sys)?));
        }
        let (dir, name) = self.parent(rel)?;
        let st = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(sys)?;
        Ok(stat_of_raw(&st))
    }

    fn check_writable(&self) -> KResult<()> {
        if self.readonly {
            Err(Errno::EROFS)
        } else {
            Ok(())
        }
    }

    /// Forgets the endpoint of a socket file about to lose its last link.
    fn forget_socket(&self, st: &Stat) {
        if st.file_type == Some(FileType::SocketStream) && st.nlink <= 1 {
            lock(&self.sockets).remove(&(st.dev, st.ino));
        }
    }
}

impl Backend for HostFs {
    fn readonly(&self) -> bool {
        self.readonly
    }

    fn lstat(&self, rel: &[Name]) -> KResult<Stat> {
        self.lstat_raw(rel)
    }

    fn forget_lookup(&self) {
        *lock(&self.last_dir) = None;
    }

    fn count_dirs(&self, dir: &[Name], names: &[Name]) -> usize {
        let all: Vec<Name> = dir.iter().chain(names).cloned().collect();
        // One host lookup for the whole chain; only if it fails (a symlink,
        // a file or a missing entry somewhere) find where, step by step.
        if self.dir(&all).is_ok() {
            return names.len();
        }
        let Ok(mut fd) = self.walk_dirs(dir) else {
            return 0;
        };
        for (i, c) in names.iter().enumerate() {
            match rustix::fs::openat(&fd, c.as_str(), quiet(DIR_PATH), Mode::empty()) {
                Ok(next) => fd = next,
                Err(_) => return i,
            }
        }
        names.len()
    }

    fn readlink(&self, rel: &[Name]) -> KResult<String> {
        let (dir, name) = self.parent(rel).map_err(|_| Errno::EINVAL)?;
        let target = rustix::fs::readlinkat(&dir, name, Vec::new()).map_err(sys)?;
        Ok(target.to_string_lossy().into_owned())
    }

    fn open_file(
        &self,
        rel: &[Name],
        flags: OpenFlags,
        mode: u32,
    ) -> KResult<Arc<dyn FileDescription>> {
        if self.readonly && (flags.write || flags.truncate) {
            return Err(Errno::EROFS);
        }
        let (dir, name) = self.parent(rel).map_err(|_| Errno::EISDIR)?;
        // Check the type first: even a non-blocking open of a host FIFO or
        // device has side effects.
        match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => match kind(&st) {
                FileType::RegularFile => {}
                FileType::Directory => return Err(Errno::EISDIR),
                FileType::SymbolicLink => return Err(Errno::ELOOP),
                _ => return Err(Errno::ENXIO),
            },
            Err(rustix::io::Errno::NOENT) if flags.create => {}
            Err(e) => return Err(sys(e)),
        }
        let mut oflags = match (flags.read || !flags.write, flags.write) {
            (true, true) => OFlags::RDWR,
            (false, true) => OFlags::WRONLY,
            _ => OFlags::RDONLY,
        };
        if flags.create && !self.readonly {
            oflags |= OFlags::CREATE;
            if flags.excl {
                oflags |= OFlags::EXCL;
            }
        }
        if flags.truncate {
            oflags |= OFlags::TRUNC;
        }
        let mode = Mode::from_bits_truncate(mode & 0o7777);
        let fd = rustix::fs::openat(&dir, name, quiet(oflags), mode).map_err(sys)?;
        let file = File::from(fd);
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

    fn open_dir(&self, rel: &[Name]) -> KResult<Box<dyn DirHandle>> {
        let fd = self.open_beneath(rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
        Ok(Box::new(HostDir {
            file: File::from(fd),
            readonly: self.readonly,
        }))
    }

    fn mkdir(&self, rel: &[Name], mode: u32) -> KResult<()> {
        self.check_writable()?;
        let (dir, name) = self.parent(rel).map_err(|_| Errno::EEXIST)?;
        rustix::fs::mkdirat(&dir, name, Mode::from_bits_truncate(mode & 0o7777)).map_err(sys)
    }

    fn rmdir(&self, rel: &[Name]) -> KResult<()> {
        self.check_writable()?;
        let (dir, name) = self.parent(rel)?;
        rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR).map_err(sys)
    }

    fn unlink(&self, rel: &[Name]) -> KResult<()> {
        self.check_writable()?;
        let (dir, name) = self.parent(rel).map_err(|_| Errno::EISDIR)?;
        let st =
            stat_of_raw(&rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(sys)?);
        if st.file_type == Some(FileType::Directory) {
            return Err(Errno::EISDIR);
        }
        rustix::fs::unlinkat(&dir, name, AtFlags::empty()).map_err(sys)?;
        self.forget_socket(&st);
        Ok(())
    }

    fn rename(&self, from: &[Name], to: &[Name]) -> KResult<()> {
        self.check_writable()?;
        let (from_dir, from_name) = self.parent(from)?;
        let (to_dir, to_name) = self.parent(to)?;
        let replaced = rustix::fs::statat(&to_dir, to_name, AtFlags::SYMLINK_NOFOLLOW).ok();
        rustix::fs::renameat(&from_dir, from_name, &to_dir, to_name).map_err(sys)?;
        if let Some(st) = replaced {
            self.forget_socket(&stat_of_raw(&st));
        }
        Ok(())
    }

    fn link(&self, from: &[Name], to: &[Name]) -> KResult<()> {
        self.check_writable()?;
        let (from_dir, from_name) = self.parent(from).map_err(|_| Errno::EPERM)?;
        let (to_dir, to_name) = self.parent(to).map_err(|_| Errno::EEXIST)?;
        // linkat without AT_SYMLINK_FOLLOW: links the entry itself.
        rustix::fs::linkat(&from_dir, from_name, &to_dir, to_name, AtFlags::empty()).map_err(sys)
    }

    fn symlink(&self, target: &str, rel: &[Name]) -> KResult<()> {
        self.check_writable()?;
        let (dir, name) = self.parent(rel).map_err(|_| Errno::EEXIST)?;
        // The target is stored verbatim; only the VFS ever interprets it.
        rustix::fs::symlinkat(target, &dir, name).map_err(sys)
    }

    fn set_times(&self, rel: &[Name], atime: SetTime, mtime: SetTime) -> KResult<()> {
        self.check_writable()?;
        let times = timestamps(atime, mtime);
        if rel.is_empty() {
            let fd = self.open_beneath(rel, OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty())?;
            return rustix::fs::futimens(&fd, &times).map_err(sys);
        }
        let (dir, name) = self.parent(rel)?;
        rustix::fs::utimensat(&dir, name, &times, AtFlags::SYMLINK_NOFOLLOW).map_err(sys)
    }

    fn truncate(&self, rel: &[Name], size: u64) -> KResult<()> {
        self.check_writable()?;
        let (dir, name) = self.parent(rel).map_err(|_| Errno::EISDIR)?;
        let st = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(sys)?;
        match kind(&st) {
            FileType::RegularFile => {}
            FileType::Directory => return Err(Errno::EISDIR),
            _ => return Err(Errno::EINVAL),
        }
        let fd =
            rustix::fs::openat(&dir, name, quiet(OFlags::WRONLY), Mode::empty()).map_err(sys)?;
        let file = File::from(fd);
        if !file.metadata().map_err(io)?.is_file() {
            return Err(Errno::EINVAL);
        }
        file.set_len(size).map_err(io)
    }

    fn program(&self, rel: &[Name]) -> KResult<Program> {
        let (dir, name) = self.parent(rel).map_err(|_| Errno::EACCES)?;
        let st = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(sys)?;
        if kind(&st) != FileType::RegularFile {
            return Err(Errno::EACCES);
        }
        // The runtime reads the module from this descriptor, never by path.
        let fd =
            rustix::fs::openat(&dir, name, quiet(OFlags::RDONLY), Mode::empty()).map_err(sys)?;
        let file = File::from(fd);
        if !file.metadata().map_err(io)?.is_file() {
            return Err(Errno::EACCES);
        }
        Ok(Program::Host {
            file: Arc::new(file),
            path: rel.iter().fold(self.root_path.clone(), |p, c| p.join(c)),
        })
    }

    fn bind_socket(&self, rel: &[Name], endpoint: SocketEndpoint) -> KResult<()> {
        self.check_writable()?;
        let (dir, name) = self.parent(rel).map_err(|_| Errno::EADDRINUSE)?;
        // bind(2) takes a path: name the held directory through its
        // descriptor, which cannot be redirected by renames or symlinks.
        let path = format!("/proc/self/fd/{}/{}", dir.as_fd().as_raw_fd(), name);
        // A real (immediately closed) host socket gives the file S_IFSOCK.
        match std::os::unix::net::UnixListener::bind(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
                return Err(Errno::ENAMETOOLONG)
            }
            Err(e) => return Err(io(e)),
        }
        let st = rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(sys)?;
        let st = stat_of_raw(&st);
        lock(&self.sockets).insert((st.dev, st.ino), endpoint);
        Ok(())
    }

    fn lookup_socket(&self, rel: &[Name]) -> KResult<SocketEndpoint> {
        let st = self.lstat_raw(rel)?;
        lock(&self.sockets)
            .get(&(st.dev, st.ino))
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
    readonly: bool,
}

impl DirHandle for HostDir {
    fn stat(&self) -> KResult<Stat> {
        Ok(stat_of(&self.file.metadata().map_err(io)?))
    }

    fn list(&self) -> KResult<Vec<DirEntry>> {
        let mut out = Vec::new();
        for entry in rustix::fs::Dir::read_from(&self.file).map_err(sys)? {
            let entry = entry.map_err(sys)?;
            let name = entry.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            use rustix::fs::FileType as T;
            let file_type = match entry.file_type() {
                T::Directory => FileType::Directory,
                T::RegularFile => FileType::RegularFile,
                T::Symlink => FileType::SymbolicLink,
                T::Socket => FileType::SocketStream,
                T::Fifo => FileType::Fifo,
                T::CharacterDevice => FileType::CharacterDevice,
                T::BlockDevice => FileType::BlockDevice,
                // Some filesystems leave d_type unset.
                _ => rustix::fs::statat(&self.file, name, AtFlags::SYMLINK_NOFOLLOW)
                    .map(|st| kind(&st))
                    .unwrap_or(FileType::Unknown),
            };
            out.push(DirEntry {
                ino: entry.ino(),
                name: String::from_utf8_lossy(name).into_owned(),
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
