//! The device a project's documents describe (the SBOM, the VEX, the PDF documents'
//! control block): the `device` item's model, version and manufacturer.

use crate::git::Revision;
use crate::project::Project;

/// What the documents describe: the device of the `device` item (its
/// model, version and manufacturer), so the documents name the submission's device;
/// without one, the book's title (or folder) stands in.
pub(crate) struct Device {
    /// The `device` item's id, when there is one.
    pub(crate) item: Option<String>,
    /// The model, else the device item's title, else the product name.
    pub(crate) name: String,
    pub(crate) version: Option<String>,
    pub(crate) manufacturer: Option<String>,
    /// The device item's title, when the model names it.
    pub(crate) description: Option<String>,
}

impl Device {
    /// The first `device` item (by id) of the project, else the product name alone.
    pub(crate) fn of(project: &Project) -> Device {
        let item = (0..project.items.len())
            .filter(|&i| project.items[i].ty == "device" && project.is_primary(i))
            .min_by(|&a, &b| crate::text::natural_cmp(&project.items[a].id, &project.items[b].id))
            .map(|i| &project.items[i]);
        let Some(item) = item else {
            return Device {
                item: None,
                name: product_name(project),
                version: None,
                manufacturer: None,
                description: None,
            };
        };
        let text = |f: &str| {
            item.text(f)
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
        };
        let model = text("model");
        Device {
            item: Some(item.id.clone()),
            description: model.as_ref().map(|_| item.title.clone()),
            name: model.unwrap_or_else(|| item.title.clone()),
            version: text("version"),
            manufacturer: text("manufacturer"),
        }
    }
}

/// The title, else the project folder's name: on disk for the work tree, and inside the
/// repository for a commit (`export`), so the same commit gives the same name wherever
/// it is cloned.
fn product_name(project: &Project) -> String {
    if let Some(title) = &project.config.title {
        return title.clone();
    }
    let name = match &project.revision {
        Revision::WorkTree => project
            .config
            .root
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned())),
        Revision::Commit { project_dir, .. } => crate::git::Repo::open(project_dir)
            .ok()
            .and_then(|r| r.project_dir().rsplit('/').next().map(str::to_owned))
            .filter(|n| !n.is_empty()),
    };
    name.unwrap_or_else(|| "product".into())
}
