//! A dashboard being laid out: panels, rows, the grid, the template
//! variables.

use super::super::json::{Json, obj};
use super::SCHEMA_VERSION;

/// Panels in a grid line of 24 units.
pub(super) const WIDTH: u32 = 24;
pub(super) const HEIGHT: u32 = 8;

pub(super) fn datasource() -> Json {
    obj([
        ("type", "prometheus".into()),
        ("uid", "${datasource}".into()),
    ])
}

/// A panel query: its expression and its legend.
pub(crate) struct Query {
    pub(crate) expr: String,
    pub(super) legend: String,
}

pub(super) fn q(expr: impl Into<String>, legend: impl Into<String>) -> Query {
    Query {
        expr: expr.into(),
        legend: legend.into(),
    }
}

/// How a panel draws.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Viz {
    Series,
    Stat,
}

/// A dashboard being laid out: panels fill lines of 24 units; a row starts
/// a new line.
pub(super) struct Board {
    pub(super) uid: String,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) variables: Vec<Json>,
    pub(super) panels: Vec<Json>,
    pub(super) next_id: u32,
    pub(super) x: u32,
    pub(super) y: u32,
}

impl Board {
    pub(super) fn new(
        uid: impl Into<String>,
        title: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            uid: uid.into(),
            title: title.into(),
            description: description.into(),
            variables: vec![datasource_variable(), job_variable(), instance_variable()],
            panels: Vec::new(),
            next_id: 1,
            x: 0,
            y: 0,
        }
    }

    pub(super) fn id(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(super) fn new_line(&mut self) {
        if self.x > 0 {
            self.x = 0;
            self.y += HEIGHT;
        }
    }

    pub(super) fn row(&mut self, title: impl Into<String>) {
        self.new_line();
        let id = self.id();
        self.panels.push(obj([
            ("type", "row".into()),
            ("id", id.into()),
            ("title", Json::Str(title.into())),
            ("collapsed", false.into()),
            ("gridPos", grid(0, self.y, WIDTH, 1)),
            ("panels", Json::Arr(Vec::new())),
        ]));
        self.y += 1;
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn panel(
        &mut self,
        viz: Viz,
        width: u32,
        title: impl Into<String>,
        description: impl Into<String>,
        unit: &str,
        queries: Vec<Query>,
    ) {
        if self.x + width > WIDTH {
            self.new_line();
        }
        let id = self.id();
        let targets = queries
            .into_iter()
            .zip(b'A'..)
            .map(|(query, letter)| {
                obj([
                    ("datasource", datasource()),
                    ("expr", query.expr.into()),
                    ("legendFormat", query.legend.into()),
                    ("range", true.into()),
                    ("refId", char::from(letter).to_string().into()),
                ])
            })
            .collect();
        let options = match viz {
            Viz::Series => obj([
                (
                    "legend",
                    obj([
                        ("displayMode", "list".into()),
                        ("placement", "bottom".into()),
                        ("showLegend", true.into()),
                    ]),
                ),
                (
                    "tooltip",
                    obj([("mode", "multi".into()), ("sort", "desc".into())]),
                ),
            ]),
            Viz::Stat => obj([
                (
                    "reduceOptions",
                    obj([
                        ("calcs", Json::Arr(vec!["lastNotNull".into()])),
                        ("fields", "".into()),
                        ("values", false.into()),
                    ]),
                ),
                ("colorMode", "value".into()),
                ("graphMode", "area".into()),
                ("textMode", "auto".into()),
            ]),
        };
        self.panels.push(obj([
            (
                "type",
                match viz {
                    Viz::Series => "timeseries",
                    Viz::Stat => "stat",
                }
                .into(),
            ),
            ("id", id.into()),
            ("title", Json::Str(title.into())),
            ("description", Json::Str(description.into())),
            ("datasource", datasource()),
            ("gridPos", grid(self.x, self.y, width, HEIGHT)),
            (
                "fieldConfig",
                obj([
                    ("defaults", obj([("unit", unit.into())])),
                    ("overrides", Json::Arr(Vec::new())),
                ]),
            ),
            ("options", options),
            ("targets", Json::Arr(targets)),
        ]));
        self.x += width;
    }

    pub(super) fn finish(self) -> (String, String) {
        let annotations = obj([(
            "list",
            Json::Arr(vec![obj([
                ("builtIn", 1_u32.into()),
                (
                    "datasource",
                    obj([("type", "grafana".into()), ("uid", "-- Grafana --".into())]),
                ),
                ("enable", true.into()),
                ("hide", true.into()),
                ("iconColor", "rgba(0, 211, 255, 1)".into()),
                ("name", "Annotations & Alerts".into()),
                ("type", "dashboard".into()),
            ])]),
        )]);
        let doc = obj([
            ("uid", self.uid.clone().into()),
            ("title", self.title.into()),
            ("description", self.description.into()),
            ("tags", Json::Arr(vec!["obs".into()])),
            ("timezone", "browser".into()),
            ("editable", true.into()),
            ("graphTooltip", 1_u32.into()),
            (
                "time",
                obj([("from", "now-1h".into()), ("to", "now".into())]),
            ),
            ("refresh", "30s".into()),
            ("schemaVersion", SCHEMA_VERSION.into()),
            ("version", 1_u32.into()),
            ("annotations", annotations),
            ("templating", obj([("list", Json::Arr(self.variables))])),
            ("panels", Json::Arr(self.panels)),
        ]);
        (format!("{}.json", self.uid), doc.pretty())
    }
}

pub(super) fn grid(x: u32, y: u32, w: u32, h: u32) -> Json {
    obj([
        ("h", h.into()),
        ("w", w.into()),
        ("x", x.into()),
        ("y", y.into()),
    ])
}

pub(super) fn datasource_variable() -> Json {
    obj([
        ("name", "datasource".into()),
        ("label", "Data source".into()),
        ("type", "datasource".into()),
        ("query", "prometheus".into()),
        ("hide", 0_u32.into()),
        ("refresh", 1_u32.into()),
        ("regex", "".into()),
        ("options", Json::Arr(Vec::new())),
    ])
}

/// A query variable over label values, every value selected by default.
/// `All` is `.*`, which also matches series without the label (the
/// recording rules of objectives aggregate over instances).
pub(super) fn query_variable(name: &'static str, label: &'static str, query: String) -> Json {
    obj([
        ("name", name.into()),
        ("label", label.into()),
        ("type", "query".into()),
        ("datasource", datasource()),
        ("query", query.clone().into()),
        ("definition", query.into()),
        ("hide", 0_u32.into()),
        ("refresh", 2_u32.into()),
        ("sort", 1_u32.into()),
        ("multi", true.into()),
        ("includeAll", true.into()),
        ("allValue", ".*".into()),
        (
            "current",
            obj([
                ("text", Json::Arr(vec!["All".into()])),
                ("value", Json::Arr(vec!["$__all".into()])),
            ]),
        ),
        ("options", Json::Arr(Vec::new())),
    ])
}

pub(super) fn job_variable() -> Json {
    query_variable("job", "Job", "label_values(up, job)".to_owned())
}

pub(super) fn instance_variable() -> Json {
    query_variable(
        "instance",
        "Instance",
        "label_values(up{job=~\"$job\"}, instance)".to_owned(),
    )
}
