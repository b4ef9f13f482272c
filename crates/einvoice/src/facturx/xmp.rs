//! The Factur-X part of the XMP packet: reading `fx:ConformanceLevel` and adding the `fx:`
//! extension schema to the packet krilla writes.

use super::FacturxError;

/// Namespace of the Factur-X 1.0 XMP properties.
pub(crate) const FX_NS: &str = "urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#";

/// Reads the conformance level from an XMP packet: the value of any `ConformanceLevel` property,
/// written either as an element or as an attribute of `rdf:Description`, in whatever namespace
/// (Factur-X, ZUGFeRD 1/2 and XRechnung producers each use their own URN).
///
/// Returns `None` for an unparsable packet: the XMP is informative, the XML is what counts.
pub(crate) fn conformance_level(xmp: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(xmp).ok()?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options).ok()?;
    for node in doc.descendants().filter(|n| n.is_element()) {
        if node.tag_name().name() == "ConformanceLevel"
            && is_fx_like(node.tag_name().namespace())
            && let Some(t) = node.text().map(str::trim).filter(|t| !t.is_empty())
        {
            return Some(t.to_owned());
        }
        for attr in node.attributes() {
            if attr.name() == "ConformanceLevel" && is_fx_like(attr.namespace()) {
                let v = attr.value().trim();
                if !v.is_empty() {
                    return Some(v.to_owned());
                }
            }
        }
    }
    None
}

/// The Factur-X, ZUGFeRD and XRechnung URNs all end in `...:invoice:NpN#` or similar; what they
/// share is not being one of the PDF/A or Adobe namespaces.
fn is_fx_like(ns: Option<&str>) -> bool {
    match ns {
        Some(ns) => !ns.starts_with("http://www.aiim.org/") && !ns.starts_with("http://ns.adobe.com/"),
        None => false,
    }
}

/// Escapes text for XML element content.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// The `rdf:li` declaring the `fx:` schema inside a `pdfaExtension:schemas` Bag: without it a
/// PDF/A validator rejects the unknown `fx:` properties.
fn fx_schema_item() -> String {
    let property = |name: &str, description: &str| {
        format!(
            "<rdf:li rdf:parseType=\"Resource\">\
<pdfaProperty:name>{name}</pdfaProperty:name>\
<pdfaProperty:valueType>Text</pdfaProperty:valueType>\
<pdfaProperty:category>external</pdfaProperty:category>\
<pdfaProperty:description>{description}</pdfaProperty:description>\
</rdf:li>"
        )
    };
    let mut out = String::from(
        "<rdf:li rdf:parseType=\"Resource\">\
<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>",
    );
    out.push_str(&format!("<pdfaSchema:namespaceURI>{FX_NS}</pdfaSchema:namespaceURI>"));
    out.push_str("<pdfaSchema:prefix>fx</pdfaSchema:prefix><pdfaSchema:property><rdf:Seq>");
    out.push_str(&property("DocumentFileName", "The name of the embedded XML document"));
    out.push_str(&property(
        "DocumentType",
        "The type of the hybrid document in capital letters, e.g. INVOICE or ORDER",
    ));
    out.push_str(&property(
        "Version",
        "The actual version of the standard applying to the embedded XML document",
    ));
    out.push_str(&property(
        "ConformanceLevel",
        "The conformance level of the embedded XML document",
    ));
    out.push_str("</rdf:Seq></pdfaSchema:property></rdf:li>");
    out
}

/// The `rdf:Description` carrying the Factur-X property values.
fn fx_values(file_name: &str, conformance_level: &str) -> String {
    format!(
        "<rdf:Description rdf:about=\"\" xmlns:fx=\"{FX_NS}\">\
<fx:DocumentType>INVOICE</fx:DocumentType>\
<fx:DocumentFileName>{}</fx:DocumentFileName>\
<fx:Version>1.0</fx:Version>\
<fx:ConformanceLevel>{}</fx:ConformanceLevel>\
</rdf:Description>",
        escape(file_name),
        escape(conformance_level)
    )
}

/// Adds the Factur-X schema declaration and values to an existing XMP packet.
///
/// krilla already writes a `pdfaExtension:schemas` Bag (for `xmpMM` and `pdf`); RDF allows one
/// value per property, so the `fx` schema is appended to that Bag rather than declared in a
/// second Bag. A packet without extension schemas gets a new `rdf:Description` for it.
pub(crate) fn add_fx_schema(xmp: &[u8], file_name: &str, conformance_level: &str) -> Result<Vec<u8>, FacturxError> {
    let text = std::str::from_utf8(xmp).map_err(|e| FacturxError::Xmp(format!("packet is not UTF-8: {e}")))?;
    if text.contains(FX_NS) {
        return Err(FacturxError::Xmp(
            "packet already declares the Factur-X schema".to_owned(),
        ));
    }
    let end = text
        .rfind("</rdf:RDF>")
        .ok_or_else(|| FacturxError::Xmp("no </rdf:RDF> in packet".to_owned()))?;
    let mut out = String::with_capacity(text.len() + 2048);
    match text.find("</pdfaExtension:schemas>") {
        Some(schemas_end) => {
            let bag_end = text[..schemas_end]
                .rfind("</rdf:Bag>")
                .ok_or_else(|| FacturxError::Xmp("pdfaExtension:schemas has no Bag".to_owned()))?;
            if schemas_end > end {
                return Err(FacturxError::Xmp("extension schemas after </rdf:RDF>".to_owned()));
            }
            out.push_str(&text[..bag_end]);
            out.push_str(&fx_schema_item());
            out.push_str(&text[bag_end..end]);
        }
        None => {
            out.push_str(&text[..end]);
            out.push_str(
                "<rdf:Description rdf:about=\"\" \
xmlns:pdfaExtension=\"http://www.aiim.org/pdfa/ns/extension/\" \
xmlns:pdfaSchema=\"http://www.aiim.org/pdfa/ns/schema#\" \
xmlns:pdfaProperty=\"http://www.aiim.org/pdfa/ns/property#\">\
<pdfaExtension:schemas><rdf:Bag>",
            );
            out.push_str(&fx_schema_item());
            out.push_str("</rdf:Bag></pdfaExtension:schemas></rdf:Description>");
        }
    }
    out.push_str(&fx_values(file_name, conformance_level));
    out.push_str(&text[end..]);
    Ok(out.into_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    const KRILLA_LIKE: &str = r#"<?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"><pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="r"?>"#;

    #[test]
    fn patched_packet_parses_and_reports_level() {
        let out = add_fx_schema(KRILLA_LIKE.as_bytes(), "factur-x.xml", "BASIC WL").unwrap();
        assert_eq!(conformance_level(&out).as_deref(), Some("BASIC WL"));
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>"));
        assert!(text.contains("<pdfaid:part>3</pdfaid:part>"));
        assert!(text.ends_with("<?xpacket end=\"r\"?>"));
    }

    #[test]
    fn unpatched_packet_has_no_level() {
        assert_eq!(conformance_level(KRILLA_LIKE.as_bytes()), None);
    }

    #[test]
    fn attribute_form_is_read() {
        let xmp = r#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:zf="urn:zugferd:pdfa:CrossIndustryDocument:invoice:2p0#" zf:ConformanceLevel="EXTENDED"/></rdf:RDF></x:xmpmeta>"#;
        assert_eq!(conformance_level(xmp.as_bytes()).as_deref(), Some("EXTENDED"));
    }

    #[test]
    fn schema_property_names_are_not_mistaken_for_values() {
        // Only the extension schema, whose pdfaProperty:name text is "ConformanceLevel".
        let only_schema = add_fx_schema(KRILLA_LIKE.as_bytes(), "factur-x.xml", "X")
            .map(|v| String::from_utf8(v).unwrap())
            .unwrap()
            .replace("<fx:ConformanceLevel>X</fx:ConformanceLevel>", "");
        assert_eq!(conformance_level(only_schema.as_bytes()), None);
    }

    /// Shape of krilla 0.8's packet: one Description that already has a pdfaExtension Bag.
    const WITH_BAG: &str = r#"<?xpacket begin="﻿" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#"><pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource"><pdfaSchema:schema>Adobe PDF schema</pdfaSchema:schema><pdfaSchema:namespaceURI>http://ns.adobe.com/pdf/1.3/</pdfaSchema:namespaceURI><pdfaSchema:prefix>pdf</pdfaSchema:prefix></rdf:li></rdf:Bag></pdfaExtension:schemas><pdfaid:part>3</pdfaid:part><pdfaid:conformance>B</pdfaid:conformance></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="r"?>"#;

    #[test]
    fn fx_schema_joins_an_existing_bag() {
        let out = add_fx_schema(WITH_BAG.as_bytes(), "factur-x.xml", "EN 16931").unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("<pdfaExtension:schemas>").count(), 1);
        assert_eq!(text.matches("<rdf:Bag>").count(), 1);
        let doc = roxmltree::Document::parse(&text).unwrap();
        let prefixes: Vec<_> = doc
            .descendants()
            .filter(|n| n.tag_name().name() == "prefix")
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(prefixes, ["pdf", "fx"]);
        assert_eq!(conformance_level(text.as_bytes()).as_deref(), Some("EN 16931"));
    }

    #[test]
    fn refuses_packets_without_rdf_or_with_extension() {
        assert!(add_fx_schema(b"<x/>", "f", "EN 16931").is_err());
        let twice = add_fx_schema(KRILLA_LIKE.as_bytes(), "f", "EN 16931").unwrap();
        assert!(add_fx_schema(&twice, "f", "EN 16931").is_err());
    }
}
