//! Styled text for the detail pane: logical lines of styled segments, bytes made visible
//! (control characters and invalid UTF-8 as dim escapes), and wrapping to the pane width.
//!
//! Wrapping happens once, when a message is selected, so that a frame only slices the
//! wrapped lines it shows.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use std::fmt::Write as _;
use unicode_width::UnicodeWidthChar;

/// A logical line: styled segments, unbounded in width.
pub type Segs = Vec<(String, Style)>;

/// The style of escapes standing for bytes that would not show.
pub fn escape_style() -> Style {
    Style::default()
        .fg(Color::DarkGray)
        .add_modifier(Modifier::ITALIC)
}

/// Lines of `bytes` with every byte visible: `\r`, `\n`, `\t`, `\x1b` … as dim escapes, a
/// line break after each `\n`. Printable text keeps `style`.
pub fn visible(bytes: &[u8], style: Style, out: &mut Vec<Segs>) {
    let mut line: Segs = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, line: &mut Segs| {
        if !run.is_empty() {
            line.push((std::mem::take(run), style));
        }
    };
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            let esc = match c {
                '\n' => Some("\\n".to_owned()),
                '\r' => Some("\\r".to_owned()),
                '\t' => Some("\\t".to_owned()),
                c if c.is_control() => Some(format!("\\x{:02x}", c as u32)),
                _ => None,
            };
            match esc {
                None => run.push(c),
                Some(e) => {
                    flush(&mut run, &mut line);
                    line.push((e, escape_style()));
                    if c == '\n' {
                        out.push(std::mem::take(&mut line));
                    }
                }
            }
        }
        if !chunk.invalid().is_empty() {
            flush(&mut run, &mut line);
            let hex = chunk.invalid().iter().fold(String::new(), |mut s, b| {
                let _ = write!(s, "\\x{b:02x}");
                s
            });
            line.push((hex, escape_style()));
        }
    }
    flush(&mut run, &mut line);
    if !line.is_empty() || out.is_empty() {
        out.push(line);
    }
}

/// Wraps logical lines to `width` columns, keeping at most `max` lines; the last kept line
/// says how many were left out.
pub fn wrap(lines: Vec<Segs>, width: usize, max: usize) -> Vec<Line<'static>> {
    let width = width.max(8);
    let mut out: Vec<Line<'static>> = Vec::new();
    for segs in lines {
        if out.len() >= max {
            break;
        }
        let mut cur: Vec<Span<'static>> = Vec::new();
        let mut used = 0;
        for (text, style) in segs {
            let mut piece = String::new();
            for c in text.chars() {
                let w = c.width().unwrap_or(0);
                if used + w > width && used > 0 {
                    if !piece.is_empty() {
                        cur.push(Span::styled(std::mem::take(&mut piece), style));
                    }
                    out.push(Line::from(std::mem::take(&mut cur)));
                    used = 0;
                }
                piece.push(c);
                used += w;
            }
            if !piece.is_empty() {
                cur.push(Span::styled(piece, style));
            }
        }
        out.push(Line::from(cur));
    }
    if out.len() >= max {
        out.truncate(max.saturating_sub(1));
        out.push(Line::styled(
            "… truncated here: `y` copies the whole message, `w` saves the view",
            escape_style(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(lines: &[Line]) -> Vec<String> {
        lines.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn control_bytes_and_invalid_utf8_become_visible() {
        let mut out = Vec::new();
        visible(
            b"Content-Length: 2\r\n\r\n{}\x1b\xff",
            Style::default(),
            &mut out,
        );
        let lines = wrap(out, 80, 100);
        assert_eq!(
            plain(&lines),
            ["Content-Length: 2\\r\\n", "\\r\\n", "{}\\x1b\\xff"]
        );
    }

    #[test]
    fn wraps_by_display_width_and_caps_the_line_count() {
        let lines = vec![vec![("abcdefghij".to_owned(), Style::default())]; 3];
        assert_eq!(
            plain(&wrap(lines.clone(), 8, 100)),
            ["abcdefgh", "ij"].repeat(3)
        );
        let capped = wrap(lines, 8, 3);
        assert_eq!(capped.len(), 3);
        assert!(capped[2].to_string().contains("truncated"));
        let wide = vec![vec![("日本語日本語".to_owned(), Style::default())]];
        assert_eq!(plain(&wrap(wide, 8, 10)), ["日本語日", "本語"]);
    }
}
