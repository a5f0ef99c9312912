//! The `#[brunt::stress]` attribute. It only parses, validates and appends an
//! `inventory` registration to the unchanged function; every behaviour lives
//! in the `brunt` crate, whose re-export carries the documentation.
//!
//! Every mistake is a compile error spanned on the offending token; the macro
//! never panics. On an error the function is still emitted unchanged, so the
//! user sees one precise message instead of a cascade.

mod criteria;
mod emit;
mod options;
mod signature;

use proc_macro::TokenStream;

/// Declares a stress scenario. See `brunt::stress` for the documentation.
#[proc_macro_attribute]
pub fn stress(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item2 = proc_macro2::TokenStream::from(item);
    match expand(attr.into(), item2.clone()) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let mut out = error.to_compile_error();
            out.extend(item2);
            out.into()
        }
    }
}

fn expand(
    attr: proc_macro2::TokenStream,
    item: proc_macro2::TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let function = signature::ScenarioFn::parse(item)?;
    let options = options::Options::parse(attr)?;
    Ok(emit::registration(&function, &options))
}
