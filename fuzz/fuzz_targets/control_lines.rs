#![no_main]

#[path = "../entry.rs"]
#[allow(dead_code)] // each target uses one entry point
mod entry;

libfuzzer_sys::fuzz_target!(|data: &[u8]| entry::control_lines(data));
