//! The documentation says what the code does: README.md's user guide explains every reset
//! cause with the same words the page shows, and the CLI's help lists what README says it does.

use std::path::Path;

use rstscope::diagnosis::Cause;

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).expect(name)
}

#[test]
fn the_user_guide_explains_every_cause_as_the_page_does() {
    let readme = read("README.md");
    for cause in Cause::ALL {
        let heading = format!("### {} (`{}`)", cause.title(), cause.id());
        let at = readme
            .find(&heading)
            .unwrap_or_else(|| panic!("README.md lacks \"{heading}\""));
        let section = &readme[at..];
        let section = &section[..section[4..]
            .find("\n### ")
            .map_or(section.len(), |end| end + 4)];
        assert!(
            section.contains(cause.explanation()),
            "README.md's section on {} differs from Cause::explanation():\n{}",
            cause.id(),
            cause.explanation()
        );
        assert!(
            section.contains("*What to do:*"),
            "README.md says what to do about {}",
            cause.id()
        );
    }
}

#[test]
fn readme_and_cli_help_name_the_same_options() {
    let readme = read("README.md");
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_rstscope"))
        .arg("--help")
        .output()
        .expect("runs");
    let help = String::from_utf8_lossy(&help.stdout);
    for option in ["--format", "--packets", "--one-thread", "--no-map"] {
        assert!(help.contains(option), "--help lacks {option}");
        assert!(readme.contains(option), "README.md lacks {option}");
    }
}

#[test]
fn readme_documents_every_csv_column() {
    let readme = read("README.md");
    let at = readme
        .find("- **CSV**")
        .expect("README.md describes the CSV export");
    let section = &readme[at..at + readme[at..].find("- **JSON**").expect("then the JSON")];
    for column in rstscope::view::export::CSV_COLUMNS {
        assert!(
            section.contains(&format!("`{column}`")),
            "README.md's CSV export lacks the column `{column}`"
        );
    }
}
