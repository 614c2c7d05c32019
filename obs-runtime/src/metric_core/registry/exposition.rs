//! How the registry's families are exposed: a name prefix and constant
//! labels, applied at encode time by every output (the 0.0.4 text,
//! `OpenMetrics`, the OTLP push, the `prometheus` bridge) and by the
//! exported rules, dashboards and docs, so a team whose dashboards query
//! `brain_http_requests_total{service="brain"}` keeps them.
//!
//! The prefix goes on every family except obs's own (`obs_*`), the
//! process's (`process_*`) and the host's (`node_*`), which keep the names
//! every Prometheus client library and `node_exporter` give them, and except
//! a name that starts with the prefix already. So with `prefix("brain")`
//! the HTTP families become `brain_http_requests_total` (the names
//! prometheus-fastapi-instrumentator gives with `namespace="brain"`),
//! `brain_health_check_status`, `brain_<function>_calls_total`, while a
//! metric set declared as `brain_missions_total` stays that.

use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;

use crate::leaves::schema::{check_label_name, check_label_value, check_name_syntax};
use crate::metric_core::callsite;
use crate::metric_core::encode::{Exposed, UNPREFIXED};

use super::{OVERFLOW_FAMILY, global, lock};

static EXPOSITION: OnceLock<Exposed> = OnceLock::new();

/// The variable `init()` reads the prefix from.
const PREFIX_VAR: &str = "OBS_METRICS_PREFIX";
/// The variable `init()` reads the constant labels from.
const LABELS_VAR: &str = "OBS_METRICS_CONSTANT_LABELS";

/// What `init()` does with the two variables: configures the exposition
/// they give, or says why not among its warnings (a bad value never stops
/// the program).
pub(crate) fn configure_from_env(warnings: &mut Vec<String>) {
    match Exposition::from_env() {
        Ok(None) => {}
        Ok(Some(exposition)) => {
            if let Err(e) = configure(exposition) {
                warnings.push(format!(
                    "{PREFIX_VAR}/{LABELS_VAR}: {e}; metrics exposed without them"
                ));
            }
        }
        Err(e) => warnings.push(format!(
            "{PREFIX_VAR}/{LABELS_VAR}: {e}; metrics exposed without them"
        )),
    }
}

/// The build info family, whose `service` label a constant `service`
/// label gives way to.
const BUILD_INFO: &str = "obs_build_info";

/// The configured prefix and constant labels, if any.
pub(crate) fn exposition() -> Option<&'static Exposed> {
    EXPOSITION.get()
}

/// A name prefix and constant labels for every exposed family; hand it to
/// [`configure`].
///
/// ```
/// use obs_runtime::registry::Exposition;
/// let e = Exposition::default()
///     .prefix("brain")
///     .constant_label("service", "brain")
///     .constant_label("environment", "production");
/// assert_eq!(e.prefix_str(), "brain");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exposition {
    prefix: String,
    labels: Vec<(String, String)>,
}

impl Exposition {
    /// The name prefix (`brain` gives `brain_http_requests_total`); a
    /// trailing `_` is allowed and not doubled.
    ///
    /// ```
    /// let e = obs_runtime::registry::Exposition::default().prefix("brain_");
    /// assert_eq!(e.prefix_str(), "brain");
    /// ```
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix: String = prefix.into();
        prefix
            .strip_suffix('_')
            .unwrap_or(&prefix)
            .clone_into(&mut self.prefix);
        self
    }

    /// A label written on every series (`service="brain"`).
    ///
    /// ```
    /// let e = obs_runtime::registry::Exposition::default().constant_label("service", "brain");
    /// assert_eq!(e.labels(), &[("service".to_owned(), "brain".to_owned())]);
    /// ```
    #[must_use]
    pub fn constant_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }

    /// The prefix, without its `_` (empty for none).
    ///
    /// ```
    /// assert_eq!(obs_runtime::registry::Exposition::default().prefix_str(), "");
    /// ```
    #[must_use]
    pub fn prefix_str(&self) -> &str {
        &self.prefix
    }

    /// The constant labels, in the order given.
    ///
    /// ```
    /// assert!(obs_runtime::registry::Exposition::default().labels().is_empty());
    /// ```
    #[must_use]
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }

    /// The exposition `OBS_METRICS_PREFIX` and `OBS_METRICS_CONSTANT_LABELS`
    /// (`name=value,name=value`) set, if either is set; what `init()`
    /// configures.
    ///
    /// ```
    /// // Neither variable is set here.
    /// assert_eq!(obs_runtime::registry::Exposition::from_env(), Ok(None));
    /// ```
    ///
    /// # Errors
    /// A constant label without `=`, or a prefix or label that breaks the
    /// naming rules.
    pub fn from_env() -> Result<Option<Self>, ExpositionError> {
        Self::from_vars(
            std::env::var(PREFIX_VAR).ok(),
            std::env::var(LABELS_VAR).ok(),
        )
    }

    fn from_vars(
        prefix: Option<String>,
        labels: Option<String>,
    ) -> Result<Option<Self>, ExpositionError> {
        let prefix = prefix.filter(|p| !p.trim().is_empty());
        let labels = labels.filter(|l| !l.trim().is_empty());
        if prefix.is_none() && labels.is_none() {
            return Ok(None);
        }
        let mut exposition = Self::default().prefix(prefix.unwrap_or_default().trim());
        for pair in labels.as_deref().unwrap_or_default().split(',') {
            let pair = pair.trim();
            if pair.is_empty() {
                continue;
            }
            let Some((name, value)) = pair.split_once('=') else {
                return Err(ExpositionError::LabelName {
                    name: pair.to_owned(),
                    reason: format!("{LABELS_VAR} holds name=value pairs separated by commas"),
                });
            };
            exposition = exposition.constant_label(name.trim(), value.trim());
        }
        exposition.check()?;
        Ok(Some(exposition))
    }

    /// Checks the prefix and labels on their own (syntax, reserved names).
    fn check(&self) -> Result<(), ExpositionError> {
        if !self.prefix.is_empty() {
            if let Some(reason) = check_name_syntax(&self.prefix) {
                return Err(ExpositionError::Prefix {
                    prefix: self.prefix.clone(),
                    reason: reason.to_owned(),
                });
            }
            if UNPREFIXED
                .iter()
                .any(|p| p.strip_suffix('_') == Some(self.prefix.as_str()))
            {
                return Err(ExpositionError::Prefix {
                    prefix: self.prefix.clone(),
                    reason: "`obs`, `process` and `node` name the families the prefix leaves alone: choose the service's name".to_owned(),
                });
            }
        }
        for (i, (name, value)) in self.labels.iter().enumerate() {
            let reason = match name.as_str() {
                "job" | "instance" => Some(
                    "`job` and `instance` are the labels Prometheus gives each target; an exposed one would be renamed `exported_job`/`exported_instance`: set them in the scrape configuration",
                ),
                _ => check_label_name(name),
            };
            if let Some(reason) = reason {
                return Err(ExpositionError::LabelName {
                    name: name.clone(),
                    reason: reason.to_owned(),
                });
            }
            if let Some(reason) = check_label_value(value) {
                return Err(ExpositionError::Value {
                    name: name.clone(),
                    reason: reason.to_owned(),
                });
            }
            if self.labels.iter().take(i).any(|(n, _)| n == name) {
                return Err(ExpositionError::DuplicateLabel(name.clone()));
            }
        }
        Ok(())
    }
}

/// Why [`configure`] refused an exposition.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpositionError {
    /// The prefix is not a valid start of a metric name.
    Prefix {
        /// The prefix given.
        prefix: String,
        /// The rule it breaks.
        reason: String,
    },
    /// A constant label's name is not allowed.
    LabelName {
        /// The label's name.
        name: String,
        /// The rule it breaks.
        reason: String,
    },
    /// A constant label's value is not allowed.
    Value {
        /// The label's name.
        name: String,
        /// The rule its value breaks.
        reason: String,
    },
    /// The same constant label is given twice.
    DuplicateLabel(String),
    /// A registered family has a label of the constant label's name.
    Clash {
        /// The constant label.
        label: String,
        /// The family that has a label of that name.
        family: String,
    },
    /// With the prefix, two registered families would be exposed under one
    /// name (`missions_total` and `brain_missions_total`).
    Collision {
        /// The name both would be exposed as.
        exposed: String,
        /// The two registered names.
        names: (String, String),
    },
    /// Another exposition is configured already (the names of a scrape
    /// can't change during the program's life).
    AlreadyConfigured,
}

impl fmt::Display for ExpositionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Prefix { prefix, reason } => write!(f, "metric prefix `{prefix}`: {reason}"),
            Self::LabelName { name, reason } => write!(f, "constant label `{name}`: {reason}"),
            Self::Value { name, reason } => {
                write!(f, "value of constant label `{name}`: {reason}")
            }
            Self::DuplicateLabel(name) => write!(
                f,
                "constant label `{name}` is given twice: give each label once"
            ),
            Self::Clash { label, family } => write!(
                f,
                "constant label `{label}` clashes with the label `{label}` of the registered family `{family}`: rename one"
            ),
            Self::Collision { exposed, names } => write!(
                f,
                "`{}` and `{}` would both be exposed as `{exposed}` with this prefix: rename one",
                names.0, names.1
            ),
            Self::AlreadyConfigured => f.write_str(
                "another metric exposition (prefix, constant labels) is configured already: configure it once, before the first scrape",
            ),
        }
    }
}

impl std::error::Error for ExpositionError {}

/// Sets the registry's name prefix and constant labels, for the rest of the
/// program: call it first in `main`, before metrics are registered and the
/// first scrape. Calling it again with the same exposition is a no-op.
///
/// ```
/// use obs_runtime::registry::{self, Exposition};
/// let brain = Exposition::default().prefix("docbrain").constant_label("service", "docbrain");
/// registry::configure(brain.clone()).unwrap();
/// registry::configure(brain).unwrap(); // idempotent
/// let c = obs_runtime::metrics::Counter::<()>::new("doc_missions_total", "Missions.")
///     .unwrap()
///     .register()
///     .unwrap();
/// c.inc();
/// let text = obs_runtime::encode_text();
/// assert!(text.contains("\ndocbrain_doc_missions_total{service=\"docbrain\"} 1\n"));
/// assert_eq!(registry::exposed_name("doc_missions_total"), "docbrain_doc_missions_total");
/// assert_eq!(registry::exposed_name("process_cpu_seconds_total"), "process_cpu_seconds_total");
/// assert!(registry::configure(Exposition::default().prefix("other")).is_err());
/// ```
///
/// # Errors
/// A prefix or label that breaks the naming rules (`job` and `instance`
/// are Prometheus' target labels and refused too); a constant label that a
/// registered family already has; two registered families that the prefix
/// would expose under one name; another exposition configured already.
/// Families registered later are checked when they register.
pub fn configure(exposition: Exposition) -> Result<(), ExpositionError> {
    exposition.check()?;
    let exposed = Exposed::new(&exposition.prefix, exposition.labels);
    if let Some(current) = EXPOSITION.get() {
        return if *current == exposed {
            Ok(())
        } else {
            Err(ExpositionError::AlreadyConfigured)
        };
    }
    check_registered(&exposed)?;
    let set = EXPOSITION.get_or_init(|| exposed.clone());
    if *set == exposed {
        Ok(())
    } else {
        Err(ExpositionError::AlreadyConfigured)
    }
}

/// The families registered so far against `exposed`: labels and names.
fn check_registered(exposed: &Exposed) -> Result<(), ExpositionError> {
    let mut families: Vec<(String, Vec<String>)> = global()
        .describe()
        .into_iter()
        .map(|(d, _)| (d.name, d.labels))
        .collect();
    for site in callsite::all() {
        let meta = site.meta();
        let labels: Vec<String> = meta
            .labels
            .iter()
            .map(|(k, _)| (*k).to_owned())
            .chain(site.arg_label_names().map(str::to_owned))
            .collect();
        for name in site.family_names() {
            families.push((name, labels.clone()));
        }
    }
    // `describe` lists foreign collectors by their first series only.
    for collector in lock(&global().foreign).iter() {
        for desc in collector.desc() {
            let labels = desc
                .variable_labels
                .iter()
                .cloned()
                .chain(desc.const_label_pairs.iter().map(|p| p.name().to_owned()))
                .collect();
            families.push((desc.fq_name.clone(), labels));
        }
    }
    families.push((OVERFLOW_FAMILY.to_owned(), vec!["metric".to_owned()]));
    for (name, labels) in &families {
        // `obs_build_info{service}` names the service already: its own
        // label wins over a constant `service` (the same thing).
        let labels = labels
            .iter()
            .map(String::as_str)
            .filter(|l| !(name == BUILD_INFO && *l == "service"));
        check_family(exposed, name, labels)?;
    }
    let mut names: Vec<(String, &str)> = families
        .iter()
        .map(|(n, _)| (exposed_as(exposed, n).into_owned(), n.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    for pair in names.windows(2) {
        if let [(a, an), (b, bn)] = pair
            && a == b
        {
            return Err(ExpositionError::Collision {
                exposed: a.clone(),
                names: ((*an).to_owned(), (*bn).to_owned()),
            });
        }
    }
    Ok(())
}

/// Whether the family `name` with `labels` can be exposed under `exposed`.
pub(super) fn check_family<'a>(
    exposed: &Exposed,
    name: &str,
    mut labels: impl Iterator<Item = &'a str>,
) -> Result<(), ExpositionError> {
    match labels.find(|l| exposed.has_label(l)) {
        Some(label) => Err(ExpositionError::Clash {
            label: label.to_owned(),
            family: name.to_owned(),
        }),
        None => Ok(()),
    }
}

fn exposed_as<'a>(exposed: &Exposed, name: &'a str) -> Cow<'a, str> {
    if exposed.prefixes(name) {
        Cow::Owned(format!("{}{name}", exposed.prefix))
    } else {
        Cow::Borrowed(name)
    }
}

/// The name a family (or one of its samples: `_bucket`, `_count`, `_sum`)
/// is exposed under: with the [configured](configure) prefix when the
/// family takes it. What exported rules, dashboards and docs must query.
///
/// ```
/// // No exposition configured in this program: names are exposed as given.
/// assert_eq!(obs_runtime::registry::exposed_name("http_requests_total"), "http_requests_total");
/// ```
#[must_use]
pub fn exposed_name(name: &str) -> Cow<'_, str> {
    match exposition() {
        Some(e) => exposed_as(e, name),
        None => Cow::Borrowed(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variables_read_as_a_prefix_and_pairs() {
        assert_eq!(Exposition::from_vars(None, Some(" ".into())), Ok(None));
        let e = Exposition::from_vars(
            Some("brain".into()),
            Some("service=brain, environment = production,".into()),
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.prefix_str(), "brain");
        assert_eq!(
            e.labels(),
            &[
                ("service".to_owned(), "brain".to_owned()),
                ("environment".to_owned(), "production".to_owned())
            ]
        );
        let bad = Exposition::from_vars(None, Some("service".into())).unwrap_err();
        assert!(bad.to_string().contains("name=value"), "{bad}");
        let bad = Exposition::from_vars(Some("Brain".into()), None).unwrap_err();
        assert!(matches!(bad, ExpositionError::Prefix { .. }), "{bad}");
    }
}
