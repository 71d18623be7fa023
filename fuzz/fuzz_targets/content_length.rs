//! The Content-Length decoder: any bytes, any read pattern, tiny or default limits.
//! Frames concatenate to the input; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpctap::wire::ContentLengthDecoder;
use rpctap_fuzz::{check_decoder, Setup};

fuzz_target!(|data: &[u8]| {
    if let Some(setup) = Setup::from(data) {
        check_decoder(&setup, ContentLengthDecoder::new(setup.limits));
    }
});
