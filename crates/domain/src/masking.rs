//! Masking of personal data for roles without need. A mask keeps just enough to recognise a
//! value that is already known (first letter, domain, last digits) and never enough to learn it.

/// `anna.schmidt@example.com` → `a***@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => format!("{}***@{}", first_char(local), domain),
        None => mask_text(email),
    }
}

/// `+4915112345678` → `+49*******5678`: the country prefix and, for numbers long enough that
/// most digits stay hidden, the last four (two for shorter ones, none for the shortest).
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 6 {
        return "*".repeat(chars.len());
    }
    let tail_len = match chars.len() {
        n if n >= 14 => 4,
        n if n >= 10 => 2,
        _ => 0,
    };
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - tail_len..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 3 - tail_len))
}

/// `Anna Schmidt` → `A*** S***`.
pub fn mask_name(name: &str) -> String {
    name.split_whitespace().map(|w| format!("{}***", first_char(w))).collect::<Vec<_>>().join(" ")
}

/// `DE89370400440532013000` → `DE89 **** 3000`.
pub fn mask_iban(iban: &str) -> String {
    let s: Vec<char> = iban.chars().filter(|c| !c.is_whitespace()).collect();
    if s.len() < 8 {
        return "*".repeat(s.len());
    }
    let head: String = s[..4].iter().collect();
    let tail: String = s[s.len() - 4..].iter().collect();
    format!("{head} **** {tail}")
}

/// IPv4 keeps the first two octets (`203.0.*.*`), IPv6 the first two groups.
pub fn mask_ip(ip: &str) -> String {
    if ip.contains(':') {
        let groups: Vec<&str> = ip.split(':').take(2).collect();
        format!("{}:****", groups.join(":"))
    } else {
        let octets: Vec<&str> = ip.split('.').take(2).collect();
        format!("{}.*.*", octets.join("."))
    }
}

/// Any other free text (street lines, notes with names): first letter and the length hidden.
pub fn mask_text(text: &str) -> String {
    if text.is_empty() { String::new() } else { format!("{}***", first_char(text)) }
}

fn first_char(s: &str) -> String {
    s.chars().next().map(String::from).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(mask_email("anna.schmidt@example.com"), "a***@example.com");
        assert_eq!(mask_phone("+4915112345678"), "+49*******5678");
        assert_eq!(mask_name("Anna  Schmidt"), "A*** S***");
        assert_eq!(mask_iban("DE89 3704 0044 0532 0130 00"), "DE89 **** 3000");
        assert_eq!(mask_ip("203.0.113.7"), "203.0.*.*");
        assert_eq!(mask_ip("2001:db8::1"), "2001:db8:****");
        assert_eq!(mask_text("Hauptstraße 5"), "H***");
        assert_eq!(mask_email("Ölaf@ex.de"), "Ö***@ex.de");
    }

    proptest! {
        /// A mask never contains the hidden part of the value.
        #[test]
        fn email_local_part_is_hidden(local in "[a-z]{2,20}", domain in "[a-z]{1,10}\\.(de|com)") {
            let masked = mask_email(&format!("{local}@{domain}"));
            prop_assert_eq!(masked, format!("{}***@{domain}", &local[..1]));
        }

        #[test]
        fn phone_mostly_hidden(digits in "[0-9]{6,14}") {
            let masked = mask_phone(&format!("+{digits}"));
            prop_assert_eq!(masked.chars().count(), digits.len() + 1);
            let shown = masked.chars().filter(|c| *c != '*').count();
            prop_assert!(shown * 2 <= digits.len() + 1, "{} shows {} characters", masked, shown);
        }

        #[test]
        fn masks_never_panic(s in "\\PC{0,40}") {
            let _ = (mask_email(&s), mask_phone(&s), mask_name(&s), mask_iban(&s), mask_ip(&s), mask_text(&s));
        }
    }
}
