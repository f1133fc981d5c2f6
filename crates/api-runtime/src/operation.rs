//! The operation table: what the generator knows of each operation, for the runtime's
//! guards, its rate limiter and its spans.

/// One operation of a spec, as the generator saw it. Each client crate's generated
/// `OPERATIONS` table lists them, sorted by `id`. Not part of the public API.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OperationSpec {
    /// The operationId.
    pub id: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template, e.g. `/api/v2/users/{user_id}`.
    pub path: &'static str,
    /// Path parameters that are free strings (could be empty, `.` or `..`).
    pub string_path_params: &'static [&'static str],
    /// Whether requests carry the client's credentials (`false`: the spec says
    /// `security: []`, as a token endpoint does).
    pub authenticated: bool,
}
