//! A terminal's master as the guest-side end of a host bridge (host
//! terminal attach).

use std::sync::Arc;

use super::device::{Pty, PtyMaster};
use crate::errno::{Errno, KResult};
use crate::file::FileDescription;
use crate::wait::WaitKey;

/// Holds the master open: closing the bridge hangs the terminal up.
#[derive(Debug)]
pub struct TerminalEndpoint(pub Arc<PtyMaster>);

impl TerminalEndpoint {
    pub fn pty(&self) -> &Arc<Pty> {
        &self.0 .0
    }

    /// Host bytes typed at the terminal.
    pub fn send(&self, data: &[u8]) -> KResult<usize> {
        self.0.write(data, false)
    }

    /// Output for the host; `Ok(empty)` once every slave fd has closed
    /// (`EIO`), which ends the stream.
    pub fn recv(&self, len: usize) -> KResult<Vec<u8>> {
        match self.0.read(len) {
            Err(Errno::EIO) => Ok(Vec::new()),
            r => r,
        }
    }

    pub fn wait_keys(&self) -> Vec<WaitKey> {
        self.0.wait_keys()
    }
}
