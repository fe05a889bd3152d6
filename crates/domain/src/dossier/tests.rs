//! One test per rule of the dossier: the bad command is refused with an error naming the problem.

use super::*;
use esrs::Aggregate;
use rust_decimal_macros::dec;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
}

fn file_command(dossier_id: DossierId) -> DossierCommand {
    DossierCommand::File {
        dossier_id,
        porteur_id: PorteurId::new(),
        exercice: 2025,
        title: "Atelier d'écriture (fictif)".into(),
        description: String::new(),
        total_budget: Amount::euros(60_000),
        quartiers: vec![QuartierShare {
            quartier: "QN06209".into(),
            share_pct: None,
        }],
        objectifs: vec![ObjectifWeight {
            objectif: 1,
            weight: None,
        }],
        requests: vec![
            FundingRequest {
                financeur: "etat".into(),
                dispositif: "bop147-aap".into(),
                amount: Amount::euros(30_000),
            },
            FundingRequest {
                financeur: "cabbalr".into(),
                dispositif: "fonds-cohesion-sociale".into(),
                amount: Amount::euros(5_000),
            },
        ],
        pistes: vec![],
    }
}

fn run(state: DossierState, command: DossierCommand) -> Result<DossierState, DossierError> {
    let events = Dossier::handle_command(&state, command)?;
    Ok(events.into_iter().fold(state, Dossier::apply_event))
}

fn filed() -> (DossierId, DossierState) {
    let dossier_id = DossierId::new();
    let state = run(DossierState::default(), file_command(dossier_id)).unwrap();
    (dossier_id, state)
}

fn grant(dossier_id: DossierId, financeur: &str, amount: u64) -> DossierCommand {
    DossierCommand::Decide {
        dossier_id,
        financeur: financeur.into(),
        dispositif: None,
        decision: Decision::Granted {
            amount: Amount::euros(amount),
            majoration_reason: None,
        },
        comite: "CF-2025-01".into(),
        decided_on: day(12),
    }
}

fn grant_with_majoration(dossier_id: DossierId, amount: u64, reason: &str) -> DossierCommand {
    DossierCommand::Decide {
        dossier_id,
        financeur: "etat".into(),
        dispositif: None,
        decision: Decision::Granted {
            amount: Amount::euros(amount),
            majoration_reason: Some(reason.into()),
        },
        comite: "CF-2025-01".into(),
        decided_on: day(12),
    }
}

#[test]
fn a_grant_above_the_request_needs_a_majoration_and_its_reason() {
    let (dossier_id, state) = filed();
    // 30,000 € asked of the State: 30,000.01 € is refused, naming both amounts.
    let above = DossierCommand::Decide {
        dossier_id,
        financeur: "etat".into(),
        dispositif: None,
        decision: Decision::Granted {
            amount: Amount::from_cents(3_000_001).unwrap(),
            majoration_reason: None,
        },
        comite: "CF-2025-01".into(),
        decided_on: day(12),
    };
    let err = run(state.clone(), above).unwrap_err();
    assert!(
        matches!(err, DossierError::GrantAboveRequest { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("30000.01 €") && text.contains("30000.00 €"),
        "{text}"
    );
    assert!(text.contains("majoration"), "{text}");
    // A blank reason is no reason.
    let blank = run(
        state.clone(),
        grant_with_majoration(dossier_id, 31_000, "  "),
    )
    .unwrap_err();
    assert!(
        matches!(blank, DossierError::GrantAboveRequest { .. }),
        "{blank}"
    );
    // A reason without an excess is refused: a majoration in the log always means one.
    let needless = run(
        state.clone(),
        grant_with_majoration(dossier_id, 30_000, "hausse"),
    )
    .unwrap_err();
    assert!(
        matches!(needless, DossierError::MajorationWithoutExcess { .. }),
        "{needless}"
    );
    // Exactly the request, and above it with a reason, are accepted; the reason is kept.
    assert!(run(state.clone(), grant(dossier_id, "etat", 30_000)).is_ok());
    let events = Dossier::handle_command(
        &state,
        grant_with_majoration(dossier_id, 32_000, "public élargi au quartier voisin"),
    )
    .unwrap();
    match &events[0] {
        DossierEvent::SubsidyGranted {
            amount,
            majoration_reason,
            ..
        } => {
            assert_eq!(*amount, Amount::euros(32_000));
            assert_eq!(
                majoration_reason.as_deref(),
                Some("public élargi au quartier voisin")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_grant_event_recorded_before_majorations_reads_without_one() {
    let old = serde_json::json!({
        "type": "SubsidyGranted", "dossier_id": DossierId::new(), "financeur": "etat",
        "dispositif": "bop147-aap", "amount": "100.00", "comite": "CF", "decided_on": "2025-03-12"
    });
    let event: DossierEvent = serde_json::from_value(old.clone()).unwrap();
    assert!(matches!(
        event,
        DossierEvent::SubsidyGranted {
            majoration_reason: None,
            ..
        }
    ));
    // Written back the same way: the absent field is not added.
    assert_eq!(serde_json::to_value(&event).unwrap(), old);
}

fn pay(dossier_id: DossierId, kind: PaymentKind, amount: u64) -> DossierCommand {
    DossierCommand::RecordPayment {
        dossier_id,
        financeur: "etat".into(),
        dispositif: None,
        kind,
        amount: Amount::euros(amount),
        paid_on: day(20),
        mandate_reference: "MDT-1".into(),
    }
}

fn change(dossier_id: DossierId, change: GrantChange, amount: Option<u64>) -> DossierCommand {
    DossierCommand::ChangeGrant {
        dossier_id,
        financeur: "etat".into(),
        dispositif: None,
        change,
        amount: amount.map(Amount::euros),
        reason: "avenant".into(),
        decided_on: day(25),
    }
}

#[test]
fn a_financeur_not_asked_cannot_decide() {
    let (dossier_id, state) = filed();
    let err = run(state, grant(dossier_id, "caf", 1)).unwrap_err();
    assert!(
        matches!(err, DossierError::FinanceurNotAsked { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("'caf'"), "{err}");
}

#[test]
fn a_grant_is_final_and_changes_only_through_change_subsidy() {
    let (dossier_id, state) = filed();
    let state = run(state, grant(dossier_id, "etat", 20_000)).unwrap();
    let key = ("etat".to_string(), "bop147-aap".to_string());
    assert_eq!(state.lines[&key].granted, Amount::euros(20_000));
    let err = run(state.clone(), grant(dossier_id, "etat", 1)).unwrap_err();
    assert!(matches!(err, DossierError::AlreadyDecided { .. }), "{err}");
    let state = run(state, change(dossier_id, GrantChange::Increase, Some(500))).unwrap();
    assert_eq!(state.lines[&key].granted, Amount::euros(20_500));
    let state = run(state, change(dossier_id, GrantChange::Reduce, Some(1_000))).unwrap();
    assert_eq!(state.lines[&key].granted, Amount::euros(19_500));
    let state = run(state, change(dossier_id, GrantChange::Cancel, None)).unwrap();
    assert_eq!(state.lines[&key].granted, Amount::ZERO);
    assert_eq!(state.lines[&key].status, LineStatus::Cancelled);
}

#[test]
fn an_adjourned_line_can_be_decided_later() {
    let (dossier_id, state) = filed();
    let adjourn = DossierCommand::Decide {
        dossier_id,
        financeur: "etat".into(),
        dispositif: Some("bop147-aap".into()),
        decision: Decision::Adjourned,
        comite: "CF-2025-01".into(),
        decided_on: day(1),
    };
    let state = run(state, adjourn).unwrap();
    assert!(run(state, grant(dossier_id, "etat", 100)).is_ok());
}

#[test]
fn payments_never_exceed_the_grant() {
    let (dossier_id, state) = filed();
    let state = run(state, grant(dossier_id, "etat", 10_000)).unwrap();
    let state = run(state, pay(dossier_id, PaymentKind::Avance, 6_000)).unwrap();
    let err = run(state.clone(), pay(dossier_id, PaymentKind::Solde, 4_001)).unwrap_err();
    assert!(
        matches!(err, DossierError::PaymentAboveGrant { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("10000.00"), "{err}");
    let state = run(state, pay(dossier_id, PaymentKind::Solde, 4_000)).unwrap();
    let err = run(state, pay(dossier_id, PaymentKind::Acompte, 1)).unwrap_err();
    assert!(matches!(err, DossierError::SoldePaid { .. }), "{err}");
}

#[test]
fn no_payment_without_a_grant() {
    let (dossier_id, state) = filed();
    let err = run(state, pay(dossier_id, PaymentKind::Avance, 1)).unwrap_err();
    assert!(matches!(err, DossierError::NotGranted { .. }), "{err}");
}

#[test]
fn a_reduction_cannot_go_below_what_is_paid() {
    let (dossier_id, state) = filed();
    let state = run(state, grant(dossier_id, "etat", 10_000)).unwrap();
    let state = run(state, pay(dossier_id, PaymentKind::Avance, 8_000)).unwrap();
    let err = run(
        state.clone(),
        change(dossier_id, GrantChange::Reduce, Some(2_001)),
    )
    .unwrap_err();
    assert!(
        matches!(err, DossierError::ReductionBelowPaid { .. }),
        "{err}"
    );
    let err = run(state, change(dossier_id, GrantChange::Cancel, None)).unwrap_err();
    assert!(matches!(err, DossierError::CancelWhilePaid { .. }), "{err}");
}

#[test]
fn reversements_stay_within_what_was_paid_and_ordered() {
    let (dossier_id, state) = filed();
    let state = run(state, grant(dossier_id, "etat", 10_000)).unwrap();
    let state = run(state, pay(dossier_id, PaymentKind::Avance, 5_000)).unwrap();
    let order = |amount| DossierCommand::OrderReversement {
        dossier_id,
        financeur: "etat".into(),
        dispositif: None,
        amount: Amount::euros(amount),
        reason: "action non réalisée".into(),
        ordered_on: day(28),
    };
    let receive = |amount| DossierCommand::ReceiveReversement {
        dossier_id,
        financeur: "etat".into(),
        dispositif: None,
        amount: Amount::euros(amount),
        received_on: day(30),
    };
    let err = run(state.clone(), order(5_001)).unwrap_err();
    assert!(
        matches!(err, DossierError::ReversementAbovePaid { .. }),
        "{err}"
    );
    let state = run(state, order(2_000)).unwrap();
    let err = run(state.clone(), receive(2_001)).unwrap_err();
    assert!(
        matches!(err, DossierError::ReversementAboveOrdered { .. }),
        "{err}"
    );
    let state = run(state, receive(2_000)).unwrap();
    let line = &state.lines[&("etat".to_string(), "bop147-aap".to_string())];
    assert_eq!(line.net_paid(), Amount::euros(3_000));
    // Money came back: the porteur may be paid again up to the grant.
    assert!(run(state, pay(dossier_id, PaymentKind::Acompte, 7_000)).is_ok());
}

#[test]
fn a_withdrawn_dossier_takes_no_decision() {
    let (dossier_id, state) = filed();
    let withdraw = DossierCommand::Withdraw {
        dossier_id,
        reason: "action abandonnée".into(),
    };
    let state = run(state, withdraw.clone()).unwrap();
    let err = run(state.clone(), grant(dossier_id, "etat", 1)).unwrap_err();
    assert_eq!(err, DossierError::Withdrawn(dossier_id));
    assert!(err.to_string().contains("withdrawn"), "{err}");
    let (dossier_id, state) = filed();
    let state = run(state, grant(dossier_id, "etat", 1)).unwrap();
    let err = run(
        state,
        DossierCommand::Withdraw {
            dossier_id,
            reason: "x".into(),
        },
    )
    .unwrap_err();
    assert!(
        matches!(err, DossierError::WithdrawWithGrant { .. }),
        "{err}"
    );
}

#[test]
fn the_convention_rule_counts_per_porteur_financeur_and_exercice() {
    let below = Amount::euros(23_000);
    let above = Amount::from_cents(2_300_001).unwrap();
    assert!(check_convention_for_payment("etat", 2025, below, None).is_ok());
    let err = check_convention_for_payment("etat", 2025, above, None).unwrap_err();
    assert!(err.to_string().contains("23000.01"), "{err}");
    let err =
        check_convention_for_payment("etat", 2025, above, Some(ActOfGrant::Arrete)).unwrap_err();
    assert!(err.to_string().contains("arrêté"), "{err}");
    assert!(
        check_convention_for_payment("etat", 2025, above, Some(ActOfGrant::Convention)).is_ok()
    );
}

#[test]
fn shares_must_cover_every_quartier_and_add_to_100() {
    let dossier_id = DossierId::new();
    let with_quartiers = |quartiers: Vec<QuartierShare>| {
        let DossierCommand::File {
            porteur_id,
            exercice,
            title,
            description,
            total_budget,
            objectifs,
            requests,
            ..
        } = file_command(dossier_id)
        else {
            unreachable!()
        };
        DossierCommand::File {
            dossier_id,
            porteur_id,
            exercice,
            title,
            description,
            total_budget,
            quartiers,
            objectifs,
            requests,
            pistes: vec![],
        }
    };
    let share = |q: &str, pct: Option<Decimal>| QuartierShare {
        quartier: q.into(),
        share_pct: pct,
    };
    let bad = [
        vec![],
        vec![share("A", Some(dec!(60))), share("B", Some(dec!(30)))],
        vec![share("A", Some(dec!(60))), share("B", None)],
        vec![share("A", Some(dec!(100.001)))],
        vec![share("A", None), share("A", None)],
    ];
    for quartiers in bad {
        let result = run(DossierState::default(), with_quartiers(quartiers.clone()));
        assert!(result.is_err(), "{quartiers:?} accepted");
    }
    let ok = vec![share("A", Some(dec!(66.67))), share("B", Some(dec!(33.33)))];
    assert!(run(DossierState::default(), with_quartiers(ok)).is_ok());
}

#[test]
fn an_amendment_cannot_drop_a_decided_financeur() {
    let (dossier_id, state) = filed();
    let state = run(state, grant(dossier_id, "etat", 1_000)).unwrap();
    let amend = DossierCommand::Amend {
        dossier_id,
        title: None,
        description: None,
        total_budget: None,
        quartiers: None,
        objectifs: None,
        requests: Some(vec![FundingRequest {
            financeur: "cabbalr".into(),
            dispositif: "fonds-cohesion-sociale".into(),
            amount: Amount::euros(9_000),
        }]),
        pistes: None,
        reason: "plan de financement revu".into(),
    };
    let err = run(state.clone(), amend).unwrap_err();
    assert!(
        matches!(err, DossierError::AmendRemovesDecided { .. }),
        "{err}"
    );
    let amend = DossierCommand::Amend {
        dossier_id,
        title: Some("Atelier d'écriture et de lecture (fictif)".into()),
        description: None,
        total_budget: Some(Amount::euros(61_000)),
        quartiers: None,
        objectifs: None,
        requests: None,
        pistes: None,
        reason: "titre précisé".into(),
    };
    let state = run(state, amend).unwrap();
    assert_eq!(state.filed.unwrap().total_budget, Amount::euros(61_000));
}

#[test]
fn commands_read_from_json_with_precise_errors() {
    let line = r#"{"command":"record_payment","dossier_id":"0190f2a0-0000-7000-8000-000000000001","financeur":"etat","kind":"avance","amount":"1500.50","paid_on":"2025-04-01","mandate_reference":"M-1"}"#;
    let command: DossierCommand = serde_json::from_str(line).unwrap();
    assert!(matches!(command, DossierCommand::RecordPayment { .. }));
    let bad = line.replace("1500.50", "-3");
    let err = serde_json::from_str::<DossierCommand>(&bad).unwrap_err();
    assert!(err.to_string().contains("negative"), "{err}");
}

#[test]
fn a_dossier_state_round_trips_through_json_for_snapshots() {
    let (dossier_id, state) = filed();
    let state = run(state, grant(dossier_id, "etat", 1_000)).unwrap();
    let json = serde_json::to_string(&state).unwrap();
    let back: DossierState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
}

fn alias(
    dossier_id: DossierId,
    kind: ExternalIdKind,
    value: &str,
    financeur: Option<&str>,
) -> DossierCommand {
    DossierCommand::RecordExternalId {
        dossier_id,
        kind,
        value: value.into(),
        exercice: Some(2025),
        financeur: financeur.map(str::to_string),
        dispositif: None,
    }
}

#[test]
fn external_ids_are_normalised_kept_in_order_and_recorded_once() {
    let dossier_id = DossierId::new();
    let err = run(
        DossierState::default(),
        alias(
            dossier_id,
            ExternalIdKind::DauphinDossier,
            "DA00012345",
            None,
        ),
    )
    .unwrap_err();
    assert_eq!(err, DossierError::NotFiled(dossier_id));

    let (dossier_id, state) = filed();
    let state = run(
        state,
        alias(
            dossier_id,
            ExternalIdKind::DauphinDossier,
            "da 00012345",
            None,
        ),
    )
    .unwrap_err();
    assert!(
        matches!(state, DossierError::BadExternalId { .. }),
        "a space inside a Dauphin code: {state}"
    );
    let (dossier_id, state) = filed();
    let state = run(
        state,
        alias(dossier_id, ExternalIdKind::DauphinDossier, "12345", None),
    )
    .unwrap();
    // An EJ on the State's line: the dispositif resolves to the only one asked of the State.
    let state = run(
        state,
        alias(
            dossier_id,
            ExternalIdKind::ChorusEj,
            "2103456789",
            Some("etat"),
        ),
    )
    .unwrap();
    assert_eq!(
        state
            .external_ids
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "dauphin_dossier DA00012345 (2025)",
            "chorus_ej 2103456789 (2025, etat/bop147-aap)"
        ]
    );
    // The same identifier again, however written, is refused as already recorded.
    let err = run(
        state.clone(),
        alias(
            dossier_id,
            ExternalIdKind::DauphinDossier,
            "DA00012345-1",
            None,
        ),
    )
    .unwrap_err();
    assert!(
        matches!(err, DossierError::ExternalIdAlreadyRecorded { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("DA00012345"), "{err}");
    // A line the dossier does not ask, a dispositif without financeur, a bad year.
    let err = run(
        state.clone(),
        alias(
            dossier_id,
            ExternalIdKind::ChorusEj,
            "2103456790",
            Some("caf"),
        ),
    )
    .unwrap_err();
    assert!(
        matches!(err, DossierError::FinanceurNotAsked { .. }),
        "{err}"
    );
    let err = run(
        state.clone(),
        DossierCommand::RecordExternalId {
            dossier_id,
            kind: ExternalIdKind::GisproProjet,
            value: "PRJ-1".into(),
            exercice: None,
            financeur: None,
            dispositif: Some("bop147-aap".into()),
        },
    )
    .unwrap_err();
    assert_eq!(err, DossierError::DispositifWithoutFinanceur);
    let err = run(
        state.clone(),
        DossierCommand::RecordExternalId {
            dossier_id,
            kind: ExternalIdKind::GisproProjet,
            value: "PRJ-1".into(),
            exercice: Some(1925),
            financeur: None,
            dispositif: None,
        },
    )
    .unwrap_err();
    assert_eq!(err, DossierError::ExerciceOutOfRange(1925));
    // A withdrawn dossier still accepts identifiers.
    let state = run(
        state,
        DossierCommand::Withdraw {
            dossier_id,
            reason: "abandon (fictif)".into(),
        },
    )
    .unwrap();
    let state = run(
        state,
        alias(dossier_id, ExternalIdKind::GisproProjet, "prj-1", None),
    )
    .unwrap();
    assert_eq!(state.external_ids.len(), 3);
    assert_eq!(state.external_ids[2].value, "PRJ-1");
    let json = serde_json::to_string(&state).unwrap();
    let back: DossierState = serde_json::from_str(&json).unwrap();
    assert_eq!(back, state);
}

#[test]
fn record_external_id_reads_from_json() {
    let line = r#"{"command":"record_external_id","dossier_id":"0190f2a0-0000-7000-8000-000000000001","kind":"chorus_ej","value":"2103456789","exercice":2025,"financeur":"etat"}"#;
    let command: DossierCommand = serde_json::from_str(line).unwrap();
    assert!(matches!(
        command,
        DossierCommand::RecordExternalId {
            kind: ExternalIdKind::ChorusEj,
            ..
        }
    ));
    assert_eq!(command.financeur(), Some("etat"));
    let bad = line.replace("chorus_ej", "ej");
    assert!(serde_json::from_str::<DossierCommand>(&bad).is_err());
}

#[test]
fn pistes_are_written_as_pistes_once_each_and_of_the_dossiers_objectifs() {
    assert_eq!(piste_objectif("O12-I3"), Some(12));
    assert_eq!(piste_objectif("O1-C1"), Some(1));
    for bad in [
        "12-I3", "O12-X3", "O12-I0", "O-I1", "O12I3", "O12-I", "O012-I1", "o1-i1",
    ] {
        assert_eq!(piste_objectif(bad), None, "{bad}");
    }
    let dossier_id = DossierId::new();
    let with_pistes = |pistes: Vec<&str>| {
        let DossierCommand::File {
            porteur_id,
            exercice,
            title,
            description,
            total_budget,
            quartiers,
            objectifs,
            requests,
            ..
        } = file_command(dossier_id)
        else {
            unreachable!()
        };
        DossierCommand::File {
            dossier_id,
            porteur_id,
            exercice,
            title,
            description,
            total_budget,
            quartiers,
            objectifs,
            requests,
            pistes: pistes.into_iter().map(str::to_string).collect(),
        }
    };
    // The dossier serves objectif 1 only.
    let err = run(DossierState::default(), with_pistes(vec!["O2-I1"])).unwrap_err();
    assert!(
        matches!(err, DossierError::PisteOutsideObjectifs { objectif: 2, .. }),
        "{err}"
    );
    let err = run(DossierState::default(), with_pistes(vec!["piste 3"])).unwrap_err();
    assert!(matches!(err, DossierError::BadPiste(_)), "{err}");
    let err = run(DossierState::default(), with_pistes(vec!["O1-I1", "O1-I1"])).unwrap_err();
    assert!(matches!(err, DossierError::Duplicate { .. }), "{err}");
    let state = run(DossierState::default(), with_pistes(vec!["O1-I1", "O1-C2"])).unwrap();
    assert_eq!(state.filed.as_ref().unwrap().pistes, vec!["O1-I1", "O1-C2"]);
    // An amendment that drops the objectif of a cited piste must drop the piste too.
    let amend = |objectif: u32, pistes: Option<Vec<String>>| DossierCommand::Amend {
        dossier_id,
        title: None,
        description: None,
        total_budget: None,
        quartiers: None,
        objectifs: Some(vec![ObjectifWeight {
            objectif,
            weight: None,
        }]),
        requests: None,
        pistes,
        reason: "objectif revu".into(),
    };
    let err = run(state.clone(), amend(2, None)).unwrap_err();
    assert!(
        matches!(err, DossierError::PisteOutsideObjectifs { .. }),
        "{err}"
    );
    let state = run(state, amend(2, Some(vec!["O2-I4".into()]))).unwrap();
    assert_eq!(state.filed.unwrap().pistes, vec!["O2-I4"]);
}
