//! End to end over HTTP: the real `engagements serve` on each backend, driven with plain HTTP/1.1
//! requests over TCP. Tokens come from `engagements tokens create`; writes are recorded with the
//! token's person and organisation; roles are enforced; and a command in flight when SIGTERM
//! arrives is finished and recorded before the process exits.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use engagements_e2e::http::{call, read_answer, request_head, token, Server};
use engagements_e2e::{backends, run_ok};

fn porteur(id: &str, name: &str) -> String {
    format!(
        r#"{{"command":"register_porteur","porteur_id":"{id}","name":"{name}","kind":"association"}}"#
    )
}

#[tokio::test]
async fn the_binary_serves_writes_and_stops_gracefully_on_both_backends() {
    for db in backends().await {
        let backend = db.backend;
        run_ok(&db, &["init"]);
        let admin = token(&db, "Équipe CABBALR (fictive)", "cabbalr", "admin");
        let auditeur = token(
            &db,
            "Auditrice (fictive)",
            "crc-hauts-de-france",
            "auditeur",
        );
        let bailleur = token(&db, "Chargé TFPB (fictif)", "sia-habitat", "bailleur");
        let server = Server::start(&db);
        let address = server.address;
        let blocking = tokio::task::spawn_blocking(move || {
            assert_eq!(call(address, "GET", "/healthz", None, "").status, 200);
            let ready = call(address, "GET", "/readyz", None, "");
            assert_eq!(ready.status, 200, "{}", ready.body);

            // The admin writes; the auditeur and a bailleur cannot write a porteur.
            let created = call(
                address,
                "POST",
                "/api/v1/commands",
                Some(&admin),
                &porteur(
                    "0190f2a0-0000-7000-8000-0000000e2e01",
                    "Association e2e (fictive)",
                ),
            );
            assert_eq!(created.status, 201, "{}", created.body);
            for refused_token in [&auditeur, &bailleur] {
                let refused = call(
                    address,
                    "POST",
                    "/api/v1/commands",
                    Some(refused_token),
                    &porteur("0190f2a0-0000-7000-8000-0000000e2e02", "Refusée"),
                );
                assert_eq!(refused.status, 403, "{}", refused.body);
                assert!(refused.body.contains("\"forbidden\""));
            }
            let unknown_field = call(
                address,
                "POST",
                "/api/v1/commands",
                Some(&admin),
                r#"{"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-0000000e2e03","name":"X","kind":"association","colour":"red"}"#,
            );
            assert_eq!(unknown_field.status, 400, "{}", unknown_field.body);
            let rows = call(
                address,
                "GET",
                "/api/v1/reports/porteurs",
                Some(&auditeur),
                "",
            );
            assert_eq!(rows.status, 200, "{}", rows.body);
            assert!(rows.body.contains("Association e2e (fictive)"));
            assert!(!rows.body.contains("Refusée"));
            let document = call(address, "GET", "/api/v1/openapi.json", None, "");
            assert!(document.body.contains("\"openapi\""));

            // A command in flight when SIGTERM arrives: its head and half its body are sent,
            // then the signal, then the rest. The server finishes it before stopping.
            let body = porteur(
                "0190f2a0-0000-7000-8000-0000000e2e04",
                "Association reçue pendant l'arrêt (fictive)",
            );
            let (first, second) = body.split_at(body.len() / 2);
            let mut stream = TcpStream::connect(address).expect("connect");
            stream
                .set_read_timeout(Some(Duration::from_secs(60)))
                .expect("timeout");
            stream
                .write_all(
                    request_head("POST", "/api/v1/commands", Some(&admin), body.len()).as_bytes(),
                )
                .and_then(|()| stream.write_all(first.as_bytes()))
                .and_then(|()| stream.flush())
                .expect("send the first half");
            std::thread::sleep(Duration::from_millis(300));
            server.terminate();
            std::thread::sleep(Duration::from_millis(300));
            stream.write_all(second.as_bytes()).expect("send the rest");
            let answer = read_answer(stream);
            assert_eq!(answer.status, 201, "in-flight command: {}", answer.body);
            server
        });
        let mut server = blocking.await.expect("the HTTP checks");
        let status = server.child.wait().expect("wait for the server");
        assert!(
            status.success(),
            "{backend}: the server exited with {status}"
        );
        // After the process is gone, the in-flight command is in the log, written by the token's
        // person, and the chain verifies.
        let store = engagements_store::Store::open(&db.url).await.expect("open");
        let events = store
            .read_stream("porteur-0190f2a0-0000-7000-8000-0000000e2e04", None)
            .await
            .expect("read");
        assert_eq!(
            events.len(),
            1,
            "{backend}: the in-flight command was recorded"
        );
        // The token's person, by the pseudonymous id the event carries.
        let person = events[0].metadata.actor.person.clone();
        let names = store
            .persons_by_id(std::slice::from_ref(&person))
            .await
            .expect("names");
        assert_eq!(
            names[&person].name.as_deref(),
            Some("Équipe CABBALR (fictive)")
        );
        assert_eq!(events[0].metadata.actor.organisation, "cabbalr");
        store.shutdown().await;
        run_ok(&db, &["verify"]);
    }
}
