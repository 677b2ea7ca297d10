//! The memory layout panel (`I`), top right: a bundle's AoS rows as coloured blocks on cache
//! lines, its SoA columns, and what the active layout moves per particle-step, with the
//! bandwidth that makes at the systems' measured times.
//!
//! The same picture as `sim layout` prints, from the same [`BundleLayout`] and
//! [`engine::particles::access`] numbers.

use super::canvas::{Canvas, GLYPH, Rect, Rgb};
use super::{DIM, HudState, PANEL, PANEL_ALPHA, TEXT, VALUE, Writer};
use engine::particles::access::{self, Conditions};
use engine::storage::Layout;
use engine::storage::layout::{BundleLayout, CACHE_LINE, RowByte};

/// Field colours by field index (wrapping round for larger bundles).
const FIELD_COLORS: [Rgb; 8] = [
    [255, 140, 60],
    [90, 170, 255],
    [250, 95, 170],
    [120, 220, 110],
    [255, 214, 102],
    [170, 120, 255],
    [80, 220, 210],
    [230, 120, 90],
];
/// The entity's colour.
const ENTITY: Rgb = [235, 235, 240];
/// Padding bytes.
const PADDING: Rgb = [95, 95, 105];
/// The marks at cache-line boundaries.
const LINE_MARK: Rgb = [255, 60, 60];
/// Panel width in characters.
const COLS: usize = 38;
/// Characters left of each strip for its label.
const LABEL_COLS: usize = 12;
/// The most cache lines of AoS rows drawn.
const MAX_LINES: usize = 5;

/// The colour of column `i` of `layout.columns()` (0 is the entity).
pub(super) fn column_color(i: usize) -> Rgb {
    match i {
        0 => ENTITY,
        f => FIELD_COLORS[(f - 1) % FIELD_COLORS.len()],
    }
}

/// The same colour, darker: every other row, so rows show apart.
fn darker(c: Rgb) -> Rgb {
    c.map(|v| (u32::from(v) * 3 / 5) as u8)
}

/// Draws the panel for `layout` with the live numbers of `state`.
pub(super) fn panel(canvas: &mut Canvas, scale: u32, layout: &BundleLayout, state: &HudState) {
    let line = (10 * scale) as i32;
    let pad = 4 * scale;
    let glyph = GLYPH * scale;
    let legend = legend_rows(layout);
    let costs = access::particle_costs();
    let row = layout.row;
    let strips = (row.pattern_bytes() / CACHE_LINE).clamp(1, MAX_LINES);
    // Title, AoS heading, strips, legend, SoA heading, columns, numbers heading, systems,
    // total.
    let lines = 1 + 1 + strips + legend.len() + 1 + layout.columns().count() + 1 + costs.len() + 1;
    let w = COLS as u32 * glyph + 2 * pad;
    let h = lines as u32 * line as u32 + 2 * pad;
    let x = canvas.width() as i32 - w as i32 - 8;
    canvas.blend(Rect::new(x, 8, w, h), PANEL, PANEL_ALPHA);
    let mut writer = Writer {
        x: x + pad as i32,
        y: 8 + pad as i32,
        scale,
    };
    let active = state.strategy.layout;
    writer.line(
        canvas,
        &[(
            VALUE,
            &format!(
                "{}: {} B, align {}, {} B padding",
                layout.name,
                layout.size,
                layout.align,
                layout.padding_bytes()
            ),
        )],
    );
    heading(
        canvas,
        &mut writer,
        active == Layout::Aos,
        &format!(
            "AoS: {} B rows, {} of {} cross a line",
            row.size,
            row.straddling_rows(),
            row.pattern_rows()
        ),
    );
    let bytes = layout.row_bytes();
    let byte_w = 3 * scale;
    let strip_x = writer.x + (LABEL_COLS as u32 * glyph) as i32;
    for l in 0..strips {
        writer_label(canvas, &writer, &format!("line {l}"));
        for b in 0..CACHE_LINE {
            let i = l * CACHE_LINE + b;
            let color = match bytes[i % row.size] {
                RowByte::Entity => column_color(0),
                RowByte::Field(f) => column_color(f + 1),
                RowByte::Padding => PADDING,
            };
            let color = if (i / row.size) % 2 == 1 {
                darker(color)
            } else {
                color
            };
            let bx = strip_x + (b as u32 * byte_w) as i32;
            canvas.fill(Rect::new(bx, writer.y, byte_w, 7 * scale), color);
        }
        line_marks(canvas, strip_x, writer.y, byte_w, scale);
        writer.y += line;
    }
    let names: Vec<&str> = layout.columns().map(|(n, _)| n).collect();
    for entries in &legend {
        let mut at = writer.x;
        for &e in entries {
            let (color, name) = match names.get(e) {
                Some(name) => (column_color(e), *name),
                None => (PADDING, "padding"),
            };
            canvas.fill(Rect::new(at, writer.y, glyph - scale, 7 * scale), color);
            at = canvas.text(at + glyph as i32, writer.y, scale, DIM, name) + glyph as i32;
        }
        writer.y += line;
    }
    heading(
        canvas,
        &mut writer,
        active == Layout::Soa,
        "SoA: a cache line of each column",
    );
    for (i, (name, size)) in layout.columns().enumerate() {
        writer_label(canvas, &writer, &format!("{name} {size}"));
        let color = column_color(i);
        for b in (0..CACHE_LINE).step_by(size.max(1)) {
            let bx = strip_x + (b as u32 * byte_w) as i32;
            let elem = (size.min(CACHE_LINE - b) as u32 * byte_w).saturating_sub(scale);
            canvas.fill(Rect::new(bx, writer.y, elem, 7 * scale), color);
        }
        line_marks(canvas, strip_x, writer.y, byte_w, scale);
        writer.y += line;
    }
    traffic_lines(canvas, &mut writer, state, &costs);
}

/// A heading line, marked `>` and bright when its layout is the active one.
fn heading(canvas: &mut Canvas, writer: &mut Writer, active: bool, text: &str) {
    let (mark, color) = if active { ("> ", VALUE) } else { ("  ", DIM) };
    writer.line(canvas, &[(VALUE, mark), (color, text)]);
}

/// A strip's label, left of it on the writer's line (the writer does not move).
fn writer_label(canvas: &mut Canvas, writer: &Writer, text: &str) {
    let text: String = text.chars().take(LABEL_COLS - 1).collect();
    canvas.text(writer.x, writer.y, writer.scale, TEXT, &text);
}

/// Marks both ends of a strip of one cache line starting at `x`.
fn line_marks(canvas: &mut Canvas, x: i32, y: i32, byte_w: u32, scale: u32) {
    let top = y - scale as i32;
    for at in [x - scale as i32, x + (CACHE_LINE as u32 * byte_w) as i32] {
        canvas.fill(Rect::new(at, top, scale, 9 * scale), LINE_MARK);
    }
}

/// The legend's entries (column indices, then one past them for padding) cut into lines of
/// at most [`COLS`] characters: a swatch, the name and a space each.
fn legend_rows(layout: &BundleLayout) -> Vec<Vec<usize>> {
    let names: Vec<&str> = layout
        .columns()
        .map(|(n, _)| n)
        .chain(["padding"])
        .collect();
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (i, name) in names.iter().enumerate() {
        let width = name.len() + 2;
        if used + width > COLS && used > 0 {
            rows.push(Vec::new());
            used = 0;
        }
        if let Some(last) = rows.last_mut() {
            last.push(i);
        }
        used += width;
    }
    rows
}

/// Per system, the bytes the active layout moves per particle and the bandwidth that is at
/// the recent frames' times; then the whole step.
fn traffic_lines(
    canvas: &mut Canvas,
    writer: &mut Writer,
    state: &HudState,
    costs: &[access::SystemCost],
) {
    let layout = state.strategy.layout;
    let recent = state.recent();
    let steps = u64::from(recent.steps);
    writer.line(
        canvas,
        &[(VALUE, &format!("{layout} moves per particle-step:"))],
    );
    let speed = |bytes: usize, time| {
        access::gigabytes_per_second(bytes, state.particles, steps, time)
            .map_or("-".to_owned(), |g| format!("{g:5.1} GB/s"))
    };
    let mut total_time = std::time::Duration::ZERO;
    for c in costs {
        let name = c.access.system;
        let cell = if c.access.touches_rows(state.conditions) {
            let bytes = c.traffic(layout).total();
            let time = recent.systems.get(name).unwrap_or_default();
            total_time += time;
            format!("{bytes:>4} B  {}", speed(bytes, time))
        } else if c.access.touches_rows(Conditions::ALL) {
            "idle".to_owned()
        } else {
            "   0 B  (no stored row)".to_owned()
        };
        writer.line(canvas, &[(DIM, &format!("  {name:<10}")), (TEXT, &cell)]);
    }
    let bytes = access::bytes_per_particle_step(costs, layout, state.conditions);
    writer.line(
        canvas,
        &[
            (DIM, &format!("  {:<10}", "step")),
            (
                VALUE,
                &format!("{bytes:>4} B  {}", speed(bytes, total_time)),
            ),
        ],
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::particles::particle;

    #[test]
    fn the_legend_wraps_within_the_panel() {
        let rows = legend_rows(&particle::LAYOUT);
        assert_eq!(
            rows.concat(),
            (0..8).collect::<Vec<_>>(),
            "7 columns and padding"
        );
        assert!(rows.len() >= 2);
    }
}
