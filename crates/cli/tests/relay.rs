//! The outbox relay against the real RabbitMQ of the machine (127.0.0.1:5672, guest/guest), on
//! both backends: the relay is killed with SIGKILL mid-stream, restarted, and a consumer that
//! de-duplicates by position must see every event exactly once and in order.
//!
//! Skipped with a message when RabbitMQ is unreachable, except under `CI=true`, where it fails.

use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use engagements_domain::{Actor, Metadata, Source};
use engagements_relay::lapin::options::{
    BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use engagements_relay::lapin::types::{AMQPValue, FieldTable};
use engagements_relay::lapin::{
    message::Delivery, Channel, Connection, ConnectionProperties, ExchangeKind,
};
use engagements_store::testing;
use engagements_store::{AppendRequest, ExpectedVersion, NewEvent, Store};
use futures::StreamExt;

const BATCH: i64 = 20;
const EVENTS_BEFORE_KILL: usize = 4_000;
const EVENTS_WHILE_DOWN: usize = 500;
const EVENTS_WHILE_FOLLOWING: usize = 100;

fn amqp_url() -> String {
    std::env::var("ENGAGEMENTS_TEST_AMQP")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_string())
}

async fn broker() -> Option<Connection> {
    match Connection::connect(&amqp_url(), ConnectionProperties::default()).await {
        Ok(connection) => Some(connection),
        Err(error) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("RabbitMQ is required in CI but is unreachable: {error}");
            }
            eprintln!("skipping the relay test: RabbitMQ is unreachable ({error})");
            None
        }
    }
}

/// One message as the consumer saw it: message id, `position` header, body position.
#[derive(Debug, Clone, Copy)]
struct Seen {
    message_id: i64,
    header_position: i64,
    body_position: i64,
}

fn seen_of(delivery: &Delivery) -> Seen {
    let message_id: i64 = delivery
        .properties
        .message_id()
        .as_ref()
        .expect("a message id")
        .as_str()
        .parse()
        .expect("the message id is a position");
    let header_position = delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|h| h.inner().get("position").cloned())
        .and_then(|v| match v {
            AMQPValue::LongLongInt(p) => Some(p),
            _ => None,
        })
        .expect("a position header");
    let body: serde_json::Value = serde_json::from_slice(&delivery.data).unwrap();
    let body_position = body["position"].as_i64().expect("a position in the body");
    Seen {
        message_id,
        header_position,
        body_position,
    }
}

/// Binds a fresh queue to `exchange` and collects every delivery.
async fn consume(channel: &Channel, exchange: &str) -> Arc<Mutex<Vec<Seen>>> {
    channel
        .exchange_declare(
            exchange.into(),
            ExchangeKind::Topic,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let queue = channel
        .queue_declare(
            "".into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            queue.name().clone(),
            exchange.into(),
            "#".into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut consumer = channel
        .basic_consume(
            queue.name().clone(),
            "relay-test".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    // One task reads the deliveries in the order the broker sends them.
    tokio::spawn(async move {
        while let Some(Ok(delivery)) = consumer.next().await {
            sink.lock().unwrap().push(seen_of(&delivery));
        }
    });
    seen
}

async fn append_events(store: &Store, stream: &str, count: usize) {
    let metadata = || {
        Metadata::new(
            Actor::new("Agent test", "cabbalr"),
            Source::Cli,
            NaiveDate::from_ymd_opt(2025, 3, 12).unwrap(),
        )
    };
    for chunk in 0..count.div_ceil(100) {
        let events = (0..100.min(count - chunk * 100))
            .map(|n| NewEvent {
                event_type: "Ticked".into(),
                schema_version: 1,
                payload: format!(r#"{{"n":{n},"type":"Ticked"}}"#),
            })
            .collect();
        store
            .append(AppendRequest::single(
                metadata(),
                "test",
                stream,
                ExpectedVersion::Any,
                events,
            ))
            .await
            .unwrap();
    }
}

fn start_relay(db_url: &str, exchange: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_engagements"))
        .args(["--db", db_url, "relay", "--amqp", &amqp_url()])
        .args(["--exchange", exchange, "--batch", &BATCH.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the relay")
}

async fn wait_for(seen: &Arc<Mutex<Vec<Seen>>>, what: &str, done: impl Fn(&[Seen]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done(&seen.lock().unwrap()) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn distinct(seen: &[Seen]) -> usize {
    seen.iter()
        .map(|s| s.message_id)
        .collect::<HashSet<_>>()
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_relay_resumes_and_a_deduplicating_consumer_sees_each_event_once_in_order() {
    let Some(connection) = broker().await else {
        return;
    };
    for db in testing::all().await {
        eprintln!("backend: {}", db.backend);
        let channel = connection.create_channel().await.unwrap();
        let exchange = format!("engagements.test.{}", uuid::Uuid::now_v7().simple());
        let seen = consume(&channel, &exchange).await;
        let store = Store::open(&db.url).await.unwrap();
        append_events(&store, "test-before", EVENTS_BEFORE_KILL).await;

        // Kill the relay with SIGKILL while it is publishing.
        let mut relay = start_relay(&db.url, &exchange);
        wait_for(&seen, "the first messages", |s| s.len() >= 300).await;
        relay.kill().unwrap();
        relay.wait().unwrap();
        let received_at_kill = distinct(&seen.lock().unwrap());
        assert!(
            received_at_kill < EVENTS_BEFORE_KILL,
            "the relay had already published everything ({received_at_kill}): not mid-stream"
        );
        let offset_at_kill = store
            .relay_offset(&format!("amqp:{exchange}"))
            .await
            .unwrap();
        assert!(
            offset_at_kill > 0,
            "no batch was acknowledged before the kill"
        );

        // Events recorded while the relay is down, then a restart that follows the log.
        append_events(&store, "test-down", EVENTS_WHILE_DOWN).await;
        let mut relay = start_relay(&db.url, &exchange);
        let total = EVENTS_BEFORE_KILL + EVENTS_WHILE_DOWN;
        wait_for(&seen, "every event after the restart", |s| {
            distinct(s) >= total
        })
        .await;
        append_events(&store, "test-live", EVENTS_WHILE_FOLLOWING).await;
        let total = total + EVENTS_WHILE_FOLLOWING;
        wait_for(&seen, "the events recorded while following", |s| {
            distinct(s) >= total
        })
        .await;
        relay.kill().unwrap();
        relay.wait().unwrap();

        let seen = seen.lock().unwrap().clone();
        let mut positions_first_seen = Vec::new();
        let mut already = HashSet::new();
        for message in &seen {
            assert_eq!(message.message_id, message.header_position, "{message:?}");
            assert_eq!(message.message_id, message.body_position, "{message:?}");
            if already.insert(message.message_id) {
                positions_first_seen.push(message.message_id);
            }
        }
        assert_eq!(
            positions_first_seen.len(),
            total,
            "every event was received"
        );
        for (index, position) in positions_first_seen.iter().enumerate() {
            assert_eq!(
                *position,
                index as i64 + 1,
                "after de-duplication, positions come once each and in order"
            );
        }
        let duplicates = seen.len() - total;
        eprintln!(
            "killed after {received_at_kill} messages (offset {offset_at_kill}); \
             {duplicates} published twice"
        );
        assert!(
            duplicates as i64 <= BATCH,
            "{duplicates} messages published twice: the restart must resume after the last \
             acknowledged position ({offset_at_kill}), republishing at most one batch"
        );
        store.shutdown().await;
        let _ = channel.close(200, "done".into()).await;
    }
}
