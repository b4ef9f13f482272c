//! The human-readable side of a Factur-X PDF: what to print and where.
//!
//! Layout is computed here as plain drawing operations (pure, unit-testable: pagination,
//! wrapping, alignment) and [`super::generate`] replays them on krilla pages. Amounts arrive as
//! already formatted strings so that the rendering never re-rounds what the XML says.

/// One party block (seller or buyer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    /// Address lines, identifiers (SIRET, VAT id), contact: printed one per row.
    pub lines: Vec<String>,
}

/// One invoice line as printed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderingLine {
    pub id: String,
    pub name: String,
    pub quantity: String,
    pub unit: String,
    pub unit_price: String,
    pub vat_rate: String,
    pub net_amount: String,
}

/// One row of the VAT breakdown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VatRow {
    pub category: String,
    pub rate: String,
    pub taxable_amount: String,
    pub tax_amount: String,
    /// Exemption reason, if any (printed under the row).
    pub exemption: Option<String>,
}

/// Document totals (BG-22), formatted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub line_total: String,
    pub allowances: Option<String>,
    pub charges: Option<String>,
    pub tax_exclusive: String,
    pub tax: String,
    pub tax_inclusive: String,
    pub prepaid: Option<String>,
    pub payable: String,
}

/// Everything printed on the visual invoice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendering {
    /// Document title, e.g. `Facture` or `Avoir`.
    pub title: String,
    pub number: String,
    /// ISO date `YYYY-MM-DD`; also used as the PDF and attachment date.
    pub issue_date: String,
    pub due_date: Option<String>,
    pub currency: String,
    pub buyer_reference: Option<String>,
    pub seller: Party,
    pub buyer: Party,
    pub lines: Vec<RenderingLine>,
    pub vat: Vec<VatRow>,
    pub totals: Totals,
    /// Free-text notes (BT-22) and payment terms.
    pub notes: Vec<String>,
    /// Payment instructions, e.g. `IBAN FR76 ...`.
    pub payment: Vec<String>,
}

/// A4 portrait, in PostScript points.
pub(crate) const PAGE_W: f32 = 595.0;
pub(crate) const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 42.0;
const RIGHT: f32 = PAGE_W - MARGIN;
/// Lowest baseline used for content; the footer sits below it.
const BOTTOM: f32 = PAGE_H - 64.0;
const BODY: f32 = 9.0;
const ROW: f32 = 12.0;
/// Description lines printed per invoice line at most; the XML has the full text.
const MAX_DESC_ROWS: usize = 6;

/// A drawing operation in page coordinates (origin top-left, `y` is the text baseline).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        text: String,
    },
    Rule {
        x1: f32,
        x2: f32,
        y: f32,
    },
}

/// Approximate advance of a character in DejaVu Sans, in em. Digits, space and punctuation are
/// exact (tabular digits), letters are rounded up: good enough to right-align amounts and to
/// wrap before the column edge without a shaping pass.
fn advance(c: char, bold: bool) -> f32 {
    let regular = match c {
        '0'..='9' => 0.637,
        ' ' | '.' | ',' | ':' | ';' | '\'' | '!' | '|' => 0.3179,
        'i' | 'j' | 'l' | 'I' | 'J' => 0.30,
        '-' | '(' | ')' | '/' => 0.39,
        'f' | 't' | 'r' => 0.41,
        'm' | 'M' | 'W' | 'w' | '%' | '@' => 0.98,
        'a'..='z' => 0.63,
        'A'..='Z' => 0.74,
        _ => 0.80,
    };
    if bold { regular * 1.12 } else { regular }
}

pub(crate) fn text_width(text: &str, size: f32, bold: bool) -> f32 {
    text.chars().map(|c| advance(c, bold)).sum::<f32>() * size
}

/// Drops control characters (they have no glyph and would print as boxes).
fn clean(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// Greedy word wrap to `width` points, cutting over-long words, at most `max_rows` rows (the
/// last one ends with an ellipsis when text was dropped).
pub(crate) fn wrap(text: &str, width: f32, size: f32, bold: bool, max_rows: usize) -> Vec<String> {
    let mut rows: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in clean(text).split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if text_width(&candidate, size, bold) <= width {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            rows.push(std::mem::take(&mut current));
        }
        // Cut a word wider than the column into pieces.
        let mut piece = String::new();
        for c in word.chars() {
            piece.push(c);
            if text_width(&piece, size, bold) > width {
                piece.pop();
                rows.push(std::mem::take(&mut piece));
                piece.push(c);
            }
        }
        current = piece;
    }
    if !current.is_empty() {
        rows.push(current);
    }
    if rows.len() > max_rows {
        rows.truncate(max_rows);
        if let Some(last) = rows.last_mut() {
            while !last.is_empty() && text_width(&format!("{last}…"), size, bold) > width {
                last.pop();
            }
            last.push('…');
        }
    }
    rows
}

/// Table columns of the line section: (left edge or right edge, right-aligned?).
const COL_ID: f32 = MARGIN;
const COL_DESC: f32 = MARGIN + 34.0;
const COL_DESC_W: f32 = 212.0;
const COL_QTY_R: f32 = 340.0;
const COL_UNIT: f32 = 346.0;
const COL_PRICE_R: f32 = 440.0;
const COL_VAT_R: f32 = 482.0;
const COL_NET_R: f32 = RIGHT;

struct Pages {
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        Pages {
            pages: vec![Vec::new()],
            y: MARGIN + 16.0,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, text: &str) {
        let y = self.y;
        let text = clean(text);
        if !text.trim().is_empty() {
            self.ops().push(Op::Text { x, y, size, bold, text });
        }
    }

    fn text_right(&mut self, right: f32, size: f32, bold: bool, text: &str) {
        let x = right - text_width(&clean(text), size, bold);
        self.text(x, size, bold, text);
    }

    fn rule(&mut self, y: f32) {
        self.ops().push(Op::Rule {
            x1: MARGIN,
            x2: RIGHT,
            y,
        });
    }

    /// Starts a new page when `height` more points do not fit; returns whether it did.
    fn ensure(&mut self, height: f32) -> bool {
        if self.y + height > BOTTOM {
            self.pages.push(Vec::new());
            self.y = MARGIN + 16.0;
            true
        } else {
            false
        }
    }
}

fn line_table_header(p: &mut Pages) {
    p.text(COL_ID, BODY, true, "#");
    p.text(COL_DESC, BODY, true, "Désignation");
    p.text_right(COL_QTY_R, BODY, true, "Qté");
    p.text(COL_UNIT, BODY, true, "Unité");
    p.text_right(COL_PRICE_R, BODY, true, "P.U. HT");
    p.text_right(COL_VAT_R, BODY, true, "TVA %");
    p.text_right(COL_NET_R, BODY, true, "Montant HT");
    let y = p.y + 4.0;
    p.rule(y);
    p.y += ROW + 2.0;
}

/// Lays the invoice out on as many A4 pages as needed; `footer` is printed on every page
/// together with the page number.
pub(crate) fn layout(r: &Rendering, footer: &str) -> Vec<Vec<Op>> {
    let mut p = Pages::new();

    // Header: title left, references right.
    let title = if r.title.trim().is_empty() {
        "Facture"
    } else {
        r.title.as_str()
    };
    p.text(MARGIN, 20.0, true, title);
    let mut refs = vec![format!("N° {}", r.number), format!("Date : {}", r.issue_date)];
    if let Some(due) = &r.due_date {
        refs.push(format!("Échéance : {due}"));
    }
    refs.push(format!("Devise : {}", r.currency));
    if let Some(br) = &r.buyer_reference {
        refs.push(format!("Réf. acheteur : {br}"));
    }
    for (i, line) in refs.iter().enumerate() {
        let saved = p.y;
        p.y = saved - 8.0 + i as f32 * ROW;
        p.text_right(RIGHT, BODY, i == 0, line);
        p.y = saved;
    }
    p.y += (refs.len() as f32) * ROW + 10.0;

    // Parties, side by side.
    let top = p.y;
    let col_w = (RIGHT - MARGIN) / 2.0 - 12.0;
    let mut bottom = top;
    for (x, label, party) in [
        (MARGIN, "Vendeur", &r.seller),
        (MARGIN + (RIGHT - MARGIN) / 2.0, "Acheteur", &r.buyer),
    ] {
        p.y = top;
        p.text(x, 8.0, true, label);
        p.y += ROW;
        for row in wrap(&party.name, col_w, 10.0, true, 2) {
            p.text(x, 10.0, true, &row);
            p.y += ROW + 1.0;
        }
        for line in &party.lines {
            for row in wrap(line, col_w, BODY, false, 2) {
                p.text(x, BODY, false, &row);
                p.y += ROW;
            }
        }
        bottom = bottom.max(p.y);
    }
    p.y = bottom + 14.0;

    // Lines.
    line_table_header(&mut p);
    for line in &r.lines {
        let desc = wrap(&line.name, COL_DESC_W, BODY, false, MAX_DESC_ROWS);
        let rows = desc.len().max(1) as f32;
        if p.ensure(rows * ROW + 2.0) {
            line_table_header(&mut p);
        }
        let id_rows = wrap(&line.id, COL_DESC - COL_ID - 4.0, BODY, false, 1);
        p.text(COL_ID, BODY, false, id_rows.first().map_or("", String::as_str));
        p.text_right(COL_QTY_R, BODY, false, &line.quantity);
        let unit = wrap(&line.unit, COL_PRICE_R - COL_UNIT - 56.0, BODY, false, 1);
        p.text(COL_UNIT, BODY, false, unit.first().map_or("", String::as_str));
        p.text_right(COL_PRICE_R, BODY, false, &line.unit_price);
        p.text_right(COL_VAT_R, BODY, false, &line.vat_rate);
        p.text_right(COL_NET_R, BODY, false, &line.net_amount);
        for row in &desc {
            p.text(COL_DESC, BODY, false, row);
            p.y += ROW;
        }
        if desc.is_empty() {
            p.y += ROW;
        }
        p.y += 2.0;
    }
    let y = p.y - ROW + 4.0;
    p.rule(y);
    p.y += 10.0;

    // VAT breakdown.
    let vat_rows: f32 = r
        .vat
        .iter()
        .map(|v| if v.exemption.is_some() { 2.0 } else { 1.0 })
        .sum();
    p.ensure((vat_rows + 2.0) * ROW);
    p.text(MARGIN, 10.0, true, "Détail de la TVA");
    p.y += ROW + 2.0;
    p.text(MARGIN, BODY, true, "Catégorie");
    p.text_right(MARGIN + 150.0, BODY, true, "Taux %");
    p.text_right(MARGIN + 270.0, BODY, true, "Base HT");
    p.text_right(MARGIN + 370.0, BODY, true, "Montant TVA");
    p.y += ROW;
    for v in &r.vat {
        p.ensure(ROW * 2.0);
        p.text(MARGIN, BODY, false, &v.category);
        p.text_right(MARGIN + 150.0, BODY, false, &v.rate);
        p.text_right(MARGIN + 270.0, BODY, false, &v.taxable_amount);
        p.text_right(MARGIN + 370.0, BODY, false, &v.tax_amount);
        p.y += ROW;
        if let Some(reason) = &v.exemption {
            for row in wrap(reason, RIGHT - MARGIN - 20.0, 8.0, false, 2) {
                p.text(MARGIN + 20.0, 8.0, false, &row);
                p.y += ROW;
            }
        }
    }
    p.y += 10.0;

    // Totals, right-aligned block.
    let t = &r.totals;
    let mut totals: Vec<(&str, &str, bool)> = vec![("Total HT des lignes", &t.line_total, false)];
    if let Some(a) = &t.allowances {
        totals.push(("Remises", a, false));
    }
    if let Some(c) = &t.charges {
        totals.push(("Frais", c, false));
    }
    totals.push(("Total HT", &t.tax_exclusive, false));
    totals.push(("Total TVA", &t.tax, false));
    totals.push(("Total TTC", &t.tax_inclusive, true));
    if let Some(pp) = &t.prepaid {
        totals.push(("Déjà payé", pp, false));
    }
    totals.push(("Net à payer", &t.payable, true));
    p.ensure(totals.len() as f32 * (ROW + 2.0) + 4.0);
    for (label, value, bold) in totals {
        let size = if bold { 10.0 } else { BODY };
        p.text(RIGHT - 220.0, size, bold, label);
        p.text_right(RIGHT, size, bold, &format!("{value} {}", r.currency));
        p.y += ROW + 2.0;
    }
    p.y += 8.0;

    // Notes and payment instructions.
    for (label, items) in [("Paiement", &r.payment), ("Notes", &r.notes)] {
        if items.is_empty() {
            continue;
        }
        p.ensure(ROW * 3.0);
        p.text(MARGIN, 10.0, true, label);
        p.y += ROW + 2.0;
        for item in items {
            for row in wrap(item, RIGHT - MARGIN, BODY, false, 12) {
                p.ensure(ROW);
                p.text(MARGIN, BODY, false, &row);
                p.y += ROW;
            }
        }
        p.y += 6.0;
    }

    // Footers, now that the page count is known.
    let count = p.pages.len();
    for (i, page) in p.pages.iter_mut().enumerate() {
        page.push(Op::Rule {
            x1: MARGIN,
            x2: RIGHT,
            y: PAGE_H - 46.0,
        });
        page.push(Op::Text {
            x: MARGIN,
            y: PAGE_H - 34.0,
            size: 7.0,
            bold: false,
            text: clean(footer),
        });
        let label = format!("Page {} / {count}", i + 1);
        page.push(Op::Text {
            x: RIGHT - text_width(&label, 7.0, false),
            y: PAGE_H - 34.0,
            size: 7.0,
            bold: false,
            text: label,
        });
    }
    p.pages
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests fail loudly on purpose
mod tests {
    use super::*;

    fn sample(lines: usize) -> Rendering {
        Rendering {
            title: "Facture".into(),
            number: "F-1".into(),
            issue_date: "2026-01-31".into(),
            currency: "EUR".into(),
            seller: Party {
                name: "Vendeur SA".into(),
                lines: vec!["1 rue A".into(), "75001 Paris".into()],
            },
            buyer: Party {
                name: "Mairie".into(),
                lines: vec![],
            },
            lines: (0..lines)
                .map(|i| RenderingLine {
                    id: format!("{}", i + 1),
                    name: format!("Article numéro {i}"),
                    quantity: "1".into(),
                    unit: "C62".into(),
                    unit_price: "10.00".into(),
                    vat_rate: "20".into(),
                    net_amount: "10.00".into(),
                })
                .collect(),
            ..Rendering::default()
        }
    }

    fn texts(pages: &[Vec<Op>]) -> Vec<&str> {
        pages
            .iter()
            .flatten()
            .filter_map(|op| match op {
                Op::Text { text, .. } => Some(text.as_str()),
                Op::Rule { .. } => None,
            })
            .collect()
    }

    #[test]
    fn wrap_respects_width_and_row_cap() {
        let rows = wrap("alpha beta gamma delta epsilon", 60.0, 9.0, false, 10);
        assert!(rows.len() > 1);
        for r in &rows {
            assert!(text_width(r, 9.0, false) <= 60.0, "{r}");
        }
        let capped = wrap(&"word ".repeat(200), 60.0, 9.0, false, 2);
        assert_eq!(capped.len(), 2);
        assert!(capped[1].ends_with('…'));
        let long = wrap(&"x".repeat(300), 50.0, 9.0, false, 100);
        assert!(long.len() > 3);
        assert!(wrap("", 50.0, 9.0, false, 3).is_empty());
    }

    #[test]
    fn small_invoice_fits_one_page_and_long_one_paginates() {
        let one = layout(&sample(3), "footer");
        assert_eq!(one.len(), 1);
        let many = layout(&sample(200), "footer");
        assert!(many.len() >= 4, "{} pages", many.len());
        let all = texts(&many);
        for i in 0..200 {
            let want = format!("Article numéro {i}");
            assert!(all.contains(&want.as_str()), "missing line {i}");
        }
        let n = many.len();
        assert!(all.contains(&format!("Page {n} / {n}").as_str()));
        // Every page repeats the table header or is the totals page.
        for page in &many {
            for op in page {
                if let Op::Text { y, .. } = op {
                    assert!(*y <= PAGE_H - 30.0 && *y >= 0.0);
                }
            }
        }
    }

    #[test]
    fn amounts_are_right_aligned() {
        let pages = layout(&sample(1), "f");
        let net = pages[0]
            .iter()
            .find_map(|op| match op {
                Op::Text { x, text, .. } if text == "10.00" => Some(*x),
                _ => None,
            })
            .unwrap();
        assert!(
            (net + text_width("10.00", BODY, false) - COL_PRICE_R).abs() < 0.01
                || (net + text_width("10.00", BODY, false) - COL_NET_R).abs() < 0.01
        );
    }

    #[test]
    fn control_characters_are_not_printed() {
        let mut r = sample(1);
        r.seller.name = "A\u{0}B\tC".into();
        let pages = layout(&r, "f");
        assert!(texts(&pages).contains(&"A B C"));
    }
}
