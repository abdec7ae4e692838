//! The threads that pump one bridge between a host stream and the service:
//! a reader (host to guest, within the credit window) and a writer (guest
//! data the service could not write directly, each chunk acknowledged).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::Sender;

use crate::rpc::{BridgeEvent, BridgeLink, Msg};

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

/// Serves a bridge over a host socket: the service writes guest data to
/// the socket directly while it has room ([`Msg::BridgeDirect`]), the
/// writer thread the rest, and the writer shuts down the socket's writing
/// half at the guest's EOF.
pub(super) fn serve(tx: Sender<Msg>, link: BridgeLink, stream: UnixStream) {
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

/// Copies host bytes from `reader` into the bridge and the bridge's guest
/// bytes into `writer`; `at_eof` runs when the guest side has ended.
///
/// Two threads, each owning its half of `link`: the reader ("up") sends
/// [`Msg::BridgeSend`]s while less than [`crate::rpc::WINDOW`] bytes are in
/// flight beyond what the kernel took, and blocks (not reading the host)
/// otherwise; the writer ("down") writes each [`BridgeEvent::Data`] and
/// then acknowledges it, so the kernel releases one chunk at a time. The
/// last of the two to end sends [`Msg::BridgeClose`].
pub(super) fn serve_io<R, W>(
    tx: Sender<Msg>,
    link: BridgeLink,
    mut reader: R,
    mut writer: W,
    at_eof: impl FnOnce(&mut W) + Send + 'static,
) where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let (id, events, window) = link.into_parts();
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
    let to_guest = tx.clone();
    let up = std::thread::Builder::new()
        .name(format!("bridge {id} up"))
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let mut sent = 0u64;
            loop {
                // Only a full window waits: a request and its reply cost
                // this thread one wakeup, its read.
                if !window.wait_for_room(sent) {
                    break;
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

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crossbeam_channel::{Receiver, Sender};

    use super::*;
    use crate::rpc::{bridge_link, WINDOW};

    /// How long a pump must stay quiet to count as blocked.
    const QUIET: Duration = Duration::from_millis(200);
    const CHUNK: u64 = 64 * 1024;

    /// An endless host stream that counts what was read from it.
    struct Endless(Arc<AtomicU64>);

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            buf.fill(b'h');
            self.0.fetch_add(buf.len() as u64, Ordering::SeqCst);
            Ok(buf.len())
        }
    }

    /// A host stream at EOF.
    struct Empty;

    impl Read for Empty {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Ok(0)
        }
    }

    /// A host stream that takes one write per token from `gate`.
    struct Gated {
        gate: Receiver<()>,
        out: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Gated {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.gate
                .recv()
                .map_err(|_| std::io::ErrorKind::BrokenPipe)?;
            self.out.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Host bytes the reader sends until it has been quiet for [`QUIET`].
    fn sent_until_quiet(rx: &Receiver<Msg>) -> u64 {
        let mut total = 0;
        while let Ok(msg) = rx.recv_timeout(QUIET) {
            match msg {
                Msg::BridgeSend { data: Some(d), .. } => total += d.len() as u64,
                _ => panic!("unexpected message from the reader"),
            }
        }
        total
    }

    fn channel() -> (Sender<Msg>, Receiver<Msg>) {
        crossbeam_channel::unbounded()
    }

    /// Host to guest: the reader has at most [`WINDOW`] bytes in flight
    /// beyond what the kernel consumed, stops reading the host stream when
    /// the window is full, and reads on as credit comes.
    #[test]
    fn reader_blocks_at_the_credit_window_and_resumes_on_credit() {
        let (link, end) = bridge_link(3);
        let (tx, rx) = channel();
        let read = Arc::new(AtomicU64::new(0));
        serve_io(tx, link, Endless(read.clone()), std::io::sink(), |_| {});

        assert_eq!(sent_until_quiet(&rx), WINDOW);
        // Blocked on credit, not merely slow: the host is not read either.
        assert_eq!(read.load(Ordering::SeqCst), WINDOW);

        // The kernel took one chunk: one more chunk fits.
        end.credit.grant(CHUNK);
        assert_eq!(sent_until_quiet(&rx), CHUNK);
        // Credit short of a whole chunk still lets a read start.
        end.credit.grant(CHUNK + 1);
        assert_eq!(sent_until_quiet(&rx), CHUNK);
        // All taken: a full window again.
        end.credit.grant(WINDOW + 2 * CHUNK);
        assert_eq!(sent_until_quiet(&rx), WINDOW);
        assert_eq!(read.load(Ordering::SeqCst), 2 * WINDOW + 2 * CHUNK);

        // The service's end gone: both threads end, and the bridge closes.
        drop(end);
        let closed = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(closed, Some(Msg::BridgeClose { id: 3 })));
    }

    /// Guest to host: the writer acknowledges each chunk only once it is
    /// written, so the kernel releases the next one chunk at a time.
    #[test]
    fn writer_acknowledges_each_chunk_once_written() {
        let (link, end) = bridge_link(4);
        let (tx, rx) = channel();
        let (gate, gated) = crossbeam_channel::unbounded();
        let out = Arc::new(Mutex::new(Vec::new()));
        let writer = Gated {
            gate: gated,
            out: out.clone(),
        };
        let (eof_tx, eof) = crossbeam_channel::bounded(1);
        serve_io(tx, link, Empty, writer, move |_| {
            let _ = eof_tx.send(());
        });
        // The host stream is empty: its EOF goes to the guest.
        let first = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(first, Some(Msg::BridgeSend { id: 4, data: None })));

        end.events.send(BridgeEvent::Data(b"one".to_vec())).unwrap();
        end.events.send(BridgeEvent::Data(b"two".to_vec())).unwrap();
        assert!(rx.recv_timeout(QUIET).is_err(), "acked before written");
        gate.send(()).unwrap();
        let ack = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(ack, Some(Msg::BridgeAck { id: 4 })));
        assert_eq!(*out.lock().unwrap(), b"one");
        assert!(rx.recv_timeout(QUIET).is_err(), "one ack per chunk");
        gate.send(()).unwrap();
        let ack = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(ack, Some(Msg::BridgeAck { id: 4 })));
        assert_eq!(*out.lock().unwrap(), b"onetwo");

        // The guest's EOF ends the writer; with the reader done too, the
        // bridge closes.
        end.events.send(BridgeEvent::Eof).unwrap();
        eof.recv_timeout(Duration::from_secs(10)).unwrap();
        let closed = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(closed, Some(Msg::BridgeClose { id: 4 })));
    }

    /// Over a host socket: the service gets the socket for direct writes,
    /// host data and EOF reach the guest, and the guest's EOF shuts down
    /// the socket's writing half.
    #[test]
    fn serve_registers_the_socket_and_carries_both_directions() {
        let (link, end) = bridge_link(5);
        let (tx, rx) = channel();
        let (host, mut peer) = UnixStream::pair().unwrap();
        serve(tx, link, host);
        let direct = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(direct, Some(Msg::BridgeDirect { id: 5, .. })));

        peer.write_all(b"hello").unwrap();
        let mut got = Vec::new();
        while got.len() < 5 {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(Msg::BridgeSend {
                    id: 5,
                    data: Some(d),
                }) => got.extend(d),
                _ => panic!("expected host data"),
            }
        }
        assert_eq!(got, b"hello");
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        let eof = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(eof, Some(Msg::BridgeSend { id: 5, data: None })));

        end.events.send(BridgeEvent::Data(b"bye".to_vec())).unwrap();
        end.events.send(BridgeEvent::Eof).unwrap();
        let mut back = Vec::new();
        peer.read_to_end(&mut back).unwrap();
        assert_eq!(back, b"bye");
        let ack = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(ack, Some(Msg::BridgeAck { id: 5 })));
        let closed = rx.recv_timeout(Duration::from_secs(10)).ok();
        assert!(matches!(closed, Some(Msg::BridgeClose { id: 5 })));
    }
}
