//! Unit tests of the lexer: token kinds, context-sensitive values, columns.

use super::*;

fn toks(s: &str) -> Vec<Tok> {
    Lexer::new(s)
        .tokens()
        .unwrap()
        .into_iter()
        .map(|t| t.tok)
        .collect()
}

fn word(s: &str) -> Tok {
    Tok::Word(s.into())
}

#[test]
fn field_values_keep_glob_characters() {
    assert_eq!(
        toks("method:textDocument/* !dir:s2c"),
        vec![
            Tok::Field(Field::Method),
            word("textDocument/*"),
            Tok::Not,
            Tok::Field(Field::Dir),
            word("s2c"),
            Tok::Eof
        ]
    );
}

#[test]
fn comparisons_split_words() {
    assert_eq!(
        toks("latency>=1.5s&size<10kb"),
        vec![
            word("latency"),
            Tok::Op(Op::Ge),
            word("1.5s"),
            Tok::And,
            word("size"),
            Tok::Op(Op::Lt),
            word("10kb"),
            Tok::Eof
        ]
    );
}

#[test]
fn paths_strings_and_regexes() {
    assert_eq!(
        toks(r#".result.items[0]["a b"].x != "q\"\u00e9" | /a\/b/i"#),
        vec![
            Tok::Path(vec![
                Seg::Key("result".into()),
                Seg::Key("items".into()),
                Seg::Index(0),
                Seg::Key("a b".into()),
                Seg::Key("x".into())
            ]),
            Tok::Op(Op::Ne),
            Tok::Str("q\"é".into()),
            Tok::Or,
            Tok::Regex {
                pattern: "a/b".into(),
                flags: "i".into()
            },
            Tok::Eof
        ]
    );
}

#[test]
fn jq_source_forms() {
    assert_eq!(
        toks(r#"jq:(.a | test(")")) x"#),
        vec![
            Tok::Field(Field::Jq),
            Tok::Jq(r#"(.a | test(")"))"#.into()),
            word("x"),
            Tok::Eof
        ]
    );
    assert_eq!(
        toks("(jq:.a | f(1)) x"),
        vec![
            Tok::LParen,
            Tok::Field(Field::Jq),
            Tok::Jq(".a | f(1)".into()),
            Tok::RParen,
            word("x"),
            Tok::Eof
        ]
    );
    assert_eq!(
        toks("x jq:.a > 1 & y"),
        vec![
            word("x"),
            Tok::Field(Field::Jq),
            Tok::Jq(".a > 1 & y".into()),
            Tok::Eof
        ]
    );
}

#[test]
fn columns_count_characters() {
    let t = Lexer::new("é \"ü\" x").tokens().unwrap();
    assert_eq!(
        t.iter().map(|t| (t.col, t.end)).collect::<Vec<_>>(),
        vec![(1, 2), (3, 6), (7, 8), (8, 8)]
    );
}
