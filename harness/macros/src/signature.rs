//! The function the attribute sits on: `fn` or `async fn`, taking
//! `&mut Stress`, returning `anyhow::Result<()>`.

use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;

const EXPECTED: &str = "expected `fn name(s: &mut Stress) -> anyhow::Result<()>` (or `async fn`)";

/// A function accepted as a scenario body.
pub struct ScenarioFn {
    /// The function, emitted unchanged.
    pub item: syn::ItemFn,
    /// Span of the parameter's type, where a wrong type is reported.
    pub param_span: Span,
    /// Span of the return type, where a wrong return type is reported.
    pub return_span: Span,
}

impl ScenarioFn {
    pub fn parse(tokens: TokenStream) -> syn::Result<ScenarioFn> {
        let item: syn::ItemFn = syn::parse2(tokens.clone()).map_err(|_| {
            let span = tokens
                .clone()
                .into_iter()
                .next()
                .map_or(Span::call_site(), |t| t.span());
            syn::Error::new(
                span,
                format!("#[brunt::stress] applies to a function only; {EXPECTED}"),
            )
        })?;
        let sig = &item.sig;
        if let Some(constness) = &sig.constness {
            return Err(syn::Error::new(
                constness.span(),
                "a scenario cannot be a `const fn`",
            ));
        }
        if let Some(unsafety) = &sig.unsafety {
            return Err(syn::Error::new(
                unsafety.span(),
                "a scenario cannot be an `unsafe fn`",
            ));
        }
        if let Some(abi) = &sig.abi {
            return Err(syn::Error::new(
                abi.span(),
                "a scenario cannot declare an ABI",
            ));
        }
        if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
            return Err(syn::Error::new(
                sig.generics.span(),
                "a scenario cannot be generic: Brunt must be able to call it as it is",
            ));
        }
        if let Some(variadic) = &sig.variadic {
            return Err(syn::Error::new(variadic.span(), EXPECTED));
        }
        let param_span = match sig.inputs.len() {
            1 => match &sig.inputs[0] {
                syn::FnArg::Receiver(receiver) => {
                    return Err(syn::Error::new(
                        receiver.span(),
                        format!("a scenario cannot take `self`; {EXPECTED}"),
                    ));
                }
                syn::FnArg::Typed(arg) => match &*arg.ty {
                    syn::Type::Reference(reference) if reference.mutability.is_some() => {
                        reference.elem.span()
                    }
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            format!("the scenario's parameter must be `&mut Stress`; {EXPECTED}"),
                        ));
                    }
                },
            },
            0 => {
                return Err(syn::Error::new(
                    sig.paren_token.span.join(),
                    format!("a scenario takes one parameter, `s: &mut Stress`; {EXPECTED}"),
                ));
            }
            _ => {
                return Err(syn::Error::new(
                    sig.inputs[1].span(),
                    format!("a scenario takes exactly one parameter, `s: &mut Stress`; {EXPECTED}"),
                ));
            }
        };
        let return_span = match &sig.output {
            syn::ReturnType::Type(_, ty) => ty.span(),
            syn::ReturnType::Default => {
                return Err(syn::Error::new(
                    sig.ident.span(),
                    format!("a scenario must return `anyhow::Result<()>`; {EXPECTED}"),
                ));
            }
        };
        Ok(ScenarioFn {
            item,
            param_span,
            return_span,
        })
    }

    pub fn is_async(&self) -> bool {
        self.item.sig.asyncness.is_some()
    }
}
