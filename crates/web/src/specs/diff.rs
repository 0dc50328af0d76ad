//! A line diff between two versions of a definition: the longest common subsequence of their
//! lines, shown as removed, added and unchanged lines, with long unchanged runs folded.
//!
//! Definitions are a few hundred lines at most, so the quadratic table is small; the common
//! head and tail are cut off first (an edit usually touches a few lines), and a middle too
//! large for the table is shown as wholly replaced, which is still a true diff, only not the
//! shortest.

/// What happened to a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Same,
    Removed,
    Added,
}

/// One line of the diff, with its 1-based numbers in the old and the new text.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Line<'a> {
    pub op: Op,
    pub old: Option<usize>,
    pub new: Option<usize>,
    pub text: &'a str,
}

/// A row as shown: a line, or a fold of unchanged lines.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Row<'a> {
    Line(Line<'a>),
    Fold { folded: usize },
}

/// Cells of the LCS table above which the middle is shown as replaced wholesale.
const MAX_CELLS: usize = 4_000_000;

/// Every line of `old` and `new` in order, each marked same, removed or added.
pub fn lines<'a>(old: &'a str, new: &'a str) -> Vec<Line<'a>> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);

    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let same = |out: &mut Vec<Line<'a>>, i: usize, j: usize, text: &'a str| {
        out.push(Line {
            op: Op::Same,
            old: Some(i + 1),
            new: Some(j + 1),
            text,
        })
    };
    for (k, text) in a[..head].iter().enumerate() {
        same(&mut out, k, k, text);
    }
    let (n, m) = (ma.len(), mb.len());
    let removed = |out: &mut Vec<Line<'a>>, i: usize| {
        out.push(Line {
            op: Op::Removed,
            old: Some(head + i + 1),
            new: None,
            text: ma[i],
        })
    };
    let added = |out: &mut Vec<Line<'a>>, j: usize| {
        out.push(Line {
            op: Op::Added,
            old: None,
            new: Some(head + j + 1),
            text: mb[j],
        })
    };
    if (n + 1).saturating_mul(m + 1) > MAX_CELLS {
        (0..n).for_each(|i| removed(&mut out, i));
        (0..m).for_each(|j| added(&mut out, j));
    } else {
        // lcs[i][j]: the longest common subsequence of ma[i..] and mb[j..], so the walk
        // below can go forwards and print lines in order.
        let w = m + 1;
        let mut lcs = vec![0u32; (n + 1) * w];
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[i * w + j] = if ma[i] == mb[j] {
                    lcs[(i + 1) * w + j + 1] + 1
                } else {
                    lcs[(i + 1) * w + j].max(lcs[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && ma[i] == mb[j] {
                same(&mut out, head + i, head + j, ma[i]);
                i += 1;
                j += 1;
            } else if j == m || (i < n && lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
                // Removals before additions where both are as long: a changed line reads
                // as the old line, then the new one.
                removed(&mut out, i);
                i += 1;
            } else {
                added(&mut out, j);
                j += 1;
            }
        }
    }
    for k in 0..tail {
        let (i, j) = (a.len() - tail + k, b.len() - tail + k);
        same(&mut out, i, j, a[i]);
    }
    out
}

/// The diff as shown: changed lines with `context` unchanged lines around them; longer
/// unchanged runs fold into one row saying how many lines they hide.
pub fn rows<'a>(lines: &[Line<'a>], context: usize) -> Vec<Row<'a>> {
    let changed: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.op != Op::Same)
        .map(|(i, _)| i)
        .collect();
    let near = |i: usize| {
        // The nearest change at or after i, and the one before.
        let at = changed.partition_point(|&c| c < i);
        let after = changed.get(at).is_some_and(|&c| c - i <= context);
        let before = at > 0 && i - changed[at - 1] <= context;
        after || before
    };
    let mut out = Vec::new();
    let mut folded = 0;
    for (i, line) in lines.iter().enumerate() {
        if line.op != Op::Same || near(i) {
            if folded > 0 {
                out.push(Row::Fold { folded });
                folded = 0;
            }
            out.push(Row::Line(line.clone()));
        } else {
            folded += 1;
        }
    }
    if folded > 0 {
        out.push(Row::Fold { folded });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn marks(old: &str, new: &str) -> String {
        lines(old, new)
            .iter()
            .map(|l| {
                let sign = match l.op {
                    Op::Same => ' ',
                    Op::Removed => '-',
                    Op::Added => '+',
                };
                format!("{sign}{}", l.text)
            })
            .collect::<Vec<_>>()
            .join("|")
    }

    #[test]
    fn a_changed_line_reads_as_removed_then_added_between_unchanged_ones() {
        assert_eq!(marks("a\nb\nc\n", "a\nB\nc\n"), " a|-b|+B| c");
    }

    #[test]
    fn insertions_and_deletions_keep_the_longest_common_lines() {
        assert_eq!(
            marks("x\na\nb\nc\nd", "a\nc\nd\ne\nf"),
            "-x| a|-b| c| d|+e|+f"
        );
        assert_eq!(marks("", "a\nb"), "+a|+b");
        assert_eq!(marks("a\nb", ""), "-a|-b");
        assert_eq!(marks("same\n", "same\n"), " same");
    }

    #[test]
    fn line_numbers_follow_each_side() {
        let d = lines("a\nb\nc", "a\nc\nd");
        let nums: Vec<(Option<usize>, Option<usize>)> = d.iter().map(|l| (l.old, l.new)).collect();
        assert_eq!(
            nums,
            vec![
                (Some(1), Some(1)),
                (Some(2), None),
                (Some(3), Some(2)),
                (None, Some(3)),
            ]
        );
    }

    #[test]
    fn every_old_line_and_every_new_line_appears_once_in_order() {
        // A brute check on many small pairs: the diff rebuilds both texts.
        let alphabet = ["a", "b", "c"];
        let texts: Vec<String> = (0..81)
            .map(|n| {
                (0..4)
                    .map(|k| alphabet[(n / 3usize.pow(k)) % 3])
                    .take(n % 5)
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect();
        for old in &texts {
            for new in &texts {
                let d = lines(old, new);
                let back_old: Vec<&str> = d
                    .iter()
                    .filter(|l| l.op != Op::Added)
                    .map(|l| l.text)
                    .collect();
                let back_new: Vec<&str> = d
                    .iter()
                    .filter(|l| l.op != Op::Removed)
                    .map(|l| l.text)
                    .collect();
                assert_eq!(back_old, old.lines().collect::<Vec<_>>());
                assert_eq!(back_new, new.lines().collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn the_diff_is_minimal_on_a_case_with_a_tempting_wrong_match() {
        // Greedy matching of the first "a" would lose two common lines.
        let same = lines("b\nc\na", "a\nb\nc")
            .iter()
            .filter(|l| l.op == Op::Same)
            .count();
        assert_eq!(same, 2);
    }

    #[test]
    fn long_unchanged_runs_fold() {
        let old: String = (1..=20).map(|i| format!("{i}\n")).collect();
        let new = old.replace("10\n", "ten\n");
        let shown = rows(&lines(&old, &new), 2);
        assert_eq!(shown.first(), Some(&Row::Fold { folded: 7 }));
        assert_eq!(shown.last(), Some(&Row::Fold { folded: 8 }));
        // 2 before, the removed and the added line, 2 after.
        assert_eq!(shown.len(), 2 + 6);
    }
}
