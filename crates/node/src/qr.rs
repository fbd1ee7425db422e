//! Invitation codes as QR codes: an SVG for the app, block characters for a terminal.

use qrcode::render::{svg, unicode};
use qrcode::{EcLevel, QrCode};

fn code(text: &str) -> Option<QrCode> {
    // Medium error correction: an invite code is ~300 characters, and a phone photographing a
    // laptop screen needs some margin.
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()
}

/// An SVG image of `text` as a QR code (dark on white, with the quiet zone), or an empty string
/// if the text is too long for a QR code.
pub fn svg(text: &str) -> String {
    code(text)
        .map(|c| {
            c.render::<svg::Color<'_>>()
                .min_dimensions(240, 240)
                .dark_color(svg::Color("#000000"))
                .light_color(svg::Color("#ffffff"))
                .build()
        })
        .unwrap_or_default()
}

/// `text` as a QR code drawn with half-block characters (two modules per character cell).
pub fn terminal(text: &str) -> Option<String> {
    code(text).map(|c| {
        c.render::<unicode::Dense1x2>()
            .dark_color(unicode::Dense1x2::Light)
            .light_color(unicode::Dense1x2::Dark)
            .build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_an_invite_sized_code() {
        let text = format!("cpinvite1{}", "a".repeat(300));
        let s = svg(&text);
        assert!(s.starts_with("<?xml") && s.contains("<svg"), "{s:.80}");
        let t = terminal(&text).unwrap();
        assert!(t.lines().count() > 20);
    }

    #[test]
    fn too_long_is_empty_not_a_panic() {
        assert_eq!(svg(&"x".repeat(10_000)), "");
        assert!(terminal(&"x".repeat(10_000)).is_none());
    }
}
