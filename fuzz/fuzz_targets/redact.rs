//! `--redact` on any body: never panics; a body it cannot parse becomes a placeholder; a
//! body that parses stays valid JSON, and every value of a redacted key (matched on its
//! decoded text, whatever its spelling) is `"«redacted»"` afterwards.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use rpctap::record::Redactor;
use serde_json::Value;

const KEYS: [&str; 4] = ["token", "a", "kéy", "id"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let keys: Vec<String> = KEYS
        .iter()
        .enumerate()
        .filter(|(i, _)| pick & (1 << i) != 0)
        .map(|(_, k)| k.to_string())
        .collect();
    let keep = pick & 0x80 != 0;
    let redactor = Redactor::new(keys.clone(), keep);
    let (out, changed) = redactor.message(Bytes::copy_from_slice(body));
    let valid = rpctap::record::redact::is_json(body);
    if keys.is_empty() || body.is_empty() || (!valid && keep) {
        assert!(!changed && out == body, "changed without a reason");
        return;
    }
    if !valid {
        assert!(changed && rpctap::record::redact::is_placeholder(&out));
        return;
    }
    assert!(
        rpctap::record::redact::is_json(&out),
        "redaction broke the JSON: {}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(changed, out != body);
    // Deeper documents than serde_json's limit cannot be walked here; the redactor's own
    // scan has no such limit.
    if let Ok(v) = serde_json::from_slice::<Value>(&out) {
        check(&v, &keys);
    }
});

fn check(v: &Value, keys: &[String]) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if keys.contains(k) {
                    assert_eq!(v, &Value::String("«redacted»".into()), "key {k:?} kept");
                } else {
                    check(v, keys);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| check(v, keys)),
        _ => {}
    }
}
