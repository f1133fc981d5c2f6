//! Syntax-tree helpers the rewrites of progenitor's outputs share: recognising a node by its
//! kind and its path, never by how its tokens print.

use quote::ToTokens;
use syn::visit_mut::{self, VisitMut};

/// `crate::types::X` (a replaced type, as the client names it) → `<client crate>::types::X`.
pub(crate) fn retarget_crate_paths(file: &mut syn::File, client_crate: &str) -> Result<(), String> {
    struct Retarget<'a> {
        to: &'a syn::Path,
    }
    impl VisitMut for Retarget<'_> {
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            if path.segments.len() > 2
                && path.segments[0].ident == "crate"
                && path.segments[1].ident == "types"
            {
                let rest: Vec<syn::PathSegment> = path.segments.iter().skip(1).cloned().collect();
                let mut new = self.to.clone();
                new.segments.extend(rest);
                *path = new;
            }
            visit_mut::visit_path_mut(self, path);
        }
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            // `value_parser!(crate::types::X)` in the CLI: the type is inside the macro.
            if let Ok(mut ty) = syn::parse2::<syn::Type>(mac.tokens.clone()) {
                self.visit_type_mut(&mut ty);
                mac.tokens = ty.to_token_stream();
            }
        }
    }
    let to: syn::Path =
        syn::parse_str(&format!("::{client_crate}")).map_err(|e| format!("{client_crate}: {e}"))?;
    Retarget { to: &to }.visit_file_mut(file);
    Ok(())
}

/// The identifiers of `path`, without a leading `::` or generic arguments:
/// `::std::vec::Vec<T>` → `["std", "vec", "Vec"]`.
pub(crate) fn idents(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// Whether `path` is exactly `segments` (`Error::InvalidRequest`), generic arguments aside.
pub(crate) fn path_is(path: &syn::Path, segments: &[&str]) -> bool {
    path.segments.len() == segments.len()
        && path
            .segments
            .iter()
            .zip(segments)
            .all(|(s, want)| s.ident == want)
}

/// Whether `path` ends with `segments` (`…::ResponseValue::empty`).
pub(crate) fn path_ends_with(path: &syn::Path, segments: &[&str]) -> bool {
    path.segments.len() >= segments.len()
        && path
            .segments
            .iter()
            .rev()
            .zip(segments.iter().rev())
            .all(|(s, want)| s.ident == want)
}

/// Whether `expr` is the path `segments` (a variable, `Error::InvalidRequest`).
pub(crate) fn expr_is_path(expr: &syn::Expr, segments: &[&str]) -> bool {
    matches!(expr, syn::Expr::Path(p) if p.qself.is_none() && path_is(&p.path, segments))
}

/// The last segment of a type's path (`Result` of `::std::result::Result<T, E>`).
pub(crate) fn last_segment(ty: &syn::Type) -> Option<&syn::PathSegment> {
    match ty {
        syn::Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        _ => None,
    }
}

/// The type arguments of a path segment (`<T, E>` of `Result<T, E>`).
pub(crate) fn type_args(segment: &syn::PathSegment) -> Vec<&syn::Type> {
    match &segment.arguments {
        syn::PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The expression a chain of method calls starts from: `header_map` of
/// `header_map.append(…).x()`.
pub(crate) fn chain_root(mut expr: &syn::Expr) -> &syn::Expr {
    while let syn::Expr::MethodCall(call) = expr {
        expr = &call.receiver;
    }
    expr
}

/// The name a `let` binds when its pattern is a plain identifier, with whether it is `mut`.
pub(crate) fn binding(pat: &syn::Pat) -> Option<(String, bool)> {
    match pat {
        syn::Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
            Some((p.ident.to_string(), p.mutability.is_some()))
        }
        syn::Pat::Type(t) => binding(&t.pat),
        _ => None,
    }
}

/// Whether any path inside `node` ends with `segments` (`ClientHooks`, `ResponseValue::empty`).
pub(crate) fn mentions<T: Clone>(
    node: &T,
    visit: fn(&mut Mentions, &mut T),
    segments: &[&str],
) -> bool {
    let mut finder = Mentions {
        segments: segments.iter().map(|s| s.to_string()).collect(),
        found: false,
    };
    visit(&mut finder, &mut node.clone());
    finder.found
}

/// The visitor of [`mentions`].
pub(crate) struct Mentions {
    segments: Vec<String>,
    found: bool,
}

impl VisitMut for Mentions {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        let want: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        if path_ends_with(path, &want) {
            self.found = true;
        }
        visit_mut::visit_path_mut(self, path);
    }
}

/// The method calls in `node` as (receiver, method) where the receiver is a plain variable:
/// `client.pre(…)` → `("client", "pre")`.
pub(crate) fn variable_method_calls(stmts: &[syn::Stmt]) -> Vec<(String, String)> {
    struct Calls(Vec<(String, String)>);
    impl VisitMut for Calls {
        fn visit_expr_method_call_mut(&mut self, call: &mut syn::ExprMethodCall) {
            if let syn::Expr::Path(p) = &*call.receiver
                && let Some(variable) = p.path.get_ident()
            {
                self.0.push((variable.to_string(), call.method.to_string()));
            }
            visit_mut::visit_expr_method_call_mut(self, call);
        }
    }
    let mut calls = Calls(Vec::new());
    for stmt in stmts {
        calls.visit_stmt_mut(&mut stmt.clone());
    }
    calls.0
}

/// A node as source text, for an error message that shows what was found instead.
pub(crate) fn shown(node: &impl ToTokens) -> String {
    let text = node.to_token_stream().to_string();
    const MAX: usize = 160;
    match text.char_indices().nth(MAX) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// The items of `mod <name>` among `items` (progenitor's `types`, `builder`, `operations`),
/// if there is one.
pub(crate) fn module<'a>(items: &'a [syn::Item], name: &str) -> Option<&'a Vec<syn::Item>> {
    items.iter().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_ref().map(|(_, items)| items),
        _ => None,
    })
}

/// [`module`], to change.
pub(crate) fn module_mut<'a>(
    items: &'a mut [syn::Item],
    name: &str,
) -> Option<&'a mut Vec<syn::Item>> {
    items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
        _ => None,
    })
}
