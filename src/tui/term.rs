//! The terminal: entering and leaving raw mode and the alternate screen (also on panic),
//! and the `Screen` the loop draws on — the real terminal, or a `TestBackend` in tests.

use super::app::App;
use super::render::render;
use base64::Engine;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::{Backend, CrosstermBackend, TestBackend};
use ratatui::Terminal;
use std::io::{self, Stdout, Write};

/// What the loop needs from a terminal.
pub trait Screen {
    /// (columns, rows).
    fn size(&self) -> io::Result<(u16, u16)>;
    fn draw(&mut self, app: &App) -> io::Result<()>;
    /// Puts text on the clipboard of the terminal's user.
    fn copy(&mut self, text: &str) -> io::Result<()>;
    /// Gives the terminal back (cooked mode, main screen) while another program uses it.
    fn suspend(&mut self) -> io::Result<()> {
        Ok(())
    }
    /// Takes the terminal again after `suspend`, redrawing everything on the next frame.
    fn resume(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The OSC 52 sequence that asks the terminal to set its clipboard.
pub fn osc52(text: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
    format!("\x1b]52;c;{b64}\x07")
}

/// The real terminal. Dropping it restores the terminal.
pub struct Tty {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

fn restore() {
    let _ = disable_raw_mode();
    let _ = crossterm::execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

impl Tty {
    /// Raw mode, alternate screen, mouse capture; and a panic hook that restores the
    /// terminal before the panic message is printed.
    pub fn enter() -> io::Result<Tty> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
        enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = crossterm::execute!(out, EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(e);
        }
        let terminal = Terminal::new(CrosstermBackend::new(out)).inspect_err(|_| restore())?;
        Ok(Tty { terminal })
    }
}

impl Tty {
    /// The terminal itself, for views with a loop of their own (`diff`).
    pub fn terminal(&mut self) -> &mut Terminal<CrosstermBackend<Stdout>> {
        &mut self.terminal
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        restore();
        // The hook installed by `enter` restores a terminal that is already restored:
        // harmless, and keeping it avoids racing another thread's hook.
    }
}

impl Screen for Tty {
    fn size(&self) -> io::Result<(u16, u16)> {
        let s = self.terminal.backend().size()?;
        Ok((s.width, s.height))
    }

    fn draw(&mut self, app: &App) -> io::Result<()> {
        self.terminal.draw(|f| render(app, f)).map(|_| ())
    }

    fn copy(&mut self, text: &str) -> io::Result<()> {
        let out = self.terminal.backend_mut();
        out.write_all(osc52(text).as_bytes())?;
        Write::flush(out)
    }

    fn suspend(&mut self) -> io::Result<()> {
        restore();
        Ok(())
    }

    fn resume(&mut self) -> io::Result<()> {
        enable_raw_mode()?;
        crossterm::execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
        self.terminal.clear()
    }
}

/// A screen in memory, for tests and benchmarks: what was drawn, what was copied.
pub struct TestScreen {
    pub terminal: Terminal<TestBackend>,
    pub copied: Vec<String>,
    pub frames: usize,
}

impl TestScreen {
    pub fn new(width: u16, height: u16) -> TestScreen {
        TestScreen {
            terminal: Terminal::new(TestBackend::new(width, height)).expect("test backend"),
            copied: Vec::new(),
            frames: 0,
        }
    }

    pub fn backend(&self) -> &TestBackend {
        self.terminal.backend()
    }
}

impl Screen for TestScreen {
    fn size(&self) -> io::Result<(u16, u16)> {
        let s = self.terminal.backend().size()?;
        Ok((s.width, s.height))
    }

    fn draw(&mut self, app: &App) -> io::Result<()> {
        self.frames += 1;
        self.terminal.draw(|f| render(app, f)).map(|_| ())
    }

    fn copy(&mut self, text: &str) -> io::Result<()> {
        self.copied.push(text.to_owned());
        Ok(())
    }
}
