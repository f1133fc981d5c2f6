//! What a `Decode` error knows: where and why a body does not match its model (a leaf
//! module, so that the error type and the decoder can both use it).

use std::fmt;

/// Where and why a body does not match its model. The source of every `Decode`
/// [`ApiError`]; read through [`ApiError::json_path`] and [`ApiError::item_index`].
#[derive(Debug)]
pub(crate) struct DecodeError {
    /// The JSON path of the failure (`rows[8].company.id`; `.` for the document itself).
    pub(crate) path: String,
    /// The index of the listing item the error is about, for an item of a listing.
    pub(crate) item: Option<usize>,
    /// The document around the failure position.
    pub(crate) excerpt: String,
    /// serde_json's error (its message, line and column).
    pub(crate) error: serde_json::Error,
}

impl DecodeError {
    /// The JSON path of the failure.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The listing index of the item this error is about.
    pub(crate) fn item(&self) -> Option<usize> {
        self.item
    }

    /// serde_json's message without its position (`missing field `id``).
    fn reason(&self) -> String {
        let text = self.error.to_string();
        let position = format!(
            " at line {} column {}",
            self.error.line(),
            self.error.column()
        );
        match text.strip_suffix(&position) {
            Some(reason) => reason.to_string(),
            None => text,
        }
    }

    /// One line: path, reason, position and excerpt.
    pub(crate) fn describe(&self, what: &str) -> String {
        let mut out = format!(
            "{what} does not match the spec at `{}`: {}",
            self.path,
            self.reason()
        );
        if self.error.line() > 0 {
            out.push_str(&format!(
                " (line {}, column {})",
                self.error.line(),
                self.error.column()
            ));
        }
        if !self.excerpt.is_empty() {
            out.push_str(&format!(", near `{}`", self.excerpt));
        }
        out
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at `{}`: {}", self.path, self.reason())
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
