//! Crash recovery: kill the binary with SIGKILL while it appends, restart, and check that every
//! acknowledged command is in the log and the chain verifies, on both backends.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use engagements_e2e::{backends, engagements, run_ok};

fn command_line(i: usize, command_id: &uuid::Uuid) -> String {
    let porteur_id = uuid::Uuid::now_v7();
    format!(
        r#"{{"command":"register_porteur","porteur_id":"{porteur_id}","name":"Association n°{i} (fictive)","kind":"association","meta":{{"command_id":"{command_id}"}}}}"#
    )
}

#[tokio::test]
async fn acknowledged_commands_survive_sigkill() {
    for db in backends().await {
        run_ok(&db, &["init"]);
        let mut child = engagements(&db)
            .args(["apply", "-", "--ack"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start engagements apply");
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let ids: Vec<uuid::Uuid> = (0..5_000).map(|_| uuid::Uuid::now_v7()).collect();
        let lines: String = ids
            .iter()
            .enumerate()
            .map(|(i, id)| command_line(i, id) + "\n")
            .collect();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(lines.as_bytes());
        });
        // Read acknowledgements for a while, then kill without warning.
        let mut acknowledged = Vec::new();
        let mut reader = BufReader::new(stdout);
        let started = Instant::now();
        let mut line = String::new();
        while acknowledged.len() < 200 && started.elapsed() < Duration::from_secs(60) {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            if let Some(id) = line.trim().strip_prefix("ack ") {
                acknowledged.push(id.to_string());
            }
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        let _ = writer.join();
        assert!(
            !acknowledged.is_empty(),
            "no acknowledgement before the kill on {}",
            db.backend
        );

        // Restart: the chain verifies and holds every acknowledged command.
        let verify = run_ok(&db, &["verify"]);
        assert!(String::from_utf8_lossy(&verify.stdout).contains("chain:         OK"));
        let store = engagements_store::Store::open(&db.url).await.unwrap();
        for id in &acknowledged {
            let events = store.read_command(id.parse().unwrap()).await.unwrap();
            assert_eq!(
                events.len(),
                1,
                "acknowledged command {id} is missing on {}",
                db.backend
            );
        }
        store.shutdown().await;
        eprintln!(
            "{}: {} acknowledged commands survived SIGKILL",
            db.backend,
            acknowledged.len()
        );
    }
}
