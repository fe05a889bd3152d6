//! Small forms that record one fact: their fields declared once, drawn with a label above each, a
//! hint, the kept value and the error under the field (DSFR patterns), and read back with French
//! messages. Field ids are `{form id}-{field name}`, so that several forms share a page and the
//! error summary of one links into it.

use chrono::NaiveDate;
use engagements_domain::Amount;
use maud::{html, Markup};

use crate::pages::forms::{parse_amount_fr, parse_date_fr, FieldErrors, Posted};

/// Longest text a field of these forms accepts (the domain keeps its own, often smaller, limits).
pub const TEXT_CHARS_MAX: usize = 1_000;

/// How a field is typed in.
#[derive(Debug, Clone, Copy)]
pub enum Input {
    Text,
    LongText,
    /// Euros, as people type them (`12 345,50`).
    Amount,
    /// A day, as people type it (`15/04/2025`).
    Date,
    /// One of several choices (radio buttons): value posted, label shown.
    Choice(&'static [(&'static str, &'static str)]),
}

/// One field of a form.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub input: Input,
    pub optional: bool,
    pub hint: Option<String>,
}

impl Field {
    /// A required field.
    pub fn required(name: &'static str, label: impl Into<String>, input: Input) -> Field {
        Field {
            name,
            label: label.into(),
            input,
            optional: false,
            hint: None,
        }
    }

    /// An optional field (its label says so).
    pub fn optional(name: &'static str, label: impl Into<String>, input: Input) -> Field {
        Field {
            optional: true,
            ..Field::required(name, label, input)
        }
    }

    /// The same field with a hint under its label.
    pub fn hint(mut self, hint: impl Into<String>) -> Field {
        self.hint = Some(hint.into());
        self
    }
}

/// The id of field `name` in form `form_id`.
pub fn field_id(form_id: &str, name: &str) -> String {
    format!("{form_id}-{name}")
}

/// Draws one field with its label, hint, error and kept value.
pub fn draw(form_id: &str, field: &Field, posted: &Posted, errors: &FieldErrors) -> Markup {
    let id = field_id(form_id, field.name);
    let value = posted.get(field.name);
    let label = if field.optional {
        format!("{} (facultatif)", field.label)
    } else {
        field.label.clone()
    };
    let hint = match (field.input, &field.hint) {
        (_, Some(hint)) => Some(hint.clone()),
        (Input::Date, None) => Some("jour/mois/année, par exemple 15/04/2025".to_string()),
        (Input::Amount, None) => Some("en euros, par exemple 12 345,50".to_string()),
        _ => None,
    };
    let hint_id = format!("{id}-aide");
    let described = hint.as_ref().map(|_| hint_id.clone());
    match field.input {
        Input::Choice(choices) => html! {
            fieldset.choices id=(id) {
                legend { (label) }
                @if let Some(hint) = &hint { span.muted id=(hint_id) { (hint) } }
                (errors.under(&id))
                @for (choice, text) in choices {
                    @let input_id = format!("{id}-{choice}");
                    span.choice {
                        input type="radio" id=(input_id) name=(field.name) value=(choice) checked[value == *choice];
                        label for=(input_id) { (text) }
                    }
                }
            }
        },
        Input::LongText => html! {
            div.field {
                label for=(id) { (label) }
                @if let Some(hint) = &hint { span.muted id=(hint_id) { (hint) } }
                (errors.under(&id))
                textarea id=(id) name=(field.name) rows="3" maxlength=(TEXT_CHARS_MAX) aria-describedby=[described] { (value) }
            }
        },
        Input::Text | Input::Amount | Input::Date => html! {
            div.field {
                label for=(id) { (label) }
                @if let Some(hint) = &hint { span.muted id=(hint_id) { (hint) } }
                (errors.under(&id))
                input type="text" id=(id) name=(field.name) value=(value)
                    inputmode=[matches!(field.input, Input::Amount).then_some("decimal")]
                    size=[matches!(field.input, Input::Date).then_some("12")]
                    autocomplete="off" aria-describedby=[described];
            }
        },
    }
}

/// Reads a posted form's fields, gathering the errors under the fields they concern.
pub struct Reader<'a> {
    form_id: &'a str,
    posted: &'a Posted,
    pub errors: FieldErrors,
}

impl<'a> Reader<'a> {
    pub fn new(form_id: &'a str, posted: &'a Posted) -> Reader<'a> {
        Reader {
            form_id,
            posted,
            errors: FieldErrors::default(),
        }
    }

    /// Adds an error under field `name`.
    pub fn error(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(field_id(self.form_id, name), message);
    }

    /// A text, required unless `optional` (then empty is `Some("")`).
    pub fn text(&mut self, name: &str, what: &str, optional: bool) -> Option<String> {
        let value = self.posted.get(name);
        if value.chars().count() > TEXT_CHARS_MAX {
            self.error(
                name,
                format!("Ce texte est trop long ({TEXT_CHARS_MAX} caractères au plus)."),
            );
            return None;
        }
        if value.is_empty() && !optional {
            self.error(name, format!("Indiquez {what}."));
            return None;
        }
        Some(value.to_string())
    }

    /// A required amount.
    pub fn amount(&mut self, name: &str) -> Option<Amount> {
        match parse_amount_fr(self.posted.get(name)) {
            Ok(amount) => Some(amount),
            Err(message) => {
                self.error(name, message);
                None
            }
        }
    }

    /// A required amount above zero.
    pub fn positive_amount(&mut self, name: &str) -> Option<Amount> {
        let amount = self.amount(name)?;
        if amount.is_zero() {
            self.error(name, "Indiquez un montant supérieur à zéro.");
            return None;
        }
        Some(amount)
    }

    /// An optional amount: `Some(None)` when left empty, `None` when wrong.
    pub fn optional_amount(&mut self, name: &str) -> Option<Option<Amount>> {
        if self.posted.get(name).is_empty() {
            return Some(None);
        }
        self.amount(name).map(Some)
    }

    /// A required date.
    pub fn date(&mut self, name: &str) -> Option<NaiveDate> {
        match parse_date_fr(self.posted.get(name)) {
            Ok(date) => Some(date),
            Err(message) => {
                self.error(name, message);
                None
            }
        }
    }

    /// One of `choices` (value posted, value read); `message` when none is chosen.
    pub fn choice<T: Copy>(
        &mut self,
        name: &str,
        choices: &[(&str, T)],
        message: &str,
    ) -> Option<T> {
        let value = self.posted.get(name);
        let found = choices.iter().find(|(v, _)| *v == value).map(|(_, t)| *t);
        if found.is_none() {
            self.error(name, message);
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_is_drawn_with_its_label_kept_value_and_error() {
        let posted = Posted(vec![("montant".into(), "douze".into())]);
        let mut errors = FieldErrors::default();
        errors.push("paiement-etat-montant", "Pas un montant.");
        let field = Field::required("montant", "Montant", Input::Amount);
        let html = draw("paiement-etat", &field, &posted, &errors).into_string();
        assert!(
            html.contains(r#"<label for="paiement-etat-montant">Montant</label>"#),
            "{html}"
        );
        assert!(html.contains(r#"id="paiement-etat-montant-erreur">Pas un montant."#));
        assert!(html.contains(r#"value="douze""#));
        assert!(html.contains(r#"inputmode="decimal""#));
        let choice = Field::optional("nature", "Nature", Input::Choice(&[("avance", "Avance")]));
        let html = draw(
            "p",
            &choice,
            &Posted(vec![("nature".into(), "avance".into())]),
            &errors,
        )
        .into_string();
        assert!(html.contains("Nature (facultatif)"), "{html}");
        assert!(html.contains(r#"value="avance" checked"#), "{html}");
    }

    #[test]
    fn a_reader_names_the_field_of_each_error() {
        let posted = Posted(vec![
            ("montant".into(), "0".into()),
            ("le".into(), "32/01/2025".into()),
            ("part".into(), "".into()),
        ]);
        let mut reader = Reader::new("f", &posted);
        assert_eq!(reader.positive_amount("montant"), None);
        assert_eq!(reader.date("le"), None);
        assert_eq!(reader.optional_amount("part"), Some(None));
        assert_eq!(reader.text("motif", "le motif", false), None);
        let fields: Vec<&str> = reader.errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["f-montant", "f-le", "f-motif"]);
        assert_eq!(reader.errors.of("f-motif"), Some("Indiquez le motif."));
    }
}
