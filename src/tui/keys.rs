//! The key map and the mouse: terminal input to `Action`s, depending on what is showing
//! (hub, help, prompt, the focused pane). Keys follow mitmproxy and less (PRODUCT §7).

use super::app::{App, Page, Pane, Tab as DetailTab};
use super::prompt::PromptKind;
use super::update::Action;
use crossterm::event::{
    KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};

/// Lines or rows one wheel notch moves.
const WHEEL: isize = 3;

pub fn key(app: &App, k: KeyEvent) -> Option<Action> {
    use KeyCode::*;
    if k.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    if app.prompt.is_some() {
        return Some(Action::PromptKey(k));
    }
    if app.act.compose.is_some() && app.page == Page::Viewer {
        return Some(Action::ComposeKey(k));
    }
    if ctrl && k.code == Char('c') {
        return Some(Action::Exit);
    }
    if app.help {
        return Some(Action::ToggleHelp);
    }
    if app.page == Page::Hub {
        return Some(match k.code {
            Char('q') | Esc => Action::Exit,
            Char('j') | Down => Action::HubMove(1),
            Char('k') | Up => Action::HubMove(-1),
            PageDown => Action::HubMove(10),
            PageUp => Action::HubMove(-10),
            Char('g') | Home => Action::HubMove(isize::MIN / 2),
            Char('G') | End => Action::HubMove(isize::MAX / 2),
            Enter => Action::HubOpen,
            Char(' ') => Action::HubMark,
            Char('?') => Action::ToggleHelp,
            _ => return None,
        });
    }
    if app.problems.is_some() && app.page == Page::Viewer {
        return Some(match k.code {
            Char('j') | Down => Action::ProblemsMove(1),
            Char('k') | Up => Action::ProblemsMove(-1),
            PageDown => Action::ProblemsMove(10),
            PageUp => Action::ProblemsMove(-10),
            Char('g') | Home => Action::ProblemsMove(isize::MIN / 2),
            Char('G') | End => Action::ProblemsMove(isize::MAX / 2),
            Enter => Action::ProblemsJump,
            Esc | Char('P') | Char('q') => Action::ToggleProblems,
            _ => return None,
        });
    }
    if app.page == Page::Viewer {
        if let Some(a) = interactive(app, k) {
            return Some(a);
        }
    }
    if let Some(a) = super::chart::key(app, k) {
        return Some(a);
    }
    let list = app.focus == Pane::List;
    Some(match k.code {
        Char('f') if ctrl => Action::OpenPrompt(PromptKind::Search),
        Char('d') if ctrl => Action::Page(1),
        Char('u') if ctrl => Action::Page(-1),
        _ if ctrl => return None,
        Char('q') => Action::Quit,
        Char('?') => Action::ToggleHelp,
        Tab | BackTab => Action::SwitchPane,
        Esc => Action::Escape,
        Char('/') => Action::OpenPrompt(PromptKind::Filter),
        Char('n') => Action::SearchNext(true),
        Char('N') => Action::SearchNext(false),
        Char('f') => Action::ToggleFollow,
        Char('e') => Action::ToggleErrors,
        Char('m') => Action::ToggleMark,
        Char('M') => Action::ToggleMarkedOnly,
        Char('c') => Action::ClearView,
        Char('C') => Action::ShowAll,
        Char('s') => Action::ToggleStderr,
        Char('t') => Action::ToggleTime,
        Char('y') => Action::Copy,
        Char('r') => Action::Resend,
        Char('>') => Action::Compose,
        Char('i') => Action::OpenPrompt(PromptKind::Intercept),
        Char('H') => Action::ToggleHeld,
        Char('w') => Action::OpenPrompt(PromptKind::Save),
        Char('p') => Action::PairJump,
        Char('P') => Action::ToggleProblems,
        Char('1') => Action::SetTab(DetailTab::Body),
        Char('2') => Action::SetTab(DetailTab::Pair),
        Char('3') => Action::SetTab(DetailTab::Wire),
        Char('h') | Left => Action::StepTab(-1),
        Char('l') | Right => Action::StepTab(1),
        Enter if list => Action::FocusDetail,
        Char('j') | Down if list => Action::Move(1),
        Char('k') | Up if list => Action::Move(-1),
        PageDown | Char(' ') if list => Action::Page(1),
        PageUp if list => Action::Page(-1),
        Char('g') | Home if list => Action::First,
        Char('G') | End if list => Action::Last,
        Char('j') | Down => Action::Scroll(1),
        Char('k') | Up => Action::Scroll(-1),
        PageDown | Char(' ') => Action::ScrollPage(1),
        PageUp => Action::ScrollPage(-1),
        Char('g') | Home => Action::Scroll(isize::MIN / 2),
        Char('G') | End => Action::Scroll(isize::MAX / 2),
        _ => return None,
    })
}

/// The resend comparison's and the held view's keys, while one is open.
fn interactive(app: &App, k: KeyEvent) -> Option<Action> {
    use super::interact::Decision;
    use KeyCode::*;
    if app.act.resend.is_some() {
        return Some(match k.code {
            // (`r` is not taken: it resends again, or reattaches a feed that was cut off.)
            Esc | Char('q') => Action::CloseResend,
            Char('j') | Down => Action::ResendScroll(1),
            Char('k') | Up => Action::ResendScroll(-1),
            PageDown | Char(' ') => Action::ResendScroll(10),
            PageUp => Action::ResendScroll(-10),
            _ => return None,
        });
    }
    app.act.held_view?;
    Some(match k.code {
        Char('j') | Down => Action::HeldMove(1),
        Char('k') | Up => Action::HeldMove(-1),
        Char('g') | Home => Action::HeldMove(isize::MIN / 2),
        Char('G') | End => Action::HeldMove(isize::MAX / 2),
        Char('a') | Enter => Action::Decide(Decision::Forward),
        Char('A') => Action::Decide(Decision::ForwardAll),
        Char('d') => Action::Decide(Decision::Drop),
        Char('e') => Action::HeldCompose(false),
        Char('r') => Action::HeldCompose(true),
        Char('i') => Action::OpenPrompt(PromptKind::Intercept),
        Esc | Char('H') | Char('q') => Action::ToggleHeld,
        _ => return None,
    })
}

pub fn mouse(app: &App, m: MouseEvent) -> Option<Action> {
    if app.help || app.prompt.is_some() || app.act.compose.is_some() {
        return None;
    }
    let areas = super::render::layout(app);
    let at = ratatui::layout::Position::new(m.column, m.row);
    let wheel = match m.kind {
        MouseEventKind::ScrollDown => WHEEL,
        MouseEventKind::ScrollUp => -WHEEL,
        MouseEventKind::Down(MouseButton::Left) => 0,
        _ => return None,
    };
    if app.charts.mode != super::chart::Mode::List && app.page == Page::Viewer {
        return super::chart::mouse(app, m);
    }
    if app.page == Page::Hub {
        return match wheel {
            0 => {
                let first = areas.hub().y + 2;
                (m.row >= first).then(|| Action::HubClick((m.row - first) as usize))
            }
            n => Some(Action::HubMove(n)),
        };
    }
    if areas.list.contains(at) {
        if wheel != 0 {
            return Some(Action::Move(wheel));
        }
        let body = areas.list_body();
        return body
            .contains(at)
            .then(|| Action::Select(app.top + (m.row - body.y) as usize));
    }
    if areas.detail.contains(at) {
        if wheel != 0 {
            return Some(Action::Scroll(wheel));
        }
        if m.row == areas.detail.y {
            if let Some(tab) = super::render::tab_at(&areas, m.column) {
                return Some(Action::SetTab(tab));
            }
        }
        return Some(Action::FocusPane(Pane::Detail));
    }
    None
}
