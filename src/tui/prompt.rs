//! The one-line editor of the footer, used for the filter (`/`), the search (`n`, Ctrl-F)
//! the save path (`w`) and the intercept filter (`i`): cursor movement, editing keys, and per-kind history on ↑/↓.
//!
//! Not responsible for: what the text means (the app compiles it through `query`).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Filter,
    Search,
    Save,
    /// The intercept filter (`i`): what the shim holds.
    Intercept,
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Filter => "filter",
            PromptKind::Search => "search",
            PromptKind::Save => "save view to",
            PromptKind::Intercept => "intercept",
        }
    }
}

/// What a key did to the line.
#[derive(Debug, PartialEq, Eq)]
pub enum Edit {
    Changed,
    Moved,
    Submit,
    Cancel,
    Ignored,
}

/// A line being edited. The cursor is a char index.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    pub cursor: usize,
    /// Position in the history while browsing it with ↑/↓ (`None`: the line being typed).
    browsing: Option<usize>,
    draft: String,
}

impl Prompt {
    pub fn new(kind: PromptKind, text: &str) -> Prompt {
        Prompt {
            kind,
            text: text.to_owned(),
            cursor: text.chars().count(),
            browsing: None,
            draft: String::new(),
        }
    }

    fn byte(&self, char_idx: usize) -> usize {
        self.text
            .char_indices()
            .nth(char_idx)
            .map_or(self.text.len(), |(b, _)| b)
    }

    fn len(&self) -> usize {
        self.text.chars().count()
    }

    fn set(&mut self, text: String) {
        self.text = text;
        self.cursor = self.len();
    }

    /// Applies a key; `history` is oldest first.
    pub fn key(&mut self, key: KeyEvent, history: &[String]) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Enter => Edit::Submit,
            KeyCode::Esc => Edit::Cancel,
            KeyCode::Char('c') if ctrl => Edit::Cancel,
            KeyCode::Char('a') if ctrl => self.move_to(0),
            KeyCode::Char('e') if ctrl => self.move_to(self.len()),
            KeyCode::Char('u') if ctrl => {
                let at = self.byte(self.cursor);
                self.text.replace_range(..at, "");
                self.cursor = 0;
                Edit::Changed
            }
            KeyCode::Char('w') if ctrl => {
                let end = self.byte(self.cursor);
                let before = &self.text[..end];
                let start = before.trim_end().rfind(' ').map_or(0, |i| i + 1);
                self.cursor = self.text[..start].chars().count();
                self.text.replace_range(start..end, "");
                Edit::Changed
            }
            KeyCode::Char(c) if !ctrl => {
                let at = self.byte(self.cursor);
                self.text.insert(at, c);
                self.cursor += 1;
                Edit::Changed
            }
            KeyCode::Backspace if self.cursor > 0 => {
                self.cursor -= 1;
                let at = self.byte(self.cursor);
                self.text.remove(at);
                Edit::Changed
            }
            KeyCode::Delete if self.cursor < self.len() => {
                let at = self.byte(self.cursor);
                self.text.remove(at);
                Edit::Changed
            }
            KeyCode::Left => self.move_to(self.cursor.saturating_sub(1)),
            KeyCode::Right => self.move_to((self.cursor + 1).min(self.len())),
            KeyCode::Home => self.move_to(0),
            KeyCode::End => self.move_to(self.len()),
            KeyCode::Up => self.browse(history, true),
            KeyCode::Down => self.browse(history, false),
            _ => Edit::Ignored,
        }
    }

    fn move_to(&mut self, c: usize) -> Edit {
        self.cursor = c;
        Edit::Moved
    }

    fn browse(&mut self, history: &[String], older: bool) -> Edit {
        if history.is_empty() {
            return Edit::Ignored;
        }
        let next = match (self.browsing, older) {
            (None, true) => {
                self.draft = self.text.clone();
                Some(history.len() - 1)
            }
            (None, false) => return Edit::Ignored,
            (Some(0), true) => Some(0),
            (Some(i), true) => Some(i - 1),
            (Some(i), false) if i + 1 < history.len() => Some(i + 1),
            (Some(_), false) => None,
        };
        self.browsing = next;
        let text = match next {
            Some(i) => history[i].clone(),
            None => std::mem::take(&mut self.draft),
        };
        self.set(text);
        Edit::Changed
    }
}

/// Appends `text` to a history, moving a repeated entry to the end.
pub fn remember(history: &mut Vec<String>, text: &str) {
    if text.trim().is_empty() {
        return;
    }
    history.retain(|h| h != text);
    history.push(text.to_owned());
    if history.len() > 100 {
        history.remove(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn edits_at_the_cursor_and_browses_history() {
        let mut p = Prompt::new(PromptKind::Filter, "hovr");
        p.key(k(KeyCode::Left), &[]);
        assert_eq!(p.key(k(KeyCode::Char('e')), &[]), Edit::Changed);
        assert_eq!((p.text.as_str(), p.cursor), ("hover", 4));
        p.key(k(KeyCode::End), &[]);
        p.key(k(KeyCode::Backspace), &[]);
        assert_eq!(p.text, "hove");
        let history = vec!["a".to_owned(), "b".to_owned()];
        p.key(k(KeyCode::Up), &history);
        assert_eq!(p.text, "b");
        p.key(k(KeyCode::Up), &history);
        p.key(k(KeyCode::Up), &history);
        assert_eq!(p.text, "a");
        p.key(k(KeyCode::Down), &history);
        p.key(k(KeyCode::Down), &history);
        assert_eq!(
            p.text, "hove",
            "back past the newest entry restores the draft"
        );
        let ctrl_w = KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL);
        let mut p = Prompt::new(PromptKind::Search, "one two");
        p.key(ctrl_w, &[]);
        assert_eq!(p.text, "one ");
    }

    #[test]
    fn history_keeps_one_copy_of_each_entry() {
        let mut h = Vec::new();
        for t in ["a", "b", "a", " "] {
            remember(&mut h, t);
        }
        assert_eq!(h, ["b", "a"]);
    }
}
