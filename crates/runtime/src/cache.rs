//! Compiled-module cache: in memory for the life of the VM, and on disk
//! across runs so that a warm start deserializes instead of compiling.
//!
//! The on-disk key is the SHA-256 of the module bytes together with the
//! engine's compatibility hash (wasmtime version and every setting that
//! changes generated code, e.g. fuel), so a stale or foreign artifact is never
//! loaded.

use std::collections::HashMap;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use sidecar_kernel::vfs::Program;
use wasmtime::{Engine, ExternType, InstancePre, Linker, Module};

use crate::guest::GuestCtx;

/// Why a module could not be loaded. Each names what is wrong in one line.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read module {path}: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("invalid wasm module {name}: {reason}")]
    Invalid { name: String, reason: String },
    #[error("module {name} imports unknown function {module}.{import}")]
    UnknownImport {
        name: String,
        module: String,
        import: String,
    },
    #[error("module {name} does not export `{export}`")]
    MissingExport { name: String, export: &'static str },
    #[error("module {name} exports `{export}` as {found}, not {expected}")]
    WrongExport {
        name: String,
        export: &'static str,
        expected: &'static str,
        found: String,
    },
    #[error(
        "module {name} needs {needed} bytes of memory to start, more than the limit of {limit}"
    )]
    MemoryTooSmall {
        name: String,
        needed: u64,
        limit: usize,
    },
}

type Digest32 = [u8; 32];

pub struct ModuleCache {
    engine: Engine,
    linker: Linker<GuestCtx>,
    dir: Option<PathBuf>,
    engine_key: u64,
    modules: Mutex<HashMap<Digest32, InstancePre<GuestCtx>>>,
    /// Host path + mtime + size → content digest, so respawning a big
    /// program does not re-hash it.
    paths: Mutex<HashMap<(PathBuf, SystemTime, u64), Digest32>>,
}

impl ModuleCache {
    /// `dir` is where compiled artifacts live; `None` disables the disk
    /// cache.
    pub fn new(engine: &Engine, linker: Linker<GuestCtx>, dir: Option<PathBuf>) -> ModuleCache {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        ModuleCache {
            engine: engine.clone(),
            linker,
            dir,
            engine_key: h.finish(),
            modules: Mutex::new(HashMap::new()),
            paths: Mutex::new(HashMap::new()),
        }
    }

    /// The default cache directory: `$SIDECAR_CACHE_DIR/modules`, else
    /// `$XDG_CACHE_HOME/sidecar/modules`, else `~/.cache/sidecar/modules`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(d) = std::env::var_os("SIDECAR_CACHE_DIR") {
            return Some(PathBuf::from(d).join("modules"));
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("sidecar").join("modules"))
    }

    /// Loads a host module from a descriptor the VFS opened without
    /// following links; `path` only names it and keys the cache.
    fn load_host(&self, file: &File, path: &Path) -> Result<InstancePre<GuestCtx>, LoadError> {
        let read_err = |error| LoadError::Read {
            path: path.to_owned(),
            error,
        };
        let meta = file.metadata().map_err(read_err)?;
        let stamp = (
            path.to_owned(),
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
        if let Some(d) = self.paths.lock().unwrap().get(&stamp) {
            if let Some(m) = self.modules.lock().unwrap().get(d) {
                return Ok(m.clone());
            }
        }
        let bytes = read_all_at(file).map_err(read_err)?;
        let digest: Digest32 = Sha256::digest(&bytes).into();
        self.paths.lock().unwrap().insert(stamp, digest);
        self.load_digest(&path.display().to_string(), &bytes, digest)
    }

    /// Loads what a VFS lookup found.
    pub fn load_program(&self, program: &Program) -> Result<InstancePre<GuestCtx>, LoadError> {
        match program {
            Program::Host { file, path } => self.load_host(file, path),
            Program::Bytes(bytes) => self.load_bytes("(in-memory file)", bytes),
        }
    }

    pub fn load_bytes(&self, name: &str, bytes: &[u8]) -> Result<InstancePre<GuestCtx>, LoadError> {
        let digest: Digest32 = Sha256::digest(bytes).into();
        self.load_digest(name, bytes, digest)
    }

    fn load_digest(
        &self,
        name: &str,
        bytes: &[u8],
        digest: Digest32,
    ) -> Result<InstancePre<GuestCtx>, LoadError> {
        if let Some(m) = self.modules.lock().unwrap().get(&digest) {
            return Ok(m.clone());
        }
        let artifact = self.artifact_path(&digest);
        let module = match artifact.as_deref().and_then(|p| self.deserialize(p)) {
            Some(m) => m,
            None => {
                let m = Module::new(&self.engine, bytes).map_err(|e| LoadError::Invalid {
                    name: name.to_owned(),
                    reason: if bytes.starts_with(b"\0asm") {
                        first_line(&e)
                    } else {
                        "not a wasm binary (no \\0asm header) nor WebAssembly text".into()
                    },
                })?;
                if let Some(p) = &artifact {
                    self.store(p, &m);
                }
                m
            }
        };
        let pre = self.prepare(name, &module)?;
        self.modules.lock().unwrap().insert(digest, pre.clone());
        Ok(pre)
    }

    /// Checks imports and exports, then pre-links the module.
    fn prepare(&self, name: &str, module: &Module) -> Result<InstancePre<GuestCtx>, LoadError> {
        for import in module.imports() {
            let known = sidecar_abi::imports::find(import.module(), import.name()).is_some();
            if !known || !matches!(import.ty(), ExternType::Func(_)) {
                return Err(LoadError::UnknownImport {
                    name: name.to_owned(),
                    module: import.module().to_owned(),
                    import: import.name().to_owned(),
                });
            }
        }
        for export in ["memory", "_start"] {
            let Some(ty) = module.get_export(export) else {
                return Err(LoadError::MissingExport {
                    name: name.to_owned(),
                    export,
                });
            };
            // What the guest thread will ask for: an unshared 32-bit memory
            // and a `() -> ()` entry point.
            let (fits, expected) = match export {
                "memory" => (
                    matches!(&ty, ExternType::Memory(m) if !m.is_64() && !m.is_shared()),
                    "a 32-bit unshared memory",
                ),
                _ => (
                    matches!(&ty, ExternType::Func(f)
                        if f.params().next().is_none() && f.results().next().is_none()),
                    "a function without parameters or results",
                ),
            };
            if !fits {
                return Err(LoadError::WrongExport {
                    name: name.to_owned(),
                    export,
                    expected,
                    found: describe(&ty),
                });
            }
        }
        self.linker
            .instantiate_pre(module)
            .map_err(|e| LoadError::Invalid {
                name: name.to_owned(),
                reason: first_line(&e),
            })
    }

    fn artifact_path(&self, digest: &Digest32) -> Option<PathBuf> {
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Some(
            self.dir
                .as_ref()?
                .join(format!("{hex}-{:016x}.cwasm", self.engine_key)),
        )
    }

    fn deserialize(&self, path: &Path) -> Option<Module> {
        if !path.exists() {
            return None;
        }
        // SAFETY: the artifact was produced by `Module::serialize` of this
        // cache, under a name that includes the engine compatibility hash, in
        // a directory only the sidecar writes; wasmtime still checks its
        // header and rejects artifacts from another version or config.
        match unsafe { Module::deserialize_file(&self.engine, path) } {
            Ok(m) => Some(m),
            Err(e) => {
                tracing::debug!(path = %path.display(), "ignoring unusable cache artifact: {e}");
                None
            }
        }
    }

    fn store(&self, path: &Path, module: &Module) {
        let write = || -> std::io::Result<()> {
            let dir = path.parent().expect("artifact has a parent");
            std::fs::create_dir_all(dir)?;
            let bytes = module.serialize().map_err(std::io::Error::other)?;
            let tmp = dir.join(format!(
                ".tmp-{}-{:?}",
                std::process::id(),
                std::thread::current().id()
            ));
            std::fs::write(&tmp, bytes)?;
            std::fs::rename(&tmp, path)
        };
        if let Err(e) = write() {
            tracing::debug!(path = %path.display(), "module cache write failed: {e}");
        }
    }
}

/// Checks that the memory `pre` starts with fits in `limit` bytes: a module
/// that cannot even be instantiated is a load error, not a crash.
pub fn check_memory(
    name: &str,
    pre: &InstancePre<GuestCtx>,
    limit: Option<usize>,
) -> Result<(), LoadError> {
    let (Some(limit), Some(ExternType::Memory(m))) = (limit, pre.module().get_export("memory"))
    else {
        return Ok(());
    };
    let needed = m.minimum().saturating_mul(m.page_size());
    if needed > limit as u64 {
        return Err(LoadError::MemoryTooSmall {
            name: name.to_owned(),
            needed,
            limit,
        });
    }
    Ok(())
}

/// An export's kind and type, for messages.
fn describe(ty: &ExternType) -> String {
    match ty {
        ExternType::Func(f) => {
            let list = |v: Vec<String>| v.join(", ");
            let params = list(f.params().map(|p| p.to_string()).collect());
            let results = list(f.results().map(|r| r.to_string()).collect());
            format!("a function ({params}) -> ({results})")
        }
        ExternType::Global(_) => "a global".into(),
        ExternType::Table(_) => "a table".into(),
        ExternType::Memory(m) if m.is_shared() => "a shared memory".into(),
        ExternType::Memory(m) if m.is_64() => "a 64-bit memory".into(),
        ExternType::Memory(_) => "a memory".into(),
        ExternType::Tag(_) => "a tag".into(),
    }
}

/// The whole file, read positionally: clones of a `Program` share the
/// descriptor, so its offset is nobody's to move.
fn read_all_at(file: &File) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(file.metadata()?.len() as usize);
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        match file.read_at(&mut chunk, bytes.len() as u64) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// The most specific cause, on one line.
fn first_line(e: &wasmtime::Error) -> String {
    let s = e.root_cause().to_string();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
