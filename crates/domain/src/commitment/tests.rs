//! Rules of a single commitment, without storage (the app tests run them on both backends).

use chrono::NaiveDate;
use esrs::Aggregate;
use proptest::prelude::*;
use rust_decimal_macros::dec;

use super::*;

fn id(text: &str) -> CommitmentId {
    text.parse().unwrap()
}

fn terms(kind: CommitmentKind, scope: Scope, scope_ref: Option<&str>) -> CommitmentTerms {
    CommitmentTerms {
        service: None,
        title: "Engagement fictif de test".into(),
        text: "Texte fictif de l'engagement.".into(),
        kind,
        programme: Some("Dispositif fictif".into()),
        period: YearPeriod {
            start_year: Some(2024),
            end_year: Some(2027),
        },
        scope,
        scope_ref: scope_ref.map(str::to_string),
        enjeux: vec!["E2".into()],
        ambitions: vec!["A5".into()],
        objectifs: vec![14],
        quartiers: vec![],
        source_lines: vec![LineRange(3756, 3756)],
        carriers: vec![],
        targets: vec![],
        baselines: vec![],
        flags: vec![],
        objectif_links: vec![],
    }
}

fn financial() -> CommitmentKind {
    CommitmentKind::Financial {
        amount_eur: Amount::euros(15_000_000),
        amount_period: Some(AmountPeriod::PerYear),
    }
}

fn pledged(kind: CommitmentKind) -> CommitmentState {
    let events = Commitment::handle_command(
        &CommitmentState::default(),
        CommitmentCommand::Pledge {
            commitment_id: id("etat-05"),
            signatory: "etat".into(),
            terms: terms(kind, Scope::Departement, None),
        },
    )
    .unwrap();
    events
        .into_iter()
        .fold(CommitmentState::default(), Commitment::apply_event)
}

fn run(
    state: CommitmentState,
    command: CommitmentCommand,
) -> Result<CommitmentState, CommitmentError> {
    let events = Commitment::handle_command(&state, command)?;
    Ok(events.into_iter().fold(state, Commitment::apply_event))
}

fn report(value: Option<Decimal>, unit: Option<&str>) -> CommitmentCommand {
    CommitmentCommand::ReportProgress {
        commitment_id: id("etat-05"),
        period: ReportingPeriod {
            from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        },
        realised_value: value,
        unit: unit.map(str::to_string),
        comment: Some("Bilan fictif".into()),
        evidence_ref: Some("BILAN-2025-FICTIF".into()),
    }
}

#[test]
fn every_kind_is_accepted_with_its_fields() {
    let kinds = [
        financial(),
        CommitmentKind::Staffing {
            staff_count: Some(37),
            staff_unit: "conseillers dédiés".into(),
        },
        CommitmentKind::Programme,
        CommitmentKind::Qualitative,
        CommitmentKind::Governance,
        CommitmentKind::Condition,
    ];
    for kind in kinds {
        let name = kind.name();
        let state = pledged(kind);
        assert_eq!(state.pledged.unwrap().terms.kind.name(), name);
    }
}

#[test]
fn kinds_refuse_missing_fields() {
    let mut no_programme = terms(CommitmentKind::Programme, Scope::Cabbalr, None);
    no_programme.programme = None;
    assert_eq!(no_programme.checked(), Err(TermsError::ProgrammeMissing));
    let no_unit = terms(
        CommitmentKind::Staffing {
            staff_count: Some(3),
            staff_unit: "  ".into(),
        },
        Scope::Cabbalr,
        None,
    );
    assert_eq!(
        no_unit.checked(),
        Err(TermsError::Empty {
            field: "staff_unit"
        })
    );
    let too_many = terms(
        CommitmentKind::Staffing {
            staff_count: Some(STAFF_COUNT_MAX + 1),
            staff_unit: "postes".into(),
        },
        Scope::Cabbalr,
        None,
    );
    assert!(matches!(
        too_many.checked(),
        Err(TermsError::StaffCountTooLarge(_))
    ));
    // A financial kind without an amount does not even decode.
    let json = r#"{"type":"financial","amount_period":"per_year"}"#;
    assert!(serde_json::from_str::<CommitmentKind>(json)
        .unwrap_err()
        .to_string()
        .contains("amount_eur"));
    let negative = r#"{"type":"financial","amount_eur":"-5"}"#;
    assert!(serde_json::from_str::<CommitmentKind>(negative).is_err());
}

#[test]
fn scope_ref_is_required_for_commune_and_quartier_and_refused_for_wider_scopes() {
    for scope in [Scope::Commune, Scope::Quartier] {
        assert_eq!(
            terms(CommitmentKind::Qualitative, scope, None).checked(),
            Err(TermsError::ScopeRefMissing { scope })
        );
        assert!(terms(CommitmentKind::Qualitative, scope, Some("Barlin"))
            .checked()
            .is_ok());
    }
    for scope in [
        Scope::Cabbalr,
        Scope::Departement,
        Scope::Region,
        Scope::National,
    ] {
        let err = terms(CommitmentKind::Qualitative, scope, Some("Béthune")).checked();
        assert!(
            matches!(err, Err(TermsError::ScopeRefNotAllowed { .. })),
            "{scope}: {err:?}"
        );
    }
    assert!(Scope::Cabbalr.is_local() && Scope::Commune.is_local() && Scope::Quartier.is_local());
    assert!(
        !Scope::Departement.is_local() && !Scope::Region.is_local() && !Scope::National.is_local()
    );
}

#[test]
fn bad_links_ids_and_sources_are_named() {
    let mut bad = terms(CommitmentKind::Qualitative, Scope::Cabbalr, None);
    bad.enjeux = vec!["E02".into()];
    assert_eq!(bad.checked(), Err(TermsError::BadEnjeu("E02".into())));
    let mut bad = terms(CommitmentKind::Qualitative, Scope::Cabbalr, None);
    bad.objectifs = vec![14, 14];
    assert!(matches!(bad.checked(), Err(TermsError::Duplicate { .. })));
    let mut bad = terms(CommitmentKind::Qualitative, Scope::Cabbalr, None);
    bad.source_lines = vec![];
    assert_eq!(bad.checked(), Err(TermsError::NoSource));
    let mut bad = terms(CommitmentKind::Qualitative, Scope::Cabbalr, None);
    bad.source_lines = vec![LineRange(20, 10)];
    assert_eq!(bad.checked(), Err(TermsError::BadLineRange(20, 10)));
    let mut bad = terms(CommitmentKind::Qualitative, Scope::Cabbalr, None);
    bad.period.end_year = Some(2020);
    assert!(matches!(
        bad.checked(),
        Err(TermsError::ReversedPeriod { .. })
    ));
    assert!("Etat-05".parse::<CommitmentId>().is_err());
    assert!("etat--05".parse::<CommitmentId>().is_err());
    assert!("etat-05".parse::<CommitmentId>().is_ok());
    let err = Commitment::handle_command(
        &CommitmentState::default(),
        CommitmentCommand::Pledge {
            commitment_id: id("x-01"),
            signatory: "L'État".into(),
            terms: terms(CommitmentKind::Qualitative, Scope::Cabbalr, None),
        },
    );
    assert_eq!(err, Err(CommitmentError::BadSignatory("L'État".into())));
}

#[test]
fn revision_replaces_terms_and_needs_a_change_and_a_reason() {
    let state = pledged(financial());
    let mut new_terms = terms(financial(), Scope::Departement, None);
    let same = CommitmentCommand::Revise {
        commitment_id: id("etat-05"),
        terms: new_terms.clone(),
        reason: "Avenant fictif".into(),
    };
    assert_eq!(
        run(state.clone(), same),
        Err(CommitmentError::NothingRevised(id("etat-05")))
    );
    new_terms.kind = CommitmentKind::Financial {
        amount_eur: Amount::euros(12_000_000),
        amount_period: Some(AmountPeriod::PerYear),
    };
    let no_reason = CommitmentCommand::Revise {
        commitment_id: id("etat-05"),
        terms: new_terms.clone(),
        reason: " ".into(),
    };
    assert!(run(state.clone(), no_reason).is_err());
    let revised = run(
        state,
        CommitmentCommand::Revise {
            commitment_id: id("etat-05"),
            terms: new_terms.clone(),
            reason: "Avenant fictif".into(),
        },
    )
    .unwrap();
    let current = revised.pledged.unwrap();
    assert_eq!(current.revisions, 1);
    assert_eq!(current.terms, new_terms);
}

#[test]
fn progress_values_follow_the_kind() {
    let money = pledged(financial());
    assert!(run(money.clone(), report(Some(dec!(1250000.50)), None)).is_ok());
    assert!(matches!(
        run(money.clone(), report(Some(dec!(10.001)), None)),
        Err(CommitmentError::BadRealisedValue { .. })
    ));
    assert!(matches!(
        run(money.clone(), report(Some(dec!(-1)), None)),
        Err(CommitmentError::BadRealisedValue { .. })
    ));
    let staff = pledged(CommitmentKind::Staffing {
        staff_count: Some(37),
        staff_unit: "conseillers".into(),
    });
    assert!(run(staff.clone(), report(Some(dec!(35)), None)).is_ok());
    assert!(matches!(
        run(staff, report(Some(dec!(35.5)), None)),
        Err(CommitmentError::BadRealisedValue { .. })
    ));
    let pledge = pledged(CommitmentKind::Qualitative);
    assert!(matches!(
        run(pledge.clone(), report(Some(dec!(120)), None)),
        Err(CommitmentError::BadRealisedValue { .. })
    ));
    let after = run(pledge, report(Some(dec!(120)), Some("habitants reçus"))).unwrap();
    assert_eq!(after.pledged.unwrap().progress_reports, 1);
}

#[test]
fn progress_needs_content_and_a_period_within_the_commitment() {
    let state = pledged(financial());
    let empty = CommitmentCommand::ReportProgress {
        commitment_id: id("etat-05"),
        period: ReportingPeriod {
            from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 12, 31).unwrap(),
        },
        realised_value: None,
        unit: None,
        comment: None,
        evidence_ref: None,
    };
    assert_eq!(
        run(state.clone(), empty),
        Err(CommitmentError::EmptyReport(id("etat-05")))
    );
    let mut late = report(None, None);
    if let CommitmentCommand::ReportProgress { period, .. } = &mut late {
        period.from = NaiveDate::from_ymd_opt(2029, 1, 1).unwrap();
        period.to = NaiveDate::from_ymd_opt(2029, 12, 31).unwrap();
    }
    assert!(matches!(
        run(state.clone(), late),
        Err(CommitmentError::PeriodOutsideCommitment { .. })
    ));
    let mut reversed = report(None, None);
    if let CommitmentCommand::ReportProgress { period, .. } = &mut reversed {
        std::mem::swap(&mut period.from, &mut period.to);
    }
    assert!(matches!(
        run(state, reversed),
        Err(CommitmentError::Report(ReportError::ReversedPeriod { .. }))
    ));
}

#[test]
fn fulfilled_lapsed_and_withdrawn_close_the_commitment() {
    let closers = [
        CommitmentCommand::Fulfil {
            commitment_id: id("etat-05"),
            comment: None,
            evidence_ref: Some("Bilan final fictif".into()),
        },
        CommitmentCommand::Lapse {
            commitment_id: id("etat-05"),
            reason: "Période échue (fictif)".into(),
        },
        CommitmentCommand::Withdraw {
            commitment_id: id("etat-05"),
            reason: "Retrait (fictif)".into(),
        },
    ];
    for closer in closers {
        let closed = run(pledged(financial()), closer).unwrap();
        let status = closed.pledged.as_ref().unwrap().status;
        assert_ne!(status, CommitmentStatus::Active);
        assert_eq!(
            run(closed, report(Some(dec!(1)), None)),
            Err(CommitmentError::Closed {
                id: id("etat-05"),
                status
            })
        );
    }
    assert_eq!(
        run(CommitmentState::default(), report(None, None)),
        Err(CommitmentError::NotPledged(id("etat-05")))
    );
}

#[test]
fn events_round_trip_through_json() {
    let events = Commitment::handle_command(
        &CommitmentState::default(),
        CommitmentCommand::Pledge {
            commitment_id: id("etat-05"),
            signatory: "etat".into(),
            terms: terms(financial(), Scope::Departement, None),
        },
    )
    .unwrap();
    let json = serde_json::to_string(&events[0]).unwrap();
    assert!(json.contains(r#""amount_eur":"15000000.00""#), "{json}");
    let back: CommitmentEvent = serde_json::from_str(&json).unwrap();
    assert_eq!(back, events[0]);
}

#[test]
fn indicators_are_defined_reported_and_retired() {
    use indicator::*;
    let define = IndicatorCommand::Define {
        indicator_id: "jeunes-cej-qpv".parse().unwrap(),
        subject: IndicatorSubject::Commitment {
            commitment_id: id("france-travail-08"),
        },
        name: "Jeunes QPV en CEJ (fictif)".into(),
        unit: "jeunes".into(),
        description: None,
        baseline: None,
        target: None,
    };
    let state = Indicator::handle_command(&IndicatorState::default(), define.clone())
        .unwrap()
        .into_iter()
        .fold(IndicatorState::default(), Indicator::apply_event);
    assert!(matches!(
        Indicator::handle_command(&state, define),
        Err(IndicatorError::AlreadyDefined(_))
    ));
    let value = IndicatorCommand::ReportValue {
        indicator_id: "jeunes-cej-qpv".parse().unwrap(),
        period: ReportingPeriod {
            from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
            to: NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        },
        value: dec!(412),
        comment: None,
        evidence_ref: None,
    };
    let state = Indicator::handle_command(&state, value.clone())
        .unwrap()
        .into_iter()
        .fold(state, Indicator::apply_event);
    assert_eq!(state.values, 1);
    let retired = Indicator::handle_command(
        &state,
        IndicatorCommand::Retire {
            indicator_id: "jeunes-cej-qpv".parse().unwrap(),
            reason: "Remplacé (fictif)".into(),
        },
    )
    .unwrap()
    .into_iter()
    .fold(state, Indicator::apply_event);
    assert!(matches!(
        Indicator::handle_command(&retired, value),
        Err(IndicatorError::Retired(_))
    ));
}

proptest! {
    /// A financial commitment accepts exactly the realised values that are amounts in euros.
    #[test]
    fn financial_realised_values_are_amounts(cents in -1_000_000i64..1_000_000, extra in 0u32..3) {
        let value = Decimal::new(cents * 10i64.pow(extra), 2 + extra);
        let result = run(pledged(financial()), report(Some(value), None));
        prop_assert_eq!(result.is_ok(), Amount::new(value).is_ok());
    }

    /// Slugs round-trip and anything else is refused with the value named.
    #[test]
    fn slugs(text in "[a-zA-Z0-9 _-]{0,12}") {
        match text.parse::<CommitmentId>() {
            Ok(id) => prop_assert_eq!(id.as_str(), text.as_str()),
            Err(TermsError::BadSlug(bad)) => prop_assert_eq!(bad, text),
            Err(other) => prop_assert!(false, "unexpected {other}"),
        }
    }
}
