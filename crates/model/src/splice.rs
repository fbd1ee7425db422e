//! Replacing a text by another as a few splices, so that a replace records what changed and
//! costs about that much.
//!
//! The difference is found in stages: the common start and end are trimmed, the middle is
//! compared line by line, each changed run of lines word by word, each changed run of words
//! character by character (Myers' greedy algorithm at every stage). Every comparison has a
//! bounded cost: past the bound a changed run is replaced whole, which is still correct and is
//! what a total rewrite should be anyway — one splice. Positions are in characters (Unicode
//! code points, the documents' text encoding), so no splice ever splits a character.
//!
//! This never reads or writes a document; [`replace`] applies the splices to one.

use std::collections::HashMap;
use std::hash::Hash;
use std::ops::Range;

use automerge::transaction::Transactable;
use automerge::{AutomergeError, ObjId};

/// Work units (diagonals visited plus characters or tokens compared) one replace may spend on
/// finding the difference; beyond it the rest is replaced whole.
const BUDGET: usize = 20_000_000;

/// The most edits one comparison looks for (its memory is quadratic in this).
const MAX_EDITS: usize = 1_000;

/// One splice: delete `delete` characters at `at` and insert `insert` there. `at` counts in
/// the text as the earlier splices of the same list left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Splice {
    /// Where, in characters.
    pub at: usize,
    /// How many characters to delete.
    pub delete: usize,
    /// What to insert.
    pub insert: String,
}

/// Sets the text object `obj` to `new` by splicing in only what differs from its current text.
pub fn replace<T: Transactable>(tx: &mut T, obj: &ObjId, new: &str) -> Result<(), AutomergeError> {
    let old = tx.text(obj)?;
    for s in splices(&old, new) {
        let delete = isize::try_from(s.delete).map_err(|_| AutomergeError::InvalidIndex(s.at))?;
        tx.splice_text(obj, s.at, delete, &s.insert)?;
    }
    Ok(())
}

/// The splices that turn `old` into `new`, in order.
pub fn splices(old: &str, new: &str) -> Vec<Splice> {
    // The common start and end first, on bytes (most edits are small and this is the whole
    // cost of finding them), backed off to character boundaries.
    let (o, n) = (old.as_bytes(), new.as_bytes());
    let mut pre = o.iter().zip(n).take_while(|(x, y)| x == y).count();
    while !(old.is_char_boundary(pre) && new.is_char_boundary(pre)) {
        pre -= 1;
    }
    let mut suf = o[pre..]
        .iter()
        .rev()
        .zip(n[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    while !(old.is_char_boundary(o.len() - suf) && new.is_char_boundary(n.len() - suf)) {
        suf -= 1;
    }
    let old: Vec<char> = old[pre..o.len() - suf].chars().collect();
    let new_mid: Vec<char> = new[pre..n.len() - suf].chars().collect();
    let mut d = Differ {
        old: &old,
        new: &new_mid,
        budget: BUDGET,
        out: Vec::new(),
        base: new[..pre].chars().count(),
        shift: 0,
    };
    d.refine(0..old.len(), 0..new_mid.len(), Level::Lines);
    d.out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Lines,
    Words,
    Chars,
}

struct Differ<'a> {
    old: &'a [char],
    new: &'a [char],
    budget: usize,
    out: Vec<Splice>,
    /// Where `old` starts in the text, in characters.
    base: usize,
    /// How far the text as spliced so far has moved positions of `old` (inserted − deleted).
    shift: isize,
}

impl Differ<'_> {
    /// Finds the splices turning `old[o]` into `new[n]`, comparing at `level` and finer.
    fn refine(&mut self, mut o: Range<usize>, mut n: Range<usize>, level: Level) {
        let pre = common_prefix(&self.old[o.clone()], &self.new[n.clone()]);
        o.start += pre;
        n.start += pre;
        let suf = common_suffix(&self.old[o.clone()], &self.new[n.clone()]);
        o.end -= suf;
        n.end -= suf;
        if o.is_empty() || n.is_empty() {
            self.emit(o, n);
            return;
        }
        let (a, b) = (&self.old[o.clone()], &self.new[n.clone()]);
        let Some(next) = (match level {
            Level::Lines => Some(Level::Words),
            Level::Words => Some(Level::Chars),
            Level::Chars => None,
        }) else {
            match (!hopeless(a, b))
                .then(|| myers(a, b, &mut self.budget))
                .flatten()
            {
                Some(script) => self.walk(&script, o.start, n.start, |d, o, n| d.emit(o, n)),
                None => self.emit(o, n),
            }
            return;
        };
        let split: fn(&[char]) -> Vec<Range<usize>> = match level {
            Level::Lines => lines,
            _ => words,
        };
        let (ta, tb) = (split(a), split(b));
        if ta.len() <= 1 && tb.len() <= 1 {
            self.refine(o, n, next);
            return;
        }
        let (ia, ib) = intern(a, &ta, b, &tb);
        let Some(script) = (!hopeless(&ia, &ib))
            .then(|| myers(&ia, &ib, &mut self.budget))
            .flatten()
        else {
            self.emit(o, n);
            return;
        };
        // The script counts tokens; the tokens cover their text end to end, so a run of
        // tokens covers the characters from its first token's start to the next one's.
        let at =
            |tokens: &[Range<usize>], len: usize, i: usize| tokens.get(i).map_or(len, |t| t.start);
        let (os, ns, la, lb) = (o.start, n.start, a.len(), b.len());
        self.walk(&script, 0, 0, |d, ro, rn| {
            let co = os + at(&ta, la, ro.start)..os + at(&ta, la, ro.end);
            let cn = ns + at(&tb, lb, rn.start)..ns + at(&tb, lb, rn.end);
            d.refine(co, cn, next);
        });
    }

    /// Calls `changed` for each changed run of an edit script, in order, with the ranges it
    /// covers (offset by `o` and `n`).
    fn walk(
        &mut self,
        script: &[Step],
        o: usize,
        n: usize,
        mut changed: impl FnMut(&mut Self, Range<usize>, Range<usize>),
    ) {
        let (mut i, mut j) = (o, n);
        let mut k = 0;
        while k < script.len() {
            if let Step::Equal(len) = script[k] {
                i += len;
                j += len;
                k += 1;
                continue;
            }
            let (si, sj) = (i, j);
            while let Some(step) = script.get(k) {
                match *step {
                    Step::Delete(len) => i += len,
                    Step::Insert(len) => j += len,
                    Step::Equal(_) => break,
                }
                k += 1;
            }
            changed(self, si..i, sj..j);
        }
    }

    /// Records that `old[o]` becomes `new[n]`.
    fn emit(&mut self, o: Range<usize>, n: Range<usize>) {
        if o.is_empty() && n.is_empty() {
            return;
        }
        let at = (self.base + o.start).saturating_add_signed(self.shift);
        let insert: String = self.new[n.clone()].iter().collect();
        self.shift += n.len() as isize - o.len() as isize;
        self.out.push(Splice {
            at,
            delete: o.len(),
            insert,
        });
    }
}

fn common_prefix(a: &[char], b: &[char]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

fn common_suffix(a: &[char], b: &[char]) -> usize {
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// Lines, each with its line break.
fn lines(t: &[char]) -> Vec<Range<usize>> {
    tokens(t, |c, _| c == '\n')
}

/// Words, each with the spaces after it.
fn words(t: &[char]) -> Vec<Range<usize>> {
    tokens(t, |c, next| {
        c.is_whitespace() && !next.is_some_and(char::is_whitespace)
    })
}

/// Splits `t` after each character where `ends(c, next)` holds.
fn tokens(t: &[char], ends: impl Fn(char, Option<char>) -> bool) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &c) in t.iter().enumerate() {
        if ends(c, t.get(i + 1).copied()) {
            out.push(start..i + 1);
            start = i + 1;
        }
    }
    if start < t.len() {
        out.push(start..t.len());
    }
    out
}

/// Numbers the tokens of both sides so that equal tokens get equal numbers.
fn intern<'t>(
    a: &'t [char],
    ta: &[Range<usize>],
    b: &'t [char],
    tb: &[Range<usize>],
) -> (Vec<u32>, Vec<u32>) {
    let mut ids: HashMap<&'t [char], u32> = HashMap::new();
    let mut number = |t: &'t [char], r: &[Range<usize>]| -> Vec<u32> {
        r.iter()
            .map(|r| {
                let next = u32::try_from(ids.len()).unwrap_or(u32::MAX);
                *ids.entry(&t[r.clone()]).or_insert(next)
            })
            .collect()
    };
    let ia = number(a, ta);
    let ib = number(b, tb);
    (ia, ib)
}

/// Whether `a` and `b` share too little for Myers to finish within [`MAX_EDITS`]: every
/// token of one side without a partner on the other is at least one edit. Cheap (linear),
/// so a rewrite is recognised without searching.
fn hopeless<T: Hash + Eq>(a: &[T], b: &[T]) -> bool {
    if a.len().abs_diff(b.len()) > MAX_EDITS {
        return true;
    }
    let mut count: HashMap<&T, isize> = HashMap::new();
    for t in a {
        *count.entry(t).or_default() += 1;
    }
    let mut common = 0;
    for t in b {
        if let Some(c) = count.get_mut(t)
            && *c > 0
        {
            *c -= 1;
            common += 1;
        }
    }
    a.len() + b.len() - 2 * common > MAX_EDITS
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Equal(usize),
    Delete(usize),
    Insert(usize),
}

/// Myers' greedy shortest edit script from `a` to `b`, or `None` when it needs more than
/// [`MAX_EDITS`] edits or more work than is left in `budget` (which it draws down).
fn myers<T: Eq>(a: &[T], b: &[T], budget: &mut usize) -> Option<Vec<Step>> {
    let (n, m) = (a.len() as isize, b.len() as isize);
    let limit = (a.len() + b.len()).min(MAX_EDITS) as isize;
    // trace[d][k + d]: how far right (x) the furthest d-edit path on diagonal k = x − y
    // reaches, −1 where none does.
    let mut trace: Vec<Vec<isize>> = Vec::new();
    let snake = |mut x: isize, k: isize, budget: &mut usize| {
        while x < n && x - k < m && a[x as usize] == b[(x - k) as usize] {
            x += 1;
            *budget = budget.saturating_sub(1);
        }
        x
    };
    for d in 0..=limit {
        let mut v = vec![-1isize; (2 * d + 1) as usize];
        for k in (-d..=d).step_by(2) {
            *budget = budget.checked_sub(1)?;
            let x = if d == 0 {
                Some(0)
            } else {
                best_move(&trace[(d - 1) as usize], d - 1, k, n, m).map(|(_, x)| x)
            };
            let Some(x) = x else { continue };
            let x = snake(x, k, budget);
            v[(k + d) as usize] = x;
            if x == n && x - k == m {
                trace.push(v);
                return Some(backtrack(&trace, n, m));
            }
        }
        if *budget == 0 {
            return None;
        }
        trace.push(v);
    }
    None
}

/// The furthest point (from diagonal, x) a path of `d + 1` edits reaches on diagonal `k`
/// before its snake, from the `d`-edit paths in `prev`; only moves inside the grid count.
fn best_move(prev: &[isize], d: isize, k: isize, n: isize, m: isize) -> Option<(isize, isize)> {
    let at = |k: isize| {
        if k < -d || k > d {
            -1
        } else {
            prev[(k + d) as usize]
        }
    };
    let mut best = None;
    // Down (an insertion): from diagonal k + 1, x stays.
    let down = at(k + 1);
    if down >= 0 && down - (k + 1) < m {
        best = Some((k + 1, down));
    }
    // Right (a deletion): from diagonal k − 1, x grows by one.
    let right = at(k - 1);
    if right >= 0 && right < n && best.is_none_or(|(_, x)| right + 1 > x) {
        best = Some((k - 1, right + 1));
    }
    best
}

/// The edit script of the path that ends at (n, m), read back from the trace.
fn backtrack(trace: &[Vec<isize>], n: isize, m: isize) -> Vec<Step> {
    let mut steps = Vec::new();
    let (mut x, mut k) = (n, n - m);
    for d in (1..trace.len() as isize).rev() {
        let Some((from, start)) = best_move(&trace[(d - 1) as usize], d - 1, k, n, m) else {
            break;
        };
        if x > start {
            steps.push(Step::Equal((x - start) as usize));
        }
        steps.push(if from == k + 1 {
            Step::Insert(1)
        } else {
            Step::Delete(1)
        });
        x = trace[(d - 1) as usize][(from + d - 1) as usize];
        k = from;
    }
    if x > 0 {
        steps.push(Step::Equal(x as usize));
    }
    steps.reverse();
    // Merge neighbours of the same kind.
    let mut out: Vec<Step> = Vec::with_capacity(steps.len());
    for s in steps {
        match (out.last_mut(), s) {
            (Some(Step::Equal(a)), Step::Equal(b))
            | (Some(Step::Delete(a)), Step::Delete(b))
            | (Some(Step::Insert(a)), Step::Insert(b)) => *a += b,
            _ => out.push(s),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(old: &str, splices: &[Splice]) -> String {
        let mut t: Vec<char> = old.chars().collect();
        for s in splices {
            t.splice(s.at..s.at + s.delete, s.insert.chars());
        }
        t.into_iter().collect()
    }

    fn check(old: &str, new: &str) -> Vec<Splice> {
        let s = splices(old, new);
        assert_eq!(apply(old, &s), new, "{old:?} → {new:?} by {s:?}");
        s
    }

    #[test]
    fn small_edits_are_small_splices() {
        assert_eq!(check("same", "same"), vec![]);
        assert_eq!(
            check("First: clean.", "First: clean it."),
            vec![Splice {
                at: 12,
                delete: 0,
                insert: " it".into()
            }]
        );
        let s = check("one\ntwo\nthree\nfour\n", "one\ntwo!\nthree\nfive\n");
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(
            s.iter().all(|s| s.delete + s.insert.chars().count() <= 6),
            "{s:?}"
        );
        check("", "new");
        check("old", "");
        check("a b c d e", "a x c y e");
        check("the cat sat", "the dog sat on it");
    }

    #[test]
    fn positions_count_characters() {
        let s = check("né café ☕ ok", "né thé ☕ ok!");
        assert!(s.iter().all(|s| s.at <= 12));
        check("🙂🙃", "🙃🙂");
        // Characters sharing their first byte (é, è) or their last (©, é): splices never
        // split them.
        let one = |at: usize, insert: &str| {
            vec![Splice {
                at,
                delete: 1,
                insert: insert.into(),
            }]
        };
        assert_eq!(check("aé!", "aè!"), one(1, "è"));
        assert_eq!(check("x©y", "xéy"), one(1, "é"));
        check("e\u{301}e", "ee\u{301}");
    }

    #[test]
    fn a_total_rewrite_is_one_splice() {
        let old: String = (0..20_000)
            .map(|i| format!("line {i} of the old\n"))
            .collect();
        let new: String = (0..20_000)
            .map(|i| format!("row {i} in the new\n"))
            .collect();
        let s = check(&old, &new);
        assert!(s.len() <= 2, "{}", s.len());
    }

    #[test]
    fn one_char_in_a_million_is_one_small_splice() {
        let old: String = "abcdefghij".repeat(100_000);
        let mut new = old.clone();
        new.replace_range(500_000..500_001, "X");
        let s = check(&old, &new);
        assert_eq!(
            s,
            vec![Splice {
                at: 500_000,
                delete: 1,
                insert: "X".into()
            }]
        );
    }

    #[test]
    fn edits_in_different_paragraphs_stay_apart() {
        let old: String = (0..2_000)
            .map(|i| format!("Paragraph {i} says a thing.\n"))
            .collect();
        let new = old
            .replace("Paragraph 10 says", "Paragraph 10 now says")
            .replace("Paragraph 1900 says a", "Paragraph 1900 says one");
        let s = check(&old, &new);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s.iter().all(|s| s.delete + s.insert.len() <= 4), "{s:?}");
    }

    #[test]
    fn random_edits_round_trip() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let alphabet: Vec<char> = "ab \nxé🙂".chars().collect();
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..500 {
            let len = rng.random_range(0..60);
            let old: String = (0..len)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            let mut new: Vec<char> = old.chars().collect();
            for _ in 0..rng.random_range(0..6) {
                let at = rng.random_range(0..=new.len());
                if rng.random_bool(0.5) && at < new.len() {
                    new.remove(at);
                } else {
                    new.insert(at, alphabet[rng.random_range(0..alphabet.len())]);
                }
            }
            let new: String = new.into_iter().collect();
            check(&old, &new);
        }
    }
}
