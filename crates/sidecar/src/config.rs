//! vm.toml: the typed description of a VM.
//!
//! ```toml
//! root = "."                 # host folder mapped as "/" (relative to this file)
//! fuel = "unlimited"         # default budget of every guest
//! [[mounts]]
//! host = "assets"            # relative to this file
//! guest = "/assets"
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

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use sidecar_kernel::pty::termios::Winsize;
use sidecar_kernel::Stdio;
use sidecar_runtime::{
    Budget, GuestConfig, GuestSpec, ModuleSource, MountConfig, SocketLink, VmConfig,
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
    let root = host(&file.root);
    let root = root
        .canonicalize()
        .with_context(|| format!("{}: field `root`: {}", path.display(), root.display()))?;
    let mut mounts = vec![MountConfig {
        guest: "/".into(),
        host: root,
        readonly: false,
    }];
    for (i, m) in file.mounts.iter().enumerate() {
        if !m.guest.starts_with('/') || m.guest == "/" {
            bail!(
                "{}: field `mounts[{i}].guest`: must be an absolute path other than /",
                path.display()
            );
        }
        mounts.push(MountConfig {
            guest: m.guest.clone(),
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
