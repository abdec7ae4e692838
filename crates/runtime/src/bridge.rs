//! Host ends of kernel bridges: copying between a host `UnixStream` and a
//! guest socket, with the kernel's credit-based flow control.
//!
//! Host to guest, a reader thread per bridge blocks on the host socket and
//! hands what it reads to the service. Guest to host, the service writes
//! to the host socket itself when the socket has room (a non-blocking
//! send), so a reply costs no extra thread wakeup; whatever does not fit
//! goes to a writer thread that blocks until it is written.

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use sidecar_kernel::unix::bridge::BridgeId;
use sidecar_kernel::{Errno, KResult};

use crate::service::Msg;

/// What the kernel tells a bridge's host side.
#[derive(Debug)]
pub enum BridgeEvent {
    Data(Vec<u8>),
    Eof,
}

/// Host bytes a bridge's reader may have sent beyond what the guest socket
/// has taken: what the kernel may queue for one bridge, at most.
const WINDOW: u64 = 256 * 1024;

/// A host-side handle on one bridge.
pub struct BridgeLink {
    pub id: BridgeId,
    pub events: Receiver<BridgeEvent>,
    /// The kernel's running total of host bytes taken (see [`WINDOW`]).
    consumed: Arc<AtomicU64>,
    /// Rings after `consumed` grows, for a reader waiting on the window.
    credit: Receiver<()>,
}

/// The service's end of a bridge's credit: store the total, then ring.
pub(crate) struct Credit {
    consumed: Arc<AtomicU64>,
    ring: Sender<()>,
}

impl Credit {
    pub(crate) fn grant(&self, consumed: u64) {
        self.consumed.store(consumed, Ordering::Release);
        // One pending ring is enough: the reader re-checks the total.
        let _ = self.ring.try_send(());
    }
}

/// A handle on a running VM for host services.
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
        let bound = UnixListener::bind(&host).and_then(|l| Ok((l, HostSocket::new(host)?)));
        let (listener, mut guard) = bound.inspect_err(|_| remove_dirs(&made))?;
        guard.made = made;
        let vm = self.clone();
        std::thread::Builder::new()
            .name(format!("expose {guest}"))
            .spawn(move || {
                for stream in listener.incoming().flatten() {
                    match vm.connect(&guest) {
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
/// file has taken its place since.
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

/// The channels the service feeds for one bridge.
pub(crate) fn link(id: BridgeId) -> (BridgeLink, Sender<BridgeEvent>, Credit) {
    let (etx, events) = crossbeam_channel::unbounded();
    let (ring, credit) = crossbeam_channel::bounded(1);
    let consumed = Arc::new(AtomicU64::new(0));
    let link = BridgeLink {
        id,
        events,
        consumed: consumed.clone(),
        credit,
    };
    (link, etx, Credit { consumed, ring })
}

/// Connects a `connect-out` bridge to its host socket, then serves it.
pub(crate) fn open_outlet(tx: Sender<Msg>, link: BridgeLink, host: String) {
    let spawned = std::thread::Builder::new()
        .name(format!("connect-out {host}"))
        .spawn(move || match UnixStream::connect(&host) {
            Ok(stream) => serve(tx, link, stream),
            Err(e) => {
                tracing::info!("connect-out {host}: {e}");
                let _ = tx.send(Msg::BridgeClose { id: link.id });
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start a connect-out thread: {e}");
    }
}

fn serve(tx: Sender<Msg>, link: BridgeLink, stream: UnixStream) {
    let (Ok(reader), Ok(direct)) = (stream.try_clone(), stream.try_clone()) else {
        let _ = tx.send(Msg::BridgeClose { id: link.id });
        return;
    };
    let _ = tx.send(Msg::BridgeDirect {
        id: link.id,
        stream: direct,
    });
    serve_io(tx, link, reader, stream, |w| {
        let _ = w.shutdown(std::net::Shutdown::Write);
    });
}

/// Writes what `stream` takes of `data` now, without blocking; returns how
/// much. Errors are left for the writer thread to meet.
pub(crate) fn send_now(stream: &UnixStream, mut data: &[u8]) -> usize {
    use rustix::io::Errno;
    use rustix::net::{send, SendFlags};
    let total = data.len();
    while !data.is_empty() {
        match send(stream, data, SendFlags::DONTWAIT | SendFlags::NOSIGNAL) {
            Ok(n) => data = &data[n..],
            Err(Errno::INTR) => {}
            Err(_) => break,
        }
    }
    total - data.len()
}

/// Copies host bytes from `reader` into the bridge and the bridge's guest
/// bytes into `writer`; `at_eof` runs when the guest side has ended.
pub(crate) fn serve_io<R, W>(
    tx: Sender<Msg>,
    link: BridgeLink,
    mut reader: R,
    mut writer: W,
    at_eof: impl FnOnce(&mut W) + Send + 'static,
) where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let id = link.id;
    // The last of the two directions to finish closes the bridge.
    let open = Arc::new(AtomicUsize::new(2));
    let finish = {
        let open = open.clone();
        let tx = tx.clone();
        move || {
            if open.fetch_sub(1, Ordering::AcqRel) == 1 {
                let _ = tx.send(Msg::BridgeClose { id });
            }
        }
    };
    let finish2 = finish.clone();
    let (credit, consumed) = (link.credit, link.consumed);
    let to_guest = tx.clone();
    let up = std::thread::Builder::new()
        .name(format!("bridge {id} up"))
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let mut sent = 0u64;
            'copy: loop {
                // Only a full window waits: a request and its reply cost
                // this thread one wakeup, its read.
                while sent - consumed.load(Ordering::Acquire) >= WINDOW {
                    if credit.recv().is_err() {
                        break 'copy;
                    }
                }
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = to_guest.send(Msg::BridgeSend { id, data: None });
                        break;
                    }
                    Ok(n) => n,
                };
                sent += n as u64;
                let data = Some(buf[..n].to_vec());
                if to_guest.send(Msg::BridgeSend { id, data }).is_err() {
                    break;
                }
            }
            finish();
        });
    let events = link.events;
    let down = std::thread::Builder::new()
        .name(format!("bridge {id} down"))
        .spawn(move || {
            for ev in events.iter() {
                match ev {
                    BridgeEvent::Data(d) => {
                        if writer.write_all(&d).and_then(|_| writer.flush()).is_err() {
                            break;
                        }
                        let _ = tx.send(Msg::BridgeAck { id });
                    }
                    BridgeEvent::Eof => {
                        at_eof(&mut writer);
                        break;
                    }
                }
            }
            finish2();
        });
    if up.is_err() || down.is_err() {
        tracing::error!("cannot start bridge threads for bridge {id}");
    }
}
