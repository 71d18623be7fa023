//! The output formats of `rpctap check`: text, JSON, SARIF 2.1.0 and `JUnit` XML.
//!
//! A `Finding` is a violation placed in a file: the line of the recording (or imported
//! file) that holds the violating message.

use super::{rules, Severity, Violation};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::Write;

/// A violation with its place.
#[derive(Debug, Clone)]
pub struct Finding {
    pub file: String,
    /// 1-based line in `file`; 0 when the violation concerns the session as a whole.
    pub line: usize,
    pub violation: Violation,
}

/// The findings of one file, and how many messages it held.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub file: String,
    pub messages: usize,
    pub findings: Vec<Finding>,
}

impl FileReport {
    fn count(&self, s: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.violation.rule.severity == s)
            .count()
    }
}

/// At most `n` characters of `s`, with `…` when cut.
pub fn clip(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

pub fn errors(reports: &[FileReport]) -> usize {
    reports.iter().map(|r| r.count(Severity::Error)).sum()
}

pub fn text(reports: &[FileReport], out: &mut impl Write) -> std::io::Result<()> {
    for r in reports {
        for f in &r.findings {
            let v = &f.violation;
            writeln!(
                out,
                "{}:{}: {}[{}]: {}",
                crate::fmt::printable(&f.file),
                f.line,
                v.rule.severity.as_str(),
                v.rule.id,
                crate::fmt::printable(&v.message)
            )?;
        }
    }
    let (e, w) = (
        errors(reports),
        reports
            .iter()
            .map(|r| r.count(Severity::Warning))
            .sum::<usize>(),
    );
    let messages: usize = reports.iter().map(|r| r.messages).sum();
    writeln!(
        out,
        "{e} error(s), {w} warning(s) in {messages} message(s) of {} file(s)",
        reports.len()
    )
}

fn finding_json(f: &Finding) -> Value {
    let v = &f.violation;
    json!({
        "file": f.file,
        "line": f.line,
        "seq": v.seq,
        "rule": v.rule.id,
        "severity": v.rule.severity.as_str(),
        "message": v.message,
        "link": v.rule.link,
    })
}

pub fn json(reports: &[FileReport], out: &mut impl Write) -> std::io::Result<()> {
    let files: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "file": r.file,
                "messages": r.messages,
                "errors": r.count(Severity::Error),
                "warnings": r.count(Severity::Warning),
                "results": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &json!({ "files": files }))?;
    writeln!(out)
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// SARIF 2.1.0: one run, the rule catalogue as the driver's rules, one result per
/// violation located at its line.
pub fn sarif(reports: &[FileReport], out: &mut impl Write) -> std::io::Result<()> {
    let rule_list: Vec<Value> = rules::ALL
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": {"text": r.summary},
                "helpUri": r.link,
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let results: Vec<Value> = reports
        .iter()
        .flat_map(|r| &r.findings)
        .map(|f| {
            let v = &f.violation;
            let index = rules::ALL.iter().position(|r| r.id == v.rule.id);
            json!({
                "ruleId": v.rule.id,
                "ruleIndex": index,
                "level": level(v.rule.severity),
                "message": {"text": v.message},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": f.file},
                        "region": {"startLine": f.line.max(1)},
                    }
                }],
            })
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "rpctap",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rule_list,
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

fn xml(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, even escaped.
            c if c.is_control() && !matches!(c, '\n' | '\t') => {
                o.push_str(&c.escape_unicode().to_string());
            }
            c => o.push(c),
        }
    }
    o
}

/// `JUnit` XML: a test suite per file, a test case per rule; a rule fails when the file
/// breaks it at error level (warnings are listed in the case's system-out).
pub fn junit(reports: &[FileReport], out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    let failures: usize = reports.iter().map(|r| failed_rules(r).count()).sum();
    writeln!(
        out,
        r#"<testsuites name="rpctap check" tests="{}" failures="{failures}">"#,
        reports.len() * rules::ALL.len()
    )?;
    for r in reports {
        writeln!(
            out,
            r#"  <testsuite name="{}" tests="{}" failures="{}">"#,
            xml(&r.file),
            rules::ALL.len(),
            failed_rules(r).count()
        )?;
        for rule in rules::ALL {
            let hits: Vec<&Finding> = r
                .findings
                .iter()
                .filter(|f| f.violation.rule.id == rule.id)
                .collect();
            write!(
                out,
                r#"    <testcase classname="{}" name="{}""#,
                xml(&r.file),
                rule.id
            )?;
            if hits.is_empty() {
                writeln!(out, "/>")?;
                continue;
            }
            writeln!(out, ">")?;
            let body = hits.iter().fold(String::new(), |mut s, f| {
                let _ = writeln!(s, "{}:{}: {}", f.file, f.line, f.violation.message);
                s
            });
            if rule.severity == Severity::Error {
                writeln!(
                    out,
                    r#"      <failure message="{} violation(s): {}" type="{}">{}</failure>"#,
                    hits.len(),
                    xml(rule.summary),
                    rule.id,
                    xml(&body)
                )?;
            } else {
                writeln!(out, "      <system-out>{}</system-out>", xml(&body))?;
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn failed_rules(r: &FileReport) -> impl Iterator<Item = &'static str> + '_ {
    rules::ALL
        .iter()
        .filter(|rule| rule.severity == Severity::Error)
        .filter(|rule| r.findings.iter().any(|f| f.violation.rule.id == rule.id))
        .map(|rule| rule.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_not_bytes() {
        assert_eq!(clip("ééé", 2), "éé…");
        assert_eq!(clip("ab", 2), "ab");
    }

    #[test]
    fn xml_escapes_markup_and_control_characters() {
        assert_eq!(xml("<a&\"b\x1b"), "&lt;a&amp;&quot;b\\u{1b}");
    }
}
