//! The derived data files' one format: UTF-8 lines of tab-separated fields; lines starting
//! with `#` say where the data came from and are skipped, as are empty lines.

/// The records of an embedded file with exactly `N` fields each, with their 1-based line
/// numbers.
///
/// # Panics
///
/// If a line has another number of fields: the embedded file is malformed, a bug that the
/// tests catch.
pub(crate) fn records<const N: usize>(
    file: &'static str,
    text: &'static str,
) -> impl Iterator<Item = (usize, [&'static str; N])> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(move |(i, line)| {
            let mut fields = [""; N];
            let mut parts = line.split('\t');
            for field in &mut fields {
                *field = parts
                    .next()
                    .unwrap_or_else(|| panic!("{file}:{}: fewer than {N} fields", i + 1));
            }
            assert!(
                parts.next().is_none(),
                "{file}:{}: more than {N} fields",
                i + 1
            );
            (i + 1, fields)
        })
}

#[cfg(test)]
mod tests {
    use super::records;

    #[test]
    fn comments_and_empty_lines_are_skipped_and_lines_are_numbered() {
        let text = "# source\nAB\tx\n\nCD\t\n";
        let got: Vec<_> = records::<2>("t", text).collect();
        assert_eq!(got, vec![(2, ["AB", "x"]), (4, ["CD", ""])]);
    }

    #[test]
    #[should_panic(expected = "t:1: more than 2 fields")]
    fn a_line_with_too_many_fields_is_a_bug() {
        records::<2>("t", "a\tb\tc").for_each(drop);
    }
}
