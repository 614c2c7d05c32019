// What the derives generate takes the type's own visibility, so crates that
// warn on `unreachable_pub` (as the style guide recommends) stay clean.
#![deny(warnings, unreachable_pub)]

mod queue {
    use obs_runtime::metrics::Gauge;
    use obs_runtime::{LabelSet, LabelValue, MetricSet};

    #[derive(LabelValue, Clone, Copy)]
    pub(crate) enum Priority {
        Low,
        High,
    }

    #[derive(LabelSet, Clone, Copy)]
    pub(crate) struct PriorityLabels {
        pub(crate) priority: Priority,
    }

    /// Private to this module: `global()` is too.
    #[derive(MetricSet)]
    #[metrics(prefix = "ui_vis_private")]
    struct Private {
        /// Registered at link time, never touched.
        depth: Gauge,
    }

    #[derive(MetricSet)]
    #[metrics(prefix = "ui_vis")]
    pub(crate) struct QueueMetrics {
        /// Jobs waiting, by priority.
        pub(crate) size: Gauge<PriorityLabels>,
    }

    pub(crate) fn private_depth() -> f64 {
        Private::global().depth.get()
    }
}

use queue::{Priority, PriorityLabels, QueueMetrics};

fn main() {
    assert_eq!(Priority::COUNT, 2);
    QueueMetrics::global()
        .size
        .with(PriorityLabels {
            priority: Priority::High,
        })
        .set(3.0);
    assert!(queue::private_depth().abs() < f64::EPSILON);
    let text = obs_runtime::encode_text();
    assert!(
        text.contains("ui_vis_size{priority=\"high\"} 3\n"),
        "{text}"
    );
    assert!(text.contains("ui_vis_size{priority=\"low\"} 0\n"), "{text}");
    assert!(text.contains("ui_vis_private_depth 0\n"), "{text}");
}
