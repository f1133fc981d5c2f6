//! The clients' traces and metrics sent to an OpenTelemetry collector over OTLP/HTTP
//! (protobuf): one span per call (`zendesk.show_user`) with one CLIENT span per HTTP
//! attempt under it, and the metrics `http.client.request.duration`, `user_apis.retries`,
//! `user_apis.rate_limit.*`.
//!
//! ```sh
//! # A collector listening on localhost:4318 (or set OTEL_EXPORTER_OTLP_ENDPOINT), then:
//! ZENDESK_SUBDOMAIN=acme ZENDESK_EMAIL=agent@acme.com ZENDESK_API_TOKEN=… \
//!   cargo run -p user-apis --example otlp -- 35436
//! ```
//!
//! In your own `Cargo.toml`: `user-apis` with `features = ["metrics"]` (spans need no
//! feature), `opentelemetry`, `opentelemetry_sdk`, `tracing-opentelemetry`,
//! `tracing-subscriber` and `opentelemetry-otlp` with `default-features = false, features =
//! ["http-proto", "reqwest-blocking-client", "trace", "metrics"]` (no gRPC, no aws-lc, no
//! OpenSSL; see this workspace's `Cargo.toml`).

use std::error::Error;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{MetricExporter, SpanExporter};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use user_apis::zendesk;

fn main() -> Result<(), Box<dyn Error>> {
    let (Ok(subdomain), Ok(email), Ok(token)) = (
        std::env::var("ZENDESK_SUBDOMAIN"),
        std::env::var("ZENDESK_EMAIL"),
        std::env::var("ZENDESK_API_TOKEN"),
    ) else {
        eprintln!("set ZENDESK_SUBDOMAIN, ZENDESK_EMAIL and ZENDESK_API_TOKEN");
        return Ok(());
    };
    let user_id: i64 = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "1".into())
        .parse()?;

    // The SDK: where spans and metrics go (OTEL_EXPORTER_OTLP_ENDPOINT, by default
    // http://localhost:4318), batched and sent from the SDK's own threads.
    let resource = Resource::builder().with_service_name("user-sync").build();
    let tracer_provider = SdkTracerProvider::builder()
        .with_resource(resource.clone())
        .with_batch_exporter(SpanExporter::builder().with_http().build()?)
        .build();
    let meter_provider = SdkMeterProvider::builder()
        .with_resource(resource)
        .with_periodic_exporter(MetricExporter::builder().with_http().build()?)
        .build();

    // Spans: the clients emit `tracing` spans; this layer turns them into OpenTelemetry
    // spans. The filter keeps the clients' spans (target `api_runtime`, INFO); set it to
    // `LevelFilter::OFF` to send no span at all.
    tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer_provider.tracer("user-sync")))
        .with(Targets::new().with_target("api_runtime", LevelFilter::INFO))
        .try_init()?;

    // Metrics: give the client the meter provider (or install it globally with
    // `opentelemetry::global::set_meter_provider` before building any client).
    let client = zendesk::Client::with_config(
        zendesk::api_token_credentials(&email, &token)?,
        zendesk::ClientConfig::new()
            .base_url(zendesk::subdomain_url(&subdomain)?)
            .meter_provider(&meter_provider),
    )?;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match client.show_user().user_id(user_id).send().await {
            Ok(user) => println!("{:?}", user.into_inner().user.name),
            Err(error) => eprintln!("{error}"),
        }
    });
    drop(runtime);

    // Send what is still buffered before the process ends.
    tracer_provider.shutdown()?;
    meter_provider.shutdown()?;
    Ok(())
}
