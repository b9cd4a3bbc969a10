//! The check report of a rate book: every problem, by table, row and column.

use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// The book cannot be used.
    Error,
    /// The book can be used, but something looks unintended.
    Warning,
}

/// One finding about a rate book.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// The file without extension (`rates`, `book.toml` for the header), or `book` for the whole.
    pub table: String,
    /// 1 for the first data row; `None` when the problem is with the table or a column.
    pub row: Option<u32>,
    pub column: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{severity}: {}", self.table)?;
        if let Some(row) = self.row {
            write!(f, " row {row}")?;
        }
        if let Some(column) = &self.column {
            write!(f, " column {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All findings of one check, errors and warnings, in the order found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub problems: Vec<Problem>,
    /// Errors past the listing limit still make the book unusable.
    truncated_errors: bool,
}

/// Past this many findings a report stops listing more of the same table: a broken export
/// can produce millions of identical problems, and nobody reads past the first thousand.
pub const PROBLEMS_PER_TABLE_MAX: usize = 1000;

impl Report {
    pub fn error(
        &mut self,
        table: &str,
        row: Option<u32>,
        column: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Error, table, row, column, message.into());
    }

    pub fn warning(
        &mut self,
        table: &str,
        row: Option<u32>,
        column: Option<&str>,
        message: impl Into<String>,
    ) {
        self.push(Severity::Warning, table, row, column, message.into());
    }

    fn push(
        &mut self,
        severity: Severity,
        table: &str,
        row: Option<u32>,
        column: Option<&str>,
        message: String,
    ) {
        let same_table = self.problems.iter().filter(|p| p.table == table).count();
        if same_table == PROBLEMS_PER_TABLE_MAX {
            self.problems.push(Problem {
                severity: Severity::Error,
                table: table.to_string(),
                row: None,
                column: None,
                message: format!(
                    "more than {PROBLEMS_PER_TABLE_MAX} problems; the rest are not listed"
                ),
            });
        }
        if same_table >= PROBLEMS_PER_TABLE_MAX {
            if severity == Severity::Error {
                // Keep the verdict right even when the listing is cut.
                self.truncated_errors = true;
            }
            return;
        }
        self.problems.push(Problem {
            severity,
            table: table.to_string(),
            row,
            column: column.map(str::to_string),
            message,
        });
    }

    pub fn merge(&mut self, other: Report) {
        for p in other.problems {
            self.push(p.severity, &p.table, p.row, p.column.as_deref(), p.message);
        }
        self.truncated_errors |= other.truncated_errors;
    }

    pub fn has_errors(&self) -> bool {
        self.truncated_errors || self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }
}
