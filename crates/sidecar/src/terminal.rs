//! Attaching a guest's terminal to the host terminal: raw mode for the
//! session, restored on exit, and window sizes forwarded as they change.

use std::io::IsTerminal;

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
/// the guests (so servers shut down cleanly), a second one kills them.
pub struct StopSignals(Option<Signals>);

impl StopSignals {
    pub fn install() -> StopSignals {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let signals = Signals::new([SIGTERM, SIGINT, SIGHUP]);
        if signals.is_err() {
            tracing::warn!("cannot install stop-signal forwarding");
        }
        StopSignals(signals.ok())
    }

    /// Forwards every signal received since `install` to `vm`.
    pub fn forward(self, vm: VmHandle) {
        let Some(mut signals) = self.0 else { return };
        let spawned = std::thread::Builder::new()
            .name("stop signals".into())
            .spawn(move || {
                let mut seen = 0;
                for sig in signals.forever() {
                    seen += 1;
                    let to_guests = if seen == 1 {
                        sig
                    } else {
                        sidecar_kernel::signal::SIGKILL
                    };
                    tracing::info!("host signal {sig}: sending {to_guests} to the guests");
                    vm.signal_all(to_guests);
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot forward stop signals: {e}");
        }
    }
}
