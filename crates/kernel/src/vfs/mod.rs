//! The VFS namespace: a mount table of host directories, in-memory
//! filesystems and the device filesystem.
//!
//! Every path is resolved here, component by component, in VFS space (see
//! [`path`]).

mod devfs;
mod hostfs;
mod memfs;
mod path;

use std::any::Any;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use crate::errno::{Errno, KResult};
use crate::file::{DirEntry, FileDescription, FileType, SetTime, Stat, Whence};

pub use devfs::DeviceFactory;
use path::{Found, Last, Walk};

/// One path component. Walks copy components a lot (a PATH_MAX path has up
/// to 2048); short names are stored inline, so copies allocate nothing.
pub(crate) type Name = smol_str::SmolStr;

/// What `bind_socket` stores and `lookup_socket` hands back.
pub type SocketEndpoint = Arc<dyn Any + Send + Sync>;

/// Default byte limit of a `mount_mem` filesystem.
pub const MEMFS_DEFAULT_LIMIT: u64 = memfs::DEFAULT_LIMIT;

/// The parts of Linux open flags the VFS cares about.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct OpenFlags {
    pub read: bool,
    pub write: bool,
    pub create: bool,
    pub excl: bool,
    pub truncate: bool,
    pub directory: bool,
    pub append: bool,
    pub nofollow: bool,
}

/// A wasm module to spawn.
#[derive(Clone)]
pub enum Program {
    /// A regular file on the host, already opened without following links:
    /// read the module from `file`, never from `path`, which a host process
    /// may have redirected since.
    Host {
        file: Arc<std::fs::File>,
        /// Where the file was found, for messages and cache keys.
        path: PathBuf,
    },
    /// The contents of an in-memory file.
    Bytes(Arc<[u8]>),
}

impl Program {
    /// Opens a trusted host path (configuration, not guest input).
    pub fn from_host_path(path: PathBuf) -> std::io::Result<Program> {
        let file = std::fs::File::open(&path)?;
        Ok(Program::Host {
            file: Arc::new(file),
            path,
        })
    }
}

impl PartialEq for Program {
    fn eq(&self, other: &Program) -> bool {
        match (self, other) {
            (Program::Host { path: a, .. }, Program::Host { path: b, .. }) => a == b,
            (Program::Bytes(a), Program::Bytes(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Program {}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Program::Host { path, .. } => f.debug_tuple("Host").field(path).finish(),
            Program::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

/// One filesystem implementation. `rel` is a path below the backend's root
/// whose intermediate components the VFS has walked as directories of this
/// backend; the final component is never followed.
pub(crate) trait Backend: Send + Sync + fmt::Debug {
    fn readonly(&self) -> bool {
        false
    }
    fn lstat(&self, rel: &[Name]) -> KResult<Stat>;
    /// How many of `names`, taken in order below the directory `dir`, are
    /// directories (not symlinks). Lets a walk cross a long chain of plain
    /// directories in one call, so lookups cost O(depth), not O(depth²).
    fn count_dirs(&self, dir: &[Name], names: &[Name]) -> usize {
        let mut path = dir.to_vec();
        for (i, name) in names.iter().enumerate() {
            path.push(name.clone());
            if !self.lstat(&path).is_ok_and(|s| is_dir(&s)) {
                return i;
            }
        }
        names.len()
    }
    /// A new lookup starts: drop whatever the last one cached.
    fn forget_lookup(&self) {}
    fn readlink(&self, rel: &[Name]) -> KResult<String>;
    /// Opens (or creates) a non-directory.
    fn open_file(
        &self,
        rel: &[Name],
        flags: OpenFlags,
        mode: u32,
    ) -> KResult<Arc<dyn FileDescription>>;
    fn open_dir(&self, rel: &[Name]) -> KResult<Box<dyn DirHandle>>;
    fn mkdir(&self, rel: &[Name], mode: u32) -> KResult<()>;
    fn rmdir(&self, rel: &[Name]) -> KResult<()>;
    fn unlink(&self, rel: &[Name]) -> KResult<()>;
    fn rename(&self, from: &[Name], to: &[Name]) -> KResult<()>;
    fn link(&self, from: &[Name], to: &[Name]) -> KResult<()>;
    fn symlink(&self, target: &str, rel: &[Name]) -> KResult<()>;
    fn set_times(&self, rel: &[Name], atime: SetTime, mtime: SetTime) -> KResult<()>;
    fn truncate(&self, rel: &[Name], size: u64) -> KResult<()>;
    fn program(&self, rel: &[Name]) -> KResult<Program>;
    fn bind_socket(&self, rel: &[Name], endpoint: SocketEndpoint) -> KResult<()>;
    fn lookup_socket(&self, rel: &[Name]) -> KResult<SocketEndpoint>;
}

/// A backend's open directory; [`DirDesc`] adds `.`, `..`, mount points and
/// ordering.
pub(crate) trait DirHandle: Send + Sync + fmt::Debug {
    fn stat(&self) -> KResult<Stat>;
    /// Entries without `.` and `..`, in any order.
    fn list(&self) -> KResult<Vec<DirEntry>>;
    fn set_times(&self, atime: SetTime, mtime: SetTime) -> KResult<()>;
    fn sync(&self) -> KResult<()> {
        Ok(())
    }
}

#[derive(Debug)]
struct Mount {
    path: Vec<Name>,
    fs: Arc<dyn Backend>,
}

/// The namespace: every path a guest names is resolved here.
///
/// Invariants: the mount table changes only during setup (`&mut self`);
/// every other operation takes `&self`. A backend is only handed paths
/// below its root whose intermediate components were just walked as its
/// real directories, so neither `..`, symlinks nor absolute paths can
/// leave the namespace.
#[derive(Debug)]
pub struct Vfs {
    mounts: Vec<Mount>,
    devices: Arc<RwLock<devfs::Registry>>,
}

impl Default for Vfs {
    fn default() -> Vfs {
        Vfs::new()
    }
}

/// Locks a mutex, ignoring poisoning: kernel state stays usable after a
/// panicking test thread.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn is_dir(stat: &Stat) -> bool {
    stat.file_type == Some(FileType::Directory)
}

impl Vfs {
    /// An empty namespace; "/" must be mounted before use.
    pub fn new() -> Vfs {
        Vfs {
            mounts: Vec::new(),
            devices: Arc::new(RwLock::new(devfs::Registry::new())),
        }
    }

    fn add_mount(&mut self, at: &str, fs: Arc<dyn Backend>) -> KResult<()> {
        let path = path::normalize_abs(at)?;
        tracing::debug!(at = %path::join(&path), ?fs, "vfs mount");
        self.mounts.retain(|m| m.path != path);
        self.mounts.push(Mount { path, fs });
        Ok(())
    }

    /// Mounts host directory `host_dir` at `at`; a later mount at the same
    /// path replaces an earlier one.
    pub fn mount_host(&mut self, at: &str, host_dir: PathBuf, readonly: bool) -> KResult<()> {
        let fs = hostfs::HostFs::new(host_dir, readonly)?;
        self.add_mount(at, Arc::new(fs))
    }

    /// Mounts a fresh in-memory filesystem limited to [`MEMFS_DEFAULT_LIMIT`]
    /// bytes of file data.
    pub fn mount_mem(&mut self, at: &str) -> KResult<()> {
        self.mount_mem_with_limit(at, MEMFS_DEFAULT_LIMIT)
    }

    /// Mounts a fresh in-memory filesystem holding at most `limit` bytes of
    /// file data (ENOSPC beyond).
    pub fn mount_mem_with_limit(&mut self, at: &str, limit: u64) -> KResult<()> {
        self.add_mount(at, Arc::new(memfs::MemFs::new(limit)))
    }

    /// Mounts the device filesystem (null, zero, full, random, urandom and
    /// every registered device).
    pub fn mount_dev(&mut self, at: &str) -> KResult<()> {
        let fs = devfs::DevFs::new(self.devices.clone());
        self.add_mount(at, Arc::new(fs))
    }

    /// Adds (or replaces) device `name` in every device filesystem; each open
    /// calls `factory`. Panics if `name` is not a single path component.
    pub fn register_device(&mut self, name: &str, factory: DeviceFactory) {
        assert!(
            !name.is_empty()
                && name != "."
                && name != ".."
                && name.len() <= path::NAME_MAX
                && !name.contains(['/', '\0']),
            "invalid device name {name:?}"
        );
        self.devices
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name, Arc::from(factory));
    }

    pub fn open(
        &self,
        base: &str,
        path: &str,
        flags: OpenFlags,
        mode: u32,
    ) -> KResult<Arc<dyn FileDescription>> {
        // O_CREAT|O_EXCL never follows the final link (it fails with EEXIST).
        let follow = if flags.nofollow || (flags.create && flags.excl) {
            path::Follow::No
        } else {
            path::Follow::Yes
        };
        let w = self.walk(base, path, follow)?;
        let Some(found) = w.found else {
            if !flags.create {
                return Err(Errno::ENOENT);
            }
            if w.trailing_slash {
                return Err(Errno::EISDIR);
            }
            if flags.directory {
                return Err(Errno::EINVAL);
            }
            let t = self.target(&w)?;
            if t.fs.readonly() {
                return Err(Errno::EROFS);
            }
            return t.fs.open_file(&t.rel, flags, mode);
        };
        if flags.create && flags.excl {
            return Err(Errno::EEXIST);
        }
        match found.stat.file_type {
            Some(FileType::SymbolicLink) => Err(Errno::ELOOP),
            Some(FileType::Directory) => {
                if flags.write || flags.create || flags.truncate {
                    return Err(Errno::EISDIR);
                }
                self.open_dir(&w, found)
            }
            _ => {
                if flags.directory || w.trailing_slash {
                    return Err(Errno::ENOTDIR);
                }
                let t = self.target(&w)?;
                if (flags.write || flags.truncate) && t.fs.readonly() {
                    return Err(Errno::EROFS);
                }
                t.fs.open_file(&t.rel, flags, mode)
            }
        }
    }

    fn open_dir(&self, w: &Walk, found: Found) -> KResult<Arc<dyn FileDescription>> {
        let handle: Box<dyn DirHandle> = if found.synthetic {
            Box::new(SyntheticDir { stat: found.stat })
        } else {
            let t = self.target(w)?;
            t.fs.open_dir(&t.rel)?
        };
        let parent_ino = match (&w.name, w.parent.last()) {
            (None, _) => found.stat.ino,
            (Some(_), Some(_)) => self.comp_stat(&w.parent)?.ino,
            (Some(_), None) => self.root_found()?.stat.ino,
        };
        let path = w.path();
        let mut comps = w.parent.clone();
        if let Some(name) = &w.name {
            comps.push(path::Comp {
                name: name.clone(),
                stat: Some(found.stat),
                synthetic: found.synthetic,
            });
        }
        // Mount points directly below show up even if the parent fs lacks them.
        let mut mount_entries: Vec<DirEntry> = Vec::new();
        for m in &self.mounts {
            if m.path.len() <= path.len() || !m.path.starts_with(&path) {
                continue;
            }
            let name = &m.path[path.len()];
            if mount_entries.iter().any(|e| &e.name == name) {
                continue;
            }
            if let Ok(Some(f)) = self.lstat_at(&comps, name) {
                mount_entries.push(DirEntry {
                    ino: f.stat.ino,
                    name: name.to_string(),
                    file_type: FileType::Directory,
                });
            }
        }
        Ok(Arc::new(DirDesc {
            path: path::join(&path),
            handle,
            parent_ino,
            mount_entries,
        }))
    }

    pub fn stat(&self, base: &str, path: &str, follow: bool) -> KResult<Stat> {
        let w = self.walk(base, path, path::Follow::from_bool(follow))?;
        w.found.map(|f| f.stat).ok_or(Errno::ENOENT)
    }

    pub fn mkdir(&self, base: &str, path: &str, mode: u32) -> KResult<()> {
        let w = self.walk(base, path, path::Follow::Never)?;
        if w.found.is_some() {
            return Err(Errno::EEXIST);
        }
        let t = self.target(&w)?;
        if t.fs.readonly() {
            return Err(Errno::EROFS);
        }
        t.fs.mkdir(&t.rel, mode & 0o7777)
    }

    pub fn rmdir(&self, base: &str, path: &str) -> KResult<()> {
        let w = self.walk(base, path, path::Follow::Never)?;
        match w.last {
            Last::Dot => return Err(Errno::EINVAL),
            Last::DotDot => return Err(Errno::ENOTEMPTY),
            Last::Root => return Err(Errno::EBUSY),
            Last::Name => {}
        }
        let found = w.found.ok_or(Errno::ENOENT)?;
        if !is_dir(&found.stat) {
            return Err(Errno::ENOTDIR);
        }
        let t = self.target(&w)?;
        if found.synthetic || t.rel.is_empty() || self.is_mount_prefix(&w.path()) {
            return Err(Errno::EBUSY);
        }
        if t.fs.readonly() {
            return Err(Errno::EROFS);
        }
        t.fs.rmdir(&t.rel)
    }

    /// Linux unlink: EISDIR on a directory.
    pub fn unlink(&self, base: &str, path: &str) -> KResult<()> {
        let w = self.walk(base, path, path::Follow::Never)?;
        if w.last != Last::Name {
            return Err(Errno::EISDIR);
        }
        let found = w.found.ok_or(Errno::ENOENT)?;
        if is_dir(&found.stat) {
            return Err(Errno::EISDIR);
        }
        if w.trailing_slash {
            return Err(Errno::ENOTDIR);
        }
        let t = self.target(&w)?;
        if t.fs.readonly() {
            return Err(Errno::EROFS);
        }
        t.fs.unlink(&t.rel)
    }

    pub fn rename(&self, base: &str, from: &str, to_base: &str, to: &str) -> KResult<()> {
        let src = self.walk(base, from, path::Follow::Never)?;
        let dst = self.walk(to_base, to, path::Follow::Never)?;
        // Like Linux: the mounts of the parent directories decide EXDEV.
        if self.parent_mount(&src) != self.parent_mount(&dst) {
            return Err(Errno::EXDEV);
        }
        if src.last != Last::Name || dst.last != Last::Name {
            return Err(Errno::EBUSY);
        }
        let sf = src.found.ok_or(Errno::ENOENT)?;
        let src_dir = is_dir(&sf.stat);
        if !src_dir && (src.trailing_slash || dst.trailing_slash) {
            return Err(Errno::ENOTDIR);
        }
        if let Some(df) = dst.found {
            if df.stat.dev == sf.stat.dev && df.stat.ino == sf.stat.ino {
                return Ok(());
            }
            match (src_dir, is_dir(&df.stat)) {
                (true, false) => return Err(Errno::ENOTDIR),
                (false, true) => return Err(Errno::EISDIR),
                _ => {}
            }
        }
        let (src_path, dst_path) = (src.path(), dst.path());
        if dst_path.len() > src_path.len() && dst_path.starts_with(&src_path) {
            return Err(Errno::EINVAL);
        }
        let st = self.target(&src)?;
        let dt = self.target(&dst)?;
        if sf.synthetic
            || dst.found.is_some_and(|f| f.synthetic)
            || st.rel.is_empty()
            || dt.rel.is_empty()
            || st.mount != dt.mount
            || self.is_mount_prefix(&src_path)
            || self.is_mount_prefix(&dst_path)
        {
            return Err(Errno::EBUSY);
        }
        if st.fs.readonly() {
            return Err(Errno::EROFS);
        }
        st.fs.rename(&st.rel, &dt.rel)
    }

    pub fn link(
        &self,
        base: &str,
        from: &str,
        follow: bool,
        to_base: &str,
        to: &str,
    ) -> KResult<()> {
        let src = self.walk(base, from, path::Follow::from_bool(follow))?;
        let dst = self.walk(to_base, to, path::Follow::Never)?;
        let sf = src.found.ok_or(Errno::ENOENT)?;
        if is_dir(&sf.stat) {
            return Err(Errno::EPERM);
        }
        if dst.last != Last::Name || dst.found.is_some() {
            return Err(Errno::EEXIST);
        }
        if dst.trailing_slash {
            return Err(Errno::ENOENT);
        }
        if self.parent_mount(&src) != self.parent_mount(&dst) {
            return Err(Errno::EXDEV);
        }
        let st = self.target(&src)?;
        let dt = self.target(&dst)?;
        if st.mount != dt.mount {
            return Err(Errno::EXDEV);
        }
        if st.fs.readonly() {
            return Err(Errno::EROFS);
        }
        st.fs.link(&st.rel, &dt.rel)
    }

    /// Creates `path` as a symlink to `target`, stored verbatim; it is only
    /// ever interpreted inside the VFS.
    pub fn symlink(&self, target: &str, base: &str, path: &str) -> KResult<()> {
        if target.contains('\0') {
            return Err(Errno::EINVAL);
        }
        if target.is_empty() {
            return Err(Errno::ENOENT);
        }
        if target.len() >= path::PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let w = self.walk(base, path, path::Follow::Never)?;
        if w.last != Last::Name || w.found.is_some() {
            return Err(Errno::EEXIST);
        }
        if w.trailing_slash {
            return Err(Errno::ENOENT);
        }
        let t = self.target(&w)?;
        if t.fs.readonly() {
            return Err(Errno::EROFS);
        }
        t.fs.symlink(target, &t.rel)
    }

    pub fn readlink(&self, base: &str, path: &str) -> KResult<String> {
        let w = self.walk(base, path, path::Follow::No)?;
        let found = w.found.ok_or(Errno::ENOENT)?;
        if found.stat.file_type != Some(FileType::SymbolicLink) {
            return Err(Errno::EINVAL);
        }
        let t = self.target(&w)?;
        t.fs.readlink(&t.rel)
    }

    pub fn set_times(
        &self,
        base: &str,
        path: &str,
        follow: bool,
        atime: SetTime,
        mtime: SetTime,
    ) -> KResult<()> {
        let w = self.walk(base, path, path::Follow::from_bool(follow))?;
        let found = w.found.ok_or(Errno::ENOENT)?;
        if found.synthetic {
            return Err(Errno::EROFS);
        }
        let t = self.target(&w)?;
        if t.fs.readonly() {
            return Err(Errno::EROFS);
        }
        t.fs.set_times(&t.rel, atime, mtime)
    }

    pub fn truncate(&self, base: &str, path: &str, size: u64) -> KResult<()> {
        let w = self.walk(base, path, path::Follow::Yes)?;
        let found = w.found.ok_or(Errno::ENOENT)?;
        match found.stat.file_type {
            Some(FileType::Directory) => return Err(Errno::EISDIR),
            Some(FileType::RegularFile) => {}
            _ => return Err(Errno::EINVAL),
        }
        if size > i64::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        let t = self.target(&w)?;
        if t.fs.readonly() {
            return Err(Errno::EROFS);
        }
        t.fs.truncate(&t.rel, size)
    }

    /// The canonical absolute VFS path of directory `path`.
    pub fn resolve_dir(&self, base: &str, path: &str) -> KResult<String> {
        let w = self.walk(base, path, path::Follow::Yes)?;
        let found = w.found.ok_or(Errno::ENOENT)?;
        if !is_dir(&found.stat) {
            return Err(Errno::ENOTDIR);
        }
        Ok(path::join(&w.path()))
    }

    /// The regular file at `path`, as something the runtime can load.
    pub fn program(&self, base: &str, path: &str) -> KResult<Program> {
        let w = self.walk(base, path, path::Follow::Yes)?;
        let found = w.found.ok_or(Errno::ENOENT)?;
        if found.stat.file_type != Some(FileType::RegularFile) {
            return Err(Errno::EACCES);
        }
        let t = self.target(&w)?;
        t.fs.program(&t.rel)
    }

    /// Binds `endpoint` at `path`, which then stats as a socket.
    pub fn bind_socket(&self, base: &str, path: &str, endpoint: SocketEndpoint) -> KResult<()> {
        let w = self.walk(base, path, path::Follow::Never)?;
        if w.last != Last::Name || w.found.is_some() {
            return Err(Errno::EADDRINUSE);
        }
        if w.trailing_slash {
            return Err(Errno::ENOENT);
        }
        let t = self.target(&w)?;
        if t.fs.readonly() {
            return Err(Errno::EROFS);
        }
        t.fs.bind_socket(&t.rel, endpoint)
    }

    /// The endpoint bound at `path`: ENOENT if nothing is there,
    /// ECONNREFUSED if it is not a bound socket.
    pub fn lookup_socket(&self, base: &str, path: &str) -> KResult<SocketEndpoint> {
        let w = self.walk(base, path, path::Follow::Yes)?;
        let found = w.found.ok_or(Errno::ENOENT)?;
        if found.stat.file_type != Some(FileType::SocketStream) {
            return Err(Errno::ECONNREFUSED);
        }
        let t = self.target(&w)?;
        t.fs.lookup_socket(&t.rel)
    }
}

/// An open directory of any backend.
#[derive(Debug)]
struct DirDesc {
    path: String,
    handle: Box<dyn DirHandle>,
    parent_ino: u64,
    mount_entries: Vec<DirEntry>,
}

impl FileDescription for DirDesc {
    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn read(&self, _len: usize) -> KResult<Vec<u8>> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _data: &[u8], _append: bool) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn pread(&self, _len: usize, _offset: u64) -> KResult<Vec<u8>> {
        Err(Errno::EISDIR)
    }

    fn pwrite(&self, _data: &[u8], _offset: u64) -> KResult<usize> {
        Err(Errno::EISDIR)
    }

    fn seek(&self, offset: i64, whence: Whence) -> KResult<u64> {
        match (whence, offset) {
            (Whence::Set | Whence::Cur, 0) => Ok(0),
            _ => Err(Errno::EINVAL),
        }
    }

    fn stat(&self) -> KResult<Stat> {
        self.handle.stat()
    }

    fn set_times(&self, atime: SetTime, mtime: SetTime) -> KResult<()> {
        self.handle.set_times(atime, mtime)
    }

    fn sync(&self) -> KResult<()> {
        self.handle.sync()
    }

    fn readdir(&self) -> KResult<Vec<DirEntry>> {
        let own = self.handle.stat()?;
        let mut list = self.handle.list()?;
        list.retain(|e| e.name != "." && e.name != "..");
        for m in &self.mount_entries {
            match list.iter_mut().find(|e| e.name == m.name) {
                Some(e) => *e = m.clone(),
                None => list.push(m.clone()),
            }
        }
        list.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out = Vec::with_capacity(list.len() + 2);
        out.push(DirEntry {
            ino: own.ino,
            name: ".".into(),
            file_type: FileType::Directory,
        });
        out.push(DirEntry {
            ino: self.parent_ino,
            name: "..".into(),
            file_type: FileType::Directory,
        });
        out.extend(list);
        Ok(out)
    }

    fn dir_path(&self) -> Option<String> {
        Some(self.path.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A directory that exists only because a mount point lies below it.
#[derive(Debug)]
struct SyntheticDir {
    stat: Stat,
}

impl DirHandle for SyntheticDir {
    fn stat(&self) -> KResult<Stat> {
        Ok(self.stat)
    }

    fn list(&self) -> KResult<Vec<DirEntry>> {
        Ok(Vec::new())
    }

    fn set_times(&self, _atime: SetTime, _mtime: SetTime) -> KResult<()> {
        Err(Errno::EROFS)
    }
}

#[cfg(test)]
mod tests;
