//! Several writers on one PostgreSQL: does the total grow with instances?
//!
//! Each instance is a `Store` of its own (its own pool and group-commit writer), as a separate
//! `engagements serve` process has; they run in this process so that one command measures them
//! all. Three layouts, each with the same number of clients per instance:
//!
//! - **1 instance, 1 chain**: the reference;
//! - **2 instances, 1 chain**: both write the same ledger and serialise on its chain lock;
//! - **2 instances, 2 chains**: each writes its own contract's ledger (one schema per contract,
//!   one chain and one lock each): writers of different contracts never wait for each other.

use std::time::Duration;

use engagements_store::Store;

use crate::append::{drive, ledger_client};
use crate::databases::{BackendKind, Databases};
use crate::stats::{Figure, Latencies};

/// Settings of the instances run.
#[derive(Debug, Clone)]
pub struct InstancesSettings {
    pub clients_per_instance: usize,
    pub seconds: f64,
    pub seed: u64,
}

/// Measures the three layouts.
pub async fn run(
    settings: &InstancesSettings,
    databases: &Databases,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Vec<Figure>> {
    let layouts = [
        ("1 instance, 1 chain", 1, 1),
        ("2 instances, 1 chain", 2, 1),
        ("2 instances, 2 chains", 2, 2),
    ];
    let mut figures = Vec::new();
    for (label, instances, chains) in layouts {
        progress(&format!("instances: {label}"));
        let mut dbs = Vec::new();
        for _ in 0..chains {
            dbs.push(databases.fresh(BackendKind::Postgres, "instances").await?);
        }
        let mut stores = Vec::new();
        for instance in 0..instances {
            stores.push(Store::open(&dbs[instance % chains].url).await?);
        }
        let measured = measure(&stores, settings).await;
        for store in &stores {
            store.shutdown().await;
        }
        for db in &dbs {
            databases.remove(db).await?;
        }
        let (latencies, elapsed) = measured?;
        figures.push(Figure::throughput(
            "instances",
            label,
            "postgres",
            settings.clients_per_instance * instances,
            latencies,
            elapsed,
        ));
    }
    Ok(figures)
}

async fn measure(
    stores: &[Store],
    settings: &InstancesSettings,
) -> anyhow::Result<(Latencies, Duration)> {
    let per_instance = settings.clients_per_instance;
    drive(
        per_instance * stores.len(),
        Duration::from_secs_f64(settings.seconds),
        |index, deadline| {
            ledger_client(
                stores[index / per_instance].clone(),
                settings.seed,
                index as u64,
                deadline,
                usize::MAX,
            )
        },
    )
    .await
}
