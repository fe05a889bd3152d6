//! What every form that writes shares: reading a French amount, the errors shown under their
//! fields and summed up at the top (the DSFR pattern), who will be recorded as acting, the
//! form's own command id (a double submit records once), and the domain's refusals in French.

use chrono::NaiveDate;
use engagements_app::auth::{rule_of, Role, Scope};
use engagements_app::{CommandError, MetaDefaults};
use engagements_domain::{Amount, Source};
use maud::{html, Markup};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::pages::{role_label, PageError};

/// Name of the hidden field carrying a form's command id.
pub const COMMAND_ID_FIELD: &str = "command_id";
/// Longest amount text read (`1 000 000 000 000,00 €` and some spaces).
const AMOUNT_CHARS_MAX: usize = 40;

/// One field's error: the field's `id` in the page and the French message shown under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The errors of one posted form, in the order of its fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    /// Adds the error of field `field`.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.into(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message of field `field`, if it has one.
    pub fn of(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// The message under a field (`<p class="field-error" id="…-erreur">`), or nothing.
    pub fn under(&self, field: &str) -> Markup {
        html! {
            @if let Some(message) = self.of(field) {
                p.field-error id=(format!("{field}-erreur")) { (message) }
            }
        }
    }

    /// The summary at the top of a form: every error, each a link to its field.
    pub fn summary(&self) -> Markup {
        html! {
            @if !self.is_empty() {
                div.error-summary role="alert" tabindex="-1" {
                    h3 { "Le formulaire contient " (self.0.len()) @if self.0.len() == 1 { " erreur" } @else { " erreurs" } " : rien n'a été enregistré" }
                    ul { @for error in &self.0 { li { a href=(format!("#{}", error.field)) { (error.message) } } } }
                }
            }
        }
    }
}

/// A posted form, as name–value pairs in order (check boxes repeat their name).
#[derive(Debug, Clone, Default)]
pub struct Posted(pub Vec<(String, String)>);

impl Posted {
    /// The first value of field `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .unwrap_or_default()
    }

    /// Every value of field `name` (check boxes).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .collect()
    }

    /// Whether field `name` was posted at all.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    /// Sets field `name` (replacing its first value), for a form drawn with values.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(pair) => pair.1 = value,
            None => self.0.push((name.to_string(), value)),
        }
    }
}

/// Reads a date as a person types it: `15/04/2025` (or `15/04/25`, `15-04-2025`, `15.04.2025`),
/// or `2025-04-15` as a browser's date field sends it. Years outside 1990-2100 are typos.
pub fn parse_date_fr(text: &str) -> Result<NaiveDate, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Indiquez une date, par exemple 15/04/2025.".to_string());
    }
    let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .or_else(|| {
            let parts: Vec<&str> = text.split(['/', '-', '.']).map(str::trim).collect();
            let [day, month, year] = parts.as_slice() else {
                return None;
            };
            let mut year: i32 = year.parse().ok()?;
            if year < 100 {
                year += 2000;
            }
            NaiveDate::from_ymd_opt(year, month.parse().ok()?, day.parse().ok()?)
        });
    match parsed {
        Some(date) if (1990..=2100).contains(&chrono::Datelike::year(&date)) => Ok(date),
        Some(_) => Err("Cette date est hors de la période du registre (1990 à 2100).".to_string()),
        None => Err(format!(
            "« {text} » n'est pas une date : écrivez jour/mois/année, par exemple 15/04/2025."
        )),
    }
}

/// Reads an amount as a person types it: `12 345,50`, `12345.50`, `12 345,50 €` (spaces, no-break
/// spaces and a trailing euro sign are ignored; a comma or a dot separates the cents). The error
/// is a French sentence for the field.
pub fn parse_amount_fr(text: &str) -> Result<Amount, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("Indiquez un montant en euros, par exemple 12 345,50.".to_string());
    }
    if text.chars().count() > AMOUNT_CHARS_MAX {
        return Err(
            "Ce montant est trop long : écrivez-le en euros, par exemple 12 345,50.".into(),
        );
    }
    let compact: String = text
        .trim_end_matches('€')
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    if compact.contains(',') && compact.contains('.') {
        return Err(
            "Ce montant mélange virgule et point : écrivez par exemple 12 345,50.".to_string(),
        );
    }
    let plain = compact.replace(',', ".");
    if plain.starts_with('-') {
        return Err("Un montant ne peut pas être négatif.".to_string());
    }
    match plain.parse::<Amount>() {
        Ok(amount) => Ok(amount),
        Err(engagements_domain::AmountError::TooPrecise(_)) => {
            Err("Un montant a au plus deux décimales (les centimes).".to_string())
        }
        Err(engagements_domain::AmountError::TooLarge(_)) => {
            Err("Ce montant dépasse le plafond du registre (1 000 milliards d'euros).".to_string())
        }
        Err(_) => Err(format!(
            "« {text} » n'est pas un montant : écrivez des euros, par exemple 12 345,50."
        )),
    }
}

/// The hidden field holding a form's command id: generated when the form is drawn, so that the
/// same form posted twice records once.
pub fn command_id_input(command_id: Uuid) -> Markup {
    html! { input type="hidden" name=(COMMAND_ID_FIELD) value=(command_id); }
}

/// The command id a form posted; 400 when it is missing or not a UUID (a form of this site
/// always has one).
pub fn posted_command_id(text: &str) -> Result<Uuid, PageError> {
    text.trim().parse::<Uuid>().map_err(|_| {
        PageError::Api(ApiError::invalid(
            "the form's command_id is missing or not a UUID",
        ))
    })
}

/// Who will be recorded as acting when this form is sent; `organisation` is the caller's
/// organisation as people name it.
pub fn acting_as(caller: &Caller, organisation: &str) -> Markup {
    html! {
        p.acting {
            "Sera enregistré au nom de " strong { (caller.0.person) } " ("
            (organisation) ", " (role_label(caller.0.role)) ")."
        }
    }
}

/// Whether `role` may ever send command `name` (whatever the organisation): a role that may not
/// sees no form and gets 403 on a post.
pub fn role_may_send(role: Role, name: &str) -> bool {
    role.can_write() && rule_of(name).is_some_and(|rule| rule.scope(role) != Scope::Never)
}

/// The 403 page of a role that may not send this form's command.
pub fn forbidden_form(caller: &Caller, name: &str) -> PageError {
    PageError::Api(ApiError::forbidden(format!(
        "role {} may not send {name}",
        caller.0.role.as_str()
    )))
}

/// The metadata defaults of a command sent from a page: the caller acts, today.
pub fn page_defaults(caller: &Caller) -> MetaDefaults {
    MetaDefaults {
        actor: caller.0.actor(),
        source: Source::Api,
        today: chrono::Local::now().date_naive(),
    }
}

/// A refusal of the ledger as a person reads it: the field it concerns (when one does) and a
/// French sentence. The domain's messages are English for programs; they are matched on the
/// words that name what was wrong. Failures of the store are not refusals: `None`, and the
/// handler answers with the error page.
pub fn refusal_fr(error: &CommandError) -> Option<(Option<&'static str>, String)> {
    let message = error.to_string();
    let has = |word: &str| message.contains(word);
    let refusal = match error {
        CommandError::Forbidden(_) => (
            Some("financeur"),
            "Votre organisation ne peut pas agir pour ce financeur : seul le financeur concerné \
             (ou l'équipe du contrat) le peut."
                .to_string(),
        ),
        CommandError::CommandIdReused(_) => (
            None,
            "Ce formulaire a déjà servi à une autre saisie : rechargez la page et recommencez."
                .to_string(),
        ),
        CommandError::UnknownReference { kind, .. } => {
            let field = match *kind {
                "quartier" => "quartiers",
                "objectif" => "objectifs",
                "porteur" => "porteur",
                "dispositif" => "dispositif",
                _ => "financeur",
            };
            (
                Some(field),
                format!(
                    "Cette référence ({}) n'existe pas dans le référentiel du contrat.",
                    reference_fr(kind)
                ),
            )
        }
        CommandError::Rejected(_) | CommandError::Invalid(_) => {
            if has("not asked") || has("dispositif") {
                (
                    Some("financeur"),
                    "Ce financeur n'est pas sollicité sous ce dispositif dans ce dossier."
                        .to_string(),
                )
            } else if has("withdrawn") {
                (
                    None,
                    "Ce dossier a été retiré : plus rien ne peut y être enregistré.".to_string(),
                )
            } else if has("comment") {
                (
                    Some("commentaire"),
                    "Le commentaire est trop long (1 000 caractères au plus).".to_string(),
                )
            } else if has("quartier") {
                (
                    Some("quartiers"),
                    "Les quartiers ou leurs parts ne conviennent pas : nommez au moins un \
                     quartier, une seule fois, et des parts qui font 100 % (ou aucune)."
                        .to_string(),
                )
            } else if has("objectif") {
                (
                    Some("objectifs"),
                    "Choisissez au moins un objectif du contrat, une seule fois chacun."
                        .to_string(),
                )
            } else if has("title") {
                (
                    Some("intitule"),
                    "Indiquez un intitulé (1 000 caractères au plus).".to_string(),
                )
            } else if has("exercice") {
                (
                    Some("exercice"),
                    "Cet exercice est hors de la période du registre.".to_string(),
                )
            } else if has("financeur") || has("request") {
                (
                    Some("financeur"),
                    "Le plan de financement ne convient pas : au moins une ligne, et chaque \
                     financeur une seule fois par dispositif."
                        .to_string(),
                )
            } else if has("amount") || has("€") {
                (
                    Some("montant"),
                    "Ce montant n'est pas accepté par les règles du contrat.".to_string(),
                )
            } else {
                (
                    None,
                    "Le registre a refusé cette saisie : une règle du contrat l'empêche. \
                     Vérifiez les valeurs et recommencez."
                        .to_string(),
                )
            }
        }
        CommandError::Append(_) | CommandError::Store(_) => return None,
    };
    Some(refusal)
}

fn reference_fr(kind: &str) -> &'static str {
    match kind {
        "quartier" => "quartier",
        "objectif" => "objectif",
        "porteur" => "porteur",
        "dispositif" => "dispositif",
        _ => "financeur ou organisation",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cents(text: &str) -> i64 {
        parse_amount_fr(text).unwrap().cents()
    }

    #[test]
    fn amounts_are_read_as_people_type_them() {
        assert_eq!(cents("12 345,50"), 1_234_550);
        assert_eq!(cents("12345.50"), 1_234_550);
        assert_eq!(cents("12\u{202f}345,50 €"), 1_234_550);
        assert_eq!(cents(" 7 000 "), 700_000);
        assert_eq!(cents("0,5"), 50);
    }

    #[test]
    fn dates_are_read_as_people_type_them() {
        let day = NaiveDate::from_ymd_opt(2025, 4, 15).unwrap();
        for text in [
            "15/04/2025",
            " 15/4/2025 ",
            "15-04-2025",
            "15.04.25",
            "2025-04-15",
        ] {
            assert_eq!(parse_date_fr(text), Ok(day), "{text}");
        }
        for bad in [
            "",
            "31/02/2025",
            "15/04",
            "demain",
            "15/04/1850",
            "2025/04/15/1",
        ] {
            let message = parse_date_fr(bad).unwrap_err();
            assert!(!message.is_empty() && !message.contains("date:"), "{bad}");
        }
    }

    #[test]
    fn bad_amounts_get_a_french_sentence() {
        for bad in ["", "douze", "1,2.3", "-5", "12,345", "1e5", "12,"] {
            let message = parse_amount_fr(bad)
                .err()
                .unwrap_or_else(|| panic!("{bad} accepted"));
            assert!(!message.contains("amount"), "{bad}: {message}");
        }
        assert!(parse_amount_fr("1,234")
            .unwrap_err()
            .contains("deux décimales"));
    }
}
