//! The body of a form that sends a file (`enctype="multipart/form-data"`, RFC 7578), read whole
//! (the caller bounds its size first): its text fields and its files, in order. Only what a
//! browser sends is read: one boundary, parts with a `Content-Disposition: form-data` header.

/// One part of the body: a field's name, the file's name when it is a file, and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub file_name: Option<String>,
    pub bytes: Vec<u8>,
}

/// Why a body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the content type has no multipart boundary")]
    NoBoundary,
    #[error("the body is not multipart/form-data as its boundary says")]
    Malformed,
}

/// The boundary of a `multipart/form-data; boundary=…` content type.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let (kind, params) = content_type
        .split_once(';')
        .ok_or(MultipartError::NoBoundary)?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return Err(MultipartError::NoBoundary);
    }
    params
        .split(';')
        .filter_map(|p| p.trim().split_once('='))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or(MultipartError::NoBoundary)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// The value of `key="…"` in a `Content-Disposition` header.
fn disposition_param(header: &str, key: &str) -> Option<String> {
    let mut rest = header;
    while let Some(at) = rest.find(key) {
        let before = rest[..at].chars().last();
        let after = &rest[at + key.len()..];
        if matches!(before, Some(';') | Some(' ')) {
            if let Some(value) = after.strip_prefix("=\"") {
                let end = value.find('"')?;
                return Some(value[..end].to_string());
            }
        }
        rest = after;
    }
    None
}

/// Every part of `body`, in order.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, MultipartError> {
    let delimiter = format!("--{boundary}").into_bytes();
    let separator = format!("\r\n--{boundary}").into_bytes();
    let mut at = find(body, &delimiter, 0).ok_or(MultipartError::Malformed)? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err(MultipartError::Malformed);
        }
        at += 2;
        let headers_end = find(body, b"\r\n\r\n", at).ok_or(MultipartError::Malformed)?;
        let headers =
            std::str::from_utf8(&body[at..headers_end]).map_err(|_| MultipartError::Malformed)?;
        let disposition = headers
            .split("\r\n")
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.trim()
                    .eq_ignore_ascii_case("content-disposition")
                    .then(|| value.trim().to_string())
            })
            .ok_or(MultipartError::Malformed)?;
        let name = disposition_param(&disposition, "name").ok_or(MultipartError::Malformed)?;
        let file_name = disposition_param(&disposition, "filename");
        let start = headers_end + 4;
        let end = find(body, &separator, start).ok_or(MultipartError::Malformed)?;
        parts.push(Part {
            name,
            file_name,
            bytes: body[start..end].to_vec(),
        });
        at = end + separator.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_browsers_body_is_read_part_by_part() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\nabc\r\n\
--XyZ\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"tfpb 2025.csv\"\r\n\
Content-Type: text/csv\r\n\r\nQPV;Ann\xe9e\r\n1;2\r\n\r\n--XyZ--\r\n";
        let b = boundary("multipart/form-data; boundary=XyZ").unwrap();
        let parts = parse(body, &b).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "csrf");
        assert_eq!(parts[0].bytes, b"abc");
        assert_eq!(parts[0].file_name, None);
        assert_eq!(parts[1].name, "fichier");
        assert_eq!(parts[1].file_name.as_deref(), Some("tfpb 2025.csv"));
        assert_eq!(parts[1].bytes, b"QPV;Ann\xe9e\r\n1;2\r\n");
    }

    #[test]
    fn a_broken_body_is_refused() {
        assert_eq!(
            boundary("application/x-www-form-urlencoded"),
            Err(MultipartError::NoBoundary)
        );
        for body in [
            &b"nothing"[..],
            b"--XyZ\r\nno headers end",
            b"--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
        ] {
            assert!(parse(body, "XyZ").is_err());
        }
    }
}
