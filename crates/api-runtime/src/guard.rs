//! Request guards: refuse, before any I/O, a request that would reach another endpoint.
//!
//! progenitor percent-encodes `/`, `?`, `#` and `%` in path parameters, but not dots, and the
//! URL parser then resolves `.` and `..` segments: `show_job_status("..")` would silently
//! become `GET /api/v2/`. An empty parameter collapses the path the same way. We compare the
//! finished URL path against the operation's template: a free string parameter that is empty,
//! `.` or `..` is refused with an error that names it. So is one with a backslash, which
//! progenitor leaves as it is and the URL parser reads as `/` in an `http(s)` URL (`..\x`
//! would climb like `../x`): the segments no longer match the template.

use crate::operation::OperationSpec;

/// A path parameter that would make the request address another endpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{operation}: path parameter `{parameter}` would address another endpoint (it is empty, \
     `.` or `..`, or has a `\\` that URLs read as `/`); the request was not sent"
)]
pub(crate) struct UnsafePathParameter {
    /// The operationId.
    pub(crate) operation: &'static str,
    /// The parameter's name in the spec (or the names, when several could be at fault).
    pub(crate) parameter: String,
}

pub(crate) fn check_path(
    op: &OperationSpec,
    base_path: &str,
    actual: &str,
) -> Result<(), UnsafePathParameter> {
    if op.string_path_params.is_empty() {
        return Ok(());
    }
    let culprit = |names: Vec<&str>| UnsafePathParameter {
        operation: op.id,
        parameter: names.join("` or `"),
    };
    let everyone = || culprit(op.string_path_params.to_vec());
    let Some(rest) = actual.strip_prefix(base_path) else {
        return Err(everyone());
    };
    let template: Vec<&str> = op.path.split('/').collect();
    let segments: Vec<&str> = rest.split('/').collect();
    if template.len() != segments.len() {
        return Err(everyone());
    }
    for (want, got) in template.iter().zip(&segments) {
        match want.strip_prefix('{').and_then(|w| w.strip_suffix('}')) {
            Some(name)
                if op.string_path_params.contains(&name)
                    && (got.is_empty() || *got == "." || *got == "..") =>
            {
                return Err(culprit(vec![name]));
            }
            Some(_) => {}
            None if want != got => return Err(everyone()),
            None => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JOB: OperationSpec = OperationSpec {
        id: "show_job_status",
        method: "GET",
        path: "/api/v2/job_statuses/{job_status_id}",
        string_path_params: &["job_status_id"],
        authenticated: true,
    };

    fn url_path(base: &str, param: &str) -> String {
        let raw = format!(
            "{base}/api/v2/job_statuses/{}",
            progenitor_client::encode_path(param)
        );
        reqwest::Url::parse(&raw).unwrap().path().to_string()
    }

    #[test]
    fn dots_and_empty_are_refused_by_name() {
        for bad in ["", ".", ".."] {
            let path = url_path("http://h", bad);
            let err = check_path(&JOB, "", &path).unwrap_err();
            assert_eq!(err.parameter, "job_status_id", "{bad:?} → {path}");
            assert!(err.to_string().contains("show_job_status"));
        }
    }

    #[test]
    fn a_backslash_is_refused_before_it_becomes_a_slash() {
        for bad in ["a\\b", "..\\admin", "\\"] {
            let path = url_path("http://h", bad);
            let err = check_path(&JOB, "", &path).unwrap_err();
            assert_eq!(err.parameter, "job_status_id", "{bad:?} → {path}");
        }
    }

    #[test]
    fn a_base_path_prefix_is_respected() {
        let path = url_path("http://h/prefix", "..");
        assert!(check_path(&JOB, "/prefix", &path).is_err());
        let path = url_path("http://h/prefix", "8b726e606741012ffc2d782bcb7848fe");
        assert!(check_path(&JOB, "/prefix", &path).is_ok());
    }

    #[test]
    fn anything_else_stays_in_its_segment() {
        for ok in [
            "...", "a/b", "../x", "%2e%2e", "a?b#c", "a b", "ünï", ".hidden",
        ] {
            let path = url_path("http://h", ok);
            assert!(check_path(&JOB, "", &path).is_ok(), "{ok:?} → {path}");
        }
    }
}
