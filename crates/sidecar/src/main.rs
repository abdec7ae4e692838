//! `sidecar`: run a VM of wasm guests on the sidecar kernel.

mod config;
mod input;
mod pixels;
mod screenshot;
mod terminal;
mod wait;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sidecar_kernel::Stdio;
use sidecar_runtime::{Budget, GuestConfig, GuestSpec, ModuleSource, MountConfig, Vm, VmConfig};

#[derive(Parser)]
#[command(
    name = "sidecar",
    version,
    about = "Run Linux software as wasm guests on a virtual kernel"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Boot the VM described by a vm.toml.
    Run {
        /// The VM description.
        config: PathBuf,
    },
    /// Write the root window of an X display (e.g. a guest X server's
    /// exposed socket) as a PNG.
    Screenshot {
        /// The X display, as in DISPLAY (`:99`).
        #[arg(long, default_value = ":99")]
        display: String,
        /// The PNG to write.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Print how many pixels of an X display's root window have a colour:
    /// a framebuffer assertion for scripts.
    Pixels {
        /// The X display, as in DISPLAY (`:99`).
        #[arg(long, default_value = ":99")]
        display: String,
        /// The colour, `#rrggbb` (exact match).
        #[arg(long)]
        color: pixels::Color,
        /// Count only inside this rectangle, `WxH+X+Y` (default: the screen).
        #[arg(long)]
        region: Option<pixels::Region>,
    },
    /// Send keyboard and pointer events to an X display (XTEST); returns
    /// once the server has processed them.
    Input {
        /// The X display, as in DISPLAY (`:99`).
        #[arg(long, default_value = ":99")]
        display: String,
        #[command(subcommand)]
        action: input::Action,
    },
    /// Wait until a viewable window with this name (WM_CLASS, WM_NAME or
    /// _NET_WM_NAME) exists on an X display, and print its id; or, with
    /// --color, until the screen shows that many pixels of a colour, and
    /// print their count; --gone waits for the window to go away. A
    /// display not up yet is waited for. Exit code 0, or 2 on timeout.
    #[command(group(clap::ArgGroup::new("what").required(true).args(["window", "color"])))]
    Wait {
        /// The X display, as in DISPLAY (`:99`).
        #[arg(long, default_value = ":99")]
        display: String,
        /// The window's class, instance or name.
        #[arg(long)]
        window: Option<String>,
        /// With --window: only a window a window manager has reparented
        /// (decorated) counts.
        #[arg(long, requires = "window", conflicts_with = "gone")]
        managed: bool,
        /// With --window: wait until no such window is viewable.
        #[arg(long, requires = "window")]
        gone: bool,
        /// The colour, `#rrggbb` (exact match).
        #[arg(long)]
        color: Option<pixels::Color>,
        /// With --color: count only inside this rectangle, `WxH+X+Y`.
        #[arg(long, requires = "color")]
        region: Option<pixels::Region>,
        /// With --color: wait for exactly this many pixels (default: at
        /// least one).
        #[arg(long, requires = "color", conflicts_with = "at_least")]
        count: Option<u64>,
        /// With --color: wait for at least this many pixels.
        #[arg(long, requires = "color")]
        at_least: Option<u64>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 30.0)]
        timeout: f64,
    },
    /// Run one guest: the current directory is the VM's /, /tmp is fresh,
    /// stdio is inherited and the exit code is passed through.
    Exec {
        /// Fuel budget (default: unlimited).
        #[arg(long)]
        fuel: Option<u64>,
        /// Linear memory limit in bytes.
        #[arg(long)]
        memory: Option<usize>,
        /// Environment variable for the guest, NAME=VALUE.
        #[arg(long = "env", value_name = "NAME=VALUE")]
        env: Vec<String>,
        /// The module (a host path).
        wasm: PathBuf,
        /// Arguments after the program name.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SIDECAR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .without_time()
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    raise_file_limit();
    match run(cli.command) {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            eprintln!("sidecar: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Raises the soft limit on open files to the hard one, so that a VM's
/// `limits.files` (4096 by default) is reached before the host's: many
/// hosts start programs with a soft limit of 1024.
fn raise_file_limit() {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut limit = getrlimit(Resource::Nofile);
    if limit.current.is_some() && limit.current != limit.maximum {
        limit.current = limit.maximum;
        if let Err(e) = setrlimit(Resource::Nofile, limit) {
            tracing::debug!("cannot raise the open-file limit: {e}");
        }
    }
}

fn run(cmd: Command) -> anyhow::Result<i32> {
    if let Command::Screenshot { display, output } = &cmd {
        let (w, h) = screenshot::capture(display, output)?;
        eprintln!(
            "sidecar: wrote {}x{} root window of {display} to {}",
            w,
            h,
            output.display()
        );
        return Ok(0);
    }
    if let Command::Pixels {
        display,
        color,
        region,
    } = &cmd
    {
        let image = screenshot::grab(display)?;
        println!("{}", pixels::count(&image, *color, *region)?);
        return Ok(0);
    }
    if let Command::Input { display, action } = &cmd {
        input::send(display, action)?;
        return Ok(0);
    }
    if let Command::Wait {
        display,
        window,
        managed,
        gone,
        color,
        region,
        count,
        at_least,
        timeout,
    } = &cmd
    {
        let limit = std::time::Duration::try_from_secs_f64(*timeout)
            .context("--timeout: not a number of seconds")?;
        let found = match (window, color) {
            (Some(window), _) => match wait::window(display, window, *managed, *gone, limit)? {
                Some(Some(id)) => Ok(format!("{id:#x}")),
                Some(None) => Ok("gone".to_owned()),
                None if *gone => Err(format!("window {window:?} is still viewable")),
                None if *managed => Err(format!(
                    "no viewable window {window:?} managed by a window manager"
                )),
                None => Err(format!("no viewable window {window:?}")),
            },
            (None, Some(color)) => {
                let want = match (count, at_least) {
                    (Some(n), _) => wait::Want::Exactly(*n),
                    (None, n) => wait::Want::AtLeast(n.unwrap_or(1)),
                };
                wait::pixels(display, *color, *region, want, limit)?
                    .map(|n| n.to_string())
                    .ok_or_else(|| format!("not {want} pixels of {color}"))
            }
            (None, None) => unreachable!("clap requires --window or --color"),
        };
        return match found {
            Ok(what) => {
                println!("{what}");
                Ok(0)
            }
            Err(what) => {
                eprintln!("sidecar: {what} on {display} after {timeout} s");
                Ok(2)
            }
        };
    }
    // Before the size is read, so no resize is missed.
    let sizes = terminal::SizeWatch::start();
    let config_path = match &cmd {
        Command::Run { config } => Some(config.clone()),
        _ => None,
    };
    let vm = match cmd {
        Command::Run { config: path } => {
            let text = config::read(&path)?;
            let file = config::parse(&path, &text)?;
            config::to_vm(&path, file, sizes.size())?
        }
        Command::Screenshot { .. }
        | Command::Pixels { .. }
        | Command::Wait { .. }
        | Command::Input { .. } => {
            unreachable!("handled above")
        }
        Command::Exec {
            fuel,
            memory,
            env,
            wasm,
            args,
        } => {
            let cwd = std::env::current_dir().context("current directory")?;
            let mut argv = vec![wasm.display().to_string()];
            argv.extend(args);
            VmConfig {
                mounts: vec![MountConfig {
                    guest: "/".into(),
                    host: cwd,
                    readonly: false,
                }],
                guests: vec![GuestConfig {
                    spec: GuestSpec {
                        name: wasm
                            .file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_else(|| "guest".into()),
                        args: argv,
                        env,
                        budget: fuel.map(Budget::Fuel).unwrap_or(Budget::Unlimited),
                        memory_limit: memory,
                    },
                    wasm: ModuleSource::Host(wasm),
                    cwd: "/".into(),
                    stdio: [Stdio::Inherit, Stdio::Inherit, Stdio::Inherit],
                    main: true,
                    after_listening: None,
                    after_timeout: std::time::Duration::ZERO,
                }],
                expose: Vec::new(),
                connect_out: Vec::new(),
                cache_dir: sidecar_runtime::cache::ModuleCache::default_dir(),
                limits: sidecar_runtime::Limits::default(),
                stop_timeout: std::time::Duration::from_secs_f64(config::DEFAULT_STOP_TIMEOUT),
            }
        }
    };
    let stops = terminal::StopSignals::install();
    let stop_timeout = vm.stop_timeout;
    let mut vm = Vm::new(vm).start().map_err(|e| match &config_path {
        Some(path) => config::start_error(path, e),
        None => e.into(),
    })?;
    stops.forward(vm.handle(), stop_timeout);
    let mut raw = None;
    if let Some(link) = vm.take_terminal() {
        // ^C and friends then reach the guest's line discipline as bytes.
        raw = terminal::RawMode::enter();
        sizes.forward(vm.handle(), &link);
        vm.handle()
            .attach_terminal(link, std::io::stdin(), std::io::stdout());
    }
    let code = vm.wait()?;
    drop(raw);
    Ok(code)
}
