//! The text encodings French spreadsheets are saved in: UTF-8 (with or without a BOM), UTF-16
//! with a BOM (Excel's « Texte Unicode ») and Windows-1252 (Excel's « CSV (séparateur :
//! point-virgule) »). Anything else is refused with the line of the first byte that fits none.

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1252};

/// The encoding a text file was read in, said back to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
}

impl TextEncoding {
    /// How the encoding is named to users.
    pub fn label(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 with BOM",
            TextEncoding::Utf16Le => "UTF-16 LE",
            TextEncoding::Utf16Be => "UTF-16 BE",
            TextEncoding::Windows1252 => "Windows-1252",
        }
    }
}

/// Why bytes are not text the readers know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("line {line}: byte 0x{byte:02X} is neither UTF-8 nor Windows-1252{why}: save the file as « CSV UTF-8 » or « CSV (séparateur : point-virgule) »")]
    Unknown {
        line: usize,
        byte: u8,
        why: &'static str,
    },
    #[error("line {line}: the file mixes UTF-8 and another encoding (byte 0x{byte:02X}): save it again as « CSV UTF-8 »")]
    Mixed { line: usize, byte: u8 },
    #[error("line {line}: a control character (U+{code:04X}) is not text: is this a spreadsheet saved as text? (UTF-16 needs its BOM)")]
    Control { line: usize, code: u32 },
    #[error("the {encoding} text is malformed: save the file again")]
    Malformed { encoding: &'static str },
}

/// Bytes that Windows-1252 leaves undefined.
const CP1252_UNDEFINED: [u8; 5] = [0x81, 0x8D, 0x8F, 0x90, 0x9D];

/// Decodes `bytes`: a BOM decides, else valid UTF-8 is UTF-8, else Windows-1252 when every byte
/// is a character there and the text has no UTF-8 sequence (a mix is refused, never guessed).
pub fn decode(bytes: &[u8]) -> Result<(String, TextEncoding), EncodingError> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let kind = match encoding {
            e if e == UTF_8 => TextEncoding::Utf8Bom,
            e if e == UTF_16LE => TextEncoding::Utf16Le,
            _ => TextEncoding::Utf16Be,
        };
        let body = &bytes[bom_length..];
        let (text, malformed) = if encoding == UTF_16BE {
            UTF_16BE.decode_without_bom_handling(body)
        } else {
            encoding.decode_without_bom_handling(body)
        };
        if malformed {
            if let (TextEncoding::Utf8Bom, Some(offset)) = (kind, first_invalid_utf8(body)) {
                return Err(EncodingError::Mixed {
                    line: 1 + body[..offset].iter().filter(|b| **b == b'\n').count(),
                    byte: body[offset],
                });
            }
            return Err(EncodingError::Malformed {
                encoding: kind.label(),
            });
        }
        let text = text.into_owned();
        check_controls(&text)?;
        return Ok((text, kind));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => {
            check_controls(text)?;
            Ok((text.to_string(), TextEncoding::Utf8))
        }
        Err(_) => {
            let error = first_bad_byte(bytes);
            if matches!(
                error,
                EncodingError::Mixed { .. } | EncodingError::Unknown { .. }
            ) {
                return Err(error);
            }
            let (text, _) = WINDOWS_1252.decode_without_bom_handling(bytes);
            let text = text.into_owned();
            check_controls(&text)?;
            Ok((text, TextEncoding::Windows1252))
        }
    }
}

/// What bytes that are not UTF-8 are: Windows-1252 (returned as `Malformed`, the caller decodes
/// them), a mix with UTF-8, or bytes no known encoding has.
fn first_bad_byte(bytes: &[u8]) -> EncodingError {
    let line_of = |offset: usize| 1 + bytes[..offset].iter().filter(|b| **b == b'\n').count();
    if let Some(offset) = bytes.iter().position(|b| CP1252_UNDEFINED.contains(b)) {
        return EncodingError::Unknown {
            line: line_of(offset),
            byte: bytes[offset],
            why: "",
        };
    }
    let has_utf8_sequence = utf8_sequences(bytes).next().is_some();
    let first_invalid = first_invalid_utf8(bytes);
    match (has_utf8_sequence, first_invalid) {
        (true, Some(offset)) => EncodingError::Mixed {
            line: line_of(offset),
            byte: bytes[offset],
        },
        _ => EncodingError::Malformed {
            encoding: "Windows-1252",
        },
    }
}

/// Offset of the first byte that does not start or continue a valid UTF-8 sequence.
fn first_invalid_utf8(bytes: &[u8]) -> Option<usize> {
    std::str::from_utf8(bytes)
        .err()
        .map(|error| error.valid_up_to())
}

/// Offsets of the valid multi-byte UTF-8 sequences in `bytes` (a UTF-8 text with accents has
/// some; a Windows-1252 one almost never).
fn utf8_sequences(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    (0..bytes.len()).filter(move |&i| {
        let lead = bytes[i];
        let length = match lead {
            0xC2..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF4 => 4,
            _ => return false,
        };
        bytes.len() >= i + length && std::str::from_utf8(&bytes[i..i + length]).is_ok()
    })
}

/// Text with control characters (other than tab and line ends) is not a spreadsheet's text.
fn check_controls(text: &str) -> Result<(), EncodingError> {
    let bad = text
        .char_indices()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'));
    match bad {
        None => Ok(()),
        Some((offset, c)) => Err(EncodingError::Control {
            line: 1 + text[..offset].matches('\n').count(),
            code: c as u32,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        let (text, kind) = decode("a;é\n".as_bytes()).unwrap();
        assert_eq!((text.as_str(), kind), ("a;é\n", TextEncoding::Utf8));
        let (text, kind) = decode(b"\xEF\xBB\xBFa;\xC3\xA9\n").unwrap();
        assert_eq!((text.as_str(), kind), ("a;é\n", TextEncoding::Utf8Bom));
    }

    #[test]
    fn utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "Demandé\t1\r\n".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        let (text, kind) = decode(&bytes).unwrap();
        assert_eq!(
            (text.as_str(), kind),
            ("Demandé\t1\r\n", TextEncoding::Utf16Le)
        );
        let mut bytes = vec![0xFE, 0xFF];
        for unit in "Accordé".encode_utf16() {
            bytes.extend(unit.to_be_bytes());
        }
        assert_eq!(decode(&bytes).unwrap().0, "Accordé");
    }

    #[test]
    fn windows_1252() {
        let (text, kind) =
            decode(b"Montant engag\xE9;Demand\xE9\r\n12 500,50 \x80;\x9C\n").unwrap();
        assert_eq!(kind, TextEncoding::Windows1252);
        assert_eq!(text, "Montant engagé;Demandé\r\n12 500,50 €;œ\n");
    }

    #[test]
    fn bytes_of_no_known_encoding_name_their_line() {
        let error = decode(b"a;b\r\nc;d\r\ne\x81;f\n").unwrap_err();
        assert_eq!(
            error,
            EncodingError::Unknown {
                line: 3,
                byte: 0x81,
                why: ""
            }
        );
        assert!(
            error.to_string().starts_with("line 3: byte 0x81"),
            "{error}"
        );
    }

    #[test]
    fn a_mix_of_utf8_and_windows_1252_is_refused() {
        let error = decode(
            "é;a\nb;"
                .bytes()
                .chain(*b"\xE9\n")
                .collect::<Vec<_>>()
                .as_slice(),
        )
        .unwrap_err();
        assert_eq!(
            error,
            EncodingError::Mixed {
                line: 2,
                byte: 0xE9
            }
        );
    }

    #[test]
    fn utf16_without_bom_is_refused_with_its_line() {
        let mut bytes = Vec::new();
        for unit in "ab\n".encode_utf16() {
            bytes.extend(unit.to_le_bytes());
        }
        let error = decode(&bytes).unwrap_err();
        assert!(
            matches!(error, EncodingError::Control { line: 1, code: 0 }),
            "{error:?}"
        );
    }
}
