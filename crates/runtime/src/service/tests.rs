//! The service thread driven by fake guests: a kernel built in the test
//! (in-memory root, no wasmtime, no guest modules), processes started with
//! [`Msg::Start`], and calls sent and answered over the RPC channels
//! exactly as guest threads do.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use sidecar_kernel::signal::SIGKILL;
use sidecar_kernel::syscall::{PollKind, PollSub};
use sidecar_kernel::vfs::Vfs;
use sidecar_kernel::{InitSpec, KResult, Kernel, Ret, Stdio, Syscall};

use super::{Host, Service};
use crate::rpc::{BridgeEvent, BridgeLink, GuestLink, Msg, Reply, VmEvent};

/// Long enough that a reply missing after it is a bug, not a slow host.
const LONG: Duration = Duration::from_secs(10);
/// How long a call must stay unanswered to count as parked.
const QUIET: Duration = Duration::from_millis(150);

/// The VM's side of the service, faked: interrupting wasm parks the
/// service thread until the test resumes it, so a test can queue messages
/// and let deadlines pass while the service is busy.
struct FakeHost {
    paused: Sender<()>,
    resume: Receiver<()>,
}

impl Host for FakeHost {
    fn interrupt_wasm(&self) {
        let _ = self.paused.send(());
        let _ = self.resume.recv();
    }

    fn open_outlet(&self, _: BridgeLink, _: String) {}
}

/// A service thread over a fresh kernel, shut down on drop.
struct TestVm {
    tx: Sender<Msg>,
    _events: Receiver<VmEvent>,
    paused: Receiver<()>,
    resume: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

fn kernel() -> Kernel {
    let mut vfs = Vfs::new();
    vfs.mount_mem("/").unwrap();
    vfs.mount_dev("/dev").unwrap();
    Kernel::new(vfs)
}

impl TestVm {
    fn start(kernel: Kernel) -> TestVm {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (events_tx, events) = crossbeam_channel::unbounded();
        let (paused_tx, paused) = crossbeam_channel::unbounded();
        let (resume, resume_rx) = crossbeam_channel::unbounded();
        let host = FakeHost {
            paused: paused_tx,
            resume: resume_rx,
        };
        let service = Service::new(kernel, rx, events_tx, None, Box::new(host));
        let thread = std::thread::spawn(move || service.run());
        TestVm {
            tx,
            _events: events,
            paused,
            resume: Some(resume),
            thread: Some(thread),
        }
    }

    /// Holds the service thread busy (in the middle of handling one
    /// message) until [`TestVm::resume`]: a guest kills another that is
    /// running wasm, and the fake host's epoch interrupt waits.
    fn pause(&self) {
        let running = self.plain_guest();
        let killer = self.plain_guest();
        let kill = Syscall::Kill {
            pid: running.pid,
            sig: SIGKILL,
        };
        self.send(&killer, kill);
        self.paused
            .recv_timeout(LONG)
            .expect("the service must pause");
    }

    fn resume(&self) {
        self.resume.as_ref().unwrap().send(()).unwrap();
    }

    /// A fake guest: a process in the kernel and its end of the RPC.
    fn guest(&self, stdio: [Stdio; 3]) -> GuestLink {
        let (reply, answer) = crossbeam_channel::bounded(1);
        let spec = InitSpec {
            name: "fake".into(),
            cwd: "/".into(),
            stdio,
        };
        self.tx.send(Msg::Start { spec, reply }).unwrap();
        answer.recv_timeout(LONG).unwrap().unwrap().0
    }

    fn plain_guest(&self) -> GuestLink {
        self.guest([Stdio::Null, Stdio::Null, Stdio::Null])
    }

    fn send(&self, g: &GuestLink, call: Syscall) {
        self.tx.send(Msg::Call { pid: g.pid, call }).unwrap();
    }

    /// One call and its result, as `GuestCtx::call` makes it.
    fn call(&self, g: &GuestLink, call: Syscall) -> KResult<Ret> {
        self.send(g, call);
        result(g.replies.recv_timeout(LONG).ok())
    }
}

impl Drop for TestVm {
    fn drop(&mut self) {
        self.resume.take();
        let _ = self.tx.send(Msg::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn result(reply: Option<Reply>) -> KResult<Ret> {
    match reply {
        Some(Reply::Done { result, .. }) => result,
        Some(_) => panic!("unexpected reply"),
        None => panic!("no reply"),
    }
}

fn cheap() -> Syscall {
    Syscall::GetPpid
}

fn read(fd: i32) -> Syscall {
    Syscall::Read {
        fd,
        len: 64,
        timer: None,
        parked: false,
    }
}

fn write(fd: i32, data: &[u8]) -> Syscall {
    Syscall::Write {
        fd,
        data: data.to_vec(),
        done: 0,
    }
}

fn sleep_until(deadline: Instant, userdata: u64) -> Syscall {
    Syscall::Poll {
        subs: vec![PollSub {
            userdata,
            kind: PollKind::Clock { deadline },
        }],
    }
}

/// Round robin: calls are served in arrival order across guests. Two
/// flooders submit their next call the moment the last is answered; a
/// third guest's call is served before either flooder has a second call
/// served (it waits behind at most the one call each flooder had queued).
/// Every call writes its guest's tag to one pipe, so the pipe holds the
/// order the service served them in; one test thread sends every call, so
/// the send order is the arrival order, and the two must be equal. The
/// first calls are queued while the service is busy, so it has a choice to
/// make (the victim has the highest pid, against a scheduler that would
/// favour low ones).
#[test]
fn flooding_guests_cannot_starve_another_guests_call() {
    let k = kernel();
    let (r, w) = sidecar_kernel::pipe::pipe(k.notifier());
    let vm = TestVm::start(k);
    let out = || [Stdio::Null, Stdio::Open(w.clone()), Stdio::Null];
    let flooders = [vm.guest(out()), vm.guest(out())];
    let victim = vm.guest(out());
    let log = vm.guest([Stdio::Open(r), Stdio::Null, Stdio::Null]);
    drop(w);
    let mut sent = Vec::new();
    let mut send = |g: &GuestLink, tag: u8| {
        vm.send(g, write(1, &[tag]));
        sent.push(tag);
    };
    let tags = [b'a', b'b'];
    let done = |g: &GuestLink| {
        let r = result(g.replies.recv_timeout(LONG).ok());
        assert_eq!(r, Ok(Ret::Size(1)));
    };

    vm.pause();
    send(&flooders[0], tags[0]);
    send(&victim, b'v');
    send(&flooders[1], tags[1]);
    vm.resume();
    done(&victim);
    for (f, tag) in flooders.iter().zip(tags) {
        done(f);
        send(f, tag);
    }
    for round in 0..100 {
        // The flooders run alone for a while.
        for _ in 0..round % 7 {
            for (f, tag) in flooders.iter().zip(tags) {
                done(f);
                send(f, tag);
            }
        }
        send(&victim, b'v');
        let mut served = [0usize; 2];
        let mut answered = false;
        while !answered {
            for (i, (f, tag)) in flooders.iter().zip(tags).enumerate() {
                done(f);
                served[i] += 1;
                // The reply to the flooder's call sent after the victim's
                // comes after the victim's reply.
                answered |= victim.replies.try_recv().is_ok();
                assert!(
                    answered || served[i] < 2,
                    "round {round}: flooder {i} had {} calls served while the other guest waited",
                    served[i]
                );
                send(f, tag);
            }
        }
    }
    for f in &flooders {
        done(f);
    }

    let mut served = Vec::new();
    while served.len() < sent.len() {
        let read = Syscall::Read {
            fd: 0,
            len: 1 << 16,
            timer: None,
            parked: false,
        };
        let Ok(Ret::Bytes(b)) = vm.call(&log, read) else {
            panic!("reading the log")
        };
        served.extend(b);
    }
    if let Some(i) = served.iter().zip(&sent).position(|(s, a)| s != a) {
        let around = |v: &[u8]| String::from_utf8_lossy(&v[i.saturating_sub(4)..]).into_owned();
        panic!(
            "call {i} served out of arrival order: served {:.12}..., arrived {:.12}...",
            around(&served),
            around(&sent)
        );
    }
    assert_eq!(served.len(), sent.len());
}

/// Deadlines: guests sleeping until different deadlines are each woken at
/// their deadline, never before, and a guest is never woken while one
/// with an earlier, passed deadline still sleeps.
#[test]
fn sleeping_guests_wake_in_deadline_order() {
    let vm = TestVm::start(kernel());
    let t0 = Instant::now();
    let after = [300, 100, 400, 200].map(|ms| t0 + Duration::from_millis(ms));
    let sleepers: Vec<GuestLink> = after.iter().map(|_| vm.plain_guest()).collect();
    for (i, (g, when)) in sleepers.iter().zip(after).enumerate() {
        vm.send(g, sleep_until(when, i as u64));
    }
    let mut woken = vec![false; sleepers.len()];
    // Checks sleeper `i`'s answer; it was sent after those of every sleeper
    // due earlier, so theirs must be there to take too.
    fn check(i: usize, reply: Reply, after: &[Instant], g: &[GuestLink], woken: &mut [bool]) {
        assert!(Instant::now() >= after[i], "sleeper {i} woken early");
        let Ok(Ret::Events(ev)) = result(Some(reply)) else {
            panic!("a poll answers with events");
        };
        assert_eq!((ev.len(), ev[0].userdata), (1, i as u64));
        woken[i] = true;
        for j in 0..g.len() {
            if after[j] < after[i] && !woken[j] {
                let earlier = g[j].replies.try_recv();
                let earlier = earlier.unwrap_or_else(|_| panic!("{i} woken before {j}"));
                check(j, earlier, after, g, woken);
            }
        }
    }
    while woken.contains(&false) {
        assert!(t0.elapsed() < LONG, "sleepers not woken");
        for (i, g) in sleepers.iter().enumerate() {
            if let Ok(reply) = g.replies.try_recv() {
                check(i, reply, &after, &sleepers, &mut woken);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Deadlines: a due timeout is served right after the message in hand,
/// ahead of every call queued meanwhile (a stream of other guests' calls
/// cannot hold it back), because the service checks deadlines after every
/// message and not only when it has nothing else to do.
#[test]
fn a_due_deadline_goes_before_queued_calls() {
    let vm = TestVm::start(kernel());
    let sleeper = vm.plain_guest();
    let flooders = [vm.plain_guest(), vm.plain_guest(), vm.plain_guest()];
    let deadline = Instant::now() + Duration::from_millis(20);
    vm.send(&sleeper, sleep_until(deadline, 9));
    vm.pause();
    // While the service is busy: a stream of other guests' calls (each
    // breaks the one-call-outstanding rule, to make the stream long), then
    // a marker from the sleeper itself, on its own reply channel.
    for _ in 0..300 {
        for f in &flooders {
            vm.send(f, cheap());
        }
    }
    vm.send(&sleeper, cheap());
    std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
    vm.resume();

    let first = result(sleeper.replies.recv_timeout(LONG).ok());
    assert!(
        matches!(&first, Ok(Ret::Events(ev)) if ev.len() == 1 && ev[0].userdata == 9),
        "the due sleep must be answered before the queued calls, got {first:?}"
    );
    assert!(Instant::now() >= deadline);
    let marker = result(sleeper.replies.recv_timeout(LONG).ok());
    assert!(matches!(marker, Ok(Ret::Pid(_))));
    for f in &flooders {
        for _ in 0..300 {
            assert!(result(f.replies.recv_timeout(LONG).ok()).is_ok());
        }
    }
}

/// Deadlines: calls whose deadlines all passed while the service was busy
/// are retried earliest deadline first, whatever order they parked in.
/// (One fake guest parks them all, so that their answers share one reply
/// channel and their order is observable.)
#[test]
fn passed_deadlines_are_served_earliest_first() {
    let vm = TestVm::start(kernel());
    let guest = vm.plain_guest();
    let t0 = Instant::now();
    let after = [30, 10, 40, 20, 25].map(|ms| t0 + Duration::from_millis(ms));
    for (i, when) in after.iter().enumerate() {
        vm.send(&guest, sleep_until(*when, i as u64));
    }
    vm.pause();
    std::thread::sleep(Duration::from_millis(40).saturating_sub(t0.elapsed()));
    vm.resume();
    let order: Vec<u64> = (0..after.len())
        .map(|_| match result(guest.replies.recv_timeout(LONG).ok()) {
            Ok(Ret::Events(ev)) => ev[0].userdata,
            other => panic!("a poll answers with events, got {other:?}"),
        })
        .collect();
    assert_eq!(order, vec![1, 3, 4, 0, 2]);
}

/// Park and wake: calls blocked on a pipe are retried when the pipe is
/// written (its wait key is notified), oldest first: the oldest reader gets
/// the data, the next one blocks again, and a reader of another pipe is not
/// woken at all.
#[test]
fn parked_calls_wake_on_their_key_oldest_first() {
    let k = kernel();
    let (r, w) = sidecar_kernel::pipe::pipe(k.notifier());
    let (r2, w2) = sidecar_kernel::pipe::pipe(k.notifier());
    let vm = TestVm::start(k);
    let stdin = |f: &Arc<sidecar_kernel::file::OpenFile>| {
        [Stdio::Open(f.clone()), Stdio::Null, Stdio::Null]
    };
    let first = vm.guest(stdin(&r));
    let second = vm.guest(stdin(&r));
    let other = vm.guest(stdin(&r2));
    let writer = vm.guest([Stdio::Null, Stdio::Open(w), Stdio::Open(w2)]);
    drop((r, r2));

    // Arrival order is parking order.
    vm.send(&first, read(0));
    vm.send(&second, read(0));
    vm.send(&other, read(0));
    for g in [&first, &second, &other] {
        assert!(g.replies.recv_timeout(QUIET).is_err(), "must park");
    }

    assert_eq!(vm.call(&writer, write(1, b"a")), Ok(Ret::Size(1)));
    assert_eq!(
        result(first.replies.recv_timeout(LONG).ok()),
        Ok(Ret::Bytes(b"a".to_vec()))
    );
    assert!(
        second.replies.recv_timeout(QUIET).is_err(),
        "woken, then parked again"
    );
    assert!(other.replies.try_recv().is_err(), "not its key");

    // The first reader reads again: it is now behind the second.
    vm.send(&first, read(0));
    assert!(first.replies.recv_timeout(QUIET).is_err());
    assert_eq!(vm.call(&writer, write(1, b"b")), Ok(Ret::Size(1)));
    assert_eq!(
        result(second.replies.recv_timeout(LONG).ok()),
        Ok(Ret::Bytes(b"b".to_vec()))
    );
    assert!(first.replies.recv_timeout(QUIET).is_err());
    assert_eq!(vm.call(&writer, write(1, b"c")), Ok(Ret::Size(1)));
    assert_eq!(
        result(first.replies.recv_timeout(LONG).ok()),
        Ok(Ret::Bytes(b"c".to_vec()))
    );

    // The other pipe's key wakes its reader.
    assert!(other.replies.try_recv().is_err());
    assert_eq!(vm.call(&writer, write(2, b"z")), Ok(Ret::Size(1)));
    assert_eq!(
        result(other.replies.recv_timeout(LONG).ok()),
        Ok(Ret::Bytes(b"z".to_vec()))
    );
}

/// A guest listening at `/s`, and the accepted end of a bridge to it.
fn bridged_server(vm: &TestVm) -> (GuestLink, i32, BridgeLink) {
    let server = vm.plain_guest();
    let socket = Syscall::Socket {
        domain: 1,
        ty: 1,
        protocol: 0,
    };
    let Ok(Ret::Fd(l)) = vm.call(&server, socket) else {
        panic!("socket")
    };
    let mut addr = 1u16.to_le_bytes().to_vec();
    addr.extend_from_slice(b"/s\0");
    vm.call(&server, Syscall::Bind { fd: l, addr }).unwrap();
    vm.call(&server, Syscall::Listen { fd: l, backlog: 4 })
        .unwrap();
    let (reply, answer) = crossbeam_channel::bounded(1);
    let path = "/s".to_owned();
    vm.tx.send(Msg::BridgeConnect { path, reply }).unwrap();
    let link = answer.recv_timeout(LONG).unwrap().unwrap();
    let accept = Syscall::Accept { fd: l, flags: 0 };
    let Ok(Ret::Accepted { fd, .. }) = vm.call(&server, accept) else {
        panic!("accept")
    };
    (server, fd, link)
}

/// Guest to host over a bridge without a direct socket: the kernel hands
/// out one chunk at a time, and the next only after the host's ack.
#[test]
fn bridge_hands_the_host_one_chunk_at_a_time() {
    let vm = TestVm::start(kernel());
    let (server, fd, link) = bridged_server(&vm);
    let data: Vec<u8> = (0..200 * 1024).map(|i| (i % 253) as u8).collect();
    assert_eq!(
        vm.call(&server, write(fd, &data)),
        Ok(Ret::Size(data.len()))
    );

    let mut got = Vec::new();
    let mut chunks = 0;
    while got.len() < data.len() {
        let Ok(BridgeEvent::Data(chunk)) = link.events.recv_timeout(LONG) else {
            panic!("expected guest data");
        };
        chunks += 1;
        got.extend_from_slice(&chunk);
        assert!(
            link.events.recv_timeout(QUIET).is_err(),
            "a second chunk before the ack"
        );
        vm.tx.send(Msg::BridgeAck { id: link.id }).unwrap();
    }
    assert!(got == data, "bytes must arrive whole and in order");
    assert!(chunks >= 4, "64 KiB chunks at most, got {chunks}");
}

/// Guest to host with the host socket registered: the service writes the
/// guest's data into it directly and acks for itself, so the writer
/// thread is never woken.
#[test]
fn bridge_writes_guest_data_to_the_host_socket_directly() {
    use std::io::Read;
    let vm = TestVm::start(kernel());
    let (server, fd, link) = bridged_server(&vm);
    let (host, mut peer) = std::os::unix::net::UnixStream::pair().unwrap();
    let id = link.id;
    vm.tx.send(Msg::BridgeDirect { id, stream: host }).unwrap();
    let data: Vec<u8> = (0..150 * 1024).map(|i| (i % 241) as u8).collect();
    assert_eq!(
        vm.call(&server, write(fd, &data)),
        Ok(Ret::Size(data.len()))
    );
    let mut got = vec![0u8; data.len()];
    peer.read_exact(&mut got).unwrap();
    assert!(got == data);
    assert!(link.events.try_recv().is_err(), "the writer was woken");
}

/// Host to guest: what the kernel moves into the guest socket comes back
/// to the host side as credit (a running total).
#[test]
fn bridge_returns_credit_for_host_data_the_guest_socket_took() {
    let vm = TestVm::start(kernel());
    let (server, fd, link) = bridged_server(&vm);
    let (id, _events, window) = link.into_parts();
    let data = Some(b"hello".to_vec());
    vm.tx.send(Msg::BridgeSend { id, data }).unwrap();
    let t0 = Instant::now();
    while window.consumed() < 5 {
        assert!(t0.elapsed() < LONG, "no credit");
        std::thread::yield_now();
    }
    assert_eq!(window.consumed(), 5);
    assert_eq!(
        vm.call(&server, read(fd)),
        Ok(Ret::Bytes(b"hello".to_vec()))
    );
    let data = Some(vec![7u8; 1000]);
    vm.tx.send(Msg::BridgeSend { id, data }).unwrap();
    while window.consumed() < 1005 {
        assert!(t0.elapsed() < LONG, "no credit");
        std::thread::yield_now();
    }
    assert_eq!(window.consumed(), 1005);
}
