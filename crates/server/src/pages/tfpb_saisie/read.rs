//! Reading the TFPB forms into commands, with an error in French under each wrong field, and the
//! ledger's refusals in French.

use engagements_app::{CommandError, CommandMeta};
use engagements_domain::tfpb::{
    label_key, TfpbActionId, TfpbActionSpec, TfpbProgrammeCommand, TfpbProgrammeKey, TfpbShare,
    TfpbSpendingId, DWELLINGS_MAX, LABEL_CHARS_MAX, PARTIES_MAX, SHARES_MAX, TAX_YEAR_MAX,
    TAX_YEAR_MIN,
};
use engagements_domain::Amount;

use super::{Ctx, Kind};
use crate::pages::entry::Reader;
use crate::pages::forms::{parse_amount_fr, FieldErrors, Posted};

/// The command a posted form means, or its errors.
pub(crate) fn read(
    kind: Kind,
    ctx: &Ctx<'_>,
    posted: &Posted,
) -> Result<(TfpbProgrammeCommand, CommandMeta), FieldErrors> {
    let mut r = Reader::new(kind.slug(), posted);
    let mut meta = CommandMeta {
        command_id: posted.get("command_id").parse().ok(),
        ..CommandMeta::default()
    };
    let command = match kind {
        Kind::Abattement => {
            let quartier = qpv(&mut r, ctx, posted);
            let year = year(&mut r, posted);
            let dwellings = dwellings(&mut r, posted);
            let amount = r.positive_amount("montant");
            match (quartier, year, dwellings, amount) {
                (Some(q), Some(y), Some(d), Some(a)) => {
                    Some(TfpbProgrammeCommand::DeclareAbatement {
                        programme: TfpbProgrammeKey::new(ctx.bailleur, q, y),
                        dwellings: d,
                        abatement_eur: a,
                    })
                }
                _ => None,
            }
        }
        Kind::Action => read_action(&mut r, ctx, posted),
        Kind::Depense => {
            let action = action_of(&mut r, ctx, posted);
            let amount = r.positive_amount("montant");
            let date = r.date("date");
            let evidence = r.text("justificatif", "la référence du justificatif", false);
            if let (Some((key, _)), Some(date)) = (&action, date) {
                if !engagements_domain::tfpb::in_year(date, key.year) {
                    r.error(
                        "date",
                        format!(
                            "Cette date n'est pas dans l'année fiscale {} de l'action : une dépense se déclare dans l'année de son programme.",
                            key.year
                        ),
                    );
                }
            }
            let spending_id = posted.get("spending_id").parse::<TfpbSpendingId>().ok();
            match (action, amount, date, evidence, spending_id) {
                (
                    Some((programme, action_id)),
                    Some(amount),
                    Some(date),
                    Some(evidence),
                    Some(spending_id),
                ) if r.errors.is_empty() => {
                    meta.effective_date = Some(date);
                    Some(TfpbProgrammeCommand::ReportSpending {
                        programme,
                        action_id,
                        spending_id,
                        amount_eur: amount,
                        spent_on: date,
                        evidence,
                    })
                }
                _ => None,
            }
        }
        Kind::Bilan => {
            let programme = match posted.get("programme").split_once('|') {
                Some((q, y)) => match (
                    y.parse::<i32>(),
                    ctx.programmes()
                        .any(|(k, _)| k.quartier == q && y == k.year.to_string()),
                ) {
                    (Ok(y), true) => Some(TfpbProgrammeKey::new(ctx.bailleur, q, y)),
                    _ => None,
                },
                None => None,
            };
            if programme.is_none() {
                r.error(
                    "programme",
                    "Choisissez le programme (QPV et année) dont vous transmettez le bilan.",
                );
            }
            let date = r.date("date");
            let comment = r.text("commentaire", "un commentaire", true);
            match (programme, date, comment) {
                (Some(programme), Some(date), Some(comment)) => {
                    meta.effective_date = Some(date);
                    Some(TfpbProgrammeCommand::SubmitBilan {
                        programme,
                        submitted_on: date,
                        comment: Some(comment).filter(|c| !c.is_empty()),
                    })
                }
                _ => None,
            }
        }
    };
    match command {
        Some(command) if r.errors.is_empty() => Ok((command, meta)),
        _ => Err(r.errors),
    }
}

fn qpv(r: &mut Reader<'_>, ctx: &Ctx<'_>, posted: &Posted) -> Option<String> {
    let value = posted.get("qpv");
    if ctx.qpv().iter().any(|(id, _)| id == value) {
        Some(value.to_string())
    } else {
        r.error(
            "qpv",
            "Choisissez le quartier prioritaire (QPV) dans la liste.",
        );
        None
    }
}

fn year(r: &mut Reader<'_>, posted: &Posted) -> Option<i32> {
    match posted.get("annee").parse::<i32>() {
        Ok(y) if (TAX_YEAR_MIN..=TAX_YEAR_MAX).contains(&y) => Some(y),
        _ => {
            r.error(
                "annee",
                "Indiquez l'année fiscale en quatre chiffres, par exemple 2025.",
            );
            None
        }
    }
}

fn dwellings(r: &mut Reader<'_>, posted: &Posted) -> Option<u32> {
    let text: String = posted
        .get("logements")
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}'))
        .collect();
    match text.parse::<u32>() {
        Ok(n) if (1..=DWELLINGS_MAX).contains(&n) => Some(n),
        _ => {
            r.error(
                "logements",
                "Indiquez le nombre de logements en chiffres, par exemple 1 180.",
            );
            None
        }
    }
}

/// The action chosen in a spending form: its programme and id, among the bailleur's own.
fn action_of(
    r: &mut Reader<'_>,
    ctx: &Ctx<'_>,
    posted: &Posted,
) -> Option<(TfpbProgrammeKey, TfpbActionId)> {
    let value = posted.get("action");
    let found = (|| {
        let mut parts = value.splitn(3, '|');
        let (q, y, id) = (parts.next()?, parts.next()?, parts.next()?);
        let key = TfpbProgrammeKey::new(ctx.bailleur, q, y.parse().ok()?);
        let id: TfpbActionId = id.parse().ok()?;
        let programme = ctx.projections.tfpb.programme(&key)?;
        programme
            .live_actions()
            .any(|a| a.spec.action_id == id)
            .then_some((key, id))
    })();
    if found.is_none() {
        r.error(
            "action",
            "Choisissez l'action dans la liste de vos actions.",
        );
    }
    found
}

fn read_action(r: &mut Reader<'_>, ctx: &Ctx<'_>, posted: &Posted) -> Option<TfpbProgrammeCommand> {
    let quartier = qpv(r, ctx, posted);
    let year = year(r, posted);
    let axis = {
        let value = posted.get("axe");
        if ctx.axes().iter().any(|(id, _)| id == value) {
            Some(value.to_string())
        } else {
            r.error("axe", "Choisissez l'axe du cadre national dans la liste.");
            None
        }
    };
    let label = r.text("libelle", "l'intitulé de l'action", false);
    if let Some(label) = &label {
        if label.chars().count() > LABEL_CHARS_MAX {
            r.error(
                "libelle",
                format!("L'intitulé est trop long ({LABEL_CHARS_MAX} caractères au plus)."),
            );
        } else if let (Some(q), Some(y)) = (&quartier, year) {
            let key = TfpbProgrammeKey::new(ctx.bailleur, q.clone(), y);
            // The same form sent again names its own action: the ledger records it once.
            let own_id = posted.get("action_id").parse::<TfpbActionId>().ok();
            let taken = ctx.projections.tfpb.programme(&key).is_some_and(|p| {
                p.live_actions().any(|a| {
                    label_key(&a.spec.label) == label_key(label) && Some(a.spec.action_id) != own_id
                })
            });
            if taken {
                r.error(
                    "libelle",
                    "Une action porte déjà cet intitulé dans ce programme (même QPV, même année) : choisissez-en un autre, ou déclarez une dépense sur l'action existante.",
                );
            }
        }
    }
    let description = r.text("description", "une description", true);
    let planned = r.positive_amount("prevu");
    let partners: Vec<String> = posted
        .get("partenaires")
        .split(['\n', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect();
    if partners.len() > PARTIES_MAX {
        r.error("partenaires", format!("{PARTIES_MAX} partenaires au plus."));
    }
    let shares = shares(r, ctx, posted, planned);
    let reason = r.text("motif", "le motif", true);
    let action_id = posted.get("action_id").parse::<TfpbActionId>().ok()?;
    let (quartier, year, axis, label, description, planned, shares, reason) = (
        quartier?,
        year?,
        axis?,
        label?,
        description?,
        planned?,
        shares?,
        reason?,
    );
    let programme = TfpbProgrammeKey::new(ctx.bailleur, quartier, year);
    let action = TfpbActionSpec {
        action_id,
        axis,
        label,
        description: Some(description).filter(|d| !d.is_empty()),
        planned_eur: planned,
        partners,
        shares,
    };
    Some(if reason.is_empty() {
        TfpbProgrammeCommand::PlanAction { programme, action }
    } else {
        TfpbProgrammeCommand::AddAction {
            programme,
            action,
            reason,
        }
    })
}

/// The shares of a cross-landlord action: « Bailleur : montant » per line, the bailleur by its
/// name or its id; they include the programme's bailleur and add up to the planned amount.
fn shares(
    r: &mut Reader<'_>,
    ctx: &Ctx<'_>,
    posted: &Posted,
    planned: Option<Amount>,
) -> Option<Vec<TfpbShare>> {
    let text = posted.get("parts");
    if text.is_empty() {
        return Some(Vec::new());
    }
    let bailleurs: Vec<(String, String)> = ctx
        .projections
        .referential
        .organisations()
        .filter(|o| o.kind == engagements_domain::referential::OrganisationKind::Bailleur)
        .map(|o| (o.id.clone(), o.name.clone()))
        .collect();
    let mut shares: Vec<TfpbShare> = Vec::new();
    for (index, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let n = index + 1;
        let Some((who, amount)) = line.rsplit_once(':') else {
            r.error("parts", format!("Ligne {n} : écrivez « Bailleur : montant », par exemple « Maisons & Cités : 4 000 »."));
            return None;
        };
        let who = who.trim();
        let Some((id, _)) = bailleurs
            .iter()
            .find(|(id, name)| id == who || label_key(name) == label_key(who))
        else {
            let names: Vec<&str> = bailleurs.iter().map(|(_, n)| n.as_str()).collect();
            r.error(
                "parts",
                format!(
                    "Ligne {n} : « {who} » n'est pas un bailleur du contrat ({}).",
                    names.join(", ")
                ),
            );
            return None;
        };
        let amount = match parse_amount_fr(amount) {
            Ok(a) => a,
            Err(message) => {
                r.error("parts", format!("Ligne {n} : {message}"));
                return None;
            }
        };
        if shares.iter().any(|s| &s.bailleur == id) {
            r.error("parts", format!("Ligne {n} : ce bailleur a déjà une part."));
            return None;
        }
        shares.push(TfpbShare {
            bailleur: id.clone(),
            planned_eur: amount,
        });
    }
    if shares.len() > SHARES_MAX {
        r.error("parts", format!("{SHARES_MAX} bailleurs au plus."));
        return None;
    }
    if !shares.iter().any(|s| s.bailleur == ctx.bailleur) {
        r.error(
            "parts",
            "Les parts doivent comprendre la vôtre : ajoutez une ligne à votre nom.",
        );
        return None;
    }
    let sum: Amount = shares.iter().map(|s| s.planned_eur).sum();
    if let Some(planned) = planned {
        if sum != planned {
            r.error(
                "parts",
                format!(
                    "Les parts font {} mais l'action prévoit {} : elles doivent être égales.",
                    crate::pages::format_eur(sum),
                    crate::pages::format_eur(planned)
                ),
            );
            return None;
        }
    }
    Some(shares)
}

/// A refusal of the ledger as a person reads it: the field it concerns (or the top of the form)
/// and a French sentence; `None` for a failure of the store (the error page).
pub(crate) fn refusal(kind: Kind, error: &CommandError) -> Option<(&'static str, String)> {
    let message = error.to_string();
    let has = |word: &str| message.contains(word);
    Some(match error {
        CommandError::Forbidden(_) => (
            "haut",
            "Votre organisation ne peut saisir que le TFPB de son propre bailleur.".to_string(),
        ),
        CommandError::CommandIdReused(_) => (
            "haut",
            "Ce formulaire a déjà servi à une autre saisie : rechargez la page et recommencez."
                .to_string(),
        ),
        CommandError::UnknownReference { .. } => (
            "haut",
            "Une référence (bailleur, QPV ou axe) n'existe pas dans le référentiel du contrat."
                .to_string(),
        ),
        CommandError::Rejected(_) | CommandError::Invalid(_) => {
            if has("labelled") || has("label") {
                (
                    "libelle",
                    "Une action porte déjà cet intitulé dans ce programme.".to_string(),
                )
            } else if has("shares") || has("share") {
                ("parts", "Les parts ne conviennent pas : elles comprennent la vôtre et font le montant prévu.".to_string())
            } else if has("outside tax year") {
                (
                    "date",
                    "Cette date n'est pas dans l'année fiscale du programme.".to_string(),
                )
            } else if has("no abatement is declared") {
                ("programme", "Déclarez d'abord l'abattement de ce programme (formulaire 1), puis transmettez le bilan.".to_string())
            } else if has("awaits its reviews") {
                ("programme", "Le bilan transmis attend les avis de l'État et de l'EPCI : une nouvelle transmission suit leurs remarques.".to_string())
            } else if has("is accepted by the State") {
                ("programme", "Ce bilan est déjà accepté par l'État et l'EPCI : déclarez les corrections comme de nouvelles dépenses.".to_string())
            } else if has("dwellings") {
                (
                    "logements",
                    "Ce nombre de logements n'est pas plausible.".to_string(),
                )
            } else if has("is a QIC") {
                ("qpv", "L'abattement TFPB ne s'applique qu'en QPV, pas dans un quartier d'intérêt communautaire.".to_string())
            } else if has("at most") && kind == Kind::Action {
                (
                    "haut",
                    "Ce programme a atteint le nombre maximal d'actions.".to_string(),
                )
            } else {
                ("haut", "Le registre a refusé cette saisie : une règle du contrat l'empêche. Vérifiez les valeurs et recommencez.".to_string())
            }
        }
        CommandError::Append(_) | CommandError::Store(_) => return None,
    })
}
