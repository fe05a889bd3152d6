//! What a signatory promises: the terms of a droit-commun commitment (contract l.1028-1038,
//! Annex 3 l.3733-5259), checked before they are recorded.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::money::Amount;

/// Longest title the ledger accepts.
pub const TITLE_MAX_CHARS: usize = 300;
/// Longest commitment text (Annex 3's longest is about 1,400 characters).
pub const TEXT_MAX_CHARS: usize = 6_000;
/// Longest short label (service, scope reference, staff unit, programme, evidence reference).
pub const LABEL_MAX_CHARS: usize = 400;
/// Longest free comment or reason.
pub const COMMENT_MAX_CHARS: usize = 2_000;
/// Most links of one kind (enjeux, ambitions, objectifs, quartiers) on one commitment.
pub const LINKS_MAX: usize = 200;
/// Most source line ranges cited by one record.
pub const SOURCE_RANGES_MAX: usize = 32;
/// Most staff (posts, advisers) one commitment may state.
pub const STAFF_COUNT_MAX: u32 = 100_000;
/// First and last year a commitment period may name.
pub const YEAR_MIN: i32 = 2000;
pub const YEAR_MAX: i32 = 2100;
/// Longest slug identifier (commitment or indicator).
pub const SLUG_MAX_CHARS: usize = 90;

/// Why terms, ids or reports are refused. Every variant names the bad value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("'{0}' is not a valid identifier: use lower-case letters, digits and single dashes (e.g. caf-03), at most {SLUG_MAX_CHARS} characters")]
    BadSlug(String),
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} has {chars} characters, above the limit of {max}")]
    TooLong {
        field: &'static str,
        chars: usize,
        max: usize,
    },
    #[error("{field} has {count} entries, above the limit of {max}")]
    TooMany {
        field: &'static str,
        count: usize,
        max: usize,
    },
    #[error("{field} lists '{value}' twice")]
    Duplicate { field: &'static str, value: String },
    #[error("'{0}' is not an enjeu: write E followed by its number, e.g. E2")]
    BadEnjeu(String),
    #[error("'{0}' is not an ambition: write A followed by its number, e.g. A5")]
    BadAmbition(String),
    #[error("objectif {0} is not a valid number (1-999)")]
    BadObjectif(u16),
    #[error("year {0} is outside {YEAR_MIN}-{YEAR_MAX}")]
    YearOutOfRange(i32),
    #[error("period {start}-{end} ends before it starts")]
    ReversedPeriod { start: i32, end: i32 },
    #[error("source line range [{0}, {1}] is invalid: lines start at 1 and a range must not be reversed")]
    BadLineRange(u32, u32),
    #[error("a commitment must cite at least one source line (where the text is), or a source such as a later deliberation")]
    NoSource,
    #[error("scope {scope} needs scope_ref naming the {scope} (e.g. a commune's name or a quartier's code)")]
    ScopeRefMissing { scope: Scope },
    #[error("scope {scope} covers the whole {scope}: scope_ref '{scope_ref}' is not allowed (use scope commune or quartier for a local commitment)")]
    ScopeRefNotAllowed { scope: Scope, scope_ref: String },
    #[error("a programme commitment must name its programme (dispositif)")]
    ProgrammeMissing,
    #[error("staff count {0} is above the limit of {STAFF_COUNT_MAX}")]
    StaffCountTooLarge(u32),
    #[error(
        "target « {0} » needs either a value or a range (min and/or max), not both and not neither"
    )]
    TargetShape(String),
    #[error("target « {label} »: its range {min}-{max} is reversed")]
    ReversedRange {
        label: String,
        min: rust_decimal::Decimal,
        max: rust_decimal::Decimal,
    },
    #[error("objectif link {0} is not among the commitment's objectifs")]
    LinkWithoutObjectif(u16),
    #[error("{field} needs source lines")]
    SourceMissing { field: &'static str },
}

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The id as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The id of the event stream that holds this thing's history.
            pub fn stream_id(&self) -> String {
                format!(concat!($prefix, "-{}"), self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = TermsError;
            fn try_from(text: String) -> Result<Self, TermsError> {
                if is_slug(&text) {
                    Ok($name(text))
                } else {
                    Err(TermsError::BadSlug(text))
                }
            }
        }

        impl FromStr for $name {
            type Err = TermsError;
            fn from_str(text: &str) -> Result<Self, TermsError> {
                $name::try_from(text.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// A commitment, by a readable slug such as `france-travail-08` (Annex 3's ids), so that the
    /// same promise has the same id in the data file, the ledger and every report.
    CommitmentId,
    "commitment"
);
slug_id!(
    /// A user-defined indicator, e.g. `ft-jeunes-qpv-accompagnes`.
    IndicatorId,
    "indicator"
);

/// Lower-case ASCII letters and digits in groups joined by single dashes.
fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= SLUG_MAX_CHARS
        && text.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The territory a commitment's figure or pledge covers.
///
/// Only `cabbalr`, `commune` and `quartier` are *local*: a figure stated for the département,
/// the région or the whole country is never added to local figures as if it were spent in the
/// contract's quartiers (it is reported beside them, under its own scope).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The contract's EPCI as a whole.
    Cabbalr,
    Commune,
    Quartier,
    Departement,
    Region,
    National,
}

impl Scope {
    /// Whether a figure of this scope is a figure of the contract's own territory.
    pub fn is_local(self) -> bool {
        matches!(self, Scope::Cabbalr | Scope::Commune | Scope::Quartier)
    }

    /// Whether the scope names one place (a commune, a quartier) that `scope_ref` must give.
    pub fn needs_ref(self) -> bool {
        matches!(self, Scope::Commune | Scope::Quartier)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Cabbalr => "cabbalr",
            Scope::Commune => "commune",
            Scope::Quartier => "quartier",
            Scope::Departement => "departement",
            Scope::Region => "region",
            Scope::National => "national",
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a financial figure is yearly or for the whole period.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AmountPeriod {
    PerYear,
    Total,
}

impl AmountPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            AmountPeriod::PerYear => "per_year",
            AmountPeriod::Total => "total",
        }
    }
}

/// What kind of promise a commitment is, with the fields that kind needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum CommitmentKind {
    /// Euros: an amount, yearly or in total (None when the text does not say).
    Financial {
        amount_eur: Amount,
        #[serde(default)]
        amount_period: Option<AmountPeriod>,
    },
    /// Posts, advisers, people: how many (when stated) of what.
    Staffing {
        #[serde(default)]
        staff_count: Option<u32>,
        staff_unit: String,
    },
    /// Participation in a named dispositif or programme (the commitment's `programme`).
    Programme,
    /// A pledge without a quantity.
    Qualitative,
    /// Participation in bodies, comités, pilotage or evaluation.
    Governance,
    /// A condition or an exclusion on the signatory's participation (e.g. the DRAC does not
    /// co-finance contract projects, l.3917-3925).
    Condition,
}

impl CommitmentKind {
    /// The kind's name, as in the data file.
    pub fn name(&self) -> &'static str {
        match self {
            CommitmentKind::Financial { .. } => "financial",
            CommitmentKind::Staffing { .. } => "staffing",
            CommitmentKind::Programme => "programme",
            CommitmentKind::Qualitative => "qualitative",
            CommitmentKind::Governance => "governance",
            CommitmentKind::Condition => "condition",
        }
    }

    /// Whether the commitment states a figure (euros or a staff count).
    pub fn is_quantified(&self) -> bool {
        match self {
            CommitmentKind::Financial { .. } => true,
            CommitmentKind::Staffing { staff_count, .. } => staff_count.is_some(),
            _ => false,
        }
    }
}

/// Years a commitment covers; either end may be unknown (the annex often gives none).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct YearPeriod {
    #[serde(default)]
    pub start_year: Option<i32>,
    #[serde(default)]
    pub end_year: Option<i32>,
}

impl YearPeriod {
    pub fn check(&self) -> Result<(), TermsError> {
        for year in [self.start_year, self.end_year].into_iter().flatten() {
            if !(YEAR_MIN..=YEAR_MAX).contains(&year) {
                return Err(TermsError::YearOutOfRange(year));
            }
        }
        if let (Some(start), Some(end)) = (self.start_year, self.end_year) {
            if start > end {
                return Err(TermsError::ReversedPeriod { start, end });
            }
        }
        Ok(())
    }

    /// `2024-2027`, `2024-`, `-2027` or empty.
    pub fn label(&self) -> String {
        match (self.start_year, self.end_year) {
            (None, None) => String::new(),
            (start, end) => format!(
                "{}-{}",
                start.map(|y| y.to_string()).unwrap_or_default(),
                end.map(|y| y.to_string()).unwrap_or_default()
            ),
        }
    }
}

/// Lines `[from, to]` (inclusive, 1-based) of the contract document.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub struct LineRange(pub u32, pub u32);

impl LineRange {
    pub fn check(self) -> Result<(), TermsError> {
        if self.0 == 0 || self.0 > self.1 {
            return Err(TermsError::BadLineRange(self.0, self.1));
        }
        Ok(())
    }
}

/// `l.3756` or `l.3756-3760; l.3801`.
pub fn lines_label(ranges: &[LineRange]) -> String {
    ranges
        .iter()
        .map(|r| {
            if r.0 == r.1 {
                format!("l.{}", r.0)
            } else {
                format!("l.{}-{}", r.0, r.1)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Everything a signatory states in one commitment. A revision replaces the terms as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitmentTerms {
    /// The service within the signatory that states it (e.g. DDETS, DRAC for the State).
    #[serde(default)]
    pub service: Option<String>,
    pub title: String,
    /// The commitment as written (French), verbatim where it comes from the contract.
    pub text: String,
    pub kind: CommitmentKind,
    /// The dispositif or programme the commitment mobilises, if it names one.
    #[serde(default)]
    pub programme: Option<String>,
    #[serde(default)]
    pub period: YearPeriod,
    pub scope: Scope,
    /// The commune or quartier for scopes `commune` and `quartier`; nothing for wider scopes.
    #[serde(default)]
    pub scope_ref: Option<String>,
    #[serde(default)]
    pub enjeux: Vec<String>,
    #[serde(default)]
    pub ambitions: Vec<String>,
    #[serde(default)]
    pub objectifs: Vec<u16>,
    /// Quartier ids (QPV codes such as QN06208, or QIC ids) when the commitment names them.
    #[serde(default)]
    pub quartiers: Vec<String>,
    /// Where the commitment is written in the contract document.
    #[serde(default)]
    pub source_lines: Vec<LineRange>,
    /// The signatories that carry it together, when the text gives it to several (« l'État et
    /// le Département… »), each with its part when the text states it. The pledging signatory
    /// is one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub carriers: Vec<Carrier>,
    /// The figures it commits to (a value or a range, with its unit, period and baseline), so
    /// that progress can be compared with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Figures the text gives as the starting point of the commitment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub baselines: Vec<Baseline>,
    /// Caveats on the record: outside the territory, owner ambiguous in the text…
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<Flag>,
    /// Why each objectif of `objectifs` is linked: the objectif's actor list that names the
    /// signatory, with its source lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objectif_links: Vec<ObjectifLink>,
}

/// One of several signatories carrying a commitment, with its part when the text states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Carrier {
    /// Organisation id.
    pub signatory: String,
    /// Its part, as the text writes it (none when the text does not split it).
    #[serde(default)]
    pub part: Option<String>,
    /// Its part in euros, when the text gives one.
    #[serde(default)]
    pub part_eur: Option<Amount>,
}

/// A figure a commitment aims at: one value, or a range (either end may be open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// What is counted (« places d'hébergement », « taux d'emploi »…).
    pub label: String,
    #[serde(default)]
    pub value: Option<rust_decimal::Decimal>,
    #[serde(default)]
    pub min: Option<rust_decimal::Decimal>,
    #[serde(default)]
    pub max: Option<rust_decimal::Decimal>,
    /// `%`, `places`, `€`, `points`, `ménages`…
    pub unit: String,
    /// The period the figure is for, as written (« par an », « 2024-2030 »), when stated.
    #[serde(default)]
    pub period: Option<String>,
    /// What the figure is measured against, when the text says.
    #[serde(default)]
    pub baseline: Option<String>,
    /// The words of the text the figure is read from, verbatim.
    pub quote: String,
    pub source_lines: Vec<LineRange>,
}

/// A figure stated as the starting point of a commitment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub label: String,
    pub value: rust_decimal::Decimal,
    pub unit: String,
    #[serde(default)]
    pub year: Option<i32>,
    pub quote: String,
    pub source_lines: Vec<LineRange>,
}

/// What a caveat on a commitment says.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    /// The measure concerns a place outside the contract's territory.
    OutsideTerritory,
    /// The text does not say clearly whose commitment it is.
    AmbiguousOwner,
}

impl FlagKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlagKind::OutsideTerritory => "outside_territory",
            FlagKind::AmbiguousOwner => "ambiguous_owner",
        }
    }
}

/// A caveat kept on a record rather than silently keeping or dropping it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Flag {
    pub kind: FlagKind,
    pub reason: String,
    pub source_lines: Vec<LineRange>,
}

/// Why a commitment is linked to an objectif: the objectif's actor list names its signatory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectifLink {
    pub objectif: u16,
    /// The actor as the objectif's sheet writes it.
    pub actor: String,
    pub source_lines: Vec<LineRange>,
}

impl CommitmentTerms {
    /// Checks the terms and returns them with their texts trimmed.
    pub fn checked(mut self) -> Result<CommitmentTerms, TermsError> {
        self.service = optional_label(self.service, "service")?;
        self.title = required_text(&self.title, "title", TITLE_MAX_CHARS)?;
        self.text = required_text(&self.text, "text", TEXT_MAX_CHARS)?;
        self.programme = optional_label(self.programme, "programme")?;
        self.scope_ref = optional_label(self.scope_ref, "scope_ref")?;
        self.kind = checked_kind(self.kind)?;
        if matches!(self.kind, CommitmentKind::Programme) && self.programme.is_none() {
            return Err(TermsError::ProgrammeMissing);
        }
        self.period.check()?;
        check_scope(self.scope, self.scope_ref.as_deref())?;
        check_links(&self)?;
        check_sources(&self.source_lines)?;
        self.check_extras()?;
        Ok(self)
    }

    /// Carriers, targets, baselines, flags and objectif links.
    fn check_extras(&self) -> Result<(), TermsError> {
        let carriers: Vec<&str> = self.carriers.iter().map(|c| c.signatory.as_str()).collect();
        check_list("carriers", &carriers)?;
        for carrier in &self.carriers {
            required_text(&carrier.signatory, "carriers", SLUG_MAX_CHARS)?;
            if let Some(part) = &carrier.part {
                required_text(part, "carriers.part", LABEL_MAX_CHARS)?;
            }
        }
        let labels: Vec<&str> = self.targets.iter().map(|t| t.label.as_str()).collect();
        check_list("targets", &labels)?;
        for target in &self.targets {
            required_text(&target.label, "targets.label", LABEL_MAX_CHARS)?;
            required_text(&target.unit, "targets.unit", LABEL_MAX_CHARS)?;
            required_text(&target.quote, "targets.quote", TEXT_MAX_CHARS)?;
            let ranged = target.min.is_some() || target.max.is_some();
            if target.value.is_some() == ranged {
                return Err(TermsError::TargetShape(target.label.clone()));
            }
            if let (Some(min), Some(max)) = (target.min, target.max) {
                if min > max {
                    return Err(TermsError::ReversedRange {
                        label: target.label.clone(),
                        min,
                        max,
                    });
                }
            }
            if target.source_lines.is_empty() {
                return Err(TermsError::SourceMissing { field: "targets" });
            }
            target.source_lines.iter().try_for_each(|r| r.check())?;
        }
        for baseline in &self.baselines {
            required_text(&baseline.label, "baselines.label", LABEL_MAX_CHARS)?;
            required_text(&baseline.unit, "baselines.unit", LABEL_MAX_CHARS)?;
            required_text(&baseline.quote, "baselines.quote", TEXT_MAX_CHARS)?;
            if baseline.source_lines.is_empty() {
                return Err(TermsError::SourceMissing { field: "baselines" });
            }
            baseline.source_lines.iter().try_for_each(|r| r.check())?;
        }
        for flag in &self.flags {
            required_text(&flag.reason, "flags.reason", COMMENT_MAX_CHARS)?;
            flag.source_lines.iter().try_for_each(|r| r.check())?;
        }
        for link in &self.objectif_links {
            if !self.objectifs.contains(&link.objectif) {
                return Err(TermsError::LinkWithoutObjectif(link.objectif));
            }
            required_text(&link.actor, "objectif_links.actor", LABEL_MAX_CHARS)?;
            if link.source_lines.is_empty() {
                return Err(TermsError::SourceMissing {
                    field: "objectif_links",
                });
            }
            link.source_lines.iter().try_for_each(|r| r.check())?;
        }
        for list in [
            self.carriers.len(),
            self.targets.len(),
            self.baselines.len(),
            self.flags.len(),
            self.objectif_links.len(),
        ] {
            if list > LINKS_MAX {
                return Err(TermsError::TooMany {
                    field: "targets, baselines, flags or links",
                    count: list,
                    max: LINKS_MAX,
                });
            }
        }
        Ok(())
    }

    /// Whether the commitment is about the contract's own territory: a local scope, and not
    /// flagged as concerning a place outside it.
    pub fn is_local(&self) -> bool {
        self.scope.is_local() && !self.is_outside_territory()
    }

    /// Whether the record is flagged as concerning a place outside the contract's territory.
    pub fn is_outside_territory(&self) -> bool {
        self.flags
            .iter()
            .any(|f| f.kind == FlagKind::OutsideTerritory)
    }

    /// Whether `organisation` carries this commitment with others (not as its pledging
    /// signatory).
    pub fn is_carried_by(&self, organisation: &str) -> bool {
        self.carriers.iter().any(|c| c.signatory == organisation)
    }

    /// Whether the commitment states a figure for the contract's own territory.
    pub fn is_quantified_and_local(&self) -> bool {
        self.kind.is_quantified() && self.is_local()
    }
}

fn checked_kind(kind: CommitmentKind) -> Result<CommitmentKind, TermsError> {
    Ok(match kind {
        CommitmentKind::Staffing {
            staff_count,
            staff_unit,
        } => {
            if let Some(count) = staff_count.filter(|c| *c > STAFF_COUNT_MAX) {
                return Err(TermsError::StaffCountTooLarge(count));
            }
            CommitmentKind::Staffing {
                staff_count,
                staff_unit: required_text(&staff_unit, "staff_unit", LABEL_MAX_CHARS)?,
            }
        }
        other => other,
    })
}

fn check_scope(scope: Scope, scope_ref: Option<&str>) -> Result<(), TermsError> {
    match (scope.needs_ref(), scope_ref) {
        (true, None) => Err(TermsError::ScopeRefMissing { scope }),
        (false, Some(scope_ref)) => Err(TermsError::ScopeRefNotAllowed {
            scope,
            scope_ref: scope_ref.to_string(),
        }),
        _ => Ok(()),
    }
}

fn check_links(terms: &CommitmentTerms) -> Result<(), TermsError> {
    check_list("enjeux", &terms.enjeux)?;
    check_list("ambitions", &terms.ambitions)?;
    check_list("objectifs", &terms.objectifs)?;
    check_list("quartiers", &terms.quartiers)?;
    if let Some(bad) = terms.enjeux.iter().find(|e| !is_numbered(e, 'E')) {
        return Err(TermsError::BadEnjeu(bad.clone()));
    }
    if let Some(bad) = terms.ambitions.iter().find(|a| !is_numbered(a, 'A')) {
        return Err(TermsError::BadAmbition(bad.clone()));
    }
    if let Some(bad) = terms.objectifs.iter().find(|o| !(1..=999).contains(*o)) {
        return Err(TermsError::BadObjectif(*bad));
    }
    for quartier in &terms.quartiers {
        required_text(quartier, "quartiers", SLUG_MAX_CHARS)?;
    }
    Ok(())
}

fn check_sources(ranges: &[LineRange]) -> Result<(), TermsError> {
    if ranges.is_empty() {
        return Err(TermsError::NoSource);
    }
    if ranges.len() > SOURCE_RANGES_MAX {
        return Err(TermsError::TooMany {
            field: "source_lines",
            count: ranges.len(),
            max: SOURCE_RANGES_MAX,
        });
    }
    ranges.iter().try_for_each(|r| r.check())
}

/// `E2`, `A10`: a letter then a number from 1 to 99.
fn is_numbered(text: &str, letter: char) -> bool {
    text.strip_prefix(letter)
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| (1..=99).contains(&n) && !text[1..].starts_with('0'))
}

/// Refuses lists that are too long or name something twice.
pub(crate) fn check_list<T: PartialEq + fmt::Display>(
    field: &'static str,
    items: &[T],
) -> Result<(), TermsError> {
    if items.len() > LINKS_MAX {
        return Err(TermsError::TooMany {
            field,
            count: items.len(),
            max: LINKS_MAX,
        });
    }
    for (index, item) in items.iter().enumerate() {
        if items[..index].contains(item) {
            return Err(TermsError::Duplicate {
                field,
                value: item.to_string(),
            });
        }
    }
    Ok(())
}

/// A trimmed, non-empty text of at most `max` characters.
pub(crate) fn required_text(
    text: &str,
    field: &'static str,
    max: usize,
) -> Result<String, TermsError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(TermsError::Empty { field });
    }
    let chars = trimmed.chars().count();
    if chars > max {
        return Err(TermsError::TooLong { field, chars, max });
    }
    Ok(trimmed.to_string())
}

/// An optional label: trimmed, empty means none, at most [`LABEL_MAX_CHARS`].
pub(crate) fn optional_label(
    text: Option<String>,
    field: &'static str,
) -> Result<Option<String>, TermsError> {
    optional_text(text, field, LABEL_MAX_CHARS)
}

/// An optional text: trimmed, empty means none, at most `max` characters.
pub(crate) fn optional_text(
    text: Option<String>,
    field: &'static str,
    max: usize,
) -> Result<Option<String>, TermsError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => required_text(text, field, max).map(Some),
    }
}

/// Largest absolute value of a reported figure (realised value, indicator value).
pub const VALUE_ABS_MAX: i64 = 1_000_000_000_000;
/// Most decimals of a reported figure.
pub const VALUE_SCALE_MAX: u32 = 6;

/// The dates a progress report or an indicator value covers (inclusive).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct ReportingPeriod {
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
}

/// Why a report is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportError {
    #[error("reporting period {from} to {to} ends before it starts")]
    ReversedPeriod {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    },
    #[error("reporting period {from} to {to} is outside the years {YEAR_MIN}-{YEAR_MAX}")]
    PeriodOutOfRange {
        from: chrono::NaiveDate,
        to: chrono::NaiveDate,
    },
    #[error("value {0} is out of bounds: at most {VALUE_SCALE_MAX} decimals and at most 1,000,000,000,000 in absolute value")]
    ValueOutOfBounds(rust_decimal::Decimal),
}

impl ReportingPeriod {
    pub fn check(&self) -> Result<(), ReportError> {
        use chrono::Datelike;
        if self.from > self.to {
            return Err(ReportError::ReversedPeriod {
                from: self.from,
                to: self.to,
            });
        }
        if self.from.year() < YEAR_MIN || self.to.year() > YEAR_MAX {
            return Err(ReportError::PeriodOutOfRange {
                from: self.from,
                to: self.to,
            });
        }
        Ok(())
    }

    /// Whether the period shares at least one year with `years` (unknown ends are open).
    pub fn overlaps(&self, years: &YearPeriod) -> bool {
        use chrono::Datelike;
        years.start_year.is_none_or(|start| self.to.year() >= start)
            && years.end_year.is_none_or(|end| self.from.year() <= end)
    }

    /// `2025-01-01..2025-12-31`.
    pub fn label(&self) -> String {
        format!("{}..{}", self.from, self.to)
    }
}

/// Checks a reported figure's bounds.
pub fn check_value(value: rust_decimal::Decimal) -> Result<(), ReportError> {
    let bound = rust_decimal::Decimal::from(VALUE_ABS_MAX);
    if value.normalize().scale() > VALUE_SCALE_MAX || value.abs() > bound {
        return Err(ReportError::ValueOutOfBounds(value));
    }
    Ok(())
}
