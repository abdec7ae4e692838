//! `sidecar input`: keyboard and pointer events sent to an X display with
//! XTEST, as a user at the keyboard would make them. Keys are looked up in
//! the server's own keymap (a character on a shifted column is typed with
//! Shift). Every command ends with a round trip, so when it returns the
//! server has processed its events.

use anyhow::{bail, Context};
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ConnectionExt, InputFocus, Keycode, Keysym, Window, BUTTON_PRESS_EVENT, BUTTON_RELEASE_EVENT,
    KEY_PRESS_EVENT, KEY_RELEASE_EVENT, MOTION_NOTIFY_EVENT,
};
use x11rb::protocol::xtest::ConnectionExt as _;
use x11rb::rust_connection::RustConnection;
use x11rb::CURRENT_TIME;

/// What to send.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Action {
    /// Type literal text: printable ASCII, `\n` (Return) and `\t` (Tab).
    Type { text: String },
    /// Press keys by name, xdotool-style: `ctrl+c`, `Return`, `shift+Tab`.
    Key {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Move the pointer to (X, Y) on the root window.
    Move { x: i16, y: i16 },
    /// Press and release a pointer button (1 = left).
    Click {
        #[arg(default_value_t = 1)]
        button: u8,
    },
    /// Give the keyboard focus to the viewable window with this class or
    /// name.
    Focus { window: String },
}

/// The server's keymap: keysyms per keycode.
struct Keymap {
    min: Keycode,
    per: usize,
    syms: Vec<Keysym>,
}

impl Keymap {
    fn load(conn: &RustConnection) -> anyhow::Result<Keymap> {
        let setup = conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let map = conn.get_keyboard_mapping(min, max - min + 1)?.reply()?;
        Ok(Keymap {
            min,
            per: usize::from(map.keysyms_per_keycode),
            syms: map.keysyms,
        })
    }

    /// The keycode that makes `sym`, and whether it needs Shift.
    fn find(&self, sym: Keysym) -> Option<(Keycode, bool)> {
        for column in 0..self.per.min(2) {
            for (i, codes) in self.syms.chunks(self.per).enumerate() {
                if codes[column] == sym {
                    return Some((self.min + i as u8, column == 1));
                }
            }
        }
        None
    }
}

const SHIFT_L: Keysym = 0xffe1;
const CONTROL_L: Keysym = 0xffe3;
const ALT_L: Keysym = 0xffe9;
const SUPER_L: Keysym = 0xffeb;

/// The keysym of a key name: a modifier, a named key, or one character.
fn keysym(name: &str) -> anyhow::Result<Keysym> {
    let named: &[(&str, Keysym)] = &[
        ("shift", SHIFT_L),
        ("ctrl", CONTROL_L),
        ("control", CONTROL_L),
        ("alt", ALT_L),
        ("super", SUPER_L),
        ("Return", 0xff0d),
        ("Enter", 0xff0d),
        ("Tab", 0xff09),
        ("BackSpace", 0xff08),
        ("Escape", 0xff1b),
        ("Delete", 0xffff),
        ("Home", 0xff50),
        ("Left", 0xff51),
        ("Up", 0xff52),
        ("Right", 0xff53),
        ("Down", 0xff54),
        ("Page_Up", 0xff55),
        ("Page_Down", 0xff56),
        ("End", 0xff57),
        ("Insert", 0xff63),
        ("space", 0x20),
    ];
    if let Some((_, sym)) = named.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
        return Ok(*sym);
    }
    if let Some(n) = name.strip_prefix('F').and_then(|n| n.parse::<u32>().ok()) {
        if (1..=12).contains(&n) {
            return Ok(0xffbe + n - 1);
        }
    }
    let mut chars = name.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => char_keysym(c),
        _ => bail!("unknown key name {name:?}"),
    }
}

/// The keysym that types `c`: printable ASCII is its own code.
fn char_keysym(c: char) -> anyhow::Result<Keysym> {
    match c {
        '\n' => Ok(0xff0d),
        '\t' => Ok(0xff09),
        ' '..='~' => Ok(u32::from(c)),
        _ => bail!("cannot type {c:?}: only printable ASCII, \\n and \\t"),
    }
}

struct Input {
    conn: RustConnection,
    root: Window,
    keymap: Keymap,
}

impl Input {
    fn fake(&self, kind: u8, detail: u8, x: i16, y: i16) -> anyhow::Result<()> {
        self.conn
            .xtest_fake_input(kind, detail, CURRENT_TIME, self.root, x, y, 0)?;
        Ok(())
    }

    fn code(&self, sym: Keysym) -> anyhow::Result<(Keycode, bool)> {
        self.keymap
            .find(sym)
            .with_context(|| format!("the server's keymap has no key for keysym {sym:#x}"))
    }

    /// Presses the keys in order, then releases them in reverse.
    fn chord(&self, codes: &[Keycode]) -> anyhow::Result<()> {
        for &c in codes {
            self.fake(KEY_PRESS_EVENT, c, 0, 0)?;
        }
        for &c in codes.iter().rev() {
            self.fake(KEY_RELEASE_EVENT, c, 0, 0)?;
        }
        Ok(())
    }

    fn type_text(&self, text: &str) -> anyhow::Result<()> {
        let (shift, _) = self.code(SHIFT_L)?;
        for c in text.chars() {
            let (code, shifted) = self.code(char_keysym(c)?)?;
            if shifted {
                self.chord(&[shift, code])?;
            } else {
                self.chord(&[code])?;
            }
        }
        Ok(())
    }

    fn keys(&self, names: &[String]) -> anyhow::Result<()> {
        let (shift, _) = self.code(SHIFT_L)?;
        for combo in names {
            let parts: Vec<&str> = combo.split('+').collect();
            let has_shift = parts.iter().any(|p| p.eq_ignore_ascii_case("shift"));
            let mut codes = Vec::new();
            for part in parts {
                let (code, shifted) = self.code(keysym(part)?)?;
                // A symbol on a shifted column (`ctrl+?`) needs Shift held.
                if shifted && !has_shift {
                    codes.push(shift);
                }
                codes.push(code);
            }
            self.chord(&codes)?;
        }
        Ok(())
    }
}

/// Sends `action` to `display` and returns once the server has processed it.
pub fn send(display: &str, action: &Action) -> anyhow::Result<()> {
    let (conn, screen) = x11rb::connect(Some(display))
        .with_context(|| format!("cannot connect to X display {display}"))?;
    let root = conn.setup().roots[screen].root;
    conn.xtest_get_version(2, 2)?
        .reply()
        .context("the X server has no XTEST extension")?;
    let keymap = Keymap::load(&conn)?;
    let input = Input { conn, root, keymap };
    match action {
        Action::Type { text } => input.type_text(text)?,
        Action::Key { names } => input.keys(names)?,
        Action::Move { x, y } => input.fake(MOTION_NOTIFY_EVENT, 0, *x, *y)?,
        Action::Click { button } => {
            input.fake(BUTTON_PRESS_EVENT, *button, 0, 0)?;
            input.fake(BUTTON_RELEASE_EVENT, *button, 0, 0)?;
        }
        Action::Focus { window } => {
            let Some(w) = crate::wait::find(&input.conn, root, window)? else {
                bail!("no viewable window {window:?} on {display}");
            };
            input
                .conn
                .set_input_focus(InputFocus::POINTER_ROOT, w, CURRENT_TIME)?;
        }
    }
    // A round trip: the server has handled everything sent before it.
    input.conn.get_input_focus()?.reply()?;
    Ok(())
}
