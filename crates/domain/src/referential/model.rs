//! The entries of a contract's referential, exactly as its data files describe them
//! (`schemas/contracts/<contract>/*.json`, schemas in `schemas/referential/`).
//!
//! Every entry keeps the line ranges of the source document it comes from, so that any fact the
//! ledger rests on can be checked against the signed text.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Inclusive, 1-based line ranges `[from, to]` of the source document where a fact is stated.
pub type SourceLines = Vec<[u32; 2]>;

/// Another spelling of a name found in the source, with where it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub text: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The contract itself: name, EPCI, period, approval, legal basis, evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractInfo {
    /// Stable id of the contract, e.g. `cabbalr-2024-2030`.
    pub id: String,
    pub name: String,
    pub epci: Epci,
    pub period: Period,
    pub approval: Approval,
    pub legal_basis: Vec<LegalBasis>,
    pub evaluation: Vec<Evaluation>,
    /// The bodies that pilot and animate the contract; governance meetings name one of them.
    /// Absent from referentials published before they were encoded.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub governance_bodies: Vec<GovernanceBody>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What a governance body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GovernanceBodyKind {
    /// A comité (de pilotage, technique, des financeurs).
    Comite,
    /// A network of référents.
    Referents,
    /// The élus' seminar.
    Seminaire,
    /// The délégués du Préfet.
    Delegues,
}

/// At which level a governance body works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GovernanceLevel {
    Intercommunal,
    Communal,
    Quartier,
}

/// A body of the contract's governance (contract l.891-990 for the CABBALR).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GovernanceBody {
    /// Stable id, e.g. `copil-intercommunal`.
    pub id: String,
    pub name: String,
    pub kind: GovernanceBodyKind,
    pub level: GovernanceLevel,
    /// Its role, as the text states it (abridged).
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chaired_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composition: Option<String>,
    /// How often it meets, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meets: Option<String>,
    /// The fewest meetings a year the text asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_meetings_per_year: Option<u32>,
    /// Words of the source that establish the body, verbatim.
    pub quote: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The EPCI that pilots the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Epci {
    pub name: String,
    pub short_name: String,
    pub departement: String,
    pub population: u64,
    pub communes_count: u32,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The years the contract covers, both included.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Period {
    pub start_year: i32,
    pub end_year: i32,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Period {
    /// Whether `year` is one of the contract's years.
    pub fn contains(&self, year: i32) -> bool {
        (self.start_year..=self.end_year).contains(&year)
    }
}

/// The assembly's approval of the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Approval {
    pub body: String,
    pub date: NaiveDate,
    pub executory_date: Option<NaiveDate>,
    pub deliberation_reference: Option<String>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A law, decree, circular or deliberation the contract rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LegalBasis {
    pub text: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// When the contract is evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationKind {
    Annual,
    MidTerm,
    Final,
}

/// One evaluation the contract plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    pub kind: EvaluationKind,
    pub year: Option<i32>,
    pub text: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// QPV (by decree, with a national code) or quartier d'intérêt communautaire (chosen by the EPCI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuartierKind {
    Qpv,
    Qic,
}

impl QuartierKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            QuartierKind::Qpv => "qpv",
            QuartierKind::Qic => "qic",
        }
    }
}

/// A quartier of the contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quartier {
    /// The QPV code (`QN06209`) or `QIC-<slug>`.
    pub id: String,
    pub kind: QuartierKind,
    /// National code of a QPV; none for a QIC.
    pub code: Option<String>,
    pub name: String,
    #[serde(default)]
    pub name_variants: Vec<Variant>,
    /// Commune ids.
    pub communes: Vec<String>,
    /// Inhabitants, as estimated by the contract.
    pub population: u32,
    /// As written in the source (e.g. `+ 500`, `+/-`); none for a QIC.
    pub population_change_since_2014: Option<String>,
    pub new_in_2024: Option<bool>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Population totals as the source states them (checked against the quartiers at publication).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuartierTotals {
    pub qpv_population: u64,
    pub qic_population: u64,
    pub total_population: u64,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A commune of the contract and the quartiers that touch it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Commune {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_variants: Vec<Variant>,
    /// The organisation that signs for the commune, if it signs.
    pub organisation: Option<String>,
    /// Quartier ids.
    pub quartiers: Vec<String>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What kind of body an organisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    Epci,
    Etat,
    Region,
    Departement,
    Commune,
    Institution,
    Bailleur,
    Other,
}

/// Under which heading of the signature pages an organisation signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatoryGroup {
    Principal,
    Commune,
    InstitutionalPartner,
    Bailleur,
}

/// A signatory, partner or financeur.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub id: String,
    pub name: String,
    pub kind: OrganisationKind,
    /// None when the organisation is named by the contract but does not sign it.
    pub signatory_group: Option<SignatoryGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A person acting in office for one or more organisations (one person can sign for two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Representative {
    pub id: String,
    pub name: String,
    /// Organisation ids.
    pub organisations: Vec<String>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An enjeu structurant (top of the strategy tree).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Enjeu {
    pub id: String,
    pub number: u32,
    pub title: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An ambition, under one enjeu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ambition {
    pub id: String,
    pub number: u32,
    /// Enjeu id.
    pub enjeu: String,
    pub title: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Which part of the document a title comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TitleSource {
    /// The strategy's summary in the body of the contract.
    Summary,
    /// Annex 2, the objectives' detailed sheets.
    Annex2,
}

/// A title as one part of the document writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TitleVariant {
    pub text: String,
    #[serde(rename = "where")]
    pub written_in: TitleSource,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A dispositif as an objectif's sheet mentions it, linked to a referential dispositif if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositifMention {
    pub text: String,
    /// Dispositif id.
    pub dispositif: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An objectif (numbered 1, 2, 3… across the whole contract), under one ambition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Objectif {
    pub id: String,
    pub number: u32,
    /// Ambition id.
    pub ambition: String,
    /// The canonical title.
    pub title: String,
    /// Which part of the document the canonical title comes from.
    pub canonical_source: TitleSource,
    /// Every way the document writes the title, when they differ.
    pub title_variants: Vec<TitleVariant>,
    /// Actors to mobilise (Annex 2).
    pub actors: Vec<String>,
    /// « Pistes d'action » at the intercommunal level (Annex 2).
    pub pistes_intercommunales: Vec<String>,
    /// « Pistes d'action » at the communal level (Annex 2).
    pub pistes_communales: Vec<String>,
    /// Mobilisable dispositifs (Annex 2).
    pub dispositifs: Vec<DispositifMention>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An enjeu transversal (applies to every objectif).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnjeuTransversal {
    pub id: String,
    pub title: String,
    /// The orientations the contract lists for it, verbatim (absent from referentials published
    /// before they were encoded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub orientations: Vec<Orientation>,
    /// Its « principaux constats »: the baseline figures the contract states.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constats: Vec<Constat>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One orientation of an enjeu transversal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Orientation {
    pub text: String,
    /// The sub-theme when the enjeu has several lists (égalité F-H, discriminations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    pub source_lines: SourceLines,
}

/// A baseline figure the contract states (« principaux constats »), with the words it is read
/// from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Constat {
    pub label: String,
    /// The figure for the quartiers (or the territory the label names).
    pub value: Decimal,
    pub unit: String,
    /// The figure it is compared with, when the text gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_value: Option<Decimal>,
    /// What the reference figure covers (« agglomération », « hommes »…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    /// The source's words, verbatim.
    pub quote: String,
    pub source_lines: SourceLines,
}

/// A Groupe d'Appui Thématique (GAT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupeAppui {
    pub id: String,
    pub title: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A rule the text states about a dispositif.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DispositifRule {
    pub text: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A dispositif or financing instrument (BOP 147 AAP, CPO, FCS, fonds de concours, TFPB…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Dispositif {
    pub id: String,
    pub name: String,
    /// Organisation ids of who funds it.
    pub financeurs: Vec<String>,
    pub decided_by: Option<String>,
    pub duration: Option<String>,
    pub eligibility: Option<String>,
    pub rules: Vec<DispositifRule>,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The national framework of the TFPB abatement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TfpbFramework {
    pub name: String,
    pub date: NaiveDate,
    pub amended: Option<NaiveDate>,
    pub source: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One action axis of the national TFPB framework.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TfpbAxis {
    pub id: String,
    pub number: u32,
    pub title: String,
    pub source_lines: SourceLines,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
