//! What makes an audit bundle self-describing: `LISEZMOI.md` (in French: what each file is, the
//! meaning of every column, the signed messages, and how to check everything with `sha256sum`,
//! `openssl`, `jq` and `xxd` only), the JSON Schemas of every event payload, the public key in
//! PEM form for `openssl`, and `SHA256SUMS` for `sha256sum -c`.

use std::collections::BTreeSet;

use engagements_projections::{labels, Table};
use serde_json::Value;

macro_rules! schema {
    ($stream:literal) => {
        (
            concat!($stream, ".schema.json"),
            include_str!(concat!("../../../schemas/events/", $stream, ".schema.json")),
        )
    };
}

/// The JSON Schemas of event payloads, as checked in under `schemas/events/` (a test keeps this
/// list equal to that directory).
pub const EVENT_SCHEMAS: &[(&str, &str)] = &[
    schema!("comite"),
    schema!("commitment"),
    schema!("contract"),
    schema!("contribution"),
    schema!("cpo"),
    schema!("dossier"),
    schema!("envelope"),
    schema!("indicator"),
    schema!("porteur"),
    schema!("publication"),
    schema!("tfpb_convention"),
    schema!("tfpb_programme"),
];

/// DER prefix of an Ed25519 public key in SubjectPublicKeyInfo form (RFC 8410): the 32 bytes of
/// the key follow it.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// The public key as PEM (`openssl pkeyutl -verify -pubin -inkey public-key.pem`).
pub fn public_key_pem(key: &[u8; 32]) -> String {
    use base64::Engine;
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key);
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

/// `SHA256SUMS`: one line per file, as `sha256sum` writes them (digest, two spaces, path).
pub fn sha256sums(files: &[super::bundle::ManifestFile]) -> String {
    files
        .iter()
        .map(|file| format!("{}  {}\n", file.sha256, file.path))
        .collect()
}

/// The event types of one schema file: `(type, French label)`.
fn event_types(schema: &str) -> Vec<(String, &'static str)> {
    let Ok(value) = serde_json::from_str::<Value>(schema) else {
        return Vec::new();
    };
    let variants = value
        .get("oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    variants
        .iter()
        .filter_map(|variant| {
            let tag = &variant["properties"]["type"];
            tag["const"]
                .as_str()
                .or_else(|| tag["enum"][0].as_str())
                .map(str::to_string)
        })
        .map(|name| {
            let label = labels::event(&name).unwrap_or("");
            (name, label)
        })
        .collect()
}

/// What `LISEZMOI.md` needs to know of the bundle it describes.
pub struct ReadmeFacts<'a> {
    pub position_last: i64,
    pub head_hash: &'a str,
    pub signed: bool,
    pub reports: &'a [Table],
}

/// `LISEZMOI.md`, in French.
pub fn lisezmoi(facts: &ReadmeFacts<'_>) -> String {
    let mut out = String::new();
    out += &intro(facts);
    out += FILES;
    out += WITH_THE_PROGRAM;
    out += WITHOUT_A_PROGRAM;
    out += SIGNED_MESSAGES;
    out += EVENTS_COLUMNS;
    out += &event_schemas();
    out += &report_columns(facts.reports);
    out += PERSONAL_DATA;
    out
}

fn intro(facts: &ReadmeFacts<'_>) -> String {
    let signed = if facts.signed {
        "Il est signé : `MANIFEST.sig` est la signature Ed25519 de `MANIFEST.json` par la clé de `public-key.txt`."
    } else {
        "Il n'est **pas signé** (exporté sans clé) : il ne prouve que sa cohérence interne."
    };
    format!(
        r#"# Dossier d'audit d'un registre Engagements

Ce répertoire est une copie complète du journal d'un registre Engagements (registre des
subventions et engagements d'un contrat de ville) jusqu'à l'événement n° {position} (empreinte de
tête `{head}`), avec ce qu'il faut pour le vérifier sans la base de données. {signed}

Un dossier d'audit prouve sa propre cohérence ; il ne prouve qu'il est bien l'histoire du registre
que face à un élément obtenu **par un autre canal** : la clé publique du registre (remise par son
administrateur), ou un point de contrôle conservé ou publié auparavant (`heads.jsonl`, courriel,
horodatage RFC 3161). Comparez `public-key.txt` à la clé que vous détenez avant toute autre chose.

"#,
        position = facts.position_last,
        head = facts.head_hash,
    )
}

const FILES: &str = r#"## Fichiers

| fichier | contenu |
|---|---|
| `LISEZMOI.md` | ce document |
| `MANIFEST.json` | format, tête exportée (position, empreinte) et SHA-256 et taille de chaque fichier |
| `MANIFEST.sig` | signature Ed25519 des octets de `MANIFEST.json`, en hexadécimal (si signé) |
| `SHA256SUMS` | les mêmes empreintes au format de `sha256sum -c` |
| `public-key.txt` | clé publique Ed25519 du registre, 64 caractères hexadécimaux (si signé) |
| `public-key.pem` | la même clé au format PEM, pour `openssl` (si signé) |
| `checkpoint.json` | point de contrôle signé à l'export sur la tête exportée (si signé) |
| `checkpoints.jsonl` | les points de contrôle enregistrés dans le journal, un objet JSON par ligne |
| `events.jsonl` | le journal : un objet JSON par événement, toutes les colonnes stockées, dans l'ordre |
| `persons.csv` | les noms des personnes que les événements désignent par un identifiant pseudonyme (voir « Données personnelles » ; absent si l'export l'a exclu) |
| `schemas/events/*.schema.json` | schémas JSON (draft 2020-12) du contenu (`payload`) de chaque type d'événement |
| `referential/` | les données de référence du contrat (quartiers, signataires, objectifs…) |
| `reports/*.csv` | chaque rapport, calculé depuis l'événement n° 1 (jamais depuis un instantané) |

"#;

const WITH_THE_PROGRAM: &str = r#"## Vérifier avec le programme

```text
engagements verify --bundle CE_REPERTOIRE --public-key CLE_DE_CONFIANCE.txt
engagements verify --bundle CE_REPERTOIRE --checkpoints POINTS_PUBLIES.jsonl --public-key CLE.txt
```

La commande sort avec 0 seulement si tout tient : fichiers conformes au manifeste (et aucun
ajouté), signature du manifeste, chaîne d'empreintes de `events.jsonl` (positions sans trou,
`prev_hash` égal à l'empreinte précédente, chaque empreinte recalculée, versions contiguës par
flux, dates d'enregistrement croissantes), tête conforme au manifeste, et chaque point de contrôle
(signature, et la ligne à sa position porte l'empreinte signée).

"#;

const WITHOUT_A_PROGRAM: &str = r#"## Vérifier sans le programme

Avec des outils courants seulement (`sha256sum`, `openssl` 3, `jq`, `xxd`, `bash`), depuis ce
répertoire. Chaque étape affiche `OK`, `Signature Verified Successfully` ou deux empreintes
identiques.

**1. Les fichiers sont ceux du manifeste.** `SHA256SUMS` répète les empreintes de
`MANIFEST.json` ; la signature du manifeste couvre donc aussi `SHA256SUMS`.

```sh
sha256sum -c --quiet SHA256SUMS && echo "OK : fichiers conformes"
jq -r '.files[] | select(.path != "SHA256SUMS") | "\(.sha256)  \(.path)"' MANIFEST.json | diff - SHA256SUMS && echo "OK : SHA256SUMS = manifeste"
```

**2. Le manifeste est signé par la clé du registre** (comparez d'abord `public-key.txt` à la
clé que vous détenez ; `public-key.pem` est la même clé, préfixe DER `302a300506032b6570032100`
suivi des 32 octets de la clé, encodé en base64).

```sh
test "$(tail -n 2 public-key.pem | head -n 1 | base64 -d | xxd -p -c 64)" = "302a300506032b6570032100$(cat public-key.txt)" && echo "OK : PEM = public-key.txt"
xxd -r -p MANIFEST.sig > /tmp/manifest.sig
openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in MANIFEST.json -sigfile /tmp/manifest.sig
```

**3. Le point de contrôle est signé.** Le message signé est reconstruit octet par octet (voir
« Messages signés ») :

```sh
champ() { printf '%016x' "$(printf '%s' "$1" | wc -c)" | xxd -r -p; printf '%s' "$1"; }
{ printf 'engagements/checkpoint/v1'
  champ "$(jq -r .position checkpoint.json)"
  champ "$(jq -r .head_hash checkpoint.json)"
  champ "$(jq -r .signed_at checkpoint.json)"; } > /tmp/checkpoint.msg
jq -r .signature checkpoint.json | xxd -r -p > /tmp/checkpoint.sig
openssl pkeyutl -verify -pubin -inkey public-key.pem -rawin -in /tmp/checkpoint.msg -sigfile /tmp/checkpoint.sig
```

**4. Recalculer l'empreinte d'un événement à la main** (ici le n° 1 ; changez `N`) et son lien
avec le précédent :

```sh
N=1
ligne=$(sed -n "${N}p" events.jsonl)
champ() { printf '%016x' "$(printf '%s' "$1" | wc -c)" | xxd -r -p; printf '%s' "$1"; }
{ printf 'engagements/event/v1'
  for k in prev_hash position event_id stream_type stream_id version event_type schema_version command_id recorded_at payload metadata
  do champ "$(jq -j ".$k|tostring" <<<"$ligne")"; done; } | sha256sum | cut -d' ' -f1
jq -r .hash <<<"$ligne"
```

Les deux empreintes affichées doivent être identiques ; `prev_hash` de la ligne `N` doit être
`hash` de la ligne `N-1` (64 zéros pour la première). Pour toute la chaîne :

```sh
precedent=0000000000000000000000000000000000000000000000000000000000000000
while IFS=$'\t' read -r position prev hash; do
  test "$prev" = "$precedent" || { echo "chaîne rompue à l'événement n° $position"; break; }
  precedent=$hash
done < <(jq -r '[.position, .prev_hash, .hash] | @tsv' events.jsonl)
echo "dernière empreinte : $precedent (manifeste : $(jq -r .head_hash MANIFEST.json))"
```

(Ce contrôle des liens ne recalcule pas chaque empreinte : l'étape précédente le fait pour un
événement ; `engagements verify --bundle` le fait pour tous.)

**5. Le point de contrôle couvre le journal** : la ligne à sa position porte l'empreinte signée.

```sh
P=$(jq .position checkpoint.json)
test "$(sed -n "${P}p" events.jsonl | jq -r .hash)" = "$(jq -r .head_hash checkpoint.json)" && echo "OK : le journal contient la tête signée"
```

"#;

const SIGNED_MESSAGES: &str = r#"## Messages signés

Toutes les signatures sont Ed25519 (RFC 8032) ; les signatures et les clés sont écrites en
hexadécimal. Dans un message, chaque champ est précédé de sa longueur en octets sur 8 octets
(grand-boutiste), puis ses octets UTF-8 ; aucun séparateur.

| message | contenu |
|---|---|
| point de contrôle | `engagements/checkpoint/v1`, puis `position` (décimal), `head_hash` (hexadécimal), `signed_at` (tel qu'écrit, RFC 3339 UTC) |
| remplacement de clé | `engagements/key-rotation/v1`, puis l'ancienne et la nouvelle clé publique (hexadécimal) ; signé par l'ancienne clé |
| manifeste | les octets de `MANIFEST.json`, tels quels |
| empreinte d'un événement | SHA-256 de `engagements/event/v1` puis `prev_hash`, `position`, `event_id`, `stream_type`, `stream_id`, `version`, `event_type`, `schema_version`, `command_id`, `recorded_at` (microsecondes depuis le 1er janvier 1970 UTC, décimal), `payload`, `metadata` (textes JSON stockés, octet pour octet) |

Un point de contrôle (`checkpoint.json`, chaque ligne de `checkpoints.jsonl` et des fichiers de
têtes publiées) a les champs `format` (`engagements/checkpoint/v1`), `position`, `head_hash`,
`signed_at`, `public_key` et `signature`. Le journal enregistre lui-même sa clé et ses points de
contrôle dans le flux `checkpoints` (type de flux `checkpoint`) : `SigningKeyRecorded`
(`public_key`), `SigningKeyRotated` (`previous_public_key`, `public_key`, `endorsement` : signature
du message de remplacement par l'ancienne clé) et `CheckpointSigned` (`checkpoint`).

"#;

const EVENTS_COLUMNS: &str = r#"## `events.jsonl` : colonnes

| colonne | signification |
|---|---|
| `position` | numéro d'ordre global de l'événement, sans trou, dans l'ordre d'enregistrement |
| `event_id` | identifiant unique de l'événement (UUID v7) |
| `stream_type` | famille de l'objet concerné (`dossier`, `envelope`, `porteur`, `publication`…) |
| `stream_id` | objet concerné (`dossier-<uuid>`, `envelope-etat:bop147-aap:2025`…) |
| `version` | rang de l'événement dans son objet (1, 2, 3… sans trou) |
| `event_type` | nature du fait (voir « Types d'événements ») |
| `schema_version` | version du schéma de `payload` au moment de l'enregistrement |
| `command_id` | identifiant de la commande qui l'a enregistré (clé d'idempotence) |
| `payload` | le fait, texte JSON (schéma : `schemas/events/<stream_type>.schema.json`) |
| `metadata` | texte JSON : `actor` (opérateur qui a enregistré : `person`, `organisation`), `on_behalf_of` (pour le compte de qui, s'il y a lieu), `command_id`, `correlation_id`, `causation_id`, `source` (`cli`, `api`, `import`, `demo`, `system`), `effective_date` (date d'effet, AAAA-MM-JJ), `act` (acte : `kind`, `reference`, `date`), `command_digest` (SHA-256 de la commande) |
| `recorded_at` | date d'enregistrement, microsecondes depuis le 1er janvier 1970 UTC (jamais antidatée) |
| `prev_hash` | empreinte de l'événement précédent (64 zéros pour le premier) |
| `hash` | empreinte de cet événement (voir « Messages signés ») |

"#;

const PERSONAL_DATA: &str = r#"## Données personnelles

Les événements enregistrés par cette version ne contiennent le nom d'aucune personne : l'opérateur
(`metadata.actor.person`) et la personne pour le compte de qui il agit
(`metadata.on_behalf_of.person`) y sont désignés par un identifiant pseudonyme `person-<uuid>`.
Les noms sont conservés hors du journal chaîné, dans une table effaçable du registre ; ce dossier
en contient une copie, `persons.csv` (colonnes `person_id` : identifiant pseudonyme ; `name` : nom
à la date de l'export, vide si la personne a été effacée ; `erased_at` : date de l'effacement).
Les événements enregistrés avant cette séparation peuvent contenir des noms : ils sont reproduits
tels qu'enregistrés, leurs octets faisant partie de l'empreinte.

Ce dossier est une copie : un effacement fait ensuite dans le registre (RGPD, art. 17) ne
l'atteint pas. Conservez-le le temps nécessaire au contrôle, puis détruisez-le, ou au moins
`persons.csv` (les empreintes des autres fichiers restent vérifiables ; `sha256sum -c` signalera
seulement le fichier manquant). Voir `docs/personal-data.md` du registre.

"#;

fn event_schemas() -> String {
    let mut out = String::from(
        "## Types d'événements et leurs schémas\n\nLe contenu (`payload`) de chaque événement est décrit par le schéma JSON de sa famille\n(`schemas/events/<stream_type>.schema.json`, champ `type` = `event_type`). Un événement d'une\nversion de schéma antérieure est lu tel qu'enregistré (ses octets sont ceux de l'empreinte).\n\n| famille (`stream_type`) | schéma | types d'événements |\n|---|---|---|\n",
    );
    for (file, text) in EVENT_SCHEMAS {
        let family = file.trim_end_matches(".schema.json");
        let types: Vec<String> = event_types(text)
            .into_iter()
            .map(|(name, label)| format!("`{name}` ({label})"))
            .collect();
        out += &format!(
            "| `{family}` | `schemas/events/{file}` | {} |\n",
            types.join(", ")
        );
    }
    out += "| `checkpoint` | (ci-dessus, « Messages signés ») | `CheckpointSigned`, `SigningKeyRecorded`, `SigningKeyRotated` |\n\n";
    out
}

fn report_columns(reports: &[Table]) -> String {
    let mut out = String::from(
        "## `reports/*.csv` : colonnes\n\nCSV séparé par des virgules, UTF-8, une ligne d'en-tête faite des clés stables ci-dessous ;\nmontants en euros avec le point décimal (`12345.50`), dates AAAA-MM-JJ, valeurs codées en\nanglais (leur sens en français est donné). Chaque rapport est le pli du journal de l'événement\nn° 1 à la tête exportée.\n\n",
    );
    for table in reports {
        out += &format!(
            "### `reports/{}.csv`\n\n| colonne | signification |\n|---|---|\n",
            table.name
        );
        for (index, key) in table.columns.iter().enumerate() {
            let meaning = labels::column(key).unwrap_or(key.as_str());
            let codes = coded_values(table, index, key);
            out += &format!("| `{key}` | {meaning}{codes} |\n");
        }
        out += "\n";
    }
    out
}

/// `; valeurs : granted = accordé, …` for a coded column, from the values the table holds.
fn coded_values(table: &Table, index: usize, key: &str) -> String {
    if !labels::is_coded(key) {
        return String::new();
    }
    let mut seen = BTreeSet::new();
    for row in &table.rows {
        if let Some(cell) = row.get(index) {
            for code in cell.to_text().split(['|', ',', ';']) {
                let code = code.trim();
                if let Some(label) = labels::value(code) {
                    seen.insert(format!("`{code}` = {label}"));
                }
            }
        }
    }
    if seen.is_empty() {
        return String::new();
    }
    format!(
        " ; valeurs : {}",
        seen.into_iter().collect::<Vec<_>>().join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_schemas_are_the_checked_in_ones() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/events");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".schema.json"))
            .collect();
        on_disk.sort();
        let embedded: Vec<String> = EVENT_SCHEMAS.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(embedded, on_disk, "add the new family to EVENT_SCHEMAS");
        for (name, text) in EVENT_SCHEMAS {
            assert!(!event_types(text).is_empty(), "{name} names no event type");
            for (event, label) in event_types(text) {
                assert!(!label.is_empty(), "{event} has no French label");
            }
        }
    }

    #[test]
    fn the_pem_key_is_the_rfc_8410_form() {
        // RFC 8410 section 10.1's example key.
        let key: [u8; 32] =
            hex::decode("19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1")
                .unwrap()
                .try_into()
                .unwrap();
        assert_eq!(
            public_key_pem(&key),
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n"
        );
    }
}
