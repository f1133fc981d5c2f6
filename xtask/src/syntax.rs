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
