//! W7 entry replace: an editor saving an entry sends its whole text (`TextEdit::Replace`);
//! the node records only the difference. A replace must cost what it changes: a one-character
//! edit of a long text about what a one-character splice costs, a total rewrite about what
//! writing the new text into a fresh entry costs.

use std::time::Instant;

use anyhow::{Result, bail};
use automerge::transaction::Transactable;
use automerge::{ObjType, ROOT, ReadDoc};
use commonplace_model::{EntryKind, TextEdit};
use commonplace_node::{NewCommunity, NewEntry, Node, Profile};

use crate::{Row, percentile};

/// A text of `chars` characters in lines of prose.
fn text(chars: usize) -> String {
    let mut out = String::with_capacity(chars + 80);
    let mut i = 0;
    while out.len() < chars {
        out.push_str(&format!(
            "Step {i}: check the water, the tools and the people.\n"
        ));
        i += 1;
    }
    out.truncate(chars);
    out
}

/// `t` with every letter and digit shifted by `by`: a text sharing no word with `t`.
fn shifted(t: &str, by: u8) -> String {
    t.chars()
        .map(|c| {
            let (base, span) = match c {
                'a'..='z' => (b'a', 26),
                'A'..='Z' => (b'A', 26),
                '0'..='9' => (b'0', 10),
                _ => return c,
            };
            char::from(base + (c as u8 - base + by) % span)
        })
        .collect()
}

/// Median seconds of `runs` runs of `f` (given the run number).
fn median(runs: usize, mut f: impl FnMut(usize) -> Result<()>) -> Result<f64> {
    let mut t = Vec::with_capacity(runs);
    for k in 0..runs {
        let started = Instant::now();
        f(k)?;
        t.push(started.elapsed().as_secs_f64());
    }
    Ok(percentile(&mut t, 0.5))
}

/// W7 for an entry of each size in `sizes` (characters).
pub fn run(sizes: &[usize], rows: &mut Vec<Row>) -> Result<()> {
    let root = tempfile::tempdir()?;
    let ana = Node::init(Profile::at(root.path().join("ana")), "ana", None, None)?;
    let c = ana.create_community(&NewCommunity {
        name: "Bench".into(),
        ..Default::default()
    })?;
    let create = |body: &str| {
        ana.create_entry(
            &c,
            &NewEntry {
                kind: EntryKind::Method,
                title: Some("Handbook".into()),
                body: Some(body.to_owned()),
                tags: vec![],
                from_thread: None,
            },
        )
    };
    for &n in sizes {
        eprintln!("W7: entry replace in a text of {n} characters…");
        let name = format!("W7 entry replace, {n}-character entry");
        let base = text(n);
        let id = create(&base)?;
        // A one-character edit at a different place each run, sent as the whole text.
        let mut current = base.clone();
        let edit = median(5, |k| {
            let at = (k + 1) * current.len() / 7;
            current.replace_range(at..=at, if k % 2 == 0 { "#" } else { "%" });
            ana.edit_entry(&id, &TextEdit::Replace(current.clone()))?;
            Ok(())
        })?;
        // The floor: a one-character edit as the one splice a caller computed.
        let splice = median(5, |k| {
            let at = (k + 1) * n / 7;
            ana.edit_entry(&id, &TextEdit::Delete { at, len: 1 })?;
            Ok(())
        })?;
        // A total rewrite, to texts sharing no word with the one before.
        let rewrites: Vec<String> = (1..=3).map(|v| shifted(&base, v)).collect();
        let rewrite = median(3, |k| {
            ana.edit_entry(&id, &TextEdit::Replace(rewrites[k].clone()))?;
            Ok(())
        })?;
        if ana.entry(&id)?.body != rewrites[2] {
            bail!("the entry does not hold the last rewrite");
        }
        // The reference: writing the same text into a new entry.
        let fresh = median(3, |k| {
            create(&rewrites[k])?;
            Ok(())
        })?;
        let bare = bare_rewrite(&base, &rewrites)?;
        rows.push(
            Row::new(&name, "1-char edit by replace, median (ms)", edit * 1000.0)
                .reference("a 1-char Delete (one splice), median", splice * 1000.0)
                .target("≤ 2× the splice"),
        );
        let r = "full rewrite by replace, median (s)";
        rows.push(Row::new(&name, r, rewrite).reference("a new entry with that text", fresh));
        rows.push(
            Row::new(&name, r, rewrite)
                .reference("one splice_text of it in a bare document", bare)
                .target("≤ 2× the bare splice"),
        );
    }
    Ok(())
}

/// The floor of a total rewrite: Automerge alone deleting the old text and inserting the new
/// in one `splice_text` and committing, in a document holding nothing else (median seconds).
fn bare_rewrite(base: &str, rewrites: &[String]) -> Result<f64> {
    let mut doc = commonplace_model::new_document(&[7; 16]);
    let text = doc.transact(|tx| {
        let text = tx.put_object(ROOT, "body", ObjType::Text)?;
        tx.splice_text(&text, 0, 0, base)?;
        Ok::<_, automerge::AutomergeError>(text)
    });
    let text = text.map_err(|f| f.error)?.result;
    median(rewrites.len(), |k| {
        let mut tx = doc.transaction();
        let len = isize::try_from(tx.length(&text))?;
        tx.splice_text(&text, 0, len, &rewrites[k])?;
        tx.commit();
        Ok(())
    })
}
