//! Framing detection and the auto-detecting decoder the shim uses per direction: `detect`
//! never panics on any prefix, and the decoder that detects its framing first still
//! yields frames that concatenate to the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rpctap::wire::{detect, Decoder};
use rpctap_fuzz::{check_decoder, Setup};

fuzz_target!(|data: &[u8]| {
    let Some(setup) = Setup::from(data) else {
        return;
    };
    let _ = detect(setup.stream, 0);
    let _ = detect(setup.stream, setup.limits.max_header);
    check_decoder(&setup, Decoder::new(None, setup.limits));
});
