//! What a case accepts as an attachment: PDF, PNG, JPEG and plain text (notes, CSV exports,
//! e-mails), at most [`MAX_BYTES`], its type read from its content (never from what the sender
//! claims) and matching its name's extension; the name reduced to a plain file name.

/// The largest attachment.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

/// Why an attachment was refused: the field and the reason.
pub type Refused = (&'static str, String);

fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        Some("text/plain")
    } else {
        None
    }
}

/// The content type a name's extension stands for, among the accepted ones.
fn by_extension(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "eml" => "message/rfc822",
        _ => return None,
    })
}

/// A file name without any path, control or bidirectional-override characters.
pub fn clean_name(name: &str) -> Result<String, Refused> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !('\u{202A}'..='\u{202E}').contains(c) && !('\u{2066}'..='\u{2069}').contains(c))
        .collect();
    let cleaned = cleaned.trim().to_owned();
    if cleaned.is_empty() || cleaned.starts_with('.') || cleaned.chars().count() > 200 {
        return Err(("name", "must be a file name of 1 to 200 characters, not starting with a dot".into()));
    }
    Ok(cleaned)
}

/// Checks an attachment; returns its clean name and its content type.
pub fn check(name: &str, bytes: &[u8]) -> Result<(String, &'static str), Refused> {
    let name = clean_name(name)?;
    if bytes.is_empty() {
        return Err(("file", "is empty".into()));
    }
    if bytes.len() > MAX_BYTES {
        return Err(("file", format!("is larger than {} MiB", MAX_BYTES / 1024 / 1024)));
    }
    let named =
        by_extension(&name).ok_or(("name", "must end in .pdf, .png, .jpg, .txt, .log, .csv or .eml".to_owned()))?;
    let found = sniff(bytes).ok_or(("file", "is not a PDF, PNG, JPEG or text file".to_owned()))?;
    let text = |t: &str| matches!(t, "text/plain" | "text/csv" | "message/rfc822");
    if named != found && !(text(named) && found == "text/plain") {
        return Err(("file", format!("is {found}, which its name ({name}) does not say")));
    }
    Ok((name, named))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_it_says_it_is() {
        assert_eq!(check("scan.PDF", b"%PDF-1.7 ...").unwrap(), ("scan.PDF".into(), "application/pdf"));
        assert_eq!(check("C:\\Users\\x\\mail.eml", b"From: a@b\n\nhi").unwrap().1, "message/rfc822");
        assert_eq!(check("../../etc/passwd.txt", b"root").unwrap().0, "passwd.txt");
    }

    #[test]
    fn refuses_disguises_and_oversize() {
        assert_eq!(check("invoice.pdf", b"MZ\x90\x00\x03").unwrap_err().0, "file");
        assert_eq!(check("photo.png", b"%PDF-1.4").unwrap_err().0, "file");
        assert_eq!(check("run.exe", b"hello").unwrap_err().0, "name");
        assert_eq!(check("note.txt", &vec![b'a'; MAX_BYTES + 1]).unwrap_err().0, "file");
        assert_eq!(check(".htaccess", b"x").unwrap_err().0, "name");
        assert_eq!(check("a.txt", b"").unwrap_err().0, "file");
        // A right-to-left override hides the real extension: it is removed.
        assert_eq!(check("report\u{202E}fdp.txt", b"x").unwrap().0, "reportfdp.txt");
    }
}
