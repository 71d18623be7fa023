//! Tests of `record::validate`: against `serde_json` on tables, generated text and
//! strings long enough to be classified in batches.

use super::*;
use proptest::prelude::*;

/// What the recorder needs: `serde_json` reads it as one value with nothing around it,
/// and it holds no line break.
fn reference(b: &[u8]) -> bool {
    let Ok(raw) = serde_json::from_slice::<&serde_json::value::RawValue>(b) else {
        return false;
    };
    raw.get().len() == b.len() && !b.contains(&b'\n') && !b.contains(&b'\r')
}

#[test]
fn table() {
    for (text, ok) in [
        (
            r#"{"jsonrpc":"2.0","id":1,"method":"a","params":{"x":[1,-2.5e3,true,false,null,"é\u00e9\n"]}}"#,
            true,
        ),
        ("[]", true),
        ("{}", true),
        ("[ 1 , { \"a\" : [ ] } ]", true),
        ("\"str\"", true),
        ("0", true),
        ("-0.0e-0", true),
        (" {}", false),
        ("{} ", false),
        ("{}\n", false),
        ("{\n}", false),
        ("{\"a\":1,}", false),
        ("[1,]", false),
        ("01", false),
        ("1.", false),
        ("1e", false),
        ("\"a\tb\"", false),
        ("\"\\x\"", false),
        ("\"\\u12g4\"", false),
        ("{\"a\" 1}", false),
        ("{1:2}", false),
        ("tru", false),
        ("nul", false),
        ("{}{}", false),
        ("", false),
    ] {
        assert_eq!(is_one_line_json(text.as_bytes()), ok, "{text:?}");
        assert_eq!(
            reference(text.as_bytes()),
            ok,
            "reference disagrees on {text:?}"
        );
    }
    assert!(!is_one_line_json(b"\"\xff\""));
    let deep = "[".repeat(200) + &"]".repeat(200);
    assert!(!is_one_line_json(deep.as_bytes()));
}

#[test]
fn escaped_bytes_follow_odd_runs_of_backslashes() {
    // The reference: walk the bytes, a backslash escapes the next one.
    fn slow(text: &[u8]) -> u128 {
        let (mut out, mut i) = (0u128, 0);
        while i < text.len() {
            if text[i] == b'\\' && i + 1 < text.len() {
                out |= 1 << (i + 1);
                i += 2;
            } else {
                i += 1;
            }
        }
        out
    }
    let mut seed = 7u64;
    for _ in 0..20_000 {
        let text: Vec<u8> = (0..128)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                if (seed >> 33) % 3 == 0 {
                    b'a'
                } else {
                    b'\\'
                }
            })
            .collect();
        let mask = |half: &[u8]| {
            half.iter()
                .enumerate()
                .fold(0u64, |m, (j, &c)| m | u64::from(c == b'\\') << j)
        };
        let mut carry = 0;
        let low = escaped(mask(&text[..64]), &mut carry);
        let high = escaped(mask(&text[64..]), &mut carry);
        let want = slow(&text);
        // The last byte can't be escaped by a backslash after it; the reference ends there.
        assert_eq!(
            u128::from(low) | (u128::from(high) << 64),
            want,
            "{:?}",
            String::from_utf8_lossy(&text)
        );
    }
}

/// Strings whose escapes, quotes and bad bytes fall at every offset around the block
/// boundaries, against `serde_json`.
#[test]
fn escapes_across_blocks() {
    for pad in 0..BLOCK + 3 {
        for piece in [
            r"\n", r"\\", r"\u00e9", r"\u12", r"\x", "\t", r#"\""#, "é", "",
        ] {
            for tail in ["\"", "", "\"]", "\\\""] {
                let text = format!("[\"{}{piece}{}{tail}", "a".repeat(pad), "b".repeat(pad % 7));
                let text = if tail == "\"" {
                    format!("{text}]")
                } else {
                    text
                };
                assert_eq!(
                    is_one_line_json(text.as_bytes()),
                    reference(text.as_bytes()),
                    "{text:?}"
                );
            }
        }
    }
}

/// A long string is classified in batches of 2, 4, 8 and then 16 blocks: a fault, an
/// escape or the end at any block of any batch, against `serde_json`.
#[test]
fn long_strings_are_checked_in_every_batch() {
    let text = r#"if (a) { return \"x\\n\"; }\n\tlet v = [1];\n"#.repeat(120);
    let text = text.as_bytes();
    for at in (0..text.len()).step_by(53) {
        for piece in ["\t", r"\x", "\"", "\"]", "\",\"", r"\u00e9", "é"] {
            let mut doc = b"[\"".to_vec();
            doc.extend_from_slice(&text[..at]);
            // Not inside an escape: a backslash before `at` would escape the piece.
            let cut = doc.iter().rev().take_while(|&&c| c == b'\\').count() % 2;
            doc.truncate(doc.len() - cut);
            doc.extend_from_slice(piece.as_bytes());
            doc.extend_from_slice(b"tail\"]");
            assert_eq!(
                is_one_line_json(&doc),
                reference(&doc),
                "{piece:?} after {at} bytes"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn agrees_with_serde_json(text in r#"[\[\]{}":,0-9a-z\\. \t\n-]{0,24}"#) {
        prop_assert_eq!(is_one_line_json(text.as_bytes()), reference(text.as_bytes()), "{:?}", text);
    }

    #[test]
    fn agrees_on_long_strings(text in r#"[ab\\"nu0-9\t]{0,300}"#) {
        let text = format!("[\"{text}\"]");
        prop_assert_eq!(is_one_line_json(text.as_bytes()), reference(text.as_bytes()), "{:?}", text);
    }

    #[test]
    fn agrees_on_real_json(v in arb_json()) {
        let text = serde_json::to_string(&v).unwrap();
        prop_assert!(is_one_line_json(text.as_bytes()));
    }
}

fn arb_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".*".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            proptest::collection::btree_map(".*", inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
