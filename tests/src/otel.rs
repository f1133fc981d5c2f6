//! A real OpenTelemetry pipeline per test: `tracing` spans through `tracing-opentelemetry`
//! into the SDK's [`InMemorySpanExporter`], metrics through an [`SdkMeterProvider`] into its
//! [`InMemoryMetricExporter`], as a user's application would wire them (with an OTLP
//! exporter instead of the in-memory ones).
//!
//! The subscriber is this thread's default while the [`Otel`] lives: use it from a
//! current-thread runtime (the `#[tokio::test]` default), where the client's futures run on
//! the test's thread. The meter provider goes to the clients through
//! `ClientConfig::meter_provider`, so tests running in parallel never mix their metrics.

use opentelemetry::trace::{SpanId, TracerProvider as _};
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, Metric, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use tracing_subscriber::layer::SubscriberExt;

/// The pipeline; its subscriber is this thread's default until dropped.
pub struct Otel {
    spans: InMemorySpanExporter,
    tracer_provider: SdkTracerProvider,
    metrics: InMemoryMetricExporter,
    /// Give it to the clients: `ClientConfig::meter_provider(&otel.meter_provider)`.
    pub meter_provider: SdkMeterProvider,
    _default: tracing::subscriber::DefaultGuard,
}

impl std::fmt::Debug for Otel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Otel")
    }
}

impl Otel {
    /// Installs the pipeline as this thread's default subscriber.
    pub fn install() -> Self {
        let spans = InMemorySpanExporter::default();
        let tracer_provider = SdkTracerProvider::builder()
            .with_simple_exporter(spans.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("tests"));
        let subscriber = tracing_subscriber::registry().with(layer);
        let default = tracing::subscriber::set_default(subscriber);
        // A callsite first met while no subscriber wanted it may have cached "never".
        tracing::callsite::rebuild_interest_cache();
        let metrics = InMemoryMetricExporter::default();
        let meter_provider = SdkMeterProvider::builder()
            .with_reader(PeriodicReader::builder(metrics.clone()).build())
            .build();
        Self {
            spans,
            tracer_provider,
            metrics,
            meter_provider,
            _default: default,
        }
    }

    /// Every span ended so far, in the order they ended.
    pub fn spans(&self) -> Vec<SpanData> {
        self.tracer_provider
            .force_flush()
            .expect("the simple processor flushes");
        self.spans.get_finished_spans().expect("spans readable")
    }

    /// The metrics as collected now (cumulative).
    pub fn metrics(&self) -> Metrics {
        self.metrics.reset();
        self.meter_provider.force_flush().expect("metrics flush");
        Metrics(
            self.metrics
                .get_finished_metrics()
                .expect("metrics readable"),
        )
    }
}

/// One collection of metrics.
#[derive(Debug)]
pub struct Metrics(pub Vec<ResourceMetrics>);

impl Metrics {
    /// Every metric collected, of every scope.
    pub fn all(&self) -> Vec<&Metric> {
        self.0
            .iter()
            .flat_map(|r| r.scope_metrics())
            .flat_map(|s| s.metrics())
            .collect()
    }

    /// The metric named `name`, if any was recorded.
    pub fn get(&self, name: &str) -> Option<&Metric> {
        self.all().into_iter().find(|m| m.name() == name)
    }

    /// Every data point of every metric: the metric's name, its attributes, and its value
    /// (a sum's value; a histogram's count and sum).
    pub fn points(&self) -> Vec<Point> {
        let mut points = Vec::new();
        for metric in self.all() {
            let name = metric.name().to_string();
            let mut push = |attributes: Vec<KeyValue>, value: f64, count: u64| {
                points.push(Point {
                    metric: name.clone(),
                    attributes,
                    value,
                    count,
                });
            };
            match metric.data() {
                AggregatedMetrics::F64(MetricData::Sum(sum)) => {
                    for p in sum.data_points() {
                        push(p.attributes().cloned().collect(), p.value(), 1);
                    }
                }
                AggregatedMetrics::U64(MetricData::Sum(sum)) => {
                    for p in sum.data_points() {
                        push(p.attributes().cloned().collect(), p.value() as f64, 1);
                    }
                }
                AggregatedMetrics::F64(MetricData::Histogram(histogram)) => {
                    for p in histogram.data_points() {
                        push(p.attributes().cloned().collect(), p.sum(), p.count());
                    }
                }
                other => panic!("unexpected metric data for {name}: {other:?}"),
            }
        }
        points
    }
}

/// One data point (see [`Metrics::points`]).
#[derive(Debug, Clone)]
pub struct Point {
    /// The metric's name.
    pub metric: String,
    /// The point's attributes.
    pub attributes: Vec<KeyValue>,
    /// A sum's value, or a histogram's sum.
    pub value: f64,
    /// A histogram's count (1 for a sum).
    pub count: u64,
}

impl Point {
    /// The attribute `key`, if the point has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        attribute(&self.attributes, key)
    }
}

/// The attribute `key` of a list, if present.
pub fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| &kv.value)
}

/// The attribute `key` of a span, if present.
pub fn span_attribute<'a>(span: &'a SpanData, key: &str) -> Option<&'a Value> {
    attribute(&span.attributes, key)
}

/// The children of `parent`, in the order they ended.
pub fn children<'a>(spans: &'a [SpanData], parent: &SpanData) -> Vec<&'a SpanData> {
    spans
        .iter()
        .filter(|s| s.parent_span_id == parent.span_context.span_id())
        .collect()
}

/// The spans without a parent.
pub fn roots(spans: &[SpanData]) -> Vec<&SpanData> {
    spans
        .iter()
        .filter(|s| s.parent_span_id == SpanId::INVALID)
        .collect()
}

/// Every string an exported span or metric carries — names, attribute keys and values,
/// event names and their attributes, status descriptions — for secret scans.
pub fn exported_text(spans: &[SpanData], metrics: &Metrics) -> String {
    let mut text = String::new();
    let push_attributes = |text: &mut String, attributes: &[KeyValue]| {
        for kv in attributes {
            text.push_str(&format!("{}={}\n", kv.key.as_str(), kv.value));
        }
    };
    for span in spans {
        text.push_str(&format!("{}\n{:?}\n", span.name, span.status));
        push_attributes(&mut text, &span.attributes);
        for event in span.events.iter() {
            text.push_str(&format!("{}\n", event.name));
            push_attributes(&mut text, &event.attributes);
        }
    }
    for point in metrics.points() {
        text.push_str(&format!("{}\n", point.metric));
        push_attributes(&mut text, &point.attributes);
    }
    text
}
