//! Host stdin, fed to guests through a pipe whose write end the kernel
//! holds, with credit so the host never sends more than one pipe's worth
//! ahead.

use std::collections::VecDeque;
use std::sync::Arc;

use super::{Action, Kernel};
use crate::file::OpenFile;
use crate::pipe::{pipe, PIPE_BUF};
use crate::wait::WaitKey;

/// Invariant: `reader` and `writer` are made together, on first use;
/// `writer` is dropped once `eof` is set and `pending` is empty.
#[derive(Debug, Default)]
pub(super) struct HostStdin {
    reader: Option<Arc<OpenFile>>,
    writer: Option<Arc<OpenFile>>,
    pending: VecDeque<u8>,
    eof: bool,
}

impl Kernel {
    /// The read end guests with inherited stdin share; made, and credit
    /// granted to the host, the first time one asks.
    pub(super) fn stdin_reader(&mut self) -> Arc<OpenFile> {
        if self.stdin.reader.is_none() {
            let (r, w) = pipe(&self.notifier);
            self.stdin.reader = Some(r);
            self.stdin.writer = Some(w);
            self.actions.push(Action::StdinCredit);
        }
        self.stdin.reader.clone().unwrap()
    }

    /// Hands host stdin bytes to the guests; `None` is end of file.
    pub fn host_stdin(&mut self, data: Option<Vec<u8>>) {
        match data {
            Some(d) => self.stdin.pending.extend(d),
            None => self.stdin.eof = true,
        }
        self.flush_stdin();
    }

    pub(super) fn flush_stdin(&mut self) {
        let Some(w) = self.stdin.writer.clone() else {
            return;
        };
        while !self.stdin.pending.is_empty() {
            let chunk: Vec<u8> = self.stdin.pending.iter().take(PIPE_BUF).copied().collect();
            match w.desc.write(&chunk, false) {
                Ok(n) => drop(self.stdin.pending.drain(..n)),
                Err(_) => break,
            }
        }
        if self.stdin.pending.is_empty() {
            if self.stdin.eof {
                self.stdin.writer = None;
            } else {
                self.actions.push(Action::StdinCredit);
            }
        }
    }

    /// Queues whose wakeup lets buffered host stdin make progress.
    pub(super) fn stdin_keys(&self) -> Vec<WaitKey> {
        match &self.stdin.writer {
            Some(w) if !self.stdin.pending.is_empty() => w.desc.wait_keys(),
            _ => Vec::new(),
        }
    }
}
