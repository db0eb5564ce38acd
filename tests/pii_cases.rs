//! Evidence table of the PII masker: every row of `tests/data/pii_cases.jsonl` (written by
//! `scripts/pii_cases.py`) is masked with `xinsheng::text::mask` and compared with its expected
//! fully masked text.
//!
//!     cargo test --release --test pii_cases -- --nocapture
//!
//! Figures (printed as a table):
//! * **recall** — PII items masked / PII items. An item is a group of characters that the
//!   expected text masks (replaced by `*` or removed), contiguous up to single separators
//!   (`138 1234 5678` and `一三八。一二三四。五六七八` are one item each; the parts of an address `**号*栋` are items each). An item
//!   counts as masked when the output masks every one of its characters.
//! * **look-alikes kept** — rows marked `lookalike` (order and tracking numbers, amounts, dates,
//!   codes, 工号, hotlines, numbers failing their check digit, words that look like names)
//!   whose output is the input unchanged / such rows.
//! * **precision** — characters the output masks that the expected text masks too / characters
//!   the output masks (all rows).
//! * **exact** — rows whose output equals the expected text.
//!
//! The goals are asserted: recall ≥ 0.99 and look-alikes kept ≥ 0.98.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use xinsheng::text::{find_pii, mask};

#[derive(Debug, Deserialize)]
struct Case {
    text: String,
    expected: String,
    kinds: Vec<String>,
    lookalike: bool,
}

fn cases() -> Vec<Case> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/pii_cases.jsonl");
    let data = std::fs::read_to_string(path).expect("tests/data/pii_cases.jsonl");
    data.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("line {}: {e}", i + 1)))
        .collect()
}

/// For each character of `text`: whether `masked` masks it (replaces it by `*` or removes it).
/// `masked` must be `text` with some characters replaced by `*` and some removed; the alignment
/// removes as few characters as possible and prefers keeping a character to masking it.
/// `None` when `masked` is not of that form.
fn masked_positions(text: &str, masked: &str) -> Option<Vec<bool>> {
    let a: Vec<char> = text.chars().collect();
    let b: Vec<char> = masked.chars().collect();
    let (n, m) = (a.len(), b.len());
    if m > n {
        return None;
    }
    const INF: usize = usize::MAX / 2;
    // cost[i][j]: fewest removals aligning a[i..] with b[j..].
    let mut cost = vec![vec![INF; m + 1]; n + 1];
    cost[n][m] = 0;
    for i in (0..n).rev() {
        for j in (0..=m).rev() {
            let mut best = cost[i + 1][j].saturating_add(1); // remove a[i]
            if j < m && (a[i] == b[j] || b[j] == '*') {
                best = best.min(cost[i + 1][j + 1]);
            }
            cost[i][j] = best;
        }
    }
    if cost[0][0] >= INF {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    let (mut i, mut j) = (0, 0);
    while i < n {
        if j < m && a[i] == b[j] && cost[i + 1][j + 1] == cost[i][j] {
            out.push(false);
            j += 1;
        } else if j < m && b[j] == '*' && cost[i + 1][j + 1] == cost[i][j] {
            out.push(true);
            j += 1;
        } else {
            out.push(true); // removed
        }
        i += 1;
    }
    Some(out)
}

/// Groups masked positions into items: runs of masked characters joined by at most one
/// separator character.
fn items(text: &str, masked: &[bool]) -> Vec<Vec<usize>> {
    let chars: Vec<char> = text.chars().collect();
    let is_sep = |c: char| {
        matches!(
            c,
            ' ' | '-'
                | '－'
                | '，'
                | ','
                | '、'
                | '\u{3000}'
                | '('
                | ')'
                | '（'
                | '）'
                | '。'
                | '.'
                | '．'
        )
    };
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut last: Option<usize> = None;
    for (i, &m) in masked.iter().enumerate() {
        if !m {
            continue;
        }
        let joined = last.is_some_and(|l| i == l + 1 || (i == l + 2 && is_sep(chars[l + 1])));
        if joined {
            out.last_mut().expect("item").push(i);
        } else {
            out.push(vec![i]);
        }
        last = Some(i);
    }
    out
}

#[test]
fn pii_evidence_table() {
    let cases = cases();
    assert!(cases.len() >= 150, "only {} cases", cases.len());

    #[derive(Default)]
    struct Tally {
        rows: usize,
        items: usize,
        items_masked: usize,
        exact: usize,
    }
    let mut by_kind: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut items_total, mut items_masked) = (0usize, 0usize);
    let (mut lookalikes, mut kept) = (0usize, 0usize);
    let (mut out_masked, mut out_masked_right) = (0usize, 0usize);
    let (mut exact, mut kinds_agree) = (0usize, 0usize);
    let mut failures = Vec::new();

    for case in &cases {
        assert_eq!(
            case.lookalike,
            case.kinds.is_empty(),
            "a row has kinds exactly when it is not a look-alike: {:?}",
            case.text
        );
        let expected = masked_positions(&case.text, &case.expected)
            .unwrap_or_else(|| panic!("expected is not a masking of the text: {:?}", case.text));
        assert_eq!(
            case.lookalike,
            !expected.contains(&true),
            "look-alike rows expect no masking, PII rows some: {:?}",
            case.text
        );
        let got_text = mask(&case.text);
        assert_eq!(
            mask(&got_text),
            got_text,
            "not idempotent on {:?}",
            case.text
        );
        // An output that is not a masking of the input counts as masking everything.
        let got = masked_positions(&case.text, &got_text)
            .unwrap_or_else(|| vec![true; case.text.chars().count()]);

        let row_items = items(&case.text, &expected);
        let row_masked = row_items
            .iter()
            .filter(|item| item.iter().all(|&i| got[i]))
            .count();
        items_total += row_items.len();
        items_masked += row_masked;
        out_masked += got.iter().filter(|&&g| g).count();
        out_masked_right += got.iter().zip(&expected).filter(|(&g, &e)| g && e).count();
        let is_exact = got_text == case.expected;
        exact += usize::from(is_exact);
        if case.lookalike {
            lookalikes += 1;
            kept += usize::from(got_text == case.text);
        }
        let found: BTreeSet<&str> = find_pii(&case.text)
            .iter()
            .map(|s| s.kind.as_str())
            .collect();
        let wanted: BTreeSet<&str> = case.kinds.iter().map(String::as_str).collect();
        kinds_agree += usize::from(found == wanted);

        let labels: Vec<String> = if case.lookalike {
            vec!["(look-alike)".to_string()]
        } else {
            case.kinds.clone()
        };
        for kind in labels {
            let t = by_kind.entry(kind).or_default();
            t.rows += 1;
            t.items += row_items.len();
            t.items_masked += row_masked;
            t.exact += usize::from(is_exact);
        }
        if !is_exact {
            failures.push(format!(
                "  {:?}\n    got      {:?}\n    expected {:?}",
                case.text, got_text, case.expected
            ));
        }
    }

    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let recall = ratio(items_masked, items_total);
    let kept_rate = ratio(kept, lookalikes);
    let precision = ratio(out_masked_right, out_masked);
    println!(
        "\nPII evidence table: {} rows (tests/data/pii_cases.jsonl)",
        cases.len()
    );
    println!("| kind | rows | items | items masked | rows exact |");
    println!("|---|---:|---:|---:|---:|");
    for (kind, t) in &by_kind {
        println!(
            "| {kind} | {} | {} | {} | {} |",
            t.rows, t.items, t.items_masked, t.exact
        );
    }
    println!();
    println!("recall (PII items masked)      {items_masked}/{items_total} = {recall:.4}");
    println!("look-alikes kept (rows)        {kept}/{lookalikes} = {kept_rate:.4}");
    println!("precision (masked characters)  {out_masked_right}/{out_masked} = {precision:.4}");
    println!(
        "exact rows                     {exact}/{} = {:.4}",
        cases.len(),
        ratio(exact, cases.len())
    );
    println!(
        "find_pii kinds = row kinds     {kinds_agree}/{} = {:.4}",
        cases.len(),
        ratio(kinds_agree, cases.len())
    );
    if !failures.is_empty() {
        println!(
            "rows that differ from the expected text:\n{}",
            failures.join("\n")
        );
    }
    assert!(recall >= 0.99, "recall {recall:.4} < 0.99");
    assert!(kept_rate >= 0.98, "look-alikes kept {kept_rate:.4} < 0.98");
}

#[test]
fn alignment_helper() {
    assert_eq!(
        masked_positions("王小明先生", "王先生"),
        Some(vec![false, true, true, false, false])
    );
    assert_eq!(
        masked_positions("电话138", "电话1**"),
        Some(vec![false, false, false, true, true])
    );
    assert_eq!(masked_positions("abc", "abd"), None);
    assert_eq!(masked_positions("ab", "abc"), None);
    let text = "电话 138 1234 5678，卡号6222";
    let masked = masked_positions(text, "电话 1** **** ****，卡号6222").unwrap();
    assert_eq!(items(text, &masked).len(), 1);
}
