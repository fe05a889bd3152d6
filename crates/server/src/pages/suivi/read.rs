//! A posted form read into the commands it records (with their act: the convention, the mandat,
//! the CPO), and the ledger's refusals as a person reads them, under their field.

use engagements_app::{CommandError, CommandMeta};
use engagements_domain::cpo::{CpoCommand, CpoId, CpoLine};
use engagements_domain::dossier::{ActOfGrant, DossierCommand, GrantChange, PaymentKind};
use engagements_domain::{ActKind, ActRef, LedgerCommand};

use super::{Ctx, Kind, Target};
use crate::pages::entry::Reader;
use crate::pages::forms::{refusal_fr, FieldErrors, Posted};

/// The commands a posted form records, with their metadata; the errors name their fields.
pub(super) fn read(
    kind: Kind,
    ctx: &Ctx<'_>,
    target: &Target,
    posted: &Posted,
) -> Result<Vec<(LedgerCommand, CommandMeta)>, FieldErrors> {
    let form_id = target.form_id(kind);
    let mut r = Reader::new(&form_id, posted);
    let dossier_id = ctx.filing.dossier_id;
    let financeur = target.financeur.clone();
    let dispositif = target.dispositif();
    let meta = |act: Option<ActRef>| CommandMeta {
        command_id: posted.get("command_id").parse().ok(),
        act,
        ..CommandMeta::default()
    };
    let one = |command: DossierCommand, act: Option<ActRef>| {
        vec![(LedgerCommand::Dossier(command), meta(act))]
    };
    let commands = match kind {
        Kind::Convention => {
            let act = r.choice(
                "nature",
                &[
                    ("convention", ActOfGrant::Convention),
                    ("arrete", ActOfGrant::Arrete),
                ],
                "Choisissez la nature de l'acte : convention ou arrêté attributif.",
            );
            let number = r.text("numero", "le numéro de l'acte", false);
            let signed_on = r.date("signe_le");
            match (act, number, signed_on) {
                (Some(kind), Some(number), Some(signed_on)) => {
                    let act_kind = match kind {
                        ActOfGrant::Convention => ActKind::Convention,
                        ActOfGrant::Arrete => ActKind::Arrete,
                    };
                    let act = ActRef {
                        kind: act_kind,
                        reference: number.clone(),
                        date: Some(signed_on),
                    };
                    Some(one(
                        DossierCommand::SignConvention {
                            dossier_id,
                            financeur,
                            kind,
                            number,
                            signed_on,
                        },
                        Some(act),
                    ))
                }
                _ => None,
            }
        }
        Kind::Paiement => {
            let payment = r.choice(
                "nature",
                &[
                    ("avance", PaymentKind::Avance),
                    ("acompte", PaymentKind::Acompte),
                    ("solde", PaymentKind::Solde),
                ],
                "Choisissez la nature du paiement : avance, acompte ou solde.",
            );
            let amount = r.positive_amount("montant");
            let paid_on = r.date("paye_le");
            let mandate = r.text("mandat", "la référence du mandat de paiement", false);
            match (payment, amount, paid_on, mandate) {
                (Some(kind), Some(amount), Some(paid_on), Some(mandate_reference)) => {
                    let act = ActRef {
                        kind: ActKind::Mandat,
                        reference: mandate_reference.clone(),
                        date: Some(paid_on),
                    };
                    Some(one(
                        DossierCommand::RecordPayment {
                            dossier_id,
                            financeur,
                            dispositif,
                            kind,
                            amount,
                            paid_on,
                            mandate_reference,
                        },
                        Some(act),
                    ))
                }
                _ => None,
            }
        }
        Kind::Crf => {
            let received_on = r.date("recu_le");
            let budget = r.optional_amount("budget_realise");
            let expenses = r.optional_amount("depenses");
            let used = r.optional_amount("part_utilisee");
            let comment = r.text("commentaire", "", true);
            match (received_on, budget, expenses, used, comment) {
                (
                    Some(received_on),
                    Some(budget_realised),
                    Some(expenses),
                    Some(grant_used),
                    Some(comment),
                ) => Some(one(
                    DossierCommand::ReceiveCrf {
                        dossier_id,
                        received_on,
                        budget_realised,
                        expenses,
                        grant_used,
                        comment: Some(comment).filter(|c| !c.is_empty()),
                    },
                    None,
                )),
                _ => None,
            }
        }
        Kind::Modification => {
            let change = r.choice(
                "nature",
                &[
                    ("reduce", GrantChange::Reduce),
                    ("increase", GrantChange::Increase),
                    ("cancel", GrantChange::Cancel),
                ],
                "Choisissez la modification : réduction, augmentation ou annulation.",
            );
            let amount = match change {
                Some(GrantChange::Cancel) => Some(None),
                _ => r.positive_amount("montant").map(Some),
            };
            let decided_on = r.date("decide_le");
            let reason = r.text("motif", "le motif de la modification", false);
            match (change, amount, decided_on, reason) {
                (Some(change), Some(amount), Some(decided_on), Some(reason)) => Some(one(
                    DossierCommand::ChangeGrant {
                        dossier_id,
                        financeur,
                        dispositif,
                        change,
                        amount,
                        reason,
                        decided_on,
                    },
                    None,
                )),
                _ => None,
            }
        }
        Kind::Reversement => {
            let amount = r.positive_amount("montant");
            let ordered_on = r.date("demande_le");
            let reason = r.text("motif", "le motif du reversement", false);
            match (amount, ordered_on, reason) {
                (Some(amount), Some(ordered_on), Some(reason)) => Some(one(
                    DossierCommand::OrderReversement {
                        dossier_id,
                        financeur,
                        dispositif,
                        amount,
                        reason,
                        ordered_on,
                    },
                    None,
                )),
                _ => None,
            }
        }
        Kind::ReversementRecu => {
            let amount = r.positive_amount("montant");
            let received_on = r.date("recu_le");
            match (amount, received_on) {
                (Some(amount), Some(received_on)) => Some(one(
                    DossierCommand::ReceiveReversement {
                        dossier_id,
                        financeur,
                        dispositif,
                        amount,
                        received_on,
                    },
                    None,
                )),
                _ => None,
            }
        }
        Kind::Cpo => read_cpo(&mut r, ctx, target, posted),
        Kind::CpoAnnee => target.cpo.map(|cpo_id| {
            vec![(
                LedgerCommand::Cpo(CpoCommand::ConfirmYear {
                    cpo_id,
                    exercice: ctx.filing.exercice,
                    dossier_id,
                }),
                meta(None),
            )]
        }),
        Kind::Retrait => r
            .text("motif", "le motif du retrait", false)
            .map(|reason| one(DossierCommand::Withdraw { dossier_id, reason }, None)),
    };
    match commands {
        Some(commands) if r.errors.is_empty() => Ok(commands),
        _ => {
            if r.errors.is_empty() {
                r.error("ligne", "Le formulaire est incomplet : rechargez la page.");
            }
            Err(r.errors)
        }
    }
}

/// A CPO signed with the porteur (year 1 this dossier's exercice) and year 1 confirmed with this
/// dossier: two commands, recorded together or not at all.
fn read_cpo(
    r: &mut Reader<'_>,
    ctx: &Ctx<'_>,
    target: &Target,
    posted: &Posted,
) -> Option<Vec<(LedgerCommand, CommandMeta)>> {
    let title = r.text("intitule", "l'intitulé de la CPO", false);
    let number = r.text("numero", "le numéro de la CPO", false);
    let signed_on = r.date("signe_le");
    let first = r.positive_amount("annee_1");
    let second = r.optional_amount("annee_2");
    let third = r.optional_amount("annee_3");
    let cpo_id: Option<CpoId> = posted.get("cpo_id").parse().ok();
    let (title, number, signed_on, first, second, third, cpo_id) = (
        title?, number?, signed_on?, first?, second?, third?, cpo_id?,
    );
    let year = ctx.filing.exercice;
    let schedule: Vec<CpoLine> = [(year, Some(first)), (year + 1, second), (year + 2, third)]
        .into_iter()
        .filter_map(|(exercice, amount)| {
            amount.filter(|a| !a.is_zero()).map(|amount| CpoLine {
                exercice,
                financeur: target.financeur.clone(),
                dispositif: target.dispositif.clone(),
                amount,
            })
        })
        .collect();
    let act = ActRef {
        kind: ActKind::Convention,
        reference: number.clone(),
        date: Some(signed_on),
    };
    Some(vec![
        (
            LedgerCommand::Cpo(CpoCommand::Sign {
                cpo_id,
                porteur_id: ctx.filing.porteur_id,
                title,
                number,
                signed_on,
                first_exercice: year,
                schedule,
            }),
            CommandMeta {
                command_id: posted.get("command_id").parse().ok(),
                act: Some(act.clone()),
                ..CommandMeta::default()
            },
        ),
        (
            LedgerCommand::Cpo(CpoCommand::ConfirmYear {
                cpo_id,
                exercice: year,
                dossier_id: ctx.filing.dossier_id,
            }),
            CommandMeta {
                command_id: posted.get("confirm_command_id").parse().ok(),
                act: Some(act),
                ..CommandMeta::default()
            },
        ),
    ])
}

/// A refusal of the ledger as a person reads it, under the field it concerns.
pub(super) fn refusal(error: &CommandError) -> Option<(&'static str, String)> {
    if let CommandError::Forbidden(_) = error {
        return Some((
            "ligne",
            "Votre organisation ne peut pas agir pour ce financeur : seul le financeur concerné \
             (ou l'équipe du contrat) le peut."
                .to_string(),
        ));
    }
    let message = error.to_string();
    let has = |words: &str| message.contains(words);
    let known: Option<(&'static str, &str)> = if has("a signed convention is required") {
        Some(("ligne", "Une convention signée est requise avant tout paiement : ce porteur reçoit plus de 23 000 € de ce financeur dans l'exercice (loi n° 2000-321, art. 10). Enregistrez d'abord la convention."))
    } else if has("would bring payments to") {
        Some(("montant", "Ce paiement dépasse le reste à payer : les paiements ne peuvent pas dépasser le montant accordé."))
    } else if has("solde of") {
        Some((
            "nature",
            "Le solde est déjà payé : plus aucun paiement sur cette subvention.",
        ))
    } else if has("precedes the decision") {
        Some((
            "paye_le",
            "Un paiement ne peut pas précéder la décision qui accorde la subvention.",
        ))
    } else if has("has already signed") {
        Some((
            "numero",
            "Un acte est déjà signé pour ce financeur sur ce dossier.",
        ))
    } else if has("below the") && has("already paid") {
        Some(("montant", "Cette réduction laisserait moins que ce qui est déjà payé : demandez d'abord un reversement."))
    } else if has("cancelling the grant is impossible") {
        Some(("nature", "L'annulation est impossible tant qu'une somme reste payée : demandez et recevez d'abord un reversement."))
    } else if has("above the envelope") {
        Some(("montant", "Cette augmentation dépasse l'enveloppe du financeur pour ce dispositif et cet exercice."))
    } else if has("reversements ordered to") {
        Some(("montant", "Ce reversement dépasse ce qui a été payé."))
    } else if has("reversements received to") {
        Some(("montant", "Ce montant dépasse le reversement demandé."))
    } else if has("of the grant used") {
        Some((
            "part_utilisee",
            "La part utilisée dépasse le montant accordé sur ce dossier.",
        ))
    } else if has("CRF of dossier") {
        Some((
            "recu_le",
            "Le compte rendu financier de ce dossier est déjà enregistré.",
        ))
    } else if has("cancel the grants before withdrawing") {
        Some((
            "motif",
            "Ce dossier a encore des subventions accordées : annulez-les avant de le retirer.",
        ))
    } else if has("changes nothing") {
        Some(("montant", "Indiquez un montant supérieur à zéro."))
    } else if has("is already confirmed") || has("already signed") {
        Some((
            "ligne",
            "Cette CPO ou cette année de CPO est déjà enregistrée.",
        ))
    } else if has("mandate_reference") {
        Some((
            "mandat",
            "La référence du mandat est vide ou trop longue (1 000 caractères au plus).",
        ))
    } else if has("number is empty") {
        Some(("numero", "Le numéro est vide ou trop long."))
    } else if has("reason is empty") {
        Some((
            "motif",
            "Le motif est vide ou trop long (1 000 caractères au plus).",
        ))
    } else {
        None
    };
    if let Some((field, text)) = known {
        return Some((field, text.to_string()));
    }
    let (_, text) = refusal_fr(error)?;
    Some(("ligne", text))
}
