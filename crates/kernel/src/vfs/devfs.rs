//! The device filesystem: a flat directory of character devices, each
//! opened through a factory so that later modules (PTYs) can add their own.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

use super::{Backend, DirHandle, Name, OpenFlags, Program, SocketEndpoint};
use crate::errno::{Errno, KResult};
use crate::file::{now_ns, DirEntry, FileDescription, FileType, SetTime, Stat, Timestamp, Whence};

/// Makes a fresh description each time a device is opened.
pub type DeviceFactory = Box<dyn Fn() -> KResult<Arc<dyn FileDescription>> + Send + Sync>;

type SharedFactory = Arc<dyn Fn() -> KResult<Arc<dyn FileDescription>> + Send + Sync>;

/// Device number of every devfs mount (they share one registry).
const DEV: u64 = 0x5ec0_de00;
const ROOT_INO: u64 = 1;
/// Largest single read from an infinite device; short reads are fine there.
const MAX_READ: usize = 1 << 20;

pub(crate) struct Registry {
    devices: BTreeMap<String, (u64, SharedFactory)>,
    next_ino: u64,
    created: Timestamp,
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.devices.keys()).finish()
    }
}

impl Registry {
    pub(crate) fn new() -> Registry {
        let mut r = Registry {
            devices: BTreeMap::new(),
            next_ino: ROOT_INO + 1,
            created: now_ns(),
        };
        let builtins = [
            ("full", DevKind::Full),
            ("null", DevKind::Null),
            ("random", DevKind::Random),
            ("urandom", DevKind::Random),
            ("zero", DevKind::Zero),
        ];
        for (name, kind) in builtins {
            let ino = r.next_ino;
            let created = r.created;
            r.insert(
                name,
                Arc::new(move || {
                    Ok(Arc::new(Device { kind, ino, created }) as Arc<dyn FileDescription>)
                }),
            );
        }
        r
    }

    /// Adds or replaces a device; a replaced device keeps its inode number.
    pub(crate) fn insert(&mut self, name: &str, factory: SharedFactory) {
        let ino = match self.devices.get(name) {
            Some((ino, _)) => *ino,
            None => {
                self.next_ino += 1;
                self.next_ino - 1
            }
        };
        self.devices.insert(name.to_string(), (ino, factory));
    }

    fn stat(&self, ino: u64, file_type: FileType) -> Stat {
        let dir = file_type == FileType::Directory;
        Stat {
            dev: DEV,
            ino,
            file_type: Some(file_type),
            mode: if dir { 0o755 } else { 0o666 },
            nlink: if dir { 2 } else { 1 },
            size: 0,
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
        }
    }
}

#[derive(Debug)]
pub(crate) struct DevFs {
    registry: Arc<RwLock<Registry>>,
}

impl DevFs {
    pub(crate) fn new(registry: Arc<RwLock<Registry>>) -> DevFs {
        DevFs { registry }
    }

    fn with<T>(&self, f: impl FnOnce(&Registry) -> T) -> T {
        f(&self.registry.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// The device named by `rel`, which must be a single component.
    fn device(&self, rel: &[Name]) -> KResult<(u64, SharedFactory)> {
        match rel {
            [] => Err(Errno::EISDIR),
            [name] => self.with(|r| r.devices.get(name.as_str()).cloned().ok_or(Errno::ENOENT)),
            [first, ..] => self.with(|r| {
                Err(if r.devices.contains_key(first.as_str()) {
                    Errno::ENOTDIR
                } else {
                    Errno::ENOENT
                })
            }),
        }
    }

    fn exists(&self, rel: &[Name]) -> KResult<()> {
        match self.device(rel) {
            Ok(_) | Err(Errno::EISDIR) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Backend for DevFs {
    fn lstat(&self, rel: &[Name]) -> KResult<Stat> {
        match self.device(rel) {
            Ok((ino, _)) => Ok(self.with(|r| r.stat(ino, FileType::CharacterDevice))),
            Err(Errno::EISDIR) => Ok(self.with(|r| r.stat(ROOT_INO, FileType::Directory))),
            Err(e) => Err(e),
        }
    }

    fn readlink(&self, rel: &[Name]) -> KResult<String> {
        self.exists(rel)?;
        Err(Errno::EINVAL)
    }

    fn open_file(
        &self,
        rel: &[Name],
        flags: OpenFlags,
        _mode: u32,
    ) -> KResult<Arc<dyn FileDescription>> {
        match self.device(rel) {
            Ok((_, factory)) => factory(),
            Err(Errno::ENOENT) if flags.create && rel.len() == 1 => Err(Errno::EACCES),
            Err(e) => Err(e),
        }
    }

    fn open_dir(&self, rel: &[Name]) -> KResult<Box<dyn DirHandle>> {
        match self.device(rel) {
            Err(Errno::EISDIR) => Ok(Box::new(DevDir {
                registry: self.registry.clone(),
            })),
            Ok(_) => Err(Errno::ENOTDIR),
            Err(e) => Err(e),
        }
    }

    fn mkdir(&self, _rel: &[Name], _mode: u32) -> KResult<()> {
        Err(Errno::EACCES)
    }

    fn rmdir(&self, _rel: &[Name]) -> KResult<()> {
        Err(Errno::EACCES)
    }

    fn unlink(&self, _rel: &[Name]) -> KResult<()> {
        Err(Errno::EACCES)
    }

    fn rename(&self, _from: &[Name], _to: &[Name]) -> KResult<()> {
        Err(Errno::EACCES)
    }

    fn link(&self, _from: &[Name], _to: &[Name]) -> KResult<()> {
        Err(Errno::EACCES)
    }

    fn symlink(&self, _target: &str, _rel: &[Name]) -> KResult<()> {
        Err(Errno::EACCES)
    }

    fn set_times(&self, rel: &[Name], _atime: SetTime, _mtime: SetTime) -> KResult<()> {
        self.exists(rel)?;
        Err(Errno::EPERM)
    }

    fn truncate(&self, rel: &[Name], _size: u64) -> KResult<()> {
        self.exists(rel)?;
        Err(Errno::EINVAL)
    }

    fn program(&self, _rel: &[Name]) -> KResult<Program> {
        Err(Errno::EACCES)
    }

    fn bind_socket(&self, _rel: &[Name], _endpoint: SocketEndpoint) -> KResult<()> {
        Err(Errno::EACCES)
    }

    fn lookup_socket(&self, _rel: &[Name]) -> KResult<SocketEndpoint> {
        Err(Errno::ECONNREFUSED)
    }
}

#[derive(Debug)]
struct DevDir {
    registry: Arc<RwLock<Registry>>,
}

impl DirHandle for DevDir {
    fn stat(&self) -> KResult<Stat> {
        let r = self.registry.read().unwrap_or_else(|e| e.into_inner());
        Ok(r.stat(ROOT_INO, FileType::Directory))
    }

    fn list(&self) -> KResult<Vec<DirEntry>> {
        let r = self.registry.read().unwrap_or_else(|e| e.into_inner());
        Ok(r.devices
            .iter()
            .map(|(name, (ino, _))| DirEntry {
                ino: *ino,
                name: name.clone(),
                file_type: FileType::CharacterDevice,
            })
            .collect())
    }

    fn set_times(&self, _atime: SetTime, _mtime: SetTime) -> KResult<()> {
        Err(Errno::EPERM)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DevKind {
    Null,
    Zero,
    Full,
    Random,
}

/// One of the built-in devices.
#[derive(Debug)]
pub(crate) struct Device {
    kind: DevKind,
    ino: u64,
    created: Timestamp,
}

#[cfg(test)]
impl Device {
    pub(crate) fn test_null() -> Device {
        Device {
            kind: DevKind::Null,
            ino: 0,
            created: 0,
        }
    }
}

impl FileDescription for Device {
    fn file_type(&self) -> FileType {
        FileType::CharacterDevice
    }

    fn read(&self, len: usize) -> KResult<Vec<u8>> {
        let len = len.min(MAX_READ);
        match self.kind {
            DevKind::Null => Ok(Vec::new()),
            DevKind::Zero | DevKind::Full => Ok(vec![0; len]),
            DevKind::Random => {
                let mut buf = vec![0; len];
                getrandom::fill(&mut buf).map_err(|_| Errno::EIO)?;
                Ok(buf)
            }
        }
    }

    fn write(&self, data: &[u8], _append: bool) -> KResult<usize> {
        match self.kind {
            DevKind::Full => Err(Errno::ENOSPC),
            _ => Ok(data.len()),
        }
    }

    fn pread(&self, len: usize, _offset: u64) -> KResult<Vec<u8>> {
        self.read(len)
    }

    fn pwrite(&self, data: &[u8], _offset: u64) -> KResult<usize> {
        self.write(data, false)
    }

    fn seek(&self, _offset: i64, _whence: Whence) -> KResult<u64> {
        Ok(0)
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            dev: DEV,
            ino: self.ino,
            file_type: Some(FileType::CharacterDevice),
            mode: 0o666,
            nlink: 1,
            size: 0,
            atime: self.created,
            mtime: self.created,
            ctime: self.created,
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
