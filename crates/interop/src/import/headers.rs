//! Column titles as people write them. Each file kind has one table of its columns: the name the
//! ledger uses and the titles accepted for it (`docs/imports.md` lists them). Titles are compared
//! after [`title_key`]: any case, accents or not, dashes, underscores, apostrophes and repeated
//! spaces alike, so `Décidé le`, `DECIDE LE` and `decided_on` can all be listed once each.

/// One column of a file kind.
#[derive(Debug)]
pub struct Column {
    /// The ledger's name for it (used in messages and by the readers).
    pub name: &'static str,
    /// Other titles accepted (compared by [`title_key`]; the name itself is always accepted).
    pub aliases: &'static [&'static str],
    /// Whether every file must have it.
    pub required: bool,
}

/// A column of a table (for `const` tables).
pub const fn column(
    name: &'static str,
    aliases: &'static [&'static str],
    required: bool,
) -> Column {
    Column {
        name,
        aliases,
        required,
    }
}

/// The columns of one file kind.
#[derive(Debug)]
pub struct HeaderTable {
    /// The file kind, as messages name it (`programmation`, `TFPB`, `GISPRO`…).
    pub kind: &'static str,
    pub columns: &'static [Column],
    /// Whether titles the table does not know are problems (the ledger's own sheets) or are
    /// ignored (the State's extracts carry many columns the ledger does not read).
    pub others_refused: bool,
}

impl HeaderTable {
    /// The column a title names, if any.
    pub fn find(&self, title: &str) -> Option<&'static Column> {
        let key = title_key(title);
        if key.is_empty() {
            return None;
        }
        self.columns.iter().find(|column| {
            title_key(column.name) == key || column.aliases.iter().any(|a| title_key(a) == key)
        })
    }

    /// The required columns.
    pub fn required(&self) -> impl Iterator<Item = &'static Column> {
        self.columns.iter().filter(|c| c.required)
    }
}

/// A title reduced to what tells columns apart: lower case, no accents, words separated by one
/// space (dashes, underscores, apostrophes, dots and parentheses are separators).
pub fn title_key(title: &str) -> String {
    let mut key = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        match fold_accent(c) {
            Some(plain) => key.push_str(plain),
            None if c.is_alphanumeric() || c == '€' || c == '%' => key.push(c),
            None => key.push(' '),
        }
    }
    key.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The unaccented form of the lower-case letters French writes with accents.
fn fold_accent(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'â' | 'ä' | 'á' => "a",
        'é' | 'è' | 'ê' | 'ë' => "e",
        'î' | 'ï' | 'í' => "i",
        'ô' | 'ö' | 'ó' => "o",
        'ù' | 'û' | 'ü' | 'ú' => "u",
        'ÿ' => "y",
        'ç' => "c",
        'œ' => "oe",
        'æ' => "ae",
        _ => return None,
    })
}

/// The spreadsheet letters of a column (0 is `A`, 26 is `AA`).
pub fn column_letters(index: usize) -> String {
    let mut letters = Vec::new();
    let mut n = index + 1;
    while n > 0 {
        let rest = (n - 1) % 26;
        letters.push(b'A' + rest as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_as_people_write_them() {
        assert_eq!(title_key("Décidé le"), "decide le");
        assert_eq!(title_key("  DECIDE   LE "), "decide le");
        assert_eq!(title_key("decided_on"), "decided on");
        assert_eq!(title_key("Montant – engagé"), "montant engage");
        assert_eq!(
            title_key("Numéro de l’action PRJ"),
            "numero de l action prj"
        );
        assert_eq!(
            title_key("Action de demande - Code dossier"),
            "action de demande code dossier"
        );
    }

    #[test]
    fn a_table_finds_columns_by_alias() {
        static COLUMNS: [Column; 2] = [
            column("asked", &["Demandé", "Montant demandé"], true),
            column("decided_on", &["Décidé le", "Date de décision"], false),
        ];
        let table = HeaderTable {
            kind: "test",
            columns: &COLUMNS,
            others_refused: true,
        };
        assert_eq!(table.find("DEMANDE").map(|c| c.name), Some("asked"));
        assert_eq!(table.find("Décidé  le").map(|c| c.name), Some("decided_on"));
        assert_eq!(table.find("decided-on").map(|c| c.name), Some("decided_on"));
        assert_eq!(table.find("Accordé").map(|c| c.name), None);
        assert_eq!(table.find("").map(|c| c.name), None);
    }

    #[test]
    fn column_letters_count_like_spreadsheets() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(27), "AB");
    }
}
