//! See `redis_lite::fuzzing::exec_commands` for the input format and the checks.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| redis_lite::fuzzing::exec_commands(data));
