//! Any text given to the recording parser: an `Ok` recording or a message naming the file,
//! never a panic. A recording that parses is written back and must parse to itself.
#![no_main]

use engine::particles::replay::file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    match file::parse("fuzz.replay", text) {
        Ok(recording) => {
            let again = file::parse("again.replay", &file::to_text(&recording))
                .expect("a written recording parses");
            assert_eq!(again, recording);
        }
        Err(e) => assert!(e.to_string().starts_with("fuzz.replay: ")),
    }
});
