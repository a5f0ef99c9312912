//! The output: the function unchanged, plus one `inventory` registration in a
//! `const _` block. Paths are absolute (`::brunt::__private::…`) and the
//! generated names carry a `__BRUNT_`/`__brunt_` prefix.

use brunt_grammar::{CmpOp, Unit};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use std::time::Duration;

use crate::criteria::CriterionSpec;
use crate::options::Options;
use crate::signature::ScenarioFn;

fn opt_duration(value: Option<Duration>) -> TokenStream {
    match value {
        Some(d) => {
            let nanos = Literal::u64_suffixed(d.as_nanos() as u64);
            quote!(::core::option::Option::Some(::core::time::Duration::from_nanos(#nanos)))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn opt_u64(value: Option<u64>) -> TokenStream {
    match value {
        Some(v) => {
            let v = Literal::u64_unsuffixed(v);
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn opt_f64(value: Option<f64>) -> TokenStream {
    match value {
        Some(v) => {
            let v = Literal::f64_suffixed(v);
            quote!(::core::option::Option::Some(#v))
        }
        None => quote!(::core::option::Option::None),
    }
}

fn op_tokens(op: CmpOp) -> TokenStream {
    let variant = format_ident!("{}", format!("{op:?}"));
    quote!(::brunt::__private::CmpOp::#variant)
}

fn unit_tokens(unit: Option<Unit>) -> TokenStream {
    match unit {
        Some(u) => {
            let variant = format_ident!("{}", format!("{u:?}"));
            quote!(::core::option::Option::Some(::brunt::__private::Unit::#variant))
        }
        None => quote!(::core::option::Option::None),
    }
}

pub fn registration(function: &ScenarioFn, options: &Options) -> TokenStream {
    let item = &function.item;
    let ident = &item.sig.ident;
    let name = ident.to_string();
    let result_ty = quote_spanned!(function.return_span=> ::brunt::__private::ScenarioResult);
    let arg = quote_spanned!(function.param_span=> __brunt_stress);
    // Spanned on the return type, so a wrong return type is reported there.
    let call = quote_spanned!(function.return_span=> #ident(#arg));
    let body = if function.is_async() {
        quote! {
            fn __brunt_body<'a>(__brunt_stress: &'a mut ::brunt::Stress) -> ::brunt::__private::BoxFuture<'a> {
                ::std::boxed::Box::pin(async move {
                    let __brunt_result: #result_ty = #call.await;
                    __brunt_result
                })
            }
            ::brunt::__private::Body::Async(__brunt_body)
        }
    } else {
        quote! {
            fn __brunt_body(__brunt_stress: &mut ::brunt::Stress) -> ::brunt::__private::ScenarioResult {
                let __brunt_result: #result_ty = #call;
                __brunt_result
            }
            ::brunt::__private::Body::Sync(__brunt_body)
        }
    };

    let duration = opt_duration(options.duration);
    let warmup = opt_duration(options.warmup);
    let min_duration = opt_duration(options.min_duration);
    let sample = opt_duration(options.sample);
    let timeout = opt_duration(options.timeout);
    let op_timeout = opt_duration(options.op_timeout);
    let fail_on = match options.fail_on.as_deref() {
        Some("warning") => quote!(::core::option::Option::Some(
            ::brunt::__private::Severity::Warning
        )),
        Some(_) => quote!(::core::option::Option::Some(
            ::brunt::__private::Severity::Critical
        )),
        None => quote!(::core::option::Option::None),
    };
    let iterations = opt_u64(options.iterations);
    let concurrency = opt_u64(options.concurrency.map(u64::from));
    let rate = opt_f64(options.rate);
    let max_in_flight = opt_u64(options.max_in_flight.map(u64::from));
    let connections = opt_u64(options.connections.map(u64::from));
    let seed = opt_u64(options.seed);
    let memory_limit = opt_u64(options.memory_limit);
    let tags = options.tags.iter();
    let expect_findings = options.expect_findings.iter();
    let criteria = options.criteria.iter().map(criterion_tokens);
    let escalate = match &options.escalate {
        Some(e) => {
            let start = Literal::f64_suffixed(e.start);
            let max = Literal::f64_suffixed(e.max);
            let open = e.open;
            let factor = Literal::f64_suffixed(e.factor);
            let step = Literal::u64_suffixed(e.step.as_nanos() as u64);
            let until = e.until.iter().map(criterion_tokens);
            quote! {
                ::core::option::Option::Some(::brunt::__private::Escalation {
                    start: #start,
                    factor: #factor,
                    max: #max,
                    step: ::core::time::Duration::from_nanos(#step),
                    until: &[#(#until),*],
                    open: #open,
                })
            }
        }
        None => quote!(::core::option::Option::None),
    };
    let stages = options.stages.iter().map(|(duration, target)| {
        let nanos = Literal::u64_suffixed(duration.as_nanos() as u64);
        let target = Literal::f64_suffixed(*target);
        quote! {
            ::brunt::__private::Stage {
                duration: ::core::time::Duration::from_nanos(#nanos),
                target: #target,
            }
        }
    });
    let mix = options
        .mix
        .iter()
        .map(|(name, weight)| quote!((#name, #weight)));
    let flow = options.flow.iter();
    let think = match options.think {
        Some(brunt_grammar::ThinkTime::Fixed(d)) => {
            let d = nanos(d);
            quote!(::core::option::Option::Some(::brunt::__private::ThinkTime::Fixed(#d)))
        }
        Some(brunt_grammar::ThinkTime::Uniform(low, high)) => {
            let (low, high) = (nanos(low), nanos(high));
            quote!(::core::option::Option::Some(::brunt::__private::ThinkTime::Uniform(#low, #high)))
        }
        Some(brunt_grammar::ThinkTime::Exponential(mean)) => {
            let mean = nanos(mean);
            quote!(::core::option::Option::Some(::brunt::__private::ThinkTime::Exponential(#mean)))
        }
        None => quote!(::core::option::Option::None),
    };
    let line = quote_spanned!(ident.span()=> ::core::line!());

    quote! {
        #item

        #[doc(hidden)]
        const _: () = {
            const __BRUNT_BODY: ::brunt::__private::Body = { #body };
            /// Instantiates Brunt's build probe in this crate, so it is
            /// compiled at this crate's opt-level.
            struct __BruntBuild;
            ::brunt::__private::inventory::submit! {
                ::brunt::__private::ScenarioEntry {
                    name: #name,
                    module_path: ::core::module_path!(),
                    file: ::core::file!(),
                    line: #line,
                    manifest_dir: ::core::env!("CARGO_MANIFEST_DIR"),
                    declared: ::brunt::__private::Declared {
                        duration: #duration,
                        iterations: #iterations,
                        concurrency: #concurrency,
                        rate: #rate,
                        max_in_flight: #max_in_flight,
                        connections: #connections,
                        warmup: #warmup,
                        min_duration: #min_duration,
                        sample: #sample,
                        timeout: #timeout,
                        op_timeout: #op_timeout,
                        fail_on: #fail_on,
                        seed: #seed,
                        memory_limit: #memory_limit,
                        tags: &[#(#tags),*],
                        expect_findings: &[#(#expect_findings),*],
                        criteria: &[#(#criteria),*],
                        escalate: #escalate,
                        stages: &[#(#stages),*],
                        mix: &[#(#mix),*],
                        flow: &[#(#flow),*],
                        think: #think,
                    },
                    body: __BRUNT_BODY,
                    build: ::brunt::__private::ScenarioBuild {
                        frame_probe: ::brunt::__private::frame_probe::<__BruntBuild>,
                        debug_assertions: ::core::cfg!(debug_assertions),
                    },
                }
            }
        };
    }
}

/// A `Duration` literal.
fn nanos(d: Duration) -> TokenStream {
    let n = Literal::u64_suffixed(d.as_nanos() as u64);
    quote!(::core::time::Duration::from_nanos(#n))
}

fn criterion_tokens(c: &CriterionSpec) -> TokenStream {
    let expr = &c.expr;
    let metric = &c.metric;
    let op = op_tokens(c.op);
    let target = Literal::f64_suffixed(c.value);
    let unit = unit_tokens(c.unit);
    let window = match c.window {
        Some(w) => {
            let secs = Literal::u64_suffixed(w.as_secs());
            quote!(::core::option::Option::Some(::core::time::Duration::from_secs(#secs)))
        }
        None => quote!(::core::option::Option::None),
    };
    let abort = c.abort;
    let versus = match &c.versus {
        Some(other) => quote!(::core::option::Option::Some(#other)),
        None => quote!(::core::option::Option::None),
    };
    quote! {
        ::brunt::__private::Criterion {
            expr: #expr,
            metric: #metric,
            op: #op,
            target: #target,
            unit: #unit,
            window: #window,
            abort: #abort,
            versus: #versus,
        }
    }
}
