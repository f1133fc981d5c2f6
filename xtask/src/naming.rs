//! Rust names for spec names, exactly as progenitor and typify make them (their `sanitize`:
//! heck's case conversion after replacing characters that cannot be in an identifier).

use heck::{ToPascalCase, ToSnakeCase};

/// The Rust name progenitor gives a parameter or an operation: `page[size]` → `page_size`,
/// `perPage` → `per_page`, `userID` → `user_id`.
pub(crate) fn snake(name: &str) -> String {
    sanitize(name, str::to_snake_case)
}

/// The builder setter of a parameter: its `x-rust-name` if it has one (see `rust_names`),
/// else [`snake`] of its wire name.
pub(crate) fn setter(data: &openapiv3::ParameterData) -> String {
    data.extensions
        .get(crate::rust_names::EXTENSION)
        .and_then(|name| name.as_str())
        .map_or_else(|| snake(&data.name), str::to_string)
}

/// A type or variant name: `end-user` → `EndUser`, `super_admin` → `SuperAdmin`.
pub(crate) fn pascal(name: &str) -> String {
    sanitize(name, str::to_pascal_case)
}

fn sanitize(name: &str, case: fn(&str) -> String) -> String {
    let cleaned: String = name
        .replace('\'', "")
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let out = case(&cleaned);
    match out.chars().next() {
        None => case("x"),
        Some(c) if c.is_alphabetic() || c == '_' => out,
        Some(_) => format!("_{out}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_progenitor() {
        assert_eq!(snake("page[size]"), "page_size");
        assert_eq!(snake("role[]"), "role");
        assert_eq!(snake("perPage"), "per_page");
        assert_eq!(snake("userID"), "user_id");
        assert_eq!(snake("sortBy"), "sort_by");
        assert_eq!(pascal("end-user"), "EndUser");
        assert_eq!(pascal("super_admin"), "SuperAdmin");
        assert_eq!(pascal("queued"), "Queued");
        assert_eq!(pascal("1st"), "_1st");
    }
}
