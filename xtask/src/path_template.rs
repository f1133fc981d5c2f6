//! Path templates compared without their parameter names: `/users/{userID}/tags` and
//! `/users/{id}/tags/` are the same endpoint. One file for xtask (which matches our operations
//! with those of a served spec) and the workspace tests (which do the same for the contract
//! tests): `tests/src/lib.rs` includes it by path, since xtask depends on no workspace crate.

/// `path` with every `{parameter}` replaced by `{}`, and no trailing slash (the root stays
/// `/`).
pub fn path_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    let trimmed = out.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::path_template;

    #[test]
    fn path_templates_ignore_parameter_names() {
        assert_eq!(
            path_template("/api/v1/users/{userID}/tags"),
            path_template("/api/v1/users/{id}/tags/")
        );
        assert_ne!(
            path_template("/api/v1/users/{userID}"),
            path_template("/api/v1/users/{userID}/tags")
        );
        assert_eq!(path_template("/"), "/");
    }
}
