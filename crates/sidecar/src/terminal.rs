//! Attaching a guest's terminal to the host terminal: raw mode for the
//! session, restored on exit, and window sizes forwarded as they change.

use std::io::IsTerminal;
use std::time::Duration;

use rustix::termios::{self, Termios};
use sidecar_runtime::bridge::BridgeLink;
use sidecar_runtime::VmHandle;
use signal_hook::consts::SIGWINCH;
use signal_hook::iterator::Signals;

/// Puts the host terminal in raw mode until dropped.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enter() -> Option<RawMode> {
        let stdin = rustix::stdio::stdin();
        let saved = termios::tcgetattr(stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(stdin, termios::OptionalActions::Now, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(
            rustix::stdio::stdin(),
            termios::OptionalActions::Now,
            &self.saved,
        );
    }
}

/// Watches for host window changes. Created before the initial size is read,
/// so that no change between the two is missed.
pub struct SizeWatch {
    signals: Option<Signals>,
}

impl SizeWatch {
    pub fn start() -> SizeWatch {
        let signals = std::io::stdout()
            .is_terminal()
            .then(|| Signals::new([SIGWINCH]).ok())
            .flatten();
        SizeWatch { signals }
    }

    /// The host terminal's size now, `(rows, cols)`.
    pub fn size(&self) -> Option<(u16, u16)> {
        let w = termios::tcgetwinsize(rustix::stdio::stdout()).ok()?;
        Some((w.ws_row, w.ws_col))
    }

    /// Forwards every later change to the guest terminal `link`.
    pub fn forward(mut self, vm: VmHandle, link: &BridgeLink) {
        let Some(mut signals) = self.signals.take() else {
            return;
        };
        let id = link.id;
        let spawned = std::thread::Builder::new()
            .name("sigwinch".into())
            .spawn(move || {
                for _ in signals.forever() {
                    if let Some((rows, cols)) = self.size() {
                        vm.resize(id, rows, cols);
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot forward window size changes: {e}");
        }
    }
}

/// The signals that stop the sidecar, registered before the VM starts so
/// none is lost at startup: the first SIGTERM/SIGINT/SIGHUP is passed on to
/// the guests (so servers shut down cleanly); guests still running after the
/// VM's `stop_timeout`, or at a second signal, are killed (SIGKILL).
pub struct StopSignals(Option<Signals>);

/// How long the VM has to end once its guests were sent SIGKILL before the
/// sidecar exits without it (a safety net: killing takes milliseconds).
const KILL_WAIT: Duration = Duration::from_secs(5);

impl StopSignals {
    pub fn install() -> StopSignals {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let signals = Signals::new([SIGTERM, SIGINT, SIGHUP]);
        if signals.is_err() {
            tracing::warn!("cannot install stop-signal forwarding");
        }
        StopSignals(signals.ok())
    }

    /// Forwards the signals received since `install` to `vm`: the first to
    /// every guest, then SIGKILL to every guest `grace` later or at the
    /// next signal. The VM then ends; if it has not within [`KILL_WAIT`]
    /// (or at a third signal), the sidecar exits with status 137 anyway.
    pub fn forward(self, vm: VmHandle, grace: Duration) {
        let Some(mut signals) = self.0 else { return };
        let (tx, rx) = std::sync::mpsc::channel();
        let keep = tx.clone();
        let reader = std::thread::Builder::new()
            .name("stop signals".into())
            .spawn(move || {
                for sig in signals.forever() {
                    if tx.send(sig).is_err() {
                        return;
                    }
                }
            });
        let control = reader.and_then(|_| {
            std::thread::Builder::new()
                .name("stop control".into())
                .spawn(move || {
                    let _keep = keep;
                    let Ok(sig) = rx.recv() else { return };
                    tracing::info!("host signal {sig}: sending it to the guests");
                    vm.signal_all(sig);
                    match rx.recv_timeout(grace) {
                        Ok(again) => tracing::info!("host signal {again}: killing the guests"),
                        Err(_) => tracing::warn!(
                            "guests still running {:.1} s after signal {sig}; killing them",
                            grace.as_secs_f64()
                        ),
                    }
                    vm.signal_all(sidecar_kernel::signal::SIGKILL);
                    let _ = rx.recv_timeout(KILL_WAIT);
                    tracing::error!("the VM did not end after its guests were killed; exiting");
                    std::process::exit(128 + sidecar_kernel::signal::SIGKILL);
                })
        });
        if let Err(e) = control {
            tracing::warn!("cannot forward stop signals: {e}");
        }
    }
}
