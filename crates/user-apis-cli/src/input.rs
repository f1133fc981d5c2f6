//! Reading a `--json-body` argument: a file, or standard input for `-`.

use std::io::Read as _;
use std::path::Path;

/// The text of the body file `path`, or of standard input when `path` is `-`.
pub fn read_body(path: &Path) -> std::io::Result<String> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
    }
}
