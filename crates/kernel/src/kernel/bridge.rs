//! The kernel's side of host bridges: what the runtime calls, passed on to
//! [`Bridges`](crate::unix::bridge::Bridges) with the state it needs, and
//! the actions it returns queued for the runtime.

use std::collections::HashSet;
use std::sync::Arc;

use super::Kernel;
use crate::errno::KResult;
use crate::pty::device::PtyMaster;
use crate::pty::endpoint::TerminalEndpoint;
use crate::pty::termios::Winsize;
use crate::unix::bridge::{BridgeId, Endpoint};
use crate::wait::WaitKey;

impl Kernel {
    /// Connects a new bridge to the guest listener at `path` (`expose`).
    pub fn bridge_connect(&mut self, path: &str) -> KResult<BridgeId> {
        let (id, actions) = self
            .bridges
            .connect(&self.vfs, &self.files, &self.notifier, path)?;
        self.actions.extend(actions);
        Ok(id)
    }

    /// Bridges the master of a guest's terminal to the host.
    pub(super) fn add_terminal_bridge(&mut self, master: Arc<PtyMaster>) -> BridgeId {
        let end = Endpoint::Terminal(TerminalEndpoint(master));
        let (id, actions) = self.bridges.add(end, None);
        self.actions.extend(actions);
        id
    }

    /// Sets the window size of a terminal bridge (host SIGWINCH).
    pub fn bridge_resize(&mut self, id: BridgeId, size: Winsize) {
        if let Some(Endpoint::Terminal(t)) = self.bridges.endpoint(id) {
            t.pty().set_winsize(size);
        }
        self.drain_tty_events();
    }

    /// Makes `path` in the VM a socket whose connections go to the host
    /// socket `host` (`connect-out`); see [`Bridges::add_outlet`].
    ///
    /// [`Bridges::add_outlet`]: crate::unix::bridge::Bridges::add_outlet
    pub fn add_outlet(&mut self, path: &str, host: String) -> KResult<()> {
        self.bridges
            .add_outlet(&self.vfs, &self.notifier, path, host)
    }

    /// Removes what [`Kernel::add_outlet`] made, where it is still ours.
    pub fn remove_outlets(&mut self) {
        self.bridges.remove_outlets(&self.vfs);
    }

    /// Host bytes for the guest; `None` is the host's end of stream.
    pub fn bridge_from_host(&mut self, id: BridgeId, data: Option<Vec<u8>>) {
        let actions = self.bridges.from_host(id, data);
        self.actions.extend(actions);
    }

    /// The host has written the last chunk it was given.
    pub fn bridge_ack(&mut self, id: BridgeId) {
        let actions = self.bridges.ack(id);
        self.actions.extend(actions);
    }

    /// Whether every bridge has handed all its guest data to the host. Once
    /// the guests are gone this becomes true as hosts read what is left.
    pub fn bridges_drained(&self) -> bool {
        self.bridges.drained()
    }

    /// The host connection is gone: the guest sees its peer close.
    pub fn bridge_close(&mut self, id: BridgeId) {
        self.bridges.close(id);
    }

    /// Pumps the bridges and outlets whose queues were notified.
    pub(super) fn wake_bridges(&mut self, keys: &HashSet<WaitKey>) {
        let actions = self.bridges.wake(keys, &self.files);
        self.actions.extend(actions);
    }
}
