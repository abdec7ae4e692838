//! vm.toml: the typed description of a VM.
//!
//! ```toml
//! root = "."                 # host folder mapped as "/" (relative to this file)
//! fuel = "unlimited"         # default budget of every guest
//! [[mounts]]
//! host = "assets"            # relative to this file
//! guest = "/assets"          # not / nor /dev; at /tmp it replaces the fresh /tmp
//! mode = "ro"                # or "rw"
//! [[guest]]
//! name = "hello"
//! wasm = "examples/hello.wasm"   # a path in the VM filesystem
//! args = ["hello"]
//! env = { LANG = "C" }
//! cwd = "/"
//! stdin = "null"             # "inherit" | "null" | { file = "host/path" }
//! # stdio = "tty"            # instead: a PTY attached to the host terminal
//! fuel = 1000000000          # or "unlimited"
//! memory = 268435456         # bytes of linear memory
//! main = true                # the VM ends when its main guests have exited
//! [[expose]]                 # a guest listener, published on the host
//! guest = "/tmp/.X11-unix/X0"
//! host = "/tmp/.X11-unix/X99"
//! [[connect-out]]            # a guest path that reaches a host socket
//! guest = "/run/host.sock"
//! host = "/run/user/1000/bus"
//! ```
//!
//! What the VM as a whole may use of the host, and how it stops (every
//! field optional; the defaults are shown):
//!
//! ```toml
//! stop_timeout = 10          # seconds guests have after the sidecar gets
//!                            # SIGTERM/SIGINT/SIGHUP (passed on to them)
//!                            # before every guest is killed (docker stop)
//! [limits]
//! processes = 1024           # processes at once, zombies included (at most
//!                            # 4096); spawn fails with EAGAIN beyond
//! memory = 12884901888       # bytes of linear memory of all guests together
//!                            # (default: half the host's RAM); memory.grow
//!                            # fails beyond, so malloc returns NULL
//! files = 4096               # files opened by path and host connections
//!                            # (expose, connect-out), open at once across
//!                            # the VM; open fails with ENFILE beyond (and
//!                            # with EMFILE at a process's 1024 fds)
//! ```
//!
//! A guest's `memory` (or the top-level `memory`, its default) limits that
//! guest alone; `limits.memory` is the sum over the VM. A fuel budget is
//! that of the guest's whole process tree: a spawned child takes half of
//! its parent's remaining fuel, and gives back what it did not burn when it
//! exits (see SPEC.md, "Processes, exits, budgets").

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use sidecar_kernel::pty::termios::Winsize;
use sidecar_kernel::Stdio;
use sidecar_runtime::{
    Budget, GuestConfig, GuestSpec, ModuleSource, MountConfig, SocketLink, VmConfig, VmError,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VmFile {
    pub root: PathBuf,
    #[serde(default)]
    pub fuel: Option<Fuel>,
    #[serde(default)]
    pub memory: Option<u64>,
    #[serde(default)]
    pub mounts: Vec<MountFile>,
    #[serde(default)]
    pub guest: Vec<GuestFile>,
    #[serde(default)]
    pub expose: Vec<LinkFile>,
    #[serde(default, rename = "connect-out")]
    pub connect_out: Vec<LinkFile>,
    /// Seconds between the stop signal and SIGKILL (integer or fraction).
    #[serde(default)]
    pub stop_timeout: Option<f64>,
    #[serde(default)]
    pub limits: LimitsFile,
}

/// `[limits]`: what the VM's guests may use together.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    #[serde(default)]
    pub processes: Option<u64>,
    #[serde(default)]
    pub memory: Option<u64>,
    #[serde(default)]
    pub files: Option<u64>,
}

/// The most `limits.processes` may be: each guest process is a host thread
/// with about ten memory maps, and the host's `vm.max_map_count` is 65530
/// by default.
pub const MAX_PROCESSES: u64 = 4096;

/// Default of `stop_timeout`, in seconds.
pub const DEFAULT_STOP_TIMEOUT: f64 = 10.0;

/// The limits of `file`, checked; errors name the field.
fn limits(path: &Path, file: &VmFile) -> anyhow::Result<sidecar_runtime::Limits> {
    let field = |name: &str| format!("{}: field `limits.{name}`", path.display());
    let mut limits = sidecar_runtime::Limits::default();
    if let Some(n) = file.limits.processes {
        if n == 0 || n > MAX_PROCESSES {
            bail!(
                "{}: must be from 1 to {MAX_PROCESSES}, not {n}",
                field("processes")
            );
        }
        if (n as usize) < file.guest.len() {
            bail!(
                "{}: {n} is fewer than the {} configured guests",
                field("processes"),
                file.guest.len()
            );
        }
        limits.processes = n as usize;
    }
    if let Some(n) = file.limits.memory {
        if n == 0 {
            bail!("{}: must be a positive number of bytes", field("memory"));
        }
        limits.memory = n;
    }
    if let Some(n) = file.limits.files {
        if n == 0 {
            bail!("{}: must be at least 1", field("files"));
        }
        limits.files = usize::try_from(n).unwrap_or(usize::MAX);
    }
    Ok(limits)
}

/// `stop_timeout` of `file`, checked.
pub fn stop_timeout(path: &Path, file: &VmFile) -> anyhow::Result<std::time::Duration> {
    let secs = file.stop_timeout.unwrap_or(DEFAULT_STOP_TIMEOUT);
    match std::time::Duration::try_from_secs_f64(secs) {
        Ok(d) if d.as_secs() <= 24 * 3600 => Ok(d),
        _ => bail!(
            "{}: field `stop_timeout`: must be from 0 to 86400 seconds, not {secs}",
            path.display()
        ),
    }
}

/// A guest socket path and a host socket path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkFile {
    pub guest: String,
    pub host: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountFile {
    pub host: PathBuf,
    pub guest: String,
    #[serde(default)]
    pub mode: Mode,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Ro,
    Rw,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestFile {
    pub name: String,
    pub wasm: String,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub cwd: Option<String>,
    /// `"tty"`: run on a new PTY attached to the host terminal.
    #[serde(default)]
    pub stdio: Option<TtyStdio>,
    #[serde(default)]
    pub stdin: Option<StdioFile>,
    #[serde(default)]
    pub stdout: Option<StdioFile>,
    #[serde(default)]
    pub stderr: Option<StdioFile>,
    #[serde(default)]
    pub fuel: Option<Fuel>,
    #[serde(default)]
    pub memory: Option<u64>,
    #[serde(default)]
    pub main: bool,
    /// Start once something listens at a socket path, e.g.
    /// `after = { listening = "/tmp/.X11-unix/X0" }` for an X client: the
    /// kernel wakes the start when the listen happens, no polling.
    #[serde(default)]
    pub after: Option<After>,
}

/// `after`: what a guest waits for before it starts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct After {
    /// An absolute socket path in the VM.
    pub listening: String,
    /// Seconds to wait before the VM fails to start (default 30).
    #[serde(default)]
    pub timeout: Option<f64>,
}

/// A budget: a number of fuel units, or `"unlimited"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fuel(pub Budget);

impl<'de> Deserialize<'de> for Fuel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fuel, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Fuel;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a positive number of fuel units or \"unlimited\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fuel, E> {
                match u64::try_from(v) {
                    Ok(n) if n > 0 => Ok(Fuel(Budget::Fuel(n))),
                    _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fuel, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Fuel, E> {
                match v {
                    "unlimited" => Ok(Fuel(Budget::Unlimited)),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// The only whole-stdio setting: a terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TtyStdio {
    Tty,
}

/// `"inherit"`, `"null"` or `{ file = "path" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StdioFile {
    Inherit,
    Null,
    File(PathBuf),
}

impl<'de> Deserialize<'de> for StdioFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<StdioFile, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StdioFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"inherit\", \"null\" or { file = \"path\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StdioFile, E> {
                match v {
                    "inherit" => Ok(StdioFile::Inherit),
                    "null" => Ok(StdioFile::Null),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StdioFile, A::Error> {
                let mut file = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "file" => file = Some(map.next_value::<PathBuf>()?),
                        other => return Err(de::Error::unknown_field(other, &["file"])),
                    }
                }
                file.map(StdioFile::File)
                    .ok_or_else(|| de::Error::missing_field("file"))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses vm.toml text; errors name the file, the position and the field.
pub fn parse(path: &Path, text: &str) -> anyhow::Result<VmFile> {
    let de = toml::Deserializer::new(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let mut msg = inner.message().trim().replace('\n', " ");
        if let Some(span) = inner.span() {
            let line = text[..span.start.min(text.len())].lines().count().max(1);
            msg = format!("line {line}: {msg}");
        }
        if field != "." && !field.is_empty() {
            anyhow::anyhow!("{}: field `{field}`: {msg}", path.display())
        } else {
            anyhow::anyhow!("{}: {msg}", path.display())
        }
    })
}

/// The most bytes of vm.toml read; more is an error, not a long wait.
pub const MAX_SIZE: u64 = 1 << 20;

/// Reads a vm.toml of at most [`MAX_SIZE`] bytes.
pub fn read(path: &Path) -> anyhow::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_SIZE + 1).read_to_end(&mut bytes))
        .with_context(|| format!("cannot read {}", path.display()))?;
    if bytes.len() as u64 > MAX_SIZE {
        bail!(
            "{}: larger than {MAX_SIZE} bytes, the most a VM description may be",
            path.display()
        );
    }
    String::from_utf8(bytes).map_err(|e| {
        anyhow::anyhow!(
            "{}: not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// An absolute path with `.`, `..` and repeated slashes resolved lexically,
/// as the VM's mount table resolves mount points.
fn normalize(guest: &str) -> String {
    let mut parts = Vec::new();
    for c in guest.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// A VM start error, naming the vm.toml field behind it where there is one.
pub fn start_error(path: &Path, e: VmError) -> anyhow::Error {
    match &e {
        VmError::Cwd {
            index, cwd, errno, ..
        } => anyhow::anyhow!(
            "{}: field `guest[{index}].cwd`: {cwd}: {errno}",
            path.display()
        ),
        VmError::Stdio {
            index,
            stream,
            path: file,
            errno,
            ..
        } => anyhow::anyhow!(
            "{}: field `guest[{index}].{stream}`: {}: {errno}",
            path.display(),
            file.display()
        ),
        _ => e.into(),
    }
}

/// Turns a parsed file into the runtime's configuration. Relative host paths
/// are relative to the directory of the file.
pub fn to_vm(path: &Path, file: VmFile, tty_size: Option<(u16, u16)>) -> anyhow::Result<VmConfig> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let host = |p: &Path| {
        if p.is_absolute() {
            p.to_owned()
        } else {
            dir.join(p)
        }
    };
    let limits = limits(path, &file)?;
    let stop_timeout = stop_timeout(path, &file)?;
    let root = host(&file.root);
    let root = root
        .canonicalize()
        .with_context(|| format!("{}: field `root`: {}", path.display(), root.display()))?;
    let mut mounts = vec![MountConfig {
        guest: "/".into(),
        host: root,
        readonly: false,
    }];
    let mut points = std::collections::HashMap::new();
    for (i, m) in file.mounts.iter().enumerate() {
        let field = format!("{}: field `mounts[{i}].guest`", path.display());
        if !m.guest.starts_with('/') {
            bail!("{field}: must be an absolute path other than /");
        }
        // What the mount table will see: `/x/..` is `/`.
        let guest = normalize(&m.guest);
        if guest == "/" {
            bail!("{field}: {:?} is / itself, which `root` sets", m.guest);
        }
        if guest == "/dev" {
            bail!("{field}: /dev is the VM's device filesystem and cannot be replaced");
        }
        if let Some(j) = points.insert(guest.clone(), i) {
            bail!("{field}: {guest} is already mounted by mounts[{j}]");
        }
        mounts.push(MountConfig {
            guest,
            host: host(&m.host),
            readonly: m.mode == Mode::Ro,
        });
    }
    let default_fuel = file.fuel.map(|f| f.0).unwrap_or(Budget::Unlimited);
    let mut guests = Vec::new();
    let mut names = std::collections::HashSet::new();
    for (i, g) in file.guest.into_iter().enumerate() {
        if !names.insert(g.name.clone()) {
            bail!(
                "{}: field `guest[{i}].name`: duplicate name {:?}",
                path.display(),
                g.name
            );
        }
        let stdio = |s: &Option<StdioFile>, dflt: Stdio| match s {
            None => dflt,
            Some(StdioFile::Inherit) => Stdio::Inherit,
            Some(StdioFile::Null) => Stdio::Null,
            Some(StdioFile::File(p)) => Stdio::HostFile(host(p)),
        };
        let args = if g.args.is_empty() {
            vec![g.wasm.rsplit('/').next().unwrap_or(&g.wasm).to_owned()]
        } else {
            g.args.clone()
        };
        let wasm = ModuleSource::Vfs(if g.wasm.starts_with('/') {
            g.wasm.clone()
        } else {
            format!("/{}", g.wasm)
        });
        guests.push(GuestConfig {
            spec: GuestSpec {
                name: g.name.clone(),
                args,
                env: g.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
                budget: g.fuel.map(|f| f.0).unwrap_or(default_fuel),
                memory_limit: g.memory.or(file.memory).map(|m| m as usize),
            },
            wasm,
            cwd: g.cwd.clone().unwrap_or_else(|| "/".into()),
            stdio: match g.stdio {
                Some(TtyStdio::Tty) => {
                    if g.stdin.is_some() || g.stdout.is_some() || g.stderr.is_some() {
                        bail!(
                            "{}: field `guest[{i}].stdio`: \"tty\" cannot be combined with stdin/stdout/stderr",
                            path.display()
                        );
                    }
                    let (rows, cols) = tty_size.unwrap_or((24, 80));
                    let size = Winsize { rows, cols, xpixel: 0, ypixel: 0 };
                    [Stdio::Tty(size), Stdio::Tty(size), Stdio::Tty(size)]
                }
                None => [
                    stdio(&g.stdin, Stdio::Null),
                    stdio(&g.stdout, Stdio::Inherit),
                    stdio(&g.stderr, Stdio::Inherit),
                ],
            },
            main: g.main,
            after_listening: match &g.after {
                Some(a) if !a.listening.starts_with('/') => bail!(
                    "{}: field `guest[{i}].after.listening`: must be an absolute path",
                    path.display()
                ),
                Some(a) => Some(normalize(&a.listening)),
                None => None,
            },
            after_timeout: match g.after.as_ref().and_then(|a| a.timeout) {
                None => std::time::Duration::from_secs(30),
                Some(t) => std::time::Duration::try_from_secs_f64(t).map_err(|_| {
                    anyhow::anyhow!(
                        "{}: field `guest[{i}].after.timeout`: not a number of seconds",
                        path.display()
                    )
                })?,
            },
        });
    }
    let links = |what: &str, list: &[LinkFile]| -> anyhow::Result<Vec<SocketLink>> {
        list.iter()
            .enumerate()
            .map(|(i, l)| {
                if !l.guest.starts_with('/') {
                    bail!(
                        "{}: field `{what}[{i}].guest`: must be an absolute path",
                        path.display()
                    );
                }
                Ok(SocketLink {
                    guest: l.guest.clone(),
                    host: host(&l.host),
                })
            })
            .collect()
    };
    let expose = links("expose", &file.expose)?;
    let connect_out = links("connect-out", &file.connect_out)?;
    if guests.is_empty() {
        bail!(
            "{}: field `guest`: a VM needs at least one [[guest]]",
            path.display()
        );
    }
    Ok(VmConfig {
        mounts,
        guests,
        expose,
        connect_out,
        cache_dir: sidecar_runtime::cache::ModuleCache::default_dir(),
        limits,
        stop_timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("vm.toml"), text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_field() {
        let e = err("root = \".\"\n[[guest]]\nname = \"a\"\nwasm = \"a.wasm\"\nfuel = \"lots\"\n");
        assert!(e.contains("guest[0].fuel"), "{e}");
        assert!(!e.contains('\n'));
        let e = err("root = \".\"\nbogus = 1\n");
        assert!(e.contains("bogus"), "{e}");
        let e = err("root = \n");
        assert!(e.contains("line"), "{e}");
        let e = err("root = \".\"\n[[guest]]\nname = \"a\"\nwasm = \"a.wasm\"\nstdout = \"tty\"\n");
        assert!(e.contains("guest[0].stdout"), "{e}");
    }

    #[test]
    fn mount_points_are_normalized_and_checked() {
        let vm = |mounts: &str| {
            let text =
                format!("root = \".\"\n{mounts}[[guest]]\nname = \"a\"\nwasm = \"a.wasm\"\n");
            let f = parse(Path::new("vm.toml"), &text).unwrap();
            to_vm(Path::new("vm.toml"), f, None)
        };
        let m = |g: &str| format!("[[mounts]]\nhost = \".\"\nguest = {g:?}\n");
        for g in ["/..", "/.", "/x/..", "//", "x"] {
            let e = vm(&m(g)).unwrap_err().to_string();
            assert!(e.contains("mounts[0].guest"), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = vm(&m("/dev/")).unwrap_err().to_string();
        assert!(e.contains("mounts[0].guest`: /dev is"), "{e}");
        let e = vm(&format!("{}{}", m("/a"), m("/b/../a/")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mounts[1].guest`: /a is already mounted by mounts[0]"),
            "{e}"
        );
        let ok = vm(&m("/tmp/./")).unwrap();
        assert_eq!(ok.mounts[1].guest, "/tmp");
    }

    #[test]
    fn limits_parse_and_errors_name_the_field() {
        let vm = |extra: &str| {
            let text = format!(
                "root = \".\"\n{extra}\n[[guest]]\nname = \"a\"\nwasm = \"a.wasm\"\n[[guest]]\nname = \"b\"\nwasm = \"a.wasm\"\n"
            );
            parse(Path::new("vm.toml"), &text).and_then(|f| to_vm(Path::new("vm.toml"), f, None))
        };
        let ok = vm("stop_timeout = 1.5\n[limits]\nprocesses = 64\nmemory = 1048576\nfiles = 10")
            .unwrap();
        assert_eq!(ok.limits.processes, 64);
        assert_eq!(ok.limits.memory, 1 << 20);
        assert_eq!(ok.limits.files, 10);
        assert_eq!(ok.stop_timeout, std::time::Duration::from_millis(1500));
        let dflt = vm("").unwrap();
        assert_eq!(dflt.limits.processes, 1024);
        assert_eq!(dflt.limits.files, 4096);
        assert!(dflt.limits.memory > 0);
        assert_eq!(dflt.stop_timeout, std::time::Duration::from_secs(10));
        for (extra, needle) in [
            ("[limits]\nprocesses = 0", "limits.processes"),
            (
                "[limits]\nprocesses = 1",
                "fewer than the 2 configured guests",
            ),
            ("[limits]\nprocesses = 100000", "limits.processes"),
            ("[limits]\nprocesses = \"many\"", "limits.processes"),
            ("[limits]\nmemory = 0", "limits.memory"),
            ("[limits]\nfiles = 0", "limits.files"),
            ("[limits]\nthreads = 5", "threads"),
            ("stop_timeout = -1", "stop_timeout"),
            ("stop_timeout = \"soon\"", "stop_timeout"),
        ] {
            let e = vm(extra).unwrap_err().to_string();
            assert!(e.contains(needle), "{extra}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn budgets_parse() {
        let f = parse(
            Path::new("vm.toml"),
            "root = \".\"\nfuel = 5\n[[guest]]\nname = \"a\"\nwasm = \"a.wasm\"\nfuel = \"unlimited\"\nstdout = { file = \"o\" }\n",
        )
        .unwrap();
        assert_eq!(f.fuel, Some(Fuel(Budget::Fuel(5))));
        assert_eq!(f.guest[0].fuel, Some(Fuel(Budget::Unlimited)));
        assert_eq!(f.guest[0].stdout, Some(StdioFile::File("o".into())));
    }
}
