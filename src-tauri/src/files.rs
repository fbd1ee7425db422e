//! Choosing the files the app writes and reads: the platform's own save and open dialogs
//! (tauri-plugin-dialog, called from Rust so the web view needs no dialog or file-system
//! permission), with one seam for the end-to-end tests.
//!
//! The seam: when the app is started with `COMMONPLACE_E2E_FILE_DIR` set, no dialog opens
//! and the chosen file is `$COMMONPLACE_E2E_FILE_DIR/<suggested name>` (for opening too),
//! because WebDriver cannot drive a native GTK dialog. Only the suggested name's last
//! component is used, so the seam never reaches outside that directory.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tauri::WebviewWindow;
use tauri_plugin_dialog::DialogExt;
use ts_rs::TS;

/// The environment variable of the end-to-end tests' seam.
pub const E2E_FILE_DIR: &str = "COMMONPLACE_E2E_FILE_DIR";

/// What a file is for: sets the dialog's title and its file-type filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum FilePurpose {
    /// Saving the key backup.
    KeyBackup,
    /// Opening a key backup on first run.
    KeyRestore,
    /// Saving a community bundle.
    BundleExport,
    /// Opening a bundle to import.
    BundleImport,
    /// Saving the events as an `.ics` calendar.
    Calendar,
    /// Saving a health report (Markdown, CSV, HTML or JSON, by the suggested name).
    HealthReport,
}

impl FilePurpose {
    fn title(self) -> &'static str {
        match self {
            FilePurpose::KeyBackup => "Save your key backup",
            FilePurpose::KeyRestore => "Open your key backup",
            FilePurpose::BundleExport => "Save the community to a file",
            FilePurpose::BundleImport => "Open a community file to import",
            FilePurpose::Calendar => "Save the events for your calendar",
            FilePurpose::HealthReport => "Save the health report",
        }
    }

    /// The filter's name and extensions; a health report's follows the suggested name.
    fn filter(self, suggested: &str) -> (&'static str, Vec<String>) {
        match self {
            FilePurpose::KeyBackup | FilePurpose::KeyRestore => ("Key backup", vec!["txt".into()]),
            FilePurpose::BundleExport | FilePurpose::BundleImport => {
                ("Commonplace bundle", vec!["cpbundle".into()])
            }
            FilePurpose::Calendar => ("Calendar", vec!["ics".into()]),
            FilePurpose::HealthReport => {
                let ext = Path::new(suggested)
                    .extension()
                    .and_then(|e| e.to_str())
                    .unwrap_or("md");
                ("Report", vec![ext.to_owned()])
            }
        }
    }
}

/// The seam's answer: the suggested name inside `dir`, without any directory part of it.
pub(crate) fn seam_path(dir: &Path, suggested_name: &str) -> PathBuf {
    let name = Path::new(suggested_name.trim())
        .file_name()
        .map(|n| n.to_owned())
        .unwrap_or_else(|| "file".into());
    dir.join(name)
}

/// Asks where to save (`save`) or which file to open, in a dialog over `window`; `None`
/// when the member cancels.
pub(crate) async fn choose(
    window: &WebviewWindow,
    purpose: FilePurpose,
    suggested_name: &str,
    save: bool,
) -> Option<String> {
    if let Some(dir) = std::env::var_os(E2E_FILE_DIR) {
        return Some(
            seam_path(Path::new(&dir), suggested_name)
                .display()
                .to_string(),
        );
    }
    let (filter, exts) = purpose.filter(suggested_name);
    let exts: Vec<&str> = exts.iter().map(String::as_str).collect();
    let mut dialog = window
        .dialog()
        .file()
        .set_parent(window)
        .set_title(purpose.title())
        .add_filter(filter, &exts);
    if let Some(dir) = dirs::document_dir().or_else(dirs::home_dir) {
        dialog = dialog.set_directory(dir);
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    if save {
        dialog
            .set_file_name(suggested_name)
            .set_can_create_directories(true)
            .save_file(move |p| {
                let _ = tx.send(p);
            });
    } else {
        dialog.pick_file(move |p| {
            let _ = tx.send(p);
        });
    }
    let chosen = rx.await.ok().flatten()?;
    chosen.into_path().ok().map(|p| p.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seam_stays_inside_its_directory() {
        let dir = Path::new("/tmp/e2e");
        assert_eq!(
            seam_path(dir, "commonplace-key-abcd.txt"),
            dir.join("commonplace-key-abcd.txt")
        );
        assert_eq!(seam_path(dir, "../../etc/passwd"), dir.join("passwd"));
        assert_eq!(seam_path(dir, "/etc/x.ics"), dir.join("x.ics"));
        assert_eq!(seam_path(dir, ".."), dir.join("file"));
        assert_eq!(seam_path(dir, ""), dir.join("file"));
    }

    #[test]
    fn a_health_report_filter_follows_the_format() {
        assert_eq!(
            FilePurpose::HealthReport.filter("health.csv").1,
            vec!["csv".to_owned()]
        );
        assert_eq!(FilePurpose::Calendar.filter("x").1, vec!["ics".to_owned()]);
    }
}
