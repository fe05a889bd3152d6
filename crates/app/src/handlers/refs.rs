//! Checks that a command's references exist in the contract's referential, with an error that
//! names the bad value and the closest valid ones.

use engagements_domain::referential::{
    Commune, Dispositif, ObjectifPath, Organisation, Quartier, TfpbAxis,
};

use super::Context;
use crate::error::CommandError;

/// Close values shown in a hint.
const HINT_VALUES_MAX: usize = 5;

/// The organisation `id` (signatory, financeur, partner).
pub(crate) fn require_organisation<'a>(
    ctx: &Context<'a, '_>,
    id: &str,
) -> Result<&'a Organisation, CommandError> {
    let view = &ctx.projections.referential;
    view.organisation(id).ok_or_else(|| {
        unknown(
            "organisation",
            id,
            view.organisations().map(|o| o.id.as_str()),
        )
    })
}

/// The quartier `id` (a QPV code such as `QN06209`, or a `QIC-…` id).
pub(crate) fn require_quartier<'a>(
    ctx: &Context<'a, '_>,
    id: &str,
) -> Result<&'a Quartier, CommandError> {
    let view = &ctx.projections.referential;
    view.quartier(id)
        .ok_or_else(|| unknown("quartier", id, view.quartiers().map(|q| q.id.as_str())))
}

/// The commune `id`.
pub(crate) fn require_commune<'a>(
    ctx: &Context<'a, '_>,
    id: &str,
) -> Result<&'a Commune, CommandError> {
    let view = &ctx.projections.referential;
    view.commune(id)
        .ok_or_else(|| unknown("commune", id, view.communes().map(|c| c.id.as_str())))
}

/// The objectif numbered `number`, with its ambition and enjeu.
pub(crate) fn require_objectif<'a>(
    ctx: &Context<'a, '_>,
    number: u32,
) -> Result<ObjectifPath<'a>, CommandError> {
    let view = &ctx.projections.referential;
    view.objectif(number).ok_or_else(|| {
        let numbers: Vec<String> = view
            .objectifs()
            .map(|o| o.objectif.number.to_string())
            .collect();
        let hint = match (numbers.first(), numbers.last()) {
            (Some(first), Some(last)) => format!(": objectifs are numbered {first} to {last}"),
            _ => no_contract_hint(),
        };
        CommandError::UnknownReference {
            kind: "objectif",
            value: number.to_string(),
            hint,
        }
    })
}

/// The piste d'action `id` (`O12-I3`: objectif 12's third intercommunal piste), with its text.
pub(crate) fn require_piste<'a>(ctx: &Context<'a, '_>, id: &str) -> Result<&'a str, CommandError> {
    let view = &ctx.projections.referential;
    let objectif = engagements_domain::dossier::piste_objectif(id).and_then(|n| view.objectif(n));
    objectif
        .and_then(|path| engagements_domain::dossier::piste_text(path.objectif, id))
        .ok_or_else(|| {
            let valid: Vec<String> = objectif
                .map(|path| {
                    engagements_domain::dossier::pistes_of(path.objectif)
                        .into_iter()
                        .map(|(piste, _)| piste)
                        .collect()
                })
                .unwrap_or_default();
            CommandError::UnknownReference {
                kind: "piste d'action",
                value: id.to_string(),
                hint: if valid.is_empty() {
                    ": a piste is written O<objectif>-I<n> (intercommunal) or O<objectif>-C<n> (communal), numbered from 1 in the contract's order (see `engagements referential`)".to_string()
                } else {
                    format!(": this objectif's pistes are {} to {}", valid[0], valid[valid.len() - 1])
                },
            }
        })
}

/// The dispositif `id`.
#[allow(dead_code)] // for the families that refer to it (envelopes, TFPB)
pub(crate) fn require_dispositif<'a>(
    ctx: &Context<'a, '_>,
    id: &str,
) -> Result<&'a Dispositif, CommandError> {
    let view = &ctx.projections.referential;
    view.dispositif(id)
        .ok_or_else(|| unknown("dispositif", id, view.dispositifs().map(|d| d.id.as_str())))
}

/// The TFPB axis `id` (e.g. `axe-3`).
#[allow(dead_code)] // for the families that refer to it (envelopes, TFPB)
pub(crate) fn require_tfpb_axis<'a>(
    ctx: &Context<'a, '_>,
    id: &str,
) -> Result<&'a TfpbAxis, CommandError> {
    let view = &ctx.projections.referential;
    view.tfpb_axis(id)
        .ok_or_else(|| unknown("TFPB axis", id, view.tfpb_axes().map(|a| a.id.as_str())))
}

fn no_contract_hint() -> String {
    ": no contract is published in this ledger: run `engagements init` first".to_string()
}

/// An unknown reference, with the closest valid values as a hint.
pub(crate) fn unknown<'v>(
    kind: &'static str,
    value: &str,
    valid: impl Iterator<Item = &'v str>,
) -> CommandError {
    let valid: Vec<&str> = valid.collect();
    CommandError::UnknownReference {
        kind,
        value: value.to_string(),
        hint: hint(value, &valid),
    }
}

/// `: did you mean 'a', 'b'?` when some values are close, else a few valid ones.
pub fn hint(value: &str, valid: &[&str]) -> String {
    if valid.is_empty() {
        return no_contract_hint();
    }
    let close = closest(value, valid);
    let quoted = |values: &[&str]| {
        values
            .iter()
            .map(|v| format!("'{v}'"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if close.is_empty() {
        let some: Vec<&str> = valid.iter().copied().take(HINT_VALUES_MAX).collect();
        format!(
            ": {} valid values, e.g. {} (see `engagements referential`)",
            valid.len(),
            quoted(&some)
        )
    } else {
        format!(": did you mean {}?", quoted(&close))
    }
}

/// The valid values nearest to `value` (edit distance on a case- and accent-blind form, or one
/// containing the other), best first.
fn closest<'v>(value: &str, valid: &[&'v str]) -> Vec<&'v str> {
    let wanted = normalise(value);
    let mut scored: Vec<(usize, &'v str)> = valid
        .iter()
        .filter_map(|candidate| {
            let form = normalise(candidate);
            let distance = edit_distance(&wanted, &form);
            let threshold = (wanted.chars().count().max(form.chars().count()) / 3).max(2);
            let contains = !wanted.is_empty()
                && wanted.chars().count() >= 3
                && (form.contains(&wanted) || wanted.contains(&form));
            (distance <= threshold || contains).then_some((distance, *candidate))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(HINT_VALUES_MAX)
        .map(|(_, v)| v)
        .collect()
}

fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .map(|c| match c {
            'é' | 'è' | 'ê' | 'ë' | 'É' | 'È' => 'e',
            'à' | 'â' | 'À' => 'a',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'û' | 'ù' | 'ü' => 'u',
            'ç' => 'c',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_name_close_values() {
        let valid = ["QN06209", "QN06208", "QIC-la-loisne", "QN06216"];
        let text = hint("QN0629", &valid);
        assert!(text.contains("'QN06209'"), "{text}");
        let text = hint("QN06290", &valid);
        assert!(text.contains("did you mean"), "{text}");
        let text = hint("zzzzzzzzzzzz", &valid);
        assert!(text.contains("4 valid values"), "{text}");
        assert!(hint("x", &[]).contains("engagements init"));
    }

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("liébaut", "liebaud"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
