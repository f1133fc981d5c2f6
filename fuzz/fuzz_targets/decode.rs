//! Every generated type of every client, fed the fuzzer's bytes: the `serde_json::from_slice`
//! a generated call runs on a response body, and (when the bytes are JSON) each schema's
//! decode-and-encode round trip. A decode error is fine; a panic, a hang or a crash is a finding.

#![no_main]

use libfuzzer_sys::fuzz_target;

use tests::decoders;

fuzz_target!(|data: &[u8]| {
    let value = serde_json::from_slice::<serde_json::Value>(data).ok();
    for (service, name) in decoders::listed() {
        let _ = decoders::from_slice(service, name, data);
        if let Some(value) = &value {
            let _ = decoders::decode_schema(service, name, value.clone());
        }
    }
});
