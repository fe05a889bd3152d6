//! Several instances on one PostgreSQL: two `engagements` processes write to the same ledger at
//! the same time; every command of both is recorded exactly once, the hash chain verifies, and two
//! followers (each with its own connection pool, as two server instances have) converge on the
//! same log.
//!
//! Writers of one ledger serialise on its chain lock (one advisory lock per schema); writers of
//! ledgers in different schemas (one per contract) do not wait for each other — the second test
//! checks that two such ledgers are written at the same time and each keeps its own chain.

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::Duration;

use engagements_e2e::{engagements, run_ok, testing, TestDb};
use engagements_store::Store;

/// Commands each writer process records.
const COMMANDS_PER_WRITER: usize = 300;

fn porteur_lines(writer: &str, ids: &[uuid::Uuid]) -> String {
    ids.iter()
        .enumerate()
        .map(|(i, command_id)| {
            let porteur_id = uuid::Uuid::now_v7();
            format!(
                r#"{{"command":"register_porteur","porteur_id":"{porteur_id}","name":"Association {writer} n°{i} (fictive)","kind":"association","meta":{{"command_id":"{command_id}"}}}}"#
            ) + "\n"
        })
        .collect()
}

/// Starts `engagements apply -` on `db` and feeds it `lines` from a thread.
fn start_writer(db: &TestDb, lines: String) -> (Child, std::thread::JoinHandle<()>) {
    let mut child = engagements(db)
        .args(["apply", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start engagements apply");
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        stdin.write_all(lines.as_bytes()).expect("feed commands");
    });
    (child, feeder)
}

fn wait_ok(child: Child, feeder: std::thread::JoinHandle<()>, name: &str) {
    feeder.join().expect("feeder thread");
    let output = child.wait_with_output().expect("wait for a writer");
    assert!(
        output.status.success(),
        "writer {name} failed: {}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Follows the log until `position_last`, returning (position, hash) of every event seen.
async fn follow(store: &Store, position_last: i64) -> Vec<(i64, String)> {
    let mut subscription = store.subscribe(1);
    let mut seen = Vec::new();
    while seen.last().map(|(p, _)| *p).unwrap_or(0) < position_last {
        let batch = tokio::time::timeout(Duration::from_secs(30), subscription.next_batch(1_000))
            .await
            .expect("a follower stalled")
            .expect("read the log");
        seen.extend(batch.into_iter().map(|e| (e.position, e.hash)));
    }
    seen
}

#[tokio::test]
async fn two_writer_processes_on_one_postgres_converge() {
    let Some(db) = testing::postgres().await else {
        return;
    };
    run_ok(&db, &["init"]);
    // Two followers opened before the writes, as two server instances would be.
    let follower_a = Store::open(&db.url).await.expect("open follower a");
    let follower_b = Store::open(&db.url).await.expect("open follower b");
    let position_before = follower_a.head().await.unwrap().map_or(0, |h| h.position);

    let ids_a: Vec<uuid::Uuid> = (0..COMMANDS_PER_WRITER)
        .map(|_| uuid::Uuid::now_v7())
        .collect();
    let ids_b: Vec<uuid::Uuid> = (0..COMMANDS_PER_WRITER)
        .map(|_| uuid::Uuid::now_v7())
        .collect();
    let (writer_a, feeder_a) = start_writer(&db, porteur_lines("A", &ids_a));
    let (writer_b, feeder_b) = start_writer(&db, porteur_lines("B", &ids_b));
    wait_ok(writer_a, feeder_a, "A");
    wait_ok(writer_b, feeder_b, "B");

    // Every command of both writers is recorded exactly once.
    for id in ids_a.iter().chain(&ids_b) {
        let events = follower_a.read_command(*id).await.unwrap();
        assert_eq!(
            events.len(),
            1,
            "command {id} recorded {} times",
            events.len()
        );
    }
    let head = follower_a.head().await.unwrap().expect("a head");
    assert_eq!(
        head.position,
        position_before + 2 * COMMANDS_PER_WRITER as i64,
        "positions are gapless across both writers"
    );

    // Both followers converge on the same log, event for event.
    let (seen_a, seen_b) = tokio::join!(
        follow(&follower_a, head.position),
        follow(&follower_b, head.position)
    );
    assert_eq!(seen_a, seen_b, "the two followers saw different logs");
    assert_eq!(
        seen_a.last().map(|(_, h)| h.clone()),
        Some(head.hash.clone())
    );

    // The writers really ran at the same time: their commands interleave in the log.
    let mut writer_of_position = Vec::new();
    for (writer, ids) in [("A", &ids_a), ("B", &ids_b)] {
        for id in ids.iter() {
            let events = follower_a.read_command(*id).await.unwrap();
            writer_of_position.push((events[0].position, writer));
        }
    }
    writer_of_position.sort();
    let switches = writer_of_position
        .windows(2)
        .filter(|pair| pair[0].1 != pair[1].1)
        .count();
    eprintln!("writers A and B alternated {switches} times in the log");

    // The chain verifies, and reports read through either instance are identical.
    let verify = run_ok(&db, &["verify"]);
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("chain:         OK"),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let report_a = run_ok(&db, &["report", "porteur", "--format", "json"]).stdout;
    let report_b = run_ok(&db, &["report", "porteur", "--format", "json"]).stdout;
    assert_eq!(report_a, report_b);
    follower_a.shutdown().await;
    follower_b.shutdown().await;
}

#[tokio::test]
async fn ledgers_in_two_schemas_are_two_chains_written_at_once() {
    let (Some(first), Some(second)) = (testing::postgres().await, testing::postgres().await) else {
        return;
    };
    run_ok(&first, &["init"]);
    run_ok(&second, &["init"]);
    let ids_1: Vec<uuid::Uuid> = (0..COMMANDS_PER_WRITER)
        .map(|_| uuid::Uuid::now_v7())
        .collect();
    let ids_2: Vec<uuid::Uuid> = (0..COMMANDS_PER_WRITER)
        .map(|_| uuid::Uuid::now_v7())
        .collect();
    let (writer_1, feeder_1) = start_writer(&first, porteur_lines("1", &ids_1));
    let (writer_2, feeder_2) = start_writer(&second, porteur_lines("2", &ids_2));
    wait_ok(writer_1, feeder_1, "1");
    wait_ok(writer_2, feeder_2, "2");
    for (db, ids, others) in [(&first, &ids_1, &ids_2), (&second, &ids_2, &ids_1)] {
        let verify = run_ok(db, &["verify"]);
        assert!(String::from_utf8_lossy(&verify.stdout).contains("chain:         OK"));
        let store = Store::open(&db.url).await.unwrap();
        assert_eq!(store.read_command(ids[0]).await.unwrap().len(), 1);
        assert!(
            store.read_command(others[0]).await.unwrap().is_empty(),
            "a command leaked into the other contract's ledger"
        );
        store.shutdown().await;
    }
}
