//! Building and running a VM: the namespace, the engine, the service thread
//! and the first guests.
//!
//! The VM ends when every guest marked `main` has exited (every configured
//! guest is `main` unless one is marked). Whatever still runs then is
//! killed. The VM's exit code is the shell-style status (`code`, or 128 +
//! signal) of the first main guest, in configuration order, whose status is
//! not zero; 0 if all succeeded.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{bounded, unbounded};
use sidecar_kernel::kernel::{InitSpec, Stdio};
use sidecar_kernel::signal::SIGKILL;
use sidecar_kernel::vfs::{Program, Vfs};
use sidecar_kernel::{Errno, Kernel, Pid, WaitStatus};
use wasmtime::{Config, Engine, Linker};

use crate::bridge::{BridgeLink, HostSocket};
use crate::cache::{LoadError, ModuleCache};
use crate::guest::{Budget, GuestSpec};
use crate::rpc::{Msg, VmEvent};
use crate::service::Service;
use crate::Shared;

/// A host folder in the VM's namespace.
#[derive(Debug, Clone)]
pub struct MountConfig {
    /// Absolute VFS path.
    pub guest: String,
    pub host: PathBuf,
    pub readonly: bool,
}

/// Where a guest's module comes from.
#[derive(Debug, Clone)]
pub enum ModuleSource {
    /// A path in the VM's filesystem.
    Vfs(String),
    /// A host file (`sidecar exec`).
    Host(PathBuf),
}

#[derive(Debug, Clone)]
pub struct GuestConfig {
    pub spec: GuestSpec,
    pub wasm: ModuleSource,
    /// VFS path of the working directory.
    pub cwd: String,
    pub stdio: [Stdio; 3],
    pub main: bool,
    /// Start once a socket listens at this VM path (absolute), and give up
    /// with an error after `after_timeout`.
    pub after_listening: Option<String>,
    pub after_timeout: std::time::Duration,
}

/// A guest socket path paired with a host socket path.
#[derive(Debug, Clone)]
pub struct SocketLink {
    pub guest: String,
    pub host: PathBuf,
}

#[derive(Debug, Clone)]
pub struct VmConfig {
    /// `mounts[0]` is normally `/`.
    pub mounts: Vec<MountConfig>,
    pub guests: Vec<GuestConfig>,
    /// Guest listeners published as host sockets.
    pub expose: Vec<SocketLink>,
    /// Guest paths whose connections go to host sockets. Nothing else of
    /// the host is reachable.
    pub connect_out: Vec<SocketLink>,
    /// Where compiled modules are cached; `None` disables the disk cache.
    pub cache_dir: Option<PathBuf>,
    /// What the VM's guests may use of the host, together.
    pub limits: crate::Limits,
    /// How long guests have to end after the VM is asked to stop (the
    /// sidecar forwards SIGTERM) before every guest is killed.
    pub stop_timeout: std::time::Duration,
}

/// Why a VM could not start. Every variant is one line naming the culprit.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    #[error("mount {guest}: host folder {host}: {errno}")]
    Mount {
        guest: String,
        host: PathBuf,
        errno: Errno,
    },
    #[error("guest {guest}: wasm {path}: {errno}")]
    Wasm {
        guest: String,
        path: String,
        errno: Errno,
    },
    #[error("guest {guest}: {error}")]
    Load { guest: String, error: LoadError },
    #[error("guest {guest}: {what}")]
    Start { guest: String, what: String },
    /// `index` is the guest's place in [`VmConfig::guests`].
    #[error("guest {guest}: cwd {cwd}: {errno}")]
    Cwd {
        index: usize,
        guest: String,
        cwd: String,
        errno: Errno,
    },
    /// A host file for stdin, stdout or stderr (`stream`) that cannot be.
    #[error("guest {guest}: {stream} {}: {errno}", .path.display())]
    Stdio {
        index: usize,
        guest: String,
        stream: &'static str,
        path: PathBuf,
        errno: Errno,
    },
    #[error("engine: {0}")]
    Engine(String),
    #[error("{what} {guest} -> {host}: {error}")]
    Link {
        what: &'static str,
        guest: String,
        host: PathBuf,
        error: String,
    },
}

pub struct Vm {
    config: VmConfig,
}

impl Vm {
    pub fn new(config: VmConfig) -> Vm {
        Vm { config }
    }

    /// Runs the VM to its end; returns its exit code.
    pub fn run(self) -> Result<i32, VmError> {
        self.start()?.wait()
    }

    /// Boots the VM and returns once every configured guest is running.
    pub fn start(self) -> Result<RunningVm, VmError> {
        let started = Instant::now();
        let cfg = self.config;
        let mut vfs = Vfs::new();
        let internal = |e: Errno| VmError::Engine(format!("mounting kernel filesystems: {e}"));
        // A fresh /tmp unless a mount replaces it; /dev is always devices.
        vfs.mount_mem("/tmp").map_err(internal)?;
        for m in &cfg.mounts {
            vfs.mount_host(&m.guest, m.host.clone(), m.readonly)
                .map_err(|errno| VmError::Mount {
                    guest: m.guest.clone(),
                    host: m.host.clone(),
                    errno,
                })?;
        }
        vfs.mount_dev("/dev").map_err(internal)?;
        let mut kernel = Kernel::new(vfs);
        kernel.set_limits(cfg.limits.kernel());

        let fuel = cfg
            .guests
            .iter()
            .any(|g| matches!(g.spec.budget, Budget::Fuel(_)));
        let engine = make_engine(fuel)?;
        let mut linker = Linker::new(&engine);
        crate::abi::add_to_linker(&mut linker).map_err(|e| VmError::Engine(e.to_string()))?;
        let cache = ModuleCache::new(&engine, linker, cfg.cache_dir.clone());

        let mut pres = Vec::new();
        for (index, g) in cfg.guests.iter().enumerate() {
            check_guest(&kernel, index, g)?;
            let program = match &g.wasm {
                ModuleSource::Host(p) => {
                    Program::from_host_path(p.clone()).map_err(|error| VmError::Load {
                        guest: g.spec.name.clone(),
                        error: crate::cache::LoadError::Read {
                            path: p.clone(),
                            error,
                        },
                    })?
                }
                ModuleSource::Vfs(p) => {
                    kernel.vfs.program("/", p).map_err(|errno| VmError::Wasm {
                        guest: g.spec.name.clone(),
                        path: p.clone(),
                        errno,
                    })?
                }
            };
            let module = match &g.wasm {
                ModuleSource::Vfs(p) => p.clone(),
                ModuleSource::Host(p) => p.display().to_string(),
            };
            let pre = cache
                .load_program(&program)
                .and_then(|pre| {
                    crate::cache::check_memory(&module, &pre, g.spec.memory_limit).map(|()| pre)
                })
                .map_err(|error| VmError::Load {
                    guest: g.spec.name.clone(),
                    error,
                })?;
            pres.push(pre);
        }
        tracing::debug!(elapsed = ?started.elapsed(), "modules ready");

        let (tx, rx) = unbounded();
        let (events_tx, events) = unbounded();
        let wants_stdin = cfg
            .guests
            .iter()
            .any(|g| matches!(g.stdio[0], Stdio::Inherit));
        if cfg
            .guests
            .iter()
            .filter(|g| g.stdio.iter().any(|s| matches!(s, Stdio::Tty(_))))
            .count()
            > 1
        {
            return Err(VmError::Engine(
                "only one guest can have stdio = \"tty\"".into(),
            ));
        }
        // Last before the kernel thread owns the kernel: from here on, its
        // end removes what these made in the VM's folders.
        for l in &cfg.connect_out {
            if let Err(e) = kernel.add_outlet(&l.guest, l.host.display().to_string()) {
                kernel.remove_outlets();
                return Err(VmError::Link {
                    what: "connect-out",
                    guest: l.guest.clone(),
                    host: l.host.clone(),
                    error: e.to_string(),
                });
            }
        }
        let (credit_tx, credit_rx) = bounded(1);
        let host = VmHost {
            engine: engine.clone(),
            tx: tx.clone(),
        };
        let vfs = kernel.vfs.clone();
        let service = Service::new(
            kernel,
            rx,
            events_tx,
            wants_stdin.then_some(credit_tx),
            Box::new(host),
        );
        let service = std::thread::Builder::new()
            .name("kernel".into())
            .spawn(move || service.run())
            .map_err(|e| VmError::Engine(format!("cannot start the kernel thread: {e}")))?;
        let service = Abort {
            tx: tx.clone(),
            service: Some(service),
        };
        let shared = Arc::new(Shared {
            engine,
            cache,
            tx: tx.clone(),
            fuel,
            usage: Arc::new(crate::limits::Usage::new(&cfg.limits)),
            vfs,
        });

        let (alive_tx, alive_rx) = unbounded::<()>();
        let mut mains: HashMap<Pid, usize> = HashMap::new();
        let statuses: Vec<Option<WaitStatus>> = vec![None; cfg.guests.len()];
        let any_main = cfg.guests.iter().any(|g| g.main);
        let mut terminal = None;
        // Guests that wait for a listener start after all the others, so
        // none of those waits for them.
        let mut pres: Vec<_> = pres.into_iter().map(Some).collect();
        let order = (0..cfg.guests.len())
            .filter(|&i| cfg.guests[i].after_listening.is_none())
            .chain((0..cfg.guests.len()).filter(|&i| cfg.guests[i].after_listening.is_some()));
        for i in order {
            let g = &cfg.guests[i];
            let pre = pres[i].take().expect("each guest starts once");
            if let Some(path) = &g.after_listening {
                if !crate::rpc::await_listening(&tx, path, Some(g.after_timeout)) {
                    return Err(VmError::Start {
                        guest: g.spec.name.clone(),
                        what: format!(
                            "nothing listened at {path} within {:?} (after.listening)",
                            g.after_timeout
                        ),
                    });
                }
            }
            let (reply, answer) = bounded(1);
            let spec = InitSpec {
                name: g.spec.name.clone(),
                cwd: g.cwd.clone(),
                stdio: g.stdio.clone(),
            };
            let _ = tx.send(Msg::Start { spec, reply });
            let start_err = |what: String| VmError::Start {
                guest: g.spec.name.clone(),
                what,
            };
            let (link, tty) = answer
                .recv()
                .map_err(|_| start_err("kernel thread is gone".into()))?
                .map_err(|e| start_err(format!("cannot set up the process: {e}")))?;
            if let Some(t) = tty {
                terminal = Some(t);
            }
            let pid = link.pid;
            crate::guest::start(
                shared.clone(),
                pre,
                g.spec.clone(),
                link,
                alive_tx.clone(),
                None,
            )
            .map_err(|e| start_err(format!("cannot start: {e}")))?;
            if g.main || !any_main {
                mains.insert(pid, i);
            }
        }
        drop(alive_tx);
        if wants_stdin {
            pump_stdin(tx.clone(), credit_rx);
        }
        tracing::debug!(elapsed = ?started.elapsed(), "guests started");
        let mut vm = RunningVm {
            tx,
            events,
            alive: alive_rx,
            service: service.disarm(),
            shared,
            mains,
            statuses,
            terminal,
            exposed: Vec::new(),
        };
        for l in &cfg.expose {
            let socket = vm
                .handle()
                .expose(l.guest.clone(), l.host.clone())
                .map_err(|e| VmError::Link {
                    what: "expose",
                    guest: l.guest.clone(),
                    host: l.host.clone(),
                    error: e.to_string(),
                });
            match socket {
                Ok(socket) => vm.exposed.push(socket),
                Err(e) => {
                    vm.stop(false);
                    return Err(e);
                }
            }
        }
        Ok(vm)
    }
}

/// A booted VM.
pub struct RunningVm {
    tx: crossbeam_channel::Sender<Msg>,
    events: crossbeam_channel::Receiver<VmEvent>,
    alive: crossbeam_channel::Receiver<()>,
    service: std::thread::JoinHandle<()>,
    shared: Arc<Shared>,
    mains: HashMap<Pid, usize>,
    statuses: Vec<Option<WaitStatus>>,
    terminal: Option<BridgeLink>,
    /// Host sockets of `expose` links, removed when the VM ends.
    exposed: Vec<HostSocket>,
}

impl RunningVm {
    /// A handle for host services (expose, input, screenshots).
    pub fn handle(&self) -> crate::VmHandle {
        crate::VmHandle {
            tx: self.tx.clone(),
        }
    }

    /// The bridge of the guest whose stdio is a terminal, to attach to the
    /// host's (see `VmHandle::attach_terminal`).
    pub fn take_terminal(&mut self) -> Option<BridgeLink> {
        self.terminal.take()
    }

    /// Waits for the main guests, stops the rest, and returns the exit code.
    pub fn wait(mut self) -> Result<i32, VmError> {
        let mut waiting = self.mains.len();
        while waiting > 0 {
            match self.events.recv() {
                Ok(VmEvent::Exited { pid, status }) => {
                    if let Some(&i) = self.mains.get(&pid) {
                        self.statuses[i] = Some(status);
                        waiting -= 1;
                    }
                }
                Err(_) => break,
            }
        }
        let code = self
            .statuses
            .iter()
            .flatten()
            .map(|s| s.shell_code())
            .find(|c| *c != 0)
            .unwrap_or(0);
        self.stop(true);
        Ok(code)
    }

    /// Kills every guest and ends the kernel thread, after handing the
    /// host what guests wrote to it if `drain`.
    fn stop(self, drain: bool) {
        // From here on new host clients find no socket, not a dying VM.
        drop(self.exposed);
        let _ = self.tx.send(Msg::KillAll(SIGKILL));
        // Every guest thread holds a sender; this returns once all are gone.
        let _ = self.alive.recv();
        // What guests wrote to host connections is still delivered.
        let (drained, done) = crossbeam_channel::bounded(1);
        if drain && self.tx.send(Msg::Drain(drained)).is_ok() {
            let _ = done.recv();
        }
        let _ = self.tx.send(Msg::Shutdown);
        drop(self.shared);
        let _ = self.service.join();
    }
}

/// What the service thread needs of the VM: its engine, to interrupt
/// running wasm, and its request sender, for `connect-out` threads.
struct VmHost {
    engine: Engine,
    tx: crossbeam_channel::Sender<Msg>,
}

impl crate::service::Host for VmHost {
    fn interrupt_wasm(&self) {
        self.engine.increment_epoch();
    }

    fn open_outlet(&self, link: BridgeLink, host: String) {
        crate::bridge::open_outlet(self.tx.clone(), link, host);
    }
}

/// The kernel thread of a VM still starting. Dropped before
/// [`Abort::disarm`] (the start failed), it kills the guests and ends the
/// kernel thread, which removes what the VM made in its folders.
struct Abort {
    tx: crossbeam_channel::Sender<Msg>,
    service: Option<std::thread::JoinHandle<()>>,
}

impl Abort {
    fn disarm(mut self) -> std::thread::JoinHandle<()> {
        self.service.take().expect("armed")
    }
}

impl Drop for Abort {
    fn drop(&mut self) {
        if let Some(service) = self.service.take() {
            let _ = self.tx.send(Msg::KillAll(SIGKILL));
            let _ = self.tx.send(Msg::Shutdown);
            let _ = service.join();
        }
    }
}

/// What would stop guest `index` from starting, found before anything
/// runs: a missing working directory, or a missing host file for its stdio
/// (an output file is created, but its folder must exist).
fn check_guest(kernel: &Kernel, index: usize, g: &GuestConfig) -> Result<(), VmError> {
    kernel
        .vfs
        .resolve_dir("/", &g.cwd)
        .map_err(|errno| VmError::Cwd {
            index,
            guest: g.spec.name.clone(),
            cwd: g.cwd.clone(),
            errno,
        })?;
    for (fd, how) in g.stdio.iter().enumerate() {
        let Stdio::HostFile(path) = how else {
            continue;
        };
        let found = match std::fs::metadata(path) {
            Err(e) if fd > 0 && e.kind() == std::io::ErrorKind::NotFound => {
                let dir = match path.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d,
                    _ => std::path::Path::new("."),
                };
                std::fs::metadata(dir).and_then(|m| {
                    if m.is_dir() {
                        Ok(())
                    } else {
                        Err(std::io::Error::from_raw_os_error(Errno::ENOTDIR as i32))
                    }
                })
            }
            r => r.map(|_| ()),
        };
        found.map_err(|e| VmError::Stdio {
            index,
            guest: g.spec.name.clone(),
            stream: ["stdin", "stdout", "stderr"][fd],
            path: path.clone(),
            errno: Errno::from(e),
        })?;
    }
    Ok(())
}

fn make_engine(fuel: bool) -> Result<Engine, VmError> {
    let mut config = Config::new();
    config.consume_fuel(fuel);
    config.epoch_interruption(true);
    // Guest memories a fork can copy lazily (memory.rs); data segments are
    // then copied in at instantiation, not mapped from wasmtime's image.
    config.with_host_memory(std::sync::Arc::new(crate::memory::Creator));
    config.memory_init_cow(false);
    Engine::new(&config).map_err(|e| VmError::Engine(e.to_string()))
}

/// Feeds host stdin to the kernel, one chunk per credit so that a slow guest
/// reader holds the host back instead of growing a buffer.
fn pump_stdin(tx: crossbeam_channel::Sender<Msg>, credit: crossbeam_channel::Receiver<()>) {
    use std::io::Read;
    let spawned = std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            let mut stdin = std::io::stdin();
            while credit.recv().is_ok() {
                match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Msg::Stdin(None));
                        return;
                    }
                    Ok(n) => {
                        if tx.send(Msg::Stdin(Some(buf[..n].to_vec()))).is_err() {
                            return;
                        }
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the stdin thread: {e}");
    }
}
