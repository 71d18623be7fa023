//! The footer's prompt line at work: the `/` filter (checked as it is typed, applied live
//! on small sessions, restored by Esc), the `n`/`N` search over all rows, and the `w`
//! save path. Text becomes a predicate only through `query::compile`.

use super::app::{App, Effect, Query};
use super::prompt::{self, Edit, Prompt, PromptKind};
use super::query::{compile, QueryError};
use crossterm::event::KeyEvent;
use std::path::PathBuf;

/// With at most this many rows, the filter is applied as it is typed.
const LIVE_FILTER_ROWS: usize = 200_000;

impl App {
    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        let text = match kind {
            PromptKind::Filter => {
                let t = self.crit.filter.as_ref().map(|f| f.text.clone());
                self.filter_before = t.clone();
                t.unwrap_or_default()
            }
            // A new search starts empty (the last ones are a ↑ away in the history).
            PromptKind::Search => String::new(),
            PromptKind::Save => default_save_path(self),
            PromptKind::Intercept => self.intercept_text(),
        };
        self.prompt_error = None;
        self.prompt = Some(Prompt::new(kind, &text));
    }

    pub(super) fn prompt_key(&mut self, k: KeyEvent) {
        let Some(p) = self.prompt.as_mut() else {
            return;
        };
        let history: &[String] = match p.kind {
            PromptKind::Filter => &self.filter_history,
            PromptKind::Search => &self.search_history,
            PromptKind::Save => &[],
            PromptKind::Intercept => &self.filter_history,
        };
        let edit = p.key(k, history);
        let (kind, text) = (p.kind, p.text.clone());
        match edit {
            Edit::Changed if kind != PromptKind::Save => {
                self.prompt_error = compile(&text).err();
                if kind == PromptKind::Filter
                    && self.prompt_error.is_none()
                    && self.timeline.len() <= LIVE_FILTER_ROWS
                {
                    let _ = self.apply_filter(&text);
                }
            }
            Edit::Submit => self.submit(kind, text),
            Edit::Cancel => {
                self.prompt = None;
                self.prompt_error = None;
                if kind == PromptKind::Filter {
                    let before = self.filter_before.take().unwrap_or_default();
                    let _ = self.apply_filter(&before);
                }
            }
            _ => {}
        }
    }

    fn submit(&mut self, kind: PromptKind, text: String) {
        match kind {
            PromptKind::Filter => match self.apply_filter(&text) {
                Ok(()) => {
                    self.prompt = None;
                    prompt::remember(&mut self.filter_history, &text);
                    let all = self.timeline.len();
                    let msg = match &self.crit.filter {
                        Some(_) => format!("filter: {} of {all} rows", self.view.len()),
                        None => "filter cleared".to_owned(),
                    };
                    self.set_status(msg, false);
                }
                Err(e) => self.prompt_error = Some(e),
            },
            PromptKind::Search => match compile(&text) {
                Ok(_) if text.trim().is_empty() => {
                    self.prompt = None;
                    self.search = None;
                }
                Ok(pred) => {
                    self.prompt = None;
                    prompt::remember(&mut self.search_history, &text);
                    self.search = Some(Query { text, pred });
                    self.search(true);
                }
                Err(e) => self.prompt_error = Some(e),
            },
            PromptKind::Intercept => match compile(&text) {
                Ok(_) => {
                    self.prompt = None;
                    prompt::remember(&mut self.filter_history, &text);
                    self.set_intercept(text.trim().to_owned());
                }
                Err(e) => self.prompt_error = Some(e),
            },
            PromptKind::Save => {
                self.prompt = None;
                if !text.trim().is_empty() {
                    self.effects.push(Effect::Save(expand_home(text.trim())));
                }
            }
        }
    }

    /// Sets the filter (empty text: none) and rebuilds the view if it changed.
    fn apply_filter(&mut self, text: &str) -> Result<(), QueryError> {
        let current = self.crit.filter.as_ref().map_or("", |f| f.text.as_str());
        if current == text.trim() {
            return Ok(());
        }
        self.crit.filter = match text.trim() {
            "" => None,
            t => Some(Query {
                text: t.to_owned(),
                pred: compile(t)?,
            }),
        };
        self.rebuild_view();
        Ok(())
    }

    /// `n`/`N`: the next row matching the search, walking all rows of the sessions from the
    /// selection (wrapping). Matches hidden by the view are skipped and counted.
    pub(super) fn search(&mut self, forward: bool) {
        let Some(q) = &self.search else { return };
        let n = self.timeline.len();
        let here = self.view.rows.get(self.cursor).map(|&p| p as usize);
        let start = here.unwrap_or(if forward { n.saturating_sub(1) } else { 0 });
        let mut hidden = 0usize;
        let mut found = None;
        for step in 1..=n {
            let pos = if forward {
                (start + step) % n
            } else {
                (start + n - step % n) % n
            };
            let r = self.timeline.at(pos);
            if !(q.pred)(self.timeline.store(r), r.row as usize) {
                continue;
            }
            match self.view.find(pos) {
                Ok(i) => {
                    found = Some((i, if forward { pos <= start } else { pos >= start }));
                    break;
                }
                Err(_) => hidden += 1,
            }
        }
        let text = q.text.clone();
        match found {
            Some((i, wrapped)) => {
                self.move_to(i);
                let how = if wrapped { " (wrapped)" } else { "" };
                self.set_status(format!("search \"{text}\"{how}"), false);
            }
            None if hidden > 0 => self.set_status(
                format!("\"{text}\": {hidden} matching rows, all hidden by the view (filter, e, M or c)"),
                true,
            ),
            None => self.set_status(format!("\"{text}\": no match"), true),
        }
    }
}

/// `./<session>-view.jsonl`: where `w` proposes to save.
fn default_save_path(app: &App) -> String {
    let name = match app.timeline.sessions.as_slice() {
        [one] => one.label.as_str(),
        _ => "merged",
    };
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{}-view.jsonl",
        if safe.is_empty() { "rpctap" } else { &safe }
    )
}

fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}
