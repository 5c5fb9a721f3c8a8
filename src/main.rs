//! The `mdbook-qms` binary: maps subcommands and the mdBook protocol onto the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mdbook_qms::project::{ChapterSource, Project};
use mdbook_qms::report::{self, Format};
use mdbook_qms::source::SourceMap;

#[derive(Parser)]
#[command(name = "mdbook-qms", version, about = "Medical-device cybersecurity design files as code")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Validate the project and print diagnostics.
    Check {
        /// The project folder (where book.toml is).
        #[arg(default_value = ".")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Write the JSON Schemas of every item type (built-in and the project's) to a folder.
    Schema {
        #[arg(long)]
        out: PathBuf,
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Check { dir, format }) => check(&dir, format),
        Some(Command::Schema { out, dir }) => write_schemas(&dir, &out),
        None => ExitCode::from(2),
    }
}

fn check(dir: &std::path::Path, format: Format) -> ExitCode {
    match Project::load(dir, ChapterSource::Disk) {
        Ok(project) => {
            let text = report::render(format, &project.diagnostics.0, &project.sources);
            print_report(format, &text);
            ExitCode::from(if project.diagnostics.has_errors() { 1 } else { 0 })
        }
        Err(fatal) => {
            let text = report::render(format, &[fatal.0], &SourceMap::default());
            print_report(format, &text);
            ExitCode::from(2)
        }
    }
}

/// Machine formats go to stdout; the human report goes to stderr like a compiler's.
fn print_report(format: Format, text: &str) {
    match format {
        Format::Human => eprint!("{text}"),
        _ => print!("{text}"),
    }
}

fn write_schemas(_dir: &std::path::Path, _out: &std::path::Path) -> ExitCode {
    ExitCode::from(2)
}
