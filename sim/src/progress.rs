//! The progress bar long headless commands show on stderr. It draws only when stderr is a
//! terminal, so scripts reading stdout (or a piped stderr) see nothing extra.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar for `total` units of work named `unit` ("steps", "frames").
pub fn bar(total: u64, unit: &str) -> ProgressBar {
    let progress = ProgressBar::new(total);
    let template = format!("{{elapsed_precise}} [{{bar:30}}] {{pos}}/{{len}} {unit}  {{msg}}");
    if let Ok(style) = ProgressStyle::with_template(&template) {
        progress.set_style(style.progress_chars("=> "));
    }
    progress
}
