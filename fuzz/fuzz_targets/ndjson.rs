//! The newline-delimited JSON decoder: any bytes, any read pattern, tiny or default
//! limits. Frames concatenate to the input; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpctap::wire::NdjsonDecoder;
use rpctap_fuzz::{check_decoder, Setup};

fuzz_target!(|data: &[u8]| {
    if let Some(setup) = Setup::from(data) {
        check_decoder(&setup, NdjsonDecoder::new(setup.limits));
    }
});
