//! Doc comments in generated code: one line per attribute, no accidental doctests.
//!
//! Spec descriptions become doc attributes. A multi-line one is printed as a `/** */` block
//! whose continuation lines are indented with the code, and rustdoc then reads them as an
//! indented code block, that is, a doctest of prose. We split every doc attribute into one
//! attribute per line, with the line's own leading spaces trimmed, and mark untagged code
//! fences as `text`, so rustdoc renders the descriptions and tests nothing in them.

use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta};

pub(crate) fn normalize(file: &mut syn::File) {
    Normalizer.visit_file_mut(file);
}

struct Normalizer;

fn doc_text(attr: &Attribute) -> Option<String> {
    let Meta::NameValue(nv) = &attr.meta else {
        return None;
    };
    if !nv.path.is_ident("doc") {
        return None;
    }
    match &nv.value {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

fn split(attrs: &mut Vec<Attribute>) {
    if !attrs.iter().any(|a| doc_text(a).is_some()) {
        return;
    }
    let mut out = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        let Some(text) = doc_text(&attr) else {
            out.push(attr);
            continue;
        };
        let mut in_fence = false;
        // An empty doc line is a paragraph break: keep it (`"".lines()` yields nothing).
        let lines: Vec<&str> = match text.trim_end() {
            "" => vec![""],
            text => text.lines().collect(),
        };
        for line in lines {
            let mut line = line.trim_start().to_string();
            if line.starts_with("```") {
                if !in_fence && line.trim() == "```" {
                    line = "```text".into();
                }
                in_fence = !in_fence;
            }
            let lit = LitStr::new(&line, proc_macro2::Span::call_site());
            out.push(syn::parse_quote!(#[doc = #lit]));
        }
    }
    *attrs = out;
}

impl VisitMut for Normalizer {
    fn visit_item_mut(&mut self, item: &mut syn::Item) {
        match item {
            syn::Item::Const(i) => split(&mut i.attrs),
            syn::Item::Enum(i) => split(&mut i.attrs),
            syn::Item::Fn(i) => split(&mut i.attrs),
            syn::Item::Impl(i) => split(&mut i.attrs),
            syn::Item::Mod(i) => split(&mut i.attrs),
            syn::Item::Static(i) => split(&mut i.attrs),
            syn::Item::Struct(i) => split(&mut i.attrs),
            syn::Item::Trait(i) => split(&mut i.attrs),
            syn::Item::Type(i) => split(&mut i.attrs),
            _ => {}
        }
        visit_mut::visit_item_mut(self, item);
    }

    fn visit_field_mut(&mut self, field: &mut syn::Field) {
        split(&mut field.attrs);
        visit_mut::visit_field_mut(self, field);
    }

    fn visit_variant_mut(&mut self, variant: &mut syn::Variant) {
        split(&mut variant.attrs);
        visit_mut::visit_variant_mut(self, variant);
    }

    fn visit_impl_item_mut(&mut self, item: &mut syn::ImplItem) {
        match item {
            syn::ImplItem::Fn(i) => split(&mut i.attrs),
            syn::ImplItem::Const(i) => split(&mut i.attrs),
            syn::ImplItem::Type(i) => split(&mut i.attrs),
            _ => {}
        }
        visit_mut::visit_impl_item_mut(self, item);
    }
}
