//! Tokens → `Expr`, by recursive descent. Precedence, loosest first: `|`/`or`, then
//! `&`/`and`/juxtaposition, then `!`/`not`. Every error names the column where the problem is
//! and what was expected there.
//!
//! Not responsible for: splitting text into tokens (see `lexer`), evaluation (see `eval`).

use super::ast::{Cmp, Expr, Pred};
use super::lexer::Lexer;
use super::path::{Lit, PathPred, Test};
use super::text::Text;
use super::token::{err, Field, Op, Seg, Tok, Token};
use super::values::{self, literal, parse_scaled, DURATIONS, SIZES};
use super::FilterError;
use std::cmp::Ordering;

type Result<T> = std::result::Result<T, FilterError>;

/// Parses a whole expression; empty text is the filter that accepts everything.
pub fn parse(text: &str) -> Result<Expr> {
    let mut p = Parser {
        toks: Lexer::new(text).tokens()?,
        pos: 0,
        slots: 0,
        depth: 0,
    };
    if p.peek().tok == Tok::Eof {
        return Ok(Expr::All);
    }
    let e = p.or()?;
    match &p.peek().tok {
        Tok::Eof => Ok(e),
        Tok::RParen => Err(err(p.peek().col, "unexpected ')' with no '(' to close")),
        _ => Err(p.leftover("the end of the filter")),
    }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    /// Method predicates numbered so far.
    slots: usize,
    /// Current nesting of operands.
    depth: usize,
}

const MAX_DEPTH: usize = 100;

fn describe(t: &Tok) -> String {
    match t {
        Tok::LParen => "'('".into(),
        Tok::RParen => "')'".into(),
        Tok::Not => "'!'".into(),
        Tok::And => "'&'".into(),
        Tok::Or => "'|'".into(),
        Tok::Op(op) => format!("'{}'", op.as_str()),
        Tok::Word(w) => format!("'{w}'"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Regex { pattern, .. } => format!("/{pattern}/"),
        Tok::Path(_) => "a JSON path".into(),
        Tok::Field(f) => format!("'{}:'", f.as_str()),
        Tok::Jq(_) => "a jq program".into(),
        Tok::Eof => "the end".into(),
    }
}

fn is_word(t: &Tok, w: &str) -> bool {
    matches!(t, Tok::Word(x) if x == w)
}

fn ordering(op: Op) -> Cmp {
    match op {
        Op::Eq => Ordering::is_eq,
        Op::Ne => Ordering::is_ne,
        Op::Lt => Ordering::is_lt,
        Op::Le => Ordering::is_le,
        Op::Gt => Ordering::is_gt,
        Op::Ge => Ordering::is_ge,
        // Callers turn `~` and `!~` away before asking for an ordering.
        Op::Match | Op::NotMatch => |_| false,
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    fn starts_operand(t: &Tok) -> bool {
        match t {
            Tok::Word(w) => w != "and" && w != "or",
            Tok::LParen | Tok::Not | Tok::Str(_) | Tok::Regex { .. } | Tok::Path(_) => true,
            Tok::Field(_) => true,
            _ => false,
        }
    }

    /// The error for a token that cannot continue the expression where `want` was expected.
    fn leftover(&self, want: &str) -> FilterError {
        let t = self.peek();
        match &t.tok {
            Tok::Op(op) => err(
                t.col,
                format!(
                    "'{}' needs a JSON path, 'latency' or 'size' on its left",
                    op.as_str()
                ),
            ),
            Tok::Word(w) if w == "and" || w == "or" => err(
                t.col,
                format!("expected {want}, found '{w}' (quote it to search for the word)"),
            ),
            other => err(t.col, format!("expected {want}, found {}", describe(other))),
        }
    }

    /// Fails unless the next token can start an operand; `after` names the operator just
    /// consumed.
    fn expect_operand(&self, after: &str) -> Result<()> {
        let t = self.peek();
        if Self::starts_operand(&t.tok) {
            return Ok(());
        }
        let found = match &t.tok {
            Tok::Eof => String::new(),
            other => format!(", found {}", describe(other)),
        };
        Err(err(
            t.col,
            format!("expected an expression after '{after}'{found}"),
        ))
    }

    fn operand_after(&mut self, after: &str) -> Result<Expr> {
        self.expect_operand(after)?;
        self.unary()
    }

    fn or(&mut self) -> Result<Expr> {
        let mut items = vec![self.and()?];
        while matches!(self.peek().tok, Tok::Or) || is_word(&self.peek().tok, "or") {
            let op = self.next();
            let name = if op.tok == Tok::Or { "|" } else { "or" };
            items.push(self.and_after(name)?);
        }
        Ok(Expr::or(items))
    }

    fn and_after(&mut self, after: &str) -> Result<Expr> {
        self.expect_operand(after)?;
        self.and()
    }

    fn and(&mut self) -> Result<Expr> {
        let mut items = vec![self.unary()?];
        loop {
            let t = &self.peek().tok;
            if matches!(t, Tok::And) || is_word(t, "and") {
                let name = if *t == Tok::And { "&" } else { "and" };
                self.next();
                items.push(self.operand_after(name)?);
            } else if Self::starts_operand(t) {
                items.push(self.unary()?);
            } else {
                return Ok(Expr::and(items));
            }
        }
    }

    /// Every level of `(` and `!` passes here; bounding it bounds the recursion, so that
    /// no input can overflow the stack.
    fn unary(&mut self) -> Result<Expr> {
        if self.depth >= MAX_DEPTH {
            return Err(err(
                self.peek().col,
                format!(
                    "expression nested too deeply (more than {MAX_DEPTH} levels of '(' or '!')"
                ),
            ));
        }
        self.depth += 1;
        let e = self.unary_inner();
        self.depth -= 1;
        e
    }

    fn unary_inner(&mut self) -> Result<Expr> {
        let t = &self.peek().tok;
        if *t == Tok::Not || is_word(t, "not") {
            let name = if *t == Tok::Not { "!" } else { "not" };
            self.next();
            return Ok(Expr::Not(Box::new(self.operand_after(name)?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr> {
        if !Self::starts_operand(&self.peek().tok) {
            return Err(self.leftover("an expression"));
        }
        let t = self.next();
        let pred = match t.tok {
            Tok::LParen => {
                if self.peek().tok == Tok::RParen {
                    return Err(err(self.peek().col, "expected an expression inside '( )'"));
                }
                let e = self.or()?;
                if self.peek().tok != Tok::RParen {
                    return Err(self.leftover(&format!("')' to close the '(' at column {}", t.col)));
                }
                self.next();
                return Ok(e);
            }
            Tok::Field(f) => self.field(f, &t)?,
            Tok::Word(w) if matches!(self.peek().tok, Tok::Op(_)) && w == "latency" => {
                let (op, v) = self.comparison()?;
                let us = parse_scaled(&v, DURATIONS, 1_000).ok_or_else(|| {
                    err(
                        v.col,
                        format!(
                            "expected a duration like 100ms, 1.5s or 250us after '{}'",
                            op.as_str()
                        ),
                    )
                })?;
                Pred::Latency(ordering(op), us as i64)
            }
            Tok::Word(w) if matches!(self.peek().tok, Tok::Op(_)) && w == "size" => {
                let (op, v) = self.comparison()?;
                let n = parse_scaled(&v, SIZES, 1).ok_or_else(|| {
                    err(
                        v.col,
                        format!(
                            "expected a size like 512, 10kb or 1mb after '{}'",
                            op.as_str()
                        ),
                    )
                })?;
                Pred::Size(ordering(op), n)
            }
            Tok::Word(w) if w == "has" && self.peek().tok == Tok::LParen => self.has()?,
            Tok::Word(w) if w == "pair" && self.peek().tok == Tok::LParen => self.pair(t.col)?,
            Tok::Word(w) if w == "violation" => Pred::Violation(None),
            Tok::Word(w) if w == "injected" => Pred::Flag(crate::session::Flags::INJECTED),
            Tok::Word(w) if w == "held" => Pred::Flag(crate::session::Flags::HELD),
            Tok::Word(w) if w == "diverted" => Pred::Flag(crate::session::Flags::DIVERTED),
            Tok::Word(w) => Pred::Text(Text::substring(&w)),
            Tok::Str(s) => Pred::Text(Text::substring(&s)),
            Tok::Regex { pattern, flags } => Pred::Text(regex(&pattern, &flags, t.col)?),
            Tok::Path(segs) => self.path_test(segs)?,
            other => {
                return Err(err(
                    t.col,
                    format!("expected an expression, found {}", describe(&other)),
                ))
            }
        };
        Ok(Expr::Pred(pred))
    }

    /// After `latency` or `size`: the operator and the value's token (a word).
    fn comparison(&mut self) -> Result<(Op, Token)> {
        let o = self.next();
        let Tok::Op(op) = o.tok else {
            return Err(err(o.col, "expected a comparison operator"));
        };
        if matches!(op, Op::Match | Op::NotMatch) {
            return Err(err(
                o.col,
                format!(
                    "'{}' compares text; use <, <=, >, >=, == or != here",
                    op.as_str()
                ),
            ));
        }
        let v = self.next();
        match v.tok {
            Tok::Word(_) => Ok((op, v)),
            _ => Err(err(
                v.col,
                format!("expected a value after '{}'", op.as_str()),
            )),
        }
    }

    /// `pair(e)`: the other half of the row's exchange matches `e`. `col` is where `pair` is.
    fn pair(&mut self, col: usize) -> Result<Pred> {
        self.next();
        if self.peek().tok == Tok::RParen {
            return Err(err(
                self.peek().col,
                "expected an expression inside pair( )",
            ));
        }
        let e = self.or()?;
        if self.peek().tok != Tok::RParen {
            return Err(self.leftover(&format!("')' to close the 'pair(' at column {col}")));
        }
        self.next();
        Ok(Pred::Pair(Box::new(e)))
    }

    fn has(&mut self) -> Result<Pred> {
        self.next();
        let p = self.next();
        let Tok::Path(segs) = p.tok else {
            return Err(err(
                p.col,
                "expected a JSON path like .params.context inside has( )",
            ));
        };
        let close = self.next();
        if close.tok != Tok::RParen {
            return Err(err(close.col, "expected ')' after the path in has( )"));
        }
        Ok(path(segs, Test::Has))
    }

    fn path_test(&mut self, segs: Vec<Seg>) -> Result<Pred> {
        let Tok::Op(op) = self.peek().tok else {
            return Ok(path(segs, Test::Truthy));
        };
        let op_col = self.next().col;
        let v = self.next();
        let after = op.as_str();
        let test = match (op, v.tok) {
            (Op::Match | Op::NotMatch, tok) => {
                let text = match tok {
                    Tok::Str(s) | Tok::Word(s) => Text::substring(&s),
                    Tok::Regex { pattern, flags } => regex(&pattern, &flags, v.col)?,
                    _ => {
                        return Err(err(
                            v.col,
                            format!("expected a \"string\" or a /regex/ after '{after}'"),
                        ))
                    }
                };
                if op == Op::Match {
                    Test::Match(text)
                } else {
                    Test::NotMatch(text)
                }
            }
            (_, Tok::Regex { .. }) => {
                return Err(err(op_col, format!("a /regex/ needs '~', not '{after}'")))
            }
            (Op::Eq | Op::Ne, Tok::Str(s)) => eq_test(op, Lit::Str(s)),
            (Op::Eq | Op::Ne, Tok::Word(w)) => eq_test(op, literal(&w)),
            (_, Tok::Str(s)) => Test::Order(ordering(op), Lit::Str(s)),
            (_, Tok::Word(w)) => match literal(&w) {
                lit @ Lit::Num(_) => Test::Order(ordering(op), lit),
                _ => {
                    return Err(err(
                        v.col,
                        format!("expected a number or a \"string\" after '{after}'"),
                    ))
                }
            },
            _ => {
                return Err(err(
                    v.col,
                    format!(
                    "expected a value after '{after}' (a number, \"string\", true, false or null)"
                ),
                ))
            }
        };
        Ok(path(segs, test))
    }

    fn field(&mut self, f: Field, t: &Token) -> Result<Pred> {
        let v = self.peek().clone();
        let adjacent = v.col == t.end;
        let value = match &v.tok {
            Tok::Jq(src) if src.trim().is_empty() => None,
            // Its column is where the program starts, after `"` when quoted.
            Tok::Jq(_) => Some(v.clone()),
            Tok::Word(_) | Tok::Str(_) if adjacent => Some(v.clone()),
            _ => None,
        };
        let Some(value) = value else {
            let what = if f == Field::Jq {
                "a jq program"
            } else {
                "a value"
            };
            return Err(err(
                t.end,
                format!("expected {what} after '{}:'", f.as_str()),
            ));
        };
        self.next();
        values::field(f, &value, &mut self.slots)
    }
}

fn path(segs: Vec<Seg>, test: Test) -> Pred {
    Pred::Path(Box::new(PathPred::new(segs, test)))
}

fn eq_test(op: Op, lit: Lit) -> Test {
    if op == Op::Eq {
        Test::Eq(lit)
    } else {
        Test::Ne(lit)
    }
}

fn regex(pattern: &str, flags: &str, col: usize) -> Result<Text> {
    Text::regex(pattern, flags).map_err(|(at, msg)| {
        // Each '/' in the pattern was written `\/`: one more column each.
        let slashes = pattern.chars().take(at).filter(|&c| c == '/').count();
        err(col + 1 + at + slashes, msg)
    })
}
