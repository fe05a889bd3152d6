//! Subsidy dossiers: one action of one porteur for one exercice, asked of one or more financeurs,
//! from filing to reversement.
//!
//! The life of a dossier: filed (title, budget, quartiers, objectifs, co-financing plan), possibly
//! amended or withdrawn; each financeur's service gives an opinion and a proposed amount; the
//! comité des financeurs decides per financeur and dispositif (granted, refused, adjourned), a grant
//! is later reduced, increased or cancelled (never edited); a convention or arrêté is signed; the
//! financeur pays (avance, acompte, solde); the porteur sends its CRF; a reversement may be ordered
//! and received.
//!
//! Rules enforced here, on the dossier's own history: a grant ≤ the amount asked unless the
//! decision carries a majoration and its reason; payments ≤ amount granted; a reversement ≤
//! net paid; no decision on a withdrawn dossier; above [`CONVENTION_THRESHOLD_EUR`] per porteur,
//! financeur and exercice, a convention before any payment ([`check_convention_for_payment`]).
//! The envelope rule spans dossiers and lives in [`crate::envelope`].

mod external_id;
mod rules;
mod state;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::event::DomainEvent;
use crate::ids::{DossierId, PorteurId};
use crate::money::Amount;

pub use external_id::{
    ExternalIdKind, ExternalIdRecord, CHORUS_EJ_DIGITS_MAX, CHORUS_EJ_DIGITS_MIN,
    GISPRO_PROJET_MAX_CHARS, PROGRAMMATION_REF_MAX_CHARS,
};
pub use rules::{check_convention_for_payment, CONVENTION_THRESHOLD_EUR};
pub use state::{
    ConventionRecord, CrfFigures, DossierFiling, DossierState, FundingLine, LineStatus,
};

/// First and last exercice the ledger accepts (a contract runs 6 years; older or later years are typos).
pub const EXERCICE_MIN: i32 = 2000;
pub const EXERCICE_MAX: i32 = 2100;
/// Longest description of an action.
pub const DESCRIPTION_MAX_CHARS: usize = 10_000;
/// Longest free text (reason, comment, reference, number).
pub const TEXT_MAX_CHARS: usize = 1_000;
/// Most quartiers, objectifs and funding requests one dossier may name.
pub const QUARTIERS_PER_DOSSIER_MAX: usize = 50;
pub const OBJECTIFS_PER_DOSSIER_MAX: usize = 50;
pub const REQUESTS_PER_DOSSIER_MAX: usize = 30;
/// Most pistes d'action one dossier may cite.
pub const PISTES_PER_DOSSIER_MAX: usize = 50;
/// Largest weight of an objectif (weights are relative; a bigger one is a typo).
pub const OBJECTIF_WEIGHT_MAX: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// An amount asked of one financeur under one dispositif.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingRequest {
    /// Organisation id of the financeur, from the referential (e.g. `etat`, `cabbalr`).
    pub financeur: String,
    /// Dispositif id from the referential (e.g. `bop147-aap`).
    pub dispositif: String,
    pub amount: Amount,
}

/// A quartier an action reaches, with its optional share of the money in percent.
///
/// Either every quartier of a dossier has a share (summing to exactly 100) or none has, and the
/// money is then split in proportion to the quartiers' populations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuartierShare {
    /// Quartier id from the referential (QPV code such as `QN06209`, or a QIC id).
    pub quartier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_pct: Option<Decimal>,
}

/// An objectif of the contract's strategy an action serves, with an optional relative weight.
///
/// Either every objectif of a dossier has a weight or none has (equal weights).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectifWeight {
    /// Objectif number in the contract's strategy (1 to 35 for CABBALR).
    pub objectif: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<Decimal>,
}

/// What the comité decided for one financeur and dispositif.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum Decision {
    Granted {
        amount: Amount,
        /// Why the comité grants more than the amount asked (a majoration): required when
        /// `amount` exceeds the request, refused otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        majoration_reason: Option<String>,
    },
    Refused,
    Adjourned,
}

/// An instructing service's opinion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Opinion {
    Favourable,
    Reserved,
    Unfavourable,
}

/// The written act of a subsidy: a convention, or an arrêté attributif (below the threshold).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActOfGrant {
    Convention,
    Arrete,
}

/// Which payment of a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    /// Advance paid at signature.
    Avance,
    /// Intermediate payment.
    Acompte,
    /// Balance, after the report; it closes the grant's payments.
    Solde,
}

/// A change to an existing grant, decided later (never an edit of the grant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrantChange {
    Reduce,
    Increase,
    Cancel,
}

/// Commands on a dossier. Where `dispositif` is optional, it may be left out when the financeur
/// is asked under a single dispositif in the dossier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "command", deny_unknown_fields)]
pub enum DossierCommand {
    #[serde(rename = "file_dossier")]
    File {
        dossier_id: DossierId,
        porteur_id: PorteurId,
        exercice: i32,
        title: String,
        #[serde(default)]
        description: String,
        total_budget: Amount,
        quartiers: Vec<QuartierShare>,
        objectifs: Vec<ObjectifWeight>,
        requests: Vec<FundingRequest>,
        /// Pistes d'action of the contract (Annex 2) the action serves, each of an objectif
        /// the dossier names: `O12-I3` is objectif 12's third intercommunal piste, `O12-C1` its
        /// first communal one ([`piste_objectif`]).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pistes: Vec<String>,
    },
    /// Replaces the fields given; the others stay as they are.
    #[serde(rename = "amend_dossier")]
    Amend {
        dossier_id: DossierId,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        description: Option<String>,
        #[serde(default)]
        total_budget: Option<Amount>,
        #[serde(default)]
        quartiers: Option<Vec<QuartierShare>>,
        #[serde(default)]
        objectifs: Option<Vec<ObjectifWeight>>,
        #[serde(default)]
        requests: Option<Vec<FundingRequest>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pistes: Option<Vec<String>>,
        reason: String,
    },
    #[serde(rename = "withdraw_dossier")]
    Withdraw {
        dossier_id: DossierId,
        reason: String,
    },
    #[serde(rename = "give_opinion")]
    GiveOpinion {
        dossier_id: DossierId,
        financeur: String,
        #[serde(default)]
        dispositif: Option<String>,
        opinion: Opinion,
        proposed_amount: Amount,
        #[serde(default)]
        comment: String,
    },
    #[serde(rename = "decide_subsidy")]
    Decide {
        dossier_id: DossierId,
        financeur: String,
        #[serde(default)]
        dispositif: Option<String>,
        decision: Decision,
        /// Reference of the comité des financeurs (e.g. `CF-2025-01`).
        comite: String,
        decided_on: NaiveDate,
    },
    #[serde(rename = "change_subsidy")]
    ChangeGrant {
        dossier_id: DossierId,
        financeur: String,
        #[serde(default)]
        dispositif: Option<String>,
        change: GrantChange,
        /// By how much (reduce, increase); ignored and may be left out for a cancellation.
        #[serde(default)]
        amount: Option<Amount>,
        reason: String,
        decided_on: NaiveDate,
    },
    #[serde(rename = "sign_convention")]
    SignConvention {
        dossier_id: DossierId,
        financeur: String,
        kind: ActOfGrant,
        number: String,
        signed_on: NaiveDate,
    },
    #[serde(rename = "record_payment")]
    RecordPayment {
        dossier_id: DossierId,
        financeur: String,
        #[serde(default)]
        dispositif: Option<String>,
        kind: PaymentKind,
        amount: Amount,
        paid_on: NaiveDate,
        mandate_reference: String,
    },
    /// The porteur's compte rendu financier (Cerfa 15059) is received, with its figures when
    /// they are entered (each optional: a CRF recorded before they were kept has none).
    #[serde(rename = "receive_crf")]
    ReceiveCrf {
        dossier_id: DossierId,
        received_on: NaiveDate,
        /// The action's budget as realised, in euros.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget_realised: Option<Amount>,
        /// The expenses the porteur reports for the action, in euros.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expenses: Option<Amount>,
        /// The part of the grant the porteur used, in euros (at most what was granted).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant_used: Option<Amount>,
        /// The porteur's or the service's comments on the report.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    #[serde(rename = "order_reversement")]
    OrderReversement {
        dossier_id: DossierId,
        financeur: String,
        #[serde(default)]
        dispositif: Option<String>,
        amount: Amount,
        reason: String,
        ordered_on: NaiveDate,
    },
    #[serde(rename = "receive_reversement")]
    ReceiveReversement {
        dossier_id: DossierId,
        financeur: String,
        #[serde(default)]
        dispositif: Option<String>,
        amount: Amount,
        received_on: NaiveDate,
    },
    /// Keeps another system's identifier of the dossier (a Dauphin code, a GISPRO project code,
    /// an EJ Chorus, the programmation sheet's reference) as an alias of the dossier's own id.
    /// An identifier names one dossier only; recording it again on the same dossier is refused
    /// as already recorded.
    #[serde(rename = "record_external_id")]
    RecordExternalId {
        dossier_id: DossierId,
        kind: ExternalIdKind,
        /// The identifier as the other system writes it; recorded normalised (`DA` + 8 digits,
        /// an EJ's digits, a project code in capitals).
        value: String,
        /// The exercice the identifier stands for (a Dauphin code or an EJ is one year's).
        #[serde(default)]
        exercice: Option<i32>,
        /// The financeur whose funding line the identifier belongs to (an EJ commits the
        /// State's line); it must be asked in the dossier.
        #[serde(default)]
        financeur: Option<String>,
        /// The line's dispositif; may be left out when the financeur is asked under one only.
        #[serde(default)]
        dispositif: Option<String>,
    },
}

impl DossierCommand {
    /// The dossier the command is about.
    pub fn dossier_id(&self) -> DossierId {
        match self {
            DossierCommand::File { dossier_id, .. }
            | DossierCommand::Amend { dossier_id, .. }
            | DossierCommand::Withdraw { dossier_id, .. }
            | DossierCommand::GiveOpinion { dossier_id, .. }
            | DossierCommand::Decide { dossier_id, .. }
            | DossierCommand::ChangeGrant { dossier_id, .. }
            | DossierCommand::SignConvention { dossier_id, .. }
            | DossierCommand::RecordPayment { dossier_id, .. }
            | DossierCommand::ReceiveCrf { dossier_id, .. }
            | DossierCommand::OrderReversement { dossier_id, .. }
            | DossierCommand::ReceiveReversement { dossier_id, .. }
            | DossierCommand::RecordExternalId { dossier_id, .. } => *dossier_id,
        }
    }

    /// The financeur the command acts for, if it is a financeur's act.
    pub fn financeur(&self) -> Option<&str> {
        match self {
            DossierCommand::GiveOpinion { financeur, .. }
            | DossierCommand::Decide { financeur, .. }
            | DossierCommand::ChangeGrant { financeur, .. }
            | DossierCommand::SignConvention { financeur, .. }
            | DossierCommand::RecordPayment { financeur, .. }
            | DossierCommand::OrderReversement { financeur, .. }
            | DossierCommand::ReceiveReversement { financeur, .. } => Some(financeur),
            DossierCommand::RecordExternalId { financeur, .. } => financeur.as_deref(),
            _ => None,
        }
    }
}

/// Facts about a dossier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type")]
pub enum DossierEvent {
    DossierFiled {
        dossier_id: DossierId,
        porteur_id: PorteurId,
        exercice: i32,
        title: String,
        description: String,
        total_budget: Amount,
        quartiers: Vec<QuartierShare>,
        objectifs: Vec<ObjectifWeight>,
        requests: Vec<FundingRequest>,
        /// Pistes d'action cited (absent from dossiers filed before pistes were kept).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pistes: Vec<String>,
    },
    /// The dossier's content after the amendment (every field, amended or not).
    DossierAmended {
        dossier_id: DossierId,
        title: String,
        description: String,
        total_budget: Amount,
        quartiers: Vec<QuartierShare>,
        objectifs: Vec<ObjectifWeight>,
        requests: Vec<FundingRequest>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pistes: Vec<String>,
        reason: String,
    },
    DossierWithdrawn {
        dossier_id: DossierId,
        reason: String,
    },
    OpinionGiven {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        opinion: Opinion,
        proposed_amount: Amount,
        comment: String,
    },
    SubsidyGranted {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        amount: Amount,
        comite: String,
        decided_on: NaiveDate,
        /// Present when the grant exceeds the amount asked: the comité's reason for the
        /// majoration (absent from grants recorded before majorations were kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        majoration_reason: Option<String>,
    },
    SubsidyRefused {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        comite: String,
        decided_on: NaiveDate,
    },
    DecisionAdjourned {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        comite: String,
        decided_on: NaiveDate,
    },
    SubsidyReduced {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        amount: Amount,
        granted_after: Amount,
        reason: String,
        decided_on: NaiveDate,
    },
    SubsidyIncreased {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        amount: Amount,
        granted_after: Amount,
        reason: String,
        decided_on: NaiveDate,
    },
    /// The whole grant is cancelled; `amount` is what it was.
    SubsidyCancelled {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        amount: Amount,
        reason: String,
        decided_on: NaiveDate,
    },
    ConventionSigned {
        dossier_id: DossierId,
        financeur: String,
        kind: ActOfGrant,
        number: String,
        signed_on: NaiveDate,
    },
    PaymentRecorded {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        kind: PaymentKind,
        amount: Amount,
        paid_on: NaiveDate,
        mandate_reference: String,
    },
    /// The CRF is received; its Cerfa 15059 figures are absent from CRFs recorded without them.
    CrfReceived {
        dossier_id: DossierId,
        received_on: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        budget_realised: Option<Amount>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        expenses: Option<Amount>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grant_used: Option<Amount>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        comment: Option<String>,
    },
    ReversementOrdered {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        amount: Amount,
        reason: String,
        ordered_on: NaiveDate,
    },
    ReversementReceived {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        amount: Amount,
        received_on: NaiveDate,
    },
    /// Another system's identifier is an alias of the dossier (value normalised).
    ExternalIdRecorded {
        dossier_id: DossierId,
        kind: ExternalIdKind,
        value: String,
        #[serde(default)]
        exercice: Option<i32>,
        #[serde(default)]
        financeur: Option<String>,
        #[serde(default)]
        dispositif: Option<String>,
    },
}

impl DomainEvent for DossierEvent {
    const STREAM_TYPE: &'static str = "dossier";
    crate::event_names!(DossierEvent {
        DossierFiled,
        DossierAmended,
        DossierWithdrawn,
        OpinionGiven,
        SubsidyGranted,
        SubsidyRefused,
        DecisionAdjourned,
        SubsidyReduced,
        SubsidyIncreased,
        SubsidyCancelled,
        ConventionSigned,
        PaymentRecorded,
        CrfReceived,
        ReversementOrdered,
        ReversementReceived,
        ExternalIdRecorded
    });
}

/// Why a dossier command is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DossierError {
    #[error("a payment dated {paid_on} precedes the decision of {decided_on} that granted it: check the payment date")]
    PaymentBeforeDecision {
        paid_on: NaiveDate,
        decided_on: NaiveDate,
    },
    #[error("dossier {0} is already filed")]
    AlreadyFiled(DossierId),
    #[error("dossier {0} does not exist: file it first")]
    NotFiled(DossierId),
    #[error("dossier {0} is withdrawn: nothing more can be decided, paid or amended on it")]
    Withdrawn(DossierId),
    #[error("exercice {0} is outside {EXERCICE_MIN}-{EXERCICE_MAX}")]
    ExerciceOutOfRange(i32),
    #[error("{field} is empty or longer than {max} characters")]
    BadText { field: &'static str, max: usize },
    #[error("the dossier asks nothing of any financeur: add at least one request")]
    NoRequest,
    #[error("financeur '{0}' is asked twice under dispositif '{1}': merge the two requests")]
    DuplicateRequest(String, String),
    #[error("the dossier names no quartier: name at least one (with shares in % or none)")]
    NoQuartier,
    #[error("the dossier names no objectif of the contract: name at least one")]
    NoObjectif,
    #[error("{what} '{id}' is named twice in the dossier")]
    Duplicate { what: &'static str, id: String },
    #[error("too many {what}: {count}, at most {max}")]
    TooMany {
        what: &'static str,
        count: usize,
        max: usize,
    },
    #[error("quartier shares: {0}")]
    BadShares(String),
    #[error("objectif weights: {0}")]
    BadWeights(String),
    #[error("financeur '{financeur}' was not asked for anything{under} in dossier {dossier_id}")]
    FinanceurNotAsked {
        dossier_id: DossierId,
        financeur: String,
        under: String,
    },
    #[error("financeur '{financeur}' is asked under several dispositifs ({dispositifs}) in dossier {dossier_id}: name the dispositif")]
    DispositifAmbiguous {
        dossier_id: DossierId,
        financeur: String,
        dispositifs: String,
    },
    #[error("financeur '{financeur}' has already decided on dossier {dossier_id} under '{dispositif}' ({status}): record a change (reduce, increase, cancel) instead")]
    AlreadyDecided {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
        status: &'static str,
    },
    #[error(
        "financeur '{financeur}' has granted nothing under '{dispositif}' on dossier {dossier_id}"
    )]
    NotGranted {
        dossier_id: DossierId,
        financeur: String,
        dispositif: String,
    },
    #[error("a change of {0} € changes nothing: give a positive amount")]
    ZeroAmount(Amount),
    #[error("reducing by {by} € leaves {after} € granted, below the {net_paid} € already paid (net of reversements): order a reversement first")]
    ReductionBelowPaid {
        by: Amount,
        after: Amount,
        net_paid: Amount,
    },
    #[error("cancelling the grant is impossible while {net_paid} € are paid (net of reversements): order and receive a reversement first")]
    CancelWhilePaid { net_paid: Amount },
    #[error("payment of {amount} € would bring payments to {paid_after} € (net of reversements), above the {granted} € granted by '{financeur}' under '{dispositif}'")]
    PaymentAboveGrant {
        financeur: String,
        dispositif: String,
        amount: Amount,
        paid_after: Amount,
        granted: Amount,
    },
    #[error("the solde of '{financeur}' under '{dispositif}' is already paid: no further payment on this grant")]
    SoldePaid {
        financeur: String,
        dispositif: String,
    },
    #[error("the porteur receives {total} € from '{financeur}' in {exercice}, above {threshold} €: a signed convention is required before any payment (loi 2000-321 art. 10){have}")]
    ConventionRequired {
        financeur: String,
        exercice: i32,
        total: Amount,
        threshold: Amount,
        have: String,
    },
    #[error("'{financeur}' has already signed a {kind:?} on dossier {dossier_id} (n° {number})")]
    ConventionAlreadySigned {
        dossier_id: DossierId,
        financeur: String,
        kind: ActOfGrant,
        number: String,
    },
    #[error("a reversement of {amount} € would bring reversements ordered to {ordered_after} €, above the {paid} € paid")]
    ReversementAbovePaid {
        amount: Amount,
        ordered_after: Amount,
        paid: Amount,
    },
    #[error("receiving {amount} € would bring reversements received to {received_after} €, above the {ordered} € ordered")]
    ReversementAboveOrdered {
        amount: Amount,
        received_after: Amount,
        ordered: Amount,
    },
    #[error("the amendment removes financeur '{financeur}' under '{dispositif}', which has already decided: change or cancel the decision instead")]
    AmendRemovesDecided {
        financeur: String,
        dispositif: String,
    },
    #[error("dossier {dossier_id} still has {granted} € granted: cancel the grants before withdrawing it")]
    WithdrawWithGrant {
        dossier_id: DossierId,
        granted: Amount,
    },
    #[error("the amendment changes nothing")]
    EmptyAmendment,
    #[error("the CRF reports {grant_used} € of the grant used, above the {granted} € granted on dossier {dossier_id}")]
    GrantUsedAboveGranted {
        dossier_id: DossierId,
        grant_used: Amount,
        granted: Amount,
    },
    #[error("the CRF of dossier {dossier_id} was already received on {on}")]
    CrfAlreadyReceived {
        dossier_id: DossierId,
        on: NaiveDate,
    },
    #[error("amount overflow: {0}")]
    Overflow(String),
    #[error("'{value}' is not a valid {kind} ({label}): {why}")]
    BadExternalId {
        kind: ExternalIdKind,
        label: &'static str,
        value: String,
        why: String,
    },
    #[error("{kind} {value} is already recorded on dossier {dossier_id}")]
    ExternalIdAlreadyRecorded {
        dossier_id: DossierId,
        kind: ExternalIdKind,
        value: String,
    },
    #[error("a dispositif is given without its financeur: name the financeur too")]
    DispositifWithoutFinanceur,
    #[error("le montant accordé ({granted} €) dépasse le montant demandé ({requested} €) à '{financeur}' au titre de '{dispositif}' : accordez au plus {requested} €, ou enregistrez une majoration avec son motif (majoration_reason)")]
    GrantAboveRequest {
        financeur: String,
        dispositif: String,
        granted: Amount,
        requested: Amount,
    },
    #[error("un motif de majoration est donné alors que le montant accordé ({granted} €) ne dépasse pas le montant demandé ({requested} €) : retirez le motif")]
    MajorationWithoutExcess { granted: Amount, requested: Amount },
    #[error("piste '{0}' is not written as a piste d'action: O<objectif>-I<n> (intercommunal) or O<objectif>-C<n> (communal), e.g. O12-I3")]
    BadPiste(String),
    #[error("piste '{piste}' belongs to objectif {objectif}, which the dossier does not name: add the objectif or cite a piste of its objectifs")]
    PisteOutsideObjectifs { piste: String, objectif: u32 },
}

/// The text of piste `piste` of `objectif` (Annex 2), `None` if the objectif has no such piste.
pub fn piste_text<'a>(objectif: &'a crate::referential::Objectif, piste: &str) -> Option<&'a str> {
    if piste_objectif(piste) != Some(objectif.number) {
        return None;
    }
    let (_, rank) = piste.split_once('-')?;
    let (list, number) = match rank.split_at(1) {
        ("I", number) => (&objectif.pistes_intercommunales, number),
        ("C", number) => (&objectif.pistes_communales, number),
        _ => return None,
    };
    let index: usize = number.parse().ok()?;
    list.get(index.checked_sub(1)?).map(String::as_str)
}

/// Every piste of `objectif` with its id, intercommunal ones first, in the contract's order.
pub fn pistes_of(objectif: &crate::referential::Objectif) -> Vec<(String, &str)> {
    let intercommunal = objectif
        .pistes_intercommunales
        .iter()
        .enumerate()
        .map(|(i, text)| (format!("O{}-I{}", objectif.number, i + 1), text.as_str()));
    let communal = objectif
        .pistes_communales
        .iter()
        .enumerate()
        .map(|(i, text)| (format!("O{}-C{}", objectif.number, i + 1), text.as_str()));
    intercommunal.chain(communal).collect()
}

/// The objectif a piste d'action id belongs to (`O12-I3` → 12), `None` if it is not written as
/// one: `O` + objectif number, `-`, `I` (intercommunal) or `C` (communal) + its rank from 1.
pub fn piste_objectif(piste: &str) -> Option<u32> {
    let (objectif, piste_rank) = piste.strip_prefix('O')?.split_once('-')?;
    let rank = piste_rank
        .strip_prefix('I')
        .or_else(|| piste_rank.strip_prefix('C'))?;
    let digits = |t: &str| !t.is_empty() && t.len() <= 4 && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(objectif) || !digits(rank) || rank.starts_with('0') || objectif.starts_with('0') {
        return None;
    }
    objectif.parse().ok()
}

/// The dossier aggregate.
pub struct Dossier;

impl esrs::Aggregate for Dossier {
    const NAME: &'static str = "dossier";
    type State = DossierState;
    type Command = DossierCommand;
    type Event = DossierEvent;
    type Error = DossierError;

    fn handle_command(
        state: &DossierState,
        command: DossierCommand,
    ) -> Result<Vec<DossierEvent>, DossierError> {
        rules::handle(state, command).map(|event| vec![event])
    }

    fn apply_event(state: DossierState, event: DossierEvent) -> DossierState {
        state.apply(event)
    }
}

#[cfg(test)]
mod tests;
