//! `criteria(...)`: each `METRIC OP NUMBER[UNIT]` — or `METRIC OP
//! [FACTOR *] METRIC`, a metric against another of the same run — read from
//! tokens, checked with the shared grammar, and kept with its target for the
//! emitter.

use brunt_grammar::{
    CmpOp, Unit, check_criterion_unit, check_metric_name, metric_info, metric_names,
};
use proc_macro2::{Span, TokenTree};
use quote::ToTokens;
use syn::Token;
use syn::parse::ParseStream;
use syn::spanned::Spanned;

/// One criterion as declared.
pub struct CriterionSpec {
    /// Normalised text, e.g. `latency.p99 <= 20ms`.
    pub expr: String,
    pub metric: String,
    pub op: CmpOp,
    /// The number as written, in `unit`.
    pub value: f64,
    pub unit: Option<Unit>,
    /// `window("10s", …)`: must hold in every window of this length.
    pub window: Option<std::time::Duration>,
    /// `abort(…)`: stop the scenario as soon as this can no longer hold.
    pub abort: bool,
    /// The metric's tokens (with a wrapper's keyword), for errors about it.
    pub tokens: proc_macro2::TokenStream,
    /// `METRIC OP [FACTOR *] OTHER`: the other metric (`value` is then the
    /// factor, 1 when none is written).
    pub versus: Option<String>,
}

fn metric_path(input: ParseStream) -> syn::Result<(String, proc_macro2::TokenStream)> {
    let mut name = String::new();
    let mut tokens = proc_macro2::TokenStream::new();
    loop {
        let segment: syn::Ident = input.call(syn::ext::IdentExt::parse_any).map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a metric name such as `latency.p99`; a criterion is `METRIC OP NUMBER[UNIT]`",
            )
        })?;
        name.push_str(&segment.to_string());
        segment.to_tokens(&mut tokens);
        if input.peek(Token![.]) && !input.peek(Token![..]) {
            let dot: Token![.] = input.parse()?;
            dot.to_tokens(&mut tokens);
            name.push('.');
        } else {
            return Ok((name, tokens));
        }
    }
}

fn operator(input: ParseStream) -> syn::Result<(CmpOp, &'static str)> {
    let mut text = String::new();
    let mut spans: Vec<Span> = Vec::new();
    input.step(|cursor| {
        let mut rest = *cursor;
        while let Some((TokenTree::Punct(p), next)) = rest.token_tree() {
            if !matches!(p.as_char(), '<' | '>' | '=' | '!') {
                break;
            }
            text.push(p.as_char());
            spans.push(p.span());
            rest = next;
            if p.spacing() == proc_macro2::Spacing::Alone {
                break;
            }
        }
        Ok(((), rest))
    })?;
    if text.is_empty() {
        return Err(input.error("expected a comparison operator: one of >= > <= < == !="));
    }
    let span = spans
        .first()
        .and_then(|first| first.join(*spans.last().unwrap_or(first)))
        .unwrap_or(spans[0]);
    let op = CmpOp::parse(&text).map_err(|e| syn::Error::new(span, e.to_string()))?;
    Ok((op, op.symbol()))
}

/// Reads `NUMBER[UNIT]`: a literal whose suffix may be a unit (`20ms`,
/// `16MiB`), optionally followed by `%`, `/s`, or `/s` after a size suffix.
fn target(input: ParseStream) -> syn::Result<(f64, String, Option<Unit>, Span)> {
    let negative = input.peek(Token![-]);
    if negative {
        input.parse::<Token![-]>()?;
    }
    let (digits, suffix, span) = match input.parse::<syn::Lit>() {
        Ok(syn::Lit::Int(lit)) => (
            lit.base10_digits().to_string(),
            lit.suffix().to_string(),
            lit.span(),
        ),
        Ok(syn::Lit::Float(lit)) => (
            lit.base10_digits().to_string(),
            lit.suffix().to_string(),
            lit.span(),
        ),
        Ok(other) => {
            return Err(syn::Error::new(
                other.span(),
                "expected a number such as `20ms`, `99.5%` or `1000/s`",
            ));
        }
        Err(e) => {
            return Err(syn::Error::new(
                e.span(),
                "expected a number such as `20ms`, `99.5%` or `1000/s`",
            ));
        }
    };
    let mut unit_text = suffix;
    let mut unit_span = span;
    if input.peek(Token![%]) {
        let percent: Token![%] = input.parse()?;
        unit_text.push('%');
        unit_span = percent.span();
    } else if input.peek(Token![/]) {
        let slash: Token![/] = input.parse()?;
        let per: syn::Ident = input
            .call(syn::ext::IdentExt::parse_any)
            .map_err(|_| syn::Error::new(slash.span(), "expected `/s` after the number"))?;
        unit_text.push('/');
        unit_text.push_str(&per.to_string());
        unit_span = per.span();
    }
    let number: f64 = digits
        .parse()
        .map_err(|_| syn::Error::new(span, format!("cannot read `{digits}` as a number")))?;
    let value = if negative { -number } else { number };
    let unit = if unit_text.is_empty() {
        None
    } else {
        match Unit::from_symbol(&unit_text) {
            Ok(Unit::Count) | Err(_) => {
                return Err(syn::Error::new(
                    unit_span,
                    format!(
                        "unknown unit `{unit_text}`; expected one of % /s ns us ms s B KiB MiB GiB (or B/s KiB/s MiB/s GiB/s)"
                    ),
                ));
            }
            Ok(unit) => Some(unit),
        }
    };
    let written = format!("{}{digits}{}", if negative { "-" } else { "" }, unit_text);
    Ok((value, written, unit, span))
}

/// The other side of `METRIC OP [FACTOR *] OTHER`, after the operator: the
/// factor (1 when none is written) and the other metric, checked against
/// the first (a name the grammar accepts; the same dimension when both are
/// built-in — a custom metric's unit is checked when the run recorded it).
fn versus(
    input: ParseStream,
    metric: &str,
    dimension: Option<brunt_grammar::Dimension>,
) -> syn::Result<(f64, String, String)> {
    let factor = if input.peek(syn::Ident) {
        None
    } else {
        let (value, written, unit, span) = target(input)?;
        if unit.is_some() {
            return Err(syn::Error::new(
                span,
                "a factor of another metric is a plain number: `rss.growth <= 0.1 * heap.allocated`",
            ));
        }
        input.parse::<Token![*]>()?;
        Some((value, written))
    };
    let (other, other_tokens) = metric_path(input)?;
    let other_dimension = check_metric_name(&other)
        .map_err(|e| syn::Error::new_spanned(&other_tokens, e.to_string()))?;
    if let (Some(a), Some(b)) = (dimension, other_dimension)
        && a != b
    {
        return Err(syn::Error::new_spanned(
            &other_tokens,
            format!(
                "`{metric}` measures {} but `{other}` measures {}: a metric compares only with one of the same dimension",
                a.describe(),
                b.describe()
            ),
        ));
    }
    if other == metric {
        return Err(syn::Error::new_spanned(
            &other_tokens,
            format!("`{metric}` compared with itself always gives the same answer"),
        ));
    }
    let written = match &factor {
        Some((_, written)) => format!("{written} * {other}"),
        None => other.clone(),
    };
    Ok((factor.map_or(1.0, |(v, _)| v), other, written))
}

/// One `METRIC OP NUMBER[UNIT]` or `METRIC OP [FACTOR *] OTHER`.
fn simple_criterion(input: ParseStream) -> syn::Result<(CriterionSpec, proc_macro2::TokenStream)> {
    let (metric, metric_tokens) = metric_path(input)?;
    let dimension = check_metric_name(&metric)
        .map_err(|e| syn::Error::new_spanned(&metric_tokens, e.to_string()))?;
    let (op, op_text) = operator(input)?;
    // Another metric after the operator, alone or after `FACTOR *`.
    let fork = input.fork();
    let is_versus = input.peek(syn::Ident)
        || (target(&fork).is_ok_and(|(_, _, unit, _)| unit.is_none()) && fork.peek(Token![*]));
    if is_versus {
        let (factor, other, written) = versus(input, &metric, dimension)?;
        let spec = CriterionSpec {
            expr: format!("{metric} {op_text} {written}"),
            metric,
            op,
            value: factor,
            unit: None,
            window: None,
            abort: false,
            tokens: metric_tokens.clone(),
            versus: Some(other),
        };
        return Ok((spec, metric_tokens));
    }
    let (value, written, unit, target_span) = target(input)?;
    if input.peek(Token![*]) {
        return Err(syn::Error::new(
            target_span,
            "a factor of another metric is a plain number: `rss.growth <= 0.1 * heap.allocated`",
        ));
    }
    check_criterion_unit(&metric, dimension, unit)
        .map_err(|e| syn::Error::new(target_span, e.to_string()))?;
    let expr = format!("{metric} {op_text} {written}");
    let spec = CriterionSpec {
        expr,
        metric,
        op,
        value,
        unit,
        window: None,
        abort: false,
        tokens: metric_tokens.clone(),
        versus: None,
    };
    Ok((spec, metric_tokens))
}

/// `window("10s", METRIC OP NUMBER[UNIT])`.
fn window_criterion(
    keyword: &syn::Ident,
    input: ParseStream,
) -> syn::Result<(CriterionSpec, proc_macro2::TokenStream)> {
    let content;
    syn::parenthesized!(content in input);
    let length: syn::LitStr = content.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "`window` takes a length and a criterion: `window(\"10s\", throughput >= 500/s)`",
        )
    })?;
    let window = brunt_grammar::parse_duration(&length.value())
        .map_err(|e| syn::Error::new(length.span(), format!("invalid window: {e}")))?;
    if window.as_nanos() % 1_000_000_000 != 0 || window.is_zero() {
        return Err(syn::Error::new(
            length.span(),
            "a window is a whole number of seconds, such as \"10s\" or \"1m\"",
        ));
    }
    content.parse::<Token![,]>()?;
    let (mut spec, tokens) = simple_criterion(&content)?;
    if spec.versus.is_some() {
        return Err(syn::Error::new_spanned(
            &tokens,
            "a criterion against another metric is judged on the whole run, not in windows: write it outside `window(...)`",
        ));
    }
    if !metric_info(&spec.metric).is_some_and(|m| m.windowable) {
        return Err(syn::Error::new_spanned(
            &tokens,
            format!(
                "`window` can judge the load metrics only ({}); `{}` is not one",
                metric_names(|m| m.windowable).join(", "),
                spec.metric
            ),
        ));
    }
    if !content.is_empty() {
        return Err(content.error("expected `)` after the windowed criterion"));
    }
    spec.expr = format!("window(\"{}\", {})", length.value(), spec.expr);
    spec.window = Some(window);
    let mut all = quote::quote!(#keyword);
    all.extend(tokens);
    spec.tokens = all.clone();
    Ok((spec, all))
}

/// `abort(METRIC OP NUMBER[UNIT])`.
fn abort_criterion(
    keyword: &syn::Ident,
    input: ParseStream,
) -> syn::Result<(CriterionSpec, proc_macro2::TokenStream)> {
    let content;
    syn::parenthesized!(content in input);
    let (mut spec, tokens) = simple_criterion(&content)?;
    if spec.versus.is_some() {
        return Err(syn::Error::new_spanned(
            &tokens,
            "`abort` watches a metric against a number; a criterion against another metric is judged at the end: write it outside `abort(...)`",
        ));
    }
    if !metric_info(&spec.metric).is_some_and(|m| m.live) {
        return Err(syn::Error::new_spanned(
            &tokens,
            format!(
                "`abort` watches metrics that only grow ({}); `{}` is not one",
                metric_names(|m| m.live).join(", "),
                spec.metric
            ),
        ));
    }
    if !matches!(spec.op, CmpOp::Le | CmpOp::Lt) {
        return Err(syn::Error::new_spanned(
            &tokens,
            "`abort` needs an upper bound (`<=` or `<`): only a bound crossed by a growing metric is hopeless",
        ));
    }
    if !content.is_empty() {
        return Err(content.error("expected `)` after the criterion"));
    }
    spec.expr = format!("abort({})", spec.expr);
    spec.abort = true;
    let mut all = quote::quote!(#keyword);
    all.extend(tokens);
    spec.tokens = all.clone();
    Ok((spec, all))
}

pub fn parse_criteria(input: ParseStream) -> syn::Result<Vec<CriterionSpec>> {
    let mut criteria = Vec::new();
    while !input.is_empty() {
        let fork = input.fork();
        let wrapper = fork
            .call(syn::ext::IdentExt::parse_any)
            .ok()
            .filter(|_| fork.peek(syn::token::Paren))
            .map(|i: syn::Ident| i.to_string());
        let (spec, tokens) = match wrapper.as_deref() {
            Some("window") => {
                let keyword: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
                window_criterion(&keyword, input)?
            }
            Some("abort") => {
                let keyword: syn::Ident = input.call(syn::ext::IdentExt::parse_any)?;
                abort_criterion(&keyword, input)?
            }
            _ => simple_criterion(input)?,
        };
        if criteria.iter().any(|c: &CriterionSpec| c.expr == spec.expr) {
            return Err(syn::Error::new_spanned(
                &tokens,
                format!("criterion `{}` is given twice", spec.expr),
            ));
        }
        criteria.push(spec);
        if input.is_empty() {
            break;
        }
        let comma = input.parse::<Token![,]>();
        if comma.is_err() {
            return Err(syn::Error::new(
                input.span(),
                "expected `,` between criteria; a criterion is `METRIC OP NUMBER[UNIT]`",
            ));
        }
    }
    if criteria.is_empty() {
        return Err(syn::Error::new(
            input.span(),
            "`criteria()` is empty; list at least one criterion or leave the key out",
        ));
    }
    Ok(criteria)
}
