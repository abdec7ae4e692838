//! `sidecar wait`: returns once a viewable window with a given name exists
//! on an X display, driven by X events (SubstructureNotify on the root and
//! on every top-level window, so reparenting window managers are followed;
//! PropertyNotify for names set after mapping), or once the screen shows a
//! number of pixels of a colour (DAMAGE events on the root), never by
//! polling. What scripts use instead of sleeping until a program is up or
//! has drawn.

use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use anyhow::Context;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    AtomEnum, ChangeWindowAttributesAux, ConnectionExt, EventMask, MapState, Window,
};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

use crate::pixels::{Color, Region};

/// The viewable window named `name` on the display `conn` serves, if any.
pub fn find(conn: &RustConnection, root: Window, name: &str) -> anyhow::Result<Option<Window>> {
    let names = names(conn, name)?;
    scan(conn, root, &names, false)
}

fn names<'a>(conn: &RustConnection, name: &'a str) -> anyhow::Result<Names<'a>> {
    Ok(Names {
        net_wm_name: conn.intern_atom(false, b"_NET_WM_NAME")?.reply()?.atom,
        utf8: conn.intern_atom(false, b"UTF8_STRING")?.reply()?.atom,
        wanted: name.as_bytes(),
    })
}

/// Waits until a viewable window whose WM_CLASS (instance or class),
/// WM_NAME or _NET_WM_NAME is `name` exists on `display` (if `managed`,
/// one that a window manager has reparented: its parent is not the root),
/// or, if `gone`, until none does; returns `Some` of what the last look
/// found (the window's id, or `None` when gone), or `None` once `timeout`
/// has passed.
pub fn window(
    display: &str,
    name: &str,
    managed: bool,
    gone: bool,
    timeout: Duration,
) -> anyhow::Result<Option<Option<Window>>> {
    let deadline = Instant::now() + timeout;
    let Some((conn, screen)) = connect_when_up(display, deadline)? else {
        return Ok(None);
    };
    let root = conn.setup().roots[screen].root;
    let names = names(&conn, name)?;
    // Events first, then the scan: nothing that happens in between is lost.
    watch(&conn, root)?;
    loop {
        let found = scan(&conn, root, &names, managed)?;
        if found.is_some() != gone {
            return Ok(Some(found));
        }
        // Any event may have mapped or named the window: look again.
        if !next_event(&conn, deadline, |_| true)? {
            return Ok(None);
        }
    }
}

/// How many pixels `sidecar wait --color` waits for.
#[derive(Debug, Clone, Copy)]
pub enum Want {
    /// Exactly this many.
    Exactly(u64),
    /// At least this many.
    AtLeast(u64),
}

impl std::fmt::Display for Want {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Want::Exactly(n) => write!(f, "exactly {n}"),
            Want::AtLeast(n) => write!(f, "at least {n}"),
        }
    }
}

impl Want {
    fn met(self, n: u64) -> bool {
        match self {
            Want::Exactly(k) => n == k,
            Want::AtLeast(k) => n >= k,
        }
    }
}

/// Waits until `display` shows `want` pixels of `color` (inside `region`
/// if given); returns the count, or `None` once `timeout` has passed. The
/// screen is read again only when the server reports damage to it.
pub fn pixels(
    display: &str,
    color: Color,
    region: Option<Region>,
    want: Want,
    timeout: Duration,
) -> anyhow::Result<Option<u64>> {
    use x11rb::protocol::damage::{ConnectionExt as _, ReportLevel};
    let deadline = Instant::now() + timeout;
    let Some((conn, screen)) = connect_when_up(display, deadline)? else {
        return Ok(None);
    };
    let root = conn.setup().roots[screen].root;
    // Only the region is read on each look.
    let (sw, sh) = {
        let s = &conn.setup().roots[screen];
        (s.width_in_pixels, s.height_in_pixels)
    };
    let r = Region::on_screen(region, u32::from(sw), u32::from(sh))?;
    let rect = (r.x as i16, r.y as i16, r.width as u16, r.height as u16);
    conn.damage_query_version(1, 1)?
        .reply()
        .context("the X server has no DAMAGE extension")?;
    let d = conn.generate_id()?;
    // NonEmpty: one event until the damage is subtracted, so a busy screen
    // costs one read per look, not one per drawing request.
    conn.damage_create(d, root, ReportLevel::NON_EMPTY)?;
    loop {
        // Subtract before reading: damage done after the read is reported.
        conn.damage_subtract(d, x11rb::NONE, x11rb::NONE)?;
        let n = if r.width == 0 || r.height == 0 {
            0 // GetImage takes no empty rectangle
        } else {
            let image = crate::screenshot::grab_rect(&conn, screen, rect)?;
            crate::pixels::count(&image, color, None)?
        };
        if want.met(n) {
            return Ok(Some(n));
        }
        if !next_event(&conn, deadline, |e| matches!(e, Event::DamageNotify(_)))? {
            return Ok(None);
        }
    }
}

/// Blocks until an event that `wakes` arrives (then drains the queue) and
/// returns true, or returns false at `deadline`.
fn next_event(
    conn: &RustConnection,
    deadline: Instant,
    wakes: impl Fn(&Event) -> bool,
) -> anyhow::Result<bool> {
    loop {
        if let Some(ev) = conn.poll_for_event()? {
            if wakes(&ev) {
                while conn.poll_for_event()?.is_some() {}
                return Ok(true);
            }
            continue;
        }
        conn.flush()?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable(conn.stream().as_fd(), left)? {
            return Ok(false);
        }
    }
}

struct Names<'a> {
    net_wm_name: u32,
    utf8: u32,
    wanted: &'a [u8],
}

/// Asks for the events that tell that a window appeared, was mapped or
/// reparented below `w`, or was renamed.
fn watch(conn: &RustConnection, w: Window) -> anyhow::Result<()> {
    let mask = EventMask::SUBSTRUCTURE_NOTIFY | EventMask::PROPERTY_CHANGE;
    conn.change_window_attributes(w, &ChangeWindowAttributesAux::new().event_mask(mask))?;
    Ok(())
}

/// The first viewable window below `root` with the wanted name (not a
/// child of the root, if `managed`); watches every top-level window it
/// walks through, so later changes below them are seen.
fn scan(
    conn: &RustConnection,
    root: Window,
    names: &Names<'_>,
    managed: bool,
) -> anyhow::Result<Option<Window>> {
    let mut todo = vec![root];
    while let Some(w) = todo.pop() {
        let Ok(tree) = conn.query_tree(w)?.reply() else {
            continue; // destroyed meanwhile
        };
        for &child in &tree.children {
            // Windows vanish at any time; a failed request means "gone".
            let Ok(attrs) = conn.get_window_attributes(child)?.reply() else {
                continue;
            };
            if w == root {
                watch(conn, child)?;
            }
            if attrs.map_state == MapState::VIEWABLE
                && !(managed && w == root)
                && named(conn, child, names)?
            {
                return Ok(Some(child));
            }
            todo.push(child);
        }
    }
    Ok(None)
}

fn named(conn: &RustConnection, w: Window, names: &Names<'_>) -> anyhow::Result<bool> {
    let get = |prop: u32, ty: u32| -> anyhow::Result<Vec<u8>> {
        Ok(conn
            .get_property(false, w, prop, ty, 0, 1024)?
            .reply()
            .map(|r| r.value)
            .unwrap_or_default())
    };
    let class = get(AtomEnum::WM_CLASS.into(), AtomEnum::STRING.into())?;
    if class.split(|b| *b == 0).any(|part| part == names.wanted) {
        return Ok(true);
    }
    Ok(
        get(AtomEnum::WM_NAME.into(), AtomEnum::STRING.into())? == names.wanted
            || get(names.net_wm_name, names.utf8)? == names.wanted,
    )
}

/// Connects to `display`. A local display (`:N`) that is not up yet is
/// waited for until `deadline` (`None` then): its socket file appearing in
/// /tmp/.X11-unix wakes the wait (inotify), so a script may start a VM and
/// wait for a window at once. Sockets appear already listening (the
/// sidecar renames them into place), so one that refuses is stale and is
/// waited out too.
fn connect_when_up(
    display: &str,
    deadline: Instant,
) -> anyhow::Result<Option<(RustConnection, usize)>> {
    use rustix::fs::inotify;
    let connect = || {
        x11rb::connect(Some(display))
            .with_context(|| format!("cannot connect to X display {display}"))
    };
    let Some(n) = display
        .strip_prefix(':')
        .map(|d| d.split('.').next().unwrap_or(d))
        .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    else {
        return connect().map(Some);
    };
    let dir = std::path::Path::new("/tmp/.X11-unix");
    let socket = dir.join(format!("X{n}"));
    let notify = inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK)?;
    let flags = inotify::WatchFlags::CREATE | inotify::WatchFlags::MOVED_TO;
    loop {
        // Watch first, then look: a socket made in between is not missed.
        // Without the directory yet, /tmp tells when it is made.
        if inotify::add_watch(&notify, dir, flags).is_err() {
            inotify::add_watch(&notify, "/tmp", flags).context("inotify on /tmp")?;
        }
        // A socket that refuses is a dead server's: its successor replaces
        // it (the sidecar renames its socket into place), which wakes us.
        if socket.exists() {
            match x11rb::connect(Some(display)) {
                Ok(up) => return Ok(Some(up)),
                Err(x11rb::errors::ConnectError::IoError(e))
                    if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot connect to X display {display}"))
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || !readable(notify.as_fd(), left)? {
            return Ok(None);
        }
        let mut buf = [std::mem::MaybeUninit::uninit(); 4096];
        let mut events = inotify::Reader::new(&notify, &mut buf);
        while events.next().is_ok() {}
    }
}

/// Whether `fd` became readable within `left`.
fn readable(fd: std::os::fd::BorrowedFd<'_>, left: Duration) -> anyhow::Result<bool> {
    let mut fds = [rustix::event::PollFd::new(
        &fd,
        rustix::event::PollFlags::IN,
    )];
    let ts = rustix::event::Timespec::try_from(left).unwrap_or(rustix::event::Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    match rustix::event::poll(&mut fds, Some(&ts)) {
        Ok(n) => Ok(n > 0),
        Err(rustix::io::Errno::INTR) => Ok(true),
        Err(e) => Err(e.into()),
    }
}
