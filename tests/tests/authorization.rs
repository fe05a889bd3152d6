//! Who may do what, end to end: every command of the ledger, sent as every role from an
//! organisation the authorization table accepts and from one it does not, through the HTTP API
//! and through `engagements --role R --organisation O apply`. The expected outcome of each
//! comes from the table (`engagements_app::auth::RULES`); a command without a sample here, or
//! without a rule, fails the test.
//!
//! Then the holes the table closes, reproduced over HTTP: a bailleur writing into another
//! bailleur's TFPB figures, an instructeur acting on another financeur's dossiers and CPO, a
//! command id reused with another body or by another organisation.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use engagements_app::auth::{rule_of, Role, Scope, RULES};
use engagements_e2e::http::{call, token, Server};
use engagements_e2e::{engagements, run_ok, testing, TestDb};
use serde_json::{json, Value};

const PORTEUR: &str = "0190f2a0-0000-7000-8000-00000000a001";
const DOSSIER_ETAT: &str = "0190f2a0-0000-7000-8000-00000000d001";
const DOSSIER_SHARED: &str = "0190f2a0-0000-7000-8000-00000000d002";
const DOSSIER_NEW: &str = "0190f2a0-0000-7000-8000-00000000d003";
const CPO_ETAT: &str = "0190f2a0-0000-7000-8000-00000000c001";
const CPO_NEW: &str = "0190f2a0-0000-7000-8000-00000000c002";
const CONVENTION: &str = "0190f2a0-0000-7000-8000-00000000e001";
const CONVENTION_NEW: &str = "0190f2a0-0000-7000-8000-00000000e002";
const ACTION_ADMIN: &str = "0190f2a0-0000-7000-8000-00000000f001";
const ACTION_BAILLEUR: &str = "0190f2a0-0000-7000-8000-00000000f002";
const ACTION_NEW: &str = "0190f2a0-0000-7000-8000-00000000f003";
const SPENDING: &str = "0190f2a0-0000-7000-8000-00000000f101";
const SESSION: &str = "0190f2a0-0000-7000-8000-00000000b101";

fn programme(bailleur: &str) -> Value {
    json!({"bailleur": bailleur, "quartier": "QN06204", "year": 2025})
}

fn file_dossier(id: &str, requests: Value) -> Value {
    json!({"command":"file_dossier","dossier_id":id,"porteur_id":PORTEUR,"exercice":2025,
        "title":"Action (fictive)","total_budget":"50000",
        "quartiers":[{"quartier":"QN06209"}],"objectifs":[{"objectif":1}],"requests":requests})
}

fn cpo(id: &str) -> Value {
    json!({"command":"sign_cpo","cpo_id":id,"porteur_id":PORTEUR,"title":"CPO (fictive)",
        "number":"CPO-F-1","signed_on":"2025-01-15","first_exercice":2025,"schedule":[
            {"exercice":2025,"financeur":"etat","dispositif":"bop147-aap","amount":"10000"},
            {"exercice":2026,"financeur":"etat","dispositif":"bop147-aap","amount":"10000"},
            {"exercice":2027,"financeur":"etat","dispositif":"bop147-aap","amount":"10000"}]})
}

fn action(id: &str, label: &str, shares: Value) -> Value {
    json!({"action_id":id,"axis":"axe-3","label":label,"planned_eur":"1000.00","shares":shares})
}

fn two_shares() -> Value {
    json!([{"bailleur":"pas-de-calais-habitat","planned_eur":"600.00"},
           {"bailleur":"maisons-et-cites","planned_eur":"400.00"}])
}

/// What an admin records before the samples: a porteur, dossiers, a CPO, a TFPB convention and
/// programme, a commitment and its indicator.
fn admin_fixture() -> Vec<Value> {
    vec![
        json!({"command":"register_porteur","porteur_id":PORTEUR,"name":"Association (fictive)","kind":"association"}),
        json!({"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"100000"}),
        file_dossier(
            DOSSIER_ETAT,
            json!([{"financeur":"etat","dispositif":"bop147-aap","amount":"10000"}]),
        ),
        file_dossier(
            DOSSIER_SHARED,
            json!([
            {"financeur":"etat","dispositif":"bop147-aap","amount":"10000"},
            {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"5000"}]),
        ),
        json!({"command":"decide_subsidy","dossier_id":DOSSIER_SHARED,"financeur":"etat",
            "decision":{"outcome":"granted","amount":"10000"},"comite":"CF-2025-01","decided_on":"2025-04-15"}),
        cpo(CPO_ETAT),
        json!({"command":"sign_tfpb_convention","convention_id":CONVENTION,"bailleur":"pas-de-calais-habitat",
            "quartiers":["QN06204"],"signatories":["etat","cabbalr","commune-bruay-la-buissiere"],
            "reference":"CONV-TFPB-F","signed_on":"2025-01-10","year_first":2025,"year_last":2030}),
        json!({"command":"declare_tfpb_abatement","programme":programme("pas-de-calais-habitat"),"dwellings":100,"abatement_eur":"20000"}),
        json!({"command":"plan_tfpb_action","programme":programme("pas-de-calais-habitat"),
            "action":action(ACTION_ADMIN, "Médiation (fictive)", two_shares())}),
        json!({"command":"report_tfpb_spending","programme":programme("pas-de-calais-habitat"),
            "action_id":ACTION_ADMIN,"spending_id":SPENDING,"amount_eur":"100.00","spent_on":"2025-03-01","evidence":"F-1"}),
        json!({"command":"pledge_commitment","commitment_id":"caf-fictif-1","signatory":"caf","terms":{
            "title":"Engagement (fictif)","text":"Texte fictif.","kind":{"type":"qualitative"},
            "period":{"start_year":2024,"end_year":2027},"scope":"cabbalr","enjeux":[],"ambitions":[],
            "objectifs":[],"quartiers":[],"source_lines":[[3756,3756]]}}),
        json!({"command":"define_indicator","indicator_id":"caf-fictif-ind","subject":{"type":"commitment","commitment_id":"caf-fictif-1"},
            "name":"Familles (fictif)","unit":"familles"}),
    ]
}

/// What the bailleur records itself: an action shared with another bailleur, which waits for
/// that bailleur's confirmation.
fn bailleur_fixture() -> Vec<Value> {
    vec![
        json!({"command":"plan_tfpb_action","programme":programme("pas-de-calais-habitat"),
        "action":action(ACTION_BAILLEUR, "Encombrants (fictif)", two_shares())}),
    ]
}

/// One command and, for the instructeur and the bailleur, an organisation the table accepts
/// for it and one it does not.
struct Sample {
    command: Value,
    instructeur: (&'static str, &'static str),
    bailleur: (&'static str, &'static str),
}

impl Sample {
    fn name(&self) -> &str {
        self.command["command"].as_str().expect("a command name")
    }

    /// The organisations to try for `role`: (organisation, is it the right one).
    fn organisations(&self, role: Role) -> [(&'static str, bool); 2] {
        let (right, wrong) = match role {
            Role::Bailleur => self.bailleur,
            _ => self.instructeur,
        };
        [(right, true), (wrong, false)]
    }

    /// What the table says for `role` sent from the right organisation or not.
    fn allowed(&self, role: Role, right_organisation: bool) -> bool {
        let rule = rule_of(self.name()).unwrap_or_else(|| panic!("no rule for {}", self.name()));
        match rule.scope(role) {
            Scope::Never => false,
            Scope::Any => true,
            _ => right_organisation,
        }
    }
}

const FINANCEUR: (&str, &str) = ("etat", "caf");
const BAILLEUR: (&str, &str) = ("pas-de-calais-habitat", "maisons-et-cites");
const SIGNATORY: (&str, &str) = ("caf", "etat");

fn sample(command: Value, instructeur: (&'static str, &'static str)) -> Sample {
    Sample {
        command,
        instructeur,
        bailleur: BAILLEUR,
    }
}

fn samples(publish_contract: Value) -> Vec<Sample> {
    let avenant = json!({"kind":"avenant","reference":"Avenant (fictif)"});
    let mut all = vec![
        sample(
            json!({"command":"register_porteur","porteur_id":"0190f2a0-0000-7000-8000-00000000a002","name":"Autre (fictive)","kind":"association"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"sign_contrat_engagement_republicain","porteur_id":PORTEUR,"signed_on":"2025-01-02"}),
            FINANCEUR,
        ),
        sample(
            file_dossier(
                DOSSIER_NEW,
                json!([{"financeur":"etat","dispositif":"bop147-aap","amount":"1000"}]),
            ),
            FINANCEUR,
        ),
        sample(
            json!({"command":"amend_dossier","dossier_id":DOSSIER_ETAT,"title":"Titre (fictif)","reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"receive_crf","dossier_id":DOSSIER_ETAT,"received_on":"2026-03-01"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"record_external_id","dossier_id":DOSSIER_ETAT,"kind":"programmation","value":"PROG-F-1"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"give_opinion","dossier_id":DOSSIER_ETAT,"financeur":"etat","opinion":"favourable","proposed_amount":"1000"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"decide_subsidy","dossier_id":DOSSIER_ETAT,"financeur":"etat","decision":{"outcome":"granted","amount":"1000"},"comite":"CF-2025-02","decided_on":"2025-05-15"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"change_subsidy","dossier_id":DOSSIER_ETAT,"financeur":"etat","change":"increase","amount":"1","reason":"r","decided_on":"2025-06-01"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"sign_convention","dossier_id":DOSSIER_ETAT,"financeur":"etat","kind":"arrete","number":"A-1","signed_on":"2025-06-02"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"record_payment","dossier_id":DOSSIER_ETAT,"financeur":"etat","kind":"avance","amount":"1","paid_on":"2025-06-03","mandate_reference":"M-1"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"order_reversement","dossier_id":DOSSIER_ETAT,"financeur":"etat","amount":"1","reason":"r","ordered_on":"2025-09-01"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"receive_reversement","dossier_id":DOSSIER_ETAT,"financeur":"etat","amount":"1","received_on":"2025-10-01"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"withdraw_dossier","dossier_id":DOSSIER_ETAT,"reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"prepare_comite_session","session_id":SESSION,"reference":"CF-F-SEANCE",
                "held_on":"2025-05-20","exercice":2025,"agenda":[{"dossier_id":DOSSIER_ETAT,
                "financeur":"etat","dispositif":"bop147-aap","proposed_amount":"1000"}]}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"hold_comite_session","session_id":SESSION,"decided_on":"2025-05-20"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"open_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2026,"amount":"1000"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"raise_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"1","reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"lower_envelope","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"1","reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"authorise_over_commitment","financeur":"etat","dispositif":"bop147-aap","exercice":2025,"amount":"1","justification":"j"}),
            FINANCEUR,
        ),
        sample(cpo(CPO_NEW), FINANCEUR),
        sample(
            json!({"command":"revise_cpo","cpo_id":CPO_ETAT,"line":{"exercice":2026,"financeur":"etat","dispositif":"bop147-aap","amount":"9000"},"reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"confirm_cpo_year","cpo_id":CPO_ETAT,"exercice":2026,"dossier_id":DOSSIER_ETAT}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"terminate_cpo","cpo_id":CPO_ETAT,"terminated_on":"2026-12-31","reason":"r"}),
            FINANCEUR,
        ),
        sample(publish_contract, FINANCEUR),
        sample(
            json!({"command":"add_quartier","avenant":avenant,"quartier":{"id":"QIC-fictif","kind":"qic","code":null,"name":"Fictif","communes":["bethune"],"population":500,"population_change_since_2014":null,"new_in_2024":null,"source_lines":[]}}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"change_quartier_population","avenant":avenant,"quartier":"QN06209","population":4321}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"add_commune","avenant":avenant,"commune":{"id":"fictive","name":"Fictive","organisation":null,"quartiers":[],"source_lines":[]}}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"add_signatory","avenant":avenant,"organisation":{"id":"bailleur-fictif","name":"Bailleur fictif","kind":"bailleur","signatory_group":"bailleur","source_lines":[]}}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"rename_objectif","avenant":avenant,"objectif":1,"title":"Titre (fictif)"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"record_governance_meeting","body":"copil-intercommunal","date":"2026-03-12",
            "act_reference":"Relevé de décisions du COPIL (fictif)","decisions":["Bilan 2025 présenté (fictif)"]}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"sign_tfpb_convention","convention_id":CONVENTION_NEW,"bailleur":"pas-de-calais-habitat",
            "quartiers":["QN06204"],"signatories":["etat","cabbalr","commune-bruay-la-buissiere"],
            "reference":"CONV-TFPB-F2","signed_on":"2025-01-10","year_first":2025,"year_last":2030}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"amend_tfpb_convention","convention_id":CONVENTION,"amended_on":"2025-06-01","reason":"r","year_last":2029}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"terminate_tfpb_convention","convention_id":CONVENTION,"terminated_on":"2030-12-31","reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"declare_tfpb_abatement","programme":programme("pas-de-calais-habitat"),"dwellings":101,"abatement_eur":"20100"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"plan_tfpb_action","programme":programme("pas-de-calais-habitat"),"action":action(ACTION_NEW, "Nouvelle (fictive)", json!([]))}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"add_tfpb_action","programme":programme("pas-de-calais-habitat"),"action":action(ACTION_NEW, "Ajoutée (fictive)", json!([])),"reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"drop_tfpb_action","programme":programme("pas-de-calais-habitat"),"action_id":ACTION_NEW,"reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"report_tfpb_spending","programme":programme("pas-de-calais-habitat"),"action_id":ACTION_ADMIN,
            "spending_id":"0190f2a0-0000-7000-8000-00000000f102","amount_eur":"1.00","spent_on":"2025-04-01","evidence":"F-2"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"correct_tfpb_spending","programme":programme("pas-de-calais-habitat"),"action_id":ACTION_ADMIN,
            "spending_id":SPENDING,"amount_eur":"90.00","reason":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"submit_tfpb_bilan","programme":programme("pas-de-calais-habitat"),"submitted_on":"2026-03-01"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"accept_tfpb_bilan","programme":programme("pas-de-calais-habitat"),"reviewer":"etat","reviewer_kind":"state","reviewed_on":"2026-04-01"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"remark_tfpb_bilan","programme":programme("pas-de-calais-habitat"),"reviewer":"etat","reviewer_kind":"state","reviewed_on":"2026-04-01","remarks":"r"}),
            FINANCEUR,
        ),
        sample(
            json!({"command":"record_publication","publication_id":"0190f2a0-0000-7000-8000-00000000b001",
            "format":"scdl_subventions","attribuant":"etat","exercice":2025,"rows":1,
            "dossiers":[DOSSIER_SHARED],"sha256":"ab".repeat(32),"file_name":"scdl-etat-2025.csv",
            "published_on":"2025-07-01"}),
            FINANCEUR,
        ),
        Sample {
            command: json!({"command":"confirm_tfpb_share","programme":programme("pas-de-calais-habitat"),"action_id":ACTION_BAILLEUR,"bailleur":"maisons-et-cites"}),
            instructeur: FINANCEUR,
            bailleur: ("maisons-et-cites", "sia-habitat"),
        },
    ];
    let signatory = |command: Value| Sample {
        command,
        instructeur: SIGNATORY,
        bailleur: SIGNATORY,
    };
    all.extend([
        signatory(json!({"command":"pledge_commitment","commitment_id":"caf-fictif-2","signatory":"caf","terms":{
            "title":"Engagement 2 (fictif)","text":"Texte fictif.","kind":{"type":"qualitative"},
            "period":{"start_year":2024,"end_year":2027},"scope":"cabbalr","enjeux":[],"ambitions":[],
            "objectifs":[],"quartiers":[],"source_lines":[[3756,3756]]}})),
        signatory(json!({"command":"revise_commitment","commitment_id":"caf-fictif-1","reason":"r","terms":{
            "title":"Engagement révisé (fictif)","text":"Texte fictif.","kind":{"type":"qualitative"},
            "period":{"start_year":2024,"end_year":2027},"scope":"cabbalr","enjeux":[],"ambitions":[],
            "objectifs":[],"quartiers":[],"source_lines":[[3756,3756]]}})),
        signatory(json!({"command":"report_commitment_progress","commitment_id":"caf-fictif-1","period":{"from":"2025-01-01","to":"2025-12-31"},"comment":"c"})),
        signatory(json!({"command":"fulfil_commitment","commitment_id":"caf-fictif-1"})),
        signatory(json!({"command":"lapse_commitment","commitment_id":"caf-fictif-1","reason":"r"})),
        signatory(json!({"command":"withdraw_commitment","commitment_id":"caf-fictif-1","reason":"r"})),
        signatory(json!({"command":"declare_contribution_pending","signatory":"caf","name_in_source":"CAF (fictif)"})),
        signatory(json!({"command":"define_indicator","indicator_id":"caf-fictif-ind-2","subject":{"type":"commitment","commitment_id":"caf-fictif-1"},"name":"Indicateur (fictif)","unit":"u"})),
        signatory(json!({"command":"report_indicator_value","indicator_id":"caf-fictif-ind","period":{"from":"2025-01-01","to":"2025-12-31"},"value":"12"})),
        signatory(json!({"command":"retire_indicator","indicator_id":"caf-fictif-ind","reason":"r"})),
    ]);
    all
}

/// Every command name the domain accepts, read from the command schemas (checked against the
/// code by the domain's own tests).
fn command_names() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/commands");
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("schemas/commands") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("a schema");
        let schema: Value = serde_json::from_str(&text).expect("JSON");
        for variant in schema["oneOf"].as_array().expect("oneOf") {
            let command = &variant["properties"]["command"];
            let name = command["const"]
                .as_str()
                .or_else(|| command["enum"][0].as_str())
                .expect("a command name");
            names.insert(name.to_string());
        }
    }
    names
}

fn publish_contract_sample() -> Value {
    let contract = engagements_app::referential::LoadedContract::embedded().expect("contract");
    serde_json::to_value(contract.publish_command()).expect("JSON")
}

fn write_lines(path: &std::path::Path, lines: &[Value]) {
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(path, text.join("\n") + "\n").expect("write the commands file");
}

/// The roles in the order they are tried: the ones that change least first, so that what a
/// role records does not change what the next one is checked against.
const ROLES: [Role; 5] = [
    Role::Lecteur,
    Role::Auditeur,
    Role::Bailleur,
    Role::Instructeur,
    Role::Admin,
];

#[test]
fn every_command_has_a_rule_and_a_sample() {
    let names = command_names();
    let rules: BTreeSet<String> = RULES.iter().map(|r| r.command.to_string()).collect();
    let sampled: BTreeSet<String> = samples(json!({"command":"publish_contract"}))
        .iter()
        .map(|s| s.name().to_string())
        .collect();
    assert!(names.len() > 40, "{names:?}");
    assert_eq!(rules, names, "RULES and the commands differ");
    assert_eq!(sampled, names, "the samples and the commands differ");
    assert_eq!(RULES.len(), rules.len(), "a command has two rules");
}

fn set_up(db: &TestDb, dir: &std::path::Path) {
    run_ok(db, &["init"]);
    let admin = dir.join("admin.jsonl");
    write_lines(&admin, &admin_fixture());
    run_ok(db, &["apply", "--atomic", admin.to_str().expect("path")]);
    let bailleur = dir.join("bailleur.jsonl");
    write_lines(&bailleur, &bailleur_fixture());
    run_ok(
        db,
        &[
            "--role",
            "bailleur",
            "--organisation",
            "pas-de-calais-habitat",
            "apply",
            bailleur.to_str().expect("path"),
        ],
    );
}

#[tokio::test]
async fn every_command_as_every_role_from_the_right_and_the_wrong_organisation() {
    let db = testing::sqlite();
    let dir = tempfile_dir("authorization");
    set_up(&db, &dir);
    let samples = samples(publish_contract_sample());

    // The CLI, as an organisation: one file per role and organisation.
    let mut cli_outcomes: BTreeMap<(String, Role, bool), bool> = BTreeMap::new();
    for role in ROLES {
        let mut by_organisation: BTreeMap<&str, Vec<(usize, bool)>> = BTreeMap::new();
        for (index, sample) in samples.iter().enumerate() {
            for (organisation, right) in sample.organisations(role) {
                by_organisation
                    .entry(organisation)
                    .or_default()
                    .push((index, right));
            }
        }
        for (organisation, items) in by_organisation {
            let lines: Vec<Value> = items
                .iter()
                .map(|(i, _)| samples[*i].command.clone())
                .collect();
            let path = dir.join(format!("{}-{organisation}.jsonl", role.as_str()));
            write_lines(&path, &lines);
            let output = engagements(&db)
                .args(["--role", role.as_str(), "--organisation", organisation])
                .args(["--actor", "Agent (fictif)", "apply"])
                .arg(&path)
                .output()
                .expect("run apply");
            let stderr = String::from_utf8_lossy(&output.stderr);
            for (line, (index, right)) in items.iter().enumerate() {
                let marker = format!("line {}: refused: forbidden", line + 1);
                let forbidden = stderr.lines().any(|l| l.starts_with(&marker));
                cli_outcomes.insert(
                    (samples[*index].name().to_string(), role, *right),
                    !forbidden,
                );
            }
        }
    }

    // The HTTP API: one token per role and organisation.
    let mut tokens: BTreeMap<(Role, &str), String> = BTreeMap::new();
    for role in ROLES {
        for sample in &samples {
            for (organisation, _) in sample.organisations(role) {
                tokens
                    .entry((role, organisation))
                    .or_insert_with(|| token(&db, "Agent (fictif)", organisation, role.as_str()));
            }
        }
    }
    let server = Server::start(&db);
    let address = server.address;
    let api_outcomes = tokio::task::spawn_blocking(move || {
        let samples = samples_for_api();
        let mut outcomes: BTreeMap<(String, Role, bool), (u16, String)> = BTreeMap::new();
        for role in ROLES {
            for sample in &samples {
                for (organisation, right) in sample.organisations(role) {
                    let answer = post(address, &tokens[&(role, organisation)], &sample.command);
                    outcomes.insert(
                        (sample.name().to_string(), role, right),
                        (answer.0, answer.1),
                    );
                }
            }
        }
        outcomes
    })
    .await
    .expect("the API calls");

    let mut wrong = Vec::new();
    for sample in &samples {
        for role in ROLES {
            for right in [true, false] {
                let key = (sample.name().to_string(), role, right);
                let expected = sample.allowed(role, right);
                let (status, body) = &api_outcomes[&key];
                if (*status != 403) != expected {
                    wrong.push(format!(
                        "API {} as {} ({} organisation): {status} {body}",
                        sample.name(),
                        role.as_str(),
                        if right { "right" } else { "wrong" }
                    ));
                }
                if cli_outcomes[&key] != expected {
                    wrong.push(format!(
                        "CLI {} as {} ({} organisation): {}",
                        sample.name(),
                        role.as_str(),
                        if right { "right" } else { "wrong" },
                        if expected { "refused" } else { "accepted" }
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} combinations differ from the table:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(api_outcomes.len(), samples.len() * ROLES.len() * 2);
    drop(server);
}

fn samples_for_api() -> Vec<Sample> {
    samples(publish_contract_sample())
}

fn post(address: SocketAddr, token: &str, command: &Value) -> (u16, String) {
    let answer = call(
        address,
        "POST",
        "/api/v1/commands",
        Some(token),
        &command.to_string(),
    );
    (answer.status, answer.body)
}

fn tempfile_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "engagements-{name}-{}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

fn log_position(address: SocketAddr) -> i64 {
    let ready = call(address, "GET", "/readyz", None, "");
    let body: Value = serde_json::from_str(&ready.body).expect("readyz JSON");
    body["log_position"].as_i64().expect("log_position")
}

/// The planned euros of `bailleur` in QN06204 in 2025, as its own token reads them.
fn planned_in_qn06204(address: SocketAddr, token: &str) -> String {
    let answer = call(
        address,
        "GET",
        "/api/v1/reports/tfpb/quartiers?year=2025&quartier=QN06204",
        Some(token),
        "",
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let rows: Value = serde_json::from_str(&answer.body).expect("rows");
    rows.as_array()
        .expect("an array")
        .iter()
        .find(|row| row["quartier"] == "QN06204")
        .map(|row| row["planned_eur"].as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| "0.00".to_string())
}

#[tokio::test]
async fn a_bailleur_never_moves_another_bailleurs_tfpb_figures_over_http() {
    let db = testing::sqlite();
    let dir = tempfile_dir("tfpb-shares");
    set_up(&db, &dir);
    let pdch = token(
        &db,
        "Chargée TFPB (fictive)",
        "pas-de-calais-habitat",
        "bailleur",
    );
    let mec = token(&db, "Chargé TFPB (fictif)", "maisons-et-cites", "bailleur");
    let server = Server::start(&db);
    let address = server.address;
    tokio::task::spawn_blocking(move || {
        // The admin's shared action counts for both; the bailleur's own waits for Maisons & Cités.
        let before = planned_in_qn06204(address, &mec);
        assert_eq!(before, "400.00");
        let programme = programme("pas-de-calais-habitat");
        let action_id = "0190f2a0-0000-7000-8000-00000000f0aa";
        let plan = json!({"command":"plan_tfpb_action","programme":programme,"action":{
            "action_id":action_id,"axis":"axe-3","label":"Action gonflée (fictive)","planned_eur":"500000.01",
            "shares":[{"bailleur":"pas-de-calais-habitat","planned_eur":"0.01"},
                      {"bailleur":"maisons-et-cites","planned_eur":"500000.00"}]}});
        assert_eq!(post(address, &pdch, &plan).0, 201);
        let spend = json!({"command":"report_tfpb_spending","programme":programme,"action_id":action_id,
            "spending_id":"0190f2a0-0000-7000-8000-00000000f1aa","amount_eur":"500000.01",
            "spent_on":"2025-05-01","evidence":"F-9"});
        assert_eq!(post(address, &pdch, &spend).0, 201);
        assert_eq!(planned_in_qn06204(address, &mec), before, "Maisons & Cités' figures moved");
        // Pas-de-Calais Habitat cannot confirm for Maisons & Cités; Maisons & Cités can.
        let confirm = json!({"command":"confirm_tfpb_share","programme":programme,"action_id":action_id,"bailleur":"maisons-et-cites"});
        assert_eq!(post(address, &pdch, &confirm).0, 403);
        assert_eq!(planned_in_qn06204(address, &mec), before);
        let (status, body) = post(address, &mec, &confirm);
        assert_eq!(status, 201, "{body}");
        assert_eq!(planned_in_qn06204(address, &mec), "500400.00");
    })
    .await
    .expect("the calls");
    drop(server);
}

#[tokio::test]
async fn an_instructeur_cannot_act_on_another_financeurs_dossiers_or_cpo_over_http() {
    let db = testing::sqlite();
    let dir = tempfile_dir("instructeur");
    set_up(&db, &dir);
    let caf = token(&db, "Instructrice CAF (fictive)", "caf", "instructeur");
    let cabbalr = token(
        &db,
        "Instructeur CABBALR (fictif)",
        "cabbalr",
        "instructeur",
    );
    let etat = token(&db, "Instructrice État (fictive)", "etat", "instructeur");
    let server = Server::start(&db);
    let address = server.address;
    tokio::task::spawn_blocking(move || {
        let head = log_position(address);
        for command in [
            json!({"command":"terminate_cpo","cpo_id":CPO_ETAT,"terminated_on":"2025-12-31","reason":"r"}),
            json!({"command":"withdraw_dossier","dossier_id":DOSSIER_ETAT,"reason":"r"}),
            json!({"command":"amend_dossier","dossier_id":DOSSIER_ETAT,"title":"Autre titre","reason":"r"}),
            json!({"command":"amend_dossier","dossier_id":DOSSIER_ETAT,"reason":"r",
                "requests":[{"financeur":"etat","dispositif":"bop147-aap","amount":"1"}]}),
            json!({"command":"receive_crf","dossier_id":DOSSIER_ETAT,"received_on":"2026-03-01"}),
        ] {
            let (status, body) = post(address, &caf, &command);
            assert_eq!(status, 403, "{command}: {body}");
            assert!(body.contains("forbidden"), "{body}");
        }
        // A co-financeur may not change the State's request, nor withdraw what the State decided.
        let raise_etat = json!({"command":"amend_dossier","dossier_id":DOSSIER_SHARED,"reason":"r",
            "requests":[{"financeur":"etat","dispositif":"bop147-aap","amount":"90000"},
                        {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"5000"}]});
        let (status, body) = post(address, &cabbalr, &raise_etat);
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("'etat'"), "{body}");
        let withdraw = json!({"command":"withdraw_dossier","dossier_id":DOSSIER_SHARED,"reason":"r"});
        assert_eq!(post(address, &cabbalr, &withdraw).0, 403);
        assert_eq!(log_position(address), head, "a refused command recorded something");
        // Its own line is its own.
        let own = json!({"command":"amend_dossier","dossier_id":DOSSIER_SHARED,"reason":"r",
            "requests":[{"financeur":"etat","dispositif":"bop147-aap","amount":"10000"},
                        {"financeur":"cabbalr","dispositif":"fonds-cohesion-sociale","amount":"6000"}]});
        let (status, body) = post(address, &cabbalr, &own);
        assert_eq!(status, 201, "{body}");
        // The State may withdraw it as far as the table goes; the domain then asks for the grant
        // to be cancelled first.
        let (status, body) = post(address, &etat, &withdraw);
        assert_eq!(status, 422, "{body}");
        assert!(body.contains("cancel the grants"), "{body}");
    })
    .await
    .expect("the calls");
    drop(server);
}

#[tokio::test]
async fn a_command_id_reused_with_another_body_or_organisation_is_refused_over_http() {
    let db = testing::sqlite();
    let dir = tempfile_dir("idempotency");
    set_up(&db, &dir);
    let etat = token(&db, "Instructrice État (fictive)", "etat", "instructeur");
    let etat_other = token(&db, "Autre agent État (fictif)", "etat", "instructeur");
    let caf = token(&db, "Instructrice CAF (fictive)", "caf", "instructeur");
    let server = Server::start(&db);
    let address = server.address;
    tokio::task::spawn_blocking(move || {
        let id = "0190f2a0-0000-7000-8000-0000000bbb01";
        let payment = |amount: &str| {
            json!({"command":"record_payment","dossier_id":DOSSIER_SHARED,"financeur":"etat","kind":"avance",
                "amount":amount,"paid_on":"2025-06-01","mandate_reference":"MDT-F-1","meta":{"command_id":id}})
        };
        let (status, first) = post(address, &etat, &payment("5000"));
        assert_eq!(status, 201, "{first}");
        let head = log_position(address);
        // The same command again, by the same organisation: the first receipt, nothing new.
        let (status, again) = post(address, &etat_other, &payment("5000"));
        assert_eq!(status, 200, "{again}");
        assert!(again.contains("\"duplicate\":true"), "{again}");
        // Another body under the same id: refused, and nothing of the first is shown.
        let (status, body) = post(address, &etat, &payment("1.00"));
        assert_eq!(status, 409, "{body}");
        assert!(!body.contains(DOSSIER_SHARED) && !body.contains("PaymentRecorded"), "{body}");
        // Another organisation under the same id, even with the same body: refused likewise.
        let (status, body) = post(address, &caf, &payment("5000"));
        assert_eq!(status, 409, "{body}");
        assert!(!body.contains("PaymentRecorded"), "{body}");
        assert_eq!(log_position(address), head);
    })
    .await
    .expect("the calls");
    drop(server);
}

/// The log's last position, read from the store directly.
async fn log_head(db: &TestDb) -> i64 {
    let store = engagements_store::Store::open(&db.url)
        .await
        .expect("open the store");
    let head = store
        .head()
        .await
        .expect("head")
        .map(|h| h.position)
        .unwrap_or(0);
    store.shutdown().await;
    head
}

#[tokio::test]
async fn apply_atomic_twice_records_nothing_new_and_exits_zero() {
    let db = testing::sqlite();
    let dir = tempfile_dir("atomic-twice");
    run_ok(&db, &["init"]);
    let lines: Vec<Value> = admin_fixture()
        .into_iter()
        .enumerate()
        .map(|(i, mut line)| {
            line["meta"] =
                json!({"command_id": format!("0190f2a0-0000-7000-8000-0000000cc{i:03}")});
            line
        })
        .collect();
    let path = dir.join("fixture.jsonl");
    write_lines(&path, &lines);
    let file = path.to_str().expect("path");
    run_ok(&db, &["apply", "--atomic", file]);
    let before = log_head(&db).await;
    assert!(before > 0);
    for atomic in [true, false] {
        let mut args = vec!["apply"];
        if atomic {
            args.push("--atomic");
        }
        args.push(file);
        let output = run_ok(&db, &args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            stdout.contains(&format!("{} accepted, 0 refused", lines.len())),
            "{stdout}"
        );
        assert_eq!(
            log_head(&db).await,
            before,
            "re-applying the file recorded something"
        );
    }
    // The same ids with one body changed: refused, all or nothing.
    let mut changed = lines.clone();
    changed[1]["amount"] = json!("100001");
    write_lines(&path, &changed);
    let output = engagements(&db)
        .args(["apply", "--atomic", file])
        .output()
        .expect("apply");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("already used"),
        "{stderr}"
    );
    assert_eq!(log_head(&db).await, before);
}
