//! Message classification on any body: never panics, and an invalid message always says
//! why.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpctap::rpc::{classify, Kind};

fuzz_target!(|data: &[u8]| {
    let c = classify(data);
    if c.kind == Kind::Invalid {
        assert!(c.reason.is_some(), "invalid without a reason: {c:?}");
    }
});
