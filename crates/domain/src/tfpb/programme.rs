//! One bailleur's TFPB year in one QPV: the abatement declared, the action programme, the
//! spending reported and the annual bilan with its reviews by the State and the EPCI.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    check_id_list, check_ref_id, check_text, in_year, label_key, TfpbActionId, TfpbActionSpec,
    TfpbError, TfpbProgrammeKey, TfpbReviewer, TfpbShare, TfpbSpendingId,
    ACTIONS_PER_PROGRAMME_MAX, DWELLINGS_MAX, LABEL_CHARS_MAX, PARTIES_MAX, SHARES_MAX,
    SPENDINGS_PER_ACTION_MAX, TEXT_CHARS_MAX,
};
use crate::event::DomainEvent;
use crate::money::Amount;

/// Commands on a bailleur's TFPB programme (bailleur × QPV × tax year).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum TfpbProgrammeCommand {
    /// Declares the abatement (or corrects the one declared: the new figures replace the old).
    #[serde(rename = "declare_tfpb_abatement")]
    DeclareAbatement {
        programme: TfpbProgrammeKey,
        /// Dwellings of the bailleur in the QPV that carry the abatement.
        dwellings: u32,
        /// The abatement's amount (valorisation) for the tax year.
        abatement_eur: Amount,
    },
    /// An action of the programme as drawn up for the year.
    #[serde(rename = "plan_tfpb_action")]
    PlanAction {
        programme: TfpbProgrammeKey,
        action: TfpbActionSpec,
    },
    /// An action added during the year.
    #[serde(rename = "add_tfpb_action")]
    AddAction {
        programme: TfpbProgrammeKey,
        action: TfpbActionSpec,
        reason: String,
    },
    /// Another bailleur confirms the share of a cross-landlord action that the programme's
    /// bailleur gave it: until then, that share counts in the programme's bailleur's figures and
    /// not in the other's (one bailleur never moves another's figures on its own word).
    #[serde(rename = "confirm_tfpb_share")]
    ConfirmShare {
        programme: TfpbProgrammeKey,
        action_id: TfpbActionId,
        /// The confirming bailleur (an organisation id), named in the action's shares.
        bailleur: String,
    },
    /// An action dropped during the year (only while no spending is reported on it).
    #[serde(rename = "drop_tfpb_action")]
    DropAction {
        programme: TfpbProgrammeKey,
        action_id: TfpbActionId,
        reason: String,
    },
    #[serde(rename = "report_tfpb_spending")]
    ReportSpending {
        programme: TfpbProgrammeKey,
        action_id: TfpbActionId,
        spending_id: TfpbSpendingId,
        amount_eur: Amount,
        spent_on: NaiveDate,
        /// Reference of the evidence (invoice, order, internal voucher).
        evidence: String,
    },
    /// Replaces the amount of a spending reported earlier (0 cancels it).
    #[serde(rename = "correct_tfpb_spending")]
    CorrectSpending {
        programme: TfpbProgrammeKey,
        action_id: TfpbActionId,
        spending_id: TfpbSpendingId,
        amount_eur: Amount,
        reason: String,
    },
    #[serde(rename = "submit_tfpb_bilan")]
    SubmitBilan {
        programme: TfpbProgrammeKey,
        submitted_on: NaiveDate,
        #[serde(default)]
        comment: Option<String>,
    },
    #[serde(rename = "accept_tfpb_bilan")]
    AcceptBilan {
        programme: TfpbProgrammeKey,
        /// Organisation id of the reviewer (the State or the EPCI).
        reviewer: String,
        reviewer_kind: TfpbReviewer,
        reviewed_on: NaiveDate,
    },
    /// Remarks asking the bailleur for corrections.
    #[serde(rename = "remark_tfpb_bilan")]
    RemarkBilan {
        programme: TfpbProgrammeKey,
        reviewer: String,
        reviewer_kind: TfpbReviewer,
        reviewed_on: NaiveDate,
        remarks: String,
    },
}

impl TfpbProgrammeCommand {
    /// The programme the command is about.
    pub fn programme(&self) -> &TfpbProgrammeKey {
        match self {
            TfpbProgrammeCommand::DeclareAbatement { programme, .. }
            | TfpbProgrammeCommand::PlanAction { programme, .. }
            | TfpbProgrammeCommand::AddAction { programme, .. }
            | TfpbProgrammeCommand::ConfirmShare { programme, .. }
            | TfpbProgrammeCommand::DropAction { programme, .. }
            | TfpbProgrammeCommand::ReportSpending { programme, .. }
            | TfpbProgrammeCommand::CorrectSpending { programme, .. }
            | TfpbProgrammeCommand::SubmitBilan { programme, .. }
            | TfpbProgrammeCommand::AcceptBilan { programme, .. }
            | TfpbProgrammeCommand::RemarkBilan { programme, .. } => programme,
        }
    }

    /// The action the command plans, if it plans one.
    pub fn planned_action(&self) -> Option<&TfpbActionSpec> {
        match self {
            TfpbProgrammeCommand::PlanAction { action, .. }
            | TfpbProgrammeCommand::AddAction { action, .. } => Some(action),
            _ => None,
        }
    }

    /// Whether this is a review of the bilan (by the State or the EPCI, never by the bailleur).
    pub fn is_review(&self) -> bool {
        matches!(
            self,
            TfpbProgrammeCommand::AcceptBilan { .. } | TfpbProgrammeCommand::RemarkBilan { .. }
        )
    }
}

/// Facts about a bailleur's TFPB programme.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum TfpbProgrammeEvent {
    TfpbAbatementDeclared {
        programme: TfpbProgrammeKey,
        dwellings: u32,
        abatement_eur: Amount,
    },
    /// A new declaration replacing the earlier one.
    TfpbAbatementCorrected {
        programme: TfpbProgrammeKey,
        dwellings: u32,
        abatement_eur: Amount,
        previous_eur: Amount,
    },
    TfpbActionPlanned {
        programme: TfpbProgrammeKey,
        action: TfpbActionSpec,
    },
    TfpbActionAdded {
        programme: TfpbProgrammeKey,
        action: TfpbActionSpec,
        reason: String,
    },
    TfpbShareConfirmed {
        programme: TfpbProgrammeKey,
        action_id: TfpbActionId,
        bailleur: String,
    },
    TfpbActionDropped {
        programme: TfpbProgrammeKey,
        action_id: TfpbActionId,
        reason: String,
    },
    TfpbSpendingReported {
        programme: TfpbProgrammeKey,
        action_id: TfpbActionId,
        spending_id: TfpbSpendingId,
        amount_eur: Amount,
        spent_on: NaiveDate,
        evidence: String,
    },
    TfpbSpendingCorrected {
        programme: TfpbProgrammeKey,
        action_id: TfpbActionId,
        spending_id: TfpbSpendingId,
        amount_eur: Amount,
        previous_eur: Amount,
        reason: String,
    },
    TfpbBilanSubmitted {
        programme: TfpbProgrammeKey,
        /// 1 for the first submission, 2 after the first remarks…
        submission: u32,
        submitted_on: NaiveDate,
        comment: Option<String>,
    },
    TfpbBilanAccepted {
        programme: TfpbProgrammeKey,
        submission: u32,
        reviewer: String,
        reviewer_kind: TfpbReviewer,
        reviewed_on: NaiveDate,
    },
    TfpbBilanRemarked {
        programme: TfpbProgrammeKey,
        submission: u32,
        reviewer: String,
        reviewer_kind: TfpbReviewer,
        reviewed_on: NaiveDate,
        remarks: String,
    },
}

impl DomainEvent for TfpbProgrammeEvent {
    const STREAM_TYPE: &'static str = "tfpb_programme";
    crate::event_names!(TfpbProgrammeEvent {
        TfpbAbatementDeclared,
        TfpbAbatementCorrected,
        TfpbActionPlanned,
        TfpbActionAdded,
        TfpbShareConfirmed,
        TfpbActionDropped,
        TfpbSpendingReported,
        TfpbSpendingCorrected,
        TfpbBilanSubmitted,
        TfpbBilanAccepted,
        TfpbBilanRemarked
    });
}

impl TfpbProgrammeEvent {
    /// The programme the event is about.
    pub fn programme(&self) -> &TfpbProgrammeKey {
        match self {
            TfpbProgrammeEvent::TfpbAbatementDeclared { programme, .. }
            | TfpbProgrammeEvent::TfpbAbatementCorrected { programme, .. }
            | TfpbProgrammeEvent::TfpbActionPlanned { programme, .. }
            | TfpbProgrammeEvent::TfpbActionAdded { programme, .. }
            | TfpbProgrammeEvent::TfpbShareConfirmed { programme, .. }
            | TfpbProgrammeEvent::TfpbActionDropped { programme, .. }
            | TfpbProgrammeEvent::TfpbSpendingReported { programme, .. }
            | TfpbProgrammeEvent::TfpbSpendingCorrected { programme, .. }
            | TfpbProgrammeEvent::TfpbBilanSubmitted { programme, .. }
            | TfpbProgrammeEvent::TfpbBilanAccepted { programme, .. }
            | TfpbProgrammeEvent::TfpbBilanRemarked { programme, .. } => programme,
        }
    }
}

/// The abatement as declared last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Abatement {
    pub dwellings: u32,
    pub amount: Amount,
}

/// One action and what was spent on it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActionState {
    pub spec: TfpbActionSpec,
    /// Added during the year rather than planned with the programme.
    pub added: bool,
    pub dropped: bool,
    /// Current amount of each spending (after corrections).
    pub spendings: BTreeMap<TfpbSpendingId, Amount>,
    /// The other bailleurs who confirmed their share (the programme's own needs none).
    #[serde(default)]
    pub confirmed_shares: BTreeSet<String>,
}

impl ActionState {
    /// What was spent on the action so far.
    pub fn realised(&self) -> Amount {
        self.spendings.values().copied().sum()
    }

    /// Each bailleur's planned share as it counts now: the shares of bailleurs who have not
    /// confirmed theirs count for the programme's bailleur `owner`, so that no bailleur's figures
    /// move on another's word. In the order of the spec's shares, `owner` first when it has none.
    pub fn counted_shares(&self, owner: &str) -> Vec<TfpbShare> {
        if self.spec.shares.is_empty() {
            return vec![TfpbShare {
                bailleur: owner.to_string(),
                planned_eur: self.spec.planned_eur,
            }];
        }
        let mut counted: Vec<TfpbShare> = Vec::with_capacity(self.spec.shares.len());
        let mut pending = Amount::ZERO;
        for share in &self.spec.shares {
            if share.bailleur == owner || self.confirmed_shares.contains(&share.bailleur) {
                counted.push(share.clone());
            } else {
                pending = pending.checked_add(share.planned_eur).unwrap_or(pending);
            }
        }
        if let Some(own) = counted.iter_mut().find(|s| s.bailleur == owner) {
            own.planned_eur = own
                .planned_eur
                .checked_add(pending)
                .unwrap_or(own.planned_eur);
        }
        counted
    }

    /// The bailleurs named in the shares who still have to confirm theirs.
    pub fn unconfirmed_shares<'a>(&'a self, owner: &'a str) -> impl Iterator<Item = &'a str> {
        self.spec
            .shares
            .iter()
            .map(|s| s.bailleur.as_str())
            .filter(move |b| *b != owner && !self.confirmed_shares.contains(*b))
    }
}

/// Where the bilan stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BilanStatus {
    NotSubmitted,
    /// Submitted, awaiting one or both reviews.
    Submitted,
    /// A reviewer asked for corrections on the latest submission.
    Remarks,
    /// Accepted by both the State and the EPCI.
    Accepted,
}

impl BilanStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BilanStatus::NotSubmitted => "not_submitted",
            BilanStatus::Submitted => "submitted",
            BilanStatus::Remarks => "remarks",
            BilanStatus::Accepted => "accepted",
        }
    }
}

/// A review of the latest submission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Review {
    pub reviewer: String,
    pub reviewed_on: NaiveDate,
    /// `None`: accepted; `Some`: the remarks.
    pub remarks: Option<String>,
}

/// The bilan's submissions and the reviews of the latest one.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BilanState {
    pub submissions: u32,
    pub first_submitted_on: Option<NaiveDate>,
    pub last_submitted_on: Option<NaiveDate>,
    pub reviews: BTreeMap<TfpbReviewer, Review>,
}

impl BilanState {
    pub fn status(&self) -> BilanStatus {
        if self.submissions == 0 {
            return BilanStatus::NotSubmitted;
        }
        if self.reviews.values().any(|r| r.remarks.is_some()) {
            return BilanStatus::Remarks;
        }
        if self.reviews.contains_key(&TfpbReviewer::State)
            && self.reviews.contains_key(&TfpbReviewer::Epci)
        {
            return BilanStatus::Accepted;
        }
        BilanStatus::Submitted
    }
}

/// What the ledger knows of one programme.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TfpbProgrammeState {
    pub abatement: Option<Abatement>,
    pub actions: BTreeMap<TfpbActionId, ActionState>,
    pub bilan: BilanState,
}

impl TfpbProgrammeState {
    /// The actions not dropped.
    pub fn live_actions(&self) -> impl Iterator<Item = &ActionState> {
        self.actions.values().filter(|a| !a.dropped)
    }

    fn live_action(
        &self,
        key: &TfpbProgrammeKey,
        action_id: TfpbActionId,
    ) -> Result<&ActionState, TfpbError> {
        let action = self
            .actions
            .get(&action_id)
            .ok_or_else(|| TfpbError::UnknownAction(action_id, key.clone()))?;
        if action.dropped {
            return Err(TfpbError::ActionDropped(action_id));
        }
        Ok(action)
    }
}

/// The programme aggregate.
pub struct TfpbProgramme;

impl esrs::Aggregate for TfpbProgramme {
    const NAME: &'static str = "tfpb_programme";
    type State = TfpbProgrammeState;
    type Command = TfpbProgrammeCommand;
    type Event = TfpbProgrammeEvent;
    type Error = TfpbError;

    fn handle_command(
        state: &TfpbProgrammeState,
        command: TfpbProgrammeCommand,
    ) -> Result<Vec<TfpbProgrammeEvent>, TfpbError> {
        command.programme().check()?;
        match command {
            TfpbProgrammeCommand::DeclareAbatement {
                programme,
                dwellings,
                abatement_eur,
            } => declare(state, programme, dwellings, abatement_eur),
            TfpbProgrammeCommand::PlanAction { programme, action } => {
                let action = check_new_action(state, &programme, action)?;
                Ok(vec![TfpbProgrammeEvent::TfpbActionPlanned {
                    programme,
                    action,
                }])
            }
            TfpbProgrammeCommand::AddAction {
                programme,
                action,
                reason,
            } => {
                let action = check_new_action(state, &programme, action)?;
                let reason = check_text("reason", &reason, TEXT_CHARS_MAX)?;
                Ok(vec![TfpbProgrammeEvent::TfpbActionAdded {
                    programme,
                    action,
                    reason,
                }])
            }
            TfpbProgrammeCommand::ConfirmShare {
                programme,
                action_id,
                bailleur,
            } => {
                let action = state.live_action(&programme, action_id)?;
                if bailleur == programme.bailleur {
                    return Err(TfpbError::OwnShare(bailleur));
                }
                if !action.spec.shares.iter().any(|s| s.bailleur == bailleur) {
                    return Err(TfpbError::NoShare {
                        action_id,
                        bailleur,
                    });
                }
                if action.confirmed_shares.contains(&bailleur) {
                    return Err(TfpbError::ShareAlreadyConfirmed {
                        action_id,
                        bailleur,
                    });
                }
                Ok(vec![TfpbProgrammeEvent::TfpbShareConfirmed {
                    programme,
                    action_id,
                    bailleur,
                }])
            }
            TfpbProgrammeCommand::DropAction {
                programme,
                action_id,
                reason,
            } => {
                let action = state.live_action(&programme, action_id)?;
                let realised_eur = action.realised();
                if !realised_eur.is_zero() {
                    return Err(TfpbError::DropWithSpending {
                        action_id,
                        realised_eur,
                    });
                }
                let reason = check_text("reason", &reason, TEXT_CHARS_MAX)?;
                Ok(vec![TfpbProgrammeEvent::TfpbActionDropped {
                    programme,
                    action_id,
                    reason,
                }])
            }
            TfpbProgrammeCommand::ReportSpending {
                programme,
                action_id,
                spending_id,
                amount_eur,
                spent_on,
                evidence,
            } => {
                let action = state.live_action(&programme, action_id)?;
                if action.spendings.contains_key(&spending_id) {
                    return Err(TfpbError::SpendingExists(spending_id));
                }
                if action.spendings.len() >= SPENDINGS_PER_ACTION_MAX {
                    return Err(TfpbError::TooMany {
                        what: "spendings on one action",
                        count: action.spendings.len() + 1,
                        max: SPENDINGS_PER_ACTION_MAX,
                    });
                }
                if amount_eur.is_zero() {
                    return Err(TfpbError::ZeroSpending);
                }
                if !in_year(spent_on, programme.year) {
                    return Err(TfpbError::SpendingOutsideYear {
                        spent_on,
                        year: programme.year,
                    });
                }
                action
                    .realised()
                    .checked_add(amount_eur)
                    .ok_or(TfpbError::Overflow)?;
                let evidence = check_text("evidence", &evidence, TEXT_CHARS_MAX)?;
                Ok(vec![TfpbProgrammeEvent::TfpbSpendingReported {
                    programme,
                    action_id,
                    spending_id,
                    amount_eur,
                    spent_on,
                    evidence,
                }])
            }
            TfpbProgrammeCommand::CorrectSpending {
                programme,
                action_id,
                spending_id,
                amount_eur,
                reason,
            } => {
                let action = state.live_action(&programme, action_id)?;
                let previous_eur = *action
                    .spendings
                    .get(&spending_id)
                    .ok_or(TfpbError::UnknownSpending(spending_id, action_id))?;
                let reason = check_text("reason", &reason, TEXT_CHARS_MAX)?;
                Ok(vec![TfpbProgrammeEvent::TfpbSpendingCorrected {
                    programme,
                    action_id,
                    spending_id,
                    amount_eur,
                    previous_eur,
                    reason,
                }])
            }
            TfpbProgrammeCommand::SubmitBilan {
                programme,
                submitted_on,
                comment,
            } => submit(state, programme, submitted_on, comment),
            TfpbProgrammeCommand::AcceptBilan {
                programme,
                reviewer,
                reviewer_kind,
                reviewed_on,
            } => {
                let submission = check_review(state, &programme, &reviewer, reviewer_kind)?;
                Ok(vec![TfpbProgrammeEvent::TfpbBilanAccepted {
                    programme,
                    submission,
                    reviewer,
                    reviewer_kind,
                    reviewed_on,
                }])
            }
            TfpbProgrammeCommand::RemarkBilan {
                programme,
                reviewer,
                reviewer_kind,
                reviewed_on,
                remarks,
            } => {
                let submission = check_review(state, &programme, &reviewer, reviewer_kind)?;
                let remarks = check_text("remarks", &remarks, TEXT_CHARS_MAX)?;
                Ok(vec![TfpbProgrammeEvent::TfpbBilanRemarked {
                    programme,
                    submission,
                    reviewer,
                    reviewer_kind,
                    reviewed_on,
                    remarks,
                }])
            }
        }
    }

    fn apply_event(state: TfpbProgrammeState, event: TfpbProgrammeEvent) -> TfpbProgrammeState {
        apply(state, event)
    }
}

fn declare(
    state: &TfpbProgrammeState,
    programme: TfpbProgrammeKey,
    dwellings: u32,
    abatement_eur: Amount,
) -> Result<Vec<TfpbProgrammeEvent>, TfpbError> {
    if dwellings == 0 || dwellings > DWELLINGS_MAX {
        return Err(TfpbError::BadDwellings(dwellings));
    }
    Ok(vec![match state.abatement {
        None => TfpbProgrammeEvent::TfpbAbatementDeclared {
            programme,
            dwellings,
            abatement_eur,
        },
        Some(previous) => TfpbProgrammeEvent::TfpbAbatementCorrected {
            programme,
            dwellings,
            abatement_eur,
            previous_eur: previous.amount,
        },
    }])
}

fn submit(
    state: &TfpbProgrammeState,
    programme: TfpbProgrammeKey,
    submitted_on: NaiveDate,
    comment: Option<String>,
) -> Result<Vec<TfpbProgrammeEvent>, TfpbError> {
    if state.abatement.is_none() {
        return Err(TfpbError::BilanWithoutAbatement(programme));
    }
    match state.bilan.status() {
        BilanStatus::Submitted => {
            return Err(TfpbError::BilanAwaitingReview(state.bilan.submissions))
        }
        BilanStatus::Accepted => return Err(TfpbError::BilanAlreadyAccepted),
        BilanStatus::NotSubmitted | BilanStatus::Remarks => {}
    }
    let comment = comment
        .map(|c| check_text("comment", &c, TEXT_CHARS_MAX))
        .transpose()?;
    Ok(vec![TfpbProgrammeEvent::TfpbBilanSubmitted {
        programme,
        submission: state.bilan.submissions + 1,
        submitted_on,
        comment,
    }])
}

fn check_review(
    state: &TfpbProgrammeState,
    programme: &TfpbProgrammeKey,
    reviewer: &str,
    reviewer_kind: TfpbReviewer,
) -> Result<u32, TfpbError> {
    check_ref_id("reviewer", reviewer)?;
    if state.bilan.submissions == 0 {
        return Err(TfpbError::BilanNotSubmitted(programme.clone()));
    }
    if state.bilan.reviews.contains_key(&reviewer_kind) {
        return Err(TfpbError::AlreadyReviewed(
            reviewer_kind,
            state.bilan.submissions,
        ));
    }
    Ok(state.bilan.submissions)
}

/// Checks an action before it joins the programme; returns it with its texts trimmed.
fn check_new_action(
    state: &TfpbProgrammeState,
    programme: &TfpbProgrammeKey,
    mut action: TfpbActionSpec,
) -> Result<TfpbActionSpec, TfpbError> {
    if state.actions.contains_key(&action.action_id) {
        return Err(TfpbError::ActionExists(action.action_id));
    }
    if state.actions.len() >= ACTIONS_PER_PROGRAMME_MAX {
        return Err(TfpbError::TooMany {
            what: "actions in one programme",
            count: state.actions.len() + 1,
            max: ACTIONS_PER_PROGRAMME_MAX,
        });
    }
    check_ref_id("axis", &action.axis)?;
    action.label = check_text("label", &action.label, LABEL_CHARS_MAX)?;
    let key = label_key(&action.label);
    if state
        .live_actions()
        .any(|a| label_key(&a.spec.label) == key)
    {
        return Err(TfpbError::DuplicateLabel(action.label));
    }
    action.description = action
        .description
        .map(|d| check_text("description", &d, TEXT_CHARS_MAX))
        .transpose()?;
    if action.partners.len() > PARTIES_MAX {
        return Err(TfpbError::TooMany {
            what: "partners",
            count: action.partners.len(),
            max: PARTIES_MAX,
        });
    }
    action.partners = action
        .partners
        .iter()
        .map(|p| check_text("partner", p, LABEL_CHARS_MAX))
        .collect::<Result<_, _>>()?;
    check_shares(programme, &action)?;
    Ok(action)
}

/// A cross-landlord action's shares name distinct bailleurs, include the programme's own, and
/// add up to the planned amount to the cent.
fn check_shares(programme: &TfpbProgrammeKey, action: &TfpbActionSpec) -> Result<(), TfpbError> {
    if action.shares.is_empty() {
        return Ok(());
    }
    let bailleurs: Vec<String> = action.shares.iter().map(|s| s.bailleur.clone()).collect();
    check_id_list("share bailleur", &bailleurs, SHARES_MAX)?;
    if !bailleurs.contains(&programme.bailleur) {
        return Err(TfpbError::SharesWithoutOwnBailleur(
            programme.bailleur.clone(),
        ));
    }
    let mut shares_eur = Amount::ZERO;
    for share in &action.shares {
        shares_eur = shares_eur
            .checked_add(share.planned_eur)
            .ok_or(TfpbError::Overflow)?;
    }
    if shares_eur != action.planned_eur {
        return Err(TfpbError::SharesDoNotAddUp {
            shares_eur,
            planned_eur: action.planned_eur,
        });
    }
    Ok(())
}

/// Folds one event into a programme's state; the read model folds with the same function.
pub fn apply(mut state: TfpbProgrammeState, event: TfpbProgrammeEvent) -> TfpbProgrammeState {
    match event {
        TfpbProgrammeEvent::TfpbAbatementDeclared {
            dwellings,
            abatement_eur,
            ..
        }
        | TfpbProgrammeEvent::TfpbAbatementCorrected {
            dwellings,
            abatement_eur,
            ..
        } => {
            state.abatement = Some(Abatement {
                dwellings,
                amount: abatement_eur,
            })
        }
        TfpbProgrammeEvent::TfpbActionPlanned { action, .. } => {
            insert_action(&mut state, action, false)
        }
        TfpbProgrammeEvent::TfpbActionAdded { action, .. } => {
            insert_action(&mut state, action, true)
        }
        TfpbProgrammeEvent::TfpbShareConfirmed {
            action_id,
            bailleur,
            ..
        } => {
            if let Some(action) = state.actions.get_mut(&action_id) {
                action.confirmed_shares.insert(bailleur);
            }
        }
        TfpbProgrammeEvent::TfpbActionDropped { action_id, .. } => {
            if let Some(action) = state.actions.get_mut(&action_id) {
                action.dropped = true;
            }
        }
        TfpbProgrammeEvent::TfpbSpendingReported {
            action_id,
            spending_id,
            amount_eur,
            ..
        }
        | TfpbProgrammeEvent::TfpbSpendingCorrected {
            action_id,
            spending_id,
            amount_eur,
            ..
        } => {
            if let Some(action) = state.actions.get_mut(&action_id) {
                action.spendings.insert(spending_id, amount_eur);
            }
        }
        TfpbProgrammeEvent::TfpbBilanSubmitted {
            submission,
            submitted_on,
            ..
        } => {
            let bilan = &mut state.bilan;
            bilan.submissions = submission;
            bilan.first_submitted_on.get_or_insert(submitted_on);
            bilan.last_submitted_on = Some(submitted_on);
            bilan.reviews.clear();
        }
        TfpbProgrammeEvent::TfpbBilanAccepted {
            reviewer,
            reviewer_kind,
            reviewed_on,
            ..
        } => {
            state.bilan.reviews.insert(
                reviewer_kind,
                Review {
                    reviewer,
                    reviewed_on,
                    remarks: None,
                },
            );
        }
        TfpbProgrammeEvent::TfpbBilanRemarked {
            reviewer,
            reviewer_kind,
            reviewed_on,
            remarks,
            ..
        } => {
            state.bilan.reviews.insert(
                reviewer_kind,
                Review {
                    reviewer,
                    reviewed_on,
                    remarks: Some(remarks),
                },
            );
        }
    }
    state
}

fn insert_action(state: &mut TfpbProgrammeState, spec: TfpbActionSpec, added: bool) {
    state.actions.insert(
        spec.action_id,
        ActionState {
            spec,
            added,
            dropped: false,
            spendings: BTreeMap::new(),
            confirmed_shares: BTreeSet::new(),
        },
    );
}

#[cfg(test)]
#[path = "programme_tests.rs"]
mod tests;
