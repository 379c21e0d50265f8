//! Init spec strings such as `normal(mean=0, std=0.02)` or `uniform(-1, 1)`: a name, optionally
//! followed by parenthesised arguments, each `key=value` or positional, values numbers or words.

use crate::error::{Error, Result};

/// One argument value.
#[derive(Debug, Clone, PartialEq)]
pub enum SpecValue {
    /// A number (`0.02`, `-1`, `1e-3`, `inf` and `nan` are parsed too, and rejected by validation).
    Number(f64),
    /// A bare word (`fan_in`, `relu`).
    Word(String),
}

/// A parsed spec: `name(args…)`, before its arguments are checked against a scheme.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecCall {
    /// The scheme name, lower-case as written.
    pub name: String,
    /// The arguments in order: `(Some(key), value)` or `(None, value)` for positional ones.
    pub args: Vec<(Option<String>, SpecValue)>,
}

fn parse_error(input: &str, reason: impl Into<String>) -> Error {
    Error::Parse {
        what: "init spec",
        input: input.to_string(),
        reason: reason.into(),
    }
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl SpecCall {
    /// Parses `name` or `name(arg, key=value, …)`.
    pub fn parse(input: &str) -> Result<Self> {
        let text = input.trim();
        let (name, inner) = match text.find('(') {
            None => (text, None),
            Some(open) => {
                let rest = text[open + 1..]
                    .strip_suffix(')')
                    .ok_or_else(|| parse_error(input, "missing closing parenthesis at the end"))?;
                if rest.contains(['(', ')']) {
                    return Err(parse_error(input, "unbalanced or nested parentheses"));
                }
                (text[..open].trim_end(), Some(rest))
            }
        };
        if name.contains(')') {
            return Err(parse_error(input, "unbalanced parentheses"));
        }
        if !is_identifier(name) {
            return Err(parse_error(input, format!("{name:?} is not a scheme name")));
        }
        let mut args = Vec::new();
        if let Some(inner) = inner.filter(|inner| !inner.trim().is_empty()) {
            for arg in inner.split(',') {
                args.push(Self::parse_arg(input, arg.trim())?);
            }
        }
        Ok(Self {
            name: name.to_ascii_lowercase(),
            args,
        })
    }

    fn parse_arg(input: &str, arg: &str) -> Result<(Option<String>, SpecValue)> {
        let (key, value) = match arg.split_once('=') {
            Some((key, value)) => (Some(key.trim()), value.trim()),
            None => (None, arg),
        };
        if let Some(key) = key.filter(|key| !is_identifier(key)) {
            return Err(parse_error(
                input,
                format!("{key:?} is not an argument name"),
            ));
        }
        if value.is_empty() {
            return Err(parse_error(input, "empty argument"));
        }
        let value = match value.parse::<f64>() {
            Ok(number) => SpecValue::Number(number),
            Err(_) if is_identifier(value) => SpecValue::Word(value.to_ascii_lowercase()),
            Err(_) => {
                return Err(parse_error(
                    input,
                    format!("{value:?} is neither a number nor a word"),
                ));
            }
        };
        Ok((key.map(str::to_ascii_lowercase), value))
    }

    /// Matches the arguments to `params` (positional ones in order), rejecting unknown, duplicate
    /// and surplus arguments.
    pub fn bind(&self, params: &[&'static str]) -> Result<BoundArgs> {
        let mut values: Vec<Option<SpecValue>> = vec![None; params.len()];
        for (position, (key, value)) in self.args.iter().enumerate() {
            let slot = match key {
                Some(key) => params.iter().position(|p| p == key).ok_or_else(|| {
                    Error::invalid(
                        format!("{}({key}=…)", self.name),
                        key,
                        format!(
                            "unknown argument; {} takes {}",
                            self.name,
                            list_or_none(params)
                        ),
                    )
                })?,
                None if position < params.len() => position,
                None => {
                    return Err(Error::invalid(
                        format!("{} arguments", self.name),
                        self.args.len(),
                        format!(
                            "{} takes at most {} ({})",
                            self.name,
                            params.len(),
                            list_or_none(params)
                        ),
                    ));
                }
            };
            if values[slot].replace(value.clone()).is_some() {
                return Err(Error::invalid(
                    format!("{}({}=…)", self.name, params[slot]),
                    "given twice",
                    "each argument at most once",
                ));
            }
        }
        Ok(BoundArgs {
            scheme: self.name.clone(),
            params: params.to_vec(),
            values,
        })
    }
}

fn list_or_none(params: &[&str]) -> String {
    if params.is_empty() {
        "no arguments".to_string()
    } else {
        params.join(", ")
    }
}

/// A spec's arguments matched to a scheme's parameters.
#[derive(Debug, Clone)]
pub struct BoundArgs {
    scheme: String,
    params: Vec<&'static str>,
    values: Vec<Option<SpecValue>>,
}

impl BoundArgs {
    fn slot(&self, param: &str) -> Option<&SpecValue> {
        let index = self.params.iter().position(|p| *p == param)?;
        self.values[index].as_ref()
    }

    /// The number given for `param`, if any; a word there is an error.
    pub fn number(&self, param: &str) -> Result<Option<f64>> {
        match self.slot(param) {
            None => Ok(None),
            Some(SpecValue::Number(number)) => Ok(Some(*number)),
            Some(SpecValue::Word(word)) => Err(Error::invalid(
                format!("{}({param}=…)", self.scheme),
                word,
                "must be a number",
            )),
        }
    }

    /// The number for `param`, or `default` when it was not given.
    pub fn number_or(&self, param: &str, default: f64) -> Result<f64> {
        Ok(self.number(param)?.unwrap_or(default))
    }

    /// The number for `param`, which must be given.
    pub fn required_number(&self, param: &str) -> Result<f64> {
        self.number(param)?.ok_or_else(|| {
            Error::invalid(format!("{}({param}=…)", self.scheme), "missing", "required")
        })
    }

    /// The word given for `param`, if any; a number there is an error.
    pub fn word(&self, param: &str) -> Result<Option<&str>> {
        match self.slot(param) {
            None => Ok(None),
            Some(SpecValue::Word(word)) => Ok(Some(word)),
            Some(SpecValue::Number(number)) => Err(Error::invalid(
                format!("{}({param}=…)", self.scheme),
                number,
                "must be a word",
            )),
        }
    }
}

/// Narrows a spec number to the f32 the kernels use, rejecting values f32 cannot hold.
pub fn to_f32(name: &str, value: f64) -> Result<f32> {
    let narrowed = value as f32;
    if value.is_finite() && !narrowed.is_finite() {
        return Err(Error::invalid(
            name,
            value,
            "must fit in f32 (|x| < 3.4e38)",
        ));
    }
    Ok(narrowed)
}

#[cfg(test)]
mod tests {
    use crate::scheme::fans::FanMode;
    use crate::scheme::{FanRule, Init};

    fn parse(spec: &str) -> crate::Result<Init> {
        // Parsing and planning together: what `nninit fill --init` accepts.
        let init = Init::parse(spec)?;
        init.plan(&[4, 4], &FanRule::torch())?;
        Ok(init)
    }

    #[test]
    fn parses_keyword_positional_and_bare_specs() {
        assert_eq!(
            parse("uniform(a=-1,b=1)").unwrap(),
            Init::Uniform { a: -1.0, b: 1.0 }
        );
        assert_eq!(
            parse(" normal( 0 , std = 0.02 ) ").unwrap(),
            Init::Normal {
                mean: 0.0,
                std: 0.02
            }
        );
        assert_eq!(parse("uniform").unwrap(), Init::Uniform { a: 0.0, b: 1.0 });
        assert_eq!(
            parse("constant(val=0.5)").unwrap(),
            Init::Constant { val: 0.5 }
        );
        let Init::KaimingNormal { mode, .. } = parse("Kaiming_Normal(mode=FAN_OUT)").unwrap()
        else {
            panic!("not kaiming_normal")
        };
        assert_eq!(mode, FanMode::FanOut);
    }

    #[test]
    fn rejects_malformed_specs() {
        for bad in [
            "uniform(a=-1,b=1",
            "uniform(a=-1,b=1))",
            "uniform)",
            "uniform((1)",
            "uniform(c=1)",
            "uniform(a=1,a=2)",
            "uniform(1,2,3)",
            "uniform(a=x1-)",
            "uniform(a=)",
            "uniform(a=1,)",
            "normal(std=0)",
            "normal(std=nan)",
            "uniform(a=1,b=1)",
            "constant",
            "constant(val=1e39)",
            "gaussian",
            "",
            "1x",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
