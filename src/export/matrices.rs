//! Traceability matrices as tables, written alike as CSV files and as the sheets of one
//! XLSX workbook, so a reviewer's spreadsheet and a script read the same cells.

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::date::Timestamp;
use crate::directive::Kind;
use crate::project::Project;
use crate::trace::{self, csv_field, formula_guard};

/// The chain a reviewer follows from threat to test: the matrices every bundle has when
/// both types have items.
const STANDARD: &[(&str, &str)] = &[
    ("requirement", "test"),
    ("threat", "risk"),
    ("risk", "control"),
    ("control", "requirement"),
    ("control", "test"),
];

/// Excel's limit on the characters in one cell.
const MAX_CELL: usize = 32_767;

/// A matrix the bundle holds: rows of `from` with the `to` items linked to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) via: Option<String>,
}

impl Spec {
    /// `requirement-test` or `requirement-test-via-verifies`: the CSV file's stem.
    pub(crate) fn name(&self) -> String {
        let mut name = format!("{}-{}", self.from, self.to);
        if let Some(v) = &self.via {
            name.push_str("-via-");
            name.push_str(v);
        }
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

/// The standard matrices whose types both have items, then each other matrix the book
/// shows (`{{#qms matrix}}`, filters aside), each once.
pub(crate) fn specs(project: &Project) -> Vec<Spec> {
    let has_items = |ty: &str| project.items.iter().any(|i| i.ty == ty);
    let mut out: Vec<Spec> = STANDARD
        .iter()
        .filter(|(from, to)| has_items(from) && has_items(to))
        .map(|(from, to)| Spec {
            from: (*from).to_owned(),
            to: (*to).to_owned(),
            via: None,
        })
        .collect();
    let shown = project
        .chapters
        .iter()
        .flat_map(|c| &c.directives)
        .filter(|d| d.kind == Kind::Matrix);
    for d in shown {
        let spec = Spec {
            from: d.args[0].text.clone(),
            to: d.args[1].text.clone(),
            via: d.option("via").map(str::to_owned),
        };
        let known = [&spec.from, &spec.to]
            .iter()
            .all(|t| project.types.get(t).is_some());
        if known && !out.contains(&spec) {
            out.push(spec);
        }
    }
    out
}

/// One cell: numbers stay numbers in the workbook.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    /// Item text as a cell: formula-guarded (as in every CSV this tool writes, so the
    /// workbook's cells are the CSV's) and cut at Excel's cell limit.
    fn text(s: &str) -> Cell {
        let guarded = formula_guard(s);
        Cell::Text(match guarded.char_indices().nth(MAX_CELL - 1) {
            Some((cut, _)) => format!("{}…", &guarded[..cut]),
            None => guarded,
        })
    }

    fn csv(&self) -> String {
        match self {
            // Already guarded (a guarded text starts with `'`), so this only quotes.
            Cell::Text(s) => csv_field(s),
            Cell::Number(n) => format!("{n}"),
        }
    }
}

/// A table written as `matrices/<file>.csv` and as sheet `sheet` of the workbook.
pub(crate) struct Table {
    pub(crate) file: String,
    pub(crate) sheet: String,
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<Cell>>,
}

impl Table {
    pub(crate) fn csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.header.iter().map(|h| csv_field(h)).collect();
        out.push_str(&header.join(","));
        out.push('\n');
        for row in &self.rows {
            let cells: Vec<String> = row.iter().map(Cell::csv).collect();
            out.push_str(&cells.join(","));
            out.push('\n');
        }
        out
    }
}

/// The summary table first, then one table per matrix.
pub(crate) fn tables(project: &Project) -> Vec<Table> {
    let specs = specs(project);
    let mut sheets = SheetNames::default();
    let summary_sheet = sheets.unique("Summary");
    let mut summary_rows = Vec::new();
    let mut out = Vec::new();
    let mut files = vec!["summary".to_owned()];
    for spec in &specs {
        let coverage =
            trace::coverage(project, &spec.from, &spec.to, spec.via.as_deref(), |_| true);
        let file = unique_file(&mut files, spec.name());
        let sheet = sheets.unique(&file);
        let percent = (coverage.percent() * 10.0).round() / 10.0;
        summary_rows.push(vec![
            Cell::text(&sheet),
            Cell::text(&spec.from),
            Cell::text(&spec.to),
            Cell::text(spec.via.as_deref().unwrap_or("")),
            Cell::Number(coverage.total() as f64),
            Cell::Number(coverage.covered as f64),
            Cell::Number(percent),
            Cell::text(&format!("matrices/{file}.csv")),
        ]);
        out.push(matrix_table(project, spec, &coverage, file, sheet));
    }
    let summary = Table {
        file: "summary".into(),
        sheet: summary_sheet,
        header: [
            "sheet", "from", "to", "via", "rows", "covered", "percent", "csv",
        ]
        .map(String::from)
        .to_vec(),
        rows: summary_rows,
    };
    out.insert(0, summary);
    out
}

fn matrix_table(
    project: &Project,
    spec: &Spec,
    coverage: &trace::Coverage,
    file: String,
    sheet: String,
) -> Table {
    let items = &project.items;
    let rows = coverage
        .rows
        .iter()
        .map(|row| {
            let item = &items[row.item];
            let linked: Vec<&str> = row.linked.iter().map(|&j| items[j].id.as_str()).collect();
            let commits: Vec<String> = project.history.item(&item.id).map_or(Vec::new(), |h| {
                h.links
                    .iter()
                    .map(|l| format!("{}:{}", project.history.commit(l.commit).short, l.trailer))
                    .collect()
            });
            vec![
                Cell::text(&item.id),
                Cell::text(&item.title),
                Cell::text(item.status()),
                Cell::text(&linked.join(" ")),
                Cell::text(if linked.is_empty() { "no" } else { "yes" }),
                Cell::text(&commits.join(" ")),
            ]
        })
        .collect();
    Table {
        file,
        sheet,
        header: vec![
            spec.from.clone(),
            "title".into(),
            "status".into(),
            spec.to.clone(),
            "covered".into(),
            "commits".into(),
        ],
        rows,
    }
}

/// `name`, or `name-2`, `name-3`, ... when two matrices' names clean up alike.
fn unique_file(used: &mut Vec<String>, name: String) -> String {
    let mut file = name.clone();
    let mut n = 2;
    while used.contains(&file) {
        file = format!("{name}-{n}");
        n += 1;
    }
    used.push(file.clone());
    file
}

/// Sheet names as Excel wants them: at most 31 characters, none of `[]:*?/\`, unique
/// regardless of case.
#[derive(Default)]
struct SheetNames(Vec<String>);

impl SheetNames {
    fn unique(&mut self, wanted: &str) -> String {
        let clean: String = wanted
            .chars()
            .map(|c| if "[]:*?/\\'".contains(c) { '_' } else { c })
            .take(31)
            .collect();
        let mut name = clean.clone();
        let mut n = 2;
        while self.0.iter().any(|u| u.eq_ignore_ascii_case(&name)) {
            let suffix = format!("~{n}");
            let keep: String = clean.chars().take(31 - suffix.len()).collect();
            name = format!("{keep}{suffix}");
            n += 1;
        }
        self.0.push(name.clone());
        name
    }
}

/// The workbook: one sheet per table, the header row bold and frozen, with filters.
/// `time` is its creation time, so the bytes depend only on
/// the commit.
pub(crate) fn workbook(
    tables: &[Table],
    title: &str,
    comment: &str,
    time: Timestamp,
) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    book.set_properties(
        &DocProperties::new()
            .set_title(title)
            .set_subject("Traceability matrices")
            .set_author("mdbook-qms")
            .set_comment(comment)
            .set_creation_datetime(&ExcelDateTime::from_timestamp(time.secs())?),
    );
    let bold = Format::new().set_bold();
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(&table.sheet)?;
        let mut widths: Vec<usize> = table.header.iter().map(|h| h.chars().count()).collect();
        for (c, h) in table.header.iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, h, &bold)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c as u16, s)?;
                        widths[c] = widths[c].max(s.chars().count());
                    }
                    Cell::Number(n) => {
                        sheet.write_number(r, c as u16, *n)?;
                    }
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            sheet.set_column_width(c as u16, (*w).clamp(8, 60) as f64 + 1.0)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        let last_col = table.header.len().saturating_sub(1) as u16;
        sheet.autofilter(0, 0, table.rows.len() as u32, last_col)?;
    }
    book.save_to_buffer()
}
