//! Host ends of kernel bridges: the [`VmHandle`] host services use, the
//! host sockets `expose` binds, and (in `pump`) the threads that copy
//! between a host stream and a guest socket with the kernel's credit-based
//! flow control.
//!
//! Host to guest, a reader thread per bridge blocks on the host socket and
//! hands what it reads to the service. Guest to host, the service writes
//! to the host socket itself when the socket has room (a non-blocking
//! send, see `rpc::BridgeEnd`), so a reply costs no extra thread wakeup;
//! whatever does not fit goes to a writer thread that blocks until it is
//! written.
//!
//! This module talks to the service thread only through [`crate::rpc`]: it
//! sends [`Msg`]s and holds [`BridgeLink`]s, and never names the service.

mod pump;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

use crossbeam_channel::Sender;
use sidecar_kernel::unix::bridge::BridgeId;
use sidecar_kernel::{Errno, KResult};

pub(crate) use pump::open_outlet;
use pump::{serve, serve_io};

use crate::rpc::Msg;
pub use crate::rpc::{BridgeEvent, BridgeLink};

/// A handle on a running VM for host services.
///
/// A clone of the VM's request sender, nothing more: it may be used from
/// any thread, and every method is a [`Msg`] to the service thread (plus,
/// for `serve` and `expose`, threads of its own that hold clones). Once the
/// service thread has ended, calls fail (`ECONNREFUSED`) or do nothing.
#[derive(Clone)]
pub struct VmHandle {
    pub(crate) tx: Sender<Msg>,
}

impl VmHandle {
    /// Connects to the guest listener at `path`.
    pub fn connect(&self, path: &str) -> KResult<BridgeLink> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.tx
            .send(Msg::BridgeConnect {
                path: path.to_owned(),
                reply,
            })
            .map_err(|_| Errno::ECONNREFUSED)?;
        answer.recv().map_err(|_| Errno::ECONNREFUSED)?
    }

    /// Blocks until a socket listens at VM path `path`; false if the VM
    /// ended first. Woken by the listen itself.
    pub fn await_listening(&self, path: &str) -> bool {
        crate::rpc::await_listening(&self.tx, path, None)
    }

    /// Copies between `stream` and the bridge until both directions end.
    pub fn serve(&self, link: BridgeLink, stream: UnixStream) {
        serve(self.tx.clone(), link, stream);
    }

    /// Attaches a guest's terminal to host streams (normally the sidecar's
    /// own stdin and stdout).
    pub fn attach_terminal<R, W>(&self, link: BridgeLink, reader: R, writer: W)
    where
        R: Read + Send + 'static,
        W: Write + Send + 'static,
    {
        serve_io(self.tx.clone(), link, reader, writer, |w| {
            let _ = w.flush();
        });
    }

    /// Sends `sig` to every live guest process.
    pub fn signal_all(&self, sig: i32) {
        let _ = self.tx.send(Msg::KillAll(sig));
    }

    /// Forwards a host window size to a terminal bridge.
    pub fn resize(&self, id: BridgeId, rows: u16, cols: u16) {
        let _ = self.tx.send(Msg::BridgeResize { id, rows, cols });
    }

    /// Publishes the guest listener at `guest` as a host socket at `host`.
    /// A stale socket file at `host` (nobody accepts on it) is replaced; a
    /// live one or any other file is an error. Missing parent directories
    /// are made. The returned guard removes the socket file again, and the
    /// directories it made once they are empty.
    pub fn expose(&self, guest: String, host: PathBuf) -> std::io::Result<HostSocket> {
        use std::io::{Error, ErrorKind};
        use std::os::unix::fs::FileTypeExt;
        if let Ok(meta) = std::fs::symlink_metadata(&host) {
            if !meta.file_type().is_socket() {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    "exists and is not a socket",
                ));
            }
            if UnixStream::connect(&host).is_ok() {
                return Err(Error::new(
                    ErrorKind::AddrInUse,
                    "a live server is listening there",
                ));
            }
            std::fs::remove_file(&host)?;
        }
        let mut missing = Vec::new();
        let mut dir = host.parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            missing.push(d.to_owned());
            dir = d.parent();
        }
        let mut made = Vec::new();
        for d in missing.into_iter().rev() {
            match std::fs::create_dir(&d) {
                Ok(()) => made.push(d),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => {
                    remove_dirs(&made);
                    return Err(e);
                }
            }
        }
        // Bound under a temporary name and renamed into place, so the path
        // appears already listening: a client that waits for the file
        // (`sidecar wait`, inotify) never sees it refuse.
        let tmp = host.with_file_name(format!(
            ".{}.{}",
            host.file_name()
                .map_or("sock".into(), |n| n.to_string_lossy()),
            std::process::id()
        ));
        let _ = std::fs::remove_file(&tmp);
        let bound = UnixListener::bind(&tmp)
            .and_then(|l| {
                std::fs::rename(&tmp, &host)?;
                Ok(l)
            })
            .inspect_err(|_| {
                let _ = std::fs::remove_file(&tmp);
            })
            .and_then(|l| Ok((l, HostSocket::new(host)?)));
        let (listener, mut guard) = bound.inspect_err(|_| remove_dirs(&made))?;
        guard.made = made;
        let vm = self.clone();
        std::thread::Builder::new()
            .name(format!("expose {guest}"))
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    // A client that comes before the guest server listens
                    // is held until it does (or the VM ends), not refused.
                    let link = match vm.connect(&guest) {
                        Err(Errno::ECONNREFUSED | Errno::ENOENT) if vm.await_listening(&guest) => {
                            vm.connect(&guest)
                        }
                        other => other,
                    };
                    match link {
                        Ok(link) => vm.serve(link, stream),
                        Err(e) => {
                            tracing::info!("expose {guest}: guest refused a host client: {e}")
                        }
                    }
                }
            })?;
        Ok(guard)
    }
}

/// A socket file the VM bound on the host; removed on drop unless another
/// file has taken its place since (same device and inode as when bound).
///
/// Owned by the VM controller ([`crate::RunningVm`]), which drops it when
/// the VM ends, before the guests are killed, so that new host clients find
/// no socket rather than a dying VM. The accept thread of `expose` does not
/// hold it.
#[derive(Debug)]
pub struct HostSocket {
    path: PathBuf,
    id: (u64, u64),
    /// Directories made for it, outermost first.
    made: Vec<PathBuf>,
}

impl HostSocket {
    fn new(path: PathBuf) -> std::io::Result<HostSocket> {
        let id = file_id(&path)?;
        Ok(HostSocket {
            path,
            id,
            made: Vec::new(),
        })
    }
}

/// Removes `dirs` innermost first, stopping at one that is not empty.
fn remove_dirs(dirs: &[PathBuf]) {
    for d in dirs.iter().rev() {
        if std::fs::remove_dir(d).is_err() {
            break;
        }
    }
}

fn file_id(path: &std::path::Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path)?;
    Ok((m.dev(), m.ino()))
}

impl Drop for HostSocket {
    fn drop(&mut self) {
        if file_id(&self.path).ok() == Some(self.id) {
            let _ = std::fs::remove_file(&self.path);
        }
        remove_dirs(&self.made);
    }
}
