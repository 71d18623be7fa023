//! The tape against `serde_json`: values, strings, escapes, numbers, nesting.

use super::*;

fn both(text: &str) -> (Value, Doc) {
    let v: Value = serde_json::from_str(text).unwrap();
    let mut doc = Doc::default();
    doc.parse(text).unwrap();
    (v, doc)
}

#[test]
fn a_parsed_body_reads_as_serde_json_reads_it() {
    let text = r#"{"a":[1,-2,3.5,"x\ny",{"b":null,"c":true}],"d":"é","a2":{},"e":[]}"#;
    let (v, mut doc) = both(text);
    let j = doc.parse(text).unwrap();
    assert_eq!(j.to_value(), v);
    assert!(j.equals(&v));
    assert_eq!(j.to_string(), v.to_string());
    let a = j.get("a").unwrap();
    assert_eq!(a.len(), 5);
    let items: Vec<String> = a.items().map(|x| x.to_string()).collect();
    assert_eq!(
        items,
        ["1", "-2", "3.5", "\"x\\ny\"", r#"{"b":null,"c":true}"#]
    );
    assert_eq!(a.items().nth(3).unwrap().as_str(), Some("x\ny"));
    assert_eq!(a.items().nth(1).unwrap().as_i64(), Some(-2));
    assert_eq!(a.items().nth(1).unwrap().as_u64(), None);
    assert!(a.items().nth(4).unwrap().get("b").unwrap().is_null());
    assert_eq!(j.get("d").unwrap().as_str(), Some("é"));
    assert!(j.get("zz").is_none());
    assert!(j.get("a2").unwrap().is_object() && j.get("e").unwrap().is_array());
    let keys: Vec<&str> = j.entries().map(|(k, _)| k).collect();
    assert_eq!(keys, ["a", "d", "a2", "e"]);
}

#[test]
fn a_repeated_key_reads_as_its_last_value() {
    let text = r#"{"k":1,"k":2}"#;
    let (v, mut doc) = both(text);
    let j = doc.parse(text).unwrap();
    assert_eq!(j.get("k").unwrap().as_i64(), v["k"].as_i64());
}

#[test]
fn bad_json_is_an_error_and_the_doc_is_reusable() {
    let mut doc = Doc::default();
    assert!(doc.parse(r#"{"a":1"#).is_err());
    assert!(doc.parse(r#"{"a":1} x"#).is_err());
    assert!(doc.parse(&"[".repeat(200)).is_err(), "nesting is bounded");
    let j = doc.parse(r"[true]").unwrap();
    assert_eq!(j.items().next().unwrap().as_bool(), Some(true));
}

/// What `serde_json::from_str` makes of `text`, and what the tape makes of it.
fn agree(text: &str) -> Result<(), String> {
    let want = serde_json::from_str::<Value>(text);
    let mut doc = Doc::default();
    let got = doc.parse(text);
    match (want, got) {
        (Ok(v), Ok(j)) if j.to_value() == v && j.equals(&v) => Ok(()),
        (Err(_), Err(_)) => Ok(()),
        (want, got) => Err(format!(
            "{text:?}: serde_json {want:?}, tape {:?}",
            got.map(Json::to_value)
        )),
    }
}

#[test]
fn strings_read_as_serde_json_reads_them() {
    for text in [
        r#""plain""#,
        r#""a\"b\\c\/d\b\f\n\r\t""#,
        r#""\u00e9\u20ac\ud83d\ude00""#,
        r#""\ud83d""#,
        r#""\ude00""#,
        r#""\ud83d\u0041""#,
        r#""\ud83d\ud83d\ude00""#,
        r#""x\ud83dy""#,
        r#""\ud83d\n""#,
        r#"{"k\u0065y":1,"other":2}"#,
        " \n {\"a\" :\r\n [1 ,2]\t} \n",
        "-0",
        "-0.0",
        "1e400",
        "-1e400",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "[1.5e-3, 2E+2, -7]",
    ] {
        agree(text).unwrap();
    }
    let long = format!("\"{}\\n{}\"", "a".repeat(70), "\\u00e9".repeat(30));
    agree(&long).unwrap();
    agree(&"[".repeat(127)).unwrap();
    agree(&("[".repeat(127) + &"]".repeat(127))).unwrap();
    agree(&("[".repeat(128) + &"]".repeat(128))).unwrap();
}

#[test]
fn an_escaped_key_is_found_by_its_text() {
    let text = r#"{"m\u0065thod":"x\ty","id":1}"#;
    let mut doc = Doc::default();
    let j = doc.parse(text).unwrap();
    assert_eq!(j.get("method").unwrap().as_str(), Some("x\ty"));
    assert_eq!(j.entries().next().unwrap().0, "method");
    // A repeated key, once escaped: the last one counts, as in `serde_json`.
    let text = r#"{"k\u0065y":1,"key":2}"#;
    assert_eq!(
        doc.parse(text).unwrap().get("key").unwrap().as_u64(),
        Some(2)
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
    #[test]
    fn agrees_with_serde_json_on_any_text(text in r#"[\[\]{}":,0-9a-f\\u. \t\n\r-]{0,40}"#) {
        proptest::prop_assert!(agree(&text).is_ok(), "{}", agree(&text).unwrap_err());
    }

    #[test]
    fn agrees_on_escape_dense_strings(text in r#"([ab]|\\[nt"\\/]|\\u(d83d|de00|00e9|0041)){0,80}"#) {
        let text = format!("[\"{text}\"]");
        proptest::prop_assert!(agree(&text).is_ok(), "{}", agree(&text).unwrap_err());
    }
}
