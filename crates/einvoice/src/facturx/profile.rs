//! Factur-X profiles, as named by the CII guideline id and by the XMP conformance level.

/// A Factur-X / ZUGFeRD profile (plus XRechnung, the German CIUS carried the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    Minimum,
    BasicWl,
    Basic,
    En16931,
    Extended,
    XRechnung,
}

impl Profile {
    /// All profiles, smallest first.
    pub const ALL: [Profile; 6] = [
        Profile::Minimum,
        Profile::BasicWl,
        Profile::Basic,
        Profile::En16931,
        Profile::Extended,
        Profile::XRechnung,
    ];

    /// Lower-case identifier used in manifests, CLI output and the API (`basicwl`, `en16931`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Minimum => "minimum",
            Profile::BasicWl => "basicwl",
            Profile::Basic => "basic",
            Profile::En16931 => "en16931",
            Profile::Extended => "extended",
            Profile::XRechnung => "xrechnung",
        }
    }

    /// The value written to `fx:ConformanceLevel` in the XMP packet (Factur-X 1.0 spelling).
    pub fn conformance_level(self) -> &'static str {
        match self {
            Profile::Minimum => "MINIMUM",
            Profile::BasicWl => "BASIC WL",
            Profile::Basic => "BASIC",
            Profile::En16931 => "EN 16931",
            Profile::Extended => "EXTENDED",
            Profile::XRechnung => "XRECHNUNG",
        }
    }

    /// The canonical Factur-X 1.0 guideline id (BT-24) of the profile.
    pub fn guideline(self) -> &'static str {
        match self {
            Profile::Minimum => "urn:factur-x.eu:1p0:minimum",
            Profile::BasicWl => "urn:factur-x.eu:1p0:basicwl",
            Profile::Basic => "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
            Profile::En16931 => "urn:cen.eu:en16931:2017",
            Profile::Extended => "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
            Profile::XRechnung => "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
        }
    }

    /// Parses a manifest-style identifier (the inverse of [`Profile::as_str`]).
    pub fn parse(s: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }

    /// Maps a CII guideline id (BT-24, `GuidelineSpecifiedDocumentContextParameter/ID`) to a
    /// profile. Accepts the Factur-X 1.0 ids, the ZUGFeRD 2.x ids (`urn:zugferd.de:2p0:...`) and
    /// any XRechnung version; unknown CIUS ids give `None` rather than a guess.
    pub fn from_guideline(id: &str) -> Option<Profile> {
        let id = id.trim().to_ascii_lowercase();
        if id.contains("xrechnung") {
            return Some(Profile::XRechnung);
        }
        if id == "urn:cen.eu:en16931:2017" {
            return Some(Profile::En16931);
        }
        // The profile is the last segment of the extension id, e.g.
        // `urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic`.
        let tail = id.rsplit('#').next().unwrap_or(&id);
        let known_family = tail.starts_with("urn:factur-x.eu:1p0:")
            || tail.starts_with("urn:zugferd.de:2p0:")
            || tail.starts_with("urn:zugferd.de:2p1:");
        if !known_family {
            return None;
        }
        match tail.rsplit(':').next() {
            Some("minimum") => Some(Profile::Minimum),
            Some("basicwl") => Some(Profile::BasicWl),
            Some("basic") => Some(Profile::Basic),
            Some("en16931") => Some(Profile::En16931),
            Some("extended") => Some(Profile::Extended),
            _ => None,
        }
    }

    /// Maps an XMP `fx:ConformanceLevel` value to a profile (case and spacing tolerant:
    /// `BASIC WL`, `BASICWL`, `EN 16931`, `EN16931`; ZUGFeRD 1's `COMFORT` is EN 16931's ancestor
    /// and is reported as such).
    pub fn from_conformance_level(level: &str) -> Option<Profile> {
        let compact: String = level
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '_' && *c != '-')
            .collect::<String>()
            .to_ascii_uppercase();
        match compact.as_str() {
            "MINIMUM" => Some(Profile::Minimum),
            "BASICWL" => Some(Profile::BasicWl),
            "BASIC" => Some(Profile::Basic),
            "EN16931" | "COMFORT" => Some(Profile::En16931),
            "EXTENDED" => Some(Profile::Extended),
            "XRECHNUNG" => Some(Profile::XRechnung),
            _ => None,
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Reads the guideline id (BT-24) of a CII document: the text of
/// `ExchangedDocumentContext/GuidelineSpecifiedDocumentContextParameter/ID`.
///
/// Returns `None` when the bytes are not well-formed XML or the element is absent. DTDs are
/// refused so that an attachment cannot smuggle entity expansion in.
pub fn guideline_id(xml: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(xml).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).ok()?;
    guideline_id_in(&doc)
}

/// [`guideline_id`] of a document already parsed.
pub fn guideline_id_in(doc: &roxmltree::Document<'_>) -> Option<String> {
    let context = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name_local("ExchangedDocumentContext"))?;
    let param = context
        .children()
        .find(|n| n.has_tag_name_local("GuidelineSpecifiedDocumentContextParameter"))?;
    let id = param.children().find(|n| n.has_tag_name_local("ID"))?;
    id.text().map(|t| t.trim().to_owned())
}

/// The profile a CII document declares through its guideline id.
pub fn guideline_profile(xml: &[u8]) -> Option<Profile> {
    guideline_id(xml).as_deref().and_then(Profile::from_guideline)
}

/// Local-name matching: CII prefixes (`rsm:`, `ram:`) vary between producers.
trait LocalName {
    fn has_tag_name_local(&self, name: &str) -> bool;
}

impl LocalName for roxmltree::Node<'_, '_> {
    fn has_tag_name_local(&self, name: &str) -> bool {
        self.is_element() && self.tag_name().name() == name
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    #[test]
    fn guideline_ids_map_to_profiles() {
        let cases = [
            ("urn:factur-x.eu:1p0:minimum", Some(Profile::Minimum)),
            ("urn:factur-x.eu:1p0:basicwl", Some(Profile::BasicWl)),
            (
                "urn:cen.eu:en16931:2017#compliant#urn:factur-x.eu:1p0:basic",
                Some(Profile::Basic),
            ),
            ("urn:cen.eu:en16931:2017", Some(Profile::En16931)),
            (" urn:cen.eu:en16931:2017\n", Some(Profile::En16931)),
            (
                "urn:cen.eu:en16931:2017#conformant#urn:factur-x.eu:1p0:extended",
                Some(Profile::Extended),
            ),
            (
                "urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0",
                Some(Profile::XRechnung),
            ),
            (
                "urn:cen.eu:en16931:2017#compliant#urn:xoev-de:kosit:standard:xrechnung_1.2",
                Some(Profile::XRechnung),
            ),
            ("urn:zugferd.de:2p0:minimum", Some(Profile::Minimum)),
            (
                "urn:cen.eu:en16931:2017#conformant#urn:zugferd.de:2p0:extended",
                Some(Profile::Extended),
            ),
            (
                "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
                None,
            ),
            ("urn:example:basic", None),
            ("", None),
        ];
        for (id, want) in cases {
            assert_eq!(Profile::from_guideline(id), want, "{id:?}");
        }
    }

    #[test]
    fn canonical_guidelines_round_trip() {
        for p in Profile::ALL {
            assert_eq!(Profile::from_guideline(p.guideline()), Some(p));
            assert_eq!(Profile::from_conformance_level(p.conformance_level()), Some(p));
            assert_eq!(Profile::parse(p.as_str()), Some(p));
        }
    }

    #[test]
    fn conformance_levels_are_spacing_tolerant() {
        assert_eq!(Profile::from_conformance_level("BASIC WL"), Some(Profile::BasicWl));
        assert_eq!(Profile::from_conformance_level("basicwl"), Some(Profile::BasicWl));
        assert_eq!(Profile::from_conformance_level(" EN 16931 "), Some(Profile::En16931));
        assert_eq!(Profile::from_conformance_level("EN16931"), Some(Profile::En16931));
        assert_eq!(Profile::from_conformance_level("GOLD"), None);
    }

    #[test]
    fn reads_guideline_from_cii() {
        let xml = br#"<?xml version="1.0"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100">
  <rsm:ExchangedDocumentContext>
    <ram:BusinessProcessSpecifiedDocumentContextParameter><ram:ID>A1</ram:ID></ram:BusinessProcessSpecifiedDocumentContextParameter>
    <ram:GuidelineSpecifiedDocumentContextParameter>
      <ram:ID>urn:factur-x.eu:1p0:basicwl</ram:ID>
    </ram:GuidelineSpecifiedDocumentContextParameter>
  </rsm:ExchangedDocumentContext>
</rsm:CrossIndustryInvoice>"#;
        assert_eq!(guideline_id(xml).as_deref(), Some("urn:factur-x.eu:1p0:basicwl"));
        assert_eq!(guideline_profile(xml), Some(Profile::BasicWl));
    }

    #[test]
    fn guideline_of_garbage_is_none() {
        assert_eq!(guideline_id(b"not xml"), None);
        assert_eq!(guideline_id(&[0xff, 0xfe, 0x00]), None);
        let dtd = br#"<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>"#;
        assert_eq!(guideline_id(dtd), None);
    }
}
