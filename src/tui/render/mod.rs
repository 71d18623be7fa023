//! Drawing: a pure function of the `App` (`render(&app, frame)`), never changing it.
//! The layout is a function too, shared with the mouse and scrolling code so that what is
//! clicked is what was drawn.

// Cell geometry: ratatui's coordinates are u16, and what is cast to them are columns and
// rows computed from, and checked against, the area being drawn; floats (chart scales)
// saturate when cast. Wrapping a count there would draw in the wrong cell, never index
// out of bounds (the buffer clips).
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss
)]

mod header;
mod help;
mod hub;
pub mod interact;
mod list;
mod pane;
pub(super) mod problems;
mod spark;
mod stats;
mod timeline;

pub use spark::header_parts;

use super::app::{App, Page, Tab};
use super::chart::Mode;
use ratatui::layout::Rect;
use ratatui::Frame;

/// Where each part of the screen goes.
#[derive(Debug, Clone, Copy)]
pub struct Areas {
    pub header: Rect,
    pub list: Rect,
    pub detail: Rect,
    pub stderr: Option<Rect>,
    pub footer: Rect,
    /// List and detail side by side (wide terminals) rather than stacked.
    pub side_by_side: bool,
}

impl Areas {
    /// The list's rows, below its title and column header.
    pub fn list_body(&self) -> Rect {
        let mut r = self.list;
        let skip = 2.min(r.height);
        r.y += skip;
        r.height -= skip;
        r
    }

    /// The hub's list: the whole body.
    pub fn hub(&self) -> Rect {
        let mut r = self.list.union(self.detail);
        r.height = r.height.min(self.footer.y.saturating_sub(r.y));
        r
    }

    /// Rows of the hub's list, below its title and column header.
    pub fn hub_rows(&self) -> usize {
        self.hub().height.saturating_sub(2) as usize
    }

    /// The list and the detail together: where the timeline and stats views go.
    pub fn body(&self) -> Rect {
        self.list.union(self.detail)
    }

    pub fn list_rows(&self) -> usize {
        self.list_body().height as usize
    }

    /// The detail's text, below its tab line (and right of its border when side by side).
    pub fn detail_text(&self) -> Rect {
        let mut r = self.detail;
        let skip = 1.min(r.height);
        r.y += skip;
        r.height -= skip;
        if self.side_by_side && r.width > 1 {
            r.x += 1;
            r.width -= 1;
        }
        r
    }
}

/// Terminals at least this wide show list and detail side by side.
const SIDE_BY_SIDE: u16 = 140;

/// The layout for the app's terminal size (what the mouse and scrolling use).
pub fn layout(app: &App) -> Areas {
    layout_in(app, Rect::new(0, 0, app.size.0, app.size.1))
}

/// The layout within `full`.
pub fn layout_in(app: &App, full: Rect) -> Areas {
    let (w, h) = (full.width, full.height);
    let header = Rect {
        height: 1.min(h),
        ..full
    };
    let footer = Rect {
        y: h.saturating_sub(1),
        height: 1.min(h.saturating_sub(1)),
        ..full
    };
    let mut body = Rect {
        y: header.height,
        height: h.saturating_sub(header.height + footer.height),
        ..full
    };
    let stderr = (app.stderr_pane && app.page == Page::Viewer).then(|| {
        let sh = (body.height / 3).clamp(3.min(body.height), 10);
        body.height -= sh;
        Rect {
            y: body.y + body.height,
            height: sh,
            ..body
        }
    });
    let side_by_side = w >= SIDE_BY_SIDE;
    let (list, detail) = if side_by_side {
        let lw = (w * 11 / 20).max(60).min(w);
        let list = Rect { width: lw, ..body };
        let detail = Rect {
            x: body.x + lw,
            width: w - lw,
            ..body
        };
        (list, detail)
    } else {
        let lh = body.height.div_ceil(2);
        let list = Rect { height: lh, ..body };
        let detail = Rect {
            y: body.y + lh,
            height: body.height - lh,
            ..body
        };
        (list, detail)
    };
    Areas {
        header,
        list,
        detail,
        stderr,
        footer,
        side_by_side,
    }
}

/// The rows of the timeline's items or of the stats table, for scrolling and the mouse.
pub fn chart_rows(app: &App) -> Rect {
    let body = layout(app).body();
    match app.charts.mode {
        Mode::Stats => stats::rows_area(body),
        _ => timeline::rows_area(body),
    }
}

/// The detail tab whose title is at column `x` of the detail's title line.
pub fn tab_at(areas: &Areas, x: u16) -> Option<Tab> {
    let mut at = areas.detail.x + pane::TABS_X;
    for t in Tab::ALL {
        let w = pane::tab_label(t).chars().count() as u16;
        if x >= at && x < at + w {
            return Some(t);
        }
        at += w;
    }
    None
}

/// Draws the whole screen.
pub fn render(app: &App, frame: &mut Frame) {
    // The frame's own size, so that a resize not yet seen by `update` cannot draw outside.
    let areas = layout_in(app, frame.area());
    let buf = frame.buffer_mut();
    match app.page {
        Page::Hub => hub::draw(app, &areas, buf),
        Page::Viewer => {
            header::draw(app, areas.header, buf);
            match app.charts.mode {
                Mode::List => {
                    list::draw(app, &areas, buf);
                    pane::draw(app, &areas, buf);
                }
                Mode::Timeline => timeline::draw(app, areas.body(), buf),
                Mode::Stats => stats::draw(app, areas.body(), buf),
            }
            if let Some(r) = areas.stderr {
                pane::stderr(app, r, buf);
            }
        }
    }
    header::footer(app, areas.footer, buf);
    let mut compose_cursor = None;
    if app.page == Page::Viewer {
        problems::draw(app, frame.area(), frame.buffer_mut());
        compose_cursor = interact::draw(app, frame.area(), frame.buffer_mut());
    }
    if app.help {
        let keys = match (app.page, app.charts.mode) {
            (Page::Hub, _) => help::Keys::Hub,
            (_, Mode::List) => help::Keys::Viewer,
            (_, Mode::Timeline) => help::Keys::Timeline,
            (_, Mode::Stats) => help::Keys::Stats,
        };
        help::draw(frame.area(), frame.buffer_mut(), keys);
    }
    if let Some(p) = &app.prompt {
        let x = areas.footer.x + header::prompt_prefix(p.kind).chars().count() as u16;
        let cursor = x + p.text.chars().take(p.cursor).map(char_width).sum::<u16>();
        frame.set_cursor_position((
            cursor.min(areas.footer.right().saturating_sub(1)),
            areas.footer.y,
        ));
    } else if let Some(at) = compose_cursor {
        frame.set_cursor_position(at);
    }
}

/// A `w` × `h` overlay centred on `screen` and cleared (help, problems, interactive views).
fn centred_overlay(screen: Rect, w: u16, h: u16, buf: &mut ratatui::buffer::Buffer) -> Rect {
    use ratatui::widgets::{Clear, Widget};
    let area = Rect::new(
        screen.x + (screen.width - w) / 2,
        screen.y + (screen.height - h) / 2,
        w,
        h,
    );
    Clear.render(area, buf);
    area
}

fn char_width(c: char) -> u16 {
    unicode_width::UnicodeWidthChar::width(c).unwrap_or(0) as u16
}
