//! `#[derive(KeyDocs)]`: a config struct's doc comments as constants, so `flowlake init` writes each key's
//! meaning from the one place it is documented, and the template cannot fall behind the code.
//!
//! A hand-written derive rather than the `documented` crate: that one pulls `phf` 0.13 (beside the 0.12
//! chrono-tz already links) and four more crates for what is here one constant; serde's names (`rename`,
//! `skip`) matter too, and it does not read them.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::spanned::Spanned;
use syn::{parse_macro_input, Attribute, Data, DeriveInput, Expr, Fields, LitStr, Meta};

/// Implements `flowlake_core::KeyDocs` for a struct with named fields: `KEYS` is every field serde reads
/// (under its serde name) with its doc comment. A field without a doc comment
/// is a compile error: an undocumented key would reach `init`'s template without an explanation.
#[proc_macro_derive(KeyDocs, attributes(serde))]
pub fn derive_key_docs(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new(
            input.span(),
            "KeyDocs documents a struct's keys",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new(input.span(), "KeyDocs needs named fields"));
    };
    let mut keys = Vec::new();
    for field in &fields.named {
        let serde = SerdeField::read(&field.attrs)?;
        if serde.skip {
            continue;
        }
        let key = match serde.rename {
            Some(name) => name.value(),
            None => field
                .ident
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        };
        let doc = doc_text(&field.attrs).ok_or_else(|| {
            syn::Error::new(
                field.span(),
                format!("document the key `{key}`: `init` shows it"),
            )
        })?;
        keys.push(quote!(::flowlake_core::KeyDoc { key: #key, doc: #doc }));
    }
    let name = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::flowlake_core::KeyDocs for #name #type_generics #where_clause {
            const KEYS: &'static [::flowlake_core::KeyDoc] = &[#(#keys),*];
        }
    })
}

/// The doc comment as one `&'static str` expression: its lines (`#[doc = …]` values, literal or a macro such
/// as `concat!`) joined by newlines, each with the space `///` leaves; `None` without one.
fn doc_text(attrs: &[Attribute]) -> Option<Tokens> {
    let lines: Vec<&Expr> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            Meta::NameValue(nv) => Some(&nv.value),
            _ => None,
        })
        .collect();
    let (first, rest) = lines.split_first()?;
    Some(quote!(concat!(#first #(, "\n", #rest)*)))
}

/// What serde's field attributes change about the key: its name, or whether it is read at all.
#[derive(Default)]
struct SerdeField {
    rename: Option<LitStr>,
    skip: bool,
}

impl SerdeField {
    fn read(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = Self::default();
        for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    out.rename = Some(meta.value()?.parse()?);
                } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_deserializing") {
                    out.skip = true;
                } else if meta.path.is_ident("flatten") {
                    return Err(meta.error("KeyDocs cannot see the keys of a flattened field"));
                } else if meta.input.peek(syn::Token![=]) {
                    meta.value()?.parse::<Expr>()?;
                } else if meta.input.peek(syn::token::Paren) {
                    let nested;
                    syn::parenthesized!(nested in meta.input);
                    nested.parse::<Tokens>()?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }
}
