//! Descriptions backed by the host process's own stdout and stderr.
//!
//! Writes go straight to the host stream. A slow host consumer therefore
//! applies backpressure to the whole kernel thread, which is the honest
//! behaviour for a terminal or a test harness reading our output.

use std::any::Any;
use std::io::Write;

use crate::errno::{Errno, KResult};
use crate::file::{FileDescription, FileType, Stat};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostStream {
    Stdout,
    Stderr,
}

#[derive(Debug)]
pub struct HostOutput(pub HostStream);

impl FileDescription for HostOutput {
    fn file_type(&self) -> FileType {
        FileType::CharacterDevice
    }

    fn write(&self, data: &[u8], _append: bool) -> KResult<usize> {
        let res = match self.0 {
            HostStream::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(data).and_then(|_| out.flush())
            }
            HostStream::Stderr => std::io::stderr().lock().write_all(data),
        };
        match res {
            Ok(()) => Ok(data.len()),
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(Errno::EPIPE),
            Err(e) => Err(Errno::from_io(&e)),
        }
    }

    fn stat(&self) -> KResult<Stat> {
        Ok(Stat {
            file_type: Some(FileType::CharacterDevice),
            mode: 0o620,
            nlink: 1,
            ..Stat::default()
        })
    }

    fn poll(&self) -> u16 {
        crate::file::poll::POLLOUT
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A host file given as a guest's stdin, stdout or stderr in vm.toml. It is
/// outside the VM's namespace; only the VM configuration can name it.
#[derive(Debug)]
pub struct HostFileStream {
    file: std::sync::Mutex<std::fs::File>,
}

impl HostFileStream {
    pub fn new(file: std::fs::File) -> HostFileStream {
        HostFileStream {
            file: std::sync::Mutex::new(file),
        }
    }
}

impl FileDescription for HostFileStream {
    fn file_type(&self) -> FileType {
        FileType::RegularFile
    }

    fn read(&self, len: usize) -> KResult<Vec<u8>> {
        use std::io::Read;
        let mut buf = vec![0; len];
        let n = self.file.lock().unwrap().read(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn write(&self, data: &[u8], _append: bool) -> KResult<usize> {
        self.file.lock().unwrap().write_all(data)?;
        Ok(data.len())
    }

    fn stat(&self) -> KResult<Stat> {
        let m = self.file.lock().unwrap().metadata()?;
        Ok(Stat {
            file_type: Some(FileType::RegularFile),
            mode: 0o644,
            nlink: 1,
            size: m.len(),
            ..Stat::default()
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
