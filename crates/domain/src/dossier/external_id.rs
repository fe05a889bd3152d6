//! Identifiers other systems give a dossier, kept as aliases of the ledger's own stable id.
//!
//! The State's systems renumber a multi-year grant every year: Dauphin files a new request
//! (`DA` + 8 digits) and Chorus a new engagement juridique (EJ) each exercice, while GISPRO's
//! project code stays. The ledger keeps every one of them on the one dossier they name, so that
//! the State's extracts of later years attach to the same grant (betagouv/api-subventions-asso
//! #2216).
//!
//! Values are normalised before they are compared or recorded ([`ExternalIdKind::normalise`]);
//! the checks are those the value's system is known to guarantee, no stricter:
//!
//! - Dauphin code: `DA` followed by 8 digits. The 8 digits alone are accepted (an extract that
//!   dropped the prefix, or a spreadsheet that turned the code into a number and lost its leading
//!   zeros: fewer digits are padded to 8), and a trailing `-N` is dropped, as Data.Subvention
//!   does; the code is recorded as `DA` + 8 digits.
//! - EJ Chorus: digits only (spaces removed), 8 to 12 of them; Chorus numbers are usually 10.
//! - GISPRO project code: 1 to 40 letters, digits, `-`, `_`, `/` or `.`, recorded in capitals.
//! - Programmation reference: the comité sheet's own reference, 1 to 100 characters without
//!   control characters, recorded as written (trimmed).

use serde::{Deserialize, Serialize};

/// Which system an identifier comes from, and what it names there.
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
pub enum ExternalIdKind {
    /// Dauphin's code of one year's request (« action de demande »): `DA` + 8 digits. GISPRO's
    /// `Action de demande - Code dossier` and ANCT's `Numéro de l'action PRJ`. New every year.
    DauphinDossier,
    /// GISPRO's `Projet - Code dossier`: the project the yearly requests belong to; it stays the
    /// same across years.
    GisproProjet,
    /// Chorus's engagement juridique (`EJ CHORUS`): the State's legal commitment of one year.
    ChorusEj,
    /// The comité's programmation sheet reference of the dossier (its `dossier` column).
    Programmation,
}

/// Longest GISPRO project code.
pub const GISPRO_PROJET_MAX_CHARS: usize = 40;
/// Longest programmation reference.
pub const PROGRAMMATION_REF_MAX_CHARS: usize = 100;
/// Fewest and most digits of an EJ Chorus.
pub const CHORUS_EJ_DIGITS_MIN: usize = 8;
pub const CHORUS_EJ_DIGITS_MAX: usize = 12;

impl ExternalIdKind {
    /// Every kind, in display order.
    pub const ALL: [ExternalIdKind; 4] = [
        ExternalIdKind::DauphinDossier,
        ExternalIdKind::GisproProjet,
        ExternalIdKind::ChorusEj,
        ExternalIdKind::Programmation,
    ];

    /// The kind's name as written in commands and reports (`dauphin_dossier`…).
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalIdKind::DauphinDossier => "dauphin_dossier",
            ExternalIdKind::GisproProjet => "gispro_projet",
            ExternalIdKind::ChorusEj => "chorus_ej",
            ExternalIdKind::Programmation => "programmation",
        }
    }

    /// What the identifier is, in words (for messages and pages).
    pub fn label(self) -> &'static str {
        match self {
            ExternalIdKind::DauphinDossier => "code dossier Dauphin",
            ExternalIdKind::GisproProjet => "code projet GISPRO",
            ExternalIdKind::ChorusEj => "EJ Chorus",
            ExternalIdKind::Programmation => "référence de programmation",
        }
    }

    /// The value in its recorded form, or why it is not one of this kind.
    pub fn normalise(self, value: &str) -> Result<String, String> {
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err("it is empty".into());
        }
        match self {
            ExternalIdKind::DauphinDossier => dauphin(trimmed),
            ExternalIdKind::ChorusEj => {
                let digits: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
                if !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("an EJ Chorus has digits only".into());
                }
                if !(CHORUS_EJ_DIGITS_MIN..=CHORUS_EJ_DIGITS_MAX).contains(&digits.len()) {
                    return Err(format!(
                        "an EJ Chorus has {CHORUS_EJ_DIGITS_MIN} to {CHORUS_EJ_DIGITS_MAX} digits (usually 10), not {}",
                        digits.len()
                    ));
                }
                Ok(digits)
            }
            ExternalIdKind::GisproProjet => {
                let ok = trimmed.chars().count() <= GISPRO_PROJET_MAX_CHARS
                    && trimmed
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '.'));
                if !ok {
                    return Err(format!(
                        "a GISPRO project code has 1 to {GISPRO_PROJET_MAX_CHARS} letters, digits, '-', '_', '/' or '.'"
                    ));
                }
                Ok(trimmed.to_ascii_uppercase())
            }
            ExternalIdKind::Programmation => {
                if trimmed.chars().count() > PROGRAMMATION_REF_MAX_CHARS
                    || trimmed.chars().any(char::is_control)
                {
                    return Err(format!(
                        "a programmation reference has 1 to {PROGRAMMATION_REF_MAX_CHARS} characters, none of them a control character"
                    ));
                }
                Ok(trimmed.to_string())
            }
        }
    }
}

impl std::fmt::Display for ExternalIdKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ExternalIdKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ExternalIdKind::ALL
            .into_iter()
            .find(|k| k.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown kind of identifier '{text}': one of {}",
                    ExternalIdKind::ALL.map(ExternalIdKind::as_str).join(", ")
                )
            })
    }
}

/// `DA` + 8 digits, from `DA00012345`, `da00012345`, `00012345`, `12345` or `DA00012345-2`.
fn dauphin(text: &str) -> Result<String, String> {
    const WHY: &str = "a Dauphin dossier code is DA followed by 8 digits (e.g. DA00012345)";
    let upper = text.to_ascii_uppercase();
    let (prefixed, rest) = match upper.strip_prefix("DA") {
        Some(rest) => (true, rest),
        None => (false, upper.as_str()),
    };
    let digits = match rest.split_once('-') {
        Some((digits, suffix))
            if !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit()) =>
        {
            digits
        }
        Some(_) => return Err(WHY.into()),
        None => rest,
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(WHY.into());
    }
    // Only a bare number may have lost leading zeros; a written code has its 8 digits.
    if digits.len() > 8 || (prefixed && digits.len() != 8) {
        return Err(WHY.into());
    }
    Ok(format!("DA{digits:0>8}"))
}

/// An identifier of another system recorded on a dossier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ExternalIdRecord {
    pub kind: ExternalIdKind,
    /// The value, normalised.
    pub value: String,
    /// The exercice it stands for (a Dauphin code or an EJ is one year's), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exercice: Option<i32>,
    /// The funding line it belongs to (an EJ commits the State's line), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub financeur: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispositif: Option<String>,
}

impl std::fmt::Display for ExternalIdRecord {
    /// `chorus_ej 2103456789 (2025, etat/bop147-aap)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.value)?;
        let mut details = Vec::new();
        if let Some(exercice) = self.exercice {
            details.push(exercice.to_string());
        }
        match (&self.financeur, &self.dispositif) {
            (Some(f), Some(d)) => details.push(format!("{f}/{d}")),
            (Some(f), None) => details.push(f.clone()),
            _ => {}
        }
        if !details.is_empty() {
            write!(f, " ({})", details.join(", "))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::ExternalIdKind::*;

    #[test]
    fn dauphin_codes_are_normalised_or_refused() {
        for (given, recorded) in [
            ("DA00012345", "DA00012345"),
            (" da00012345 ", "DA00012345"),
            ("00012345", "DA00012345"),
            ("12345", "DA00012345"),
            ("DA00012345-2", "DA00012345"),
        ] {
            assert_eq!(DauphinDossier.normalise(given).as_deref(), Ok(recorded));
        }
        for bad in [
            "DA0001234",
            "DA000123456",
            "DB00012345",
            "DA0001234X",
            "123456789",
            "DA00012345-",
            "DA00012345-x",
            "",
        ] {
            assert!(DauphinDossier.normalise(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn other_kinds_are_checked() {
        assert_eq!(
            ChorusEj.normalise("21 0345 6789").as_deref(),
            Ok("2103456789")
        );
        assert!(ChorusEj.normalise("2103456789A").is_err());
        assert!(ChorusEj.normalise("1234567").is_err());
        assert!(ChorusEj.normalise("1234567890123").is_err());
        assert_eq!(
            GisproProjet.normalise("prj-2025/0042").as_deref(),
            Ok("PRJ-2025/0042")
        );
        assert!(GisproProjet.normalise("PRJ 2025").is_err());
        assert_eq!(
            Programmation.normalise(" PROG-2025-001 ").as_deref(),
            Ok("PROG-2025-001")
        );
        assert!(Programmation.normalise("a\tb").is_err());
        assert!(Programmation.normalise(&"x".repeat(101)).is_err());
        assert_eq!("chorus_ej".parse(), Ok(ChorusEj));
        assert!("ej".parse::<super::ExternalIdKind>().is_err());
    }
}
