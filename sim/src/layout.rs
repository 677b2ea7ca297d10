//! `sim layout`: where the particle's bytes are, and what each system's bytes predict.
//!
//! Prints the bundle's fields (offset, size, alignment, padding, the `#[repr(C)]` size in
//! declaration order beside Rust's), the AoS row drawn byte by byte on cache lines, the SoA
//! columns, and per system the bytes per particle in each layout
//! ([`engine::particles::access`]) beside the AoS/SoA time measured in a short run of each
//! layout; then what each strategy does to memory. The printing is generic over
//! [`BundleLayout`]: any bundle's layout prints the same way.

use crate::Failure;
use crate::bench::{self, Row};
use crate::cli::{LayoutArgs, SceneArgs};
use engine::arena::AllocMode;
use engine::counters::Padding;
use engine::particles::access::{self, Conditions, SystemCost};
use engine::particles::particle;
use engine::storage::Layout;
use engine::storage::layout::{BundleLayout, CACHE_LINE, RowByte};
use engine::sync::LockStrategy;
use engine::world::Strategy;
use std::fmt::Write as _;
use std::time::Duration;

/// The most cache lines the row diagram draws.
const DIAGRAM_LINES: usize = 8;

/// Runs `sim layout`.
pub fn run(args: &LayoutArgs) -> Result<(), Failure> {
    let scene = SceneArgs {
        scene: args.scene.clone(),
        particles: Some(args.particles),
        seed: None,
    }
    .load()
    .map_err(Failure::runtime)?;
    let layout = particle::LAYOUT;
    crate::out!("{}\n", bundle_report(&layout));
    // No mouse, and `bench::measure` keeps no positions: no renderer.
    let conditions = Conditions::new(&scene, false, false);
    let warmup = bench::warmup_steps(args.steps);
    let progress = crate::progress::bar(2 * (warmup + args.steps), "steps");
    let mut rows = Vec::new();
    for l in Layout::ALL {
        progress.set_message(format!("{l}"));
        let strategy = Strategy {
            layout: l,
            ..Strategy::default()
        };
        rows.push(bench::measure(
            scene.clone(),
            strategy,
            warmup,
            args.steps,
            false,
            &progress,
        )?);
    }
    progress.finish_and_clear();
    let [soa, aos] = [&rows[0], &rows[1]];
    let costs = access::particle_costs();
    crate::out!("{}\n", traffic_report(&costs, conditions, soa, aos));
    crate::out!("{}", sentences(&costs));
    if soa.state_hash != aos.state_hash {
        return Err(Failure::runtime(format!(
            "determinism: SoA ends in state {} but AoS in {}",
            soa.state_hash, aos.state_hash
        )));
    }
    Ok(())
}

/// The bundle's fields and padding, its AoS row on cache lines and its SoA columns.
pub fn bundle_report(layout: &BundleLayout) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "{}: {} bytes, align {}, {} fields, {} bytes of padding",
        layout.name,
        layout.size,
        layout.align,
        layout.fields.len(),
        layout.padding_bytes()
    );
    let _ = writeln!(
        w,
        "  {:<12} {:<12} {:>6} {:>5} {:>6}",
        "field", "type", "offset", "size", "align"
    );
    for f in layout.fields {
        let _ = writeln!(
            w,
            "  {:<12} {:<12} {:>6} {:>5} {:>6}",
            f.name, f.type_name, f.offset, f.size, f.align
        );
    }
    let holes: Vec<String> = layout
        .holes()
        .iter()
        .map(|h| format!("{} at {}..{}", h.len, h.offset, h.offset + h.len))
        .collect();
    let holes = if holes.is_empty() {
        "none".to_owned()
    } else {
        holes.join(", ")
    };
    let _ = writeln!(w, "  padding: {holes}");
    let _ = writeln!(
        w,
        "  in declaration order under #[repr(C)]: {} bytes; as Rust ordered them: {} bytes",
        layout.declared_order_size(),
        layout.size
    );
    let _ = writeln!(w);
    let row = layout.row;
    let _ = writeln!(
        w,
        "AoS row (AosRow<{}>): {} bytes, align {}: entity at {} ({} bytes), bundle at {}, {} bytes of padding",
        layout.name,
        row.size,
        row.align,
        row.entity_offset,
        row.entity_size,
        row.bundle_offset,
        layout
            .row_bytes()
            .iter()
            .filter(|b| **b == RowByte::Padding)
            .count()
    );
    let _ = writeln!(
        w,
        "  {:.1} rows per {CACHE_LINE}-byte cache line; {} of every {} rows straddle two lines",
        row.rows_per_line(),
        row.straddling_rows(),
        row.pattern_rows()
    );
    let diagram = row_diagram(layout);
    let _ = writeln!(
        w,
        "  consecutive rows, one character per byte, one cache line per line, rows in \
         alternating case:"
    );
    for line in &diagram {
        let _ = writeln!(w, "    {line}");
    }
    let letters = letters(layout);
    let legend: Vec<String> = layout
        .columns()
        .zip(&letters)
        .map(|((name, _), c)| format!("{c} {name}"))
        .chain(std::iter::once(". padding".to_owned()))
        .collect();
    let _ = writeln!(w, "  {}", legend.join("  "));
    let _ = writeln!(w);
    let columns: Vec<String> = layout
        .columns()
        .map(|(name, size)| format!("{name} {size}"))
        .collect();
    let _ = write!(
        w,
        "SoA columns, one Vec each (bytes per element): {}",
        columns.join(", ")
    );
    out
}

/// One letter per SoA column (the entity first, then the fields): the first letter of its
/// name not taken yet, else the first free letter.
fn letters(layout: &BundleLayout) -> Vec<char> {
    let mut taken: Vec<char> = Vec::new();
    for (name, _) in layout.columns() {
        let free = |c: &char| c.is_ascii_lowercase() && !taken.contains(c);
        let letter = name
            .chars()
            .map(|c| c.to_ascii_lowercase())
            .find(free)
            .or_else(|| ('a'..='z').find(free))
            .unwrap_or('?');
        taken.push(letter);
    }
    taken
}

/// Consecutive AoS rows drawn one character per byte, one cache line (64 bytes) per text
/// line between `|` marks: every way a row can sit on lines (up to [`DIAGRAM_LINES`] lines,
/// and at least one whole row).
fn row_diagram(layout: &BundleLayout) -> Vec<String> {
    let row = layout.row;
    let bytes = layout.row_bytes();
    let letters = letters(layout);
    let lines = (row.pattern_bytes() / CACHE_LINE)
        .min(DIAGRAM_LINES)
        .max(row.size.div_ceil(CACHE_LINE));
    (0..lines)
        .map(|line| {
            let text: String = (line * CACHE_LINE..(line + 1) * CACHE_LINE)
                .map(|i| {
                    let c = match bytes[i % row.size] {
                        RowByte::Entity => letters[0],
                        RowByte::Field(f) => letters[f + 1],
                        RowByte::Padding => return '.',
                    };
                    if (i / row.size) % 2 == 1 {
                        c.to_ascii_uppercase()
                    } else {
                        c
                    }
                })
                .collect();
            format!("line {line} |{text}|")
        })
        .collect()
}

/// The median time of `system` in `row`, in ms.
fn median_ms(row: &Row, system: &str) -> Option<f64> {
    row.systems_ms
        .iter()
        .find(|(n, _)| n == system)
        .map(|(_, ms)| *ms)
}

/// Per system: bytes per particle in each layout, the ratio they predict, the median times
/// measured and their ratio; then the whole step.
fn traffic_report(costs: &[SystemCost], conditions: Conditions, soa: &Row, aos: &Row) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "Bytes per particle (read+written) and the AoS/SoA ratio they predict, beside the \
         measured one:"
    );
    let _ = writeln!(
        w,
        "{} scene, {} particles live, median of {} steps per layout, {} threads, {}, {}, {}",
        soa.scene, soa.live, soa.steps, soa.threads, soa.lock, soa.padding, soa.alloc
    );
    let _ = writeln!(
        w,
        "  {:<10} {:>6} {:>6} {:>9} {:>8} {:>8} {:>8}  reads -> writes",
        "system", "SoA B", "AoS B", "predicted", "SoA ms", "AoS ms", "measured"
    );
    let ms = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
    let ratio = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.2}x"));
    for c in costs {
        let a = &c.access;
        let (s, o) = (median_ms(soa, a.system), median_ms(aos, a.system));
        let idle = a.touches_rows(Conditions::ALL) && !a.touches_rows(conditions);
        let predicted = if idle {
            "idle".to_owned()
        } else {
            ratio(c.ratio())
        };
        // An idle system's time is the call alone: its ratio says nothing about memory.
        let measured = match (s, o) {
            (Some(s), Some(o)) if s > 0.0 && !idle => Some(o / s),
            _ => None,
        };
        let list = |names: &[&str]| {
            if names.is_empty() {
                "-".to_owned()
            } else {
                names.join(", ")
            }
        };
        let mut touches = format!("{} -> {}", list(a.reads), list(a.writes));
        if !a.rare_reads.is_empty() {
            touches += &format!(" ({} of the few that die)", list(a.rare_reads));
        }
        if let (true, Some(note)) = (idle, a.when.note()) {
            touches += &format!(" (idle here: only {note})");
        }
        let _ = writeln!(
            w,
            "  {:<10} {:>6} {:>6} {:>9} {:>8} {:>8} {:>8}  {touches}",
            a.system,
            format!("{}+{}", c.soa.read, c.soa.written),
            format!("{}+{}", c.aos.read, c.aos.written),
            predicted,
            ms(s),
            ms(o),
            ratio(measured),
        );
    }
    let working: Vec<&SystemCost> = costs
        .iter()
        .filter(|c| c.access.touches_rows(conditions))
        .collect();
    let time = |row: &Row| -> f64 {
        working
            .iter()
            .filter_map(|c| median_ms(row, c.access.system))
            .sum()
    };
    let (soa_bytes, aos_bytes) = (
        access::bytes_per_particle_step(costs, Layout::Soa, conditions),
        access::bytes_per_particle_step(costs, Layout::Aos, conditions),
    );
    let (soa_ms, aos_ms) = (time(soa), time(aos));
    let names: Vec<&str> = working.iter().map(|c| c.access.system).collect();
    let _ = writeln!(
        w,
        "  one step of the systems that touch rows ({}): SoA {soa_bytes} B, AoS {aos_bytes} B \
         per particle, predicted {}; measured SoA {soa_ms:.3} ms, AoS {aos_ms:.3} ms, {}",
        names.join(", "),
        ratio((soa_bytes > 0).then(|| aos_bytes as f64 / soa_bytes as f64)),
        ratio((soa_ms > 0.0).then(|| aos_ms / soa_ms)),
    );
    let gb = |bytes: usize, row: &Row, ms: f64| {
        let speed =
            access::gigabytes_per_second(bytes, row.live, 1, Duration::from_secs_f64(ms / 1e3));
        speed.map_or("-".to_owned(), |g| format!("{g:.1} GB/s"))
    };
    let _ = write!(
        w,
        "  effective bandwidth of those systems: SoA {}, AoS {}",
        gb(soa_bytes, soa, soa_ms),
        gb(aos_bytes, aos, aos_ms)
    );
    out
}

/// What each system does to memory in each layout, then what each strategy does.
fn sentences(costs: &[SystemCost]) -> String {
    let mut out = String::from("What each system does to memory, per layout:\n");
    for c in costs {
        for l in Layout::ALL {
            out += &format!("  {}\n", c.teaches(l));
        }
    }
    out += "What each strategy does to memory:\n";
    let lines = Layout::ALL
        .map(access::teaches_layout)
        .into_iter()
        .chain(LockStrategy::ALL.map(|s| s.teaches().to_owned()))
        .chain(Padding::ALL.map(|p| p.teaches().to_owned()))
        .chain([1, crate::cli::default_threads().max(2)].map(access::teaches_threads))
        .chain(AllocMode::ALL.map(|m| access::teaches_alloc(m).to_owned()));
    let lines: Vec<String> = lines.map(|l| format!("  {l}")).collect();
    out + &lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::storage::layout::{FieldLayout, RowLayout};

    #[test]
    fn the_particle_row_is_drawn_on_five_cache_lines() {
        let diagram = row_diagram(&particle::LAYOUT);
        assert_eq!(diagram.len(), 5, "8 rows of 40 bytes fill 5 lines");
        for line in &diagram {
            assert_eq!(line.split('|').nth(1).map(str::len), Some(CACHE_LINE));
        }
        // The entity and the fields in the compiler's order; the next row in upper case.
        let bytes = &diagram[0].split('|').nth(1).unwrap();
        assert_eq!(bytes.matches('e').count(), 8);
        assert_eq!(bytes.matches('E').count(), 8);
        assert!(!diagram.concat().contains('.'), "no padding");
    }

    #[test]
    fn padding_shows_as_dots_and_letters_do_not_collide() {
        const FIELDS: [FieldLayout; 2] = [
            FieldLayout {
                name: "energy",
                type_name: "u64",
                offset: 0,
                size: 8,
                align: 8,
            },
            FieldLayout {
                name: "enabled",
                type_name: "bool",
                offset: 8,
                size: 1,
                align: 1,
            },
        ];
        let layout = BundleLayout {
            name: "Cell",
            size: 16,
            align: 8,
            fields: &FIELDS,
            row: RowLayout {
                size: 24,
                align: 8,
                entity_offset: 16,
                entity_size: 8,
                bundle_offset: 0,
            },
        };
        assert_eq!(letters(&layout), ['e', 'n', 'a']);
        let diagram = row_diagram(&layout);
        assert_eq!(diagram.len(), 3, "24-byte rows repeat every 3 lines");
        assert!(
            diagram[0].starts_with("line 0 |nnnnnnnna.......eeeeeeeeNNNNNNNNA......."),
            "{}",
            diagram[0]
        );
        let report = bundle_report(&layout);
        assert!(report.contains("padding: 7 at 9..16"), "{report}");
        assert!(
            report.contains("e entity  n energy  a enabled  . padding"),
            "{report}"
        );
    }

    #[test]
    fn the_report_names_sizes_and_columns() {
        let report = bundle_report(&particle::LAYOUT);
        for needle in [
            "Particle: 32 bytes, align 4, 6 fields, 0 bytes of padding",
            "AoS row (AosRow<Particle>): 40 bytes, align 4",
            "4 of every 8 rows straddle two lines",
            "repr(C)]: 32 bytes; as Rust ordered them: 32 bytes",
            "entity 8, position 8, velocity 8, color 4",
        ] {
            assert!(report.contains(needle), "{needle}\n{report}");
        }
    }
}
