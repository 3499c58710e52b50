//! Unit tests of the HTML tokenizer, cell text and table choice.

use super::*;

fn texts(rows: &[Vec<Cell>]) -> Vec<Vec<&str>> {
    rows.iter()
        .map(|row| {
            row.iter()
                .map(|cell| match cell {
                    Cell::Text(text) => text.as_str(),
                    Cell::Empty => "",
                    other => panic!("not text: {other:?}"),
                })
                .collect()
        })
        .collect()
}

fn table(html: &str) -> Vec<Vec<Cell>> {
    rows(Cow::Borrowed(html))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn tokens(html: &str) -> Vec<Token<'_>> {
    let mut pos = 0;
    std::iter::from_fn(|| next_token(html, &mut pos)).collect()
}

#[test]
fn tokenizer_skips_comments_doctypes_and_raw_text() {
    let html = "<!DOCTYPE html><!-- <td>x</td> --><?xml v?><script>if (a<b) '<td>'</script>\
                <TD Class='a>b' colspan=2>x < y</td ><style>td{}</STYLE>";
    assert_eq!(
        tokens(html),
        vec![
            Token::Start("script", ""),
            Token::End("script"),
            Token::Start("TD", " Class='a>b' colspan=2"),
            Token::Text("x "),
            Token::Text("< y"),
            Token::End("td"),
            Token::Start("style", ""),
            Token::End("STYLE"),
        ]
    );
    // Unterminated constructs end the document instead of looping.
    assert_eq!(tokens("<!-- open"), vec![]);
    assert_eq!(
        tokens("<td title=\"open"),
        vec![Token::Start("td", " title=\"open")]
    );
    assert_eq!(
        tokens("<script>never closed <td>"),
        vec![Token::Start("script", "")]
    );
}

#[test]
fn cell_text_decodes_references_breaks_and_nested_tags() {
    let rows = table(
        "<table><tr><td> NEFT-HDFC&amp;Co&nbsp;&nbsp;<br>Salary</td>\
         <td><b>1,250</b>.00&#160;Cr</td><td>&#8377;&#x20B9;&#128;&copy;&bogus;&amp</td>\
         <td>a&shy;b<div>c</div>d</td><td>&nbsp;</td></tr></table>",
    );
    assert_eq!(
        texts(&rows),
        vec![vec![
            "NEFT-HDFC&Co Salary",
            "1,250.00 Cr",
            "₹₹€©&bogus;&",
            "ab c d",
            ""
        ]]
    );
}

#[test]
fn implied_end_tags_and_colspan_keep_columns_aligned() {
    let rows = table(
        "<table><thead><tr><th>Date<th>Narration<th>Amount</thead>\
         <tbody><tr><td>01/04/2024<td>UPI<td>-50\
         <tr><td colspan=\"2\">Total<td>-50\
         <tr><td colspan=999>Generated on 02/04/2024</table>",
    );
    let expected: Vec<Vec<&str>> = vec![
        vec!["Date", "Narration", "Amount"],
        vec!["01/04/2024", "UPI", "-50"],
        vec!["Total", "", "-50"],
    ];
    assert_eq!(texts(&rows[..3]), expected);
    assert_eq!(rows[3].len(), MAX_COLUMNS);
}

#[test]
fn chooses_the_statement_table_over_layout_and_larger_tables() {
    let html = "<html><body>\
        <table><tr><td>Account Name</td><td>RAVI KUMAR</td></tr>\
        <tr><td>Branch</td><td>MG ROAD</td></tr><tr><td>IFSC</td><td>PUNB0123400</td></tr>\
        <tr><td>Period</td><td>April 2024</td></tr></table>\
        <table><tr><th>Txn Date</th><th>Description</th><th>Debit</th><th>Credit</th></tr>\
        <tr><td>01-04-2024</td><td>NEFT-SALARY</td><td></td><td>50,000.00</td></tr></table>\
        </body></html>";
    assert_eq!(choose_table(html).unwrap(), Some(1));
    assert_eq!(texts(&table(html))[1][1], "NEFT-SALARY");
    // Without a statement header the table with the most rows wins; the earlier on a tie.
    let plain = "<table><tr><td>a</td></tr></table><table><tr><td>b<tr><td>c</table>\
                 <table><tr><td>d<tr><td>e</table>";
    assert_eq!(choose_table(plain).unwrap(), Some(1));
    // A table with no rows is never chosen.
    assert_eq!(choose_table("<table></table>").unwrap(), None);
    assert!(matches!(
        rows(Cow::Borrowed("<table> </table>")),
        Err(StatementError::Unreadable(_))
    ));
}

#[test]
fn nested_tables_are_tables_of_their_own() {
    let html = "<table><tr><td>Outer<table><tr><th>Date</th><th>Remarks</th><th>Amount</th>\
        <tr><td>2024-04-01</td><td>POS 4321XXXX1234 AMAZON</td><td>-499</td></table>after</td>\
        <td>second</td></tr></table>";
    assert_eq!(choose_table(html).unwrap(), Some(1));
    assert_eq!(texts(&table(html))[1][1], "POS 4321XXXX1234 AMAZON");
    let mut walker = Walker::default();
    let mut events = Vec::new();
    while let Some(event) = walker.next_event(html).unwrap() {
        events.push(event);
    }
    assert_eq!(
        events.last(),
        Some(&Event::TableEnd(0)),
        "the outer table ends last"
    );
    assert!(events.contains(&Event::Row(
        0,
        vec![
            Cell::Text("Outer after".into()),
            Cell::Text("second".into())
        ]
    )));
}

#[test]
fn hostile_markup_stays_bounded() {
    // Deep nesting: tables past MAX_DEPTH are skipped with their cells.
    let deep = format!("{}<tr><td>x", "<table>".repeat(1000));
    let mut walker = Walker::default();
    let mut events = 0;
    while walker.next_event(&deep).unwrap().is_some() {
        events += 1;
    }
    assert_eq!(walker.tables_seen, MAX_DEPTH);
    assert_eq!(events, MAX_DEPTH);
    // Too many cells in one row is an error, not unbounded growth.
    let wide = format!("<table><tr>{}</table>", "<td>1".repeat(MAX_COLUMNS + 1));
    assert!(matches!(
        rows(Cow::Borrowed(&wide)).map(|_| ()),
        Err(StatementError::TooLarge(_))
    ));
    // Unclosed tags at the end of the document still close the table.
    assert_eq!(texts(&table("<table><tr><td>a<td>b")), vec![vec!["a", "b"]]);
}

#[test]
fn sniffing_markup() {
    assert!(is_html("  \r\n<!DOCTYPE html><TABLE>"));
    assert!(is_html("<html><body><table border=1>"));
    assert!(!is_html("<html><body>Session expired</body></html>"));
    assert!(is_markup("<?xml version=\"1.0\"?>"));
    assert!(!is_markup("Date,Amount"));
    assert!(!is_markup("< 5,Amount"));
    assert!(!is_markup("Date,Description\n01/04/2024,<b>x</b>"));
}

#[test]
fn attributes_and_references() {
    assert_eq!(attribute(" a=1 COLSPAN = '3' b", "colspan"), Some("3"));
    assert_eq!(attribute(" nowrap colspan=4 /", "colspan"), Some("4"));
    assert_eq!(attribute(" x=\"colspan=9\"", "colspan"), None);
    assert_eq!(colspan(" colspan=\"0\""), 1);
    assert_eq!(colspan(" colspan=\"99999999999\""), MAX_COLUMNS);
    assert_eq!(colspan(" colspan=2px"), 2);
    let mut out = String::new();
    decode_references("&#0;&#xD800;&#99999999999;&#;&#x;&lt&gt;", &mut out);
    assert_eq!(out, "\u{FFFD}\u{FFFD}\u{FFFD}&#;&#x;<>");
}
