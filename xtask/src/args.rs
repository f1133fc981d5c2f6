//! A subcommand's command line: flags and options with a value.

/// A subcommand's arguments: flags (`--check`) and options with a value (`--only NAME`).
pub(crate) struct Args {
    flags: Vec<&'static str>,
    values: Vec<(&'static str, String)>,
}

impl Args {
    /// Parses `args` for `command`, which accepts the `flags` and the `options` (each option
    /// paired with what its value is, for the error message).
    pub(crate) fn parse(
        command: &str,
        args: &[String],
        flags: &[&'static str],
        options: &[(&'static str, &str)],
    ) -> Result<Self, String> {
        let mut parsed = Self {
            flags: Vec::new(),
            values: Vec::new(),
        };
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if let Some(flag) = flags.iter().find(|f| **f == arg.as_str()) {
                parsed.flags.push(flag);
            } else if let Some((option, what)) = options.iter().find(|(o, _)| *o == arg.as_str()) {
                let value = iter
                    .next()
                    .ok_or_else(|| format!("{command}: {option} needs {what}"))?;
                parsed.values.push((option, value.clone()));
            } else {
                return Err(format!("{command}: unknown argument `{arg}`"));
            }
        }
        Ok(parsed)
    }

    /// Whether `flag` was given.
    pub(crate) fn flag(&self, flag: &str) -> bool {
        self.flags.contains(&flag)
    }

    /// The value of `option`, if given (the last one wins).
    pub(crate) fn value(&self, option: &str) -> Option<String> {
        self.values
            .iter()
            .rev()
            .find(|(o, _)| *o == option)
            .map(|(_, v)| v.clone())
    }
}
