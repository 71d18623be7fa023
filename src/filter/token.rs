//! The tokens of the filter language and the error constructor the lexer and parser share.

use super::FilterError;

/// A field that takes a value after a colon: `method:`, `dir:`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Method,
    Dir,
    Kind,
    Id,
    Status,
    /// `rule:ID`: the row breaks a conformance rule (glob over rule ids).
    Rule,
    Jq,
}

impl Field {
    pub const NAMES: &'static str = "method, dir, kind, id, status, rule or jq";

    pub fn parse(s: &str) -> Option<Field> {
        Some(match s {
            "method" => Field::Method,
            "dir" => Field::Dir,
            "kind" => Field::Kind,
            "id" => Field::Id,
            "status" => Field::Status,
            "rule" => Field::Rule,
            "jq" => Field::Jq,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Method => "method",
            Field::Dir => "dir",
            Field::Kind => "kind",
            Field::Id => "id",
            Field::Status => "status",
            Field::Rule => "rule",
            Field::Jq => "jq",
        }
    }
}

/// Comparison operators between a value (a JSON path, `latency`, `size`) and a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `~`: contains (text) or matches (regex).
    Match,
    /// `!~`
    NotMatch,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "==",
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Match => "~",
            Op::NotMatch => "!~",
        }
    }
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    /// An array index; negative counts from the end, as in jq.
    Index(i64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    LParen,
    RParen,
    /// `!`
    Not,
    /// `&` or `&&`
    And,
    /// `|` or `||`
    Or,
    Op(Op),
    /// A run of characters without spaces or operators: a search word, a keyword (`and`,
    /// `latency`, `has`), a number, or the value after a field prefix.
    Word(String),
    /// A "quoted string", escapes resolved.
    Str(String),
    /// `/pattern/flags`, with `\/` already turned into `/`.
    Regex {
        pattern: String,
        flags: String,
    },
    /// `.a.b[0]`
    Path(Vec<Seg>),
    /// `name:`; the value follows as the next token.
    Field(Field),
    /// The jq program after `jq:`; the token starts where the program text does.
    Jq(String),
    Eof,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    /// 1-based column, in characters, where the token starts.
    pub col: usize,
    /// 1-based column just past the token.
    pub end: usize,
}

pub fn err(col: usize, message: impl Into<String>) -> FilterError {
    FilterError {
        column: col,
        message: message.into(),
    }
}
