use super::*;
use crate::tfpb::TfpbShare;
use esrs::Aggregate;
use proptest::prelude::*;

fn key() -> TfpbProgrammeKey {
    TfpbProgrammeKey::new("sia-habitat", "QN06208", 2025)
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn spec(label: &str, planned: u64) -> TfpbActionSpec {
    TfpbActionSpec {
        action_id: TfpbActionId::new(),
        axis: "axe-3".into(),
        label: label.into(),
        description: None,
        planned_eur: Amount::euros(planned),
        partners: vec![],
        shares: vec![],
    }
}

fn run(
    state: TfpbProgrammeState,
    command: TfpbProgrammeCommand,
) -> Result<TfpbProgrammeState, TfpbError> {
    let events = TfpbProgramme::handle_command(&state, command)?;
    Ok(events.into_iter().fold(state, TfpbProgramme::apply_event))
}

fn declared(amount: u64) -> TfpbProgrammeState {
    run(
        TfpbProgrammeState::default(),
        TfpbProgrammeCommand::DeclareAbatement {
            programme: key(),
            dwellings: 420,
            abatement_eur: Amount::euros(amount),
        },
    )
    .unwrap()
}

fn with_action(state: TfpbProgrammeState, action: TfpbActionSpec) -> TfpbProgrammeState {
    run(
        state,
        TfpbProgrammeCommand::PlanAction {
            programme: key(),
            action,
        },
    )
    .unwrap()
}

fn spend(
    action_id: TfpbActionId,
    spending_id: TfpbSpendingId,
    amount: Amount,
) -> TfpbProgrammeCommand {
    TfpbProgrammeCommand::ReportSpending {
        programme: key(),
        action_id,
        spending_id,
        amount_eur: amount,
        spent_on: date(2025, 5, 12),
        evidence: "Facture F-001 (fictive)".into(),
    }
}

#[test]
fn a_second_declaration_corrects_the_first() {
    let state = declared(100_000);
    let events = TfpbProgramme::handle_command(
        &state,
        TfpbProgrammeCommand::DeclareAbatement {
            programme: key(),
            dwellings: 400,
            abatement_eur: Amount::euros(90_000),
        },
    )
    .unwrap();
    assert!(matches!(
        &events[0],
        TfpbProgrammeEvent::TfpbAbatementCorrected { previous_eur, .. } if *previous_eur == Amount::euros(100_000)
    ));
    let state = events.into_iter().fold(state, TfpbProgramme::apply_event);
    assert_eq!(state.abatement.unwrap().amount, Amount::euros(90_000));
    assert_eq!(
        run(
            state,
            TfpbProgrammeCommand::DeclareAbatement {
                programme: key(),
                dwellings: 0,
                abatement_eur: Amount::euros(1),
            }
        ),
        Err(TfpbError::BadDwellings(0))
    );
}

#[test]
fn bad_keys_are_refused() {
    let command = TfpbProgrammeCommand::DeclareAbatement {
        programme: TfpbProgrammeKey::new("sia habitat", "QN06208", 2025),
        dwellings: 1,
        abatement_eur: Amount::euros(1),
    };
    assert!(matches!(
        run(TfpbProgrammeState::default(), command),
        Err(TfpbError::BadRefId {
            what: "bailleur",
            ..
        })
    ));
    let command = TfpbProgrammeCommand::DeclareAbatement {
        programme: TfpbProgrammeKey::new("sia-habitat", "QN06208", 1925),
        dwellings: 1,
        abatement_eur: Amount::euros(1),
    };
    assert_eq!(
        run(TfpbProgrammeState::default(), command),
        Err(TfpbError::YearOutOfRange(1925))
    );
}

#[test]
fn labels_are_unique_among_live_actions() {
    let state = with_action(declared(1000), spec("Médiation de soirée", 500));
    let again = run(
        state.clone(),
        TfpbProgrammeCommand::PlanAction {
            programme: key(),
            action: spec("  médiation de SOIRÉE ", 100),
        },
    );
    assert!(matches!(again, Err(TfpbError::DuplicateLabel(_))));
    // Once dropped, the label is free again.
    let action_id = *state.actions.keys().next().unwrap();
    let state = run(
        state,
        TfpbProgrammeCommand::DropAction {
            programme: key(),
            action_id,
            reason: "Remplacée (fictif)".into(),
        },
    )
    .unwrap();
    let state = run(
        state,
        TfpbProgrammeCommand::AddAction {
            programme: key(),
            action: spec("Médiation de soirée", 300),
            reason: "Reprise (fictif)".into(),
        },
    )
    .unwrap();
    assert_eq!(state.live_actions().count(), 1);
    assert!(state.live_actions().next().unwrap().added);
}

#[test]
fn cross_landlord_shares_must_include_own_bailleur_and_add_up() {
    let mut action = spec("Jardin partagé inter-bailleurs", 10_000);
    action.shares = vec![
        TfpbShare {
            bailleur: "sia-habitat".into(),
            planned_eur: Amount::euros(6_000),
        },
        TfpbShare {
            bailleur: "maisons-et-cites".into(),
            planned_eur: Amount::euros(3_999),
        },
    ];
    let refused = run(
        declared(1),
        TfpbProgrammeCommand::PlanAction {
            programme: key(),
            action: action.clone(),
        },
    );
    assert!(matches!(refused, Err(TfpbError::SharesDoNotAddUp { .. })));
    action.shares[1].planned_eur = Amount::euros(4_000);
    let mut foreign = action.clone();
    foreign.shares[0].bailleur = "sigh".into();
    assert_eq!(
        run(
            declared(1),
            TfpbProgrammeCommand::PlanAction {
                programme: key(),
                action: foreign,
            }
        ),
        Err(TfpbError::SharesWithoutOwnBailleur("sia-habitat".into()))
    );
    assert!(run(
        declared(1),
        TfpbProgrammeCommand::PlanAction {
            programme: key(),
            action,
        }
    )
    .is_ok());
}

#[test]
fn spending_rules() {
    let action = spec("Sur-entretien des halls", 5_000);
    let action_id = action.action_id;
    let state = with_action(declared(10_000), action);
    let spending_id = TfpbSpendingId::new();
    let state = run(state, spend(action_id, spending_id, Amount::euros(1_200))).unwrap();
    assert_eq!(
        run(
            state.clone(),
            spend(action_id, spending_id, Amount::euros(1))
        ),
        Err(TfpbError::SpendingExists(spending_id))
    );
    assert_eq!(
        run(
            state.clone(),
            spend(action_id, TfpbSpendingId::new(), Amount::ZERO)
        ),
        Err(TfpbError::ZeroSpending)
    );
    let unknown = TfpbActionId::new();
    assert!(matches!(
        run(
            state.clone(),
            spend(unknown, TfpbSpendingId::new(), Amount::euros(1))
        ),
        Err(TfpbError::UnknownAction(..))
    ));
    let mut late = spend(action_id, TfpbSpendingId::new(), Amount::euros(1));
    if let TfpbProgrammeCommand::ReportSpending { spent_on, .. } = &mut late {
        *spent_on = date(2026, 1, 2);
    }
    assert!(matches!(
        run(state.clone(), late),
        Err(TfpbError::SpendingOutsideYear { .. })
    ));
    // An action with spending cannot be dropped until the spending is corrected to 0.
    let drop = TfpbProgrammeCommand::DropAction {
        programme: key(),
        action_id,
        reason: "Abandon (fictif)".into(),
    };
    assert!(matches!(
        run(state.clone(), drop.clone()),
        Err(TfpbError::DropWithSpending { .. })
    ));
    let state = run(
        state,
        TfpbProgrammeCommand::CorrectSpending {
            programme: key(),
            action_id,
            spending_id,
            amount_eur: Amount::ZERO,
            reason: "Facture annulée (fictif)".into(),
        },
    )
    .unwrap();
    assert_eq!(state.actions[&action_id].realised(), Amount::ZERO);
    let state = run(state, drop).unwrap();
    assert!(matches!(
        run(
            state,
            spend(action_id, TfpbSpendingId::new(), Amount::euros(1))
        ),
        Err(TfpbError::ActionDropped(_))
    ));
}

fn submit() -> TfpbProgrammeCommand {
    TfpbProgrammeCommand::SubmitBilan {
        programme: key(),
        submitted_on: date(2026, 5, 1),
        comment: None,
    }
}

fn accept(kind: TfpbReviewer) -> TfpbProgrammeCommand {
    TfpbProgrammeCommand::AcceptBilan {
        programme: key(),
        reviewer: match kind {
            TfpbReviewer::State => "etat".into(),
            TfpbReviewer::Epci => "cabbalr".into(),
        },
        reviewer_kind: kind,
        reviewed_on: date(2026, 6, 1),
    }
}

#[test]
fn bilan_is_submitted_reviewed_corrected_and_accepted_by_both() {
    assert!(matches!(
        run(TfpbProgrammeState::default(), submit()),
        Err(TfpbError::BilanWithoutAbatement(_))
    ));
    assert!(matches!(
        run(declared(1), accept(TfpbReviewer::State)),
        Err(TfpbError::BilanNotSubmitted(_))
    ));
    let state = run(declared(1_000), submit()).unwrap();
    assert_eq!(state.bilan.status(), BilanStatus::Submitted);
    assert_eq!(
        run(state.clone(), submit()),
        Err(TfpbError::BilanAwaitingReview(1))
    );
    let state = run(state, accept(TfpbReviewer::State)).unwrap();
    assert_eq!(
        run(state.clone(), accept(TfpbReviewer::State)),
        Err(TfpbError::AlreadyReviewed(TfpbReviewer::State, 1))
    );
    let state = run(
        state,
        TfpbProgrammeCommand::RemarkBilan {
            programme: key(),
            reviewer: "cabbalr".into(),
            reviewer_kind: TfpbReviewer::Epci,
            reviewed_on: date(2026, 6, 2),
            remarks: "Justifier l'action 2 (fictif)".into(),
        },
    )
    .unwrap();
    assert_eq!(state.bilan.status(), BilanStatus::Remarks);
    // The correction is a new submission; both review it again.
    let state = run(state, submit()).unwrap();
    assert_eq!(state.bilan.submissions, 2);
    assert_eq!(state.bilan.status(), BilanStatus::Submitted);
    let state = run(state, accept(TfpbReviewer::Epci)).unwrap();
    assert_eq!(state.bilan.status(), BilanStatus::Submitted);
    let state = run(state, accept(TfpbReviewer::State)).unwrap();
    assert_eq!(state.bilan.status(), BilanStatus::Accepted);
    assert_eq!(run(state, submit()), Err(TfpbError::BilanAlreadyAccepted));
}

proptest! {
    /// Whatever spendings and corrections come in, an action's realised amount is the sum of the
    /// current amount of each spending, to the cent.
    #[test]
    fn realised_is_the_sum_of_current_spendings(
        amounts in proptest::collection::vec(1i64..10_000_000, 1..20),
        corrections in proptest::collection::vec((0usize..20, 0i64..10_000_000), 0..10),
    ) {
        let action = spec("Action", 1);
        let action_id = action.action_id;
        let mut state = with_action(declared(1), action);
        let mut ids = Vec::new();
        let mut expected: Vec<i64> = Vec::new();
        for cents in &amounts {
            let id = TfpbSpendingId::new();
            state = run(state, spend(action_id, id, Amount::from_cents(*cents).unwrap())).unwrap();
            ids.push(id);
            expected.push(*cents);
        }
        for (index, cents) in corrections {
            let index = index % ids.len();
            state = run(state, TfpbProgrammeCommand::CorrectSpending {
                programme: key(),
                action_id,
                spending_id: ids[index],
                amount_eur: Amount::from_cents(cents).unwrap(),
                reason: "correction".into(),
            }).unwrap();
            expected[index] = cents;
        }
        prop_assert_eq!(state.actions[&action_id].realised().cents(), expected.iter().sum::<i64>());
    }
}

fn shared_action() -> TfpbActionSpec {
    let mut action = spec("Médiation partagée (fictive)", 1_000);
    action.shares = vec![
        TfpbShare {
            bailleur: "sia-habitat".into(),
            planned_eur: Amount::euros(600),
        },
        TfpbShare {
            bailleur: "maisons-et-cites".into(),
            planned_eur: Amount::euros(400),
        },
    ];
    action
}

fn confirm(action_id: TfpbActionId, bailleur: &str) -> TfpbProgrammeCommand {
    TfpbProgrammeCommand::ConfirmShare {
        programme: key(),
        action_id,
        bailleur: bailleur.into(),
    }
}

#[test]
fn another_bailleurs_share_counts_for_it_only_once_it_confirms_it() {
    let action = shared_action();
    let id = action.action_id;
    let state = with_action(declared(10_000), action);
    let counted = |state: &TfpbProgrammeState| {
        state.actions[&id]
            .counted_shares("sia-habitat")
            .into_iter()
            .map(|s| (s.bailleur, s.planned_eur.to_string()))
            .collect::<Vec<_>>()
    };
    // Until Maisons & Cités confirms, its 400 € count for the programme's bailleur.
    assert_eq!(
        counted(&state),
        vec![("sia-habitat".into(), "1000.00".into())]
    );
    assert_eq!(
        state.actions[&id]
            .unconfirmed_shares("sia-habitat")
            .collect::<Vec<_>>(),
        vec!["maisons-et-cites"]
    );
    let state = run(state, confirm(id, "maisons-et-cites")).unwrap();
    assert_eq!(
        counted(&state),
        vec![
            ("sia-habitat".into(), "600.00".into()),
            ("maisons-et-cites".into(), "400.00".into())
        ]
    );
    // Once only; never for the programme's own bailleur; never for a bailleur without a share.
    assert!(matches!(
        run(state.clone(), confirm(id, "maisons-et-cites")),
        Err(TfpbError::ShareAlreadyConfirmed { .. })
    ));
    assert!(matches!(
        run(state.clone(), confirm(id, "sia-habitat")),
        Err(TfpbError::OwnShare(_))
    ));
    assert!(matches!(
        run(state.clone(), confirm(id, "sigh")),
        Err(TfpbError::NoShare { .. })
    ));
    assert!(matches!(
        run(state, confirm(TfpbActionId::new(), "maisons-et-cites")),
        Err(TfpbError::UnknownAction(..))
    ));
}
