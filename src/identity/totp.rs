//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), as authenticator apps make
//! them: HMAC-SHA1, 30-second steps, 6 digits. Pure functions; the stored state (the secret,
//! the last step used) is `identity::mfa`'s.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits of a code.
pub const DIGITS: u32 = 6;
/// Steps either side of now a code is taken from: a phone clock a little out, a code typed
/// as it turned over.
pub const DRIFT_STEPS: i64 = 1;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;

/// The step an instant (Unix seconds) falls in.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// RFC 4226 HOTP of `counter`, `digits` long.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC takes a key of any length; new_from_slice cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    binary % 10u32.pow(digits)
}

/// The code of a step, as the app shows it (leading zeros kept).
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let code = hotp(secret, u64::try_from(step).unwrap_or(0), DIGITS);
    format!("{code:0width$}", width = DIGITS as usize)
}

/// The step whose code `code` is, within the drift window around `now_step` and later than
/// `after_step` (a code used once is not taken again). Spaces in what was typed are ignored.
pub fn matching_step(secret: &[u8], code: &str, now_step: i64, after_step: i64) -> Option<i64> {
    let typed: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (now_step - DRIFT_STEPS..=now_step + DRIFT_STEPS)
        .filter(|step| *step > after_step)
        .find(|step| constant_time_eq(code_at_step(secret, *step).as_bytes(), typed.as_bytes()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps take a secret.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The secret in groups of four, easier to type from a page than one long run.
pub fn grouped(secret_base32: &str) -> String {
    secret_base32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// The `otpauth://` URI an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        percent(issuer),
        percent(account),
        percent(issuer)
    )
}

/// The URI as a QR code, drawn as SVG on the server (no script, no image request).
pub fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        // A URI too long for a QR code cannot happen with our sizes; the text secret remains.
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows: the seed "12345678901234567890", 8 digits.
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        for (time, expected) in [
            (59_i64, 94_287_082_u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            let step = u64::try_from(step_at(time)).expect("positive");
            assert_eq!(hotp(seed, step, 8), expected, "at {time}");
        }
    }

    /// RFC 4226 appendix D: HOTP of counters 0 to 9, 6 digits.
    #[test]
    fn rfc_4226_test_vectors() {
        let seed = b"12345678901234567890";
        let expected = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(seed, counter as u64, 6), *want);
        }
    }

    #[test]
    fn a_code_is_taken_once_within_its_window() {
        let seed = b"12345678901234567890";
        let now = step_at(1_111_111_111);
        let code = code_at_step(seed, now);
        assert_eq!(matching_step(seed, &code, now, 0), Some(now));
        assert_eq!(
            matching_step(seed, &code, now + 1, 0),
            Some(now),
            "a step late"
        );
        assert_eq!(
            matching_step(seed, &code, now + 2, 0),
            None,
            "two steps late"
        );
        assert_eq!(matching_step(seed, &code, now, now), None, "used already");
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(matching_step(seed, &spaced, now, 0), Some(now));
        assert_eq!(matching_step(seed, "12345", now, 0), None);
        assert_eq!(matching_step(seed, "abcdef", now, 0), None);
    }

    #[test]
    fn secrets_are_written_as_apps_read_them() {
        // RFC 4648 section 10.
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(grouped("MZXW6YTBOI"), "MZXW 6YTB OI");
        let uri = otpauth_uri("peerpath", "ana@example.org", "MZXW6YTBOI");
        assert!(uri.starts_with("otpauth://totp/peerpath:ana%40example.org?secret=MZXW6YTBOI"));
        assert!(qr_svg(&uri).contains("<svg"));
    }
}
