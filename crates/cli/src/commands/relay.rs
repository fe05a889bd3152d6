//! `engagements relay --amqp URL`: publish the log, in order and at least once, to RabbitMQ.

use std::process::ExitCode;

use clap::Args;
use engagements_relay::{Relay, RelayConfig, EXCHANGE_DEFAULT};
use engagements_store::Store;
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Debug, Args)]
pub struct RelayArgs {
    /// The broker: amqp://USER:PASSWORD@HOST:PORT/VHOST (`%2f` is the default vhost).
    #[arg(long, env = "ENGAGEMENTS_AMQP")]
    pub amqp: String,
    /// The durable topic exchange to publish to (declared if missing). Routing keys are
    /// `<stream_type>.<event_type>`, e.g. `dossier.SubsidyGranted`.
    #[arg(long, default_value = EXCHANGE_DEFAULT)]
    pub exchange: String,
    /// The name under which this relay's position is kept (default `amqp:<exchange>`).
    #[arg(long)]
    pub name: Option<String>,
    /// Events published before waiting for the broker's confirmations (1 to 10000).
    #[arg(long, default_value_t = 500)]
    pub batch: i64,
    /// Stop once every event already in the log is confirmed, instead of following new ones.
    #[arg(long)]
    pub until_caught_up: bool,
    /// Failed attempts in a row (broker or network down) before giving up.
    #[arg(long, default_value_t = 10)]
    pub retries: u32,
}

pub async fn run(db: &str, args: RelayArgs) -> anyhow::Result<ExitCode> {
    let store = Store::open(db).await?;
    let config = RelayConfig {
        amqp_url: args.amqp,
        relay_name: args
            .name
            .unwrap_or_else(|| format!("amqp:{}", args.exchange)),
        exchange: args.exchange,
        batch_events: args.batch,
        stop_when_caught_up: args.until_caught_up,
        retries: args.retries,
    };
    let relay = Relay::new(store.clone(), config)?;
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} relay: {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let outcome = tokio::select! {
        outcome = relay.run(|progress| {
            bar.set_message(format!(
                "acknowledged up to position {}, {} messages published",
                progress.position_acknowledged, progress.events_published
            ));
            bar.tick();
        }) => Some(outcome),
        // An interrupted batch is published again at the next start: nothing is lost.
        _ = tokio::signal::ctrl_c() => None,
    };
    bar.finish_and_clear();
    store.shutdown().await;
    match outcome {
        Some(Ok(progress)) => {
            println!(
                "caught up: acknowledged up to position {}, {} messages published",
                progress.position_acknowledged, progress.events_published
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(Err(error)) => Err(error.into()),
        None => {
            eprintln!("interrupted: the relay resumes from its last acknowledged position");
            Ok(ExitCode::SUCCESS)
        }
    }
}
