//! A small multi-line text editor for the compose view: lines, a cursor, the editing keys
//! of a plain text field (arrows, Home/End, Backspace/Delete, Enter, Tab as two spaces),
//! and a scroll offset that keeps the cursor visible.
//!
//! Not responsible for: what the text means (the compose view parses it as JSON), nor the
//! keys that act on the whole message (send, cancel, `$EDITOR`): `compose` takes those first.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Text larger than this is refused by `insert` (a paste of a runaway file).
pub const MAX_TEXT: usize = 16 << 20;

/// The text being edited. The cursor is (line, char index in the line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Editor {
    lines: Vec<String>,
    pub row: usize,
    pub col: usize,
    /// The first line shown.
    pub top: usize,
}

impl Default for Editor {
    fn default() -> Self {
        Editor::new("")
    }
}

impl Editor {
    /// An editor holding `text`, the cursor at its end.
    pub fn new(text: &str) -> Editor {
        let mut e = Editor {
            lines: vec![String::new()],
            row: 0,
            col: 0,
            top: 0,
        };
        e.set_text(text);
        e
    }

    /// Replaces the text (e.g. after `$EDITOR`), the cursor at its end.
    pub fn set_text(&mut self, text: &str) {
        let text = text.strip_suffix('\n').unwrap_or(text);
        self.lines = text.split('\n').map(|l| l.replace('\r', "")).collect();
        self.row = self.lines.len() - 1;
        self.col = self.line_len(self.row);
        self.top = 0;
    }

    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    fn line_len(&self, row: usize) -> usize {
        self.lines[row].chars().count()
    }

    fn byte(&self, row: usize, col: usize) -> usize {
        let l = &self.lines[row];
        l.char_indices().nth(col).map_or(l.len(), |(b, _)| b)
    }

    fn size(&self) -> usize {
        self.lines.iter().map(|l| l.len() + 1).sum()
    }

    /// Applies an editing key; false when the key is not an editing key.
    pub fn key(&mut self, k: KeyEvent) -> bool {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Char(c) if !ctrl => self.insert(&c.to_string()),
            KeyCode::Tab => self.insert("  "),
            KeyCode::Enter => self.newline(),
            KeyCode::Backspace => self.backspace(),
            KeyCode::Delete => self.delete(),
            KeyCode::Left => self.left(),
            KeyCode::Right => self.right(),
            KeyCode::Up => self.vertical(-1),
            KeyCode::Down => self.vertical(1),
            KeyCode::PageUp => self.vertical(-10),
            KeyCode::PageDown => self.vertical(10),
            KeyCode::Home => self.col = 0,
            KeyCode::End => self.col = self.line_len(self.row),
            KeyCode::Char('a') if ctrl => self.col = 0,
            KeyCode::Char('e') if ctrl => self.col = self.line_len(self.row),
            KeyCode::Char('k') if ctrl => {
                let at = self.byte(self.row, self.col);
                self.lines[self.row].truncate(at);
            }
            _ => return false,
        }
        true
    }

    /// Inserts text (which may hold newlines) at the cursor.
    pub fn insert(&mut self, s: &str) {
        if self.size() + s.len() > MAX_TEXT {
            return;
        }
        let s = s.replace('\r', "");
        for (n, part) in s.split('\n').enumerate() {
            if n > 0 {
                self.newline();
            }
            let at = self.byte(self.row, self.col);
            self.lines[self.row].insert_str(at, part);
            self.col += part.chars().count();
        }
    }

    fn newline(&mut self) {
        let at = self.byte(self.row, self.col);
        let rest = self.lines[self.row].split_off(at);
        self.lines.insert(self.row + 1, rest);
        self.row += 1;
        self.col = 0;
    }

    fn backspace(&mut self) {
        if self.col > 0 {
            self.col -= 1;
            let at = self.byte(self.row, self.col);
            self.lines[self.row].remove(at);
        } else if self.row > 0 {
            let line = self.lines.remove(self.row);
            self.row -= 1;
            self.col = self.line_len(self.row);
            self.lines[self.row].push_str(&line);
        }
    }

    fn delete(&mut self) {
        if self.col < self.line_len(self.row) {
            let at = self.byte(self.row, self.col);
            self.lines[self.row].remove(at);
        } else if self.row + 1 < self.lines.len() {
            let next = self.lines.remove(self.row + 1);
            self.lines[self.row].push_str(&next);
        }
    }

    fn left(&mut self) {
        if self.col > 0 {
            self.col -= 1;
        } else if self.row > 0 {
            self.row -= 1;
            self.col = self.line_len(self.row);
        }
    }

    fn right(&mut self) {
        if self.col < self.line_len(self.row) {
            self.col += 1;
        } else if self.row + 1 < self.lines.len() {
            self.row += 1;
            self.col = 0;
        }
    }

    fn vertical(&mut self, by: isize) {
        let last = self.lines.len() - 1;
        self.row = self.row.saturating_add_signed(by).min(last);
        self.col = self.col.min(self.line_len(self.row));
    }

    /// Moves `top` so that the cursor's line is among the `height` lines shown.
    pub fn scroll_to_cursor(&mut self, height: usize) {
        let h = height.max(1);
        if self.row < self.top {
            self.top = self.row;
        } else if self.row >= self.top + h {
            self.top = self.row + 1 - h;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(e: &mut Editor, s: &str) {
        for c in s.chars() {
            e.key(k(if c == '\n' {
                KeyCode::Enter
            } else {
                KeyCode::Char(c)
            }));
        }
    }

    #[test]
    fn edits_across_lines() {
        let mut e = Editor::new("{\n}");
        assert_eq!((e.row, e.col), (1, 1));
        e.key(k(KeyCode::Up));
        e.key(k(KeyCode::End));
        typed(&mut e, "\n\"a\": 1,");
        assert_eq!(e.text(), "{\n\"a\": 1,\n}");
        e.key(k(KeyCode::Backspace));
        assert_eq!(e.text(), "{\n\"a\": 1\n}");
        e.key(k(KeyCode::Home));
        e.key(k(KeyCode::Backspace));
        assert_eq!(
            e.text(),
            "{\"a\": 1\n}",
            "backspace at a line start joins lines"
        );
        e.key(k(KeyCode::End));
        e.key(k(KeyCode::Delete));
        assert_eq!(e.text(), "{\"a\": 1}");
        e.key(k(KeyCode::Char('é')));
        assert_eq!(e.text(), "{\"a\": 1é}");
    }

    #[test]
    fn pasted_text_keeps_its_lines_and_the_scroll_follows_the_cursor() {
        let mut e = Editor::new("");
        e.insert("a\r\nb\nc");
        assert_eq!(e.lines().len(), 3);
        e.scroll_to_cursor(2);
        assert_eq!(e.top, 1);
        e.set_text("x\n");
        assert_eq!((e.text().as_str(), e.row, e.col), ("x", 0, 1));
    }
}
