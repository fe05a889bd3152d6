//! What people read: the French label of every report column and of every coded value, and
//! numbers and dates written the French way. Machine interfaces (JSON keys, machine CSV, event
//! types) keep the stable English keys; pages, CSV and spreadsheets meant for people go through
//! this catalogue, so that a new column or status cannot reach a person untranslated (a test
//! checks every table of the demo ledger against it).

use chrono::NaiveDate;
use engagements_domain::Amount;

use crate::table::{Cell, Table};

/// Column key → French header.
const COLUMNS: &[(&str, &str)] = &[
    ("abatement_eur", "Abattement (€)"),
    ("action_id", "Action (identifiant)"),
    ("actions", "Actions"),
    ("ambition", "Ambition"),
    ("amount_eur", "Montant (€)"),
    ("amount_period", "Périodicité du montant"),
    ("axis", "Axe (identifiant)"),
    ("axis_name", "Axe"),
    ("axis_label", "Axe du cadre national"),
    ("baseline", "Situation de départ"),
    ("baselines", "Situations de départ"),
    ("bailleur", "Bailleur (identifiant)"),
    ("bailleur_name", "Bailleur"),
    ("bailleurs", "Bailleurs"),
    ("bilan", "Bilan"),
    ("carriers", "Porteurs de l'engagement partagé"),
    ("carry_over_eur", "Report des années précédentes (€)"),
    ("caveats", "Réserves"),
    ("cer_signed_on", "Contrat d'engagement républicain signé le"),
    ("commitment_id", "Engagement"),
    ("commitments", "Engagements"),
    ("commune", "Commune (identifiant)"),
    ("commune_name", "Commune"),
    ("convention", "Convention ou arrêté"),
    ("coverage", "Moyens mobilisés"),
    (
        "commitments_reported",
        "Engagements avec un point d'avancement",
    ),
    ("dossier_titles", "Dossiers qui la servent"),
    ("piste", "Piste (identifiant)"),
    ("piste_level", "Échelle de la piste"),
    ("piste_text", "Piste d'action"),
    ("pistes", "Pistes d'action"),
    ("pistes_served", "Pistes servies par un dossier"),
    ("cpo_forecast_eur", "Prévisions CPO (€)"),
    ("crf_missing", "CRF manquants"),
    ("crf_received_on", "CRF reçu le"),
    ("detail", "Détail"),
    ("dispositif", "Dispositif (identifiant)"),
    ("dispositif_name", "Dispositif"),
    ("dossier_id", "Dossier"),
    ("dossier_status", "État du dossier"),
    ("dossiers", "Dossiers"),
    ("dwellings", "Logements"),
    ("enjeu", "Enjeu"),
    ("envelope_eur", "Enveloppe (€)"),
    ("envelope_left_eur", "Reste disponible (€)"),
    ("exercice", "Exercice"),
    ("external_ids", "Identifiants externes"),
    ("financeur", "Financeur (identifiant)"),
    ("financeur_name", "Financeur"),
    ("flag", "Alerte"),
    ("flags", "Alertes"),
    ("gap_eur", "Écart réalisé − abattement (€)"),
    ("indicator_id", "Indicateur"),
    ("granted_eur", "Accordé (€)"),
    ("kind", "Nature"),
    ("label", "Libellé"),
    ("latest_comment", "Dernier commentaire"),
    ("latest_period", "Dernière période"),
    ("latest_realised_value", "Dernière valeur réalisée"),
    ("latest_unit", "Unité"),
    ("latest_value", "Dernière valeur"),
    ("left_to_pay_eur", "Reste à payer (€)"),
    ("local", "Local"),
    ("name", "Nom"),
    ("objectif", "Objectif n°"),
    ("objectif_title", "Objectif"),
    ("objectifs", "Objectifs"),
    ("opinion", "Avis"),
    ("over_commitment_authorised_eur", "Dépassement autorisé (€)"),
    ("over_committed_eur", "Dépassement de l'enveloppe (€)"),
    ("paid_eur", "Payé (€)"),
    ("partners", "Partenaires"),
    ("period", "Période"),
    ("planned_eur", "Prévu (€)"),
    ("porteur_id", "Porteur (identifiant)"),
    ("porteur_kind", "Type de porteur"),
    ("porteur_name", "Porteur"),
    ("programme", "Programme ou dispositif (identifiant)"),
    ("programme_name", "Programme ou dispositif"),
    ("progress_reports", "Points d'avancement"),
    ("proposed_eur", "Proposé (€)"),
    ("quartier", "Quartier"),
    ("quartier_kind", "Type de quartier"),
    ("quartier_name", "Nom du quartier"),
    ("quartiers", "Quartiers"),
    ("realised_eur", "Réalisé (€)"),
    ("engagement_rate_pct", "Taux d'engagement (%)"),
    ("realised_ratio_pct", "Réalisé / abattement (%)"),
    ("realised_share_pct", "Part du réalisé (%)"),
    ("recorded_by", "Enregistré par (identifiant)"),
    ("recorded_by_name", "Enregistré par"),
    ("rule", "Règle"),
    ("position", "N° d'événement"),
    ("recorded_at", "Enregistré le (UTC)"),
    ("effective_date", "Date d'effet"),
    ("actor", "Opérateur (qui a enregistré)"),
    ("organisation", "Organisation de l'opérateur"),
    ("actor_id", "Opérateur (identifiant pseudonyme)"),
    ("on_behalf_of", "Pour le compte de"),
    (
        "on_behalf_of_id",
        "Pour le compte de (identifiant pseudonyme)",
    ),
    (
        "on_behalf_of_organisation",
        "Organisation pour le compte de laquelle",
    ),
    ("act", "Acte"),
    ("stream_id", "Objet (flux)"),
    ("event_type", "Événement"),
    ("command_id", "Commande"),
    ("correlation_id", "Corrélation"),
    ("causation_id", "Cause"),
    ("payload", "Contenu enregistré (JSON)"),
    ("prev_hash", "Empreinte précédente"),
    ("hash", "Empreinte"),
    ("subject", "Objet"),
    ("description", "Description"),
    ("evidence_positions", "Événements probants (positions)"),
    ("refused_eur", "Refusé (€)"),
    ("requested_eur", "Demandé (€)"),
    ("reversed_eur", "Reversé (€)"),
    ("reversement_ordered_eur", "Reversement demandé (€)"),
    ("retired", "Retiré"),
    ("revisions", "Révisions"),
    ("rna", "RNA"),
    ("scope", "Périmètre"),
    ("scope_ref", "Précision du périmètre"),
    ("service", "Service"),
    ("shared_by_quartiers", "Partagé entre quartiers"),
    ("signatory", "Signataire (identifiant)"),
    ("signatory_name", "Signataire"),
    ("siret", "SIRET"),
    ("source_lines", "Lignes du contrat"),
    ("staff_count", "Effectif"),
    ("staff_unit", "Nature des moyens humains"),
    ("status", "Statut"),
    ("target", "Cible"),
    ("targets", "Cibles chiffrées"),
    ("title", "Intitulé"),
    ("unit", "Unité"),
    ("values", "Valeurs"),
    ("year", "Année"),
    ("act_kind", "Nature de l'acte"),
    ("act_reference", "Référence de l'acte"),
    ("change", "Modification"),
    ("id", "Identifiant"),
    ("decided_by", "Instance de décision"),
    ("duration", "Durée"),
    ("financeurs", "Financeurs"),
    ("item", "Élément"),
    ("reference_scope", "Territoire de comparaison"),
    ("reference_value", "Valeur de comparaison"),
    ("text", "Texte"),
    ("theme", "Thème"),
    ("value", "Valeur"),
    ("chaired_by", "Présidence"),
    ("composition", "Composition"),
    ("level", "Échelle"),
    ("meets", "Réunions"),
    ("min_meetings_per_year", "Réunions par an (au moins)"),
    ("role", "Rôle"),
    ("attendees", "Participants"),
    ("body", "Instance (identifiant)"),
    ("body_name", "Instance"),
    ("date", "Date"),
    ("decisions", "Décisions"),
    ("ambition_title", "Intitulé de l'ambition"),
    ("enjeu_title", "Intitulé de l'enjeu"),
    ("number", "Numéro"),
    ("representatives", "Représentants"),
    ("signatory_group", "Groupe de signataires"),
    ("code", "Code"),
    ("communes", "Communes"),
    ("population", "Population"),
    (
        "population_change_since_2014",
        "Évolution de la population depuis 2014",
    ),
    ("key", "Élément"),
];

/// Coded value → French label. One meaning per code across the tables (a status reads the same
/// wherever it appears).
const VALUES: &[(&str, &str)] = &[
    // Lines and dossiers.
    ("requested", "demandé"),
    ("adjourned", "ajourné"),
    ("refused", "refusé"),
    ("granted", "accordé"),
    ("cancelled", "annulé"),
    ("filed", "déposé"),
    ("withdrawn", "retiré"),
    ("scdl_subventions", "SCDL subventions"),
    ("favourable", "favorable"),
    ("reserved", "réservé"),
    ("unfavourable", "défavorable"),
    ("avance", "avance"),
    ("state", "État"),
    ("acompte", "acompte"),
    ("solde", "solde"),
    ("convention", "convention"),
    ("arrete", "arrêté attributif"),
    ("increase", "augmentation"),
    ("reduce", "réduction"),
    ("cancel", "annulation"),
    ("chorus_ej", "engagement juridique Chorus"),
    ("dauphin_dossier", "dossier Dauphin"),
    ("gispro_projet", "projet GISPRO"),
    ("programmation", "référence de la programmation"),
    // Porteurs and quartiers.
    ("association", "association"),
    ("bailleur", "bailleur"),
    ("ccas", "CCAS"),
    ("commune", "commune"),
    ("other", "autre"),
    ("qpv", "QPV"),
    ("qic", "QIC"),
    // Commitments.
    ("active", "en cours"),
    ("pending", "en attente"),
    ("fulfilled", "tenu"),
    ("lapsed", "caduc"),
    ("revised", "révisé"),
    ("condition", "condition"),
    ("financial", "financier"),
    ("governance", "gouvernance"),
    ("programme", "programme"),
    ("qualitative", "qualitatif"),
    ("staffing", "moyens humains"),
    ("per_year", "par an"),
    ("total", "total"),
    ("cabbalr", "agglomération"),
    ("departement", "département"),
    ("region", "région"),
    ("national", "national"),
    ("quartier", "quartier"),
    ("yes", "oui"),
    // Evaluation.
    (
        "credits_and_commitments",
        "crédits spécifiques et droit commun",
    ),
    ("credits_only", "crédits spécifiques seulement"),
    ("commitments_only", "droit commun seulement"),
    ("nothing", "ni crédit ni engagement"),
    ("objectif", "objectif"),
    ("intercommunal", "intercommunale"),
    ("communal", "communale"),
    ("local total", "total local"),
    ("no", "non"),
    // TFPB.
    ("planned", "prévue"),
    ("added", "ajoutée"),
    ("dropped", "abandonnée"),
    ("not_submitted", "non remis"),
    ("submitted", "remis"),
    ("remarks", "remarques"),
    ("accepted", "accepté"),
    (
        "realised_below_abatement",
        "réalisé inférieur à l'abattement",
    ),
    ("bilan_late", "bilan en retard"),
    ("spending_not_covered", "dépense hors convention"),
    // Findings (the rules of the audit).
    ("payment-above-grant", "versement supérieur à l'accordé"),
    (
        "payment-without-convention",
        "versement sans convention au-delà de 23 000 €",
    ),
    ("crf-overdue", "compte rendu financier en retard"),
    (
        "grant-with-overdue-crf",
        "subvention malgré un compte rendu financier en retard",
    ),
    ("envelope-over-committed", "enveloppe dépassée"),
    ("reversement-not-received", "reversement non reçu"),
    ("qic-bop147-over-cap", "BOP 147 en QIC au-delà de 2,5 %"),
    (
        "qic-bop147-without-cofinancing",
        "BOP 147 en QIC sans cofinancement local",
    ),
    (
        "tfpb-realised-below-abatement",
        "TFPB : réalisé inférieur à l'abattement",
    ),
    ("tfpb-bilan-late", "TFPB : bilan en retard"),
    (
        "grant-not-published",
        "subvention non publiée en données ouvertes",
    ),
    ("deliberation", "délibération"),
    ("comite", "décision d'un comité"),
    ("avenant", "avenant"),
    ("mandat", "mandat de paiement"),
    ("etat", "État"),
    ("epci", "EPCI"),
    ("institution", "institution"),
    ("principal", "signataire principal"),
    ("institutional_partner", "partenaire institutionnel"),
    ("orientation", "orientation"),
    ("constat", "constat"),
    ("contract", "Contrat"),
    ("name", "Nom"),
    ("period", "Période"),
    ("approved_by", "Approuvé par"),
    ("approved_on", "Approuvé le"),
    ("executory_on", "Exécutoire le"),
    ("content_hash", "Empreinte du référentiel"),
    ("quartiers", "Quartiers"),
    ("qpv_population", "Population des QPV"),
    ("qic_population", "Population des QIC"),
    ("communes", "Communes"),
    ("organisations", "Organisations"),
    ("representatives", "Représentants"),
    ("enjeux", "Enjeux"),
    ("ambitions", "Ambitions"),
    ("objectifs", "Objectifs"),
    ("enjeux_transversaux", "Enjeux transversaux"),
    ("orientations_transversales", "Orientations transversales"),
    ("governance_bodies", "Instances de gouvernance"),
    ("groupes_appui_thematiques", "Groupes d'appui thématiques"),
    ("dispositifs", "Dispositifs"),
    ("tfpb_axes", "Axes TFPB"),
];

/// Event type → what happened, in French (history, timelines, bundles for people).
const EVENTS: &[(&str, &str)] = &[
    ("DossierFiled", "Dossier déposé"),
    ("DossierAmended", "Dossier modifié"),
    ("DossierWithdrawn", "Dossier retiré par le porteur"),
    ("OpinionGiven", "Avis du service instructeur"),
    ("SubsidyGranted", "Subvention accordée"),
    ("SubsidyRefused", "Subvention refusée"),
    ("DecisionAdjourned", "Décision ajournée"),
    ("SubsidyReduced", "Subvention réduite"),
    ("SubsidyIncreased", "Subvention augmentée"),
    ("SubsidyCancelled", "Subvention annulée"),
    ("ConventionSigned", "Convention ou arrêté signé"),
    ("PaymentRecorded", "Versement"),
    ("CrfReceived", "Compte rendu financier reçu"),
    (
        "ReversementOrdered",
        "Reversement demandé (titre de recettes)",
    ),
    ("ReversementReceived", "Reversement reçu"),
    (
        "ExternalIdRecorded",
        "Identifiant d'un autre système enregistré",
    ),
    ("EnvelopeOpened", "Enveloppe ouverte"),
    ("EnvelopeRaised", "Enveloppe augmentée"),
    ("EnvelopeLowered", "Enveloppe diminuée"),
    (
        "OverCommitmentAuthorised",
        "Dépassement d'enveloppe autorisé",
    ),
    ("EnvelopeCommitted", "Montant engagé sur l'enveloppe"),
    ("EnvelopeReleased", "Montant libéré sur l'enveloppe"),
    ("CpoSigned", "CPO signée"),
    ("CpoYearConfirmed", "Année de CPO confirmée"),
    ("CpoRevised", "CPO révisée"),
    ("CpoTerminated", "CPO résiliée"),
    ("PorteurRegistered", "Porteur enregistré"),
    (
        "ContratEngagementRepublicainSigned",
        "Contrat d'engagement républicain signé",
    ),
    ("ContractPublished", "Contrat publié"),
    ("QuartiersPublished", "Quartiers publiés"),
    ("CommunesPublished", "Communes publiées"),
    ("OrganisationsPublished", "Signataires publiés"),
    (
        "StrategyPublished",
        "Stratégie publiée (enjeux, ambitions, objectifs)",
    ),
    ("DispositifsPublished", "Dispositifs publiés"),
    ("TfpbAxesPublished", "Axes du cadre national TFPB publiés"),
    ("QuartierAdded", "Quartier ajouté par avenant"),
    ("CommuneAdded", "Commune ajoutée par avenant"),
    (
        "QuartierPopulationChanged",
        "Population d'un quartier modifiée par avenant",
    ),
    ("ObjectifRenamed", "Objectif renommé par avenant"),
    ("SignatoryAdded", "Signataire ajouté par avenant"),
    (
        "ReferentialSupplemented",
        "Référentiel complété (instances, orientations transversales)",
    ),
    (
        "GovernanceMeetingRecorded",
        "Réunion d'une instance de gouvernance",
    ),
    ("CommitmentPledged", "Engagement de droit commun pris"),
    ("CommitmentRevised", "Engagement révisé"),
    (
        "CommitmentProgressReported",
        "Avancement d'un engagement déclaré",
    ),
    ("CommitmentFulfilled", "Engagement tenu"),
    ("CommitmentLapsed", "Engagement devenu caduc"),
    ("CommitmentWithdrawn", "Engagement retiré"),
    (
        "ContributionDeclaredPending",
        "Contribution « en attente » déclarée",
    ),
    ("IndicatorDefined", "Indicateur défini"),
    ("IndicatorValueReported", "Valeur d'indicateur déclarée"),
    ("IndicatorRetired", "Indicateur retiré"),
    ("TfpbConventionSigned", "Convention TFPB signée"),
    ("TfpbConventionAmended", "Convention TFPB modifiée"),
    ("TfpbConventionTerminated", "Convention TFPB résiliée"),
    ("TfpbAbatementDeclared", "Abattement TFPB déclaré"),
    ("TfpbAbatementCorrected", "Abattement TFPB corrigé"),
    ("TfpbActionPlanned", "Action TFPB programmée"),
    ("TfpbActionAdded", "Action TFPB ajoutée en cours d'année"),
    (
        "TfpbShareConfirmed",
        "Part d'une action partagée confirmée par son bailleur",
    ),
    ("TfpbActionDropped", "Action TFPB abandonnée"),
    ("TfpbSpendingReported", "Dépense TFPB déclarée"),
    ("TfpbSpendingCorrected", "Dépense TFPB corrigée"),
    ("TfpbBilanSubmitted", "Bilan TFPB remis"),
    ("TfpbBilanAccepted", "Bilan TFPB accepté"),
    ("TfpbBilanRemarked", "Bilan TFPB : remarques"),
    (
        "ComiteSessionPrepared",
        "Séance du comité des financeurs préparée",
    ),
    (
        "ComiteSessionHeld",
        "Décisions de la séance du comité enregistrées",
    ),
    ("CheckpointSigned", "Point de contrôle signé"),
    ("SigningKeyRecorded", "Clé de signature enregistrée"),
    ("SigningKeyRotated", "Clé de signature remplacée"),
    ("OpenDataPublished", "Publication en données ouvertes"),
];

/// The French names of the report tables (workbook sheets, at most 31 characters).
const TABLES: &[(&str, &str)] = &[
    ("signatory", "Par financeur"),
    ("quartier", "Par quartier"),
    ("objective", "Par objectif"),
    ("commune", "Par commune"),
    ("porteur", "Par porteur"),
    ("porteurs", "Porteurs"),
    ("dossiers", "Dossiers"),
    ("commitments", "Engagements droit commun"),
    ("commitments-quartiers", "Droit commun par quartier"),
    ("commitments-totals", "Droit commun : totaux"),
    ("indicators", "Indicateurs"),
    ("tfpb", "TFPB par bailleur"),
    ("tfpb-quartiers", "TFPB par quartier"),
    ("tfpb-axes", "TFPB par axe"),
    ("tfpb-flags", "TFPB : alertes"),
    ("tfpb-actions", "TFPB : actions"),
    ("tfpb_axes", "Axes TFPB"),
    ("quartiers", "Quartiers"),
    ("communes", "Communes"),
    ("organisations", "Organisations"),
    ("objectifs", "Objectifs"),
    ("dispositifs", "Dispositifs"),
    ("avenants", "Avenants"),
    ("referential", "Référentiel"),
    ("evaluation-objectifs", "Évaluation par objectif"),
    ("evaluation-objectifs-financeurs", "Objectifs par financeur"),
    ("evaluation-quartiers", "Évaluation par quartier"),
    ("evaluation-quartiers-financeurs", "Quartiers par financeur"),
    ("evaluation-engagements", "Droit commun"),
    ("evaluation-tfpb", "TFPB par quartier et année"),
    ("evaluation-pistes", "Pistes d'action"),
    ("evaluation-sans-moyens", "Sans crédit ni engagement"),
    ("enjeux_transversaux", "Enjeux transversaux"),
    ("governance_bodies", "Instances de gouvernance"),
    ("governance_meetings", "Réunions des instances"),
    ("history", "Historique"),
    ("financeurs", "Synthèse par financeur"),
    ("findings", "Constats"),
];

/// French names of the fields of event payloads, where they differ from (or are missing in) the
/// report columns: what a trail says of an event no dedicated description covers.
const FIELDS: &[(&str, &str)] = &[
    ("action", "Action"),
    ("ambitions", "Ambitions"),
    ("amount", "Montant"),
    ("approval", "Approbation"),
    ("axes", "Axes"),
    ("axis", "Axe"),
    ("bailleur", "Bailleur"),
    ("comite", "Comité"),
    ("comment", "Commentaire"),
    ("committed_after", "Engagé après"),
    ("content_hash", "Empreinte SHA-256 du référentiel"),
    ("contract", "Contrat"),
    ("contract_lines", "Lignes du contrat"),
    ("decided_on", "Décidé le"),
    ("dispositifs", "Dispositifs"),
    ("enjeux", "Enjeux"),
    ("enjeux_transversaux", "Enjeux transversaux"),
    ("epci", "EPCI"),
    ("evaluation", "Dispositions d'évaluation"),
    ("evidence", "Justificatif"),
    ("files", "Fichiers de données"),
    ("first_exercice", "Premier exercice"),
    ("framework", "Cadre national"),
    ("governance_bodies", "Instances de gouvernance"),
    ("granted_after", "Accordé après"),
    ("groupes_appui_thematiques", "Groupes d'appui thématiques"),
    ("legal_basis", "Fondements juridiques"),
    ("line", "Ligne"),
    ("mandate_reference", "Référence du mandat"),
    ("name_in_source", "Nom dans le contrat"),
    ("note", "Note"),
    ("objectif_links", "Objectifs liés"),
    ("ordered_on", "Ordonné le"),
    ("organisations", "Organisations"),
    ("paid_on", "Payé le"),
    ("programme", "Programme"),
    ("proposed_amount", "Montant proposé"),
    ("quartier", "Quartier"),
    ("reason", "Motif"),
    ("received_on", "Reçu le"),
    ("reference", "Référence"),
    ("remarks", "Remarques"),
    ("representatives", "Représentants"),
    ("requests", "Demandes"),
    ("reviewed_on", "Examiné le"),
    ("reviewer", "Examiné par"),
    ("reviewer_kind", "Nature de l'examinateur"),
    ("schedule", "Échéancier"),
    ("shares", "Parts des bailleurs"),
    ("signatories", "Signataires"),
    ("signatory", "Signataire"),
    ("signed_on", "Signé le"),
    ("spent_on", "Dépensé le"),
    ("strategy", "Stratégie"),
    ("submission", "Dépôt n°"),
    ("submitted_on", "Déposé le"),
    ("terms", "Termes de l'engagement"),
    ("tfpb", "Cadre national TFPB"),
    ("total_budget", "Budget total"),
    ("totals", "Totaux"),
    ("year", "Année"),
    ("year_first", "Première année"),
    ("year_last", "Dernière année"),
];

/// The French name of an event payload's field: its own, else the report column's.
pub fn field(key: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, l)| *l)
        .or_else(|| column(key))
}

/// The French name of report table `name` (a workbook's sheet name).
pub fn table(name: &str) -> Option<&'static str> {
    TABLES.iter().find(|(k, _)| *k == name).map(|(_, l)| *l)
}

/// What an event type means, in French.
pub fn event(event_type: &str) -> Option<&'static str> {
    EVENTS
        .iter()
        .find(|(k, _)| *k == event_type)
        .map(|(_, l)| *l)
}

/// Columns whose values are codes: each value must have a label.
const CODED_COLUMNS: &[&str] = &[
    "act_kind",
    "amount_period",
    "bilan",
    "coverage",
    "dossier_status",
    "flag",
    "item",
    "key",
    "kind",
    "level",
    "local",
    "opinion",
    "piste_level",
    "porteur_kind",
    "quartier_kind",
    "rule",
    "scope",
    "signatory_group",
    "status",
];

/// Columns whose values are lists of codes separated by `, ` or `; `.
const CODED_LIST_COLUMNS: &[&str] = &["flags"];

/// The French header of column `key`.
pub fn column(key: &str) -> Option<&'static str> {
    COLUMNS.iter().find(|(k, _)| *k == key).map(|(_, l)| *l)
}

/// The French label of coded value `code`.
pub fn value(code: &str) -> Option<&'static str> {
    VALUES.iter().find(|(k, _)| *k == code).map(|(_, l)| *l)
}

/// Whether the values of column `key` are codes to translate.
pub fn is_coded(key: &str) -> bool {
    CODED_COLUMNS.contains(&key) || CODED_LIST_COLUMNS.contains(&key)
}

/// Columns left out of the tables on pages: identifiers with no page of their own (the CSV keeps
/// them, for reference). A commitment's carriers are organisation ids with their parts: the page
/// lists the commitment under each carrier instead.
pub const HIDDEN_ON_PAGES: &[&str] = &["action_id", "porteur_id", "carriers"];

/// The header people read: the label, else the key itself (a test keeps this from happening).
pub fn header(key: &str) -> &str {
    column(key).unwrap_or(key)
}

/// A cell's text for people in column `key`: amounts `12 345,50 €`, dates `15/04/2025`, codes
/// translated.
pub fn cell_text(key: &str, cell: &Cell) -> String {
    match cell {
        Cell::Empty => String::new(),
        Cell::Text(text) if key == "event_type" => event(text).unwrap_or(text).to_string(),
        Cell::Text(text) => text_value(key, text),
        // Years and numbers that name something are not quantities: no grouping.
        Cell::Int(n) if ["exercice", "year", "objectif"].contains(&key) => n.to_string(),
        Cell::Int(n) => integer(*n),
        Cell::Amount(amount) => eur(*amount),
        Cell::Date(date) => date_fr(*date),
    }
}

fn text_value(key: &str, text: &str) -> String {
    if CODED_LIST_COLUMNS.contains(&key) {
        return text
            .split([',', ';', ' '])
            .map(str::trim)
            .filter(|code| !code.is_empty())
            .map(|code| value(code).unwrap_or(code))
            .collect::<Vec<_>>()
            .join(", ");
    }
    if CODED_COLUMNS.contains(&key) {
        return value(text).unwrap_or(text).to_string();
    }
    if key.ends_with("_pct") {
        return text.replace('.', ",");
    }
    if key.ends_with("_eur") {
        if let Ok(value) = text.parse::<rust_decimal::Decimal>() {
            return eur_decimal(value);
        }
    }
    if key == "recorded_at" {
        // Record times are kept to the microsecond in UTC (RFC 3339) for programs.
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
            return date_time_fr(at.with_timezone(&chrono::Utc));
        }
    }
    if key == "axis" {
        // The national framework's axes are `axe-1` … `axe-8`; a total row says `total`.
        if let Some(number) = text.strip_prefix("axe-") {
            return format!("Axe {number}");
        }
        if text == "total" {
            return "Total".to_string();
        }
    }
    text.to_string()
}

/// The name (a workbook's sheet), columns and coded values of `table` that have no label: what a
/// person would read raw.
pub fn missing_labels(table: &Table) -> Vec<String> {
    let mut missing: Vec<String> = table
        .columns
        .iter()
        .filter(|c| column(c).is_none())
        .map(|c| format!("column {c}"))
        .collect();
    if self::table(&table.name).is_none() {
        missing.push(format!("table name {}", table.name));
    }
    for (index, key) in table.columns.iter().enumerate() {
        if !is_coded(key) {
            continue;
        }
        let separators: &[char] = if CODED_LIST_COLUMNS.contains(&key.as_str()) {
            &[',', ';', ' ']
        } else {
            &[]
        };
        for row in &table.rows {
            let Some(Cell::Text(text)) = row.get(index) else {
                continue;
            };
            let codes: Vec<&str> = if separators.is_empty() {
                vec![text.trim()]
            } else {
                text.split(separators).map(str::trim).collect()
            };
            for code in codes {
                if !code.is_empty() && value(code).is_none() {
                    missing.push(format!("value {code} of column {key}"));
                }
            }
        }
    }
    missing.sort();
    missing.dedup();
    missing
}

/// An amount the French way: `12 345,50 €` (narrow no-break spaces between thousands).
pub fn eur(amount: Amount) -> String {
    format!("{} €", decimal(amount))
}

/// A decimal amount (rounded to the cent) the French way: `12 345,50 €`.
pub fn eur_decimal(value: rust_decimal::Decimal) -> String {
    let mut cents = value.round_dp(2) * rust_decimal::Decimal::ONE_HUNDRED;
    cents.rescale(0);
    let cents = i64::try_from(cents).unwrap_or(i64::MAX);
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!(
        "{sign}{},{:02} €",
        group_thousands(cents / 100),
        cents % 100
    )
}

/// An amount without its unit: `12 345,50`.
pub fn decimal(amount: Amount) -> String {
    let cents = amount.cents();
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{},{:02}", group_thousands(cents / 100), cents % 100)
}

/// An integer with narrow no-break spaces between thousands: `12 345`.
pub fn integer(n: i64) -> String {
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", group_thousands(n.unsigned_abs()))
}

/// A date the French way: `15/04/2025`.
pub fn date_fr(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

/// A record time the French way, to the second, in UTC as the log keeps it (the column's header
/// says UTC): `15/04/2025 09:30:12`, which a French spreadsheet reads as a date and time.
pub fn date_time_fr(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%d/%m/%Y %H:%M:%S").to_string()
}

/// A percentage with one decimal: `78,9 %`.
pub fn percent(value: f64) -> String {
    format!("{:.1}\u{a0}%", value).replace('.', ",")
}

fn group_thousands(units: u64) -> String {
    let digits = units.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 * 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(digit);
    }
    out
}

/// A table as CSV for people: French headers, `;` separators, UTF-8 with a BOM (so that French
/// Excel opens it directly), amounts as numbers with a decimal comma and no thousands separator,
/// dates `15/04/2025`, codes translated, and cells that a spreadsheet would run as formulas
/// neutralised.
pub fn to_csv_for_people(table: &Table) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    writer.write_record(table.columns.iter().map(|c| header(c)))?;
    for row in &table.rows {
        writer.write_record(
            table
                .columns
                .iter()
                .zip(row)
                .map(|(key, cell)| spreadsheet_text(key, cell)),
        )?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// A cell for a spreadsheet: numbers stay numbers (decimal comma, no grouping).
fn spreadsheet_text(key: &str, cell: &Cell) -> String {
    match cell {
        Cell::Amount(amount) => amount.to_string().replace('.', ","),
        Cell::Int(n) => n.to_string(),
        Cell::Date(date) => date_fr(*date),
        Cell::Empty => String::new(),
        Cell::Text(text)
            if key.ends_with("_eur") && text.parse::<rust_decimal::Decimal>().is_ok() =>
        {
            text.replace('.', ",")
        }
        Cell::Text(_) => neutralise_formula(&cell_text(key, cell)),
    }
}

/// A text that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, tab, carriage return
/// first) gets a leading apostrophe, as OWASP advises for CSV injection.
pub fn neutralise_formula(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_dates_are_written_the_french_way() {
        assert_eq!(
            eur(Amount::from_cents(123_456_750).unwrap()),
            "1\u{202f}234\u{202f}567,50 €"
        );
        assert_eq!(eur(Amount::ZERO), "0,00 €");
        assert_eq!(decimal(Amount::from_cents(5).unwrap()), "0,05");
        assert_eq!(integer(-1_234), "-1\u{202f}234");
        assert_eq!(
            date_fr(NaiveDate::from_ymd_opt(2025, 4, 15).unwrap()),
            "15/04/2025"
        );
        assert_eq!(percent(78.94), "78,9\u{a0}%");
    }

    #[test]
    fn every_event_type_of_the_schemas_has_a_french_label() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/events");
        let mut count = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for name in text
                .split("\"const\": \"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .filter(|name| name.starts_with(|c: char| c.is_ascii_uppercase()))
            {
                assert!(event(name).is_some(), "{name} has no French label");
                count += 1;
            }
        }
        assert!(count > 60, "{count} event types");
    }

    #[test]
    fn every_key_and_code_has_one_label() {
        for list in [COLUMNS, VALUES, EVENTS] {
            let mut keys: Vec<&str> = list.iter().map(|(k, _)| *k).collect();
            keys.sort_unstable();
            let count = keys.len();
            keys.dedup();
            assert_eq!(keys.len(), count, "a key is listed twice");
        }
        for key in CODED_COLUMNS.iter().chain(CODED_LIST_COLUMNS) {
            assert!(column(key).is_some(), "coded column {key} has no header");
        }
    }

    #[test]
    fn a_csv_for_people_opens_in_french_excel() {
        let mut table = Table::new("t", &["status", "granted_eur", "title"]);
        table.push(vec![
            "granted".into(),
            Amount::from_cents(1_234_550).unwrap().into(),
            "=HYPERLINK(\"x\")".into(),
        ]);
        let bytes = to_csv_for_people(&table).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(
            text.trim_start_matches('\u{feff}'),
            "Statut;Accordé (€);Intitulé\naccordé;12345,50;\"'=HYPERLINK(\"\"x\"\")\"\n"
        );
        let mut unknown = Table::new("t", &["status", "new_column"]);
        unknown.push(vec!["strange_code".into(), Cell::Empty]);
        assert_eq!(
            missing_labels(&unknown),
            vec![
                "column new_column",
                "table name t",
                "value strange_code of column status"
            ]
        );
    }
}
