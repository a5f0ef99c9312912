//! The attribute's options. One parser, one `match` over the keys: an unknown
//! or repeated key is an error on that key; every value is checked here and
//! kept as a typed value for the emitter.

use std::time::Duration;

use brunt_grammar::{
    GrammarError, PerStep, ThinkTime, closest, is_op_name, metric_info, metric_names,
    parse_duration, parse_mix_entry, parse_rate, parse_size, parse_stage, parse_think,
    split_op_metric,
};
use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Ident, Token};

use crate::criteria::{CriterionSpec, parse_criteria};

const KEYS: &[&str] = &[
    "duration",
    "min_duration",
    "iterations",
    "concurrency",
    "rate",
    "max_in_flight",
    "connections",
    "warmup",
    "sample",
    "timeout",
    "op_timeout",
    "fail_on",
    "seed",
    "memory_limit",
    "tags",
    "expect_findings",
    "criteria",
    "escalate",
    "stages",
    "mix",
    "flow",
    "think",
];

/// Keys inside `escalate(...)`.
const ESCALATE_KEYS: &[&str] = &["start", "factor", "max", "step", "until"];

/// The attribute's options, each `None` when not declared.
#[derive(Default)]
pub struct Options {
    pub duration: Option<Duration>,
    /// The shortest `duration` may become under `BRUNT_SCALE`.
    pub min_duration: Option<Duration>,
    pub iterations: Option<u64>,
    pub concurrency: Option<u32>,
    /// Arrivals per second of the open model.
    pub rate: Option<f64>,
    /// Open model: most ops in flight at once.
    pub max_in_flight: Option<u32>,
    /// Open model: most worker states (connections) held at once.
    pub connections: Option<u32>,
    pub warmup: Option<Duration>,
    pub sample: Option<Duration>,
    pub timeout: Option<Duration>,
    pub op_timeout: Option<Duration>,
    /// `"warning"` or `"critical"`: findings that fail the scenario.
    pub fail_on: Option<String>,
    pub seed: Option<u64>,
    /// Bytes.
    pub memory_limit: Option<u64>,
    pub tags: Vec<String>,
    /// Kinds of finding the run must report (`["memory_leak"]`).
    pub expect_findings: Vec<String>,
    pub criteria: Vec<CriterionSpec>,
    pub escalate: Option<Escalate>,
    /// `(duration, target)` per stage.
    pub stages: Vec<(Duration, f64)>,
    /// `mix = ["tools_list:70", "call:30"]`: weighted ops.
    pub mix: Vec<(String, u32)>,
    /// `flow = ["login", "browse", "logout"]`: each worker's ops in order.
    pub flow: Vec<String>,
    /// `think = "uniform(10ms, 50ms)"`: a worker's pause between ops.
    pub think: Option<ThinkTime>,
}

/// `escalate(start = 8, factor = 2, max = 1024, step = "10s", until(...))`:
/// concurrency (or, with `start = "100/s"`, the arrival rate) raised step by
/// step until a condition breaks.
pub struct Escalate {
    /// Workers, or arrivals per second when `open`.
    pub start: f64,
    pub factor: f64,
    pub max: f64,
    /// Whether the levels are arrival rates (the open model).
    pub open: bool,
    pub step: Duration,
    pub until: Vec<CriterionSpec>,
}

/// A non-empty list of string literals, else `message` on the offender.
fn string_list(input: ParseStream, message: &str) -> syn::Result<Vec<syn::LitStr>> {
    let array: syn::ExprArray = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), message))?;
    let mut out = Vec::new();
    for element in &array.elems {
        match element {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => out.push(s.clone()),
            other => return Err(syn::Error::new(other.span(), message)),
        }
    }
    if out.is_empty() {
        return Err(syn::Error::new(array.span(), message));
    }
    Ok(out)
}

/// Rejects a key that is not in `known` (with the closest one within
/// `max_distance` edits as a hint) or that was `repeated`, spanned on the key.
fn check_key(
    key: &Ident,
    what: &str,
    known: &[&str],
    max_distance: usize,
    repeated: bool,
) -> syn::Result<()> {
    let name = key.to_string();
    if !known.contains(&name.as_str()) {
        let hint = match closest(&name, known.iter().copied(), max_distance) {
            Some(near) => format!("did you mean `{near}`?"),
            None => format!("expected one of: {}", known.join(", ")),
        };
        return Err(syn::Error::new(
            key.span(),
            format!("unknown {what} `{name}`; {hint}"),
        ));
    }
    if repeated {
        return Err(syn::Error::new(
            key.span(),
            format!("`{name}` is given twice"),
        ));
    }
    Ok(())
}

fn grammar_error(span: Span, key: &str, error: GrammarError) -> syn::Error {
    syn::Error::new(span, format!("invalid `{key}`: {error}"))
}

fn string_value(input: ParseStream, key: &Ident, example: &str) -> syn::Result<syn::LitStr> {
    let lookahead = input.fork();
    match lookahead.parse::<syn::Lit>() {
        Ok(syn::Lit::Str(_)) => input.parse(),
        Ok(other) => Err(syn::Error::new(
            other.span(),
            format!("`{key}` takes a string such as `{key} = \"{example}\"`"),
        )),
        Err(_) => Err(input.error(format!(
            "`{key}` takes a string such as `{key} = \"{example}\"`"
        ))),
    }
}

fn int_value<T: std::str::FromStr>(
    input: ParseStream,
    key: &Ident,
    example: &str,
) -> syn::Result<(T, Span)>
where
    T::Err: std::fmt::Display,
{
    let message = format!("`{key}` takes a whole number such as `{key} = {example}`");
    let lookahead = input.fork();
    match lookahead.parse::<syn::Lit>() {
        Ok(syn::Lit::Int(_)) => {
            let lit: syn::LitInt = input.parse()?;
            if !lit.suffix().is_empty() {
                return Err(syn::Error::new(lit.span(), message));
            }
            let value = lit
                .base10_parse::<T>()
                .map_err(|e| syn::Error::new(lit.span(), format!("`{key}`: {e}")))?;
            Ok((value, lit.span()))
        }
        Ok(other) => Err(syn::Error::new(other.span(), message)),
        Err(_) => Err(input.error(message)),
    }
}

/// A whole number of at least 1; zero is an error on its token saying
/// `why` it cannot be.
fn positive_u32(input: ParseStream, key: &Ident, example: &str, why: &str) -> syn::Result<u32> {
    let (value, span) = int_value::<u32>(input, key, example)?;
    if value == 0 {
        return Err(syn::Error::new(
            span,
            format!("`{key}` must be at least 1: {why}"),
        ));
    }
    Ok(value)
}

fn duration_value(input: ParseStream, key: &Ident, example: &str) -> syn::Result<Duration> {
    let lit = string_value(input, key, example)?;
    let value =
        parse_duration(&lit.value()).map_err(|e| grammar_error(lit.span(), &key.to_string(), e))?;
    if value.is_zero() && key != "warmup" {
        return Err(syn::Error::new(
            lit.span(),
            format!("`{key}` must be longer than zero"),
        ));
    }
    Ok(value)
}

impl Options {
    pub fn parse(tokens: TokenStream) -> syn::Result<Options> {
        let mut options = Options::default();
        let parser = |input: ParseStream| options.parse_all(input);
        parser.parse2(tokens)?;
        Ok(options)
    }

    fn parse_all(&mut self, input: ParseStream) -> syn::Result<()> {
        let mut seen: Vec<(String, Span)> = Vec::new();
        while !input.is_empty() {
            let key: Ident = input.call(syn::ext::IdentExt::parse_any)?;
            let name = key.to_string();
            check_key(&key, "key", KEYS, 3, seen.iter().any(|(k, _)| *k == name))?;
            self.parse_key(&key, input)?;
            self.check_exclusions(&key, &seen)?;
            seen.push((name, key.span()));
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        let open_escalation = self.escalate.as_ref().is_some_and(|e| e.open);
        for (key, why) in [
            (
                "flow",
                "a flow is each worker's sequence of ops; open-model arrivals have no worker",
            ),
            (
                "think",
                "think time paces a closed-model worker; an escalation of rates paces arrivals",
            ),
        ] {
            if let Some((_, span)) = seen.iter().find(|(k, _)| k == key)
                && open_escalation
            {
                return Err(syn::Error::new(
                    *span,
                    format!("`{key}` and an escalation of rates cannot both be given: {why}"),
                ));
            }
        }
        self.check_op_criteria()?;
        if let Some((_, span)) = seen.iter().find(|(k, _)| k == "min_duration") {
            match self.duration {
                None => {
                    return Err(syn::Error::new(
                        *span,
                        "`min_duration` is the floor of a scaled `duration`; it needs `duration = \"…\"`",
                    ));
                }
                Some(d) if self.min_duration.is_some_and(|m| m > d) => {
                    return Err(syn::Error::new(
                        *span,
                        "`min_duration` is longer than `duration`: the floor must not exceed what it floors",
                    ));
                }
                _ => {}
            }
        }
        if let Some((_, span)) = seen.iter().find(|(k, _)| k == "max_in_flight")
            && self.rate.is_none()
            && !self.escalate.as_ref().is_some_and(|e| e.open)
        {
            return Err(syn::Error::new(
                *span,
                "`max_in_flight` bounds the open model; it needs `rate = \"…/s\"` (or an escalation of rates)",
            ));
        }
        if let Some((_, span)) = seen.iter().find(|(k, _)| k == "connections") {
            if self.rate.is_none() && !self.escalate.as_ref().is_some_and(|e| e.open) {
                return Err(syn::Error::new(
                    *span,
                    "`connections` bounds the open model's worker states; it needs `rate = \"…/s\"` (or an escalation of rates) — the closed model holds one state per worker (`concurrency`)",
                ));
            }
            if let (Some(connections), Some(max)) = (self.connections, self.max_in_flight)
                && connections > max
            {
                return Err(syn::Error::new(
                    *span,
                    format!(
                        "`connections = {connections}` exceeds `max_in_flight = {max}`: at most {max} ops run at once, so no more than {max} states could ever be used"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Criteria on `op.<name>.…` must name an op of the declared mix or flow.
    fn check_op_criteria(&self) -> syn::Result<()> {
        let names: Vec<&str> = self
            .mix
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.flow.iter().map(String::as_str))
            .collect();
        let until = self.escalate.iter().flat_map(|e| e.until.iter());
        for c in self.criteria.iter().chain(until) {
            let Some((op, _)) = split_op_metric(&c.metric) else {
                continue;
            };
            if names.is_empty() {
                return Err(syn::Error::new_spanned(
                    &c.tokens,
                    format!(
                        "`{}` names op `{op}`, but no `mix` or `flow` declares the ops",
                        c.metric
                    ),
                ));
            }
            if !names.contains(&op) {
                let hint = match closest(op, names.iter().copied(), 3) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None => format!("the ops are: {}", names.join(", ")),
                };
                return Err(syn::Error::new_spanned(
                    &c.tokens,
                    format!(
                        "no op named `{op}` in the {}; {hint}",
                        if self.mix.is_empty() { "flow" } else { "mix" }
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Keys that cannot be combined are reported on the second one.
    fn check_exclusions(&self, key: &Ident, seen: &[(String, Span)]) -> syn::Result<()> {
        let has = |k: &str| seen.iter().any(|(s, _)| s == k);
        let pairs = [
            (
                "duration",
                "iterations",
                "a closed run ends after a duration or after a number of iterations, not both",
            ),
            (
                "concurrency",
                "rate",
                "`concurrency` declares the closed model and `rate` the open one; choose one",
            ),
            (
                "escalate",
                "concurrency",
                "escalation sets the concurrency of each step itself",
            ),
            (
                "escalate",
                "rate",
                "escalation sets the rate of each step itself (`start = \"100/s\"`)",
            ),
            (
                "escalate",
                "duration",
                "an escalation lasts as many `step`s as it takes",
            ),
            (
                "escalate",
                "iterations",
                "an escalation lasts as many `step`s as it takes",
            ),
            (
                "stages",
                "duration",
                "a staged run lasts as long as its stages",
            ),
            (
                "stages",
                "iterations",
                "a staged run lasts as long as its stages",
            ),
            (
                "stages",
                "escalate",
                "choose stages you declare or an escalation that searches",
            ),
            (
                "mix",
                "flow",
                "a mix draws ops by weight, a flow runs them in order: choose one",
            ),
            (
                "flow",
                "rate",
                "a flow is each worker's sequence of ops; open-model arrivals have no worker",
            ),
            (
                "think",
                "rate",
                "think time paces a closed-model worker; under `rate` the schedule paces arrivals",
            ),
        ];
        for (a, b, why) in pairs {
            if (key == a && has(b)) || (key == b && has(a)) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{a}` and `{b}` cannot both be given: {why}"),
                ));
            }
        }
        Ok(())
    }

    fn parse_key(&mut self, key: &Ident, input: ParseStream) -> syn::Result<()> {
        let name = key.to_string();
        if name == "escalate" {
            let content;
            syn::parenthesized!(content in input);
            self.escalate = Some(parse_escalate(key, &content)?);
            return Ok(());
        }
        if name == "criteria" {
            if input.peek(Token![=]) {
                return Err(syn::Error::new(
                    input.span(),
                    "`criteria` takes a list: `criteria(success_rate >= 99%, latency.p99 <= 20ms)`",
                ));
            }
            let content;
            syn::parenthesized!(content in input);
            self.criteria = parse_criteria(&content)?;
            return Ok(());
        }
        if !input.peek(Token![=]) {
            return Err(syn::Error::new(
                key.span(),
                format!("`{name}` needs a value: `{name} = …`"),
            ));
        }
        input.parse::<Token![=]>()?;
        match name.as_str() {
            "duration" => self.duration = Some(duration_value(input, key, "10s")?),
            "min_duration" => self.min_duration = Some(duration_value(input, key, "10s")?),
            "warmup" => self.warmup = Some(duration_value(input, key, "1s")?),
            "sample" => self.sample = Some(duration_value(input, key, "100ms")?),
            "timeout" => self.timeout = Some(duration_value(input, key, "2m")?),
            "op_timeout" => self.op_timeout = Some(duration_value(input, key, "5s")?),
            "fail_on" => {
                let lit = string_value(input, key, "critical")?;
                let value = lit.value();
                if !matches!(value.as_str(), "warning" | "critical") {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "`fail_on` is \"critical\" (a critical finding fails the scenario) or \"warning\" (a warning or critical one does), not {value:?}"
                        ),
                    ));
                }
                self.fail_on = Some(value);
            }
            "iterations" => {
                let (value, span) = int_value::<u64>(input, key, "10_000")?;
                if value == 0 {
                    return Err(syn::Error::new(span, "`iterations` must be at least 1"));
                }
                self.iterations = Some(value);
            }
            "concurrency" => {
                self.concurrency = Some(positive_u32(
                    input,
                    key,
                    "8",
                    "zero workers would never run the op",
                )?);
            }
            "seed" => self.seed = Some(int_value::<u64>(input, key, "42")?.0),
            "max_in_flight" => {
                self.max_in_flight =
                    Some(positive_u32(input, key, "1000", "no op could ever start")?);
            }
            "connections" => {
                self.connections = Some(positive_u32(
                    input,
                    key,
                    "16",
                    "no op could ever get a state to run with",
                )?);
            }
            "rate" => {
                let lit = string_value(input, key, "500/s")?;
                self.rate = Some(
                    parse_rate(&lit.value()).map_err(|e| grammar_error(lit.span(), &name, e))?,
                );
            }
            "memory_limit" => {
                let lit = string_value(input, key, "512MiB")?;
                let bytes =
                    parse_size(&lit.value()).map_err(|e| grammar_error(lit.span(), &name, e))?;
                if bytes == 0 {
                    return Err(syn::Error::new(
                        lit.span(),
                        "`memory_limit` must be above zero",
                    ));
                }
                self.memory_limit = Some(bytes);
            }
            "mix" => {
                let message = "`mix` takes a list of \"NAME:WEIGHT\" strings such as `mix = [\"tools_list:70\", \"call:30\"]`";
                for s in string_list(input, message)? {
                    let (name, weight) = parse_mix_entry(&s.value())
                        .map_err(|e| grammar_error(s.span(), "mix", e))?;
                    if self.mix.iter().any(|(n, _)| *n == name) {
                        return Err(syn::Error::new(
                            s.span(),
                            format!("op `{name}` is in the mix twice"),
                        ));
                    }
                    self.mix.push((name, weight));
                }
            }
            "flow" => {
                let message = "`flow` takes a list of op names such as `flow = [\"login\", \"browse\", \"logout\"]`";
                for s in string_list(input, message)? {
                    let name = s.value();
                    if !is_op_name(&name) {
                        return Err(syn::Error::new(
                            s.span(),
                            format!(
                                "`{name}` is not an op name: use a lowercase word of letters, digits and `_`"
                            ),
                        ));
                    }
                    self.flow.push(name);
                }
            }
            "think" => {
                let lit = string_value(input, key, "uniform(10ms, 50ms)")?;
                self.think = Some(
                    parse_think(&lit.value()).map_err(|e| grammar_error(lit.span(), "think", e))?,
                );
            }
            "stages" => {
                let message = "`stages` takes a list of \"DURATION:TARGET\" strings such as `stages = [\"10s:100\", \"30s:1000\", \"10s:0\"]`";
                let array: syn::ExprArray = input
                    .parse()
                    .map_err(|e| syn::Error::new(e.span(), message))?;
                for element in &array.elems {
                    match element {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => self.stages.push(
                            parse_stage(&s.value())
                                .map_err(|e| grammar_error(s.span(), "stages", e))?,
                        ),
                        other => return Err(syn::Error::new(other.span(), message)),
                    }
                }
                if self.stages.is_empty() {
                    return Err(syn::Error::new(array.span(), message));
                }
            }
            "tags" => {
                let message = "`tags` takes a list of strings such as `tags = [\"mcp\", \"slow\"]`";
                let array: syn::ExprArray = input
                    .parse()
                    .map_err(|e| syn::Error::new(e.span(), message))?;
                for element in &array.elems {
                    match element {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => self.tags.push(s.value()),
                        other => return Err(syn::Error::new(other.span(), message)),
                    }
                }
            }
            "expect_findings" => {
                let message = "`expect_findings` takes a list of finding kinds such as `expect_findings = [\"memory_leak\"]`";
                let array: syn::ExprArray = input
                    .parse()
                    .map_err(|e| syn::Error::new(e.span(), message))?;
                for element in &array.elems {
                    let syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) = element
                    else {
                        return Err(syn::Error::new(element.span(), message));
                    };
                    let kind = s.value();
                    if !brunt_grammar::FINDING_KINDS.contains(&kind.as_str()) {
                        let hint = brunt_grammar::closest(
                            &kind,
                            brunt_grammar::FINDING_KINDS.iter().copied(),
                            3,
                        )
                        .map_or(String::new(), |c| format!("did you mean `{c}`? "));
                        return Err(syn::Error::new(
                            s.span(),
                            format!(
                                "unknown finding kind `{kind}`; {hint}kinds: {}",
                                brunt_grammar::FINDING_KINDS.join(", ")
                            ),
                        ));
                    }
                    if self.expect_findings.contains(&kind) {
                        return Err(syn::Error::new(
                            s.span(),
                            format!("`{kind}` is expected twice"),
                        ));
                    }
                    self.expect_findings.push(kind);
                }
                if self.expect_findings.is_empty() {
                    return Err(syn::Error::new(array.span(), message));
                }
            }
            other => {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{other}` is listed as a key but has no parser (a Brunt bug)"),
                ));
            }
        }
        Ok(())
    }
}

fn parse_escalate(key: &Ident, input: ParseStream) -> syn::Result<Escalate> {
    let (mut start, mut factor, mut max, mut step, mut until) = (None, None, None, None, None);
    let mut seen: Vec<String> = Vec::new();
    while !input.is_empty() {
        let inner: Ident = input.call(syn::ext::IdentExt::parse_any)?;
        let name = inner.to_string();
        check_key(
            &inner,
            "escalate key",
            ESCALATE_KEYS,
            2,
            seen.contains(&name),
        )?;
        seen.push(name.clone());
        if name == "until" {
            let content;
            syn::parenthesized!(content in input);
            until = Some(parse_criteria(&content)?);
        } else {
            input.parse::<Token![=]>()?;
            match name.as_str() {
                "start" | "max" => {
                    let level = level_value(input, &inner)?;
                    if name == "start" {
                        start = Some(level);
                    } else {
                        max = Some(level);
                    }
                }
                "factor" => {
                    let lit: syn::Lit = input.parse()?;
                    let value = match &lit {
                        syn::Lit::Int(i) => i.base10_parse::<f64>()?,
                        syn::Lit::Float(f) => f.base10_parse::<f64>()?,
                        other => {
                            return Err(syn::Error::new(
                                other.span(),
                                "`factor` takes a number above 1, such as `factor = 2`",
                            ));
                        }
                    };
                    if value <= 1.0 {
                        return Err(syn::Error::new(
                            lit.span(),
                            "`factor` must be above 1, or the load would never rise",
                        ));
                    }
                    factor = Some(value);
                }
                _ => step = Some(duration_value(input, &inner, "10s")?),
            }
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    let missing = |what: &str| {
        syn::Error::new(
            key.span(),
            format!(
                "`escalate` needs `{what}`: escalate(start = 8, factor = 2, max = 1024, step = \"10s\", until(latency.p99 <= 50ms))"
            ),
        )
    };
    let (start, start_open, _) = start.ok_or_else(|| missing("start"))?;
    let (max, max_open, max_span) = max.ok_or_else(|| missing("max"))?;
    if start_open != max_open {
        return Err(syn::Error::new(
            max_span,
            "`start` and `max` must both be workers (`start = 8`) or both arrival rates (`start = \"100/s\"`)",
        ));
    }
    if max < start {
        return Err(syn::Error::new(max_span, "`max` must not be below `start`"));
    }
    let until = until.ok_or_else(|| missing("until"))?;
    check_until(&until, start_open)?;
    Ok(Escalate {
        start,
        factor: factor.unwrap_or(2.0),
        max,
        open: start_open,
        step: step.ok_or_else(|| missing("step"))?,
        until,
    })
}

/// A step level: a whole number of workers (`8`), or an arrival rate
/// (`"100/s"`, the open model). Returns the level, whether it is a rate, and
/// its span.
fn level_value(input: ParseStream, key: &Ident) -> syn::Result<(f64, bool, Span)> {
    if input.peek(syn::LitStr) {
        let lit: syn::LitStr = input.parse()?;
        let rate =
            parse_rate(&lit.value()).map_err(|e| grammar_error(lit.span(), &key.to_string(), e))?;
        return Ok((rate, true, lit.span()));
    }
    let (value, span) = int_value::<u32>(input, key, "8")?;
    if value == 0 {
        return Err(syn::Error::new(span, format!("`{key}` must be at least 1")));
    }
    Ok((f64::from(value), false, span))
}

/// `until(...)` judges each step on the load it drove: a resource, custom
/// or windowed metric is not measured per step and would "break" at once.
fn check_until(until: &[CriterionSpec], open: bool) -> syn::Result<()> {
    for c in until {
        let metric = c.metric.as_str();
        let per_step = metric_info(metric).map_or(PerStep::No, |m| m.per_step);
        let why = if c.window.is_some() || c.abort {
            Some("`until` takes plain criteria, not `window(...)` or `abort(...)`".to_string())
        } else if per_step == PerStep::Open && !open {
            Some(format!(
                "`{metric}` is measured by the open model only; escalate arrival rates (`start = \"100/s\"`) to use it"
            ))
        } else if per_step == PerStep::No {
            Some(format!(
                "`until` judges each step on its own load metrics ({}{}); `{metric}` is not measured per step",
                metric_names(|m| m.per_step == PerStep::Both).join(", "),
                if open { ", and the open model's" } else { "" }
            ))
        } else {
            None
        };
        if let Some(why) = why {
            return Err(syn::Error::new_spanned(&c.tokens, why));
        }
    }
    Ok(())
}
